/**
 * The dev stack's second tenant: a demo customer (`demo-acme`) with a sandbox and a production
 * account of its own in the simulator (demo-tenant.accounts.json, the simulator's accounts-file
 * format), onboarded the way an operator does it: each seed-000 step is the very `dsar tenant`
 * command an operator would type, run in-process, printed with what it checks and what it answers.
 *
 * The dev database persists across runs, so onboarding picks up at the tenant's current step (a
 * live tenant is left as it is) rather than starting over.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { loadAccountsFile } from '../simulator/main.js';
import type { SimulatorAccountOptions } from '../simulator/types.js';
import { PROJECT_ROOT } from '../temporal-binaries.js';
import { tenantHandle, tenantStatus } from '../tenants/client.js';
import type { TenantStatus } from '../tenants/model.js';
import { DEV_DATA_DIR } from './dev-env.js';
import { runTenantCommand } from './tenant.js';

export const DEMO_TENANT_ID = 'demo-acme';
export const DEMO_TENANT_NAME = 'Acme Corp (demo customer)';
/** The address the customer gave for the sandbox check (seed 000 step 4): the check creates it, then erases it. */
export const DEMO_TENANT_TEST_EMAIL = 'dsar-test@example.com';
/** A position of the sandbox account the test candidate is created on. */
export const DEMO_TENANT_POSITION = '51.SBX';

const ACCOUNTS_FILE = new URL('./demo-tenant.accounts.json', import.meta.url);

/** The demo customer's two simulator accounts (sandbox `demo-acme-sandbox`, production `demo-acme`). */
export function demoTenantAccounts(): SimulatorAccountOptions[] {
  return loadAccountsFile(fileURLToPath(ACCOUNTS_FILE));
}

export interface OnboardDemoTenantOptions {
  client: Client;
  /** The dev stack's settings (.data/dev.env): what `dsar tenant` reads, DSAR_CREDENTIALS_KEY included. */
  env: Record<string, string>;
  simulatorUrl: string;
  out?: (line: string) => void;
}

export interface OnboardResult {
  /** `live` when erasures for the tenant can start. */
  step: string;
  /** The steps run this time (none when the tenant was live already). */
  ran: string[];
  ms: number;
}

/**
 * Seed 000 for the demo customer through tenantOnboarding: add → sandbox credentials → sandbox check
 * with the test email → production key → go-live. Stops at the first refused or failed step.
 */
export async function onboardDemoTenant(o: OnboardDemoTenantOptions): Promise<OnboardResult> {
  const out = o.out ?? ((line: string) => console.log(line));
  const t0 = Date.now();
  const files = writeDemoSecretFiles();
  const ran: string[] = [];
  const io = { out: (l: string) => out(indent(l)), err: (l: string) => out(indent(l)), env: o.env };
  out(`\nOnboarding demo tenant ${DEMO_TENANT_ID} (seed 000, through the tenantOnboarding workflow tenant-${DEMO_TENANT_ID}):`);
  for (let guard = 0; guard < 8; guard++) {
    const status = await currentStatus(o.client);
    // The base URL is fixed when a tenant is added: an earlier run's tenant may point at a simulator
    // port no longer served. It is offboarded and onboarded again, the way an operator would.
    const moved = status && status.settings.baseUrl !== o.simulatorUrl && status.step !== 'offboarded';
    const next = moved
      ? {
          title: 'offboard the earlier run’s tenant',
          checks: `its base URL ${status.settings.baseUrl} is not this run’s simulator`,
          argv: ['offboard', DEMO_TENANT_ID, '--reason', 'dev simulator moved'],
        }
      : nextStep(status, o.simulatorUrl, files);
    if (!next) {
      const step = status?.step ?? 'unknown';
      if (!ran.length)
        out(`  already ${step}${status?.liveSince ? ` since ${status.liveSince}` : ''} (from an earlier run): npm run dsar -- tenant show ${DEMO_TENANT_ID}`);
      if (step === 'paused') out(`  it is paused: its erasures wait until npm run dsar -- tenant resume ${DEMO_TENANT_ID}`);
      return { step, ran, ms: Date.now() - t0 };
    }
    out(`\n  [${ran.length + 1}] ${next.title}: ${next.checks}`);
    out(`  $ npm run dsar -- tenant ${next.argv.map((w) => shellWord(w.startsWith(`${PROJECT_ROOT}/`) ? relative(PROJECT_ROOT, w) : w)).join(' ')}`);
    const code = await runTenantCommand([...next.argv, '--actor', 'dev'], io);
    ran.push(next.argv[0]!);
    if (code !== 0) {
      out(`  step "${next.argv[0]}" ended with exit code ${code}: the tenant stays where it is (npm run dsar -- tenant show ${DEMO_TENANT_ID})`);
      return { step: (await currentStatus(o.client))?.step ?? 'unknown', ran, ms: Date.now() - t0 };
    }
  }
  throw new Error(`onboarding ${DEMO_TENANT_ID} did not settle`);
}

