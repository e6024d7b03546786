/**
 * What a Comeet queue per tenant costs the worker process: `npx tsx scripts/tenant-queues-cost.ts
 * [--workers 200] [--pollers 1|default] [--idle-seconds 30]`.
 *
 * Starts a dev server, connects one NativeConnection, measures the process idle (baseline), then
 * creates `--workers` activity-only SDK workers, each on its own queue (`<tq>-comeet-tenant-<i>`),
 * with at most `--pollers` activity polls each (`activityTaskPollerBehavior: simple-maximum`; the
 * SDK default is min(10, maxConcurrentActivityTaskExecutions)). Prints RSS and heap before and
 * after, the start-up time (create, then until every poll is open), the activity polls in flight
 * (the SDK's own `num_pollers` gauge, scraped from its Prometheus exporter) and the CPU of this
 * process and of the dev server over `--idle-seconds` with all workers idle.
 */
import { parseArgs } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DEV_SERVER_DYNAMIC_CONFIG, resolveTemporalCli } from '../src/temporal-binaries.js';
import { cpuMsOf, devServerPid, freePort } from './processes.js';

const { values: args } = parseArgs({
  options: { workers: { type: 'string', default: '200' }, pollers: { type: 'string', default: '1' }, 'idle-seconds': { type: 'string', default: '30' } },
});
const N = Number(args.workers);
const IDLE_S = Number(args['idle-seconds']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

/** CPU seconds (user + system) of a process, from /proc (Linux). */
function cpuSecondsOf(pid: number): number {
  return (cpuMsOf(pid) ?? NaN) / 1000;
}

async function activityPolls(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (/^temporal_num_pollers\{[^}]*poller_type="activity_task"/.test(line)) sum += Number(line.split(' ').at(-1));
  return sum;
}

async function idleCpu(seconds: number, server: number | undefined) {
  const p0 = process.cpuUsage();
  const s0 = server ? cpuSecondsOf(server) : 0;
  await sleep(seconds * 1000);
  const p = process.cpuUsage(p0);
  const proc = (p.user + p.system) / 1e6 / seconds;
  const srv = server ? (cpuSecondsOf(server) - s0) / seconds : NaN;
  return `this process ${(proc * 100).toFixed(1)}% of a CPU, dev server ${(srv * 100).toFixed(1)}%`;
}

async function main() {
  const metricsPort = await freePort();
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } } } });
  const { executable } = resolveTemporalCli();
  const env = await TestWorkflowEnvironment.createLocal({ server: { executable, extraArgs: ['--log-level', 'error', ...DEV_SERVER_DYNAMIC_CONFIG] } });
  const server = devServerPid();
  try {
    const connection = env.nativeConnection;
    global.gc?.();
    await sleep(2000);
    const before = process.memoryUsage();
    console.log(`workers ${N}, activity pollers per worker: ${args.pollers}`);
    console.log(`before: RSS ${mb(before.rss)}, heap ${mb(before.heapUsed)}, activity polls ${await activityPolls(metricsUrl)}`);
    console.log(`idle ${IDLE_S / 3} s without workers: ${await idleCpu(IDLE_S / 3, server)}`);

    const t0 = performance.now();
    const workers: Worker[] = [];
    for (let i = 0; i < N; i++) {
      workers.push(
        await Worker.create({
          connection,
          namespace: 'default',
          taskQueue: `cost-comeet-tenant-${i}`,
          activities: { async noop() {} },
          // The SDK's defaults (100 slots, 10 polls) or a few slots and `--pollers` polls.
          ...(args.pollers === 'default'
            ? {}
            : { maxConcurrentActivityTaskExecutions: 4, activityTaskPollerBehavior: { type: 'simple-maximum' as const, maximum: Number(args.pollers) } }),
        }),
      );
    }
    const created = performance.now() - t0;
    const running = workers.map((w) => w.run());
    const expected = args.pollers === 'default' ? N * 10 : N * Number(args.pollers);
    let polls = 0;
    while (performance.now() - t0 < 60_000) {
      polls = await activityPolls(metricsUrl);
      if (polls >= expected) break;
      await sleep(100);
    }
    const polling = performance.now() - t0;
    await sleep(3000);
    const after = process.memoryUsage();
    console.log(`start-up: ${N} Worker.create in ${(created / 1000).toFixed(2)} s, all ${polls} activity polls open after ${(polling / 1000).toFixed(2)} s`);
    console.log(
      `after: RSS ${mb(after.rss)} (+${mb(after.rss - before.rss)}, ${((after.rss - before.rss) / N / 1024).toFixed(0)} KB per worker), heap ${mb(after.heapUsed)}, activity polls in flight ${await activityPolls(metricsUrl)}`,
    );
    console.log(`idle ${IDLE_S} s with ${N} workers: ${await idleCpu(IDLE_S, server)}`);
    console.log(`then: RSS ${mb(process.memoryUsage().rss)}, activity polls in flight ${await activityPolls(metricsUrl)}`);
    const t1 = performance.now();
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    console.log(`shutdown of ${N} workers: ${((performance.now() - t1) / 1000).toFixed(2)} s`);
  } finally {
    await env.teardown();
  }
}

await main();
