/**
 * Tenants: one customer's Comeet account each. This module is imported by the onboarding workflow,
 * so it holds no Node APIs and no zod (the client-side schema is in settings.ts): plain types, the
 * id rule and small guards.
 */
import { TENANT_STATE_MEMO } from '../search-attributes.js';

/** Short and stable: it names the workflow (`tenant-<id>`) and is bound into sealed credentials. */
export const TENANT_ID_PATTERN = /^[a-z][a-z0-9-]{1,30}$/;
export const TENANT_ID_RULE = 'a tenant id is 2-31 characters of a-z, 0-9 and -, starting with a letter (e.g. acme)';
/** The tenant the single-account setup of today (COMEET_* variables) stands for. */
export const DEFAULT_TENANT_ID = 'default';
export const TENANT_WORKFLOW_TYPE = 'tenantOnboarding';
export const DEFAULT_TENANT_RATE_PER_MINUTE = 100;
/** The failure types erasures meet when a tenant cannot be called; the workflow waits out `TenantPaused`. */
export const TENANT_PAUSED = 'TenantPaused';
/** How long a worker keeps a tenant's state (TenantDirectory): a pause reaches every worker within it. */
export const TENANT_ACCESS_TTL_MS = 1_000;
export const TENANT_NOT_LIVE = 'TenantNotLive';

