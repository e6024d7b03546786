/**
 * The intake API: how services that do not speak Temporal ask for erasures.
 *   POST /v1/erasures        start (or join) an erasure; `requestId` is the idempotency key
 *   GET  /v1/erasures/{id}   where it stands, and its outcome and receipt once finished
 *   GET  /healthz            liveness (no auth)
 * Named bearer tokens authenticate callers. Each caller token belongs to one tenant: it starts requests
 * for that tenant only and reads only its own requests there; admin tokens read every request of every
 * tenant and may start one for any tenant. Dry runs are rate-limited per caller. Bodies are validated with zod and refused with a 4xx that says
 * what to fix and never quotes the values. Nothing here logs or returns the email.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { addressKindPhrase, callbackTargetProblem } from '../callbacks/address-policy.js';
import { erasureHandle, ErasureConflictError, erasureWorkflowId, InvalidErasureRequestError, startErasure, type StartOptions } from '../client.js';
import { TenantNotAcceptingError } from '../tenants/client.js';
import { DEFAULT_TENANT_ID, isTenantId, TENANT_ID_PATTERN, TENANT_ID_RULE } from '../tenants/model.js';
import { CALLER_PATTERN, type RegisteredRequest } from '../requests.js';
import { answerUnparsedRequests, HttpError, parseTarget, readBody } from '../http/requests.js';
import { REGULATIONS } from '../deadlines.js';
import { describeIssues } from '../describe-issues.js';
import { callbackUrlSchema, erasureRequestSchema, MODES, requestIdSchema } from '../erasure-request.js';
import type { ErasureResult, ErasureStatus } from '../erasure-status.js';
import { DsarAtRisk, DsarCallers, DsarDeadline, DsarMode, DsarPhase, DsarRequestIds, REQUESTS_MEMO } from '../search-attributes.js';
import { isKeyedWorkflowId, tenantOfWorkflowId } from '../workflow-ids.js';
import { statusQuery } from '../workflows/index.js';

/** Far above any real request (an email is ≤ 254 characters): larger bodies are refused unread. */
export const MAX_BODY_BYTES = 16 * 1024;

export const intakeRequestSchema = z
  .object({
    /** Whose Comeet account: a tenant token's own tenant (naming another is 403); admin tokens choose, default `default`. */
    tenant: z.string({ message: 'tenant must be a string' }).regex(TENANT_ID_PATTERN, TENANT_ID_RULE).optional(),
    email: z.string({ error: (i) => (i.input === undefined ? 'email is required' : 'email must be a string') }),
    mode: z.enum(MODES, { message: 'mode must be "delete" or "pseudonymize"' }).optional(),
    regulation: z.enum(REGULATIONS, { message: 'regulation must be "gdpr" or "ccpa"' }).optional(),
    requestId: z
      .string({
        error: (i) => (i.input === undefined ? 'requestId is required: your id for this request, used as the idempotency key' : 'requestId must be a string'),
      })
      .pipe(requestIdSchema),
    receivedAt: z.string().optional(),
    deadline: z.string().optional(),
    dryRun: z.boolean({ message: 'dryRun must be true or false' }).optional(),
    callbackUrl: callbackUrlSchema.optional(),
  })
  .strict();
export type IntakeRequest = z.input<typeof intakeRequestSchema>;

export interface IntakeLogEntry {
  method: string;
  route: string;
  status: number;
  durationMs: number;
  /** The caller's name (never its token). */
  caller?: string;
  /** The tenant the request is for (a tenant id, never a name). */
  tenant?: string;
  requestId?: string;
  workflowId?: string;
  error?: string;
}

