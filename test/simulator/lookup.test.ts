import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimCandidateSeed, Simulator } from '../../src/simulator/server.js';
import { api, start } from './helpers.js';

const WIRE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function seeds(): SimCandidateSeed[] {
  const filler: SimCandidateSeed[] = Array.from({ length: 12 }, (_, i) => ({
    first_name: 'Filler',
    last_name: `Number${i}`,
    email: `filler${i}@example.com`,
    status: i % 2 === 0 ? 'Rejected' : 'On hold',
    time_created: `-${20 + i}d`,
  }));
  return [
    {
      person_uid: '50.ADAL',
      position_uid: '21.BKE',
      first_name: 'Ada',
      last_name: 'Lovelace',
      email: 'ada@example.com',
      phone: '+44 20 7946 0101',
      status: 'Rejected',
      time_created: '-40d',
      completed_steps: [{ name: 'Phone Screen', type: 'Phone Interview', time_scheduled: '-39d', duration_minutes: 30 }],
    },
    {
      person_uid: '50.ADAL',
      position_uid: '21.PMG',
      first_name: 'Ada',
      last_name: 'Lovelace',
      email: '  Ada@Example.COM ',
      status: 'In progress',
      time_created: '-1d',
      current_steps: [{ name: 'Review', type: 'Go/No-go', time_scheduled: null }],
      future_steps: [{ name: 'Onsite', type: 'In person Interview', time_scheduled: null }],
    },
    { first_name: 'Adam', last_name: 'Other', email: 'adam@example.com', status: 'Hired', time_created: '-2d' },
    {
      first_name: 'Kay',
      last_name: 'App',
      email: 'kay.app@example.com',
      source: 'app',
      source_contact: { full_name: 'Rita Recruiter', email: 'rita@example.com' },
      time_created: '-3d',
    },
    ...filler,
  ];
}

