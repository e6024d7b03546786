/**
 * The workflow's hand-written guard against the zod schemas callers use: the same output (defaults,
 * trimming, key order) for good input, and the same refusal (message included) for bad input.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeIssues } from '../../src/describe-issues.js';
import { attachRequestSchema, erasureInputSchema, tuningSchema } from '../../src/erasure-request.js';
import { checkAttachRequest, checkErasureInput, tuningOf } from '../../src/workflows/input-guard.js';
import { BAD_CASES } from '../reliability/bad-input-corpus.js';

const token = 'a'.repeat(32);
const person = {
  personUid: 'P-1',
  candidateUids: ['C-1'],
  state: 'blocked',
  blockingCandidateUids: ['C-1'],
  nextCheckAt: '2026-05-01T09:00:00.000Z',
  attempts: 0,
  candidates: [{ uid: 'C-1', personUid: 'P-1', status: null, openInterviews: [{ type: 'onsite', scheduledAt: null }] }],
  firstBlockedAt: 1_777_000_000_000,
  backoffStep: 1,
};
const resume = {
  runsContinued: 1,
  startedAt: '2026-04-01T09:00:00.000Z',
  stage: 'handling',
  round: 0,
  persons: [person],
  attention: { code: 'NoPermission', reason: 'x', since: '2026-04-01T09:00:00.000Z', nextRetryAt: '2026-04-01T13:00:00.000Z' },
  lookups: 1,
  eraseAttempts: 0,
  events: [{ at: '2026-04-01T09:00:00.000Z', kind: 'started', actor: 'ops' }],
};
const registration = { requestId: 'R-2', caller: 'hr', mode: 'delete', regulation: 'gdpr', dryRun: true, callback: 'pending', queued: true };

const GOOD: unknown[] = [
  { email: 'a@example.com' },
  { email: '  A.B@Example.com \n', requestId: ' T-1 ', mode: 'pseudonymize', regulation: 'ccpa', dryRun: true },
  { email: 'a@example.com', tenant: 'acme', caller: 'hr-tool', startToken: token, callbackUrl: 'https://x.example/hook?a=1' },
  { email: 'a@example.com', receivedAt: '2026-03-01T00:00:00Z', deadline: '2026-04-01T00:00:00.5+02:00' },
  { email: 'a@example.com', tuning: {} },
  { email: 'a@example.com', tuning: { verifyRetryMs: 0, maxReerasures: 10, continueAfterEvents: 100 } },
  { email: 'a@example.com', mode: undefined, caller: undefined, requestId: undefined },
  { email: 'a@example.com', requests: [registration, { mode: 'pseudonymize', regulation: 'ccpa', dryRun: false, legacy: true }], resume },
  { email: 'a@example.com', resume: { ...resume, attention: undefined, persons: [{ ...person, nextCheckAt: undefined }] } },
];

const BAD: unknown[] = [
  ...BAD_CASES.map((c) => c.input),
  { email: 'a@example.com', tuning: { verifyRetryMs: 1.5, maxReerasures: 11, backoffMaxMs: '1' } },
  { email: 'a@example.com', tuning: { interviewMarginMs: Number.NaN } },
  { email: 'a@example.com', tenant: 5, caller: 'X', startToken: 'z', callbackUrl: 'ftp://x' },
  { email: 'a@example.com', callbackUrl: 42 },
  { email: 'bad', deadline: '2026-01-01T00:00:00Z' },
  { email: 42, deadline: '2026-01-01T00:00:00Z' },
  { email: 'a@example.com', colour: 1, deadline: '2026-01-01T00:00:00Z' },
  { email: 'a@example.com', mode: 'x', deadline: '2026-01-01T00:00:00Z' },
  { email: 'a@example.com', requestId: '', colour: 1 },
  { email: 'a@example.com', receivedAt: '1999-12-31T23:00:00Z' },
  { email: 'a@example.com', resume: { runsContinued: 0, x: 1 }, requests: [{ mode: 'x' }] },
  { email: 'a@example.com', resume: { ...resume, persons: [{ ...person, attempts: -1, candidates: [{}], extra: 1 }] } },
  { email: 'a@example.com', resume: { ...resume, events: Array.from({ length: 101 }, () => resume.events[0]) } },
  { email: 'a@example.com', requests: [{ ...registration, callbackUrl: 'x'.repeat(3000) }] },
];

const ATTACH: unknown[] = [
  {},
  { requestId: ' r ', dryRun: undefined },
  { requestId: 'R', callbackUrl: 'http://localhost:1/x', caller: 'c', mode: 'delete', regulation: 'ccpa', dryRun: false, startToken: token },
  { receivedAt: '2026-03-01T00:00:00Z', deadline: '2026-02-01T00:00:00Z' },
  { dryRun: 'x', mode: 'q', callbackUrl: 'ftp://x', startToken: 'z' },
  { requestId: 'a@b', regulation: 1, receivedAt: 'today', other: 1 },
  null,
  'R-1',
];

function zodView(r: { success: true; data: unknown } | { success: false; error: Parameters<typeof describeIssues>[0] }) {
  return r.success ? { ok: JSON.stringify(r.data), keys: Object.keys(r.data as object) } : { refused: describeIssues(r.error) };
}

describe('the workflow input guard', () => {
  // Both sides read the clock for an absent receivedAt (the GDPR ceiling in a message), so a
  // millisecond ticking between the two calls would make equal refusals differ.
  beforeAll(() => {
    vi.useFakeTimers({ now: new Date('2026-12-02T12:00:00.000Z'), toFake: ['Date'] });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it('gives what erasureInputSchema gives for good input, key order and trimming included', () => {
    for (const v of GOOD) {
      const guard = zodView(checkErasureInput(v));
      expect(guard, JSON.stringify(v)).toEqual(zodView(erasureInputSchema.safeParse(v)));
      expect(guard.ok, JSON.stringify(v)).toBeDefined();
    }
  });

  it('refuses what erasureInputSchema refuses, with the same message', () => {
    for (const v of BAD) {
      const guard = zodView(checkErasureInput(v));
      expect(guard.refused, String(JSON.stringify(v)).slice(0, 200)).toBeDefined();
      expect(guard, String(JSON.stringify(v)).slice(0, 200)).toEqual(zodView(erasureInputSchema.safeParse(v)));
    }
  });

  it('checks attachRequest as attachRequestSchema does', () => {
    for (const v of ATTACH) expect(zodView(checkAttachRequest(v)), JSON.stringify(v)).toEqual(zodView(attachRequestSchema.safeParse(v)));
  });

  it('fills in the tuning defaults of the shared table, and refuses a bad knob', () => {
    expect(tuningOf(undefined)).toEqual(tuningSchema.parse({}));
    expect(tuningOf({ verifyRetryMs: 5 })).toEqual(tuningSchema.parse({ verifyRetryMs: 5 }));
    expect(() => tuningOf({ verifyRetryMs: -1 })).toThrow(/verifyRetryMs/);
  });
});
