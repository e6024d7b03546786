/**
 * Signing receipts: a signer over a private key, one loaded from the environment, and key generation
 * for set-up.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { aKey, ALG_FOR_KIND, describeKind, KIND_FOR_ALG, keyKind, label, parsePrivateKeyText, ReceiptKeyError, toKeyObject } from './keys.js';
import {
  DEFAULT_ISSUER,
  describeReceiptIssues,
  keyIdSchema,
  RECEIPT_ALGS,
  RECEIPT_TYPE,
  RECEIPT_VERSION,
  receiptClaimsSchema,
  receiptSchema,
  type Receipt,
  type ReceiptAlg,
  type ReceiptClaims,
} from './schema.js';

export interface ReceiptSigner {
  readonly keyId: string;
  readonly alg: ReceiptAlg;
  readonly issuer: string;
  /** Signs the claims as a compact JWS whose payload is the {@link Receipt}. */
  sign(claims: ReceiptClaims): Promise<string>;
  /** Public JWKS to hand to auditors. */
  publicJwks(): Promise<{ keys: JsonWebKey[] }>;
}

export interface ReceiptSignerOptions {
  /** A private key: a jose/WebCrypto CryptoKey (extractable or not) or a Node KeyObject. */
  privateKey: CryptoKey | KeyObject;
  keyId: string;
  alg: ReceiptAlg;
  /** Default `comeet-dsar`. */
  issuer?: string;
  now?: () => Date;
}

/** The claims cannot be signed: they break the receipt rules (or carry an outcome with no receipt). */
export class InvalidReceiptClaimsError extends Error {
  override name = 'InvalidReceiptClaimsError';
}

const issuerSchema = receiptSchema.shape.issuer;

export function createReceiptSigner(opts: ReceiptSignerOptions): ReceiptSigner {
  const { alg, keyId } = opts;
  const issuer = opts.issuer ?? DEFAULT_ISSUER;
  const now = opts.now ?? (() => new Date());
  if (!(RECEIPT_ALGS as readonly string[]).includes(alg)) throw new TypeError(`alg must be EdDSA or ES256, not ${label(alg)}`);
  if (!keyIdSchema.safeParse(keyId).success) throw new TypeError(`keyId ${keyIdSchema.safeParse(keyId).error?.issues[0]?.message ?? 'is invalid'}`);
  if (!issuerSchema.safeParse(issuer).success) throw new TypeError(`issuer ${issuerSchema.safeParse(issuer).error?.issues[0]?.message ?? 'is invalid'}`);
  const key = toKeyObject(opts.privateKey);
  if (!key || key.type !== 'private') throw new TypeError('privateKey must be a private key (a CryptoKey or KeyObject of type "private")');
  const kind = keyKind(key);
  if (kind !== KIND_FOR_ALG[alg]) throw new TypeError(`alg ${alg} needs ${aKey(KIND_FOR_ALG[alg], 'private key')}, but privateKey is ${describeKind(kind)}`);
  const publicJwk: JsonWebKey = { ...createPublicKey(key).export({ format: 'jwk' }), kid: keyId, alg, use: 'sig' };

  return {
    keyId,
    alg,
    issuer,
    async sign(claims) {
      const parsed = receiptClaimsSchema.safeParse(claims);
      if (!parsed.success) throw new InvalidReceiptClaimsError(`cannot sign the receipt: ${describeReceiptIssues(parsed.error)}`);
      const c = parsed.data;
      // Fields listed one by one: whatever else the caller's object carries never reaches the payload.
      const receipt: Receipt = {
        version: RECEIPT_VERSION,
        issuer,
        keyId,
        issuedAt: now().toISOString(),
        ...(c.requestId !== undefined ? { requestId: c.requestId } : {}),
        workflowId: c.workflowId,
        runId: c.runId,
        subjectHash: c.subjectHash,
        outcome: c.outcome,
        mode: c.mode,
        regulation: c.regulation,
        ...(c.dryRun !== undefined ? { dryRun: c.dryRun } : {}),
        receivedAt: c.receivedAt,
        deadline: c.deadline,
        startedAt: c.startedAt,
        finishedAt: c.finishedAt,
        verifiedAbsentAt: c.verifiedAbsentAt,
        persons: c.persons.map((p) => ({
          personUid: p.personUid,
          candidateUids: [...p.candidateUids],
          count: p.count,
          erasedAt: p.erasedAt,
          alreadyGone: p.alreadyGone,
        })),
        totals: { persons: c.totals.persons, candidates: c.totals.candidates },
        lookups: c.lookups,
      };
      const check = receiptSchema.safeParse(receipt);
      if (!check.success) throw new InvalidReceiptClaimsError(`cannot sign the receipt: ${describeReceiptIssues(check.error)}`);
      return new CompactSign(new TextEncoder().encode(JSON.stringify(receipt))).setProtectedHeader({ alg, kid: keyId, typ: RECEIPT_TYPE }).sign(key);
    },
    async publicJwks() {
      return { keys: [{ ...publicJwk }] };
    },
  };
}

