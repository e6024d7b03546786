/** The failures the erasure workflows throw, and the one they read from an activity (an interview block). */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { InterviewsInProgressDetails } from '../activities/index.js';
import type { RequestRefusalDetails } from '../erasure-messages.js';

/**
 * Only our callers derive the id from the keyed hash; any other id may carry the email. Never quotes
 * the id. (Every recorded history runs under a keyed id: no patch needed for this refusal.)
 */
export function invalidWorkflowIdFailure(): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'InvalidWorkflowId',
    nonRetryable: true,
    message:
      'The workflow id is not the keyed hash of a subject (dsar- and 32 hex characters), and any other id may carry the email; nothing was looked up or erased. ' +
      'Start erasures with `dsar erase`, the dsar client (startErasure) or the intake API, which derive the id; if this id names the subject, delete this history (temporal workflow delete -w <workflow id>).',
  });
}

export function refusal(d: RequestRefusalDetails & { message: string }): ApplicationFailure {
  return ApplicationFailure.create({
    type: d.code,
    nonRetryable: true,
    message: d.message,
    details: [{ code: d.code, retryable: d.retryable } satisfies RequestRefusalDetails],
  });
}

export function interviewBlock(err: unknown): InterviewsInProgressDetails | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return undefined;
  if (err.cause.type !== 'InterviewsInProgress') return undefined;
  const d = err.cause.details?.[0] as InterviewsInProgressDetails | undefined;
  return { personUid: d?.personUid ?? '', blockingCandidateUids: Array.isArray(d?.blockingCandidateUids) ? d.blockingCandidateUids : [] };
}
