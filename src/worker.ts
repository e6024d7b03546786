/**
 * The worker: config → Comeet client → activities → Temporal connection → worker → run.
 * The SDK traps SIGINT/SIGTERM and drains in-flight tasks before `run()` resolves.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { createWorkerDataConverter } from './codec/data-converter.js';
import { refuseUnencryptedArgs } from './codec/unencrypted.js';
import { ComeetClient } from './comeet/index.js';
import { comeetClientOptions, ConfigError, loadWorkerConfig, type WorkerConfig } from './config.js';
import { comeetTaskQueue, DEFAULT_COMEET_RATE_PER_MINUTE } from './shared.js';
import type { CallbackSettings } from './callbacks/deliver.js';
import { loadReceiptSigner, ReceiptKeyError, type ReceiptSigner } from './receipt/index.js';
import { connectionOptions } from './connection.js';
import { comeetCallMetrics, installRuntime, startHealthServer, tracingFromEnv, type HealthServer } from './observability.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface ErasureWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The workflows' queue; Comeet calls run on `comeetTaskQueue(taskQueue)`. */
  taskQueue: string;
  comeet: ComeetClient;
  /** Signs proofs of erasure. */
  receipts: ReceiptSigner;
  /** Completion callbacks: signing secrets and allowed hosts. */
  callbacks?: CallbackSettings;
  /**
   * Comeet calls per minute for the whole system, enforced by the Temporal server on the Comeet
   * queue. Every worker must set the same value (the last poller's value wins on the server).
   */
  comeetRatePerMinute?: number;
  /** A prebuilt bundle (bundleWorkflowCode) starts faster and is what tests share between workers. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Payload codec and failure converter; production always passes createWorkerDataConverter's, which refuses plaintext. */
  dataConverter?: WorkerOptions['dataConverter'];
  /** SDK plugins for both workers (OpenTelemetry tracing). */
  plugins?: WorkerOptions['plugins'];
  /** Workflows kept in memory between tasks (the SDK's sticky cache). */
  maxCachedWorkflows?: number;
  /** Extra options for both workers (tuning, interceptors, identity). */
  overrides?: Partial<WorkerOptions>;
}

/**
 * Two SDK workers in one process: workflows (plus local work: receipts, callbacks) on the main
 * queue, and Comeet calls on the rate-capped Comeet queue.
 */
export class ErasureWorker {
  constructor(
    readonly workflows: Worker,
    readonly comeetCalls: Worker,
  ) {}

  /** Runs both until shutdown(); if one fails, the other is shut down too. */
  async run(): Promise<void> {
    const runs = [this.workflows.run(), this.comeetCalls.run()];
    try {
      await Promise.all(runs.map((r) => r.catch((err) => {
        this.shutdown();
        throw err;
      })));
    } finally {
      await Promise.allSettled(runs);
    }
  }

  /** Runs both until `until` settles, then shuts down and returns its result, like Worker.runUntil. */
  async runUntil<T>(until: Promise<T> | (() => Promise<T>)): Promise<T> {
    const guarded = (typeof until === 'function' ? until() : until).finally(() => this.shutdown());
    const [result] = await Promise.all([guarded, this.run()]);
    return result;
  }

  shutdown(): void {
    for (const w of [this.workflows, this.comeetCalls]) {
      if (w.getState() === 'RUNNING') w.shutdown();
    }
  }

  getState(): ReturnType<Worker['getState']> {
    const states = [this.workflows.getState(), this.comeetCalls.getState()];
    return states.find((s) => s !== 'RUNNING') ?? 'RUNNING';
  }
}

export async function createErasureWorker(options: ErasureWorkerOptions): Promise<ErasureWorker> {
  // All activities on both queues: tasks scheduled on the main queue by runs from before the Comeet
  // queue existed are still served (the workflow now schedules every Comeet call on the capped queue).
  const activities = refuseUnencryptedArgs(createActivities({ comeet: options.comeet, receipts: options.receipts, callbacks: options.callbacks }));
  const ratePerMinute = options.comeetRatePerMinute ?? DEFAULT_COMEET_RATE_PER_MINUTE;
  const workflows = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities,
    dataConverter: options.dataConverter,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...options.overrides,
  });
  const comeetCalls = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: comeetTaskQueue(options.taskQueue),
    activities,
    dataConverter: options.dataConverter,
    maxTaskQueueActivitiesPerSecond: ratePerMinute / 60,
    // More in flight than connections only queues them in the HTTP pool, holding tasks others could run.
    maxConcurrentActivityTaskExecutions: Math.max(4, options.comeet.connections * 2),
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...options.overrides,
  });
  return new ErasureWorker(workflows, comeetCalls);
}

