/**
 * `dsar doctor` and `dsar sandbox-check`: the real ComeetClient over HTTP against the simulator,
 * configured the ways a customer's Comeet account may be (missing permissions, wrong secret, unknown
 * position, no find_duplicates, an ignored email filter, pending interviews).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ComeetClient, type ComeetClientOptions } from '../../src/comeet/index.js';
import { CallCounter, formatReport, runDoctor, runSandboxCheck, type CheckItem, type CheckReport } from '../../src/sandbox/index.js';
import { runSandboxCommand } from '../../src/sandbox/cli.js';
import {
  ALL_PERMISSIONS,
  startSimulator,
  type SimCandidateSeed,
  type SimulatorOptions,
  type SimulatorPermission,
  type Simulator,
} from '../../src/simulator/server.js';

const API_KEY = 'acct-key-sbx-91c2e7';
const SECRET = 'integration-secret-sbx-4d8a03';
const WRONG_SECRET = 'not-the-secret-77f1b9aa';
const TEST_EMAIL = 'dsar-sandbox-test@example.com';
const POSITION = '11.11';

const BYSTANDERS: SimCandidateSeed[] = [
  { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' },
  { first_name: 'Grace', last_name: 'Hopper', email: 'grace@example.com' },
  { first_name: 'Alan', last_name: 'Turing', email: 'alan@example.com', source: 'app' },
];

// ---- resources closed after each test ---------------------------------------------------------

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function sim(opts: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const s = await startSimulator({ apiKey: API_KEY, secret: SECRET, rateLimit: null, random: () => 0.99, seed: { candidates: BYSTANDERS }, ...opts });
  closers.push(() => s.close());
  return s;
}

function client(baseUrl: string, opts: Partial<ComeetClientOptions> = {}): ComeetClient {
  const c = new ComeetClient({ baseUrl, apiKey: API_KEY, secret: SECRET, responseTimeoutMs: 5_000, ...opts });
  closers.push(() => c.close());
  return c;
}

function without(...drop: SimulatorPermission[]): SimulatorPermission[] {
  return ALL_PERMISSIONS.filter((p) => !drop.includes(p));
}

function item(report: CheckReport, id: string): CheckItem {
  const found = report.items.find((i) => i.id === id);
  if (!found) throw new Error(`no item ${id} in ${report.items.map((i) => i.id).join(', ')}`);
  return found;
}

const statuses = (report: CheckReport) => Object.fromEntries(report.items.map((i) => [i.id, i.status]));

/** The candidate(s) this check created, as the simulator stores them. */
const createdBySandbox = (s: Simulator) => s.candidates().filter((c) => c.partner_candidate_id?.startsWith('comeet-dsar-sandbox-'));

function check(s: Simulator, opts: Partial<Parameters<typeof runSandboxCheck>[0]> & { clientOpts?: Partial<ComeetClientOptions> } = {}) {
  const { clientOpts, ...rest } = opts;
  return runSandboxCheck({ client: client(s.url, clientOpts), positionUid: POSITION, testEmail: TEST_EMAIL, mode: 'delete', lookupRetryDelayMs: 0, ...rest });
}

// ---- sandbox-check ----------------------------------------------------------------------------

