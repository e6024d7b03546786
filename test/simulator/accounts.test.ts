/**
 * Several Comeet accounts served at once: each with its own keys, candidates, permissions, faults,
 * rate-limit window and stats, the JWT `iss` picking the account. Over real HTTP.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseMainConfig } from '../../src/simulator/main.js';
import { startSimulator, type SimCandidateSeed, type Simulator, type SimulatorOptions } from '../../src/simulator/server.js';
import { API_KEY, SECRET, admin, api, mintToken, seededRandom } from './helpers.js';

const ACME_KEY = API_KEY;
const ACME_SECRET = SECRET;
const ACME_SANDBOX_KEY = 'acme-sandbox-key';
const GLOBEX_KEY = 'globex-api-key';
const GLOBEX_SECRET = 'globex-secret-9876543210';

const SHARED_EMAIL = 'same.person@example.com';

const acmeToken = () => mintToken({ iss: ACME_KEY, secret: ACME_SECRET });
const sandboxToken = () => mintToken({ iss: ACME_SANDBOX_KEY, secret: ACME_SECRET });
const globexToken = () => mintToken({ iss: GLOBEX_KEY, secret: GLOBEX_SECRET });

const person = (first: string, extra: Partial<SimCandidateSeed> = {}): SimCandidateSeed => ({
  first_name: first,
  last_name: 'Doe',
  email: SHARED_EMAIL,
  ...extra,
});

/** acme (default account) with its sandbox (same integration secret, separate account), and globex. */
function options(extra: Partial<SimulatorOptions> = {}): SimulatorOptions {
  return {
    apiKey: ACME_KEY,
    secret: ACME_SECRET,
    accountId: 'acme',
    rateLimit: null,
    random: seededRandom(1),
    seed: { candidates: [person('AcmeAda'), person('AcmeOther', { email: 'only.acme@example.com' })] },
    accounts: [
      {
        id: 'acme-sandbox',
        environment: 'sandbox',
        apiKey: ACME_SANDBOX_KEY,
        secret: ACME_SECRET,
        rateLimit: null,
        seed: { candidates: [person('SandboxSam', { email: 'test.candidate@example.com' })] },
      },
      {
        id: 'globex',
        apiKey: GLOBEX_KEY,
        secret: GLOBEX_SECRET,
        rateLimit: null,
        seed: { candidates: [person('GlobexGail')] },
      },
    ],
    ...extra,
  };
}

const firstNames = (r: { json: any }): string[] => (r.json.candidates as { first_name: string }[]).map((c) => c.first_name);

