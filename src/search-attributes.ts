/**
 * What a run publishes about itself for lists and for reads without a worker: its custom search
 * attributes and memo keys. No Node imports: the workflow bundle uses it.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes; `dsar setup` and dev mode register them on the namespace. */
export const DsarPhase = defineSearchAttributeKey('DsarPhase', SearchAttributeType.KEYWORD);
export const DsarMode = defineSearchAttributeKey('DsarMode', SearchAttributeType.KEYWORD);
export const DsarDeadline = defineSearchAttributeKey('DsarDeadline', SearchAttributeType.DATETIME);
export const DsarAtRisk = defineSearchAttributeKey('DsarAtRisk', SearchAttributeType.BOOL);
/** The callers' request ids joined in this run (idempotency keys of the intake API; never PII). */
export const DsarRequestIds = defineSearchAttributeKey('DsarRequestIds', SearchAttributeType.KEYWORD_LIST);
/** The names of the intake callers (tokens) with a request on this run: reads are scoped by it. */
export const DsarCallers = defineSearchAttributeKey('DsarCallers', SearchAttributeType.KEYWORD_LIST);
/** The tenant (an id such as `acme`, never a name) whose Comeet account the request is for. */
export const DsarTenant = defineSearchAttributeKey('DsarTenant', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = [DsarPhase, DsarMode, DsarDeadline, DsarAtRisk, DsarRequestIds, DsarCallers, DsarTenant] as const;
/** Memo key holding the run's registrations (RegisteredRequest[]), so a closed run answers replays without a worker. */
export const REQUESTS_MEMO = 'dsarRequests';
/**
 * Memo key with how many registrations the run had, set when the memo stopped mirroring every attach
 * (past 25): a registration missing from a memo whose total is larger was left out, not unknown.
 */
export const REQUESTS_MEMO_TOTAL = 'dsarRequestsTotal';
/** Memo key of a tenant's run: its name, step and what the step still needs (TenantStateMemo in tenants/model.ts). */
export const TENANT_STATE_MEMO = 'dsarTenantState';
