/**
 * What an error from the Comeet client means for the person running a check, and what to do about
 * it. Texts name environment variables, Comeet settings and permissions, never their values.
 */
import {
  ComeetBadRequestError,
  ComeetConflictError,
  ComeetEmailsHiddenError,
  ComeetError,
  ComeetInvalidResponseError,
  ComeetNetworkError,
  ComeetNotFoundError,
  ComeetPermission,
  ComeetPermissionError,
  ComeetRateLimitedError,
  ComeetServerError,
  ComeetUnauthorizedError,
  InterviewsInProgressError,
  type ComeetCallInfo,
} from '../comeet/index.js';

/** Permission names as the customer's admin sees them; the last one is not in ComeetPermission. */
export const PERMISSIONS = {
  ...ComeetPermission,
  readOwnSource: 'Candidates: Retrieve candidates created by your app as the source',
} as const;

export const KEY_SECRET_ADVICE =
  'check COMEET_API_KEY is the account API key from Settings → Integrations and COMEET_SECRET is the integration secret ' +
  '(the sandbox and the production account each have their own API key, and the secret may differ between them); ' +
  "also check this machine's clock, as the token is only valid for 10 minutes";

export const BASE_URL_ADVICE =
  'check COMEET_BASE_URL: it should be the API root, e.g. https://api.comeet.co, with no version prefix such as /v1 ' +
  '(Comeet paths have none) and no trailing path';

export const NETWORK_ADVICE =
  'check the host in COMEET_BASE_URL and that this machine can reach it over HTTPS (DNS, firewall, outbound proxy); ' +
  'COMEET_TIMEOUT sets how long each call may take';

export const POSITIONS_ADVICE =
  'share ALL positions with the integration (when the admin activates it in Comeet, choose "All positions", not ' +
  '"all non-discreet" or "only published"; changing it needs revoke + re-enable): candidates on positions the ' +
  'integration cannot see are silently left out of lookups and never erased';

export const REVOKE_HINT = 'permissions are fixed when the integration is enabled: the admin revokes and re-enables it to approve the new set';

/** A short, safe label for an outcome: `401 invalid_token`, `404 (HTML page)`, `network ECONNREFUSED`. */
export function errorSummary(err: unknown): string {
  if (err instanceof ComeetNetworkError) return `network error (${err.message.replace(/^.*: /, '')})`;
  if (err instanceof ComeetInvalidResponseError) {
    if (isPageLimit(err)) return 'too many pages';
    if (err.status === 404 && err.comeetError === undefined) return '404 (HTML page, not the API)';
    return err.status === undefined ? 'invalid response' : `${err.status} (invalid response)`;
  }
  if (err instanceof ComeetError) {
    return [err.status ?? '', err.comeetError ?? ''].filter((x) => x !== '').join(' ') || err.code;
  }
  return err instanceof Error ? err.name : 'unknown error';
}

/** The message of an error, safe to print (ComeetError messages never quote response bodies). */
export function errorText(err: unknown): string {
  if (err instanceof ComeetError) return err.message;
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 300);
  return 'unknown error';
}

/** The client gives up on a list past `maxPages` with this error: the endpoint answered, at length. */
export function isPageLimit(err: unknown): boolean {
  return err instanceof ComeetInvalidResponseError && /more than \d+ pages/.test(err.message);
}

/** An HTML (non-JSON) 404: a wrong base URL, or an endpoint this account does not have. */
export function isHtml404(err: unknown): boolean {
  return err instanceof ComeetInvalidResponseError && err.status === 404 && !isPageLimit(err);
}

export interface Verdict {
  status: 'pass' | 'fail' | 'warn';
  detail: string;
  fix?: string;
}

/** What the first authenticated call (a lookup on GET /candidates) says about key, secret and URL. */
export function authVerdict(err: unknown | undefined): Verdict {
  if (err === undefined || isPageLimit(err)) {
    return { status: 'pass', detail: 'Comeet accepted the token (GET /candidates answered 200)' };
  }
  if (err instanceof ComeetUnauthorizedError) {
    return { status: 'fail', detail: `Comeet refused the token: HTTP ${errorSummary(err)}`, fix: KEY_SECRET_ADVICE };
  }
  if (err instanceof ComeetPermissionError) {
    if (err.comeetError === 'no_permission') {
      return {
        status: 'pass',
        detail: 'Comeet accepted the token, but refused to list candidates (403 no_permission): see the lookups below',
      };
    }
    return {
      status: 'fail',
      detail: `Comeet answered HTTP ${errorSummary(err)} to GET /candidates`,
      fix: `${KEY_SECRET_ADVICE}; if they are right, grant the permission "${PERMISSIONS.readOtherSources}" (${REVOKE_HINT})`,
    };
  }
  if (isHtml404(err)) {
    return { status: 'fail', detail: 'GET /candidates answered an HTML 404 page instead of the Comeet API', fix: BASE_URL_ADVICE };
  }
  if (err instanceof ComeetInvalidResponseError) {
    return { status: 'fail', detail: errorText(err), fix: `${BASE_URL_ADVICE}; a proxy or web page in between gives the same symptom` };
  }
  if (err instanceof ComeetNetworkError) return { status: 'fail', detail: errorText(err), fix: NETWORK_ADVICE };
  if (err instanceof ComeetRateLimitedError) {
    return {
      status: 'fail',
      detail: 'Comeet kept answering 429 too_many_requests',
      fix: 'the account allows 100 calls a minute for every client together (a running worker included): run the check again in a minute',
    };
  }
  if (err instanceof ComeetServerError) {
    return { status: 'fail', detail: errorText(err), fix: 'Comeet is failing on its side: run the check again later' };
  }
  if (err instanceof ComeetBadRequestError || err instanceof ComeetNotFoundError) {
    return {
      status: 'warn',
      detail: `GET /candidates answered HTTP ${errorSummary(err)}, not 401: the token seems to be accepted, but the call was refused`,
      fix: 'see the lookups below',
    };
  }
  return { status: 'fail', detail: errorText(err), fix: `${KEY_SECRET_ADVICE}; ${BASE_URL_ADVICE}` };
}

