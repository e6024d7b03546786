/**
 * An HTTP simulator of the Comeet Recruiting API, modelled on the API facts in shared/comeet-api.md
 * and the source documents, independently of our client (it imports nothing outside src/simulator).
 *
 * It serves one or more Comeet accounts (account.ts); the token's `iss` picks the one a request is
 * counted, limited, faulted and answered in.
 *
 * Per API request: pick the account → count it → read the whole body → fault latency → drop → rate limit → 5xx fault →
 * route (unknown → 404 HTML) → JWT auth → handler. Admin routes under `/_simulator/` skip all of that.
 *
 * Like a real server, a request received in full is carried out even when its caller disconnects
 * meanwhile (say during the injected latency): the answer is counted and logged, then thrown away.
 * A caller that leaves before its body is complete is counted under 'aborted' and nothing is done.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, jwtVerify, errors as joseErrors } from 'jose';
import { Account, DEFAULT_RATE_LIMIT, PEAK_WINDOW_WITHOUT_RATE_LIMIT_MS, type AccountConfig } from './account.js';
import {
  accountOptionsSchema,
  clockAdvanceBodySchema,
  faultsSchema,
  formatZodError,
  optionsSchema,
  parseOrThrow,
  permissionsBodySchema,
  rateLimitBodySchema,
  scheduleBodySchema,
  candidateSeedSchema,
} from './schemas.js';
import { MAX_BODY_BYTES, NOT_FOUND_HTML, baseUrl, faultCode, faultHtml, isValidEmail, pathSegments } from './http-util.js';
import { readRequestBody, type RequestBody } from '../http/requests.js';
import { normalizeEmail, toApiCandidate, type StoredCandidate } from './state.js';
import { formatTime, parseWireTime } from './time.js';
import {
  CANDIDATE_STATUSES,
  type SimAccountInfo,
  type SimCandidateSeed,
  type SimCandidateView,
  type Simulator,
  type SimulatorAccount,
  type SimulatorAccountOptions,
  type SimulatorFaults,
  type SimulatorOptions,
  type SimulatorPermission,
  type SimulatorRateLimit,
  type SimulatorStats,
} from './types.js';
import type { z } from 'zod';

export * from './types.js';
export { formatTime } from './time.js';

/** Comeet mints exp = now + 600 s; allow a minute of slack for clock skew. */
export const MAX_TOKEN_LIFETIME_S = 660;
export { DEFAULT_RATE_LIMIT, PEAK_WINDOW_WITHOUT_RATE_LIMIT_MS };
export const DEFAULT_PAGE_SIZE = 50;
export const DEFAULT_ACCOUNT_ID = 'default';

const PERMISSION_TITLES: Record<SimulatorPermission, string> = {
  'candidates:read_other_sources': 'Candidates: Retrieve candidates created by other sources',
  'candidates:read_own_source': 'Candidates: Retrieve candidates created by your app as the source',
  'candidates:source_contact_details': 'Candidates: Include source contact personal details in candidate object',
  'candidates:create': 'Candidates: Create a new candidate',
  'persons:erase': 'Persons: Delete or Pseudonymize persons',
};

/** Documented list filters on times, with the stored field each compares. */
const TIME_FILTERS: [param: string, field: 'time_created' | 'time_last_status_changed'][] = [
  ['time_created', 'time_created'],
  ['time_last_status_change', 'time_last_status_changed'],
  ['time_hiring_process_updated', 'time_last_status_changed'],
  ['time_person_last_activity', 'time_last_status_changed'],
];

type ResolvedOptions = Required<
  Omit<SimulatorOptions, 'seed' | 'faults' | 'log' | 'rateLimit' | 'permissions' | 'apiKey' | 'secret' | 'accountId' | 'environment' | 'accounts'>
> & {
  log: ((line: string) => void) | undefined;
};

interface Ctx {
  /** The account the token's `iss` names (the default one when it names none). */
  account: Account;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
  /** The request body, read in full before anything else was done. */
  body: RequestBody;
  send(status: number, body: unknown, headers?: Record<string, string>): void;
  error(status: number, code: string, message: string, extra?: Record<string, unknown>, headers?: Record<string, string>): void;
}

interface Route {
  key: string;
  params: string[];
  handler: (ctx: Ctx) => Promise<void> | void;
}

type AccountConfigInput = AccountConfig & { keysGivenAs: 'single' | 'keys' };

/** An account's options (validated) as the Account takes them. */
function accountConfig(a: SimulatorAccountOptions): AccountConfigInput {
  const single = a.apiKey !== undefined && a.secret !== undefined;
  return {
    id: a.id,
    environment: a.environment ?? 'production',
    keys: single ? [{ apiKey: a.apiKey as string, secret: a.secret as string }] : (a.keys ?? []).map((k) => ({ ...k })),
    keysGivenAs: single ? 'single' : 'keys',
    permissions: a.permissions,
    rateLimit: a.rateLimit,
    faults: a.faults,
    seed: a.seed,
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The bearer token of an Authorization header, if it has the right shape. */
function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header.trim())?.[1];
}

