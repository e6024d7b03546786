/**
 * The follow-up: some days after an erasure, the subject is looked up again; if Comeet returns them,
 * the erasure starts again under its own workflow id.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setWorkflowOptions,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { isUnencrypted, unencryptedStartFailure } from '../codec/unencrypted.js';
import type { Activities } from '../activities/index.js';
import type { CallbackPayload } from '../callbacks/payload.js';
import type { Phase } from '../erasure-status.js';
import type { FollowUpInput, FollowUpResult } from '../follow-up.js';
import { DsarMode, DsarPhase } from '../search-attributes.js';
import { comeetTaskQueue } from '../task-queues.js';
import { isKeyedWorkflowId, tenantOfWorkflowId } from '../workflow-ids.js';
import { callbackActivities, FOLLOW_UP_PRIORITY } from './activity-profiles.js';
// A type only: the re-erasure is started by its type name, so the two workflow modules do not import each other.
import type { dsarErasure } from './erasure.js';
import { invalidWorkflowIdFailure } from './failures.js';
import { tuningOf } from './input-guard.js';
import { groupByPerson, pagedLookup } from './lookup.js';
import { workflowMetrics } from './metrics.js';
import { FOLLOW_UP_FAILURE_PATCH, LOOKUP_PAGES_PATCH, versioned } from './versioning.js';

// A follow-up is one sleep and one lookup: it finishes on the build that started it, without patches.
setWorkflowOptions(() => versioned('PINNED'), dsarFollowUp);

/** Looks the subject up again some days after an erasure; erases again if Comeet returns them. */
export async function dsarFollowUp(input: FollowUpInput): Promise<FollowUpResult> {
  if (isUnencrypted(input)) throw unencryptedStartFailure();
  if (!isKeyedWorkflowId(workflowInfo().workflowId, 'followUp') || !isKeyedWorkflowId(input?.erasureWorkflowId ?? '')) throw invalidWorkflowIdFailure();
  try {
    return await followUp(input);
  } catch (err) {
    // Histories of follow-ups that failed before this report existed replay as they ran.
    if (isCancellation(err) || !patched(FOLLOW_UP_FAILURE_PATCH)) throw err;
    throw await followUpFailed(input, err);
  }
}

async function followUp(input: FollowUpInput): Promise<FollowUpResult> {
  let followUpLookups = 0;
  await sleep(input.delayMs);
  const acts = proxyActivities<Activities>({
    taskQueue: comeetTaskQueue(workflowInfo().taskQueue, tenantOfWorkflowId(workflowInfo().workflowId)),
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 minute', backoffCoefficient: 2, maximumInterval: '1 hour', maximumAttempts: 48 },
    priority: { priorityKey: FOLLOW_UP_PRIORITY },
  });
  const persons = patched(LOOKUP_PAGES_PATCH)
    ? groupByPerson(
        (
          await pagedLookup(input.email, {
            profile: 'follow-up',
            priorityKey: () => FOLLOW_UP_PRIORITY,
            childId: () => `${workflowInfo().workflowId}-lookup-${++followUpLookups}`,
            pagesPerRun: tuningOf(input.tuning).lookupPagesPerRun,
          })
        ).found,
      )
    : (await acts.verifyAbsence({ email: input.email })).persons;
  const checkedAt = new Date().toISOString();
  const personUids = persons.map((p) => p.personUid);
  if (persons.length === 0) return { checkedAt, reappeared: false, personUids };
  log.warn('Subject found again at follow-up; starting a new erasure', { persons: persons.length, erasureWorkflowId: input.erasureWorkflowId });
  let child;
  try {
    child = await startChild<typeof dsarErasure>('dsarErasure', {
      workflowId: input.erasureWorkflowId,
      args: [
        {
          email: input.email,
          mode: input.mode,
          regulation: input.regulation,
          requestId: input.requestId,
          tuning: input.tuning,
          ...(input.receivedAt ? { receivedAt: input.receivedAt } : {}),
          ...(input.deadline ? { deadline: input.deadline } : {}),
          ...(input.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
        },
      ],
      // Terminating or cancelling this follow-up must not stop an erasure under way.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: ChildWorkflowCancellationType.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      staticSummary: `DSAR erasure (${input.mode}, ${input.regulation.toUpperCase()}) after a follow-up found the subject again`,
    });
  } catch (err) {
    // Someone already asked again: that running erasure covers it.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { checkedAt, reappeared: true, personUids, erasureStarted: input.erasureWorkflowId, erasureOutcome: 'already_running' };
  }
  // Waiting keeps the follow-up's own result honest: it says whether the re-erasure succeeded.
  const result = await child.result();
  return { checkedAt, reappeared: true, personUids, erasureStarted: input.erasureWorkflowId, erasureOutcome: result.outcome };
}

/**
 * A follow-up that could not do its lookup (or start the re-erasure) after its retries must not fail
 * silently: it sets `DsarPhase="failed"` on its own run, counts `dsar_follow_ups_failed`, and tells
 * the original caller (`erasure.follow_up_failed`). A failed re-erasure tells that caller itself.
 */
async function followUpFailed(input: FollowUpInput, err: unknown): Promise<ApplicationFailure> {
  const info = workflowInfo();
  const reason = err instanceof ActivityFailure ? (err.cause?.message ?? err.message) : err instanceof Error ? err.message : String(err);
  const message = `The follow-up lookup of ${input.erasureWorkflowId} failed after its retries: ${reason}. Look the subject up again (dsar erase) once the cause is fixed`;
  upsertSearchAttributes([
    { key: DsarPhase, value: 'failed' satisfies Phase },
    { key: DsarMode, value: input.mode },
  ]);
  workflowMetrics().followUpsFailed.add(1, { mode: input.mode, tenant: tenantOfWorkflowId(info.workflowId) });
  log.error('Follow-up failed', { erasureWorkflowId: input.erasureWorkflowId, error: reason });
  if (input.callbackUrl && !(err instanceof ChildWorkflowFailure)) {
    const tuning = tuningOf(input.tuning);
    const payload: CallbackPayload = {
      event: 'erasure.follow_up_failed',
      id: input.erasureWorkflowId,
      runId: info.runId,
      ...(input.requestId ? { requestId: input.requestId } : {}),
      outcome: 'failed',
      mode: input.mode,
      regulation: input.regulation,
      dryRun: false,
      finishedAt: new Date().toISOString(),
      failure: message,
      followUpId: info.workflowId,
    };
    try {
      await callbackActivities(tuning.callbackRetryMs).deliverCallback({ url: input.callbackUrl, payload });
    } catch (cbErr) {
      log.warn('Follow-up failure callback could not be delivered', {
        requestId: input.requestId,
        error: cbErr instanceof ActivityFailure ? cbErr.cause?.message : String(cbErr),
      });
    }
  }
  return ApplicationFailure.create({ type: 'FollowUpFailed', nonRetryable: true, message, cause: err instanceof Error ? err : undefined });
}
