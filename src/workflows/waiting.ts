/**
 * Every wait of an erasure run, and each person's erase-and-wait loop: the sleep that a `recheckNow`,
 * a `cancel` or the deadline cuts short, the attention retry of a failure a person must fix, a paused
 * tenant, the interview blocks. A wait is also where the run decides to continue as a new one, once
 * every strand of work is parked in a wait it can resume from.
 */
import { ActivityFailure, ApplicationFailure, condition, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import type { FoundCandidate, FoundPerson, NoPermissionDetails } from '../activities/index.js';
import { TENANT_PAUSED } from '../tenants/model.js';
import { tenantState } from './activity-profiles.js';
import { interviewBlock } from './failures.js';
import { workflowMetrics } from './metrics.js';
import { iso, now, type PersonRecord, type RunState } from './run-state.js';
import { CONTINUE_PATCH, LOOKUP_PAGES_PATCH } from './versioning.js';

const ATTENTION_FREE_TYPES = new Set(['InterviewsInProgress']);

/** Thrown inside the workflow when an operator's `cancel` was accepted. */
export class CancelRequested extends Error {}
/** Thrown out of every parked wait at once when the run continues as a new one. */
export class ContinueRequested extends Error {}

export class Waiting {
  // Continue-as-new happens only when every strand of work (the main path, or each person handled in
  // parallel) is parked in a wait it can resume from: never with an activity in flight.
  private strands = 1;
  private parked = 0;
  private continuing = false;
  private continueRefused = false;

  constructor(private readonly run: RunState) {}

  /**
   * Sleeps until `target`, or until an operator sends `recheckNow` or `cancel`. Never sleeps past the
   * deadline: a request that cannot finish in time fails loudly (an extension moves the deadline).
   */
  async pauseUntil(target: number, resumable = false): Promise<void> {
    const run = this.run;
    const seq = run.recheckSeq;
    for (;;) {
      if (run.cancellation) throw new CancelRequested();
      if (this.continuing) throw new ContinueRequested();
      if (now() >= run.deadline.getTime()) {
        throw ApplicationFailure.create({
          type: 'DeadlinePassed',
          nonRetryable: true,
          message: `The ${run.input.regulation.toUpperCase()} deadline ${iso(run.deadline.getTime())} passed before the erasure could finish (phase ${run.phase()}): extend it (extendDeadline) or resolve the block, then submit the request again`,
        });
      }
      if (now() >= target || run.recheckSeq !== seq) return;
      let full = false;
      if (resumable) this.parked++;
      try {
        await condition(
          () => run.recheckSeq !== seq || run.cancellation !== undefined || this.continuing || (resumable && (full = this.mayContinue())),
          Math.max(1, Math.min(target, run.deadline.getTime()) - now()),
        );
      } finally {
        if (resumable) this.parked--;
      }
      // Histories recorded before this existed never continued here: they replay as they ran.
      if (full && !this.continuing && !run.cancellation && run.recheckSeq === seq) {
        if ((run.lean || patched(CONTINUE_PATCH)) && run.nextRunAccepted()) this.continuing = true;
        else this.continueRefused = true;
      }
    }
  }

  /** Every strand is parked in a resumable wait and the history is long: the run may continue as a new one. */
  private mayContinue(): boolean {
    const run = this.run;
    if (this.continueRefused || this.continuing || run.closing || run.terminal || run.cancellation || this.parked === 0 || this.parked < this.strands)
      return false;
    const i = workflowInfo();
    return i.continueAsNewSuggested || i.historyLength >= run.tuning.continueAfterEvents;
  }

  /**
   * Runs a Comeet activity; a failure that a person has to fix (credentials, permission, an API
   * that changed, Comeet down for long) parks the request in `needs_attention` and retries it every
   * few hours or on `recheckNow`, instead of failing the request.
   */
  async withAttention<T>(what: string, call: () => Promise<T>, resumable = true): Promise<T> {
    const run = this.run;
    for (;;) {
      if (run.cancellation) throw new CancelRequested();
      try {
        const result = await call();
        if (run.attention) {
          run.attention = undefined;
          run.addEvent('attention_cleared', what);
          run.sync();
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
          await this.waitWhileTenantPaused(what, resumable);
          continue;
        }
        // Any failure naming a permission (403 no_permission, emails hidden from a lookup) names it to the operator.
        const named = cause instanceof ApplicationFailure ? (cause.details?.[0] as Partial<NoPermissionDetails> | undefined)?.permission : undefined;
        const permission = typeof named === 'string' ? named : undefined;
        const reason = cause?.message ?? err.message;
        const attention = run.attention;
        if (!attention || attention.code !== code) run.addEvent('needs_attention', `${what}: ${reason}`);
        run.attention = { code, reason, permission, since: attention?.since ?? iso(now()), nextRetryAt: iso(now() + run.tuning.attentionRetryMs) };
        run.sync();
        await this.pauseUntil(now() + run.tuning.attentionRetryMs, resumable);
      }
    }
  }

  /**
   * The tenant was paused (an incident): its account is not called until it resumes. The check asks the
   * worker (no Comeet call, off the capped queue); a resume nudges waiting requests through recheckNow.
   */
  private async waitWhileTenantPaused(what: string, resumable: boolean): Promise<void> {
    const run = this.run;
    if (!run.tenantPaused) {
      run.tenantPaused = true;
      run.addEvent('tenant_paused', `${what}: tenant ${run.tenant} is paused; waiting for it to resume`);
      run.sync();
    }
    for (;;) {
      await this.pauseUntil(now() + run.tuning.tenantPauseCheckMs, resumable);
      if (!(await tenantState.tenantPaused({ tenant: run.tenant }))) break;
    }
    run.tenantPaused = false;
    run.addEvent('tenant_resumed', `tenant ${run.tenant} resumed; ${what} goes on`);
    run.sync();
  }

  // --- per-person handling ----------------------------------------------------------------------

  /** The run's record of a person a lookup found (a person found again starts over as pending). */
  record(found: FoundPerson): PersonRecord {
    const persons = this.run.persons;
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

  /** Erases every person found, each in parallel. */
  async handleAll(found: FoundPerson[]): Promise<void> {
    this.run.stage = 'handling';
    await this.handleEach(
      found.map((f) => this.record(f)),
      false,
    );
  }

  /** Erases these persons in parallel; `resumed`: each goes on from the wait the previous run left it in. */
  async handleEach(list: PersonRecord[], resumed: boolean): Promise<void> {
    this.strands = list.length;
    const results = await Promise.allSettled(list.map((p) => this.handlePerson(p, resumed).finally(() => this.strands--)));
    this.strands = 1;
    // Wait for every person before deciding, so no erase call is left in flight unaccounted for.
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const cause = failed.find((r) => !(r.reason instanceof ContinueRequested)) ?? failed[0];
    if (cause) throw cause.reason;
  }

  /** Erases one person, waiting out interview blocks; other persons go on meanwhile. */
  private async handlePerson(p: PersonRecord, resumed = false): Promise<void> {
    const run = this.run;
    if (!resumed) p.blockedBefore = false;
    // A resumed person waits out what it was waiting for: its next check, or the attention retry.
    else if (p.state === 'blocked' && p.nextCheckAt) await this.pauseUntil(Date.parse(p.nextCheckAt), true);
    else if (run.attention) await this.pauseUntil(Date.parse(run.attention.nextRetryAt), true);
    for (;;) {
      if (run.cancellation) throw new CancelRequested();
      p.state = 'erasing';
      p.nextCheckAt = undefined;
      run.sync();
      try {
        const r = await this.withAttention(`erase person ${p.personUid}`, () => {
          p.attempts++;
          run.eraseAttempts++;
          return run.comeet('erase').erasePerson({ personUid: p.personUid, mode: run.input.mode });
        });
        p.state = 'erased';
        p.blockingCandidateUids = [];
        p.expectedClearAt = undefined;
        p.erasedAt = r.erasedAt;
        if (p.firstBlockedAt !== undefined)
          workflowMetrics().blockedDuration.record((now() - p.firstBlockedAt) / 1000, { mode: run.input.mode, tenant: run.tenant });
        p.alreadyGone = r.alreadyGone;
        // A 404 may follow our own delete whose answer was lost: the candidates the lookup found are
        // gone either way, and the verifying lookup below proves it; report them rather than none.
        const gone = r.alreadyGone ? p.candidates.map((c) => c.uid) : r.candidateUids;
        p.erasedCandidateUids = [...new Set([...(p.erasedCandidateUids ?? []), ...gone])];
        run.addEvent(r.alreadyGone ? 'already_gone' : 'erased', `person ${p.personUid}: ${r.count} candidate(s)`);
        run.sync();
        return;
      } catch (err) {
        const details = interviewBlock(err);
        if (!details) throw err;
        p.state = 'blocked';
        p.firstBlockedAt ??= now();
        p.blockingCandidateUids = details.blockingCandidateUids;
        if (p.blockedBefore && details.blockingCandidateUids.length) {
          // Still blocked after we expected the interviews to be over: the schedule we knew is stale.
          const fresh = await this.withAttention(`interview schedule of person ${p.personUid}`, async () => {
            if (!(run.lean || patched(LOOKUP_PAGES_PATCH))) return run.comeet('read').getInterviewSchedules({ candidateUids: details.blockingCandidateUids });
            // One activity per candidate: each read is one dispatch on the capped queue.
            const out: FoundCandidate[] = [];
            for (const candidateUid of details.blockingCandidateUids) out.push(await run.comeet('read').getCandidateSchedule({ candidateUid }));
            return out;
          });
          p.candidates = [...p.candidates.filter((c) => !fresh.some((f) => f.uid === c.uid)), ...fresh];
        }
        p.blockedBefore = true;
        const target = this.nextAttemptAt(p, details.blockingCandidateUids);
        p.nextCheckAt = iso(target);
        run.addEvent('blocked', `person ${p.personUid} by candidate(s) ${details.blockingCandidateUids.join(', ')}; re-check at ${p.nextCheckAt}`);
        run.sync();
        await this.pauseUntil(target, true);
      }
    }
  }

  /** Just after the latest known interview; with no usable schedule, back off 1 h → 24 h. */
  private nextAttemptAt(p: PersonRecord, blocking: string[]): number {
    const { tuning } = this.run;
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
}
