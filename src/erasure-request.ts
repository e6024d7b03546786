/**
 * What an erasure request is, as zod schemas: the input callers send and the workflow checks (with
 * its timing knobs and the state a continued run carries), and the attachRequest update's argument.
 * No Node imports: the workflow bundle uses it.
 */
import { z } from 'zod';
import { EXTENSION_RULE, maxExtendedDeadline, REGULATIONS } from './deadlines.js';
import { CALLER_PATTERN, MAX_REQUESTS_PER_RUN } from './requests.js';
import { TENANT_ID_PATTERN, TENANT_ID_RULE } from './tenants/model.js';

export const MODES = ['delete', 'pseudonymize'] as const;
export type Mode = (typeof MODES)[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Timing knobs of the workflow; each has a production default, tests shrink them. */
export const tuningSchema = z
  .object({
    /** Wake this long after the latest scheduled interview (Comeet gives start times, not ends). */
    interviewMarginMs: z
      .number()
      .int()
      .min(0)
      .max(7 * DAY)
      .default(90 * MINUTE),
    /** Back-off when Comeet blocks without a known schedule: first wait, doubled up to the max. */
    backoffInitialMs: z
      .number()
      .int()
      .min(1000)
      .max(7 * DAY)
      .default(HOUR),
    backoffMaxMs: z
      .number()
      .int()
      .min(1000)
      .max(7 * DAY)
      .default(DAY),
    /** How often a request in `needs_attention` retries by itself. */
    attentionRetryMs: z
      .number()
      .int()
      .min(1000)
      .max(7 * DAY)
      .default(4 * HOUR),
    /** Pause before re-reading when Comeet still returns an erased person (eventual consistency). */
    verifyRetryMs: z.number().int().min(0).max(DAY).default(MINUTE),
    /** Re-erasures of a person Comeet keeps returning before the request fails. */
    maxReerasures: z.number().int().min(0).max(10).default(3),
    /** First wait before retrying a callback the caller did not accept (doubling to hourly, for 3 days). */
    callbackRetryMs: z.number().int().min(1000).max(DAY).default(10_000),
    /** Second absent read, later; 0 turns the follow-up off. */
    followUpDelayMs: z
      .number()
      .int()
      .min(0)
      .max(90 * DAY)
      .default(7 * DAY),
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
const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2026-05-01T09:00:00Z' }).refine((v) => {
  const year = new Date(v).getUTCFullYear();
  return year >= 2000 && year <= 2999;
}, 'must be a date between the years 2000 and 2999');

/** How far a caller's clock may run ahead of ours before its receivedAt counts as "in the future". */
const CLOCK_SKEW_MS = 5 * MINUTE;

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

export const callerSchema = z
  .string()
  .regex(CALLER_PATTERN, 'caller must be a name of 1 to 32 characters among a-z, 0-9, _ and - (starting with a letter or digit)');

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
    events: z
      .array(z.object({ at: stamp, kind: z.string().max(64), detail: z.string().max(4000).optional(), actor: z.string().max(128) }).strict())
      .max(MAX_EVENTS),
  })
  .strict();
export type ResumeState = z.output<typeof resumeSchema>;

/** An erasure request; `callbackUrl` is the check the caller or the workflow can run. */
const erasureSchema = (callbackUrl: CallbackUrlCheck) =>
  z
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
        ctx.addIssue({
          code: 'custom',
          path: ['deadline'],
          message: v.receivedAt ? 'deadline must be after receivedAt' : 'deadline must be in the future (or give receivedAt)',
        });
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
