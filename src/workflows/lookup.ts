/**
 * Paged lookups as workflow code: every page is one `lookupPage` activity (one Comeet call) on the
 * capped queue, so the server's cap counts Comeet calls, not lookups. The workflow carries the
 * cursor (no email in it) and the minimal matches; the hidden-email decision stays in the client,
 * which reads the counts the cursor carries when it reads the last page.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  continueAsNew,
  executeChild,
  proxyActivities,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities, FoundCandidate, FoundPerson, ReceiptDraft, SealedAbsence } from '../activities/index.js';
import type { LookupProgress } from '../comeet/client.js';
import { isUnencrypted, unencryptedStartFailure } from '../codec/unencrypted.js';
import { comeetTaskQueue } from '../task-queues.js';
import { isKeyedWorkflowId, tenantOfWorkflowId } from '../workflow-ids.js';

/** Transient faults (5xx, resets, 429 with its own delay) retry ~10 times over ~10 minutes. */
export const transientRetry: ActivityOptions['retry'] = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '2 minutes',
  maximumAttempts: 10,
};

/** A follow-up has days to spare: it retries for about two days before it reports a failure. */
const followUpRetry: ActivityOptions['retry'] = { initialInterval: '1 minute', backoffCoefficient: 2, maximumInterval: '1 hour', maximumAttempts: 48 };

export type ReadProfile = 'erasure' | 'follow-up';

/** Comeet reads on the capped queue; they heartbeat, so an attempt lost with its worker retries after 30 s. */
export function comeetReads(profile: ReadProfile, priorityKey: number) {
  return proxyActivities<Activities>({
    taskQueue: comeetTaskQueue(workflowInfo().taskQueue, tenantOfWorkflowId(workflowInfo().workflowId)),
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '30 seconds',
    retry: profile === 'erasure' ? transientRetry : followUpRetry,
    priority: { priorityKey },
  });
}

/**
 * Pages a parent reads itself before it hands the rest to a `dsarLookup` child: the common lookup
 * (one page) costs the parent no child, and a scan of 1,000 pages costs it one child's few events.
 */
export const INLINE_PAGES = 5;

export interface PagedLookupOptions {
  profile: ReadProfile;
  /** Read per page: the parent's priority follows its deadline, which an operator may extend. */
  priorityKey: () => number;
  /** A fresh id per child, derived from the parent's (never from the email). */
  childId: () => string;
  /** Pages one run of the child reads before it continues as new. */
  pagesPerRun: number;
  /** The proof to sign if the lookup finds nobody; sent with each inline page while nothing was found. */
  receipt?: ReceiptDraft;
}

export interface PagedLookup {
  found: FoundCandidate[];
  /** Signed by the last page's activity (absent if it was not asked for, someone was found, or signing failed). */
  receipt?: SealedAbsence;
}

/** Every candidate whose email is the subject's, one Comeet call per activity. */
export async function pagedLookup(email: string, options: PagedLookupOptions): Promise<PagedLookup> {
  const found = new Map<string, FoundCandidate>();
  let progress: LookupProgress | undefined;
  for (let pages = 0; ; pages++) {
    if (pages >= INLINE_PAGES && progress) return { found: await inChild(email, progress, [...found.values()], options) };
    const receipt = found.size === 0 ? options.receipt : undefined;
    const page = await comeetReads(options.profile, options.priorityKey()).lookupPage({
      email,
      ...(progress ? { progress } : {}),
      ...(receipt ? { receipt } : {}),
    });
    addFound(found, page.found);
    if (page.done || !page.progress) return { found: [...found.values()], ...(page.receipt && found.size === 0 ? { receipt: page.receipt } : {}) };
    progress = page.progress;
  }
}

async function inChild(email: string, progress: LookupProgress, found: FoundCandidate[], options: PagedLookupOptions): Promise<FoundCandidate[]> {
  try {
    const r = await executeChild(dsarLookup, {
      workflowId: options.childId(),
      args: [{ email, progress, found, profile: options.profile, priorityKey: options.priorityKey(), pagesPerRun: options.pagesPerRun }],
      staticSummary: `DSAR lookup from page ${progress.pagesRead + 1}`,
    });
    return r.found;
  } catch (err) {
    // The parent decides on the activity's failure (needs_attention, a named permission), as if it had read the page itself.
    if (err instanceof ChildWorkflowFailure && err.cause instanceof ActivityFailure) throw err.cause;
    throw err;
  }
}

export interface LookupInput {
  email: string;
  /** The cursor of the next page (never done). */
  progress: LookupProgress;
  /** Matches of the pages read so far. */
  found: FoundCandidate[];
  profile: ReadProfile;
  priorityKey: number;
  pagesPerRun: number;
}

export interface LookupOutput {
  found: FoundCandidate[];
}

/** A lookup child runs under its parent's id (an erasure or a follow-up) + `-lookup-` + a number. */
const LOOKUP_WORKFLOW_ID = /^(.+)-lookup-\d+$/;

/** The rest of a long lookup (a scan); continues as new every `pagesPerRun` pages to keep its history short. */
export async function dsarLookup(input: LookupInput): Promise<LookupOutput> {
  if (isUnencrypted(input)) throw unencryptedStartFailure();
  const parent = LOOKUP_WORKFLOW_ID.exec(workflowInfo().workflowId)?.[1];
  if (!parent || !(isKeyedWorkflowId(parent) || isKeyedWorkflowId(parent, 'followUp'))) {
    throw ApplicationFailure.create({
      type: 'InvalidWorkflowId',
      nonRetryable: true,
      message: 'A lookup runs only as the child of an erasure or a follow-up (its id is theirs + -lookup-n); nothing was looked up',
    });
  }
  const found = new Map(input.found.map((f) => [f.uid, f]));
  const acts = comeetReads(input.profile, input.priorityKey);
  let progress = input.progress;
  for (let pages = 0; ; pages++) {
    if (pages >= Math.max(1, input.pagesPerRun) || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof dsarLookup>({ ...input, progress, found: [...found.values()] });
    }
    const page = await acts.lookupPage({ email: input.email, progress });
    addFound(found, page.found);
    if (page.done || !page.progress) return { found: [...found.values()] };
    progress = page.progress;
  }
}

function addFound(found: Map<string, FoundCandidate>, page: FoundCandidate[]): void {
  for (const f of page) if (!found.has(f.uid)) found.set(f.uid, f);
}

export function groupByPerson(found: FoundCandidate[]): FoundPerson[] {
  const byPerson = new Map<string, FoundCandidate[]>();
  for (const f of found) byPerson.set(f.personUid, [...(byPerson.get(f.personUid) ?? []), f]);
  return [...byPerson.entries()].map(([personUid, candidates]) => ({ personUid, candidates }));
}