describe('runSandboxCheck', () => {
  it.each(['delete', 'pseudonymize'] as const)('passes on a correct sandbox in %s mode and really erases the test person', async (mode) => {
    const s = await sim();
    const log: string[] = [];
    const report = await check(s, { mode, log: (l) => log.push(l) });

    expect(report.ok).toBe(true);
    expect(statuses(report)).toEqual({ auth: 'pass', create: 'pass', lookup: 'pass', erase: 'pass', verify: 'pass', repeat: 'pass' });
    expect(report.findings['lookup.works']).toBe('candidates-filter, find-duplicates, scan');
    expect(report.findings['lookup.recommended']).toBe('COMEET_LOOKUP=candidates-filter');
    expect(report.findings[`after ${mode}.lookups`]).toBe(
      'candidates-filter: no longer returns it; find-duplicates: no longer returns it; scan: no longer returns it',
    );
    // The simulator answers a repeat delete with 404 and re-pseudonymizes an already pseudonymized person.
    expect(report.findings['repeat erase']).toBe(mode === 'delete' ? '404 not_found' : '200 (1 candidate pseudonymized again)');
    expect(report.findings[`after ${mode}.read by uid`]).toBe(
      mode === 'delete'
        ? 'GET /candidates/:uid answers 200 {uid, deleted: true}'
        : 'GET /candidates/:uid answers 200, candidate still there (deleted: false); email removed, name replaced',
    );

    const created = createdBySandbox(s);
    expect(created).toHaveLength(1);
    const [c] = created;
    expect(c!.position_uid).toBe(POSITION);
    expect(c!.email).toBeNull();
    expect(mode === 'delete' ? c!.deleted : c!.pseudonymized).toBe(true);
    expect(report.findings['test candidate']).toContain(c!.uid);
    // The test email only ever went into the email field.
    expect(c!.partner_candidate_id).toMatch(/^comeet-dsar-sandbox-\d+$/);
    expect(JSON.stringify(report)).not.toContain(TEST_EMAIL);
    expect(log.join('\n')).not.toContain(TEST_EMAIL);
    // Nobody else was touched.
    expect(
      s
        .candidates()
        .filter((x) => x.deleted || x.pseudonymized)
        .map((x) => x.uid),
    ).toEqual([c!.uid]);
    expect(s.stats().erasures.map((e) => e.mode)).toEqual(mode === 'delete' ? ['delete'] : ['pseudonymize', 'pseudonymize']);
  });

  it('fails the erase and names "Persons: Delete or Pseudonymize persons" without the erase permission', async () => {
    const s = await sim({ permissions: without('persons:erase') });
    const report = await check(s);

    expect(report.ok).toBe(false);
    const erase = item(report, 'erase');
    expect(erase.status).toBe('fail');
    expect(erase.detail).toContain('403 no_permission');
    expect(erase.fix).toContain('"Persons: Delete or Pseudonymize persons"');
    expect(statuses(report)).toMatchObject({ auth: 'pass', create: 'pass', lookup: 'pass', verify: 'skip', repeat: 'skip' });
    expect(report.findings.erase).toBe('403 no_permission');
    // The test candidate is still there, and the report says so.
    const [c] = createdBySandbox(s);
    expect(c!.deleted).toBe(false);
    expect(report.findings['left in the sandbox']).toContain(c!.uid);
    expect(s.stats().erasures).toEqual([]);
  });

  it('fails the creation and names "Candidates: Create a new candidate" without the create permission', async () => {
    const s = await sim({ permissions: without('candidates:create') });
    const report = await check(s);

    expect(report.ok).toBe(false);
    const create = item(report, 'create');
    expect(create.status).toBe('fail');
    expect(create.fix).toContain('"Candidates: Create a new candidate"');
    expect(statuses(report)).toMatchObject({ lookup: 'skip', erase: 'skip', verify: 'skip', repeat: 'skip' });
    expect(createdBySandbox(s)).toEqual([]);
    expect(s.stats().byRoute['DELETE /person/:uid']).toBeUndefined();
  });

  it('fails the lookup and names the read permission when app-sourced candidates are hidden, yet cleans up', async () => {
    const s = await sim({ permissions: without('candidates:read_own_source') });
    const report = await check(s);

    expect(report.ok).toBe(false);
    const lookup = item(report, 'lookup');
    expect(lookup.status).toBe('fail');
    expect(lookup.fix).toContain('"Candidates: Retrieve candidates created by your app as the source"');
    expect(lookup.fix).toContain('"Candidates: Retrieve candidates created by other sources"');
    expect(lookup.fix).toMatch(/share ALL positions/);
    expect(report.findings['lookup.works']).toBe('none');
    expect(report.findings['lookup.scan']).toBe('answers, but without the test candidate');
    // Erased by the person uid of the create answer, so the sandbox is left clean; nothing can verify it.
    expect(item(report, 'erase').status).toBe('pass');
    expect(item(report, 'verify').status).toBe('skip');
    expect(createdBySandbox(s)[0]!.deleted).toBe(true);
  });

  it('fails the lookup and names the source-contact permission when candidates come without their email, yet cleans up', async () => {
    const s = await sim({ permissions: without('candidates:source_contact_details') });
    const report = await check(s);
    expect(report.ok).toBe(false);
    const lookup = item(report, 'lookup');
    expect(lookup.status).toBe('fail');
    expect(lookup.detail).toMatch(/without an email/);
    expect(lookup.fix).toContain('"Candidates: Include source contact personal details in candidate object"');
    expect(report.findings['lookup.works']).toBe('none');
    expect(createdBySandbox(s)[0]!.deleted).toBe(true);
    expect(JSON.stringify(report)).not.toContain(TEST_EMAIL);
  });

  it('looks once more after a delay when no strategy returns the new candidate at first', async () => {
    const s = await sim({ permissions: without('candidates:read_own_source') });
    const before = Date.now();
    const report = await check(s, { lookupRetryDelayMs: 300 });
    expect(Date.now() - before).toBeGreaterThanOrEqual(300);
    expect(item(report, 'lookup').status).toBe('fail');
    // GET /candidates: auth 1 + filter and scan twice; find_duplicates answered (400 = nobody), so it is asked again too.
    expect(s.stats().byRoute['GET /sourcing/candidates/find_duplicates']).toBe(2);
    expect(s.stats().byRoute['GET /candidates']).toBe(5);
  });

  it('fails authentication with key/secret advice on a wrong secret, printing neither', async () => {
    const s = await sim();
    const report = await check(s, { clientOpts: { secret: WRONG_SECRET } });

    expect(report.ok).toBe(false);
    const auth = item(report, 'auth');
    expect(auth.status).toBe('fail');
    expect(auth.detail).toContain('401 invalid_token');
    expect(auth.fix).toContain('COMEET_API_KEY is the account API key from Settings → Integrations');
    expect(auth.fix).toContain('COMEET_SECRET is the integration secret');
    expect(statuses(report)).toMatchObject({ create: 'skip', lookup: 'skip', erase: 'skip', verify: 'skip', repeat: 'skip' });
    const text = formatReport('t', report) + JSON.stringify(report);
    for (const secret of [SECRET, WRONG_SECRET, API_KEY]) expect(text).not.toContain(secret);
    expect(Object.keys(s.stats().byRoute)).toEqual(['GET /candidates']);
  });

  it('says the position uid is wrong or not shared for an unknown position', async () => {
    const s = await sim();
    const report = await check(s, { positionUid: '99.NOPE' });

    expect(report.ok).toBe(false);
    const create = item(report, 'create');
    expect(create.status).toBe('fail');
    expect(create.detail).toContain('99.NOPE');
    expect(create.detail).toContain('position_not_found');
    expect(create.fix).toMatch(/not shared with the integration/);
    expect(create.fix).toMatch(/share ALL positions/);
    expect(createdBySandbox(s)).toEqual([]);
  });

  it('still passes without find_duplicates, and says that strategy does not work', async () => {
    const s = await sim({ findDuplicates: false });
    const report = await check(s);

    expect(report.ok).toBe(true);
    expect(item(report, 'lookup').status).toBe('pass');
    expect(report.findings['lookup.works']).toBe('candidates-filter, scan');
    expect(report.findings['lookup.find-duplicates']).toBe('does not work: not available on this account (HTTP 404 page, not the API)');
    expect(report.findings['after delete.lookups']).toBe('candidates-filter: no longer returns it; scan: no longer returns it');
    expect(createdBySandbox(s)[0]!.deleted).toBe(true);
  });

  it('warns and recommends another strategy when the configured one does not find the candidate', async () => {
    const s = await sim({ findDuplicates: false });
    const report = await check(s, { clientOpts: { lookup: 'find-duplicates' } });
    expect(report.ok).toBe(true);
    const lookup = item(report, 'lookup');
    expect(lookup.status).toBe('warn');
    expect(lookup.fix).toBe('set COMEET_LOOKUP=candidates-filter');
  });

  it('reports candidates-filter working when Comeet ignores the email filter, since the client keeps exact matches only', async () => {
    const s = await sim({ emailFilter: 'ignored' });
    const report = await check(s);

    expect(report.ok).toBe(true);
    expect(report.findings['lookup.works']).toBe('candidates-filter, find-duplicates, scan');
    expect(report.findings['other persons']).toBeUndefined();
    // Only the test person was erased; the bystanders the ignored filter returned are untouched.
    expect(s.stats().erasures).toHaveLength(1);
    expect(s.candidates().filter((c) => c.deleted)).toHaveLength(1);
    expect(
      s
        .candidates()
        .filter((c) => !c.deleted)
        .map((c) => c.email),
    ).toEqual(BYSTANDERS.map((b) => b.email));
  });

  it('fails verification when pseudonymization keeps the email, so the worker would keep finding the person', async () => {
    const s = await sim({ pseudonymizeKeepsEmail: true });
    const report = await check(s, { mode: 'pseudonymize' });

    expect(report.ok).toBe(false);
    const verify = item(report, 'verify');
    expect(verify.status).toBe('fail');
    expect(verify.detail).toContain('candidates-filter, find-duplicates, scan still return the pseudonymized test person');
    expect(verify.fix).toMatch(/pseudonymization settings/);
    expect(report.findings['after pseudonymize.read by uid']).toContain('email kept');
  });

  it('fails the erase with the blocking candidates when the person has interviews pending', async () => {
    const s = await sim();
    const existing = s.addCandidate({
      first_name: 'Test',
      last_name: 'Person',
      email: TEST_EMAIL,
      current_steps: [{ name: 'Phone screen', type: 'Phone Interview', time_scheduled: '+1h' }],
    });
    const report = await check(s);

    expect(report.ok).toBe(false);
    const erase = item(report, 'erase');
    expect(erase.status).toBe('fail');
    expect(erase.detail).toContain('person_has_pending_interviews');
    expect(erase.detail).toContain(existing.uid);
    expect(erase.fix).toMatch(/interviews must be cleared/);
    expect(report.findings['same person']).toContain(existing.uid);
    expect(s.stats().erasures).toEqual([]);
    expect(statuses(report)).toMatchObject({ verify: 'skip', repeat: 'skip' });
  });

  it('counts its calls when given a counter', async () => {
    const s = await sim();
    const calls = new CallCounter();
    const report = await check(s, { clientOpts: { onCall: calls.onCall }, calls });
    expect(report.findings.calls).toBe(`${s.stats().total} Comeet calls (the account allows 100 a minute, shared with the worker)`);
    expect(report.findings['lookup.scan']).toBe('finds the test candidate (1 call)');
  });

  it('refuses an invalid test email before calling Comeet', async () => {
    const s = await sim();
    await expect(check(s, { testEmail: 'not-an-email' })).rejects.toThrow(/testEmail/);
    expect(s.stats().total).toBe(0);
  });
});

