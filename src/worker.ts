/**
 * The worker: config → Comeet client → activities → Temporal connection → worker → run.
 * The SDK traps SIGINT/SIGTERM and drains in-flight tasks before `run()` resolves.
 */
import { hostname } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { createWorkerDataConverter } from './codec/data-converter.js';
import { refuseUnencryptedArgs } from './codec/unencrypted.js';
import { ComeetClient, type ComeetCallInfo } from './comeet/index.js';
import { comeetClientOptions, ConfigError, deploymentVersionFromConfig, loadWorkerConfig, type WorkerConfig } from './config.js';
import { COMEET_LIMIT_PER_MINUTE, comeetTaskQueue, DEFAULT_COMEET_RATE_PER_MINUTE } from './task-queues.js';
import { TenantDirectory } from './tenants/directory.js';
import { isTenantId, TENANT_WORKFLOW_TYPE, type TenantAccess } from './tenants/model.js';
import { createTenantStateActivities } from './tenants/state-activities.js';
import { createTenantActivities, type TenantActivityDeps } from './tenants/activities.js';
import type { CallbackSettings } from './callbacks/deliver.js';
import { loadReceiptSigner, ReceiptKeyError, type ReceiptSigner } from './receipt/index.js';
import { ensureQueueRate, type EnsureResult } from './rate-cap.js';
import { comeetCallMetrics, installRuntime, startHealthServer, tracingFromEnv, type HealthServer } from './observability.js';

/** A Comeet call's response timeout (30 s) plus a margin; then in-flight calls are cancelled. */
export const COMEET_SHUTDOWN_GRACE = '35 seconds';
export const COMEET_SHUTDOWN_FORCE = '50 seconds';

/**
 * The workflows' entry, for bundling: the compiled .js beside this file when it runs from dist/
 * (`npm run build`), the .ts source when it runs through tsx (development, tests).
 */
