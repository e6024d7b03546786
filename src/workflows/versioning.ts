/**
 * How workflow code changes without breaking the runs under way: each workflow type's behaviour under
 * Worker Versioning, and the patch ids that guard every change of an existing command sequence
 * (the recorded histories in test/histories replay through both sides of each).
 */
import { workflowInfo } from '@temporalio/workflow';

/** Core refuses a versioning behaviour from an unversioned worker (dev, tests, no DSAR_BUILD_ID). */
export function versioned(versioningBehavior: 'AUTO_UPGRADE' | 'PINNED'): { versioningBehavior?: 'AUTO_UPGRADE' | 'PINNED' } {
  return workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior } : {};
}

/** Registrations mirrored into the memo on each attach (added with the request rules). */
export const REQUESTS_MEMO_PATCH = 'requests-memo-on-attach';
export const RECEIPT_PATCH = 'proof-of-erasure-receipt';
/** Callbacks after a Temporal cancel (histories cancelled before it closed without any). */
export const CANCEL_CALLBACK_PATCH = 'callbacks-after-temporal-cancel';
/** A failed follow-up reports itself (search attribute, callback) before failing. */
export const FOLLOW_UP_FAILURE_PATCH = 'follow-up-failure-report';
/**
 * Every Comeet call its own activity: lookups page through `lookupPage`, schedules through
 * `getCandidateSchedule` (runs before it keep the one-activity lookups and schedule reads).
 */
export const LOOKUP_PAGES_PATCH = 'lookup-page-activities';
/** A long wait continues as a new run once its history is long (histories recorded before never did). */
export const CONTINUE_PATCH = 'continue-as-new-on-long-history';
/** A real request queued behind a dry run that failed runs next (runs before it failed and dropped it). */
export const QUEUED_AFTER_FAILED_DRY_RUN_PATCH = 'queued-request-after-failed-dry-run';
/**
 * The lean path (issue 14): one marker for a new run instead of one per patch above (each costs a
 * marker and a TemporalChangeVersion upsert) and the start's search attributes taken as published.
 * (Not a local activity for the receipt: its marker holds the result unencrypted.) A run
 * with the marker takes every patched branch above; histories without it replay through the old checks.
 */
export const LEAN_PATH_PATCH = 'lean-path-v1';

// Added after the lean path: a lean run checks these itself (lean runs recorded before them exist).
/**
 * A cancel (ours or Temporal's) ends a dry run's queue: the callers of the real requests queued behind
 * it hear that they never ran, and a real request arriving after is refused, not queued (runs before
 * it did neither).
 */
export const QUEUED_CANCELLED_CALLBACK_PATCH = 'callbacks-to-queued-after-cancel';
/**
 * A failed run's callbacks are delivered through a Temporal cancel (runs before it had them cancelled
 * mid-delivery).
 */
export const FAILURE_CALLBACK_PATCH = 'failure-callbacks-not-cancellable';
