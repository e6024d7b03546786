/**
 * Reading signing and verification keys from text (JWK JSON or PEM) with messages that say what to
 * fix. Messages name the variable or argument and the kind of key, never any key material.
 */
import { createPrivateKey, createPublicKey, KeyObject, type JsonWebKey } from 'node:crypto';
import type { ReceiptAlg } from './schema.js';

/** A key given to the receipt module is unusable (configuration, not a receipt problem). */
export class ReceiptKeyError extends Error {
  override name = 'ReceiptKeyError';
  /** The environment variable or argument at fault, e.g. `DSAR_RECEIPT_KEY`. */
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(message);
    this.variable = variable;
  }
}

export type KeyKind = 'Ed25519' | 'P-256';
export const ALG_FOR_KIND: Record<KeyKind, ReceiptAlg> = { Ed25519: 'EdDSA', 'P-256': 'ES256' };
export const KIND_FOR_ALG: Record<ReceiptAlg, KeyKind> = { EdDSA: 'Ed25519', ES256: 'P-256' };

/** Shows a short, harmless label (a kty, crv, kid or alg) and nothing else. */
export function label(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  return /^[\w.:+/=-]{1,64}$/.test(value) ? `"${value}"` : '(an unreadable value)';
}

/** Key kind of a Node KeyObject, or a description of what it is instead. */
export function keyKind(key: KeyObject): KeyKind | { other: string } {
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'P-256';
    return { other: `an EC key on curve ${curve ?? 'unknown'}` };
  }
  return { other: key.type === 'secret' ? 'a secret (symmetric) key' : `a ${key.asymmetricKeyType ?? 'unknown'} key` };
}

export function describeKind(k: KeyKind | { other: string }): string {
  return typeof k === 'string' ? aKey(k) : k.other;
}

/** `an Ed25519 key`, `a P-256 key`. */
export function aKey(k: KeyKind, what = 'key'): string {
  return `${k === 'Ed25519' ? 'an' : 'a'} ${k} ${what}`;
}

/**
 * Environment values often arrive with the PEM's line breaks escaped (`\n`) or wrapped in the quotes
 * of an env file. Undo both.
 */
export function unescapeKeyText(text: string): string {
  let t = text.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) t = t.slice(1, -1).trim();
  return t.replace(/\\r\\n|\\n|\\r/g, '\n').replace(/\r\n?/g, '\n');
}

export function pemLabel(text: string): string | undefined {
  return /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
}

