/**
 * What an erasure request is, as zod schemas: the input callers send and the workflow checks (with
 * its timing knobs and the state a continued run carries), and the attachRequest update's argument.
 * Callers (client, CLI, intake) parse with it; the workflow does not import it (zod costs each
 * workflow ~0.8 MB in the sandbox): workflows/input-guard.ts applies the same rules from erasure-rules.ts.
 */
import { z } from 'zod';
import { REGULATIONS } from './deadlines.js';
import {
  CALLBACK_URL_MAX,
  CALLBACK_URL_MESSAGE,
  CALLER_RULE,
  EMAIL_MAX,
  ISO_DATE_RULE,
  ISO_YEAR_RULE,
  isoYearInRange,
  MAX_CARRIED_PERSONS,
  MAX_EVENTS,
  MODE_RULE,
  MODES,
  REGULATION_RULE,
  REQUEST_ID_MAX,
  REQUEST_ID_PATTERN,
  REQUEST_ID_RULE,
  requestDateIssues,
  START_TOKEN_PATTERN,
  START_TOKEN_RULE,
  TUNING_KEYS,
  TUNING_RULES,
  type TuningKey,
  type TuningRule,
  WORKFLOW_CALLBACK_URL_PATTERN,
} from './erasure-rules.js';
import { CALLER_PATTERN, MAX_REQUESTS_PER_RUN } from './requests.js';
import { TENANT_ID_PATTERN, TENANT_ID_RULE } from './tenants/model.js';

export { MODES, MAX_CARRIED_PERSONS, MAX_EVENTS, type Mode } from './erasure-rules.js';

/** One timing knob: its limits and default come from TUNING_RULES (shared with the workflow's guard). */
const knob = (r: TuningRule) => z.number().int().min(r.min).max(r.max).default(r.default);

/** Timing knobs of the workflow (see TUNING_RULES for what each does). */
export const tuningSchema = z
  .object(Object.fromEntries(TUNING_KEYS.map((k) => [k, knob(TUNING_RULES[k])])) as { [K in TuningKey]: ReturnType<typeof knob> })
  .strict();
export type Tuning = z.output<typeof tuningSchema>;
export type TuningInput = z.input<typeof tuningSchema>;

const isoDate = z.iso.datetime({ offset: true, message: ISO_DATE_RULE }).refine(isoYearInRange, ISO_YEAR_RULE);

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
  .max(REQUEST_ID_MAX, `requestId is longer than ${REQUEST_ID_MAX} characters`)
  .regex(REQUEST_ID_PATTERN, REQUEST_ID_RULE);

/** The workflow's own check of a callback URL (see WORKFLOW_CALLBACK_URL_PATTERN): the guard in the workflow applies the same. */
const workflowCallbackUrlSchema = z
  .string({ message: CALLBACK_URL_MESSAGE })
  .max(CALLBACK_URL_MAX, `callbackUrl is longer than ${CALLBACK_URL_MAX} characters`)
  .regex(WORKFLOW_CALLBACK_URL_PATTERN, CALLBACK_URL_MESSAGE);

const startTokenSchema = z.string().regex(START_TOKEN_PATTERN, START_TOKEN_RULE);

export const callerSchema = z.string().regex(CALLER_PATTERN, CALLER_RULE);

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
        .max(EMAIL_MAX, `email is longer than ${EMAIL_MAX} characters`)
        .pipe(z.email({ message: 'email is not a valid email address' })),
      mode: z.enum(MODES, { message: MODE_RULE }).default('delete'),
      requestId: requestIdSchema.optional(),
      regulation: z.enum(REGULATIONS, { message: REGULATION_RULE }).default('gdpr'),
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
      for (const i of requestDateIssues(v, Date.now())) ctx.addIssue({ code: 'custom', path: [i.field], message: i.message });
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
    mode: z.enum(MODES, { message: MODE_RULE }).optional(),
    regulation: z.enum(REGULATIONS, { message: REGULATION_RULE }).optional(),
    dryRun: z.boolean({ message: 'dryRun must be true or false' }).optional(),
    receivedAt: isoDate.optional(),
    deadline: isoDate.optional(),
    startToken: startTokenSchema.optional(),
  })
  .strict();
export type AttachRequest = z.input<typeof attachRequestSchema>;
