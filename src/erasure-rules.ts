/**
 * The limits, defaults and patterns of an erasure request as plain values, zod-free: the zod schemas
 * (erasure-request.ts, for the client, CLI and intake) and the workflow's own guard
 * (workflows/input-guard.ts) both read them, so the two checks cannot drift apart. No Node imports
 * and no zod: the workflow bundle uses it, and zod costs every workflow ~0.8 MB in the sandbox.
 */
import { EXTENSION_RULE, maxExtendedDeadline, type Regulation } from './deadlines.js';

export const MODES = ['delete', 'pseudonymize'] as const;
export type Mode = (typeof MODES)[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** One timing knob: an integer between min and max, `default` when absent. */
export interface TuningRule {
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/** Timing knobs of the workflow; each has a production default, tests shrink them. */
export const TUNING_RULES = {
  /** Wake this long after the latest scheduled interview (Comeet gives start times, not ends). */
  interviewMarginMs: { min: 0, max: 7 * DAY, default: 90 * MINUTE },
  /** Back-off when Comeet blocks without a known schedule: first wait, doubled up to the max. */
  backoffInitialMs: { min: 1000, max: 7 * DAY, default: HOUR },
  backoffMaxMs: { min: 1000, max: 7 * DAY, default: DAY },
  /** How often a request in `needs_attention` retries by itself. */
  attentionRetryMs: { min: 1000, max: 7 * DAY, default: 4 * HOUR },
  /** Pause before re-reading when Comeet still returns an erased person (eventual consistency). */
  verifyRetryMs: { min: 0, max: DAY, default: MINUTE },
  /** Re-erasures of a person Comeet keeps returning before the request fails. */
  maxReerasures: { min: 0, max: 10, default: 3 },
  /** First wait before retrying a callback the caller did not accept (doubling to hourly, for 3 days). */
  callbackRetryMs: { min: 1000, max: DAY, default: 10_000 },
  /** Second absent read, later; 0 turns the follow-up off. */
  followUpDelayMs: { min: 0, max: 90 * DAY, default: 7 * DAY },
  /** Pages a lookup child reads before it continues as new (bounds its history on a long scan). */
  lookupPagesPerRun: { min: 2, max: 1000, default: 200 },
  /**
   * A waiting run continues as a new one (same workflow id, its state carried) once its history
   * has this many events, or sooner when Temporal suggests it (near 4,096): 51,200 ends a run.
   */
  continueAfterEvents: { min: 100, max: 40_000, default: 2000 },
  /** While the tenant is paused, how often a waiting request asks whether it was resumed (a resume also nudges it at once). */
  tenantPauseCheckMs: { min: 100, max: DAY, default: 30_000 },
} as const satisfies Record<string, TuningRule>;
export type TuningKey = keyof typeof TUNING_RULES;
export const TUNING_KEYS = Object.keys(TUNING_RULES) as TuningKey[];

/** Most persons one subject's email finds in practice is a handful; a continued run carries at most this many. */
export const MAX_CARRIED_PERSONS = 200;
/** The last status events a run keeps (and carries when it continues). */
export const MAX_EVENTS = 100;

export const EMAIL_MAX = 254;
export const CALLBACK_URL_MAX = 2048;
export const CALLBACK_URL_MESSAGE = 'callbackUrl must be an absolute URL such as https://privacy.example.com/hooks/dsar';
/**
 * The workflow's check of a callback URL: a bounded http(s) string, tested with a regex only. The
 * full check (on the host's WHATWG URL) runs where requests come in and in the worker before each
 * delivery; inside the workflow it would tie replay to the Node version, whose URL parser may accept
 * or refuse an input differently after an upgrade and so change the history.
 */
export const WORKFLOW_CALLBACK_URL_PATTERN = /^https?:\/\/[^\s/?#]+\S*$/i;

export const REQUEST_ID_MAX = 128;
export const REQUEST_ID_PATTERN = /^[\w.:/-]+$/;
export const REQUEST_ID_RULE = 'requestId may only contain letters, digits and . _ : / -';

/** 32 hex characters, random per startErasure call: never derived from the request. */
export const START_TOKEN_PATTERN = /^[0-9a-f]{32}$/;
export const START_TOKEN_RULE = 'startToken must be 32 hex characters';

export const CALLER_RULE = 'caller must be a name of 1 to 32 characters among a-z, 0-9, _ and - (starting with a letter or digit)';
export const MODE_RULE = 'mode must be "delete" or "pseudonymize"';
export const REGULATION_RULE = 'regulation must be "gdpr" or "ccpa"';

export const ISO_DATE_RULE = 'must be an ISO 8601 date-time such as 2026-05-01T09:00:00Z';
export const ISO_YEAR_RULE = 'must be a date between the years 2000 and 2999';
// Years are bounded so every derived deadline (up to 3 months later) stays a date Temporal accepts.
export function isoYearInRange(v: string): boolean {
  const year = new Date(v).getUTCFullYear();
  return year >= 2000 && year <= 2999;
}

/** How far a caller's clock may run ahead of ours before its receivedAt counts as "in the future". */
const CLOCK_SKEW_MS = 5 * MINUTE;

/**
 * The rules between receivedAt, deadline and the regulation, as issues (field, message). `now` is the
 * caller's clock in clients and the task's (deterministic) time in the workflow.
 */
export function requestDateIssues(
  v: { receivedAt?: string | undefined; deadline?: string | undefined; regulation?: Regulation | undefined },
  now: number,
): { field: 'receivedAt' | 'deadline'; message: string }[] {
  const issues: { field: 'receivedAt' | 'deadline'; message: string }[] = [];
  const received = v.receivedAt ? Date.parse(v.receivedAt) : now;
  if (v.receivedAt && received > now + CLOCK_SKEW_MS) {
    issues.push({ field: 'receivedAt', message: 'receivedAt is in the future: it is when the data subject made the request' });
  }
  if (!v.deadline) return issues;
  const deadline = Date.parse(v.deadline);
  if (deadline <= received) {
    issues.push({ field: 'deadline', message: v.receivedAt ? 'deadline must be after receivedAt' : 'deadline must be in the future (or give receivedAt)' });
    return issues;
  }
  const regulation = v.regulation ?? 'gdpr';
  const max = maxExtendedDeadline(regulation, new Date(received)).getTime();
  if (deadline > max) {
    issues.push({
      field: 'deadline',
      message: `deadline is later than ${regulation.toUpperCase()} allows (${new Date(max).toISOString()}: ${EXTENSION_RULE[regulation]} after receivedAt)`,
    });
  }
  return issues;
}
