/**
 * The workflow type and ids an erasure runs under, and the tenant an id names. No Node imports: the
 * workflow bundle uses it.
 */
import { DEFAULT_TENANT_ID, TENANT_ID_PATTERN } from './tenants/model.js';

export const WORKFLOW_TYPE = 'dsarErasure';

/**
 * The only ids an erasure runs under: `dsar-` + 32 hex chars of the keyed hash of the subject for the
 * default tenant, `dsar-<tenant>-` + the keyed hash of tenant and subject for any other
 * (client.ts erasureWorkflowId). Group `hash` is what a receipt names. Any other id may carry the email.
 */
export const ERASURE_WORKFLOW_ID = /^dsar-(?:(?<tenant>[a-z][a-z0-9-]{1,30})-)?(?<hash>[0-9a-f]{32})$/;
/** A follow-up runs under its erasure's id + `-follow-up-` + the UTC time it was scheduled. */
export const FOLLOW_UP_WORKFLOW_ID = /^(.+)-follow-up-\d{8}T\d{6}Z$/;

/** True for an erasure id, or with `followUp` for a follow-up id of one. */
export function isKeyedWorkflowId(workflowId: string, kind: 'erasure' | 'followUp' = 'erasure'): boolean {
  if (kind === 'erasure') return validTenantIn(ERASURE_WORKFLOW_ID.exec(workflowId));
  const erasureId = FOLLOW_UP_WORKFLOW_ID.exec(workflowId)?.[1];
  return erasureId !== undefined && validTenantIn(ERASURE_WORKFLOW_ID.exec(erasureId));
}

function validTenantIn(m: RegExpExecArray | null): boolean {
  const tenant = m?.groups?.['tenant'];
  return !!m && (tenant === undefined || (TENANT_ID_PATTERN.test(tenant) && tenant !== DEFAULT_TENANT_ID));
}

/**
 * The tenant an erasure (or its follow-up, or its lookup child) belongs to, read from its id: the id
 * is derived from the tenant, so no input can make a run spend another tenant's budget.
 */
export function tenantOfWorkflowId(workflowId: string): string {
  const own = workflowId.replace(/-lookup-\d+$/, '');
  const erasureId = FOLLOW_UP_WORKFLOW_ID.exec(own)?.[1] ?? own;
  return ERASURE_WORKFLOW_ID.exec(erasureId)?.groups?.['tenant'] ?? DEFAULT_TENANT_ID;
}
