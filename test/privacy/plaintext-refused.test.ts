/**
 * Encryption is not optional (issue 10, item 5): a worker with the encrypting data converter refuses
 * what arrived in clear. A raw `temporal workflow start` or a codec-less SDK client fails the run at
 * once with UnencryptedInput, before any Comeet call; plaintext signals and updates are ignored and
 * recorded; ids other than the keyed hash are refused; starts through our client or through the
 * codec server (`--codec-endpoint`) run as usual. Real dev server, real CLI binary.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { erasureWorkflowId } from '../../src/client.js';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { startCodecServer, type CodecServer } from '../../src/codec/server.js';
import { resolveTemporalCli } from '../../src/temporal-binaries.js';
import { FAST_TUNING, interviewing, person, runScenario, TEST_ENCRYPTION_KEYS, type Scenario } from '../helpers/scenario.js';
import { encryptedWorkflowBundle, startDevServer } from '../helpers/temporal.js';

// Async: the CLI calls the codec server that lives in this very process.
const execFileAsync = promisify(execFile);
const TOKEN = randomBytes(24).toString('hex');
let env: TestWorkflowEnvironment;
let codec: CodecServer;
let bin: string;
const reader = new AesGcmPayloadCodec(parseEncryptionKeys(TEST_ENCRYPTION_KEYS));
const sendsInClear = { encode: async (payloads: Payload[]) => payloads, decode: (payloads: Payload[]) => reader.decode(payloads) };

beforeAll(async () => {
  env = await startDevServer();
  await encryptedWorkflowBundle();
  codec = await startCodecServer({ keys: parseEncryptionKeys(TEST_ENCRYPTION_KEYS), token: TOKEN, corsOrigins: [] });
  const temporal = resolveTemporalCli().executable;
  expect(temporal.type).toBe('existing-path');
  bin = (temporal as { path: string }).path;
});
afterAll(async () => {
  await codec?.close();
  await env?.teardown();
});

/** The `temporal` CLI against the test server; `viaCodec` encodes through our codec server. */
async function temporal(args: string[], viaCodec = false): Promise<string> {
  const extra = viaCodec ? ['--codec-endpoint', codec.url, '--codec-auth', `Bearer ${TOKEN}`] : [];
  const { stdout } = await execFileAsync(bin, [...args, '--address', env.address, '--namespace', env.namespace ?? 'default', ...extra], { timeout: 30_000 });
  return stdout;
}

