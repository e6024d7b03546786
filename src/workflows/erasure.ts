/**
 * The DSAR erasure state machine: look up → wait for interviews → erase → verify, per person,
 * durable across restarts, steerable by operators through the messages defined at the top.
 * Beside it: the run's state (run-state.ts), its waits and each person's loop (waiting.ts), the
 * callers' registrations (registrations.ts), the follow-up workflow (follow-up.ts).
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
  setHandler,
  setWorkflowOptions,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { FoundPerson, ReceiptDraft, SealedAbsence } from '../activities/index.js';
import type { ReceiptClaims } from '../receipt/schema.js';
import type { CallbackPayload } from '../callbacks/payload.js';
import { isUnencrypted, NOT_ENCRYPTED, unencryptedStartFailure } from '../codec/unencrypted.js';
import { maxExtendedDeadline } from '../deadlines.js';
import { describeIssues } from '../describe-issues.js';
import type { AttachAnswer, CancelRequest, CancelResult, ExtendDeadlineRequest, RecheckRequest } from '../erasure-messages.js';
import type { AttachRequest, ErasureInput } from '../erasure-request.js';
import type { ErasedPerson, ErasureResult, ErasureStatus, Outcome, Phase } from '../erasure-status.js';
import type { FollowUpInput } from '../follow-up.js';
import { deadlinePriority } from '../priorities.js';
import { boundedKeywords } from '../requests.js';
import { DsarAtRisk, DsarCallers, DsarDeadline, DsarMode, DsarPhase, DsarRequestIds, REQUESTS_MEMO } from '../search-attributes.js';
import { DEFAULT_TENANT_ID } from '../tenants/model.js';
import { ERASURE_WORKFLOW_ID, isKeyedWorkflowId, tenantOfWorkflowId } from '../workflow-ids.js';
import { callbackActivities, signingActivities } from './activity-profiles.js';
import { invalidWorkflowIdFailure } from './failures.js';
import { dsarFollowUp } from './follow-up.js';
import { checkErasureInput } from './input-guard.js';
import { groupByPerson, pagedLookup } from './lookup.js';
import { workflowMetrics } from './metrics.js';
import { draftOf, receiptClaims } from './receipt-claims.js';
import { memoRegistration, Registrations } from './registrations.js';
import { iso, now, RunState } from './run-state.js';
import { CancelRequested, ContinueRequested, Waiting } from './waiting.js';
import {
  CANCEL_CALLBACK_PATCH,
  FAILURE_CALLBACK_PATCH,
  LEAN_PATH_PATCH,
  LOOKUP_PAGES_PATCH,
  QUEUED_AFTER_FAILED_DRY_RUN_PATCH,
  QUEUED_CANCELLED_CALLBACK_PATCH,
  RECEIPT_PATCH,
  versioned,
} from './versioning.js';

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
  const run = new RunState(input, tenant);
  // Before any handler is set: a signal buffered with the start is delivered at setHandler and must see it.
  run.lean = patched(LEAN_PATH_PATCH);
  // Fixed for the run (the objects change, never which ones they are).
  const { tuning, resume, startedAt, receivedAt, runsContinued, persons, requests } = run;
  const waits = new Waiting(run);
  const registrations = new Registrations(run);
  const info = workflowInfo();
  const readPriority = () => deadlinePriority(run.priorityDeadline(), Date.now());
  // Lookup children started by this run; their ids must come out the same on replay.
  let lookupChildren = 0;
  // The proof the last lookup signed as it found nobody, and the claims it was asked to sign.
  let sealed: { draft: ReceiptDraft; receipt: SealedAbsence } | undefined;

  // --- message handlers, set before the first await ---------------------------------------
  /** A signal that arrived in clear reached us only as the marker: dropped, and said so in the events. */
  function refusedInClear(signal: string, arg: unknown): boolean {
    if (!isUnencrypted(arg)) return false;
    run.addEvent('signal_refused', `${signal}: ${NOT_ENCRYPTED}; its input sits in this history in clear`, 'unknown');
    log.warn('Refused a signal that arrived unencrypted', { signal });
    return true;
  }

  setHandler(statusQuery, () => run.status());

  setHandler(attachRequestUpdate, (req) => registrations.attach(req), { validator: (req) => registrations.validateAttach(req) });

  setHandler(attachRequestSignal, (req) => {
    if (refusedInClear('attachRequest', req)) return;
    registrations.attachSignal(req);
  });

  setHandler(recheckNowSignal, (req) => {
    if (refusedInClear('recheckNow', req)) return;
    run.recheckSeq++;
    run.addEvent('recheck_requested', undefined, req?.actor ?? 'unknown');
  });

  setHandler(cancelSignal, (req) => {
    if (refusedInClear('cancel', req)) return;
    const refusal = run.cancelRefusal(req);
    if (refusal) return run.addEvent('cancel_refused', refusal, req?.actor ?? 'unknown');
    run.acceptCancel(req);
  });

  setHandler(cancelUpdate, (req) => run.acceptCancel(req), {
    validator: (req) => {
      if (isUnencrypted(req)) throw new Error(`cancel ${NOT_ENCRYPTED}`);
      const refusal = run.cancelRefusal(req);
      if (refusal) throw new Error(refusal);
    },
  });

  setHandler(
    extendDeadlineUpdate,
    (req) => {
      const previous = iso(run.deadline.getTime());
      run.deadline = new Date(req.deadline);
      run.addEvent('deadline_extended', `${previous} → ${iso(run.deadline.getTime())}${req.reason ? `: ${req.reason}` : ''}`, req.actor ?? 'unknown');
      run.sync();
      return iso(run.deadline.getTime());
    },
    {
      validator: (req) => {
        if (isUnencrypted(req)) throw new Error(`extendDeadline ${NOT_ENCRYPTED}`);
        if (run.terminal) throw new Error(`the request already ended (${run.terminal})`);
        const d = Date.parse(req?.deadline ?? '');
        if (Number.isNaN(d)) throw new Error('deadline must be an ISO 8601 date-time such as 2026-06-01T00:00:00Z');
        if (d <= run.deadline.getTime()) throw new Error(`the new deadline must be later than the current one (${iso(run.deadline.getTime())})`);
        const max = maxExtendedDeadline(input.regulation, receivedAt).getTime();
        if (d > max) {
          const rule = input.regulation === 'gdpr' ? 'GDPR allows two further months' : 'CCPA allows one extension of 45 days';
          throw new Error(`the new deadline is past ${iso(max)}: ${rule} beyond the original deadline`);
        }
      },
    },
  );

  function lookUp(purpose: 'look up' | 'verify absence'): Promise<FoundPerson[]> {
    return waits.withAttention(purpose, async () => {
      run.lookups++;
      sealed = undefined;
      if (run.lean || patched(LOOKUP_PAGES_PATCH)) {
        // Whether a signing activity follows is decided by this result, as recorded: histories whose
        // lookups returned no receipt replay through signReceipt.
        const draft = receiptDraft(purpose === 'look up' ? 'no_data' : 'completed');
        const { found, receipt } = await pagedLookup(input.email, {
          profile: 'erasure',
          priorityKey: readPriority,
          childId: () => `${info.workflowId}-lookup-${++lookupChildren}`,
          pagesPerRun: tuning.lookupPagesPerRun,
          ...(draft ? { receipt: draft } : {}),
        });
        if (draft && receipt) sealed = { draft, receipt };
        return groupByPerson(found);
      }
      const acts = run.comeet('read');
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
      deadline: iso(run.deadline.getTime()),
      startedAt: iso(startedAt.getTime()),
      finishedAt: iso(now()),
      persons: erased,
      totals: { persons: erased.length, candidates: erased.reduce((n, p) => n + p.count, 0) },
      lookups: run.lookups,
      eraseAttempts: run.eraseAttempts,
      cancellation: run.cancellation,
      ...extra,
    };
  }

  async function finish(outcome: Outcome, extra?: Partial<ErasureResult>): Promise<ErasureResult> {
    // Added after the first histories were recorded: runs that finished without receipts replay as before.
    const r = result(outcome, extra);
    const signed = (outcome === 'completed' || outcome === 'no_data') && (run.lean || patched(RECEIPT_PATCH)) ? await receipt(r) : undefined;
    run.terminal = outcome === 'completed' ? 'completed' : outcome;
    run.addEvent('finished', outcome);
    run.sync();
    registrations.publishClosingMemo();
    const final = { ...r, ...signed };
    recordFinished(outcome);
    // A cancelled dry run hands over to nobody: the real requests queued behind it end with it.
    const queuedEnd = outcome === 'cancelled' ? endQueue() : undefined;
    // The outcome is decided: a Temporal cancel arriving now must not cut the callers off from it.
    await CancellationScope.nonCancellable(() =>
      notifyCallers(
        {
          outcome,
          finishedAt: final.finishedAt,
          verifiedAbsentAt: final.verifiedAbsentAt,
          totals: final.totals,
          receipt: final.receipt,
          receiptKeyId: final.receiptKeyId,
        },
        queuedEnd,
      ),
    );
    await condition(allHandlersFinished);
    return final;
  }

  function recordFinished(outcome: Outcome | 'failed'): void {
    const m = workflowMetrics();
    m.erasuresFinished.add(1, { outcome, mode: input.mode, tenant });
    m.erasureDuration.record((now() - startedAt.getTime()) / 1000, { outcome, tenant });
  }

  /**
   * Tells every caller that asked for a callback how the request ended; never fails the request. The
   * real requests queued behind a dry run are told only when `queuedEnd` says how their own request
   * ended (else their run, next, tells them), in their own terms: their mode, not a dry run.
   */
  async function notifyCallers(
    payload: Omit<CallbackPayload, 'event' | 'id' | 'runId' | 'requestId' | 'mode' | 'regulation' | 'dryRun'>,
    queuedEnd?: Pick<CallbackPayload, 'failure'>,
  ): Promise<void> {
    const due = requests.filter((r) => owedCallback(r) && (queuedEnd || !r.queued));
    if (!due.length) return;
    await Promise.all(
      due.map(async (r) => {
        r.callback = 'pending';
        // The dry run's totals and persons are its own: the queued request never ran.
        const own = r.queued
          ? {
              mode: r.mode,
              regulation: r.regulation,
              dryRun: false,
              outcome: payload.outcome,
              finishedAt: payload.finishedAt,
              totals: { persons: 0, candidates: 0 },
              ...queuedEnd,
            }
          : { mode: input.mode, regulation: input.regulation, dryRun: input.dryRun, ...payload };
        const body: CallbackPayload = {
          event: 'erasure.finished',
          id: info.workflowId,
          runId: info.runId,
          ...(r.requestId ? { requestId: r.requestId } : {}),
          ...own,
        };
        try {
          await callbackActivities(tuning.callbackRetryMs).deliverCallback({ url: r.callbackUrl!, payload: body });
          r.callback = 'delivered';
          run.addEvent('callback_delivered', r.requestId);
        } catch (err) {
          r.callback = 'failed';
          r.callbackError = err instanceof ActivityFailure ? (err.cause?.message ?? err.message) : String(err);
          run.addEvent('callback_failed', `${r.requestId ?? ''}: ${r.callbackError}`);
          log.warn('Callback could not be delivered', { requestId: r.requestId, error: r.callbackError });
        }
      }),
    );
  }

  /** A caller who asked for a callback and has not been sent one yet. */
  function owedCallback(r: (typeof requests)[number]): boolean {
    return !!r.callbackUrl && !r.callback;
  }

  /**
   * A cancel ends a dry run's queue: a real request arriving while the run tells its callers is
   * refused (`request_finishing`, retryable) instead of queued behind a run that will not hand over,
   * and the callers of those already queued hear that they never ran (the failure text returned,
   * undefined when none is owed a callback). Dry runs recorded before it did neither.
   */
  function endQueue(): Pick<CallbackPayload, 'failure'> | undefined {
    if (!input.dryRun || !patched(QUEUED_CANCELLED_CALLBACK_PATCH)) return undefined;
    run.closing = true;
    if (!requests.some((r) => r.queued && owedCallback(r))) return undefined;
    return {
      failure:
        'cancelled while queued behind a dry run for the same person, before this request started: nothing was erased for it; submit it again, with a new requestId, to erase',
    };
  }

  /** After the run's own outcome was told, a Temporal cancel ends the requests queued behind it: their callers hear it. */
  async function tellQueuedCancelled(): Promise<void> {
    const queuedEnd = endQueue();
    if (queuedEnd) await CancellationScope.nonCancellable(() => notifyCallers({ outcome: 'cancelled', finishedAt: iso(now()) }, queuedEnd));
  }

  /** What the run signs of a result; none for a run started outside our client (no keyed-hash id to name its subject). */
  function claimsOf(r: ErasureResult, verifiedAbsentAt: string): ReceiptClaims | undefined {
    const subjectHash = ERASURE_WORKFLOW_ID.exec(info.workflowId)?.groups?.['hash'];
    return subjectHash ? receiptClaims(r, verifiedAbsentAt, { workflowId: info.workflowId, runId: info.runId, subjectHash, dryRun: input.dryRun }) : undefined;
  }

  /** The claims a lookup signs if it proves absence now, but its two times. */
  function receiptDraft(outcome: 'completed' | 'no_data'): ReceiptDraft | undefined {
    const claims = claimsOf(result(outcome), '');
    return claims && draftOf(claims);
  }

  /** The proof of erasure; a run started outside our client (no keyed-hash id) cannot name its subject. */
  async function receipt(
    r: ErasureResult,
  ): Promise<(Pick<ErasureResult, 'receipt' | 'receiptKeyId'> & Partial<Pick<ErasureResult, 'finishedAt'>>) | undefined> {
    const claims = r.verifiedAbsentAt ? claimsOf(r, r.verifiedAbsentAt) : undefined;
    if (!claims) {
      run.addEvent('receipt_skipped', 'the workflow id is not a keyed hash of the subject (started outside the dsar client)');
      return undefined;
    }
    // The lookup that proved absence signed these very claims (unless, say, the deadline was extended meanwhile).
    if (sealed && JSON.stringify(sealed.draft) === JSON.stringify(draftOf(claims))) {
      run.addEvent('receipt_signed', `key ${sealed.receipt.keyId}, with the lookup that proved absence`);
      return { receipt: sealed.receipt.jws, receiptKeyId: sealed.receipt.keyId, finishedAt: sealed.receipt.verifiedAbsentAt };
    }
    const { jws, keyId } = await waits.withAttention('sign the receipt', () => signingActivities.signReceipt(claims), false);
    run.addEvent('receipt_signed', `key ${keyId}`);
    return { receipt: jws, receiptKeyId: keyId };
  }

  // --- main path ------------------------------------------------------------------------------
  if (input.caller && !resume) run.addEvent(input.requests ? 'continued' : 'requested', input.requestId, input.caller);
  run.sync();
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
        const r = await finish('no_data', { verifiedAbsentAt: sealed?.receipt.verifiedAbsentAt ?? iso(now()) });
        await continueAsQueued();
        return r;
      }
      for (const f of found) waits.record(f);
      run.addEvent('found', `${found.length} person(s), ${found.reduce((n, f) => n + f.candidates.length, 0)} candidate(s)`);
      if (input.dryRun) {
        const r = await finish('dry_run', { wouldErase: found.map((f) => ({ personUid: f.personUid, candidateUids: f.candidates.map((c) => c.uid) })) });
        await continueAsQueued();
        return r;
      }
      run.round = 0;
      await waits.handleAll(found);
    } else if (resume.stage === 'handling') {
      // Every person the lookup found is known: no second lookup, each goes on from its own wait.
      run.stage = 'handling';
      await waits.handleEach(
        [...persons.values()].filter((p) => p.state !== 'erased'),
        true,
      );
    }

    let verifiedAbsentAt: string | undefined;
    let resumedVerify = resume?.stage === 'verifying';
    for (; verifiedAbsentAt === undefined; run.round++) {
      run.stage = 'verifying';
      run.sync();
      if (resumedVerify) await resumedWait();
      resumedVerify = false;
      const remaining = await lookUp('verify absence');
      if (remaining.length === 0) {
        verifiedAbsentAt = sealed?.receipt.verifiedAbsentAt ?? iso(now());
        run.addEvent('verified_absent');
        break;
      }
      const uids = remaining.map((r) => r.personUid).join(', ');
      if (run.round >= tuning.maxReerasures) {
        throw ApplicationFailure.create({
          type: 'VerificationFailed',
          nonRetryable: true,
          message: `Comeet still returns person(s) ${uids} for the subject after ${run.round} re-erasure(s) in ${input.mode} mode: check the account's pseudonymization settings or erase by hand`,
        });
      }
      run.addEvent('still_present', `person(s) ${uids}; erasing again`);
      if (tuning.verifyRetryMs > 0) await waits.pauseUntil(now() + tuning.verifyRetryMs);
      // A run continued during this re-erasure verifies next in the round after it.
      run.round++;
      await waits.handleAll(remaining);
      run.round--;
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
    // A dry run's queued requests were to run next: the cancel ends them, and their callers hear it.
    if (hardCancel && run.terminal) {
      await tellQueuedCancelled();
      throw err;
    }
    run.terminal = hardCancel ? 'cancelled' : 'failed';
    const sofar = result('cancelled');
    run.failure = hardCancel ? describeHardCancel(sofar) : err instanceof Error ? err.message : String(err);
    run.addEvent(run.terminal, run.failure);
    run.sync();
    registrations.publishClosingMemo();
    recordFinished(run.terminal === 'cancelled' ? 'cancelled' : 'failed');
    if (hardCancel && (run.lean || patched(CANCEL_CALLBACK_PATCH))) {
      const queuedEnd = endQueue();
      // Cleanup after a cancel runs in a scope the cancel cannot reach; the run still closes CANCELED.
      await CancellationScope.nonCancellable(() =>
        notifyCallers(
          {
            outcome: 'cancelled',
            finishedAt: sofar.finishedAt,
            totals: sofar.totals,
            ...(sofar.persons.length ? { persons: sofar.persons } : {}),
          },
          queuedEnd,
        ),
      );
    }
    if (run.terminal === 'failed') {
      const tell = () => notifyCallers({ outcome: 'failed', finishedAt: iso(now()), failure: run.failure });
      // The outcome is decided: a Temporal cancel arriving while it is told must not cut the callers off
      // from it (a run retrying a dead receiver is stopped with terminate). No marker when none is owed.
      const owed = requests.some((r) => !r.queued && owedCallback(r));
      await (owed && patched(FAILURE_CALLBACK_PATCH) ? CancellationScope.nonCancellable(tell) : tell());
    }
    // The dry run's failure is its own (its callers were just told): a real request queued behind it
    // still gets its run. Not after a Temporal cancel, which stops whatever the id holds.
    if (run.terminal === 'failed' && input.dryRun && requests.some((r) => r.queued) && patched(QUEUED_AFTER_FAILED_DRY_RUN_PATCH)) {
      try {
        await condition(allHandlersFinished);
      } catch (cancel) {
        // A Temporal cancel while the failure was told: it stops the id, so the queued requests end here.
        if (isCancellation(cancel)) await tellQueuedCancelled();
        throw cancel;
      }
      await continueAsQueued();
    }
    if (run.terminal === 'failed' && !(err instanceof ApplicationFailure)) {
      // Surface anything unexpected as a failed execution, not a workflow task retried forever.
      throw ApplicationFailure.create({ type: 'ErasureFailed', nonRetryable: true, message: run.failure, cause: err instanceof Error ? err : undefined });
    }
    throw err;
  }

  /** A resumed main path waits out the attention retry it was parked in (nothing else parks it resumably). */
  async function resumedWait(): Promise<void> {
    if (resume && run.attention) await waits.pauseUntil(Date.parse(run.attention.nextRetryAt), true);
  }

  /**
   * Continues this request in a new run under the same workflow id, with the state it needs to go on
   * (persons and their waits, counters, deadline, attention, registrations, the last events): a wait
   * of months with any number of persons and messages stays far under Temporal's history limits.
   * Runs only when every strand is parked, so no activity is in flight.
   */
  async function continueRun(): Promise<never> {
    run.addEvent('continued_as_new', `the history of run ${runsContinued + 1} reached ${workflowInfo().historyLength} events`);
    // An accepted update must finish in this run; signals after this point are carried by the server to the next.
    await condition(allHandlersFinished);
    const next = run.nextRunInput();
    // Checked when the run decided to continue; handlers that ran since cannot grow it past the bounds.
    const checked = checkErasureInput(next);
    if (!checked.success) {
      throw ApplicationFailure.create({
        type: 'ContinueAsNewFailed',
        nonRetryable: true,
        message: `The request could not go on in a new run: ${describeIssues(checked.error)}`,
      });
    }
    const { ids, callers } = registrations.keywords();
    return await makeContinueAsNewFunc<typeof dsarErasure>({
      memo: registrations.closingMemo(),
      typedSearchAttributes: [
        { key: DsarPhase, value: run.phase() },
        { key: DsarMode, value: input.mode },
        { key: DsarDeadline, value: run.deadline },
        { key: DsarAtRisk, value: run.atRiskReason() !== undefined },
        ...(ids.length ? [{ key: DsarRequestIds, value: ids }] : []),
        ...(callers.length ? [{ key: DsarCallers, value: callers }] : []),
      ],
    })(next);
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
    run.closing = true;
    if (!input.dryRun) return;
    const next = requests.find((r) => r.queued);
    if (!next) return;
    run.addEvent('continuing', `as the queued ${next.mode} request ${next.requestId ?? ''}`.trim(), next.caller ?? 'workflow');
    const carried = requests.map(({ hasCallback: _h, queued: _q, legacy: _l, ...r }) => r);
    const ids = boundedKeywords(requests.map((r) => r.requestId).filter((id): id is string => !!id));
    const callers = boundedKeywords(requests.map((r) => r.caller).filter((c): c is string => !!c));
    await makeContinueAsNewFunc<typeof dsarErasure>({
      memo: { [REQUESTS_MEMO]: requests.map((r) => ({ ...memoRegistration(r), queued: undefined })) },
      typedSearchAttributes: [
        { key: DsarPhase, value: 'looking_up' satisfies Phase },
        { key: DsarMode, value: next.mode },
        { key: DsarDeadline, value: run.deadline },
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
      deadline: iso(run.deadline.getTime()),
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
    run.addEvent('follow_up_scheduled', `${workflowId} at ${at}`);
    return { workflowId, at };
  }
}
