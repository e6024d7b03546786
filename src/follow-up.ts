/** The input and result of the follow-up workflow, the second absent read days after an erasure. Types only. */
import type { Regulation } from './deadlines.js';
import type { Mode, TuningInput } from './erasure-request.js';
import type { Outcome } from './erasure-status.js';

export interface FollowUpInput {
  email: string;
  mode: Mode;
  regulation: Regulation;
  requestId?: string;
  /** The erasure's workflow id; a reappearance starts a new erasure under it. */
  erasureWorkflowId: string;
  delayMs: number;
  tuning?: TuningInput;
  /**
   * Carried to a re-erasure so it keeps the original request's clock and tells its caller (absent in
   * follow-ups scheduled before they were added: the re-erasure then starts a fresh clock, as before).
   */
  receivedAt?: string;
  deadline?: string;
  callbackUrl?: string;
}
export interface FollowUpResult {
  checkedAt: string;
  reappeared: boolean;
  personUids: string[];
  erasureStarted?: string;
  /** The re-erasure's outcome, or `already_running` when a request for the person was under way. */
  erasureOutcome?: Outcome | 'already_running';
}