/** Runs a worker until SIGINT/SIGTERM; used by `npm run worker` (and the reliability tests' workers). */
export async function runWorker(config: WorkerConfig, receipts: ReceiptSigner, signal?: AbortSignal): Promise<void> {
  const runtime = installRuntime({ logFormat: config.DSAR_LOG_FORMAT, logLevel: config.DSAR_LOG_LEVEL, metricsBind: config.DSAR_METRICS_BIND });
  const log = runtime.logger;
  const comeet = new ComeetClient({ ...comeetClientOptions(config), onCall: comeetCallMetrics(runtime.metricMeter) });
  const tracing = await tracingFromEnv(process.env);
  // The workflow interceptors of tracing must be bundled with the workflows: build at start-up then.
  const bundle = config.DSAR_WORKFLOW_BUNDLE && !tracing ? { workflowBundle: { codePath: config.DSAR_WORKFLOW_BUNDLE } } : {};
  if (config.DSAR_WORKFLOW_BUNDLE && tracing) log.warn('Tracing is on: bundling the workflows with its interceptors at start-up instead of loading DSAR_WORKFLOW_BUNDLE');
  const connection = await NativeConnection.connect(connectionOptions(config));
  let health: HealthServer | undefined;
  try {
    const worker = await createErasureWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      comeet,
      receipts,
      callbacks: { secrets: config.DSAR_CALLBACK_SECRET ?? [], allowedHosts: config.DSAR_CALLBACK_HOSTS ?? [] },
      comeetRatePerMinute: config.COMEET_RATE_PER_MINUTE,
      maxCachedWorkflows: config.DSAR_MAX_CACHED_WORKFLOWS,
      dataConverter: createWorkerDataConverter(config.encryption),
      // Production ships a bundle built at image build time: no webpack at start-up.
      ...bundle,
      ...(tracing ? { plugins: [tracing.plugin as NonNullable<WorkerOptions['plugins']>[number]] } : {}),
    });
    signal?.addEventListener('abort', () => worker.shutdown(), { once: true });
    if (config.DSAR_HEALTH_BIND) {
      health = await startHealthServer(config.DSAR_HEALTH_BIND, worker, () => ({ taskQueue: config.TEMPORAL_TASK_QUEUE }));
    }
    if (!config.DSAR_CALLBACK_SECRET?.length) log.warn('DSAR_CALLBACK_SECRET is not set: completion callbacks wait (retrying) until it is');
    log.info(`Worker polling task queue "${config.TEMPORAL_TASK_QUEUE}" and Comeet queue "${comeetTaskQueue(config.TEMPORAL_TASK_QUEUE)}"`, {
      address: config.TEMPORAL_ADDRESS,
      namespace: config.TEMPORAL_NAMESPACE,
      comeetRatePerMinute: config.COMEET_RATE_PER_MINUTE,
      lookup: config.COMEET_LOOKUP,
      payloadKeyId: config.encryption.currentKeyId,
      receiptKeyId: receipts.keyId,
      metrics: config.DSAR_METRICS_BIND ? `http://${config.DSAR_METRICS_BIND}/metrics` : 'off',
      health: health ? `${health.url}/healthz` : 'off',
      workflowBundle: 'workflowBundle' in bundle ? 'prebuilt' : 'built at start-up',
      tracing: tracing ? 'OpenTelemetry (OTLP)' : 'off',
    });
    await worker.run();
  } finally {
    await tracing?.shutdown().catch(() => undefined);
    await health?.close();
    await connection.close();
    await comeet.close();
  }
}

/** The receipt key is required: a worker that cannot prove its erasures should not run. */
export async function loadRequiredReceiptSigner(env: Record<string, string | undefined>): Promise<ReceiptSigner> {
  const signer = await loadReceiptSigner(env);
  if (!signer) {
    throw new ConfigError([
      'DSAR_RECEIPT_KEY is required: the private key (JWK JSON or PKCS#8 PEM) that signs proofs of erasure, with DSAR_RECEIPT_KEY_ID; make one with `npm run dsar -- receipt-keys`',
    ]);
  }
  return signer;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let config: WorkerConfig;
  let receipts: ReceiptSigner;
  try {
    config = loadWorkerConfig();
    receipts = await loadRequiredReceiptSigner(process.env);
  } catch (err) {
    console.error(err instanceof ConfigError || err instanceof ReceiptKeyError ? err.message : err);
    process.exit(1);
  }
  runWorker(config, receipts).catch((err) => {
    console.error('Worker stopped:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
