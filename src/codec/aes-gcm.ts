/**
 * AES-256-GCM payload codec: every payload (inputs, results, signal and query arguments, failure
 * messages) leaves the process encrypted, tagged with the id of the key that encrypted it, so keys
 * can rotate while old histories still decode.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
// CommonJS package: Node's ESM loader only sees its default export.
import proto from '@temporalio/proto';
import { UNENCRYPTED_MARKER } from './unencrypted.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const PayloadProto = proto.temporal.api.common.v1.Payload;

export class CodecKeyError extends Error {
  override name = 'CodecKeyError';
}

export interface EncryptionKeys {
  /** Key id → 32-byte key. */
  keys: ReadonlyMap<string, Uint8Array>;
  /** The id of the key new payloads are encrypted with. */
  currentKeyId: string;
}

export interface AesGcmCodecOptions {
  /**
   * What decode does with a payload that is not encrypted: `pass` it through (clients and the codec
   * server, so old or foreign data still shows), or `mark` it: replace it with the
   * `{"$dsarUnencrypted":true}` marker, dropping its data, so the worker's workflows and activities
   * never see the plaintext and refuse it (see unencrypted.ts).
   */
  unencrypted?: 'pass' | 'mark';
}

const MARKER_PAYLOAD: Payload = { metadata: { encoding: utf8.encode('json/plain') }, data: utf8.encode(JSON.stringify({ [UNENCRYPTED_MARKER]: true })) };

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Uint8Array>;
  private readonly currentKeyId: string;
  private readonly markUnencrypted: boolean;

  constructor({ keys, currentKeyId }: EncryptionKeys, options: AesGcmCodecOptions = {}) {
    for (const [id, key] of keys) {
      if (key.length !== 32) throw new CodecKeyError(`encryption key "${id}" must be 32 bytes (AES-256), got ${key.length}`);
    }
    if (!keys.has(currentKeyId)) throw new CodecKeyError(`the current encryption key id "${currentKeyId}" is not among the configured keys`);
    this.keys = keys;
    this.currentKeyId = currentKeyId;
    this.markUnencrypted = options.unencrypted === 'mark';
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.currentKeyId)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, key, iv);
      // The key id is authenticated too: a payload relabelled with another key id fails to decrypt.
      cipher.setAAD(utf8.encode(this.currentKeyId));
      const body = Buffer.concat([cipher.update(PayloadProto.encode(payload).finish()), cipher.final()]);
      return {
        metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(this.currentKeyId) },
        data: Buffer.concat([iv, body, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) {
        return this.markUnencrypted ? { metadata: { ...MARKER_PAYLOAD.metadata }, data: MARKER_PAYLOAD.data } : payload;
      }
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      if (!idBytes) throw new CodecKeyError('an encrypted payload carries no key id');
      const keyId = fromUtf8.decode(idBytes);
      const key = this.keys.get(keyId);
      if (!key) throw new CodecKeyError(`payload was encrypted with key "${keyId}", which is not configured (DSAR_ENCRYPTION_KEYS)`);
      const data = payload.data ?? new Uint8Array();
      if (data.length < IV_BYTES + TAG_BYTES) throw new CodecKeyError('an encrypted payload is too short');
      const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES));
      decipher.setAAD(utf8.encode(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new CodecKeyError(`payload does not decrypt with key "${keyId}" (altered, or the key changed under the same id)`);
      }
      return PayloadProto.decode(plain) as Payload;
    });
  }
}

/**
 * Parses `DSAR_ENCRYPTION_KEYS` (`id:base64key,id2:base64key`; 32-byte keys, e.g. `openssl rand
 * -base64 32`) and `DSAR_ENCRYPTION_KEY_ID` (the key to encrypt with; default the first listed).
 * Error messages name ids, never key material.
 */
export function parseEncryptionKeys(keysText: string, currentKeyId?: string): EncryptionKeys {
  const keys = new Map<string, Uint8Array>();
  const entries = keysText
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (!entries.length) throw new CodecKeyError('lists no keys; expected id:base64key[,id:base64key]');
  for (const [i, entry] of entries.entries()) {
    const sep = entry.indexOf(':');
    const id = sep > 0 ? entry.slice(0, sep) : '';
    if (!/^[\w.-]{1,64}$/.test(id)) throw new CodecKeyError(`entry ${i + 1} is not id:base64key (id: letters, digits, . _ -)`);
    const b64 = entry.slice(sep + 1);
    const key = /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) throw new CodecKeyError(`key "${id}" must be 32 bytes in base64 (openssl rand -base64 32)`);
    if (keys.has(id)) throw new CodecKeyError(`key id "${id}" is listed twice`);
    keys.set(id, key);
  }
  const current = currentKeyId ?? entries[0]!.slice(0, entries[0]!.indexOf(':'));
  if (!keys.has(current)) throw new CodecKeyError(`DSAR_ENCRYPTION_KEY_ID "${current}" is not one of the ids in DSAR_ENCRYPTION_KEYS`);
  return { keys, currentKeyId: current };
}
