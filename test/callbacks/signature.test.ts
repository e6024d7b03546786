/**
 * Callback signatures as a receiver checks them: valid and rotated signatures pass, anything else is
 * a CallbackSignatureError saying what is wrong (never a RangeError from the comparison).
 */
import { describe, expect, it } from 'vitest';
import { CallbackSignatureError, signatureHeader, signCallback, verifyCallbackSignature } from '../../src/callbacks/signature.js';

const SECRET = 'callback-secret-0123456789abcdef0123456789';
const BODY = '{"event":"erasure.finished","id":"dsar-1"}';
const NOW = 1_800_000_000;

function refusal(header: string | undefined, body = BODY): CallbackSignatureError {
  try {
    verifyCallbackSignature(SECRET, header, body, { nowSec: NOW });
  } catch (err) {
    expect(err).toBeInstanceOf(CallbackSignatureError);
    return err as CallbackSignatureError;
  }
  throw new Error('expected the signature to be refused');
}

describe('verifyCallbackSignature', () => {
  it('accepts its own signature and one of several during a rotation', () => {
    expect(() => verifyCallbackSignature(SECRET, signCallback(SECRET, BODY, NOW), BODY, { nowSec: NOW })).not.toThrow();
    const rotated = signatureHeader(['new-secret-0123456789abcdef0123456789ab', SECRET], BODY, NOW);
    expect(() => verifyCallbackSignature(SECRET, rotated, BODY, { nowSec: NOW })).not.toThrow();
  });

  it('refuses a changed body, a stale timestamp and a missing header', () => {
    expect(refusal(signCallback(SECRET, BODY, NOW), BODY.replace('dsar-1', 'dsar-2')).message).toMatch(/does not match the body/);
    expect(() => verifyCallbackSignature(SECRET, signCallback(SECRET, BODY, NOW - 301), BODY, { nowSec: NOW })).toThrow(/outside the tolerance/);
    expect(refusal(undefined).message).toMatch(/missing dsar-signature header/);
    expect(refusal(`v1=${'a'.repeat(64)}`).message).toMatch(/no timestamp/);
  });

  it.each([
    ['non-hex of the right length', `t=${NOW},v1=${'zz'.repeat(32)}`],
    ['hex then garbage of the right length', `t=${NOW},v1=${'ab'.repeat(16)}${'zz'.repeat(16)}`],
    ['odd length', `t=${NOW},v1=${'a'.repeat(63)}`],
    ['too long', `t=${NOW},v1=${'a'.repeat(66)}`],
    ['empty', `t=${NOW},v1=`],
    ['no value', `t=${NOW},v1`],
    ['no v1 at all', `t=${NOW}`],
  ])('refuses a malformed v1 (%s) as malformed', (_name, header) => {
    expect(refusal(header).message).toMatch(/signature is malformed/);
  });

  it('refuses a header whose second v1 is malformed, even when the first matches', () => {
    const good = signCallback(SECRET, BODY, NOW);
    expect(refusal(`${good},v1=${'zz'.repeat(32)}`).message).toMatch(/signature is malformed/);
  });
});
