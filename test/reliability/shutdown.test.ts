/**
 * Graceful shutdown: SIGTERM to a worker process while it is erasing lets the Comeet call finish and
 * be recorded (shutdownGraceTime on the Comeet worker), so the erase is neither cut off mid-way nor
 * made a second time by the next worker.
 */
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startErasure } from '../../src/client.js';
import { parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { createDataConverter } from '../../src/codec/data-converter.js';
import { startSimulator } from '../../src/simulator/server.js';
import { FAST_TUNING, person } from '../helpers/scenario.js';
import { startDevServer } from '../helpers/temporal.js';
import { API_KEY, makeSecrets, pollSnapshots, SECRET, workerEnv } from './restart-harness.js';
import { killAllChildren, startWorkerProcess } from './restart-processes.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startDevServer();
});
afterAll(async () => {
  await killAllChildren();
  await env?.teardown();
});

describe('worker shutdown', () => {
  it('lets an erase in flight finish on SIGTERM: one DELETE, recorded, not repeated by the next worker', async () => {
    const sim = await startSimulator({ apiKey: API_KEY, secret: SECRET, seed: { candidates: person('grace@example.com', 'P-GRACE', 2) } });
    const secrets = await makeSecrets();
    const taskQueue = `shutdown-${Date.now()}`;
    const client = new Client({
      connection: env.connection,
      namespace: 'default',
      dataConverter: createDataConverter(parseEncryptionKeys(secrets.encryptionKeys)),
    });
    const workerSettings = workerEnv({ address: env.address, taskQueue, simUrl: sim.url, secrets });
    const first = startWorkerProcess(workerSettings);
    try {
      await first.ready;
      // Every Comeet answer takes 3 s: long enough to signal the worker while the DELETE is in flight.
      sim.setFaults({ latencyMs: 3000 });
      const { workflowId, handle } = await startErasure(client, { email: 'grace@example.com' }, { taskQueue, idKey: secrets.idKey, tuning: FAST_TUNING });
      const erasing = await pollSnapshots(
        client,
        [workflowId],
        ([s]) => !!s?.pending.some((a) => a.type === 'erasePerson' && a.state === 'STARTED'),
        30_000,
        50,
      );
      expect(erasing.matched).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      const stoppedAt = Date.now();
      const exit = await first.stop('SIGTERM', 60_000);
      const stopSeconds = (Date.now() - stoppedAt) / 1000;
      // The call finished before the worker left: the server holds its result, nothing is pending.
      const after = await pollSnapshots(client, [workflowId], ([s]) => !s?.pending.some((a) => a.type === 'erasePerson'), 5000);
      console.log(
        `[shutdown] worker exited ${exit.code ?? exit.signal} ${stopSeconds.toFixed(1)} s after SIGTERM; erase pending afterwards: ${!after.matched}`,
      );
      expect(exit.code).toBe(0);
      expect(after.matched).toBe(true);
      expect(sim.stats().byRoute['DELETE /person/:uid']).toBe(1);

      sim.setFaults({});
      const second = startWorkerProcess(workerSettings);
      await second.ready;
      const r = await handle.result();
      await second.stop('SIGTERM');
      expect(r.outcome).toBe('completed');
      expect(r.eraseAttempts).toBe(1);
      expect(r.persons).toEqual([expect.objectContaining({ personUid: 'P-GRACE', alreadyGone: false, count: 2 })]);
      expect(sim.stats().byRoute['DELETE /person/:uid']).toBe(1);
    } finally {
      await killAllChildren();
      await sim.close();
    }
  });
});
