/**
 * `npm run bench`: comeet-dsar at Comeet's ceiling, measured in one run against a real Temporal dev
 * server, real worker processes and the Comeet simulator. Not part of the test suite.
 *
 * Comeet allows 100 calls per 60 s. The simulator's limit is scaled up (`--scale`, default 10 →
 * 1,000 per 60 s) so the run takes minutes; the workers' cap is the production default, 96% of
 * the limit, enforced by the Temporal server on the Comeet queue, shared by `--workers` processes.
 *
 *   1. backlog      `--erasures` unblocked requests at once: erasures/s, share of the allowed rate,
 *                   429s, calls per erasure, start→completed p50/p95, history events per erasure
 *   2. steady       requests arriving at 80% of capacity: start→completed p50/p95 without a queue
 *   3. plain script the backlog's workload with the same Comeet client, no Temporal: our overhead
 *   4. growth       requests blocked by interviews at once, `--growth 1000,3000,10000` (`--quick`: 200,1000), each
 *                   size on a fresh compiled worker as the image runs it: a line per size with worker RSS idle /
 *                   all waiting / peak, history events per waiting request, seconds until all wait and until
 *                   all resumed and completed, and the MiB per 1,000 requests between lines (scripts/bench-growth.ts)
 *   5. tenants      (only with --phases tenants) two tenants, each its own account at the scaled limit and
 *                   its own queue capped at 96% of it: A gets `--erasures` at once; B, meanwhile, 30
 *                   arriving one each 1.5 s (slower below --scale 10, to stay under half of B's cap; p95
 *                   against the same 30 with A idle, measured first), then
 *                   a backlog of its own sized to end inside A's; each one's share of its own limit, 429s
 *   6. engine       Comeet unlimited (simulator limit and queue cap lifted), one compiled worker (`npm run
 *                   build`, `node dist/worker.js`): `--engine-erasures` simple erasures at once, `--rounds`
 *                   times after a warm-up: erasures/s beside a plain script's (the same three calls, unpaced,
 *                   no Temporal), history events and workflow tasks per erasure, CPU per erasure; medians
 *   7. fleet        `--fleet-tenants` tenants (20; `--quick` 5) brought live, each its own account at Comeet's
 *                   100 calls/60 s × `--fleet-scale` (1) and its own queue capped at 96%, each a backlog sized
 *                   to last `--fleet-seconds` (90; `--quick` 30), all at once: each one's share of its own
 *                   limit, 429s, workers' and dev server's CPU of the machine; PASS/MISS (scripts/bench-fleet.ts);
 *                   the workers' sticky cache holds the whole backlog unless `--fleet-cache` (50: production's)
 *
 * First the machine and versions: CPU model and count, memory, Node, Temporal CLI and server, SDK, load.
 *
 *   npm run bench                       # phases 1–4, 7 and 6 (35 minutes measured, 25 of them growth's; 39 with tenants)
 *   npm run bench -- --quick            # a smoke run (estimated 8 minutes)
 *   npm run bench -- --json out.json    # also write the figures as JSON
 *   npm run bench -- --phases growth    # phase 4 alone (estimated 30 minutes; --quick 3.5)
 *   npm run bench -- --phases fleet     # phase 7 alone (about 2.5 minutes; --quick about 1)
 *   npm run bench -- --phases tenants   # phase 5 alone (about 4 minutes; --quick about 1.5)
 *   npm run bench -- --phases engine    # phase 6 alone (about 2 minutes)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
// CommonJS package: Node's ESM loader only sees its default export.
import proto from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startErasure, type StartedErasure } from '../src/client.js';
import { parseEncryptionKeys } from '../src/codec/aes-gcm.js';
import { createDataConverter } from '../src/codec/data-converter.js';
import { ComeetClient } from '../src/comeet/index.js';
import { mapPool } from '../src/pool.js';
import { generateReceiptKeys } from '../src/receipt/index.js';
import { DsarTenant, SEARCH_ATTRIBUTES } from '../src/search-attributes.js';
import { WORKFLOW_TYPE } from '../src/workflow-ids.js';
import { COMEET_LIMIT_PER_MINUTE, comeetTaskQueue, DEFAULT_COMEET_RATE_PER_MINUTE } from '../src/task-queues.js';
import { startSimulator } from '../src/simulator/server.js';
import { DEV_SERVER_DYNAMIC_CONFIG, INSTALL_HINT, resolveTemporalCli } from '../src/temporal-binaries.js';
import { buildWorkflowBundle } from '../src/build-workflow-bundle.js';
import { buildDist, cpuMsOf, devServerPid, freePort, imageEnv, machineCpuSeconds, memoryOf, startCpuLoad } from './processes.js';
import {
  API_KEY,
  line,
  machineContext,
  mib,
  pct,
  percentile,
  printMachineContext,
  SECRET,
  sec,
  seedFor,
  type Shared,
  sleep,
  startWorker,
  subjects,
  TUNING,
  untilClosed,
} from './bench-common.js';
import { runFleet } from './bench-fleet.js';
import { runGrowth } from './bench-growth.js';
import { describeQueueRate } from '../src/rate-cap.js';
import { tenantQueueRate } from '../src/worker.js';
import { bringTenantLive, TEST_CREDENTIALS_KEY, tenantAccounts } from '../test/helpers/tenants.js';

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '10' },
    erasures: { type: 'string' },
    growth: { type: 'string' },
    'fleet-tenants': { type: 'string' },
    'fleet-scale': { type: 'string', default: '1' },
    'fleet-seconds': { type: 'string' },
    'fleet-cache': { type: 'string' },
    workers: { type: 'string', default: '2' },
    'waiting-scale': { type: 'string', default: '300' },
    quick: { type: 'boolean', default: false },
    phases: { type: 'string', default: 'backlog,steady,plain,growth,fleet,engine' },
    'engine-erasures': { type: 'string' },
    rounds: { type: 'string' },
    'worker-env': { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(
    readFileSync(new URL(import.meta.url), 'utf8')
      .split('*/')[0]!
      .replace(/^\/\*\*\n/, '')
      .replace(/^ \* ?/gm, ''),
  );
  process.exit(0);
}
function intArg(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    console.error(`--${name} must be a whole number from ${min} to ${max}`);
    process.exit(2);
  }
  return v;
}
const scale = intArg('scale', args.scale, 10, 1, 1000);
const erasures = intArg('erasures', args.erasures, args.quick ? 150 : 600, 10, 100_000);
/** The growth phase's sizes, smallest first: a line each. */
const growthSizes = (args.growth ?? (args.quick ? '200,1000' : '1000,3000,10000')).split(',').map((x) => intArg('growth', x.trim(), 0, 10, 100_000));
const fleetTenants = intArg('fleet-tenants', args['fleet-tenants'], args.quick ? 5 : 20, 1, 200);
const fleetScale = intArg('fleet-scale', args['fleet-scale'], 1, 1, 10);
const fleetSeconds = intArg('fleet-seconds', args['fleet-seconds'], args.quick ? 30 : 90, 10, 3600);
/** Each fleet worker's sticky cache; unset: the fleet's whole backlog. */
const fleetCache = args['fleet-cache'] === undefined ? undefined : intArg('fleet-cache', args['fleet-cache'], 0, 1, 100_000);
const workerCount = intArg('workers', args.workers, 2, 1, 8);
const waitingScale = intArg('waiting-scale', args['waiting-scale'], 300, 1, 10_000);
const engineN = intArg('engine-erasures', args['engine-erasures'], args.quick ? 200 : 600, 10, 100_000);
const rounds = intArg('rounds', args.rounds, 3, 1, 20);
/**
 * Phase 6 once per set of extra worker environment (`A=1,B=2;A=3`; an empty set is Node's defaults), to
 * measure a setting against another. Without the option: as the image runs the worker, then Node's defaults.
 */
const engineVariants: Record<string, string>[] = (args['worker-env'] ?? 'IMAGE;').split(';').map((set) =>
  set.trim() === 'IMAGE'
    ? imageEnv()
    : Object.fromEntries(
        set
          .split(',')
          .map((kv) => kv.trim())
          .filter(Boolean)
          .map((kv) => {
            const at = kv.indexOf('=');
            if (at < 1) {
              console.error(`--worker-env: "${kv}" is not NAME=value`);
              process.exit(2);
            }
            return [kv.slice(0, at), kv.slice(at + 1)];
          }),
      ),
);

