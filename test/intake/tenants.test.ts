/**
 * Intake tokens scoped to tenants, over real HTTP on a dev server with the multi-account simulator: a
 * tenant's token starts requests in its own account only and reads only its tenant's requests (403
 * otherwise, the same whether or not the request exists); an admin token reads and starts for every
 * tenant; a token without a tenant is the default tenant's, as before tenants.
 */
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { listErasures } from '../../src/client.js';
import { startIntakeServer, type IntakeCaller, type IntakeLogEntry, type IntakeServer } from '../../src/intake/server.js';
import { addTenant } from '../../src/tenants/client.js';
import { FAST_TUNING, person, runScenario, type Scenario } from '../helpers/scenario.js';
import { useDevServer } from '../helpers/temporal.js';
import { bringTenantLive, tenantAccounts, TENANT_WORKER } from '../helpers/tenants.js';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

const token = (name: string) => `${name}-intake-token-0123456789abcdef0123456789`;
const TOKENS: IntakeCaller[] = [
  { name: 'acme-hr', token: token('acme-hr'), tenant: 'acme' },
  { name: 'acme-crm', token: token('acme-crm'), tenant: 'acme' },
  { name: 'globex-hr', token: token('globex-hr'), tenant: 'globex' },
  { name: 'newco-hr', token: token('newco-hr'), tenant: 'newco' },
  // No tenant: the default tenant's (the single-account setup), exactly as before tenants.
  { name: 'legacy', token: token('legacy') },
  { name: 'ops', token: token('ops'), admin: true },
];
const as = (name: string) => ({ authorization: `Bearer ${token(name)}` });

const worker = TENANT_WORKER;

