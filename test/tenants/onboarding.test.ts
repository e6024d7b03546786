/**
 * Tenant onboarding (seed 000) on a real dev server, with the multi-account simulator standing in
 * for a customer's sandbox and production accounts, driven through `dsar tenant`. Nothing an
 * operator can read (history decoded through the payload codec, the status query, the CLI's
 * output) may hold the API keys or the secret.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { AesGcmPayloadCodec, parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { ALL_PERMISSIONS, type SimulatorOptions } from '../../src/simulator/server.js';
import { tenantStatus } from '../../src/tenants/client.js';
import { parseCredentialKeys } from '../../src/tenants/credentials.js';
import type { TenantStatus } from '../../src/tenants/model.js';
import { runScenario, TEST_ENCRYPTION_KEYS, type Scenario } from '../helpers/scenario.js';
import { encryptedWorkflowBundle, startDevServer } from '../helpers/temporal.js';

const CREDENTIALS_KEY = `c1:${Buffer.alloc(32, 4).toString('base64')}`;
const SANDBOX_KEY = 'acme-sandbox-key-a1b2c3d4';
const PRODUCTION_KEY = 'acme-production-key-e5f6a7b8';
const SECRET = 'acme-integration-secret-c9d0e1f2';
const TEST_EMAIL = 'dsar-test@acme.example';
const SECRETS = [SANDBOX_KEY, PRODUCTION_KEY, SECRET];
const ERASE = 'Persons: Delete or Pseudonymize persons';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startDevServer();
  await encryptedWorkflowBundle();
});
afterAll(async () => {
  await env?.teardown();
});

const accounts = (sandboxPermissions = [...ALL_PERMISSIONS]): Partial<SimulatorOptions> => ({
  accounts: [
    { id: 'acme-sandbox', environment: 'sandbox', apiKey: SANDBOX_KEY, secret: SECRET, permissions: sandboxPermissions, rateLimit: null },
    {
      id: 'acme',
      environment: 'production',
      apiKey: PRODUCTION_KEY,
      secret: SECRET,
      rateLimit: null,
      seed: { candidates: [{ first_name: 'Real', last_name: 'Customer', email: 'real@acme.example' }] },
    },
  ],
});

function tenantScenario(title: string, simOptions: Partial<SimulatorOptions>, body: (s: Scenario, dsar: Dsar) => Promise<void>, { sealed = true } = {}) {
  return runScenario(
    env,
    title,
    simOptions,
    async (s) => {
      const dir = mkdtempSync(join(tmpdir(), 'dsar-tenant-'));
      const files: Record<string, string> = {};
      for (const [name, value] of Object.entries({
        sandboxKey: SANDBOX_KEY,
        productionKey: PRODUCTION_KEY,
        secret: SECRET,
        wrongKey: 'acme-wrong-key-00000000',
      })) {
        files[name] = join(dir, name);
        writeFileSync(files[name]!, `${value}\n`);
      }
      const output: string[] = [];
      const dsar: Dsar = Object.assign(
        async (...argv: string[]) => {
          const out: string[] = [];
          const err: string[] = [];
          const started = Date.now();
          const code = await runCli(['tenant', ...argv.map((a) => (a.startsWith('@') ? files[a.slice(1)]! : a))], {
            out: (l) => out.push(l),
            err: (l) => err.push(l),
            env: {
              DSAR_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
              DSAR_CREDENTIALS_KEY: CREDENTIALS_KEY,
              TEMPORAL_ADDRESS: env.address,
              TEMPORAL_TASK_QUEUE: s.taskQueue,
              DSAR_ID_KEY: s.idKey,
              DSAR_ACTOR: 'op-anna',
            },
          });
          output.push(...out, ...err);
          return { code, out: out.join('\n'), err: err.join('\n'), ms: Date.now() - started };
        },
        { output },
      );
      await body(s, dsar);
      await expectNoSecrets(s, output, sealed);
    },
    {
      encrypted: true,
      worker: {
        tenants: { credentials: parseCredentialKeys(CREDENTIALS_KEY), comeet: { responseTimeoutMs: 5_000 }, lookupRetryDelayMs: 0, maxRateLimitWaitMs: 2_000 },
      },
    },
  );
}

type Dsar = ((...argv: string[]) => Promise<{ code: number; out: string; err: string; ms: number }>) & { output: string[] };

/** Every payload of the tenant's history, decoded as the codec server would, plus the query and CLI output. */
async function expectNoSecrets(s: Scenario, output: string[], sealed: boolean): Promise<void> {
  const codec = new AesGcmPayloadCodec(parseEncryptionKeys(TEST_ENCRYPTION_KEYS));
  const texts: string[] = [...output];
  const ids = [];
  for await (const w of s.client.workflow.list({ query: `WorkflowType="tenantOnboarding" AND TaskQueue="${s.taskQueue}"` })) ids.push(w.workflowId);
  expect(ids.length).toBeGreaterThan(0);
  for (const id of ids) {
    const history = await s.client.workflow.getHandle(id).fetchHistory();
    const payloads: { metadata?: Record<string, Uint8Array>; data?: Uint8Array }[] = [];
    const walk = (v: unknown) => {
      if (!v || typeof v !== 'object') return;
      if (v instanceof Uint8Array) return;
      const o = v as Record<string, unknown>;
      if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') payloads.push(o as never);
      for (const x of Object.values(o)) walk(x);
    };
    walk(history);
    expect(payloads.length).toBeGreaterThan(5);
    const decoded = await codec.decode(payloads as never);
    texts.push(JSON.stringify(history), ...decoded.map((p) => Buffer.from(p.data ?? []).toString('latin1')));
    texts.push(
      JSON.stringify(
        await s.client.workflow
          .getHandle(id)
          .query('status')
          .catch(() => ({})),
      ),
    );
  }
  const all = texts.join('\n');
  // The sealed blobs are there (the scan looked at the right payloads), the secrets are not.
  if (sealed) expect(all).toContain('dsarcred.v1.c1.');
  for (const secret of SECRETS) expect(all).not.toContain(secret);
}

