/**
 * Worker Versioning on a real dev server: two builds of the worker (same code, different build ids)
 * in one Worker Deployment, rolled out with the `temporal worker deployment` commands the README
 * gives. A waiting erasure (AUTO_UPGRADE) moves to the new current build; a follow-up (PINNED)
 * finishes on the build that started it, which then drains.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recheckNow, startErasure } from '../../src/client.js';
import { ComeetClient } from '../../src/comeet/index.js';
import { erasureInputSchema, erasureRequestSchema } from '../../src/erasure-request.js';
import { comeetTaskQueue } from '../../src/task-queues.js';
import { startSimulator } from '../../src/simulator/server.js';
import { resolveTemporalCli } from '../../src/temporal-binaries.js';
import { createErasureWorker, type ErasureWorker } from '../../src/worker.js';
import { testReceiptKeys } from '../helpers/receipts.js';
import { API_KEY, FAST_TUNING, interviewing, person, pollStatus, SECRET, TEST_COMEET_RATE_PER_MINUTE } from '../helpers/scenario.js';
import { startDevServer, taskQueueFor, workflowBundle } from '../helpers/temporal.js';

const run = promisify(execFile);

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  // The server reports a version drained after a grace period for visibility (3 min by default).
  env = await startDevServer([
    '--dynamic-config-value',
    'matching.wv.VersionDrainageStatusVisibilityGracePeriod="1s"',
    '--dynamic-config-value',
    'matching.wv.VersionDrainageStatusRefreshInterval="1s"',
  ]);
  await workflowBundle();
});
afterAll(async () => {
  await env?.teardown();
});

/** The operator's commands, exactly as the README gives them (plus the test server's address). */
async function temporalCli(...args: string[]): Promise<unknown> {
  const cli = resolveTemporalCli().executable;
  if (cli.type !== 'existing-path') throw new Error('the temporal CLI is not installed (npm run setup:temporal)');
  const { stdout } = await run(cli.path, [...args, '--address', env.address, '--namespace', env.namespace ?? 'default', '--output', 'json'], {
    timeout: 30_000,
  });
  return stdout.trim() ? JSON.parse(stdout) : undefined;
}

