/**
 * The codec server against requests no client should send, over raw sockets: every one gets a 4xx
 * (never a 500, never a crash), the server answers normally afterwards, and no log line holds the
 * token, whether it came in the `/t/<token>` path or a header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { startCodecServer, type CodecServer } from '../../src/codec/server.js';
import { rawRequest } from '../helpers/raw-http.js';

const TOKEN = 'codec-fuzz-token-0123456789abcdef';
const NEAR_MISS = 'codec-fuzz-token-0123456789abcdeX';
const AUTH = `Authorization: Bearer ${TOKEN}\r\n`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

let codec: CodecServer;
const lines: string[] = [];
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  codec = await startCodecServer({
    keys: parseEncryptionKeys(`k1:${Buffer.alloc(32, 1).toString('base64')}`),
    token: TOKEN,
    corsOrigins: ['http://localhost:8233'],
    log: (l) => lines.push(l),
  });
});
afterAll(async () => {
  await codec?.close();
  process.off('uncaughtException', onUncaught);
});

const req = (method: string, target: string, headers = '', body = '') =>
  `${method} ${target} HTTP/1.1\r\nHost: codec\r\n${headers}${body ? `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body, 'latin1')}\r\n` : ''}\r\n${body}`;
const decode = (body: string) => req('POST', '/decode', AUTH, body);

/** [name, request bytes, the statuses it may get]. */
const CORPUS: [string, string | string[], number[]][] = [
  ['GET //', req('GET', '//'), [404]],
  ['GET //[', req('GET', '//['), [400, 404]],
  ['GET //:99999', req('GET', '//:99999'), [400, 404]],
  ['bad escape', req('POST', '/%zz', AUTH, '{}'), [400]],
  ['bad escape after the path token', req('POST', `/t/${TOKEN}/%zz`, '', '{}'), [400]],
  ['bad escape in the path token', req('POST', '/t/%E0%A4%A/decode', '', '{}'), [400]],
  ['path token and nothing after it', req('POST', `/t/${TOKEN}`, '', '{}'), [404]],
  ['path token, unknown path', req('POST', `/t/${TOKEN}/nope/deeper`, '', '{}'), [404]],
  ['path token, GET', req('GET', `/t/${TOKEN}/decode`), [405]],
  ['path token, TRACE', req('TRACE', `/t/${TOKEN}/decode`), [405]],
  ['path token, near miss', req('POST', `/t/${NEAR_MISS}/decode`, '', '{}'), [401]],
  ['header token, near miss', req('POST', '/decode', `Authorization: Bearer ${NEAR_MISS}\r\n`, '{}'), [401]],
  ['no token', req('POST', '/encode', '', '{}'), [401]],
  ['raw byte above 0x7f', req('POST', '/t/\xff/decode', '', '{}'), [400]],
  ['unknown method', req('BREW', '/decode', AUTH), [400, 405]],
  ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', [400, 405]],
  ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', [204, 400, 404]],
  ['absolute-form, broken', req('POST', 'http://[/decode', AUTH, '{}'), [400]],
  ['long URL', req('POST', '/' + 'a'.repeat(20_000)), [414, 431]],
  ['huge headers', req('POST', '/decode', Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'v'.repeat(60)}\r\n`).join('')), [431]],
  ['NUL in a header', req('POST', '/decode', 'X-A: \0\r\n'), [400]],
  ['duplicate content-length', `POST /decode HTTP/1.1\r\nHost: x\r\n${AUTH}content-length: 2\r\ncontent-length: 3\r\n\r\n{}`, [400]],
  [
    'content-length and chunked',
    `POST /decode HTTP/1.1\r\nHost: x\r\n${AUTH}content-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    [400],
  ],
  ['declared too large', `POST /decode HTTP/1.1\r\nHost: x\r\n${AUTH}content-length: ${9 * 1024 * 1024}\r\n\r\n{`, [413]],
  ['not JSON', decode('{"payloads": ['), [400]],
  ['JSON null', decode('null'), [400]],
  ['JSON array', decode('[]'), [400]],
  ['JSON string', decode('"payloads"'), [400]],
  ['payloads: null', decode('{"payloads":null}'), [400]],
  ['payloads: an object', decode('{"payloads":{}}'), [400]],
  ['a null payload', decode('{"payloads":[null]}'), [400]],
  ['data not base64', decode('{"payloads":[{"data":"not base64!"}]}'), [400]],
  ['metadata not base64', decode(`{"payloads":[{"metadata":{"encoding":"***"},"data":"${b64('{}')}"}]}`), [400]],
  ['metadata not a string', decode('{"payloads":[{"metadata":{"encoding":5}}]}'), [400]],
  ['metadata an array', decode('{"payloads":[{"metadata":["a"]}]}'), [400]],
  [
    'claims encryption, is not',
    decode(`{"payloads":[{"metadata":{"encoding":"${b64('binary/encrypted')}","encryption-key-id":"${b64('k1')}"},"data":"${b64('garbage')}"}]}`),
    [422],
  ],
  [
    'unknown key id',
    decode(`{"payloads":[{"metadata":{"encoding":"${b64('binary/encrypted')}","encryption-key-id":"${b64('k9')}"},"data":"${b64('x'.repeat(40))}"}]}`),
    [422],
  ],
];

