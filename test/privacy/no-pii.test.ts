/**
 * The eraser must not create the data it erases. Real erasures on a real server with the encrypting
 * data converter; then everything the server stores for them (histories exported without the codec,
 * visibility, describe) and every log line (worker, core, simulator, CLI) is scanned for the subjects'
 * emails in any case: zero hits. The codec server must decode the same history for an operator.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { cancelErasure, erasureWorkflowId, getStatus, listErasures, recheckNow, startErasure } from '../../src/client.js';
import { ENCRYPTED_ENCODING, parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { createDataConverter, createWorkerDataConverter, FAILURE_CONVERTER_PATH } from '../../src/codec/data-converter.js';
import { startCodecServer, type CodecServer } from '../../src/codec/server.js';
import { ComeetClient } from '../../src/comeet/index.js';
import { ALL_PERMISSIONS, startSimulator, type Simulator } from '../../src/simulator/server.js';
import { resolveTemporalCli } from '../../src/temporal-binaries.js';
import { testReceiptKeys } from '../helpers/receipts.js';
import { createErasureWorker, WORKFLOWS_PATH } from '../../src/worker.js';
import { interviewing, person, FAST_TUNING, TEST_COMEET_RATE_PER_MINUTE } from '../helpers/scenario.js';
import { startDevServer } from '../helpers/temporal.js';

// Async: the CLI calls the codec server that lives in this very process.
const run = async (cmd: string, args: string[]) => (await promisify(execFile)(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout;
const logs: string[] = [];
// Installed before anything else touches the runtime in this file's process: every SDK and core
// log line lands in `logs`.
Runtime.install({
  logger: new DefaultLogger('DEBUG', (entry) => logs.push(`${entry.level} ${entry.message} ${safeJson(entry.meta)}`)),
  telemetryOptions: { logging: { forward: {}, filter: 'INFO' } },
});

const SUBJECTS = ['Zq.Private.Subject@Example.com', 'zq.blocked.subject@example.com', 'zq.late.subject@example.com', 'zq.perm.subject@example.com'];
const MARKERS = ['zq.private.subject', 'zq.blocked.subject', 'zq.late.subject', 'zq.perm.subject'];
const KEYS_TEXT = `k1:${randomBytes(32).toString('base64')}`;
const KEYS = parseEncryptionKeys(KEYS_TEXT);
const TOKEN = randomBytes(24).toString('hex');
const API_KEY = 'pii-api-key';
const SECRET = 'pii-secret-0123456789';

let env: TestWorkflowEnvironment;
let sim: Simulator;
let codec: CodecServer;
let client: Client;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  env = await startDevServer();
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, failureConverterPath: FAILURE_CONVERTER_PATH, logger: new DefaultLogger('WARN') });
  sim = await startSimulator({
    apiKey: API_KEY,
    secret: SECRET,
    log: (line) => logs.push(line),
    seed: {
      candidates: [
        ...person(SUBJECTS[0]!, 'P-PRIV', 2),
        ...person(SUBJECTS[0]!.toUpperCase(), 'P-PRIV-2'),
        interviewing(SUBJECTS[1]!, 'P-BLOCK', '+2d'),
        interviewing(SUBJECTS[2]!, 'P-LATE', '+5d'),
        ...person(SUBJECTS[3]!, 'P-PERM'),
      ],
    },
  });
  codec = await startCodecServer({ keys: KEYS, token: TOKEN, corsOrigins: ['http://localhost:8233'] });
  client = new Client({ connection: env.connection, namespace: 'default', dataConverter: createDataConverter(KEYS) });
});
afterAll(async () => {
  await codec?.close();
  await sim?.close();
  await env?.teardown();
});

describe('no PII outside the encrypted payloads', () => {
  it('stores and logs none of the subjects emails, while the codec server decodes them for operators', async () => {
    const taskQueue = `pii-${Date.now()}`;
    const idKey = randomBytes(32).toString('hex');
    const comeet = new ComeetClient({ baseUrl: sim.url, apiKey: API_KEY, secret: SECRET });
    const worker = await createErasureWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      comeet,
      receipts: (await testReceiptKeys()).signer,
      workflowBundle: bundle,
      dataConverter: createWorkerDataConverter(KEYS),
      comeetRatePerMinute: TEST_COMEET_RATE_PER_MINUTE,
    });
    const cliOut: string[] = [];
    const cliEnv = {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      DSAR_ID_KEY: idKey,
      DSAR_ENCRYPTION_KEYS: KEYS_TEXT,
      DSAR_INTERVIEW_MARGIN: '300ms',
      DSAR_FOLLOW_UP_DELAY: '1s',
    };
    const dsar = (...argv: string[]) => runCli(argv, { out: (l) => cliOut.push(l), err: (l) => cliOut.push(l), env: cliEnv, stdin: () => SUBJECTS[0]! });
    const ids = SUBJECTS.map((e) => erasureWorkflowId(e, idKey));
    const statuses: string[] = [];
    const options = { taskQueue, idKey, tuning: { ...FAST_TUNING, followUpDelayMs: 1000, attentionRetryMs: 60_000 } };

    await worker.runUntil(async () => {
      // 1. Completed through the CLI (two persons, a follow-up that finds nobody).
      expect(await dsar('erase', '--email-stdin', '--wait', '--request-id', 'PII-1')).toBe(0);
      // 2. Blocked, then cancelled by an operator.
      await startErasure(client, { email: SUBJECTS[1]! }, options);
      await waitFor(
        () => getStatus(client, ids[1]!),
        (s) => s.phase === 'waiting_for_interviews',
      );
      expect(await dsar('status', ids[1]!)).toBe(0);
      await cancelErasure(client, ids[1]!, 'withdrawn', 'op');
      // 3. Failed: the deadline passes while blocked (its failure message is encoded too).
      const late = await startErasure(
        client,
        { email: SUBJECTS[2]!, receivedAt: new Date(Date.now() - 60_000).toISOString(), deadline: new Date(Date.now() + 1500).toISOString() },
        options,
      );
      await expect(late.handle.result()).rejects.toThrow();
      // 4. Needs attention (missing permission), then completed after the grant.
      sim.setPermissions(ALL_PERMISSIONS.filter((p) => p !== 'persons:erase'));
      const perm = await startErasure(client, { email: SUBJECTS[3]! }, options);
      await waitFor(
        () => getStatus(client, ids[3]!),
        (s) => s.phase === 'needs_attention',
      );
      sim.setPermissions([...ALL_PERMISSIONS]);
      await recheckNow(client, ids[3]!, 'op');
      await perm.handle.result();
      const first = await client.workflow.getHandle(ids[0]!).result();
      await client.workflow.getHandle(first.followUp!.workflowId).result();
      expect(await dsar('list')).toBe(0);
      // What operators read through the `status` query (decoded) must be clean too.
      for (const id of ids) statuses.push(safeJson(await getStatus(client, id)));
    });
    await comeet.close();

    // Everything the server keeps, read WITHOUT the codec.
    const cli = resolveTemporalCli().executable;
    if (cli.type !== 'existing-path') throw new Error('the temporal CLI is needed for the history export');
    const followUpId = (await client.workflow.getHandle(ids[0]!).result()).followUp!.workflowId;
    const stored: string[] = [];
    for (const id of [...ids, followUpId]) {
      const exported = await run(cli.path, ['workflow', 'show', '--address', env.address, '-w', id, '-o', 'json']);
      stored.push(exported, decodedDataFields(exported));
      // Decoded (summary and details go through the codec too): what an operator reads must be clean as well.
      const d = await client.workflow.getHandle(id).describe();
      stored.push(
        safeJson({
          memo: d.memo,
          sa: d.searchAttributes,
          typed: d.typedSearchAttributes.getAll(),
          summary: await d.staticSummary?.(),
          details: await d.staticDetails?.(),
          id: d.workflowId,
        }),
      );
      // Every payload in history is ciphertext.
      const history = JSON.parse(exported) as { events: unknown[] };
      // Plain on purpose: search attributes (the server indexes them) and patch markers (the SDK writes
      // the patch id itself). Every other payload is ciphertext; the string scan below covers all.
      for (const [path, enc] of encodings(history)) {
        if (!/searchAttributes|markerRecordedEventAttributes\.details\.patch-data/.test(path)) expect(enc, path).toBe(ENCRYPTED_ENCODING);
      }
    }
    stored.push(safeJson(await listErasures(client)), ...statuses);

    const haystacks: [string, string][] = [
      ['stored', stored.join('\n')],
      ['logs', logs.join('\n')],
      ['cli', cliOut.join('\n')],
    ];
    for (const [where, text] of haystacks) {
      const lower = text.toLowerCase();
      for (const m of MARKERS) expect(lower.includes(m), `${m} found in ${where}`).toBe(false);
    }
    expect(logs.length).toBeGreaterThan(20);
    expect(cliOut.join('\n')).toContain('Outcome: completed; 2 person(s), 3 candidate(s) deleted');

    // The same history decodes through the codec server (what an operator with the token sees) ...
    const decoded = await run(cli.path, [
      'workflow',
      'show',
      '--address',
      env.address,
      '-w',
      ids[0]!,
      '-o',
      'json',
      '--codec-endpoint',
      codec.url,
      '--codec-auth',
      `Bearer ${TOKEN}`,
    ]);
    expect(decodedDataFields(decoded).toLowerCase()).toContain(MARKERS[0]);
    // ... and nobody else gets anything from it.
    const refused = await fetch(`${codec.url}/decode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"payloads":[]}' });
    expect(refused.status).toBe(401);
    const wrong = await fetch(`${codec.url}/t/${'x'.repeat(48)}/decode`, { method: 'POST', body: '{"payloads":[]}' });
    expect(wrong.status).toBe(401);
  });
});

async function waitFor<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await read();
      if (ok(v)) return v;
    } catch (err) {
      if (Date.now() > until) throw err;
    }
    if (Date.now() > until) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Base64 `data` fields of a JSON history, decoded: plaintext payloads would show up here. */
function decodedDataFields(json: string): string {
  return [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('latin1')).join('\n');
}

/** [path, encoding] of every payload in a JSON history. */
function encodings(node: unknown, path = '', out: [string, string][] = []): [string, string][] {
  if (Array.isArray(node)) node.forEach((n, i) => encodings(n, `${path}[${i}]`, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    const meta = o.metadata as Record<string, string> | undefined;
    if (meta && typeof meta.encoding === 'string' && 'data' in o) out.push([path, Buffer.from(meta.encoding, 'base64').toString()]);
    for (const [k, v] of Object.entries(o)) encodings(v, `${path}.${k}`, out);
  }
  return out;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
  } catch {
    return String(v);
  }
}