describe('simulator: several accounts side by side', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator(options());
  });
  afterAll(() => sim.close());

  it('each key sees only its own account’s candidates', async () => {
    expect(firstNames(await api(sim, 'GET', '/candidates', { token: await acmeToken() })).sort()).toEqual(['AcmeAda', 'AcmeOther']);
    expect(firstNames(await api(sim, 'GET', '/candidates', { token: await globexToken() }))).toEqual(['GlobexGail']);
    // The sandbox shares acme's integration secret but is an account of its own.
    expect(firstNames(await api(sim, 'GET', '/candidates', { token: await sandboxToken() }))).toEqual(['SandboxSam']);

    const dupA = await api(sim, 'GET', `/sourcing/candidates/find_duplicates?email=${SHARED_EMAIL}`, { token: await acmeToken() });
    const dupB = await api(sim, 'GET', `/sourcing/candidates/find_duplicates?email=${SHARED_EMAIL}`, { token: await globexToken() });
    expect(dupA.json.map((c: { first_name: string }) => c.first_name)).toEqual(['AcmeAda']);
    expect(dupB.json.map((c: { first_name: string }) => c.first_name)).toEqual(['GlobexGail']);
    const onlyAcme = await api(sim, 'GET', '/sourcing/candidates/find_duplicates?email=only.acme@example.com', { token: await globexToken() });
    expect(onlyAcme.status).toBe(400);
    expect(onlyAcme.json.error).toBe('no_duplicates');

    // One account's uid is unknown to another account's key, even by real_id.
    const acmeAda = sim
      .account('acme')
      .candidates()
      .find((c) => c.first_name === 'AcmeAda')!;
    expect((await api(sim, 'GET', `/candidates/${acmeAda.uid}`, { token: await globexToken() })).status).toBe(404);
    expect((await api(sim, 'GET', `/candidates/${acmeAda.uid}`, { token: await acmeToken() })).status).toBe(200);
    const byRealId = await api(sim, 'GET', `/candidates/${acmeAda.real_id}`, { token: await globexToken(), headers: { IDENTIFIER_TYPE: 'REAL_ID' } });
    expect(byRealId.status).toBe(404);
  });

  it('generated uids are unique across accounts, and the default account keeps the single-account uids', async () => {
    const all = sim.accounts().flatMap((a) => sim.account(a.id).candidates());
    const uids = all.flatMap((c) => [c.uid, c.person_uid]);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(all.map((c) => c.real_id)).size).toBe(all.length);
    const single = await startSimulator({ apiKey: ACME_KEY, secret: ACME_SECRET, seed: options().seed });
    try {
      expect(sim.candidates().map((c) => [c.uid, c.person_uid, c.real_id])).toEqual(single.candidates().map((c) => [c.uid, c.person_uid, c.real_id]));
    } finally {
      await single.close();
    }
  });

  it('a delete in one account leaves the other account’s candidate with the same email untouched', async () => {
    const s = await startSimulator(options());
    try {
      const globexGail = s.account('globex').candidates()[0]!;
      const found = await api(s, 'GET', `/candidates?email=${SHARED_EMAIL}`, { token: await acmeToken() });
      const acmePerson = found.json.candidates[0].person_uid as string;
      expect(acmePerson).not.toBe(globexGail.person_uid);

      // Globex's key cannot reach acme's person at all.
      const wrong = await api(s, 'DELETE', `/person/${acmePerson}`, { token: await globexToken() });
      expect(wrong.status).toBe(404);
      expect(wrong.json.error).toBe('not_found');

      const del = await api(s, 'DELETE', `/person/${acmePerson}`, { token: await acmeToken() });
      expect(del.status).toBe(200);
      expect(del.json.candidates_deleted).toBe(1);

      expect(
        s
          .account('acme')
          .candidates()
          .find((c) => c.person_uid === acmePerson)!.deleted,
      ).toBe(true);
      expect(s.account('globex').candidate(globexGail.uid)).toMatchObject({ deleted: false, email: SHARED_EMAIL, first_name: 'GlobexGail' });
      const stillThere = await api(s, 'GET', `/candidates?email=${SHARED_EMAIL}`, { token: await globexToken() });
      expect(firstNames(stillThere)).toEqual(['GlobexGail']);

      // The erasure is recorded in acme's stats only.
      expect(s.account('acme').stats().erasures).toHaveLength(1);
      expect(s.account('globex').stats().erasures).toHaveLength(0);
      expect(s.stats().erasures).toEqual(s.account('acme').stats().erasures);
    } finally {
      await s.close();
    }
  });

  it('a token naming one account’s key but signed with another account’s secret is 401 invalid_token', async () => {
    for (const token of [
      await mintToken({ iss: ACME_KEY, secret: GLOBEX_SECRET }),
      await mintToken({ iss: GLOBEX_KEY, secret: ACME_SECRET }),
      await mintToken({ iss: ACME_SANDBOX_KEY, secret: GLOBEX_SECRET }),
    ]) {
      const r = await api(sim, 'GET', '/candidates', { token });
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ status: 401, error: 'invalid_token' });
      expect(r.json.message).toMatch(/signature/i);
    }
  });

  it('permissions are per account: without source contact details only that account hides emails', async () => {
    const s = await startSimulator(options());
    try {
      s.account('globex').setPermissions(['candidates:read_other_sources', 'candidates:read_own_source', 'persons:erase']);
      const g = await api(s, 'GET', '/candidates', { token: await globexToken() });
      expect(g.json.candidates[0]).not.toHaveProperty('email');
      const a = await api(s, 'GET', '/candidates', { token: await acmeToken() });
      expect(a.json.candidates.map((c: { email?: string }) => c.email)).toContain(SHARED_EMAIL);
      expect(s.account('globex').permissions()).not.toContain('candidates:source_contact_details');
      expect(s.account('acme').permissions()).toContain('candidates:source_contact_details');

      // And erasure rights too: globex without persons:erase gets 403, acme still erases.
      s.account('globex').setPermissions(['candidates:read_other_sources']);
      const gail = s.account('globex').candidates()[0]!;
      expect((await api(s, 'DELETE', `/person/${gail.person_uid}`, { token: await globexToken() })).status).toBe(403);
    } finally {
      await s.close();
    }
  });

  it('each account has its own rate-limit window: acme exhausted gets 429 while globex still gets 200', async () => {
    const s = await startSimulator(
      options({
        rateLimit: { limit: 3, windowMs: 60_000 },
        accounts: options().accounts!.map((a) => ({ ...a, rateLimit: { limit: 3, windowMs: 60_000 } })),
      }),
    );
    try {
      const a = await acmeToken();
      const b = await globexToken();
      for (let i = 0; i < 3; i++) expect((await api(s, 'GET', '/candidates', { token: a })).status).toBe(200);
      const limited = await api(s, 'GET', '/candidates', { token: a });
      expect(limited.status).toBe(429);
      expect(limited.json.error).toBe('too_many_requests');
      for (let i = 0; i < 3; i++) expect((await api(s, 'GET', '/candidates', { token: b })).status).toBe(200);
      expect((await api(s, 'GET', '/candidates', { token: b })).status).toBe(429);
      expect((await api(s, 'GET', '/candidates', { token: await sandboxToken() })).status).toBe(200);

      const by = s.statsByAccount();
      expect(Object.keys(by)).toEqual(['acme', 'acme-sandbox', 'globex']);
      expect(by.acme).toMatchObject({ total: 4, rateLimited: 1, peakInWindow: 4, byStatus: { '200': 3, '429': 1 } });
      expect(by.globex).toMatchObject({ total: 4, rateLimited: 1, byStatus: { '200': 3, '429': 1 } });
      expect(by['acme-sandbox']).toMatchObject({ total: 1, rateLimited: 0, byStatus: { '200': 1 } });
      expect(s.stats()).toEqual(by.acme);
    } finally {
      await s.close();
    }
  });

  it('faults are per account: globex down (503) while acme answers', async () => {
    const s = await startSimulator(options());
    try {
      s.account('globex').setFaults({ errorRate: 1, errorStatus: 503 });
      expect((await api(s, 'GET', '/candidates', { token: await globexToken() })).status).toBe(503);
      expect((await api(s, 'GET', '/candidates', { token: await acmeToken() })).status).toBe(200);
      expect(s.account('globex').stats().faultsInjected).toBe(1);
      expect(s.stats().faultsInjected).toBe(0);
      expect(s.account('acme').faults()).toEqual({});
    } finally {
      await s.close();
    }
  });

  it('requests whose token names no known key count in the default account, and fail as with one account', async () => {
    const s = await startSimulator(options());
    try {
      expect((await api(s, 'GET', '/candidates', { token: null })).status).toBe(401);
      const unknown = await api(s, 'GET', '/candidates', { token: await mintToken({ iss: 'nobody', secret: ACME_SECRET }) });
      expect(unknown.status).toBe(401);
      expect(unknown.json.message).toMatch(/issuer/i);
      expect(s.stats().byStatus).toEqual({ '401': 2 });
      expect(s.account('globex').stats().total).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('an account may have several keys (e.g. during a rotation), each with its own secret, over one set of data', async () => {
    const s = await startSimulator({
      ...options(),
      accounts: [
        {
          id: 'initech',
          keys: [
            { apiKey: 'initech-old', secret: 'initech-old-secret' },
            { apiKey: 'initech-new', secret: 'initech-new-secret' },
          ],
          seed: { candidates: [person('InitechIvy')] },
        },
      ],
    });
    try {
      const oldKey = await api(s, 'GET', '/candidates', { token: await mintToken({ iss: 'initech-old', secret: 'initech-old-secret' }) });
      const newKey = await api(s, 'GET', '/candidates', { token: await mintToken({ iss: 'initech-new', secret: 'initech-new-secret' }) });
      expect(firstNames(oldKey)).toEqual(['InitechIvy']);
      expect(firstNames(newKey)).toEqual(['InitechIvy']);
      const crossed = await api(s, 'GET', '/candidates', { token: await mintToken({ iss: 'initech-new', secret: 'initech-old-secret' }) });
      expect(crossed.status).toBe(401);
      expect(s.account('initech').stats().byStatus).toEqual({ '200': 2, '401': 1 });
      expect(s.accounts().find((a) => a.id === 'initech')).toEqual({ id: 'initech', environment: 'production', keyCount: 2, isDefault: false });
    } finally {
      await s.close();
    }
  });

  it('logs the account of each request that is not the default one', async () => {
    const lines: string[] = [];
    const s = await startSimulator(options({ log: (l) => lines.push(l) }));
    try {
      await api(s, 'GET', '/candidates', { token: await acmeToken() });
      await api(s, 'GET', '/candidates', { token: await globexToken() });
    } finally {
      await s.close();
    }
    expect(lines[0]).toMatch(/^GET \/candidates 200 \d+ms$/);
    expect(lines[1]).toMatch(/^GET \/candidates 200 \d+ms account=globex$/);
    for (const line of lines) expect(line).not.toMatch(/key|secret|eyJ/i);
  });
});

describe('simulator: admin routes per account', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator(options());
  });
  afterAll(() => sim.close());

  it('lists the accounts without their keys or secrets', async () => {
    const r = await admin(sim, 'GET', '/_simulator/accounts');
    expect(r.status).toBe(200);
    expect(r.json.accounts).toEqual([
      { id: 'acme', environment: 'production', keyCount: 1, isDefault: true },
      { id: 'acme-sandbox', environment: 'sandbox', keyCount: 1, isDefault: false },
      { id: 'globex', environment: 'production', keyCount: 1, isDefault: false },
    ]);
    expect(r.text).not.toContain(GLOBEX_KEY);
    expect(r.text).not.toContain(GLOBEX_SECRET);
  });

  it('reads and steers one account; the unscoped routes stay the default account’s', async () => {
    const cands = await admin(sim, 'GET', '/_simulator/accounts/globex/candidates');
    expect(cands.json.map((c: { first_name: string }) => c.first_name)).toEqual(['GlobexGail']);
    expect((await admin(sim, 'GET', '/_simulator/candidates')).json.map((c: { first_name: string }) => c.first_name)).toEqual(['AcmeAda', 'AcmeOther']);
    const gail = cands.json[0];
    expect((await admin(sim, 'GET', `/_simulator/accounts/globex/candidates/${gail.uid}`)).status).toBe(200);
    expect((await admin(sim, 'GET', `/_simulator/candidates/${gail.uid}`)).status).toBe(404);

    const added = await admin(sim, 'POST', '/_simulator/accounts/globex/candidates', { first_name: 'Greta', last_name: 'Globex', email: 'greta@example.com' });
    expect(added.status).toBe(201);
    expect(sim.account('globex').candidate(added.json.uid)?.first_name).toBe('Greta');
    expect(sim.account('acme').candidate(added.json.uid)).toBeUndefined();

    const perms = await admin(sim, 'POST', '/_simulator/accounts/globex/permissions', { permissions: ['candidates:read_other_sources'] });
    expect(perms.json).toEqual({ permissions: ['candidates:read_other_sources'] });
    expect((await admin(sim, 'GET', '/_simulator/accounts/globex/permissions')).json.permissions).toEqual(['candidates:read_other_sources']);
    expect((await admin(sim, 'GET', '/_simulator/permissions')).json.permissions).toContain('persons:erase');
    const g = await api(sim, 'GET', '/candidates', { token: await globexToken() });
    expect(g.json.candidates[0]).not.toHaveProperty('email');

    const faults = await admin(sim, 'POST', '/_simulator/accounts/globex/faults', { rateLimitBurst: 1 });
    expect(faults.json).toEqual({ rateLimitBurst: 1 });
    expect((await admin(sim, 'GET', '/_simulator/faults')).json).toEqual({});
    expect((await api(sim, 'GET', '/candidates', { token: await acmeToken() })).status).toBe(200);
    expect((await api(sim, 'GET', '/candidates', { token: await globexToken() })).status).toBe(429);
    expect((await api(sim, 'GET', '/candidates', { token: await globexToken() })).status).toBe(200);

    const rl = await admin(sim, 'POST', '/_simulator/accounts/acme-sandbox/rate-limit', { rateLimit: { limit: 1, windowMs: 60_000 } });
    expect(rl.json).toEqual({ rateLimit: { limit: 1, windowMs: 60_000 } });
    expect(sim.account('acme-sandbox').rateLimit()).toEqual({ limit: 1, windowMs: 60_000 });
    expect(sim.account('acme').rateLimit()).toBeNull();

    const stats = await admin(sim, 'GET', '/_simulator/accounts/globex/stats');
    expect(stats.json).toMatchObject({ total: 3, rateLimited: 1, byStatus: { '200': 2, '429': 1 } });
    const byAccount = await admin(sim, 'GET', '/_simulator/stats/by-account');
    expect(byAccount.json.globex).toEqual(stats.json);
    expect(byAccount.json.acme).toEqual((await admin(sim, 'GET', '/_simulator/stats')).json);
    expect((await admin(sim, 'POST', '/_simulator/accounts/globex/reset-stats')).status).toBe(200);
    expect(sim.account('globex').stats().total).toBe(0);
    expect(sim.stats().total).toBeGreaterThan(0);
  });

  it('schedules and completes interviews in one account only', async () => {
    const gail = sim.account('globex').candidates()[0]!;
    const sched = await admin(sim, 'POST', `/_simulator/accounts/globex/interviews/${gail.uid}/schedule`, { at: '+5m' });
    expect(sched.status).toBe(200);
    expect(sim.account('globex').candidate(gail.uid)!.has_pending_interview).toBe(true);
    expect((await admin(sim, 'POST', `/_simulator/interviews/${gail.uid}/complete`)).status).toBe(404);
    const done = await admin(sim, 'POST', `/_simulator/accounts/globex/interviews/${gail.person_uid}/complete`);
    expect(done.status).toBe(200);
    expect(sim.account('globex').candidate(gail.uid)!.has_pending_interview).toBe(false);
  });

  it('answers 404 for an unknown account and for a per-account clock (the clock is shared)', async () => {
    const r = await admin(sim, 'GET', '/_simulator/accounts/nope/candidates');
    expect(r.status).toBe(404);
    expect(r.json.error).toBe('account_not_found');
    expect((await admin(sim, 'GET', '/_simulator/accounts/globex/clock')).status).toBe(404);
    expect((await admin(sim, 'GET', '/_simulator/accounts/globex/nothing')).status).toBe(404);
    expect(() => sim.account('nope')).toThrow(/no account/);
  });

  it('adds an account while running, refusing a key already in use without quoting it', async () => {
    const r = await admin(sim, 'POST', '/_simulator/accounts', {
      id: 'hooli-sandbox',
      environment: 'sandbox',
      apiKey: 'hooli-sandbox-key',
      secret: 'hooli-secret',
      seed: { candidates: [{ first_name: 'Hank', last_name: 'Hooli', email: 'hank@example.com' }] },
    });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ id: 'hooli-sandbox', environment: 'sandbox', keyCount: 1, isDefault: false });
    const token = await mintToken({ iss: 'hooli-sandbox-key', secret: 'hooli-secret' });
    expect(firstNames(await api(sim, 'GET', '/candidates', { token }))).toEqual(['Hank']);

    const dupKey = await admin(sim, 'POST', '/_simulator/accounts', { id: 'other', apiKey: GLOBEX_KEY, secret: 'x' });
    expect(dupKey.status).toBe(400);
    expect(dupKey.json.message).toMatch(/apiKey: this API key is already in use/);
    expect(dupKey.text).not.toContain(GLOBEX_KEY);
    const dupId = await admin(sim, 'POST', '/_simulator/accounts', { id: 'globex', apiKey: 'fresh-key', secret: 'x' });
    expect(dupId.status).toBe(400);
    expect(dupId.json.message).toMatch(/id: another account has this id/);
    const bad = await admin(sim, 'POST', '/_simulator/accounts', { id: 'no/slash', apiKey: 'k2', secret: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/^id:/);
    expect(sim.accounts().map((a) => a.id)).toEqual(['acme', 'acme-sandbox', 'globex', 'hooli-sandbox']);

    const added = sim.addAccount({ id: 'umbrella', apiKey: 'umbrella-key', secret: 'umbrella-secret' });
    expect(added.candidates()).toEqual([]);
    expect(() => sim.addAccount({ id: 'umbrella2', apiKey: 'umbrella-key', secret: 's' })).toThrow(/apiKey: this API key is already in use/);
  });
});

