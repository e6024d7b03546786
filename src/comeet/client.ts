/**
 * The Comeet Recruiting API client: undici pool, HS256 JWT, zod-checked responses, typed errors.
 * It knows nothing of Temporal; activities translate its errors into failures.
 */
import { createHash } from 'node:crypto';
import { Pool, errors as undiciErrors } from 'undici';
import type { z } from 'zod';
import { sameEmail } from '../email.js';
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
  type ComeetErrorOptions,
} from './errors.js';
import { ComeetTokenSource } from './jwt.js';
import { parseRetryAfter } from './retry-after.js';
import {
  candidateArraySchema,
  candidatePageSchema,
  candidateSchema,
  createCandidateInputSchema,
  deletePersonResponseSchema,
  errorBodySchema,
  pseudonymizePersonResponseSchema,
  type ComeetCandidate,
  type CreateCandidateInput,
} from './schemas.js';

/**
 * How to find a subject's candidates; Comeet documents no email lookup (see comeet-api.md), so the
 * customer's sandbox check decides which one works for them.
 */
export const LOOKUP_STRATEGIES = ['candidates-filter', 'find-duplicates', 'scan'] as const;
export type LookupStrategy = (typeof LOOKUP_STRATEGIES)[number];

export type EraseMode = 'delete' | 'pseudonymize';

export interface ComeetCallInfo {
  /** Route pattern, e.g. `DELETE /person/:uid`; never ids, query strings or emails. */
  endpoint: string;
  /** HTTP status, or `network` when there was no answer. */
  status: number | 'network';
  durationMs: number;
}

export interface ComeetClientOptions {
  /** `https://api.comeet.co` in production; may carry a path prefix. */
  baseUrl: string;
  apiKey: string;
  secret: string;
  lookup?: LookupStrategy;
  /** `limit=` sent on list calls. */
  pageSize?: number;
  /** A scan or a paged lookup stops with an error past this many pages rather than loop forever. */
  maxPages?: number;
  connections?: number;
  connectTimeoutMs?: number;
  /** Time allowed for the response headers, and then between body chunks. */
  responseTimeoutMs?: number;
  /** Clock for the JWT; injectable so tests can freeze it. */
  now?: () => number;
  /** Called after every HTTP exchange (metrics, call counting). */
  onCall?: (info: ComeetCallInfo) => void;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface EraseResult {
  personUid: string;
  mode: EraseMode;
  candidateUids: string[];
  count: number;
}

/**
 * A paged lookup between two pages: plain JSON without the subject's email, so it can ride in the
 * activity's heartbeat details and a retry can go on from the page it lost.
 */
export interface LookupProgress {
  strategy: LookupStrategy;
  /** The next page to read (a path whose email parameter reads `{subject}`), or null when done. */
  next: string | null;
  /** False when Comeet's `next_page` quotes the subject's email elsewhere: keep it in memory only. */
  storable: boolean;
  pagesRead: number;
  /** Short hashes of the pages read, to stop a `next_page` that loops. */
  visited: string[];
  /** Live (non-deleted) candidates read, and how many of them came without an email. */
  seen: number;
  withoutEmail: number;
}

export interface LookupPage {
  /** Live candidates of this page whose email is the subject's. */
  matches: ComeetCandidate[];
  progress: LookupProgress;
}

/** Stands for the subject's email in a stored cursor; it cannot be part of an email address. */
const SUBJECT = '{subject}';

const MAX_BODY_BYTES = 20 * 1024 * 1024;

/** Documented 400 codes that mean "your request was wrong", never "no result". */
const VALIDATION_ERRORS = new Set(['required_field', 'invalid_email', 'invalid_datetime', 'invalid_field']);

export class ComeetClient {
  readonly lookup: LookupStrategy;
  /** HTTP connections to Comeet (the pool size). */
  readonly connections: number;
  private readonly pool: Pool;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly tokens: ComeetTokenSource;
  private readonly pageSize: number;
  private readonly maxPages: number;
  private readonly onCall: ((info: ComeetCallInfo) => void) | undefined;