export const WORKFLOWS_PATH = fileURLToPath(new URL(`./workflows/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

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
   * Tenant onboarding checks (DSAR_CREDENTIALS_KEY and client settings); their activities are always
   * registered, and without the key they fail saying it is missing.
   */
  tenants?: TenantActivityDeps;
  /**
   * Comeet calls per minute for the whole system, enforced by the Temporal server on the Comeet
   * queue: set through the API at start-up (it outranks any poller's value), and sent with every
   * poll as a fallback for a server without that API.
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
  /**
   * The Worker Deployment Version both workers run as (Worker Versioning); unset, they run
   * unversioned. Both must be in the version: the server sends a versioned workflow's activities
   * on the Comeet queue only to pollers of that queue in the same version.
   */
  deployment?: WorkerDeploymentVersion;
  /** Extra options for both workers (tuning, interceptors, identity). */
  overrides?: Partial<WorkerOptions>;
  /** How often the worker looks for tenants added or offboarded, to poll their queues (default 5 s). */
  tenantRefreshMs?: number;
  /** Metrics of each tenant's Comeet calls. */
  tenantCallMetrics?: (tenant: string) => (info: ComeetCallInfo) => void;
}

/**
 * Two SDK workers in one process: workflows (plus local work: receipts, callbacks) on the main
 * queue, and Comeet calls on the rate-capped Comeet queue.
 */
export class ErasureWorker {
  constructor(
    readonly workflows: Worker,
    readonly comeetCalls: Worker,
    /** How the Comeet queue's rate was made to hold: through the API, or only the poll fallback. */
    readonly rateCap: EnsureResult | { action: 'fallback'; error: string },
    /** One capped Comeet queue per tenant, polled while the tenant exists. */
    readonly tenants?: TenantQueues,
  ) {}

  /**
   * Runs both until shutdown(); if one fails or stops, the others are shut down too. On SIGINT/SIGTERM
   * the SDK shuts its Workers down itself, without calling shutdown(): the tenant queues' refresh loop
   * would otherwise keep run() (and the process) going forever.
   */
  async run(): Promise<void> {
    const stopAll = () => this.shutdown();
    const runs = [this.workflows.run().finally(stopAll), this.comeetCalls.run().finally(stopAll), ...(this.tenants ? [this.tenants.run()] : [])];
    try {
      await Promise.all(
        runs.map((r) =>
          r.catch((err) => {
            this.shutdown();
            throw err;
          }),
        ),
      );
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
    this.tenants?.shutdown();
  }

  getState(): ReturnType<Worker['getState']> {
    const states = [this.workflows.getState(), this.comeetCalls.getState()];
    return states.find((s) => s !== 'RUNNING') ?? 'RUNNING';
  }
}

/** A tenant's Comeet rate on its queue: 96% of its own limit, as for the single account (see task-queues.ts). */
export function tenantQueueRate(ratePerMinute: number): number {
  return (ratePerMinute * DEFAULT_COMEET_RATE_PER_MINUTE) / COMEET_LIMIT_PER_MINUTE;
}

/**
 * One poll carries a task at a time: the server hands it over, the next poll comes in. Under load that
 * cycle took up to about 130 ms on a 2-CPU box (bench tenants phase: one poll per worker carried 7.6
 * tasks a second, and a tenant at 1000/min reached 91% of its limit where its cap is 96%). One poll per
 * 4 tasks a second lets each worker carry its tenant's whole cap alone, with room to spare. At Comeet's
 * 100/min that is one poll per tenant, so 200 tenants' polls stay under the server's 1,200 long polls
 * per namespace (README "Each tenant's Comeet budget").
 */
const TASKS_PER_SECOND_PER_POLL = 4;

/** The polls a worker keeps on a tenant's Comeet queue capped at `capPerMinute`. */
export function tenantPollers(capPerMinute: number): number {
  return Math.max(1, Math.ceil(capPerMinute / 60 / TASKS_PER_SECOND_PER_POLL));
}

interface TenantQueue {
  worker: Worker;
  run: Promise<void>;
  ratePerMinute: number;
  rateCap: EnsureResult | { action: 'fallback'; error: string };
}

/**
 * Polls one Comeet queue per tenant (added, onboarding or live; not offboarded), each capped by the
 * server at its tenant's own rate. It looks for new tenants every few seconds, so a tenant added on
 * any client is served without a restart; its erasures and checks wait in its queue meanwhile.
 */
export class TenantQueues {
  readonly queues = new Map<string, TenantQueue>();
  private stopped = false;
  private refreshing: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly client: Client,
    /** The deployment's workflow queue: its tenants' onboarding workflows run there. */
    private readonly taskQueue: string,
    private readonly make: (tenantId: string, ratePerMinute: number) => Promise<{ worker: Worker; rateCap: TenantQueue['rateCap'] }>,
    private readonly refreshMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly directory?: TenantDirectory,
  ) {}

  /** Starts the workers of tenants not yet served and stops those of tenants gone; one refresh at a time. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const running = new Map<string, number>();
    for await (const w of this.client.workflow.list({
      query: `WorkflowType="${TENANT_WORKFLOW_TYPE}" AND ExecutionStatus="Running" AND TaskQueue="${this.taskQueue}"`,
    })) {
      const id = w.workflowId.replace(/^tenant-/, '');
      if (!isTenantId(id) || this.queues.has(id) || running.has(id)) {
        running.set(id, this.queues.get(id)?.ratePerMinute ?? 0);
        continue;
      }
      const access = await this.client.workflow
        .getHandle(w.workflowId)
        .query<TenantAccess>('workerAccess')
        .catch(() => undefined);
      if (access && access.step !== 'offboarded') running.set(id, access.settings.ratePerMinute);
    }
    if (this.stopped) return;
    for (const [id, ratePerMinute] of running) {
      if (this.queues.has(id) || !ratePerMinute) continue;
      const { worker, rateCap } = await this.make(id, ratePerMinute);
      if (this.stopped) return;
      this.queues.set(id, { worker, rateCap, ratePerMinute, run: worker.run() });
    }
    for (const [id, q] of this.queues) {
      if (running.has(id)) continue;
      if (q.worker.getState() === 'RUNNING') q.worker.shutdown();
      await q.run.catch(() => undefined);
      this.queues.delete(id);
    }
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      await this.refresh().catch(this.onError);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.refreshMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    await this.refreshing?.catch(() => undefined);
    await Promise.allSettled([...this.queues.values()].map((q) => q.run));
    await this.directory?.close();
  }

  shutdown(): void {
    this.stopped = true;
    this.wake?.();
    for (const q of this.queues.values()) if (q.worker.getState() === 'RUNNING') q.worker.shutdown();
  }
}

export async function createErasureWorker(options: ErasureWorkerOptions): Promise<ErasureWorker> {
  // Workers ask tenants' onboarding workflows for their accounts, through a client on their own connection.
  const tenantClient = new Client({
    connection: options.connection,
    namespace: options.namespace,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
  });
  const directory = new TenantDirectory({
    client: tenantClient,
    credentials: options.tenants?.credentials,
    comeet: options.tenants?.comeet,
    onCall: options.tenantCallMetrics,
  });
  const activities = refuseUnencryptedArgs(createActivities({ comeet: options.comeet, receipts: options.receipts, callbacks: options.callbacks }));
  // Comeet calls only on the capped queue: one registered on the main queue too would spend the
  // budget outside the cap. Local work (receipts, callbacks, the paused check) stays off the Comeet queue.
  const { signReceipt, deliverCallback, ...erasureComeetActivities } = activities;
  const tenantStateActivities = refuseUnencryptedArgs(createTenantStateActivities(directory));
  // Onboarding checks call the tenant's own account, so they also belong on the capped queue.
  const onboardingActivities = refuseUnencryptedArgs(createTenantActivities(options.tenants ?? {}));
  const comeetActivities = { ...erasureComeetActivities, ...onboardingActivities };
  const ratePerMinute = options.comeetRatePerMinute ?? DEFAULT_COMEET_RATE_PER_MINUTE;
  const comeetQueue = comeetTaskQueue(options.taskQueue);
  const capQueue = async (taskQueue: string, perMinute: number, reason: string): Promise<ErasureWorker['rateCap']> => {
    try {
      return await ensureQueueRate(options.connection.workflowService, {
        namespace: options.namespace,
        taskQueue,
        perMinute,
        identity: `comeet-dsar worker ${process.pid}@${hostname()}`,
        reason,
      });
    } catch (err) {
      // An older server, or a role without the permission: the poll option below still caps the queue,
      // as long as every poller sends it.
      return { action: 'fallback', error: err instanceof Error ? err.message : String(err) };
    }
  };
  const rateCap = await capQueue(comeetQueue, ratePerMinute, `COMEET_RATE_PER_MINUTE=${ratePerMinute}`);
  // Each workflow type declares its own behaviour (setWorkflowOptions in src/workflows/); PINNED is the safe
  // default for a type that forgets to: it never replays on code it did not start with.
  const versioning: Partial<WorkerOptions> = options.deployment
    ? { workerDeploymentOptions: { useWorkerVersioning: true, version: options.deployment, defaultVersioningBehavior: 'PINNED' } }
    : {};
  const workflows = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: { signReceipt, deliverCallback, ...tenantStateActivities },
    dataConverter: options.dataConverter,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...versioning,
    ...options.overrides,
  });
  const comeetCalls = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: comeetQueue,
    activities: comeetActivities,
    dataConverter: options.dataConverter,
    maxTaskQueueActivitiesPerSecond: ratePerMinute / 60,
    // SIGTERM lets an erase in flight finish (a DELETE cut off mid-way is applied but unrecorded);
    // compose's stop_grace_period and Kubernetes' terminationGracePeriodSeconds must exceed the force time.
    shutdownGraceTime: COMEET_SHUTDOWN_GRACE,
    shutdownForceTime: COMEET_SHUTDOWN_FORCE,
    // More in flight than connections only queues them in the HTTP pool, holding tasks others could run.
    maxConcurrentActivityTaskExecutions: Math.max(4, options.comeet.connections * 2),
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...versioning,
    ...options.overrides,
  });
  const tenants = new TenantQueues(
    tenantClient,
    options.taskQueue,
    async (tenantId, tenantRate) => {
      const perMinute = tenantQueueRate(tenantRate);
      const tenantCap = await capQueue(comeetTaskQueue(options.taskQueue, tenantId), perMinute, `tenant ${tenantId}: ${tenantRate}/min`);
      const own = refuseUnencryptedArgs(
        createActivities({ comeet: () => directory.comeetFor(tenantId), receipts: options.receipts, callbacks: options.callbacks }),
      );
      const { signReceipt: _sign, deliverCallback: _deliver, ...tenantComeet } = own;
      const worker = await Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: comeetTaskQueue(options.taskQueue, tenantId),
        activities: { ...tenantComeet, ...onboardingActivities },
        dataConverter: options.dataConverter,
        maxTaskQueueActivitiesPerSecond: perMinute / 60,
        shutdownGraceTime: COMEET_SHUTDOWN_GRACE,
        shutdownForceTime: COMEET_SHUTDOWN_FORCE,
        maxConcurrentActivityTaskExecutions: 8,
        activityTaskPollerBehavior: { type: 'simple-maximum', maximum: tenantPollers(perMinute) },
        ...(options.plugins ? { plugins: options.plugins } : {}),
        ...versioning,
        ...options.overrides,
      });
      return { worker, rateCap: tenantCap };
    },
    options.tenantRefreshMs ?? 5000,
    (err) => console.warn(`Looking for tenants failed (retrying): ${err instanceof Error ? err.message : String(err)}`),
    directory,
  );
  return new ErasureWorker(workflows, comeetCalls, rateCap, tenants);
}

/** Runs a worker until SIGINT/SIGTERM; used by `npm run worker` (and the reliability tests' workers). */
export async function runWorker(config: WorkerConfig, receipts: ReceiptSigner, signal?: AbortSignal): Promise<void> {
  const runtime = installRuntime({ logFormat: config.DSAR_LOG_FORMAT, logLevel: config.DSAR_LOG_LEVEL, metricsBind: config.DSAR_METRICS_BIND });
  const log = runtime.logger;
  const comeet = new ComeetClient({ ...comeetClientOptions(config), onCall: comeetCallMetrics(runtime.metricMeter) });
  const tracing = await tracingFromEnv(process.env);
  // The workflow interceptors of tracing must be in the bundle: with tracing on, the prebuilt bundle
  // that holds them (DSAR_WORKFLOW_BUNDLE_TRACING), else the workflows are bundled at start-up.
  const prebuilt = tracing ? config.DSAR_WORKFLOW_BUNDLE_TRACING : config.DSAR_WORKFLOW_BUNDLE;
  const bundle = prebuilt ? { workflowBundle: { codePath: prebuilt } } : {};
  if (config.DSAR_WORKFLOW_BUNDLE && tracing && !prebuilt) {
    log.warn(
      'Tracing is on: bundling the workflows with its interceptors at start-up instead of loading DSAR_WORKFLOW_BUNDLE (set DSAR_WORKFLOW_BUNDLE_TRACING to a bundle built with them)',
    );
  }
  const deployment = deploymentVersionFromConfig(config);
  const connection = await NativeConnection.connect(config.temporal.connection);
  let health: HealthServer | undefined;
  try {
    const worker = await createErasureWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      comeet,
      receipts,
      callbacks: {
        secrets: config.DSAR_CALLBACK_SECRET ?? [],
        allowedHosts: config.DSAR_CALLBACK_HOSTS ?? [],
        allowedNetworks: config.DSAR_CALLBACK_ALLOW_NETWORKS ?? [],
      },
      tenants: { credentials: config.credentials, comeet: { responseTimeoutMs: config.COMEET_TIMEOUT, connections: 1 } },
      tenantCallMetrics: (tenant) => comeetCallMetrics(runtime.metricMeter, tenant),
      comeetRatePerMinute: config.COMEET_RATE_PER_MINUTE,
      maxCachedWorkflows: config.DSAR_MAX_CACHED_WORKFLOWS,
      deployment,
      dataConverter: createWorkerDataConverter(config.encryption),
      // Production ships a bundle built at image build time: no webpack at start-up.
      ...bundle,
      ...(tracing ? { plugins: [tracing.plugin as NonNullable<WorkerOptions['plugins']>[number]] } : {}),
    });
    signal?.addEventListener('abort', () => worker.shutdown(), { once: true });
    if (config.DSAR_HEALTH_BIND) {
      health = await startHealthServer(config.DSAR_HEALTH_BIND, worker, () => ({ taskQueue: config.TEMPORAL_TASK_QUEUE }));
    }
    const cap = worker.rateCap;
    const capCommand = `temporal task-queue config set --task-queue ${comeetTaskQueue(config.TEMPORAL_TASK_QUEUE)} --task-queue-type activity --queue-rps-limit <per-second> --queue-rps-limit-reason <why>`;
    if (cap.action === 'fallback') {
      log.warn(
        `Could not set the Comeet queue's rate through the API (${cap.error}); relying on each worker's poll option, which a poller without it clears. Set it by hand: ${capCommand}`,
      );
    } else if (cap.action === 'kept') {
      const perMinute = Math.round(cap.rate.api!.perSecond * 60 * 100) / 100;
      if (perMinute < config.COMEET_RATE_PER_MINUTE) {
        log.warn(
          `The Comeet queue's API rate is ${perMinute}/min, below COMEET_RATE_PER_MINUTE=${config.COMEET_RATE_PER_MINUTE}: kept (set by ${cap.rate.api!.identity ?? 'unknown'}${cap.rate.api!.reason ? `: ${cap.rate.api!.reason}` : ''}). To raise it: ${capCommand}`,
        );
      }
    }
    if (!config.DSAR_CALLBACK_SECRET?.length) log.warn('DSAR_CALLBACK_SECRET is not set: completion callbacks wait (retrying) until it is');
    log.info(`Worker polling task queue "${config.TEMPORAL_TASK_QUEUE}" and Comeet queue "${comeetTaskQueue(config.TEMPORAL_TASK_QUEUE)}"`, {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      ...(config.temporal.profile ? { temporalProfile: config.temporal.profile } : {}),
      comeetRatePerMinute: config.COMEET_RATE_PER_MINUTE,
      comeetRateSource:
        worker.rateCap.action === 'fallback'
          ? 'worker poll option'
          : `API (${worker.rateCap.action}, ${Math.round((worker.rateCap.rate.effectivePerSecond ?? 0) * 60 * 100) / 100}/min)`,
      lookup: config.COMEET_LOOKUP,
      payloadKeyId: config.encryption.currentKeyId,
      credentialsKeyId: config.credentials?.currentKeyId ?? 'unset (tenant onboarding checks fail until DSAR_CREDENTIALS_KEY is set)',
      receiptKeyId: receipts.keyId,
      metrics: config.DSAR_METRICS_BIND ? `http://${config.DSAR_METRICS_BIND}/metrics` : 'off',
      health: health ? `${health.url}/healthz` : 'off',
      workflowBundle: 'workflowBundle' in bundle ? 'prebuilt' : 'built at start-up',
      tracing: tracing ? 'OpenTelemetry (OTLP)' : 'off',
      versioning: deployment ? `${deployment.deploymentName} build ${deployment.buildId}` : 'unversioned',
    });
    if (deployment) {
      log.info(
        `Worker Deployment Version ${deployment.deploymentName}/${deployment.buildId}: it gets new requests once current (temporal worker deployment set-current-version --deployment-name ${deployment.deploymentName} --build-id ${deployment.buildId})`,
      );
    }
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
