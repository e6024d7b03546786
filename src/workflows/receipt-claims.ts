/** What a proof of erasure states: the claims the worker signs, taken from the run's result. */
import type { ErasureResult } from '../erasure-status.js';
import type { ReceiptDraft } from '../activities/index.js';
import type { ReceiptClaims } from '../receipt/schema.js';

/** The claims of a completed or no_data result whose absence was verified; `subjectHash` is read from the workflow id. */
export function receiptClaims(
  r: ErasureResult,
  verifiedAbsentAt: string,
  run: { workflowId: string; runId: string; subjectHash: string; dryRun: boolean },
): ReceiptClaims {
  return {
    ...(r.requestId ? { requestId: r.requestId } : {}),
    workflowId: run.workflowId,
    runId: run.runId,
    subjectHash: run.subjectHash,
    outcome: r.outcome as 'completed' | 'no_data',
    mode: r.mode,
    regulation: r.regulation,
    dryRun: run.dryRun,
    receivedAt: r.receivedAt,
    deadline: r.deadline,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    verifiedAbsentAt,
    persons: r.persons,
    totals: r.totals,
    lookups: r.lookups,
  };
}

/** The claims without the two times, which the lookup that sees the absence sets: what it is asked to sign. */
export function draftOf(claims: ReceiptClaims): ReceiptDraft {
  const { verifiedAbsentAt: _v, finishedAt: _f, ...draft } = claims;
  return draft;
}