describe('simulator: account options are validated', () => {
  const base = options();
  it('names the bad field and never quotes a key or secret', async () => {
    const dupKey = await startSimulator({ ...base, accounts: [{ id: 'x', apiKey: ACME_KEY, secret: 's' }] }).catch((e: Error) => e);
    expect(dupKey).toBeInstanceOf(Error);
    expect((dupKey as Error).message).toMatch(/^Invalid simulator options: accounts\[0\]\.apiKey: this API key is already in use$/);
    await expect(
      startSimulator({
        ...base,
        accounts: [
          {
            id: 'x',
            keys: [
              { apiKey: 'k1', secret: 's' },
              { apiKey: 'k1', secret: 't' },
            ],
          },
        ],
      }),
    ).rejects.toThrow(/accounts\[0\]\.keys\[1\]\.apiKey: this API key is already in use/);
    await expect(startSimulator({ ...base, accounts: [{ id: 'acme', apiKey: 'k1', secret: 's' }] })).rejects.toThrow(
      /accounts\[0\]\.id: another account has this id/,
    );
    await expect(startSimulator({ ...base, accounts: [{ id: 'x', apiKey: 'k1', secret: 's', keys: [{ apiKey: 'k2', secret: 's' }] }] })).rejects.toThrow(
      /accounts\.0\.keys|accounts\[0\]\.keys/,
    );
    await expect(startSimulator({ ...base, accounts: [{ id: 'x' }] })).rejects.toThrow(/accounts\[0\]\.apiKey/);
    await expect(startSimulator({ ...base, accounts: [{ id: 'x', apiKey: 'k1' }] })).rejects.toThrow(/accounts\[0\]\.secret/);
    await expect(
      startSimulator({ ...base, accounts: [{ id: 'x', apiKey: 'k1', secret: 's', seed: { candidates: [{ first_name: 'A' } as never] } }] }),
    ).rejects.toThrow(/accounts\[0\]\.seed\.candidates\[0\]\.last_name/);
  });
});

