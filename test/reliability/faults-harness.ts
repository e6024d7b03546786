/**
 * Reliability harness: like test/helpers/scenario.ts (real dev server, simulator, worker, real
 * Comeet client over HTTP), but the worker's Comeet client can point somewhere else than the
 * simulator (a corrupting proxy) and has a short response timeout, so timeouts are cheap to cause.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { getStatus, startErasure, type StartedErasure } from '../../src/client.js';
import { parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { createDataConverter } from '../../src/codec/data-converter.js';
import { ComeetClient, type ComeetCallInfo } from '../../src/comeet/index.js';
import type { ErasureInput, ErasureStatus, TuningInput } from '../../src/shared.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server.js';
import { createErasureWorker, type ErasureWorker } from '../../src/worker.js';
import { testReceiptKeys } from '../helpers/receipts.js';
import { startRawServer, type RawServer } from '../comeet/raw-server.js';
import { API_KEY, FAST_TUNING, pollStatus, SECRET, TEST_COMEET_RATE_PER_MINUTE, TEST_ENCRYPTION_KEYS } from '../helpers/scenario.js';
import { encryptedWorkflowBundle, taskQueueFor, workflowBundle } from '../helpers/temporal.js';

export interface ChaosScenario {
  sim: Simulator;
  client: Client;
  comeet: ComeetClient;
  taskQueue: string;
  idKey: string;
  /** Every HTTP exchange the worker's Comeet client made (`status: 'network'` = no answer). */
  calls: ComeetCallInfo[];
  /** The corrupting proxy, when the scenario has one. */
  proxy?: CorruptingProxy;
  start(request: ErasureInput, tuning?: TuningInput): Promise<StartedErasure>;
  status(workflowId: string): Promise<ErasureStatus>;
  waitForStatus(workflowId: string, predicate: (s: ErasureStatus) => boolean, timeoutMs?: number): Promise<ErasureStatus>;
}

export interface ChaosOptions {
  sim: Partial<SimulatorOptions>;
  /** Response timeout of the worker's Comeet client (headers, then between body chunks). */
  responseTimeoutMs?: number;
  connections?: number;
  /** Put a corrupting proxy between the worker and the simulator. */
  corrupt?: Corruptor;
  encrypted?: boolean;
}

export async function runChaosScenario(env: TestWorkflowEnvironment, title: string, options: ChaosOptions, body: (s: ChaosScenario) => Promise<void>): Promise<void> {
  const dataConverter = options.encrypted ? createDataConverter(parseEncryptionKeys(TEST_ENCRYPTION_KEYS)) : undefined;
  const client = dataConverter ? new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter }) : env.client;
  const sim = await startSimulator({ apiKey: API_KEY, secret: SECRET, ...options.sim });
  let proxy: CorruptingProxy | undefined;
  let comeet: ComeetClient | undefined;
  let worker: ErasureWorker | undefined;
  try {
    proxy = options.corrupt ? await startCorruptingProxy(sim.url, options.corrupt) : undefined;
    const calls: ComeetCallInfo[] = [];
    comeet = new ComeetClient({
      baseUrl: proxy?.url ?? sim.url,
      apiKey: API_KEY,
      secret: SECRET,
      onCall: (c) => calls.push(c),
      responseTimeoutMs: options.responseTimeoutMs ?? 5000,
      connections: options.connections,
    });
    const taskQueue = taskQueueFor(title);
    const idKey = randomBytes(32).toString('hex');
    worker = await createErasureWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      comeet,
      receipts: (await testReceiptKeys()).signer,
      workflowBundle: await (dataConverter ? encryptedWorkflowBundle() : workflowBundle()),
      dataConverter,
      comeetRatePerMinute: TEST_COMEET_RATE_PER_MINUTE,
    });
    const scenario: ChaosScenario = {
      sim,
      client,
      comeet,
      taskQueue,
      idKey,
      calls,
      proxy,
      start: (request, tuning) => startErasure(client, request, { taskQueue, idKey, tuning: { ...FAST_TUNING, ...tuning } }),
      status: (id) => getStatus(client, id),
      waitForStatus: (id, predicate, timeoutMs) => pollStatus(client, id, predicate, timeoutMs),
    };
    await worker.runUntil(body(scenario));
  } finally {
    await comeet?.close();
    await proxy?.close();
    await sim.close();
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// A proxy standing in for Comeet: forwards to the simulator, and lets a test rewrite the answer
// ---------------------------------------------------------------------------------------------

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  /** The `email` query parameter of a lookup, when there is one. */
  email: string | null;
}

/**
 * Returns the response to send instead of the simulator's, or undefined to pass it through.
 * `upstream` is fetched first, so a corruption can start from the real answer.
 */
export type Corruptor = (req: ProxiedRequest, upstream: UpstreamResponse) => UpstreamResponse | undefined;

export interface CorruptingProxy extends RawServer {
  /** Requests seen, with the lookup email decoded (the proxy is test-only; nothing is logged). */
  readonly seen: ProxiedRequest[];
  /** Swaps the corruption at run time (`undefined` = plain pass-through). */
  setCorruptor(c: Corruptor | undefined): void;
  /** Holds the (already received) upstream answer this long before sending it: a slow network. */
  setDelay(d: ((req: ProxiedRequest) => number | undefined) | undefined): void;
}

export async function startCorruptingProxy(targetUrl: string, initial: Corruptor | undefined): Promise<CorruptingProxy> {
  const target = new URL(targetUrl);
  let corrupt = initial;
  let delay: ((req: ProxiedRequest) => number | undefined) | undefined;
  const seen: ProxiedRequest[] = [];
  const raw = await startRawServer((req, res) => {
    const url = req.url ?? '/';
    const email = new URL(url, 'http://proxy.invalid').searchParams.get('email');
    const info: ProxiedRequest = { method: req.method ?? 'GET', url, email };
    seen.push(info);
    forward(target, req)
      .then(async (upstream) => {
        const ms = delay?.(info);
        if (ms) await sleep(ms);
        if (!res.destroyed) send(res, corrupt?.(info, upstream) ?? upstream);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('proxy: upstream failed');
      });
  });
  return Object.assign(raw, {
    seen,
    setCorruptor: (c: Corruptor | undefined) => void (corrupt = c),
    setDelay: (d: ((req: ProxiedRequest) => number | undefined) | undefined) => void (delay = d),
  });
}

/** Body-less forward (the erasure paths only GET, DELETE and POST without a body). */
function forward(target: URL, req: IncomingMessage): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    for (const h of ['authorization', 'accept', 'identifier_type', 'identifier-type']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent: false }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        const out: Record<string, string> = {};
        for (const h of ['content-type', 'retry-after']) {
          const v = r.headers[h];
          if (typeof v === 'string') out[h] = v;
        }
        resolve({ status: r.statusCode ?? 502, headers: out, body: Buffer.concat(chunks).toString('utf8') });
      });
      r.on('error', reject);
    });
    up.setTimeout(10_000, () => up.destroy(new Error('upstream timeout')));
    up.on('error', reject);
    up.end();
  });
}

function send(res: ServerResponse, r: UpstreamResponse): void {
  res.writeHead(r.status, { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) });
  res.end(r.body);
}
