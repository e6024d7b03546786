/**
 * Activities: one Comeet call each (`findCandidatesByEmail`, `verifyAbsence` and
 * `getInterviewSchedules`, kept for runs started before `lookupPage`, page or loop inside). They return the minimum the workflow
 * needs (uids, statuses, interview times; never names or emails) and translate Comeet errors into
 * Temporal failures whose `type` the workflow branches on.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { z } from 'zod';
import {
  ComeetEmailsHiddenError,
  ComeetError,
  ComeetErrorCode,
  ComeetNetworkError,
  ComeetNotFoundError,
  ComeetPermissionError,
  ComeetRateLimitedError,
  ComeetServerError,
  InterviewsInProgressError,
  LOOKUP_STRATEGIES,
  type ComeetCandidate,
  type ComeetClient,
  type LookupPage,
  type LookupProgress,
  type LookupStrategy,
} from '../comeet/index.js';
import { CallbackDeliveryError, deliverCallback, type CallbackSettings } from '../callbacks/deliver.js';
import { InvalidReceiptClaimsError, type ReceiptClaims, type ReceiptSigner } from '../receipt/index.js';
import type { CallbackPayload } from '../callbacks/payload.js';
import type { Mode } from '../erasure-request.js';
import type { ErasedPerson } from '../erasure-status.js';

/** When Comeet says 429 without `Retry-After`, wait a whole rate-limit window. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

export interface InterviewSlot {
  type: string;
  /** ISO time the interview is scheduled for, when Comeet gives one. */
  scheduledAt: string | null;
}

export interface FoundCandidate {
  uid: string;
  personUid: string;
  status: string | null;
  /** Interview steps not completed yet (current and future), which may block erasure. */
  openInterviews: InterviewSlot[];
}

export interface FoundPerson {
  personUid: string;
  candidates: FoundCandidate[];
}

export interface LookupResult {
  persons: FoundPerson[];
}

/** Details carried by an `InterviewsInProgress` failure. */
export interface InterviewsInProgressDetails {
  personUid: string;
  blockingCandidateUids: string[];
}

/** Details carried by a `ComeetNoPermission` or `ComeetEmailsHidden` failure. */
export interface NoPermissionDetails {
  permission: string;
}

export interface ActivityDeps {
  /**
   * The account's client, or how to get it per call: a tenant's comes from the tenant directory, which
   * refuses (before any HTTP call) while the tenant is paused or not live.
   */
  comeet: ComeetClient | (() => Promise<ComeetClient>);
  /** Signs proofs of erasure; the worker refuses to start without one. */
  receipts: ReceiptSigner;
  lookup?: LookupStrategy;
  /** Completion callbacks: signing secrets and allowed hosts. */
  callbacks?: CallbackSettings;
}

/** How often a Comeet activity tells Temporal it is alive (its heartbeat timeout is 30 s). */
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Heartbeats while a Comeet call runs, from HEARTBEAT_EVERY_MS on: if the worker dies, the server
 * times the attempt out after the heartbeat timeout and retries it elsewhere, instead of waiting out
 * the whole start-to-close. That timeout counts from the attempt's start, beat or no beat, so a call
 * that answers sooner (the common one, a tenth of a second) sends none: the SDK sends an activity's
 * first beat at once, and each beat is a write of the request's state on the server, one more per call
 * (RecordActivityTaskHeartbeat was 3% of the dev server's CPU under a tenant's backlog).
 * Every heartbeat carries `details()`: the server keeps only the last one's, so a bare beat would
 * wipe a lookup's checkpoint.
 */
async function withHeartbeat<T>(work: () => Promise<T>, details: () => unknown = () => undefined): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(details()), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * A lost page (5xx, no answer, timeout) is read again inside the attempt, after these pauses, before
 * the attempt fails. Not a 4xx, and not a 429: that one waits for Retry-After through Temporal.
 */
export const PAGE_RETRY_DELAYS_MS = [250, 1000, 2000] as const;

