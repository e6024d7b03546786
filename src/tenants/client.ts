/**
 * The operator's side of tenants: the settings schema (zod), starting a tenant's onboarding, and its
 * updates. Credentials are sealed here, before they reach Temporal, with DSAR_CREDENTIALS_KEY.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateStage, type Client, type WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { describeIssues } from '../describe-issues.js';
import { sealCredentials, type ComeetCredentials, type CredentialKeys } from './credentials.js';
import {
  DEFAULT_TENANT_ID,
  DEFAULT_TENANT_RATE_PER_MINUTE,
  ENVIRONMENTS,
  TENANT_ID_PATTERN,
  TENANT_ID_RULE,
  TENANT_LOOKUPS,
  TENANT_WORKFLOW_TYPE,
  newTenantState,
  tenantStateMemo,
  tenantStateOf,
  tenantWorkflowId,
  type ActorRequest,
  type Environment,
  type StepAnswer,
  type TenantSettings,
  type TenantStatus,
} from './model.js';

export const tenantSettingsSchema = z.object({
  id: z
    .string()
    .regex(TENANT_ID_PATTERN, TENANT_ID_RULE)
    .refine((id) => id !== DEFAULT_TENANT_ID, `"${DEFAULT_TENANT_ID}" is the tenant of the single-account setup (COMEET_* variables): choose another id`),
  name: z.string().trim().min(1, 'name must not be empty').max(100, 'name must be at most 100 characters'),
  environment: z.enum(ENVIRONMENTS, { message: 'environment must be sandbox or production' }).default('production'),
  baseUrl: z
    .url({ message: 'base URL must be a URL such as https://api.comeet.co', protocol: /^https?$/ })
    .refine((u) => !/\/v\d+\/?$/.test(u), 'base URL must not end in a version such as /v1: Comeet paths have no version prefix'),
  lookup: z.enum(TENANT_LOOKUPS, { message: `lookup must be one of ${TENANT_LOOKUPS.join(', ')}` }).default('candidates-filter'),
  ratePerMinute: z
    .number()
    .int('rate limit must be a whole number')
    .min(1, 'rate limit must be at least 1 a minute')
    .max(1000, 'rate limit must be at most 1000 a minute')
    .default(DEFAULT_TENANT_RATE_PER_MINUTE),
  policy: z
    .object({
      mode: z.enum(['delete', 'pseudonymize'], { message: 'mode must be delete or pseudonymize' }).default('delete'),
      regulation: z.enum(['gdpr', 'ccpa'], { message: 'regulation must be gdpr or ccpa' }).default('gdpr'),
      followUpDelayMs: z.number().int().min(0, 'follow-up delay must not be negative').optional(),
    })
    .default({ mode: 'delete', regulation: 'gdpr' }),
}) satisfies z.ZodType<TenantSettings, unknown>;

export type TenantSettingsInput = z.input<typeof tenantSettingsSchema>;

export class InvalidTenantError extends Error {
  override name = 'InvalidTenantError';
}

export class TenantExistsError extends Error {
  override name = 'TenantExistsError';
}

export function parseTenantSettings(input: unknown): TenantSettings {
  const r = tenantSettingsSchema.safeParse(input);
  if (!r.success) throw new InvalidTenantError(`invalid tenant: ${describeIssues(r.error)}`);
  return r.data;
}

export interface TenantClientOptions {
  taskQueue: string;
  actor: string;
}

export async function addTenant(client: Client, settingsInput: TenantSettingsInput, options: TenantClientOptions): Promise<string> {
  const settings = parseTenantSettings(settingsInput);
  const workflowId = tenantWorkflowId(settings.id);
  try {
    await client.workflow.start(TENANT_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: options.taskQueue,
      args: [{ settings, actor: options.actor }],
      // Readable before a worker has run the tenant's first task.
      memo: tenantStateMemo(settings.name, newTenantState()),
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      throw new TenantExistsError(`tenant ${settings.id} exists already (dsar tenant show ${settings.id})`);
    throw err;
  }
  return workflowId;
}

export function tenantHandle(client: Client, id: string): WorkflowHandle {
  return client.workflow.getHandle(tenantWorkflowId(id));
}

export function tenantStatus(client: Client, id: string): Promise<TenantStatus> {
  return tenantHandle(client, id).query<TenantStatus>('status');
}

/**
 * Sends an update and tells the caller at once whether it was accepted (`onAccepted`), then waits
 * for its answer: a check takes a while, a refusal does not.
 */
