/**
 * One erasure scenario: a fresh simulator, the real Comeet client over HTTP, and a worker on its own
 * task queue against a real Temporal server. Nothing is mocked.
 */
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { getStatus, startErasure, type StartedErasure } from '../../src/client.js';
import { ComeetClient, type ComeetCallInfo } from '../../src/comeet/index.js';
import type { ErasureInput, ErasureStatus, Phase, TuningInput } from '../../src/shared.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server.js';
import { createErasureWorker } from '../../src/worker.js';
import { taskQueueFor, workflowBundle } from './temporal.js';

export const API_KEY = 'test-api-key';
export const SECRET = 'test-secret-0123456789';

/** Second-scale waits so real-server tests finish in seconds. */
export const FAST_TUNING: TuningInput = {
  interviewMarginMs: 300,
  backoffInitialMs: 1000,
  backoffMaxMs: 2000,
  attentionRetryMs: 60_000,
  verifyRetryMs: 100,
  followUpDelayMs: 0,
};

export interface Scenario {
  sim: Simulator;
  comeet: ComeetClient;
  taskQueue: string;
  idKey: string;
  calls: ComeetCallInfo[];
  start(request: ErasureInput, tuning?: TuningInput): Promise<StartedErasure>;
  status(workflowId: string): Promise<ErasureStatus>;
  /** Polls the `status` query until `predicate` holds (default 20 s). */
  waitForStatus(workflowId: string, predicate: (s: ErasureStatus) => boolean, timeoutMs?: number): Promise<ErasureStatus>;
  waitForPhase(workflowId: string, phase: Phase, timeoutMs?: number): Promise<ErasureStatus>;
}

export async function runScenario(
  env: TestWorkflowEnvironment,
  title: string,
  simOptions: Partial<SimulatorOptions>,
  body: (s: Scenario) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ apiKey: API_KEY, secret: SECRET, ...simOptions });
  const calls: ComeetCallInfo[] = [];
  const comeet = new ComeetClient({ baseUrl: sim.url, apiKey: API_KEY, secret: SECRET, onCall: (c) => calls.push(c), responseTimeoutMs: 5000 });
  const taskQueue = taskQueueFor(title);
  const idKey = randomBytes(32).toString('hex');
  let worker: Worker | undefined;
  try {
    worker = await createErasureWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      comeet,
      workflowBundle: await workflowBundle(),
    });
    const scenario: Scenario = {
      sim,
      comeet,
      taskQueue,
      idKey,
      calls,
      start: (request, tuning) => startErasure(env.client, request, { taskQueue, idKey, tuning: { ...FAST_TUNING, ...tuning } }),
      status: (id) => getStatus(env.client, id),
      async waitForStatus(id, predicate, timeoutMs = 20_000) {
        const until = Date.now() + timeoutMs;
        let last: ErasureStatus | undefined;
        for (;;) {
          try {
            last = await getStatus(env.client, id);
            if (predicate(last)) return last;
          } catch (err) {
            if (Date.now() > until) throw err;
          }
          if (Date.now() > until) throw new Error(`status never matched; last: ${JSON.stringify(last, null, 1)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      waitForPhase(id, phase, timeoutMs) {
        return scenario.waitForStatus(id, (s) => s.phase === phase, timeoutMs);
      },
    };
    await worker.runUntil(body(scenario));
  } finally {
    await comeet.close();
    await sim.close();
  }
}

/** A synthetic subject: a person with `applications` candidates sharing one person uid. */
export function person(email: string, personUid: string, applications = 1, extra: Record<string, unknown> = {}) {
  return Array.from({ length: applications }, (_, i) => ({
    first_name: 'Test',
    last_name: `Subject${i}`,
    email,
    person_uid: personUid,
    status: 'Rejected' as const,
    ...extra,
  }));
}

/** A candidate with a phone interview scheduled at `at` (a simulator time spec such as "+1d"). */
export function interviewing(email: string, personUid: string, at: string, durationMinutes = 60) {
  return {
    first_name: 'Busy',
    last_name: 'Subject',
    email,
    person_uid: personUid,
    status: 'In progress' as const,
    current_steps: [{ name: 'Phone screen', type: 'Phone Interview', time_scheduled: at, duration_minutes: durationMinutes }],
  };
}

/** Unrelated people who must never be touched. */
export function bystanders(n: number) {
  return Array.from({ length: n }, (_, i) => ({ first_name: 'By', last_name: `Stander${i}`, email: `bystander${i}@example.org`, status: 'Rejected' as const }));
}