describe('simulator: candidate lookups', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await start({ pageSize: 5, seed: { candidates: seeds(), positions: ['21.BKE', '21.PMG'] } });
  });
  afterAll(() => sim.close());

  it('pages GET /candidates with absolute next_page links until the last page has none', async () => {
    const seen: string[] = [];
    let next: string | undefined = '/candidates';
    let pages = 0;
    while (next) {
      const r = await api(sim, 'GET', next);
      expect(r.status).toBe(200);
      expect(Array.isArray(r.json.candidates)).toBe(true);
      expect(r.json.candidates.length).toBeLessThanOrEqual(5);
      seen.push(...r.json.candidates.map((c: { uid: string }) => c.uid));
      if ('next_page' in r.json) expect(r.json.next_page.startsWith(`${sim.url}/candidates?`)).toBe(true);
      next = r.json.next_page;
      pages++;
    }
    expect(pages).toBe(4); // 16 candidates, 5 per page
    expect(new Set(seen).size).toBe(16);
    expect(seen.sort()).toEqual(
      sim
        .candidates()
        .map((c) => c.uid)
        .sort(),
    );
  });

  it('lets a smaller limit= win and keeps it in next_page', async () => {
    const r = await api(sim, 'GET', '/candidates?limit=3');
    expect(r.json.candidates).toHaveLength(3);
    expect(new URL(r.json.next_page).searchParams.get('limit')).toBe('3');
    const big = await api(sim, 'GET', '/candidates?limit=500');
    expect(big.json.candidates).toHaveLength(5);
    expect((await api(sim, 'GET', '/candidates?limit=0')).json).toMatchObject({ status: 400 });
  });

  it('returns the documented candidate fields, times as YYYY-MM-DDTHH:mm:ssZ', async () => {
    const ada = sim.candidates().find((c) => c.position_uid === '21.PMG')!;
    const r = await api(sim, 'GET', `/candidates/${ada.uid}`);
    expect(r.status).toBe(200);
    const c = r.json;
    for (const key of [
      'uid',
      'person_uid',
      'first_name',
      'middle_name',
      'last_name',
      'email',
      'phone',
      'mobile_phone',
      'linkedin_url',
      'deleted',
      'position_uid',
      'status',
      'time_created',
      'time_last_status_changed',
      'current_steps',
      'completed_steps',
      'future_steps',
    ]) {
      expect(c, key).toHaveProperty(key);
    }
    expect(c).toMatchObject({ uid: ada.uid, person_uid: '50.ADAL', deleted: false, status: 'In progress', email: '  Ada@Example.COM ' });
    expect(c.time_created).toMatch(WIRE_TIME);
    expect(c.current_steps).toEqual([{ name: 'Review', type: 'Go/No-go', time_scheduled: null }]);
    expect(c.future_steps[0]).toMatchObject({ type: 'In person Interview', time_scheduled: null });
    const rejected = await api(sim, 'GET', `/candidates/${sim.candidates()[0]!.uid}`);
    expect(rejected.json.current_steps).toEqual([]);
    expect(rejected.json.completed_steps[0].time_completed).toMatch(WIRE_TIME);
  });

  it('finds one candidate by uid or, with IDENTIFIER_TYPE: REAL_ID, by its numeric id', async () => {
    const c = sim.candidates()[2]!;
    expect(c.real_id).toBeTypeOf('number');
    const byReal = await api(sim, 'GET', `/candidates/${c.real_id}`, { headers: { IDENTIFIER_TYPE: 'REAL_ID' } });
    expect(byReal.status).toBe(200);
    expect(byReal.json.uid).toBe(c.uid);
    const missing = await api(sim, 'GET', '/candidates/99.ZZZ');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ status: 404, error: 'candidate_not_found' });
    expect((await api(sim, 'GET', `/candidates/${c.uid}`, { headers: { IDENTIFIER_TYPE: 'REAL_ID' } })).status).toBe(404);
  });

  it('filters by email exactly (trimmed, case-insensitive) by default', async () => {
    const r = await api(sim, 'GET', `/candidates?email=${encodeURIComponent(' ADA@example.com ')}`);
    expect(r.json.candidates.map((c: { person_uid: string }) => c.person_uid)).toEqual(['50.ADAL', '50.ADAL']);
    expect(r.json).not.toHaveProperty('next_page');
    const none = await api(sim, 'GET', '/candidates?email=nobody@example.com');
    expect(none.json).toEqual({ candidates: [] });
  });

  it('filters by status (comma list) and time_created', async () => {
    const r = await api(sim, 'GET', '/candidates?status=Hired,In%20progress&limit=50');
    expect(new Set(r.json.candidates.map((c: { status: string }) => c.status))).toEqual(new Set(['Hired', 'In progress']));
    const after = new Date(sim.now() - 5 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const recent = await api(sim, 'GET', `/candidates?time_created:after=${after}`);
    expect(recent.json.candidates).toHaveLength(3);
    const bad = await api(sim, 'GET', '/candidates?time_created:after=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('invalid_datetime');
  });

  it('find_duplicates returns a bare array, 400 no_duplicates for nothing, 400 required_field without email', async () => {
    const r = await api(sim, 'GET', '/sourcing/candidates/find_duplicates?email=ada@EXAMPLE.com');
    expect(r.status).toBe(200);
    expect(Array.isArray(r.json)).toBe(true);
    expect(r.json).toHaveLength(2);
    const none = await api(sim, 'GET', '/sourcing/candidates/find_duplicates?email=nobody@example.com');
    expect(none.status).toBe(400);
    expect(none.json).toEqual({ status: 400, error: 'no_duplicates', message: 'No duplicates found' });
    const missing = await api(sim, 'GET', '/sourcing/candidates/find_duplicates');
    expect(missing.json).toMatchObject({ status: 400, error: 'required_field' });
  });

  it('includes source_contact only with the source-contact permission', async () => {
    const kay = sim.candidates().find((c) => c.source === 'app')!;
    expect((await api(sim, 'GET', `/candidates/${kay.uid}`)).json.source_contact).toEqual({
      full_name: 'Rita Recruiter',
      email: 'rita@example.com',
    });
    sim.setPermissions(['candidates:read_other_sources', 'candidates:read_own_source']);
    try {
      expect((await api(sim, 'GET', `/candidates/${kay.uid}`)).json).not.toHaveProperty('source_contact');
    } finally {
      sim.setPermissions([
        'candidates:read_other_sources',
        'candidates:read_own_source',
        'candidates:source_contact_details',
        'candidates:create',
        'persons:erase',
      ]);
    }
  });

  it('without the source-contact permission leaves out email and phones, yet the email filters still match', async () => {
    sim.setPermissions(['candidates:read_other_sources', 'candidates:read_own_source', 'persons:erase']);
    try {
      const ada = sim.candidates().find((c) => c.email === 'ada@example.com')!;
      const one = (await api(sim, 'GET', `/candidates/${ada.uid}`)).json;
      expect(one).toMatchObject({ uid: ada.uid, person_uid: ada.person_uid, first_name: ada.first_name });
      for (const field of ['email', 'phone', 'mobile_phone', 'source_contact']) expect(one).not.toHaveProperty(field);
      const filtered = await api(sim, 'GET', '/candidates?email=ada@example.com');
      expect(filtered.json.candidates.map((c: { uid: string }) => c.uid)).toContain(ada.uid);
      expect(filtered.json.candidates.filter((c: object) => 'email' in c)).toEqual([]);
      const dup = await api(sim, 'GET', '/sourcing/candidates/find_duplicates?email=ada@example.com');
      expect(dup.json.map((c: { uid: string }) => c.uid)).toContain(ada.uid);
      expect(dup.json.filter((c: object) => 'email' in c)).toEqual([]);
    } finally {
      sim.setPermissions([
        'candidates:read_other_sources',
        'candidates:read_own_source',
        'candidates:source_contact_details',
        'candidates:create',
        'persons:erase',
      ]);
    }
  });

  it('matches emails with Unicode lower-casing, as a collation may: the Kelvin sign matches k', async () => {
    const s2 = await start({ seed: { candidates: [{ first_name: 'Kate', last_name: 'Alike', email: '\u212Aate@example.com' }] } });
    try {
      const r = await api(s2, 'GET', '/candidates?email=kate@example.com');
      expect(r.json.candidates.map((c: { email: string }) => c.email)).toEqual(['\u212Aate@example.com']);
    } finally {
      await s2.close();
    }
  });

  it('shows deleted candidates only with deleted=True, as {uid, deleted: true}', async () => {
    const filler = sim.candidates().find((c) => c.last_name === 'Number0')!;
    expect((await api(sim, 'DELETE', `/person/${filler.person_uid}`)).status).toBe(200);
    const live = await api(sim, 'GET', '/candidates?limit=100&page=1');
    const all: string[] = [];
    let next: string | undefined = '/candidates';
    while (next) {
      const r = await api(sim, 'GET', next);
      all.push(...r.json.candidates.map((c: { uid: string }) => c.uid));
      next = r.json.next_page;
    }
    expect(all).not.toContain(filler.uid);
    expect(live.status).toBe(200);
    const deleted = await api(sim, 'GET', '/candidates?deleted=True');
    expect(deleted.json.candidates).toEqual([{ uid: filler.uid, deleted: true }]);
    expect((await api(sim, 'GET', `/candidates/${filler.uid}`)).json).toEqual({ uid: filler.uid, deleted: true });
    expect((await api(sim, 'GET', '/candidates?deleted=maybe')).status).toBe(400);
  });
});

