/**
 * One Comeet activity queue per tenant, each capped by the Temporal server (UpdateTaskQueueConfig):
 * each queue stays under its own cap, and one tenant's backlog does not delay another's tasks. The
 * caps are scaled (120/min and 60/min) and the windows short (5 s over 20 s) so the file runs in
 * well under a minute; plain activities that record when they start, no Comeet.
 */
import { fileURLToPath } from 'node:url';
import { activityInfo } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeQueueRate, ensureQueueRate } from '../../src/rate-cap.js';
import type { BatchInput } from '../helpers/dispatch-workflows.js';
import { taskQueueFor, useDevServer } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../helpers/dispatch-workflows.ts', import.meta.url)),
    logger: new DefaultLogger('WARN'),
  });
});

interface Start {
  tag: string;
  scheduled: number;
  started: number;
}

function recorder(into: Start[]) {
  return {
    async record(tag: string) {
      into.push({ tag, scheduled: activityInfo().scheduledTimestampMs, started: Date.now() });
    },
  };
}

/** The most starts in any window of `ms` milliseconds (each window opening at a start). */
function peakInWindow(starts: number[], ms: number): number {
  const s = [...starts].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (j < s.length && s[j]! < s[i]! + ms) j++;
    peak = Math.max(peak, j - i);
  }
  return peak;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function activityWorker(taskQueue: string, into: Start[]): Promise<Worker> {
  // Far more slots than the caps: any limit seen is the server's, not the worker's.
  return Worker.create({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    activities: recorder(into),
    maxConcurrentActivityTaskExecutions: 500,
  });
}

describe('a Comeet queue per tenant', () => {
  it('caps each tenant at its own rate, and a backlog on one does not delay the other', async () => {
    const base = taskQueueFor('tenant queues');
    const queueA = `${base}-comeet-tenant-a`;
    const queueB = `${base}-comeet-tenant-b`;
    const uncapped = `${base}-comeet-uncapped`;
    const capA = 2; // per second: 120/min
    const capB = 1; // 60/min
    for (const [taskQueue, perSecond] of [
      [queueA, capA],
      [queueB, capB],
    ] as const) {
      const set = await ensureQueueRate(env.connection.workflowService, {
        namespace: 'default',
        taskQueue,
        perMinute: perSecond * 60,
        identity: 'test',
        reason: 'tenant budget',
      });
      expect(set).toMatchObject({ action: 'set', rate: { source: 'api', effectivePerSecond: perSecond } });
    }
    expect((await describeQueueRate(env.connection.workflowService, 'default', uncapped)).api).toBeUndefined();

    const starts: Start[] = [];
    const workers = await Promise.all([queueA, queueB, uncapped].map((q) => activityWorker(q, starts)));
    const workflows = await Worker.create({ connection: env.nativeConnection, namespace: 'default', taskQueue: base, workflowBundle: bundle });
    const run = (tag: string, input: Omit<BatchInput, 'tag'>) =>
      env.client.workflow.start('scheduleBatch', { taskQueue: base, workflowId: `${base}-${tag}`, args: [{ ...input, tag }] });
    const of = (tag: string) => starts.filter((s) => s.tag === tag);
    const waits = (tag: string) => of(tag).map((s) => s.started - s.scheduled);

    const go = async () => {
      // The same 200 activities on a queue without a cap: what the workers take without the server's limit.
      const free = await run('uncapped', { activityQueue: uncapped, count: 200 });
      await free.result();
      const u = of('uncapped').map((s) => s.started);
      const uncappedPerSecond = u.length / Math.max((Math.max(...u) - Math.min(...u)) / 1000, 0.001);
      // B idle: what a tenant's task waits on a quiet system.
      await (await run('b-idle', { activityQueue: queueB, count: 3, intervalMs: 1200 })).result();

      // A's backlog, then B's tasks trickling in below B's cap, then a burst from B above it.
      const t0 = Date.now();
      const handles = [await run('a', { activityQueue: queueA, count: 200 })];
      await sleep(2000);
      handles.push(await run('b-trickle', { activityQueue: queueB, count: 8, intervalMs: 1500 }));
      await sleep(11_000);
      handles.push(await run('b-burst', { activityQueue: queueB, count: 12 }));
      await sleep(Math.max(0, t0 + 20_000 - Date.now()));
      const measuredMs = Date.now() - t0;
      await Promise.all(handles.map((h) => h.terminate('measured').catch(() => undefined)));
      return { uncappedPerSecond, measuredMs };
    };
    // Every worker runs until `go` is done (runUntil shuts each down afterwards).
    const runAll = workers.reduce<() => Promise<Awaited<ReturnType<typeof go>>>>((inner, w) => () => w.runUntil(inner), go);
    const { uncappedPerSecond, measuredMs } = await workflows.runUntil(runAll);

    const a = of('a').map((s) => s.started);
    const b = [...of('b-trickle'), ...of('b-burst')].map((s) => s.started);
    const windowMs = 5000;
    // The server's limiter lets one second's worth through as a burst on top of the rate; 10% and
    // one task for timing jitter (uncapped, the 200 would go in about a second).
    const allowed = (cap: number, ms: number) => cap * (ms / 1000 + 1) * 1.1 + 1;
    const idle = median(waits('b-idle'));
    const trickle = median(waits('b-trickle'));
    console.log(
      `[tenant-queues] uncapped ${uncappedPerSecond.toFixed(0)}/s; A ${a.length} in ${(measuredMs / 1000).toFixed(1)} s (cap ${capA}/s), peak ${peakInWindow(a, windowMs)} per ${windowMs / 1000} s; ` +
        `B ${b.length} (cap ${capB}/s), peak ${peakInWindow(b, windowMs)} per ${windowMs / 1000} s; B wait median idle ${idle} ms, during A's backlog ${trickle} ms; A's median wait ${median(waits('a'))} ms`,
    );

    // Without a cap the same workers take the backlog far faster than either cap.
    expect(uncappedPerSecond).toBeGreaterThan(capA * 10);
    // A: under its cap in every window, and at about its cap overall (a backlog is there all along).
    expect(peakInWindow(a, windowMs)).toBeLessThanOrEqual(allowed(capA, windowMs));
    expect(a.length).toBeLessThanOrEqual(allowed(capA, measuredMs));
    expect(a.length).toBeGreaterThanOrEqual(capA * (measuredMs / 1000) * 0.75);
    // B: under its own, lower cap when it has a burst of its own.
    expect(peakInWindow(b, windowMs)).toBeLessThanOrEqual(allowed(capB, windowMs));
    expect(of('b-burst').length).toBeLessThan(12);
    expect(of('b-trickle')).toHaveLength(8);
    // B's tasks below its cap start as on a quiet system, though A has ~150 waiting (at 2/s on a
    // shared queue they would wait over a minute).
    expect(trickle).toBeLessThanOrEqual(idle + 250);
    expect(Math.max(...waits('b-trickle'))).toBeLessThan(1000);
    expect(of('a').length).toBeLessThan(200 - 100);
  });
});
