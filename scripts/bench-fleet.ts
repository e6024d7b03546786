/**
 * The bench's fleet phase: `--fleet-tenants` tenants (20 by default), each brought live as an operator
 * would (onboarding, sandbox check, go-live), each its own Comeet account at a scaled limit and its own
 * Comeet queue capped at 96% of it, each with a backlog sized to keep its queue busy for `targetMs`, all
 * at once. Goals: every tenant uses ≥ 95% of its own limit, no 429 anywhere, and the engine keeps up:
 * the workers and the dev server together stay below saturation of the machine's CPUs.
 *
 * The per-tenant limit is Comeet's 100 calls per 60 s × `--fleet-scale` (1 by default, Comeet's real
 * limit): the fleet's total is tenants × the limit, and at ×10 twenty tenants would ask for 20,000 calls a
 * minute, some 110 erasures per second, beyond what one dev server and two workers do on a small machine.
 *
 * The workers' sticky cache holds the fleet's whole backlog (`--fleet-cache` sets it), as README advises
 * for a deployment that expects backlogs: with production's 50 for requests that sleep for days, nearly
 * every workflow task of a backlog misses, and the worker replays the history the server reads again
 * (86% of the machine at 50, 74% and 78% with the backlog cached, in runs of this phase on one machine).
 * The workers' RSS peak is printed: that is the price.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import type { Client } from '@temporalio/client';
import { startErasure } from '../src/client.js';
import { mapPool } from '../src/pool.js';
import { describeQueueRate } from '../src/rate-cap.js';
import { startSimulator } from '../src/simulator/server.js';
import { COMEET_LIMIT_PER_MINUTE, comeetTaskQueue, DEFAULT_COMEET_RATE_PER_MINUTE } from '../src/task-queues.js';
import { tenantQueueRate } from '../src/worker.js';
import { WORKFLOW_TYPE } from '../src/workflow-ids.js';
import { bringTenantLive, TEST_CREDENTIALS_KEY, tenantAccounts } from '../test/helpers/tenants.js';
import { API_KEY, line, mib, pct, SECRET, sec, seedFor, type Shared, sleep, startWorker, subjects, TUNING, untilClosed } from './bench-common.js';
import { cpuMsOf, devServerPid, imageEnv, machineCpuSeconds, memoryOf, treeUsageOf } from './processes.js';

/** Calls per erasure without interviews: lookup, erase, verification. */
const CALLS_PER_ERASURE = 3;
/** "Below saturation": the engine's processes use at most this share of the machine's CPUs. */
const CPU_GOAL = 0.8;

/**
 * A tenant's share of its limit over its backlog's window (its first call to its last), counted in the
 * middle 80%: the server's limiter lets one second's burst through at the start, and the end is the last
 * verifications draining; in `whole`, over the whole window.
 */
export function shareOfLimit(calls: number[], limitPerMinute: number) {
  const from = calls[0]!;
  const to = calls[calls.length - 1]!;
  const ms = to - from;
  const limitPerMs = limitPerMinute / 60_000;
  const mid = calls.filter((t) => t >= from + ms * 0.1 && t < from + ms * 0.9).length;
  return { from, to, ms, n: calls.length, share: mid / (ms * 0.8 * limitPerMs), whole: calls.length / (ms * limitPerMs) };
}

