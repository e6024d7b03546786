/**
 * The onboarding's validation activities. They run on the Comeet queue (each call spends the
 * account's budget), unseal the tenant's credentials (only workers hold DSAR_CREDENTIALS_KEY), build
 * a ComeetClient for that account alone, and return the check's verdicts without any secret.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { ComeetClient, type ComeetClientOptions } from '../comeet/index.js';
import { PERMISSIONS } from '../sandbox/advice.js';
import { runDoctor } from '../sandbox/doctor.js';
import { runSandboxCheck } from '../sandbox/check.js';
import type { CheckReport } from '../sandbox/report.js';
import { CredentialsError, openCredentials, type ComeetCredentials, type CredentialKeys } from './credentials.js';
import type { CheckSummary, ValidateTenantInput } from './model.js';

export interface TenantActivityDeps {
  /** DSAR_CREDENTIALS_KEY; without it a validation fails, saying so. */
  credentials?: CredentialKeys;
  /** Client settings for tenants' accounts (timeouts, connections); key, secret and URL come from the tenant. */
  comeet?: Partial<Omit<ComeetClientOptions, 'apiKey' | 'secret' | 'baseUrl' | 'lookup'>>;
  /** The sandbox check's second look for a freshly created candidate (default 5 s). */
  lookupRetryDelayMs?: number;
  /** Longest single wait on a 429 inside a check (default 90 s). */
  maxRateLimitWaitMs?: number;
}

/** The permissions seed 001 asks for, plus the ones the sandbox check needs to create its candidate. */
const NAMED_PERMISSIONS = [
  PERMISSIONS.readOtherSources,
  PERMISSIONS.erasePersons,
  PERMISSIONS.sourceContactDetails,
  PERMISSIONS.readOwnSource,
  PERMISSIONS.createCandidates,
];

/**
 * What an operator must get fixed, from the failed items: the permissions their fix names, or the
 * item itself. A refused login is the credentials (its advice also mentions a permission, as a
 * second guess, which would mislead here).
 */
export function missingFrom(report: CheckReport): string[] {
  const missing: string[] = [];
  const add = (m: string) => {
    if (!missing.includes(m)) missing.push(m);
  };
  for (const item of report.items) {
    if (item.status !== 'fail') continue;
    if (item.id === 'auth') {
      add(`credentials: ${item.detail ?? 'refused by Comeet'}`);
      continue;
    }
    const named = NAMED_PERMISSIONS.filter((p) => item.fix?.includes(`"${p}"`));
    if (named.length) named.forEach((p) => add(`permission: ${p}`));
    else add(`${item.title}${item.fix ? `: ${item.fix}` : ''}`);
  }
  return missing;
}

function summarize(input: ValidateTenantInput, report: CheckReport): CheckSummary {
  const works = report.findings['lookup.works'];
  const recommended = /COMEET_LOOKUP=([a-z-]+)/.exec(report.findings['lookup.recommended'] ?? '')?.[1];
  return {
    environment: input.environment,
    at: new Date().toISOString(),
    ok: report.ok,
    missing: missingFrom(report),
    items: report.items.map((i) => ({ ...i })),
    findings: { ...report.findings },
    lookupWorks: works && works !== 'none' ? works.split(', ') : [],
    ...(recommended ? { recommendedLookup: recommended } : {}),
  };
}

export function createTenantActivities(deps: TenantActivityDeps) {
  const open = (input: ValidateTenantInput): Required<ComeetCredentials> => {
    if (!deps.credentials) {
      throw ApplicationFailure.nonRetryable(
        'this worker has no DSAR_CREDENTIALS_KEY: it cannot open tenant credentials (set it on every worker)',
        'TenantCredentialsKeyMissing',
      );
    }
    try {
      return openCredentials(deps.credentials, input.tenantId, input.environment, input.credentials, input.secretFrom);
    } catch (err) {
      if (err instanceof CredentialsError) throw ApplicationFailure.nonRetryable(err.message, 'TenantCredentials');
      throw err;
    }
  };

  async function withClient(input: ValidateTenantInput, run: (client: ComeetClient) => Promise<CheckReport>): Promise<CheckSummary> {
    const { apiKey, secret } = open(input);
    const client = new ComeetClient({ responseTimeoutMs: 30_000, ...deps.comeet, baseUrl: input.baseUrl, apiKey, secret, lookup: input.lookup });
    try {
      return summarize(input, await run(client));
    } finally {
      await client.close();
    }
  }

  return {
    /** Seed 000 steps 3-4 on the sandbox: writes (creates, then erases, a test candidate). */
    async validateTenantSandbox(input: ValidateTenantInput): Promise<CheckSummary> {
      if (input.environment !== 'sandbox' || !input.testEmail || !input.positionUid) {
        throw ApplicationFailure.nonRetryable('validateTenantSandbox needs the sandbox environment, a test email and a position', 'InvalidTenantValidation');
      }
      return withClient(input, (client) =>
        runSandboxCheck({
          client,
          positionUid: input.positionUid!,
          testEmail: input.testEmail!,
          mode: input.mode,
          ...(deps.lookupRetryDelayMs !== undefined ? { lookupRetryDelayMs: deps.lookupRetryDelayMs } : {}),
          ...(deps.maxRateLimitWaitMs !== undefined ? { maxRateLimitWaitMs: deps.maxRateLimitWaitMs } : {}),
        }),
      );
    },
    /** Seed 000 step 5: the read-only doctor on production; it never writes. */
    async validateTenantProduction(input: ValidateTenantInput): Promise<CheckSummary> {
      if (input.environment !== 'production')
        throw ApplicationFailure.nonRetryable('validateTenantProduction runs on production only', 'InvalidTenantValidation');
      return withClient(input, (client) =>
        runDoctor({ client, ...(deps.maxRateLimitWaitMs !== undefined ? { maxRateLimitWaitMs: deps.maxRateLimitWaitMs } : {}) }),
      );
    },
  };
}

export type TenantActivities = ReturnType<typeof createTenantActivities>;