// ---- doctor -------------------------------------------------------------------------------------

describe('runDoctor', () => {
  it('passes on a good account with only GET calls, and warns about what it cannot see', async () => {
    const s = await sim();
    const before = s.candidates();
    const report = await runDoctor({ client: client(s.url) });

    expect(report.ok).toBe(true);
    expect(statuses(report)).toEqual({
      auth: 'pass',
      'lookup.candidates-filter': 'pass',
      'lookup.find-duplicates': 'pass',
      'lookup.scan': 'pass',
      'lookup.configured': 'pass',
      positions: 'warn',
      permissions: 'warn',
      // Checked on one page of candidates: they come with their email.
      'source-contact': 'pass',
    });
    expect(item(report, 'positions').fix).toMatch(/share ALL positions/);
    expect(report.findings['source-contact']).toBe('3 candidates of the first page with an email');
    expect(item(report, 'permissions').fix).toContain('"Persons: Delete or Pseudonymize persons"');
    expect(report.findings['lookup.works']).toBe('candidates-filter, find-duplicates, scan');

    const stats = s.stats();
    expect(Object.keys(stats.byRoute).sort()).toEqual(['GET /candidates', 'GET /sourcing/candidates/find_duplicates']);
    expect(Object.keys(stats.byRoute).every((r) => r.startsWith('GET '))).toBe(true);
    expect(stats.erasures).toEqual([]);
    expect(s.candidates()).toEqual(before);
  });

  it('fails with key/secret advice on a wrong secret, printing neither', async () => {
    const s = await sim();
    const report = await runDoctor({ client: client(s.url, { secret: WRONG_SECRET }) });

    expect(report.ok).toBe(false);
    const auth = item(report, 'auth');
    expect(auth.status).toBe('fail');
    expect(auth.fix).toContain('COMEET_API_KEY is the account API key from Settings → Integrations and COMEET_SECRET is the integration secret');
    expect(report.findings.auth).toBe('401 invalid_token');
    expect(item(report, 'lookup.scan').status).toBe('skip');
    const text = formatReport('t', report) + JSON.stringify(report);
    for (const secret of [SECRET, WRONG_SECRET, API_KEY]) expect(text).not.toContain(secret);
  });

  it('reports a base URL ending in /v1 as a base URL problem', async () => {
    const s = await sim();
    const report = await runDoctor({ client: client(`${s.url}/v1`) });

    expect(report.ok).toBe(false);
    const auth = item(report, 'auth');
    expect(auth.status).toBe('fail');
    expect(auth.detail).toMatch(/HTML 404/);
    expect(auth.fix).toContain('COMEET_BASE_URL');
    expect(auth.fix).toContain('/v1');
  });

  it('reports an unreachable host as a network problem', async () => {
    const s = await sim();
    const url = s.url;
    await s.close();
    const report = await runDoctor({ client: client(url) });
    const auth = item(report, 'auth');
    expect(auth.status).toBe('fail');
    expect(auth.detail).toMatch(/Could not reach Comeet/);
    expect(auth.fix).toMatch(/can reach it over HTTPS/);
    expect(report.findings.auth).toMatch(/^network error/);
  });

  it('warns about find_duplicates missing, and fails when that is the configured lookup', async () => {
    const s = await sim({ findDuplicates: false });
    const ok = await runDoctor({ client: client(s.url) });
    expect(ok.ok).toBe(true);
    expect(item(ok, 'lookup.find-duplicates').status).toBe('warn');
    expect(ok.findings['lookup.works']).toBe('candidates-filter, scan');

    const bad = await runDoctor({ client: client(s.url, { lookup: 'find-duplicates' }) });
    expect(bad.ok).toBe(false);
    const configured = item(bad, 'lookup.configured');
    expect(configured.status).toBe('fail');
    expect(configured.fix).toBe('set COMEET_LOOKUP=candidates-filter');
  });

  it('names the read permission when Comeet refuses a lookup with 403', async () => {
    // 'forbid': a call that would return a candidate the integration may not read gets 403. The probe
    // matches no one, so only the scan meets the app-sourced bystander.
    const s = await sim({ permissions: without('candidates:read_own_source'), readWithoutPermission: 'forbid' });
    const report = await runDoctor({ client: client(s.url, { lookup: 'scan' }) });
    expect(item(report, 'auth').status).toBe('pass');
    expect(item(report, 'lookup.candidates-filter').status).toBe('pass');
    expect(item(report, 'lookup.scan')).toMatchObject({ status: 'warn', detail: 'refused: HTTP 403 no_permission' });
    const configured = item(report, 'lookup.configured');
    expect(configured.status).toBe('fail');
    expect(configured.fix).toContain('"Candidates: Retrieve candidates created by your app as the source"');
    expect(report.ok).toBe(false);
  });

  it('fails and names the source-contact permission when candidates come without their email', async () => {
    const s = await sim({ permissions: without('candidates:source_contact_details') });
    const report = await runDoctor({ client: client(s.url, { lookup: 'scan' }) });
    expect(report.ok).toBe(false);
    const sc = item(report, 'source-contact');
    expect(sc.status).toBe('fail');
    expect(sc.detail).toMatch(/without their email/);
    expect(sc.fix).toContain('"Candidates: Include source contact personal details in candidate object"');
    // The scan sees nobody's email: it cannot prove absence, so it is no working strategy.
    expect(item(report, 'lookup.scan')).toMatchObject({ status: 'warn', fix: expect.stringContaining('Include source contact personal details') });
    expect(item(report, 'lookup.configured').status).toBe('fail');
  });

  it('cannot check the source-contact permission on an empty account, and says so', async () => {
    const s = await sim({ seed: { candidates: [] } });
    const report = await runDoctor({ client: client(s.url) });
    expect(item(report, 'source-contact')).toMatchObject({ status: 'warn', title: expect.stringMatching(/not checkable: no candidates/) });
  });

  it('spots an email filter Comeet ignores, and a scan past the page limit, by their cost', async () => {
    const many: SimCandidateSeed[] = Array.from({ length: 12 }, (_, i) => ({ first_name: `P${i}`, last_name: 'X', email: `p${i}@example.com` }));
    const s = await sim({ emailFilter: 'ignored', seed: { candidates: many } });
    const calls = new CallCounter();
    const report = await runDoctor({ client: client(s.url, { pageSize: 2, maxPages: 3, onCall: calls.onCall }), calls });

    expect(report.ok).toBe(true);
    expect(item(report, 'lookup.candidates-filter').status).toBe('warn');
    expect(item(report, 'lookup.candidates-filter').detail).toMatch(/ignore/);
    expect(item(report, 'lookup.scan').status).toBe('warn');
    expect(item(report, 'lookup.find-duplicates').status).toBe('pass');
    expect(item(report, 'lookup.configured').fix).toBe('set COMEET_LOOKUP=find-duplicates');
    expect(report.findings['lookup.recommended']).toMatch(/^COMEET_LOOKUP=find-duplicates/);
    expect(report.findings.calls).toBe(`${s.stats().total} Comeet calls (the account allows 100 a minute, shared with the worker)`);
  });

  it('waits out a 429 instead of failing', async () => {
    const s = await sim({ faults: { rateLimitBurst: 1 } });
    const log: string[] = [];
    const report = await runDoctor({ client: client(s.url), log: (l) => log.push(l) });
    expect(report.ok).toBe(true);
    expect(s.stats().rateLimited).toBe(1);
    expect(log.some((l) => /rate limit/.test(l))).toBe(true);
  });
});

