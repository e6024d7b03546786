/**
 * What the client, the worker and the workflow agree on: task queue, input and result shapes,
 * phases, search attributes and regulation deadlines. No Node imports: the workflow bundle uses it.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { z } from 'zod';
import { CALLER_PATTERN, MAX_REQUESTS_PER_RUN, type ConflictCode } from './requests.js';
import { DEFAULT_TENANT_ID, TENANT_ID_PATTERN, TENANT_ID_RULE } from './tenants/model.js';

export const DEFAULT_TASK_QUEUE = 'comeet-dsar';
export const WORKFLOW_TYPE = 'dsarErasure';

/**
 * The only ids an erasure runs under: `dsar-` + 32 hex chars of the keyed hash of the subject for the
 * default tenant, `dsar-<tenant>-` + the keyed hash of tenant and subject for any other
 * (client.ts erasureWorkflowId). Group `hash` is what a receipt names. Any other id may carry the email.
 */
export const ERASURE_WORKFLOW_ID = /^dsar-(?:(?<tenant>[a-z][a-z0-9-]{1,30})-)?(?<hash>[0-9a-f]{32})$/;
/** A follow-up runs under its erasure's id + `-follow-up-` + the UTC time it was scheduled. */
export const FOLLOW_UP_WORKFLOW_ID = /^(.+)-follow-up-\d{8}T\d{6}Z$/;

/** True for an erasure id, or with `followUp` for a follow-up id of one. */
export function isKeyedWorkflowId(workflowId: string, kind: 'erasure' | 'followUp' = 'erasure'): boolean {
  if (kind === 'erasure') return validTenantIn(ERASURE_WORKFLOW_ID.exec(workflowId));
  const erasureId = FOLLOW_UP_WORKFLOW_ID.exec(workflowId)?.[1];
  return erasureId !== undefined && validTenantIn(ERASURE_WORKFLOW_ID.exec(erasureId));
}

function validTenantIn(m: RegExpExecArray | null): boolean {
  const tenant = m?.groups?.['tenant'];
  return !!m && (tenant === undefined || (TENANT_ID_PATTERN.test(tenant) && tenant !== DEFAULT_TENANT_ID));
}

/**
 * The tenant an erasure (or its follow-up, or its lookup child) belongs to, read from its id: the id
 * is derived from the tenant, so no input can make a run spend another tenant's budget.
 */
export function tenantOfWorkflowId(workflowId: string): string {
  const own = workflowId.replace(/-lookup-\d+$/, '');
  const erasureId = FOLLOW_UP_WORKFLOW_ID.exec(own)?.[1] ?? own;
  return ERASURE_WORKFLOW_ID.exec(erasureId)?.groups?.['tenant'] ?? DEFAULT_TENANT_ID;
}

/**
 * Every Comeet call runs on its tenant's queue, whose dispatch rate the Temporal server caps (set
 * through UpdateTaskQueueConfig): one budget per Comeet account for all workers, which no restart
 * resets and no other tenant's backlog delays. Derived from the workflow's own queue so a workflow
 * needs no configuration to find it; the default tenant keeps the queue of the single-account setup.
 */
export function comeetTaskQueue(workflowTaskQueue: string, tenant: string = DEFAULT_TENANT_ID): string {
  return tenant === DEFAULT_TENANT_ID ? `${workflowTaskQueue}-comeet` : `${workflowTaskQueue}-comeet-${tenant}`;
}

/**
 * Comeet allows 100 calls per 60 s per account. The server's limiter lets a burst of about two
 * seconds' worth through on top of the rate (measured with `npm run bench`: 1001 calls in the
 * busiest 60 s at a 970/min cap), so 96% keeps rate plus burst under the limit.
 */
export const COMEET_LIMIT_PER_MINUTE = 100;
export const DEFAULT_COMEET_RATE_PER_MINUTE = 96;

