/**
 * Waits of days and weeks, run in seconds on Temporal's time-skipping test server. The simulator's
 * clock is moved with Temporal's, so interviews end when (skipped) workflow time passes them.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { dsarErasure, dsarFollowUp } from '../../src/workflows/index.js';
import type { SimCandidateSeed, Simulator } from '../../src/simulator/server.js';
import { interviewing, person, runScenario } from '../helpers/scenario.js';
import { startTimeSkippingServer, workflowBundle } from '../helpers/temporal.js';

const DAY = 86_400_000;
let env: TestWorkflowEnvironment;

// A server per test: skipped time is global to a server, and on the test server a follow-up that
// completes after its (abandoned) parent closed keeps time-skipping locked for the rest of its life.
beforeAll(async () => {
  await workflowBundle();
});
beforeEach(async () => {
  env = await startTimeSkippingServer();
});
afterEach(async () => {
  await env?.teardown();
});

/**
 * Skipped time is global to the test server, so a simulator created after an earlier test's skip
 * starts behind: move it to Temporal's time, then seed (relative seed times use the simulator clock).
 */
async function seedAtTemporalTime(sim: Simulator, candidates: SimCandidateSeed[]): Promise<void> {
  const t = await env.currentTimeMs();
  if (t > sim.now()) sim.advanceClock(t - sim.now());
  for (const c of candidates) sim.addCandidate(c);
}

/** Keeps the simulator's clock at Temporal's (skipped) time until `work` settles. */
async function followTemporalClock<T>(sim: Simulator, work: Promise<T>): Promise<T> {
  let done = false;
  const loop = (async () => {
    while (!done) {
      const t = await env.currentTimeMs();
      if (t > sim.now()) sim.advanceClock(t - sim.now());
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    return await work;
  } finally {
    done = true;
    await loop;
  }
}

/** Production timings (1.5 h margin, 1 h → 24 h back-off, 7-day follow-up) unless a test says otherwise. */
const PRODUCTION = { interviewMarginMs: 90 * 60_000, backoffInitialMs: 3_600_000, backoffMaxMs: DAY, verifyRetryMs: 60_000, followUpDelayMs: 0 };

describe('long waits on the time-skipping server', () => {
  it('sleeps until just after an interview 10 days out, spending two erase calls', async () => {
    await runScenario(env, 'ten days', {}, async (s) => {
      await seedAtTemporalTime(s.sim, [interviewing('tendays@example.com', 'P-10', '+10d')]);
      const realStart = Date.now();
      const { handle, workflowId } = await s.start({ email: 'tendays@example.com' }, PRODUCTION);
      const st = await s.waitForPhase(workflowId, 'waiting_for_interviews');
      const wake = Date.parse(st.persons[0]!.nextCheckAt!);
      const interviewAt = Date.parse(s.sim.candidates()[0]!.current_steps[0]!.time_scheduled!);
      expect(wake - interviewAt).toBe(90 * 60_000);
      // The interview is over by the time the workflow wakes (10 d + 90 min later).
      s.sim.advanceClock(10 * DAY + 2 * 3_600_000);
      const r = await handle.result();
      expect(r.outcome).toBe('completed');
      expect(Date.parse(r.finishedAt) - Date.parse(r.startedAt)).toBeGreaterThan(10 * DAY);
      // Ten days of waiting cost one extra call, not a poll every hour.
      expect(s.sim.stats().byRoute).toEqual({ 'GET /candidates': 2, 'DELETE /person/:uid': 2 });
      expect(Date.now() - realStart).toBeLessThan(60_000);
    });
  });

  it('backs off from 1 h to 24 h while a block outlasts the known schedule', async () => {
    // An interview that started an hour ago and runs three days (an on-site assessment, say).
    await runScenario(env, 'backoff', {}, async (s) => {
      await seedAtTemporalTime(s.sim, [interviewing('backoff@example.com', 'P-B', '-1h', 3 * 24 * 60)]);
      const { handle, workflowId } = await s.start({ email: 'backoff@example.com' }, PRODUCTION);
      const r = await followTemporalClock(s.sim, handle.result());
      expect(r.outcome).toBe('completed');
      const st = await s.status(workflowId);
      const waits = st.events
        .filter((e) => e.kind === 'blocked')
        .map((e, i, all) => (i === 0 ? 0 : Date.parse(e.at) - Date.parse(all[i - 1]!.at)))
        .slice(1);
      // 1 h, 2 h, 4 h, 8 h, 16 h, 24 h, 24 h ... : doubling, capped at a day.
      expect(waits.slice(1, 6).map((w) => Math.round(w / 3_600_000))).toEqual([1, 2, 4, 8, 16]);
      expect(Math.max(...waits)).toBeLessThanOrEqual(DAY + 60_000);
      expect(st.persons[0]!.attempts).toBeLessThan(12);
    });
  });

  it('a follow-up that finds nobody ends quietly', async () => {
    await runScenario(env, 'follow up clean', {}, async (s) => {
      await seedAtTemporalTime(s.sim, person('gone@example.com', 'P-GONE'));
      const { handle } = await s.start({ email: 'gone@example.com' }, { ...PRODUCTION, followUpDelayMs: 7 * DAY });
      const first = await handle.result();
      const fr = await followTemporalClock(s.sim, env.client.workflow.getHandle<typeof dsarFollowUp>(first.followUp!.workflowId).result());
      expect(fr).toMatchObject({ reappeared: false, personUids: [] });
      expect(s.sim.stats().byRoute).toEqual({ 'GET /candidates': 3, 'DELETE /person/:uid': 1 });
    });
  });
  it('follows up 7 days later and erases a person who reappeared', async () => {
    await runScenario(env, 'follow up', {}, async (s) => {
      await seedAtTemporalTime(s.sim, person('again@example.com', 'P-AGAIN'));
      const { handle, workflowId } = await s.start({ email: 'again@example.com', requestId: 'req-again' }, { ...PRODUCTION, followUpDelayMs: 7 * DAY });
      const first = await handle.result();
      expect(first.outcome).toBe('completed');
      expect(first.followUp?.workflowId).toContain(workflowId);
      expect(Math.abs(Date.parse(first.followUp!.at) - Date.parse(first.finishedAt) - 7 * DAY)).toBeLessThan(1000);

      // A new application arrives under the same email after the erasure.
      s.sim.addCandidate({ first_name: 'Re', last_name: 'Applied', email: 'Again@Example.com', status: 'Rejected' });
      const followUp = env.client.workflow.getHandle<typeof dsarFollowUp>(first.followUp!.workflowId);
      const fr = await followTemporalClock(s.sim, followUp.result());
      expect(fr).toMatchObject({ reappeared: true, erasureStarted: workflowId, erasureOutcome: 'completed' });

      const second = env.client.workflow.getHandle<typeof dsarErasure>(workflowId);
      const r2 = await followTemporalClock(s.sim, second.result());
      expect(r2.outcome).toBe('completed');
      expect(r2.requestId).toBe('req-again');
      // The re-erasure continues the same request: the regulation's clock runs from the original receipt.
      expect(r2.receivedAt).toBe(first.receivedAt);
      expect(r2.deadline).toBe(first.deadline);
      expect(s.sim.stats().erasures).toHaveLength(2);
      expect(s.sim.candidates().every((c) => c.deleted)).toBe(true);
      // The re-erasure schedules its own follow-up in turn (see the note on the server per test for
      // why this test does not skip ahead to it).
      const next = await env.client.workflow.getHandle(r2.followUp!.workflowId).describe();
      expect(next.status.name).toBe('RUNNING');
    });
  });
});
