/**
 * Tenants for tests: the simulator accounts of one customer (sandbox and production) and the seed-000
 * steps through the client API, so a test starts from a live tenant in a second.
 */
import type { Client } from '@temporalio/client';
import type { SimCandidateSeed, SimulatorAccountOptions, SimulatorRateLimit } from '../../src/simulator/types.js';
import { addTenant, setTenantCredentials, tenantStep, tenantUpdate } from '../../src/tenants/client.js';
import { parseCredentialKeys } from '../../src/tenants/credentials.js';

export const TEST_CREDENTIALS_KEY = `c1:${Buffer.alloc(32, 4).toString('base64')}`;
export const testCredentialKeys = () => parseCredentialKeys(TEST_CREDENTIALS_KEY);

export interface TenantAccounts {
  id: string;
  sandboxKey: string;
  productionKey: string;
  secret: string;
  /** Simulator account ids: `<id>-sandbox` and `<id>`. */
  accounts: SimulatorAccountOptions[];
}

/** A customer's two Comeet accounts; the production one holds `candidates`. */
export function tenantAccounts(id: string, candidates: SimCandidateSeed[] = [], rateLimit: SimulatorRateLimit | null = null): TenantAccounts {
  const sandboxKey = `${id}-sandbox-key-0a1b2c3d`;
  const productionKey = `${id}-production-key-4e5f6a7b`;
  const secret = `${id}-integration-secret-8c9d0e1f`;
  return {
    id,
    sandboxKey,
    productionKey,
    secret,
    accounts: [
      { id: `${id}-sandbox`, environment: 'sandbox', apiKey: sandboxKey, secret, rateLimit: null },
      { id, environment: 'production', apiKey: productionKey, secret, rateLimit, seed: { candidates } },
    ],
  };
}

/** Seed 000 through the API: add, sandbox credentials, sandbox check, production key, go-live. */
export async function bringTenantLive(client: Client, taskQueue: string, baseUrl: string, t: TenantAccounts, ratePerMinute = 100): Promise<void> {
  const keys = testCredentialKeys();
  const opts = { taskQueue, actor: 'test' };
  await addTenant(client, { id: t.id, name: `Tenant ${t.id}`, baseUrl, ratePerMinute }, opts);
  await setTenantCredentials(client, keys, t.id, 'sandbox', { apiKey: t.sandboxKey, secret: t.secret }, 'test');
  const sandbox = await tenantUpdate(client, t.id, 'validateSandbox', { testEmail: `dsar-test@${t.id}.example`, positionUid: '11.11', actor: 'test' });
  if (!sandbox.ok) throw new Error(`sandbox check of ${t.id} failed: ${sandbox.missing.join('; ')}`);
  await setTenantCredentials(client, keys, t.id, 'production', { apiKey: t.productionKey }, 'test');
  const live = await tenantStep(client, t.id, 'goLive', { actor: 'test' });
  if (live.step !== 'live') throw new Error(`go-live of ${t.id} failed: ${live.missing.join('; ')}`);
}

/** Worker options for scenarios with tenants: the credentials key, short timeouts, no long waits inside checks. */
export const TENANT_WORKER = {
  tenants: { credentials: testCredentialKeys(), comeet: { responseTimeoutMs: 5_000 }, lookupRetryDelayMs: 0, maxRateLimitWaitMs: 2_000 },
};