/**
 * Task queue priority (1 = first) from the time left to the deadline, so a backlog drains in
 * deadline order: Temporal dispatches by priority key, FIFO within a key.
 */
export function deadlinePriority(deadlineMs: number, nowMs: number): 1 | 2 | 3 | 4 | 5 {
  const daysLeft = (deadlineMs - nowMs) / 86_400_000;
  if (daysLeft <= 3) return 1;
  if (daysLeft <= 7) return 2;
  if (daysLeft <= 14) return 3;
  if (daysLeft <= 21) return 4;
  return 5;
}

export const MODES = ['delete', 'pseudonymize'] as const;
export type Mode = (typeof MODES)[number];
export const REGULATIONS = ['gdpr', 'ccpa'] as const;
export type Regulation = (typeof REGULATIONS)[number];

export const PHASES = [
  'looking_up',
  'waiting_for_interviews',
  'erasing',
  'verifying',
  'completed',
  'no_data',
  'dry_run',
  'needs_attention',
  'failed',
  'cancelled',
] as const;
export type Phase = (typeof PHASES)[number];

/** Custom search attributes; `dsar setup` and dev mode register them on the namespace. */
export const DsarPhase = defineSearchAttributeKey('DsarPhase', SearchAttributeType.KEYWORD);
export const DsarMode = defineSearchAttributeKey('DsarMode', SearchAttributeType.KEYWORD);
export const DsarDeadline = defineSearchAttributeKey('DsarDeadline', SearchAttributeType.DATETIME);
export const DsarAtRisk = defineSearchAttributeKey('DsarAtRisk', SearchAttributeType.BOOL);
/** The callers' request ids joined in this run (idempotency keys of the intake API; never PII). */
export const DsarRequestIds = defineSearchAttributeKey('DsarRequestIds', SearchAttributeType.KEYWORD_LIST);
/** The names of the intake callers (tokens) with a request on this run: reads are scoped by it. */
export const DsarCallers = defineSearchAttributeKey('DsarCallers', SearchAttributeType.KEYWORD_LIST);
/** The tenant (an id such as `acme`, never a name) whose Comeet account the request is for. */
export const DsarTenant = defineSearchAttributeKey('DsarTenant', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = [DsarPhase, DsarMode, DsarDeadline, DsarAtRisk, DsarRequestIds, DsarCallers, DsarTenant] as const;
/** Memo key holding the run's registrations (RegisteredRequest[]), so a closed run answers replays without a worker. */
export const REQUESTS_MEMO = 'dsarRequests';
/**
 * Memo key with how many registrations the run had, set when the memo stopped mirroring every attach
 * (past 25): a registration missing from a memo whose total is larger was left out, not unknown.
 */
export const REQUESTS_MEMO_TOTAL = 'dsarRequestsTotal';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Timing knobs of the workflow; each has a production default, tests shrink them. */
export const tuningSchema = z
  .object({
    /** Wake this long after the latest scheduled interview (Comeet gives start times, not ends). */
    interviewMarginMs: z.number().int().min(0).max(7 * DAY).default(90 * MINUTE),
    /** Back-off when Comeet blocks without a known schedule: first wait, doubled up to the max. */
    backoffInitialMs: z.number().int().min(1000).max(7 * DAY).default(HOUR),
    backoffMaxMs: z.number().int().min(1000).max(7 * DAY).default(DAY),
    /** How often a request in `needs_attention` retries by itself. */
    attentionRetryMs: z.number().int().min(1000).max(7 * DAY).default(4 * HOUR),
    /** Pause before re-reading when Comeet still returns an erased person (eventual consistency). */
    verifyRetryMs: z.number().int().min(0).max(DAY).default(MINUTE),
    /** Re-erasures of a person Comeet keeps returning before the request fails. */
    maxReerasures: z.number().int().min(0).max(10).default(3),
    /** First wait before retrying a callback the caller did not accept (doubling to hourly, for 3 days). */
    callbackRetryMs: z.number().int().min(1000).max(DAY).default(10_000),
    /** Second absent read, later; 0 turns the follow-up off. */
    followUpDelayMs: z.number().int().min(0).max(90 * DAY).default(7 * DAY),
    /** Pages a lookup child reads before it continues as new (bounds its history on a long scan). */
    lookupPagesPerRun: z.number().int().min(2).max(1000).default(200),
    /**
     * A waiting run continues as a new one (same workflow id, its state carried) once its history
     * has this many events, or sooner when Temporal suggests it (near 4,096): 51,200 ends a run.
     */
    continueAfterEvents: z.number().int().min(100).max(40_000).default(2000),
    /** While the tenant is paused, how often a waiting request asks whether it was resumed (a resume also nudges it at once). */
    tenantPauseCheckMs: z.number().int().min(100).max(DAY).default(30_000),
  })
  .strict();
export type Tuning = z.output<typeof tuningSchema>;
export type TuningInput = z.input<typeof tuningSchema>;

// Years are bounded so every derived deadline (up to 3 months later) stays a date Temporal accepts.
const isoDate = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2026-05-01T09:00:00Z' })
  .refine((v) => {
    const year = new Date(v).getUTCFullYear();
    return year >= 2000 && year <= 2999;
  }, 'must be a date between the years 2000 and 2999');

/** How far a caller's clock may run ahead of ours before its receivedAt counts as "in the future". */
const CLOCK_SKEW_MS = 5 * MINUTE;
/** How long each regulation lets a controller take, extensions included (see maxExtendedDeadline). */
export const EXTENSION_RULE: Record<Regulation, string> = {
  gdpr: 'one month, extendable by two further months',
  ccpa: '45 days, extendable once by 45 more',
};

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Where the completion callback goes: https, or http on loopback (tests, a sidecar). The allow-list
 * of hosts (DSAR_CALLBACK_HOSTS) is deployment config, checked by the intake and the worker.
 */
export const callbackUrlSchema = z
  .url({ message: 'callbackUrl must be an absolute URL such as https://privacy.example.com/hooks/dsar', protocol: /^https?$/ })
  .max(2048, 'callbackUrl is longer than 2048 characters')
  // zod runs these even when the URL check failed: parse defensively, leaving that error alone.
  .refine((u) => {
    const url = URL.canParse(u) ? new URL(u) : undefined;
    return !url || url.protocol === 'https:' || LOOPBACK_HOSTS.has(url.hostname);
  }, 'callbackUrl must use https (http only for localhost)')
  .refine((u) => {
    const url = URL.canParse(u) ? new URL(u) : undefined;
    return !url || (!url.username && !url.password);
  }, 'callbackUrl must not carry credentials: the callback is signed instead');

/** Whether a callback host is allowed by a DSAR_CALLBACK_HOSTS list (empty list: any host). */
export function callbackHostAllowed(url: string, allowedHosts: readonly string[]): boolean {
  if (!allowedHosts.length) return true;
  const host = new URL(url).hostname.toLowerCase();
  return allowedHosts.some((h) => host === h || (h.startsWith('.') && host.endsWith(h)));
}

export const requestIdSchema = z
  .string()
  .trim()
  .min(1)
  .max(128, 'requestId is longer than 128 characters')
  .regex(/^[\w.:/-]+$/, 'requestId may only contain letters, digits and . _ : / -');

/**
 * The workflow's own check of a callback URL: a bounded http(s) string, tested with a regex only.
 * The full check (callbackUrlSchema, on the host's WHATWG URL) runs where requests come in and in
 * the worker before each delivery; inside the workflow it would tie replay to the Node version, whose
 * URL parser may accept or refuse an input differently after an upgrade and so change the history.
 */
const workflowCallbackUrlSchema = z
  .string({ message: 'callbackUrl must be an absolute URL such as https://privacy.example.com/hooks/dsar' })
  .max(2048, 'callbackUrl is longer than 2048 characters')
  .regex(/^https?:\/\/[^\s/?#]+\S*$/i, 'callbackUrl must be an absolute URL such as https://privacy.example.com/hooks/dsar');

/** 32 hex characters, random per startErasure call: never derived from the request. */
const startTokenSchema = z.string().regex(/^[0-9a-f]{32}$/, 'startToken must be 32 hex characters');

export const callerSchema = z.string().regex(CALLER_PATTERN, 'caller must be a name of 1 to 32 characters among a-z, 0-9, _ and - (starting with a letter or digit)');

type CallbackUrlCheck = typeof callbackUrlSchema | typeof workflowCallbackUrlSchema;

/** A registration carried into the run a dry run continues as (see `requests.ts`). */
const registrationSchema = (callbackUrl: CallbackUrlCheck) =>
  z
    .object({
      requestId: requestIdSchema.optional(),
      caller: callerSchema.optional(),
      mode: z.enum(MODES),
      regulation: z.enum(REGULATIONS),
      dryRun: z.boolean(),
      callbackUrl: callbackUrl.optional(),
      receivedAt: z.string().max(64).optional(),
      deadline: z.string().max(64).optional(),
      callback: z.enum(['pending', 'delivered', 'failed']).optional(),
      callbackError: z.string().max(2000).optional(),
      queued: z.boolean().optional(),
      legacy: z.boolean().optional(),
    })
    .strict();
export type CarriedRegistration = z.output<ReturnType<typeof registrationSchema>>;

const uid = z.string().max(128);
const stamp = z.string().max(64);
/** A person as a continued run carries it: what it needs to go on waiting, never a name or email. */
const carriedPersonSchema = z
  .object({
    personUid: uid,
    candidateUids: z.array(uid).max(500),
    state: z.enum(['pending', 'blocked', 'erasing', 'erased', 'failed']),
    blockingCandidateUids: z.array(uid).max(500),
    nextCheckAt: stamp.optional(),
    attempts: z.number().int().min(0),
    erasedAt: stamp.optional(),
    erasedCandidateUids: z.array(uid).max(500).optional(),
    alreadyGone: z.boolean().optional(),
    candidates: z
      .array(
        z
          .object({
            uid,
            personUid: uid,
            status: z.string().max(64).nullable(),
            openInterviews: z.array(z.object({ type: z.string().max(128), scheduledAt: stamp.nullable() }).strict()).max(100),
          })
          .strict(),
      )
      .max(500),
    firstBlockedAt: z.number().optional(),
    expectedClearAt: z.number().optional(),
    backoffStep: z.number().int().min(0).max(64),
    blockedBefore: z.boolean().optional(),
  })
  .strict();
/** Most persons one subject's email finds in practice is a handful; a continued run carries at most this many. */
export const MAX_CARRIED_PERSONS = 200;
/** The last status events a run keeps (and carries when it continues). */
export const MAX_EVENTS = 100;
const resumeSchema = z
  .object({
    /** Runs before this one in the chain of continued runs. */
    runsContinued: z.number().int().min(1).max(1_000_000),
    startedAt: stamp,
    stage: z.enum(['looking_up', 'handling', 'verifying']),
    /** Re-erasure rounds of verification already done. */
    round: z.number().int().min(0).max(10),
    persons: z.array(carriedPersonSchema).max(MAX_CARRIED_PERSONS),
    attention: z
      .object({ code: z.string().max(128), reason: z.string().max(4000), permission: z.string().max(128).optional(), since: stamp, nextRetryAt: stamp })
      .strict()
      .optional(),
    lookups: z.number().int().min(0),
    eraseAttempts: z.number().int().min(0),
    events: z.array(z.object({ at: stamp, kind: z.string().max(64), detail: z.string().max(4000).optional(), actor: z.string().max(128) }).strict()).max(MAX_EVENTS),
  })
  .strict();
export type ResumeState = z.output<typeof resumeSchema>;

/** An erasure request; `callbackUrl` is the check the caller or the workflow can run. */
const erasureSchema = (callbackUrl: CallbackUrlCheck) => z
  .object({
    /** Whose Comeet account; default the single-account setup (`default`, from COMEET_* variables). */
    tenant: z.string({ error: 'tenant must be a string' }).regex(TENANT_ID_PATTERN, TENANT_ID_RULE).optional(),
    email: z
      .string({ error: (i) => (i.input === undefined ? 'email is required' : 'email must be a string') })
      .trim()
      .max(254, 'email is longer than 254 characters')
      .pipe(z.email({ message: 'email is not a valid email address' })),
    mode: z.enum(MODES, { message: 'mode must be "delete" or "pseudonymize"' }).default('delete'),
    requestId: requestIdSchema.optional(),
    regulation: z.enum(REGULATIONS, { message: 'regulation must be "gdpr" or "ccpa"' }).default('gdpr'),
    receivedAt: isoDate.optional(),
    deadline: isoDate.optional(),
    dryRun: z.boolean().default(false),
    /** Called (signed, retried durably) when the request ends. */
    callbackUrl: callbackUrl.optional(),
    tuning: tuningSchema.partial().optional(),
    /** Who asked (the intake token's name); recorded on events and the DsarCallers search attribute. */
    caller: callerSchema.optional(),
    /** Registrations of the run this run continues (set by the workflow itself, not by callers). */
    requests: z.array(registrationSchema(callbackUrl)).max(MAX_REQUESTS_PER_RUN).optional(),
    /** Set by startErasure, and sent again with its attachRequest update: how the run tells its own start from a twin request. */
    startToken: startTokenSchema.optional(),
    /** Where the run this one continues stopped, when its history grew long (set by the workflow itself). */
    resume: resumeSchema.optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    // Date.now() is the caller's clock in clients and the task's (deterministic) time in the workflow.
    const now = Date.now();
    const received = v.receivedAt ? Date.parse(v.receivedAt) : now;
    if (v.receivedAt && received > now + CLOCK_SKEW_MS) {
      ctx.addIssue({ code: 'custom', path: ['receivedAt'], message: 'receivedAt is in the future: it is when the data subject made the request' });
    }
    if (!v.deadline) return;
    const deadline = Date.parse(v.deadline);
    if (deadline <= received) {
      ctx.addIssue({ code: 'custom', path: ['deadline'], message: v.receivedAt ? 'deadline must be after receivedAt' : 'deadline must be in the future (or give receivedAt)' });
      return;
    }
    const regulation = v.regulation ?? 'gdpr';
    const max = maxExtendedDeadline(regulation, new Date(received)).getTime();
    if (deadline > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['deadline'],
        message: `deadline is later than ${regulation.toUpperCase()} allows (${new Date(max).toISOString()}: ${EXTENSION_RULE[regulation]} after receivedAt)`,
      });
    }
  });
/** What callers (client, CLI, intake) check before starting an erasure: the full callback URL check. */
export const erasureRequestSchema = erasureSchema(callbackUrlSchema);
/** What the workflow checks of its input: the same rules, but nothing that depends on the host (see workflowCallbackUrlSchema). */
export const erasureInputSchema = erasureSchema(workflowCallbackUrlSchema);
export type ErasureInput = z.input<typeof erasureInputSchema>;
export type ParsedErasureInput = z.output<typeof erasureInputSchema>;

/** Turns zod issues into one line that says what to fix, without echoing the values. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : 'input';
      if (i.code === 'unrecognized_keys') {
        // Only name keys that look like field names: a key may itself be personal data.
        const named = i.keys.filter((k) => /^[A-Za-z_][\w-]{0,63}$/.test(k));
        const others = i.keys.length - named.length;
        return `unknown field(s): ${[...named, ...(others ? [`${others} other(s)`] : [])].join(', ')}`;
      }
      return i.message.startsWith(String(i.path[0] ?? '\u0000')) ? i.message : `${where}: ${i.message}`;
    })
    .join('; ');
}

/** Adds calendar months in UTC, clamping to the month's last day (31 Jan + 1 month = 28/29 Feb). */
export function addMonths(date: Date, months: number): Date {
  const d = new Date(date.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, lastDay));
  return d;
}