// ---- formatReport -------------------------------------------------------------------------------

describe('formatReport', () => {
  it('renders one mark per status, details, fixes of fails and warnings, findings and a verdict', () => {
    const text = formatReport('Title', {
      ok: false,
      items: [
        { id: 'a', title: 'A passes', status: 'pass', detail: 'fine', fix: 'hidden when passing' },
        { id: 'b', title: 'B fails', status: 'fail', detail: 'line 1\nline 2', fix: 'do X' },
        { id: 'c', title: 'C warns', status: 'warn', fix: 'do Y' },
        { id: 'd', title: 'D skipped', status: 'skip', detail: 'not run' },
      ],
      findings: { 'lookup.works': 'scan' },
    });
    expect(text.split('\n')).toEqual([
      'Title',
      '',
      '✔ A passes',
      '    fine',
      '✘ B fails',
      '    line 1',
      '    line 2',
      '    fix: do X',
      '! C warns',
      '    fix: do Y',
      '- D skipped',
      '    not run',
      '',
      'Findings:',
      '  lookup.works  scan',
      '',
      'Result: FAILED (1 failed, 1 warning, 1 passed)',
    ]);
  });
});

// ---- the commands -------------------------------------------------------------------------------

describe('runSandboxCommand', () => {
  function io(env: Record<string, string | undefined>) {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env } };
  }
  const envFor = (s: Simulator, extra: Record<string, string | undefined> = {}) => ({
    COMEET_BASE_URL: s.url,
    COMEET_ALLOW_HTTP: 'true',
    COMEET_API_KEY: API_KEY,
    COMEET_SECRET: SECRET,
    ...extra,
  });

  it('doctor: exit 0 with the checklist', async () => {
    const s = await sim();
    const t = io(envFor(s));
    expect(await runSandboxCommand('doctor', [], t.io)).toBe(0);
    const text = t.out.join('\n');
    expect(text).toContain(`dsar doctor: ${s.url} (COMEET_LOOKUP=candidates-filter, read-only)`);
    expect(text).toContain('✔ Authenticate');
    expect(text).toContain('! All positions shared');
    expect(text).toMatch(/Result: OK/);
    expect(Object.keys(s.stats().byRoute).every((r) => r.startsWith('GET '))).toBe(true);
  });

  it('doctor: exit 1 on a wrong secret, without printing it', async () => {
    const s = await sim();
    const t = io(envFor(s, { COMEET_SECRET: WRONG_SECRET }));
    expect(await runSandboxCommand('doctor', [], t.io)).toBe(1);
    const all = [...t.out, ...t.err].join('\n');
    expect(all).toContain('✘ Authenticate');
    expect(all).toContain('Settings → Integrations');
    for (const secret of [SECRET, WRONG_SECRET, API_KEY]) expect(all).not.toContain(secret);
  });

  it('sandbox-check: exit 0 in pseudonymize mode, --json gives the report', async () => {
    const s = await sim();
    const t = io(envFor(s));
    expect(await runSandboxCommand('sandbox-check', ['--position', POSITION, '--test-email', TEST_EMAIL, '--mode', 'pseudonymize', '--json'], t.io)).toBe(0);
    const report = JSON.parse(t.out.join('\n')) as CheckReport;
    expect(report.ok).toBe(true);
    expect(report.findings['repeat erase']).toBe('200 (1 candidate pseudonymized again)');
    expect(createdBySandbox(s)[0]!.pseudonymized).toBe(true);
    expect(t.err.some((l) => l.includes('Pseudonymizing person'))).toBe(true);
  });

  it('sandbox-check: exit 1 with the checklist when a check fails', async () => {
    const s = await sim({ permissions: without('persons:erase') });
    const t = io(envFor(s));
    expect(await runSandboxCommand('sandbox-check', ['--position', POSITION, '--test-email', TEST_EMAIL], t.io)).toBe(1);
    const text = t.out.join('\n');
    expect(text).toContain(`test email ${TEST_EMAIL}, mode delete`);
    expect(text).toContain('✘ Delete the test person');
    expect(text).toContain('fix: grant the permission "Persons: Delete or Pseudonymize persons"');
    expect(text).toContain('- Repeat the delete');
    expect(text).toMatch(/Result: FAILED/);
  });

  it('ignores configuration problems outside COMEET_* (the checks talk to Comeet only)', async () => {
    const s = await sim();
    const t = io(envFor(s, { TEMPORAL_ADDRESS: 'not an address', COMEET_LOOKUP: 'scan', COMEET_TIMEOUT: '10s' }));
    expect(await runSandboxCommand('doctor', [], t.io)).toBe(0);
    expect(t.out.join('\n')).toContain('COMEET_LOOKUP=scan');
  });

  it.each([
    ['sandbox-check', ['--test-email', TEST_EMAIL], /--position/],
    ['sandbox-check', ['--position', POSITION], /--test-email/],
    ['sandbox-check', ['--position', POSITION, '--test-email', 'nobody'], /--test-email must be an email address/],
    ['sandbox-check', ['--position', POSITION, '--test-email', TEST_EMAIL, '--mode', 'shred'], /--mode must be delete or pseudonymize/],
    ['sandbox-check', ['--position', POSITION, '--test-email', TEST_EMAIL, '--bogus'], /bogus/],
    ['doctor', ['--position', POSITION], /--position does not apply to dsar doctor/],
    ['doctor', ['extra'], /takes no arguments/],
  ] as const)('%s %j: usage error, exit 2', async (command, argv, message) => {
    const s = await sim();
    const t = io(envFor(s));
    expect(await runSandboxCommand(command, [...argv], t.io)).toBe(2);
    expect(t.err.join('\n')).toMatch(message);
    expect(t.err.join('\n')).toContain('Usage:');
    expect(t.out).toEqual([]);
    expect(s.stats().total).toBe(0);
  });

  it('config errors: exit 2 with the ConfigError message, naming the variable, never a value', async () => {
    const s = await sim();
    const missing = io(envFor(s, { COMEET_SECRET: undefined }));
    expect(await runSandboxCommand('doctor', [], missing.io)).toBe(2);
    expect(missing.err.join('\n')).toMatch(/Invalid configuration:[\s\S]*COMEET_SECRET is required/);
    expect(missing.err.join('\n')).not.toContain(API_KEY);

    const v1 = io(envFor(s, { COMEET_BASE_URL: `${s.url}/v1` }));
    expect(await runSandboxCommand('sandbox-check', ['--position', POSITION, '--test-email', TEST_EMAIL], v1.io)).toBe(2);
    expect(v1.err.join('\n')).toMatch(/COMEET_BASE_URL must not end in a version such as \/v1/);
    expect(v1.err.join('\n')).not.toContain(SECRET);
    expect(s.stats().total).toBe(0);
  });

  it('--help prints the usage, exit 0', async () => {
    const t = io({});
    expect(await runSandboxCommand('sandbox-check', ['--help'], t.io)).toBe(0);
    expect(t.out.join('\n')).toContain('SANDBOX ONLY');
  });
});
