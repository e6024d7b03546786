/**
 * A request that waits the whole GDPR maximum (3 months) with several persons and many messages must
 * stay under Temporal's history limits (4,096 suggested, 51,200 ends a run): it continues as a new
 * run, carrying its state. Run on the time-skipping server, with the simulator's clock kept behind
 * Temporal's (never ahead) so an interview never ends early.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { extendDeadline, recheckNow } from '../../src/client.js';
import { verifyReceipt } from '../../src/receipt/index.js';
import { addMonths } from '../../src/deadlines.js';
import type { Simulator } from '../../src/simulator/server.js';
import { testReceiptKeys } from '../helpers/receipts.js';
import { person, runScenario } from '../helpers/scenario.js';
import { startTimeSkippingServer, workflowBundle } from '../helpers/temporal.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  await workflowBundle();
});
beforeEach(async () => {
  env = await startTimeSkippingServer();
});
afterEach(async () => {
  await env?.teardown();
});

async function syncClock(sim: Simulator): Promise<void> {
  const t = await env.currentTimeMs();
  if (t > sim.now()) sim.advanceClock(t - sim.now());
}

/** Every run of a workflow id's chain, first to last, with its history's event count. */
async function runsOf(workflowId: string, firstRunId: string): Promise<{ runId: string; events: number }[]> {
  const out: { runId: string; events: number }[] = [];
  for (let runId: string | undefined = firstRunId; runId;) {
    const history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    out.push({ runId, events: events.length });
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return out;
}

describe('a request blocked for the whole GDPR maximum', () => {
  it('waits 92 days with 3 blocked persons and 200 messages, each run far under 5,000 events, and completes as one request', async () => {
    // Three months of Comeet calls arrive within minutes of real time: the simulator's per-minute limit is off.
    await runScenario(env, 'long history', { rateLimit: null }, async (s) => {
      // GDPR allows three months: start on a day whose three months are 92 days.
      const now = await env.currentTimeMs();
      let skip = 0;
      while (addMonths(new Date(now + skip * DAY), 3).getTime() - (now + skip * DAY) < 92 * DAY) skip++;
      if (skip) await env.sleep(skip * DAY);
      await syncClock(s.sim);
      const start = await env.currentTimeMs();

      const email = 'long.wait@example.com';
      const uids = ['P-LONG-1', 'P-LONG-2', 'P-LONG-3'];
      // Interviews that started an hour ago and run 91 days: no schedule to wait for, so the
      // workflow re-checks on its back-off (1 h doubling to 12 h here; 24 h in production).
      for (const uid of uids) {
        const [seed] = person(email, uid);
        const c = s.sim.addCandidate(seed!);
        s.sim.scheduleInterview(c.uid, new Date(start - HOUR), 91 * 24 * 60 + 60);
      }
      const tuning = {
        interviewMarginMs: 90 * 60_000,
        backoffInitialMs: HOUR,
        backoffMaxMs: 12 * HOUR,
        attentionRetryMs: 4 * HOUR,
        verifyRetryMs: 60_000,
        followUpDelayMs: 0,
      };
      const first = await s.start({ email, requestId: 'LONG-0', caller: 'svc' }, tuning);
      const st0 = await s.waitForStatus(first.workflowId, (x) => x.phase === 'waiting_for_interviews' && x.persons.length === 3, 60_000);
      const maxDeadline = addMonths(new Date(st0.receivedAt), 3).toISOString();

      // 200 messages over 91.3 days: one deadline extension (to the GDPR maximum), re-checks, attaches.
      const messages = 200;
      const step = Math.floor((91.3 * DAY) / messages);
      let attached = 0;
      for (let i = 1; i <= messages; i++) {
        await env.sleep(step);
        await syncClock(s.sim);
        if (i === 1) await extendDeadline(s.client, first.workflowId, maxDeadline, { reason: 'interviews under way', actor: 'ops' });
        else if (i % 2 === 1 || i === messages) await recheckNow(s.client, first.workflowId, 'ops');
        else {
          const a = await s.start({ email, requestId: `LONG-${i}`, caller: i % 4 === 0 ? 'svc' : 'portal' }, tuning);
          expect(a.status).toBe('attached');
          attached++;
        }
      }
      const r = await first.handle.result().catch(async (err: unknown) => {
        const st = await s.status(first.workflowId).catch(() => undefined);
        console.log(
          JSON.stringify(
            { attention: st?.attention, persons: st?.persons, events: st?.events.slice(-30), runs: await runsOf(first.workflowId, first.runId) },
            null,
            1,
          ),
        );
        throw err;
      });
      const runs = await runsOf(first.workflowId, first.runId);
      console.log(
        `92-day wait, 3 persons, ${messages} messages: ${runs.length} run(s), events per run ${runs.map((x) => x.events).join(', ')} (total ${runs.reduce((n, x) => n + x.events, 0)})`,
      );
      console.log(`erase attempts ${r.eraseAttempts}, lookups ${r.lookups}, from ${r.startedAt} to ${r.finishedAt}`);

      expect(runs.length).toBeGreaterThan(1);
      for (const run of runs) expect(run.events).toBeLessThan(5000);
      expect(Date.parse(r.finishedAt) - start).toBeGreaterThan(91 * DAY);

      expect(r.outcome).toBe('completed');
      expect(r.persons.map((p) => p.personUid).sort()).toEqual(uids);
      expect(
        s.sim
          .stats()
          .erasures.map((e) => e.personUid)
          .sort(),
      ).toEqual(uids);
      // Counted across every run: each DELETE the simulator saw is one attempt, the blocked ones included.
      expect(r.eraseAttempts).toBe(s.sim.stats().byRoute['DELETE /person/:uid']);
      expect(r.eraseAttempts).toBeGreaterThan(3 * 200);
      // One lookup and one verification: a continued run never looks the subject up again.
      expect(r.lookups).toBe(2);
      // The request's clock is the first run's; the extension carried through every run.
      expect(r.startedAt).toBe(st0.receivedAt);
      expect(r.receivedAt).toBe(st0.receivedAt);
      expect(r.deadline).toBe(maxDeadline);
      const { receipt } = await verifyReceipt(r.receipt!, { jwks: (await testReceiptKeys()).jwks });
      expect(receipt).toMatchObject({
        outcome: 'completed',
        workflowId: first.workflowId,
        requestId: 'LONG-0',
        startedAt: r.startedAt,
        totals: { persons: 3, candidates: 3 },
      });

      const st = await s.status(first.workflowId);
      expect(st.runsContinued).toBe(runs.length - 1);
      expect(st.requests?.length).toBe(1 + attached);
      expect(st.events.filter((e) => e.kind === 'erased')).toHaveLength(3);
    });
  }, 600_000);
});
