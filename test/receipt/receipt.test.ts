/**
 * Proof-of-erasure receipts: sign → verify, key rotation, every kind of tampering and forgery, the
 * contents rules, "never an email", and key loading from the environment without leaking the key.
 */
import { createHmac, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CompactSign, exportJWK, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { describe, expect, it } from 'vitest';
import type { ErasureResult } from '../../src/erasure-status.js';
import {
  createReceiptSigner,
  generateReceiptKeys,
  InvalidReceiptClaimsError,
  loadReceiptSigner,
  RECEIPT_TYPE,
  ReceiptKeyError,
  receiptSchema,
  ReceiptVerificationError,
  verifyReceipt,
  type Receipt,
  type ReceiptAlg,
  type ReceiptClaims,
  type ReceiptSigner,
} from '../../src/receipt/index.js';

// --- fixtures ------------------------------------------------------------------------------------

const ID_KEY = '0123456789abcdef0123456789abcdef';
const subjectHashOf = (email: string) => createHmac('sha256', ID_KEY).update(email.trim().toLowerCase()).digest('hex').slice(0, 32);
const SUBJECT_HASH = subjectHashOf('ada.lovelace@example.com');
const NOW = new Date('2026-10-16T11:00:00.000Z');

const CLAIMS: ReceiptClaims = {
  requestId: 'T-42',
  workflowId: `dsar-${SUBJECT_HASH}`,
  runId: '0196f3c2-7a5e-7b7c-9d2a-3f1e2d4c5b6a',
  subjectHash: SUBJECT_HASH,
  outcome: 'completed',
  mode: 'delete',
  regulation: 'gdpr',
  receivedAt: '2026-10-16T10:00:00.000Z',
  deadline: '2026-11-16T10:00:00.000Z',
  startedAt: '2026-10-16T10:00:01.000Z',
  finishedAt: '2026-10-16T10:56:23.000Z',
  verifiedAbsentAt: '2026-10-16T10:56:22.000Z',
  persons: [
    { personUid: '30.ADAL', candidateUids: ['12.AB1', '12.AB2'], count: 2, erasedAt: '2026-10-16T10:55:00.000Z', alreadyGone: false },
    { personUid: '30.ADA2', candidateUids: ['12.AB3'], count: 1, erasedAt: '2026-10-16T10:55:01.000Z', alreadyGone: true },
  ],
  totals: { persons: 2, candidates: 3 },
  lookups: 2,
};

const NO_DATA: ReceiptClaims = {
  ...CLAIMS,
  requestId: undefined,
  outcome: 'no_data',
  persons: [],
  totals: { persons: 0, candidates: 0 },
  lookups: 1,
};

interface TestKey {
  alg: ReceiptAlg;
  kid: string;
  privateKey: CryptoKey;
  signer: ReceiptSigner;
  jwks: string;
  /** The public JWK alone, as JSON. */
  publicJwk: string;
  publicPem: string;
}

async function makeKey(alg: ReceiptAlg, kid: string): Promise<TestKey> {
  // Not extractable, as a key held in a KMS-like setting would be: the signer must still work.
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
  const signer = createReceiptSigner({ privateKey, keyId: kid, alg, now: () => NOW });
  const jwks = await signer.publicJwks();
  return {
    alg,
    kid,
    privateKey,
    signer,
    jwks: JSON.stringify(jwks),
    publicJwk: JSON.stringify(jwks.keys[0]),
    publicPem: await exportSPKI(publicKey),
  };
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url').toString('utf8');
const parts = (jws: string) => {
  const [h, p, s] = jws.split('.');
  return { h: h!, p: p!, s: s! };
};
const payloadOf = (jws: string) => JSON.parse(unb64(parts(jws).p)) as Record<string, unknown>;

/** The receipt a correct signer makes for `claims`, for signing odd contents by hand. */
function receiptFor(claims: ReceiptClaims, kid: string): Receipt {
  return { version: 1, issuer: 'comeet-dsar', keyId: kid, issuedAt: NOW.toISOString(), ...claims };
}

/** Signs any payload/header with a real key, bypassing the signer's checks. */
async function signRaw(payload: unknown, header: Record<string, unknown>, key: CryptoKey | Uint8Array): Promise<string> {
  return new CompactSign(utf8(JSON.stringify(payload))).setProtectedHeader(header as { alg: string }).sign(key);
}

/** The ReceiptVerificationError `verifyReceipt` rejects with; fails the test when it resolves. */
async function rejection(p: Promise<unknown>): Promise<ReceiptVerificationError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ReceiptVerificationError);
    return err as ReceiptVerificationError;
  }
  throw new Error('expected the receipt to be rejected, but it verified');
}

/** The error `load` rejects with; fails the test when it resolves. */
async function loadError(env: Record<string, string | undefined>): Promise<Error> {
  try {
    await loadReceiptSigner(env);
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return err as Error;
  }
  throw new Error('expected loadReceiptSigner to throw, but it returned');
}

/** No base64url run of 16+ characters from the key's secret or public values is in the message. */
function expectNoKeyMaterial(message: string, material: string[]): void {
  for (const m of material) {
    for (const line of m.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'))) {
      expect(message).not.toContain(line.slice(0, 16));
    }
  }
}

