/**
 * Reliability under a misbehaving Comeet (issue 5, part 2): a real dev server, a real worker and the
 * real Comeet client over HTTP, against the simulator injecting faults, or behind a proxy that
 * corrupts its answers. Correctness (who is erased, how often) and cost (how many calls) are both
 * asserted; the counts are printed so a run can be compared with another.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recheckNow } from '../../src/client.js';
import { ComeetClient, ComeetInvalidResponseError } from '../../src/comeet/index.js';
import type { SimulatorFaults } from '../../src/simulator/server.js';
import { jsonServer } from '../comeet/raw-server.js';
import { API_KEY, SECRET, bystanders, person } from '../helpers/scenario.js';
import { encryptedWorkflowBundle, startDevServer, workflowBundle } from '../helpers/temporal.js';
import { runChaosScenario, sleep, type UpstreamResponse } from './faults-harness.js';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startDevServer();
  await Promise.all([workflowBundle(), encryptedWorkflowBundle()]);
});
afterAll(async () => {
  await env?.teardown();
});

/** A small LCG: the simulator's fault draws are reproducible in kind, if not in order. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

const RESPONSE_TIMEOUT_MS = 1000;
const BATCH = 10;

/**
 * The fault script, by time since the batch started. Each kind is given a window while every
 * request of the batch is still in flight, so each one is certainly met; then a plain 5xx rate
 * until the storm passes. Latency 1500 ms is above the client's 1000 ms response timeout.
 */
const SCRIPT: { atMs: number; label: string; faults: SimulatorFaults }[] = [
  { atMs: 0, label: 'timeouts', faults: { latencyMs: 1500 } },
  { atMs: 1500, label: 'drops + 5xx', faults: { errorRate: 0.35, dropRate: 0.5 } },
  { atMs: 3000, label: '429 burst + 5xx', faults: { errorRate: 0.35, rateLimitBurst: 6 } },
  { atMs: 4500, label: 'slow + 5xx', faults: { errorRate: 0.4, latencyMs: 300 } },
  { atMs: 6000, label: 'timeouts', faults: { latencyMs: 1500 } },
  { atMs: 7500, label: 'drops + 5xx', faults: { errorRate: 0.35, dropRate: 0.3 } },
  { atMs: 9000, label: '5xx', faults: { errorRate: 0.35 } },
  { atMs: 20_000, label: 'calm', faults: {} },
];

