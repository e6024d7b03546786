/**
 * The real ComeetClient over real HTTP: against the simulator for the documented behaviour, and
 * against tiny raw node:http servers for the malformed answers the simulator never gives.
 */
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ComeetBadRequestError,
  ComeetClient,
  ComeetConflictError,
  ComeetEmailsHiddenError,
  ComeetError,
  ComeetInvalidResponseError,
  ComeetNetworkError,
  ComeetNotFoundError,
  ComeetPermission,
  ComeetPermissionError,
  ComeetRateLimitedError,
  ComeetServerError,
  ComeetTokenSource,
  ComeetUnauthorizedError,
  InterviewsInProgressError,
  REMINT_BEFORE_EXPIRY_S,
  TOKEN_LIFETIME_S,
  parseRetryAfter,
  type ComeetCallInfo,
  type ComeetClientOptions,
  type LookupStrategy,
} from '../../src/comeet/index.js';
import { ALL_PERMISSIONS, startSimulator, type SimCandidateSeed, type Simulator, type SimulatorOptions } from '../../src/simulator/server.js';
import { jsonServer, sendJson, startRawServer, type RawServer } from './raw-server.js';

const API_KEY = 'acct-key-7f3e9d';
const SECRET = 'integration-secret-5b1c44';
const EMAIL = 'ann@example.com';

// ---- resources closed after each test ---------------------------------------------------------

const clients: ComeetClient[] = [];
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function sim(opts: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const s = await startSimulator({ apiKey: API_KEY, secret: SECRET, rateLimit: null, random: () => 0, ...opts });
  servers.push(s);
  return s;
}

async function raw(...args: Parameters<typeof startRawServer>): Promise<RawServer> {
  const s = await startRawServer(...args);
  servers.push(s);
  return s;
}

async function rawJson(...args: Parameters<typeof jsonServer>): Promise<RawServer> {
  const s = await jsonServer(...args);
  servers.push(s);
  return s;
}

function client(baseUrl: string, opts: Partial<ComeetClientOptions> = {}): ComeetClient {
  const c = new ComeetClient({ baseUrl, apiKey: API_KEY, secret: SECRET, responseTimeoutMs: 3000, ...opts });
  clients.push(c);
  return c;
}

/** The rejection of `p`; fails the test when `p` resolves. */
async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

function expectNoEmail(err: Error): void {
  const m = err.message.toLowerCase();
  expect(m).not.toContain(EMAIL);
  expect(m).not.toContain(encodeURIComponent(EMAIL));
}

const uids = (cs: { uid: string }[]) => cs.map((c) => c.uid).sort();

// ---- JWT ----------------------------------------------------------------------------------------

describe('ComeetTokenSource (JWT)', () => {
  const T0 = 1_700_000_000_000; // whole seconds
  const key = new TextEncoder().encode(SECRET);

  it('signs HS256 with the secret and carries exactly iss = API key and exp = now + 600 s', async () => {
    const src = new ComeetTokenSource({ apiKey: API_KEY, secret: SECRET, now: () => T0 + 250 });
    const jwt = await src.token();
    expect(TOKEN_LIFETIME_S).toBe(600);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(decodeJwt(jwt)).toEqual({ iss: API_KEY, exp: T0 / 1000 + 600 });

    const { payload, protectedHeader } = await jwtVerify(jwt, key, { algorithms: ['HS256'], issuer: API_KEY, currentDate: new Date(T0) });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toEqual({ iss: API_KEY, exp: T0 / 1000 + 600 });
    await expect(jwtVerify(jwt, new TextEncoder().encode('another-secret-xyz'), { currentDate: new Date(T0) })).rejects.toThrow();
  });

  it('reuses the token until less than 60 s remain, then mints a new one', async () => {
    let now = T0;
    const src = new ComeetTokenSource({ apiKey: API_KEY, secret: SECRET, now: () => now });
    const first = await src.token();
    now = T0 + 300_000;
    expect(await src.token()).toBe(first);
    now = T0 + (TOKEN_LIFETIME_S - REMINT_BEFORE_EXPIRY_S) * 1000 - 1; // 539.999 s: 60.001 s left
    expect(await src.token()).toBe(first);
    now = T0 + (TOKEN_LIFETIME_S - REMINT_BEFORE_EXPIRY_S) * 1000; // exactly 60 s left
    const second = await src.token();
    expect(second).not.toBe(first);
    expect(decodeJwt(second)).toEqual({ iss: API_KEY, exp: T0 / 1000 + 540 + 600 });
    expect(await src.token()).toBe(second);
  });

  it('concurrent callers share one mint (a clock that moves per call would give each its own exp)', async () => {
    let calls = 0;
    const src = new ComeetTokenSource({ apiKey: API_KEY, secret: SECRET, now: () => T0 + 1000 * calls++ });
    const tokens = await Promise.all(Array.from({ length: 5 }, () => src.token()));
    expect(calls).toBe(5);
    expect(new Set(tokens).size).toBe(1);
    expect(decodeJwt(tokens[0]!).exp).toBe(T0 / 1000 + 600);
  });

  it('the client sends one bearer token across calls, verifiable with the secret, and re-mints near expiry', async () => {
    const server = await raw((_req, res) => sendJson(res, 200, { uid: '10.AAA', person_uid: '20.BBB' }));
    let now = Date.now();
    const c = client(server.url, { now: () => now });
    await c.getCandidate('10.AAA');
    now += 100_000;
    await c.getCandidate('10.AAA');
    now += 100_000;
    await Promise.all([c.getCandidate('10.AAA'), c.getCandidate('10.AAA'), c.getCandidate('10.AAA')]);
    now += 400_000; // 600 s after the mint: must re-mint
    await c.getCandidate('10.AAA');

    const auths = server.requests.map((r) => r.headers.authorization ?? '');
    expect(auths).toHaveLength(6);
    for (const a of auths) expect(a).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(new Set(auths.slice(0, 5)).size).toBe(1);
    expect(auths[5]).not.toBe(auths[0]);

    const first = auths[0]!.slice('Bearer '.length);
    const last = auths[5]!.slice('Bearer '.length);
    const key2 = new TextEncoder().encode(SECRET);
    const v1 = await jwtVerify(first, key2, { algorithms: ['HS256'], issuer: API_KEY, currentDate: new Date(now - 600_000) });
    const v2 = await jwtVerify(last, key2, { algorithms: ['HS256'], issuer: API_KEY, currentDate: new Date(now) });
    expect(v2.payload.exp! - v1.payload.exp!).toBe(600);
    expect(Object.keys(v1.payload).sort()).toEqual(['exp', 'iss']);
  });

  it('concurrent client calls share one mint', async () => {
    const server = await raw((_req, res) => sendJson(res, 200, { uid: '10.AAA', person_uid: '20.BBB' }));
    let ticks = 0;
    const base = Date.now();
    const c = client(server.url, { now: () => base + 1000 * ticks++ });
    await Promise.all(Array.from({ length: 4 }, () => c.getCandidate('10.AAA')));
    expect(new Set(server.requests.map((r) => r.headers.authorization)).size).toBe(1);
  });
});