/**
 * GDPR art. 12(3): one month from receipt, extendable by two further months. CCPA (Cal. Civ. Code
 * 1798.130): 45 days, extendable once by another 45.
 */
export function regulationDeadline(regulation: Regulation, receivedAt: Date): Date {
  return regulation === 'gdpr' ? addMonths(receivedAt, 1) : new Date(receivedAt.getTime() + 45 * DAY);
}
export function maxExtendedDeadline(regulation: Regulation, receivedAt: Date): Date {
  return regulation === 'gdpr' ? addMonths(receivedAt, 3) : new Date(receivedAt.getTime() + 90 * DAY);
}

/**
 * The deadline that orders a request on the shared Comeet budget: never earlier than the
 * regulation's own deadline, so a caller cannot buy top priority by sending an early `deadline`.
 */
export function priorityDeadline(regulation: Regulation, receivedAt: Date, deadline: Date): Date {
  return new Date(Math.max(deadline.getTime(), regulationDeadline(regulation, receivedAt).getTime()));
}

export type PersonState = 'pending' | 'blocked' | 'erasing' | 'erased' | 'failed';

export interface PersonStatus {
  personUid: string;
  candidateUids: string[];
  state: PersonState;
  blockingCandidateUids: string[];
  /** When the workflow re-checks a blocked person by itself. */
  nextCheckAt?: string;
  /** Erase calls made for this person (blocked ones included). */
  attempts: number;
  erasedAt?: string;
  erasedCandidateUids?: string[];
  alreadyGone?: boolean;
}

