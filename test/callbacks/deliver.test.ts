/**
 * deliverCallback over real sockets, all on loopback: the odd spellings of 127.0.0.1 and names that
 * resolve to loopback are refused before a connection opens, unless DSAR_CALLBACK_ALLOW_NETWORKS
 * allows them; then the signed POST arrives.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CallbackAddressError } from '../../src/callbacks/address-policy.js';
import { guardedConnector } from '../../src/callbacks/connector.js';
import { CallbackDeliveryError, deliverCallback, type CallbackSettings } from '../../src/callbacks/deliver.js';
import { SIGNATURE_HEADER, verifyCallbackSignature } from '../../src/callbacks/signature.js';
import type { CallbackPayload } from '../../src/callbacks/payload.js';

const SECRET = 'callback-secret-0123456789abcdef0123456789';
const PAYLOAD: CallbackPayload = {
  event: 'erasure.finished',
  id: 'dsar-0123',
  runId: 'run-1',
  requestId: 'R-1',
  outcome: 'completed',
  mode: 'delete',
  regulation: 'gdpr',
  dryRun: false,
  finishedAt: '2026-05-01T09:00:00.000Z',
};

/** Counts connections as well as requests: a refusal must come before the TCP connect. */
const receiver = { connections: 0, requests: [] as { headers: IncomingHttpHeaders; body: string }[], port: 0 };
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    receiver.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(204).end();
  });
});
server.on('connection', () => receiver.connections++);
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  receiver.port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  receiver.connections = 0;
  receiver.requests.length = 0;
});

async function refusal(settings: CallbackSettings, url: string): Promise<CallbackDeliveryError> {
  try {
    await deliverCallback(settings, url, PAYLOAD);
  } catch (err) {
    expect(err).toBeInstanceOf(CallbackDeliveryError);
    return err as CallbackDeliveryError;
  }
  throw new Error(`expected ${url} to be refused, but it was delivered`);
}

const settings = (more: Partial<CallbackSettings> = {}): CallbackSettings => ({ secrets: [SECRET], allowedHosts: [], ...more });

describe('deliverCallback address policy', () => {
  it.each([
    ['http://127.1:PORT/hook', 'CallbackAddressNotAllowed', /callback host 127\.0\.0\.1 is a loopback address/],
    ['https://0x7f000001:PORT/hook', 'CallbackAddressNotAllowed', /is a loopback address/],
    ['http://2130706433:PORT/hook', 'CallbackAddressNotAllowed', /is a loopback address/],
    ['http://0177.0.0.1:PORT/hook', 'CallbackAddressNotAllowed', /is a loopback address/],
    ['https://[::ffff:127.0.0.1]:PORT/hook', 'CallbackAddressNotAllowed', /is a loopback address/],
    ['http://localhost:PORT/hook', 'CallbackAddressNotAllowed', /callback host localhost is a loopback address/],
    // What the intake's schema refuses is refused at delivery too: a URL may come in by another path.
    ['http://[::ffff:127.0.0.1]:PORT/hook', 'CallbackUrlInvalid', /must use https/],
    ['http://user:pw@127.0.0.1:PORT/hook', 'CallbackUrlInvalid', /must not carry credentials/],
    ['ftp://127.0.0.1:PORT/hook', 'CallbackUrlInvalid', /absolute URL/],
  ])('refuses %s for good, opening no connection', async (template, code, message) => {
    const err = await refusal(settings(), template.replace('PORT', String(receiver.port)));
    expect(err).toMatchObject({ code, retryable: false });
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('dsar-0123');
    expect(receiver.connections).toBe(0);
  });

  it('refuses an allowed name that resolves to loopback, and delivers once loopback is allowed', async () => {
    const url = `http://localhost:${receiver.port}/hook`;
    const err = await refusal(settings({ allowedHosts: ['localhost'] }), url);
    expect(err).toMatchObject({ code: 'CallbackAddressNotAllowed', retryable: false });
    expect(receiver.connections).toBe(0);

    // Whatever localhost resolves to here (::1 too), only 127.0.0.1 is allowed, and it is the receiver.
    expect(await deliverCallback(settings({ allowedHosts: ['localhost'], allowedNetworks: ['127.0.0.1/32'] }), url, PAYLOAD)).toEqual({ status: 204 });
    expect(receiver.requests).toHaveLength(1);
    const got = receiver.requests[0]!;
    expect(got.headers.host).toBe(`localhost:${receiver.port}`);
    expect(() => verifyCallbackSignature(SECRET, got.headers[SIGNATURE_HEADER] as string, got.body)).not.toThrow();
  });

  it('checks the address resolved at connect time, not only the name (a rebinding resolver)', async () => {
    // The static check lets localhost through (127.0.0.1 is allowed); the resolver then answers
    // another loopback address, outside the allowed network: refused before connecting.
    const answers = [['127.0.0.1'], ['127.0.0.2']];
    const s = settings({ allowedNetworks: ['127.0.0.1/32'], resolve: async () => answers.shift()! });
    const url = `http://localhost:${receiver.port}/hook`;
    expect(await deliverCallback(s, url, PAYLOAD)).toEqual({ status: 204 });
    const err = await refusal(s, url);
    expect(err).toMatchObject({
      code: 'CallbackAddressNotAllowed',
      retryable: false,
      message: expect.stringMatching(/callback host localhost resolves only to a loopback address/),
    });
    expect(receiver.connections).toBe(1);
  });

  it('still retries what may pass: an unresolvable name, a closed port', async () => {
    const enotfound = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    const gone = await refusal(
      settings({ allowedNetworks: ['127.0.0.1/32'], resolve: () => Promise.reject(enotfound) }),
      `http://localhost:${receiver.port}/hook`,
    );
    expect(gone).toMatchObject({ code: 'CallbackNetworkError', retryable: true });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await refusal(settings({ allowedNetworks: ['127.0.0.1/32'] }), `http://127.0.0.1:${port}/hook`)).toMatchObject({
      code: 'CallbackNetworkError',
      retryable: true,
    });
  });
});

describe('guardedConnector with undici', () => {
  it('reaches a name only through the checked address, sending the name as Host', async () => {
    // A name the intake would accept (https, allowed host) whose DNS answer is loopback.
    const resolve = async () => ['127.0.0.1'];
    const refused = new Agent({ connect: guardedConnector({ policy: { allowedHosts: ['hooks.example.com'] }, resolve }) });
    await expect(request(`http://hooks.example.com:${receiver.port}/hook`, { dispatcher: refused, method: 'POST', body: '{}' })).rejects.toBeInstanceOf(
      CallbackAddressError,
    );
    await refused.destroy();
    expect(receiver.connections).toBe(0);

    const allowed = new Agent({ connect: guardedConnector({ policy: { allowedHosts: ['hooks.example.com'], allowedNetworks: ['127.0.0.0/8'] }, resolve }) });
    const res = await request(`http://hooks.example.com:${receiver.port}/hook`, { dispatcher: allowed, method: 'POST', body: '{}' });
    await res.body.dump();
    await allowed.destroy();
    expect(res.statusCode).toBe(204);
    expect(receiver.requests.map((r) => r.headers.host)).toEqual([`hooks.example.com:${receiver.port}`]);
  });
});