export interface IntakeOptions {
  client: Client;
  start: StartOptions;
  /** Named bearer tokens accepted; each non-admin one belongs to a tenant (default `default`), `admin` ones read every request. */
  tokens: IntakeCaller[];
  /** Dry runs each caller may ask for per hour (token bucket, in this process); default 20. */
  dryRunsPerHour?: number;
  /** DSAR_CALLBACK_HOSTS; empty = any https host. */
  allowedCallbackHosts?: string[];
  /** DSAR_CALLBACK_ALLOW_NETWORKS: non-public networks callbacks may reach anyway. */
  allowedCallbackNetworks?: string[];
  host?: string;
  port?: number;
  log?: (entry: IntakeLogEntry) => void;
  limits?: Partial<IntakeLimits>;
}

/** What one client may hold of the server: slow or idle connections are cut, and their number is capped. */
export interface IntakeLimits {
  /** Until the request's headers are in (Node's default is 60 s). */
  headersTimeoutMs: number;
  /** Until the whole request, body included, is in (Node's default is 5 min). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections; more are dropped at accept (Node's default is no cap). */
  maxConnections: number;
}

/** A body is at most 16 KiB, so a legitimate client sends a request in well under a second. */
export const DEFAULT_INTAKE_LIMITS: IntakeLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, maxConnections: 512 };

export interface IntakeCaller {
  name: string;
  token: string;
  /** The tenant whose requests this token starts and reads; default `default`. Admin tokens have none: they see every tenant. */
  tenant?: string;
  admin?: boolean;
}

export interface IntakeServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startIntakeServer(options: IntakeOptions): Promise<IntakeServer> {
  if (!options.tokens.length) throw new Error('the intake needs at least one bearer token');
  const names = new Set<string>();
  for (const t of options.tokens) {
    if (!CALLER_PATTERN.test(t.name)) throw new Error('each intake token needs a name of 1-32 characters among a-z, 0-9, _ and - (name:token)');
    if (names.has(t.name)) throw new Error(`the intake caller name ${t.name} is given twice: each token gets its own name`);
    names.add(t.name);
    if (t.admin && t.tenant !== undefined)
      throw new Error(`the intake admin token ${t.name} names a tenant: admin tokens read every tenant's requests, so they name none`);
    if (t.tenant !== undefined && !isTenantId(t.tenant)) throw new Error(`the intake token ${t.name} has an invalid tenant: ${TENANT_ID_RULE}`);
  }
  const callers = options.tokens.map((t) => ({
    name: t.name,
    admin: t.admin === true,
    tenant: t.admin ? undefined : (t.tenant ?? DEFAULT_TENANT_ID),
    digest: digest(t.token),
  }));
  const callbackPolicy = { allowedHosts: options.allowedCallbackHosts ?? [], allowedNetworks: options.allowedCallbackNetworks ?? [] };
  const dryRuns = new TokenBuckets(options.dryRunsPerHour ?? 20, 3_600_000);

  function authenticate(req: IncomingMessage): Principal {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    // Compare digests in constant time: the token's length and content leak nothing.
    const given = m ? digest(m[1]!) : undefined;
    // Check every token (no early exit), so timing does not tell which one matched.
    let found: (typeof callers)[number] | undefined;
    for (const c of callers) if (given && timingSafeEqual(c.digest, given)) found = c;
    if (!found) {
      throw new HttpError(401, 'unauthorized', 'a valid bearer token is required (Authorization: Bearer <token>)', {
        'www-authenticate': 'Bearer realm="comeet-dsar"',
      });
    }
    return { name: found.name, admin: found.admin, tenant: found.tenant };
  }

  /**
   * The tenant a POST is for. A tenant token's is fixed (a body naming another is refused, whether or
   * not that tenant exists, so the answer says nothing about other tenants); an admin token chooses.
   */
  function tenantFor(caller: Principal, asked: string | undefined): string {
    if (caller.admin) return asked ?? DEFAULT_TENANT_ID;
    if (asked !== undefined && asked !== caller.tenant) {
      throw new HttpError(
        403,
        'tenant_forbidden',
        `this token belongs to tenant ${caller.tenant}: it starts requests for that tenant only (leave out tenant, or use a token of the tenant you mean)`,
      );
    }
    return caller.tenant!;
  }