export interface StatusEvent {
  at: string;
  kind: string;
  detail?: string;
  /** Who sent an operator message; `workflow` for the workflow's own steps. */
  actor: string;
}

export interface Attention {
  /** Failure type, e.g. `ComeetNoPermission`. */
  code: string;
  reason: string;
  /** The Comeet permission to grant, by its name in Comeet's settings. */
  permission?: string;
  since: string;
  nextRetryAt: string;
}

export interface ErasureStatus {
  phase: Phase;
  mode: Mode;
  regulation: Regulation;
  dryRun: boolean;
  requestId?: string;
  receivedAt: string;
  deadline: string;
  atRisk: boolean;
  atRiskReason?: string;
  persons: PersonStatus[];
  blockingCandidateUids: string[];
  nextCheckAt?: string;
  attention?: Attention;
  lookups: number;
  eraseAttempts: number;
  events: StatusEvent[];
  failure?: string;
  cancellation?: { reason: string; actor: string; at: string };
  /** Callers who asked for this request, and the state of their callbacks. */
  requests?: RequestRegistration[];
  /** How many times the request went on in a new run (continue-as-new) because its history grew long. */
  runsContinued?: number;
  /** The tenant whose account the request is for (`default`: the single-account setup). */
  tenant?: string;
  /** The tenant is paused: nothing is called until it resumes. */
  tenantPaused?: boolean;
}

