/**
 * What task-queue fairness does on the dev server (Temporal CLI 1.9.1, server 1.32), measured:
 * `npx tsx scripts/fairness-probe.ts [--modes fairness,new-matcher,classic] [--seconds 12]`.
 *
 * Each mode starts its own dev server and runs two scenarios on one activity queue:
 *   per-key  a per-key rate limit default of 2/s (UpdateTaskQueueConfig
 *            updateFairnessKeyRateLimitDefault), key "b" given weight 2 by a weight override, key
 *            "a" none; both keys backlogged at once (60 activities each). Per-key limit × weight
 *            would give a 2/s, b 4/s.
 *   share    a whole-queue limit of 10/s, no per-key limit; key "a" schedules 150 at once, key "b"
 *            30 two seconds later. Fair dispatch gives b about half while both wait; FIFO makes b
 *            wait behind a's backlog.
 * Printed: dispatches per second per key over the measuring window (the first 2 s, the limiter's
 * burst, left out) and b's schedule-to-start wait.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { activityInfo } from '@temporalio/activity';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
// CommonJS package: Node's ESM loader only sees its default export.
import proto from '@temporalio/proto';
import { DEV_SERVER_DYNAMIC_CONFIG, resolveTemporalCli } from '../src/temporal-binaries.js';
import type { BatchInput } from '../test/helpers/dispatch-workflows.js';

const { values: args } = parseArgs({
  options: { modes: { type: 'string', default: 'fairness,new-matcher,classic' }, seconds: { type: 'string', default: '12' } },
});
const SECONDS = Number(args.seconds);
const ACTIVITY = proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;

const MODES: Record<string, string[]> = {
  // What production would need: fairness implies the new matcher.
  fairness: [...DEV_SERVER_DYNAMIC_CONFIG, '--dynamic-config-value', 'matching.enableFairness=true'],
  // The project's dev-server settings today: priority matcher, fairness off (the 1.32 default).
  'new-matcher': [...DEV_SERVER_DYNAMIC_CONFIG],
  // The classic matcher (before 1.31's default).
  classic: [
    '--dynamic-config-value',
    'matching.useNewMatcher=false',
    '--dynamic-config-value',
    'matching.numTaskqueueReadPartitions=1',
    '--dynamic-config-value',
    'matching.numTaskqueueWritePartitions=1',
  ],
};

interface Started {
  tag: string;
  scheduled: number;
  started: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

function ratePerKey(records: Started[], from: number, to: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) if (r.started >= from && r.started < to) out[r.tag] = (out[r.tag] ?? 0) + 1;
  for (const k of Object.keys(out)) out[k] = Math.round((out[k]! / ((to - from) / 1000)) * 100) / 100;
  return out;
}

async function scenario(
  env: TestWorkflowEnvironment,
  name: string,
  config: Omit<proto.temporal.api.workflowservice.v1.IUpdateTaskQueueConfigRequest, 'namespace' | 'taskQueue' | 'taskQueueType' | 'identity'>,
  batches: (BatchInput & { delayMs: number })[],
  workflowQueue: string,
) {
  const activityQueue = `probe-${name}-${Math.random().toString(36).slice(2, 8)}`;
  await env.connection.workflowService.updateTaskQueueConfig({
    namespace: 'default',
    identity: 'fairness-probe',
    taskQueue: activityQueue,
    taskQueueType: ACTIVITY,
    ...config,
  });
  const described = await env.connection.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: activityQueue },
    taskQueueType: ACTIVITY,
    reportConfig: true,
  });
  const records: Started[] = [];
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: activityQueue,
    activities: {
      async record(tag: string) {
        records.push({ tag, scheduled: activityInfo().scheduledTimestampMs, started: Date.now() });
      },
    },
    maxConcurrentActivityTaskExecutions: 1000,
  });
  const t0 = Date.now();
  await worker.runUntil(async () => {
    const handles = await Promise.all(
      batches.map(async (b) => {
        await new Promise((r) => setTimeout(r, b.delayMs));
        return env.client.workflow.start('scheduleBatch', {
          taskQueue: workflowQueue,
          workflowId: `${activityQueue}-${b.tag}`,
          args: [{ ...b, activityQueue }],
        });
      }),
    );
    await new Promise((r) => setTimeout(r, (SECONDS + 2) * 1000));
    await Promise.all(handles.map((h) => h.terminate('probe over').catch(() => undefined)));
  });
  const rates = ratePerKey(records, t0 + 2000, t0 + (SECONDS + 2) * 1000);
  const waits = (tag: string) => records.filter((r) => r.tag === tag).map((r) => r.started - r.scheduled);
  // While b is being served (its first to its last start): each key's share of the dispatches.
  const bStarts = records
    .filter((r) => r.tag === 'b')
    .map((r) => r.started)
    .sort((x, y) => x - y);
  const bSpan = bStarts.length > 1 ? ratePerKey(records, bStarts[0]!, bStarts.at(-1)! + 1) : {};
  const eff = described.effectiveRateLimit?.requestsPerSecond;
  return {
    scenario: name,
    effectiveQueueRate: eff && eff < 1e6 ? eff : 'unlimited',
    perKeyDefault: described.config?.fairnessKeysRateLimitDefault?.rateLimit?.requestsPerSecond ?? null,
    weightOverrides: described.config?.fairnessWeightOverrides ?? {},
    dispatchesPerSecond: rates,
    dispatchesPerSecondWhileBServed: bSpan,
    dispatched: Object.fromEntries(batches.map((b) => [b.tag, `${waits(b.tag).length}/${b.count}`])),
    medianWaitMs: Object.fromEntries(batches.map((b) => [b.tag, Math.round(median(waits(b.tag)))])),
  };
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const { executable } = resolveTemporalCli();
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../test/helpers/dispatch-workflows.ts', import.meta.url)),
    logger: new DefaultLogger('WARN'),
  });
  for (const mode of args.modes!.split(',')) {
    const env = await TestWorkflowEnvironment.createLocal({ server: { executable, extraArgs: ['--log-level', 'error', ...MODES[mode]!] } });
    const workflowQueue = 'probe-workflows';
    const wfWorker = await Worker.create({ connection: env.nativeConnection, taskQueue: workflowQueue, workflowBundle });
    try {
      await wfWorker.runUntil(async () => {
        const perKey = await scenario(
          env,
          'per-key',
          { updateFairnessKeyRateLimitDefault: { rateLimit: { requestsPerSecond: 2 }, reason: 'probe' }, setFairnessWeightOverrides: { b: 2 } },
          [
            { tag: 'a', fairnessKey: 'a', count: 60, delayMs: 0, activityQueue: '' },
            { tag: 'b', fairnessKey: 'b', count: 60, delayMs: 0, activityQueue: '' },
          ],
          workflowQueue,
        );
        console.log(JSON.stringify({ mode, ...perKey }));
        const share = await scenario(
          env,
          'share',
          { updateQueueRateLimit: { rateLimit: { requestsPerSecond: 10 }, reason: 'probe' } },
          [
            { tag: 'a', fairnessKey: 'a', count: 150, delayMs: 0, activityQueue: '' },
            { tag: 'b', fairnessKey: 'b', count: 30, delayMs: 2000, activityQueue: '' },
          ],
          workflowQueue,
        );
        console.log(JSON.stringify({ mode, ...share }));
      });
    } finally {
      await env.teardown();
    }
  }
}

await main();
