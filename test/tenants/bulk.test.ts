/**
 * `dsar erase --file` with a tenant column, on a dev server with the multi-account simulator: each row
 * is erased in its own tenant's account, and rows for a tenant that takes no erasures (unknown, not
 * live) are reported as refused while the others go on.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import type { BulkSummary } from '../../src/cli/bulk.js';
import { addTenant } from '../../src/tenants/client.js';
import { person, runScenario, type Scenario } from '../helpers/scenario.js';
import { scenarioCli } from '../helpers/cli.js';
import { useDevServer } from '../helpers/temporal.js';
import { bringTenantLive, tenantAccounts, TENANT_WORKER } from '../helpers/tenants.js';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

const worker = TENANT_WORKER;

async function dsar(s: Scenario, argv: string[]) {
  const r = await scenarioCli(env, s)(...argv);
  // No email address in any output, whatever happened.
  expect(`${r.out}\n${r.err}`).not.toContain('@');
  return { code: r.code, out: r.out, errText: r.err };
}

describe('dsar erase --file with tenants', () => {
  it('erases each row in its tenant’s own account; rows for an unknown or not-live tenant are refused, the others go on', async () => {
    const email = 'shared.person@example.com';
    const acme = tenantAccounts('acme', [...person(email, 'P-ACME'), ...person('only.acme@example.com', 'P-ACME-2')]);
    const globex = tenantAccounts('globex', person(email, 'P-GLOBEX', 2));
    await runScenario(
      env,
      'bulk tenants',
      { seed: { candidates: person(email, 'P-DEFAULT') }, accounts: [...acme.accounts, ...globex.accounts] },
      async (s) => {
        await Promise.all([
          ...[acme, globex].map((t) => bringTenantLive(s.client, s.taskQueue, s.sim.url, t)),
          addTenant(s.client, { id: 'newco', name: 'New Co', baseUrl: s.sim.url }, { taskQueue: s.taskQueue, actor: 'test' }),
        ]);
        const dir = mkdtempSync(join(tmpdir(), 'dsar-bulk-tenants-'));
        const file = join(dir, 'subjects.csv');
        writeFileSync(
          file,
          [
            'email,tenant,requestId',
            `${email},acme,R-1`,
            `${email},globex,R-2`,
            'only.acme@example.com,ACME,R-3',
            `${email},nobody,R-4`,
            `${email},newco,R-5`,
            `${email},,R-6`,
          ].join('\n'),
        );
        const run = await dsar(s, ['erase', '--file', file, '--json']);
        expect(run.code).toBe(1);
        const summary = JSON.parse(run.out) as BulkSummary;
        expect(summary).toMatchObject({ outcome: 'finished', totalRows: 6, requests: 6, started: 4, failed: 2, notStarted: 0 });
        const byRow = new Map(summary.rows.map((r) => [r.row, r]));
        expect(byRow.get(2)).toMatchObject({ status: 'started', tenant: 'acme', workflowId: expect.stringMatching(/^dsar-acme-[0-9a-f]{32}$/) });
        expect(byRow.get(3)).toMatchObject({ status: 'started', tenant: 'globex', workflowId: expect.stringMatching(/^dsar-globex-[0-9a-f]{32}$/) });
        expect(byRow.get(4)).toMatchObject({ status: 'started', tenant: 'acme' });
        expect(byRow.get(5)).toMatchObject({
          status: 'failed',
          refused: true,
          tenant: 'nobody',
          error: expect.stringMatching(/^refused \(tenant_unknown\): there is no tenant nobody/),
        });
        expect(byRow.get(6)).toMatchObject({
          status: 'failed',
          refused: true,
          tenant: 'newco',
          error: expect.stringMatching(/^refused \(tenant_not_live\): tenant newco is not live/),
        });
        expect(byRow.get(7)).toMatchObject({ status: 'started', workflowId: expect.stringMatching(/^dsar-[0-9a-f]{32}$/) });
        expect(byRow.get(7)).not.toHaveProperty('tenant');
        expect(run.errText).toContain('row 5: failed: refused (tenant_unknown)');

        const started = summary.rows.filter((r) => r.status === 'started').map((r) => r.workflowId!);
        const outcomes = await Promise.all(
          started.map((id) =>
            s.client.workflow
              .getHandle(id)
              .result()
              .then((r) => r.outcome),
          ),
        );
        expect(outcomes).toEqual(['completed', 'completed', 'completed', 'completed']);
        expect(
          s.sim
            .account('acme')
            .stats()
            .erasures.map((e) => e.personUid)
            .sort(),
        ).toEqual(['P-ACME', 'P-ACME-2']);
        expect(
          s.sim
            .account('globex')
            .stats()
            .erasures.map((e) => e.personUid),
        ).toEqual(['P-GLOBEX']);
        expect(s.sim.stats().erasures.map((e) => e.personUid)).toEqual(['P-DEFAULT']);

        // --tenant fills empty cells; a cell naming another tenant is a bad row, and nothing starts.
        writeFileSync(file, ['email,tenant', 'only.acme@example.com,', `${email},globex`].join('\n'));
        const scoped = await dsar(s, ['erase', '--file', file, '--tenant', 'acme']);
        expect(scoped.code).toBe(2);
        expect(scoped.errText).toContain('row 3: tenant names another tenant than --tenant acme; leave the cell empty or make the two agree');
        const again = await dsar(s, ['erase', '--file', file, '--tenant', 'acme', '--skip-invalid', '--json']);
        expect(again.code).toBe(0);
        // The same person and tenant as row 4 above, so the same workflow id; erased already, nothing is left.
        const rerun = (JSON.parse(again.out) as BulkSummary).rows[0]!;
        expect(rerun).toMatchObject({ row: 2, tenant: 'acme', workflowId: byRow.get(4)!.workflowId });
        expect((await s.client.workflow.getHandle(rerun.workflowId!).result()).outcome).toBe('no_data');
        expect(s.sim.account('acme').stats().erasures).toHaveLength(2);
        expect((await dsar(s, ['erase', '--file', file, '--tenant', 'Acme Co'])).errText).toMatch(/--tenant: a tenant id is 2-31 characters/);
      },
      { encrypted: true, worker },
    );
  });
});