describe('simulator: lookup variants', () => {
  const people: SimCandidateSeed[] = [
    { first_name: 'Ada', last_name: 'One', email: 'ada@example.com' },
    { first_name: 'Adam', last_name: 'Two', email: 'adam@example.com' },
    { first_name: 'Bea', last_name: 'Three', email: 'bea@example.com' },
    { first_name: 'Cy', last_name: 'App', email: 'cy@example.com', source: 'app' },
  ];

  it("emailFilter 'contains' matches substrings", async () => {
    const sim = await start({ emailFilter: 'contains', seed: { candidates: people } });
    try {
      const r = await api(sim, 'GET', '/candidates?email=ada');
      expect(r.json.candidates.map((c: { email: string }) => c.email).sort()).toEqual(['ada@example.com', 'adam@example.com']);
    } finally {
      await sim.close();
    }
  });

  it("emailFilter 'ignored' returns everyone (a server that ignores an unknown filter)", async () => {
    const sim = await start({ emailFilter: 'ignored', seed: { candidates: people } });
    try {
      const r = await api(sim, 'GET', '/candidates?email=ada@example.com');
      expect(r.json.candidates).toHaveLength(4);
    } finally {
      await sim.close();
    }
  });

  it("listShape 'array' answers a bare array without paging", async () => {
    const sim = await start({ listShape: 'array', pageSize: 1, seed: { candidates: people } });
    try {
      const r = await api(sim, 'GET', '/candidates');
      expect(Array.isArray(r.json)).toBe(true);
      expect(r.json).toHaveLength(4);
    } finally {
      await sim.close();
    }
  });

  it('findDuplicates: false makes find_duplicates a 404 HTML page', async () => {
    const sim = await start({ findDuplicates: false, seed: { candidates: people } });
    try {
      const r = await api(sim, 'GET', '/sourcing/candidates/find_duplicates?email=ada@example.com');
      expect(r.status).toBe(404);
      expect(r.headers.get('content-type')).toContain('text/html');
    } finally {
      await sim.close();
    }
  });

  it('without read permissions, candidates of that source are silently left out', async () => {
    const sim = await start({ permissions: ['candidates:read_own_source', 'persons:erase'], seed: { candidates: people } });
    try {
      const list = await api(sim, 'GET', '/candidates');
      // No source-contact permission either, so no emails: the names say who is listed.
      expect(list.json.candidates.map((c: { first_name: string }) => c.first_name)).toEqual(['Cy']);
      const dup = await api(sim, 'GET', '/sourcing/candidates/find_duplicates?email=ada@example.com');
      expect(dup.json).toMatchObject({ status: 400, error: 'no_duplicates' });
      const ada = sim.candidates()[0]!;
      expect((await api(sim, 'GET', `/candidates/${ada.uid}`)).status).toBe(404);
      sim.setPermissions(['candidates:read_other_sources']);
      const other = await api(sim, 'GET', '/candidates');
      expect(other.json.candidates).toHaveLength(3);
    } finally {
      await sim.close();
    }
  });

  it("readWithoutPermission 'forbid' answers 403 no_permission instead", async () => {
    const sim = await start({ permissions: ['persons:erase'], readWithoutPermission: 'forbid', seed: { candidates: people } });
    try {
      const r = await api(sim, 'GET', '/candidates?email=ada@example.com');
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ status: 403, error: 'no_permission' });
      expect((await api(sim, 'GET', `/candidates/${sim.candidates()[0]!.uid}`)).status).toBe(403);
    } finally {
      await sim.close();
    }
  });
});
