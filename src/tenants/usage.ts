/**
 * What a tenant is using now, for `dsar tenant show`: its Comeet queue's rate as the Temporal server
 * holds it (set through the API by the workers, at 96% of the account's limit) and that queue's
 * backlog, and its running erasures by phase and at risk, counted through visibility.
 */
import type { Client } from '@temporalio/client';
import { describeQueueRate, type QueueBacklog, type RateSource } from '../rate-cap.js';
import { PHASES, type Phase } from '../erasure-status.js';
import { DsarAtRisk, DsarPhase, DsarTenant } from '../search-attributes.js';
import { comeetTaskQueue } from '../task-queues.js';
import { WORKFLOW_TYPE } from '../workflow-ids.js';
import { isTenantId, TENANT_ID_RULE } from './model.js';

export interface TenantUsage {
  budget: {
    /** The tenant's activity queue for Comeet calls. */
    taskQueue: string;
    /** The account's limit, as onboarded (`--rate-limit`). */
    ratePerMinute: number;
    /** The queue's rate set through the API (undefined: none set, e.g. no worker has seen the tenant yet). */
    capPerMinute?: number;
    /** Who holds the rate the server applies: the API (the workers' cap), a worker's poll option, or nothing. */
    source: RateSource;
    setBy?: string;
    setAt?: string;
    /** capPerMinute as a share of ratePerMinute, in percent. */
    percentOfLimit?: number;
    backlog?: QueueBacklog;
  };
  /** Running erasures of the tenant. */
  requests: {
    running: number;
    /** Phases with at least one running erasure. */
    byPhase: Partial<Record<Phase, number>>;
    atRisk: number;
  };
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * `taskQueue` is the workflows' queue (TEMPORAL_TASK_QUEUE); the tenant's Comeet queue is derived
 * from it as the workers derive it. Visibility is eventually consistent: counts lag a second or so.
 */
export async function tenantUsage(client: Client, tenant: { id: string; ratePerMinute: number }, taskQueue: string): Promise<TenantUsage> {
  // The id goes into a visibility query: only a well-formed one.
  if (!isTenantId(tenant.id)) throw new TypeError(TENANT_ID_RULE);
  const queue = comeetTaskQueue(taskQueue, tenant.id);
  const running = `WorkflowType="${WORKFLOW_TYPE}" AND ${DsarTenant.name}="${tenant.id}" AND ExecutionStatus="Running"`;
  const count = async (extra?: string) => (await client.workflow.count(extra ? `${running} AND ${extra}` : running)).count;
  // The server groups counts by ExecutionStatus only: one count a phase, in parallel.
  const [rate, total, atRisk, ...phaseCounts] = await Promise.all([
    describeQueueRate(client.connection.workflowService, client.options.namespace, queue, { stats: true }),
    count(),
    count(`${DsarAtRisk.name}=true`),
    ...PHASES.map((p) => count(`${DsarPhase.name}="${p}"`)),
  ]);
  const byPhase: Partial<Record<Phase, number>> = {};
  PHASES.forEach((p, i) => {
    if (phaseCounts[i]) byPhase[p] = phaseCounts[i];
  });
  const capPerMinute = rate.api ? round(rate.api.perSecond * 60) : undefined;
  return {
    budget: {
      taskQueue: queue,
      ratePerMinute: tenant.ratePerMinute,
      ...(capPerMinute !== undefined ? { capPerMinute, percentOfLimit: round((capPerMinute / tenant.ratePerMinute) * 100) } : {}),
      source: rate.source,
      ...(rate.api?.identity ? { setBy: rate.api.identity } : {}),
      ...(rate.api?.at ? { setAt: rate.api.at } : {}),
      ...(rate.backlog ? { backlog: rate.backlog } : {}),
    },
    requests: { running: total, byPhase, atRisk },
  };
}