const EDDSA = makeKey('EdDSA', 'receipt-2026-01');
const ES256 = makeKey('ES256', 'receipt-2026-02');

// --- sign → verify -------------------------------------------------------------------------------

describe('sign → verify', () => {
  it.each(['EdDSA', 'ES256'] as const)('%s: round trip through the JWKS, the public JWK and the PEM', async (alg) => {
    const key = await (alg === 'EdDSA' ? EDDSA : ES256);
    const jws = await key.signer.sign(CLAIMS);
    expect(jws).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const expected: Receipt = { ...CLAIMS, version: 1, issuedAt: NOW.toISOString(), issuer: 'comeet-dsar', keyId: key.kid };
    expect(JSON.parse(unb64(parts(jws).h))).toEqual({ alg, kid: key.kid, typ: RECEIPT_TYPE });
    expect(payloadOf(jws)).toEqual(expected);

    for (const k of [{ jwks: key.jwks }, { publicKey: key.publicJwk }, { publicKey: key.publicPem }]) {
      const { receipt, header } = await verifyReceipt(jws, k);
      expect(header).toEqual({ alg, kid: key.kid, typ: RECEIPT_TYPE });
      expect(receipt).toEqual(expected);
    }
  });

  it('a no_data receipt round-trips, without a requestId', async () => {
    const key = await EDDSA;
    const { receipt } = await verifyReceipt(await key.signer.sign(NO_DATA), { jwks: key.jwks });
    expect(receipt.outcome).toBe('no_data');
    expect(receipt.persons).toEqual([]);
    expect('requestId' in receipt).toBe(false);
  });

  it('ES256 signatures are the raw 64-byte JWS form, EdDSA ones 64 bytes of Ed25519', async () => {
    for (const key of [await EDDSA, await ES256]) {
      expect(Buffer.from(parts(await key.signer.sign(CLAIMS)).s, 'base64url')).toHaveLength(64);
    }
  });

  it('uses the issuer and clock it is given', async () => {
    const key = await EDDSA;
    const signer = createReceiptSigner({
      privateKey: key.privateKey,
      keyId: key.kid,
      alg: 'EdDSA',
      issuer: 'acme-privacy',
      now: () => new Date('2027-01-02T03:04:05.000Z'),
    });
    const { receipt } = await verifyReceipt(await signer.sign(CLAIMS), { jwks: key.jwks });
    expect(receipt.issuer).toBe('acme-privacy');
    expect(receipt.issuedAt).toBe('2027-01-02T03:04:05.000Z');
  });

  it('builds from what the workflow returns plus the run, dropping fields a receipt does not carry', async () => {
    const key = await EDDSA;
    const result: ErasureResult = {
      ...CLAIMS,
      eraseAttempts: 3,
      followUp: { workflowId: `dsar-${SUBJECT_HASH}-follow-up-20261023T105623Z`, at: '2026-10-23T10:56:23.000Z' },
      outcome: 'completed',
      verifiedAbsentAt: CLAIMS.verifiedAbsentAt,
    };
    const claims = { ...result, workflowId: CLAIMS.workflowId, runId: CLAIMS.runId, subjectHash: SUBJECT_HASH } as ReceiptClaims;
    const jws = await key.signer.sign(claims);
    expect(Object.keys(payloadOf(jws))).not.toContain('eraseAttempts');
    expect(Object.keys(payloadOf(jws))).not.toContain('followUp');
    await expect(verifyReceipt(jws, { jwks: key.jwks })).resolves.toBeTruthy();
  });
});

describe('key rotation', () => {
  it('a JWKS holding the old and the new key verifies receipts from both, each by its kid', async () => {
    const oldKey = await EDDSA;
    const newKey = await ES256;
    const jwks = JSON.stringify({ keys: [...JSON.parse(oldKey.jwks).keys, ...JSON.parse(newKey.jwks).keys] });
    for (const key of [oldKey, newKey]) {
      const { header, receipt } = await verifyReceipt(await key.signer.sign(CLAIMS), { jwks });
      expect(header.kid).toBe(key.kid);
      expect(header.alg).toBe(key.alg);
      expect(receipt.keyId).toBe(key.kid);
    }
  });

  it('a receipt from a key missing from the JWKS is unknown_key, naming the kids it has', async () => {
    const retired = await makeKey('EdDSA', 'receipt-2025-12');
    const current = await EDDSA;
    const err = await rejection(verifyReceipt(await retired.signer.sign(CLAIMS), { jwks: current.jwks }));
    expect(err.code).toBe('unknown_key');
    expect(err.message).toContain('"receipt-2025-12"');
    expect(err.message).toContain('"receipt-2026-01"');
  });
});

// --- tampering and forgery -----------------------------------------------------------------------