  constructor(options: ComeetClientOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') {
      throw new TypeError(`Comeet base URL must be http(s), got ${base.protocol}`);
    }
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.lookup = options.lookup ?? 'candidates-filter';
    this.pageSize = options.pageSize ?? 100;
    this.maxPages = options.maxPages ?? 1000;
    this.onCall = options.onCall;
    this.connections = options.connections ?? 4;
    this.tokens = new ComeetTokenSource({ apiKey: options.apiKey, secret: options.secret, now: options.now });
    const responseTimeout = options.responseTimeoutMs ?? 30_000;
    this.pool = new Pool(this.origin, {
      connections: this.connections,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      headersTimeout: responseTimeout,
      bodyTimeout: responseTimeout,
      keepAliveTimeout: 10_000,
    });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /**
   * Every candidate whose email is the subject's (see email.ts), whatever the server returned: a
   * filter Comeet ignores must never turn into erasing the wrong people. Reads every page in one go;
   * the lookup activity walks the same pages with `startLookup`/`readLookupPage` so it can resume.
   */
  async findCandidatesByEmail(email: string, options: CallOptions & { strategy?: LookupStrategy } = {}): Promise<ComeetCandidate[]> {
    let progress = this.startLookup(options.strategy);
    const found = new Map<string, ComeetCandidate>();
    while (progress.next !== null) {
      const page = await this.readLookupPage(email, progress, options);
      for (const c of page.matches) if (!found.has(c.uid)) found.set(c.uid, c);
      progress = page.progress;
    }
    return [...found.values()];
  }

  /** Where a lookup of `strategy` (default: the configured one) starts. */
  startLookup(strategy: LookupStrategy = this.lookup): LookupProgress {
    const first =
      strategy === 'find-duplicates'
        ? `${this.basePath}/sourcing/candidates/find_duplicates?${new URLSearchParams({ email: SUBJECT })}`
        : `${this.basePath}/candidates?${new URLSearchParams({ ...(strategy === 'candidates-filter' ? { email: SUBJECT } : {}), limit: String(this.pageSize) })}`;
    return { strategy, next: first, storable: true, pagesRead: 0, visited: [], seen: 0, withoutEmail: 0 };
  }

  /**
   * Reads the page `progress.next` points to and returns its candidates that are the subject's, with
   * the progress past that page. One HTTP call; errors are the client's typed errors, so a caller
   * may retry the same page.
   *
   * A lookup that cannot see emails must not read as absence. `candidates-filter` and
   * `find-duplicates` ask Comeet to match on the email, so any live candidate they return without
   * one may be the subject under a hidden email: ComeetEmailsHiddenError. A `scan` reads everybody,
   * and real accounts hold candidates who have no email at all; the permission applies to the whole
   * integration, so it fails only when no candidate it read carried an email.
   */
  async readLookupPage(email: string, progress: LookupProgress, options: CallOptions = {}): Promise<LookupPage> {
    if (progress.next === null) return { matches: [], progress };
    const { strategy } = progress;
    const endpoint = strategy === 'find-duplicates' ? 'GET /sourcing/candidates/find_duplicates' : 'GET /candidates';
    if (progress.pagesRead >= this.maxPages) {
      throw new ComeetInvalidResponseError(`more than ${this.maxPages} pages; refusing to page on`, { endpoint });
    }
    const path = fromCursor(progress.next, email);
    let candidates: ComeetCandidate[];
    let next: { cursor: string; storable: boolean } | null = null;
    if (strategy === 'find-duplicates') {
      candidates = await this.findDuplicatesAt(path, endpoint, options);
    } else {
      const body = await this.request('GET', path, endpoint, options, ComeetPermission.readOtherSources, undefined, true);
      // Pick the branch by shape so a wrong type is reported at its field, not as "Invalid input".
      if (Array.isArray(body)) {
        candidates = this.parse(candidateArraySchema, body, endpoint);
      } else {
        const parsed = this.parse(candidatePageSchema, body, endpoint);
        candidates = parsed.candidates;
        if (parsed.next_page) next = toCursor(this.nextPagePath(parsed.next_page, endpoint), email);
      }
    }
    const visited = [...progress.visited, cursorHash(progress.next)];
    if (next && visited.includes(cursorHash(next.cursor))) {
      throw new ComeetInvalidResponseError('next_page repeats a page already read', { endpoint });
    }
    const live = candidates.filter((c) => !c.deleted);
    const withoutEmail = live.filter((c) => typeof c.email !== 'string' || c.email.trim() === '').length;
    if (withoutEmail > 0 && strategy !== 'scan') throw new ComeetEmailsHiddenError(withoutEmail, { endpoint });
    const after: LookupProgress = {
      strategy,
      next: next?.cursor ?? null,
      storable: next?.storable ?? true,
      pagesRead: progress.pagesRead + 1,
      visited,
      seen: progress.seen + live.length,
      withoutEmail: progress.withoutEmail + withoutEmail,
    };
    if (after.next === null && after.seen > 0 && after.withoutEmail === after.seen) {
      throw new ComeetEmailsHiddenError(after.withoutEmail, { endpoint });
    }
    return { matches: live.filter((c) => sameEmail(c.email, email)), progress: after };
  }

