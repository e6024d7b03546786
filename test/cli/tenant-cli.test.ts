/**
 * `dsar erase --tenant`, `dsar list --tenant` and `dsar tenant show` against a dev server, a worker
 * and the multi-account simulator: a tenant's request reaches its own Comeet account only, and show
 * reports the queue's rate the workers set, the running requests by phase and those at risk.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { erasureWorkflowId } from '../../src/client.js';
import { eventually } from '../helpers/eventually.js';
import { interviewing, person, runScenario, type Scenario } from '../helpers/scenario.js';
import { scenarioCli } from '../helpers/cli.js';
import { useDevServer } from '../helpers/temporal.js';
import { bringTenantLive, tenantAccounts, TENANT_WORKER } from '../helpers/tenants.js';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

const worker = TENANT_WORKER;

const cli = (s: Scenario) => scenarioCli(env, s, { DSAR_ACTOR: 'op-test' });

interface ShownJson {
  state: string;
  usage: {
    budget: { capPerMinute?: number; ratePerMinute: number; source: string; taskQueue: string; backlog?: { count: number } };
    requests: { running: number; byPhase: Record<string, number>; atRisk: number };
  };
}

describe('dsar with tenants', () => {
  it('erases in the tenant’s account only, lists by tenant, and shows its budget, phases and at-risk count', async () => {
    const same = 'same.person@example.com';
    const busy = 'busy.person@example.com';
    const acme = tenantAccounts('acme', [...person(same, 'P-ACME', 2), interviewing(busy, 'P-BUSY', '+1d'), ...person('file.person@example.com', 'P-FILE')]);
    await runScenario(
      env,
      'cli tenants',
      { seed: { candidates: person(same, 'P-DEFAULT') }, accounts: acme.accounts },
      async (s) => {
        await bringTenantLive(s.client, s.taskQueue, s.sim.url, acme, 100);
        const dsar = cli(s);
        const account = s.sim.account('acme');

        const done = await dsar('erase', '--tenant', 'acme', '--email', same, '--wait');
        expect(done.code, done.err).toBe(0);
        const acmeId = erasureWorkflowId(same, s.idKey, 'acme');
        expect(acmeId).toMatch(/^dsar-acme-[0-9a-f]{32}$/);
        expect(done.out).toContain(`Started erasure ${acmeId}`);
        expect(done.out).toContain('Outcome: completed; 1 person(s), 2 candidate(s) deleted');
        expect(account.stats().erasures.map((e) => e.personUid)).toEqual(['P-ACME']);
        // The default account (COMEET_*) holds the same address and was not touched.
        expect(s.sim.stats().erasures).toEqual([]);
        expect(s.sim.candidates().every((c) => !c.deleted)).toBe(true);

        // In an interview until tomorrow, with a deadline in half an hour: waiting, and at risk.
        const deadline = new Date(Date.now() + 30 * 60_000).toISOString();
        expect((await dsar('erase', '--tenant', 'acme', '--email', busy, '--deadline', deadline)).code).toBe(0);
        const busyId = erasureWorkflowId(busy, s.idKey, 'acme');
        await s.waitForStatus(busyId, (st) => st.phase === 'waiting_for_interviews' && st.atRisk);

        // One file, one tenant: every row goes to its account.
        const dir = mkdtempSync(join(tmpdir(), 'dsar-tenant-cli-'));
        writeFileSync(join(dir, 'subjects.csv'), 'email\nfile.person@example.com\n');
        const bulk = await dsar('erase', '--file', join(dir, 'subjects.csv'), '--tenant', 'acme', '--json');
        expect(bulk.code, bulk.err).toBe(0);
        const fileId = erasureWorkflowId('file.person@example.com', s.idKey, 'acme');
        expect(JSON.parse(bulk.out).rows).toMatchObject([{ row: 2, status: 'started', workflowId: fileId }]);
        await eventually(
          async () => account.stats().erasures.map((e) => e.personUid),
          (e) => e.includes('P-FILE'),
        );

        // The default tenant's request for the same address: its own id and account.
        expect((await dsar('erase', '--email', same, '--wait')).code).toBe(0);
        expect(s.sim.stats().erasures.map((e) => e.personUid)).toEqual(['P-DEFAULT']);

        const listed = await eventually(
          () => dsar('list', '--tenant', 'acme', '--query', `TaskQueue="${s.taskQueue}"`),
          (r) => r.out.split('\n').length === 3,
        );
        expect(listed.out).toContain(acmeId);
        expect(listed.out).toContain(busyId);
        expect(listed.out).toContain(fileId);
        expect(listed.out).not.toContain(erasureWorkflowId(same, s.idKey));
        const atRisk = await dsar('list', '--tenant', 'acme', '--at-risk', '--json');
        expect((JSON.parse(atRisk.out) as { workflowId: string }[]).map((i) => i.workflowId)).toEqual([busyId]);
        expect((await dsar('list', '--tenant', 'default', '--query', `TaskQueue="${s.taskQueue}"`)).out).toContain(erasureWorkflowId(same, s.idKey));

        // Unknown tenant: refused, nothing started.
        const refused = await dsar('erase', '--tenant', 'nobody', '--email', same);
        expect(refused).toMatchObject({ code: 1, err: expect.stringMatching(/^dsar erase refused \(tenant_unknown\): there is no tenant nobody/) });
        const refusedFile = await dsar('erase', '--file', join(dir, 'subjects.csv'), '--tenant', 'nobody');
        expect(refusedFile.code).toBe(1);
        expect(refusedFile.out).toContain('there is no tenant nobody');
        expect(refusedFile.out).not.toContain('could not connect');

        // Show: the workers' cap (96% of 100/min) on acme's queue, one request waiting, at risk.
        const shown = await eventually(
          () => dsar('tenant', 'show', 'acme'),
          (r) => r.out.includes('1 running'),
        );
        expect(shown.code, shown.err).toBe(0);
        expect(shown.out).toMatch(/state: +LIVE/);
        expect(shown.out).toMatch(/budget: +96\/min of the account's 100\/min \(96%\), set through the API by /);
        // The server's backlog figure is approximate (it counts tasks just dispatched for a while): present, not exact.
        expect(shown.out).toMatch(new RegExp(`queue ${s.taskQueue}-comeet-acme, backlog \\d+ task\\(s\\)`));
        expect(shown.out).toContain('requests:    1 running (waiting_for_interviews 1); 1 at risk of missing their deadline');
        const json = JSON.parse((await dsar('tenant', 'show', 'acme', '--json')).out) as ShownJson;
        expect(json.state).toBe('live');
        expect(json.usage.budget).toMatchObject({
          capPerMinute: 96,
          ratePerMinute: 100,
          source: 'api',
          taskQueue: `${s.taskQueue}-comeet-acme`,
          backlog: { count: expect.any(Number) },
        });
        expect(json.usage.requests).toEqual({ running: 1, byPhase: { waiting_for_interviews: 1 }, atRisk: 1 });

        expect((await dsar('tenant', 'pause', 'acme', '--reason', 'incident')).code).toBe(0);
        const paused = JSON.parse((await dsar('tenant', 'show', 'acme', '--json')).out) as ShownJson;
        expect(paused.state).toBe('paused');
        expect((await dsar('tenant', 'show', 'acme')).out).toMatch(/state: +PAUSED/);
        for (const r of [done, bulk, listed, refused, refusedFile, shown]) expect((r.out + r.err).toLowerCase()).not.toContain('@example.com');
      },
      { encrypted: true, worker },
    );
  });
});
