import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/server.js';
import { api, start } from './helpers.js';

describe('simulator: person erasure', () => {
  let sim: Simulator;
  beforeEach(async () => {
    sim = await start({
      seed: {
        candidates: [
          { person_uid: '40.TWOA', first_name: 'Two', last_name: 'Apps', email: 'two.apps@example.com', status: 'Rejected' },
          {
            person_uid: '40.TWOA',
            first_name: 'Two',
            last_name: 'Apps',
            email: 'two.apps@example.com',
            current_steps: [{ name: 'Review', type: 'Go/No-go', time_scheduled: null }],
          },
          {
            person_uid: '40.BLKD',
            first_name: 'Blocked',
            last_name: 'Person',
            email: 'blocked@example.com',
            phone: '555',
            linkedin_url: 'https://www.linkedin.com/in/blocked',
            current_steps: [{ name: 'Phone Screen', type: 'Phone Interview', time_scheduled: '+1m', duration_minutes: 2 }],
          },
          {
            person_uid: '40.BLKD',
            first_name: 'Blocked',
            last_name: 'Person',
            email: 'blocked@example.com',
            future_steps: [{ name: 'Onsite', type: 'In person Interview', time_scheduled: '+2d' }],
          },
          {
            person_uid: '40.BLKD',
            first_name: 'Blocked',
            last_name: 'Person',
            email: 'blocked@example.com',
            status: 'Hired',
          },
        ],
      },
    });
  });
  afterEach(() => sim.close());

  it('deletes every candidate of a person, then a repeat is 404 not_found', async () => {
    const r = await api(sim, 'DELETE', '/person/40.TWOA');
    expect(r.status).toBe(200);
    expect(r.json.candidates_deleted).toBe(2);
    expect(r.json.deleted_candidates_uids).toHaveLength(2);
    for (const uid of r.json.deleted_candidates_uids as string[]) {
      expect(sim.candidate(uid)).toMatchObject({ deleted: true, email: null, first_name: '' });
    }
    const again = await api(sim, 'DELETE', '/person/40.TWOA');
    expect(again.status).toBe(404);
    expect(again.json).toMatchObject({ status: 404, error: 'not_found' });
    expect((await api(sim, 'POST', '/person/40.TWOA/pseudonymize')).status).toBe(404);
    const lookup = await api(sim, 'GET', '/candidates?email=two.apps@example.com');
    expect(lookup.json.candidates).toEqual([]);
    const s = sim.stats();
    expect(s.erasures).toEqual([{ personUid: '40.TWOA', mode: 'delete', candidateUids: r.json.deleted_candidates_uids, at: expect.any(String) }]);
  });

  it('answers 404 for an unknown person and for a candidate uid used as a person uid', async () => {
    expect((await api(sim, 'DELETE', '/person/99.NONE')).json).toMatchObject({ status: 404, error: 'not_found' });
    const candidateUid = sim.candidates()[0]!.uid;
    expect((await api(sim, 'DELETE', `/person/${candidateUid}`)).status).toBe(404);
  });

  it('pseudonymizes: 200 with the documented body, personal data cleared, repeat answers 200 again', async () => {
    const r = await api(sim, 'POST', '/person/40.TWOA/pseudonymize');
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual(['candidates_pseudonymized', 'pseudonymized_candidates_uids']);
    expect(r.json.candidates_pseudonymized).toBe(2);
    const uid = r.json.pseudonymized_candidates_uids[0] as string;
    const c = (await api(sim, 'GET', `/candidates/${uid}`)).json;
    expect(c).toMatchObject({ deleted: false, email: null, phone: null, linkedin_url: null });
    expect(`${c.first_name} ${c.last_name}`).not.toContain('Apps');
    expect(sim.candidate(uid)?.pseudonymized).toBe(true);
    const lookup = await api(sim, 'GET', '/sourcing/candidates/find_duplicates?email=two.apps@example.com');
    expect(lookup.json.error).toBe('no_duplicates');
    const again = await api(sim, 'POST', '/person/40.TWOA/pseudonymize');
    expect(again.status).toBe(200);
    expect(again.json.candidates_pseudonymized).toBe(2);
    expect(sim.stats().erasures.map((e) => e.mode)).toEqual(['pseudonymize', 'pseudonymize']);
  });

  it('pseudonymizeKeepsEmail keeps the email findable', async () => {
    const keep = await start({
      pseudonymizeKeepsEmail: true,
      seed: { candidates: [{ person_uid: '41.KEEP', first_name: 'Kept', last_name: 'Mail', email: 'kept@example.com' }] },
    });
    try {
      expect((await api(keep, 'POST', '/person/41.KEEP/pseudonymize')).status).toBe(200);
      const r = await api(keep, 'GET', '/sourcing/candidates/find_duplicates?email=kept@example.com');
      expect(r.json[0]).toMatchObject({ email: 'kept@example.com', phone: null });
      expect(r.json[0].first_name).not.toBe('Kept');
    } finally {
      await keep.close();
    }
  });

  it('blocks on pending interviews, naming the blocking candidates in an array', async () => {
    const blocked = sim.candidates().filter((c) => c.person_uid === '40.BLKD');
    for (const path of ['/person/40.BLKD', '/person/40.BLKD/pseudonymize']) {
      const r = await api(sim, path.endsWith('pseudonymize') ? 'POST' : 'DELETE', path);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({
        status: 400,
        error: 'person_has_pending_interviews',
        message: 'Person has scheduled or ongoing interviews',
        person_uid: '40.BLKD',
        candidate_uid: [blocked[0]!.uid, blocked[1]!.uid],
      });
    }
    expect(sim.candidate(blocked[0]!.uid)?.deleted).toBe(false);
    expect(sim.stats().erasures).toEqual([]);
  });

  it('clears the block when the simulator clock passes the interview end', async () => {
    const [phone, onsite] = sim.candidates().filter((c) => c.person_uid === '40.BLKD');
    sim.advanceClock(2 * 60_000); // the phone screen is ongoing
    let r = await api(sim, 'DELETE', '/person/40.BLKD');
    expect(r.json.candidate_uid).toEqual([phone!.uid, onsite!.uid]);
    sim.advanceClock(60_000 + 1000); // phone screen over (started +1m, 2 min long)
    const after = (await api(sim, 'GET', `/candidates/${phone!.uid}`)).json;
    expect(after.current_steps).toEqual([]);
    expect(after.completed_steps).toEqual([
      { name: 'Phone Screen', type: 'Phone Interview', time_scheduled: expect.any(String), time_completed: expect.any(String) },
    ]);
    expect(Date.parse(after.completed_steps[0].time_completed) - Date.parse(after.completed_steps[0].time_scheduled)).toBe(120_000);
    r = await api(sim, 'DELETE', '/person/40.BLKD');
    expect(r.json.candidate_uid).toEqual([onsite!.uid]);
    sim.advanceClock(2 * 86_400_000 + 3_600_000);
    r = await api(sim, 'DELETE', '/person/40.BLKD');
    expect(r.status).toBe(200);
    expect(r.json.candidates_deleted).toBe(3);
  });

  it('clears the block with completeInterviews (person or candidate uid)', async () => {
    const [phone, onsite] = sim.candidates().filter((c) => c.person_uid === '40.BLKD');
    sim.completeInterviews(phone!.uid);
    expect(sim.candidate(phone!.uid)?.has_pending_interview).toBe(false);
    expect((await api(sim, 'DELETE', '/person/40.BLKD')).json.candidate_uid).toEqual([onsite!.uid]);
    sim.completeInterviews('40.BLKD');
    expect((await api(sim, 'DELETE', '/person/40.BLKD')).status).toBe(200);
    expect(() => sim.completeInterviews('99.NOPE')).toThrow(/99\.NOPE/);
  });

  it('scheduleInterview blocks an erasable person and sets In progress', async () => {
    const rejected = sim.candidates().find((c) => c.person_uid === '40.TWOA' && c.status === 'Rejected')!;
    sim.scheduleInterview(rejected.uid, '+10m', 30);
    expect(sim.candidate(rejected.uid)).toMatchObject({ status: 'In progress', has_pending_interview: true });
    const r = await api(sim, 'DELETE', '/person/40.TWOA');
    expect(r.json).toMatchObject({ error: 'person_has_pending_interviews', candidate_uid: [rejected.uid] });
    sim.advanceClock(41 * 60_000);
    expect((await api(sim, 'DELETE', '/person/40.TWOA')).status).toBe(200);
  });

  it('needs the persons:erase permission: 403 no_permission', async () => {
    sim.setPermissions(['candidates:read_other_sources', 'candidates:read_own_source']);
    for (const [method, path] of [
      ['DELETE', '/person/40.TWOA'],
      ['POST', '/person/40.TWOA/pseudonymize'],
      ['DELETE', '/person/99.NONE'],
    ] as const) {
      const r = await api(sim, method, path);
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ status: 403, error: 'no_permission' });
    }
    expect(sim.candidates().every((c) => !c.deleted)).toBe(true);
  });
});