  async function create(
    req: IncomingMessage,
  ): Promise<{ status: number; body: unknown; requestId?: string; workflowId?: string; caller?: string; tenant?: string }> {
    const caller = authenticate(req);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new HttpError(415, 'unsupported_media_type', 'send the request as JSON (Content-Type: application/json)');
    const raw = await readBody(req, MAX_BODY_BYTES);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new HttpError(400, 'invalid_json', 'the body is not valid JSON');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new HttpError(422, 'invalid_request', 'the body must be a JSON object');
    const parsed = intakeRequestSchema.safeParse(json);
    if (!parsed.success) throw new HttpError(422, 'invalid_request', describeIssues(parsed.error));
    const { tenant: askedTenant, ...body } = parsed.data;
    const tenant = tenantFor(caller, askedTenant);
    // The worker checks again at delivery, with the resolved address; here only what needs no DNS.
    const callbackProblem = body.callbackUrl ? callbackTargetProblem(body.callbackUrl, callbackPolicy) : undefined;
    if (callbackProblem?.code === 'CallbackHostNotAllowed') {
      throw new HttpError(422, 'invalid_request', 'callbackUrl: its host is not one this service may call (DSAR_CALLBACK_HOSTS)');
    }
    if (callbackProblem?.kind) {
      throw new HttpError(
        422,
        'invalid_request',
        `callbackUrl: its host is ${addressKindPhrase(callbackProblem.kind)}, which callbacks may not reach (DSAR_CALLBACK_ALLOW_NETWORKS)`,
      );
    }
    if (callbackProblem) throw new HttpError(422, 'invalid_request', 'callbackUrl is not a URL callbacks may go to');
    const requestId = body.requestId;
    const full = erasureRequestSchema.safeParse(body);
    if (!full.success) throw new HttpError(422, 'invalid_request', describeIssues(full.error));
    const workflowId = erasureWorkflowId(full.data.email, options.start.idKey, tenant);
    if (full.data.dryRun) {
      // A dry run answers "is this email in Comeet" at no cost to the caller: ration it.
      const wait = dryRuns.take(caller.name);
      if (wait > 0) {
        throw new HttpError(429, 'too_many_dry_runs', `this caller has used its dry runs for now (DSAR_INTAKE_DRY_RUNS_PER_HOUR); retry in ${wait} s`, {
          'retry-after': String(wait),
        });
      }
    }
    let started;
    try {
      // The rules for a request meeting another for the same person (replay, join, queue, refuse) are the workflow's.
      // The default tenant's requests go in exactly as before tenants (no tenant field at all).
      started = await startErasure(
        options.client,
        { ...body, ...(tenant !== DEFAULT_TENANT_ID ? { tenant } : {}), requestId, caller: caller.name },
        options.start,
      );
    } catch (err) {
      // 422: no such tenant here (the request cannot be made as sent); 409: it exists but takes no
      // erasures yet (or any more), a state that changes with its onboarding, not with the request.
      if (err instanceof TenantNotAcceptingError) throw new HttpError(err.code === 'tenant_unknown' ? 422 : 409, err.code, err.message);
      if (err instanceof InvalidErasureRequestError) throw new HttpError(422, 'invalid_request', err.message.replace(/^Invalid (erasure )?request: /, ''));
      if (err instanceof ErasureConflictError) throw new HttpError(409, err.code, err.message, err.retryable ? { 'retry-after': '60' } : {});
      throw err;
    }
    // A caller learns only about its own requests: whether someone else asked for this person is not its business.
    const told = caller.admin || !started.otherCallers;
    const base = { id: started.workflowId, runId: started.runId, requestId, tenant, links: links(started.workflowId) };
    if (started.replayed)
      return { status: 200, requestId, workflowId, caller: caller.name, tenant, body: { ...base, status: started.runStatus, replayed: true } };
    return {
      status: 202,
      requestId,
      workflowId,
      caller: caller.name,
      tenant,
      body: { ...base, status: 'RUNNING', attached: told && started.attached, ...(started.queued && told ? { queued: true } : {}) },
    };
  }