// ---- lookups ------------------------------------------------------------------------------------

const SUBJECT_UIDS = ['30.AAA', '30.AAB', '30.AAC'];

/**
 * 10 candidates; the subject's three are on pages 1, 2 and 3 of a 3-per-page listing. One bystander
 * has no email, unless `emailless` is false: an email filter Comeet ignores returns it, and the
 * client cannot tell it from the subject under a hidden email (see the hidden-email tests).
 */
function lookupSeeds(emailless = true): SimCandidateSeed[] {
  const other = (uid: string, email: string | null): SimCandidateSeed => ({ uid, first_name: 'By', last_name: 'Stander', email, status: 'Rejected' });
  return [
    { uid: '30.AAA', person_uid: '60.ANNA', first_name: 'Ann', last_name: 'Subject', email: 'ann@example.com', status: 'Rejected' },
    other('40.BBA', 'joann@example.com'),
    other('40.BBB', 'ann@example.com.au'),
    other('40.BBC', 'ann@example.org'),
    { uid: '30.AAB', person_uid: '60.ANNA', first_name: 'Ann', last_name: 'Subject', email: '  ANN@Example.COM ', status: 'Hired' },
    other('40.BBD', 'anne@example.com'),
    other('40.BBE', emailless ? null : 'bea@example.com'),
    other('40.BBF', 'bob@example.net'),
    { uid: '30.AAC', person_uid: '60.ANNB', first_name: 'Ann', last_name: 'Twin', email: 'Ann@example.com', status: 'On hold' },
    other('40.BBG', 'ann.other@example.com'),
  ];
}

describe('ComeetClient.findCandidatesByEmail', () => {
  const cases: { strategy: LookupStrategy; emailFilter: 'exact' | 'contains' | 'ignored'; listShape: 'object' | 'array'; calls: number }[] = [
    { strategy: 'candidates-filter', emailFilter: 'exact', listShape: 'object', calls: 1 },
    { strategy: 'candidates-filter', emailFilter: 'contains', listShape: 'object', calls: 2 }, // 5 hits, 3 a page
    { strategy: 'candidates-filter', emailFilter: 'ignored', listShape: 'object', calls: 4 }, // all 10
    { strategy: 'candidates-filter', emailFilter: 'exact', listShape: 'array', calls: 1 },
    { strategy: 'candidates-filter', emailFilter: 'contains', listShape: 'array', calls: 1 },
    { strategy: 'candidates-filter', emailFilter: 'ignored', listShape: 'array', calls: 1 },
    { strategy: 'scan', emailFilter: 'exact', listShape: 'object', calls: 4 },
    { strategy: 'scan', emailFilter: 'exact', listShape: 'array', calls: 1 },
    { strategy: 'find-duplicates', emailFilter: 'ignored', listShape: 'object', calls: 1 },
  ];

  it.each(cases)(
    '$strategy with emailFilter $emailFilter, listShape $listShape: exactly the subject, in $calls call(s)',
    async ({ strategy, emailFilter, listShape, calls }) => {
      const s = await sim({
        pageSize: 3,
        emailFilter,
        listShape,
        seed: { candidates: lookupSeeds(!(strategy === 'candidates-filter' && emailFilter === 'ignored')) },
      });
      const c = client(s.url, { lookup: strategy });
      const found = await c.findCandidatesByEmail(EMAIL);
      expect(uids(found)).toEqual(SUBJECT_UIDS);
      expect(found.find((x) => x.uid === '30.AAC')?.person_uid).toBe('60.ANNB');
      const route = strategy === 'find-duplicates' ? 'GET /sourcing/candidates/find_duplicates' : 'GET /candidates';
      expect(s.stats().byRoute).toEqual({ [route]: calls });
    },
  );

  it('matches the subject trimmed and case-insensitively, and the strategy option overrides the default', async () => {
    const s = await sim({ pageSize: 3, emailFilter: 'contains', seed: { candidates: lookupSeeds() } });
    const c = client(s.url, { lookup: 'find-duplicates' });
    for (const strategy of ['candidates-filter', 'scan', 'find-duplicates'] as const) {
      expect(uids(await c.findCandidatesByEmail('  ANN@EXAMPLE.com ', { strategy }))).toEqual(SUBJECT_UIDS);
    }
    expect(s.stats().byRoute).toEqual({ 'GET /candidates': 2 + 4, 'GET /sourcing/candidates/find_duplicates': 1 });
  });

  it('sends limit= with the client page size and follows next_page over every page', async () => {
    const s = await sim({ pageSize: 50, emailFilter: 'ignored', seed: { candidates: lookupSeeds() } });
    const c = client(s.url, { pageSize: 2 });
    expect(uids(await c.findCandidatesByEmail(EMAIL, { strategy: 'scan' }))).toEqual(SUBJECT_UIDS);
    expect(s.stats().byRoute).toEqual({ 'GET /candidates': 5 });
  });

  it('returns [] for nobody, find-duplicates included (it answers 400 for no match)', async () => {
    const s = await sim({ seed: { candidates: lookupSeeds() } });
    const c = client(s.url);
    for (const strategy of ['candidates-filter', 'scan', 'find-duplicates'] as const) {
      expect(await c.findCandidatesByEmail('nobody@example.com', { strategy })).toEqual([]);
    }
    expect(s.stats().byStatus).toEqual({ '200': 2, '400': 1 });
  });

  it('a missing find_duplicates endpoint (HTML 404) is an error, never "nobody found"', async () => {
    const s = await sim({ findDuplicates: false, seed: { candidates: lookupSeeds() } });
    const err = await rejectionOf(client(s.url).findCandidatesByEmail(EMAIL, { strategy: 'find-duplicates' }));
    expect(err).toBeInstanceOf(ComeetInvalidResponseError);
    expectNoEmail(err);
  });

  it('does not return deleted candidates (erased person, simulator)', async () => {
    const s = await sim({
      emailFilter: 'ignored',
      seed: {
        candidates: [
          { uid: '30.AAA', person_uid: '60.ANNA', first_name: 'Ann', last_name: 'S', email: EMAIL, status: 'Rejected' },
          { uid: '30.GON', person_uid: '60.GONE', first_name: 'Ann', last_name: 'S', email: EMAIL, status: 'Rejected' },
        ],
      },
    });
    const c = client(s.url);
    expect(uids(await c.findCandidatesByEmail(EMAIL, { strategy: 'scan' }))).toEqual(['30.AAA', '30.GON']);
    await c.deletePerson('60.GONE');
    for (const strategy of ['candidates-filter', 'scan', 'find-duplicates'] as const) {
      expect(uids(await c.findCandidatesByEmail(EMAIL, { strategy }))).toEqual(['30.AAA']);
    }
  });

  it('drops deleted, foreign and duplicate entries the server sends anyway (raw server)', async () => {
    const server = await rawJson(200, {
      candidates: [
        { uid: '1.DEL', deleted: true },
        { uid: '1.DEM', person_uid: 'p9', email: EMAIL, deleted: true },
        { uid: '1.OK', person_uid: 'p1', email: ' Ann@Example.com' },
        { uid: '1.OK', person_uid: 'p1', email: 'ann@example.com' },
        { uid: '1.FOO', person_uid: 'p2', email: 'joann@example.com' },
        { uid: '1.NUL', person_uid: 'p3', email: null },
        { uid: 77, person_uid: 88, email: 'ANN@example.com' },
      ],
    });
    const found = await client(server.url).findCandidatesByEmail(EMAIL, { strategy: 'scan' });
    expect(found.map((x) => [x.uid, x.person_uid])).toEqual([
      ['1.OK', 'p1'],
      ['77', '88'],
    ]);
  });
});

