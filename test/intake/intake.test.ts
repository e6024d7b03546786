/**
 * The intake API over real HTTP: a real Temporal dev server and worker, the simulator as Comeet,
 * and a real HTTP receiver for the signed completion callbacks.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { erasureWorkflowId } from '../../src/client.js';
import { CallbackSignatureError, SIGNATURE_HEADER, DELIVERY_HEADER, verifyCallbackSignature } from '../../src/callbacks/signature.js';
import { startIntakeServer, type IntakeLogEntry, type IntakeServer } from '../../src/intake/server.js';
import { verifyReceipt } from '../../src/receipt/index.js';
import type { CallbackPayload } from '../../src/shared.js';
import { testReceiptKeys } from '../helpers/receipts.js';
import { FAST_TUNING, interviewing, person, runScenario, type Scenario } from '../helpers/scenario.js';
import { startDevServer, workflowBundle } from '../helpers/temporal.js';
import { BAD_CASES, MARKER, mapPool } from '../reliability/bad-input-corpus.js';

const TOKEN = 'intake-test-token-0123456789abcdef0123456789';
const SECRET = 'callback-secret-0123456789abcdef0123456789';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startDevServer();
  await workflowBundle();
});
afterAll(async () => {
  await env?.teardown();
});

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

async function withIntake(s: Scenario, body: (intake: IntakeServer, logs: IntakeLogEntry[]) => Promise<void>, allowedCallbackHosts: string[] = []) {
  const logs: IntakeLogEntry[] = [];
  const intake = await startIntakeServer({
    client: s.client,
    start: { taskQueue: s.taskQueue, idKey: s.idKey, tuning: { ...FAST_TUNING, callbackRetryMs: 1000 } },
    tokens: [TOKEN],
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
    await runScenario(env, 'intake happy', { seed: { candidates: person('Intake.Subject@example.com', 'P-IN', 2) } }, (s) =>
      withIntake(s, async (intake, logs) => {
        const created = await call(intake, 'POST', '/v1/erasures', { email: '  intake.subject@EXAMPLE.com ', requestId: 'REQ-1', callbackUrl: receiver.url });
        expect(created.status).toBe(202);
        const id = erasureWorkflowId('intake.subject@example.com', s.idKey);
        expect(created.json).toMatchObject({ id, requestId: 'REQ-1', attached: false, links: { self: `/v1/erasures/${id}` } });
        expect(created.headers.location).toBe(`/v1/erasures/${id}`);

        const done = await until(() => call(intake, 'GET', `/v1/erasures/${id}`), (r) => r.json?.status === 'COMPLETED');
        expect(done.json).toMatchObject({ id, status: 'COMPLETED', phase: 'completed', requestIds: ['REQ-1'], result: { outcome: 'completed', totals: { persons: 1, candidates: 2 } } });
        const { receipt } = await verifyReceipt(done.json!.result.receipt, { jwks: (await testReceiptKeys()).jwks });
        expect(receipt.workflowId).toBe(id);

        await until(async () => receiver.received.length, (n) => n === 1);
        const [cb] = receiver.received;
        verifyCallbackSignature(SECRET, cb!.headers[SIGNATURE_HEADER] as string, cb!.body);
        expect(() => verifyCallbackSignature('another-secret-0123456789abcdef0123', cb!.headers[SIGNATURE_HEADER] as string, cb!.body)).toThrow(CallbackSignatureError);
        expect(() => verifyCallbackSignature(SECRET, cb!.headers[SIGNATURE_HEADER] as string, cb!.body.replace('completed', 'cancelled'))).toThrow(/does not match/);
        expect(cb!.headers[DELIVERY_HEADER]).toBe(`${id}/${created.json!.runId}/REQ-1`);
        expect(cb!.payload).toMatchObject({ event: 'erasure.finished', id, requestId: 'REQ-1', outcome: 'completed', totals: { persons: 1, candidates: 2 }, receipt: done.json!.result.receipt });
        expect(cb!.body.toLowerCase()).not.toContain('intake.subject');

        // The same POST again (its answer was lost): the same request, not a second erasure.
        const again = await call(intake, 'POST', '/v1/erasures', { email: 'intake.subject@example.com', requestId: 'REQ-1', callbackUrl: receiver.url });
        expect(again.status).toBe(200);
        expect(again.json).toMatchObject({ id, runId: created.json!.runId, status: 'COMPLETED', replayed: true });
        expect(s.sim.stats().erasures).toHaveLength(1);
        const status = await s.status(id);
        expect(status.requests).toEqual([{ requestId: 'REQ-1', hasCallback: true, callback: 'delivered' }]);
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
    await runScenario(env, 'intake attach', { seed: { candidates: [interviewing('busy.intake@example.com', 'P-BI', '+3d')] } }, (s) =>
      withIntake(s, async (intake) => {
        const first = await call(intake, 'POST', '/v1/erasures', { email: 'busy.intake@example.com', requestId: 'A-1', callbackUrl: a.url, mode: 'pseudonymize' });
        expect(first.status).toBe(202);
        const id = first.json!.id as string;
        await s.waitForPhase(id, 'waiting_for_interviews');
        const second = await call(intake, 'POST', '/v1/erasures', { email: 'Busy.Intake@example.com', requestId: 'B-7', callbackUrl: b.url });
        expect(second.status).toBe(202);
        expect(second.json).toMatchObject({ id, runId: first.json!.runId, attached: true });
        const waiting = await until(() => call(intake, 'GET', `/v1/erasures/${id}`), (r) => (r.json?.requestIds ?? []).length === 2);
        expect(waiting.json).toMatchObject({ status: 'RUNNING', phase: 'waiting_for_interviews', progress: { phase: 'waiting_for_interviews', persons: 1, personsErased: 0 } });
        expect(waiting.json!.requestIds).toEqual(['A-1', 'B-7']);

        s.sim.completeInterviews('P-BI');
        await s.client.workflow.getHandle(id).signal('recheckNow', { actor: 'test' });
        await until(async () => a.received.length + b.received.length, (n) => n === 2);
        expect(a.received[0]!.payload).toMatchObject({ requestId: 'A-1', outcome: 'completed' });
        expect(b.received[0]!.payload).toMatchObject({ requestId: 'B-7', outcome: 'completed' });
        // A retry of B's POST after the end (the callbacks go out just before the run closes): B's id
        // is on the run, so nothing new starts.
        await s.client.workflow.getHandle(id).result();
        const replay = await call(intake, 'POST', '/v1/erasures', { email: 'busy.intake@example.com', requestId: 'B-7' });
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
    await runScenario(env, 'intake callback retry', { seed: { candidates: person('retry.cb@example.com', 'P-RCB') } }, (s) =>
      withIntake(s, async (intake) => {
        const created = await call(intake, 'POST', '/v1/erasures', { email: 'retry.cb@example.com', requestId: 'R-1', callbackUrl: receiver.url });
        await until(async () => receiver.received.length, (n) => n === 1, 30_000);
        expect(receiver.attempts).toBe(3);
        const r = await s.client.workflow.getHandle(created.json!.id).result();
        expect(r.outcome).toBe('completed');
        const st = await s.status(created.json!.id);
        expect(st.requests).toEqual([{ requestId: 'R-1', hasCallback: true, callback: 'delivered' }]);
      }),
      { worker: callbackWorker },
    );
    await receiver.close();
  });

  it('gives up on a callback the caller rejects for good, without failing the erasure', async () => {
    const receiver = await startReceiver([410]);
    await runScenario(env, 'intake callback gone', { seed: { candidates: person('gone.cb@example.com', 'P-GCB') } }, (s) =>
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
});
