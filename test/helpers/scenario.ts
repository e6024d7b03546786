/**
 * One erasure scenario: a fresh simulator, the real Comeet client over HTTP, and a worker on its own
 * task queue against a real Temporal server. Nothing is mocked.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { getStatus, startErasure, type StartedErasure } from '../../src/client.js';
import { parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { createDataConverter, createWorkerDataConverter } from '../../src/codec/data-converter.js';
import { ComeetClient, type ComeetCallInfo } from '../../src/comeet/index.js';
import type { ErasureInput, TuningInput } from '../../src/erasure-request.js';
import type { ErasureStatus, Phase } from '../../src/erasure-status.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server.js';
import { testReceiptKeys } from './receipts.js';
import { createErasureWorker, type ErasureWorker, type ErasureWorkerOptions } from '../../src/worker.js';
import { encryptedWorkflowBundle, taskQueueFor, workflowBundle } from './temporal.js';

export const API_KEY = 'test-api-key';
/** Payload keys for scenarios run `encrypted` (the CLI always encrypts). */
export const TEST_ENCRYPTION_KEYS = `t1:${Buffer.alloc(32, 9).toString('base64')}`;
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
  /** A client with the same data converter as the worker. */
  client: Client;
  comeet: ComeetClient;
  taskQueue: string;
  idKey: string;
  calls: ComeetCallInfo[];
  /** The worker the scenario runs (its tenant queues, options and state). */
  worker: ErasureWorker;
  start(request: ErasureInput, tuning?: TuningInput): Promise<StartedErasure>;
  status(workflowId: string): Promise<ErasureStatus>;
  /** Polls the `status` query until `predicate` holds (default 20 s). */
  waitForStatus(workflowId: string, predicate: (s: ErasureStatus) => boolean, timeoutMs?: number): Promise<ErasureStatus>;
  waitForPhase(workflowId: string, phase: Phase, timeoutMs?: number): Promise<ErasureStatus>;
}

export interface ScenarioOptions {
  encrypted?: boolean;
  worker?: Partial<ErasureWorkerOptions>;
  /** Response timeout of the worker's Comeet client (headers, then between body chunks); default 5 s. */
  responseTimeoutMs?: number;
  connections?: number;
  /** Something between the worker and the simulator (a corrupting proxy), given the simulator's URL. */
  comeetVia?: (simUrl: string) => Promise<{ url: string; close(): Promise<void> }>;
}

/** Tests are not about the Comeet budget (the rate-cap tests set their own): effectively uncapped. */
export const TEST_COMEET_RATE_PER_MINUTE = 60_000;

export async function runScenario(
  env: TestWorkflowEnvironment,
  title: string,
  simOptions: Partial<SimulatorOptions>,
  body: (s: Scenario) => Promise<void>,
  options: ScenarioOptions = {},
): Promise<void> {
  const keys = options.encrypted ? parseEncryptionKeys(TEST_ENCRYPTION_KEYS) : undefined;
  // As in production: the worker refuses plaintext, the client still reads it.
  const dataConverter = keys ? createWorkerDataConverter(keys) : undefined;
  const client = keys
    ? new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter: createDataConverter(keys) })
    : env.client;
  const sim = await startSimulator({ apiKey: API_KEY, secret: SECRET, ...simOptions });
  const via = await options.comeetVia?.(sim.url);
  const calls: ComeetCallInfo[] = [];
  const comeet = new ComeetClient({
    baseUrl: via?.url ?? sim.url,
    apiKey: API_KEY,
    secret: SECRET,
    onCall: (c) => calls.push(c),
    responseTimeoutMs: options.responseTimeoutMs ?? 5000,
    connections: options.connections,
  });
  const taskQueue = taskQueueFor(title);
  const idKey = randomBytes(32).toString('hex');
  let worker: ErasureWorker | undefined;
  try {
    worker = await createErasureWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      comeet,
      receipts: (await testReceiptKeys()).signer,
      workflowBundle: await (dataConverter ? encryptedWorkflowBundle() : workflowBundle()),
      dataConverter,
      comeetRatePerMinute: TEST_COMEET_RATE_PER_MINUTE,
      // A tenant added by the test is served at once, not after the production 5 s.
      tenantRefreshMs: 300,
      ...options.worker,
    });
    const scenario: Scenario = {
      sim,
      client,
      comeet,
      taskQueue,
      idKey,
      calls,
      worker,
      start: (request, tuning) => startErasure(client, request, { taskQueue, idKey, tuning: { ...FAST_TUNING, ...tuning } }),
      status: (id) => getStatus(client, id),
      waitForStatus: (id, predicate, timeoutMs) => pollStatus(client, id, predicate, timeoutMs),
      waitForPhase(id, phase, timeoutMs) {
        return scenario.waitForStatus(id, (s) => s.phase === phase, timeoutMs);
      },
    };
    await worker.runUntil(body(scenario));
  } finally {
    await comeet.close();
    await via?.close();
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

/** Polls the `status` query until `predicate` holds (default 20 s); the last status is in the error. */
export async function pollStatus(client: Client, id: string, predicate: (s: ErasureStatus) => boolean, timeoutMs = 20_000): Promise<ErasureStatus> {
  const until = Date.now() + timeoutMs;
  let last: ErasureStatus | undefined;
  for (;;) {
    try {
      last = await getStatus(client, id);
      if (predicate(last)) return last;
    } catch (err) {
      if (Date.now() > until) throw err;
    }
    if (Date.now() > until) throw new Error(`status never matched; last: ${JSON.stringify(last, null, 1)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