async function failureOf(promise: Promise<unknown>, within = 20_000): Promise<ApplicationFailure> {
  const err = await Promise.race([
    promise.then(
      () => new Error('the workflow completed'),
      (e: unknown) => e,
    ),
    new Promise((resolve) => setTimeout(() => resolve(new Error(`no result within ${within} ms`)), within)),
  ]);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

/** Failed on its first workflow task, before any activity or search attribute. */
async function expectRefusedAtOnce(s: Scenario, workflowId: string): Promise<void> {
  const events = (await s.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
  expect(events.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
  expect(events.filter((e) => e.workflowTaskStartedEventAttributes)).toHaveLength(1);
  expect(events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes)).toEqual([]);
}

function expectNothingTouched(s: Scenario): void {
  expect(s.sim.stats().total).toBe(0);
  expect(s.sim.candidates().filter((c) => c.deleted || c.pseudonymized)).toEqual([]);
}

describe('plaintext refused by the encrypting worker', () => {
  it('fails a raw `temporal workflow start` and a codec-less SDK start at once with UnencryptedInput, touching nothing', async () => {
    const cliEmail = 'plain.cli@example.com';
    const sdkEmail = 'plain.sdk@example.com';
    await runScenario(
      env,
      'plaintext start',
      { seed: { candidates: [...person(cliEmail, 'P-CLI'), ...person(sdkEmail, 'P-SDK')] } },
      async (s) => {
        const cliId = erasureWorkflowId(cliEmail, s.idKey);
        await temporal([
          'workflow',
          'start',
          '--task-queue',
          s.taskQueue,
          '--type',
          'dsarErasure',
          '--workflow-id',
          cliId,
          '--input',
          JSON.stringify({ email: cliEmail }),
        ]);
        const sdkId = erasureWorkflowId(sdkEmail, s.idKey);
        // env.client has no codec: what a service that skipped our client would send.
        await env.client.workflow.start('dsarErasure', { taskQueue: s.taskQueue, workflowId: sdkId, args: [{ email: sdkEmail }] });

        for (const [id, email] of [
          [cliId, cliEmail],
          [sdkId, sdkEmail],
        ] as const) {
          const f = await failureOf(s.client.workflow.getHandle(id).result());
          expect(f.type).toBe('UnencryptedInput');
          expect(f.nonRetryable).toBe(true);
          expect(f.message).toMatch(/arrived unencrypted/);
          expect(f.message).toMatch(/temporal workflow delete/);
          expect(f.message).toMatch(/dsar erase/);
          expect(f.message).toMatch(/--codec-endpoint/);
          expect(f.message).not.toContain(email);
          await expectRefusedAtOnce(s, id);
        }
        expectNothingTouched(s);
      },
      { encrypted: true },
    );
  });

  it('ignores and records plaintext signals and updates to a waiting request; encrypted ones still steer it', async () => {
    const email = 'plain.signals@example.com';
    await runScenario(
      env,
      'plaintext signals',
      { seed: { candidates: [interviewing(email, 'P-BUSY', '+1d')] } },
      async (s) => {
        const { workflowId, handle } = await s.start({ email });
        const waiting = await s.waitForPhase(workflowId, 'waiting_for_interviews');
        const callsBefore = s.sim.stats().total;
        // Sends in clear, but reads the worker's (encrypted) answers: what a UI without the codec would need.
        const plainClient = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter: { payloadCodecs: [sendsInClear] } });
        const plain = plainClient.workflow.getHandle(workflowId);
        await temporal([
          'workflow',
          'signal',
          '--workflow-id',
          workflowId,
          '--name',
          'cancel',
          '--input',
          JSON.stringify({ reason: 'plaintext cancel', actor: 'mallory' }),
        ]);
        await temporal(['workflow', 'signal', '--workflow-id', workflowId, '--name', 'recheckNow', '--input', JSON.stringify({ actor: 'mallory' })]);
        await plain.signal('cancel', { reason: 'plaintext cancel', actor: 'mallory' });
        const refused = await s.waitForStatus(workflowId, (st) => st.events.filter((e) => e.kind === 'signal_refused').length >= 3);
        const refusals = refused.events.filter((e) => e.kind === 'signal_refused');
        expect(refusals.map((e) => e.detail)).toEqual([
          expect.stringMatching(/^cancel: not encrypted/),
          expect.stringMatching(/^recheckNow: not encrypted/),
          expect.stringMatching(/^cancel: not encrypted/),
        ]);
        // The plaintext never reached the workflow: not its reason, not its actor.
        expect(JSON.stringify(refused)).not.toContain('mallory');
        expect(JSON.stringify(refused)).not.toContain('plaintext cancel');
        expect(refused.cancellation).toBeUndefined();
        expect(refused.phase).toBe('waiting_for_interviews');
        expect(refused.events.filter((e) => e.kind === 'recheck_requested' || e.kind.startsWith('cancel_'))).toEqual([]);

        const far = new Date(Date.parse(waiting.deadline) + 86_400_000).toISOString();
        const update = await plain.executeUpdate('extendDeadline', { args: [{ deadline: far, actor: 'mallory' }] }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(update).toBeInstanceOf(WorkflowUpdateFailedError);
        expect(String((update as WorkflowUpdateFailedError).cause?.message)).toMatch(/^extendDeadline not encrypted/);
        expect((await s.status(workflowId)).deadline).toBe(waiting.deadline);

        // No payload carries no plaintext: a bare `temporal workflow signal` is accepted.
        await temporal(['workflow', 'signal', '--workflow-id', workflowId, '--name', 'recheckNow']);
        await s.waitForStatus(workflowId, (st) => st.events.some((e) => e.kind === 'recheck_requested' && e.actor === 'unknown'));
        // The re-check's erase attempt reaches Comeet an activity dispatch after the event: wait for it.
        for (const until = Date.now() + 20_000; s.sim.stats().total <= callsBefore && Date.now() < until;) await new Promise((r) => setTimeout(r, 100));
        expect(s.sim.stats().total).toBeGreaterThan(callsBefore);

        // Through the codec server the CLI steers it as our client does.
        await temporal(
          [
            'workflow',
            'signal',
            '--workflow-id',
            workflowId,
            '--name',
            'cancel',
            '--input',
            JSON.stringify({ reason: 'through the codec', actor: 'operator' }),
          ],
          true,
        );
        const r = await handle.result();
        expect(r.outcome).toBe('cancelled');
        expect(r.cancellation).toMatchObject({ reason: 'through the codec', actor: 'operator' });
        expect(s.sim.stats().erasures).toEqual([]);
      },
      { encrypted: true },
    );
  });

  it('refuses workflow ids that are not the keyed hash, even encrypted, and runs encrypted starts (client, CLI through the codec server)', async () => {
    const email = 'kate@example.com';
    const viaCodecEmail = 'codec.start@example.com';
    await runScenario(
      env,
      'keyed ids',
      { seed: { candidates: [...person(email, 'P-KATE'), ...person(viaCodecEmail, 'P-CODEC')] } },
      async (s) => {
        const byEmail = await s.client.workflow.start('dsarErasure', {
          taskQueue: s.taskQueue,
          workflowId: `erase-${email}`,
          args: [{ email, tuning: FAST_TUNING }],
        });
        const f = await failureOf(byEmail.result());
        expect(f.type).toBe('InvalidWorkflowId');
        expect(f.nonRetryable).toBe(true);
        expect(f.message).toMatch(/not the keyed hash/);
        expect(f.message).toMatch(/dsar erase/);
        expect(f.message).not.toContain('kate');
        await expectRefusedAtOnce(s, byEmail.workflowId);

        const followUp = await s.client.workflow.start('dsarFollowUp', {
          taskQueue: s.taskQueue,
          workflowId: `follow-up-${email}`,
          args: [{ email, mode: 'delete', regulation: 'gdpr', erasureWorkflowId: erasureWorkflowId(email, s.idKey), delayMs: 0 }],
        });
        expect((await failureOf(followUp.result())).type).toBe('InvalidWorkflowId');
        expectNothingTouched(s);

        const started = await s.start({ email });
        const r = await started.handle.result();
        expect(r.outcome).toBe('completed');
        expect(r.receipt).toBeTruthy();

        const viaCodecId = erasureWorkflowId(viaCodecEmail, s.idKey);
        const input = { email: viaCodecEmail, tuning: FAST_TUNING };
        await temporal(
          ['workflow', 'start', '--task-queue', s.taskQueue, '--type', 'dsarErasure', '--workflow-id', viaCodecId, '--input', JSON.stringify(input)],
          true,
        );
        const [startEvent] = (await s.client.workflow.getHandle(viaCodecId).fetchHistory()).events ?? [];
        const stored = startEvent?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
        expect(Buffer.from(stored?.metadata?.encoding ?? []).toString()).toBe(ENCRYPTED_ENCODING);
        expect(Buffer.from(stored?.data ?? []).toString('latin1')).not.toContain(viaCodecEmail);
        const r2 = await s.client.workflow.getHandle(viaCodecId).result();
        expect(r2.outcome).toBe('completed');
        expect(r2.persons.map((p: { personUid: string }) => p.personUid)).toEqual(['P-CODEC']);
      },
      { encrypted: true },
    );
  });
});