// ---- hidden emails, look-alikes, resumable paging (issue 10 items 3, 9, 11) ---------------------

describe('ComeetClient lookups that cannot see emails', () => {
  const WITHOUT_SOURCE_CONTACT = ALL_PERMISSIONS.filter((p) => p !== 'candidates:source_contact_details');

  it.each(['candidates-filter', 'find-duplicates', 'scan'] as const)(
    '%s without the source-contact permission: ComeetEmailsHiddenError naming it, never "nobody found"',
    async (strategy) => {
      const s = await sim({ pageSize: 3, permissions: WITHOUT_SOURCE_CONTACT, seed: { candidates: lookupSeeds() } });
      const err = await rejectionOf(client(s.url).findCandidatesByEmail(EMAIL, { strategy }));
      expect(err).toBeInstanceOf(ComeetEmailsHiddenError);
      expect(err).toMatchObject({ code: 'ComeetEmailsHidden', retryable: false, permission: ComeetPermission.sourceContactDetails });
      expect(err.message).toContain('"Candidates: Include source contact personal details in candidate object"');
      expectNoEmail(err);
    },
  );

  it('a scan with some candidates that have no email still answers (the permission is there)', async () => {
    const s = await sim({ pageSize: 3, seed: { candidates: lookupSeeds() } });
    expect(uids(await client(s.url).findCandidatesByEmail(EMAIL, { strategy: 'scan' }))).toEqual(SUBJECT_UIDS);
    expect(await client(s.url).findCandidatesByEmail('nobody@example.com', { strategy: 'scan' })).toEqual([]);
  });

  it('an email filter that returns a candidate without an email is not absence, even when the filter is ignored', async () => {
    const s = await sim({ pageSize: 3, emailFilter: 'ignored', seed: { candidates: lookupSeeds() } });
    const err = await rejectionOf(client(s.url).findCandidatesByEmail('nobody@example.com'));
    expect(err).toBeInstanceOf(ComeetEmailsHiddenError);
  });

  it('an empty account is absence (nothing was hidden)', async () => {
    const s = await sim({ permissions: WITHOUT_SOURCE_CONTACT, seed: { candidates: [] } });
    for (const strategy of ['candidates-filter', 'find-duplicates', 'scan'] as const) {
      expect(await client(s.url).findCandidatesByEmail(EMAIL, { strategy })).toEqual([]);
    }
  });
});

describe('ComeetClient look-alikes', () => {
  it("drops a Kelvin-sign look-alike that the simulator's Unicode-folding filter returns", async () => {
    const s = await sim({
      seed: {
        candidates: [
          { uid: '50.KAT', person_uid: '70.KAT', first_name: 'Kate', last_name: 'Real', email: 'kate@example.com', status: 'Rejected' },
          { uid: '50.KEL', person_uid: '70.KEL', first_name: 'Kate', last_name: 'Alike', email: '\u212Aate@example.com', status: 'Rejected' },
        ],
      },
    });
    // The server matches both (toLowerCase folds U+212A to k)...
    const raw = await fetch(`${s.url}/sourcing/candidates/find_duplicates?email=kate@example.com`, {
      headers: { authorization: `Bearer ${await new ComeetTokenSource({ apiKey: API_KEY, secret: SECRET }).token()}` },
    });
    expect(((await raw.json()) as { uid: string }[]).map((c) => c.uid).sort()).toEqual(['50.KAT', '50.KEL']);
    // ...the client keeps only the subject, whatever the strategy.
    for (const strategy of ['candidates-filter', 'find-duplicates', 'scan'] as const) {
      expect(uids(await client(s.url).findCandidatesByEmail('kate@example.com', { strategy }))).toEqual(['50.KAT']);
    }
  });
});