export async function runFleet(
  shared: Shared,
  client: Client,
  o: { tenants: number; scale: number; targetMs: number; workers: number; cache?: number },
): Promise<Record<string, unknown>> {
  const limitPerMinute = COMEET_LIMIT_PER_MINUTE * o.scale;
  const tenantCap = tenantQueueRate(limitPerMinute);
  // Sized so each tenant's queue, at its cap, has work for targetMs.
  const perTenant = Math.max(5, Math.round((o.targetMs / 60_000) * (tenantCap / CALLS_PER_ERASURE)));
  const rate = { limit: limitPerMinute, windowMs: 60_000 };
  const tenants = Array.from({ length: o.tenants }, (_, i) => {
    const id = `fleet-${String(i + 1).padStart(2, '0')}`;
    const people = subjects(id, perTenant);
    return { people, ...tenantAccounts(id, seedFor(people).candidates, rate) };
  });
  const calls: Record<string, number[]> = Object.fromEntries(tenants.map((t) => [t.id, []]));
  const sim = await startSimulator({
    apiKey: API_KEY,
    secret: SECRET,
    rateLimit: rate,
    seed: { candidates: [] },
    accounts: tenants.flatMap((t) => t.accounts),
    log: (l) => {
      const account = / account=(\S+)$/.exec(l)?.[1];
      if (account && calls[account]) calls[account]!.push(Date.now());
    },
  });
  const taskQueue = `bench-fleet-${Date.now()}`;
  const idKey = randomBytes(32).toString('hex');
  // The default account's queue is not used here; its cap is the production default at the same limit.
  const defaultCap = Math.floor((limitPerMinute * DEFAULT_COMEET_RATE_PER_MINUTE) / COMEET_LIMIT_PER_MINUTE);
  // The backlog and the tenants' own workflows, whichever worker each sticks to.
  const stickyCache = o.cache ?? o.tenants * (perTenant + 1) + 10;
  const fleetWorkerEnv = { ...imageEnv(), DSAR_CREDENTIALS_KEY: TEST_CREDENTIALS_KEY, DSAR_MAX_CACHED_WORKFLOWS: String(stickyCache) };
  const workers = await Promise.all(
    Array.from({ length: o.workers }, () => startWorker(shared, taskQueue, sim.url, { limit: limitPerMinute, cap: defaultCap }, fleetWorkerEnv, true)),
  );
  try {
    const live0 = Date.now();
    await mapPool(tenants, 5, (t) => bringTenantLive(client, taskQueue, sim.url, t, limitPerMinute));
    const onboardingMs = Date.now() - live0;
    // Every worker polls every tenant's queue once it has seen the tenant (every 5 s); the cap is set before it polls.
    const queueRates = await mapPool(tenants, 5, async (t) => {
      for (const until = Date.now() + 30_000; ; await sleep(500)) {
        const r = (await describeQueueRate(shared.env.connection.workflowService, 'default', comeetTaskQueue(taskQueue, t.id))).effectivePerSecond;
        if (r !== undefined || Date.now() > until) return r;
      }
    });

    const serverPid = devServerPid();
    const cpuOf = () => ({
      workers: workers.map((w) => treeUsageOf(w.child.pid)?.cpuMs ?? NaN),
      server: cpuMsOf(serverPid) ?? NaN,
      machine: (machineCpuSeconds()?.busy ?? NaN) * 1000,
      at: Date.now(),
    });
    const load0 = loadavg()[0]!;
    const cpu0 = cpuOf();
    const from = Date.now();
    // Interleaved, so every tenant's backlog is there from the first seconds.
    const order = Array.from({ length: perTenant }, (_, i) => tenants.map((t) => ({ tenant: t.id, email: t.people[i]!.email }))).flat();
    const runs = await mapPool(order, 64, (p) => startErasure(client, { email: p.email, tenant: p.tenant }, { taskQueue, idKey, tuning: TUNING }));
    const startedMs = Date.now() - from;
    // Closed by a visibility count (a quarter-second late at most, which the CPU window takes in), the outcomes read after it.
    await untilClosed(client, `WorkflowType="${WORKFLOW_TYPE}" AND TaskQueue="${taskQueue}" AND ExecutionStatus="Running"`, 250);
    const wallMs = Date.now() - from;
    const cpu1 = cpuOf();
    const load1 = loadavg()[0]!;
    const workerPeaks = workers.map((w) => memoryOf(w.child.pid)?.peak ?? NaN);
    const results = await mapPool(runs, 16, (r) => r.handle.result());
    const completed = results.filter((r) => r.outcome === 'completed').length;

    const cpuCount = cpus().length;
    const span = cpu1.at - cpu0.at;
    const perCpu = (ms: number) => ms / span / cpuCount;
    const workerCpu = cpu1.workers.map((c, i) => perCpu(c - cpu0.workers[i]!));
    const serverCpu = perCpu(cpu1.server - cpu0.server);
    const engineCpu = workerCpu.reduce((a, b) => a + b, 0) + serverCpu;
    const machineCpu = perCpu(cpu1.machine - cpu0.machine);

    const stats = sim.statsByAccount();
    const perTenantFigures = tenants.map((t) => {
      const w = shareOfLimit(
        calls[t.id]!.filter((c) => c >= from),
        limitPerMinute,
      );
      return { tenant: t.id, calls: w.n, windowMs: w.ms, share: w.share, shareWholeWindow: w.whole, rateLimited: stats[t.id]!.rateLimited };
    });
    const minShare = Math.min(...perTenantFigures.map((t) => t.share));
    const total429 = perTenantFigures.reduce((a, t) => a + t.rateLimited, 0);
    const goals = { everyShare: minShare >= 0.95, no429: total429 === 0, engineKeepsUp: engineCpu < CPU_GOAL };

    const rateText = [...new Set(queueRates.map((r) => (r === undefined ? 'none' : `${(r * 60).toFixed(0)}/min`)))].join(', ');
    console.log(
      `\n7. Fleet: ${o.tenants} tenants, each its own account at ${limitPerMinute} calls/60 s (Comeet's 100 × ${o.scale}) and its own queue capped at ` +
        `${tenantCap}/min (server: ${rateText}), each a backlog of ${perTenant} (${o.tenants * perTenant} in all) at once, ${o.workers} compiled worker(s), ` +
        `sticky cache ${stickyCache} each (production 50)`,
    );
    line('brought live (onboarding, sandbox check, go-live)', `${o.tenants} in ${sec(onboardingMs)}`);
    line('completed', `${completed} / ${runs.length} in ${sec(wallMs)} (all started after ${sec(startedMs)})`);
    console.log(
      `  ${'tenant'.padEnd(12)} ${'share of its limit'.padStart(20)} ${'(whole window)'.padStart(15)} ${'calls'.padStart(6)} ${'window'.padStart(9)} ${'429s'.padStart(5)}`,
    );
    for (const t of perTenantFigures)
      console.log(
        `  ${t.tenant.padEnd(12)} ${pct(t.share).padStart(20)} ${pct(t.shareWholeWindow).padStart(15)} ${String(t.calls).padStart(6)} ${sec(t.windowMs).padStart(9)} ${String(t.rateLimited).padStart(5)}`,
      );
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    line('min share of its own limit (middle 80%)', `${pct(minShare)}   goal ≥ 95%   ${verdict(goals.everyShare)}`);
    line('429s in all', `${total429}   goal 0   ${verdict(goals.no429)}`);
    line(
      'CPU of workers + dev server, of the machine',
      `${pct(engineCpu)} of ${cpuCount} CPUs (workers ${workerCpu.map(pct).join(' + ')}, dev server ${pct(serverCpu)})   goal < ${pct(CPU_GOAL)}   ${verdict(goals.engineKeepsUp)}`,
    );
    line(`worker RSS peak (VmHWM), cache ${stickyCache}`, workerPeaks.map(mib).join(' / '));
    line('machine busy (all processes, neighbours too)', `${pct(machineCpu)}; 1-min load ${load0.toFixed(2)} → ${load1.toFixed(2)}`);
    if (completed !== runs.length) throw new Error(`fleet: only ${completed} of ${runs.length} erasures completed`);
    return {
      tenants: o.tenants,
      limitPerMinute,
      tenantCapPerMinute: tenantCap,
      queueRatesPerSecond: queueRates,
      backlogPerTenant: perTenant,
      workers: o.workers,
      stickyCachePerWorker: stickyCache,
      workerRssPeakBytes: workerPeaks,
      onboardingMs,
      wallMs,
      completed,
      perTenant: perTenantFigures,
      minShare,
      rateLimited: total429,
      cpuShareOfMachine: { engine: engineCpu, workers: workerCpu, devServer: serverCpu, machine: machineCpu, cpus: cpuCount },
      loadAverage1m: { before: load0, after: load1 },
      goals,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await sim.close();
  }
}