export interface ErasedPerson {
  personUid: string;
  candidateUids: string[];
  count: number;
  erasedAt: string;
  /** Comeet answered 404: already gone before our call (a retry of ours, or someone else). */
  alreadyGone: boolean;
}

export type Outcome = 'completed' | 'no_data' | 'dry_run' | 'cancelled';

/** The workflow's result. It never contains the email. */
export interface ErasureResult {
  outcome: Outcome;
  requestId?: string;
  mode: Mode;
  regulation: Regulation;
  /** Set by runs recorded since requests carry it (older results: a dry run is outcome dry_run or no_data). */
  dryRun?: boolean;
  receivedAt: string;
  deadline: string;
  startedAt: string;
  finishedAt: string;
  /** When a lookup last found none of the subject's candidates. */
  verifiedAbsentAt?: string;
  persons: ErasedPerson[];
  /** dry run: who would be erased. */
  wouldErase?: { personUid: string; candidateUids: string[] }[];
  totals: { persons: number; candidates: number };
  lookups: number;
  eraseAttempts: number;
  followUp?: { workflowId: string; at: string };
  cancellation?: { reason: string; actor: string; at: string };
  /** Proof of erasure (completed and no_data): a compact JWS; check it with `dsar verify-receipt`. */
  receipt?: string;
  receiptKeyId?: string;
}