describe('ComeetClient resumable lookups', () => {
  it('reads one page per call, and a progress carried over (as JSON) goes on at the next page', async () => {
    const s = await sim({ pageSize: 3, emailFilter: 'contains', seed: { candidates: lookupSeeds() } });
    const a = client(s.url, { pageSize: 1 });
    let progress = a.startLookup('candidates-filter');
    const first = await a.readLookupPage(EMAIL, progress);
    progress = JSON.parse(JSON.stringify(first.progress)) as typeof progress;
    expect(JSON.stringify(progress)).not.toContain('ann');
    expect(progress).toMatchObject({ strategy: 'candidates-filter', pagesRead: 1, storable: true, seen: 1, withoutEmail: 0 });
    expect(progress.next).toContain('email=%7Bsubject%7D');
    // Another client (another worker) goes on from there: five hits at one a page, five calls in all.
    const b = client(s.url, { pageSize: 1 });
    const found = [...first.matches];
    while (progress.next !== null) {
      const page = await b.readLookupPage(EMAIL, progress);
      found.push(...page.matches);
      progress = page.progress;
    }
    expect(uids(found)).toEqual(SUBJECT_UIDS);
    expect(progress.pagesRead).toBe(5);
    expect(s.stats().byRoute).toEqual({ 'GET /candidates': 5 });
  });

  it('a next_page that quotes the email outside a query parameter is kept, but marked not storable', async () => {
    const s = await raw((req, res) =>
      sendJson(
        res,
        200,
        req.url?.includes('/more/')
          ? { candidates: [{ uid: '2', person_uid: 'p', email: EMAIL }] }
          : { candidates: [{ uid: '1', person_uid: 'p', email: EMAIL }], next_page: `/more/${encodeURIComponent(EMAIL)}` },
      ),
    );
    const c = client(s.url);
    const first = await c.readLookupPage(EMAIL, c.startLookup('candidates-filter'));
    expect(first.progress.storable).toBe(false);
    const second = await c.readLookupPage(EMAIL, first.progress);
    expect(second.progress).toMatchObject({ next: null, storable: true });
    expect(uids([...first.matches, ...second.matches])).toEqual(['1', '2']);
  });
});

// ---- erasure, reads, creation -------------------------------------------------------------------

describe('ComeetClient person erasure, getCandidate, createCandidate', () => {
  const people = (): SimCandidateSeed[] => [
    { uid: '31.AAA', person_uid: '61.PPP', first_name: 'Pia', last_name: 'One', email: 'pia@example.com', status: 'Rejected' },
    { uid: '31.AAB', person_uid: '61.PPP', first_name: 'Pia', last_name: 'One', email: 'pia@example.com', status: 'Hired' },
    { uid: '31.AAC', person_uid: '61.QQQ', first_name: 'Quin', last_name: 'Two', email: 'quin@example.com', status: 'Withdrawn' },
    {
      uid: '31.BSY',
      person_uid: '61.BSY',
      first_name: 'Busy',
      last_name: 'Three',
      email: EMAIL,
      status: 'In progress',
      current_steps: [{ name: 'Phone screen', type: 'Phone Interview', time_scheduled: '+1h' }],
    },
    { uid: '31.BSZ', person_uid: '61.BSY', first_name: 'Busy', last_name: 'Three', email: EMAIL, status: 'Rejected' },
  ];

  it('deletePerson parses uids and count, and deletes in the simulator', async () => {
    const s = await sim({ seed: { candidates: people() } });
    const r = await client(s.url).deletePerson('61.PPP');
    expect(r).toEqual({ personUid: '61.PPP', mode: 'delete', candidateUids: ['31.AAA', '31.AAB'], count: 2 });
    expect(s.candidate('31.AAA')?.deleted).toBe(true);
    expect(s.candidate('31.AAC')?.deleted).toBe(false);
    expect(s.stats().byRoute).toEqual({ 'DELETE /person/:uid': 1 });
  });

  it('pseudonymizePerson parses uids and count', async () => {
    const s = await sim({ seed: { candidates: people() } });
    const r = await client(s.url).pseudonymizePerson('61.QQQ');
    expect(r).toEqual({ personUid: '61.QQQ', mode: 'pseudonymize', candidateUids: ['31.AAC'], count: 1 });
    expect(s.candidate('31.AAC')).toMatchObject({ pseudonymized: true, deleted: false, email: null });
    expect(s.stats().byRoute).toEqual({ 'POST /person/:uid/pseudonymize': 1 });
  });

  it('erasePerson dispatches on the mode', async () => {
    const s = await sim({ seed: { candidates: people() } });
    const c = client(s.url);
    expect(await c.erasePerson('61.QQQ', 'pseudonymize')).toEqual({ personUid: '61.QQQ', mode: 'pseudonymize', candidateUids: ['31.AAC'], count: 1 });
    expect(await c.erasePerson('61.PPP', 'delete')).toEqual({ personUid: '61.PPP', mode: 'delete', candidateUids: ['31.AAA', '31.AAB'], count: 2 });
    expect(s.stats().erasures.map((e) => [e.personUid, e.mode])).toEqual([
      ['61.QQQ', 'pseudonymize'],
      ['61.PPP', 'delete'],
    ]);
  });

  it('erase bodies: count defaults to the uid list, numeric uids become strings, wrong types are refused', async () => {
    const noCount = await rawJson(200, { deleted_candidates_uids: [123, '00.AB'] });
    expect(await client(noCount.url).deletePerson('p')).toEqual({ personUid: 'p', mode: 'delete', candidateUids: ['123', '00.AB'], count: 2 });
    const noCountP = await rawJson(200, { pseudonymized_candidates_uids: ['00.AC'] });
    expect(await client(noCountP.url).pseudonymizePerson('p')).toEqual({ personUid: 'p', mode: 'pseudonymize', candidateUids: ['00.AC'], count: 1 });
    const badCount = await rawJson(200, { candidates_deleted: '2', deleted_candidates_uids: ['00.AB'] });
    expect(await rejectionOf(client(badCount.url).deletePerson('p'))).toBeInstanceOf(ComeetInvalidResponseError);
    const noUids = await rawJson(200, { candidates_deleted: 1 });
    expect(await rejectionOf(client(noUids.url).deletePerson('p'))).toBeInstanceOf(ComeetInvalidResponseError);
  });

  it('getCandidate returns the candidate; an unknown uid is ComeetNotFoundError', async () => {
    const s = await sim({ seed: { candidates: people() } });
    const c = client(s.url);
    const got = await c.getCandidate('31.BSY');
    expect(got).toMatchObject({ uid: '31.BSY', person_uid: '61.BSY', email: EMAIL, status: 'In progress', deleted: false });
    expect(got.current_steps).toEqual([
      { name: 'Phone screen', type: 'Phone Interview', time_scheduled: s.candidate('31.BSY')!.current_steps[0]!.time_scheduled },
    ]);
    const err = await rejectionOf(c.getCandidate('99.NOPE'));
    expect(err).toBeInstanceOf(ComeetNotFoundError);
    expect((err as ComeetError).status).toBe(404);
    expect((err as ComeetError).comeetError).toBe('candidate_not_found');
  });

  it('createCandidate returns the 201 candidate; a repeat is ComeetConflictError (409)', async () => {
    const s = await sim();
    const c = client(s.url);
    const input = { position_uid: '11.11', first_name: 'Seed', last_name: 'Test', email: 'seed@example.com', partner_candidate_id: 'dsar-check-1' };
    const created = await c.createCandidate(input);
    expect(created).toMatchObject({ position_uid: '11.11', email: 'seed@example.com', status: 'In progress', first_name: 'Seed', last_name: 'Test' });
    expect(s.candidate(created.uid)?.person_uid).toBe(created.person_uid);
    expect(s.stats().byStatus).toEqual({ '201': 1 });
    const err = await rejectionOf(c.createCandidate(input));
    expect(err).toBeInstanceOf(ComeetConflictError);
    expect(err).toMatchObject({ status: 409, comeetError: 'candidate_post_conflict', retryable: false });
    expect(s.candidates()).toHaveLength(1);
  });
});