/** Parses JSON without ever echoing the text (V8's messages may quote it). */
export function parseJsonQuietly(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const RECEIPT_KEYS_HINT = 'receipts are signed with an Ed25519 key (EdDSA) or a P-256 key (ES256)';

/** Checks a JWK's kty/crv before handing it to Node, for a precise message. */
function checkJwkType(jwk: Record<string, unknown>, variable: string): void {
  const ok = (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') || (jwk.kty === 'EC' && jwk.crv === 'P-256');
  if (!ok) {
    throw new ReceiptKeyError(variable, `${variable} is a JWK with kty ${label(jwk.kty)} and crv ${label(jwk.crv)}; ${RECEIPT_KEYS_HINT}`);
  }
}

export interface ParsedPrivateKey {
  key: KeyObject;
  kind: KeyKind;
  /** `kid` and `alg` written inside a JWK, if any. */
  jwkKid?: unknown;
  jwkAlg?: unknown;
}

/** A private key from a JWK (JSON) or a PEM, as found in an environment variable. */
export function parsePrivateKeyText(raw: string, variable: string): ParsedPrivateKey {
  const text = unescapeKeyText(raw);
  const fix = `give the private key as a JWK (JSON with "d") or a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"; \\n escapes are fine)`;
  if (text.startsWith('{')) {
    const jwk = parseJsonQuietly(text);
    if (!isRecord(jwk)) throw new ReceiptKeyError(variable, `${variable} starts with "{" but is not valid JSON; ${fix}`);
    if (Array.isArray(jwk.keys)) throw new ReceiptKeyError(variable, `${variable} is a key set (JWKS); ${fix}, one key only`);
    checkJwkType(jwk, variable);
    if (jwk.d === undefined) {
      throw new ReceiptKeyError(
        variable,
        `${variable} is a public key (a JWK without "d"); it must be the private key: ${fix}. Publish the public key to auditors, keep the private one in ${variable}`,
      );
    }
    if (jwk.use !== undefined && jwk.use !== 'sig')
      throw new ReceiptKeyError(variable, `${variable} is a JWK with "use" ${label(jwk.use)}; a signing key has "use": "sig" or no "use"`);
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch {
      throw new ReceiptKeyError(
        variable,
        `${variable} is not a valid ${String(jwk.crv)} private JWK (check that "x"${jwk.kty === 'EC' ? ', "y"' : ''} and "d" are the base64url values generated together); ${fix}`,
      );
    }
    // Node ignores the public part of a private JWK; a mismatch would make every receipt fail
    // verification against the published key.
    const pub = createPublicKey(key).export({ format: 'jwk' });
    if ((jwk.x !== undefined && jwk.x !== pub.x) || (jwk.y !== undefined && jwk.y !== pub.y)) {
      throw new ReceiptKeyError(
        variable,
        `${variable}: the public part ("x"/"y") of the JWK does not belong to its private part ("d"); use the JWK exactly as generated`,
      );
    }
    const kind = keyKind(key);
    if (typeof kind !== 'string') throw new ReceiptKeyError(variable, `${variable} is ${describeKind(kind)}; ${RECEIPT_KEYS_HINT}`);
    return { key, kind, jwkKid: jwk.kid, jwkAlg: jwk.alg };
  }
  const pem = pemLabel(text);
  if (pem === undefined) throw new ReceiptKeyError(variable, `${variable} is neither JSON nor PEM; ${fix}`);
  if (pem === 'PUBLIC KEY' || pem === 'CERTIFICATE') {
    throw new ReceiptKeyError(
      variable,
      `${variable} is a ${pem === 'PUBLIC KEY' ? 'public key' : 'certificate'} (PEM "${pem}"); it must be the private key: ${fix}`,
    );
  }
  if (pem === 'ENCRYPTED PRIVATE KEY') {
    throw new ReceiptKeyError(
      variable,
      `${variable} is an encrypted PEM; give it unencrypted (openssl pkcs8 -topk8 -nocrypt) and protect it as a secret instead`,
    );
  }
  if (!pem.endsWith('PRIVATE KEY')) throw new ReceiptKeyError(variable, `${variable} is a PEM "${label(pem)}" block, not a private key; ${fix}`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch {
    throw new ReceiptKeyError(
      variable,
      `${variable} looks like a PEM private key but cannot be read: check that the whole block is there, BEGIN and END lines included, with its line breaks (or \\n escapes)`,
    );
  }
  const kind = keyKind(key);
  if (typeof kind !== 'string') throw new ReceiptKeyError(variable, `${variable} is ${describeKind(kind)}; ${RECEIPT_KEYS_HINT}`);
  return { key, kind };
}

/** A public key from a PEM SPKI or a public JWK, for verification. `kid` is the JWK's, if any. */
export function parsePublicKeyText(raw: string, variable: string): { key: KeyObject; kid?: unknown; alg?: unknown } {
  const text = unescapeKeyText(raw);
  const fix = 'give a PEM public key ("-----BEGIN PUBLIC KEY-----") or a public JWK (JSON)';
  if (text.startsWith('{')) {
    const jwk = parseJsonQuietly(text);
    if (!isRecord(jwk)) throw new ReceiptKeyError(variable, `${variable} starts with "{" but is not valid JSON; ${fix}`);
    return publicKeyFromJwk(jwk, variable);
  }
  const pem = pemLabel(text);
  if (pem === undefined) throw new ReceiptKeyError(variable, `${variable} is neither JSON nor PEM; ${fix}`);
  if (pem.endsWith('PRIVATE KEY')) {
    throw new ReceiptKeyError(
      variable,
      `${variable} is a private key; verification needs only the public key, and private keys must not be handed out: ${fix}`,
    );
  }
  if (pem !== 'PUBLIC KEY') throw new ReceiptKeyError(variable, `${variable} is a PEM "${label(pem)}" block; ${fix}`);
  try {
    return { key: createPublicKey({ key: text, format: 'pem' }) };
  } catch {
    throw new ReceiptKeyError(
      variable,
      `${variable} looks like a PEM public key but cannot be read: check that the whole block is there, BEGIN and END lines included, with its line breaks`,
    );
  }
}

export function publicKeyFromJwk(jwk: Record<string, unknown>, variable: string): { key: KeyObject; kid?: unknown; alg?: unknown } {
  if (jwk.d !== undefined) {
    throw new ReceiptKeyError(
      variable,
      `${variable} holds a private key (a JWK with "d", kid ${label(jwk.kid)}); verification needs only public keys, and private keys must not be handed out`,
    );
  }
  checkJwkType(jwk, variable);
  try {
    return { key: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }), kid: jwk.kid, alg: jwk.alg };
  } catch {
    throw new ReceiptKeyError(variable, `${variable} holds a JWK (kid ${label(jwk.kid)}) that is not a valid ${String(jwk.crv)} public key`);
  }
}

/** Node KeyObject for a jose/WebCrypto CryptoKey or a KeyObject. */
export function toKeyObject(key: unknown): KeyObject | undefined {
  if (key instanceof KeyObject) return key;
  try {
    return KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
  } catch {
    return undefined;
  }
}