describe('faults: a batch under 5xx, timeouts, drops, slow answers and 429s', () => {
  it('erases every target exactly once, touches no bystander, and makes a bounded number of calls', async () => {
    const targets = Array.from({ length: BATCH }, (_, i) => ({
      email: `chaos${i}@example.com`,
      personUid: `P-CH${i}`,
      applications: i % 3 === 0 ? 2 : 1,
      mode: (i % 4 === 3 ? 'pseudonymize' : 'delete') as 'delete' | 'pseudonymize',
    }));
    const seed = [
      ...targets.flatMap((t) => person(t.email, t.personUid, t.applications)),
      // Near misses: with a `contains` server filter Comeet returns them too; only our exact match
      // keeps them safe, and it must keep them safe under faults as well.
      ...targets.slice(0, 4).map((t, i) => ({ first_name: 'Near', last_name: `Miss${i}`, email: `x${t.email}`, status: 'Rejected' as const })),
      ...bystanders(6),
    ];
    await runChaosScenario(
      env,
      'chaos batch',
      {
        sim: { random: seeded(7), emailFilter: 'contains', rateLimit: { limit: 10, windowMs: 1000 }, faults: SCRIPT[0]!.faults, seed: { candidates: seed } },
        responseTimeoutMs: RESPONSE_TIMEOUT_MS,
      },
      async (s) => {
        const t0 = Date.now();
        let done = false;
        const applied: string[] = [];
        const driver = (async () => {
          for (const step of SCRIPT) {
            while (!done && Date.now() - t0 < step.atMs) await sleep(50);
            if (done) return;
            s.sim.setFaults(step.faults);
            applied.push(step.label);
          }
        })();

        const started = await Promise.all(
          targets.map((t) => s.start({ email: t.email, mode: t.mode, requestId: `chaos-${t.personUid}` }, { attentionRetryMs: 2000 })),
        );
        const results = await Promise.all(started.map((x) => x.handle.result()));
        const elapsedMs = Date.now() - t0;
        done = true;
        await driver;

        // Correct results: every request completed, for its own person only.
        expect(results.map((r) => r.outcome)).toEqual(targets.map(() => 'completed'));
        results.forEach((r, i) => {
          expect(r.persons.map((p) => p.personUid)).toEqual([targets[i]!.personUid]);
          expect(r.verifiedAbsentAt).toBeTruthy();
        });
        const stats = s.sim.stats();
        // Each target erased once on Comeet's side, in the requested mode, and nobody else. A
        // delete retried after a lost answer sees 404 (already gone) and is not repeated; a
        // pseudonymize retried after a lost answer is repeated (the simulator accepts it, see the
        // lost-answer test), which is idempotent, so pseudonymized persons may appear twice.
        const erasedBy = [...new Set(stats.erasures.map((e) => `${e.personUid}:${e.mode}`))].sort();
        expect(erasedBy).toEqual(targets.map((t) => `${t.personUid}:${t.mode}`).sort());
        for (const t of targets.filter((x) => x.mode === 'delete')) {
          expect(
            stats.erasures.filter((e) => e.personUid === t.personUid),
            t.personUid,
          ).toHaveLength(1);
        }
        const targetUids = new Set(targets.map((t) => t.personUid));
        const all = s.sim.candidates();
        for (const c of all) {
          const t = targets.find((x) => x.personUid === c.person_uid);
          if (!t) {
            expect({ uid: c.uid, deleted: c.deleted, pseudonymized: c.pseudonymized }).toEqual({ uid: c.uid, deleted: false, pseudonymized: false });
          } else if (t.mode === 'delete') {
            expect(c.deleted).toBe(true);
          } else {
            expect(c.pseudonymized && !c.deleted).toBe(true);
          }
        }
        expect(all.filter((c) => !targetUids.has(c.person_uid))).toHaveLength(10);

        // Every fault kind was met.
        const timeouts = s.calls.filter((c) => c.status === 'network' && c.durationMs >= RESPONSE_TIMEOUT_MS * 0.9).length;
        const networkFailures = s.calls.filter((c) => c.status === 'network').length;
        expect(applied).toEqual(expect.arrayContaining(['timeouts', 'drops + 5xx', '429 burst + 5xx', 'slow + 5xx']));
        expect(timeouts).toBeGreaterThan(0);
        expect(stats.byStatus.dropped ?? 0).toBeGreaterThan(0);
        expect(stats.byStatus['503'] ?? 0).toBeGreaterThan(0);
        expect(stats.rateLimited).toBeGreaterThanOrEqual(6);

        // Not parked: no activity ran out of its 10 attempts.
        const statuses = await Promise.all(started.map((x) => s.status(x.workflowId)));
        const attentionEvents = statuses.flatMap((st) => st.events.filter((e) => e.kind === 'needs_attention'));
        expect(attentionEvents).toEqual([]);
        const lookups = statuses.reduce((n, st) => n + st.lookups, 0);
        const eraseAttempts = statuses.reduce((n, st) => n + st.eraseAttempts, 0);
        // The workflow itself did the minimum: one lookup, one erase, one verification per request.
        expect(lookups).toBe(2 * BATCH);
        expect(eraseAttempts).toBe(BATCH);

        // No call storm. Without faults the batch costs exactly 3 calls a request (lookup, erase,
        // verify: single-page lookups), 30 in all. Every extra call is one activity retry, and
        // retries are paced by the policy (1 s, 2 s, 4 s ... or Retry-After), never by a loop: with
        // roughly half the calls failing while the script runs, each of the 30 activities needs
        // about 2 attempts on average. The ceiling allows 4 per activity (120 calls): twice the
        // expectation, well under the 300 the policy's 10 attempts would permit, and a tight retry
        // loop would blow through it within a second.
        const minimal = 3 * BATCH;
        expect(stats.total).toBeGreaterThanOrEqual(minimal);
        expect(stats.total).toBeLessThanOrEqual(minimal * 4);
        // Every request the simulator saw is one the client made (no hidden retries below the
        // activity), and vice versa.
        expect(s.calls.length).toBe(stats.total);

        console.log(
          `[faults] batch of ${BATCH}: ${elapsedMs} ms; simulator requests ${stats.total} (minimum ${minimal}); ` +
            `faults injected ${stats.faultsInjected} (5xx ${stats.byStatus['503'] ?? 0}, dropped ${stats.byStatus.dropped ?? 0}), ` +
            `429s ${stats.rateLimited}, client timeouts ${timeouts}, client network failures ${networkFailures}; ` +
            `by status ${JSON.stringify(stats.byStatus)}; by route ${JSON.stringify(stats.byRoute)}; ` +
            `already-gone erasures ${results.filter((r) => r.persons[0]?.alreadyGone).length}, ` +
            `simulator erase records ${stats.erasures.length} for ${BATCH} persons`,
        );
      },
    );
  });
});

