/**
 * The erasure workflows' activity profiles, sized for Comeet's 100 calls a minute: the rate-capped
 * Comeet calls, the tenant check, signing and callbacks, each with its own timeouts and retries.
 */
import { ActivityCancellationType, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { deadlinePriority } from '../priorities.js';
import { comeetTaskQueue } from '../task-queues.js';
import type { TenantStateActivities } from '../tenants/state-activities.js';
import { tenantOfWorkflowId } from '../workflow-ids.js';
import { transientRetry } from './lookup.js';

// Transient faults retry ~10 times over ~10 minutes (transientRetry), then the request moves to
// `needs_attention` and keeps trying on its own: a request is never dropped.
/**
 * Comeet calls run on the rate-capped Comeet queue, ordered by the deadline. They heartbeat, so an
 * attempt lost with its worker (SIGKILL, OOM) is retried after 30 s, not after its whole timeout.
 */
export function comeetActivities(kind: 'read' | 'erase', deadlineMs: number) {
  return proxyActivities<Activities>({
    taskQueue: comeetTaskQueue(workflowInfo().taskQueue, tenantOfWorkflowId(workflowInfo().workflowId)),
    // A lookup may page through many results (a scan), so it gets more time than one erase.
    // Erasing is idempotent on Comeet's side (a repeat answers 404 = already gone), so it may retry.
    startToCloseTimeout: kind === 'read' ? '10 minutes' : '1 minute',
    heartbeatTimeout: '30 seconds',
    retry: transientRetry,
    priority: { priorityKey: deadlinePriority(deadlineMs, Date.now()) },
    // A Temporal cancel must not report "nothing erased" while a DELETE it sent may still land: the
    // workflow waits for the erase's own outcome. (No command changes: replay is unaffected.)
    ...(kind === 'erase' ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {}),
  });
}

/**
 * Follow-up lookups are a second proof, days after the erasure: they take the lowest priority key
 * (the same as erasures with more than three weeks left, FIFO among them) so they never run ahead of
 * a request nearer its deadline on the shared Comeet budget.
 */
export const FOLLOW_UP_PRIORITY = 5;

/** Whether the tenant is still paused: the worker answers from its tenant directory, off the Comeet queue. */
export const tenantState = proxyActivities<TenantStateActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Signing is local CPU work: quick timeout, a few retries; it spends no Comeet budget. */
export const signingActivities = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { ...transientRetry, maximumAttempts: 5 } });

/**
 * A caller's endpoint may be down for a while: retry for three days, backing off to hourly. It
 * runs on the workflow's queue, outside the Comeet budget.
 */
export function callbackActivities(initialRetryMs: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: '3 days',
    retry: { initialInterval: initialRetryMs, backoffCoefficient: 2, maximumInterval: '1 hour' },
  });
}