const PHASES = ['backlog', 'steady', 'plain', 'growth', 'tenants', 'fleet', 'engine'] as const;
const phases = new Set(args.phases!.split(',').map((p) => p.trim()));
for (const p of phases) {
  if (p === 'waiting') {
    console.error('--phases: waiting is now growth (one size: --phases growth --growth 10000)');
    process.exit(2);
  }
  if (!(PHASES as readonly string[]).includes(p)) {
    console.error(`--phases: unknown phase "${p}" (phases: ${PHASES.join(', ')})`);
    process.exit(2);
  }
}
if (phases.has('plain') && !phases.has('backlog')) {
  console.error('--phases: plain compares against backlog; include both');
  process.exit(2);
}

const limitPerMinute = COMEET_LIMIT_PER_MINUTE * scale;
const capPerMinute = Math.floor((limitPerMinute * DEFAULT_COMEET_RATE_PER_MINUTE) / COMEET_LIMIT_PER_MINUTE);

/**
 * The dev server has one history shard, whose transfer-queue reader loads new tasks at most 20 times a
 * second (history.transferProcessorMaxPollRPS, per shard). A deployment has hundreds of shards, each
 * with its own reader, so that limit is never shared by many busy workflows; on one shard it is: with
 * A's backlog, every task of B's waited 32 ms on average before it reached matching (5 ms with A idle),
 * 0.15 s of workflow-task and 0.09 s of activity waits per erasure (tenants phase, median). Raised, the
 * one shard reads as many shards would.
 *
 * The CLI also starts its dev server with system.forceSearchAttributesCacheRefreshOnRead (temporalio/cli,
 * commands.server.go: so an attribute added at run time is seen at once), which a server's default
 * leaves off: every read of the search-attribute map (each start, upsert and visibility task) was a read
 * of the cluster's metadata on the one SQLite connection. With A's backlog that was 158 of its 419
 * persistence calls a second, with 63 namespace reads besides (GetCurrentClusterMetadata, GetNamespace);
 * off, the map is cached as a deployment caches it (60 s) and both are gone. The bench's attributes are
 * given at start (`--search-attribute`, written to the namespace before the server serves), so none is
 * added at run time.
 */
const BENCH_DEV_SERVER_CONFIG = [
  '--dynamic-config-value',
  'history.transferProcessorMaxPollRPS=1000',
  '--dynamic-config-value',
  'system.forceSearchAttributesCacheRefreshOnRead=false',
];

// ------------------------------------------------------------------------------------------------

const figures: Record<string, unknown> = {};
// ------------------------------------------------------------------------------------------------

async function runBacklog(shared: Shared, client: Client) {
  const people = subjects('backlog', erasures);
  const callTimes: number[] = [];
  const sim = await startSimulator({
    apiKey: API_KEY,
    secret: SECRET,
    rateLimit: { limit: limitPerMinute, windowMs: 60_000 },
    seed: seedFor(people),
    log: () => void callTimes.push(Date.now()),
  });
  const taskQueue = `bench-backlog-${Date.now()}`;
  const idKey = randomBytes(32).toString('hex');
  const workers = await Promise.all(
    Array.from({ length: workerCount }, () => startWorker(shared, taskQueue, sim.url, { limit: limitPerMinute, cap: capPerMinute })),
  );
  try {
    const t0 = Date.now();
    const latencies: number[] = [];
    const runs = await mapPool(people, 64, async (p) => {
      const started = Date.now();
      const run = await startErasure(client, { email: p.email }, { taskQueue, idKey, tuning: TUNING });
      return { run, started };
    });
    const results = await Promise.all(
      runs.map(async ({ run, started }) => {
        const r = await run.handle.result();
        latencies.push(Date.now() - started);
        return r;
      }),
    );
    const wall = Date.now() - t0;
    const stats = sim.stats();
    const completed = results.filter((r) => r.outcome === 'completed').length;
    const span = Date.parse(stats.lastRequestAt!) - Date.parse(stats.firstRequestAt!);
    const allowedPerMs = limitPerMinute / 60_000;
    // The server's limiter starts with one second's burst; over a run much longer than a second the
    // average converges on the cap. The busiest 60 s window is what Comeet itself counts.
    const share = stats.total / (span * allowedPerMs);
    // Sustained: the middle 80% of the run, without the limiter's first burst and the pipeline's drain.
    const from = callTimes[0]! + span * 0.1;
    const to = callTimes[0]! + span * 0.9;
    const sustainedShare = callTimes.filter((t) => t >= from && t < to).length / ((to - from) * allowedPerMs);
    const busiestWindowShare = span >= 60_000 ? stats.peakInWindow / limitPerMinute : undefined;
    const events = await mapPool(runs.slice(0, 50), 10, async ({ run }) => (await run.handle.fetchHistory()).events?.length ?? 0);
    latencies.sort((a, b) => a - b);
    const out = {
      erasures,
      workers: workerCount,
      completed,
      wallMs: wall,
      erasuresPerSecond: erasures / (wall / 1000),
      comeetCalls: stats.total,
      callsPerErasure: stats.total / erasures,
      callsSpanMs: span,
      shareOfAllowedRate: share,
      sustainedShareOfAllowedRate: sustainedShare,
      busiestWindowShare,
      peakInWindow: stats.peakInWindow,
      rateLimited: stats.rateLimited,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      historyEventsPerErasure: events.reduce((a, b) => a + b, 0) / events.length,
    };
    figures.backlog = out;
    console.log(`\n1. Backlog: ${erasures} unblocked erasures at once, ${workerCount} worker process(es)`);
    line('completed', `${completed} / ${erasures}`);
    line('wall time', sec(wall));
    line('erasures per second', out.erasuresPerSecond.toFixed(2));
    line('Comeet calls / per erasure', `${stats.total} / ${out.callsPerErasure.toFixed(2)}`);
    line('share of the allowed Comeet rate used', `${pct(sustainedShare)} sustained (middle 80% of the run); ${pct(share)} over the whole run`);
    line('', `(${stats.total} calls in ${sec(span)}; allowed ${limitPerMinute}/min, cap ${capPerMinute}/min)`);
    line(
      'most calls in any 60 s window',
      `${stats.peakInWindow} of ${limitPerMinute}${busiestWindowShare !== undefined ? ` (${pct(busiestWindowShare)})` : ' (the run was shorter than 60 s)'}`,
    );
    line('429s received', String(stats.rateLimited));
    line('start → completed p50 / p95 (queued)', `${sec(out.p50Ms)} / ${sec(out.p95Ms)}`);
    line('history events per erasure', out.historyEventsPerErasure.toFixed(1));
    if (completed !== erasures) throw new Error(`only ${completed} of ${erasures} erasures completed`);
    return { people, results, wall };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await sim.close();
  }
}

async function runSteady(shared: Shared, client: Client) {
  const capacityPerSecond = capPerMinute / 60 / 3; // three calls per erasure
  const n = Math.min(120, Math.max(30, Math.round(capacityPerSecond * 30)));
  const people = subjects('steady', n);
  const sim = await startSimulator({ apiKey: API_KEY, secret: SECRET, rateLimit: { limit: limitPerMinute, windowMs: 60_000 }, seed: seedFor(people) });
  const taskQueue = `bench-steady-${Date.now()}`;
  const idKey = randomBytes(32).toString('hex');
  const worker = await startWorker(shared, taskQueue, sim.url, { limit: limitPerMinute, cap: capPerMinute });
  try {
    const gapMs = 1000 / (0.8 * capacityPerSecond);
    const latencies: number[] = [];
    const pending: Promise<void>[] = [];
    for (const p of people) {
      const started = Date.now();
      pending.push(
        startErasure(client, { email: p.email }, { taskQueue, idKey, tuning: TUNING })
          .then((r) => r.handle.result())
          .then(() => void latencies.push(Date.now() - started)),
      );
      await sleep(gapMs);
    }
    await Promise.all(pending);
    latencies.sort((a, b) => a - b);
    figures.steady = {
      erasures: n,
      arrivalsPerSecond: 1000 / gapMs,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      rateLimited: sim.stats().rateLimited,
    };
    console.log(`\n2. Steady arrivals: ${n} erasures at 80% of capacity (${(1000 / gapMs).toFixed(2)}/s), 1 worker`);
    line('start → completed p50 / p95', `${sec(percentile(latencies, 50))} / ${sec(percentile(latencies, 95))}`);
    line('429s received', String(sim.stats().rateLimited));
  } finally {
    await worker.stop();
    await sim.close();
  }
}