// ---- typed errors from the simulator -------------------------------------------------------------

describe('ComeetClient typed errors (simulator)', () => {
  const busy: SimCandidateSeed[] = [
    {
      uid: '32.BSY',
      person_uid: '62.BSY',
      first_name: 'Busy',
      last_name: 'Person',
      email: EMAIL,
      status: 'In progress',
      current_steps: [{ name: 'Phone screen', type: 'Phone Interview', time_scheduled: '+1h' }],
    },
    { uid: '32.FRE', person_uid: '62.BSY', first_name: 'Busy', last_name: 'Person', email: EMAIL, status: 'Rejected' },
    { uid: '32.ONE', person_uid: '62.ONE', first_name: 'Only', last_name: 'One', email: 'one@example.com', status: 'Rejected' },
  ];

  it('403 no_permission on erase → ComeetPermissionError naming the Comeet permission, not retryable', async () => {
    const s = await sim({ seed: { candidates: busy }, permissions: ['candidates:read_other_sources'] });
    const err = await rejectionOf(client(s.url).deletePerson('62.ONE'));
    expect(err).toBeInstanceOf(ComeetPermissionError);
    const e = err as ComeetPermissionError;
    expect(e.permission).toBe(ComeetPermission.erasePersons);
    expect(e.permission).toBe('Persons: Delete or Pseudonymize persons');
    expect(e).toMatchObject({ retryable: false, status: 403, comeetError: 'no_permission', code: 'ComeetNoPermission' });
    expect(e.message).toContain('Persons: Delete or Pseudonymize persons');
    expect(s.candidate('32.ONE')?.deleted).toBe(false);
  });

  it('a wrong secret → ComeetUnauthorizedError naming COMEET_SECRET, without the secret or the API key', async () => {
    const s = await sim({ seed: { candidates: busy } });
    const wrongSecret = 'wrong-secret-q9z8x7';
    const err = await rejectionOf(client(s.url, { secret: wrongSecret }).findCandidatesByEmail(EMAIL));
    expect(err).toBeInstanceOf(ComeetUnauthorizedError);
    expect(err).toMatchObject({ status: 401, retryable: false, code: 'ComeetUnauthorized' });
    expect(err.message).toContain('COMEET_SECRET');
    expect(err.message).not.toContain(wrongSecret);
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain(API_KEY);
    expectNoEmail(err);
  });

  it('404 on erase → ComeetNotFoundError', async () => {
    const s = await sim({ seed: { candidates: busy } });
    const c = client(s.url);
    for (const mode of ['delete', 'pseudonymize'] as const) {
      const err = await rejectionOf(c.erasePerson('62.NOBODY', mode));
      expect(err).toBeInstanceOf(ComeetNotFoundError);
      expect(err).toMatchObject({ status: 404, comeetError: 'not_found', retryable: false });
    }
  });

  it('pending interviews → InterviewsInProgressError with the person and the blocking candidates only', async () => {
    const s = await sim({ seed: { candidates: busy } });
    const err = await rejectionOf(client(s.url).deletePerson('62.BSY'));
    expect(err).toBeInstanceOf(InterviewsInProgressError);
    const e = err as InterviewsInProgressError;
    expect(e.personUid).toBe('62.BSY');
    expect(e.blockingCandidateUids).toEqual(['32.BSY']);
    expect(e).toMatchObject({ status: 400, retryable: false, code: 'InterviewsInProgress', comeetError: 'person_has_pending_interviews' });
    expectNoEmail(e);
    expect(s.stats().erasures).toEqual([]);
  });

  it('429 burst → ComeetRateLimitedError with Retry-After in ms, retryable', async () => {
    const s = await sim({ faults: { rateLimitBurst: 1 } });
    const c = client(s.url);
    const err = await rejectionOf(c.findCandidatesByEmail(EMAIL));
    expect(err).toBeInstanceOf(ComeetRateLimitedError);
    expect(err).toMatchObject({ retryAfterMs: 1000, retryable: true, status: 429, comeetError: 'too_many_requests' });
    expectNoEmail(err);
    expect(await c.findCandidatesByEmail(EMAIL)).toEqual([]); // the burst is over
  });

  it('429 from a full window → retryAfterMs is the whole window; none when Retry-After is absent', async () => {
    const s = await sim({ rateLimit: { limit: 2, windowMs: 60_000 } });
    const c = client(s.url);
    await c.findCandidatesByEmail(EMAIL);
    await c.findCandidatesByEmail(EMAIL);
    const err = await rejectionOf(c.findCandidatesByEmail(EMAIL));
    expect(err).toBeInstanceOf(ComeetRateLimitedError);
    expect((err as ComeetRateLimitedError).retryAfterMs).toBe(60_000);

    const quiet = await sim({ retryAfter: false, faults: { rateLimitBurst: 1 } });
    const err2 = await rejectionOf(client(quiet.url).deletePerson('x'));
    expect(err2).toBeInstanceOf(ComeetRateLimitedError);
    expect((err2 as ComeetRateLimitedError).retryAfterMs).toBeUndefined();
    expect((err2 as ComeetRateLimitedError).retryable).toBe(true);
  });

  it('5xx (JSON and HTML bodies) → ComeetServerError, retryable', async () => {
    const s = await sim({ faults: { errorRate: 1, errorStatus: 502 } });
    const c = client(s.url);
    for (let i = 0; i < 2; i++) {
      const err = await rejectionOf(c.findCandidatesByEmail(EMAIL));
      expect(err).toBeInstanceOf(ComeetServerError);
      expect(err).toMatchObject({ status: 502, retryable: true, code: 'ComeetServerError' });
      expectNoEmail(err);
    }
    expect(s.stats().faultsInjected).toBe(2);
  });

  it('a dropped connection → ComeetNetworkError, retryable', async () => {
    const s = await sim({ faults: { dropRate: 1 } });
    const err = await rejectionOf(client(s.url).deletePerson('62.ONE'));
    expect(err).toBeInstanceOf(ComeetNetworkError);
    expect(err).toMatchObject({ retryable: true, status: undefined, code: 'ComeetNetworkError' });
    expect(s.stats().byStatus).toEqual({ dropped: 1 });
  });

  it('a base URL with /v1 (HTML 404) → ComeetInvalidResponseError, never NotFound', async () => {
    const s = await sim({ seed: { candidates: busy } });
    const c = client(`${s.url}/v1`);
    const erase = await rejectionOf(c.deletePerson('62.ONE'));
    expect(erase).toBeInstanceOf(ComeetInvalidResponseError);
    expect(erase).not.toBeInstanceOf(ComeetNotFoundError);
    expect(erase).toMatchObject({ status: 404, retryable: false, code: 'ComeetInvalidResponse' });
    const lookup = await rejectionOf(c.findCandidatesByEmail(EMAIL));
    expect(lookup).toBeInstanceOf(ComeetInvalidResponseError);
    expectNoEmail(lookup);
    expect(s.stats().byRoute).toEqual({ 'DELETE (unmatched)': 1, 'GET (unmatched)': 1 });
    expect(s.candidate('32.ONE')?.deleted).toBe(false);
  });

  it('latency above responseTimeoutMs → ComeetNetworkError (timed out)', async () => {
    // undici arms its headers timeout on a ~1 s coarse timer, so a 100 ms limit fires after ~1 s.
    const s = await sim({ faults: { latencyMs: 2500 } });
    const started = Date.now();
    const err = await rejectionOf(client(s.url, { responseTimeoutMs: 100 }).findCandidatesByEmail(EMAIL));
    expect(err).toBeInstanceOf(ComeetNetworkError);
    expect(err).toMatchObject({ retryable: true, status: undefined });
    expect(err.message).toContain('timed out');
    expect(Date.now() - started).toBeLessThan(2000);
    expectNoEmail(err);
  });
});