/**
 * A caller's request for a person, sent to the run with update-with-start (`attachRequest`). The old
 * signal of that name carried only requestId and callbackUrl: missing parameters mean the run's own.
 */
export const attachRequestSchema = z
  .object({
    requestId: requestIdSchema.optional(),
    // The workflow's check (scheme, length); the full one ran in the client, and the worker's runs at delivery.
    callbackUrl: workflowCallbackUrlSchema.optional(),
    caller: callerSchema.optional(),
    mode: z.enum(MODES, { message: 'mode must be "delete" or "pseudonymize"' }).optional(),
    regulation: z.enum(REGULATIONS, { message: 'regulation must be "gdpr" or "ccpa"' }).optional(),
    dryRun: z.boolean({ message: 'dryRun must be true or false' }).optional(),
    receivedAt: isoDate.optional(),
    deadline: isoDate.optional(),
    startToken: startTokenSchema.optional(),
  })
  .strict();
export type AttachRequest = z.input<typeof attachRequestSchema>;

/** The run's answer to `attachRequest`. */
export interface AttachAnswer {
  /** started: this request started the run; queued: it runs after the dry run under way, under the same id. */
  status: 'started' | 'attached' | 'replayed' | 'queued';
  runId: string;
  /** Whether the run carries requests of other callers (the intake tells a caller only about its own). */
  otherCallers: boolean;
}

