/**
 * The task queues an erasure runs on: the workflow's own, and the tenant's rate-capped Comeet queue
 * derived from it. No Node imports: the workflow bundle uses it.
 */
import { DEFAULT_TENANT_ID } from './tenants/model.js';

export const DEFAULT_TASK_QUEUE = 'comeet-dsar';

/**
 * Every Comeet call runs on its tenant's queue, whose dispatch rate the Temporal server caps (set
 * through UpdateTaskQueueConfig): one budget per Comeet account for all workers, which no restart
 * resets and no other tenant's backlog delays. Derived from the workflow's own queue so a workflow
 * needs no configuration to find it; the default tenant keeps the queue of the single-account setup.
 */
export function comeetTaskQueue(workflowTaskQueue: string, tenant: string = DEFAULT_TENANT_ID): string {
  return tenant === DEFAULT_TENANT_ID ? `${workflowTaskQueue}-comeet` : `${workflowTaskQueue}-comeet-${tenant}`;
}

/**
 * Comeet allows 100 calls per 60 s per account. The server's limiter lets a burst of about two
 * seconds' worth through on top of the rate (measured with `npm run bench`: 1001 calls in the
 * busiest 60 s at a 970/min cap), so 96% keeps rate plus burst under the limit.
 */
export const COMEET_LIMIT_PER_MINUTE = 100;
export const DEFAULT_COMEET_RATE_PER_MINUTE = 96;