/**
 * True once the caller's connection is gone (or the answer was already written). The request's
 * socket, not the response's: a pipelined response has none until the ones before it are done.
 */
function answerUndeliverable(req: IncomingMessage, res: ServerResponse): boolean {
  return res.headersSent || res.writableEnded || res.destroyed || req.socket.destroyed;
}

class SimulatorImpl implements Simulator {
  private server!: Server;
  private boundPort = 0;
  private readonly opts: ResolvedOptions;
  private readonly defaultAccount: Account;
  private readonly accountsById = new Map<string, Account>();
  private readonly accountsByApiKey = new Map<string, Account>();
  /** Keys the customer revoked (a rotation's old key): refused whatever account they named. */
  private readonly revokedKeys = new Set<string>();
  /** Every generated or seeded uid of every account, so generated ones never repeat across accounts. */
  private readonly takenUids = new Set<string>();
  private clockOffset = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly sleepers = new Set<() => void>();

  constructor(options: SimulatorOptions) {
    const o = parseOrThrow(optionsSchema, options, 'Invalid simulator options') as SimulatorOptions;
    this.opts = {
      host: o.host ?? '127.0.0.1',
      port: o.port ?? 0,
      retryAfter: o.retryAfter ?? true,
      pageSize: o.pageSize ?? DEFAULT_PAGE_SIZE,
      emailFilter: o.emailFilter ?? 'exact',
      findDuplicates: o.findDuplicates ?? true,
      listShape: o.listShape ?? 'object',
      readWithoutPermission: o.readWithoutPermission ?? 'omit',
      pseudonymizeKeepsEmail: o.pseudonymizeKeepsEmail ?? false,
      random: o.random ?? Math.random,
      log: o.log,
    };
    this.defaultAccount = this.createAccount(
      {
        id: o.accountId ?? DEFAULT_ACCOUNT_ID,
        environment: o.environment ?? 'production',
        keys: [{ apiKey: o.apiKey, secret: o.secret }],
        keysGivenAs: 'single',
        permissions: o.permissions,
        rateLimit: o.rateLimit,
        faults: o.faults,
        seed: o.seed,
      },
      'Invalid simulator options',
      '',
    );
    (o.accounts ?? []).forEach((a, i) => this.createAccount(accountConfig(a), 'Invalid simulator options', `accounts[${i}].`));
  }

  /** Checks the id and keys are free, then builds and registers the account. `path` prefixes error fields. */
  private createAccount(config: AccountConfigInput, what: string, path: string): Account {
    if (this.accountsById.has(config.id)) throw new Error(`${what}: ${path}id: another account has this id`);
    const seen = new Set<string>();
    config.keys.forEach((k, i) => {
      // Never quote a key: it is a credential.
      const field = config.keysGivenAs === 'keys' ? `${path}keys[${i}].apiKey` : `${path}apiKey`;
      if (this.accountsByApiKey.has(k.apiKey) || seen.has(k.apiKey)) throw new Error(`${what}: ${field}: this API key is already in use`);
      seen.add(k.apiKey);
    });
    const account = new Account(
      config,
      () => this.now(),
      { index: this.accountsById.size, taken: this.takenUids },
      this.accountsById.size === 0,
      what,
      `${path}seed`,
    );
    this.accountsById.set(account.id, account);
    for (const k of config.keys) this.accountsByApiKey.set(k.apiKey, account);
    return account;
  }