  async getCandidate(candidateUid: string, options: CallOptions = {}): Promise<ComeetCandidate> {
    const endpoint = 'GET /candidates/:uid';
    const body = await this.request('GET', `/candidates/${encodeURIComponent(candidateUid)}`, endpoint, options, ComeetPermission.readOtherSources);
    return this.parse(candidateSchema, body, endpoint);
  }

  async deletePerson(personUid: string, options: CallOptions = {}): Promise<EraseResult> {
    const endpoint = 'DELETE /person/:uid';
    const body = await this.request('DELETE', `/person/${encodeURIComponent(personUid)}`, endpoint, options, ComeetPermission.erasePersons);
    const parsed = this.parse(deletePersonResponseSchema, body, endpoint);
    return {
      personUid,
      mode: 'delete',
      candidateUids: parsed.deleted_candidates_uids,
      count: parsed.candidates_deleted ?? parsed.deleted_candidates_uids.length,
    };
  }

  async pseudonymizePerson(personUid: string, options: CallOptions = {}): Promise<EraseResult> {
    const endpoint = 'POST /person/:uid/pseudonymize';
    const body = await this.request('POST', `/person/${encodeURIComponent(personUid)}/pseudonymize`, endpoint, options, ComeetPermission.erasePersons);
    const parsed = this.parse(pseudonymizePersonResponseSchema, body, endpoint);
    return {
      personUid,
      mode: 'pseudonymize',
      candidateUids: parsed.pseudonymized_candidates_uids,
      count: parsed.candidates_pseudonymized ?? parsed.pseudonymized_candidates_uids.length,
    };
  }

  erasePerson(personUid: string, mode: EraseMode, options: CallOptions = {}): Promise<EraseResult> {
    return mode === 'delete' ? this.deletePerson(personUid, options) : this.pseudonymizePerson(personUid, options);
  }

  /** Sandbox seeding only: creates a test candidate on a position. */
  async createCandidate(input: CreateCandidateInput, options: CallOptions = {}): Promise<ComeetCandidate> {
    const endpoint = 'POST /candidates';
    const body = await this.request('POST', '/candidates', endpoint, options, ComeetPermission.createCandidates, createCandidateInputSchema.parse(input));
    return this.parse(candidateSchema, body, endpoint);
  }

  private async findDuplicatesAt(path: string, endpoint: string, options: CallOptions): Promise<ComeetCandidate[]> {
    try {
      const body = await this.request('GET', path, endpoint, options, ComeetPermission.readOtherSources, undefined, true);
      return Array.isArray(body) ? this.parse(candidateArraySchema, body, endpoint) : this.parse(candidatePageSchema, body, endpoint).candidates;
    } catch (err) {
      // This endpoint answers 400 when it finds nothing (seen in public client code), but a 400 that
      // says our request was malformed must not pass for "nobody found".
      if (err instanceof ComeetBadRequestError && err.status === 400 && !VALIDATION_ERRORS.has(err.comeetError ?? '')) return [];
      throw err;
    }
  }