describe('tampering', () => {
  it.each([
    ['a person uid', (r: Receipt) => ({ ...r, persons: r.persons.map((p, i) => (i === 0 ? { ...p, personUid: '30.ADAM' } : p)) })],
    [
      'a count (and its totals, consistently)',
      (r: Receipt) => ({
        ...r,
        persons: r.persons.map((p, i) => (i === 1 ? { ...p, candidateUids: [...p.candidateUids, '12.AB4'], count: 2 } : p)),
        totals: { persons: 2, candidates: 4 },
      }),
    ],
    ['the verification time', (r: Receipt) => ({ ...r, verifiedAbsentAt: '2026-10-16T10:56:21.000Z' })],
  ])('a payload with %s changed is bad_signature, though its contents alone would pass', async (_what, change) => {
    const key = await EDDSA;
    const { h, p, s } = parts(await key.signer.sign(CLAIMS));
    const changed = change(JSON.parse(unb64(p)) as Receipt);
    // The change is plausible on its own: only the signature can catch it.
    expect(receiptSchema.safeParse(changed).success).toBe(true);
    const tampered = `${h}.${b64(JSON.stringify(changed))}.${s}`;
    const err = await rejection(verifyReceipt(tampered, { jwks: key.jwks }));
    expect(err.code).toBe('bad_signature');
    expect(err.message).toBe('signature does not match: the receipt was altered after signing, or signed by another key');
  });

  it('one character changed in the middle segment is bad_signature', async () => {
    const key = await ES256;
    const { h, p, s } = parts(await key.signer.sign(CLAIMS));
    const json = unb64(p);
    expect(json).toContain('"count":2');
    const tampered = `${h}.${b64(json.replace('"count":2', '"count":3'))}.${s}`;
    const err = await rejection(verifyReceipt(tampered, { jwks: key.jwks }));
    expect(err.code).toBe('bad_signature');
    expect(err.message).toMatch(/altered after signing/);
  });

  it("a header whose kid is swapped for another key's in the JWKS is bad_signature", async () => {
    const a = await EDDSA;
    const b = await makeKey('EdDSA', 'receipt-2026-03');
    const jwks = JSON.stringify({ keys: [...JSON.parse(a.jwks).keys, ...JSON.parse(b.jwks).keys] });
    const { p, s } = parts(await a.signer.sign(CLAIMS));
    const swapped = `${b64(JSON.stringify({ alg: 'EdDSA', kid: b.kid, typ: RECEIPT_TYPE }))}.${p}.${s}`;
    const err = await rejection(verifyReceipt(swapped, { jwks }));
    expect(err.code).toBe('bad_signature');
  });

  it('a header whose kid is swapped for one nobody has is unknown_key (JWKS and single JWK)', async () => {
    const key = await EDDSA;
    const { p, s } = parts(await key.signer.sign(CLAIMS));
    const swapped = `${b64(JSON.stringify({ alg: 'EdDSA', kid: 'receipt-9999', typ: RECEIPT_TYPE }))}.${p}.${s}`;
    for (const k of [{ jwks: key.jwks }, { publicKey: key.publicJwk }]) {
      const err = await rejection(verifyReceipt(swapped, k));
      expect(err.code).toBe('unknown_key');
      expect(err.message).toContain('receipt-9999');
    }
  });

  it('a header whose kid is swapped, checked against a PEM (no kid), fails on the signature', async () => {
    const key = await EDDSA;
    const { p, s } = parts(await key.signer.sign(CLAIMS));
    const swapped = `${b64(JSON.stringify({ alg: 'EdDSA', kid: 'receipt-9999', typ: RECEIPT_TYPE }))}.${p}.${s}`;
    expect((await rejection(verifyReceipt(swapped, { publicKey: key.publicPem }))).code).toBe('bad_signature');
  });

  it('a header whose alg is switched (EdDSA → ES256) is bad_signature', async () => {
    const key = await EDDSA;
    const { p, s } = parts(await key.signer.sign(CLAIMS));
    const switched = `${b64(JSON.stringify({ alg: 'ES256', kid: key.kid, typ: RECEIPT_TYPE }))}.${p}.${s}`;
    const err = await rejection(verifyReceipt(switched, { jwks: key.jwks }));
    expect(err.code).toBe('bad_signature');
    expect(err.message).toMatch(/altered after signing/);
  });
});

