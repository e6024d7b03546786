/**
 * Comeet credentials sealed with AES-256-GCM under DSAR_CREDENTIALS_KEY before they enter Temporal.
 *
 * Not the payload key: the codec server and the Web UI hold that one, so anything only encrypted as
 * a payload is readable by every operator who can open a history. A sealed blob stays opaque there;
 * only the activities that call Comeet unseal it. The tenant id, the environment and the key id are
 * bound as additional data: a blob copied to another tenant or environment does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CodecKeyError, parseEncryptionKeys, type EncryptionKeys } from '../codec/aes-gcm.js';
import { isTenantId, type Environment, type SealedCredentials } from './model.js';

export type CredentialKeys = EncryptionKeys;

export interface ComeetCredentials {
  apiKey: string;
  /** The integration secret; a production key may come without one (the sandbox's secret is used). */
  secret?: string;
}

export class CredentialsError extends Error {
  override name = 'CredentialsError';
}

const PREFIX = 'dsarcred.v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function aad(tenantId: string, environment: Environment, keyId: string): Buffer {
  return Buffer.from(`${PREFIX}|${tenantId}|${environment}|${keyId}`, 'utf8');
}

/** Parses `id:base64key[,id:base64key]` (DSAR_CREDENTIALS_KEY); errors name ids, never keys. */
export function parseCredentialKeys(text: string, currentKeyId?: string): CredentialKeys {
  try {
    return parseEncryptionKeys(text, currentKeyId);
  } catch (err) {
    if (!(err instanceof CodecKeyError)) throw err;
    throw new CredentialsError(
      err.message.replaceAll('DSAR_ENCRYPTION_KEY_ID', 'DSAR_CREDENTIALS_KEY_ID').replaceAll('DSAR_ENCRYPTION_KEYS', 'DSAR_CREDENTIALS_KEY'),
    );
  }
}

export function sealCredentials(keys: CredentialKeys, tenantId: string, environment: Environment, credentials: ComeetCredentials): SealedCredentials {
  if (!isTenantId(tenantId)) throw new CredentialsError('sealCredentials: invalid tenant id');
  if (typeof credentials.apiKey !== 'string' || credentials.apiKey === '') throw new CredentialsError('the API key is empty');
  if (credentials.secret !== undefined && (typeof credentials.secret !== 'string' || credentials.secret === ''))
    throw new CredentialsError('the secret is empty');
  const keyId = keys.currentKeyId;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.keys.get(keyId)!, iv);
  cipher.setAAD(aad(tenantId, environment, keyId));
  const plain = Buffer.from(
    JSON.stringify({ apiKey: credentials.apiKey, ...(credentials.secret !== undefined ? { secret: credentials.secret } : {}) }),
    'utf8',
  );
  const body = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return { keyId, sealed: `${PREFIX}.${keyId}.${body.toString('base64url')}` };
}

/** Only workers call this (they alone hold DSAR_CREDENTIALS_KEY). */
export function unsealCredentials(keys: CredentialKeys, tenantId: string, environment: Environment, blob: SealedCredentials): ComeetCredentials {
  const parts = typeof blob?.sealed === 'string' ? blob.sealed.split('.') : [];
  if (parts.length !== 4 || `${parts[0]}.${parts[1]}` !== PREFIX) throw new CredentialsError('the sealed credentials are not in the dsarcred.v1 format');
  const keyId = parts[2]!;
  const key = keys.keys.get(keyId);
  if (!key) throw new CredentialsError(`the credentials were sealed with key "${keyId}", which is not in this worker's DSAR_CREDENTIALS_KEY`);
  const data = Buffer.from(parts[3]!, 'base64url');
  if (data.length < IV_BYTES + TAG_BYTES) throw new CredentialsError('the sealed credentials are too short');
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
  decipher.setAAD(aad(tenantId, environment, keyId));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]).toString('utf8'));
  } catch {
    throw new CredentialsError(
      `the sealed ${environment} credentials do not open for tenant ${tenantId} with key "${keyId}" (sealed for another tenant or environment, altered, or the key changed under the same id)`,
    );
  }
  const c = parsed as Partial<ComeetCredentials>;
  if (typeof c.apiKey !== 'string' || (c.secret !== undefined && typeof c.secret !== 'string'))
    throw new CredentialsError('the sealed credentials hold no API key');
  return { apiKey: c.apiKey, ...(c.secret !== undefined ? { secret: c.secret } : {}) };
}

/**
 * The key and secret to call one environment of a tenant with: the secret from the same blob, else
 * from the sandbox credentials (a production key often comes without its own).
 */
export function openCredentials(
  keys: CredentialKeys,
  tenantId: string,
  environment: Environment,
  sealed: SealedCredentials,
  secretFrom?: SealedCredentials,
): Required<ComeetCredentials> {
  const own = unsealCredentials(keys, tenantId, environment, sealed);
  const secret = own.secret ?? (secretFrom ? unsealCredentials(keys, tenantId, 'sandbox', secretFrom).secret : undefined);
  if (!secret) throw new CredentialsError(`no integration secret for the ${environment} account: set it with the sandbox credentials or with this key`);
  return { apiKey: own.apiKey, secret };
}