/** A token bucket like the server's task queue limiter: `perSecond`, burst of one second's worth. */
function pacer(perSecond: number) {
  const burst = Math.max(1, Math.ceil(perSecond));
  let tokens = burst;
  let last = Date.now();
  let chain = Promise.resolve();
  return () => {
    chain = chain.then(async () => {
      for (;;) {
        const now = Date.now();
        tokens = Math.min(burst, tokens + ((now - last) / 1000) * perSecond);
        last = now;
        if (tokens >= 1) {
          tokens -= 1;
          return;
        }
        await sleep(Math.ceil(((1 - tokens) / perSecond) * 1000));
      }
    });
    return chain;
  };
}

async function runPlain(temporalWallMs: number) {
  const people = subjects('plain', erasures);
  const sim = await startSimulator({ apiKey: API_KEY, secret: SECRET, rateLimit: { limit: limitPerMinute, windowMs: 60_000 }, seed: seedFor(people) });
  const comeet = new ComeetClient({ baseUrl: sim.url, apiKey: API_KEY, secret: SECRET, connections: 16 });
  const take = pacer(capPerMinute / 60);
  try {
    const t0 = Date.now();
    let completed = 0;
    await mapPool(people, 64, async (p) => {
      await take();
      const found = await comeet.findCandidatesByEmail(p.email);
      for (const personUid of new Set(found.map((c) => c.person_uid!))) {
        await take();
        await comeet.erasePerson(personUid, 'delete');
      }
      await take();
      if ((await comeet.findCandidatesByEmail(p.email)).length === 0) completed++;
    });
    const wall = Date.now() - t0;
    const stats = sim.stats();
    figures.plain = {
      erasures,
      completed,
      wallMs: wall,
      comeetCalls: stats.total,
      rateLimited: stats.rateLimited,
      temporalOverheadRatio: temporalWallMs / wall,
    };
    console.log(`\n3. Plain script: the same ${erasures} erasures with the same client and pacing, no Temporal`);
    line('completed', `${completed} / ${erasures}`);
    line('wall time', sec(wall));
    line('Comeet calls / 429s', `${stats.total} / ${stats.rateLimited}`);
    line('Temporal wall time / plain wall time', `${(temporalWallMs / wall).toFixed(3)}`);
  } finally {
    await comeet.close();
    await sim.close();
  }
}

function median(xs: number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

/**
 * Phase 6, engine capacity: Comeet's limit lifted (simulator and queue cap), one compiled worker
 * process as the image runs it, `engineN` simple erasures (one candidate, no interviews) started at
 * once, `rounds` times after a warm-up; beside each round the same erasures by a plain script
 * (the three calls with the same Comeet client, unpaced, no Temporal).
 */
async function runEngine(shared: Shared, client: Client, extraEnv: Record<string, string>, label: string) {
  const n = engineN;
  // Lifted: the simulator counts no window that matters, the server's queue cap is far above what we reach.
  const limit = 100_000_000;
  const warmN = Math.min(100, n);
  const people = subjects('engine', warmN + rounds * n);
  const plainPeople = subjects('engine-plain', rounds * n);
  const sim = await startSimulator({ apiKey: API_KEY, secret: SECRET, rateLimit: { limit, windowMs: 60_000 }, seed: seedFor([...people, ...plainPeople]) });
  const taskQueue = `bench-engine-${Date.now()}`;
  const idKey = randomBytes(32).toString('hex');
  const worker = await startWorker(shared, taskQueue, sim.url, { limit, cap: limit }, extraEnv, true);
  const serverPid = devServerPid();
  const comeet = new ComeetClient({ baseUrl: sim.url, apiKey: API_KEY, secret: SECRET, connections: 16 });
  type Round = {
    erasuresPerSecond: number;
    plainPerSecond: number;
    ratio: number;
    eventsPerErasure: number;
    workflowTasksPerErasure: number;
    workerCpuMsPerErasure?: number;
    serverCpuMsPerErasure?: number;
    benchCpuMsPerErasure: number;
    load: number;
    eventTypes?: Record<string, number>;
  };
  const EventType = proto.temporal.api.enums.v1.EventType;
  const engineRound = async (batch: { email: string }[]) => {
    const cpu0 = { worker: cpuMsOf(worker.child.pid), server: cpuMsOf(serverPid), bench: process.cpuUsage() };
    const t0 = Date.now();
    const runs = await mapPool(batch, 64, (p) => startErasure(client, { email: p.email }, { taskQueue, idKey, tuning: TUNING }));
    const results = await Promise.all(runs.map((r) => r.handle.result()));
    const wall = Date.now() - t0;
    const cpu1 = { worker: cpuMsOf(worker.child.pid), server: cpuMsOf(serverPid), bench: process.cpuUsage(cpu0.bench) };
    const completed = results.filter((r) => r.outcome === 'completed').length;
    if (completed !== batch.length) throw new Error(`engine: only ${completed} of ${batch.length} erasures completed`);
    const sample = await mapPool(runs.slice(0, 20), 10, async (r) => (await r.handle.fetchHistory()).events ?? []);
    const types: Record<string, number> = {};
    for (const events of sample)
      for (const e of events) {
        const name = (EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
        types[name] = (types[name] ?? 0) + 1 / sample.length;
      }
    const per = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : (b - a) / batch.length);
    return {
      erasuresPerSecond: batch.length / (wall / 1000),
      eventsPerErasure: sample.reduce((a, e) => a + e.length, 0) / sample.length,
      workflowTasksPerErasure: types['WORKFLOW_TASK_COMPLETED'] ?? 0,
      workerCpuMsPerErasure: per(cpu0.worker, cpu1.worker),
      serverCpuMsPerErasure: per(cpu0.server, cpu1.server),
      // This process: the client's starts and result polls, and the simulator.
      benchCpuMsPerErasure: (cpu1.bench.user + cpu1.bench.system) / 1000 / batch.length,
      load: loadavg()[0]!,
      eventTypes: types,
    };
  };
  const plainRound = async (batch: { email: string }[]) => {
    const t0 = Date.now();
    let completed = 0;
    await mapPool(batch, 64, async (p) => {
      const found = await comeet.findCandidatesByEmail(p.email);
      for (const personUid of new Set(found.map((c) => c.person_uid!))) await comeet.erasePerson(personUid, 'delete');
      if ((await comeet.findCandidatesByEmail(p.email)).length === 0) completed++;
    });
    if (completed !== batch.length) throw new Error(`plain: only ${completed} of ${batch.length} erasures completed`);
    return batch.length / ((Date.now() - t0) / 1000);
  };
  try {
    await engineRound(people.slice(0, warmN)); // JIT, sticky cache, connections: not counted
    const out: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      const e = await engineRound(people.slice(warmN + i * n, warmN + (i + 1) * n));
      const plainPerSecond = await plainRound(plainPeople.slice(i * n, (i + 1) * n));
      out.push({ ...e, plainPerSecond, ratio: plainPerSecond / e.erasuresPerSecond });
    }
    // The high-water mark over every round: the worker as the image runs it, with n erasures in flight at once.
    const workerMemory = memoryOf(worker.child.pid!);
    const med = (f: (r: Round) => number | undefined) => {
      const xs = out.map(f).filter((x): x is number => x !== undefined);
      return xs.length ? median(xs) : NaN;
    };
    const summary = {
      erasures: n,
      rounds,
      worker: 'node dist/worker.js (one process)',
      erasuresPerSecond: med((r) => r.erasuresPerSecond),
      plainPerSecond: med((r) => r.plainPerSecond),
      plainOverEngine: med((r) => r.ratio),
      eventsPerErasure: med((r) => r.eventsPerErasure),
      workflowTasksPerErasure: med((r) => r.workflowTasksPerErasure),
      workerCpuMsPerErasure: med((r) => r.workerCpuMsPerErasure),
      devServerCpuMsPerErasure: med((r) => r.serverCpuMsPerErasure),
      clientAndSimulatorCpuMsPerErasure: med((r) => r.benchCpuMsPerErasure),
      workerRssBytes: workerMemory?.rss,
      workerPeakRssBytes: workerMemory?.peak,
      workerEnv: extraEnv,
      perRound: out.map(({ eventTypes: _t, ...r }) => r),
      eventTypesPerErasure: out[out.length - 1]!.eventTypes,
    };
    ((figures.engine ??= {}) as Record<string, unknown>)[label] = summary;
    const each = (f: (r: Round) => number | undefined, digits = 1) => out.map((r) => f(r)?.toFixed(digits) ?? '-').join(', ');
    console.log(
      `\n6. Engine: ${n} simple erasures at once, Comeet unlimited, 1 compiled worker (node dist/worker.js${label === 'default' ? '' : `, ${label}`}); median of ${rounds} rounds`,
    );
    line('erasures per second', `${summary.erasuresPerSecond.toFixed(2)}  (rounds: ${each((r) => r.erasuresPerSecond, 2)})`);
    line('plain script per second (same calls, no Temporal)', `${summary.plainPerSecond.toFixed(0)}  (rounds: ${each((r) => r.plainPerSecond, 0)})`);
    line('plain / engine', `×${summary.plainOverEngine.toFixed(1)}`);
    line('history events per erasure', `${summary.eventsPerErasure.toFixed(1)}`);
    line('workflow tasks per erasure', `${summary.workflowTasksPerErasure.toFixed(1)}`);
    line(
      'CPU per erasure: worker / dev server / client+sim',
      `${summary.workerCpuMsPerErasure.toFixed(1)} ms / ${summary.devServerCpuMsPerErasure.toFixed(1)} ms / ${summary.clientAndSimulatorCpuMsPerErasure.toFixed(1)} ms`,
    );
    if (workerMemory) line(`worker RSS after the rounds / peak (${n} in flight at once)`, `${mib(workerMemory.rss)} / ${mib(workerMemory.peak)}`);
    line('1-min load average per round', `${each((r) => r.load, 2)} (${cpus().length} CPUs)`);
    line(
      'events of an erasure, by type',
      Object.entries(summary.eventTypesPerErasure!)
        .map(([t, c]) => `${t} ${Number(c.toFixed(1))}`)
        .join(', '),
    );
  } finally {
    await comeet.close();
    await worker.stop();
    await sim.close();
  }
}