  async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      // Writing to a caller that is gone must never surface as an unhandled 'error'.
      res.on('error', () => undefined);
      req.on('error', () => undefined);
      this.handle(req, res).catch((err: unknown) => {
        if (!answerUndeliverable(req, res)) {
          this.writeJson(res, 500, {
            status: 500,
            error: 'internal_server_error',
            message: err instanceof Error ? `Simulator error: ${err.message}` : 'Simulator error',
          });
        }
      });
    });
    this.server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
  }

  // ---- public API -------------------------------------------------------------------------------

  get url(): string {
    return baseUrl(this.opts.host, this.boundPort);
  }

  get port(): number {
    return this.boundPort;
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    this.closing = new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  now(): number {
    return Date.now() + this.clockOffset;
  }

  advanceClock(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`advanceClock: ms must be a finite number >= 0 (got ${ms})`);
    this.clockOffset += ms;
  }

  // The single-account methods act on the default account.

  addCandidate(seed: SimCandidateSeed): SimCandidateView {
    return this.defaultAccount.addCandidate(seed);
  }

  setPermissions(p: SimulatorPermission[]): void {
    this.defaultAccount.setPermissions(p);
  }

  setFaults(f: SimulatorFaults): void {
    this.defaultAccount.setFaults(f);
  }

  /** Replaces the limit and starts a fresh window. */
  setRateLimit(r: SimulatorRateLimit | null): void {
    this.defaultAccount.setRateLimit(r);
  }

  completeInterviews(uid: string): void {
    this.defaultAccount.completeInterviews(uid);
  }

  scheduleInterview(candidateUid: string, at: Date | string, durationMinutes = 60): void {
    this.defaultAccount.scheduleInterview(candidateUid, at, durationMinutes);
  }

  candidate(uid: string): SimCandidateView | undefined {
    return this.defaultAccount.candidate(uid);
  }

  candidates(): SimCandidateView[] {
    return this.defaultAccount.candidates();
  }

  stats(): SimulatorStats {
    return this.defaultAccount.stats();
  }

  resetStats(): void {
    this.defaultAccount.resetStats();
  }

  account(id: string): SimulatorAccount {
    const account = this.accountsById.get(id);
    if (!account) throw new Error(`account: no account with id "${id}" (see accounts())`);
    return account;
  }

  revokeApiKey(apiKey: string): void {
    if (!this.accountsByApiKey.has(apiKey)) throw new Error('revokeApiKey: no account has this API key');
    this.revokedKeys.add(apiKey);
  }

  accounts(): SimAccountInfo[] {
    return [...this.accountsById.values()].map((a) => a.info());
  }

  addAccount(options: SimulatorAccountOptions): SimulatorAccount {
    const parsed = parseOrThrow(accountOptionsSchema, options, 'addAccount') as SimulatorAccountOptions;
    return this.createAccount(accountConfig(parsed), 'addAccount', '');
  }

  statsByAccount(): Record<string, SimulatorStats> {
    return Object.fromEntries([...this.accountsById.values()].map((a) => [a.id, a.stats()]));
  }

  // ---- request pipeline -------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const segments = pathSegments(url.pathname);

    if (segments?.[0] === '_simulator') {
      await this.handleAdmin(req, res, method, url, segments.slice(1), started);
      return;
    }

    // The token's `iss` picks the account before anything is counted: each account has its own
    // stats, faults and rate-limit window, as each Comeet account has its own 100 calls a minute.
    // Unverified here; the auth step below checks the signature with that key's secret.
    const { account, iss } = this.accountFor(req.headers.authorization);
    const route = segments ? this.matchRoute(method, segments) : undefined;
    const routeKey = route?.key ?? `${method} (unmatched)`;
    const stats = account.statsData;
    const logSuffix = account === this.defaultAccount ? '' : ` account=${account.id}`;
    stats.total++;
    stats.byRoute[routeKey] = (stats.byRoute[routeKey] ?? 0) + 1;
    const arrivedAt = new Date().toISOString();
    stats.firstRequestAt ??= arrivedAt;
    stats.lastRequestAt = arrivedAt;
    // resetStats() may swap statsData while this request is under way: keep counting into the stats
    // it was counted in, not a fresh object.
    const count = (status: string) => {
      stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
      this.opts.log?.(`${routeKey} ${status} ${Math.round(performance.now() - started)}ms${logSuffix}`);
    };
    let answered = false;
    // Counted and logged even when the caller is gone: the request was carried out, only the answer is lost.
    const respond = (status: number, body: string, contentType: string, headers: Record<string, string> = {}) => {
      if (answered) return;
      answered = true;
      if (!answerUndeliverable(req, res)) {
        res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), ...headers });
        res.end(body);
      }
      count(String(status));
    };
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => respond(status, JSON.stringify(body), 'application/json', headers);
    const error = (status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
      send(status, { status, error: code, message, ...extra }, headers);

    // The whole request first, as a server does before acting on it; from here on the caller's
    // socket may close at any time without stopping the request.
    const body = await readRequestBody(req, MAX_BODY_BYTES);
    if (body.kind === 'incomplete') {
      count('aborted');
      return;
    }

    const latency = account.currentFaults.latencyMs ?? 0;
    if (latency > 0) {
      await this.sleep(latency);
      if (this.closed) return;
    }
    const faults = account.currentFaults; // read after the delay: setFaults may have changed them meanwhile
    if (faults.dropRate && this.opts.random() < faults.dropRate) {
      stats.faultsInjected++;
      count('dropped');
      req.socket.destroy();
      return;
    }

    // Rate limit: a sliding window over every request that reaches it (real clock); a burst fault
    // answers 429 without touching the window.
    if (faults.rateLimitBurst && faults.rateLimitBurst > 0) {
      account.currentFaults = { ...faults, rateLimitBurst: faults.rateLimitBurst - 1 };
      stats.faultsInjected++;
      stats.rateLimited++;
      const headers = this.opts.retryAfter ? { 'retry-after': String(account.retryAfterSeconds() ?? 1) } : undefined;
      error(429, 'too_many_requests', 'Too many requests, please slow down', {}, headers);
      return;
    }
    const now = Date.now();
    account.peak.add(now); // every request the limiter sees, whether it passes or gets a 429 below
    if (account.currentRateLimit) {
      const { limit, windowMs } = account.currentRateLimit;
      const stamps = account.windowStamps;
      while (stamps.length > 0 && (stamps[0] ?? 0) <= now - windowMs) stamps.shift();
      if (stamps.length >= limit) {
        stats.rateLimited++;
        const headers = this.opts.retryAfter ? { 'retry-after': String(account.retryAfterSeconds() ?? 1) } : undefined;
        error(429, 'too_many_requests', `Rate limit exceeded: ${limit} requests per ${windowMs / 1000} seconds`, {}, headers);
        return;
      }
      stamps.push(now);
    }

    if (faults.errorRate && this.opts.random() < faults.errorRate) {
      stats.faultsInjected++;
      const status = faults.errorStatus ?? 503;
      if (account.faultCounter++ % 2 === 0) {
        error(status, faultCode(status), 'The service is temporarily unavailable, please retry later');
      } else {
        respond(status, faultHtml(status), 'text/html; charset=utf-8');
      }
      return;
    }

    if (!route) {
      respond(404, NOT_FOUND_HTML, 'text/html; charset=utf-8');
      return;
    }

    const authError = await this.authenticate(req.headers.authorization, account, iss);
    if (authError) {
      error(401, authError.code, authError.message);
      return;
    }

    const ctx: Ctx = { account, req, res, url, params: route.params, body, send, error };
    try {
      await route.handler(ctx);
    } catch (err) {
      if (err instanceof HttpError) error(err.status, err.code, err.message, err.extra);
      else error(500, 'internal_server_error', 'The simulator failed to handle the request');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  }

  // ---- auth -------------------------------------------------------------------------------------

  /** The account whose API key the token's `iss` (unverified) names; the default account for anything else. */
  private accountFor(header: string | undefined): { account: Account; iss: string | undefined } {
    const token = bearerToken(header);
    let iss: unknown;
    try {
      iss = token === undefined ? undefined : decodeJwt(token).iss;
    } catch {
      iss = undefined;
    }
    if (typeof iss !== 'string') return { account: this.defaultAccount, iss: undefined };
    return { account: this.accountsByApiKey.get(iss) ?? this.defaultAccount, iss };
  }

  private async authenticate(header: string | undefined, account: Account, iss: string | undefined): Promise<{ code: string; message: string } | undefined> {
    if (header === undefined || header.trim() === '') {
      return { code: 'missing_token', message: 'Missing Authorization header with a Bearer token' };
    }
    const token = bearerToken(header);
    if (token === undefined) return { code: 'invalid_token', message: 'Authorization header must be "Bearer <token>"' };
    if (iss !== undefined && this.revokedKeys.has(iss)) return { code: 'invalid_token', message: 'This API key was revoked' };
    // The secret of the key the token names; a token naming no key of this account is checked
    // against its first key, so it fails on the issuer or the signature as with one account.
    const named = iss === undefined ? undefined : account.keys.get(iss);
    const apiKey = named && iss !== undefined ? iss : account.primaryKey.apiKey;
    const secret = named ?? account.primaryKey.secret;
    let exp: number | undefined;
    try {
      const { payload } = await jwtVerify(token, secret, {
        algorithms: ['HS256'],
        issuer: apiKey,
        requiredClaims: ['exp'],
      });
      exp = payload.exp;
    } catch (err) {
      return { code: 'invalid_token', message: describeJwtError(err) };
    }
    if (exp === undefined || exp - Date.now() / 1000 > MAX_TOKEN_LIFETIME_S) {
      return { code: 'invalid_token', message: `Token expiry is too far in the future (at most ${MAX_TOKEN_LIFETIME_S - 60} seconds)` };
    }
    return undefined;
  }

  // ---- routing ----------------------------------------------------------------------------------

  private matchRoute(method: string, seg: string[]): Route | undefined {
    const [a, b, c, d] = seg;
    if (seg.length === 1 && a === 'candidates') {
      if (method === 'GET') return { key: 'GET /candidates', params: [], handler: (ctx) => this.listCandidates(ctx) };
      if (method === 'POST') return { key: 'POST /candidates', params: [], handler: (ctx) => this.createCandidate(ctx) };
    }
    if (seg.length === 2 && a === 'candidates' && b !== undefined && method === 'GET') {
      return { key: 'GET /candidates/:uid', params: [b], handler: (ctx) => this.getCandidate(ctx) };
    }
    if (seg.length === 3 && a === 'sourcing' && b === 'candidates' && c === 'find_duplicates' && method === 'GET' && this.opts.findDuplicates) {
      return { key: 'GET /sourcing/candidates/find_duplicates', params: [], handler: (ctx) => this.findDuplicates(ctx) };
    }
    if (a === 'person' && b !== undefined) {
      if (seg.length === 2 && method === 'DELETE') {
        return { key: 'DELETE /person/:uid', params: [b], handler: (ctx) => this.erasePerson(ctx, b, 'delete') };
      }
      if (seg.length === 3 && d === undefined && c === 'pseudonymize' && method === 'POST') {
        return {
          key: 'POST /person/:uid/pseudonymize',
          params: [b],
          handler: (ctx) => this.erasePerson(ctx, b, 'pseudonymize'),
        };
      }
    }
    return undefined;
  }

  // ---- read permissions -------------------------------------------------------------------------

  private canRead(account: Account, c: StoredCandidate): boolean {
    return account.hasPermission(c.source === 'app' ? 'candidates:read_own_source' : 'candidates:read_other_sources');
  }

  /** Drops candidates the integration may not read, or (readWithoutPermission 'forbid') refuses the call. */
  private readable(account: Account, cands: StoredCandidate[]): StoredCandidate[] {
    const hidden = cands.find((c) => !this.canRead(account, c));
    if (hidden && this.opts.readWithoutPermission === 'forbid') {
      const p = hidden.source === 'app' ? 'candidates:read_own_source' : 'candidates:read_other_sources';
      throw new HttpError(403, 'no_permission', `The integration lacks the permission "${PERMISSION_TITLES[p]}"`);
    }
    return cands.filter((c) => this.canRead(account, c));
  }

  private apiCandidate(account: Account, c: StoredCandidate): Record<string, unknown> {
    return toApiCandidate(c, { sourceContact: account.hasPermission('candidates:source_contact_details') });
  }

  // ---- handlers ---------------------------------------------------------------------------------

  private listCandidates(ctx: Ctx): void {
    const q = ctx.url.searchParams;
    let wantDeleted = false;
    const deletedParam = q.get('deleted');
    if (deletedParam !== null) {
      if (/^true$/i.test(deletedParam.trim())) wantDeleted = true;
      else if (!/^false$/i.test(deletedParam.trim())) {
        throw new HttpError(400, 'invalid_field', 'deleted must be True or False');
      }
    }
    const statusParam = q.get('status');
    const statuses =
      statusParam === null
        ? null
        : new Set(
            statusParam
              .split(',')
              .map((s) => s.trim().toLowerCase())
              .filter((s) => s !== ''),
          );
    if (statuses) {
      for (const s of statuses) {
        if (!CANDIDATE_STATUSES.some((k) => k.toLowerCase() === s)) {
          throw new HttpError(400, 'invalid_field', `status must be a comma list of: ${CANDIDATE_STATUSES.join(', ')}`);
        }
      }
    }
    const timeChecks: ((c: StoredCandidate) => boolean)[] = [];
    for (const [param, field] of TIME_FILTERS) {
      for (const dir of ['after', 'before'] as const) {
        const raw = q.get(`${param}:${dir}`);
        if (raw === null) continue;
        const t = parseWireTime(raw.trim());
        if (t === undefined) {
          throw new HttpError(400, 'invalid_datetime', `${param}:${dir} must be formatted YYYY-MM-DDTHH:mm:ssZ`);
        }
        timeChecks.push(dir === 'after' ? (c) => c[field] > t : (c) => c[field] < t);
      }
    }
    const limit = positiveInt(q.get('limit'), 'limit');
    const page = positiveInt(q.get('page'), 'page') ?? 1;
    const emailParam = q.get('email');
    const email = emailParam === null ? null : normalizeEmail(emailParam);
    const emailMatches = (c: StoredCandidate): boolean => {
      if (email === null || this.opts.emailFilter === 'ignored') return true;
      if (c.email === null) return false;
      const have = normalizeEmail(c.email);
      return this.opts.emailFilter === 'contains' ? have.includes(email) : have === email;
    };

    const matches = ctx.account.store
      .all()
      .filter((c) => c.deleted === wantDeleted)
      .filter((c) => statuses === null || statuses.has(c.status.toLowerCase()))
      .filter((c) => timeChecks.every((check) => check(c)))
      .filter(emailMatches);
    const visible = this.readable(ctx.account, matches);

    if (this.opts.listShape === 'array') {
      ctx.send(
        200,
        visible.map((c) => this.apiCandidate(ctx.account, c)),
      );
      return;
    }
    const size = Math.min(this.opts.pageSize, limit ?? Number.POSITIVE_INFINITY);
    const start = (page - 1) * size;
    const items = visible.slice(start, start + size);
    const body: Record<string, unknown> = { candidates: items.map((c) => this.apiCandidate(ctx.account, c)) };
    if (start + size < visible.length) {
      const next = new URL(ctx.url.pathname + ctx.url.search, this.publicBase(ctx.req));
      next.searchParams.set('page', String(page + 1));
      body.next_page = next.toString();
    }
    ctx.send(200, body);
  }

  /** The base URL clients reached us by (Host header), for absolute next_page links. */
  private publicBase(req: IncomingMessage): string {
    const host = req.headers.host;
    if (host && /^[A-Za-z0-9.\-[\]:]+$/.test(host)) return `http://${host}`;
    return this.url;
  }

  private findDuplicates(ctx: Ctx): void {
    const raw = ctx.url.searchParams.get('email');
    if (raw === null || raw.trim() === '') throw new HttpError(400, 'required_field', 'email is required');
    const email = normalizeEmail(raw);
    const matches = ctx.account.store.all().filter((c) => !c.deleted && c.email !== null && normalizeEmail(c.email) === email);
    const visible = this.readable(ctx.account, matches);
    if (visible.length === 0) throw new HttpError(400, 'no_duplicates', 'No duplicates found');
    ctx.send(
      200,
      visible.map((c) => this.apiCandidate(ctx.account, c)),
    );
  }

  private getCandidate(ctx: Ctx): void {
    const id = ctx.params[0] ?? '';
    const byRealId =
      String(ctx.req.headers['identifier_type'] ?? ctx.req.headers['identifier-type'] ?? '')
        .trim()
        .toUpperCase() === 'REAL_ID';
    let c: StoredCandidate | undefined;
    if (byRealId) {
      c = /^\d+$/.test(id) ? ctx.account.store.getByRealId(Number(id)) : undefined;
    } else {
      c = ctx.account.store.get(id);
    }
    if (!c) throw new HttpError(404, 'candidate_not_found', 'Candidate not found');
    if (this.readable(ctx.account, [c]).length === 0) throw new HttpError(404, 'candidate_not_found', 'Candidate not found');
    ctx.send(200, this.apiCandidate(ctx.account, c));
  }

  private erasePerson(ctx: Ctx, personUid: string, mode: 'delete' | 'pseudonymize'): void {
    if (!ctx.account.hasPermission('persons:erase')) {
      throw new HttpError(403, 'no_permission', `The integration lacks the permission "${PERMISSION_TITLES['persons:erase']}"`);
    }
    const live = ctx.account.store.personCandidates(personUid).filter((c) => !c.deleted);
    if (live.length === 0) throw new HttpError(404, 'not_found', 'Person not found');
    const blocking = live.filter((c) => ctx.account.store.pendingInterviewSteps(c).length > 0);
    if (blocking.length > 0) {
      throw new HttpError(400, 'person_has_pending_interviews', 'Person has scheduled or ongoing interviews', {
        person_uid: personUid,
        candidate_uid: blocking.map((c) => c.uid),
      });
    }
    const uids = live.map((c) => c.uid);
    if (mode === 'delete') ctx.account.store.markDeleted(live);
    else ctx.account.store.markPseudonymized(live, this.opts.pseudonymizeKeepsEmail);
    ctx.account.statsData.erasures.push({ personUid, mode, candidateUids: uids, at: formatTime(this.now()) });
    if (mode === 'delete') ctx.send(200, { candidates_deleted: uids.length, deleted_candidates_uids: uids });
    else ctx.send(200, { pseudonymized_candidates_uids: uids, candidates_pseudonymized: uids.length });
  }

  private createCandidate(ctx: Ctx): void {
    if (ctx.body.kind === 'too-large') throw new HttpError(413, 'payload_too_large', 'Request body is too large');
    const text = ctx.body.kind === 'complete' ? ctx.body.text : '';
    if (!ctx.account.hasPermission('candidates:create')) {
      throw new HttpError(403, 'no_permission', `The integration lacks the permission "${PERMISSION_TITLES['candidates:create']}"`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'invalid_json', 'Request body must be valid JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError(400, 'invalid_json', 'Request body must be a JSON object');
    }
    const b = body as Record<string, unknown>;
    const required = (obj: Record<string, unknown>, name: string, label = name): string => {
      const v = obj[name];
      if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
        throw new HttpError(400, 'required_field', `${label} is required`);
      }
      if (typeof v !== 'string') throw new HttpError(400, 'invalid_field', `${label} must be a string`);
      return v.trim();
    };
    const optional = (obj: Record<string, unknown>, name: string, label = name): string | null => {
      const v = obj[name];
      if (v === undefined || v === null) return null;
      if (typeof v === 'number' && name === 'partner_candidate_id') return String(v);
      if (typeof v !== 'string') throw new HttpError(400, 'invalid_field', `${label} must be a string`);
      return v.trim() === '' ? null : v.trim();
    };
    const positionUid = required(b, 'position_uid');
    const firstName = required(b, 'first_name');
    const lastName = required(b, 'last_name');
    const email = optional(b, 'email');
    if (email !== null && !isValidEmail(email)) throw new HttpError(400, 'invalid_email', 'email is not a valid email address');
    let sourceContact: { full_name: string; email: string; phone?: string } | null = null;
    if (b.source_contact !== undefined && b.source_contact !== null) {
      if (typeof b.source_contact !== 'object' || Array.isArray(b.source_contact)) {
        throw new HttpError(400, 'invalid_field', 'source_contact must be an object');
      }
      const sc = b.source_contact as Record<string, unknown>;
      const fullName = required(sc, 'full_name', 'source_contact.full_name');
      const scEmail = required(sc, 'email', 'source_contact.email');
      if (!isValidEmail(scEmail)) throw new HttpError(400, 'invalid_email', 'source_contact.email is not a valid email address');
      const scPhone = optional(sc, 'phone', 'source_contact.phone');
      sourceContact = { full_name: fullName, email: scEmail, ...(scPhone !== null ? { phone: scPhone } : {}) };
    }
    const input = {
      position_uid: positionUid,
      first_name: firstName,
      middle_name: optional(b, 'middle_name'),
      last_name: lastName,
      email,
      phone: optional(b, 'phone'),
      mobile_phone: optional(b, 'mobile_phone'),
      linkedin_url: optional(b, 'linkedin_url'),
      partner_candidate_id: optional(b, 'partner_candidate_id'),
      source_contact: sourceContact,
    };
    if (!ctx.account.store.positions.has(positionUid)) throw new HttpError(404, 'position_not_found', 'Position not found');
    if (input.partner_candidate_id !== null) {
      const conflict = ctx.account.store.findConflict(positionUid, input.partner_candidate_id);
      if (conflict) {
        throw new HttpError(409, 'candidate_post_conflict', 'Candidate with provided partner_candidate_id already exists in position with status in progress', {
          candidate_uid: conflict.uid,
        });
      }
    }
    const created = ctx.account.store.create(input);
    ctx.send(201, this.apiCandidate(ctx.account, created));
  }

  // ---- admin ------------------------------------------------------------------------------------

  /**
   * `/_simulator/<route>` steers the default account (and the shared clock);
   * `/_simulator/accounts/:id/<route>` the same routes for one account; `/_simulator/accounts` lists
   * or adds accounts; `/_simulator/stats/by-account` gives every account's stats.
   */
  private async handleAdmin(req: IncomingMessage, res: ServerResponse, method: string, url: URL, seg: string[], started: number): Promise<void> {
    // Log only route patterns: a raw admin path could carry a uid or anything a caller typed.
    const STATIC = ['stats', 'reset-stats', 'candidates', 'faults', 'permissions', 'rate-limit', 'clock', 'clock/advance'];
    const scoped = seg[0] === 'accounts' && seg.length >= 3;
    const prefix = scoped ? '/_simulator/accounts/:id' : '/_simulator';
    const rest = scoped ? seg.slice(2) : seg;
    let pattern = STATIC.includes(rest.join('/')) ? `${prefix}/${rest.join('/')}` : `${prefix}/(unmatched)`;
    const send = (status: number, body: unknown) => {
      if (res.headersSent || res.destroyed) return;
      this.writeJson(res, status, body);
      this.opts.log?.(`${method} ${pattern} ${status} ${Math.round(performance.now() - started)}ms (admin)`);
    };
    const fail = (status: number, code: string, message: string) => send(status, { status, error: code, message });
    const body = async <T extends z.ZodType>(schema: T | undefined): Promise<z.output<T> | unknown> => {
      const read = await readRequestBody(req, 1024 * 1024);
      if (read.kind === 'too-large') return fail(413, 'payload_too_large', 'Request body is too large');
      if (read.kind === 'incomplete') return undefined;
      const text = read.text;
      let json: unknown;
      try {
        json = text.trim() === '' ? {} : JSON.parse(text);
      } catch {
        throw new HttpError(400, 'invalid_json', 'Request body must be valid JSON');
      }
      if (!schema) return json;
      const parsed = schema.safeParse(json);
      if (!parsed.success) throw new HttpError(400, 'invalid_body', formatZodError(parsed.error));
      return parsed.data;
    };
    try {
      if (seg[0] === 'accounts' && seg.length === 1) {
        pattern = '/_simulator/accounts';
        if (method === 'GET') return send(200, { accounts: this.accounts() });
        if (method === 'POST') {
          const options = (await body(accountOptionsSchema)) as SimulatorAccountOptions;
          let account: Account;
          try {
            account = this.createAccount(accountConfig(options), 'Invalid account', '');
          } catch (err) {
            return fail(400, 'invalid_body', err instanceof Error ? err.message : String(err));
          }
          return send(201, account.info());
        }
      }
      if (seg.length === 2 && seg[0] === 'stats' && seg[1] === 'by-account' && method === 'GET') {
        pattern = '/_simulator/stats/by-account';
        return send(200, this.statsByAccount());
      }
      let account = this.defaultAccount;
      if (scoped) {
        const found = this.accountsById.get(seg[1] ?? '');
        if (!found) return fail(404, 'account_not_found', 'No account with that id (see GET /_simulator/accounts)');
        account = found;
        if (rest[0] === 'clock') return fail(404, 'not_found', 'The clock is shared by all accounts: use /_simulator/clock');
      }
      const handled = await this.accountAdmin(account, method, rest, body, send, fail, (p) => (pattern = `${prefix}${p}`));
      if (handled) return;
      if (!scoped && method === 'GET' && rest.length === 1 && rest[0] === 'clock') return send(200, this.clockBody());
      if (!scoped && method === 'POST' && rest.length === 2 && rest[0] === 'clock' && rest[1] === 'advance') {
        const { ms } = (await body(clockAdvanceBodySchema)) as { ms: number };
        this.advanceClock(ms);
        return send(200, this.clockBody());
      }
      return fail(404, 'not_found', `Unknown admin route ${method} ${url.pathname}`);
    } catch (err) {
      if (err instanceof HttpError) return fail(err.status, err.code, err.message);
      throw err;
    }
  }

  /** The admin routes that steer one account; false when `seg` is none of them. */
  private async accountAdmin(
    account: Account,
    method: string,
    seg: string[],
    body: <T extends z.ZodType>(schema: T | undefined) => Promise<z.output<T> | unknown>,
    send: (status: number, body: unknown) => void,
    fail: (status: number, code: string, message: string) => void,
    setPattern: (p: string) => void,
  ): Promise<boolean> {
    const [a, b, c] = seg;
    const done = (fn: () => void): true => {
      fn();
      return true;
    };
    if (method === 'GET' && seg.length === 1 && a === 'stats') return done(() => send(200, account.stats()));
    if (method === 'POST' && seg.length === 1 && a === 'reset-stats') {
      await body(undefined);
      account.resetStats();
      return done(() => send(200, { ok: true }));
    }
    if (a === 'candidates' && seg.length === 1 && method === 'GET') return done(() => send(200, account.candidates()));
    if (a === 'candidates' && seg.length === 2 && method === 'GET' && b !== undefined) {
      setPattern('/candidates/:uid');
      const view = account.candidate(b);
      return done(() => (view ? send(200, view) : fail(404, 'candidate_not_found', 'Candidate not found')));
    }
    if (a === 'candidates' && seg.length === 1 && method === 'POST') {
      const seed = await body(candidateSeedSchema);
      try {
        const view = account.addCandidate(seed as SimCandidateSeed);
        return done(() => send(201, view));
      } catch (err) {
        return done(() => fail(400, 'invalid_body', err instanceof Error ? err.message : String(err)));
      }
    }
    if (a === 'faults' && seg.length === 1 && method === 'GET') return done(() => send(200, account.faults()));
    if (a === 'faults' && seg.length === 1 && method === 'POST') {
      account.setFaults((await body(faultsSchema)) as SimulatorFaults);
      return done(() => send(200, account.faults()));
    }
    if (a === 'permissions' && seg.length === 1 && method === 'GET') {
      return done(() => send(200, { permissions: account.permissions() }));
    }
    if (a === 'permissions' && seg.length === 1 && method === 'POST') {
      const p = (await body(permissionsBodySchema)) as { permissions: SimulatorPermission[] };
      account.setPermissions(p.permissions);
      return done(() => send(200, { permissions: account.permissions() }));
    }
    if (a === 'rate-limit' && seg.length === 1 && method === 'POST') {
      const r = (await body(rateLimitBodySchema)) as { rateLimit: SimulatorRateLimit | null };
      account.setRateLimit(r.rateLimit);
      return done(() => send(200, { rateLimit: account.rateLimit() }));
    }
    if (a === 'interviews' && seg.length === 3 && b !== undefined && method === 'POST' && (c === 'complete' || c === 'schedule')) {
      setPattern(`/interviews/:uid/${c}`);
      if (c === 'complete') {
        await body(undefined);
        const view = account.candidate(b);
        const personCands = view ? [] : account.store.personCandidates(b);
        if (!view && personCands.length === 0) return done(() => fail(404, 'not_found', 'No candidate or person with that uid'));
        account.completeInterviews(b);
        const after = view ? [account.candidate(b)] : account.store.personCandidates(b).map((x) => account.store.view(x));
        return done(() => send(200, { candidates: after }));
      }
      const s = (await body(scheduleBodySchema)) as { at: string; durationMinutes?: number };
      if (!account.candidate(b)) return done(() => fail(404, 'candidate_not_found', 'Candidate not found'));
      try {
        account.scheduleInterview(b, s.at, s.durationMinutes);
      } catch (err) {
        return done(() => fail(400, 'invalid_body', err instanceof Error ? err.message : String(err)));
      }
      return done(() => send(200, account.candidate(b)));
    }
    return false;
  }

  private clockBody(): { now: string; nowMs: number; offsetMs: number } {
    return { now: formatTime(this.now()), nowMs: this.now(), offsetMs: this.clockOffset };
  }
}

function positiveInt(raw: string | null, name: string): number | undefined {
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) throw new HttpError(400, 'invalid_field', `${name} must be a positive integer`);
  return Number(raw);
}

function describeJwtError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'Token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'Token issuer does not match an API key';
    if (err.claim === 'exp') return 'Token must have an exp claim';
    return `Token claim "${err.claim}" is invalid`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'Token algorithm is not allowed (HS256 required)';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'Token signature is invalid';
  if (err instanceof joseErrors.JWTInvalid) return 'Token payload is invalid';
  return 'Token is malformed';
}

/** Starts a simulator listening on options.host:options.port (ephemeral by default). */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const sim = new SimulatorImpl(options);
  await sim.listen();
  return sim;
}
