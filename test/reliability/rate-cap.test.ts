/**
 * Comeet's budget is one number for the whole system: the Temporal server caps the Comeet queue,
 * so two workers together stay under it (a per-worker limit would double the rate and meet 429s),
 * and a backlog drains in deadline order (task queue priority).
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { createDataConverter, createWorkerDataConverter } from '../../src/codec/data-converter.js';
import { describe, expect, it } from 'vitest';
import { startErasure } from '../../src/client.js';
import { ComeetClient } from '../../src/comeet/index.js';
import type { ErasureResult } from '../../src/erasure-status.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { createErasureWorker, type ErasureWorker } from '../../src/worker.js';
import { createActivities } from '../../src/activities/index.js';
import { describeQueueRate, ensureQueueRate } from '../../src/rate-cap.js';
import { comeetTaskQueue } from '../../src/task-queues.js';
import { NativeConnection, Worker } from '@temporalio/worker';
// CommonJS package: Node's ESM loader only sees its default export.
import proto from '@temporalio/proto';
import { testReceiptKeys } from '../helpers/receipts.js';
import { API_KEY, FAST_TUNING, person, SECRET } from '../helpers/scenario.js';
import { encryptedWorkflowBundle, taskQueueFor, useDevServer, workflowBundle } from '../helpers/temporal.js';
import { API_KEY as RESTART_API_KEY, SECRET as RESTART_SECRET, makeSecrets, workerEnv } from './restart-harness.js';
import { startWorkerProcess } from './restart-processes.js';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

async function workers(n: number, sim: Simulator, taskQueue: string, ratePerMinute: number) {
  const made: { worker: ErasureWorker; comeet: ComeetClient; calls: number }[] = [];
  for (let i = 0; i < n; i++) {
    const entry = { calls: 0 } as { worker: ErasureWorker; comeet: ComeetClient; calls: number };
    entry.comeet = new ComeetClient({ baseUrl: sim.url, apiKey: API_KEY, secret: SECRET, onCall: () => entry.calls++ });
    entry.worker = await createErasureWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      comeet: entry.comeet,
      receipts: (await testReceiptKeys()).signer,
      workflowBundle: await workflowBundle(),
      comeetRatePerMinute: ratePerMinute,
      overrides: { identity: `cap-worker-${i}` },
    });
    made.push(entry);
  }
  return made;
}

const subjects = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@example.com`, uid: `P-${prefix.toUpperCase()}-${i}` }));

describe('the Comeet rate cap', () => {
  it('is set through the API, so a stray worker polling without the option does not lift it', async () => {
    const limit = 100;
    const windowMs = 10_000;
    const capPerSecond = 7;
    const people = subjects('stray', 60);
    const sim = await startSimulator({
      apiKey: API_KEY,
      secret: SECRET,
      rateLimit: { limit, windowMs },
      seed: { candidates: people.flatMap((p) => person(p.email, p.uid)) },
    });
    const taskQueue = taskQueueFor('rate cap stray worker');
    const idKey = randomBytes(32).toString('hex');
    const [main] = await workers(1, sim, taskQueue, capPerSecond * 60);
    if (main!.worker.rateCap.action === 'fallback') throw new Error(main!.worker.rateCap.error);
    expect(main!.worker.rateCap).toMatchObject({ action: 'set', rate: { source: 'api', effectivePerSecond: capPerSecond } });
    // An older or debugging worker: same activities, its own connection, no maxTaskQueueActivitiesPerSecond.
    const strayConnection = await NativeConnection.connect({ address: env.address });
    let strayCalls = 0;
    const strayComeet = new ComeetClient({ baseUrl: sim.url, apiKey: API_KEY, secret: SECRET, onCall: () => strayCalls++ });
    const stray = await Worker.create({
      connection: strayConnection,
      namespace: 'default',
      taskQueue: comeetTaskQueue(taskQueue),
      activities: createActivities({ comeet: strayComeet, receipts: (await testReceiptKeys()).signer }),
      identity: 'stray-worker',
    });
    try {
      await stray.runUntil(() =>
        main!.worker.runUntil(async () => {
          const started = await Promise.all(people.map((p) => startErasure(env.client, { email: p.email }, { taskQueue, idKey, tuning: FAST_TUNING })));
          const results = await Promise.all(started.map((s) => s.handle.result()));
          expect(results.every((r) => r.outcome === 'completed')).toBe(true);
        }),
      );
      const rate = await describeQueueRate(env.connection.workflowService, 'default', comeetTaskQueue(taskQueue));
      const stats = sim.stats();
      console.log(
        `[rate-cap] stray worker: ${stats.total} calls (stray ${strayCalls}), peak ${stats.peakInWindow} per ${windowMs / 1000} s (limit ${limit}), 429s ${stats.rateLimited}, queue rate ${rate.effectivePerSecond}/s from ${rate.source}`,
      );
      expect(rate).toMatchObject({ source: 'api', effectivePerSecond: capPerSecond });
      expect(strayCalls).toBeGreaterThan(0);
      expect(stats.rateLimited).toBe(0);
      expect(stats.peakInWindow).toBeLessThanOrEqual(limit);
      const seconds = (Date.parse(stats.lastRequestAt!) - Date.parse(stats.firstRequestAt!)) / 1000;
      expect((stats.total - 2 * capPerSecond) / seconds).toBeLessThanOrEqual(capPerSecond * 1.1);
    } finally {
      await strayComeet.close();
      await main!.comeet.close();
      await strayConnection.close();
      await sim.close();
    }
  });

  it('keeps a lower rate an operator set by hand, and a restart does not raise it', async () => {
    const taskQueue = taskQueueFor('rate cap operator');
    const queue = { namespace: 'default', taskQueue: comeetTaskQueue(taskQueue), perMinute: 300, reason: 'test' };
    const first = await ensureQueueRate(env.connection.workflowService, { ...queue, identity: 'first' });
    expect(first).toMatchObject({ action: 'set', rate: { source: 'api', effectivePerSecond: 5 } });
    {
      await env.connection.workflowService.updateTaskQueueConfig({
        namespace: 'default',
        identity: 'operator-alice',
        taskQueue: comeetTaskQueue(taskQueue),
        taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        updateQueueRateLimit: { rateLimit: { requestsPerSecond: 1 }, reason: 'incident 42' },
      });
      // What a restarted worker does at start-up (one process cannot hold two workers on one queue).
      const restarted = await ensureQueueRate(env.connection.workflowService, { ...queue, identity: 'restarted' });
      expect(restarted).toMatchObject({
        action: 'kept',
        rate: { source: 'api', effectivePerSecond: 1, api: { identity: 'operator-alice', reason: 'incident 42' } },
      });
      // A higher configured rate than the one set is lowered to it.
      expect(await ensureQueueRate(env.connection.workflowService, { ...queue, perMinute: 30, identity: 'lower' })).toMatchObject({
        action: 'set',
        rate: { effectivePerSecond: 0.5 },
      });
    }
  });

  it('holds across two worker processes: no 429, never more than the limit in any window', async () => {
    // Comeet's 100 per 60 s scaled to 100 per 10 s (600/min); the cap, 420/min (7/s), is set by both
    // workers. The server's limiter lets about 2 s worth through as a burst: 70 + 14 stays under 100,
    // while a cap per worker (14/s, 140 per window) would meet 429s.
    const limit = 100;
    const windowMs = 10_000;
    const capPerSecond = 7;
    const people = subjects('cap', 60);
    const sim = await startSimulator({
      apiKey: RESTART_API_KEY,
      secret: RESTART_SECRET,
      rateLimit: { limit, windowMs },
      seed: { candidates: people.flatMap((p) => person(p.email, p.uid)) },
    });
    const taskQueue = taskQueueFor('rate cap two workers');
    const idKey = randomBytes(32).toString('hex');
    const secrets = await makeSecrets();
    const keys = parseEncryptionKeys(secrets.encryptionKeys);
    const client = new Client({ connection: env.connection, namespace: 'default', dataConverter: createDataConverter(keys) });
    // One worker in this process, one in its own (the SDK allows one per queue per process).
    let localCalls = 0;
    const comeet = new ComeetClient({ baseUrl: sim.url, apiKey: RESTART_API_KEY, secret: RESTART_SECRET, onCall: () => localCalls++ });
    const local = await createErasureWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      comeet,
      receipts: (await testReceiptKeys()).signer,
      workflowBundle: await encryptedWorkflowBundle(),
      dataConverter: createWorkerDataConverter(keys),
      comeetRatePerMinute: capPerSecond * 60,
    });
    const other = startWorkerProcess({
      ...workerEnv({ address: env.address, taskQueue, simUrl: sim.url, secrets }),
      COMEET_RATE_LIMIT_PER_MINUTE: String(limit * (60_000 / windowMs)),
      COMEET_RATE_PER_MINUTE: String(capPerSecond * 60),
    });
    try {
      await other.ready;
      await local.runUntil(async () => {
        const started = await Promise.all(people.map((p) => startErasure(client, { email: p.email }, { taskQueue, idKey, tuning: FAST_TUNING })));
        const results: ErasureResult[] = await Promise.all(started.map((s) => s.handle.result()));
        expect(results.every((r) => r.outcome === 'completed')).toBe(true);
      });
      const stats = sim.stats();
      console.log(
        `[rate-cap] ${stats.total} calls, peak ${stats.peakInWindow} per ${windowMs / 1000} s (limit ${limit}), 429s ${stats.rateLimited}, this worker ${localCalls}, the other ${stats.total - localCalls}`,
      );
      expect(stats.rateLimited).toBe(0);
      expect(stats.total).toBe(people.length * 3);
      expect(stats.peakInWindow).toBeLessThanOrEqual(limit);
      // Both workers made Comeet calls: the cap is shared, not per worker (per worker it would be 14/s).
      expect(localCalls).toBeGreaterThan(20);
      expect(stats.total - localCalls).toBeGreaterThan(20);
      const seconds = (Date.parse(stats.lastRequestAt!) - Date.parse(stats.firstRequestAt!)) / 1000;
      const rate = (stats.total - 2 * capPerSecond) / seconds; // the limiter's first burst aside
      expect(rate).toBeLessThanOrEqual(capPerSecond * 1.1);
      expect(rate).toBeGreaterThan(capPerSecond * 0.7);
    } finally {
      await other.stop('SIGTERM');
      await comeet.close();
      await sim.close();
    }
  });

  it('drains a backlog in deadline order', async () => {
    const relaxed = subjects('relaxed', 24);
    const urgent = subjects('urgent', 4);
    const sim = await startSimulator({
      apiKey: API_KEY,
      secret: SECRET,
      rateLimit: null,
      seed: { candidates: [...relaxed, ...urgent].flatMap((p) => person(p.email, p.uid)) },
    });
    const taskQueue = taskQueueFor('deadline order');
    const idKey = randomBytes(32).toString('hex');
    const [w] = await workers(1, sim, taskQueue, 5 * 60);
    try {
      await w!.worker.runUntil(async () => {
        const finished: string[] = [];
        const track = (prefix: string) => async (s: Awaited<ReturnType<typeof startErasure>>) => {
          await s.handle.result();
          finished.push(prefix);
        };
        // The relaxed backlog (a month to go) first, then requests received 29 days ago.
        const relaxedRuns = await Promise.all(relaxed.map((p) => startErasure(env.client, { email: p.email }, { taskQueue, idKey, tuning: FAST_TUNING })));
        const urgentRuns = await Promise.all(
          urgent.map((p) =>
            startErasure(
              env.client,
              { email: p.email, receivedAt: new Date(Date.now() - 29 * 86_400_000).toISOString() },
              { taskQueue, idKey, tuning: FAST_TUNING },
            ),
          ),
        );
        await Promise.all([...relaxedRuns.map(track('relaxed')), ...urgentRuns.map(track('urgent'))]);
        // FIFO would finish the urgent ones last; by deadline they finish among the first.
        const lastUrgent = finished.lastIndexOf('urgent');
        expect(lastUrgent).toBeLessThan(relaxed.length / 2);
      });
    } finally {
      await w!.comeet.close();
      await sim.close();
    }
  });
});
