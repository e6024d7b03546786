/**
 * Where callbacks may go: the address classifier, the checks that need no DNS (intake and worker),
 * and the connector that resolves, checks and connects to the checked address. Nothing here opens a
 * socket to a non-loopback address: private answers come from a fake resolver and the connector
 * under test hands checked addresses to a spy that opens nothing.
 */
import { describe, expect, it } from 'vitest';
import type { buildConnector } from 'undici';
import { CallbackAddressError, callbackTargetProblem, classifyAddress, parseNetwork, type AddressKind } from '../../src/callbacks/address-policy.js';
import { guardedConnector } from '../../src/callbacks/connector.js';

describe('classifyAddress', () => {
  it.each<[string, AddressKind]>([
    ['93.184.216.34', 'public'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:a9fe:a9fe]', 'link-local'],
    ['::ffff:10.0.0.5', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::808:808', 'public'],
    ['2002:a00:5::1', 'private'],
    ['::127.0.0.1', 'reserved'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2606:4700:4700::1111', 'public'],
    ['4000::1', 'reserved'],
  ])('%s is %s', (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });

  it('says undefined for what is not an IP address', () => {
    for (const s of ['localhost', 'hooks.example.com', '127.1', '0x7f000001', '1.2.3.4.5', '']) expect(classifyAddress(s), s).toBeUndefined();
  });

  it('parses networks in CIDR form and bare addresses, refusing anything else', () => {
    expect(parseNetwork('10.0.0.0/8')).toEqual({ bytes: Uint8Array.from([10, 0, 0, 0]), prefix: 8 });
    expect(parseNetwork('127.0.0.1')).toEqual({ bytes: Uint8Array.from([127, 0, 0, 1]), prefix: 32 });
    expect(parseNetwork('::ffff:10.0.0.0/104')).toEqual({ bytes: Uint8Array.from([10, 0, 0, 0]), prefix: 8 });
    expect(parseNetwork('fd00::/8')?.prefix).toBe(8);
    for (const s of ['10.0.0.0/33', '::/129', 'hooks.example.com', '10.0.0/8', '10.0.0.0/', '/8', '']) expect(parseNetwork(s), s).toBeUndefined();
  });
});

describe('callbackTargetProblem (the checks without DNS)', () => {
  const none = { allowedHosts: [] };

  it.each([
    ['http://127.1/hook', 'loopback'],
    ['https://0x7f000001/hook', 'loopback'],
    ['http://2130706433/hook', 'loopback'],
    ['http://0177.0.0.1/hook', 'loopback'],
    ['https://[::ffff:127.0.0.1]/hook', 'loopback'],
    ['https://[::1]:8443/hook', 'loopback'],
    ['http://localhost:9000/hook', 'loopback'],
    ['https://hooks.localhost/hook', 'loopback'],
    ['https://169.254.169.254/latest/meta-data', 'link-local'],
    ['https://0xa9fea9fe/latest', 'link-local'],
    ['https://10.0.0.5/hook', 'private'],
    ['https://[::ffff:10.0.0.5]/hook', 'private'],
    ['https://[fd00::5]/hook', 'unique-local'],
    ['https://100.64.1.1/hook', 'carrier-grade NAT'],
    ['https://0.0.0.0/hook', 'unspecified'],
    ['https://[::]/hook', 'unspecified'],
  ])('refuses %s: a %s address', (url, kind) => {
    const problem = callbackTargetProblem(url, none);
    expect(problem).toMatchObject({ code: 'CallbackAddressNotAllowed', kind });
    expect(problem!.message).toMatch(new RegExp(`is an? ${kind} address`));
  });

  it('refuses what the URL schema refuses (the attach path skips the intake) and hosts off the allow-list', () => {
    expect(callbackTargetProblem('http://hooks.example.com/x', none)).toMatchObject({ code: 'CallbackUrlInvalid', message: expect.stringMatching(/https/) });
    expect(callbackTargetProblem('http://[::ffff:127.0.0.1]/x', none)).toMatchObject({ code: 'CallbackUrlInvalid' });
    expect(callbackTargetProblem('https://user:pw@hooks.example.com/x', none)).toMatchObject({
      code: 'CallbackUrlInvalid',
      message: expect.stringMatching(/credentials/),
    });
    expect(callbackTargetProblem('ftp://hooks.example.com/x', none)).toMatchObject({ code: 'CallbackUrlInvalid' });
    expect(callbackTargetProblem('not a url', none)).toMatchObject({ code: 'CallbackUrlInvalid' });
    expect(callbackTargetProblem('https://evil.example.net/x', { allowedHosts: ['hooks.example.com'] })).toMatchObject({ code: 'CallbackHostNotAllowed' });
    // An allowed name is still only a name: an allowed IP literal in a private range stays refused.
    expect(callbackTargetProblem('https://10.0.0.5/x', { allowedHosts: ['10.0.0.5'] })).toMatchObject({ code: 'CallbackAddressNotAllowed', kind: 'private' });
  });

  it('lets public hosts and names through (their addresses are checked at connect time)', () => {
    expect(callbackTargetProblem('https://hooks.example.com/x', none)).toBeUndefined();
    expect(callbackTargetProblem('https://93.184.216.34/x', none)).toBeUndefined();
    expect(callbackTargetProblem('https://a.internal.example.com/x', { allowedHosts: ['.internal.example.com'] })).toBeUndefined();
  });

  it('allows non-public addresses only inside DSAR_CALLBACK_ALLOW_NETWORKS', () => {
    const loopback = { allowedHosts: [], allowedNetworks: ['127.0.0.1/32'] };
    expect(callbackTargetProblem('http://127.1:9000/x', loopback)).toBeUndefined();
    expect(callbackTargetProblem('http://localhost:9000/x', loopback)).toBeUndefined();
    expect(callbackTargetProblem('https://[::ffff:127.0.0.1]/x', loopback)).toBeUndefined();
    expect(callbackTargetProblem('https://127.0.0.2/x', loopback)).toMatchObject({ kind: 'loopback' });
    expect(callbackTargetProblem('https://169.254.169.254/x', loopback)).toMatchObject({ kind: 'link-local' });
    expect(callbackTargetProblem('https://10.20.3.4/x', { allowedHosts: [], allowedNetworks: ['10.20.0.0/16'] })).toBeUndefined();
    expect(callbackTargetProblem('https://10.21.3.4/x', { allowedHosts: [], allowedNetworks: ['10.20.0.0/16'] })).toMatchObject({ kind: 'private' });
  });
});

/** A connector that opens nothing: records what it was asked to connect to and fails. */
function spyConnector() {
  const calls: buildConnector.Options[] = [];
  const connect: buildConnector.connector = (opts, callback) => {
    calls.push(opts);
    callback(new Error('spy connector: no socket opened'), null);
  };
  return { calls, connect };
}

function connectWith(connector: buildConnector.connector, hostname: string, protocol = 'https:'): Promise<Error> {
  return new Promise((resolve, reject) =>
    connector({ hostname, host: `${hostname}:443`, protocol, port: '443' }, (...[err]) => (err ? resolve(err) : reject(new Error('connected')))),
  );
}

describe('guardedConnector (the check at connect time)', () => {
  it.each([
    [['10.0.0.5'], 'private'],
    [['169.254.169.254'], 'link-local'],
    [['127.0.0.1', '::1'], 'loopback'],
    [['::ffff:192.168.0.10'], 'private'],
    [['100.100.100.200'], 'carrier-grade NAT'],
  ])('refuses a name resolving to %j before any connect', async (addresses, kind) => {
    const spy = spyConnector();
    const resolved: string[] = [];
    const connector = guardedConnector({
      policy: { allowedHosts: ['hooks.example.com'] },
      resolve: async (h) => (resolved.push(h), addresses),
      connect: spy.connect,
    });
    const err = await connectWith(connector, 'hooks.example.com');
    expect(err).toBeInstanceOf(CallbackAddressError);
    expect(err).toMatchObject({ code: 'CallbackAddressNotAllowed', kind, host: 'hooks.example.com' });
    expect(err.message).toMatch(/callback host hooks\.example\.com resolves only to/);
    expect(resolved).toEqual(['hooks.example.com']);
    expect(spy.calls).toEqual([]);
  });

  it('refuses an IP literal without asking the resolver', async () => {
    const spy = spyConnector();
    let asked = 0;
    const connector = guardedConnector({ policy: { allowedHosts: [] }, resolve: async () => (asked++, ['93.184.216.34']), connect: spy.connect });
    expect(await connectWith(connector, '169.254.169.254')).toMatchObject({ code: 'CallbackAddressNotAllowed', kind: 'link-local' });
    expect(await connectWith(connector, '::ffff:a9fe:a9fe')).toMatchObject({ code: 'CallbackAddressNotAllowed', kind: 'link-local' });
    expect(asked).toBe(0);
    expect(spy.calls).toEqual([]);
  });

  it('connects to the address it checked, keeping the name for TLS (DNS rebinding changes nothing)', async () => {
    // The attacker's DNS answers public first (for any check), then the metadata service.
    const answers = [['93.184.216.34'], ['169.254.169.254']];
    const spy = spyConnector();
    const connector = guardedConnector({ policy: { allowedHosts: [] }, resolve: async () => answers.shift()!, connect: spy.connect });
    expect((await connectWith(connector, 'rebind.example.com')).message).toMatch(/spy connector/);
    expect(spy.calls).toEqual([expect.objectContaining({ hostname: '93.184.216.34', servername: 'rebind.example.com', protocol: 'https:' })]);
    expect(await connectWith(connector, 'rebind.example.com')).toMatchObject({ code: 'CallbackAddressNotAllowed', kind: 'link-local' });
    expect(spy.calls).toHaveLength(1);
  });

  it('drops refused addresses of a name and connects to an allowed one', async () => {
    const spy = spyConnector();
    const connector = guardedConnector({ policy: { allowedHosts: [] }, resolve: async () => ['10.0.0.5', '::1', '93.184.216.34'], connect: spy.connect });
    await connectWith(connector, 'mixed.example.com');
    expect(spy.calls.map((c) => c.hostname)).toEqual(['93.184.216.34']);
  });

  it('passes a resolver failure on as it is (retryable, unlike a refusal)', async () => {
    const spy = spyConnector();
    const enotfound = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example.com'), { code: 'ENOTFOUND' });
    const connector = guardedConnector({ policy: { allowedHosts: [] }, resolve: async () => Promise.reject(enotfound), connect: spy.connect });
    expect(await connectWith(connector, 'nowhere.example.com')).toBe(enotfound);
    expect(spy.calls).toEqual([]);
  });
});
