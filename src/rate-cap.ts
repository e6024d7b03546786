/**
 * The Comeet queue's dispatch rate, set through Temporal's API (UpdateTaskQueueConfig, what
 * `temporal task-queue config set --queue-rps-limit` calls). A rate set there takes precedence over
 * every worker's `maxTaskQueueActivitiesPerSecond`, which travels with each poll and is cleared by
 * any poller without it (server `ratelimit_manager.go`): only the API rate holds against a stray,
 * older or debugging worker.
 */
// CommonJS package: Node's ESM loader only sees its default export.
import proto from '@temporalio/proto';

const { TaskQueueType, RateLimitSource } = proto.temporal.api.enums.v1;

/** What `connection.workflowService` offers for this (NativeConnection and Connection alike). */
export interface TaskQueueConfigService {
  updateTaskQueueConfig(req: proto.temporal.api.workflowservice.v1.IUpdateTaskQueueConfigRequest): Promise<unknown>;
  describeTaskQueue(
    req: proto.temporal.api.workflowservice.v1.IDescribeTaskQueueRequest,
  ): Promise<proto.temporal.api.workflowservice.v1.IDescribeTaskQueueResponse>;
}

export type RateSource = 'api' | 'worker' | 'system' | 'none';

export interface QueueRate {
  /** Activities per second the server dispatches from the queue, whoever set it; undefined: unlimited. */
  effectivePerSecond?: number;
  source: RateSource;
  /** The rate set through the API, if any, with who set it and why. */
  api?: { perSecond: number; reason?: string; identity?: string; at?: string };
  /** With `{ stats: true }`: the queue's backlog, as the server estimates it (same call, no extra round trip). */
  backlog?: QueueBacklog;
}

export interface QueueBacklog {
  /** Activity tasks waiting to be dispatched (approximate). */
  count: number;
  /** How long the oldest has waited, in seconds. */
  ageSeconds: number;
  /** Tasks added and dispatched per second, lately. */
  addPerSecond: number;
  dispatchPerSecond: number;
}

export async function describeQueueRate(
  service: TaskQueueConfigService,
  namespace: string,
  taskQueue: string,
  options: { stats?: boolean } = {},
): Promise<QueueRate> {
  const d = await service.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    reportConfig: true,
    ...(options.stats ? { reportStats: true } : {}),
  });
  const eff = d.effectiveRateLimit;
  const source: RateSource =
    eff?.rateLimitSource === RateLimitSource.RATE_LIMIT_SOURCE_API
      ? 'api'
      : eff?.rateLimitSource === RateLimitSource.RATE_LIMIT_SOURCE_WORKER
        ? 'worker'
        : eff?.rateLimitSource === RateLimitSource.RATE_LIMIT_SOURCE_SYSTEM
          ? 'system'
          : 'none';
  const q = d.config?.queueRateLimit;
  const seconds = Number(q?.metadata?.updateTime?.seconds ?? 0);
  return {
    // The server reports an unlimited queue as a huge rate; anything that large caps nothing.
    effectivePerSecond: eff?.requestsPerSecond && eff.requestsPerSecond < 1e6 ? eff.requestsPerSecond : undefined,
    source,
    api: q?.rateLimit
      ? {
          perSecond: q.rateLimit.requestsPerSecond ?? 0,
          reason: q.metadata?.reason || undefined,
          identity: q.metadata?.updateIdentity || undefined,
          at: seconds ? new Date(seconds * 1000).toISOString() : undefined,
        }
      : undefined,
    ...(options.stats && d.stats
      ? {
          backlog: {
            count: Number(d.stats.approximateBacklogCount ?? 0),
            ageSeconds: Number(d.stats.approximateBacklogAge?.seconds ?? 0) + (d.stats.approximateBacklogAge?.nanos ?? 0) / 1e9,
            addPerSecond: d.stats.tasksAddRate ?? 0,
            dispatchPerSecond: d.stats.tasksDispatchRate ?? 0,
          },
        }
      : {}),
  };
}

export interface EnsureResult {
  /** What the queue's rate is after the call. */
  rate: QueueRate;
  /** set: we set it; kept: an equal or lower API rate was there already (an operator's, kept). */
  action: 'set' | 'kept';
}

/**
 * Makes the API rate of `taskQueue` at most `perMinute`: sets it when there is none or a higher one,
 * keeps a lower one (an operator lowered it by hand, e.g. during an incident: a restart must not undo
 * that). Checks afterwards that the server reports the API as the source.
 */
export async function ensureQueueRate(
  service: TaskQueueConfigService,
  options: { namespace: string; taskQueue: string; perMinute: number; identity: string; reason: string },
): Promise<EnsureResult> {
  const wanted = options.perMinute / 60;
  const before = await describeQueueRate(service, options.namespace, options.taskQueue);
  if (before.api && before.api.perSecond > 0 && before.api.perSecond <= wanted + 1e-9) return { rate: before, action: 'kept' };
  await service.updateTaskQueueConfig({
    namespace: options.namespace,
    identity: options.identity,
    taskQueue: options.taskQueue,
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    updateQueueRateLimit: { rateLimit: { requestsPerSecond: wanted }, reason: options.reason },
  });
  const rate = await describeQueueRate(service, options.namespace, options.taskQueue);
  // The server reports its own limit as the source when that is as low as ours (1,000/s by default).
  if (!(rate.source === 'api' || rate.source === 'system') || !rate.api || Math.abs(rate.api.perSecond - wanted) > 1e-6) {
    throw new Error(
      `the server did not take the rate for task queue ${options.taskQueue} (source ${rate.source}, ${rate.effectivePerSecond ?? 'no'} per second)`,
    );
  }
  return { rate, action: 'set' };
}