  async function show(req: IncomingMessage, id: string): Promise<{ status: number; body: unknown; workflowId?: string; caller?: string; tenant?: string }> {
    const caller = authenticate(req);
    if (!isKeyedWorkflowId(id)) {
      throw new HttpError(
        400,
        'invalid_id',
        'the id is the `id` returned by POST /v1/erasures (dsar-, then the tenant and - for a tenant other than default, then 32 hex characters)',
      );
    }
    const tenant = tenantOfWorkflowId(id);
    // Decided from the id alone, before Temporal is asked: the same 403 whether or not such a request
    // exists, and the id already names its tenant, so the caller learns nothing it did not send.
    if (!caller.admin && tenant !== caller.tenant) {
      throw new HttpError(403, 'tenant_forbidden', `this id is of a request for another tenant; this token reads requests of tenant ${caller.tenant} only`);
    }
    const handle = erasureHandle(options.client, id);
    let d;
    try {
      d = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpError(404, 'not_found', 'no erasure with this id');
      throw err;
    }
    const sa = d.typedSearchAttributes;
    // 404, not 403: another caller's request must not even be confirmed to exist.
    if (!caller.admin && !(sa.get(DsarCallers) ?? []).includes(caller.name)) throw new HttpError(404, 'not_found', 'no erasure with this id');
    const memo = d.memo?.[REQUESTS_MEMO];
    const registrations = Array.isArray(memo) ? (memo as RegisteredRequest[]) : undefined;
    const requestIds = caller.admin
      ? (sa.get(DsarRequestIds) ?? [])
      : (registrations ?? []).filter((r) => r.caller === caller.name && r.requestId).map((r) => r.requestId!);
    const view: Record<string, unknown> = {
      id,
      tenant,
      runId: d.runId,
      status: d.status.name,
      phase: sa.get(DsarPhase),
      mode: sa.get(DsarMode),
      deadline: sa.get(DsarDeadline)?.toISOString(),
      atRisk: sa.get(DsarAtRisk) ?? false,
      requestIds,
      startedAt: d.startTime.toISOString(),
      closedAt: d.closeTime?.toISOString(),
      links: links(id),
    };
    if (d.status.name === 'RUNNING') {
      // Progress needs a worker to answer the query; without one the search attributes still tell the phase.
      const status = await withTimeout(handle.query(statusQuery), 5000).catch(() => undefined);
      if (status) view.progress = progressOf(status);
    } else if (d.status.name === 'COMPLETED') {
      view.result = resultOf(await handle.result());
    } else if (d.status.name === 'FAILED') {
      view.failure = await handle.result().then(
        () => undefined,
        (err) => (err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : 'the erasure failed'),
      );
    }
    return { status: 200, body: view, workflowId: id, caller: caller.name, tenant };
  }

