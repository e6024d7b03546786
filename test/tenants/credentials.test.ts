/** Sealed tenant credentials: bound to tenant and environment, rotatable, never quoted in errors. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadCredentialKeys, loadWorkerConfig } from '../../src/config.js';
import { parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { CredentialsError, parseCredentialKeys, sealCredentials, unsealCredentials } from '../../src/tenants/credentials.js';

const K1 = Buffer.alloc(32, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('base64');
const CREDS = { apiKey: 'acme-sandbox-key-5f1c', secret: 'acme-integration-secret-9b2e' };

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected an error');
}

describe('tenant credentials', () => {
  it('round-trips, and the blob names its key id but not the key or secret', () => {
    const keys = parseCredentialKeys(`c1:${K1}`);
    const blob = sealCredentials(keys, 'acme', 'sandbox', CREDS);
    expect(blob.keyId).toBe('c1');
    expect(blob.sealed).toMatch(/^dsarcred\.v1\.c1\./);
    expect(blob.sealed).not.toContain(CREDS.apiKey);
    expect(Buffer.from(blob.sealed.split('.')[3]!, 'base64url').toString('latin1')).not.toContain(CREDS.secret);
    expect(unsealCredentials(keys, 'acme', 'sandbox', blob)).toEqual(CREDS);
  });

  it('does not open for another tenant, another environment, or after tampering', () => {
    const keys = parseCredentialKeys(`c1:${K1}`);
    const blob = sealCredentials(keys, 'acme', 'sandbox', CREDS);
    for (const msg of [
      problem(() => unsealCredentials(keys, 'globex', 'sandbox', blob)),
      problem(() => unsealCredentials(keys, 'acme', 'production', blob)),
      problem(() =>
        unsealCredentials(keys, 'acme', 'sandbox', { ...blob, sealed: blob.sealed.slice(0, -4) + (blob.sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA') }),
      ),
    ]) {
      expect(msg).toMatch(/do not open/);
      expect(msg).not.toContain(CREDS.apiKey);
      expect(msg).not.toContain(K1);
    }
  });

  it('rotates: a new current key seals, blobs of the old key id still open while it is listed', () => {
    const old = parseCredentialKeys(`c1:${K1}`);
    const blob = sealCredentials(old, 'acme', 'production', { apiKey: 'prod-key' });
    const rotated = parseCredentialKeys(`c2:${K2},c1:${K1}`);
    expect(sealCredentials(rotated, 'acme', 'production', { apiKey: 'prod-key' }).keyId).toBe('c2');
    expect(unsealCredentials(rotated, 'acme', 'production', blob)).toEqual({ apiKey: 'prod-key' });
    const msg = problem(() => unsealCredentials(parseCredentialKeys(`c2:${K2}`), 'acme', 'production', blob));
    expect(msg).toMatch(/sealed with key "c1", which is not in this worker's DSAR_CREDENTIALS_KEY/);
  });

  it('config: optional for the worker, required by the tenant commands, never a payload key', () => {
    const base = { DSAR_ENCRYPTION_KEYS: `k1:${K1}`, COMEET_BASE_URL: 'https://api.comeet.co', COMEET_API_KEY: 'k', COMEET_SECRET: 'integration-secret' };
    expect(loadWorkerConfig(base).credentials).toBeUndefined();
    expect(loadWorkerConfig({ ...base, DSAR_CREDENTIALS_KEY: `c1:${K2}` }).credentials?.currentKeyId).toBe('c1');
    const reused = problem(() => loadWorkerConfig({ ...base, DSAR_CREDENTIALS_KEY: `c1:${K1}` }));
    expect(reused).toMatch(/DSAR_CREDENTIALS_KEY key "c1" is also a payload key/);
    expect(reused).not.toContain(K1);
    expect(() => loadCredentialKeys({}, { required: true })).toThrow(ConfigError);
    const bad = problem(() => loadCredentialKeys({ DSAR_CREDENTIALS_KEY: 'c1:short' }, { required: true, payloadKeys: parseEncryptionKeys(`k1:${K1}`) }));
    expect(bad).toMatch(/^Invalid configuration:\n {2}- DSAR_CREDENTIALS_KEY key "c1" must be 32 bytes/);
    expect(() => parseCredentialKeys(`c1:${K1}`, 'nope')).toThrow(CredentialsError);
  });
});
