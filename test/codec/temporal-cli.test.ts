/**
 * The operator's CLI path from the README: the real `temporal` binary with `--codec-endpoint` and
 * `--codec-auth` against the codec server, on an erasure run with the encrypting data converter.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { startCodecServer, type CodecServer } from '../../src/codec/server.js';
import { resolveTemporalCli } from '../../src/temporal-binaries.js';
import { interviewing, runScenario, TEST_ENCRYPTION_KEYS } from '../helpers/scenario.js';
import { encryptedWorkflowBundle, startDevServer } from '../helpers/temporal.js';

const TOKEN = 'cli-codec-token-0123456789abcdef';
const EMAIL = 'cli.operator.subject@example.com';
const run = promisify(execFile);

let env: TestWorkflowEnvironment;
let codec: CodecServer;
const lines: string[] = [];
beforeAll(async () => {
  env = await startDevServer();
  await encryptedWorkflowBundle();
  codec = await startCodecServer({ keys: parseEncryptionKeys(TEST_ENCRYPTION_KEYS), token: TOKEN, corsOrigins: [], log: (l) => lines.push(l) });
});
afterAll(async () => {
  await codec?.close();
  await env?.teardown();
});

/**
 * `temporal workflow <args>` as the README has operators run it, with the codec given as flags or, as
 * its CLI section sets it once per shell, as TEMPORAL_CODEC_* variables. Rejects on a non-zero exit.
 */
async function temporal(codecVia: 'flags' | 'env', ...args: string[]): Promise<string> {
  const cli = resolveTemporalCli().executable;
  if (cli.type !== 'existing-path') throw new Error('the temporal CLI is not installed (npm run setup:temporal)');
  const auth = `Bearer ${TOKEN}`;
  const { stdout } = await run(
    cli.path,
    [
      'workflow',
      ...args,
      '--address',
      env.address,
      '--namespace',
      env.namespace ?? 'default',
      ...(codecVia === 'flags' ? ['--codec-endpoint', codec.url, '--codec-auth', auth] : []),
    ],
    { timeout: 30_000, env: { ...process.env, ...(codecVia === 'env' ? { TEMPORAL_CODEC_ENDPOINT: codec.url, TEMPORAL_CODEC_AUTH: auth } : {}) } },
  );
  return stdout;
}

/** Every payload in a proto-JSON document, with its encoding and data decoded from base64. */
function payloadsIn(doc: unknown): { encoding: string; data: string }[] {
  if (!doc || typeof doc !== 'object') return [];
  const node = doc as { metadata?: { encoding?: string }; data?: string };
  if (typeof node.metadata?.encoding === 'string') {
    return [{ encoding: Buffer.from(node.metadata.encoding, 'base64').toString(), data: Buffer.from(node.data ?? '', 'base64').toString() }];
  }
  return Object.values(doc).flatMap(payloadsIn);
}

describe('temporal CLI through the codec server', () => {
  it('queries, shows, describes and signals an encrypted erasure, seeing decrypted payloads', async () => {
    await runScenario(
      env,
      'cli codec',
      { seed: { candidates: [interviewing(EMAIL, 'P-CLI', '+3d')] } },
      async (s) => {
        const { workflowId } = await s.start({ email: EMAIL, requestId: 'CLI-1' });
        await s.waitForPhase(workflowId, 'waiting_for_interviews');
        // What the server holds is ciphertext: without the codec the input is unreadable.
        const history = JSON.stringify((await s.client.workflow.getHandle(workflowId).fetchHistory()).events);
        expect(history).not.toContain('cli.operator.subject');

        const query = await temporal('flags', 'query', '-w', workflowId, '--name', 'status', '--output', 'json');
        const status = JSON.parse(query) as { queryResult: [{ phase: string; requests: { requestId: string }[] }] };
        expect(status.queryResult[0]).toMatchObject({ phase: 'waiting_for_interviews', requests: [{ requestId: 'CLI-1' }] });

        // JSON output carries payloads as proto JSON: decoded ones are json/plain with base64 data.
        const show = JSON.parse(await temporal('flags', 'show', '-w', workflowId, '--output', 'json')) as unknown;
        const payloads = payloadsIn(show);
        expect(payloads.length).toBeGreaterThan(3);
        expect(new Set(payloads.map((p) => p.encoding))).toEqual(new Set(['json/plain']));
        const input = payloads.map((p) => JSON.parse(p.data) as unknown).find((v) => (v as { email?: string })?.email === EMAIL);
        expect(input).toMatchObject({ email: EMAIL, requestId: 'CLI-1' });

        const describeOut = await temporal('env', 'describe', '-w', workflowId, '--output', 'json');
        expect(JSON.parse(describeOut)).toMatchObject({ workflowExecutionInfo: { execution: { workflowId }, status: 'WORKFLOW_EXECUTION_STATUS_RUNNING' } });

        await temporal('env', 'signal', '-w', workflowId, '--name', 'recheckNow', '--input', '{"actor":"cli"}');
        // The worker decrypted what the CLI encrypted through /encode.
        await s.waitForStatus(workflowId, (st) => st.events.some((e) => e.kind === 'recheck_requested' && e.actor === 'cli'));
        const signalled = (await s.client.workflow.getHandle(workflowId).fetchHistory()).events!.find(
          (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'recheckNow',
        );
        const [sent] = signalled!.workflowExecutionSignaledEventAttributes!.input!.payloads!;
        expect(Buffer.from(sent!.metadata!.encoding!).toString()).toBe('binary/encrypted');
        expect(Buffer.from(sent!.data!).toString('latin1')).not.toContain('cli');
      },
      { encrypted: true },
    );
    expect(lines).toContain('POST /encode 200');
    expect(lines).toContain('POST /decode 200');
    expect(lines.filter((l) => !/ 200$/.test(l))).toEqual([]);
  });
});
