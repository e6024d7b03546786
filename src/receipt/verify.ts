/**
 * Verifying a receipt: compact JWS, `typ`, allowed algorithm, key by `kid`, signature, then the
 * contents. Every failure is a {@link ReceiptVerificationError} whose message says what it means.
 */
import type { KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, errors } from 'jose';
import { aKey, describeKind, isRecord, KIND_FOR_ALG, keyKind, label, parseJsonQuietly, parsePublicKeyText, publicKeyFromJwk, ReceiptKeyError } from './keys.js';
import { describeReceiptIssues, RECEIPT_ALGS, RECEIPT_TYPE, receiptSchema, type Receipt, type ReceiptAlg } from './schema.js';

export type ReceiptVerificationCode = 'malformed' | 'wrong_type' | 'unknown_key' | 'bad_signature' | 'invalid_contents' | 'alg_not_allowed';

export class ReceiptVerificationError extends Error {
  override name = 'ReceiptVerificationError';
  readonly code: ReceiptVerificationCode;
  constructor(code: ReceiptVerificationCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface VerifiedReceipt {
  receipt: Receipt;
  header: { alg: string; kid: string; typ: string };
}

function fail(code: ReceiptVerificationCode, message: string): never {
  throw new ReceiptVerificationError(code, message);
}

const HEADER_FIELDS = new Set(['alg', 'kid', 'typ']);
const BAD_SIGNATURE = 'signature does not match: the receipt was altered after signing, or signed by another key';

/** RFC 7515 §4.1.9: `typ` compares case-insensitively, and `application/` may be left out. */
function sameType(typ: string): boolean {
  return typ.toLowerCase().replace(/^application\//, '') === RECEIPT_TYPE;
}

function readHeader(token: string): { alg: ReceiptAlg; kid: string; typ: string } {
  const parts = token.split('.');
  if (parts.length === 5) fail('malformed', 'not a receipt: this is an encrypted token (JWE, five parts), a receipt is a signed JWS of three parts');
  if (parts.length !== 3) {
    fail(
      'malformed',
      `not a receipt: a receipt is a compact JWS of three base64url parts separated by dots (header.payload.signature), this has ${parts.length}`,
    );
  }
  if (!parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p))) {
    fail('malformed', 'not a receipt: it contains characters other than base64url letters and dots (was it cut, wrapped or copied with extra characters?)');
  }
  if (!parts[0] || !parts[1]) fail('malformed', 'not a receipt: its header or payload part is empty');
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch {
    return fail('malformed', 'not a receipt: its header is not base64url-encoded JSON');
  }
  if (!isRecord(header)) fail('malformed', 'not a receipt: its header is not a JSON object');
  const { alg, kid, typ } = header;
  if (typeof typ !== 'string' || !sameType(typ)) {
    fail('wrong_type', `not a comeet-dsar receipt: its header says typ ${typeof typ === 'string' ? label(typ) : '(none)'}, a receipt says "${RECEIPT_TYPE}"`);
  }
  if (typeof alg !== 'string') return fail('malformed', 'not a receipt: its header has no algorithm (alg)');
  if (!(RECEIPT_ALGS as readonly string[]).includes(alg)) {
    if (alg.toLowerCase() === 'none') fail('alg_not_allowed', 'the receipt is not signed (alg "none"): an unsigned receipt proves nothing');
    if (/^HS\d+$/i.test(alg)) {
      fail(
        'alg_not_allowed',
        `the receipt is signed with a shared secret (${label(alg)}): receipts must be signed with a private key (EdDSA or ES256) so that anyone can check them with the public key and no one else can forge them`,
      );
    }
    fail('alg_not_allowed', `the receipt is signed with ${label(alg)}: only EdDSA and ES256 receipts are accepted`);
  }
  const extra = Object.keys(header).filter((k) => !HEADER_FIELDS.has(k));
  if (extra.length > 0) fail('malformed', `not a receipt: its header has field(s) a receipt never has (${extra.slice(0, 5).map(label).join(', ')})`);
  if (typeof kid !== 'string' || kid === '') fail('malformed', 'not a receipt: its header names no key (kid), and every receipt names the key that signed it');
  return { alg: alg as ReceiptAlg, kid, typ };
}

interface Candidate {
  key: KeyObject;
  kid?: unknown;
  alg?: unknown;
}

/** The key to check the signature with; throws unknown_key, or ReceiptKeyError for a bad key argument. */
function resolveKey(key: { publicKey: string } | { jwks: string }, kid: string): Candidate {
  if (!isRecord(key)) throw new ReceiptKeyError('key', 'verifyReceipt needs { publicKey } (PEM or JWK) or { jwks } (JSON key set)');
  if ('jwks' in key && typeof key.jwks === 'string') return fromJwks(parseJsonQuietly(key.jwks.trim()), kid, 'jwks');
  if ('publicKey' in key && typeof key.publicKey === 'string') {
    const asJson = parseJsonQuietly(key.publicKey.trim());
    // A key set passed as `publicKey` is read as one, rather than refused.
    if (isRecord(asJson) && Array.isArray(asJson.keys)) return fromJwks(asJson, kid, 'publicKey');
    const single = parsePublicKeyText(key.publicKey, 'publicKey');
    if (typeof single.kid === 'string' && single.kid !== kid) {
      fail(
        'unknown_key',
        `the receipt was signed with key ${label(kid)} but the key given is ${label(single.kid)}: ask for the public key with that id, or the receipt's header was altered`,
      );
    }
    return single;
  }
  throw new ReceiptKeyError('key', 'verifyReceipt needs { publicKey } (PEM or JWK) or { jwks } (JSON key set) as a string');
}

function fromJwks(jwks: unknown, kid: string, variable: string): Candidate {
  if (!isRecord(jwks) || !Array.isArray(jwks.keys)) throw new ReceiptKeyError(variable, `${variable} must be a JSON key set: {"keys": [ ...public JWKs... ]}`);
  const entries = jwks.keys.filter(isRecord);
  const known = entries.map((k) => label(k.kid));
  const matches = entries.filter((k) => k.kid === kid);
  if (matches.length === 0) {
    fail(
      'unknown_key',
      `the receipt was signed with key ${label(kid)}, which is not in the key set given (it holds ${known.length ? known.join(', ') : 'no keys'}): ask for the key set that includes it, or the receipt's header was altered`,
    );
  }
  if (matches.length > 1) throw new ReceiptKeyError(variable, `${variable} holds ${matches.length} keys with kid ${label(kid)}; each key needs its own id`);
  return publicKeyFromJwk(matches[0]!, variable);
}

export async function verifyReceipt(jws: string, key: { publicKey: string } | { jwks: string }): Promise<VerifiedReceipt> {
  if (typeof jws !== 'string' || jws.trim() === '') fail('malformed', 'not a receipt: it is empty');
  const token = jws.trim();
  const header = readHeader(token);
  const candidate = resolveKey(key, header.kid);

  const kind = keyKind(candidate.key);
  if (kind !== KIND_FOR_ALG[header.alg]) {
    fail(
      'bad_signature',
      `${BAD_SIGNATURE} (the receipt says ${header.alg}, which needs ${aKey(KIND_FOR_ALG[header.alg])}, but key ${label(header.kid)} is ${describeKind(kind)})`,
    );
  }
  if (candidate.alg !== undefined && candidate.alg !== header.alg && !(header.alg === 'EdDSA' && candidate.alg === 'Ed25519')) {
    fail('bad_signature', `${BAD_SIGNATURE} (the receipt says ${header.alg}, but key ${label(header.kid)} is for ${label(candidate.alg)})`);
  }
  if (token.endsWith('.')) fail('bad_signature', 'the receipt has no signature: it proves nothing');

  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, candidate.key, { algorithms: [header.alg] }));
  } catch (e) {
    if (e instanceof errors.JOSEAlgNotAllowed) return fail('alg_not_allowed', `the receipt's algorithm ${label(header.alg)} is not allowed`);
    if (e instanceof errors.JWSInvalid && !/signature/i.test(e.message)) return fail('malformed', 'not a receipt: it is not a valid compact JWS');
    return fail('bad_signature', BAD_SIGNATURE);
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    return fail('invalid_contents', 'the signature is valid but the contents are not UTF-8 text, so not a receipt');
  }
  const json = parseJsonQuietly(text);
  if (json === undefined) fail('invalid_contents', 'the signature is valid but the contents are not JSON, so not a receipt');
  const parsed = receiptSchema.safeParse(json);
  if (!parsed.success) fail('invalid_contents', `the signature is valid but the contents are not a valid receipt: ${describeReceiptIssues(parsed.error)}`);
  const receipt: Receipt = parsed.data;
  if (receipt.keyId !== header.kid) {
    fail('invalid_contents', `the signature is valid but the receipt names key ${label(receipt.keyId)} in its contents and ${label(header.kid)} in its header`);
  }
  return { receipt, header: { alg: header.alg, kid: header.kid, typ: header.typ } };
}