describe('forgery', () => {
  it("a receipt signed by another key under the genuine key's kid is bad_signature", async () => {
    const genuine = await EDDSA;
    const forger = await makeKey('EdDSA', genuine.kid);
    const forged = await forger.signer.sign(CLAIMS);
    for (const k of [{ jwks: genuine.jwks }, { publicKey: genuine.publicJwk }, { publicKey: genuine.publicPem }]) {
      const err = await rejection(verifyReceipt(forged, k));
      expect(err.code).toBe('bad_signature');
      expect(err.message).toMatch(/signed by another key/);
    }
  });

  it("a genuine header and payload with another key's signature is bad_signature", async () => {
    const genuine = await ES256;
    const other = await makeKey('ES256', genuine.kid);
    const a = parts(await genuine.signer.sign(CLAIMS));
    const b = parts(await other.signer.sign(CLAIMS));
    expect(a.h).toBe(b.h);
    expect(a.p).toBe(b.p);
    expect((await rejection(verifyReceipt(`${a.h}.${a.p}.${b.s}`, { jwks: genuine.jwks }))).code).toBe('bad_signature');
  });

  it('an unsigned token (alg "none") is alg_not_allowed', async () => {
    const key = await EDDSA;
    const none = `${b64(JSON.stringify({ alg: 'none', kid: key.kid, typ: RECEIPT_TYPE }))}.${b64(JSON.stringify(receiptFor(CLAIMS, key.kid)))}.`;
    for (const k of [{ jwks: key.jwks }, { publicKey: key.publicPem }]) {
      const err = await rejection(verifyReceipt(none, k));
      expect(err.code).toBe('alg_not_allowed');
      expect(err.message).toMatch(/not signed/);
    }
  });

  it('an HS256 token is alg_not_allowed, even keyed with the public key bytes (algorithm confusion)', async () => {
    const key = await EDDSA;
    const publicBytes = Buffer.from(JSON.parse(key.publicJwk).x as string, 'base64url');
    for (const secret of [new Uint8Array(publicBytes), utf8(key.publicPem), utf8('x'.repeat(32))]) {
      const hs = await signRaw(receiptFor(CLAIMS, key.kid), { alg: 'HS256', kid: key.kid, typ: RECEIPT_TYPE }, secret);
      for (const k of [{ jwks: key.jwks }, { publicKey: key.publicPem }, { publicKey: key.publicJwk }]) {
        const err = await rejection(verifyReceipt(hs, k));
        expect(err.code).toBe('alg_not_allowed');
        expect(err.message).toMatch(/shared secret/);
      }
    }
  });

  it('other algorithms (RS256) are alg_not_allowed', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const key = await EDDSA;
    const rs = await signRaw(receiptFor(CLAIMS, key.kid), { alg: 'RS256', kid: key.kid, typ: RECEIPT_TYPE }, privateKey);
    expect((await rejection(verifyReceipt(rs, { jwks: key.jwks }))).code).toBe('alg_not_allowed');
  });

  it('an EdDSA token with its signature removed is bad_signature', async () => {
    const key = await EDDSA;
    const { h, p } = parts(await key.signer.sign(CLAIMS));
    expect((await rejection(verifyReceipt(`${h}.${p}.`, { jwks: key.jwks }))).code).toBe('bad_signature');
  });
});

describe('not a receipt', () => {
  it.each([
    ['an empty string', ''],
    ['a word', 'hello'],
    ['two parts', 'abc.def'],
    ['four parts', 'a.b.c.d'],
    ['a JWE (five parts)', 'a.b.c.d.e'],
    ['non-base64url characters', 'ab$c.def.ghi'],
    ['a header that is not JSON', `${b64('not json')}.${b64('{}')}.AAAA`],
    ['a header that is JSON but not an object', `${b64('[1,2]')}.${b64('{}')}.AAAA`],
    ['an empty payload', `${b64(JSON.stringify({ alg: 'EdDSA', kid: 'k', typ: RECEIPT_TYPE }))}..AAAA`],
    ['a header without kid', `${b64(JSON.stringify({ alg: 'EdDSA', typ: RECEIPT_TYPE }))}.${b64('{}')}.AAAA`],
    [
      'a header with extra fields (b64/crit)',
      `${b64(JSON.stringify({ alg: 'EdDSA', kid: 'k', typ: RECEIPT_TYPE, b64: false, crit: ['b64'] }))}.${b64('{}')}.AAAA`,
    ],
  ])('%s is malformed', async (_what, token) => {
    const key = await EDDSA;
    const err = await rejection(verifyReceipt(token, { jwks: key.jwks }));
    expect(err.code).toBe('malformed');
    expect(err.message).toMatch(/receipt/);
  });

  it('a non-string is malformed', async () => {
    const key = await EDDSA;
    expect((await rejection(verifyReceipt(42 as unknown as string, { jwks: key.jwks }))).code).toBe('malformed');
  });

  it('a validly signed JWS of another type is wrong_type', async () => {
    const key = await EDDSA;
    for (const typ of ['JWT', undefined]) {
      const header = { alg: 'EdDSA', kid: key.kid, ...(typ ? { typ } : {}) };
      const jws = await signRaw(receiptFor(CLAIMS, key.kid), header, key.privateKey);
      const err = await rejection(verifyReceipt(jws, { jwks: key.jwks }));
      expect(err.code).toBe('wrong_type');
      expect(err.message).toContain(RECEIPT_TYPE);
    }
  });

  it('typ compares as RFC 7515 says: case-insensitive, application/ prefix optional', async () => {
    const key = await EDDSA;
    const jws = await signRaw(receiptFor(CLAIMS, key.kid), { alg: 'EdDSA', kid: key.kid, typ: `application/${RECEIPT_TYPE.toUpperCase()}` }, key.privateKey);
    await expect(verifyReceipt(jws, { jwks: key.jwks })).resolves.toBeTruthy();
  });
});

