/**
 * The SDK stops a worker on SIGINT/SIGTERM by shutting down each of its SDK Workers (Runtime's
 * shutdownSignals), not by calling ErasureWorker.shutdown(): run() must still end then, tenant
 * queues included, or `npm run worker` and `npm run dev` never exit on a signal.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { ComeetClient } from '../../src/comeet/index.js';
import { startSimulator } from '../../src/simulator/server.js';
import { createErasureWorker } from '../../src/worker.js';
import { testReceiptKeys } from '../helpers/receipts.js';
import { taskQueueFor, useDevServer, workflowBundle } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

describe('ErasureWorker.run', () => {
  it('ends when the SDK shuts its Workers down (as on a signal), tenant queues included', async () => {
    const sim = await startSimulator({ apiKey: 'k', secret: 's' });
    const comeet = new ComeetClient({ baseUrl: sim.url, apiKey: 'k', secret: 's' });
    try {
      const worker = await createErasureWorker({
        connection: env.nativeConnection,
        namespace: 'default',
        taskQueue: taskQueueFor('worker shutdown'),
        comeet,
        receipts: (await testReceiptKeys()).signer,
        workflowBundle: await workflowBundle(),
        tenantRefreshMs: 200,
      });
      const running = worker.run();
      let ended = false;
      void running.finally(() => (ended = true)).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
      expect(ended).toBe(false);
      // What Runtime does on SIGINT: Worker.shutdown() on every SDK Worker it knows.
      worker.workflows.shutdown();
      worker.comeetCalls.shutdown();
      const outcome = await Promise.race([running.then(() => 'ended'), new Promise((r) => setTimeout(() => r('still running after 10 s'), 10_000))]);
      expect(outcome).toBe('ended');
    } finally {
      await comeet.close();
      await sim.close();
    }
  }, 60_000);
});