async function status(s: Scenario, id: string): Promise<TenantStatus> {
  return tenantStatus(s.client, id);
}

describe('tenant onboarding', () => {
  it('walks sandbox → validated → production → live, writing only to the sandbox', async () => {
    await tenantScenario('tenant happy path', accounts(), async (s, dsar) => {
      const added = await dsar('add', 'acme-ok', '--name', 'Acme Corp', '--base-url', s.sim.url, '--rate-limit', '80');
      expect(added).toMatchObject({ code: 0 });
      expect((await status(s, 'acme-ok')).step).toBe('awaiting_sandbox_credentials');
      expect((await status(s, 'acme-ok')).missing).toEqual(['sandbox API key and integration secret']);

      const creds = await dsar('set-credentials', 'acme-ok', '--environment', 'sandbox', '--api-key-file', '@sandboxKey', '--secret-file', '@secret');
      expect(creds.code).toBe(0);
      expect(creds.out).toContain('Accepted: sandbox credentials for tenant acme-ok.');

      const check = await dsar('validate', 'acme-ok', '--environment', 'sandbox', '--test-email', TEST_EMAIL, '--position', '11.11');
      expect(check.err).toBe('');
      expect(check.code).toBe(0);
      expect(check.out).toContain('Accepted: sandbox check for tenant acme-ok.');
      expect(check.out).toContain('Tenant acme-ok: awaiting_production_key (check passed)');
      expect(check.out).toMatch(/lookup works: .*candidates-filter/);
      let st = await status(s, 'acme-ok');
      expect(st).toMatchObject({
        step: 'awaiting_production_key',
        missing: ['production API key'],
        credentials: { sandbox: { set: true, keyId: 'c1' }, production: { set: false } },
      });
      expect(st.lookupWorks).toContain('candidates-filter');
      expect(st.events.map((e) => e.kind)).toEqual(['added', 'sandbox_credentials_set', 'sandbox_check_started', 'sandbox_validated']);
      expect(st.events[1]!.actor).toBe('op-anna');
      // The check wrote to the sandbox account only: its test candidate, created then deleted.
      const sandboxCandidates = s.sim.account('acme-sandbox').candidates();
      expect(sandboxCandidates).toHaveLength(1);
      expect(sandboxCandidates[0]!.deleted).toBe(true);

      expect((await dsar('set-credentials', 'acme-ok', '--environment', 'production', '--api-key-file', '@productionKey')).code).toBe(0);
      const live = await dsar('go-live', 'acme-ok');
      expect(live.err).toBe('');
      expect(live.out).toContain('Tenant acme-ok: live (check passed)');
      st = await status(s, 'acme-ok');
      expect(st.step).toBe('live');
      expect(st.liveSince).toBeTruthy();
      expect(st.settings.ratePerMinute).toBe(80);
      expect(
        s.sim
          .account('acme')
          .candidates()
          .every((c) => !c.deleted),
      ).toBe(true);
      const prodStats = s.sim.account('acme').stats();
      expect(prodStats.total).toBeGreaterThan(0);
      expect(Object.keys(prodStats.byRoute).filter((r) => !r.startsWith('GET '))).toEqual([]);
      expect(prodStats.erasures).toEqual([]);

      const shown = await dsar('show', 'acme-ok');
      expect(shown.out).toMatch(/step: +live/);
      expect(shown.out).toContain('sealing key c1');
      const listed = await dsar('list');
      expect(listed.out).toMatch(/acme-ok +live +Acme Corp/);
    });
  });

  it('stops at the sandbox check naming a missing permission, and goes on once it is granted', async () => {
    const noErase = ALL_PERMISSIONS.filter((p) => p !== 'persons:erase');
    await tenantScenario('tenant missing permission', accounts(noErase), async (s, dsar) => {
      await dsar('add', 'acme-perm', '--name', 'Acme', '--base-url', s.sim.url);
      await dsar('set-credentials', 'acme-perm', '--environment', 'sandbox', '--api-key-file', '@sandboxKey', '--secret-file', '@secret');
      const failed = await dsar('validate', 'acme-perm', '--environment', 'sandbox', '--test-email', TEST_EMAIL, '--position', '11.11');
      expect(failed.code).toBe(1);
      expect(failed.out).toContain('Tenant acme-perm: awaiting_sandbox_credentials (check FAILED)');
      expect(failed.out).toContain(`permission: ${ERASE}`);
      const st = await status(s, 'acme-perm');
      expect(st.step).toBe('awaiting_sandbox_credentials');
      expect(st.missing).toEqual([`permission: ${ERASE}`]);
      expect(st.lastCheck).toMatchObject({ environment: 'sandbox', ok: false });

      s.sim.account('acme-sandbox').setPermissions([...ALL_PERMISSIONS]);
      const passed = await dsar('validate', 'acme-perm', '--environment', 'sandbox', '--test-email', TEST_EMAIL, '--position', '11.11');
      expect(passed.code).toBe(0);
      expect((await status(s, 'acme-perm')).step).toBe('awaiting_production_key');
    });
  });

  it('refuses a wrong production key at validating_production, and stays not live', async () => {
    await tenantScenario('tenant wrong production key', accounts(), async (s, dsar) => {
      await dsar('add', 'acme-key', '--name', 'Acme', '--base-url', s.sim.url);
      await dsar('set-credentials', 'acme-key', '--environment', 'sandbox', '--api-key-file', '@sandboxKey', '--secret-file', '@secret');
      expect((await dsar('validate', 'acme-key', '--environment', 'sandbox', '--test-email', TEST_EMAIL, '--position', '11.11')).code).toBe(0);
      await dsar('set-credentials', 'acme-key', '--environment', 'production', '--api-key-file', '@wrongKey');
      const refused = await dsar('go-live', 'acme-key');
      expect(refused.code).toBe(1);
      expect(refused.out).toContain('Tenant acme-key: awaiting_production_key (check FAILED)');
      const st = await status(s, 'acme-key');
      expect(st.step).toBe('awaiting_production_key');
      expect(st.missing[0]).toMatch(/^credentials: /);
      expect(st.events.map((e) => e.kind)).toContain('production_check_failed');

      await dsar('set-credentials', 'acme-key', '--environment', 'production', '--api-key-file', '@productionKey');
      expect((await dsar('go-live', 'acme-key')).code).toBe(0);
      expect((await status(s, 'acme-key')).step).toBe('live');
    });
  });

  it('refuses steps out of order at once, saying why; pause and resume keep the step', async () => {
    await tenantScenario(
      'tenant out of order',
      accounts(),
      async (s, dsar) => {
        const bad = await dsar('add', 'Acme_Corp', '--name', 'Acme', '--base-url', s.sim.url);
        expect(bad).toMatchObject({ code: 2 });
        expect(bad.err).toMatch(/needs a tenant id: a tenant id is 2-31 characters/);
        await dsar('add', 'acme-order', '--name', 'Acme', '--base-url', s.sim.url);
        expect((await dsar('add', 'acme-order', '--name', 'Acme', '--base-url', s.sim.url)).err).toContain('tenant acme-order exists already');

        const early = await dsar('validate', 'acme-order', '--environment', 'sandbox', '--test-email', TEST_EMAIL, '--position', '11.11');
        expect(early.code).toBe(1);
        expect(early.err).toContain('dsar tenant validate refused: validateSandbox needs the sandbox credentials first');
        expect(early.ms).toBeLessThan(5_000);
        const prod = await dsar('set-credentials', 'acme-order', '--environment', 'production', '--api-key-file', '@productionKey');
        expect(prod.err).toContain('setProductionKey is refused while tenant acme-order is awaiting_sandbox_credentials: the sandbox must be validated first');
        expect((await dsar('go-live', 'acme-order')).err).toContain('goLive is refused while tenant acme-order is awaiting_sandbox_credentials');
        expect((await dsar('resume', 'acme-order')).err).toContain('tenant acme-order is not paused');
        const noSecret = await dsar('set-credentials', 'acme-order', '--environment', 'sandbox', '--api-key-file', '@sandboxKey');
        expect(noSecret).toMatchObject({ code: 2 });

        expect((await dsar('pause', 'acme-order', '--reason', 'customer asked')).out).toContain('Tenant acme-order: paused');
        expect(
          (await dsar('set-credentials', 'acme-order', '--environment', 'sandbox', '--api-key-file', '@sandboxKey', '--secret-file', '@secret')).err,
        ).toContain('refused while tenant acme-order is paused');
        expect((await dsar('resume', 'acme-order')).out).toContain('Tenant acme-order: awaiting_sandbox_credentials');
        const st = await status(s, 'acme-order');
        expect(st.events.find((e) => e.kind === 'paused')).toMatchObject({ actor: 'op-anna', detail: 'customer asked' });
        expect(s.sim.account('acme-sandbox').stats().total).toBe(0);

        expect((await dsar('offboard', 'acme-order')).out).toContain('Tenant acme-order: offboarded');
        expect(await s.client.workflow.getHandle('tenant-acme-order').result()).toEqual({ step: 'offboarded' });
        expect(dsar.output.filter((l) => l.startsWith('Accepted:'))).toEqual([
          'Accepted: pause for tenant acme-order.',
          'Accepted: resume for tenant acme-order.',
          'Accepted: offboard for tenant acme-order.',
        ]);
      },
      { sealed: false },
    );
  });
});