describe('faults: an erase whose answer is lost', () => {
  it('does not erase twice when Comeet carried out an erase whose answer timed out', async () => {
    await runChaosScenario(
      env,
      'lost answer',
      {
        sim: {
          seed: { candidates: [...person('lost.delete@example.com', 'P-LOSTD', 2), ...person('lost.pseudo@example.com', 'P-LOSTP', 2), ...bystanders(2)] },
        },
        corrupt: () => undefined,
        responseTimeoutMs: RESPONSE_TIMEOUT_MS,
      },
      async (s) => {
        const proxy = s.proxy!;
        // The first erase call of each person reaches Comeet, which erases; its answer arrives too late.
        const held = new Set<string>();
        proxy.setDelay((req) => {
          if (!req.url.startsWith('/person/')) return undefined;
          const uid = req.url.split('/')[2]!;
          if (held.has(uid)) return undefined;
          held.add(uid);
          return RESPONSE_TIMEOUT_MS + 1000;
        });
        const [d, p] = await Promise.all([s.start({ email: 'lost.delete@example.com' }), s.start({ email: 'lost.pseudo@example.com', mode: 'pseudonymize' })]);
        const [rd, rp] = await Promise.all([d.handle.result(), p.handle.result()]);
        expect(rd.outcome).toBe('completed');
        expect(rp.outcome).toBe('completed');
        const erasures = s.sim.stats().erasures;
        // Two calls each reached Comeet: the lost one and the retry.
        expect(
          proxy.seen
            .filter((r) => r.method !== 'GET')
            .map((r) => `${r.method} ${r.url}`)
            .sort(),
        ).toEqual(['DELETE /person/P-LOSTD', 'DELETE /person/P-LOSTD', 'POST /person/P-LOSTP/pseudonymize', 'POST /person/P-LOSTP/pseudonymize']);
        // Delete: the retry answers 404 and counts as already gone; Comeet deleted once.
        expect(erasures.filter((e) => e.personUid === 'P-LOSTD')).toHaveLength(1);
        expect(rd.persons).toMatchObject([{ personUid: 'P-LOSTD', alreadyGone: true }]);
        // Pseudonymize: Comeet (the simulator) accepts a repeat, so it runs twice; harmless
        // (idempotent), but it is a second erase call on Comeet's side.
        expect(erasures.filter((e) => e.personUid === 'P-LOSTP').length).toBeGreaterThanOrEqual(1);
        expect(
          s.sim
            .candidates()
            .filter((c) => c.person_uid === 'P-LOSTP')
            .every((c) => c.pseudonymized),
        ).toBe(true);
        expect(s.sim.candidates().filter((c) => c.deleted || c.pseudonymized)).toHaveLength(4);
        console.log(
          `[faults] lost erase answers: delete → ${erasures.filter((e) => e.personUid === 'P-LOSTD').length} erasure(s), result ${JSON.stringify(rd.persons)}, totals ${JSON.stringify(rd.totals)}; ` +
            `pseudonymize → ${erasures.filter((e) => e.personUid === 'P-LOSTP').length} erasure(s), totals ${JSON.stringify(rp.totals)}`,
        );
      },
    );
  });

  // Known gap (reported): when this request's own delete was carried out but its answer lost, the
  // retry's 404 is recorded as "already gone" with no candidates, so the result and the signed
  // receipt say 0 candidates were erased for a person this request did erase. Flip to `it` once
  // the result names the candidates the lookup found (or flags the erase as possibly ours).
  it('reports the candidates erased by a delete whose answer was lost', async () => {
    await runChaosScenario(
      env,
      'lost answer receipt',
      { sim: { seed: { candidates: person('lost.receipt@example.com', 'P-LOSTR', 2) } }, corrupt: () => undefined, responseTimeoutMs: RESPONSE_TIMEOUT_MS },
      async (s) => {
        let first = true;
        s.proxy!.setDelay((req) => (req.method === 'DELETE' && first ? ((first = false), RESPONSE_TIMEOUT_MS + 1000) : undefined));
        const r = await (await s.start({ email: 'lost.receipt@example.com' })).handle.result();
        expect(s.sim.stats().erasures).toHaveLength(1);
        expect(r.totals).toEqual({ persons: 1, candidates: 2 });
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed answers
// ---------------------------------------------------------------------------------------------

const HTML_ERROR_PAGE = '<!DOCTYPE html><html><head><title>Comeet</title></head><body><h1>We are sorry, something went wrong</h1></body></html>';

function rewriteCandidates(u: UpstreamResponse, edit: (c: Record<string, unknown>) => void): UpstreamResponse {
  const body = JSON.parse(u.body) as { candidates: Record<string, unknown>[] };
  body.candidates.forEach(edit);
  return { ...u, body: JSON.stringify(body) };
}

/** Each corruption of the lookup answer, and what the operator must read in `attention.reason`. */
const MALFORMED: { key: string; corrupt: (u: UpstreamResponse) => UpstreamResponse; reason: RegExp }[] = [
  {
    key: 'html200',
    corrupt: () => ({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: HTML_ERROR_PAGE }),
    reason: /GET \/candidates: HTTP 200 without a JSON body \(content-type text\/html/,
  },
  {
    key: 'empty200',
    corrupt: (u) => ({ ...u, body: '' }),
    reason: /GET \/candidates: HTTP 200 without a JSON body \(content-type application\/json\)/,
  },
  {
    key: 'truncated',
    corrupt: (u) => ({ ...u, body: u.body.slice(0, Math.floor(u.body.length / 2)) }),
    reason: /GET \/candidates: HTTP 200 with a body that is not valid JSON \(truncated\?\)/,
  },
  {
    // A string where a boolean belongs. Read loosely, "no" is truthy: the candidate would count
    // as deleted, the lookup as empty, and the request would end no_data with a receipt.
    key: 'wrongtypes',
    corrupt: (u) => rewriteCandidates(u, (c) => void (c.deleted = 'no')),
    // The reason names the endpoint (the wrong-type test below checks it also names the field).
    reason: /Unexpected response from Comeet on GET \/candidates: /,
  },
  {
    key: 'nopersonuid',
    corrupt: (u) => rewriteCandidates(u, (c) => void delete c.person_uid),
    reason: /Comeet returned candidate \S+ without a person_uid/,
  },
];

const ATTENTION_RETRY_MS = 2000;
const OBSERVE_MS = 5500;

describe('faults: malformed Comeet answers', () => {
  it('parks each request in needs_attention with a typed reason, at one call per retry, erasing nobody; completes once fixed', async () => {
    const subjects = MALFORMED.map((m, i) => ({ ...m, email: `malformed.${m.key}@example.com`, personUid: `P-MAL${i}` }));
    const byEmail = new Map(subjects.map((x) => [x.email, x]));
    await runChaosScenario(
      env,
      'malformed',
      {
        sim: { seed: { candidates: [...subjects.flatMap((x) => person(x.email, x.personUid, 2)), ...bystanders(3)] } },
        corrupt: (req, upstream) => {
          const subject = req.method === 'GET' && req.url.startsWith('/candidates?') && req.email ? byEmail.get(req.email) : undefined;
          return subject && upstream.status === 200 ? subject.corrupt(upstream) : undefined;
        },
        encrypted: true,
      },
      async (s) => {
        const proxy = s.proxy!;
        const started = await Promise.all(subjects.map((x) => s.start({ email: x.email }, { attentionRetryMs: ATTENTION_RETRY_MS })));
        const startedAt = Date.now();
        const parked = await Promise.all(started.map((x) => s.waitForStatus(x.workflowId, (st) => st.phase === 'needs_attention', 15_000)));
        parked.forEach((st, i) => {
          expect(st.attention?.code, subjects[i]!.key).toBe('ComeetInvalidResponse');
          expect(st.attention?.reason, subjects[i]!.key).toMatch(subjects[i]!.reason);
          expect(st.attention?.reason).not.toContain('@');
          expect(st.persons).toEqual([]);
        });

        // Watch a few retry periods: each retry is one lookup call, never a burst.
        await sleep(OBSERVE_MS);
        const elapsed = Date.now() - startedAt;
        const perSubject: Record<string, number> = {};
        for (const [i, x] of subjects.entries()) {
          const st = await s.status(started[i]!.workflowId);
          const calls = proxy.seen.filter((r) => r.email === x.email).length;
          perSubject[x.key] = calls;
          // The activity is not retried (non-retryable): one call per lookup the workflow made...
          expect(calls, x.key).toBe(st.lookups);
          // ...and lookups come once per attention period: ~elapsed / period (+1 for the first).
          expect(calls, x.key).toBeGreaterThanOrEqual(3);
          expect(calls, x.key).toBeLessThanOrEqual(Math.ceil(elapsed / ATTENTION_RETRY_MS) + 1);
          expect(st.phase).toBe('needs_attention');
          // One needs_attention event, not one per retry.
          expect(st.events.filter((e) => e.kind === 'needs_attention')).toHaveLength(1);
          const history = await started[i]!.handle.fetchHistory();
          const events = history.events ?? [];
          // Not a crash loop: no failed workflow task, every activity attempt is its first.
          expect(events.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
          const attempts = events.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : []));
          expect(attempts.length).toBe(calls);
          expect(new Set(attempts)).toEqual(new Set([1]));
          expect((await started[i]!.handle.describe()).status.name).toBe('RUNNING');
        }
        // Not a wrong erasure: no erase call left the worker.
        expect(proxy.seen.filter((r) => r.method !== 'GET' || r.url.startsWith('/person'))).toEqual([]);
        expect(s.sim.stats().erasures).toEqual([]);
        expect(Object.keys(s.sim.stats().byRoute)).toEqual(['GET /candidates']);

        // The integration is fixed; operators re-check: every request completes, for its person only.
        proxy.setCorruptor(undefined);
        await Promise.all(started.map((x) => recheckNow(s.client, x.workflowId, 'reliability-test')));
        const results = await Promise.all(started.map((x) => x.handle.result()));
        results.forEach((r, i) => {
          expect(r.outcome).toBe('completed');
          expect(r.persons.map((p) => p.personUid)).toEqual([subjects[i]!.personUid]);
          expect(r.totals.candidates).toBe(2);
        });
        expect(
          s.sim
            .stats()
            .erasures.map((e) => e.personUid)
            .sort(),
        ).toEqual(subjects.map((x) => x.personUid).sort());
        expect(s.sim.candidates().filter((c) => c.deleted)).toHaveLength(2 * subjects.length);
        for (const x of started) {
          const st = await s.status(x.workflowId);
          expect(st.attention).toBeUndefined();
          expect(st.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['needs_attention', 'recheck_requested', 'attention_cleared', 'finished']));
        }
        console.log(
          `[faults] malformed answers: ${subjects.length} requests parked; lookup calls per request over ${elapsed} ms ` +
            `(attention retry ${ATTENTION_RETRY_MS} ms): ${JSON.stringify(perSubject)}; proxy saw ${proxy.seen.length} requests in all; ` +
            `reasons: ${JSON.stringify(Object.fromEntries(parked.map((st, i) => [subjects[i]!.key, st.attention?.reason])))}`,
        );
      },
    );
  });

  // Known gap (reported): GET /candidates is parsed with a union (page object | bare array), and
  // the client reports only zod's first issue, `invalid_union` at the root, so the reason reads
  // "body: Invalid input" instead of naming `candidates.0.deleted`. Flip to `it` once it names it.
  it('names the offending field when a lookup answer has a wrong type', async () => {
    const server = await jsonServer(200, { candidates: [{ uid: '1.A', person_uid: '2.B', email: 'wrong.types@example.com', deleted: 'no' }] });
    const comeet = new ComeetClient({ baseUrl: server.url, apiKey: API_KEY, secret: SECRET });
    try {
      const err = await comeet.findCandidatesByEmail('wrong.types@example.com').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ComeetInvalidResponseError);
      expect((err as Error).message).toMatch(/candidates\.0\.deleted/);
    } finally {
      await comeet.close();
      await server.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A paged lookup under 5xx (issue 10 item 11)
// ---------------------------------------------------------------------------------------------

const PAGED = 10;
const PAGED_SUBJECTS = 3;
const PAGED_ERROR_RATE = 0.3;

describe('faults: paged lookups under 30% 5xx', () => {
  it('resume at the page they lost instead of page 1, within a bounded number of calls', async () => {
    const subjects = Array.from({ length: PAGED_SUBJECTS }, (_, i) => ({ email: `paged${i}.faults@example.com`, personUid: `P-PAGED${i}` }));
    await runChaosScenario(
      env,
      'paged faults',
      {
        // Page size 1: each subject's ten candidates are ten pages. Comeet's real budget (100 a minute).
        sim: {
          random: seeded(11),
          pageSize: 1,
          faults: { errorRate: PAGED_ERROR_RATE },
          seed: { candidates: [...subjects.flatMap((x) => person(x.email, x.personUid, PAGED)), ...bystanders(3)] },
        },
        corrupt: () => undefined,
      },
      async (s) => {
        const t0 = Date.now();
        const started = await Promise.all(subjects.map((x) => s.start({ email: x.email }, { attentionRetryMs: 2000 })));
        // Lookups are over once a request leaves looking_up (needs_attention = it ran out of attempts).
        const erasing = await Promise.all(
          started.map((x) =>
            s.waitForStatus(x.workflowId, (st) => st.phase !== 'looking_up' && st.phase !== 'needs_attention', 240_000).catch((e: unknown) => e),
          ),
        );
        const lookupMs = Date.now() - t0;
        // The proxy saw every request: the lookup's are its GETs before the first erase of that subject.
        const perLookup = subjects.map((x) => {
          const mine = s.proxy!.seen.filter((r) => r.email === x.email || r.url.startsWith(`/person/${x.personUid}`));
          const firstErase = mine.findIndex((r) => r.method !== 'GET');
          return (firstErase < 0 ? mine : mine.slice(0, firstErase)).length;
        });
        const attempts: number[] = [];
        for (const [i, x] of started.entries()) {
          if (erasing[i] instanceof Error) continue;
          const first = ((await x.handle.fetchHistory()).events ?? []).find((e) => e.activityTaskStartedEventAttributes);
          attempts.push(first?.activityTaskStartedEventAttributes?.attempt ?? 0);
        }
        const stats = s.sim.stats();
        console.log(
          `[faults] paged lookups (${PAGED_SUBJECTS} subjects, ${PAGED} pages of 1 each, ${PAGED_ERROR_RATE * 100}% 5xx): ` +
            `${erasing.filter((e) => !(e instanceof Error)).length}/${PAGED_SUBJECTS} done after ${lookupMs} ms; ` +
            `GET /candidates calls per lookup ${JSON.stringify(perLookup)} (minimum ${PAGED} each); lookup activity attempts ${JSON.stringify(attempts)}; ` +
            `simulator 5xx ${stats.byStatus['503'] ?? 0}, 429s ${stats.rateLimited}, requests ${stats.total}`,
        );
        expect(erasing.filter((e) => e instanceof Error)).toEqual([]);
        const results = await Promise.all(started.map((x) => x.handle.result()));
        results.forEach((r, i) => {
          expect(r.outcome).toBe('completed');
          expect(r.persons.map((p) => p.personUid)).toEqual([subjects[i]!.personUid]);
          expect(r.totals).toEqual({ persons: 1, candidates: PAGED });
        });
        expect(s.sim.candidates().filter((c) => !c.deleted)).toHaveLength(3);
        expect(s.sim.candidates().filter((c) => c.deleted && !subjects.some((x) => x.personUid === c.person_uid))).toEqual([]);
        // A lost page read again where it was lost costs ~1/(1 - 0.3) ≈ 1.4 calls: about 14 a lookup
        // (standard deviation ~2.6; the draws interleave, so runs differ), and an attempt fails only
        // when one page is lost four times running (0.3^4 ≈ 1% a page). Starting again at page 1 on
        // each failure needs dozens of attempts (only 0.7^10 ≈ 3% of them read all ten pages), paced
        // by the growing back-off: on the old code no lookup was done after 4 minutes. (The bound on
        // time is that contrast, not a speed target: 30 s here took 33.5 s on a loaded 2-CPU machine.)
        expect(perLookup.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(PAGED_SUBJECTS * 2 * PAGED);
        for (const n of perLookup) expect(n).toBeLessThanOrEqual(3 * PAGED);
        for (const a of attempts) expect(a).toBeLessThanOrEqual(3);
        expect(lookupMs).toBeLessThan(120_000);
      },
    );
  }, 300_000);
});