async function call(intake: IntakeServer, method: 'GET' | 'POST', path: string, who: string, body?: unknown) {
  const res = await request(intake.url + path, {
    method,
    headers: { ...as(who), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, text, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

async function withIntake(s: Scenario, body: (intake: IntakeServer, logs: IntakeLogEntry[]) => Promise<void>) {
  const logs: IntakeLogEntry[] = [];
  const intake = await startIntakeServer({
    client: s.client,
    start: { taskQueue: s.taskQueue, idKey: s.idKey, tuning: FAST_TUNING },
    tokens: TOKENS,
    log: (e) => logs.push(e),
  });
  try {
    await body(intake, logs);
  } finally {
    await intake.close();
  }
}

const result = (s: Scenario, id: string) => s.client.workflow.getHandle(id).result();

describe('intake tokens per tenant', () => {
  it('starts and reads only its own tenant’s requests; the admin token sees every tenant; a token without tenant is the default’s', async () => {
    const email = 'tenant.subject@example.com';
    const acme = tenantAccounts('acme', person(email, 'P-ACME', 2));
    const globex = tenantAccounts('globex', [...person(email, 'P-GLOBEX'), ...person('second@example.com', 'P-SECOND')]);
    await runScenario(
      env,
      'intake tenants',
      { seed: { candidates: person(email, 'P-DEFAULT') }, accounts: [...acme.accounts, ...globex.accounts] },
      async (s) => {
        await Promise.all([
          ...[acme, globex].map((t) => bringTenantLive(s.client, s.taskQueue, s.sim.url, t)),
          addTenant(s.client, { id: 'newco', name: 'New Co', baseUrl: s.sim.url }, { taskQueue: s.taskQueue, actor: 'test' }),
        ]);
        await withIntake(s, async (intake, logs) => {
          // A tenant token starts in its own tenant, with or without naming it.
          const a = await call(intake, 'POST', '/v1/erasures', 'acme-hr', { email, requestId: 'A-1' });
          expect(a.status).toBe(202);
          expect(a.json).toMatchObject({ tenant: 'acme', requestId: 'A-1' });
          const acmeId = a.json!.id as string;
          expect(acmeId).toMatch(/^dsar-acme-[0-9a-f]{32}$/);
          expect((await call(intake, 'POST', '/v1/erasures', 'acme-hr', { email, requestId: 'A-1', tenant: 'acme' })).json).toMatchObject({ id: acmeId });

          // Naming another tenant is 403, the same answer whether that tenant exists or not.
          const toGlobex = await call(intake, 'POST', '/v1/erasures', 'acme-hr', { email, requestId: 'A-2', tenant: 'globex' });
          expect(toGlobex.status).toBe(403);
          expect(toGlobex.json).toMatchObject({
            error: 'tenant_forbidden',
            message: expect.stringMatching(/this token belongs to tenant acme: it starts requests for that tenant only/),
          });
          expect((await call(intake, 'POST', '/v1/erasures', 'acme-hr', { email, requestId: 'A-2', tenant: 'nobody' })).json).toEqual(toGlobex.json);
          expect((await call(intake, 'POST', '/v1/erasures', 'legacy', { email, requestId: 'L-9', tenant: 'acme' })).status).toBe(403);
          expect((await call(intake, 'POST', '/v1/erasures', 'acme-hr', { email, requestId: 'A-2', tenant: 'Not A Tenant' })).json).toMatchObject({
            error: 'invalid_request',
            message: expect.stringMatching(/^tenant: a tenant id is 2-31 characters/),
          });

          expect((await result(s, acmeId)).outcome).toBe('completed');
          expect(
            s.sim
              .account('acme')
              .stats()
              .erasures.map((e) => e.personUid),
          ).toEqual(['P-ACME']);
          expect(s.sim.account('globex').stats().erasures).toEqual([]);
          expect(s.sim.stats().erasures).toEqual([]);

          const g = await call(intake, 'POST', '/v1/erasures', 'globex-hr', { email, requestId: 'G-1' });
          expect(g.status).toBe(202);
          const globexId = g.json!.id as string;
          expect(globexId).toMatch(/^dsar-globex-[0-9a-f]{32}$/);
          expect((await result(s, globexId)).outcome).toBe('completed');
          expect(
            s.sim
              .account('globex')
              .stats()
              .erasures.map((e) => e.personUid),
          ).toEqual(['P-GLOBEX']);

          // Reading another tenant's request: 403, decided from the id, so an id that exists and one
          // that does not get the same answer.
          expect((await call(intake, 'GET', `/v1/erasures/${acmeId}`, 'acme-hr')).json).toMatchObject({
            id: acmeId,
            tenant: 'acme',
            status: 'COMPLETED',
            requestIds: ['A-1'],
          });
          const other = await call(intake, 'GET', `/v1/erasures/${globexId}`, 'acme-hr');
          expect(other.status).toBe(403);
          expect(other.json).toMatchObject({ error: 'tenant_forbidden', message: expect.stringMatching(/this token reads requests of tenant acme only/) });
          const ghost = await call(intake, 'GET', `/v1/erasures/dsar-globex-${randomBytes(16).toString('hex')}`, 'acme-hr');
          expect({ status: ghost.status, json: ghost.json }).toEqual({ status: other.status, json: other.json });
          expect((await call(intake, 'GET', `/v1/erasures/${acmeId}`, 'globex-hr')).status).toBe(403);
          expect((await call(intake, 'GET', `/v1/erasures/${acmeId}`, 'legacy')).status).toBe(403);
          // Within a tenant the caller rules hold as before: another service of acme does not.
          expect((await call(intake, 'GET', `/v1/erasures/${acmeId}`, 'acme-crm')).status).toBe(404);

          // The admin token reads every tenant, and starts for the tenant it names.
          expect((await call(intake, 'GET', `/v1/erasures/${acmeId}`, 'ops')).json).toMatchObject({ tenant: 'acme', requestIds: ['A-1'] });
          expect((await call(intake, 'GET', `/v1/erasures/${globexId}`, 'ops')).json).toMatchObject({ tenant: 'globex', requestIds: ['G-1'] });
          const byOps = await call(intake, 'POST', '/v1/erasures', 'ops', { email: 'second@example.com', requestId: 'OPS-1', tenant: 'globex' });
          expect(byOps.json).toMatchObject({ tenant: 'globex', id: expect.stringMatching(/^dsar-globex-/) });
          expect((await result(s, byOps.json!.id)).outcome).toBe('completed');
          expect(
            s.sim
              .account('globex')
              .stats()
              .erasures.map((e) => e.personUid),
          ).toEqual(['P-GLOBEX', 'P-SECOND']);

          // Tenants that take no erasures: unknown 422, not live (yet) 409; nothing started.
          const unknown = await call(intake, 'POST', '/v1/erasures', 'ops', { email, requestId: 'OPS-2', tenant: 'nobody' });
          expect(unknown.status).toBe(422);
          expect(unknown.json).toMatchObject({ error: 'tenant_unknown', message: expect.stringMatching(/there is no tenant nobody/) });
          const notLive = await call(intake, 'POST', '/v1/erasures', 'newco-hr', { email, requestId: 'N-1' });
          expect(notLive.status).toBe(409);
          expect(notLive.json).toMatchObject({
            error: 'tenant_not_live',
            message: expect.stringMatching(/tenant newco is not live \(it is awaiting_sandbox_credentials\)/),
          });
          expect((await call(intake, 'POST', '/v1/erasures', 'ops', { email, requestId: 'OPS-3', tenant: 'newco' })).status).toBe(409);
          expect(await listErasures(s.client, `DsarTenant="newco" AND TaskQueue="${s.taskQueue}"`)).toEqual([]);

          // The default tenant's token works as before: the id of the single-account setup, its account.
          const d = await call(intake, 'POST', '/v1/erasures', 'legacy', { email, requestId: 'L-1' });
          expect(d.status).toBe(202);
          expect(d.json).toMatchObject({ tenant: 'default', id: expect.stringMatching(/^dsar-[0-9a-f]{32}$/) });
          expect((await result(s, d.json!.id)).outcome).toBe('completed');
          expect((await call(intake, 'GET', `/v1/erasures/${d.json!.id}`, 'legacy')).json).toMatchObject({ tenant: 'default', status: 'COMPLETED' });
          expect((await call(intake, 'GET', `/v1/erasures/${d.json!.id}`, 'acme-hr')).status).toBe(403);
          expect(s.sim.stats().erasures.map((e) => e.personUid)).toEqual(['P-DEFAULT']);
          expect(s.sim.account('acme').stats().erasures).toHaveLength(1);

          expect(logs.find((l) => l.method === 'POST' && l.status === 202 && l.caller === 'globex-hr')).toMatchObject({ tenant: 'globex' });
          expect(JSON.stringify(logs).toLowerCase()).not.toContain('tenant.subject');
        });
      },
      { encrypted: true, worker },
    );
  });

  it('refuses an admin token that names a tenant and a tenant that is not an id', async () => {
    const client = {} as never;
    const start = { taskQueue: 'unused', idKey: 'a'.repeat(64) };
    await expect(startIntakeServer({ client, start, tokens: [{ name: 'ops', token: token('ops'), admin: true, tenant: 'acme' }] })).rejects.toThrow(
      /admin tokens read every tenant/,
    );
    await expect(startIntakeServer({ client, start, tokens: [{ name: 'hr', token: token('hr'), tenant: 'Acme Co' }] })).rejects.toThrow(
      /a tenant id is 2-31 characters/,
    );
  });
});
