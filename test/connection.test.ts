/**
 * The Temporal connection as the `temporal` CLI reads it (@temporalio/envconfig): TOML profiles,
 * TEMPORAL_* over them, *_DATA, gRPC headers; and a clear ConfigError, naming the variable or profile
 * key and never the value, for what envconfig would pass on unchecked. Plain env objects and files in
 * a temporary directory: never process.env or the user's own config file.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadClientConfig, loadWorkerConfig, type Env } from '../src/config.js';

const ENC = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
const CLIENT_MIN: Env = { DSAR_ID_KEY: '0123456789abcdef0123456789abcdef', DSAR_ENCRYPTION_KEYS: ENC };
const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${Buffer.from(body).toString('base64')}\n-----END ${label}-----\n`;
const CERT = pem('CERTIFICATE', 'client cert');
const KEY = pem('PRIVATE KEY', 'client key s3cr3t');
const CA = pem('CERTIFICATE', 'private ca');

const dir = mkdtempSync(join(tmpdir(), 'dsar-envconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A file in the temporary directory holding `text`; its path. */
function file(text: string, name = `f${++files}`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const CLOUD_KEY = 'cloud-api-key-s3cr3t';
const TOML = file(`
[profile.default]
address = "localhost:7233"
namespace = "default"

[profile.prod]
address = "eu-west-1.aws.api.temporal.io:7233"
namespace = "hr-prod.acct1"
api_key = "${CLOUD_KEY}"

[profile.prod.grpc_meta]
x-team = "privacy"
x-region = "eu"

[profile.mtls]
address = "hr.acct1.tmprl.cloud:7233"
namespace = "hr.acct1"
[profile.mtls.tls]
client_cert_path = "${file(CERT, 'client.pem')}"
client_key_path = "${file(KEY, 'client.key')}"
server_name = "hr.acct1.tmprl.cloud"

[profile.bad-address]
address = "https://hr.example:7233"
`);

function connect(env: Env) {
  return loadClientConfig({ ...CLIENT_MIN, ...env }).temporal;
}

/** The ConfigError's problems for `env`; fails the test when it loads. */
function problems(env: Env): string[] {
  try {
    connect(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    for (const secret of [CLOUD_KEY, KEY, 's3cr3t']) expect(message).not.toContain(secret);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError, but the config loaded');
}

describe("Temporal connection from a TOML profile (the CLI's temporal.toml)", () => {
  it('takes address, namespace, API key and headers from the profile TEMPORAL_PROFILE names; the key turns TLS on', () => {
    expect(connect({ TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'prod' })).toEqual({
      address: 'eu-west-1.aws.api.temporal.io:7233',
      namespace: 'hr-prod.acct1',
      profile: 'prod',
      connection: { address: 'eu-west-1.aws.api.temporal.io:7233', apiKey: CLOUD_KEY, tls: true, metadata: { 'x-team': 'privacy', 'x-region': 'eu' } },
    });
  });

  it('reads mTLS files from the profile, with its server name', () => {
    const t = connect({ TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'mtls' });
    expect(t.address).toBe('hr.acct1.tmprl.cloud:7233');
    expect(t.connection.tls).toMatchObject({ serverNameOverride: 'hr.acct1.tmprl.cloud' });
    const tls = t.connection.tls as { clientCertPair: { crt: Uint8Array; key: Uint8Array } };
    expect(Buffer.from(tls.clientCertPair.crt).toString()).toBe(CERT);
    expect(Buffer.from(tls.clientCertPair.key).toString()).toBe(KEY);
  });

  it('lets TEMPORAL_* override the profile, value by value', () => {
    const t = connect({
      TEMPORAL_CONFIG_FILE: TOML,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_NAMESPACE: 'hr-staging.acct1',
      TEMPORAL_GRPC_META_X_REGION: 'us',
      TEMPORAL_GRPC_META_X_TEAM: '',
    });
    expect(t).toMatchObject({ address: 'eu-west-1.aws.api.temporal.io:7233', namespace: 'hr-staging.acct1' });
    // An empty TEMPORAL_GRPC_META_X removes the profile's header, as in the CLI.
    expect(t.connection).toMatchObject({ apiKey: CLOUD_KEY, metadata: { 'x-region': 'us' } });
    expect(t.connection.metadata).not.toHaveProperty('x-team');
    const local = connect({ TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'mtls', TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_TLS: 'false' });
    expect(local.connection).toEqual({ address: '127.0.0.1:7233', tls: false });
  });

  it("reads the default profile of the CLI's default file (temporalio/temporal.toml in XDG_CONFIG_HOME or ~/.config) without TEMPORAL_PROFILE", () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.config', 'temporalio'), { recursive: true });
    writeFileSync(join(home, '.config', 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "temporal.internal:7233"\nnamespace = "hr"\n');
    expect(connect({ HOME: home })).toMatchObject({ address: 'temporal.internal:7233', namespace: 'hr' });
    expect(connect({ XDG_CONFIG_HOME: join(home, '.config') })).toMatchObject({ address: 'temporal.internal:7233', namespace: 'hr' });
    // No file and no variables: the local dev server.
    expect(connect({ HOME: join(dir, 'nobody') })).toEqual({ address: 'localhost:7233', namespace: 'default', connection: { address: 'localhost:7233' } });
  });
});

describe('Temporal connection from variables alone', () => {
  it('takes PEM text from the *_DATA variables and the SNI name from TEMPORAL_TLS_SERVER_NAME', () => {
    const tls = connect({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CLIENT_CERT_DATA: CERT,
      TEMPORAL_TLS_CLIENT_KEY_DATA: KEY,
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: CA,
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
    }).connection.tls as { clientCertPair: { crt: Uint8Array; key: Uint8Array }; serverRootCACertificate: Uint8Array; serverNameOverride: string };
    expect(Buffer.from(tls.clientCertPair.crt).toString()).toBe(CERT);
    expect(Buffer.from(tls.clientCertPair.key).toString()).toBe(KEY);
    expect(Buffer.from(tls.serverRootCACertificate).toString()).toBe(CA);
    expect(tls.serverNameOverride).toBe('frontend.temporal.internal');
  });

  it('turns TLS on with a client certificate (as before) and, as the CLI does, with a CA or server name alone', () => {
    const pair = { TEMPORAL_TLS_CLIENT_CERT_PATH: file(CERT), TEMPORAL_TLS_CLIENT_KEY_PATH: file(KEY) };
    expect(connect(pair).connection.tls).toMatchObject({ clientCertPair: { crt: expect.any(Uint8Array), key: expect.any(Uint8Array) } });
    expect(connect({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: file(CA) }).connection.tls).toMatchObject({ serverRootCACertificate: expect.any(Uint8Array) });
    expect(connect({ TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal' }).connection.tls).toMatchObject({
      serverNameOverride: 'frontend.temporal.internal',
    });
    // TLS off: the files are not read, so a missing one is no problem.
    expect(
      connect({ TEMPORAL_TLS: 'no', TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'absent.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'absent.key') }).connection
        .tls,
    ).toBe(false);
  });

  it('sends TEMPORAL_GRPC_META_* as gRPC headers, every _ a - as the CLI writes them', () => {
    const t = loadWorkerConfig({
      DSAR_ENCRYPTION_KEYS: ENC,
      COMEET_BASE_URL: 'https://api.comeet.co',
      COMEET_API_KEY: 'acct-key-123',
      COMEET_SECRET: 'integration-secret-456',
      TEMPORAL_GRPC_META_X_TENANT_ROUTE: 'eu-1',
      TEMPORAL_GRPC_META_TEMPORAL_NAMESPACE_HINT: 'hr',
    }).temporal;
    expect(t.connection.metadata).toEqual({ 'x-tenant-route': 'eu-1', 'temporal-namespace-hint': 'hr' });
  });
});

describe('Temporal connection problems', () => {
  it('names a certificate path that does not exist, by its variable', () => {
    const missing = join(dir, 'nope', 'client.pem');
    expect(problems({ TEMPORAL_TLS_CLIENT_CERT_PATH: missing, TEMPORAL_TLS_CLIENT_KEY_PATH: file(KEY) })).toEqual([
      `TEMPORAL_TLS_CLIENT_CERT_PATH names ${missing}, which cannot be read (no such file)`,
    ]);
    expect(problems({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing })[0]).toMatch(/^TEMPORAL_TLS_SERVER_CA_CERT_PATH names .*\(no such file\)$/);
  });

  it('names the profile key when the bad value is in the file', () => {
    expect(problems({ TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'bad-address' })).toEqual([
      'profile "bad-address" address must be host:port, e.g. localhost:7233 or [::1]:7233 (a port between 1 and 65535)',
    ]);
    // The same address from the variable names the variable.
    expect(problems({ TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'prod', TEMPORAL_ADDRESS: 'https://hr.example:7233' })[0]).toMatch(
      /^TEMPORAL_ADDRESS must be host:port/,
    );
  });

  it('names an unknown profile and a config file that is not there', () => {
    expect(problems({ TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'staging' })).toEqual([
      `TEMPORAL_PROFILE names profile "staging", which TEMPORAL_CONFIG_FILE (${TOML}) does not define (or the file does not exist)`,
    ]);
    // The CLI would ignore the missing file; a service would then connect somewhere it was not told to.
    const missing = join(dir, 'temporal.toml');
    expect(problems({ TEMPORAL_CONFIG_FILE: missing })).toEqual([`TEMPORAL_CONFIG_FILE names ${missing}, which does not exist`]);
  });

  it('says where a config file is not TOML without quoting it (it holds API keys)', () => {
    const broken = file(`[profile.default]\napi_key = "${CLOUD_KEY}\n`);
    const [p, ...rest] = problems({ TEMPORAL_CONFIG_FILE: broken });
    expect(rest).toEqual([]);
    expect(p).toMatch(new RegExp(`^TEMPORAL_CONFIG_FILE \\(${broken}\\) is not valid TOML: .*\\(line 2, column \\d+\\)$`));
  });

  it('refuses half a client certificate pair, a PEM given twice, and data that is not PEM', () => {
    expect(problems({ TEMPORAL_TLS_CLIENT_CERT_PATH: file(CERT) })).toEqual([
      "TEMPORAL_TLS_CLIENT_CERT_PATH is set without TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA, or the profile's tls.client_key_path): mTLS needs the certificate's key",
    ]);
    expect(problems({ TEMPORAL_TLS_CLIENT_KEY_DATA: KEY })[0]).toMatch(/^TEMPORAL_TLS_CLIENT_KEY_DATA is set without TEMPORAL_TLS_CLIENT_CERT_PATH/);
    expect(problems({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: file(CA), TEMPORAL_TLS_SERVER_CA_CERT_DATA: CA })[0]).toMatch(
      /^TEMPORAL_TLS_SERVER_CA_CERT_PATH and TEMPORAL_TLS_SERVER_CA_CERT_DATA .* are both set/,
    );
    expect(problems({ TEMPORAL_TLS_CLIENT_CERT_DATA: CERT, TEMPORAL_TLS_CLIENT_KEY_DATA: 's3cr3t-not-pem' })).toEqual([
      'TEMPORAL_TLS_CLIENT_KEY_DATA must hold PEM text (-----BEGIN …-----), the client key',
    ]);
  });

  it('refuses a TEMPORAL_TLS it cannot read, host verification off, and two authorizations', () => {
    // envconfig alone would read "on" as TLS off.
    expect(problems({ TEMPORAL_TLS: 'on' })).toEqual(['TEMPORAL_TLS must be true or false']);
    expect(problems({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })[0]).toMatch(
      /^TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported by the TypeScript SDK/,
    );
    expect(problems({ TEMPORAL_API_KEY: CLOUD_KEY, TEMPORAL_GRPC_META_AUTHORIZATION: 'Bearer s3cr3t' })[0]).toMatch(
      /^TEMPORAL_API_KEY and an authorization header .* are both set/,
    );
    expect(problems({ TEMPORAL_GRPC_META_X_NOTE: 'caf\u00e9 s3cr3t' })).toEqual(['TEMPORAL_GRPC_META_X_NOTE must be printable ASCII (a gRPC header value)']);
  });

  it('lists Temporal problems with the others, all at once', () => {
    const err = (() => {
      try {
        loadClientConfig({
          DSAR_ENCRYPTION_KEYS: ENC,
          DSAR_ID_KEY: 'short',
          TEMPORAL_TLS: 'maybe',
          TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'absent.pem'),
          TEMPORAL_TLS_CLIENT_KEY_PATH: file(KEY),
        });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems.map((p) => p.split(' ')[0])).toEqual(['DSAR_ID_KEY', 'TEMPORAL_TLS', 'TEMPORAL_TLS_CLIENT_CERT_PATH']);
  });
});
