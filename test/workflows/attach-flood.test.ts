/**
 * A flood of callers joining one waiting request: every attach is an update (two events or more) and
 * each registration grows the lists the run publishes. Neither the history (continue-as-new) nor the
 * search attributes (the server ends a run whose keyword list passes 2 KiB) may end the run.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { ErasureConflictError, erasureHandle, recheckNow } from '../../src/client.js';
import { DsarCallers, DsarRequestIds } from '../../src/search-attributes.js';
import { interviewing, runScenario } from '../helpers/scenario.js';
import { callbackWorker, startReceiver } from '../helpers/callbacks.js';
import { useDevServer } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

/** Runs `work` over `items`, `limit` at a time. */
async function pooled<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!);
      }
    }),
  );
  return out;
}

/** Each run of the chain with its event count, first to last. */
async function runsOf(workflowId: string, firstRunId: string): Promise<number[]> {
  const out: number[] = [];
  for (let runId: string | undefined = firstRunId; runId;) {
    const history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    out.push(events.length);
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return out;
}

describe('an attach flood', () => {
  it('takes 1,000 attaches of 120-character ids to a waiting request without refusing or ending it, and tells every callback', async () => {
    const receiver = await startReceiver();
    try {
      await runScenario(
        env,
        'attach flood',
        { seed: { candidates: [interviewing('flood@example.com', 'P-FLOOD', '+1d')] } },
        async (s) => {
          const email = 'flood@example.com';
          const first = await s.start({ email, requestId: 'F-0', caller: 'svc' }, { attentionRetryMs: 60_000 });
          await s.waitForPhase(first.workflowId, 'waiting_for_interviews');
          const n = 1000;
          const callers = ['svc', 'portal', 'ops', 'legal'];
          const requests = Array.from({ length: n }, (_, i) => ({
            email,
            requestId: `flood-${String(i + 1).padStart(4, '0')}-${'x'.repeat(109)}`,
            caller: callers[i % callers.length]!,
            // Every 20th asks for a callback: 50 real receivers' worth, under the bound of 100.
            ...(i % 20 === 0 ? { callbackUrl: `${receiver.url}?n=${i}` } : {}),
          }));
          const began = Date.now();
          const answers = await pooled(requests, 20, (r) =>
            s.start(r).then(
              (a) => a.status,
              (err: unknown) => (err instanceof ErasureConflictError ? `refused:${err.code}` : `error:${err instanceof Error ? err.message : String(err)}`),
            ),
          );
          const seconds = (Date.now() - began) / 1000;
          const tally = answers.reduce<Record<string, number>>((m, a) => ({ ...m, [a]: (m[a] ?? 0) + 1 }), {});
          expect(tally).toEqual({ attached: n });

          const d = await erasureHandle(s.client, first.workflowId).describe();
          expect(d.status.name).toBe('RUNNING');
          const ids = d.typedSearchAttributes.get(DsarRequestIds) ?? [];
          // What the server measures: the JSON of the keyword list, limited to 2 KiB.
          expect(ids.length).toBeGreaterThan(1);
          expect(Buffer.byteLength(JSON.stringify(ids))).toBeLessThan(2048);
          expect(Buffer.byteLength(JSON.stringify(d.typedSearchAttributes.get(DsarCallers) ?? []))).toBeLessThan(2048);
          expect((d.typedSearchAttributes.get(DsarCallers) ?? []).sort()).toEqual([...callers].sort());
          const st = await s.status(first.workflowId);
          expect(st.phase).toBe('waiting_for_interviews');
          expect(st.requests).toHaveLength(n + 1);
          expect(st.lookups).toBe(1);

          s.sim.completeInterviews('P-FLOOD');
          await recheckNow(s.client, first.workflowId, 'test');
          const r = await first.handle.result();
          expect(r.outcome).toBe('completed');
          expect(r.requestId).toBe('F-0');
          expect(s.sim.stats().erasures).toHaveLength(1);
          const wanted = requests.filter((x) => x.callbackUrl).length;
          await s.waitForStatus(first.workflowId, () => receiver.received.length >= wanted, 60_000);
          expect(new Set(receiver.received.map((p) => p.requestId)).size).toBe(wanted);
          expect(receiver.received.every((p) => p.outcome === 'completed' && p.id === first.workflowId)).toBe(true);

          const runs = await runsOf(first.workflowId, first.runId);
          for (const events of runs) expect(events).toBeLessThan(5000);
          // Closed: the last of the flood still replays from what the run recorded.
          expect(await s.start(requests[n - 1]!)).toMatchObject({ status: 'replayed', runStatus: 'COMPLETED' });
          const end = await s.status(first.workflowId);
          console.log(
            `1,000 attaches (20 at a time) in ${seconds.toFixed(1)} s: ${JSON.stringify(tally)}; ${runs.length} run(s), events per run ${runs.join(', ')}; ` +
              `DsarRequestIds keeps ${ids.length} id(s) (${Buffer.byteLength(JSON.stringify(ids))} bytes); ${end.requests?.length} registrations, ${receiver.received.length} callbacks delivered`,
          );
          expect(end.runsContinued).toBe(runs.length - 1);
        },
        callbackWorker,
      );
    } finally {
      await receiver.close();
    }
  }, 600_000);
});
