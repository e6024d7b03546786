/**
 * The Comeet budget counts calls, not activities: a `scan` lookup pages through the whole account,
 * and each page is its own dispatch on the capped queue, so the server's cap holds for it too. A
 * lookup activity that paged by itself would send 40 calls per dispatch and meet 429s at once.
 */
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { startErasure } from '../../src/client.js';
import { ComeetClient } from '../../src/comeet/index.js';
import { startSimulator } from '../../src/simulator/server.js';
import { createErasureWorker } from '../../src/worker.js';
import { testReceiptKeys } from '../helpers/receipts.js';
import { API_KEY, FAST_TUNING, bystanders, person, SECRET } from '../helpers/scenario.js';
import { taskQueueFor, useDevServer, workflowBundle } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

describe('a scan lookup under the Comeet budget', () => {
  it('pages one dispatch at a time: 0 × 429 and never over the limit in any window, over a 2,000-candidate account', async () => {
    // Comeet's 100 per 60 s scaled ×3 on the same 60 s window, so the cap's default share (96%)
    // means what it means in production: the limiter's ~2 s burst plus 60 s of rate stay under it.
    const limit = 300;
    const windowMs = 60_000;
    const capPerMinute = Math.floor(limit * 0.96);
    const pageSize = 50;
    const subjects = Array.from({ length: 4 }, (_, i) => ({ email: `scan${i}@example.com`, uid: `P-SCAN-${i}` }));
    const own = subjects.flatMap((s) => person(s.email, s.uid, 2));
    const seed = [...bystanders(2000 - own.length), ...own];
    const sim = await startSimulator({ apiKey: API_KEY, secret: SECRET, rateLimit: { limit, windowMs }, pageSize, seed: { candidates: seed } });
    const comeet = new ComeetClient({ baseUrl: sim.url, apiKey: API_KEY, secret: SECRET, lookup: 'scan', pageSize });
    const taskQueue = taskQueueFor('scan budget');
    const idKey = randomBytes(32).toString('hex');
    const worker = await createErasureWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      comeet,
      receipts: (await testReceiptKeys()).signer,
      workflowBundle: await workflowBundle(),
      comeetRatePerMinute: capPerMinute,
    });
    try {
      const started = await worker.runUntil(async () => {
        const runs = await Promise.all(
          // A child continues as new every 10 pages here (200 by default), so the test crosses that too.
          subjects.map((s) => startErasure(env.client, { email: s.email }, { taskQueue, idKey, tuning: { ...FAST_TUNING, lookupPagesPerRun: 10 } })),
        );
        const results = await Promise.all(runs.map((r) => r.handle.result()));
        for (const [i, r] of results.entries()) {
          expect(r.outcome).toBe('completed');
          expect(r.persons.map((p) => p.personUid)).toEqual([subjects[i]!.uid]);
          expect(r.totals.candidates).toBe(2);
        }
        return runs;
      });
      const stats = sim.stats();
      const seconds = (Date.parse(stats.lastRequestAt!) - Date.parse(stats.firstRequestAt!)) / 1000;
      const perMinute = (stats.total / seconds) * 60;
      console.log(
        `[scan-budget] ${subjects.length} scans of ${seed.length} candidates at ${pageSize}/page: ${stats.total} calls in ${seconds.toFixed(1)} s ` +
          `(${perMinute.toFixed(0)}/min, cap ${capPerMinute}/min), peak ${stats.peakInWindow} per ${windowMs / 1000} s (limit ${limit}), 429s ${stats.rateLimited}`,
      );
      expect(stats.rateLimited).toBe(0);
      expect(stats.peakInWindow).toBeLessThanOrEqual(limit);
      // Look-up and verification both read every page (40 each), the erase is one call per person.
      expect(stats.byRoute['GET /candidates']).toBeGreaterThanOrEqual(subjects.length * 2 * (seed.length / pageSize - 1));
      expect(stats.byRoute['DELETE /person/:uid']).toBe(subjects.length);
      expect(stats.erasures.map((e) => e.personUid).sort()).toEqual(subjects.map((s) => s.uid).sort());
      // The run outlasts one window, so the rate is the cap's (the limiter's first burst aside).
      expect(seconds).toBeGreaterThan(windowMs / 1000);
      expect(((stats.total - (2 * capPerMinute) / 60) / seconds) * 60).toBeLessThanOrEqual(capPerMinute * 1.1);

      // The parent reads a few pages itself and hands the rest to a child, which continued as new.
      const { handle, workflowId } = started[0]!;
      const scheduled = ((await handle.fetchHistory()).events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
      expect(scheduled.filter((n) => n === 'lookupPage')).toHaveLength(10);
      expect(scheduled).not.toContain('findCandidatesByEmail');
      const child = env.client.workflow.getHandle(`${workflowId}-lookup-1`);
      const childStart = (await child.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
      expect(childStart?.continuedExecutionRunId).toBeTruthy();
      expect((await child.describe()).status.name).toBe('COMPLETED');
    } finally {
      await comeet.close();
      await sim.close();
    }
  }, 300_000);
});
