/**
 * Where a worker finds a tenant's account: its onboarding workflow's `workerAccess` query (step,
 * settings, sealed credentials), unsealed here with DSAR_CREDENTIALS_KEY. Answers are kept for a
 * second, so a pause stops new Comeet calls within a second and a rotated key is used without a
 * restart; a ComeetClient is kept per set of credentials and replaced when they change.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ComeetClient, type ComeetCallInfo, type ComeetClientOptions } from '../comeet/index.js';
import { CredentialsError, openCredentials, type CredentialKeys } from './credentials.js';
import { TENANT_ACCESS_TTL_MS, TENANT_NOT_LIVE, TENANT_PAUSED, tenantWorkflowId, type TenantAccess } from './model.js';

export interface TenantDirectoryOptions {
  /** A client on the worker's own connection and data converter (the query answer is encrypted like any payload). */
  client: Client;
  credentials?: CredentialKeys;
  /** Client settings for tenants' accounts (timeouts, connections); key, secret, URL and lookup come from the tenant. */
  comeet?: Partial<Omit<ComeetClientOptions, 'apiKey' | 'secret' | 'baseUrl' | 'lookup' | 'onCall'>>;
  /** Call metrics of one tenant's account. */
  onCall?: (tenant: string) => (info: ComeetCallInfo) => void;
  /** How long an answer is kept (default TENANT_ACCESS_TTL_MS: a pause takes effect within it, and the pause update waits it out). */
  ttlMs?: number;
}

export class TenantDirectory {
  private readonly answers = new Map<string, { until: number; access: Promise<TenantAccess> }>();
  private readonly clients = new Map<string, { fingerprint: string; client: ComeetClient }>();
  private readonly ttlMs: number;

  constructor(private readonly options: TenantDirectoryOptions) {
    this.ttlMs = options.ttlMs ?? TENANT_ACCESS_TTL_MS;
  }

  /** The tenant's step and settings, at most `ttlMs` old. Not found: a non-retryable `TenantNotLive`. */
  access(id: string): Promise<TenantAccess> {
    const hit = this.answers.get(id);
    if (hit && hit.until > Date.now()) return hit.access;
    const access = this.options.client.workflow
      .getHandle(tenantWorkflowId(id))
      .query<TenantAccess>('workerAccess')
      .catch((err: unknown) => {
        this.answers.delete(id);
        if (err instanceof WorkflowNotFoundError) throw ApplicationFailure.nonRetryable(`there is no tenant ${id}: nothing is called for it`, TENANT_NOT_LIVE);
        throw err;
      });
    this.answers.set(id, { until: Date.now() + this.ttlMs, access });
    return access;
  }

  async isPaused(id: string): Promise<boolean> {
    return (await this.access(id)).step === 'paused';
  }

  /**
   * The client for a live tenant's production account. Paused: `TenantPaused` (the erasure waits for
   * the resume); not live, offboarded or unknown: `TenantNotLive`. Thrown before any HTTP call.
   */
  async comeetFor(id: string): Promise<ComeetClient> {
    const a = await this.access(id);
    if (a.step === 'paused')
      throw ApplicationFailure.nonRetryable(`tenant ${id} is paused: its erasures wait until it resumes (dsar tenant resume ${id})`, TENANT_PAUSED);
    if (a.step !== 'live' || !a.production) {
      throw ApplicationFailure.nonRetryable(
        `tenant ${id} is ${a.step}, not live: its account is not called until it passes its production check (dsar tenant go-live ${id})`,
        TENANT_NOT_LIVE,
      );
    }
    if (!this.options.credentials) {
      throw ApplicationFailure.nonRetryable(
        'this worker has no DSAR_CREDENTIALS_KEY: it cannot open tenant credentials (set it on every worker)',
        'TenantCredentialsKeyMissing',
      );
    }
    const fingerprint = [a.settings.baseUrl, a.settings.lookup, a.production.sealed, a.sandbox?.sealed ?? ''].join('\n');
    const kept = this.clients.get(id);
    if (kept?.fingerprint === fingerprint) return kept.client;
    let opened;
    try {
      opened = openCredentials(this.options.credentials, id, 'production', a.production, a.sandbox);
    } catch (err) {
      if (err instanceof CredentialsError) throw ApplicationFailure.nonRetryable(err.message, 'TenantCredentials');
      throw err;
    }
    const client = new ComeetClient({
      responseTimeoutMs: 30_000,
      ...this.options.comeet,
      baseUrl: a.settings.baseUrl,
      lookup: a.settings.lookup,
      apiKey: opened.apiKey,
      secret: opened.secret,
      ...(this.options.onCall ? { onCall: this.options.onCall(id) } : {}),
    });
    this.clients.set(id, { fingerprint, client });
    // A rotated key: calls in flight on the old client finish, then its connections close.
    if (kept) void kept.client.close().catch(() => undefined);
    return client;
  }

  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(clients.map((c) => c.client.close()));
  }
}