/** What the attach update's validator throws when it refuses: ApplicationFailure `type` is the code. */
export interface RequestRefusalDetails {
  code: ConflictCode;
  retryable: boolean;
}

/** One caller's interest in a request: told of the outcome at `callbackUrl`, when given. */
export interface RequestRegistration {
  requestId?: string;
  caller?: string;
  mode?: Mode;
  regulation?: Regulation;
  dryRun?: boolean;
  /** Waiting for the dry run under way; this run continues as it. */
  queued?: boolean;
  /** Present only inside the workflow; the status query says only whether there is one. */
  hasCallback: boolean;
  callback?: 'pending' | 'delivered' | 'failed';
  callbackError?: string;
}

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

export interface CancelRequest {
  reason: string;
  actor?: string;
}
/** The answer of the `cancel` update once accepted (a refusal is the update's failure). */
export interface CancelResult {
  cancelled: true;
  reason: string;
  actor: string;
  at: string;
}
export interface RecheckRequest {
  actor?: string;
}
export interface ExtendDeadlineRequest {
  deadline: string;
  reason?: string;
  actor?: string;
}

export interface FollowUpInput {
  email: string;
  mode: Mode;
  regulation: Regulation;
  requestId?: string;
  /** The erasure's workflow id; a reappearance starts a new erasure under it. */
  erasureWorkflowId: string;
  delayMs: number;
  tuning?: TuningInput;
  /**
   * Carried to a re-erasure so it keeps the original request's clock and tells its caller (absent in
   * follow-ups scheduled before they were added: the re-erasure then starts a fresh clock, as before).
   */
  receivedAt?: string;
  deadline?: string;
  callbackUrl?: string;
}
export interface FollowUpResult {
  checkedAt: string;
  reappeared: boolean;
  personUids: string[];
  erasureStarted?: string;
  /** The re-erasure's outcome, or `already_running` when a request for the person was under way. */
  erasureOutcome?: Outcome | 'already_running';
}
