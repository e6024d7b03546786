/**
 * What happens when a request arrives for a person who already has a run: one set of rules, used
 * by the workflow's `attachRequest` update (so startErasure, the CLI, bulk and the intake all get
 * the same answer) and by the client for a run that has already closed. No Node APIs: the workflow
 * bundle imports it.
 */
import type { Regulation } from './deadlines.js';
import type { Mode } from './erasure-request.js';

/** A caller's name, from its intake token (`name:token`). */
export const CALLER_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/**
 * Registrations one run keeps; further callers are refused until it ends. Each is small (ids of up to
 * 128 characters), but all of them travel in a continue-as-new input and the closing memo, whose
 * payloads the server limits to 2 MB: callbacks (URLs of up to 2 KiB) have a lower bound of their own.
 */
export const MAX_REQUESTS_PER_RUN = 1024;
export const MAX_CALLBACKS_PER_RUN = 100;
/** Search attribute budget per keyword list: the server ends a workflow whose attributes grow past its limit. */
export const MAX_KEYWORD_LIST_BYTES = 1024;

export interface RequestParams {
  mode: Mode;
  regulation: Regulation;
  dryRun: boolean;
  callbackUrl?: string;
}

/** One caller's request on a run; `(caller, requestId)` is the idempotency key. */
export interface RegisteredRequest extends RequestParams {
  requestId?: string;
  caller?: string;
  /** A real request waiting for the dry run under way; the run continues as it. */
  queued?: boolean;
  /** Known only from a run recorded before registrations kept their parameters: match the id alone. */
  legacy?: boolean;
  receivedAt?: string;
  deadline?: string;
}

export interface RunFacts extends Pick<RequestParams, 'mode' | 'regulation' | 'dryRun'> {
  /** The run has finished (or is delivering its last callbacks). */
  ended: boolean;
  /** A dry run that can still hand over to a queued real request. */
  acceptsQueue: boolean;
  requests: RegisteredRequest[];
}

export const CONFLICT_CODES = ['request_conflict', 'erasure_in_progress', 'request_in_progress', 'request_finishing', 'too_many_requests'] as const;
export type ConflictCode = (typeof CONFLICT_CODES)[number];

export type Decision =
  | { action: 'replay'; existing: RegisteredRequest }
  | { action: 'attach' }
  | { action: 'queue' }
  | { action: 'refuse'; code: ConflictCode; message: string; retryable: boolean };

/** The same request of the same caller (two callers may each use `T-1`). */
export function sameRequest(existing: RegisteredRequest, incoming: Pick<RegisteredRequest, 'requestId' | 'caller'>): boolean {
  if (!incoming.requestId || existing.requestId !== incoming.requestId) return false;
  return existing.legacy === true || existing.caller === incoming.caller;
}

/** Which parameters differ, by name, with the first request's value where it is not personal (never the URL). */
export function differingParameters(existing: RegisteredRequest, incoming: RequestParams): string[] {
  const out: string[] = [];
  if (existing.mode !== incoming.mode) out.push(`mode (it was ${existing.mode})`);
  if (existing.regulation !== incoming.regulation) out.push(`regulation (it was ${existing.regulation})`);
  if (existing.dryRun !== incoming.dryRun) out.push(`dryRun (it was ${existing.dryRun})`);
  if (!existing.legacy && (existing.callbackUrl ?? '') !== (incoming.callbackUrl ?? ''))
    out.push(existing.callbackUrl ? 'callbackUrl' : 'callbackUrl (it had none)');
  return out;
}

const describeRun = (r: Pick<RequestParams, 'mode' | 'regulation' | 'dryRun'>) =>
  `${r.dryRun ? 'dry run of a ' : ''}${r.mode} ${r.regulation.toUpperCase()} request`;

/** Replay, join, queue or refuse: never merge requests that ask for different things. */
export function compareRequest(run: RunFacts, incoming: RegisteredRequest): Decision {
  const existing = run.requests.find((r) => sameRequest(r, incoming));
  if (existing) {
    const diff = differingParameters(existing, incoming);
    if (!diff.length) return { action: 'replay', existing };
    return {
      action: 'refuse',
      code: 'request_conflict',
      retryable: false,
      message: `requestId ${incoming.requestId} was already used for this person with a different ${diff.join(', ')}: repeat the original parameters, or use a new requestId for a new request`,
    };
  }
  const refuse = (code: ConflictCode, message: string, retryable = true): Decision => ({ action: 'refuse', code, message, retryable });
  if (run.requests.length >= MAX_REQUESTS_PER_RUN) {
    return refuse(
      'too_many_requests',
      `the request under way for this person already has ${MAX_REQUESTS_PER_RUN} callers, the most one run keeps: retry after it ends`,
    );
  }
  if (incoming.callbackUrl && run.requests.filter((r) => r.callbackUrl).length >= MAX_CALLBACKS_PER_RUN) {
    return refuse(
      'too_many_requests',
      `the request under way for this person already has ${MAX_CALLBACKS_PER_RUN} callbacks, the most one run keeps: join it without a callbackUrl and follow it (GET it), or retry after it ends`,
    );
  }
  if (run.dryRun && !incoming.dryRun && run.acceptsQueue) {
    const queued = run.requests.find((r) => r.queued);
    if (queued && (queued.mode !== incoming.mode || queued.regulation !== incoming.regulation)) {
      return refuse(
        'request_in_progress',
        `a ${describeRun(queued)} for this person is already queued; this ${describeRun(incoming)} is not merged into it: retry after it ends`,
      );
    }
    return { action: 'queue' };
  }
  if (run.ended)
    return refuse('request_finishing', 'the previous request for this person has just ended and is delivering its callbacks: retry in a few seconds');
  if (!run.dryRun && incoming.dryRun) {
    return refuse(
      'erasure_in_progress',
      'a real erasure for this person is under way, so a dry run has nothing to tell: follow that request (GET it) or retry the dry run after it ends',
    );
  }
  if (run.mode !== incoming.mode || run.regulation !== incoming.regulation) {
    return refuse(
      'request_in_progress',
      `a ${describeRun(run)} for this person is under way; this ${describeRun(incoming)} is not merged into it: retry after it ends`,
    );
  }
  return { action: 'attach' };
}

/** Keeps a keyword list under the search attribute budget (first come, first kept). */
export function boundedKeywords(values: string[], maxBytes = MAX_KEYWORD_LIST_BYTES): string[] {
  const out: string[] = [];
  let bytes = 0;
  for (const v of new Set(values)) {
    // Keywords are ASCII here (request ids and caller names); +3 for the JSON quotes and comma.
    bytes += v.length + 3;
    if (bytes > maxBytes) break;
    out.push(v);
  }
  return out;
}