/**
 * What a lookup attempt leaves in its heartbeat details after each page, so the next attempt goes on
 * from the page this one lost. No email: the cursor stands in `{subject}` for it, and the candidates
 * are the fields the workflow gets anyway.
 */
export interface LookupCheckpoint {
  progress: LookupProgress;
  found: FoundCandidate[];
}

const foundCandidateSchema = z.object({
  uid: z.string(),
  personUid: z.string(),
  status: z.string().nullable(),
  openInterviews: z.array(z.object({ type: z.string(), scheduledAt: z.string().nullable() })),
});
const progressSchema = z.object({
  strategy: z.enum(LOOKUP_STRATEGIES),
  next: z.string().nullable(),
  storable: z.literal(true),
  pagesRead: z.number().int().nonnegative(),
  visited: z.array(z.string()),
  seen: z.number().int().nonnegative(),
  withoutEmail: z.number().int().nonnegative(),
});
const checkpointSchema = z.object({ progress: progressSchema, found: z.array(foundCandidateSchema) });
const lookupPageInputSchema = z.object({
  email: z.string().min(1, 'email is required'),
  strategy: z.enum(LOOKUP_STRATEGIES).optional(),
  progress: progressSchema.optional(),
});

export interface LookupPageInput {
  email: string;
  /** Where a new lookup starts; default the worker's configured strategy. Ignored with `progress`. */
  strategy?: LookupStrategy;
  /** The cursor the previous page returned; absent for the first page. */
  progress?: LookupProgress;
  /**
   * The proof of erasure to sign if this page ends a lookup that found nobody (the workflow sends it
   * only while nothing was found): signed where the absence is seen, so a simple erasure needs no
   * signing activity of its own (3 events and a workflow task fewer).
   */
  receipt?: ReceiptDraft;
}

/** A receipt's claims but the two times, which the activity that sees the absence sets. */
export type ReceiptDraft = Omit<ReceiptClaims, 'verifiedAbsentAt' | 'finishedAt'>;

/** The signed proof a lookup returns with its last, empty page. */
export interface SealedAbsence {
  jws: string;
  keyId: string;
  /** Also the receipt's `finishedAt`: the request's work ended when its absence was seen. */
  verifiedAbsentAt: string;
}

export interface LookupPageResult {
  /** The subject's candidates on this page (minimal fields, no emails or names). */
  found: FoundCandidate[];
  /** Where the next page starts; absent once `done`. */
  progress?: LookupProgress;
  done: boolean;
  /** Present when the input asked for it, the lookup found nobody and signing succeeded. */
  receipt?: SealedAbsence;
}

