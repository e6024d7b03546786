/**
 * The one small typed API services, the CLI and the intake use to start and steer erasures.
 * Workflow ids are a keyed hash of the normalised email, so a repeat request attaches to the
 * running one and the email never appears in an id.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Connection,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, SearchAttributeType, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
// CommonJS package: Node's ESM loader only sees its default export.
import proto from '@temporalio/proto';
import type { ClientConfig } from './config.js';
import { normalizeEmail } from './email.js';
import { CONFLICT_CODES, differingParameters, sameRequest, type ConflictCode, type RegisteredRequest } from './requests.js';
import { regulationDeadline } from './deadlines.js';
import { describeIssues } from './describe-issues.js';
import type { CancelResult, AttachAnswer } from './erasure-messages.js';
import { erasureRequestSchema, type AttachRequest, type ErasureInput, type TuningInput } from './erasure-request.js';
import type { ErasureResult, ErasureStatus, Phase } from './erasure-status.js';
import {
  DsarAtRisk,
  DsarCallers,
  DsarDeadline,
  DsarMode,
  DsarPhase,
  DsarRequestIds,
  DsarTenant,
  REQUESTS_MEMO,
  SEARCH_ATTRIBUTES,
} from './search-attributes.js';
import { WORKFLOW_TYPE } from './workflow-ids.js';
import { ensureTenantAccepts } from './tenants/client.js';
import { DEFAULT_TENANT_ID, isTenantId, TENANT_ID_RULE } from './tenants/model.js';
import {
  attachRequestSignal,
  attachRequestUpdate,
  cancelUpdate,
  extendDeadlineUpdate,
  recheckNowSignal,
  statusQuery,
  type dsarErasure,
} from './workflows/index.js';

export type ErasureHandle = WorkflowHandle<typeof dsarErasure>;

/** Bad input from a caller: the message says what to fix and never quotes the values. */
export class InvalidErasureRequestError extends Error {
  override name = 'InvalidErasureRequestError';
}

/** The workflow refused a cancel; the message is its reason (already ended, erasure has started, ...). */
export class CancelRefusedError extends Error {
  override name = 'CancelRefusedError';
}

/**
 * The request cannot join the run for that person (see `requests.ts`): a requestId reused with other
 * parameters, or a request that asks for something else than the one under way. `retryable`: the
 * same request may succeed once the run under way ends.
 */
