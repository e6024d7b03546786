/**
 * Completion callbacks are signed like webhooks from Stripe or GitHub: HMAC-SHA256 over
 * `<unix seconds>.<raw body>` with a shared secret, sent as `Dsar-Signature: t=<seconds>,v1=<hex>`.
 * The timestamp lets a receiver refuse replays; several `v1=` values allow secret rotation.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'dsar-signature';
export const DELIVERY_HEADER = 'dsar-delivery';
export const EVENT_HEADER = 'dsar-event';

export function signCallback(secret: string, body: string, timestampSec: number): string {
  return `t=${timestampSec},v1=${hmac(secret, timestampSec, body)}`;
}

/** Signs with every current secret (rotation: receivers accept any one they know). */
export function signatureHeader(secrets: readonly string[], body: string, timestampSec: number): string {
  return [`t=${timestampSec}`, ...secrets.map((s) => `v1=${hmac(s, timestampSec, body)}`)].join(',');
}

export class CallbackSignatureError extends Error {
  override name = 'CallbackSignatureError';
}

/**
 * For receivers (and our tests): checks the header against the raw body, refusing signatures older
 * than `toleranceSec`. Throws CallbackSignatureError saying what is wrong.
 */
export function verifyCallbackSignature(
  secret: string,
  header: string | undefined,
  body: string,
  options: { toleranceSec?: number; nowSec?: number } = {},
): void {
  if (!header) throw new CallbackSignatureError(`missing ${SIGNATURE_HEADER} header`);
  const parts = header.split(',').map((p) => p.trim().split('=', 2) as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t)) throw new CallbackSignatureError('signature has no timestamp (t=)');
  const now = options.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSec ?? 300))
    throw new CallbackSignatureError('signature timestamp is outside the tolerance (replayed or clock skew)');
  const given = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
  // Buffer.from(…, 'hex') stops at the first non-hex character, and timingSafeEqual throws a
  // RangeError on buffers of unequal length: check the form first.
  if (!given.length || !given.every((v) => /^[0-9a-f]{64}$/i.test(v))) {
    throw new CallbackSignatureError('signature is malformed: each v1= must be 64 hexadecimal characters (HMAC-SHA256)');
  }
  const expected = Buffer.from(hmac(secret, t, body), 'hex');
  if (!given.some((v) => timingSafeEqual(Buffer.from(v, 'hex'), expected))) throw new CallbackSignatureError('signature does not match the body');
}

function hmac(secret: string, timestampSec: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSec}.${body}`).digest('hex');
}