  /** Our bearer token must only ever go to the configured host, so a foreign `next_page` is refused. */
  private nextPagePath(nextPage: string, endpoint: string): string {
    let url: URL;
    try {
      url = new URL(nextPage, this.origin + this.basePath + '/');
    } catch {
      throw new ComeetInvalidResponseError('next_page is not a URL', { endpoint });
    }
    if (url.origin !== this.origin) {
      throw new ComeetInvalidResponseError(`next_page points to another host (${url.host})`, { endpoint });
    }
    return url.pathname + url.search;
  }

  private parse<S extends z.ZodType>(schema: S, body: unknown, endpoint: string): z.output<S> {
    const result = schema.safeParse(body);
    if (!result.success) {
      const first = result.error.issues[0];
      const where = first?.path.length ? first.path.join('.') : 'body';
      throw new ComeetInvalidResponseError(`${where}: ${first?.message ?? 'does not match the documented shape'}`, { endpoint });
    }
    return result.data;
  }

  /**
   * One HTTP exchange. `pathAndQuery` is relative to the base URL unless `absolutePath` says it
   * already includes the base path (a followed `next_page`).
   */
  private async request(
    method: 'GET' | 'POST' | 'DELETE',
    pathAndQuery: string,
    endpoint: string,
    options: CallOptions,
    permission: ComeetPermission,
    jsonBody?: unknown,
    absolutePath = false,
  ): Promise<unknown> {
    const path = absolutePath && pathAndQuery.startsWith(this.basePath + '/') ? pathAndQuery : this.basePath + pathAndQuery;
    const headers: Record<string, string> = {
      authorization: `Bearer ${await this.tokens.token()}`,
      accept: 'application/json',
    };
    if (jsonBody !== undefined) headers['content-type'] = 'application/json';
    const started = Date.now();
    let statusCode: number;
    let contentType: string;
    let retryAfter: string | undefined;
    let text: string;
    try {
      const res = await this.pool.request({
        method,
        path,
        headers,
        body: jsonBody === undefined ? undefined : JSON.stringify(jsonBody),
        signal: options.signal,
      });
      statusCode = res.statusCode;
      contentType = String(res.headers['content-type'] ?? '');
      const ra = res.headers['retry-after'];
      retryAfter = Array.isArray(ra) ? ra[0] : ra;
      text = await readText(res.body);
    } catch (err) {
      this.onCall?.({ endpoint, status: 'network', durationMs: Date.now() - started });
      if (options.signal?.aborted) throw err;
      throw new ComeetNetworkError(describeNetworkError(err), { endpoint, cause: err });
    }
    this.onCall?.({ endpoint, status: statusCode, durationMs: Date.now() - started });

    const looksJson = /\bjson\b/i.test(contentType) || /^\s*[[{]/.test(text);
    let body: unknown;
    if (looksJson && text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        if (statusCode >= 500) throw new ComeetServerError({ status: statusCode, endpoint });
        throw new ComeetInvalidResponseError(`HTTP ${statusCode} with a body that is not valid JSON (truncated?)`, { status: statusCode, endpoint });
      }
    }

    if (statusCode >= 200 && statusCode < 300) {
      if (body === undefined) {
        throw new ComeetInvalidResponseError(`HTTP ${statusCode} without a JSON body (content-type ${contentType || 'none'})`, {
          status: statusCode,
          endpoint,
        });
      }
      return body;
    }
    throw this.errorFor(statusCode, body, retryAfter, endpoint, permission);
  }

  private errorFor(status: number, body: unknown, retryAfter: string | undefined, endpoint: string, permission: ComeetPermission): ComeetError {
    const parsed = errorBodySchema.safeParse(body);
    const errBody = parsed.success ? parsed.data : {};
    // Only a code-shaped `error` travels on into messages and logs; anything else could be free text.
    const code = errBody.error && /^[a-z][a-z0-9_]{0,63}$/.test(errBody.error) ? errBody.error : errBody.error ? 'unrecognised_error' : undefined;
    const opts: ComeetErrorOptions = { status, endpoint, comeetError: code };
    if (status === 429 || code === 'too_many_requests') {
      return new ComeetRateLimitedError(parseRetryAfter(retryAfter, Date.now()), opts);
    }
    if (status >= 500) return new ComeetServerError(opts);
    if (code === 'person_has_pending_interviews') {
      const c = errBody.candidate_uid;
      const blocking = c === undefined ? [] : Array.isArray(c) ? c : [c];
      return new InterviewsInProgressError(errBody.person_uid ?? 'unknown', blocking, opts);
    }
    switch (status) {
      case 401:
        // 401 is also `duplicate_candidate` (merged away): a statement about the object, not the token.
        return code === 'duplicate_candidate' ? new ComeetNotFoundError(opts) : new ComeetUnauthorizedError(opts);
      case 403:
        if (code === undefined || code === 'no_permission') return new ComeetPermissionError(permission, opts);
        return new ComeetBadRequestError(opts);
      case 404:
        // An HTML 404 means a wrong base URL or path, not a missing object: never read it as "already gone".
        if (body === undefined) {
          return new ComeetInvalidResponseError('HTTP 404 without a JSON body: is COMEET_BASE_URL right (no /v1 prefix)?', opts);
        }
        return new ComeetNotFoundError(opts);
      case 409:
        return new ComeetConflictError(opts);
      default:
        return new ComeetBadRequestError(opts);
    }
  }
}

/** A page path as a cursor: query parameters holding the subject's email read `{subject}` instead. */
function toCursor(path: string, email: string): { cursor: string; storable: boolean } {
  const q = path.indexOf('?');
  let cursor = path;
  if (q >= 0) {
    const params = [...new URLSearchParams(path.slice(q + 1))];
    if (params.some(([, v]) => sameEmail(v, email))) {
      cursor = `${path.slice(0, q)}?${new URLSearchParams(params.map(([k, v]): [string, string] => [k, sameEmail(v, email) ? SUBJECT : v]))}`;
    }
  }
  return { cursor, storable: !mentions(cursor, email) };
}

function fromCursor(cursor: string, email: string): string {
  const q = cursor.indexOf('?');
  if (q < 0) return cursor;
  const params = [...new URLSearchParams(cursor.slice(q + 1))];
  if (!params.some(([, v]) => v === SUBJECT)) return cursor;
  return `${cursor.slice(0, q)}?${new URLSearchParams(params.map(([k, v]): [string, string] => [k, v === SUBJECT ? email : v]))}`;
}

function mentions(cursor: string, email: string): boolean {
  const e = email.trim().toLowerCase();
  let decoded = cursor;
  try {
    decoded = decodeURIComponent(cursor.replace(/\+/g, ' '));
  } catch {
    // keep the raw form
  }
  return [cursor, decoded].some((x) => x.toLowerCase().includes(e) || x.toLowerCase().includes(encodeURIComponent(e).toLowerCase()));
}

function cursorHash(cursor: string): string {
  return createHash('sha256').update(cursor).digest('hex').slice(0, 16);
}

async function readText(body: AsyncIterable<Buffer | Uint8Array> & { destroy?: () => void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy?.();
      throw new Error(`response body over ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeNetworkError(err: unknown): string {
  if (err instanceof undiciErrors.ConnectTimeoutError) return 'connect timeout';
  if (err instanceof undiciErrors.HeadersTimeoutError) return 'timed out waiting for the response';
  if (err instanceof undiciErrors.BodyTimeoutError) return 'timed out reading the response';
  if (err instanceof undiciErrors.SocketError) return 'connection closed by the server';
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown error';
}