// ---- malformed responses from a raw server -------------------------------------------------------

describe('ComeetClient against malformed responses (raw server)', () => {
  const html = '<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>';

  it('200 with an HTML page → ComeetInvalidResponseError', async () => {
    const s = await rawJson(200, html, 'text/html; charset=utf-8');
    const c = client(s.url);
    expect(await rejectionOf(c.getCandidate('1'))).toBeInstanceOf(ComeetInvalidResponseError);
    expect(await rejectionOf(c.deletePerson('1'))).toBeInstanceOf(ComeetInvalidResponseError);
    const lookup = await rejectionOf(c.findCandidatesByEmail(EMAIL));
    expect(lookup).toBeInstanceOf(ComeetInvalidResponseError);
    expectNoEmail(lookup);
  });

  it('200 with an empty body → ComeetInvalidResponseError', async () => {
    const s = await rawJson(200, '', 'application/json');
    expect(await rejectionOf(client(s.url).deletePerson('1'))).toBeInstanceOf(ComeetInvalidResponseError);
  });

  it('200 with truncated JSON → ComeetInvalidResponseError, not SyntaxError', async () => {
    const s = await rawJson(200, `{"candidates": [{"uid": "1.A", "email": "${EMAIL}", "person_`, 'application/json');
    const err = await rejectionOf(client(s.url).findCandidatesByEmail(EMAIL));
    expect(err).toBeInstanceOf(ComeetInvalidResponseError);
    expect(err).not.toBeInstanceOf(SyntaxError);
    expectNoEmail(err);
    // Also without a JSON content type: the body still looks like JSON.
    const s2 = await rawJson(200, '{"deleted_candidates_uids": [', 'text/plain');
    expect(await rejectionOf(client(s2.url).deletePerson('1'))).toBeInstanceOf(ComeetInvalidResponseError);
  });

  it.each([
    ['candidates is a string', { candidates: 'x' }],
    ['candidates is missing', { items: [] }],
    ['a candidate without uid', { candidates: [{ person_uid: 'p1', email: EMAIL }] }],
    ['a candidate with an empty uid', { candidates: [{ uid: '', person_uid: 'p1', email: EMAIL }] }],
    ['email is a number', { candidates: [{ uid: '1', person_uid: 'p1', email: 42 }] }],
    ['next_page is a number', { candidates: [], next_page: 2 }],
    ['the body is a string', 'just text'],
    ['the body is null', null],
  ])('wrong shape (%s) → ComeetInvalidResponseError', async (_what, body) => {
    const s = await rawJson(200, JSON.stringify(body));
    const err = await rejectionOf(client(s.url).findCandidatesByEmail(EMAIL, { strategy: 'scan' }));
    expect(err).toBeInstanceOf(ComeetInvalidResponseError);
    expect(err).toMatchObject({ retryable: false, endpoint: 'GET /candidates', status: undefined });
    expectNoEmail(err);
  });

  it('getCandidate without uid → ComeetInvalidResponseError', async () => {
    const s = await rawJson(200, { person_uid: 'p1', email: EMAIL });
    expect(await rejectionOf(client(s.url).getCandidate('1'))).toBeInstanceOf(ComeetInvalidResponseError);
  });

  it('follows a relative next_page on the same host', async () => {
    const s = await raw((req, res) => {
      if (req.url?.includes('page=2')) sendJson(res, 200, { candidates: [{ uid: '2', person_uid: 'p', email: EMAIL }] });
      else sendJson(res, 200, { candidates: [{ uid: '1', person_uid: 'p', email: EMAIL }], next_page: '/candidates?page=2' });
    });
    expect(uids(await client(s.url).findCandidatesByEmail(EMAIL))).toEqual(['1', '2']);
    expect(s.requests.map((r) => r.url)).toEqual([`/candidates?email=${encodeURIComponent(EMAIL)}&limit=100`, '/candidates?page=2']);
  });

  it('keeps a base path prefix on every page', async () => {
    const s = await raw((req, res) => {
      if (req.url?.includes('page=2')) sendJson(res, 200, { candidates: [{ uid: '2', person_uid: 'p', email: EMAIL }] });
      else sendJson(res, 200, { candidates: [{ uid: '1', person_uid: 'p', email: EMAIL }], next_page: `${s.url}/api/candidates?page=2` });
    });
    expect(uids(await client(`${s.url}/api/`).findCandidatesByEmail(EMAIL, { strategy: 'scan' }))).toEqual(['1', '2']);
    expect(s.requests.map((r) => r.url)).toEqual(['/api/candidates?limit=100', '/api/candidates?page=2']);
  });

  it.each([
    ['an absolute URL on another host', (other: RawServer) => `${other.url}/candidates?page=2`],
    ['the same port under another host name', (other: RawServer) => `http://localhost:${other.port}/candidates?page=2`],
    ['a protocol-relative URL', (other: RawServer) => `//127.0.0.1:${other.port}/candidates?page=2`],
  ])('refuses a next_page on another host (%s) and never sends the token there', async (_what, link) => {
    const other = await raw((_req, res) => sendJson(res, 200, { candidates: [{ uid: 'evil', person_uid: 'p', email: EMAIL }] }));
    const s = await raw((_req, res) => sendJson(res, 200, { candidates: [{ uid: '1', person_uid: 'p', email: EMAIL }], next_page: link(other) }));
    const err = await rejectionOf(client(s.url).findCandidatesByEmail(EMAIL));
    expect(err).toBeInstanceOf(ComeetInvalidResponseError);
    expect(err.message).toContain('another host');
    expectNoEmail(err);
    expect(other.requests).toEqual([]);
    expect(s.requests).toHaveLength(1);
  });

  it('a next_page that repeats a page stops with an error instead of looping', async () => {
    const s = await raw((_req, res) =>
      sendJson(res, 200, { candidates: [{ uid: '1', person_uid: 'p', email: EMAIL }], next_page: `${s.url}/candidates?page=2` }),
    );
    const err = await rejectionOf(client(s.url).findCandidatesByEmail(EMAIL));
    expect(err).toBeInstanceOf(ComeetInvalidResponseError);
    expect(err.message).toContain('repeats');
    expect(s.requests).toHaveLength(2);
  });

  it('a next_page that points back to the first page stops too', async () => {
    const s = await raw((req, res) => {
      const back = req.url?.includes('page=2');
      sendJson(res, 200, { candidates: [], next_page: back ? `${s.url}/candidates?limit=100` : `${s.url}/candidates?page=2` });
    });
    const err = await rejectionOf(client(s.url).findCandidatesByEmail(EMAIL, { strategy: 'scan' }));
    expect(err).toBeInstanceOf(ComeetInvalidResponseError);
    expect(s.requests.length).toBeLessThanOrEqual(4);
  });

  it('an endless series of new pages stops at maxPages', async () => {
    const s = await raw((_req, res, n) => sendJson(res, 200, { candidates: [], next_page: `/candidates?page=${n + 2}` }));
    const err = await rejectionOf(client(s.url, { maxPages: 5 }).findCandidatesByEmail(EMAIL));
    expect(err).toBeInstanceOf(ComeetInvalidResponseError);
    expect(err.message).toContain('more than 5 pages');
    expect(s.requests).toHaveLength(5);
  });

  it('502 with an HTML page, and 500 with truncated JSON → ComeetServerError', async () => {
    const s = await rawJson(502, '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', 'text/html');
    const err = await rejectionOf(client(s.url).findCandidatesByEmail(EMAIL));
    expect(err).toBeInstanceOf(ComeetServerError);
    expect(err).toMatchObject({ status: 502, retryable: true });
    const s2 = await rawJson(500, '{"status": 500, "err', 'application/json');
    const err2 = await rejectionOf(client(s2.url).deletePerson('1'));
    expect(err2).toBeInstanceOf(ComeetServerError);
    expect(err2).toMatchObject({ status: 500, retryable: true });
  });

  it.each([
    [400, { status: 400, error: 'required_field', message: 'x' }, ComeetBadRequestError, false],
    [401, { status: 401, error: 'invalid_token', message: 'x' }, ComeetUnauthorizedError, false],
    [401, { status: 401, error: 'duplicate_candidate', message: 'x' }, ComeetNotFoundError, false],
    [403, { status: 403, error: 'no_permission', message: 'x' }, ComeetPermissionError, false],
    [403, { status: 403, error: 'malicious_file', message: 'x' }, ComeetBadRequestError, false],
    [404, { status: 404, error: 'not_found', message: 'x' }, ComeetNotFoundError, false],
    [404, '<html>Not Found</html>', ComeetInvalidResponseError, false],
    [409, { status: 409, error: 'candidate_post_conflict', message: 'x' }, ComeetConflictError, false],
    [429, { status: 429, error: 'too_many_requests', message: 'x' }, ComeetRateLimitedError, true],
    [503, { status: 503, error: 'service_unavailable', message: 'x' }, ComeetServerError, true],
  ] as const)('HTTP %i %j → %o', async (status, body, type, retryable) => {
    const s = await rawJson(status, typeof body === 'string' ? body : JSON.stringify(body), typeof body === 'string' ? 'text/html' : 'application/json');
    const err = await rejectionOf(client(s.url).deletePerson('70.PER'));
    expect(err).toBeInstanceOf(type);
    expect(err).toMatchObject({ status, retryable, endpoint: 'DELETE /person/:uid' });
  });

  it('pending interviews with a scalar candidate_uid still give an array', async () => {
    const s = await rawJson(400, { status: 400, error: 'person_has_pending_interviews', message: 'x', person_uid: '70.PER', candidate_uid: '71.CAN' });
    const err = (await rejectionOf(client(s.url).pseudonymizePerson('70.PER'))) as InterviewsInProgressError;
    expect(err).toBeInstanceOf(InterviewsInProgressError);
    expect(err.personUid).toBe('70.PER');
    expect(err.blockingCandidateUids).toEqual(['71.CAN']);
  });

  it('Retry-After as an HTTP date is read relative to now', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const s = await raw((_req, res) => sendJson(res, 429, { status: 429, error: 'too_many_requests' }, { 'retry-after': at }));
    const err = (await rejectionOf(client(s.url).deletePerson('1'))) as ComeetRateLimitedError;
    expect(err).toBeInstanceOf(ComeetRateLimitedError);
    expect(err.retryAfterMs).toBeGreaterThan(27_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('error messages never quote the response body (which may carry the email)', async () => {
    const s = await rawJson(400, { status: 400, error: 'invalid_email', message: `${EMAIL} is not a valid email`, email: EMAIL });
    const err = await rejectionOf(client(s.url).findCandidatesByEmail(EMAIL));
    expect(err).toBeInstanceOf(ComeetBadRequestError);
    expect((err as ComeetError).comeetError).toBe('invalid_email');
    expectNoEmail(err);
  });

  it('a refused connection → ComeetNetworkError', async () => {
    const s = await raw((_req, res) => sendJson(res, 200, {}));
    const url = s.url;
    await s.close();
    const err = await rejectionOf(client(url).deletePerson('1'));
    expect(err).toBeInstanceOf(ComeetNetworkError);
    expect(err.message).toContain('ECONNREFUSED');
  });
});

// ---- onCall ---------------------------------------------------------------------------------------

describe('ComeetClient onCall', () => {
  it('reports route patterns (no ids, no query, no email) and statuses, network failures included', async () => {
    const s = await sim({ pageSize: 3, emailFilter: 'ignored', seed: { candidates: lookupSeeds(false) } });
    const calls: ComeetCallInfo[] = [];
    const c = client(s.url, { onCall: (info) => calls.push(info) });
    await c.findCandidatesByEmail(EMAIL); // 4 pages
    await c.findCandidatesByEmail('nobody@example.com', { strategy: 'find-duplicates' }); // 400
    await c.getCandidate('30.AAA');
    await c.deletePerson('60.ANNA');
    await rejectionOf(c.pseudonymizePerson('60.ANNA')); // 404 now
    s.setFaults({ dropRate: 1 });
    await rejectionOf(c.deletePerson('60.ANNB'));

    expect(calls.map((x) => [x.endpoint, x.status])).toEqual([
      ['GET /candidates', 200],
      ['GET /candidates', 200],
      ['GET /candidates', 200],
      ['GET /candidates', 200],
      ['GET /sourcing/candidates/find_duplicates', 400],
      ['GET /candidates/:uid', 200],
      ['DELETE /person/:uid', 200],
      ['POST /person/:uid/pseudonymize', 404],
      ['DELETE /person/:uid', 'network'],
    ]);
    for (const x of calls) {
      expect(typeof x.durationMs).toBe('number');
      expect(x.durationMs).toBeGreaterThanOrEqual(0);
    }
    const text = JSON.stringify(calls);
    for (const bad of ['?', '@', 'example', '30.AAA', '60.ANNA', '60.ANNB', 'limit', 'page']) expect(text).not.toContain(bad);
  });
});

// ---- parseRetryAfter ------------------------------------------------------------------------------

describe('parseRetryAfter', () => {
  const NOW = Date.parse('2026-03-01T12:00:00Z');

  it('reads delta seconds, whole and fractional', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('1', NOW)).toBe(1000);
    expect(parseRetryAfter('60', NOW)).toBe(60_000);
    expect(parseRetryAfter(' 3 ', NOW)).toBe(3000);
    expect(parseRetryAfter('1.5', NOW)).toBe(1500);
    expect(parseRetryAfter('0.25', NOW)).toBe(250);
  });

  it('reads an HTTP date relative to now, and a past date as 0', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:02:00 GMT', NOW)).toBe(120_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:59:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('Sunday, 01-Mar-26 12:00:10 GMT', NOW)).toBe(10_000); // RFC 850
  });

  it('gives undefined for a missing or garbage value', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    for (const garbage of ['', '   ', 'soon', 'later please', '1e3', '5s', '12abc', '-1', 'abc 2020', 'retry in 12']) {
      expect(parseRetryAfter(garbage, NOW), JSON.stringify(garbage)).toBeUndefined();
    }
  });
});

describe('answers that must not be misread', () => {
  it('find-duplicates: a 400 saying the request was malformed is an error, not "nobody found"', async () => {
    const s = await raw((_req, res) => sendJson(res, 400, { status: 400, error: 'invalid_email', message: 'Invalid email' }));
    const err = await rejectionOf(client(s.url).findCandidatesByEmail(EMAIL, { strategy: 'find-duplicates' }));
    expect(err).toBeInstanceOf(ComeetBadRequestError);
    expect((err as ComeetBadRequestError).comeetError).toBe('invalid_email');
    const none = await raw((_req, res) => sendJson(res, 400, { status: 400, error: 'no_duplicates', message: 'No duplicates found' }));
    expect(await client(none.url).findCandidatesByEmail(EMAIL, { strategy: 'find-duplicates' })).toEqual([]);
  });

  it('an `error` field that is free text never reaches a message', async () => {
    const s = await raw((_req, res) => sendJson(res, 403, { status: 403, error: `Candidate ${EMAIL} is locked`, message: 'x' }));
    const err = await rejectionOf(client(s.url).deletePerson('P-1'));
    expect((err as ComeetBadRequestError).comeetError).toBe('unrecognised_error');
    expectNoEmail(err);
  });
});