/** Where one erasure's start→completed went, in ms; the parts add up to the whole. */
/** A run's longest single workflow-task wait: which request it was (0 = the first started) and which of its tasks. */
interface SlowestWait {
  index: number;
  wftWait: number;
  wft: number;
}

interface Breakdown {
  /** startErasure's call until the run's first event: the tenant check (describe + query) and the start. */
  start: number;
  /** Workflow tasks: scheduled → started (waiting for a worker's poll), started → completed (the worker's turn). */
  wftWait: number;
  wftRun: number;
  /** Comeet activities: scheduled → started (the tenant's queue), started → completed (the call, in the worker). */
  actWait: number;
  actRun: number;
  /** The rest between the first and the last event: the server's own steps between one task's end and the next's schedule. */
  server: number;
  /** The close event until the client's result() answered. */
  result: number;
  total: number;
}
const BREAKDOWN_PARTS = ['start', 'wftWait', 'wftRun', 'actWait', 'actRun', 'server', 'result'] as const;

/**
 * Each erasure's start→completed split by its history's event times (one clock: server, client and
 * workers share the machine). Tells the shared workflow queue and the workers' CPU from the tenant's
 * own Comeet queue when one tenant's requests wait during another's backlog.
 */
async function breakdowns(runs: { run: StartedErasure; startedAt: number; endedAt: number }[]): Promise<(Breakdown & { slowest: SlowestWait })[]> {
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  const byStart = [...runs].sort((x, y) => x.startedAt - y.startedAt);
  return mapPool(byStart, 10, async ({ run, startedAt, endedAt }, index) => {
    const events = (await run.handle.fetchHistory()).events ?? [];
    const at = new Map(events.map((e) => [Number(e.eventId), ms(e.eventTime)]));
    const b = { start: ms(events[0]?.eventTime) - startedAt, wftWait: 0, wftRun: 0, actWait: 0, actRun: 0, server: 0, result: 0, total: endedAt - startedAt };
    // The longest single workflow-task wait, and which of the run's tasks it was (1 = the first).
    const slowest: SlowestWait = { index, wftWait: 0, wft: 0 };
    let wfts = 0;
    for (const e of events) {
      const t = ms(e.eventTime);
      const since = (id: unknown) => t - (at.get(Number(id)) ?? t);
      if (e.workflowTaskStartedEventAttributes) {
        const wait = since(e.workflowTaskStartedEventAttributes.scheduledEventId);
        b.wftWait += wait;
        wfts += 1;
        if (wait > slowest.wftWait) Object.assign(slowest, { wftWait: wait, wft: wfts });
      }
      const wDone = e.workflowTaskCompletedEventAttributes ?? e.workflowTaskFailedEventAttributes ?? e.workflowTaskTimedOutEventAttributes;
      if (wDone) b.wftRun += since(wDone.startedEventId);
      if (e.activityTaskStartedEventAttributes) b.actWait += since(e.activityTaskStartedEventAttributes.scheduledEventId);
      const aDone = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      if (aDone) b.actRun += since(aDone.startedEventId);
    }
    const closed = ms(events[events.length - 1]?.eventTime);
    b.server = closed - ms(events[0]?.eventTime) - b.wftWait - b.wftRun - b.actWait - b.actRun;
    b.result = endedAt - closed;
    return { ...b, slowest };
  });
}

/**
 * When the workflow queue has no backlog, read twice a second apart: every request started is past its
 * first workflow task (sticky queues then carry the rest). Gives up after a minute.
 */
async function takenIn(shared: Shared, taskQueue: string): Promise<number> {
  const backlogOf = async () =>
    Number(
      (
        await shared.env.connection.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue },
          taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
          reportStats: true,
        })
      ).stats?.approximateBacklogCount ?? 0,
    );
  const until = Date.now() + 60_000;
  let emptySince: number | undefined;
  while (Date.now() < until) {
    const at = Date.now();
    if ((await backlogOf()) === 0) {
      if (emptySince !== undefined && at - emptySince >= 1_000) return emptySince;
      emptySince ??= at;
    } else emptySince = undefined;
    await sleep(250);
  }
  throw new Error(`the workflow queue ${taskQueue} still had a backlog a minute after the starts`);
}

/** Per part, the median and the value in the erasure at the p95 of the totals (what the p95 is made of). */
function summarize(bs: (Breakdown & { slowest: SlowestWait })[]) {
  const sorted = [...bs].sort((x, y) => x.total - y.total);
  const atP95 = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(0.95 * sorted.length) - 1))]!;
  const median = Object.fromEntries(
    [...BREAKDOWN_PARTS, 'total' as const].map((k) => [
      k,
      percentile(
        bs.map((b) => b[k]).sort((x, y) => x - y),
        50,
      ),
    ]),
  ) as Record<keyof Breakdown, number>;
  const totals = bs.map((b) => b.total);
  return { median, atP95, totals };
}

/** CPU seconds of a process (Linux /proc; undefined elsewhere). */
function cpuSecondsOf(pid: number): number | undefined {
  const ms = cpuMsOf(pid);
  return ms === undefined ? undefined : ms / 1000;
}