export class ErasureConflictError extends Error {
  override name = 'ErasureConflictError';
  constructor(
    readonly code: ConflictCode,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export const WORKFLOW_ID_PREFIX = 'dsar-';

/**
 * `dsar-` + 32 hex chars of HMAC-SHA256(key, normalised email) for the default tenant (the ids of the
 * single-account setup, unchanged); `dsar-<tenant>-` + the hash of tenant and email for any other, so
 * two tenants' requests for one address never meet.
 */
export function erasureWorkflowId(email: string, idKey: string, tenant: string = DEFAULT_TENANT_ID): string {
  if (tenant === DEFAULT_TENANT_ID) return WORKFLOW_ID_PREFIX + createHmac('sha256', idKey).update(normalizeEmail(email)).digest('hex').slice(0, 32);
  if (!isTenantId(tenant)) throw new InvalidErasureRequestError(`Invalid erasure request: ${TENANT_ID_RULE}`);
  return (
    `${WORKFLOW_ID_PREFIX}${tenant}-` +
    createHmac('sha256', idKey)
      .update(`${tenant}\n${normalizeEmail(email)}`)
      .digest('hex')
      .slice(0, 32)
  );
}

export interface StartOptions {
  taskQueue: string;
  idKey: string;
  /** Defaults for the workflow's timing; the request's own `tuning` wins. */
  tuning?: TuningInput;
}

export interface StartedErasure {
  workflowId: string;
  runId: string;
  /** started: a new run; attached: joined the run under way; replayed: this request was already on the run; queued: runs right after the dry run under way, under the same workflow id (runId is the dry run's). */
  status: AttachAnswer['status'];
  /** true when the request did not start the run (attached, replayed or queued). */
  attached: boolean;
  replayed: boolean;
  queued: boolean;
  /** The run carries requests of other callers. */
  otherCallers: boolean;
  /** Temporal's status of the run: RUNNING, or how a closed run ended for a replay. */
  runStatus: string;
  /** Follows the run chain (a queued request's run comes after the dry run's). */
  handle: ErasureHandle;
}

export function startOptionsFromConfig(config: ClientConfig, tuning?: TuningInput): StartOptions {
  return { taskQueue: config.TEMPORAL_TASK_QUEUE, idKey: config.DSAR_ID_KEY, tuning };
}

/**
 * Validates the request, then starts its workflow or joins the one under way for that person: a
 * running one's `attachRequest` validator answers at once whether it was taken, and a run that ends
 * meanwhile sends the request to a new run, so a request is never silently dropped. Throws
 * {@link ErasureConflictError} when the rules refuse it.
 */
export async function startErasure(client: Client, request: ErasureInput, options: StartOptions): Promise<StartedErasure> {
  const parsed = erasureRequestSchema.safeParse(request);
  if (!parsed.success) throw new InvalidErasureRequestError(`Invalid erasure request: ${describeIssues(parsed.error)}`);
  const input = parsed.data;
  if (input.requests || input.resume)
    throw new InvalidErasureRequestError('Invalid erasure request: requests and resume are set by the workflow itself, not by callers');
  const tuning = { ...options.tuning, ...input.tuning };
  const tenant = input.tenant ?? DEFAULT_TENANT_ID;
  await ensureTenantAccepts(client, tenant);
  const workflowId = erasureWorkflowId(input.email, options.idKey, tenant);
  const handle = client.workflow.getHandle<typeof dsarErasure>(workflowId);
  const incoming: RegisteredRequest = {
    requestId: input.requestId,
    caller: input.caller,
    mode: input.mode,
    regulation: input.regulation,
    dryRun: input.dryRun,
    callbackUrl: input.callbackUrl,
  };
  const outcome = (status: AttachAnswer['status'], runId: string, runStatus: string, otherCallers: boolean): StartedErasure => ({
    workflowId,
    runId,
    status,
    attached: status !== 'started',
    replayed: status === 'replayed',
    queued: status === 'queued',
    otherCallers,
    runStatus,
    handle,
  });

  // A closed run starts over on a new request (ALLOW_DUPLICATE), so a retried request must be
  // recognised here, from what the closed run recorded; a running one answers through its update.
  const replayOfClosed = async (): Promise<StartedErasure | undefined> => {
    if (!input.requestId) return undefined;
    const closed = await closedRun(client, workflowId, incoming);
    const existing = closed?.requests.find((r) => sameRequest(r, incoming));
    if (!closed || !existing) return undefined;
    const diff = differingParameters(existing, incoming);
    if (diff.length) {
      throw new ErasureConflictError(
        'request_conflict',
        `requestId ${input.requestId} was already used for this person with a different ${diff.join(', ')}: repeat the original parameters, or use a new requestId for a new request`,
        false,
      );
    }
    return outcome(
      'replayed',
      closed.runId,
      closed.status,
      closed.requests.some((r) => r.caller !== input.caller),
    );
  };

  // Without receivedAt the workflow uses its own start time (the server's clock); this estimate only
  // seeds the search attribute until the workflow's first task sets the exact value.
  const deadline = input.deadline ? new Date(input.deadline) : regulationDeadline(input.regulation, input.receivedAt ? new Date(input.receivedAt) : new Date());
  // The run tells this call's own update (it started the run) from a twin request by this token.
  const startToken = randomBytes(16).toString('hex');
  const args: ErasureInput = {
    ...(tenant !== DEFAULT_TENANT_ID ? { tenant } : {}),
    email: input.email,
    mode: input.mode,
    regulation: input.regulation,
    dryRun: input.dryRun,
    ...(input.receivedAt ? { receivedAt: input.receivedAt } : {}),
    ...(input.requestId ? { requestId: input.requestId } : {}),
    ...(input.deadline ? { deadline: input.deadline } : {}),
    ...(input.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
    ...(input.caller ? { caller: input.caller } : {}),
    ...(Object.keys(tuning).length ? { tuning } : {}),
    startToken,
  };
  const registered = !!(input.requestId || input.callbackUrl || input.caller);
  const startOptions = {
    taskQueue: options.taskQueue,
    workflowId,
    args: [args] as [ErasureInput],
    // A running request is joined (by the rules of its update), never twinned; a finished one may be asked again (a new DSAR).
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    typedSearchAttributes: [
      { key: DsarPhase, value: 'looking_up' satisfies Phase },
      { key: DsarMode, value: input.mode },
      { key: DsarDeadline, value: deadline },
      { key: DsarAtRisk, value: false },
      ...(input.requestId ? [{ key: DsarRequestIds, value: [input.requestId] }] : []),
      ...(input.caller ? [{ key: DsarCallers, value: [input.caller] }] : []),
      { key: DsarTenant, value: tenant },
    ],
    ...(registered ? { memo: { [REQUESTS_MEMO]: [incoming] } } : {}),
    staticSummary:
      `DSAR erasure · ${input.mode}${input.dryRun ? ' (dry run)' : ''} · ${input.regulation.toUpperCase()}` +
      (tenant !== DEFAULT_TENANT_ID ? ` · tenant ${tenant}` : '') +
      (input.requestId ? ` · request ${input.requestId}` : '') +
      (input.caller ? ` · by ${input.caller}` : ''),
  };
  const attach: AttachRequest = {
    mode: input.mode,
    regulation: input.regulation,
    dryRun: input.dryRun,
    ...(input.requestId ? { requestId: input.requestId } : {}),
    ...(input.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
    ...(input.caller ? { caller: input.caller } : {}),
    ...(input.receivedAt ? { receivedAt: input.receivedAt } : {}),
    ...(input.deadline ? { deadline: input.deadline } : {}),
    startToken,
  };
  for (let attempt = 1; ; attempt++) {
    const replayed = await replayOfClosed();
    if (replayed) return replayed;
    // A plain start, not update-with-start: a new run needs no answer from its workflow (its own
    // request is in its input), and the update's two events would be a sixth of a simple erasure's.
    try {
      const started = await client.workflow.start<typeof dsarErasure>(WORKFLOW_TYPE, {
        ...startOptions,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      });
      return outcome('started', started.firstExecutionRunId, 'RUNNING', false);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    if (!(await workersPolling(client, options.taskQueue))) {
      // No worker to answer the update (workers down, or a bulk load before they start): leave the
      // request at the running run as a signal; the rules apply when a worker runs it, and a refusal
      // then shows only as an `attach_refused` event.
      const d = await handle.describe();
      await handle.signal(attachRequestSignal, attach);
      return outcome('attached', d.runId, d.status.name, true);
    }
    try {
      const answer = await handle.executeUpdate(attachRequestUpdate, { args: [attach] });
      return outcome(answer.status, answer.runId, 'RUNNING', answer.otherCallers);
    } catch (err) {
      // The run ended between the start and the update (not found: it closed), or is ending: try again,
      // which starts a new run or replays from the closed one, so the request is never dropped.
      if (attempt < UPDATE_ATTEMPTS && (err instanceof WorkflowNotFoundError || transientUpdateRefusal(err))) {
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** (attempt - 1), 2000) * (0.5 + Math.random() / 2)));
        continue;
      }
      throw conflictOf(err) ?? err;
    }
  }
}

const UPDATE_ATTEMPTS = 12;

/**
 * Refusals the same update succeeds after: the server takes at most 10 updates in flight per workflow
 * (history.maxInFlightUpdates), and aborts (or refuses, "workflow is closing") those caught by a continue-as-new: the next run takes them.
 */
function transientUpdateRefusal(err: unknown): boolean {
  if (err instanceof WorkflowUpdateFailedError) return false;
  const cause = (err as { cause?: { code?: number; details?: string } } | undefined)?.cause;
  const text = `${err instanceof Error ? err.message : ''} ${cause?.details ?? ''}`;
  return cause?.code === 8 /* RESOURCE_EXHAUSTED */ || /in-flight updates|update was aborted|workflow is closing/i.test(text);
}

const pollerCache = new Map<string, { until: number; polling: Promise<boolean> }>();

/** Whether any worker polled the workflow queue lately (the server remembers pollers for minutes); a yes is cached for 5 s. */
function workersPolling(client: Client, taskQueue: string): Promise<boolean> {
  const key = `${client.options.namespace}/${taskQueue}`;
  const hit = pollerCache.get(key);
  if (hit && hit.until > Date.now()) return hit.polling;
  const polling = client.workflowService
    .describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    })
    .then((r) => (r.pollers?.length ?? 0) > 0)
    .catch(() => true);
  // Only a yes is kept: a worker that has just started must be seen at once.
  pollerCache.set(key, { until: Date.now() + 5000, polling });
  void polling.then((yes) => yes || pollerCache.delete(key));
  return polling;
}

