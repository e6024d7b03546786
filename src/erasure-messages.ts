/**
 * The arguments and answers of the erasure's messages (the attachRequest argument is a schema, in
 * erasure-request.ts). Types only.
 */
import type { ConflictCode } from './requests.js';

/** The run's answer to `attachRequest`. */
export interface AttachAnswer {
  /** started: this request started the run; queued: it runs after the dry run under way, under the same id. */
  status: 'started' | 'attached' | 'replayed' | 'queued';
  runId: string;
  /** Whether the run carries requests of other callers (the intake tells a caller only about its own). */
  otherCallers: boolean;
}

/** What the attach update's validator throws when it refuses: ApplicationFailure `type` is the code. */
export interface RequestRefusalDetails {
  code: ConflictCode;
  retryable: boolean;
}

export interface CancelRequest {
  reason: string;
  actor?: string;
}
/** The answer of the `cancel` update once accepted (a refusal is the update's failure). */
export interface CancelResult {
  cancelled: true;
  reason: string;
  actor: string;
  at: string;
}
export interface RecheckRequest {
  actor?: string;
}
export interface ExtendDeadlineRequest {
  deadline: string;
  reason?: string;
  actor?: string;
}
