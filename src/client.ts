/**
 * The one small typed API services, the CLI and the intake use to start and steer erasures.
 * Workflow ids are a keyed hash of the normalised email, so a repeat request attaches to the
 * running one and the email never appears in an id.
 */
import { createHmac } from 'node:crypto';
import { Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Connection, type WorkflowHandle } from '@temporalio/client';
import { SearchAttributeType, WorkflowIdReusePolicy } from '@temporalio/common';
// CommonJS package: Node's ESM loader only sees its default export.
import proto from '@temporalio/proto';
import type { ClientConfig } from './config.js';
import { normalizeEmail } from './email.js';
import {
  DsarAtRisk,
  DsarDeadline,
  DsarMode,
  DsarPhase,
  DsarRequestIds,
  describeIssues,
  erasureRequestSchema,
  regulationDeadline,
  SEARCH_ATTRIBUTES,
  WORKFLOW_TYPE,
  type CancelResult,
  type ErasureInput,
  type ErasureStatus,
  type Phase,
  type TuningInput,
} from './shared.js';
import { attachRequestSignal, cancelUpdate, extendDeadlineUpdate, recheckNowSignal, statusQuery, type dsarErasure } from './workflows/index.js';

export type ErasureHandle = WorkflowHandle<typeof dsarErasure>;

/** Bad input from a caller: the message says what to fix and never quotes the values. */
export class InvalidErasureRequestError extends Error {
  override name = 'InvalidErasureRequestError';
}

/** The workflow refused a cancel; the message is its reason (already ended, erasure has started, ...). */
export class CancelRefusedError extends Error {
  override name = 'CancelRefusedError';
}

export const WORKFLOW_ID_PREFIX = 'dsar-';

/** `dsar-` + 32 hex chars of HMAC-SHA256(key, normalised email). */
export function erasureWorkflowId(email: string, idKey: string): string {
  return WORKFLOW_ID_PREFIX + createHmac('sha256', idKey).update(normalizeEmail(email)).digest('hex').slice(0, 32);
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
  /** true when a request for the same person was already running and this one joined it. */
  attached: boolean;
  handle: ErasureHandle;
}

export function startOptionsFromConfig(config: ClientConfig, tuning?: TuningInput): StartOptions {
  return { taskQueue: config.TEMPORAL_TASK_QUEUE, idKey: config.DSAR_ID_KEY, tuning };
}

/** Validates the request, then starts its workflow or joins the one already running for that person. */
export async function startErasure(client: Client, request: ErasureInput, options: StartOptions): Promise<StartedErasure> {
  const parsed = erasureRequestSchema.safeParse(request);
  if (!parsed.success) throw new InvalidErasureRequestError(`Invalid erasure request: ${describeIssues(parsed.error)}`);
  const input = parsed.data;
  const tuning = { ...options.tuning, ...input.tuning };
  const workflowId = erasureWorkflowId(input.email, options.idKey);
  // Without receivedAt the workflow uses its own start time (the server's clock); this estimate only
  // seeds the search attribute until the workflow's first task sets the exact value.
  const deadline = input.deadline ? new Date(input.deadline) : regulationDeadline(input.regulation, input.receivedAt ? new Date(input.receivedAt) : new Date());
  const args: ErasureInput = {
    email: input.email,
    mode: input.mode,
    regulation: input.regulation,
    dryRun: input.dryRun,
    ...(input.receivedAt ? { receivedAt: input.receivedAt } : {}),
    ...(input.requestId ? { requestId: input.requestId } : {}),
    ...(input.deadline ? { deadline: input.deadline } : {}),
    ...(input.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
    ...(Object.keys(tuning).length ? { tuning } : {}),
  };
  try {
    const handle = await client.workflow.start<typeof dsarErasure>(WORKFLOW_TYPE, {
      taskQueue: options.taskQueue,
      workflowId,
      args: [args],
      // A finished request may be asked again (a new DSAR); a running one is joined, not twinned.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [
        { key: DsarPhase, value: 'looking_up' satisfies Phase },
        { key: DsarMode, value: input.mode },
        { key: DsarDeadline, value: deadline },
        { key: DsarAtRisk, value: false },
        ...(input.requestId ? [{ key: DsarRequestIds, value: [input.requestId] }] : []),
      ],
      staticSummary:
        `DSAR erasure · ${input.mode}${input.dryRun ? ' (dry run)' : ''} · ${input.regulation.toUpperCase()}` +
        (input.requestId ? ` · request ${input.requestId}` : ''),
    });
    return { workflowId, runId: handle.firstExecutionRunId, attached: false, handle };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const handle = client.workflow.getHandle<typeof dsarErasure>(workflowId);
    const described = await handle.describe();
    if (input.requestId || input.callbackUrl) {
      // The running request takes this caller's id and callback too (it refuses them once ended).
      await handle.signal(attachRequestSignal, { requestId: input.requestId, callbackUrl: input.callbackUrl });
    }
    return { workflowId, runId: described.runId, attached: true, handle };
  }
}

/** The request ids a run carries (its own and those of callers who joined it). */
export async function requestIdsOf(client: Client, workflowId: string): Promise<{ runId: string; status: string; requestIds: string[] } | undefined> {
  try {
    const d = await erasureHandle(client, workflowId).describe();
    return { runId: d.runId, status: d.status.name, requestIds: d.typedSearchAttributes.get(DsarRequestIds) ?? [] };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

export function erasureHandle(client: Client, workflowId: string): ErasureHandle {
  return client.workflow.getHandle<typeof dsarErasure>(workflowId);
}

export function getStatus(client: Client, workflowId: string): Promise<ErasureStatus> {
  return erasureHandle(client, workflowId).query(statusQuery);
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