/** The bench's child processes (the dev server is spawned from a native thread: every thread's children). */
function childPids(): number[] {
  try {
    return readdirSync(`/proc/${process.pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * CPU use over a window, per process: the bench (client and simulator), each worker, the dev server,
 * and the whole machine (neighbours included), in CPUs (1.0 = one core busy all through).
 * `standInPids`: a load the bench itself runs beside the system (startCpuLoad), counted as ours, apart from the server.
 */
function cpuMeter(workerPids: number[], standInPids: number[] = []) {
  const server = childPids().filter((p) => !workerPids.includes(p) && !standInPids.includes(p));
  const read = () => ({
    at: Date.now(),
    bench: cpuSecondsOf(process.pid),
    workers: workerPids.map((p) => cpuSecondsOf(p)),
    server: server.map((p) => cpuSecondsOf(p)),
    standIn: standInPids.map((p) => cpuSecondsOf(p)),
    machine: machineCpuSeconds(),
  });
  const from = read();
  return () => {
    const to = read();
    const s = (to.at - from.at) / 1000;
    const d = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? NaN : (b - a) / s);
    const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
    const workers = to.workers.map((w, i) => d(from.workers[i], w));
    const bench = d(from.bench, to.bench);
    const serverCpu = sum(to.server.map((w, i) => d(from.server[i], w)));
    const standIn = sum(to.standIn.map((w, i) => d(from.standIn[i], w)));
    const machine = d(from.machine?.busy, to.machine?.busy);
    const ours = bench + sum(workers) + serverCpu + standIn;
    return {
      seconds: s,
      bench,
      workers,
      server: serverCpu,
      standIn,
      ours,
      machine,
      neighbours: machine - ours,
      steal: d(from.machine?.steal, to.machine?.steal),
      cpus: cpus().length,
    };
  };
}
type CpuUse = ReturnType<ReturnType<typeof cpuMeter>>;
const cpuText = (c: CpuUse) =>
  `machine ${c.machine.toFixed(2)} of ${c.cpus} CPUs busy: dev server ${c.server.toFixed(2)}, workers ${c.workers.map((w) => w.toFixed(2)).join(' + ')}, ` +
  `bench+simulator ${c.bench.toFixed(2)}, ${c.standIn > 0 ? `stand-in load ${c.standIn.toFixed(2)}, ` : ''}others ${c.neighbours.toFixed(2)} (steal ${c.steal.toFixed(2)})`;

/**
 * The dev server's Prometheus endpoint (it listens on a free port it picks itself): the listening
 * sockets of the bench's `temporal` child, the one that answers with persistence metrics.
 */
async function devServerMetricsUrl(): Promise<string | undefined> {
  const inodes = new Set<string>();
  for (const pid of childPids()) {
    try {
      if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('temporal')) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      }
    } catch {
      // gone, or not Linux
    }
  }
  const ports = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) => {
    try {
      return readFileSync(f, 'utf8')
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((c) => c[3] === '0A' && inodes.has(c[9]!))
        .map((c) => parseInt(c[1]!.split(':')[1]!, 16));
    } catch {
      return [];
    }
  });
  for (const port of ports) {
    const url = `http://127.0.0.1:${port}/metrics`;
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      async (r) => r.ok && (await r.text()).includes('persistence_requests'),
      () => false,
    );
    if (ok) return url;
  }
  return undefined;
}

/** What the server did, in totals since its start: persistence calls and their time, history reads, history queue waits. */
async function serverCounters(url: string | undefined) {
  const total = { persistenceCalls: 0, persistenceSeconds: 0, historyReads: 0, queueTasks: 0, queueSeconds: 0 };
  if (!url) return total;
  const text = await (await fetch(url)).text();
  for (const m of text.matchAll(/^(\w+)\{([^}]*)\} (\S+)$/gm)) {
    const [, name, labels, raw] = m;
    const v = Number(raw);
    if (name === 'persistence_latency_count') total.persistenceCalls += v;
    else if (name === 'persistence_latency_sum') total.persistenceSeconds += v;
    else if (name === 'persistence_requests' && labels!.includes('operation="ReadHistoryBranch"')) total.historyReads += v;
    else if (name === 'task_latency_queue_count' && labels!.includes('task_type="Transfer')) total.queueTasks += v;
    else if (name === 'task_latency_queue_sum' && labels!.includes('task_type="Transfer')) total.queueSeconds += v;
  }
  return total;
}
type ServerCounters = Awaited<ReturnType<typeof serverCounters>>;

/** CPUs others may use during a trickle (our uncounted launchers and the kernel's threads use 0.02–0.09 here) for its p95 to be judged. */
const NEIGHBOURS_QUIET_CPU = 0.15;

/**
 * Two tenants, each its own Comeet account at `limitPerMinute` and its own capped queue: tenant A gets
 * a backlog of `--erasures`, tenant B first a trickle (its p95, against the same trickle with A idle),
 * then a backlog of its own sized to end inside A's (B's share of its limit while both saturate).
 * B's trickle cannot measure B's share: 30 requests are 90 calls, a fraction of what its cap allows.
 * Once both backlogs are done, B's trickle runs beside a stand-in for A (startCpuLoad: the CPU A's backlog
 * added, no Temporal work) and then idle again: what of A's effect on B is CPU alone, and how far the
 * idle baseline moved meanwhile.
 * A round of B's requests warms the workers first (not measured), and the p95's verdict is given only
 * when neither trickle ran beside a neighbour (NEIGHBOURS_QUIET_CPU): either would move the ratio more
 * than the 10% it judges.
 * B's busy trickle begins once A's requests are all taken in (the workflow queue empty: each is past its
 * first task and waits on A's budget). Before that the machine is busy starting them, about 15 s for 600
 * here, and a request of any tenant arriving then shares it (B's first three took 1–4 s in a run that
 * began 2 s after A's last start); the intake's time is printed.
 *
 * The workers keep every request of the phase in their sticky cache (DSAR_MAX_CACHED_WORKFLOWS, printed in
 * the header) where production keeps 50, sized (issue 14) for requests that sleep for days, where a
 * cached one only saves a short replay. Here the trade-off goes the other way: a workflow task that
 * misses the cache is a replay on the worker and a read of the full history on the server, and the
 * server is what every tenant shares (on the dev server one history shard and one SQLite connection:
 * all tenants' reads and writes queue in one line). With A's 600 in flight against 50 cached places,
 * nearly every task of A's was a miss (2,608 history reads against 209 with A idle, on the server's metrics) and
 * B's tasks waited behind them. The price is worker memory, up to about 0.8 MiB per cached request
 * (348 → 504 MiB of RSS from 50 to 250, scripts/workflow-memory.ts); the phase prints the workers' peak.
 * A deployment that expects backlogs this size sets the cache to its in-flight requests; the printed
 * sticky-cache counts show what the phase's workers did.
 *
 * The dev server runs as started for every phase: BENCH_DEV_SERVER_CONFIG lifts its one shard's
 * transfer-queue read limit, which a deployment of many shards does not share, and caches the
 * search-attribute map as a deployment does (see there). Nothing else of it can be made more like a
 * deployment: its SQLite is in memory with one connection (the CLI sets no
 * MaxConns) and one history shard, both fixed; a db file with journal_mode=wal is slower than memory and
 * still one connection; its history cache (8,096 workflows) already holds every request here.
 */
