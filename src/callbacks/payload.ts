/** What a completion callback carries. Types only: the workflow builds it, the worker delivers it. */
import type { Regulation } from '../deadlines.js';
import type { Mode } from '../erasure-request.js';
import type { ErasedPerson, Outcome } from '../erasure-status.js';

/**
 * What a callback carries (JSON, HMAC-signed by the worker). Never the email. `erasure.finished` when
 * a request ends; `erasure.follow_up_failed` when the later follow-up lookup of a completed request
 * could not be done (then `id` is the erasure's workflow id and `followUpId` the follow-up's).
 */
export interface CallbackPayload {
  event: 'erasure.finished' | 'erasure.follow_up_failed';
  id: string;
  runId: string;
  requestId?: string;
  outcome: Outcome | 'failed';
  mode: Mode;
  regulation: Regulation;
  dryRun: boolean;
  finishedAt: string;
  verifiedAbsentAt?: string;
  totals?: { persons: number; candidates: number };
  /** A request cancelled (Temporal cancel) after some persons were erased names them here. */
  persons?: ErasedPerson[];
  failure?: string;
  receipt?: string;
  receiptKeyId?: string;
  followUpId?: string;
}
