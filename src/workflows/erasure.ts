/**
 * The DSAR erasure state machine: look up → wait for interviews → erase → verify, per person,
 * durable across restarts, steerable by operators through the messages defined at the top.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ContinueAsNew,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  log,
  makeContinueAsNewFunc,
  patched,
  setCurrentDetails,
  setHandler,
  setWorkflowOptions,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { isUnencrypted, NOT_ENCRYPTED, unencryptedStartFailure } from '../codec/unencrypted.js';
import { boundedKeywords, compareRequest, type Decision, type RegisteredRequest } from '../requests.js';
import type { FoundCandidate, FoundPerson, NoPermissionDetails } from '../activities/index.js';
import { groupByPerson, pagedLookup } from './lookup.js';
import { callbackActivities, comeetActivities, signingActivities, tenantState } from './activity-profiles.js';
import { interviewBlock, invalidWorkflowIdFailure, refusal } from './failures.js';
import { workflowMetrics } from './metrics.js';
import { receiptClaims } from './receipt-claims.js';
import { dsarFollowUp } from './follow-up.js';
import { CANCEL_CALLBACK_PATCH, CONTINUE_PATCH, LOOKUP_PAGES_PATCH, RECEIPT_PATCH, REQUESTS_MEMO_PATCH, versioned } from './versioning.js';
import { DEFAULT_TENANT_ID, TENANT_PAUSED } from '../tenants/model.js';
import type { CallbackPayload } from '../callbacks/payload.js';
import { maxExtendedDeadline, regulationDeadline } from '../deadlines.js';
import { describeIssues } from '../describe-issues.js';
import type { AttachAnswer, CancelRequest, CancelResult, ExtendDeadlineRequest, RecheckRequest } from '../erasure-messages.js';
import type { AttachRequest, ErasureInput, ResumeState } from '../erasure-request.js';
import { MAX_EVENTS } from '../erasure-rules.js';
import { checkAttachRequest, checkErasureInput, tuningOf } from './input-guard.js';
import type {
  Attention,
  ErasedPerson,
  ErasureResult,
  ErasureStatus,
  Outcome,
  Phase,
  PersonStatus,
  RequestRegistration,
  StatusEvent,
} from '../erasure-status.js';
import type { FollowUpInput } from '../follow-up.js';
import { deadlinePriority, priorityDeadline } from '../priorities.js';
import { DsarAtRisk, DsarCallers, DsarDeadline, DsarMode, DsarPhase, DsarRequestIds, REQUESTS_MEMO, REQUESTS_MEMO_TOTAL } from '../search-attributes.js';
import { ERASURE_WORKFLOW_ID, isKeyedWorkflowId, tenantOfWorkflowId } from '../workflow-ids.js';

// ---------------------------------------------------------------------------------------------
// Messages (their names are part of the product: operators type them in the UI and the CLI)
// ---------------------------------------------------------------------------------------------

/** Everything an operator needs to know about a request, without the subject's email. */
export const statusQuery = defineQuery<ErasureStatus>('status');
/** Re-check a waiting request now instead of at its next scheduled time. */
export const recheckNowSignal = defineSignal<[RecheckRequest?]>('recheckNow');
/**
 * Stop a request that has not erased anything yet. The update (what our client and CLI send) answers
 * at once whether it was accepted; a refusal leaves no trace in history. The signal of the same name
 * (signals and updates are separate namespaces) stays for older callers; it records a refusal in the
 * events instead.
 */
export const cancelUpdate = defineUpdate<CancelResult, [CancelRequest]>('cancel');
export const cancelSignal = defineSignal<[CancelRequest]>('cancel');
/**
 * An update, not a signal: the operator must learn at once whether the new deadline was accepted
 * (later than the current one, within what the regulation allows), and a refused one must leave
 * no trace in history.
 */
export const extendDeadlineUpdate = defineUpdate<string, [ExtendDeadlineRequest]>('extendDeadline');
/**
 * A caller asks for this person (startErasure sends it with update-with-start, so it also reaches a
 * run it has just started). The validator applies the rules of `requests.ts`: a replay, a join, a
 * real request queued behind a dry run, or a refusal the caller hears at once (a refused update
 * leaves no trace in history).
 */
export const attachRequestUpdate = defineUpdate<AttachAnswer, [AttachRequest]>('attachRequest');
/** The earlier, fire-and-forget form of `attachRequest`; kept for clients that still send it, under the same rules. */
export const attachRequestSignal = defineSignal<[AttachRequest]>('attachRequest');

// ---------------------------------------------------------------------------------------------
// Versioning behaviour under Worker Versioning (used when the worker runs with DSAR_BUILD_ID)
// ---------------------------------------------------------------------------------------------

// An erasure waits weeks for interviews: pinned, it would keep every old build alive until it ends
// and never get a fix. It moves to each new current build at its next task, so a change to its
// command sequence must be guarded with patched() and replayed against the recorded histories.
setWorkflowOptions(() => versioned('AUTO_UPGRADE'), dsarErasure);

const ATTENTION_FREE_TYPES = new Set(['InterviewsInProgress']);
/** Registrations mirrored into the memo on every attach (the bound before floods were allowed); past it, once at the end. */
const MEMO_EAGER_REQUESTS = 25;
/**
 * The closing memo stays under the server's 512 KB payload warning (2 MB refuses): 1,024 registrations
 * of which 100 with a 2 KiB callback URL fit, so every id of a closed run still answers its replays.
 */
const MAX_MEMO_BYTES = 480 * 1024;

/** Thrown inside the workflow when an operator's `cancel` was accepted. */
class CancelRequested extends Error {}
/** Thrown out of every parked wait at once when the run continues as a new one. */
class ContinueRequested extends Error {}

interface PersonRecord extends PersonStatus {
  candidates: FoundCandidate[];
  firstBlockedAt?: number;
  /** When the known interview schedule should let Comeet erase the person. */
  expectedClearAt?: number;
  backoffStep: number;
  /** Blocked before in the current round: a new block means the known schedule is stale. */
  blockedBefore?: boolean;
}