describe('simulator: main.ts accounts file', () => {
  const example = fileURLToPath(new URL('../../src/simulator/accounts.example.json', import.meta.url));

  it('serves the example accounts next to the default one; environment settings fill what an account leaves out', async () => {
    const c = parseMainConfig(['--port', '0', '--accounts', example], { SIMULATOR_RATE_LIMIT: '5/10s', SIMULATOR_LATENCY_MS: '1' });
    expect(c.accountsFile).toBe(example);
    const accounts = c.options.accounts!;
    expect(accounts.map((a) => [a.id, a.environment])).toEqual([
      ['acme-sandbox', 'sandbox'],
      ['acme', 'production'],
      ['globex', 'production'],
    ]);
    expect(accounts[0]!.rateLimit).toEqual({ limit: 5, windowMs: 10_000 });
    expect(accounts[2]!.rateLimit).toEqual({ limit: 100, windowMs: 60_000 });
    expect(accounts[0]!.faults).toEqual({ latencyMs: 1 });
    expect(accounts[1]!.seed!.candidates.length).toBeGreaterThan(10); // "demo"

    const sim = await startSimulator(c.options);
    try {
      const token = (iss: string, secret: string) => mintToken({ iss, secret });
      const sandbox = await api(sim, 'GET', '/candidates?email=ada.lovelace@example.com', {
        token: await token('acme-sandbox-key', 'acme-integration-secret'),
      });
      expect(sandbox.json.candidates).toHaveLength(1);
      expect(sandbox.json.candidates[0].status).toBe('Rejected');
      const globex = await api(sim, 'GET', '/candidates?email=ada.lovelace@example.com', {
        token: await token('globex-production-key', 'globex-integration-secret'),
      });
      expect(globex.json.candidates).toHaveLength(1);
      expect(globex.json.candidates[0]).not.toHaveProperty('email'); // globex lacks source contact details
      const demo = await api(sim, 'GET', '/candidates', { token: await token('demo-api-key', 'demo-secret-please-change') });
      expect(demo.status).toBe(200);
      expect(sim.accounts().map((a) => a.id)).toEqual(['default', 'acme-sandbox', 'acme', 'globex']);
    } finally {
      await sim.close();
    }
  });

  it('names the file, the account and the field, never a key or secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-accounts-'));
    try {
      const write = (name: string, content: unknown) => {
        const file = join(dir, name);
        writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
        return file;
      };
      const bad = (file: string, re: RegExp) => {
        let err: unknown;
        try {
          parseMainConfig([], { SIMULATOR_ACCOUNTS: file });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as Error).message).toMatch(/^SIMULATOR_ACCOUNTS: /);
        expect((err as Error).message).toMatch(re);
        expect((err as Error).message).not.toMatch(/very-secret-value/);
      };
      bad(join(dir, 'missing.json'), /cannot be read/);
      bad(write('broken.json', '{ "accounts": ['), /not valid JSON/);
      bad(write('shape.json', { tenants: [] }), /expected \{"accounts": \[\.\.\.\]\}/);
      bad(write('nosecret.json', [{ id: 'a', apiKey: 'very-secret-value' }]), /accounts\[0\]\.secret/);
      bad(write('rate.json', [{ id: 'a', apiKey: 'k', secret: 'very-secret-value', rateLimit: 'fast' }]), /accounts\[0\]\.rateLimit/);
      bad(write('perm.json', [{ id: 'a', apiKey: 'k', secret: 's', permissions: ['root'] }]), /accounts\[0\]\.permissions\[0\]/);
      bad(write('seed.json', [{ id: 'a', apiKey: 'k', secret: 's', seed: 'nope.json' }]), /nope\.json/);
      writeFileSync(join(dir, 'people.json'), JSON.stringify([{ first_name: 'Rel', last_name: 'Ative' }]));
      const ok = parseMainConfig([], { SIMULATOR_ACCOUNTS: write('ok.json', [{ id: 'a', apiKey: 'k', secret: 's', seed: 'people.json' }]) });
      expect(ok.options.accounts![0]!.seed!.candidates[0]!.first_name).toBe('Rel');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