/** Why a lookup strategy does not answer, and what to do. */
export function lookupFailure(err: unknown): { detail: string; fix?: string } {
  if (isHtml404(err)) return { detail: 'not available on this account (HTTP 404 page, not the API)' };
  if (err instanceof ComeetEmailsHiddenError) {
    return {
      detail: `answers, but with ${err.candidatesWithoutEmail} candidate(s) without an email, so it cannot tell who the subject is`,
      fix: `grant "${PERMISSIONS.sourceContactDetails}" (${REVOKE_HINT})`,
    };
  }
  if (err instanceof ComeetPermissionError) {
    return {
      detail: `refused: HTTP ${errorSummary(err)}`,
      fix: `grant "${PERMISSIONS.readOtherSources}" and "${PERMISSIONS.readOwnSource}" (${REVOKE_HINT})`,
    };
  }
  if (err instanceof ComeetRateLimitedError) return { detail: 'rate limited (429) even after waiting', fix: 'run the check again in a minute' };
  return { detail: `does not answer: ${errorText(err)}` };
}

/** Why creating the sandbox test candidate failed. */
export function createVerdict(err: unknown, positionUid: string): Verdict {
  if (err instanceof ComeetPermissionError) {
    return {
      status: 'fail',
      detail: `Comeet refused to create the test candidate: HTTP ${errorSummary(err)}`,
      fix: `grant the permission "${PERMISSIONS.createCandidates}" to the sandbox integration (${REVOKE_HINT}); it is only needed for this check`,
    };
  }
  if (err instanceof ComeetNotFoundError) {
    return {
      status: 'fail',
      detail: `Comeet does not know position ${positionUid} (HTTP ${errorSummary(err)})`,
      fix:
        `the position uid is wrong or the position is not shared with the integration: copy the uid of an open ` +
        `position (Comeet API uid, e.g. 11.11) into --position, and ${POSITIONS_ADVICE}`,
    };
  }
  if (err instanceof ComeetConflictError) {
    return {
      status: 'fail',
      detail: `Comeet reports a conflict (HTTP ${errorSummary(err)})`,
      fix: 'run the check again (each run uses a new partner_candidate_id)',
    };
  }
  if (err instanceof ComeetBadRequestError) {
    return {
      status: 'fail',
      detail: `Comeet rejected the new candidate (HTTP ${errorSummary(err)})`,
      fix: err.comeetError === 'invalid_email' ? 'Comeet refuses the test email: use another address for --test-email' : 'check --position and --test-email',
    };
  }
  const auth = authVerdict(err);
  return { status: 'fail', detail: `creating the test candidate failed: ${errorText(err)}`, ...(auth.fix ? { fix: auth.fix } : {}) };
}

/** Why erasing the test person failed. */
export function eraseVerdict(err: unknown, mode: 'delete' | 'pseudonymize'): Verdict {
  if (err instanceof ComeetPermissionError) {
    return {
      status: 'fail',
      detail: `Comeet refused to ${mode} the person: HTTP ${errorSummary(err)}`,
      fix: `grant the permission "${PERMISSIONS.erasePersons}" (${REVOKE_HINT}); without it no erasure can ever run`,
    };
  }
  if (err instanceof InterviewsInProgressError) {
    const uids = err.blockingCandidateUids.join(', ') || 'unknown';
    return {
      status: 'fail',
      detail: `Comeet refuses to ${mode} the person while interviews are scheduled or ongoing (400 person_has_pending_interviews, blocking candidate(s) ${uids})`,
      fix:
        'interviews must be cleared before Comeet erases a person: in the sandbox, cancel or complete the interviews of ' +
        'those candidates (or use a test email nobody with interviews has) and run the check again. In production ' +
        'the worker waits for such interviews by itself',
    };
  }
  if (err instanceof ComeetNotFoundError) {
    return {
      status: 'fail',
      detail: `Comeet does not find the person it just created (HTTP ${errorSummary(err)})`,
      fix: 'run the check again; if it persists, ask Comeet support',
    };
  }
  const auth = authVerdict(err);
  return { status: 'fail', detail: `the ${mode} call failed: ${errorText(err)}`, ...(auth.fix ? { fix: auth.fix } : {}) };
}

/** Counts the HTTP calls a check makes; pass `onCall` to the ComeetClient it uses. */
export class CallCounter {
  readonly calls: ComeetCallInfo[] = [];
  readonly onCall = (info: ComeetCallInfo): void => {
    this.calls.push(info);
  };
  get count(): number {
    return this.calls.length;
  }
}