  const limits = { ...DEFAULT_INTAKE_LIMITS, ...options.limits };
  const server: Server = createServer(
    {
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts on this interval (default 30 s): keep them close to what they say.
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (req, res) => {
      const started = Date.now();
      let route = 'unknown';
      const done = (status: number, body: unknown, extra: Partial<IntakeLogEntry> = {}, headers: Record<string, string> = {}) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
          res.end(JSON.stringify(body));
        }
        options.log?.({ method: req.method ?? '?', route, status, durationMs: Date.now() - started, ...extra });
      };
      (async () => {
        const target = parseTarget(req.url, '/v1/erasures');
        if (target instanceof HttpError) throw target;
        const match = /^\/v1\/erasures(?:\/([^/]+))?\/?$/.exec(target.path);
        route = target.path === '/healthz' ? '/healthz' : match ? (match[1] ? '/v1/erasures/{id}' : '/v1/erasures') : 'unknown';
        if (route === '/healthz' && req.method === 'GET') return done(200, { status: 'ok' });
        if (!match) throw new HttpError(404, 'not_found', 'unknown path: use POST /v1/erasures or GET /v1/erasures/{id}');
        if (!match[1]) {
          if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'use POST /v1/erasures', { allow: 'POST' });
          const r = await create(req);
          return done(
            r.status,
            r.body,
            { caller: r.caller, tenant: r.tenant, requestId: r.requestId, workflowId: r.workflowId },
            r.status === 202 ? { location: `/v1/erasures/${r.workflowId}` } : {},
          );
        }
        if (req.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'use GET /v1/erasures/{id}', { allow: 'GET' });
        // The id is the third segment of /v1/erasures/{id}, already percent-decoded.
        const r = await show(req, target.segments[2]!);
        return done(r.status, r.body, { caller: r.caller, tenant: r.tenant, workflowId: r.workflowId });
      })()
        .catch((err: unknown) => {
          if (err instanceof HttpError) return done(err.status, { error: err.code, message: err.message }, { error: err.code }, err.headers);
          // Temporal down or a bug: say so without details (they may carry internals), and log the kind.
          const unavailable = (err as { code?: number })?.code === 14 || /UNAVAILABLE|ECONNREFUSED|deadline/i.test(String((err as Error)?.message));
          done(
            unavailable ? 503 : 500,
            { error: unavailable ? 'unavailable' : 'internal', message: unavailable ? 'Temporal is unreachable; try again shortly' : 'internal error' },
            { error: (err as Error)?.name ?? 'Error' },
            unavailable ? { 'retry-after': '5' } : {},
          );
        })
        // Only a throwing `log` gets here: one request's bookkeeping must never take the process down.
        .catch(() => res.destroy());
    },
  );
  server.maxConnections = limits.maxConnections;
  answerUnparsedRequests(server, {
    bodyFor: (status) => ({ error: status === 431 ? 'headers_too_large' : status === 408 ? 'request_timeout' : 'bad_request', message: STATUS_CODES[status] }),
    connectBody: { error: 'method_not_allowed', message: 'use POST /v1/erasures or GET /v1/erasures/{id}' },
    onAnswered: (status, code, method) => options.log?.({ method: method ?? '?', route: method ? 'unknown' : 'unparsed', status, durationMs: 0, error: code }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Principal {
  name: string;
  admin: boolean;
  /** A caller token's tenant; undefined for admin tokens (every tenant). */
  tenant: string | undefined;
}

/**
 * One bucket per caller: `perWindow` tokens, refilled evenly over `windowMs`. In memory, so each
 * intake process counts on its own (N replicas allow N times the rate).
 */
class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token; returns 0, or the seconds until one is available. */
  take(key: string): number {
    const t = this.now();
    const rate = this.perWindow / this.windowMs;
    const b = this.buckets.get(key) ?? { tokens: this.perWindow, at: t };
    b.tokens = Math.min(this.perWindow, b.tokens + (t - b.at) * rate);
    b.at = t;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function links(id: string) {
  return { self: `/v1/erasures/${id}` };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

function progressOf(s: ErasureStatus) {
  return {
    phase: s.phase,
    persons: s.persons.length,
    personsErased: s.persons.filter((p) => p.state === 'erased').length,
    blockingCandidateUids: s.blockingCandidateUids,
    nextCheckAt: s.nextCheckAt,
    atRiskReason: s.atRiskReason,
    attention: s.attention ? { code: s.attention.code, reason: s.attention.reason, nextRetryAt: s.attention.nextRetryAt } : undefined,
  };
}

function resultOf(r: ErasureResult) {
  return {
    outcome: r.outcome,
    mode: r.mode,
    regulation: r.regulation,
    finishedAt: r.finishedAt,
    verifiedAbsentAt: r.verifiedAbsentAt,
    totals: r.totals,
    followUp: r.followUp,
    receipt: r.receipt,
    receiptKeyId: r.receiptKeyId,
  };
}