async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean = () => true, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (ok(v)) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`${what} never happened; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The build id each workflow task of a run completed on, in order. */
async function taskBuildIds(workflowId: string): Promise<{ buildId?: string; behavior?: unknown }[]> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.workflowTaskCompletedEventAttributes)
    .map((e) => ({
      buildId: e.workflowTaskCompletedEventAttributes!.deploymentVersion?.buildId ?? undefined,
      behavior: e.workflowTaskCompletedEventAttributes!.versioningBehavior,
    }));
}

/**
 * set-current-version returns once the deployment changed; each task queue learns of it a moment
 * later. Tasks routed before that still go to the old current build (an AUTO_UPGRADE workflow
 * moves at its next task after), which would make the test's order of events a race.
 */
async function routedTo(taskQueue: string, buildId: string): Promise<void> {
  for (const [name, taskQueueType] of [
    [taskQueue, 1],
    [comeetTaskQueue(taskQueue), 2],
  ] as const) {
    await eventually(
      `${name} routed to ${buildId}`,
      () => env.client.workflowService.describeTaskQueue({ namespace: env.namespace ?? 'default', taskQueue: { name }, taskQueueType }),
      (r) => r.versioningInfo?.currentDeploymentVersion?.buildId === buildId,
    );
  }
}

async function versioningOf(workflowId: string) {
  const { raw } = await env.client.workflow.getHandle(workflowId).describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  return { buildId: info?.deploymentVersion?.buildId ?? undefined, behavior: info?.behavior };
}

describe('Worker Versioning', () => {
  it('moves a waiting erasure to the new current build, keeps a follow-up on its own build until it ends, then drains the old build', async () => {
    const deploymentName = `dsar-test-${randomBytes(4).toString('hex')}`;
    const taskQueue = taskQueueFor('versioning');
    const idKey = randomBytes(32).toString('hex');
    const sim = await startSimulator({
      apiKey: API_KEY,
      secret: SECRET,
      seed: { candidates: [interviewing('waits@example.com', 'P-WAIT', '+1d'), ...person('done@example.com', 'P-DONE')] },
    });
    // One Comeet client per build: which build's Comeet worker made a call is what the server dispatched.
    const callsBy: Record<string, string[]> = { v1: [], v2: [] };
    const comeetFor = (build: 'v1' | 'v2') =>
      new ComeetClient({ baseUrl: sim.url, apiKey: API_KEY, secret: SECRET, onCall: (c) => callsBy[build]!.push(c.endpoint) });
    const comeet = { v1: comeetFor('v1'), v2: comeetFor('v2') };
    const receipts = (await testReceiptKeys()).signer;
    const bundle = await workflowBundle();
    const startBuild = (buildId: 'v1' | 'v2') =>
      createErasureWorker({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue,
        comeet: comeet[buildId],
        receipts,
        workflowBundle: bundle,
        comeetRatePerMinute: TEST_COMEET_RATE_PER_MINUTE,
        deployment: { deploymentName, buildId },
      });
    const runs: Promise<void>[] = [];
    const workers: ErasureWorker[] = [];
    const launch = async (buildId: 'v1' | 'v2') => {
      const w = await startBuild(buildId);
      workers.push(w);
      runs.push(w.run());
      return w;
    };
    const setCurrent = (buildId: string) =>
      // Refused until the version's workers polled every task queue it has seen (both of ours).
      eventually(`set-current-version ${buildId}`, () =>
        temporalCli('worker', 'deployment', 'set-current-version', '--deployment-name', deploymentName, '--build-id', buildId, '--yes'),
      );
    const describeVersion = (buildId: string) =>
      temporalCli('worker', 'deployment', 'describe-version', '--deployment-name', deploymentName, '--build-id', buildId) as Promise<{
        drainageInfo?: { drainageStatus?: string };
        taskQueuesInfos?: { name: string; type: string }[];
      }>;

    try {
      const v1 = await launch('v1');
      await setCurrent('v1');
      await routedTo(taskQueue, 'v1');
      // Both queues are in the version: the server would not dispatch the Comeet calls of a
      // versioned workflow to a Comeet worker outside it.
      const v1Queues = (await describeVersion('v1')).taskQueuesInfos?.map((q) => `${q.name}/${q.type}`) ?? [];
      expect(v1Queues).toEqual(expect.arrayContaining([`${taskQueue}/workflow`, `${comeetTaskQueue(taskQueue)}/activity`]));

      const waiting = await startErasure(env.client, { email: 'waits@example.com' }, { taskQueue, idKey, tuning: FAST_TUNING });
      await pollStatus(env.client, waiting.workflowId, (s) => s.phase === 'waiting_for_interviews');
      // A follow-up a few seconds after: it sleeps through the roll-out.
      const done = await startErasure(env.client, { email: 'done@example.com' }, { taskQueue, idKey, tuning: { ...FAST_TUNING, followUpDelayMs: 8000 } });
      const doneResult = await done.handle.result();
      expect(doneResult.outcome).toBe('completed');
      const followUpId = doneResult.followUp!.workflowId;
      expect(await versioningOf(waiting.workflowId)).toMatchObject({ buildId: 'v1' });
      expect(await versioningOf(followUpId)).toMatchObject({ buildId: 'v1' });
      const v1CallsBeforeRollout = callsBy.v1!.length;
      expect(callsBy.v2).toEqual([]);

      await launch('v2');
      await setCurrent('v2');
      await routedTo(taskQueue, 'v2');
      const v2CurrentAt = Date.now();

      // The waiting erasure's next task goes to the current build, and so do its Comeet calls.
      sim.completeInterviews('P-WAIT');
      await recheckNow(env.client, waiting.workflowId, 'operator');
      expect((await waiting.handle.result()).outcome).toBe('completed');
      const waitingTasks = await taskBuildIds(waiting.workflowId);
      expect(waitingTasks[0]).toMatchObject({ buildId: 'v1' });
      expect(waitingTasks.at(-1)).toMatchObject({ buildId: 'v2' });
      expect(new Set(waitingTasks.map((t) => t.buildId))).toEqual(new Set(['v1', 'v2']));
      expect(callsBy.v2).toContain('DELETE /person/:uid');

      // The follow-up wakes after v2 became current and still runs on v1: every task and its lookup.
      const v2CallsBeforeFollowUp = callsBy.v2!.length;
      const followUp = await env.client.workflow.getHandle(followUpId).result();
      expect(followUp).toMatchObject({ reappeared: false });
      const followUpHistory = await env.client.workflow.getHandle(followUpId).fetchHistory();
      const lookupScheduled = followUpHistory.events!.find((e) => e.activityTaskScheduledEventAttributes)!;
      expect(Number(lookupScheduled.eventTime!.seconds) * 1000).toBeGreaterThanOrEqual(v2CurrentAt - 1000);
      expect(new Set((await taskBuildIds(followUpId)).map((t) => t.buildId))).toEqual(new Set(['v1']));
      expect(callsBy.v1!.length).toBeGreaterThan(v1CallsBeforeRollout);
      expect(callsBy.v2!.length).toBe(v2CallsBeforeFollowUp);

      // Nothing pinned to v1 is open any more: the server says it is drained, and v1 can stop.
      const drained = await eventually(
        'v1 drained',
        () => describeVersion('v1'),
        (d) => d.drainageInfo?.drainageStatus === 'drained',
        60_000,
      );
      expect(drained.drainageInfo?.drainageStatus).toBe('drained');
      v1.shutdown();

      // New requests start on v2 and complete without v1.
      sim.addCandidate(person('later@example.com', 'P-LATER')[0]!);
      const later = await startErasure(env.client, { email: 'later@example.com' }, { taskQueue, idKey, tuning: FAST_TUNING });
      expect((await later.handle.result()).outcome).toBe('completed');
      expect(new Set((await taskBuildIds(later.workflowId)).map((t) => t.buildId))).toEqual(new Set(['v2']));
    } finally {
      for (const w of workers) w.shutdown();
      await Promise.allSettled(runs);
      await comeet.v1.close();
      await comeet.v2.close();
      await sim.close();
    }
  }, 180_000);
});

describe('what the workflow bundle depends on', () => {
  it("checks the workflow's input without the host's URL parser, which a Node upgrade may change under replay", () => {
    const request = { email: 'a@example.com', callbackUrl: 'https://hooks.example.com/dsar?x=1' };
    // The real parser, counting its uses.
    const HostURL = URL;
    let uses = 0;
    vi.stubGlobal(
      'URL',
      class extends HostURL {
        constructor(...args: ConstructorParameters<typeof URL>) {
          super(...args);
          uses++;
        }
        static override canParse(...args: Parameters<typeof URL.canParse>): boolean {
          uses++;
          return HostURL.canParse(...args);
        }
      },
    );
    try {
      expect(erasureInputSchema.safeParse(request).success).toBe(true);
      expect(erasureInputSchema.safeParse({ ...request, callbackUrl: 'ftp://hooks.example.com/' }).success).toBe(false);
      expect(erasureInputSchema.safeParse({ ...request, callbackUrl: 'https:// spaced.example.com/' }).success).toBe(false);
      expect(uses).toBe(0);
      // Callers still get the full check (https or loopback, no credentials), on the WHATWG parser.
      expect(erasureRequestSchema.safeParse(request).success).toBe(true);
      expect(erasureRequestSchema.safeParse({ ...request, callbackUrl: 'https://user:pw@hooks.example.com/' }).success).toBe(false);
      expect(erasureRequestSchema.safeParse({ ...request, callbackUrl: 'http://hooks.example.com/' }).success).toBe(false);
      expect(uses).toBeGreaterThan(0);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