export const ENVIRONMENTS = ['sandbox', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const TENANT_LOOKUPS = ['candidates-filter', 'find-duplicates', 'scan'] as const;
export type TenantLookup = (typeof TENANT_LOOKUPS)[number];

export function isTenantId(id: unknown): id is string {
  return typeof id === 'string' && TENANT_ID_PATTERN.test(id);
}

export function tenantWorkflowId(id: string): string {
  if (!isTenantId(id)) throw new TypeError(TENANT_ID_RULE);
  return `tenant-${id}`;
}

/**
 * The steps of seed 000: sandbox credentials, a sandbox check that writes, then the production key
 * and a read-only check. `sandbox_validated` is passed through on the way to `awaiting_production_key`
 * (recorded as an event); `paused` keeps the step it came from.
 */
export const ONBOARDING_STATES = [
  'awaiting_sandbox_credentials',
  'validating_sandbox',
  'sandbox_validated',
  'awaiting_production_key',
  'validating_production',
  'live',
  'paused',
  'offboarded',
] as const;
export type OnboardingState = (typeof ONBOARDING_STATES)[number];

export interface TenantPolicy {
  mode: 'delete' | 'pseudonymize';
  regulation: 'gdpr' | 'ccpa';
  /** Delay of the follow-up lookup after an erasure; unset: the deployment's default. */
  followUpDelayMs?: number;
}

export interface TenantSettings {
  id: string;
  name: string;
  /** The environment erasures will run in once live; onboarding walks sandbox then production. */
  environment: Environment;
  baseUrl: string;
  lookup: TenantLookup;
  ratePerMinute: number;
  policy: TenantPolicy;
}

/**
 * Credentials sealed by the CLI/client with DSAR_CREDENTIALS_KEY (see credentials.ts): opaque here.
 * The workflow keeps them only to hand them to its validation activities, which unseal them.
 */
export interface SealedCredentials {
  /** The sealing key's id (not secret): shown so operators know which key a rotation must keep. */
  keyId: string;
  sealed: string;
}

export interface TenantOnboardingInput {
  settings: TenantSettings;
  actor: string;
  /** State carried over a continue-as-new. */
  carried?: CarriedState;
}

export interface CarriedState {
  step: OnboardingState;
  pausedFrom?: OnboardingState;
  sandbox?: SealedCredentials;
  production?: SealedCredentials;
  stagedProduction?: SealedCredentials;
  sandboxValidatedAt?: string;
  liveSince?: string;
  lookupWorks?: string[];
  lastCheck?: CheckSummary;
  missing: string[];
  events: TenantEvent[];
}

export function newTenantState(): CarriedState {
  return { step: 'awaiting_sandbox_credentials', missing: [], events: [] };
}

/** What the current step still needs, from the state (plus the last check's findings). */
export function stillMissing(c: CarriedState): string[] {
  const checkMissing = (env: Environment) => (c.lastCheck?.environment === env && !c.lastCheck.ok ? c.lastCheck.missing : []);
  switch (c.step) {
    case 'awaiting_sandbox_credentials':
      return c.sandbox
        ? checkMissing('sandbox').concat(checkMissing('sandbox').length ? [] : ['sandbox check: dsar tenant validate --environment sandbox'])
        : ['sandbox API key and integration secret'];
    case 'awaiting_production_key':
      return c.production
        ? checkMissing('production').concat(checkMissing('production').length ? [] : ['production check: dsar tenant go-live'])
        : ['production API key'];
    case 'live':
      return c.stagedProduction ? ['a new production key waits for its check: dsar tenant go-live'].concat(checkMissing('production')) : [];
    default:
      return [];
  }
}

/**
 * What a tenant's run keeps in its memo, current with every change (set at start by `addTenant`):
 * a start or a list reads it with a describe, so they need no worker to answer a query (a bulk load
 * before the workers start). Nothing secret: the status query shows the same to operators.
 */
export interface TenantStateMemo {
  name: string;
  step: OnboardingState;
  missing: string[];
}

export function tenantStateMemo(name: string, c: CarriedState): Record<string, TenantStateMemo> {
  return { [TENANT_STATE_MEMO]: { name, step: c.step, missing: stillMissing(c) } };
}

/** The memo's state, or undefined for a run that kept none (started before the memo) or a malformed one. */
export function tenantStateOf(memo: Record<string, unknown> | undefined): TenantStateMemo | undefined {
  const m = memo?.[TENANT_STATE_MEMO] as Partial<TenantStateMemo> | undefined;
  if (!m || typeof m.name !== 'string' || !(ONBOARDING_STATES as readonly unknown[]).includes(m.step)) return undefined;
  if (!Array.isArray(m.missing) || !m.missing.every((x) => typeof x === 'string')) return undefined;
  return { name: m.name, step: m.step!, missing: m.missing };
}

export interface TenantEvent {
  at: string;
  kind: string;
  actor: string;
  detail?: string;
}

/** What a validation found, without secrets: item verdicts, findings, what is missing. */
export interface CheckSummary {
  environment: Environment;
  at: string;
  ok: boolean;
  /** e.g. `permission: Persons: Delete or Pseudonymize persons`, `credentials: ...`. */
  missing: string[];
  items: { id: string; status: 'pass' | 'fail' | 'warn' | 'skip'; title: string; detail?: string; fix?: string }[];
  findings: Record<string, string>;
  /** Lookup strategies that found the test candidate (sandbox) or answered (production). */
  lookupWorks: string[];
  recommendedLookup?: string;
}

export interface TenantStatus {
  id: string;
  name: string;
  settings: TenantSettings;
  step: OnboardingState;
  pausedFrom?: OnboardingState;
  /** What the next step needs, in words an operator can act on. */
  missing: string[];
  /** Which credentials are set, and under which sealing key id (never the credentials). */
  credentials: {
    sandbox: { set: boolean; keyId?: string };
    production: { set: boolean; keyId?: string; staged: boolean };
  };
  sandboxValidatedAt?: string;
  liveSince?: string;
  lookupWorks?: string[];
  lastCheck?: CheckSummary;
  events: TenantEvent[];
}

/** The `workerAccess` query: for workers only (credentials sealed, see tenantAccessQuery). */
export interface TenantAccess {
  id: string;
  step: OnboardingState;
  pausedFrom?: OnboardingState;
  settings: TenantSettings;
  production?: SealedCredentials;
  /** Holds the integration secret when the production key came without one. */
  sandbox?: SealedCredentials;
}

// ---- update arguments -------------------------------------------------------------------------

export interface SetCredentialsRequest {
  credentials: SealedCredentials;
  actor?: string;
}

export interface ValidateSandboxRequest {
  /** An address the customer gave for testing: a candidate is created with it, then erased. */
  testEmail: string;
  /** The position the test candidate is created on. */
  positionUid: string;
  actor?: string;
}

export interface ActorRequest {
  actor?: string;
  reason?: string;
}

/** What an accepted step answers: where the tenant is now, and what is missing still. */
export interface StepAnswer {
  step: OnboardingState;
  missing: string[];
  ok?: boolean;
}

// ---- activity contracts -------------------------------------------------------------------------

export interface ValidateTenantInput {
  tenantId: string;
  baseUrl: string;
  lookup: TenantLookup;
  mode: 'delete' | 'pseudonymize';
  /** Sandbox: the sandbox key and secret. Production: the production key (and the secret if re-issued). */
  credentials: SealedCredentials;
  /** Production without its own secret: the integration secret from the sandbox credentials. */
  secretFrom?: SealedCredentials;
  environment: Environment;
  testEmail?: string;
  positionUid?: string;
}
