/**
 * Erasures per tenant on a real dev server, with the multi-account simulator: each tenant's requests
 * reach only its own account, under ids that never meet; a tenant that is not live is refused; a
 * paused tenant stops spending calls within a second and its requests go on after the resume; a
 * rotated production key is used without restarting the worker.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { InvalidErasureRequestError, listErasures, nudgeTenantErasures } from '../../src/client.js';
import { addTenant, setTenantCredentials, tenantStep, TenantNotAcceptingError } from '../../src/tenants/client.js';
import { eventually } from '../helpers/eventually.js';
import { person, runScenario, type Scenario } from '../helpers/scenario.js';
import { useDevServer } from '../helpers/temporal.js';
import { bringTenantLive, tenantAccounts, testCredentialKeys, type TenantAccounts, TENANT_WORKER } from '../helpers/tenants.js';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

const worker = TENANT_WORKER;

function tenantsScenario(title: string, tenants: TenantAccounts[], seed: Parameters<typeof person>[0][], body: (s: Scenario) => Promise<void>) {
  return runScenario(
    env,
    title,
    { seed: { candidates: seed.flatMap((email, i) => person(email, `P-DEFAULT-${i}`)) }, accounts: tenants.flatMap((t) => t.accounts) },
    async (s) => {
      for (const t of tenants) await bringTenantLive(s.client, s.taskQueue, s.sim.url, t);
      await body(s);
    },
    { encrypted: true, worker },
  );
}

describe('erasures per tenant', () => {
  it('erases the same address in each tenant’s own account only, under ids that never meet', async () => {
    const email = 'same.person@example.com';
    const acme = tenantAccounts('acme', person(email, 'P-ACME', 2));
    const globex = tenantAccounts('globex', person(email, 'P-GLOBEX'));
    await tenantsScenario('tenants same email', [acme, globex], [email], async (s) => {
      const [a, g] = await Promise.all([s.start({ email, tenant: 'acme' }), s.start({ email, tenant: 'globex' })]);
      expect(a.workflowId).toMatch(/^dsar-acme-[0-9a-f]{32}$/);
      expect(g.workflowId).toMatch(/^dsar-globex-[0-9a-f]{32}$/);
      expect(a.workflowId.slice(-32)).not.toBe(g.workflowId.slice(-32));
      const [ra, rg] = await Promise.all([a.handle.result(), g.handle.result()]);
      expect([ra.outcome, rg.outcome]).toEqual(['completed', 'completed']);
      expect(
        s.sim
          .account('acme')
          .stats()
          .erasures.map((e) => e.personUid),
      ).toEqual(['P-ACME']);
      expect(
        s.sim
          .account('globex')
          .stats()
          .erasures.map((e) => e.personUid),
      ).toEqual(['P-GLOBEX']);
      // The default account (COMEET_* of the single-account setup) was not called for them.
      expect(s.sim.stats().erasures).toEqual([]);
      expect(s.sim.candidates().every((c) => !c.deleted)).toBe(true);
      const listed = await eventually(
        () => listErasures(s.client, `DsarTenant="acme" AND TaskQueue="${s.taskQueue}"`),
        (l) => l.length === 1,
      );
      expect(listed.map((l) => l.workflowId)).toEqual([a.workflowId]);
      expect((await s.status(a.workflowId)).tenant).toBe('acme');

      // The same address for the default tenant: the id of the single-account setup, its account only.
      const d = await s.start({ email });
      expect(d.workflowId).toMatch(/^dsar-[0-9a-f]{32}$/);
      expect((await d.handle.result()).outcome).toBe('completed');
      expect(s.sim.stats().erasures.map((e) => e.personUid)).toEqual(['P-DEFAULT-0']);
      expect(s.sim.account('acme').stats().erasures).toHaveLength(1);
    });
  });

  it('refuses a request for an unknown tenant or one not live yet, saying what is missing', async () => {
    await tenantsScenario('tenants refused', [], [], async (s) => {
      const refusal = (p: Promise<unknown>) =>
        p.then(
          () => undefined,
          (e: unknown) => e,
        );
      const unknown = await refusal(s.start({ email: 'x@example.com', tenant: 'nobody' }));
      expect(unknown).toBeInstanceOf(TenantNotAcceptingError);
      expect(unknown).toMatchObject({ code: 'tenant_unknown' });
      await addTenant(s.client, { id: 'newco', name: 'New Co', baseUrl: s.sim.url }, { taskQueue: s.taskQueue, actor: 'test' });
      const notLive = await refusal(s.start({ email: 'x@example.com', tenant: 'newco' }));
      expect(notLive).toMatchObject({ code: 'tenant_not_live' });
      expect((notLive as Error).message).toContain('awaiting_sandbox_credentials');
      expect((notLive as Error).message).toContain('sandbox API key and integration secret');
      await expect(s.start({ email: 'x@example.com', tenant: 'Not A Tenant' })).rejects.toThrow(InvalidErasureRequestError);
      await expect(s.start({ email: 'x@example.com', tenant: 'Not A Tenant' })).rejects.toThrow(/tenant id is 2-31 characters/);
      const none = await listErasures(s.client, `TaskQueue="${s.taskQueue}"`);
      expect(none).toEqual([]);
    });
  });

  it('takes a tenant’s request, or refuses one, while no worker polls (a bulk load before the workers start)', async () => {
    const email = 'early.bird@example.com';
    const live = tenantAccounts('early', person(email, 'P-EARLY'));
    let s: Scenario | undefined;
    await tenantsScenario('tenant start without worker', [live], [], async (sc) => {
      await addTenant(sc.client, { id: 'early-new', name: 'Early New', baseUrl: sc.sim.url }, { taskQueue: sc.taskQueue, actor: 'test' });
      s = sc;
    });
    // The scenario's worker has shut down: nothing on this task queue answers a query now.
    const within = <T>(p: Promise<T>) =>
      Promise.race([
        p.then(
          (v) => v,
          (e: unknown) => e,
        ),
        new Promise((r) => setTimeout(() => r('no answer within 10 s'), 10_000)),
      ]);
    const started = await within(s!.start({ email, tenant: 'early' }));
    expect(started).toMatchObject({ status: 'started', attached: false });
    const { workflowId } = started as { workflowId: string };
    expect((await s!.client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
    const refused = await within(s!.start({ email, tenant: 'early-new' }));
    expect(refused).toBeInstanceOf(TenantNotAcceptingError);
    expect((refused as Error).message).toContain('awaiting_sandbox_credentials');
    expect((refused as Error).message).toContain('sandbox API key and integration secret');
    await s!.client.workflow.getHandle(workflowId).terminate('test over');
  });

  it('polls each tenant’s queue enough for one worker to carry its whole cap: one poll at Comeet’s 100/min', async () => {
    await tenantsScenario('tenant polls', [], [], async (s) => {
      const opts = { taskQueue: s.taskQueue, actor: 'test' };
      await addTenant(s.client, { id: 'usual', name: 'Usual', baseUrl: s.sim.url }, opts);
      await addTenant(s.client, { id: 'busy', name: 'Busy', baseUrl: s.sim.url, ratePerMinute: 1000 }, opts);
      const queues = await eventually(
        async () => s.worker.tenants!.queues,
        (q) => q.has('usual') && q.has('busy'),
      );
      const polls = (id: string) => queues.get(id)!.worker.options.activityTaskPollerBehavior;
      // 96/min is 1.6 tasks a second: one poll, so 200 such tenants are 200 polls per worker.
      expect(polls('usual')).toEqual({ type: 'simple-maximum', maximum: 1 });
      // 960/min is 16 a second; one poll carried 7.6 a second under load (a 1000/min tenant at 91% of its limit).
      expect(polls('busy')).toEqual({ type: 'simple-maximum', maximum: 4 });
    });
  });

  it('stops calling a paused tenant’s account within a second; its requests go on after the resume', async () => {
    const busy = 'busy.person@example.com';
    // In an interview now: Comeet refuses the erasure, and the workflow re-checks every second or two.
    const t = tenantAccounts('pausy', [
      {
        ...person(busy, 'P-BUSY')[0]!,
        status: 'In progress',
        current_steps: [{ name: 'Phone screen', type: 'Phone Interview', time_scheduled: '-10m', duration_minutes: 60 }],
      },
    ]);
    await tenantsScenario('tenant pause', [t], [], async (s) => {
      const account = s.sim.account('pausy');
      const first = await s.start({ email: busy, tenant: 'pausy' });
      await eventually(
        async () => account.stats().byRoute,
        (r) =>
          Object.entries(r)
            .filter(([k]) => !k.startsWith('GET'))
            .reduce((n, [, v]) => n + v, 0) >= 2,
        20_000,
      );
      const pausing = Date.now();
      expect((await tenantStep(s.client, 'pausy', 'pause', { actor: 'test', reason: 'incident' })).step).toBe('paused');
      // The answer comes once every worker has seen the pause: within two seconds, and no call after it.
      expect(Date.now() - pausing).toBeLessThan(2_000 + 1_000);
      const callsWhenPaused = account.stats().total;
      // A request that arrives while paused waits without a single call.
      const second = await s.start({ email: 'someone.else@example.com', tenant: 'pausy' });
      await new Promise((r) => setTimeout(r, 4_000));
      expect(account.stats().total).toBe(callsWhenPaused);
      const paused = await eventually(
        () => s.status(first.workflowId),
        (st) => st.tenantPaused === true,
      );
      expect(paused.events.map((e) => e.kind)).toContain('tenant_paused');
      const secondStatus = await s.status(second.workflowId);
      expect(secondStatus.tenantPaused, JSON.stringify(secondStatus)).toBe(true);

      account.completeInterviews('P-BUSY');
      await tenantStep(s.client, 'pausy', 'resume', { actor: 'test' });
      expect(await nudgeTenantErasures(s.client, 'pausy')).toBeGreaterThanOrEqual(1);
      const [r1, r2] = await Promise.all([first.handle.result(), second.handle.result()]);
      expect(r1.outcome).toBe('completed');
      expect(r2.outcome).toBe('no_data');
      expect(account.stats().erasures.map((e) => e.personUid)).toEqual(['P-BUSY']);
      expect((await s.status(first.workflowId)).events.map((e) => e.kind)).toContain('tenant_resumed');
    });
  });

  it('uses a rotated production key without a worker restart', async () => {
    const t = tenantAccounts('rotor', [...person('one@example.com', 'P-ONE'), ...person('two@example.com', 'P-TWO')]);
    const newKey = 'rotor-production-key-new-99887766';
    const production = t.accounts[1]!;
    t.accounts[1] = {
      id: production.id,
      environment: 'production',
      rateLimit: null,
      seed: production.seed,
      keys: [
        { apiKey: t.productionKey, secret: t.secret },
        { apiKey: newKey, secret: t.secret },
      ],
    };
    await tenantsScenario('tenant key rotation', [t], [], async (s) => {
      const one = await s.start({ email: 'one@example.com', tenant: 'rotor' });
      expect((await one.handle.result()).outcome).toBe('completed');
      // The customer issues a new key: staged, checked (go-live), then the old one is revoked.
      expect((await setTenantCredentials(s.client, testCredentialKeys(), 'rotor', 'production', { apiKey: newKey }, 'test')).step).toBe('live');
      expect((await tenantStep(s.client, 'rotor', 'goLive', { actor: 'test' })).ok).toBe(true);
      s.sim.revokeApiKey(t.productionKey);
      await new Promise((r) => setTimeout(r, 1_100));
      const two = await s.start({ email: 'two@example.com', tenant: 'rotor' });
      expect((await two.handle.result()).outcome).toBe('completed');
      expect(
        s.sim
          .account('rotor')
          .stats()
          .erasures.map((e) => e.personUid),
      ).toEqual(['P-ONE', 'P-TWO']);
    });
  });
});