async function runTenants(shared: Shared, client: Client) {
  if (limitPerMinute > 1000) throw new Error(`--phases tenants: a tenant's rate is at most 1000/min; use --scale 10 or lower (now ${limitPerMinute})`);
  const tenantCap = tenantQueueRate(limitPerMinute); // per minute, what each tenant's queue is capped at
  const capPerMs = tenantCap / 60_000;
  const limitPerMs = limitPerMinute / 60_000;
  const trickleN = args.quick ? 10 : 30;
  // B's trickle stays under half of B's own cap (3 calls a request): above it, at --scale 1, the trickle
  // queues behind B's own limit and measures that, not A's effect on B.
  const trickleGapMs = Math.max(args.quick ? 500 : 1_500, Math.ceil(6 / capPerMs));
  const aPeople = subjects('tenant-a', erasures);
  const bWarm = subjects('tenant-b-warm', trickleN);
  const bIdle = subjects('tenant-b-idle', trickleN);
  const bBusy = subjects('tenant-b-busy', trickleN);
  const bBacklogSeeded = subjects('tenant-b-backlog', erasures);
  const bStandIn = subjects('tenant-b-stand-in', trickleN);
  const bIdleAfter = subjects('tenant-b-idle-after', trickleN);
  const rate = { limit: limitPerMinute, windowMs: 60_000 };
  const a = tenantAccounts('bench-a', seedFor(aPeople).candidates, rate);
  const b = tenantAccounts('bench-b', seedFor([...bWarm, ...bIdle, ...bBusy, ...bBacklogSeeded, ...bStandIn, ...bIdleAfter]).candidates, rate);
  // Every answered API request of a tenant's production account, by the time it was answered.
  const calls: Record<string, number[]> = { [a.id]: [], [b.id]: [] };
  const sim = await startSimulator({
    apiKey: API_KEY,
    secret: SECRET,
    rateLimit: rate,
    seed: { candidates: [] },
    accounts: [...a.accounts, ...b.accounts],
    log: (l) => {
      const account = / account=(\S+)$/.exec(l)?.[1];
      if (account && calls[account]) calls[account]!.push(Date.now());
    },
  });
  const taskQueue = `bench-tenants-${Date.now()}`;
  const idKey = randomBytes(32).toString('hex');
  // Every request that can be in flight at once (A's backlog, B's backlog at its largest, a trickle, the two
  // onboarding workflows) fits in each worker's sticky cache, whichever worker a request sticks to.
  const stickyCache = aPeople.length + bBacklogSeeded.length + trickleN + 10;
  const extraWorkerEnv = { DSAR_CREDENTIALS_KEY: TEST_CREDENTIALS_KEY, DSAR_MAX_CACHED_WORKFLOWS: String(stickyCache) };
  // Each worker's Prometheus endpoint, for its sticky cache's hits and misses (a miss is a full history read on the server).
  const metricsPorts = await Promise.all(Array.from({ length: workerCount }, () => freePort()));
  const workers = await Promise.all(
    metricsPorts.map((port) =>
      startWorker(shared, taskQueue, sim.url, { limit: limitPerMinute, cap: capPerMinute }, { ...extraWorkerEnv, DSAR_METRICS_BIND: `127.0.0.1:${port}` }),
    ),
  );
  const stickyCounts = async () => {
    const total = { hit: 0, miss: 0, total_forced_eviction: 0 };
    for (const port of metricsPorts) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const m of text.matchAll(/^temporal_sticky_cache_(hit|miss|total_forced_eviction)(?:_total)?(?:\{[^}]*\})? (\S+)$/gm))
        total[m[1] as keyof typeof total] += Number(m[2]);
    }
    return total;
  };
  try {
    // Onboarding (sandbox check, go-live) as an operator would; its checks run on the tenants' own queues.
    await Promise.all([a, b].map((t) => bringTenantLive(client, taskQueue, sim.url, t, limitPerMinute)));
    const queueRates = await Promise.all(
      [a, b].map(async (t) => (await describeQueueRate(shared.env.connection.workflowService, 'default', comeetTaskQueue(taskQueue, t.id))).effectivePerSecond),
    );

    const metricsUrl = await devServerMetricsUrl();
    const trickle = async (people: { email: string }[], tenant: string, standInPids: number[] = []) => {
      const latencies: number[] = [];
      const done: { run: StartedErasure; startedAt: number; endedAt: number }[] = [];
      const pending: Promise<void>[] = [];
      const cpu = cpuMeter(
        workers.map((w) => w.child.pid!),
        standInPids,
      );
      const stickyFrom = await stickyCounts();
      const serverFrom = await serverCounters(metricsUrl);
      for (const p of people) {
        const startedAt = Date.now();
        pending.push(
          startErasure(client, { email: p.email, tenant }, { taskQueue, idKey, tuning: TUNING }).then(async (run) => {
            const r = await run.handle.result();
            if (r.outcome !== 'completed') throw new Error(`a trickle erasure of ${tenant} ended ${r.outcome}`);
            const endedAt = Date.now();
            latencies.push(endedAt - startedAt);
            done.push({ run, startedAt, endedAt });
          }),
        );
        await sleep(trickleGapMs);
      }
      await Promise.all(pending);
      const cpuUse = cpu();
      const stickyTo = await stickyCounts();
      const serverTo = await serverCounters(metricsUrl);
      const server = Object.fromEntries(
        Object.keys(serverTo).map((k) => [k, serverTo[k as keyof ServerCounters] - serverFrom[k as keyof ServerCounters]]),
      ) as ServerCounters;
      const sticky = {
        hit: stickyTo.hit - stickyFrom.hit,
        miss: stickyTo.miss - stickyFrom.miss,
        evicted: stickyTo.total_forced_eviction - stickyFrom.total_forced_eviction,
      };
      return { latencies: latencies.sort((x, y) => x - y), parts: summarize(await breakdowns(done)), cpu: cpuUse, sticky, server };
    };
    // A backlog's end by a visibility count once a second, not a result() long poll per request: 600
    // long polls held open on the server are load the benchmark adds, not the system under test. The
    // outcomes are read once every run has closed (one history read each, after the window measured).
    const running = (tenant: string) => `WorkflowType="${WORKFLOW_TYPE}" AND ${DsarTenant.name}="${tenant}" AND ExecutionStatus="Running"`;
    const backlog = async (people: { email: string }[], tenant: string) => {
      const runs = await mapPool(people, 64, (p) => startErasure(client, { email: p.email, tenant }, { taskQueue, idKey, tuning: TUNING }));
      const outcomes = async () => (await mapPool(runs, 16, (r) => r.handle.result())).filter((r) => r.outcome === 'completed').length;
      const done = (async () => {
        await untilClosed(client, running(tenant));
        // A count read before the last start was visible only means result() waits for the rest.
        return outcomes();
      })();
      return { started: Date.now(), done };
    };

    // 1. B's trickle with A idle: the baseline. The machine's load is printed: on a shared 2-CPU box the
    // two halves can see different neighbours. First a round of B's requests all at once, not measured:
    // the idle trickle was the first work of fresh worker processes, its code not yet compiled by V8
    // (idle p95 0.25 to 0.58 s from run to run), while the busy trickle runs on warm workers.
    await mapPool(bWarm, 16, async (p) => {
      const r = await (await startErasure(client, { email: p.email, tenant: b.id }, { taskQueue, idKey, tuning: TUNING })).handle.result();
      if (r.outcome !== 'completed') throw new Error(`a warm-up erasure of ${b.id} ended ${r.outcome}`);
    });
    const loadIdle = loadavg()[0]!;
    const { latencies: idle, parts: idleParts, cpu: idleCpu, sticky: idleSticky, server: idleServer } = await trickle(bIdle, b.id);
    await sleep(2_000);

    // 2. A's backlog; once it is all taken in, B's trickle again, then B's own backlog. Taken in: every
    // first workflow task done, so A's requests wait on A's own budget, the backlog the goal is about.
    // Until then the machine is busy starting A's 600 (about 5 s here), which any request arriving then
    // shares; the intake's time is printed, and B's requests are not measured against it.
    const busyFrom = Date.now();
    const aRun = await backlog(aPeople, a.id);
    const intakeMs = (await takenIn(shared, taskQueue)) - busyFrom;
    await sleep(1_000);
    const { latencies: busy, parts: busyParts, cpu: busyCpu, sticky: busySticky, server: busyServer } = await trickle(bBusy, b.id);
    // B's backlog must end before A's does, so both queues are saturated all through B's window: size
    // it from A's calls still to make, at the cap, less a margin for B's last verifications.
    const aLeftMs = (erasures * 3 - calls[a.id]!.filter((t) => t >= busyFrom).length) / capPerMs;
    const bBacklogN = Math.max(0, Math.min(erasures, Math.floor(((aLeftMs - 5_000) * 0.9 * capPerMs) / 3)));
    const bBacklogFrom = Date.now();
    const bRun = bBacklogN >= 10 ? await backlog(bBacklogSeeded.slice(0, bBacklogN), b.id) : undefined;
    const [aCompleted, bCompleted] = await Promise.all([aRun.done, bRun?.done ?? 0]);
    // The shares count the backlogs' calls, not those of the trickles after them (B's account serves both).
    const callsOfBacklogs = { a: calls[a.id]!.slice(), b: calls[b.id]!.slice() };
    const loadBusy = loadavg()[0]!;
    const workerPeaks = workers.map((w) => memoryOf(w.child.pid)?.peak ?? NaN);

    // 3. B's trickle beside a stand-in for A: a load of the CPU that A's backlog added to our processes
    // (busy trickle less idle) that does no Temporal work, then once more with nothing beside it. If B's p95
    // beside the stand-in is A-busy's, A slowed B by the CPU it took and by nothing in Temporal (a
    // queue, the budget, a lock); the second idle trickle shows how far the idle baseline drifted meanwhile.
    await sleep(2_000);
    // What A added of our processes' CPU: a neighbour's, which the machine-wide figure holds, is not A's.
    const standInCpu = Math.max(0, busyCpu.ours - idleCpu.ours);
    const load = startCpuLoad(standInCpu, cpus().length);
    let standInRun: Awaited<ReturnType<typeof trickle>>;
    try {
      await sleep(1_000);
      standInRun = await trickle(bStandIn, b.id, load.pids);
    } finally {
      load.stop();
    }
    await sleep(2_000);
    const idleAfterRun = await trickle(bIdleAfter, b.id);

    // Share of a tenant's limit over its backlog's window (first call to last), counted in the middle 80%
    // of it, as phase 1 does: the server's limiter lets one second's burst through at the start, which
    // over a short window would count as more than the cap; the drain at the end is the last verifications.
    const windowOf = (all: number[]) => {
      const from = all[0]!;
      const to = all[all.length - 1]!;
      const ms = to - from;
      const mid = all.filter((t) => t >= from + ms * 0.1 && t < from + ms * 0.9).length;
      return { from, to, ms, n: all.length, share: mid / (ms * 0.8 * limitPerMs), whole: all.length / (ms * limitPerMs) };
    };
    const MIN_WINDOW_MS = 10_000;
    const aWin = windowOf(callsOfBacklogs.a.filter((t) => t >= busyFrom));
    const bCalls = callsOfBacklogs.b.filter((t) => t >= bBacklogFrom);
    const bWin = bRun && bCalls.length > 1 && bCalls[bCalls.length - 1]! - bCalls[0]! >= MIN_WINDOW_MS ? windowOf(bCalls) : undefined;
    const aShare = aWin.share;
    const bShare = bWin ? bWin.share : NaN;
    const bInsideA = bWin ? bWin.to <= aWin.to : false;
    // A while B's backlog ran too: B's window, A's account.
    const aDuringB = bWin ? callsOfBacklogs.a.filter((t) => t >= bWin.from && t <= bWin.to).length / (bWin.ms * limitPerMs) : NaN;
    const stats = sim.statsByAccount();
    // Every 429 of the phase counts, the trickles' after the backlogs too: none is allowed.
    const limited = { a: stats[a.id]!.rateLimited, b: stats[b.id]!.rateLimited };
    const trickles = { idle, busy, standIn: standInRun.latencies, idleAfter: idleAfterRun.latencies };
    const at = (q: number) => Object.fromEntries(Object.entries(trickles).map(([k, l]) => [k, percentile(l, q)])) as Record<keyof typeof trickles, number>;
    const p95 = at(95);
    const p50 = at(50);
    const ratio = p95.busy / p95.idle;

    // A neighbour's work in either trickle's window (a process not ours, or steal) changes the machine
    // B ran on, not A's load: the ratio then compares two machines, and its verdict would mean nothing
    // either way (idle p95 0.37 s against 0.29 s busy beside 0.52 CPU of others in one run).
    const disturbed = Math.max(idleCpu.neighbours, busyCpu.neighbours) > NEIGHBOURS_QUIET_CPU;
    const standInDisturbed = Math.max(standInRun.cpu.neighbours, idleAfterRun.cpu.neighbours) > NEIGHBOURS_QUIET_CPU;
    const goals = {
      aShare: aShare >= 0.95,
      bShare: bWin ? bShare >= 0.95 && bInsideA : undefined,
      noLimited: limited.a === 0 && limited.b === 0,
      bP95: disturbed ? undefined : ratio <= 1.1,
    };
    figures.tenants = {
      limitPerMinute,
      tenantCapPerMinute: tenantCap,
      queueRatesPerSecond: queueRates,
      workers: workerCount,
      stickyCachePerWorker: stickyCache,
      workerRssPeakBytes: workerPeaks,
      aBacklog: erasures,
      aCompleted,
      aCalls: aWin.n,
      aWindowMs: aWin.ms,
      aShare,
      aShareWholeWindow: aWin.whole,
      bTrickle: trickleN,
      bTrickleGapMs: trickleGapMs,
      aIntakeMs: intakeMs,
      bIdleP50Ms: p50.idle,
      bIdleP95Ms: p95.idle,
      bBusyP50Ms: p50.busy,
      bBusyP95Ms: p95.busy,
      bP95Ratio: ratio,
      bP95Disturbed: disturbed,
      standInCpu,
      standInDisturbed,
      bStandInP50Ms: p50.standIn,
      bStandInP95Ms: p95.standIn,
      bIdleAfterP50Ms: p50.idleAfter,
      bIdleAfterP95Ms: p95.idleAfter,
      cpuDuringStandInTrickle: { standIn: standInRun.cpu, idleAfter: idleAfterRun.cpu },
      bTrickleBreakdownMs: { idle: idleParts, busy: busyParts },
      cpuDuringTrickle: { idle: idleCpu, busy: busyCpu },
      stickyCacheDuringTrickle: { idle: idleSticky, busy: busySticky },
      serverDuringTrickle: metricsUrl ? { idle: idleServer, busy: busyServer } : undefined,
      bBacklog: bBacklogN,
      bCompleted,
      bCalls: bWin?.n,
      bWindowMs: bWin?.ms,
      bShare,
      bShareWholeWindow: bWin?.whole,
      bWindowInsideA: bInsideA,
      aShareDuringBBacklog: aDuringB,
      rateLimited: limited,
      callsByAccount: { [a.id]: stats[a.id]!.total, [b.id]: stats[b.id]!.total },
      goals,
      loadAverage1m: { idle: loadIdle, busy: loadBusy },
    };

    const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    const row = (figure: string, measured: string, goal: string, ok: boolean | undefined | null) =>
      console.log(`  ${figure.padEnd(50)} ${measured.padEnd(44)} ${goal.padEnd(10)} ${ok === null ? '' : ok === undefined ? 'n/a' : verdict(ok)}`);
    const rateText = queueRates.map((r) => (r === undefined ? 'none' : `${(r * 60).toFixed(0)}/min`)).join(' / ');
    console.log(
      `\n5. Tenants: A with a backlog of ${erasures}, B with ${trickleN} arriving meanwhile (one each ${sec(trickleGapMs)}), then a backlog of B's own; ` +
        `each account ${limitPerMinute} calls/60 s, each queue capped at ${tenantCap}/min (server: ${rateText}), ${workerCount} worker process(es), ` +
        `sticky cache ${stickyCache} per worker (production 50)`,
    );
    row('figure', 'measured', 'goal', null);
    row("A's share of its limit (backlog, middle 80%)", `${pct(aShare)} (${pct(aWin.whole)}: ${aWin.n} calls in ${sec(aWin.ms)})`, '≥ 95%', goals.aShare);
    row(
      `B's share of its limit (backlog of ${bBacklogN}, mid 80%)`,
      bWin
        ? `${pct(bShare)} (${pct(bWin.whole)}: ${bWin.n} calls in ${sec(bWin.ms)}${bInsideA ? '' : ', ended after A'})`
        : `not measured (B's window under ${sec(MIN_WINDOW_MS)})`,
      '≥ 95%',
      goals.bShare,
    );
    row('429s received, A / B', `${limited.a} / ${limited.b}`, '0', goals.noLimited);
    row("B's trickle start→completed p95, idle / A busy", `${sec(p95.idle)} / ${sec(p95.busy)} (×${ratio.toFixed(3)})`, '≤ ×1.10', goals.bP95);
    if (disturbed)
      line(
        '  not judged: neighbours busy',
        `others used ${idleCpu.neighbours.toFixed(2)} / ${busyCpu.neighbours.toFixed(2)} CPU in the idle / busy trickle (quiet: ≤ ${NEIGHBOURS_QUIET_CPU})`,
      );
    line("B's trickle start→completed p50, idle / A busy", `${sec(p50.idle)} / ${sec(p50.busy)} (×${(p50.busy / p50.idle).toFixed(3)})`);
    line(
      `B's trickle p95 / p50 beside a stand-in of ${standInCpu.toFixed(2)} CPU`,
      `${sec(p95.standIn)} / ${sec(p50.standIn)} (A busy ÷ stand-in: p95 ×${(p95.busy / p95.standIn).toFixed(3)}, p50 ×${(p50.busy / p50.standIn).toFixed(3)})` +
        (standInDisturbed ? `; neighbours busy (over ${NEIGHBOURS_QUIET_CPU} CPU), not comparable` : ''),
    );
    line(
      `B's trickle p95 / p50 idle again, after`,
      `${sec(p95.idleAfter)} / ${sec(p50.idleAfter)} (÷ idle before: p95 ×${(p95.idleAfter / p95.idle).toFixed(3)})`,
    );
    const partsText = (m: Record<keyof Breakdown, number>) => BREAKDOWN_PARTS.map((k) => `${k} ${(m[k] / 1000).toFixed(3)}`).join(', ');
    line("B's trickle, where the time went (s), median idle", partsText(idleParts.median));
    line('                                 median A busy', partsText(busyParts.median));
    line('                   the p95 erasure, idle', partsText(idleParts.atP95));
    line('                   the p95 erasure, A busy', partsText(busyParts.atP95));
    const slowText = (w: SlowestWait) => `request ${w.index + 1} of ${trickleN} by start, its workflow task ${w.wft} waited ${sec(w.wftWait)}`;
    line("  the p95 erasure's longest wait, idle / busy", `${slowText(idleParts.atP95.slowest)} / ${slowText(busyParts.atP95.slowest)}`);
    line('  B busy: total per request by start (s)', busyParts.totals.map((t) => (t / 1000).toFixed(2)).join(' '));
    line(`A's ${erasures} taken in (every first workflow task done)`, `${sec(intakeMs)} after the first start; B's trickle began 1 s later`);
    line('CPU during the idle trickle', cpuText(idleCpu));
    line('CPU during the trickle, A busy', cpuText(busyCpu));
    line('CPU during the trickle, stand-in', cpuText(standInRun.cpu));
    line('CPU during the trickle, idle again', cpuText(idleAfterRun.cpu));
    // A workflow evicted for room replays from its full history at its next task, read by the server.
    const stickyText = (c: { hit: number; miss: number; evicted: number }) => `${c.hit} cache hits, ${c.miss} misses, ${c.evicted} evicted for room`;
    line('sticky cache (both workers), idle trickle', stickyText(idleSticky));
    line('                               A busy', stickyText(busySticky));
    // Persistence time per second above 1 means calls queued for the server's one SQLite connection.
    const serverText = (c: ServerCounters, cpu: CpuUse) =>
      `${c.persistenceCalls} persistence calls (${(c.persistenceCalls / cpu.seconds).toFixed(0)}/s, ${((1000 * c.persistenceSeconds) / Math.max(1, c.persistenceCalls)).toFixed(1)} ms each, ` +
      `${(c.persistenceSeconds / cpu.seconds).toFixed(2)} s per s), ${c.historyReads} history reads, ` +
      `transfer tasks ${((1000 * c.queueSeconds) / Math.max(1, c.queueTasks)).toFixed(0)} ms in the history queue`;
    line('dev server, idle trickle', metricsUrl ? serverText(idleServer, idleCpu) : 'its metrics endpoint not found');
    if (metricsUrl) line('           A busy', serverText(busyServer, busyCpu));
    line(`worker RSS peak (VmHWM), cache ${stickyCache}`, workerPeaks.map(mib).join(' / '));
    line("A's share while B's backlog ran", bWin ? pct(aDuringB) : '-');
    line(
      'completed: A / B trickles / B backlog',
      `${aCompleted} of ${erasures} / ${Object.values(trickles).reduce((n, l) => n + l.length, 0)} of ${Object.keys(trickles).length * trickleN} / ${bCompleted} of ${bBacklogN}`,
    );
    line('1-min load average, before idle / after busy', `${loadIdle.toFixed(2)} / ${loadBusy.toFixed(2)} (${cpus().length} CPUs)`);
    line('', `(share: calls the tenant's account answered in the middle 80% of its backlog's window, first call to last,`);
    line(
      '',
      ` over its limit ${limitPerMinute}/60 s; in brackets over the whole window, with the limiter's first burst; the cap is ${pct(tenantCap / limitPerMinute)})`,
    );
    if (aCompleted !== erasures || bCompleted !== bBacklogN)
      throw new Error(`tenants: ${aCompleted} of ${erasures} (A) and ${bCompleted} of ${bBacklogN} (B) completed`);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await sim.close();
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const cli = resolveTemporalCli();
  if (cli.executable.type !== 'existing-path') console.warn(`No local Temporal CLI; the SDK will try to download one. ${INSTALL_HINT}`);
  // The machine and versions first, the load average before we add any: the figures below carry their context.
  const machine = machineContext(cli);
  printMachineContext(machine);
  const dir = mkdtempSync(join(tmpdir(), 'dsar-bench-'));
  const t0 = Date.now();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli.executable,
      searchAttributes: [...SEARCH_ATTRIBUTES],
      extraArgs: ['--log-level', 'error', ...DEV_SERVER_DYNAMIC_CONFIG, ...BENCH_DEV_SERVER_CONFIG],
    },
  });
  try {
    const bundle = await buildWorkflowBundle(join(dir, 'workflow-bundle.js'));
    const receipt = await generateReceiptKeys('EdDSA');
    const encryptionKeys = `bench:${randomBytes(32).toString('base64')}`;
    const shared: Shared = {
      env,
      address: env.address,
      encryptionKeys,
      receipt: { privateJwk: receipt.privateJwk, keyId: receipt.keyId },
      bundlePath: bundle.path,
    };
    const client = new Client({ connection: env.connection, namespace: 'default', dataConverter: createDataConverter(parseEncryptionKeys(encryptionKeys)) });
    console.log(
      `comeet-dsar benchmark: Temporal dev server (${cli.source}), Comeet simulator at ${limitPerMinute} calls/60 s (Comeet's 100 × ${scale}), ` +
        `cap ${capPerMinute}/min on the Comeet queue; node ${process.version}; ${new Date().toISOString()}`,
    );
    figures.setup = { scale, limitPerMinute, capPerMinute, erasures, growth: growthSizes, fleetTenants, fleetScale, workers: workerCount, machine };
    const backlog = phases.has('backlog') ? await runBacklog(shared, client) : undefined;
    if (phases.has('steady')) await runSteady(shared, client);
    if (backlog && phases.has('plain')) await runPlain(backlog.wall);
    // The image's build, for the phases that run the worker as the image does: rebuilt so it is this code.
    if (phases.has('growth') || phases.has('fleet') || phases.has('engine')) buildDist();
    if (phases.has('growth')) figures.growth = await runGrowth(shared, client, growthSizes, waitingScale);
    if (phases.has('tenants')) await runTenants(shared, client);
    if (phases.has('fleet'))
      figures.fleet = await runFleet(shared, client, {
        tenants: fleetTenants,
        scale: fleetScale,
        targetMs: fleetSeconds * 1000,
        workers: workerCount,
        cache: fleetCache,
      });
    if (phases.has('engine')) {
      for (const env of engineVariants) {
        const label =
          Object.entries(env)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ') || 'Node defaults';
        await runEngine(shared, client, env, label);
      }
    }
    console.log(`\nDone in ${sec(Date.now() - t0)}.`);
    if (args.json) writeFileSync(args.json, JSON.stringify(figures, null, 2) + '\n');
  } finally {
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`Benchmark failed: ${err instanceof Error ? err.stack : err}`);
    process.exit(1);
  },
);