describe('contents (validly signed, wrong inside)', () => {
  const header = (kid: string) => ({ alg: 'EdDSA', kid, typ: RECEIPT_TYPE });
  const cases: [string, (r: Receipt) => unknown, RegExp][] = [
    ['totals.persons off by one', (r) => ({ ...r, totals: { ...r.totals, persons: 3 } }), /totals\.persons is 3 but the receipt lists 2/],
    ['totals.candidates not the sum of counts', (r) => ({ ...r, totals: { ...r.totals, candidates: 5 } }), /totals\.candidates is 5 but .* add up to 3/],
    [
      'a count not matching its uids',
      (r) => ({ ...r, persons: [{ ...r.persons[0]!, count: 3 }, r.persons[1]!], totals: { persons: 2, candidates: 4 } }),
      /persons\.0\.count is 3/,
    ],
    ['a payload keyId other than the header kid', (r) => ({ ...r, keyId: 'receipt-other' }), /key "receipt-other" in its contents/],
    ['version 2', (r) => ({ ...r, version: 2 }), /version/],
    ['an unknown field (email)', (r) => ({ ...r, email: 'ada.lovelace@example.com' }), /unknown field\(s\) email/],
    ['a date that is not ISO', (r) => ({ ...r, finishedAt: '16/10/2026' }), /finishedAt .*ISO 8601/],
    ['a uid with an @', (r) => ({ ...r, persons: [{ ...r.persons[0]!, personUid: 'ada@example.com' }, r.persons[1]!] }), /persons\.0\.personUid/],
    ['a subjectHash that is not 128-bit hex', (r) => ({ ...r, subjectHash: 'ada.lovelace@example.com' }), /subjectHash/],
    ['no_data with persons', (r) => ({ ...r, outcome: 'no_data' }), /no_data/],
    ['a missing field', (r) => ({ ...r, runId: undefined }), /runId/],
    ['JSON that is not an object', () => [1, 2, 3], /valid receipt/],
  ];
  it.each(cases)('%s is invalid_contents', async (_what, change, message) => {
    const key = await EDDSA;
    const jws = await signRaw(change(receiptFor(CLAIMS, key.kid)), header(key.kid), key.privateKey);
    const err = await rejection(verifyReceipt(jws, { jwks: key.jwks }));
    expect(err.code).toBe('invalid_contents');
    expect(err.message).toMatch(/^the signature is valid but/);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('ada.lovelace@example.com');
  });

  it('a payload that is not JSON is invalid_contents', async () => {
    const key = await EDDSA;
    const jws = await new CompactSign(utf8('not json')).setProtectedHeader(header(key.kid)).sign(key.privateKey);
    expect((await rejection(verifyReceipt(jws, { jwks: key.jwks }))).code).toBe('invalid_contents');
  });

  it('the signer refuses claims a verifier would reject, saying why', async () => {
    const key = await EDDSA;
    const bad: [Partial<ReceiptClaims> | Record<string, unknown>, RegExp][] = [
      [{ totals: { persons: 1, candidates: 3 } }, /totals\.persons is 1/],
      [{ outcome: 'dry_run' }, /outcome/],
      [{ subjectHash: subjectHashOf('grace.hopper@example.com') }, /subjectHash must be the hex part of the workflow id/],
      [{ verifiedAbsentAt: '2026-10-16T12:00:00.000Z' }, /verifiedAbsentAt must be between/],
      [{ lookups: 0 }, /lookups/],
    ];
    for (const [change, message] of bad) {
      const p = key.signer.sign({ ...CLAIMS, ...change } as ReceiptClaims);
      await expect(p).rejects.toBeInstanceOf(InvalidReceiptClaimsError);
      await expect(p).rejects.toThrow(message);
    }
  });
});

// --- never an email ------------------------------------------------------------------------------