export function createActivities({ comeet: source, receipts, lookup, callbacks }: ActivityDeps) {
  const account = typeof source === 'function' ? source : async () => source;
  async function lookUp(email: string): Promise<LookupResult> {
    const ctx = Context.current();
    const comeet = await account();
    const strategy = lookup ?? comeet.lookup;
    const resumed = readCheckpoint(ctx.info.heartbeatDetails, strategy);
    let progress = resumed?.progress ?? comeet.startLookup(strategy);
    const found = new Map((resumed?.found ?? []).map((f) => [f.uid, f]));
    let checkpoint: LookupCheckpoint | undefined = resumed;
    const resumedAt = progress.pagesRead;
    await withHeartbeat(
      async () => {
        while (progress.next !== null) {
          const page = await callComeet(() => readPage(comeet, email, progress, ctx));
          for (const c of page.matches) if (!found.has(c.uid)) found.set(c.uid, toFound(c));
          progress = page.progress;
          // A cursor that quotes the email stays in memory: a retry then starts again at page 1.
          checkpoint = progress.storable ? { progress, found: [...found.values()] } : undefined;
          ctx.heartbeat(checkpoint);
        }
      },
      () => checkpoint,
    );
    const persons = groupFound([...found.values()]);
    ctx.log.info('Comeet lookup done', { persons: persons.length, candidates: found.size, strategy, pages: progress.pagesRead, resumedAtPage: resumedAt });
    return { persons };
  }

  /**
   * Signs the proof as the lookup that proved absence ends. A signing fault must not fail the lookup:
   * its retry would spend another Comeet call, so the workflow signs through `signReceipt` instead.
   */
  async function sealAbsence(draft: ReceiptDraft, ctx: Context): Promise<SealedAbsence | undefined> {
    // Not before the server scheduled this attempt: a worker clock behind the server's must not date
    // the proof before the request started (the workflow's times are the server's).
    const at = new Date(Math.max(Date.now(), ctx.info.currentAttemptScheduledTimestampMs)).toISOString();
    try {
      const jws = await receipts.sign({ ...draft, verifiedAbsentAt: at, finishedAt: at });
      ctx.log.info('Receipt signed', { workflowId: draft.workflowId, keyId: receipts.keyId, persons: draft.persons.length });
      return { jws, keyId: receipts.keyId, verifiedAbsentAt: at };
    } catch (err) {
      ctx.log.warn('Receipt not signed with the lookup; the workflow signs it on its own', {
        workflowId: draft.workflowId,
        error: err instanceof Error ? err.name : 'unknown',
      });
      return undefined;
    }
  }

  return {
    /**
     * One page of a lookup: exactly one Comeet call, so every page is its own dispatch on the capped
     * queue and the cap holds for a scan too. The workflow carries the cursor; a lost page is retried
     * by Temporal (each retry a dispatch the cap counts), a 429 after its Retry-After.
     */
    async lookupPage(input: LookupPageInput): Promise<LookupPageResult> {
      const ctx = Context.current();
      const comeet = await account();
      const parsed = lookupPageInputSchema.safeParse(input);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw ApplicationFailure.create({
          type: 'InvalidInput',
          nonRetryable: true,
          message: `Invalid lookupPage input at ${first?.path.join('.') || 'input'}: ${first?.message ?? 'unexpected shape'}`,
        });
      }
      const { email } = parsed.data;
      let progress: LookupProgress = parsed.data.progress ?? comeet.startLookup(parsed.data.strategy ?? lookup ?? comeet.lookup);
      const found: FoundCandidate[] = [];
      await withHeartbeat(async () => {
        for (;;) {
          const page = await callComeet(() => comeet.readLookupPage(email, progress, { signal: ctx.cancellationSignal }));
          for (const c of page.matches) found.push(toFound(c));
          progress = page.progress;
          // A cursor quoting the email outside its query cannot go into history: this attempt reads
          // on itself (the one case where a lookup activity makes more than one call).
          if (progress.next === null || progress.storable) return;
          ctx.log.warn('Comeet next_page quotes the subject outside its query; reading the rest in this activity', { page: progress.pagesRead });
        }
      });
      const done = progress.next === null;
      if (!done) return { found, progress, done };
      ctx.log.info('Comeet lookup done', { strategy: progress.strategy, pages: progress.pagesRead, candidates: progress.seen });
      const receipt = found.length === 0 && input.receipt ? await sealAbsence(input.receipt, ctx) : undefined;
      return receipt ? { found, done, receipt } : { found, done };
    },

    /** Fresh interview schedule of one candidate blocking an erasure: one Comeet call. */
    async getCandidateSchedule(input: { candidateUid: string }): Promise<FoundCandidate> {
      const ctx = Context.current();
      const comeet = await account();
      if (typeof input?.candidateUid !== 'string' || input.candidateUid === '') {
        throw ApplicationFailure.create({
          type: 'InvalidInput',
          nonRetryable: true,
          message: 'getCandidateSchedule needs a candidateUid (a non-empty string)',
        });
      }
      return withHeartbeat(async () => toFound(await callComeet(() => comeet.getCandidate(input.candidateUid, { signal: ctx.cancellationSignal }))));
    },

    /** Every candidate of the subject, grouped by person (all pages in one attempt; runs before `lookupPage`). */
    async findCandidatesByEmail(input: { email: string }): Promise<LookupResult> {
      return lookUp(input.email);
    },

    /**
     * The proof step: a fresh lookup after erasure. Same call as the first lookup, named apart so
     * the history and the metrics say which is which.
     */
    async verifyAbsence(input: { email: string }): Promise<LookupResult> {
      return lookUp(input.email);
    },

    /** Deletes or pseudonymizes one person (all of their candidates). 404 means already gone. */
    async erasePerson(input: { personUid: string; mode: Mode }): Promise<ErasedPerson> {
      const ctx = Context.current();
      const comeet = await account();
      try {
        // Not aborted on cancel: a DELETE already sent may land anyway, so the workflow (which waits
        // for an erase's outcome after a cancel) must learn whether it did. The call is short-bounded.
        const r = await withHeartbeat(() => callComeet(() => comeet.erasePerson(input.personUid, input.mode), true));
        ctx.log.info('Person erased', { personUid: input.personUid, mode: input.mode, candidates: r.count });
        return { personUid: input.personUid, candidateUids: r.candidateUids, count: r.count, erasedAt: new Date().toISOString(), alreadyGone: false };
      } catch (err) {
        if (err instanceof AlreadyGone) {
          ctx.log.info('Person already gone', { personUid: input.personUid, mode: input.mode });
          return { personUid: input.personUid, candidateUids: [], count: 0, erasedAt: new Date().toISOString(), alreadyGone: true };
        }
        throw err;
      }
    },

    /** Signs the proof of erasure (a compact JWS) with the worker's receipt key. */
    async signReceipt(claims: ReceiptClaims): Promise<{ jws: string; keyId: string }> {
      try {
        const jws = await receipts.sign(claims);
        Context.current().log.info('Receipt signed', { workflowId: claims.workflowId, keyId: receipts.keyId, persons: claims.persons.length });
        return { jws, keyId: receipts.keyId };
      } catch (err) {
        if (err instanceof InvalidReceiptClaimsError) {
          // The claims will not change on retry; the workflow records why there is no receipt.
          throw ApplicationFailure.create({ type: 'InvalidReceiptClaims', message: err.message, nonRetryable: true });
        }
        throw err;
      }
    },

    /** Fresh interview schedule of the candidates blocking an erasure. */
    async getInterviewSchedules(input: { candidateUids: string[] }): Promise<FoundCandidate[]> {
      const ctx = Context.current();
      const comeet = await account();
      return withHeartbeat(async () => {
        const out: FoundCandidate[] = [];
        for (const uid of input.candidateUids) {
          const c = await callComeet(() => comeet.getCandidate(uid, { signal: ctx.cancellationSignal }));
          out.push(toFound(c));
        }
        return out;
      });
    },

    /** Tells a caller how its request ended: a signed POST to its callback URL. */
    async deliverCallback(input: { url: string; payload: CallbackPayload }): Promise<{ status: number }> {
      const ctx = Context.current();
      try {
        const r = await deliverCallback(callbacks ?? { secrets: [], allowedHosts: [] }, input.url, input.payload, ctx.cancellationSignal);
        ctx.log.info('Callback delivered', { workflowId: input.payload.id, requestId: input.payload.requestId, status: r.status });
        return r;
      } catch (err) {
        if (!(err instanceof CallbackDeliveryError)) throw err;
        ctx.log.warn('Callback not delivered', { workflowId: input.payload.id, requestId: input.payload.requestId, code: err.code, attempt: ctx.info.attempt });
        throw ApplicationFailure.create({ type: err.code, message: err.message, nonRetryable: !err.retryable });
      }
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

class AlreadyGone extends Error {}

/** One page of a lookup, read again a few times when it is lost on the way (see PAGE_RETRY_DELAYS_MS). */
async function readPage(comeet: ComeetClient, email: string, progress: LookupProgress, ctx: Context): Promise<LookupPage> {
  for (let retry = 0; ; retry++) {
    try {
      return await comeet.readLookupPage(email, progress, { signal: ctx.cancellationSignal });
    } catch (err) {
      const lost = err instanceof ComeetServerError || err instanceof ComeetNetworkError;
      const delay = PAGE_RETRY_DELAYS_MS[retry];
      if (!lost || delay === undefined || ctx.cancellationSignal.aborted) throw err;
      ctx.log.info('Comeet page lost; reading it again', { page: progress.pagesRead + 1, retry: retry + 1, code: err.code, delayMs: delay });
      await ctx.sleep(delay);
    }
  }
}

/** The checkpoint a previous attempt left, if it is one and of the same strategy; else a fresh start. */
function readCheckpoint(details: unknown, strategy: LookupStrategy): LookupCheckpoint | undefined {
  if (details === undefined || details === null) return undefined;
  const parsed = checkpointSchema.safeParse(details);
  if (!parsed.success || parsed.data.progress.strategy !== strategy) {
    Context.current().log.warn('Lookup checkpoint ignored; starting at page 1', { reason: parsed.success ? 'another lookup strategy' : 'unexpected shape' });
    return undefined;
  }
  return parsed.data;
}

/** Maps a ComeetError onto an ApplicationFailure with a deliberate retry decision. */
async function callComeet<T>(call: () => Promise<T>, notFoundMeansGone = false): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ComeetError)) throw err;
    if (notFoundMeansGone && err instanceof ComeetNotFoundError) throw new AlreadyGone();
    throw toFailure(err);
  }
}