describe('codec server against malformed requests', () => {
  it.each(CORPUS)('%s', async (_name, bytes, allowed) => {
    const res = await rawRequest(codec.url, bytes, { timeoutMs: 5000 });
    expect(allowed).toContain(res.status);
    expect(res.body).not.toContain(TOKEN);
  });

  it('answers 413 to a chunked body over the limit and closes instead of reading on', async () => {
    const chunk = `10000\r\n${'x'.repeat(0x10000)}\r\n`;
    const chunks = [`POST /decode HTTP/1.1\r\nHost: x\r\n${AUTH}transfer-encoding: chunked\r\n\r\n`, ...Array.from({ length: 800 }, () => chunk)];
    const res = await rawRequest(codec.url, chunks, { delayMs: 1, waitForClose: true, timeoutMs: 8000 });
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(res.closed).toBe(true);
    expect(res.written).toBeLessThan(chunks.length * 0x10000 * 0.5);
  });

  it('takes a body without payloads as an empty list, as Temporal codec servers do (the CLI sends {})', async () => {
    for (const path of ['/encode', '/decode']) {
      const res = await fetch(codec.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ payloads: [] });
    }
    // What is wrong is said by field, without quoting the value.
    const bad = await fetch(`${codec.url}/decode`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '{"payloads":[{"data":"not base64!"}]}',
    });
    expect(bad.status).toBe(400);
    const { message } = (await bad.json()) as { message: string };
    expect(message).toMatch(/^payloads\.0\.data: must be base64: send JSON \{"payloads"/);
    expect(message).not.toContain('not base64!');
  });

  it('still answers, crashed nothing, and logged no token', async () => {
    const res = await fetch(`${codec.url}/decode`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"payloads":[]}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ payloads: [] });
    expect(uncaught).toEqual([]);
    expect(lines.length).toBeGreaterThan(CORPUS.length / 2);
    expect(lines.filter((l) => / 5\d\d\b/.test(l))).toEqual([]);
    for (const secret of [TOKEN, NEAR_MISS, 'codec-fuzz-token']) expect(lines.join('\n')).not.toContain(secret);
    // The route is still told, with the path token replaced.
    expect(lines).toEqual(
      expect.arrayContaining([
        'POST /t/<token>/<unknown> 404',
        'GET /t/<token>/decode 405',
        'POST /t/<token>/decode 401',
        'POST /decode 200',
        'POST /<unknown> 400',
      ]),
    );
  });
});