export const RECEIPT_ENV = {
  key: 'DSAR_RECEIPT_KEY',
  keyId: 'DSAR_RECEIPT_KEY_ID',
  alg: 'DSAR_RECEIPT_ALG',
} as const;

const set = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v);

/**
 * A signer from `DSAR_RECEIPT_KEY` (private JWK JSON or PKCS#8 PEM, `\n` escapes allowed),
 * `DSAR_RECEIPT_KEY_ID` and `DSAR_RECEIPT_ALG` (EdDSA by default, or ES256). `undefined` when
 * `DSAR_RECEIPT_KEY` is unset or empty. Throws {@link ReceiptKeyError} naming the variable to fix.
 */
export async function loadReceiptSigner(env: Record<string, string | undefined>): Promise<ReceiptSigner | undefined> {
  const rawKey = set(env[RECEIPT_ENV.key]);
  if (rawKey === undefined) return undefined;

  const rawAlg = set(env[RECEIPT_ENV.alg])?.trim();
  if (rawAlg !== undefined && !(RECEIPT_ALGS as readonly string[]).includes(rawAlg)) {
    throw new ReceiptKeyError(RECEIPT_ENV.alg, `${RECEIPT_ENV.alg} must be EdDSA (an Ed25519 key) or ES256 (a P-256 key), not ${label(rawAlg)}`);
  }
  const alg = (rawAlg ?? 'EdDSA') as ReceiptAlg;

  const keyId = set(env[RECEIPT_ENV.keyId])?.trim();
  if (keyId === undefined) {
    throw new ReceiptKeyError(
      RECEIPT_ENV.keyId,
      `${RECEIPT_ENV.keyId} is required with ${RECEIPT_ENV.key}: the key id (kid) auditors use to pick the public key, e.g. dsar-receipt-2026-01`,
    );
  }
  const kidCheck = keyIdSchema.safeParse(keyId);
  if (!kidCheck.success) throw new ReceiptKeyError(RECEIPT_ENV.keyId, `${RECEIPT_ENV.keyId} ${kidCheck.error.issues[0]?.message ?? 'is invalid'}`);

  const parsed = parsePrivateKeyText(rawKey, RECEIPT_ENV.key);
  if (parsed.kind !== KIND_FOR_ALG[alg]) {
    const suggested = ALG_FOR_KIND[parsed.kind];
    throw new ReceiptKeyError(
      RECEIPT_ENV.alg,
      `${RECEIPT_ENV.alg} is ${alg}${rawAlg === undefined ? ' (the default)' : ''} but ${RECEIPT_ENV.key} is ${aKey(parsed.kind)}: set ${RECEIPT_ENV.alg}=${suggested}, or give ${aKey(KIND_FOR_ALG[alg])}`,
    );
  }
  if (parsed.jwkAlg !== undefined && parsed.jwkAlg !== alg && !(alg === 'EdDSA' && parsed.jwkAlg === 'Ed25519')) {
    throw new ReceiptKeyError(
      RECEIPT_ENV.alg,
      `${RECEIPT_ENV.alg} is ${alg} but the JWK in ${RECEIPT_ENV.key} says "alg": ${label(parsed.jwkAlg)}; make them agree`,
    );
  }
  if (parsed.jwkKid !== undefined && parsed.jwkKid !== keyId) {
    throw new ReceiptKeyError(
      RECEIPT_ENV.keyId,
      `${RECEIPT_ENV.keyId} is "${keyId}" but the JWK in ${RECEIPT_ENV.key} has "kid": ${label(parsed.jwkKid)}; make them agree, or auditors will not find the key`,
    );
  }
  return createReceiptSigner({ privateKey: parsed.key, keyId, alg });
}

/**
 * A new key pair for set-up: `privateJwk` goes into `DSAR_RECEIPT_KEY` (a secret), `keyId` into
 * `DSAR_RECEIPT_KEY_ID`, `publicJwks` to the auditors. The default key id is the date and the start
 * of the key's RFC 7638 thumbprint, e.g. `receipt-20260501-3kP0xQ1a`.
 */
export async function generateReceiptKeys(
  alg: ReceiptAlg = 'EdDSA',
  keyId?: string,
): Promise<{ privateJwk: string; publicJwks: { keys: JsonWebKey[] }; keyId: string }> {
  if (!(RECEIPT_ALGS as readonly string[]).includes(alg)) throw new TypeError(`alg must be EdDSA or ES256, not ${label(alg)}`);
  if (keyId !== undefined && !keyIdSchema.safeParse(keyId).success) {
    throw new TypeError(`keyId ${keyIdSchema.safeParse(keyId).error?.issues[0]?.message ?? 'is invalid'}`);
  }
  const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const priv = await exportJWK(pair.privateKey);
  const pub = await exportJWK(pair.publicKey);
  const kid = keyId ?? `receipt-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${(await calculateJwkThumbprint(pub)).slice(0, 8)}`;
  const meta = { kid, alg, use: 'sig' };
  return {
    privateJwk: JSON.stringify({ ...priv, ...meta }),
    publicJwks: { keys: [{ ...(pub as JsonWebKey), ...meta }] },
    keyId: kid,
  };
}