export function toFailure(err: ComeetError): ApplicationFailure {
  if (err instanceof InterviewsInProgressError) {
    const details: InterviewsInProgressDetails = { personUid: err.personUid, blockingCandidateUids: err.blockingCandidateUids };
    return ApplicationFailure.create({ type: err.code, message: err.message, nonRetryable: true, details: [details] });
  }
  if (err instanceof ComeetPermissionError || err instanceof ComeetEmailsHiddenError) {
    const details: NoPermissionDetails = { permission: err.permission };
    return ApplicationFailure.create({ type: err.code, message: err.message, nonRetryable: true, details: [details] });
  }
  if (err instanceof ComeetRateLimitedError) {
    // Comeet's budget is per minute: retrying sooner than it asks only burns more of it.
    return ApplicationFailure.create({
      type: err.code,
      message: err.message,
      nonRetryable: false,
      nextRetryDelay: err.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS,
    });
  }
  return ApplicationFailure.create({
    type: err.code,
    message: err.message,
    nonRetryable: !err.retryable,
  });
}

function toFound(c: ComeetCandidate): FoundCandidate {
  if (!c.person_uid) {
    // Person-level erasure needs the person; without it we cannot act safely.
    throw ApplicationFailure.create({
      type: ComeetErrorCode.invalidResponse,
      message: `Comeet returned candidate ${c.uid} without a person_uid`,
      nonRetryable: true,
    });
  }
  const open = [...(c.current_steps ?? []), ...(c.future_steps ?? [])].filter((s) => !s.time_completed && /interview/i.test(s.type ?? ''));
  return {
    uid: c.uid,
    personUid: c.person_uid,
    status: c.status ?? null,
    openInterviews: open.map((s) => ({ type: s.type ?? 'Interview', scheduledAt: s.time_scheduled ?? null })),
  };
}

export function groupByPerson(candidates: ComeetCandidate[]): FoundPerson[] {
  return groupFound(candidates.map(toFound));
}

function groupFound(found: FoundCandidate[]): FoundPerson[] {
  const byPerson = new Map<string, FoundCandidate[]>();
  for (const f of found) {
    const list = byPerson.get(f.personUid) ?? [];
    list.push(f);
    byPerson.set(f.personUid, list);
  }
  return [...byPerson.entries()].map(([personUid, cs]) => ({ personUid, candidates: cs }));
}
