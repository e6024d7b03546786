/** The request rules alone (src/requests.ts): every combination of a run and an arriving request. */
import { describe, expect, it } from 'vitest';
import { boundedKeywords, compareRequest, MAX_CALLBACKS_PER_RUN, MAX_REQUESTS_PER_RUN, type RegisteredRequest, type RunFacts } from '../../src/requests.js';

const real: RegisteredRequest = { requestId: 'T-1', caller: 'a', mode: 'delete', regulation: 'gdpr', dryRun: false };
const run = (over: Partial<RunFacts> = {}): RunFacts => ({
  mode: 'delete',
  regulation: 'gdpr',
  dryRun: false,
  ended: false,
  acceptsQueue: false,
  requests: [real],
  ...over,
});

describe('compareRequest', () => {
  it('replays the same request of the same caller, refuses it with other parameters, naming them', () => {
    expect(compareRequest(run(), { ...real })).toMatchObject({ action: 'replay' });
    expect(compareRequest(run({ ended: true }), { ...real })).toMatchObject({ action: 'replay' });
    const d = compareRequest(run(), { ...real, dryRun: true, mode: 'pseudonymize', callbackUrl: 'https://h.example.com/x' });
    expect(d).toMatchObject({ action: 'refuse', code: 'request_conflict', retryable: false });
    expect(d.action === 'refuse' && d.message).toMatch(/different mode \(it was delete\), dryRun \(it was false\), callbackUrl \(it had none\)/);
    // Two callers may each use T-1.
    expect(compareRequest(run(), { ...real, caller: 'b' })).toMatchObject({ action: 'attach' });
    // A run recorded before callers were: the id alone matches.
    expect(
      compareRequest(run({ requests: [{ ...real, caller: undefined, legacy: true }] }), { ...real, caller: 'b', callbackUrl: 'https://h.example.com/x' }),
    ).toMatchObject({ action: 'replay' });
  });

  it('joins compatible requests, queues a real one behind a dry run, refuses everything else', () => {
    const next = { ...real, requestId: 'T-2' };
    expect(compareRequest(run(), next)).toEqual({ action: 'attach' });
    expect(compareRequest(run(), { ...next, dryRun: true })).toMatchObject({ action: 'refuse', code: 'erasure_in_progress', retryable: true });
    expect(compareRequest(run(), { ...next, mode: 'pseudonymize' })).toMatchObject({ action: 'refuse', code: 'request_in_progress' });
    expect(compareRequest(run(), { ...next, regulation: 'ccpa' })).toMatchObject({ action: 'refuse', code: 'request_in_progress' });
    const dry = run({ dryRun: true, acceptsQueue: true, requests: [{ ...real, dryRun: true }] });
    expect(compareRequest(dry, next)).toEqual({ action: 'queue' });
    expect(compareRequest(dry, { ...next, dryRun: true })).toEqual({ action: 'attach' });
    expect(compareRequest(dry, { ...next, dryRun: true, regulation: 'ccpa' })).toMatchObject({ action: 'refuse', code: 'request_in_progress' });
    const queued = { ...dry, requests: [...dry.requests, { ...next, queued: true }] };
    expect(compareRequest(queued, { ...next, requestId: 'T-3' })).toEqual({ action: 'queue' });
    expect(compareRequest(queued, { ...next, requestId: 'T-3', mode: 'pseudonymize' })).toMatchObject({ action: 'refuse', code: 'request_in_progress' });
    // A dry run delivering its callbacks still takes a queued real request, but no more dry runs.
    expect(compareRequest({ ...dry, ended: true }, next)).toEqual({ action: 'queue' });
    expect(compareRequest({ ...dry, ended: true, acceptsQueue: false }, next)).toMatchObject({ action: 'refuse', code: 'request_finishing', retryable: true });
    expect(compareRequest({ ...dry, ended: true }, { ...next, dryRun: true })).toMatchObject({ action: 'refuse', code: 'request_finishing' });
    expect(compareRequest(run({ ended: true }), next)).toMatchObject({ action: 'refuse', code: 'request_finishing' });
    const full = run({ requests: Array.from({ length: MAX_REQUESTS_PER_RUN }, (_, i) => ({ ...real, requestId: `R-${i}` })) });
    expect(compareRequest(full, next)).toMatchObject({ action: 'refuse', code: 'too_many_requests' });
    expect(compareRequest(full, { ...real, requestId: 'R-3' })).toMatchObject({ action: 'replay' });
    // Callbacks (URLs of up to 2 KiB, carried in every continued run) have a lower bound: joining without one still works.
    const hooks = run({
      requests: Array.from({ length: MAX_CALLBACKS_PER_RUN }, (_, i) => ({ ...real, requestId: `H-${i}`, callbackUrl: `https://h.example.com/${i}` })),
    });
    const refused = compareRequest(hooks, { ...next, callbackUrl: 'https://h.example.com/x' });
    expect(refused).toMatchObject({ action: 'refuse', code: 'too_many_requests', retryable: true });
    expect(refused.action === 'refuse' && refused.message).toMatch(/without a callbackUrl/);
    expect(compareRequest(hooks, next)).toEqual({ action: 'attach' });
  });

  it('keeps keyword lists under the search attribute budget', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `request-${String(i).padStart(4, '0')}-${'x'.repeat(100)}`);
    const kept = boundedKeywords(ids);
    expect(JSON.stringify(kept).length).toBeLessThanOrEqual(1024);
    expect(kept[0]).toBe(ids[0]);
    expect(boundedKeywords(['a', 'a', 'b'])).toEqual(['a', 'b']);
  });
});