/** Erases one person from Comeet on request (GDPR/CCPA), waiting out interviews and proving absence. */
export async function dsarErasure(rawInput: ErasureInput): Promise<ErasureResult> {
  if (isUnencrypted(rawInput)) throw unencryptedStartFailure();
  if (!isKeyedWorkflowId(workflowInfo().workflowId)) throw invalidWorkflowIdFailure();
  const parsed = checkErasureInput(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: `Invalid erasure request: ${describeIssues(parsed.error)}` });
  }
  const input = parsed.data;
  // The id names the tenant (and so the queue, the budget and the account): an input saying otherwise is a mistake.
  const tenant = tenantOfWorkflowId(workflowInfo().workflowId);
  if ((input.tenant ?? DEFAULT_TENANT_ID) !== tenant) {
    throw ApplicationFailure.create({
      type: 'InvalidInput',
      nonRetryable: true,
      message:
        'Invalid erasure request: its tenant is not the one its workflow id was derived for; start it with startErasure, dsar erase --tenant or the intake',
    });
  }
  const tuning = tuningOf(input.tuning);
  const info = workflowInfo();
  // A run continued from a long history goes on from where the chain stopped: same clock, same counts.
  const resume = input.resume;
  const startedAt = resume ? new Date(resume.startedAt) : new Date();
  const receivedAt = input.receivedAt ? new Date(input.receivedAt) : startedAt;
  let deadline = input.deadline ? new Date(input.deadline) : regulationDeadline(input.regulation, receivedAt);

  const persons = new Map<string, PersonRecord>((resume?.persons ?? []).map((p) => [p.personUid, { ...p }]));
  const events: StatusEvent[] = resume ? resume.events.map((e) => ({ ...e })) : [];
  let stage: 'looking_up' | 'handling' | 'verifying' = resume?.stage ?? 'looking_up';
  let terminal: Phase | undefined;
  let attention: Attention | undefined = resume?.attention ? { ...resume.attention } : undefined;
  let cancellation: ErasureStatus['cancellation'];
  let failure: string | undefined;
  let recheckSeq = 0;
  let tenantPaused = false;
  let lookups = resume?.lookups ?? 0;
  let eraseAttempts = resume?.eraseAttempts ?? 0;
  const runsContinued = resume?.runsContinued ?? 0;
  // The verification round the run is in (a resumed run starts its verification there).
  let round = resume?.round ?? 0;
  let published: { phase: Phase; atRisk: boolean; deadline: number } | undefined;
  // Continue-as-new happens only when every strand of work (the main path, or each person handled in
  // parallel) is parked in a wait it can resume from: never with an activity in flight.
  let strands = 1;
  let parked = 0;
  let continuing = false;
  let continueRefused = false;
  type Registration = RegisteredRequest & Omit<RequestRegistration, keyof RegisteredRequest>;
  const own = { mode: input.mode, regulation: input.regulation, dryRun: input.dryRun };
  const requests: Registration[] = input.requests
    ? input.requests.map((r) => ({ ...r, hasCallback: !!r.callbackUrl }) as Registration)
    : input.requestId || input.callbackUrl || input.caller
      ? [{ requestId: input.requestId, caller: input.caller, callbackUrl: input.callbackUrl, ...own, hasCallback: !!input.callbackUrl }]
      : [];
  // The request that started this run answers `started` to its own attachRequest; a continued run was confirmed before.
  let starterConfirmed = !!input.requests;
  // Set just before a dry run decides whether to continue as a queued real request: nothing may queue after.
  let closing = false;
  // Made per call: the priority follows the deadline, which an operator may extend.
  const reads = () => comeetActivities('read', priorityDeadline(input.regulation, receivedAt, deadline).getTime());
  const readPriority = () => deadlinePriority(priorityDeadline(input.regulation, receivedAt, deadline).getTime(), Date.now());
  // Lookup children started by this run; their ids must come out the same on replay.
  let lookupChildren = 0;
  const erases = () => comeetActivities('erase', priorityDeadline(input.regulation, receivedAt, deadline).getTime());

  const now = () => Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();

  function addEvent(kind: string, detail?: string, actor: unknown = 'workflow'): void {
    // The actor comes from operators' messages: a name, whatever was sent.
    events.push({ at: iso(now()), kind, detail, actor: typeof actor === 'string' ? actor.slice(0, 100) : 'unknown' });
    if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
  }

  function phase(): Phase {
    if (terminal) return terminal;
    if (attention) return 'needs_attention';
    if (stage !== 'handling') return stage;
    const states = [...persons.values()].map((p) => p.state);
    if (states.some((s) => s === 'blocked') && !states.some((s) => s === 'erasing' || s === 'pending')) return 'waiting_for_interviews';
    return 'erasing';
  }

  function atRiskReason(): string | undefined {
    if (terminal && terminal !== 'failed') return undefined;
    const d = deadline.getTime();
    if (now() >= d) return `the deadline ${iso(d)} has passed`;
    const late = [...persons.values()].filter((p) => p.state === 'blocked' && p.expectedClearAt !== undefined && p.expectedClearAt > d);
    if (late.length) {
      const latest = Math.max(...late.map((p) => p.expectedClearAt ?? 0));
      return `interviews keep person(s) ${late.map((p) => p.personUid).join(', ')} blocked until about ${iso(latest)}, after the deadline ${iso(d)}`;
    }
    return undefined;
  }

  function erasureStarted(): boolean {
    return [...persons.values()].some((p) => p.state === 'erasing' || p.state === 'erased');
  }

  function nextCheckAt(): string | undefined {
    const times = [...persons.values()].map((p) => p.nextCheckAt).filter((t): t is string => !!t);
    if (attention) times.push(attention.nextRetryAt);
    return times.sort()[0];
  }

  /** Publishes the derived phase to search attributes and the UI's current details when it changes. */
  function sync(): void {
    const p = phase();
    const risk = atRiskReason();
    const next = { phase: p, atRisk: risk !== undefined, deadline: deadline.getTime() };
    if (published && published.phase === next.phase && published.atRisk === next.atRisk && published.deadline === next.deadline) return;
    // The run this one continues told its phase already (the events are carried).
    const told = published === undefined && resume !== undefined;
    if (!told && published?.phase !== p) addEvent('phase', p);
    if (!told && risk !== undefined && !published?.atRisk) addEvent('at_risk', risk);
    published = next;
    upsertSearchAttributes([
      { key: DsarPhase, value: p },
      { key: DsarMode, value: input.mode },
      { key: DsarDeadline, value: deadline },
      { key: DsarAtRisk, value: next.atRisk },
    ]);
    const list = [...persons.values()];
    const erased = list.filter((x) => x.state === 'erased').length;
    setCurrentDetails(
      `**${p}** · ${input.mode}${input.dryRun ? ' (dry run)' : ''} · ${input.regulation.toUpperCase()} deadline ${iso(deadline.getTime())}` +
        (list.length ? ` · ${erased}/${list.length} person(s) erased` : '') +
        (nextCheckAt() ? ` · next re-check ${nextCheckAt()}` : '') +
        (risk ? ` · AT RISK: ${risk}` : ''),
    );
  }

  // --- message handlers, set before the first await ---------------------------------------
  /** A signal that arrived in clear reached us only as the marker: dropped, and said so in the events. */
  function refusedInClear(signal: string, arg: unknown): boolean {
    if (!isUnencrypted(arg)) return false;
    addEvent('signal_refused', `${signal}: ${NOT_ENCRYPTED}; its input sits in this history in clear`, 'unknown');
    log.warn('Refused a signal that arrived unencrypted', { signal });
    return true;
  }

  setHandler(statusQuery, () => {
    const list = [...persons.values()].map(toPersonStatus);
    return {
      phase: phase(),
      tenant,
      ...(tenantPaused ? { tenantPaused } : {}),
      mode: input.mode,
      regulation: input.regulation,
      dryRun: input.dryRun,
      requestId: input.requestId,
      receivedAt: iso(receivedAt.getTime()),
      deadline: iso(deadline.getTime()),
      atRisk: atRiskReason() !== undefined,
      atRiskReason: atRiskReason(),
      persons: list,
      blockingCandidateUids: list.flatMap((p) => p.blockingCandidateUids),
      nextCheckAt: nextCheckAt(),
      attention,
      lookups,
      eraseAttempts,
      events: [...events],
      failure,
      cancellation,
      requests: requests.length ? requests.map(publicRegistration) : undefined,
      runsContinued,
    };
  });

  function publicRegistration(r: Registration): RequestRegistration {
    const { callbackUrl: _u, receivedAt: _r, deadline: _d, legacy: _l, ...rest } = r;
    return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as unknown as RequestRegistration;
  }

  function incomingOf(req: AttachRequest): RegisteredRequest {
    return {
      requestId: req.requestId,
      caller: req.caller,
      mode: req.mode ?? input.mode,
      regulation: req.regulation ?? input.regulation,
      dryRun: req.dryRun ?? input.dryRun,
      callbackUrl: req.callbackUrl,
      receivedAt: req.receivedAt,
      deadline: req.deadline,
    };
  }

  function isStarter(r: RegisteredRequest, startToken: string | undefined): boolean {
    if (starterConfirmed) return false;
    // Two identical requests (no requestId, same parameters) look alike: only the token tells which one
    // started the run. A run started without its update (no worker was polling) is never confirmed.
    if (input.startToken !== undefined || startToken !== undefined) return startToken === input.startToken;
    return (
      r.requestId === input.requestId &&
      r.caller === input.caller &&
      r.mode === input.mode &&
      r.regulation === input.regulation &&
      r.dryRun === input.dryRun &&
      (r.callbackUrl ?? '') === (input.callbackUrl ?? '')
    );
  }

  function decide(r: RegisteredRequest, startToken?: string): Decision | { action: 'started' } {
    if (isStarter(r, startToken)) return { action: 'started' };
    return compareRequest({ ...own, ended: terminal !== undefined, acceptsQueue: input.dryRun && !closing, requests }, r);
  }

  /** Records a joining or queued request; runs only after the rules accepted it. */
  function register(r: RegisteredRequest, queued: boolean): void {
    if (!r.requestId && !r.callbackUrl && !r.caller && !queued) return;
    // A queued request's clock starts when it arrived, not when the dry run hands over.
    const receivedAt = r.receivedAt ?? (queued ? iso(now()) : undefined);
    requests.push({ ...r, receivedAt, ...(queued ? { queued: true } : {}), hasCallback: !!r.callbackUrl });
    addEvent(queued ? 'request_queued' : 'request_attached', r.requestId, r.caller ?? r.requestId ?? 'unknown');
    publishRequests();
  }

  /** The search attribute lists, bounded (the server ends a run whose keyword list passes 2 KiB). */
  function requestKeywords(): { ids: string[]; callers: string[]; key: string } {
    const ids = boundedKeywords(requests.map((r) => r.requestId).filter((id): id is string => !!id));
    const callers = boundedKeywords(requests.map((r) => r.caller).filter((c): c is string => !!c));
    return { ids, callers, key: JSON.stringify([ids, callers]) };
  }
  // A continued run got the lists with its start: only a change is upserted.
  let publishedKeywords = resume ? requestKeywords().key : undefined;

  function publishRequests(): void {
    const { ids, callers, key } = requestKeywords();
    // Runs recorded before floods were allowed upserted on every attach.
    if (key !== publishedKeywords || !patched(CONTINUE_PATCH)) {
      publishedKeywords = key;
      upsertSearchAttributes([...(ids.length ? [{ key: DsarRequestIds, value: ids }] : []), ...(callers.length ? [{ key: DsarCallers, value: callers }] : [])]);
    }
    // Past the first registrations, a memo upsert per attach would grow the history by the whole list each time.
    // Runs from before the memo joined an attach with a search attribute upsert alone.
    if (requests.length <= MEMO_EAGER_REQUESTS && patched(REQUESTS_MEMO_PATCH)) upsertMemo({ [REQUESTS_MEMO]: requests.map(memoRegistration) });
  }

  /** The registrations a closed run answers replays from, bounded in bytes; the total says whether some were left out. */
  function closingMemo(): Record<string, unknown> {
    const kept: RegisteredRequest[] = [];
    let bytes = 0;
    for (const r of requests) {
      const m = memoRegistration(r);
      bytes += JSON.stringify(m).length + 1;
      if (bytes > MAX_MEMO_BYTES) break;
      kept.push(m);
    }
    return { [REQUESTS_MEMO]: kept, [REQUESTS_MEMO_TOTAL]: requests.length };
  }

  /** Brings the memo up to date at the end when attaches stopped mirroring into it. */
  function publishClosingMemo(): void {
    if (requests.length > MEMO_EAGER_REQUESTS) upsertMemo(closingMemo());
  }

  function memoRegistration(r: Registration): RegisteredRequest {
    const { requestId, caller, mode, regulation, dryRun, callbackUrl, queued } = r;
    return { requestId, caller, mode, regulation, dryRun, callbackUrl, ...(queued ? { queued } : {}) };
  }

  function otherCallers(r: RegisteredRequest): boolean {
    return requests.some((x) => x.caller !== r.caller) || input.caller !== r.caller;
  }

  setHandler(
    attachRequestUpdate,
    (req): AttachAnswer => {
      // The validator accepted it (an update's handler runs only then).
      const parsed = checkAttachRequest(req);
      if (!parsed.success) throw new TypeError(`attachRequest: ${describeIssues(parsed.error)}`);
      const r = incomingOf(parsed.data);
      const d = decide(r, parsed.data.startToken);
      const answer = (status: AttachAnswer['status']): AttachAnswer => ({ status, runId: info.runId, otherCallers: otherCallers(r) });
      switch (d.action) {
        case 'started':
          starterConfirmed = true;
          return answer('started');
        case 'replay':
          return answer('replayed');
        case 'attach':
        case 'queue':
          register(r, d.action === 'queue');
          return answer(d.action === 'queue' ? 'queued' : 'attached');
        case 'refuse':
          // The validator refused it already; state cannot change between the two in one activation.
          throw refusal(d);
      }
    },
    {
      validator: (req) => {
        if (isUnencrypted(req)) throw new Error(`attachRequest ${NOT_ENCRYPTED}`);
        const parsed = checkAttachRequest(req);
        if (!parsed.success)
          throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: `Invalid request: ${describeIssues(parsed.error)}` });
        const d = decide(incomingOf(parsed.data), parsed.data.startToken);
        if (d.action === 'refuse') throw refusal(d);
      },
    },
  );

  setHandler(attachRequestSignal, (req) => {
    if (refusedInClear('attachRequest', req)) return;
    const parsed = checkAttachRequest(req);
    const actor = parsed.success ? (parsed.data.caller ?? parsed.data.requestId ?? 'unknown') : 'unknown';
    if (!parsed.success) return addEvent('attach_refused', describeIssues(parsed.error), actor);
    const r = incomingOf(parsed.data);
    const d = decide(r, parsed.data.startToken);
    if (d.action === 'started') starterConfirmed = true;
    else if (d.action === 'refuse') addEvent('attach_refused', d.message, actor);
    else if (d.action !== 'replay') register(r, d.action === 'queue');
  });

  setHandler(recheckNowSignal, (req) => {
    if (refusedInClear('recheckNow', req)) return;
    recheckSeq++;
    addEvent('recheck_requested', undefined, req?.actor ?? 'unknown');
  });

  /** Why a cancel cannot be accepted now, or undefined; the same rules for the update and the signal. */
  function cancelRefusal(req: CancelRequest | undefined): string | undefined {
    if (terminal) return `the request already ended (${terminal})`;
    if (!cancelReason(req)) return 'a reason is required';
    if (cancellation) return 'already cancelled';
    if (erasureStarted()) return 'erasure has started; it cannot be undone or interrupted';
    return undefined;
  }
  function cancelReason(req: CancelRequest | undefined): string {
    return typeof req?.reason === 'string' ? req.reason.trim().slice(0, 500) : '';
  }
  function acceptCancel(req: CancelRequest): CancelResult {
    const actor = typeof req?.actor === 'string' ? req.actor : 'unknown';
    cancellation = { reason: cancelReason(req), actor, at: iso(now()) };
    addEvent('cancel_accepted', cancellation.reason, actor);
    return { cancelled: true, ...cancellation };
  }

  setHandler(cancelSignal, (req) => {
    if (refusedInClear('cancel', req)) return;
    const refusal = cancelRefusal(req);
    if (refusal) return addEvent('cancel_refused', refusal, req?.actor ?? 'unknown');
    acceptCancel(req);
  });

  setHandler(cancelUpdate, (req) => acceptCancel(req), {
    validator: (req) => {
      if (isUnencrypted(req)) throw new Error(`cancel ${NOT_ENCRYPTED}`);
      const refusal = cancelRefusal(req);
      if (refusal) throw new Error(refusal);
    },
  });

  setHandler(
    extendDeadlineUpdate,
    (req) => {
      const previous = iso(deadline.getTime());
      deadline = new Date(req.deadline);
      addEvent('deadline_extended', `${previous} → ${iso(deadline.getTime())}${req.reason ? `: ${req.reason}` : ''}`, req.actor ?? 'unknown');
      sync();
      return iso(deadline.getTime());
    },
    {
      validator: (req) => {
        if (isUnencrypted(req)) throw new Error(`extendDeadline ${NOT_ENCRYPTED}`);
        if (terminal) throw new Error(`the request already ended (${terminal})`);
        const d = Date.parse(req?.deadline ?? '');
        if (Number.isNaN(d)) throw new Error('deadline must be an ISO 8601 date-time such as 2026-06-01T00:00:00Z');
        if (d <= deadline.getTime()) throw new Error(`the new deadline must be later than the current one (${iso(deadline.getTime())})`);
        const max = maxExtendedDeadline(input.regulation, receivedAt).getTime();
        if (d > max) {
          const rule = input.regulation === 'gdpr' ? 'GDPR allows two further months' : 'CCPA allows one extension of 45 days';
          throw new Error(`the new deadline is past ${iso(max)}: ${rule} beyond the original deadline`);
        }
      },
    },
  );

  // --- waiting --------------------------------------------------------------------------------

  /**
   * Sleeps until `target`, or until an operator sends `recheckNow` or `cancel`. Never sleeps past the
   * deadline: a request that cannot finish in time fails loudly (an extension moves the deadline).
   */
  async function pauseUntil(target: number, resumable = false): Promise<void> {
    const seq = recheckSeq;
    for (;;) {
      if (cancellation) throw new CancelRequested();
      if (continuing) throw new ContinueRequested();
      if (now() >= deadline.getTime()) {
        throw ApplicationFailure.create({
          type: 'DeadlinePassed',
          nonRetryable: true,
          message: `The ${input.regulation.toUpperCase()} deadline ${iso(deadline.getTime())} passed before the erasure could finish (phase ${phase()}): extend it (extendDeadline) or resolve the block, then submit the request again`,
        });
      }
      if (now() >= target || recheckSeq !== seq) return;
      let full = false;
      if (resumable) parked++;
      try {
        await condition(
          () => recheckSeq !== seq || cancellation !== undefined || continuing || (resumable && (full = mayContinue())),
          Math.max(1, Math.min(target, deadline.getTime()) - now()),
        );
      } finally {
        if (resumable) parked--;
      }
      // Histories recorded before this existed never continued here: they replay as they ran.
      if (full && !continuing && !cancellation && recheckSeq === seq) {
        if (patched(CONTINUE_PATCH) && nextRunAccepted()) continuing = true;
        else continueRefused = true;
      }
    }
  }

  /** The state fits the next run's input (bounded: never expected to fail); if not, this run goes on as it is. */
  function nextRunAccepted(): boolean {
    const checked = checkErasureInput(nextRunInput());
    if (!checked.success) log.warn('The request cannot go on in a new run; it goes on in this one', { issues: describeIssues(checked.error) });
    return checked.success;
  }

  /** Every strand is parked in a resumable wait and the history is long: the run may continue as a new one. */
  function mayContinue(): boolean {
    if (continueRefused || continuing || closing || terminal || cancellation || parked === 0 || parked < strands) return false;
    const i = workflowInfo();
    return i.continueAsNewSuggested || i.historyLength >= tuning.continueAfterEvents;
  }

  /**
   * Runs a Comeet activity; a failure that a person has to fix (credentials, permission, an API
   * that changed, Comeet down for long) parks the request in `needs_attention` and retries it every
   * few hours or on `recheckNow`, instead of failing the request.
   */
  async function withAttention<T>(what: string, call: () => Promise<T>, resumable = true): Promise<T> {
    for (;;) {
      if (cancellation) throw new CancelRequested();
      try {
        const result = await call();
        if (attention) {
          attention = undefined;
          addEvent('attention_cleared', what);
          sync();
        }
        return result;
      } catch (err) {
        // A Temporal cancel is nobody's fault to fix: it ends the request, never parks it.
        if (isCancellation(err)) throw err;
        if (!(err instanceof ActivityFailure)) throw err;
        const cause = err.cause;
        const code = cause instanceof ApplicationFailure ? (cause.type ?? 'ApplicationFailure') : (cause?.name ?? 'ActivityFailure');
        if (ATTENTION_FREE_TYPES.has(code)) throw err;
        if (code === TENANT_PAUSED) {
          await waitWhileTenantPaused(what, resumable);
          continue;
        }
        // Any failure naming a permission (403 no_permission, emails hidden from a lookup) names it to the operator.
        const named = cause instanceof ApplicationFailure ? (cause.details?.[0] as Partial<NoPermissionDetails> | undefined)?.permission : undefined;
        const permission = typeof named === 'string' ? named : undefined;
        const reason = cause?.message ?? err.message;
        if (!attention || attention.code !== code) addEvent('needs_attention', `${what}: ${reason}`);
        attention = { code, reason, permission, since: attention?.since ?? iso(now()), nextRetryAt: iso(now() + tuning.attentionRetryMs) };
        sync();
        await pauseUntil(now() + tuning.attentionRetryMs, resumable);
      }
    }
  }

  /**
   * The tenant was paused (an incident): its account is not called until it resumes. The check asks the
   * worker (no Comeet call, off the capped queue); a resume nudges waiting requests through recheckNow.
   */
  async function waitWhileTenantPaused(what: string, resumable: boolean): Promise<void> {
    if (!tenantPaused) {
      tenantPaused = true;
      addEvent('tenant_paused', `${what}: tenant ${tenant} is paused; waiting for it to resume`);
      sync();
    }
    for (;;) {
      await pauseUntil(now() + tuning.tenantPauseCheckMs, resumable);
      if (!(await tenantState.tenantPaused({ tenant }))) break;
    }
    tenantPaused = false;
    addEvent('tenant_resumed', `tenant ${tenant} resumed; ${what} goes on`);
    sync();
  }

  // --- per-person handling ----------------------------------------------------------------------

  function record(found: FoundPerson): PersonRecord {
    const existing = persons.get(found.personUid);
    if (existing) {
      existing.candidates = found.candidates;
      existing.candidateUids = [...new Set([...existing.candidateUids, ...found.candidates.map((c) => c.uid)])];
      existing.state = 'pending';
      return existing;
    }
    const rec: PersonRecord = {
      personUid: found.personUid,
      candidateUids: found.candidates.map((c) => c.uid),
      candidates: found.candidates,
      state: 'pending',
      blockingCandidateUids: [],
      attempts: 0,
      backoffStep: 0,
    };
    persons.set(found.personUid, rec);
    return rec;
  }

  /** Erases one person, waiting out interview blocks; other persons go on meanwhile. */
  async function handlePerson(p: PersonRecord, resumed = false): Promise<void> {
    if (!resumed) p.blockedBefore = false;
    // A resumed person waits out what it was waiting for: its next check, or the attention retry.
    else if (p.state === 'blocked' && p.nextCheckAt) await pauseUntil(Date.parse(p.nextCheckAt), true);
    else if (attention) await pauseUntil(Date.parse(attention.nextRetryAt), true);
    for (;;) {
      if (cancellation) throw new CancelRequested();
      p.state = 'erasing';
      p.nextCheckAt = undefined;
      sync();
      try {
        const r = await withAttention(`erase person ${p.personUid}`, () => {
          p.attempts++;
          eraseAttempts++;
          return erases().erasePerson({ personUid: p.personUid, mode: input.mode });
        });
        p.state = 'erased';
        p.blockingCandidateUids = [];
        p.expectedClearAt = undefined;
        p.erasedAt = r.erasedAt;
        if (p.firstBlockedAt !== undefined) workflowMetrics().blockedDuration.record((now() - p.firstBlockedAt) / 1000, { mode: input.mode, tenant });
        p.alreadyGone = r.alreadyGone;
        // A 404 may follow our own delete whose answer was lost: the candidates the lookup found are
        // gone either way, and the verifying lookup below proves it; report them rather than none.
        const gone = r.alreadyGone ? p.candidates.map((c) => c.uid) : r.candidateUids;
        p.erasedCandidateUids = [...new Set([...(p.erasedCandidateUids ?? []), ...gone])];
        addEvent(r.alreadyGone ? 'already_gone' : 'erased', `person ${p.personUid}: ${r.count} candidate(s)`);
        sync();
        return;
      } catch (err) {
        const details = interviewBlock(err);
        if (!details) throw err;
        p.state = 'blocked';
        p.firstBlockedAt ??= now();
        p.blockingCandidateUids = details.blockingCandidateUids;
        if (p.blockedBefore && details.blockingCandidateUids.length) {
          // Still blocked after we expected the interviews to be over: the schedule we knew is stale.
          const fresh = await withAttention(`interview schedule of person ${p.personUid}`, async () => {
            if (!patched(LOOKUP_PAGES_PATCH)) return reads().getInterviewSchedules({ candidateUids: details.blockingCandidateUids });
            // One activity per candidate: each read is one dispatch on the capped queue.
            const out: FoundCandidate[] = [];
            for (const candidateUid of details.blockingCandidateUids) out.push(await reads().getCandidateSchedule({ candidateUid }));
            return out;
          });
          p.candidates = [...p.candidates.filter((c) => !fresh.some((f) => f.uid === c.uid)), ...fresh];
        }
        p.blockedBefore = true;
        const target = nextAttemptAt(p, details.blockingCandidateUids);
        p.nextCheckAt = iso(target);
        addEvent('blocked', `person ${p.personUid} by candidate(s) ${details.blockingCandidateUids.join(', ')}; re-check at ${p.nextCheckAt}`);
        sync();
        await pauseUntil(target, true);
      }
    }
  }

  /** Just after the latest known interview; with no usable schedule, back off 1 h → 24 h. */
  function nextAttemptAt(p: PersonRecord, blocking: string[]): number {
    const scheduled = p.candidates
      .filter((c) => blocking.length === 0 || blocking.includes(c.uid))
      .flatMap((c) => c.openInterviews.map((i) => (i.scheduledAt ? Date.parse(i.scheduledAt) : NaN)))
      .filter((t) => !Number.isNaN(t));
    const latest = scheduled.length ? Math.max(...scheduled) : undefined;
    if (latest !== undefined && latest + tuning.interviewMarginMs > now()) {
      p.expectedClearAt = latest + tuning.interviewMarginMs;
      p.backoffStep = 0;
      return p.expectedClearAt;
    }
    p.expectedClearAt = undefined;
    const wait = Math.min(tuning.backoffInitialMs * 2 ** p.backoffStep, tuning.backoffMaxMs);
    p.backoffStep++;
    return now() + wait;
  }

  async function handleAll(found: FoundPerson[]): Promise<void> {
    stage = 'handling';
    await handleEach(
      found.map((f) => record(f)),
      false,
    );
  }

  async function handleEach(list: PersonRecord[], resumed: boolean): Promise<void> {
    strands = list.length;
    const results = await Promise.allSettled(list.map((p) => handlePerson(p, resumed).finally(() => strands--)));
    strands = 1;
    // Wait for every person before deciding, so no erase call is left in flight unaccounted for.
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const cause = failed.find((r) => !(r.reason instanceof ContinueRequested)) ?? failed[0];
    if (cause) throw cause.reason;
  }

  function lookUp(purpose: 'look up' | 'verify absence'): Promise<FoundPerson[]> {
    return withAttention(purpose, async () => {
      lookups++;
      if (patched(LOOKUP_PAGES_PATCH)) {
        const found = await pagedLookup(input.email, {
          profile: 'erasure',
          priorityKey: readPriority,
          childId: () => `${info.workflowId}-lookup-${++lookupChildren}`,
          pagesPerRun: tuning.lookupPagesPerRun,
        });
        return groupByPerson(found);
      }
      const acts = reads();
      const r = purpose === 'look up' ? await acts.findCandidatesByEmail({ email: input.email }) : await acts.verifyAbsence({ email: input.email });
      return r.persons;
    });
  }

  function result(outcome: Outcome, extra: Partial<ErasureResult> = {}): ErasureResult {
    const erased: ErasedPerson[] = [...persons.values()]
      .filter((p) => p.state === 'erased')
      .map((p) => ({
        personUid: p.personUid,
        candidateUids: p.erasedCandidateUids ?? [],
        count: (p.erasedCandidateUids ?? []).length,
        erasedAt: p.erasedAt ?? iso(now()),
        alreadyGone: p.alreadyGone ?? false,
      }));
    return {
      outcome,
      requestId: input.requestId,
      mode: input.mode,
      regulation: input.regulation,
      dryRun: input.dryRun,
      receivedAt: iso(receivedAt.getTime()),
      deadline: iso(deadline.getTime()),
      startedAt: iso(startedAt.getTime()),
      finishedAt: iso(now()),
      persons: erased,
      totals: { persons: erased.length, candidates: erased.reduce((n, p) => n + p.count, 0) },
      lookups,
      eraseAttempts,
      cancellation,
      ...extra,
    };
  }

  async function finish(outcome: Outcome, extra?: Partial<ErasureResult>): Promise<ErasureResult> {
    // Added after the first histories were recorded: runs that finished without receipts replay as before.
    const r = result(outcome, extra);
    const signed = (outcome === 'completed' || outcome === 'no_data') && patched(RECEIPT_PATCH) ? await receipt(r) : undefined;
    terminal = outcome === 'completed' ? 'completed' : outcome;
    addEvent('finished', outcome);
    sync();
    publishClosingMemo();
    const final = { ...r, ...signed };
    recordFinished(outcome);
    // The outcome is decided: a Temporal cancel arriving now must not cut the callers off from it.
    await CancellationScope.nonCancellable(() =>
      notifyCallers({
        outcome,
        finishedAt: final.finishedAt,
        verifiedAbsentAt: final.verifiedAbsentAt,
        totals: final.totals,
        receipt: final.receipt,
        receiptKeyId: final.receiptKeyId,
      }),
    );
    await condition(allHandlersFinished);
    return final;
  }

  function recordFinished(outcome: Outcome | 'failed'): void {
    const m = workflowMetrics();
    m.erasuresFinished.add(1, { outcome, mode: input.mode, tenant });
    m.erasureDuration.record((now() - startedAt.getTime()) / 1000, { outcome, tenant });
  }

  /** Tells every caller that asked for a callback how the request ended; never fails the request. */
  async function notifyCallers(payload: Omit<CallbackPayload, 'event' | 'id' | 'runId' | 'requestId' | 'mode' | 'regulation' | 'dryRun'>): Promise<void> {
    const due = requests.filter((r) => r.callbackUrl && !r.callback && !r.queued);
    if (!due.length) return;
    await Promise.all(
      due.map(async (r) => {
        r.callback = 'pending';
        const body: CallbackPayload = {
          event: 'erasure.finished',
          id: info.workflowId,
          runId: info.runId,
          ...(r.requestId ? { requestId: r.requestId } : {}),
          mode: input.mode,
          regulation: input.regulation,
          dryRun: input.dryRun,
          ...payload,
        };
        try {
          await callbackActivities(tuning.callbackRetryMs).deliverCallback({ url: r.callbackUrl!, payload: body });
          r.callback = 'delivered';
          addEvent('callback_delivered', r.requestId);
        } catch (err) {
          r.callback = 'failed';
          r.callbackError = err instanceof ActivityFailure ? (err.cause?.message ?? err.message) : String(err);
          addEvent('callback_failed', `${r.requestId ?? ''}: ${r.callbackError}`);
          log.warn('Callback could not be delivered', { requestId: r.requestId, error: r.callbackError });
        }
      }),
    );
  }

  /** The proof of erasure; a run started outside our client (no keyed-hash id) cannot name its subject. */
  async function receipt(r: ErasureResult): Promise<Pick<ErasureResult, 'receipt' | 'receiptKeyId'> | undefined> {
    const subjectHash = ERASURE_WORKFLOW_ID.exec(info.workflowId)?.groups?.['hash'];
    if (!subjectHash || !r.verifiedAbsentAt) {
      addEvent('receipt_skipped', 'the workflow id is not a keyed hash of the subject (started outside the dsar client)');
      return undefined;
    }
    const claims = receiptClaims(r, r.verifiedAbsentAt, { workflowId: info.workflowId, runId: info.runId, subjectHash, dryRun: input.dryRun });
    const { jws, keyId } = await withAttention('sign the receipt', () => signingActivities.signReceipt(claims), false);
    addEvent('receipt_signed', `key ${keyId}`);
    return { receipt: jws, receiptKeyId: keyId };
  }

  // --- main path ------------------------------------------------------------------------------
  if (input.caller && !resume) addEvent(input.requests ? 'continued' : 'requested', input.requestId, input.caller);
  sync();
  log.info(resume ? 'DSAR erasure continued' : 'DSAR erasure started', {
    mode: input.mode,
    regulation: input.regulation,
    dryRun: input.dryRun,
    requestId: input.requestId,
    caller: input.caller,
    runsContinued,
  });
  try {
    if (!resume || resume.stage === 'looking_up') {
      await resumedWait();
      const found = await lookUp('look up');
      if (found.length === 0) {
        const r = await finish('no_data', { verifiedAbsentAt: iso(now()) });
        await continueAsQueued();
        return r;
      }
      for (const f of found) record(f);
      addEvent('found', `${found.length} person(s), ${found.reduce((n, f) => n + f.candidates.length, 0)} candidate(s)`);
      if (input.dryRun) {
        const r = await finish('dry_run', { wouldErase: found.map((f) => ({ personUid: f.personUid, candidateUids: f.candidates.map((c) => c.uid) })) });
        await continueAsQueued();
        return r;
      }
      round = 0;
      await handleAll(found);
    } else if (resume.stage === 'handling') {
      // Every person the lookup found is known: no second lookup, each goes on from its own wait.
      stage = 'handling';
      await handleEach(
        [...persons.values()].filter((p) => p.state !== 'erased'),
        true,
      );
    }

    let verifiedAbsentAt: string | undefined;
    let resumedVerify = resume?.stage === 'verifying';
    for (; verifiedAbsentAt === undefined; round++) {
      stage = 'verifying';
      sync();
      if (resumedVerify) await resumedWait();
      resumedVerify = false;
      const remaining = await lookUp('verify absence');
      if (remaining.length === 0) {
        verifiedAbsentAt = iso(now());
        addEvent('verified_absent');
        break;
      }
      const uids = remaining.map((r) => r.personUid).join(', ');
      if (round >= tuning.maxReerasures) {
        throw ApplicationFailure.create({
          type: 'VerificationFailed',
          nonRetryable: true,
          message: `Comeet still returns person(s) ${uids} for the subject after ${round} re-erasure(s) in ${input.mode} mode: check the account's pseudonymization settings or erase by hand`,
        });
      }
      addEvent('still_present', `person(s) ${uids}; erasing again`);
      if (tuning.verifyRetryMs > 0) await pauseUntil(now() + tuning.verifyRetryMs);
      // A run continued during this re-erasure verifies next in the round after it.
      round++;
      await handleAll(remaining);
      round--;
    }

    const followUp = await scheduleFollowUp();
    return await finish('completed', { verifiedAbsentAt, followUp });
  } catch (err) {
    if (err instanceof ContinueRequested) await continueRun();
    // The dry run handing over to a queued real request, or a long history going on in a new run: not a failure.
    if (err instanceof ContinueAsNew) throw err;
    if (err instanceof CancelRequested) return await finish('cancelled');
    const hardCancel = isCancellation(err);
    // Cancelled after finish() decided and told the outcome: keep that outcome, close as CANCELED.
    if (hardCancel && terminal) throw err;
    terminal = hardCancel ? 'cancelled' : 'failed';
    const sofar = result('cancelled');
    failure = hardCancel ? describeHardCancel(sofar) : err instanceof Error ? err.message : String(err);
    addEvent(terminal, failure);
    sync();
    publishClosingMemo();
    recordFinished(terminal === 'cancelled' ? 'cancelled' : 'failed');
    if (hardCancel && patched(CANCEL_CALLBACK_PATCH)) {
      // Cleanup after a cancel runs in a scope the cancel cannot reach; the run still closes CANCELED.
      await CancellationScope.nonCancellable(() =>
        notifyCallers({
          outcome: 'cancelled',
          finishedAt: sofar.finishedAt,
          totals: sofar.totals,
          ...(sofar.persons.length ? { persons: sofar.persons } : {}),
        }),
      );
    }
    if (terminal === 'failed') await notifyCallers({ outcome: 'failed', finishedAt: iso(now()), failure });
    if (terminal === 'failed' && !(err instanceof ApplicationFailure)) {
      // Surface anything unexpected as a failed execution, not a workflow task retried forever.
      throw ApplicationFailure.create({ type: 'ErasureFailed', nonRetryable: true, message: failure, cause: err instanceof Error ? err : undefined });
    }
    throw err;
  }

  /** A resumed main path waits out the attention retry it was parked in (nothing else parks it resumably). */
  async function resumedWait(): Promise<void> {
    if (resume && attention) await pauseUntil(Date.parse(attention.nextRetryAt), true);
  }

  /**
   * Continues this request in a new run under the same workflow id, with the state it needs to go on
   * (persons and their waits, counters, deadline, attention, registrations, the last events): a wait
   * of months with any number of persons and messages stays far under Temporal's history limits.
   * Runs only when every strand is parked, so no activity is in flight.
   */
  async function continueRun(): Promise<never> {
    addEvent('continued_as_new', `the history of run ${runsContinued + 1} reached ${workflowInfo().historyLength} events`);
    // An accepted update must finish in this run; signals after this point are carried by the server to the next.
    await condition(allHandlersFinished);
    const next = nextRunInput();
    // Checked when the run decided to continue; handlers that ran since cannot grow it past the bounds.
    const checked = checkErasureInput(next);
    if (!checked.success) {
      throw ApplicationFailure.create({
        type: 'ContinueAsNewFailed',
        nonRetryable: true,
        message: `The request could not go on in a new run: ${describeIssues(checked.error)}`,
      });
    }
    const { ids, callers } = requestKeywords();
    return await makeContinueAsNewFunc<typeof dsarErasure>({
      memo: closingMemo(),
      typedSearchAttributes: [
        { key: DsarPhase, value: phase() },
        { key: DsarMode, value: input.mode },
        { key: DsarDeadline, value: deadline },
        { key: DsarAtRisk, value: atRiskReason() !== undefined },
        ...(ids.length ? [{ key: DsarRequestIds, value: ids }] : []),
        ...(callers.length ? [{ key: DsarCallers, value: callers }] : []),
      ],
    })(next);
  }

  function nextRunInput(): ErasureInput {
    const { resume: _r, requests: _q, receivedAt: _a, deadline: _d, ...same } = input;
    const short = (v: string | undefined, n = 4000) => (v === undefined ? undefined : v.slice(0, n));
    const state: ResumeState = {
      runsContinued: runsContinued + 1,
      startedAt: iso(startedAt.getTime()),
      stage,
      round,
      persons: [...persons.values()].map((p) => ({
        personUid: p.personUid,
        candidateUids: [...p.candidateUids],
        state: p.state,
        blockingCandidateUids: [...p.blockingCandidateUids],
        ...(p.nextCheckAt ? { nextCheckAt: p.nextCheckAt } : {}),
        attempts: p.attempts,
        ...(p.erasedAt ? { erasedAt: p.erasedAt } : {}),
        ...(p.erasedCandidateUids ? { erasedCandidateUids: [...p.erasedCandidateUids] } : {}),
        ...(p.alreadyGone !== undefined ? { alreadyGone: p.alreadyGone } : {}),
        // Only what the next wait needs: uids, status and the interview times (never a name or email).
        candidates: p.candidates.map((c) => ({
          uid: c.uid,
          personUid: c.personUid,
          status: c.status === null ? null : short(c.status, 64)!,
          openInterviews: c.openInterviews.map((i) => ({ type: short(i.type, 128)!, scheduledAt: i.scheduledAt })),
        })),
        ...(p.firstBlockedAt !== undefined ? { firstBlockedAt: p.firstBlockedAt } : {}),
        ...(p.expectedClearAt !== undefined ? { expectedClearAt: p.expectedClearAt } : {}),
        backoffStep: Math.min(p.backoffStep, 64),
        ...(p.blockedBefore ? { blockedBefore: true } : {}),
      })),
      ...(attention ? { attention: { ...attention, reason: short(attention.reason)! } } : {}),
      lookups,
      eraseAttempts,
      events: events.map((e) => ({
        at: e.at,
        kind: e.kind.slice(0, 64),
        ...(e.detail !== undefined ? { detail: short(e.detail) } : {}),
        actor: e.actor.slice(0, 128),
      })),
    };
    const carried = requests.map(({ hasCallback: _h, ...r }) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as typeof r);
    return { ...same, receivedAt: iso(receivedAt.getTime()), deadline: iso(deadline.getTime()), requests: carried, resume: state };
  }

  /** A Temporal cancel may come after some persons were erased: say so, the request is then half done. */
  function describeHardCancel(r: ErasureResult): string {
    if (!r.persons.length) return 'cancelled from outside the dsar workflow (Temporal cancel) before anything was erased';
    return (
      `cancelled from outside the dsar workflow (Temporal cancel) after erasing person(s) ${r.persons.map((p) => p.personUid).join(', ')} ` +
      `(${r.totals.candidates} candidate(s)), without verifying absence: submit the request again to finish it`
    );
  }

  /**
   * A real request that arrived during this dry run starts now, under the same workflow id: the run
   * continues as it, carrying every registration (so replays still match and its callers are told).
   */
  async function continueAsQueued(): Promise<void> {
    closing = true;
    if (!input.dryRun) return;
    const next = requests.find((r) => r.queued);
    if (!next) return;
    addEvent('continuing', `as the queued ${next.mode} request ${next.requestId ?? ''}`.trim(), next.caller ?? 'workflow');
    const carried = requests.map(({ hasCallback: _h, queued: _q, legacy: _l, ...r }) => r);
    const ids = boundedKeywords(requests.map((r) => r.requestId).filter((id): id is string => !!id));
    const callers = boundedKeywords(requests.map((r) => r.caller).filter((c): c is string => !!c));
    await makeContinueAsNewFunc<typeof dsarErasure>({
      memo: { [REQUESTS_MEMO]: requests.map((r) => ({ ...memoRegistration(r), queued: undefined })) },
      typedSearchAttributes: [
        { key: DsarPhase, value: 'looking_up' satisfies Phase },
        { key: DsarMode, value: next.mode },
        { key: DsarDeadline, value: deadline },
        { key: DsarAtRisk, value: false },
        ...(ids.length ? [{ key: DsarRequestIds, value: ids }] : []),
        ...(callers.length ? [{ key: DsarCallers, value: callers }] : []),
      ],
    })({
      email: input.email,
      mode: next.mode,
      regulation: next.regulation,
      dryRun: false,
      ...(next.requestId ? { requestId: next.requestId } : {}),
      ...(next.caller ? { caller: next.caller } : {}),
      ...(next.callbackUrl ? { callbackUrl: next.callbackUrl } : {}),
      ...(next.receivedAt ? { receivedAt: next.receivedAt } : {}),
      ...(next.deadline ? { deadline: next.deadline } : {}),
      ...(input.tuning ? { tuning: input.tuning } : {}),
      requests: carried,
    });
  }

  /** The second absent read, days later, catches a person re-created in the meantime. */
  async function scheduleFollowUp(): Promise<ErasureResult['followUp']> {
    if (tuning.followUpDelayMs <= 0) return undefined;
    // Workflow time, not the run id: ids of scheduled children must come out the same on replay.
    const workflowId = `${info.workflowId}-follow-up-${iso(now()).replace(/[-:]|\.\d+/g, '')}`;
    const at = iso(now() + tuning.followUpDelayMs);
    const args: FollowUpInput = {
      email: input.email,
      mode: input.mode,
      regulation: input.regulation,
      requestId: input.requestId,
      erasureWorkflowId: info.workflowId,
      delayMs: tuning.followUpDelayMs,
      tuning: input.tuning,
      // A re-erasure continues this request: same clock (an extended deadline included), same caller.
      receivedAt: iso(receivedAt.getTime()),
      deadline: iso(deadline.getTime()),
      ...(input.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
    };
    await startChild(dsarFollowUp, {
      workflowId,
      args: [args],
      // The erasure completes now; the follow-up lives on by itself, even through a cancel of this run.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: ChildWorkflowCancellationType.ABANDON,
      staticSummary: `DSAR follow-up lookup at ${at}`,
    });
    addEvent('follow_up_scheduled', `${workflowId} at ${at}`);
    return { workflowId, at };
  }

  function toPersonStatus(p: PersonRecord): PersonStatus {
    const { candidates: _c, expectedClearAt: _e, backoffStep: _b, firstBlockedAt: _f, blockedBefore: _p, ...status } = p;
    return { ...status, candidateUids: [...status.candidateUids], blockingCandidateUids: [...status.blockingCandidateUids] };
  }
}