export async function tenantUpdate(client: Client, id: string, name: string, arg: unknown, onAccepted?: () => void): Promise<StepAnswer> {
  const handle = await tenantHandle(client, id).startUpdate<StepAnswer, [unknown]>(name, { args: [arg], waitForStage: WorkflowUpdateStage.ACCEPTED });
  // startUpdate also returns for a refused update, whose outcome came with the answer: its result
  // settles at once, without a round trip, so a short race tells a refusal from a step under way.
  const result = handle.result();
  const early = await Promise.race([
    result.then(
      () => 'settled',
      () => 'refused',
    ),
    new Promise<'pending'>((r) => setTimeout(() => r('pending'), 50)),
  ]);
  if (early !== 'refused') onAccepted?.();
  return result;
}

export function setTenantCredentials(
  client: Client,
  keys: CredentialKeys,
  id: string,
  environment: Environment,
  credentials: ComeetCredentials,
  actor: string,
  onAccepted?: () => void,
): Promise<StepAnswer> {
  const sealed = sealCredentials(keys, id, environment, credentials);
  return tenantUpdate(client, id, environment === 'sandbox' ? 'setSandboxCredentials' : 'setProductionKey', { credentials: sealed, actor }, onAccepted);
}

export function tenantStep(
  client: Client,
  id: string,
  step: 'goLive' | 'pause' | 'resume' | 'offboard',
  req: ActorRequest,
  onAccepted?: () => void,
): Promise<StepAnswer> {
  return tenantUpdate(client, id, step, req, onAccepted);
}

export interface TenantListItem {
  id: string;
  workflowId: string;
  status: string;
  step?: string;
  name?: string;
}

export async function listTenants(client: Client, limit = 100): Promise<TenantListItem[]> {
  const items: TenantListItem[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowType="${TENANT_WORKFLOW_TYPE}"`, pageSize: limit })) {
    if (items.some((i) => i.workflowId === w.workflowId)) continue;
    const item: TenantListItem = { id: w.workflowId.replace(/^tenant-/, ''), workflowId: w.workflowId, status: w.status.name };
    if (w.status.name === 'RUNNING') {
      const s = tenantStateOf(w.memo) ?? (await tenantStatus(client, item.id).catch(() => undefined));
      if (s) Object.assign(item, { step: s.step, name: s.name });
    }
    items.push(item);
    if (items.length >= limit) break;
  }
  return items;
}

/**
 * Why a tenant takes no erasure: it does not exist, or it is not live yet (or any more). A paused
 * tenant takes them: they wait until it resumes.
 */
export class TenantNotAcceptingError extends Error {
  override name = 'TenantNotAcceptingError';
  constructor(
    readonly code: 'tenant_unknown' | 'tenant_not_live',
    message: string,
  ) {
    super(message);
  }
}

const ACCEPTED_FOR_MS = 1_000;
const acceptedTenants = new WeakMap<Client, Map<string, number>>();

/** Refuses an erasure for a tenant that is not live (or paused); the default tenant always takes them. */
export async function ensureTenantAccepts(client: Client, id: string): Promise<void> {
  if (id === DEFAULT_TENANT_ID) return;
  // A burst of requests (bulk, a busy intake) asks once a second, not once a request; a refusal is never kept.
  const accepted = acceptedTenants.get(client) ?? new Map<string, number>();
  acceptedTenants.set(client, accepted);
  if ((accepted.get(id) ?? 0) > Date.now()) return;
  let status: Pick<TenantStatus, 'step' | 'missing'>;
  try {
    const d = await tenantHandle(client, id).describe();
    if (d.status.name !== 'RUNNING') throw new TenantNotAcceptingError('tenant_not_live', `tenant ${id} is offboarded: it takes no erasures`);
    // The memo needs no worker; only a tenant that has kept no state there since it started is asked.
    status = tenantStateOf(d.memo) ?? (await tenantStatus(client, id));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new TenantNotAcceptingError('tenant_unknown', `there is no tenant ${id} (dsar tenant list shows them; dsar tenant add creates one)`);
    throw err;
  }
  if (status.step === 'live' || status.step === 'paused') {
    accepted.set(id, Date.now() + ACCEPTED_FOR_MS);
    return;
  }
  const missing = status.missing.length ? `; it still needs: ${status.missing.join('; ')}` : '';
  throw new TenantNotAcceptingError(
    'tenant_not_live',
    `tenant ${id} is not live (it is ${status.step}): erasures start once it has passed its production check (dsar tenant go-live ${id})${missing}`,
  );
}