function conflictOf(err: unknown): ErasureConflictError | InvalidErasureRequestError | undefined {
  if (!(err instanceof WorkflowUpdateFailedError) || !(err.cause instanceof ApplicationFailure)) return undefined;
  const type = err.cause.type ?? '';
  if ((CONFLICT_CODES as readonly string[]).includes(type)) {
    const details = err.cause.details?.[0] as { retryable?: boolean } | undefined;
    return new ErasureConflictError(type as ConflictCode, err.cause.message, details?.retryable === true);
  }
  if (type === 'InvalidInput') return new InvalidErasureRequestError(err.cause.message);
  return undefined;
}

/** The latest run if it has closed, with the registrations it recorded (memo; older runs: search attributes and result). */
async function closedRun(
  client: Client,
  workflowId: string,
  incoming: RegisteredRequest,
): Promise<{ runId: string; status: string; requests: RegisteredRequest[] } | undefined> {
  let d;
  try {
    d = await client.workflow.getHandle<typeof dsarErasure>(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  if (d.status.name === 'RUNNING') return undefined;
  const memo = d.memo?.[REQUESTS_MEMO];
  if (Array.isArray(memo)) return { runId: d.runId, status: d.status.name, requests: memo as RegisteredRequest[] };
  // A run from before registrations were kept: the ids are known, the parameters only from its result.
  let result: ErasureResult | undefined;
  if (d.status.name === 'COMPLETED') {
    result = await client.workflow
      .getHandle<typeof dsarErasure>(workflowId, d.runId, { followRuns: false })
      .result()
      .catch((err: unknown) => (err instanceof WorkflowFailedError ? undefined : Promise.reject(err)));
  }
  // What the run did not record cannot differ: a failed legacy run is matched on its id and mode.
  const mode = result?.mode ?? (d.typedSearchAttributes.get(DsarMode) as RegisteredRequest['mode'] | undefined) ?? incoming.mode;
  const legacy = (d.typedSearchAttributes.get(DsarRequestIds) ?? []).map((requestId): RegisteredRequest => ({
    requestId,
    mode,
    regulation: result?.regulation ?? incoming.regulation,
    dryRun: result ? result.outcome === 'dry_run' : incoming.dryRun,
    legacy: true,
  }));
  return { runId: d.runId, status: d.status.name, requests: legacy };
}

export function erasureHandle(client: Client, workflowId: string): ErasureHandle {
  return client.workflow.getHandle<typeof dsarErasure>(workflowId);
}

export function getStatus(client: Client, workflowId: string): Promise<ErasureStatus> {
  return erasureHandle(client, workflowId).query(statusQuery);
}

/**
 * Wakes a resumed tenant's waiting erasures at once (they also notice by themselves within
 * tenantPauseCheckMs). Returns how many were nudged.
 */
export async function nudgeTenantErasures(client: Client, tenant: string, actor?: string): Promise<number> {
  if (!isTenantId(tenant)) throw new InvalidErasureRequestError(TENANT_ID_RULE);
  let n = 0;
  for await (const w of client.workflow.list({ query: `WorkflowType="${WORKFLOW_TYPE}" AND ${DsarTenant.name}="${tenant}" AND ExecutionStatus="Running"` })) {
    await recheckNow(client, w.workflowId, actor).catch(() => undefined);
    n++;
  }
  return n;
}

export function recheckNow(client: Client, workflowId: string, actor?: string): Promise<void> {
  return erasureHandle(client, workflowId).signal(recheckNowSignal, { actor });
}

/**
 * Cancels a request that has erased nothing yet, through the `cancel` update: resolves once the run
 * accepted it, or throws CancelRefusedError saying why not (a closed run: WorkflowNotFoundError).
 */
export async function cancelErasure(client: Client, workflowId: string, reason: string, actor?: string): Promise<CancelResult> {
  if (!reason.trim()) throw new InvalidErasureRequestError('cancel needs a reason');
  try {
    return await erasureHandle(client, workflowId).executeUpdate(cancelUpdate, { args: [{ reason, ...(actor ? { actor } : {}) }] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new CancelRefusedError(err.cause?.message ?? err.message, { cause: err });
    throw err;
  }
}

export function extendDeadline(client: Client, workflowId: string, deadline: string, options: { reason?: string; actor?: string } = {}): Promise<string> {
  return erasureHandle(client, workflowId).executeUpdate(extendDeadlineUpdate, { args: [{ deadline, ...options }] });
}

export interface ErasureListItem {
  workflowId: string;
  runId: string;
  status: string;
  phase?: string;
  mode?: string;
  deadline?: string;
  atRisk?: boolean;
  startTime: string;
}

/** Lists erasures, newest first; `query` is Temporal's visibility syntax, e.g. `DsarPhase="needs_attention"`. */
export async function listErasures(client: Client, query?: string, limit = 100): Promise<ErasureListItem[]> {
  const q = `WorkflowType="${WORKFLOW_TYPE}"` + (query ? ` AND (${query})` : '');
  const out: ErasureListItem[] = [];
  for await (const wf of client.workflow.list({ query: q, pageSize: Math.min(limit, 1000) })) {
    const sa = wf.typedSearchAttributes;
    out.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      status: wf.status.name,
      phase: sa.get(DsarPhase),
      mode: sa.get(DsarMode),
      deadline: sa.get(DsarDeadline)?.toISOString(),
      atRisk: sa.get(DsarAtRisk),
      startTime: wf.startTime.toISOString(),
    });
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * Registers our custom search attributes on a namespace (a self-hosted cluster or the test server;
 * on Temporal Cloud use `tcld` or the UI). Attributes that already exist are left alone.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  let existing: Record<string, unknown> = {};
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    // The time-skipping test server can add attributes but not list them.
    if ((err as { code?: number }).code !== 12 /* UNIMPLEMENTED */) throw err;
  }
  const missing = SEARCH_ATTRIBUTES.filter((k) => !(k.name in existing));
  if (!missing.length) return [];
  const searchAttributes: Record<string, IndexedValueType> = {};
  for (const k of missing) searchAttributes[k.name] = INDEXED_TYPES[k.type]!;
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  return missing.map((k) => k.name);
}

const { IndexedValueType } = proto.temporal.api.enums.v1;
type IndexedValueType = proto.temporal.api.enums.v1.IndexedValueType;
const INDEXED_TYPES: Record<string, IndexedValueType> = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.DATETIME]: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.BOOL]: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};
