/**
 * N erasures on a fresh worker, each blocked by an interview: started at once, measured once every one
 * waits on its timer, then resumed. What a waiting request costs a worker, for scripts/workflow-memory.ts
 * (per cache size, bundle, runner) and the bench's growth phase (per number of requests).
 */
import type { Client } from '@temporalio/client';
import { recheckNow, startErasure, type StartedErasure } from '../src/client.js';
import type { TuningInput } from '../src/erasure-request.js';
import type { ErasureResult } from '../src/erasure-status.js';
import { mapPool } from '../src/pool.js';
import type { Simulator } from '../src/simulator/types.js';
import { treeUsageOf, type WorkerProc } from './processes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Usage {
  /** Bytes, the worker with its descendants. */
  rss: number;
  /** ms, user + system. */
  cpuMs: number;
}

function usage(worker: WorkerProc): Usage & { peak: number } {
  const u = treeUsageOf(worker.child.pid);
  if (!u) throw new Error(`no /proc figures for worker process ${worker.child.pid} (this needs Linux)`);
  return u;
}

/** Samples the worker's RSS every `everyMs` until stopped: the highest sum, and the VmHWM the kernel kept. */
function peakSampler(worker: WorkerProc, everyMs = 500) {
  let peak = 0;
  const take = () => {
    const u = treeUsageOf(worker.child.pid);
    if (u) peak = Math.max(peak, u.rss);
  };
  take();
  const timer = setInterval(take, everyMs);
  return () => {
    clearInterval(timer);
    take();
    return Math.max(peak, treeUsageOf(worker.child.pid)?.peak ?? 0);
  };
}

export interface WaitingLoad {
  idle: Usage;
  waiting: Usage;
  /** Highest RSS from the first start until all waited. */
  peakRss: number;
  /** From the first start: all started; all waiting on their timers. */
  startMs: number;
  allWaitingMs: number;
  runs: StartedErasure[];
}

/**
 * Starts an erasure for each of `people` (seeded in `sim` with an interview far ahead) on `taskQueue`,
 * which only `worker` polls, and returns once each has looked up and been refused (two calls each) and
 * the last workflow tasks have settled into their timers.
 */
export async function startWaiting(o: {
  client: Client;
  worker: WorkerProc;
  sim: Simulator;
  people: { email: string }[];
  taskQueue: string;
  idKey: string;
  tuning: TuningInput;
}): Promise<WaitingLoad> {
  const n = o.people.length;
  const callsBefore = o.sim.stats().total;
  await sleep(3000); // the worker's start-up settles
  const idle = usage(o.worker);
  const peak = peakSampler(o.worker);
  const t0 = Date.now();
  const runs = await mapPool(o.people, 100, (p) => startErasure(o.client, { email: p.email }, { taskQueue: o.taskQueue, idKey: o.idKey, tuning: o.tuning }));
  const startMs = Date.now() - t0;
  while (o.sim.stats().total - callsBefore < n * 2) await sleep(500);
  await sleep(3000);
  const allWaitingMs = Date.now() - t0;
  const waiting = usage(o.worker);
  return { idle, waiting, peakRss: peak(), startMs, allWaitingMs, runs };
}

/** Every interview of `people` done, `recheckNow` to each run, and each one's result: how long, how many completed, the peak RSS meanwhile. */
export async function resumeAll(o: { client: Client; worker: WorkerProc; sim: Simulator; people: { personUid: string }[]; runs: StartedErasure[] }) {
  const peak = peakSampler(o.worker);
  const t0 = Date.now();
  for (const p of o.people) o.sim.completeInterviews(p.personUid);
  await mapPool(o.runs, 100, (r) => recheckNow(o.client, r.workflowId, 'bench'));
  const results: ErasureResult[] = await mapPool(o.runs, 200, (r) => r.handle.result());
  const resumeMs = Date.now() - t0;
  return { completed: results.filter((r) => r.outcome === 'completed').length, resumeMs, peakRss: peak() };
}
