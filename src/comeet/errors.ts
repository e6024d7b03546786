/**
 * Typed failures of the Comeet API: one class per way a call can fail, each with a stable `code`
 * and a `retryable` verdict, and never the response body (Comeet messages may quote personal data).
 */

/** Stable codes; activities turn them into Temporal failure types of the same name. */
export const ComeetErrorCode = {
  unauthorized: 'ComeetUnauthorized',
  noPermission: 'ComeetNoPermission',
  emailsHidden: 'ComeetEmailsHidden',
  notFound: 'ComeetNotFound',
  interviewsInProgress: 'InterviewsInProgress',
  badRequest: 'ComeetBadRequest',
  conflict: 'ComeetConflict',
  rateLimited: 'ComeetRateLimited',
  serverError: 'ComeetServerError',
  network: 'ComeetNetworkError',
  invalidResponse: 'ComeetInvalidResponse',
} as const;
export type ComeetErrorCode = (typeof ComeetErrorCode)[keyof typeof ComeetErrorCode];

/** The Comeet permission names, exactly as the customer's admin sees them (source document 001). */
export const ComeetPermission = {
  readOtherSources: 'Candidates: Retrieve candidates created by other sources',
  erasePersons: 'Persons: Delete or Pseudonymize persons',
  sourceContactDetails: 'Candidates: Include source contact personal details in candidate object',
  createCandidates: 'Candidates: Create a new candidate',
} as const;
export type ComeetPermission = (typeof ComeetPermission)[keyof typeof ComeetPermission];

export interface ComeetErrorOptions {
  /** HTTP status, when Comeet answered at all. */
  status?: number;
  /** Comeet's own `error` field (`no_permission`, `not_found`, …). */
  comeetError?: string;
  /** The endpoint as a pattern, without ids or query (safe to log). */
  endpoint?: string;
  cause?: unknown;
}

export class ComeetError extends Error {
  override name = 'ComeetError';
  readonly status: number | undefined;
  readonly comeetError: string | undefined;
  readonly endpoint: string | undefined;
  constructor(
    readonly code: ComeetErrorCode,
    readonly retryable: boolean,
    message: string,
    options: ComeetErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.comeetError = options.comeetError;
    this.endpoint = options.endpoint;
  }
}

/** 401: the JWT was refused (wrong API key or secret, clock skew). Fixing it needs a human. */
export class ComeetUnauthorizedError extends ComeetError {
  override name = 'ComeetUnauthorizedError';
  constructor(options: ComeetErrorOptions) {
    super(
      ComeetErrorCode.unauthorized,
      false,
      `Comeet refused our token (${options.comeetError ?? 'HTTP 401'}) on ${options.endpoint ?? 'a call'}: ` +
        'check COMEET_API_KEY (the account API key) and COMEET_SECRET (the integration secret), and the clock',
      options,
    );
  }
}

/** 403 `no_permission`: the integration lacks a permission; the admin must grant it (revoke + re-enable). */
export class ComeetPermissionError extends ComeetError {
  override name = 'ComeetPermissionError';
  constructor(
    readonly permission: ComeetPermission,
    options: ComeetErrorOptions,
  ) {
    super(
      ComeetErrorCode.noPermission,
      false,
      `Comeet says the integration lacks the permission "${permission}" (${options.endpoint ?? 'call'} ` +
        `answered ${options.status ?? 403} ${options.comeetError ?? 'no_permission'})`,
      options,
    );
  }
}

/**
 * A lookup got candidates back without their `email`: Comeet leaves it out when the integration lacks
 * "Include source contact personal details". The exact-match filter would then see nobody, and a
 * lookup that cannot see emails proves nothing, least of all absence; the admin must grant it.
 */
