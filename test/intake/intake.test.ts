/**
 * The intake API over real HTTP: a real Temporal dev server and worker, the simulator as Comeet,
 * and a real HTTP receiver for the signed completion callbacks.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { erasureWorkflowId } from '../../src/client.js';
import { CallbackSignatureError, SIGNATURE_HEADER, DELIVERY_HEADER, verifyCallbackSignature } from '../../src/callbacks/signature.js';
import { startIntakeServer, type IntakeLogEntry, type IntakeServer } from '../../src/intake/server.js';
import { verifyReceipt } from '../../src/receipt/index.js';
import type { CallbackPayload } from '../../src/callbacks/payload.js';
import { DsarCallers } from '../../src/search-attributes.js';
import { testReceiptKeys } from '../helpers/receipts.js';
import { FAST_TUNING, interviewing, person, runScenario, type Scenario } from '../helpers/scenario.js';
import { useDevServer } from '../helpers/temporal.js';
import { BAD_CASES, MARKER, mapPool } from '../reliability/bad-input-corpus.js';

const TOKEN = 'intake-test-token-0123456789abcdef0123456789';
/** Another service, and an operator who may read everything. */
const TOKEN_B = 'intake-other-token-0123456789abcdef012345678';
const ADMIN = 'intake-admin-token-0123456789abcdef012345678';
const TOKENS = [
  { name: 'test', token: TOKEN },
  { name: 'other', token: TOKEN_B },
  { name: 'ops', token: ADMIN, admin: true },
];
const SECRET = 'callback-secret-0123456789abcdef0123456789';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

interface Received {
  body: string;
  payload: CallbackPayload;
  headers: IncomingMessage['headers'];
}

