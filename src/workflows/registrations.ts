/**
 * The callers' requests an erasure run serves: whether a second request for the same person replays,
 * joins, queues behind a dry run or is refused (the rules of `requests.ts`), and how the registrations
 * are published (search attribute lists, the memo that a closed run answers replays from).
 */
import { ApplicationFailure, patched, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { isUnencrypted, NOT_ENCRYPTED } from '../codec/unencrypted.js';
import { describeIssues } from '../describe-issues.js';
import type { AttachAnswer } from '../erasure-messages.js';
import type { AttachRequest } from '../erasure-request.js';
import { boundedKeywords, compareRequest, type Decision, type RegisteredRequest } from '../requests.js';
import { DsarCallers, DsarRequestIds, REQUESTS_MEMO, REQUESTS_MEMO_TOTAL } from '../search-attributes.js';
import { refusal } from './failures.js';
import { checkAttachRequest } from './input-guard.js';
import { iso, now, type Registration, type RunState } from './run-state.js';
import { CONTINUE_PATCH, REQUESTS_MEMO_PATCH } from './versioning.js';

/** Registrations mirrored into the memo on every attach (the bound before floods were allowed); past it, once at the end. */
const MEMO_EAGER_REQUESTS = 25;
/**
 * The closing memo stays under the server's 512 KB payload warning (2 MB refuses): 1,024 registrations
 * of which 100 with a 2 KiB callback URL fit, so every id of a closed run still answers its replays.
 */
const MAX_MEMO_BYTES = 480 * 1024;

export class Registrations {
  // The request that started this run answers `started` to its own attachRequest; a continued run was confirmed before.
  private starterConfirmed: boolean;
  // A continued run got the lists with its start: only a change is upserted.
  private publishedKeywords: string | undefined;

  constructor(private readonly run: RunState) {
    this.starterConfirmed = !!run.input.requests;
    this.publishedKeywords = run.resume ? this.keywords().key : undefined;
  }

  /** The `attachRequest` update: the validator accepted it (an update's handler runs only then). */
  attach(req: AttachRequest): AttachAnswer {
    const parsed = checkAttachRequest(req);
    if (!parsed.success) throw new TypeError(`attachRequest: ${describeIssues(parsed.error)}`);
    const r = this.incomingOf(parsed.data);
    const d = this.decide(r, parsed.data.startToken);
    const answer = (status: AttachAnswer['status']): AttachAnswer => ({ status, runId: workflowInfo().runId, otherCallers: this.otherCallers(r) });
    switch (d.action) {
      case 'started':
        this.starterConfirmed = true;
        return answer('started');
      case 'replay':
        return answer('replayed');
      case 'attach':
      case 'queue':
        this.register(r, d.action === 'queue');
        return answer(d.action === 'queue' ? 'queued' : 'attached');
      case 'refuse':
        // The validator refused it already; state cannot change between the two in one activation.
        throw refusal(d);
    }
  }

  /** The `attachRequest` update's validator: a refusal the caller hears at once, with no trace in history. */
  validateAttach(req: AttachRequest): void {
    if (isUnencrypted(req)) throw new Error(`attachRequest ${NOT_ENCRYPTED}`);
    const parsed = checkAttachRequest(req);
    if (!parsed.success)
      throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: `Invalid request: ${describeIssues(parsed.error)}` });
    const d = this.decide(this.incomingOf(parsed.data), parsed.data.startToken);
    if (d.action === 'refuse') throw refusal(d);
  }

  /** The `attachRequest` signal (older clients): the same rules, a refusal recorded in the events. */
  attachSignal(req: AttachRequest): void {
    const parsed = checkAttachRequest(req);
    const actor = parsed.success ? (parsed.data.caller ?? parsed.data.requestId ?? 'unknown') : 'unknown';
    if (!parsed.success) return this.run.addEvent('attach_refused', describeIssues(parsed.error), actor);
    const r = this.incomingOf(parsed.data);
    const d = this.decide(r, parsed.data.startToken);
    if (d.action === 'started') this.starterConfirmed = true;
    else if (d.action === 'refuse') this.run.addEvent('attach_refused', d.message, actor);
    else if (d.action !== 'replay') this.register(r, d.action === 'queue');
  }

  /** The search attribute lists, bounded (the server ends a run whose keyword list passes 2 KiB). */
  keywords(): { ids: string[]; callers: string[]; key: string } {
    const requests = this.run.requests;
    const ids = boundedKeywords(requests.map((r) => r.requestId).filter((id): id is string => !!id));
    const callers = boundedKeywords(requests.map((r) => r.caller).filter((c): c is string => !!c));
    return { ids, callers, key: JSON.stringify([ids, callers]) };
  }

  /** The registrations a closed run answers replays from, bounded in bytes; the total says whether some were left out. */
  closingMemo(): Record<string, unknown> {
    const requests = this.run.requests;
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
  publishClosingMemo(): void {
    if (this.run.requests.length > MEMO_EAGER_REQUESTS) upsertMemo(this.closingMemo());
  }

  private incomingOf(req: AttachRequest): RegisteredRequest {
    const input = this.run.input;
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

  private isStarter(r: RegisteredRequest, startToken: string | undefined): boolean {
    const input = this.run.input;
    if (this.starterConfirmed) return false;
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

  private decide(r: RegisteredRequest, startToken?: string): Decision | { action: 'started' } {
    if (this.isStarter(r, startToken)) return { action: 'started' };
    const { input, terminal, closing, requests } = this.run;
    const own = { mode: input.mode, regulation: input.regulation, dryRun: input.dryRun };
    return compareRequest({ ...own, ended: terminal !== undefined, acceptsQueue: input.dryRun && !closing, requests }, r);
  }

  /** Records a joining or queued request; runs only after the rules accepted it. */
  private register(r: RegisteredRequest, queued: boolean): void {
    if (!r.requestId && !r.callbackUrl && !r.caller && !queued) return;
    // A queued request's clock starts when it arrived, not when the dry run hands over.
    const receivedAt = r.receivedAt ?? (queued ? iso(now()) : undefined);
    this.run.requests.push({ ...r, receivedAt, ...(queued ? { queued: true } : {}), hasCallback: !!r.callbackUrl });
    this.run.addEvent(queued ? 'request_queued' : 'request_attached', r.requestId, r.caller ?? r.requestId ?? 'unknown');
    this.publishRequests();
  }

  private publishRequests(): void {
    const requests = this.run.requests;
    const { ids, callers, key } = this.keywords();
    // Runs recorded before floods were allowed upserted on every attach.
    if (key !== this.publishedKeywords || !(this.run.lean || patched(CONTINUE_PATCH))) {
      this.publishedKeywords = key;
      upsertSearchAttributes([...(ids.length ? [{ key: DsarRequestIds, value: ids }] : []), ...(callers.length ? [{ key: DsarCallers, value: callers }] : [])]);
    }
    // Past the first registrations, a memo upsert per attach would grow the history by the whole list each time.
    // Runs from before the memo joined an attach with a search attribute upsert alone.
    if (requests.length <= MEMO_EAGER_REQUESTS && (this.run.lean || patched(REQUESTS_MEMO_PATCH)))
      upsertMemo({ [REQUESTS_MEMO]: requests.map(memoRegistration) });
  }

  private otherCallers(r: RegisteredRequest): boolean {
    return this.run.requests.some((x) => x.caller !== r.caller) || this.run.input.caller !== r.caller;
  }
}

/** A registration as the memo keeps it: what a replay is matched on. */
export function memoRegistration(r: Registration): RegisteredRequest {
  const { requestId, caller, mode, regulation, dryRun, callbackUrl, queued } = r;
  return { requestId, caller, mode, regulation, dryRun, callbackUrl, ...(queued ? { queued } : {}) };
}