export class ComeetEmailsHiddenError extends ComeetError {
  override name = 'ComeetEmailsHiddenError';
  readonly permission = ComeetPermission.sourceContactDetails;
  constructor(
    readonly candidatesWithoutEmail: number,
    options: ComeetErrorOptions,
  ) {
    super(
      ComeetErrorCode.emailsHidden,
      false,
      `Comeet returned ${candidatesWithoutEmail} candidate(s) without an email on ${options.endpoint ?? 'a lookup'}, so the lookup ` +
        `cannot tell whether they are the subject: the integration probably lacks the permission "${ComeetPermission.sourceContactDetails}"`,
      options,
    );
  }
}

export class ComeetNotFoundError extends ComeetError {
  override name = 'ComeetNotFoundError';
  constructor(options: ComeetErrorOptions) {
    super(ComeetErrorCode.notFound, false, `Comeet has no such object (${options.endpoint ?? 'call'} answered 404)`, options);
  }
}

/**
 * 400 `person_has_pending_interviews`: a business block, not a fault. The person can only be erased
 * once the interviews of the named candidates are over.
 */
export class InterviewsInProgressError extends ComeetError {
  override name = 'InterviewsInProgressError';
  constructor(
    readonly personUid: string,
    readonly blockingCandidateUids: string[],
    options: ComeetErrorOptions,
  ) {
    super(
      ComeetErrorCode.interviewsInProgress,
      false,
      `Comeet refuses to erase person ${personUid}: scheduled or ongoing interviews on candidate(s) ` + (blockingCandidateUids.join(', ') || 'unknown'),
      options,
    );
  }
}

export class ComeetBadRequestError extends ComeetError {
  override name = 'ComeetBadRequestError';
  constructor(options: ComeetErrorOptions) {
    super(
      ComeetErrorCode.badRequest,
      false,
      `Comeet rejected the request (${options.endpoint ?? 'call'} answered ${options.status ?? 400} ${options.comeetError ?? ''})`.trim(),
      options,
    );
  }
}

export class ComeetConflictError extends ComeetError {
  override name = 'ComeetConflictError';
  constructor(options: ComeetErrorOptions) {
    super(ComeetErrorCode.conflict, false, `Comeet reports a conflict (${options.comeetError ?? 'HTTP 409'})`, options);
  }
}

/** 429: over Comeet's 100 calls a minute. `retryAfterMs` comes from Retry-After when Comeet sends it. */
export class ComeetRateLimitedError extends ComeetError {
  override name = 'ComeetRateLimitedError';
  constructor(
    readonly retryAfterMs: number | undefined,
    options: ComeetErrorOptions,
  ) {
    super(
      ComeetErrorCode.rateLimited,
      true,
      `Comeet rate limit reached on ${options.endpoint ?? 'a call'}` + (retryAfterMs === undefined ? '' : `, retry after ${Math.ceil(retryAfterMs / 1000)} s`),
      options,
    );
  }
}

export class ComeetServerError extends ComeetError {
  override name = 'ComeetServerError';
  constructor(options: ComeetErrorOptions) {
    super(ComeetErrorCode.serverError, true, `Comeet failed with HTTP ${options.status ?? '5xx'} on ${options.endpoint ?? 'a call'}`, options);
  }
}

/** No answer at all: connect or read timeout, reset, refused connection. Safe to retry. */
export class ComeetNetworkError extends ComeetError {
  override name = 'ComeetNetworkError';
  constructor(detail: string, options: ComeetErrorOptions) {
    super(ComeetErrorCode.network, true, `Could not reach Comeet on ${options.endpoint ?? 'a call'}: ${detail}`, options);
  }
}

/**
 * Comeet answered, but not with what the API promises (HTML, truncated JSON, wrong types, a
 * `next_page` on another host). Retrying does not fix a contract mismatch, and guessing at its
 * meaning could erase the wrong person, so it is not retryable.
 */
export class ComeetInvalidResponseError extends ComeetError {
  override name = 'ComeetInvalidResponseError';
  constructor(detail: string, options: ComeetErrorOptions) {
    super(ComeetErrorCode.invalidResponse, false, `Unexpected response from Comeet on ${options.endpoint ?? 'a call'}: ${detail}`, options);
  }
}