/** A caller's webhook endpoint; answers with `statuses` in turn, then 200. */
async function startReceiver(statuses: number[] = []): Promise<{ url: string; received: Received[]; attempts: number; close(): Promise<void> }> {
  const received: Received[] = [];
  const state = { attempts: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.attempts++;
      const status = statuses.shift() ?? 200;
      const body = Buffer.concat(chunks).toString('utf8');
      if (status === 200) received.push({ body, payload: JSON.parse(body) as CallbackPayload, headers: req.headers });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/dsar`,
    received,
    get attempts() {
      return state.attempts;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

// The receivers listen on loopback, which callbacks reach only when allowed (DSAR_CALLBACK_ALLOW_NETWORKS).
const LOOPBACK_RECEIVERS = ['127.0.0.1/32'];

async function withIntake(
  s: Scenario,
  body: (intake: IntakeServer, logs: IntakeLogEntry[]) => Promise<void>,
  allowedCallbackHosts: string[] = [],
  dryRunsPerHour?: number,
) {
  const logs: IntakeLogEntry[] = [];
  const intake = await startIntakeServer({
    client: s.client,
    start: { taskQueue: s.taskQueue, idKey: s.idKey, tuning: { ...FAST_TUNING, callbackRetryMs: 1000 } },
    tokens: TOKENS,
    dryRunsPerHour,
    allowedCallbackHosts,
    allowedCallbackNetworks: LOOPBACK_RECEIVERS,
    log: (e) => logs.push(e),
  });
  try {
    await body(intake, logs);
  } finally {
    await intake.close();
  }
}

async function call(intake: IntakeServer, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await request(intake.url + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const callbackWorker = { callbacks: { secrets: [SECRET], allowedHosts: [], allowedNetworks: LOOPBACK_RECEIVERS } };

describe('intake API', () => {
  it('starts an erasure, reports it, and calls back once with a signed payload carrying the receipt', async () => {
    const receiver = await startReceiver();
    await runScenario(
      env,
      'intake happy',
      { seed: { candidates: person('Intake.Subject@example.com', 'P-IN', 2) } },
      (s) =>
        withIntake(s, async (intake, logs) => {
          const created = await call(intake, 'POST', '/v1/erasures', { email: '  intake.subject@EXAMPLE.com ', requestId: 'REQ-1', callbackUrl: receiver.url });
          expect(created.status).toBe(202);
          const id = erasureWorkflowId('intake.subject@example.com', s.idKey);
          expect(created.json).toMatchObject({ id, requestId: 'REQ-1', attached: false, links: { self: `/v1/erasures/${id}` } });
          expect(created.headers.location).toBe(`/v1/erasures/${id}`);

          const done = await until(
            () => call(intake, 'GET', `/v1/erasures/${id}`),
            (r) => r.json?.status === 'COMPLETED',
          );
          expect(done.json).toMatchObject({
            id,
            status: 'COMPLETED',
            phase: 'completed',
            requestIds: ['REQ-1'],
            result: { outcome: 'completed', totals: { persons: 1, candidates: 2 } },
          });
          const { receipt } = await verifyReceipt(done.json!.result.receipt, { jwks: (await testReceiptKeys()).jwks });
          expect(receipt.workflowId).toBe(id);

          await until(
            async () => receiver.received.length,
            (n) => n === 1,
          );
          const [cb] = receiver.received;
          verifyCallbackSignature(SECRET, cb!.headers[SIGNATURE_HEADER] as string, cb!.body);
          expect(() => verifyCallbackSignature('another-secret-0123456789abcdef0123', cb!.headers[SIGNATURE_HEADER] as string, cb!.body)).toThrow(
            CallbackSignatureError,
          );
          expect(() => verifyCallbackSignature(SECRET, cb!.headers[SIGNATURE_HEADER] as string, cb!.body.replace('completed', 'cancelled'))).toThrow(
            /does not match/,
          );
          expect(cb!.headers[DELIVERY_HEADER]).toBe(`${id}/${created.json!.runId}/REQ-1`);
          expect(cb!.payload).toMatchObject({
            event: 'erasure.finished',
            id,
            requestId: 'REQ-1',
            outcome: 'completed',
            totals: { persons: 1, candidates: 2 },
            receipt: done.json!.result.receipt,
          });
          expect(cb!.body.toLowerCase()).not.toContain('intake.subject');

          // The same POST again (its answer was lost): the same request, not a second erasure.
          const again = await call(intake, 'POST', '/v1/erasures', { email: 'intake.subject@example.com', requestId: 'REQ-1', callbackUrl: receiver.url });
          expect(again.status).toBe(200);
          expect(again.json).toMatchObject({ id, runId: created.json!.runId, status: 'COMPLETED', replayed: true });
          expect(s.sim.stats().erasures).toHaveLength(1);
          const status = await s.status(id);
          expect(status.requests).toEqual([
            { requestId: 'REQ-1', caller: 'test', mode: 'delete', regulation: 'gdpr', dryRun: false, hasCallback: true, callback: 'delivered' },
          ]);
          expect(status.events[0]).toMatchObject({ kind: 'requested', detail: 'REQ-1', actor: 'test' });
          expect(cb!.payload).toMatchObject({ mode: 'delete', regulation: 'gdpr', dryRun: false });
          expect(logs.find((l) => l.method === 'POST')).toMatchObject({ caller: 'test' });
          expect(JSON.stringify(logs).toLowerCase()).not.toContain('intake.subject');
          expect(logs.map((l) => `${l.method} ${l.route} ${l.status}`)).toContain('POST /v1/erasures 202');
        }),
      { worker: callbackWorker },
    );
    await receiver.close();
  });

  it('joins a second caller to the running request, and calls both back', async () => {
    const a = await startReceiver();
    const b = await startReceiver();
    await runScenario(
      env,
      'intake attach',
      { seed: { candidates: [interviewing('busy.intake@example.com', 'P-BI', '+3d')] } },
      (s) =>
        withIntake(s, async (intake) => {
          const first = await call(intake, 'POST', '/v1/erasures', {
            email: 'busy.intake@example.com',
            requestId: 'A-1',
            callbackUrl: a.url,
            mode: 'pseudonymize',
          });
          expect(first.status).toBe(202);
          const id = first.json!.id as string;
          await s.waitForPhase(id, 'waiting_for_interviews');
          const second = await call(intake, 'POST', '/v1/erasures', {
            email: 'Busy.Intake@example.com',
            requestId: 'B-7',
            callbackUrl: b.url,
            mode: 'pseudonymize',
          });
          expect(second.status).toBe(202);
          expect(second.json).toMatchObject({ id, runId: first.json!.runId, attached: true });
          const waiting = await until(
            () => call(intake, 'GET', `/v1/erasures/${id}`),
            (r) => (r.json?.requestIds ?? []).length === 2,
          );
          expect(waiting.json).toMatchObject({
            status: 'RUNNING',
            phase: 'waiting_for_interviews',
            progress: { phase: 'waiting_for_interviews', persons: 1, personsErased: 0 },
          });
          expect(waiting.json!.requestIds).toEqual(['A-1', 'B-7']);

          s.sim.completeInterviews('P-BI');
          await s.client.workflow.getHandle(id).signal('recheckNow', { actor: 'test' });
          await until(
            async () => a.received.length + b.received.length,
            (n) => n === 2,
          );
          expect(a.received[0]!.payload).toMatchObject({ requestId: 'A-1', outcome: 'completed' });
          expect(b.received[0]!.payload).toMatchObject({ requestId: 'B-7', outcome: 'completed' });
          // A retry of B's POST after the end (the callbacks go out just before the run closes): B's id
          // is on the run, so nothing new starts.
          await s.client.workflow.getHandle(id).result();
          const replay = await call(intake, 'POST', '/v1/erasures', {
            email: 'busy.intake@example.com',
            requestId: 'B-7',
            callbackUrl: b.url,
            mode: 'pseudonymize',
          });
          expect(replay.json).toMatchObject({ id, replayed: true, status: 'COMPLETED' });
          expect(s.sim.stats().erasures).toHaveLength(1);
        }),
      { worker: callbackWorker },
    );
    await a.close();
    await b.close();
  });

  it('retries a refused callback durably until the caller accepts it', async () => {
    const receiver = await startReceiver([503, 500]);
    await runScenario(
      env,
      'intake callback retry',
      { seed: { candidates: person('retry.cb@example.com', 'P-RCB') } },
      (s) =>
        withIntake(s, async (intake) => {
          const created = await call(intake, 'POST', '/v1/erasures', { email: 'retry.cb@example.com', requestId: 'R-1', callbackUrl: receiver.url });
          await until(
            async () => receiver.received.length,
            (n) => n === 1,
            30_000,
          );
          expect(receiver.attempts).toBe(3);
          const r = await s.client.workflow.getHandle(created.json!.id).result();
          expect(r.outcome).toBe('completed');
          const st = await s.status(created.json!.id);
          expect(st.requests).toEqual([
            { requestId: 'R-1', caller: 'test', mode: 'delete', regulation: 'gdpr', dryRun: false, hasCallback: true, callback: 'delivered' },
          ]);
        }),
      { worker: callbackWorker },
    );
    await receiver.close();
  });

  it('gives up on a callback the caller rejects for good, without failing the erasure', async () => {
    const receiver = await startReceiver([410]);
    await runScenario(
      env,
      'intake callback gone',
      { seed: { candidates: person('gone.cb@example.com', 'P-GCB') } },
      (s) =>
        withIntake(s, async (intake) => {
          const created = await call(intake, 'POST', '/v1/erasures', { email: 'gone.cb@example.com', requestId: 'G-1', callbackUrl: receiver.url });
          const r = await s.client.workflow.getHandle(created.json!.id).result();
          expect(r.outcome).toBe('completed');
          const st = await s.status(created.json!.id);
          expect(st.requests?.[0]).toMatchObject({ requestId: 'G-1', callback: 'failed', callbackError: expect.stringMatching(/answered 410/) });
          expect(receiver.attempts).toBe(1);
        }),
      { worker: callbackWorker },
    );
    await receiver.close();
  });

  it('refuses unauthenticated and malformed requests with a clear 4xx, starting nothing', async () => {
    await runScenario(env, 'intake bad', { seed: { candidates: person('never.started@example.com', 'P-NS') } }, (s) =>
      withIntake(
        s,
        async (intake) => {
          const ok = { email: 'never.started@example.com', requestId: 'X-1' };
          expect((await call(intake, 'POST', '/v1/erasures', ok, { authorization: '' })).status).toBe(401);
          const wrong = await call(intake, 'POST', '/v1/erasures', ok, { authorization: `Bearer ${TOKEN.slice(0, -1)}x` });
          expect(wrong.status).toBe(401);
          expect(wrong.headers['www-authenticate']).toMatch(/Bearer/);
          expect((await call(intake, 'GET', '/v1/erasures/dsar-0123456789abcdef0123456789abcdef', undefined, { authorization: 'Basic abc' })).status).toBe(401);

          const cases: [unknown, number, RegExp][] = [
            ['{"email": ', 400, /not valid JSON/],
            [[ok], 422, /JSON object/],
            [{ requestId: 'X-1' }, 422, /email is required/],
            [{ email: 'never.started@example.com' }, 422, /requestId is required/],
            [{ ...ok, requestId: 'has space' }, 422, /requestId may only contain/],
            [{ ...ok, mode: 'shred' }, 422, /mode must be "delete" or "pseudonymize"/],
            [{ ...ok, callbackUrl: 'http://hooks.example.com/x' }, 422, /https/],
            [{ ...ok, callbackUrl: 'https://user:pw@hooks.example.com/x' }, 422, /credentials/],
            [{ ...ok, callbackUrl: 'https://evil.example.net/x' }, 422, /DSAR_CALLBACK_HOSTS/],
            // Hosts on the allow-list, but addresses (in any spelling) outside the allowed 127.0.0.1/32.
            [{ ...ok, callbackUrl: 'https://0x7f000002/x' }, 422, /its host is a loopback address, which callbacks may not reach/],
            [{ ...ok, callbackUrl: 'https://169.254.169.254/latest/meta-data' }, 422, /its host is a link-local address/],
            [{ ...ok, callbackUrl: 'not a url' }, 422, /absolute URL/],
            [{ ...ok, tuning: { followUpDelayMs: 0 } }, 422, /unknown field\(s\): tuning/],
            [{ ...ok, 'leakcheck@example.com': 1 }, 422, /unknown field\(s\): 1 other/],
            [{ ...ok, receivedAt: 'yesterday' }, 422, /receivedAt: must be an ISO 8601/],
            [{ ...ok, dryRun: 'yes' }, 422, /dryRun must be true or false/],
          ];
          for (const [body, status, message] of cases) {
            const r = await call(intake, 'POST', '/v1/erasures', body);
            expect({ body, status: r.status }).toEqual({ body, status });
            expect(r.json?.message).toMatch(message);
            expect(r.text).not.toContain('leakcheck');
          }
          expect((await call(intake, 'POST', '/v1/erasures', ok, { 'content-type': 'text/plain' })).status).toBe(415);
          const huge = await call(intake, 'POST', '/v1/erasures', { ...ok, email: `${'x'.repeat(20_000)}@example.com` });
          expect(huge.status).toBe(413);
          expect((await call(intake, 'PUT', '/v1/erasures', ok)).status).toBe(405);
          expect((await call(intake, 'GET', '/v1/erasures/not-an-id')).status).toBe(400);
          expect((await call(intake, 'GET', '/v1/erasures/dsar-0123456789abcdef0123456789abcdef')).status).toBe(404);
          expect((await call(intake, 'GET', '/v2/anything')).status).toBe(404);
          expect((await request(intake.url + '/healthz')).statusCode).toBe(200);

          // The bad-input corpus through the intake: every one refused, none echoed.
          const results = await mapPool(BAD_CASES, 8, async (c) => {
            const input = c.input && typeof c.input === 'object' && !Array.isArray(c.input) ? { requestId: 'CORPUS-1', ...(c.input as object) } : c.input;
            const r = await call(intake, 'POST', '/v1/erasures', input === undefined ? 'null' : input);
            return { name: c.name, status: r.status, leaked: r.text.includes(MARKER) };
          });
          for (const r of results) {
            expect(r, r.name).toMatchObject({ leaked: false });
            expect([400, 413, 422], r.name).toContain(r.status);
          }
          const started = [];
          for await (const wf of s.client.workflow.list({ query: `TaskQueue="${s.taskQueue}"` })) started.push(wf);
          expect(started).toHaveLength(0);
          expect(s.sim.stats().total).toBe(0);
        },
        ['hooks.example.com', '127.0.0.2', '169.254.169.254'],
      ),
    );
  });

  it('replays a requestId only with the same parameters: a real T-1 after a dry-run T-1 is 409, never a silent no-op', async () => {
    await runScenario(env, 'intake replay params', { seed: { candidates: person('replay.params@example.com', 'P-RP') } }, (s) =>
      withIntake(s, async (intake) => {
        const email = 'replay.params@example.com';
        const dry = await call(intake, 'POST', '/v1/erasures', { email, requestId: 'T-1', dryRun: true });
        expect(dry.status).toBe(202);
        const id = dry.json!.id as string;
        expect((await s.client.workflow.getHandle(id).result()).outcome).toBe('dry_run');

        const real = await call(intake, 'POST', '/v1/erasures', { email, requestId: 'T-1' });
        expect(real.status).toBe(409);
        expect(real.json).toMatchObject({ error: 'request_conflict' });
        expect(real.json!.message).toMatch(/requestId T-1 was already used for this person with a different dryRun \(it was true\)/);
        expect(real.text).not.toContain('replay.params');
        const mode = await call(intake, 'POST', '/v1/erasures', { email, requestId: 'T-1', dryRun: true, mode: 'pseudonymize' });
        expect(mode.json).toMatchObject({ error: 'request_conflict', message: expect.stringMatching(/different mode \(it was delete\)/) });
        const cb = await call(intake, 'POST', '/v1/erasures', { email, requestId: 'T-1', dryRun: true, callbackUrl: 'http://127.0.0.1:9/x' });
        expect(cb.json).toMatchObject({ error: 'request_conflict', message: expect.stringMatching(/different callbackUrl \(it had none\)/) });
        expect(s.sim.stats().erasures).toHaveLength(0);

        const same = await call(intake, 'POST', '/v1/erasures', { email, requestId: 'T-1', dryRun: true });
        expect(same.status).toBe(200);
        expect(same.json).toMatchObject({ id, runId: dry.json!.runId, replayed: true, status: 'COMPLETED' });
        // Another caller may use the same id for its own request: it is not a replay of ours.
        const theirs = await call(intake, 'POST', '/v1/erasures', { email, requestId: 'T-1' }, { authorization: `Bearer ${TOKEN_B}` });
        expect(theirs.status).toBe(202);
        expect((await s.client.workflow.getHandle(id).result()).outcome).toBe('completed');
        expect(s.sim.stats().erasures).toHaveLength(1);
      }),
    );
  });

  it('queues a real request that arrives during a dry run, and erases after it under the same id', async () => {
    const dryHook = await startReceiver([503, 503]);
    const realHook = await startReceiver();
    await runScenario(
      env,
      'intake queued',
      { seed: { candidates: person('queued.subject@example.com', 'P-Q', 2) } },
      (s) =>
        withIntake(s, async (intake) => {
          const email = 'queued.subject@example.com';
          const dry = await call(intake, 'POST', '/v1/erasures', { email, requestId: 'D-1', dryRun: true, callbackUrl: dryHook.url });
          const id = dry.json!.id as string;
          // The dry run has looked up and is telling its caller (who refuses twice): still its run.
          await until(
            async () => dryHook.attempts,
            (n) => n >= 1,
          );
          const real = await call(intake, 'POST', '/v1/erasures', { email, requestId: 'R-1', callbackUrl: realHook.url });
          expect(real.status).toBe(202);
          expect(real.json).toMatchObject({ id, runId: dry.json!.runId, attached: true, queued: true });
          // A different mode does not join the queued request either.
          const other = await call(intake, 'POST', '/v1/erasures', { email, requestId: 'R-2', mode: 'pseudonymize' });
          expect(other.json).toMatchObject({
            error: 'request_in_progress',
            message: expect.stringMatching(/delete GDPR request for this person is already queued/),
          });

          const result = await s.client.workflow.getHandle(id).result();
          expect(result).toMatchObject({ outcome: 'completed', requestId: 'R-1', dryRun: false, totals: { persons: 1, candidates: 2 } });
          expect(s.sim.stats().erasures).toHaveLength(1);
          await until(
            async () => dryHook.received.length + realHook.received.length,
            (n) => n === 2,
          );
          expect(dryHook.received[0]!.payload).toMatchObject({ requestId: 'D-1', outcome: 'dry_run', dryRun: true, mode: 'delete', runId: dry.json!.runId });
          expect(realHook.received[0]!.payload).toMatchObject({
            requestId: 'R-1',
            outcome: 'completed',
            dryRun: false,
            mode: 'delete',
            receipt: expect.any(String),
          });
          expect(realHook.received[0]!.payload.runId).not.toBe(dry.json!.runId);

          // Both requests replay against the run that carries them.
          expect((await call(intake, 'POST', '/v1/erasures', { email, requestId: 'R-1', callbackUrl: realHook.url })).json).toMatchObject({
            replayed: true,
            status: 'COMPLETED',
          });
          expect((await call(intake, 'POST', '/v1/erasures', { email, requestId: 'D-1', dryRun: true, callbackUrl: dryHook.url })).json).toMatchObject({
            replayed: true,
          });
          const shown = await call(intake, 'GET', `/v1/erasures/${id}`);
          expect(shown.json).toMatchObject({ status: 'COMPLETED', result: { outcome: 'completed' }, requestIds: ['D-1', 'R-1'] });
          expect(s.sim.stats().erasures).toHaveLength(1);
        }),
      { worker: callbackWorker },
    );
    await dryHook.close();
    await realHook.close();
  });

  it('refuses what would merge different requests: a dry run during an erasure, another mode or regulation', async () => {
    await runScenario(env, 'intake refuse', { seed: { candidates: [interviewing('refuse.subject@example.com', 'P-RF', '+3d')] } }, (s) =>
      withIntake(s, async (intake) => {
        const email = 'refuse.subject@example.com';
        const first = await call(intake, 'POST', '/v1/erasures', { email, requestId: 'E-1' });
        const id = first.json!.id as string;
        await s.waitForPhase(id, 'waiting_for_interviews');
        const cases: [Record<string, unknown>, string, RegExp][] = [
          [{ requestId: 'E-2', dryRun: true }, 'erasure_in_progress', /a real erasure for this person is under way/],
          [
            { requestId: 'E-3', mode: 'pseudonymize' },
            'request_in_progress',
            /a delete GDPR request for this person is under way; this pseudonymize GDPR request is not merged/,
          ],
          [{ requestId: 'E-4', regulation: 'ccpa' }, 'request_in_progress', /this delete CCPA request is not merged/],
          [
            { requestId: 'E-1', regulation: 'ccpa' },
            'request_conflict',
            /requestId E-1 was already used for this person with a different regulation \(it was gdpr\)/,
          ],
        ];
        for (const [extra, code, message] of cases) {
          const r = await call(intake, 'POST', '/v1/erasures', { email, ...extra });
          expect({ extra, status: r.status, code: r.json?.error }).toEqual({ extra, status: 409, code });
          expect(r.json!.message).toMatch(message);
          if (code !== 'request_conflict') expect(r.headers['retry-after']).toBeDefined();
        }
        expect((await call(intake, 'POST', '/v1/erasures', { email, requestId: 'E-1' })).json).toMatchObject({ replayed: true, status: 'RUNNING' });
        expect((await call(intake, 'POST', '/v1/erasures', { email, requestId: 'E-5' })).json).toMatchObject({ attached: true });
        const st = await s.status(id);
        expect(st.requests?.map((r) => r.requestId)).toEqual(['E-1', 'E-5']);
        await s.client.workflow.getHandle(id).signal('cancel', { reason: 'test over', actor: 'test' });
        await s.client.workflow.getHandle(id).result();
      }),
    );
  });

  it('scopes reads to the caller: another token gets 404 and never hears of the other request, an admin sees all', async () => {
    await runScenario(env, 'intake scoping', { seed: { candidates: [interviewing('scoped.subject@example.com', 'P-SC', '+3d')] } }, (s) =>
      withIntake(s, async (intake) => {
        const email = 'scoped.subject@example.com';
        const asB = { authorization: `Bearer ${TOKEN_B}` };
        const a = await call(intake, 'POST', '/v1/erasures', { email, requestId: 'A-1' });
        const id = a.json!.id as string;
        await s.waitForPhase(id, 'waiting_for_interviews');
        const hidden = await call(intake, 'GET', `/v1/erasures/${id}`, undefined, asB);
        expect(hidden.status).toBe(404);
        expect(hidden.json).toEqual((await call(intake, 'GET', '/v1/erasures/dsar-0123456789abcdef0123456789abcdef', undefined, asB)).json);
        const admin = await call(intake, 'GET', `/v1/erasures/${id}`, undefined, { authorization: `Bearer ${ADMIN}` });
        expect(admin.json).toMatchObject({ status: 'RUNNING', requestIds: ['A-1'] });

        // B asks for the same person: it joins the run, but is not told someone else asked.
        const b = await call(intake, 'POST', '/v1/erasures', { email, requestId: 'A-1' }, asB);
        expect(b.status).toBe(202);
        expect(b.json).toMatchObject({ id, attached: false });
        expect(b.json).not.toHaveProperty('queued');
        expect((await call(intake, 'GET', `/v1/erasures/${id}`, undefined, asB)).json).toMatchObject({ requestIds: ['A-1'] });
        const st = await s.status(id);
        expect(st.requests).toEqual([
          expect.objectContaining({ requestId: 'A-1', caller: 'test' }),
          expect.objectContaining({ requestId: 'A-1', caller: 'other' }),
        ]);
        expect(st.events).toContainEqual(expect.objectContaining({ kind: 'request_attached', actor: 'other' }));
        const sa = (await s.client.workflow.getHandle(id).describe()).typedSearchAttributes;
        expect(sa.get(DsarCallers)).toEqual(['test', 'other']);
        // With B on the run, A is not told either: attached never says whether someone else asked.
        expect((await call(intake, 'POST', '/v1/erasures', { email, requestId: 'A-2' })).json).toMatchObject({ attached: false });
        await s.client.workflow.getHandle(id).signal('cancel', { reason: 'test over', actor: 'test' });
        await s.client.workflow.getHandle(id).result();
      }),
    );
  });

  it('rate-limits dry runs per token with 429 and retry-after', async () => {
    await runScenario(env, 'intake dry-run limit', {}, (s) =>
      withIntake(
        s,
        async (intake) => {
          for (const n of [1, 2])
            expect((await call(intake, 'POST', '/v1/erasures', { email: `probe${n}@example.com`, requestId: `P-${n}`, dryRun: true })).status).toBe(202);
          const limited = await call(intake, 'POST', '/v1/erasures', { email: 'probe3@example.com', requestId: 'P-3', dryRun: true });
          expect(limited.status).toBe(429);
          expect(limited.json).toMatchObject({ error: 'too_many_dry_runs' });
          expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
          // Per token: another caller still has its own, and real requests are not rationed.
          expect(
            (
              await call(
                intake,
                'POST',
                '/v1/erasures',
                { email: 'probe3@example.com', requestId: 'P-3', dryRun: true },
                { authorization: `Bearer ${TOKEN_B}` },
              )
            ).status,
          ).toBe(202);
          expect((await call(intake, 'POST', '/v1/erasures', { email: 'probe4@example.com', requestId: 'P-4' })).status).toBe(202);
        },
        [],
        2,
      ),
    );
  });
});