interface Step {
  title: string;
  checks: string;
  argv: string[];
}

interface SecretFiles {
  sandboxKey: string;
  secret: string;
  productionKey: string;
}

/** The step an operator would take next, from the tenant's state; none once it is live (or paused, offboarded). */
function nextStep(s: TenantStatus | undefined, baseUrl: string, f: SecretFiles): Step | undefined {
  const id = DEMO_TENANT_ID;
  if (!s || s.step === 'offboarded') {
    return {
      title: 'add the customer',
      checks: 'the settings (id, name, base URL, lookup, rate limit, policy); starts its onboarding workflow',
      argv: ['add', id, '--name', DEMO_TENANT_NAME, '--base-url', baseUrl, '--rate-limit', '100'],
    };
  }
  if (s.step === 'awaiting_sandbox_credentials' && !s.credentials.sandbox.set) {
    return {
      title: 'seed 000 steps 2 and 4: the Sandbox API Key and the Integration Secret',
      checks: 'read from files (never argv), sealed with DSAR_CREDENTIALS_KEY before they reach Temporal',
      argv: ['set-credentials', id, '--environment', 'sandbox', '--api-key-file', f.sandboxKey, '--secret-file', f.secret],
    };
  }
  if (s.step === 'awaiting_sandbox_credentials') {
    return {
      title: 'seed 000 steps 3 and 4: the sandbox check with the customer’s test email',
      checks: 'logs in, creates a test candidate, finds it by email, erases the person, checks it is gone; names any missing permission',
      argv: ['validate', id, '--environment', 'sandbox', '--test-email', DEMO_TENANT_TEST_EMAIL, '--position', DEMO_TENANT_POSITION],
    };
  }
  if (s.step === 'awaiting_production_key' && !s.credentials.production.set) {
    return {
      title: 'seed 000 step 5: the Production API Key',
      checks: 'sealed like the sandbox credentials; the integration secret is the sandbox’s',
      argv: ['set-credentials', id, '--environment', 'production', '--api-key-file', f.productionKey],
    };
  }
  if (s.step === 'awaiting_production_key') {
    return {
      title: 'go live',
      checks: 'read-only check of the production key (never writes); live if it passes, and erasures for the tenant start',
      argv: ['go-live', id],
    };
  }
  return undefined;
}

async function currentStatus(client: Client): Promise<TenantStatus | undefined> {
  try {
    const d = await tenantHandle(client, DEMO_TENANT_ID).describe();
    if (d.status.name !== 'RUNNING') return undefined;
    return await tenantStatus(client, DEMO_TENANT_ID);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * The customer's keys as an operator receives them: files the CLI reads (`--api-key-file`), so the
 * printed commands work as they are from another terminal (e.g. to rotate). Simulator keys, not secrets.
 * The commands run with the absolute paths and print them relative to the project (npm's cwd).
 */
function writeDemoSecretFiles(): SecretFiles {
  const dir = join(DEV_DATA_DIR, 'tenants', DEMO_TENANT_ID);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const [sandbox, production] = ['sandbox', 'production'].map((env) => demoTenantAccounts().find((a) => a.environment === env)!);
  const write = (name: string, value: string | undefined) => {
    const file = join(dir, name);
    writeFileSync(file, `${value ?? ''}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return file;
  };
  return {
    sandboxKey: write('sandbox.key', sandbox?.apiKey),
    secret: write('integration-secret.txt', sandbox?.secret),
    productionKey: write('production.key', production?.apiKey),
  };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
}

function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`;
}