describe('never an email', () => {
  /** Deterministic PRNG (mulberry32), so a failure reproduces. */
  function rng(seed: number) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function randomClaims(r: () => number, email: string): ReceiptClaims & Record<string, unknown> {
    const int = (n: number) => Math.floor(r() * n);
    const word = (n: number) => Array.from({ length: 1 + int(n) }, () => 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'[int(34)]).join('');
    const start = Date.UTC(2026, int(12), 1 + int(28), int(24), int(60));
    const at = (ms: number) => new Date(start + ms).toISOString();
    const outcome = r() < 0.25 ? 'no_data' : 'completed';
    const persons =
      outcome === 'no_data'
        ? []
        : Array.from({ length: 1 + int(4) }, (_, i) => {
            const candidateUids = Array.from({ length: int(4) }, (_, j) => `${int(99)}.${word(5)}${i}x${j}`);
            return { personUid: `${int(99)}.${word(6)}${i}`, candidateUids, count: candidateUids.length, erasedAt: at(60_000 + i), alreadyGone: r() < 0.3 };
          });
    const hash = subjectHashOf(email);
    return {
      ...(r() < 0.5 ? { requestId: `T-${int(10_000)}` } : {}),
      workflowId: `dsar-${hash}`,
      runId: `${word(8)}-${word(4)}`,
      subjectHash: hash,
      outcome,
      mode: r() < 0.5 ? 'delete' : 'pseudonymize',
      regulation: r() < 0.5 ? 'gdpr' : 'ccpa',
      receivedAt: at(-int(86_400_000)),
      deadline: at(30 * 86_400_000),
      startedAt: at(0),
      finishedAt: at(120_000),
      verifiedAbsentAt: at(90_000),
      persons,
      totals: { persons: persons.length, candidates: persons.reduce((n, p) => n + p.count, 0) },
      lookups: 1 + int(5),
      // What a careless caller might pass along with the claims: it must never reach the payload.
      email,
      input: { email, mode: 'delete' },
      subject: email,
    };
  }

  it('200 random receipts, with the email passed alongside, carry no "@" and no part of the email', async () => {
    const key = await EDDSA;
    const r = rng(20261016);
    for (let i = 0; i < 200; i++) {
      const email = `${'abcdefghij'.slice(0, 3 + (i % 7))}.person${i}@example${i % 5}.com`;
      const jws = await key.signer.sign(randomClaims(r, email));
      const payload = unb64(parts(jws).p);
      expect(payload).not.toContain('@');
      expect(payload).not.toContain(`person${i}`);
      expect(jws).not.toContain(b64(email).slice(0, 12));
      if (i % 40 === 0) await expect(verifyReceipt(jws, { jwks: key.jwks })).resolves.toBeTruthy();
    }
  });

  it.each(['requestId', 'runId', 'workflowId', 'subjectHash'] as const)('an email put in %s is refused, and not echoed', async (field) => {
    const key = await EDDSA;
    const email = 'ada.lovelace@example.com';
    const p = key.signer.sign({ ...CLAIMS, [field]: email });
    await expect(p).rejects.toBeInstanceOf(InvalidReceiptClaimsError);
    await expect(p).rejects.toThrow(field);
    await p.catch((e: Error) => expect(e.message).not.toContain(email));
  });

  it('an email put in a person or candidate uid is refused', async () => {
    const key = await EDDSA;
    const withEmailUid = { ...CLAIMS, persons: [{ ...CLAIMS.persons[0]!, candidateUids: ['12.AB1', 'ada@example.com'] }, CLAIMS.persons[1]!] };
    await expect(key.signer.sign(withEmailUid)).rejects.toThrow(/persons\.0\.candidateUids\.1/);
  });
});

// --- keys from the environment -------------------------------------------------------------------

describe('loadReceiptSigner', () => {
  it('returns undefined when DSAR_RECEIPT_KEY is unset or empty', async () => {
    expect(await loadReceiptSigner({})).toBeUndefined();
    expect(await loadReceiptSigner({ DSAR_RECEIPT_KEY: '', DSAR_RECEIPT_KEY_ID: 'k' })).toBeUndefined();
  });

  it('a private JWK and its kid make a signer whose receipts verify', async () => {
    const { privateJwk, publicJwks, keyId } = await generateReceiptKeys('EdDSA', 'receipt-env-1');
    const signer = await loadReceiptSigner({ DSAR_RECEIPT_KEY: privateJwk, DSAR_RECEIPT_KEY_ID: keyId });
    expect(signer).toBeDefined();
    expect(signer!.keyId).toBe('receipt-env-1');
    expect(signer!.alg).toBe('EdDSA');
    const { header } = await verifyReceipt(await signer!.sign(CLAIMS), { jwks: JSON.stringify(publicJwks) });
    expect(header.kid).toBe('receipt-env-1');
  });

  it.each([
    ['Ed25519', 'EdDSA', undefined],
    ['P-256', 'ES256', 'ES256'],
  ] as const)('a PKCS#8 PEM (%s) with \\n escapes makes a signer', async (kind, alg, envAlg) => {
    const pair = kind === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const escaped = pem.trim().replace(/\n/g, '\\n');
    expect(escaped).not.toContain('\n');
    const signer = await loadReceiptSigner({ DSAR_RECEIPT_KEY: escaped, DSAR_RECEIPT_KEY_ID: 'pem-key', DSAR_RECEIPT_ALG: envAlg });
    expect(signer?.alg).toBe(alg);
    const spki = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const { receipt } = await verifyReceipt(await signer!.sign(CLAIMS), { publicKey: spki });
    expect(receipt.keyId).toBe('pem-key');
  });

  it('a PEM in env-file quotes with real line breaks also works', async () => {
    const pair = generateKeyPairSync('ed25519');
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const signer = await loadReceiptSigner({ DSAR_RECEIPT_KEY: `"${pem}"`, DSAR_RECEIPT_KEY_ID: 'pem-key' });
    expect(signer?.keyId).toBe('pem-key');
  });

  it('a public JWK given as the key: clear error naming DSAR_RECEIPT_KEY, no key material', async () => {
    const { publicJwks, keyId } = await generateReceiptKeys('EdDSA');
    const pub = publicJwks.keys[0]!;
    const err = await loadError({ DSAR_RECEIPT_KEY: JSON.stringify(pub), DSAR_RECEIPT_KEY_ID: keyId });
    expect(err).toBeInstanceOf(ReceiptKeyError);
    expect((err as ReceiptKeyError).variable).toBe('DSAR_RECEIPT_KEY');
    expect(err.message).toMatch(/^DSAR_RECEIPT_KEY is a public key/);
    expect(err.message).toMatch(/must be the private key/);
    expectNoKeyMaterial(err.message, [String(pub.x)]);
  });

  it('a public PEM given as the key: clear error naming DSAR_RECEIPT_KEY, no key material', async () => {
    const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const err = await loadError({ DSAR_RECEIPT_KEY: pem.replace(/\n/g, '\\n'), DSAR_RECEIPT_KEY_ID: 'k' });
    expect(err.message).toMatch(/^DSAR_RECEIPT_KEY is a public key/);
    expectNoKeyMaterial(err.message, [pem]);
  });

  it('a missing DSAR_RECEIPT_KEY_ID is named, with what to put there', async () => {
    const { privateJwk } = await generateReceiptKeys('EdDSA');
    for (const id of [undefined, '', '  ']) {
      const err = await loadError({ DSAR_RECEIPT_KEY: privateJwk, DSAR_RECEIPT_KEY_ID: id });
      expect(err.message).toMatch(/^DSAR_RECEIPT_KEY_ID is required/);
      expectNoKeyMaterial(err.message, [String(JSON.parse(privateJwk).d)]);
    }
  });

  it.each([
    ['JSON cut short', (jwk: string) => jwk.slice(0, -10), /DSAR_RECEIPT_KEY starts with "\{" but is not valid JSON/],
    ['neither JSON nor PEM', (jwk: string) => Buffer.from(jwk).toString('base64'), /DSAR_RECEIPT_KEY is neither JSON nor PEM/],
    ['a JWKS', (jwk: string) => JSON.stringify({ keys: [JSON.parse(jwk)] }), /DSAR_RECEIPT_KEY is a key set/],
    ['an RSA JWK', () => JSON.stringify({ kty: 'RSA', n: 'AQAB'.repeat(20), e: 'AQAB', d: 'SECRETSECRETSECRETSECRET' }), /kty "RSA"/],
    ['a damaged d', (jwk: string) => JSON.stringify({ ...JSON.parse(jwk), d: 'AAAA' }), /not a valid Ed25519 private JWK/],
    ['x from another key', (jwk: string) => JSON.stringify({ ...JSON.parse(jwk), x: Buffer.alloc(32, 7).toString('base64url') }), /does not belong/],
    ['a truncated PEM', () => '-----BEGIN PRIVATE KEY-----\\nMC4CAQAwBQYDK2VwBCIEIBadBadBad\\n-----END PRIVATE KEY-----', /cannot be read/],
    ['a certificate', () => '-----BEGIN CERTIFICATE-----\\nMIIBSECRETSECRETSECRET\\n-----END CERTIFICATE-----', /is a certificate/],
  ])('%s: error naming DSAR_RECEIPT_KEY, without key material', async (_what, make, message) => {
    const { privateJwk, keyId } = await generateReceiptKeys('EdDSA');
    const value = make(privateJwk);
    const err = await loadError({ DSAR_RECEIPT_KEY: value, DSAR_RECEIPT_KEY_ID: keyId });
    expect(err).toBeInstanceOf(ReceiptKeyError);
    expect(err.message).toContain('DSAR_RECEIPT_KEY');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('SECRETSECRET');
    expectNoKeyMaterial(err.message, [String(JSON.parse(privateJwk).d), String(JSON.parse(privateJwk).x)]);
  });

  it('an alg that does not match the key is named, with the alg to set', async () => {
    const es = await generateReceiptKeys('ES256', 'p256');
    const err = await loadError({ DSAR_RECEIPT_KEY: es.privateJwk, DSAR_RECEIPT_KEY_ID: 'p256' });
    expect(err.message).toMatch(/^DSAR_RECEIPT_ALG is EdDSA \(the default\) but DSAR_RECEIPT_KEY is a P-256 key: set DSAR_RECEIPT_ALG=ES256/);
    const ed = await generateReceiptKeys('EdDSA', 'ed');
    const err2 = await loadError({ DSAR_RECEIPT_KEY: ed.privateJwk, DSAR_RECEIPT_KEY_ID: 'ed', DSAR_RECEIPT_ALG: 'ES256' });
    expect(err2.message).toMatch(/set DSAR_RECEIPT_ALG=EdDSA/);
    expectNoKeyMaterial(err.message + err2.message, [String(JSON.parse(es.privateJwk).d), String(JSON.parse(ed.privateJwk).d)]);
  });

  it('an unsupported DSAR_RECEIPT_ALG is named', async () => {
    const { privateJwk, keyId } = await generateReceiptKeys('EdDSA');
    for (const alg of ['RS256', 'HS256', 'none']) {
      const err = await loadError({ DSAR_RECEIPT_KEY: privateJwk, DSAR_RECEIPT_KEY_ID: keyId, DSAR_RECEIPT_ALG: alg });
      expect(err.message).toMatch(/^DSAR_RECEIPT_ALG must be EdDSA .* or ES256/);
    }
  });

  it('a kid inside the JWK that differs from DSAR_RECEIPT_KEY_ID is refused', async () => {
    const { privateJwk } = await generateReceiptKeys('EdDSA', 'inside-kid');
    const err = await loadError({ DSAR_RECEIPT_KEY: privateJwk, DSAR_RECEIPT_KEY_ID: 'outside-kid' });
    expect(err.message).toMatch(/^DSAR_RECEIPT_KEY_ID is "outside-kid" but the JWK in DSAR_RECEIPT_KEY has "kid": "inside-kid"/);
  });

  it('a key id with spaces or an @ is refused', async () => {
    const { privateJwk } = await generateReceiptKeys('EdDSA', 'k');
    const err = await loadError({ DSAR_RECEIPT_KEY: JSON.stringify({ ...JSON.parse(privateJwk), kid: undefined }), DSAR_RECEIPT_KEY_ID: 'ada@example.com' });
    expect(err.message).toMatch(/^DSAR_RECEIPT_KEY_ID must be/);
  });
});

describe('generateReceiptKeys', () => {
  it.each(['EdDSA', 'ES256'] as const)('%s: usable by loadReceiptSigner, and its JWKS verifies', async (alg) => {
    const keys = await generateReceiptKeys(alg);
    expect(keys.keyId).toMatch(/^receipt-\d{8}-[\w-]{8}$/);
    const priv = JSON.parse(keys.privateJwk) as Record<string, unknown>;
    expect(priv).toMatchObject({ kid: keys.keyId, alg, use: 'sig', kty: alg === 'EdDSA' ? 'OKP' : 'EC' });
    expect(typeof priv.d).toBe('string');
    expect(keys.publicJwks.keys).toHaveLength(1);
    expect(keys.publicJwks.keys[0]).toMatchObject({ kid: keys.keyId, alg, use: 'sig' });
    expect(keys.publicJwks.keys[0]).not.toHaveProperty('d');

    const signer = await loadReceiptSigner({ DSAR_RECEIPT_KEY: keys.privateJwk, DSAR_RECEIPT_KEY_ID: keys.keyId, DSAR_RECEIPT_ALG: alg });
    expect(await signer!.publicJwks()).toEqual(keys.publicJwks);
    const { receipt, header } = await verifyReceipt(await signer!.sign(CLAIMS), { jwks: JSON.stringify(keys.publicJwks) });
    expect(header).toEqual({ alg, kid: keys.keyId, typ: RECEIPT_TYPE });
    expect(receipt.persons).toEqual(CLAIMS.persons);
  });

  it('each call makes a new key', async () => {
    const a = await generateReceiptKeys();
    const b = await generateReceiptKeys();
    expect(a.keyId).not.toBe(b.keyId);
    expect(JSON.parse(a.privateJwk).d).not.toBe(JSON.parse(b.privateJwk).d);
  });

  it('refuses a key id a receipt could not carry', async () => {
    await expect(generateReceiptKeys('EdDSA', 'has space')).rejects.toThrow(/keyId/);
  });
});

// --- arguments and boundaries --------------------------------------------------------------------

describe('arguments', () => {
  it('verification refuses a private key as the public one (ReceiptKeyError, not a verdict)', async () => {
    const keys = await generateReceiptKeys('EdDSA', 'k1');
    const signer = await loadReceiptSigner({ DSAR_RECEIPT_KEY: keys.privateJwk, DSAR_RECEIPT_KEY_ID: 'k1' });
    const jws = await signer!.sign(CLAIMS);
    await expect(verifyReceipt(jws, { publicKey: keys.privateJwk })).rejects.toBeInstanceOf(ReceiptKeyError);
    await expect(verifyReceipt(jws, { jwks: JSON.stringify({ keys: [JSON.parse(keys.privateJwk)] }) })).rejects.toThrow(/private key/);
    await expect(verifyReceipt(jws, { jwks: 'not json' })).rejects.toThrow(/jwks must be a JSON key set/);
  });

  it('a JWKS passed as publicKey is read as a key set', async () => {
    const key = await ES256;
    await expect(verifyReceipt(await key.signer.sign(CLAIMS), { publicKey: key.jwks })).resolves.toBeTruthy();
  });

  it('createReceiptSigner refuses a public key and a key that does not match alg', async () => {
    const ed = await generateKeyPair('EdDSA');
    expect(() => createReceiptSigner({ privateKey: ed.publicKey, keyId: 'k', alg: 'EdDSA' })).toThrow(/private key/);
    expect(() => createReceiptSigner({ privateKey: ed.privateKey, keyId: 'k', alg: 'ES256' })).toThrow(/ES256 needs a P-256 private key/);
    const ko = KeyObject.from(ed.privateKey);
    expect(createReceiptSigner({ privateKey: ko, keyId: 'k', alg: 'EdDSA' }).keyId).toBe('k');
    expect(await createReceiptSigner({ privateKey: ko, keyId: 'k', alg: 'EdDSA' }).publicJwks()).toEqual({
      keys: [{ ...(await exportJWK(ed.publicKey)), kid: 'k', alg: 'EdDSA', use: 'sig' }],
    });
    expect(createPublicKey(ko).asymmetricKeyType).toBe('ed25519');
  });

  it('src/receipt imports nothing from Temporal (it runs in activities, the CLI and tests)', () => {
    const dir = fileURLToPath(new URL('../../src/receipt/', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('index.ts');
    for (const f of files) {
      const src = readFileSync(dir + f, 'utf8');
      expect(src, f).not.toMatch(/from ['"]@temporalio\//);
      // src/search-attributes.ts pulls in @temporalio/common.
      expect(src, f).not.toMatch(/from ['"]\.\.\//);
    }
  });
});
