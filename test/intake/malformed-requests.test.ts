/**
 * The intake API against requests no client should send, over raw sockets: every one gets a 4xx (never
 * a 500, never a crash, never a hang), and the server answers normally afterwards. None of them gets
 * as far as Temporal, so the client points at an address where nothing listens.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, startIntakeServer, type IntakeLogEntry, type IntakeServer } from '../../src/intake/server.js';
import { rawRequest } from '../helpers/raw-http.js';

const TOKEN = 'malformed-test-token-0123456789abcdef0123';
const AUTH = `Authorization: Bearer ${TOKEN}\r\n`;

let intake: IntakeServer;
let client: Client;
const logs: IntakeLogEntry[] = [];
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  intake = await startIntakeServer({
    client,
    start: { taskQueue: 'malformed-requests', idKey: 'a'.repeat(64) },
    tokens: [{ name: 'fuzz', token: TOKEN }],
    log: (e) => logs.push(e),
    limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, maxConnections: 64 },
  });
});
afterAll(async () => {
  await intake?.close();
  await client?.connection.close().catch(() => undefined);
  process.off('uncaughtException', onUncaught);
});

const get = (target: string, headers = '') => `GET ${target} HTTP/1.1\r\nHost: intake\r\n${headers}\r\n`;
const post = (body: string, headers = `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body, 'latin1')}\r\n`) =>
  `POST /v1/erasures HTTP/1.1\r\nHost: intake\r\n${AUTH}${headers}\r\n${body}`;

/** [name, request bytes, the statuses it may get]. */
const CORPUS: [string, string | string[], number[]][] = [
  ['GET //', get('//'), [404]],
  ['GET //[', get('//['), [400, 404]],
  ['GET //:99999', get('//:99999'), [400, 404]],
  ['GET //host/healthz', get('//host/healthz'), [404]],
  ['bad escape at the root', get('/%zz'), [400]],
  ['bad escape in the id', get('/v1/erasures/%E0%A4%A', AUTH), [400]],
  ['bad escape in the id, no token', get('/v1/erasures/%E0%A4%A'), [400]],
  ['truncated escape', get('/v1/erasures/%', AUTH), [400]],
  ['overlong UTF-8 in the id', get('/v1/erasures/%C0%AF', AUTH), [400]],
  ['lone surrogate in the id', get('/v1/erasures/%ED%A0%80', AUTH), [400]],
  ['dot segments', get('/v1/erasures/%2e%2e', AUTH), [400]],
  ['bad escape in the query only', get('/healthz?x=%zz'), [200]],
  ['raw byte above 0x7f', get('/v1/erasures/\xff', AUTH), [400]],
  ['NUL in the path', get('/v1/\0erasures'), [400]],
  ['NUL in a header value', get('/healthz', 'X-Thing: a\0b\r\n'), [400]],
  ['header line without a colon', get('/healthz', 'this is not a header\r\n'), [400]],
  ['header name with a space', get('/healthz', 'Bad Name: x\r\n'), [400]],
  ['long URL (over the header limit)', get('/' + 'a'.repeat(20_000)), [414, 431]],
  ['long URL (under the header limit)', get('/v1/erasures/' + 'a'.repeat(8000), AUTH), [400]],
  ['huge headers', get('/healthz', Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'v'.repeat(60)}\r\n`).join('')), [431]],
  ['one huge header', get('/healthz', `X-Big: ${'v'.repeat(40_000)}\r\n`), [431]],
  ['HTTP/1.1 without Host', 'GET /healthz HTTP/1.1\r\n\r\n', [400]],
  ['unknown HTTP version', 'GET /healthz HTTP/7.3\r\nHost: x\r\n\r\n', [400, 505]],
  ['garbage request line', 'hello there\r\n\r\n', [400]],
  ['binary junk', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', [400]],
  ['unknown method', 'BREW /v1/erasures HTTP/1.1\r\nHost: x\r\n\r\n', [400, 405]],
  ['OPTIONS on the collection', 'OPTIONS /v1/erasures HTTP/1.1\r\nHost: x\r\n\r\n', [405]],
  ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', [400, 404]],
  ['TRACE', 'TRACE /v1/erasures HTTP/1.1\r\nHost: x\r\n\r\n', [405]],
  ['DELETE an id', `DELETE /v1/erasures/dsar-${'0'.repeat(32)} HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`, [405]],
  ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', [400, 405]],
  ['absolute-form target', get('http://x/v1/erasures', AUTH), [405]],
  ['absolute-form, broken', get('http://[/v1/erasures'), [400]],
  ['absolute-form, other scheme', get('ftp://x/healthz'), [400]],
  ['authority-form on GET', get('example.com:80'), [400]],
  ['duplicate, differing content-length', post('{}', 'content-type: application/json\r\ncontent-length: 2\r\ncontent-length: 3\r\n'), [400]],
  ['content-length and chunked', post('2\r\n{}\r\n0\r\n\r\n', 'content-type: application/json\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n'), [400]],
  ['chunked not last', post('{}', 'content-type: application/json\r\ntransfer-encoding: chunked, gzip\r\n'), [400, 501]],
  ['bad chunk size', post('zz\r\n{}\r\n0\r\n\r\n', 'content-type: application/json\r\ntransfer-encoding: chunked\r\n'), [400]],
  ['negative content-length', post('{}', 'content-type: application/json\r\ncontent-length: -2\r\n'), [400]],
  ['absurd content-length', post('{}', 'content-type: application/json\r\ncontent-length: 99999999999999999999999\r\n'), [400, 413]],
  ['declared too large', post('{}', `content-type: application/json\r\ncontent-length: ${MAX_BODY_BYTES + 1}\r\n`), [413]],
  ['invalid JSON', post('{"email": '), [400]],
  ['invalid UTF-8 in the body', post('{"email":"\xff\xfe"}'), [422]],
  ['JSON null', post('null'), [422]],
  ['JSON array', post('[{"email":"x@example.com"}]'), [422]],
  ['wrong content type', post('{}', 'content-type: text/plain\r\ncontent-length: 2\r\n'), [415]],
  ['no content type', post('{}', 'content-length: 2\r\n'), [415]],
  ['no token on POST', 'POST /v1/erasures HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}', [401]],
  ['Bearer without a token', get(`/v1/erasures/dsar-${'0'.repeat(32)}`, 'Authorization: Bearer\r\n'), [401]],
  ['a non-ASCII token', get(`/v1/erasures/dsar-${'0'.repeat(32)}`, 'Authorization: Bearer \xe9\xe9\xe9\r\n'), [401]],
];

describe('intake against malformed requests', () => {
  it.each(CORPUS)('%s', async (_name, bytes, allowed) => {
    const res = await rawRequest(intake.url, bytes, { timeoutMs: 5000 });
    expect(allowed).toContain(res.status);
    expect(res.body).not.toMatch(/internal|stack|at .*\.ts/);
  });

  it('times out a request whose body never completes (and one that stops mid-headers)', async () => {
    const body = post('{"email":"x', 'content-type: application/json\r\ncontent-length: 100\r\n');
    const t0 = Date.now();
    const res = await rawRequest(intake.url, body, { waitForClose: true, timeoutMs: 8000 });
    expect(res.closed).toBe(true);
    expect(res.status).toBe(408);
    expect(Date.now() - t0).toBeLessThan(5000);
    const half = await rawRequest(intake.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', { waitForClose: true, timeoutMs: 8000 });
    expect(half.closed).toBe(true);
    expect(half.status).toBe(408);
  });

  it('answers a truncated body (the client gave up) with 400 and closes', async () => {
    const res = await rawRequest(intake.url, post('{"email":"x', 'content-type: application/json\r\ncontent-length: 100\r\n'), {
      end: true,
      waitForClose: true,
    });
    expect(res.closed).toBe(true);
    expect(res.status).toBe(400);
  });

  it('answers 413 to a body over the limit sent slowly, then stops reading and closes the connection', async () => {
    for (const framing of [`content-length: ${10 * 1024 * 1024}\r\n`, 'transfer-encoding: chunked\r\n']) {
      const chunk = framing.startsWith('content-length') ? 'x'.repeat(4096) : `1000\r\n${'x'.repeat(4096)}\r\n`;
      const chunks = [
        `POST /v1/erasures HTTP/1.1\r\nHost: x\r\n${AUTH}content-type: application/json\r\n${framing}\r\n`,
        ...Array.from({ length: 400 }, () => chunk),
      ];
      const t0 = Date.now();
      const res = await rawRequest(intake.url, chunks, { delayMs: 10, waitForClose: true, timeoutMs: 6000 });
      expect(res.status).toBe(413);
      expect(res.headers.connection).toBe('close');
      expect(res.closed).toBe(true);
      // Closed long before the client finished sending: the server did not read the rest.
      expect(res.written).toBeLessThan(chunks.length * 4096 * 0.5);
      expect(Date.now() - t0).toBeLessThan(5000);
    }
  });

  it('drops connections over the cap at accept, and takes new ones once they close', async () => {
    const capped = await startIntakeServer({
      client,
      start: { taskQueue: 'capped', idKey: 'b'.repeat(64) },
      tokens: [{ name: 'fuzz', token: TOKEN }],
      limits: { maxConnections: 2 },
    });
    try {
      const idle = [rawRequest(capped.url, [], { timeoutMs: 1500 }), rawRequest(capped.url, [], { timeoutMs: 1500 })];
      await new Promise((r) => setTimeout(r, 200));
      const third = await rawRequest(capped.url, get('/healthz'), { timeoutMs: 1000 });
      expect(third).toMatchObject({ status: undefined, closed: true });
      await Promise.all(idle);
      await new Promise((r) => setTimeout(r, 100));
      expect((await rawRequest(capped.url, get('/healthz'))).status).toBe(200);
    } finally {
      await capped.close();
    }
  });

  it('still answers, crashed nothing, and logged neither tokens nor paths', async () => {
    const health = await fetch(`${intake.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(uncaught).toEqual([]);
    expect(logs.length).toBeGreaterThan(CORPUS.length / 2);
    expect(logs.filter((l) => l.status >= 500)).toEqual([]);
    const logged = JSON.stringify(logs);
    expect(logged).not.toContain(TOKEN);
    expect(new Set(logs.map((l) => l.route))).toEqual(new Set(['/healthz', '/v1/erasures', '/v1/erasures/{id}', 'unknown', 'unparsed']));
  });
});
