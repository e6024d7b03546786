/**
 * The state of one erasure run, shared by the main path (erasure.ts), its waits (waiting.ts) and its
 * registrations: the persons, the events, the phase derived from them and published when it changes,
 * and what the next run carries when a long history continues as a new one.
 */
import { log, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { RegisteredRequest } from '../requests.js';
import type { FoundCandidate } from '../activities/index.js';
import type { CancelRequest, CancelResult } from '../erasure-messages.js';
import type { ErasureInput, ParsedErasureInput, ResumeState, Tuning } from '../erasure-request.js';
import { MAX_EVENTS } from '../erasure-rules.js';
import type { Attention, ErasureStatus, Phase, PersonStatus, RequestRegistration, StatusEvent } from '../erasure-status.js';
import { priorityDeadline } from '../priorities.js';
import { regulationDeadline } from '../deadlines.js';
import { describeIssues } from '../describe-issues.js';
import { DsarAtRisk, DsarDeadline, DsarMode, DsarPhase } from '../search-attributes.js';
import { comeetActivities } from './activity-profiles.js';
import { checkErasureInput, tuningOf } from './input-guard.js';

export interface PersonRecord extends PersonStatus {
  candidates: FoundCandidate[];
  firstBlockedAt?: number;
  /** When the known interview schedule should let Comeet erase the person. */
  expectedClearAt?: number;
  backoffStep: number;
  /** Blocked before in the current round: a new block means the known schedule is stale. */
  blockedBefore?: boolean;
}

/** A caller's request as the run keeps it: its parameters, and how its callback went. */
export type Registration = RegisteredRequest & Omit<RequestRegistration, keyof RegisteredRequest>;

export const now = () => Date.now();
export const iso = (ms: number) => new Date(ms).toISOString();

export class RunState {
  readonly tuning: Tuning;
  /** The run this one continues, if any: the chain goes on from where it stopped, same clock, same counts. */
  readonly resume: ResumeState | undefined;
  readonly startedAt: Date;
  readonly receivedAt: Date;
  readonly runsContinued: number;
  /** An operator may extend it (extendDeadline). */
  deadline: Date;
  readonly persons: Map<string, PersonRecord>;
  readonly events: StatusEvent[];
  readonly requests: Registration[];
  stage: 'looking_up' | 'handling' | 'verifying';
  terminal: Phase | undefined;
  attention: Attention | undefined;
  cancellation: ErasureStatus['cancellation'];
  failure: string | undefined;
  /** Bumped by each `recheckNow`: a wait that sees it change ends at once. */
  recheckSeq = 0;
  tenantPaused = false;
  lookups: number;
  eraseAttempts: number;
  /** The verification round the run is in (a resumed run starts its verification there). */
  round: number;
  /** Set once a dry run will hand over to no new request (it decides whether to continue as a queued one, or was cancelled): nothing may queue after. */
  closing = false;
  private published: { phase: Phase; atRisk: boolean; deadline: number } | undefined;
  /** Set in the first task: the run took the lean path (LEAN_PATH_PATCH). */
  lean = false;

  constructor(
    readonly input: ParsedErasureInput,
    readonly tenant: string,
  ) {
    this.tuning = tuningOf(input.tuning);
    const resume = (this.resume = input.resume);
    this.startedAt = resume ? new Date(resume.startedAt) : new Date();
    this.receivedAt = input.receivedAt ? new Date(input.receivedAt) : this.startedAt;
    this.deadline = input.deadline ? new Date(input.deadline) : regulationDeadline(input.regulation, this.receivedAt);
    this.persons = new Map<string, PersonRecord>((resume?.persons ?? []).map((p) => [p.personUid, { ...p }]));
    this.events = resume ? resume.events.map((e) => ({ ...e })) : [];
    this.stage = resume?.stage ?? 'looking_up';
    this.attention = resume?.attention ? { ...resume.attention } : undefined;
    this.lookups = resume?.lookups ?? 0;
    this.eraseAttempts = resume?.eraseAttempts ?? 0;
    this.runsContinued = resume?.runsContinued ?? 0;
    this.round = resume?.round ?? 0;
    const own = { mode: input.mode, regulation: input.regulation, dryRun: input.dryRun };
    this.requests = input.requests
      ? input.requests.map((r) => ({ ...r, hasCallback: !!r.callbackUrl }) as Registration)
      : input.requestId || input.callbackUrl || input.caller
        ? [{ requestId: input.requestId, caller: input.caller, callbackUrl: input.callbackUrl, ...own, hasCallback: !!input.callbackUrl }]
        : [];
  }

  /** The deadline Comeet calls are prioritised by (read per call: an operator may extend the deadline). */
  priorityDeadline(): number {
    return priorityDeadline(this.input.regulation, this.receivedAt, this.deadline).getTime();
  }

  /** Comeet's activities, made per call: their priority follows the deadline. */
  comeet(kind: 'read' | 'erase'): ReturnType<typeof comeetActivities> {
    return comeetActivities(kind, this.priorityDeadline());
  }

  addEvent(kind: string, detail?: string, actor: unknown = 'workflow'): void {
    // The actor comes from operators' messages: a name, whatever was sent.
    this.events.push({ at: iso(now()), kind, detail, actor: typeof actor === 'string' ? actor.slice(0, 100) : 'unknown' });
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
  }

  phase(): Phase {
    if (this.terminal) return this.terminal;
    if (this.attention) return 'needs_attention';
    if (this.stage !== 'handling') return this.stage;
    const states = [...this.persons.values()].map((p) => p.state);
    if (states.some((s) => s === 'blocked') && !states.some((s) => s === 'erasing' || s === 'pending')) return 'waiting_for_interviews';
    return 'erasing';
  }

  atRiskReason(): string | undefined {
    if (this.terminal && this.terminal !== 'failed') return undefined;
    const d = this.deadline.getTime();
    if (now() >= d) return `the deadline ${iso(d)} has passed`;
    const late = [...this.persons.values()].filter((p) => p.state === 'blocked' && p.expectedClearAt !== undefined && p.expectedClearAt > d);
    if (late.length) {
      const latest = Math.max(...late.map((p) => p.expectedClearAt ?? 0));
      return `interviews keep person(s) ${late.map((p) => p.personUid).join(', ')} blocked until about ${iso(latest)}, after the deadline ${iso(d)}`;
    }
    return undefined;
  }

  erasureStarted(): boolean {
    return [...this.persons.values()].some((p) => p.state === 'erasing' || p.state === 'erased');
  }

  nextCheckAt(): string | undefined {
    const times = [...this.persons.values()].map((p) => p.nextCheckAt).filter((t): t is string => !!t);
    if (this.attention) times.push(this.attention.nextRetryAt);
    return times.sort()[0];
  }

  /** Publishes the derived phase to search attributes and the UI's current details when it changes. */
  sync(): void {
    const { input, deadline } = this;
    const p = this.phase();
    const risk = this.atRiskReason();
    const next = { phase: p, atRisk: risk !== undefined, deadline: deadline.getTime() };
    const published = this.published;
    if (published && published.phase === next.phase && published.atRisk === next.atRisk && published.deadline === next.deadline) return;
    if (this.lean && !this.resume && published === undefined && p === 'looking_up' && !next.atRisk && this.startedPublished()) {
      // startErasure set these at start (its deadline estimate is the client's clock, moments before the run's).
      this.addEvent('phase', p);
      this.published = next;
      return this.details(p, risk);
    }
    // The run this one continues told its phase already (the events are carried).
    const told = published === undefined && this.resume !== undefined;
    if (!told && published?.phase !== p) this.addEvent('phase', p);
    if (!told && risk !== undefined && !published?.atRisk) this.addEvent('at_risk', risk);
    this.published = next;
    upsertSearchAttributes([
      { key: DsarPhase, value: p },
      { key: DsarMode, value: input.mode },
      { key: DsarDeadline, value: deadline },
      { key: DsarAtRisk, value: next.atRisk },
    ]);
    this.details(p, risk);
  }

  /** The start's search attributes say what the first task would upsert (startErasure sets them; a bare start does not). */
  private startedPublished(): boolean {
    const sa = workflowInfo().typedSearchAttributes;
    return sa.get(DsarPhase) === 'looking_up' && sa.get(DsarMode) === this.input.mode && sa.get(DsarAtRisk) === false && sa.get(DsarDeadline) !== undefined;
  }

  /** The UI's current details (no history event). */
  private details(p: Phase, risk: string | undefined): void {
    const { input, deadline } = this;
    const list = [...this.persons.values()];
    const erased = list.filter((x) => x.state === 'erased').length;
    setCurrentDetails(
      `**${p}** · ${input.mode}${input.dryRun ? ' (dry run)' : ''} · ${input.regulation.toUpperCase()} deadline ${iso(deadline.getTime())}` +
        (list.length ? ` · ${erased}/${list.length} person(s) erased` : '') +
        (this.nextCheckAt() ? ` · next re-check ${this.nextCheckAt()}` : '') +
        (risk ? ` · AT RISK: ${risk}` : ''),
    );
  }

  /** What the `status` query answers. */
  status(): ErasureStatus {
    const { input } = this;
    const list = [...this.persons.values()].map(toPersonStatus);
    return {
      phase: this.phase(),
      tenant: this.tenant,
      ...(this.tenantPaused ? { tenantPaused: this.tenantPaused } : {}),
      mode: input.mode,
      regulation: input.regulation,
      dryRun: input.dryRun,
      requestId: input.requestId,
      receivedAt: iso(this.receivedAt.getTime()),
      deadline: iso(this.deadline.getTime()),
      atRisk: this.atRiskReason() !== undefined,
      atRiskReason: this.atRiskReason(),
      persons: list,
      blockingCandidateUids: list.flatMap((p) => p.blockingCandidateUids),
      nextCheckAt: this.nextCheckAt(),
      attention: this.attention,
      lookups: this.lookups,
      eraseAttempts: this.eraseAttempts,
      events: [...this.events],
      failure: this.failure,
      cancellation: this.cancellation,
      requests: this.requests.length ? this.requests.map(publicRegistration) : undefined,
      runsContinued: this.runsContinued,
    };
  }

  /** Why a cancel cannot be accepted now, or undefined; the same rules for the update and the signal. */
  cancelRefusal(req: CancelRequest | undefined): string | undefined {
    if (this.terminal) return `the request already ended (${this.terminal})`;
    if (!cancelReason(req)) return 'a reason is required';
    if (this.cancellation) return 'already cancelled';
    if (this.erasureStarted()) return 'erasure has started; it cannot be undone or interrupted';
    return undefined;
  }

  /** Records an operator's accepted cancel; the waits see it and end the request. */
  acceptCancel(req: CancelRequest): CancelResult {
    const actor = typeof req?.actor === 'string' ? req.actor : 'unknown';
    this.cancellation = { reason: cancelReason(req), actor, at: iso(now()) };
    this.addEvent('cancel_accepted', this.cancellation.reason, actor);
    return { cancelled: true, ...this.cancellation };
  }

  /** The state fits the next run's input (bounded: never expected to fail); if not, this run goes on as it is. */
  nextRunAccepted(): boolean {
    const checked = checkErasureInput(this.nextRunInput());
    if (!checked.success) log.warn('The request cannot go on in a new run; it goes on in this one', { issues: describeIssues(checked.error) });
    return checked.success;
  }

  /** The input of the run this one continues as: the request, its registrations and the state its waits need. */
  nextRunInput(): ErasureInput {
    const { resume: _r, requests: _q, receivedAt: _a, deadline: _d, ...same } = this.input;
    const short = (v: string | undefined, n = 4000) => (v === undefined ? undefined : v.slice(0, n));
    const attention = this.attention;
    const state: ResumeState = {
      runsContinued: this.runsContinued + 1,
      startedAt: iso(this.startedAt.getTime()),
      stage: this.stage,
      round: this.round,
      persons: [...this.persons.values()].map((p) => ({
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
      lookups: this.lookups,
      eraseAttempts: this.eraseAttempts,
      events: this.events.map((e) => ({
        at: e.at,
        kind: e.kind.slice(0, 64),
        ...(e.detail !== undefined ? { detail: short(e.detail) } : {}),
        actor: e.actor.slice(0, 128),
      })),
    };
    const carried = this.requests.map(({ hasCallback: _h, ...r }) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as typeof r);
    return { ...same, receivedAt: iso(this.receivedAt.getTime()), deadline: iso(this.deadline.getTime()), requests: carried, resume: state };
  }
}

function cancelReason(req: CancelRequest | undefined): string {
  return typeof req?.reason === 'string' ? req.reason.trim().slice(0, 500) : '';
}

/** A registration as the status query shows it: no callback URL, no clock of its own. */
function publicRegistration(r: Registration): RequestRegistration {
  const { callbackUrl: _u, receivedAt: _r, deadline: _d, legacy: _l, ...rest } = r;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as unknown as RequestRegistration;
}

export function toPersonStatus(p: PersonRecord): PersonStatus {
  const { candidates: _c, expectedClearAt: _e, backoffStep: _b, firstBlockedAt: _f, blockedBefore: _p, ...status } = p;
  return { ...status, candidateUids: [...status.candidateUids], blockingCandidateUids: [...status.blockingCandidateUids] };
}
