import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/server.js';
import { api, start } from './helpers.js';

describe('simulator: POST /candidates', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await start({
      seed: {
        positions: ['21.BKE'],
        candidates: [{ person_uid: '60.EXST', position_uid: '21.PMG', first_name: 'Ex', last_name: 'Isting', email: 'existing@example.com' }],
      },
    });
  });
  afterAll(() => sim.close());

  const valid = { position_uid: '11.11', first_name: 'Bobby', last_name: 'Chauck', email: 'bobby@example.com' };

  it('creates a candidate (source app) and returns the candidate object', async () => {
    const r = await api(sim, 'POST', '/candidates', {
      body: {
        ...valid,
        partner_candidate_id: '1111A',
        middle_name: 'Robert',
        phone: '07-4442321',
        national_id: '5454-2233-1',
        source_contact: { full_name: 'Michael Rosen', email: 'michael@example.com', phone: '555 555 1234' },
        custom_fields: { field1: 'value1' },
      },
    });
    expect([200, 201]).toContain(r.status);
    expect(r.json).toMatchObject({
      position_uid: '11.11',
      first_name: 'Bobby',
      last_name: 'Chauck',
      status: 'In progress',
      deleted: false,
      source_contact: { full_name: 'Michael Rosen', email: 'michael@example.com', phone: '555 555 1234' },
    });
    expect(r.json.uid).toMatch(/^\d+\.[A-Z0-9]+$/);
    const stored = sim.candidate(r.json.uid)!;
    expect(stored).toMatchObject({ source: 'app', partner_candidate_id: '1111A', person_uid: r.json.person_uid });
    expect(stored.person_uid).not.toBe('60.EXST');
    const fetched = await api(sim, 'GET', `/candidates/${r.json.uid}`);
    expect(fetched.json.email).toBe('bobby@example.com');
  });

  it('joins the person of an existing candidate with the same email (trimmed, case-insensitive)', async () => {
    const r = await api(sim, 'POST', '/candidates', {
      body: { ...valid, position_uid: '21.BKE', email: ' Existing@Example.com ' },
    });
    expect(r.status).toBe(201);
    expect(r.json.person_uid).toBe('60.EXST');
  });

  it('validates required fields (required_field naming the field)', async () => {
    for (const field of ['position_uid', 'first_name', 'last_name'] as const) {
      const body: Record<string, unknown> = { ...valid };
      delete body[field];
      const r = await api(sim, 'POST', '/candidates', { body });
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ status: 400, error: 'required_field' });
      expect(r.json.message).toContain(field);
    }
    const contact = await api(sim, 'POST', '/candidates', { body: { ...valid, source_contact: { full_name: 'No Mail' } } });
    expect(contact.json).toMatchObject({ error: 'required_field' });
    expect(contact.json.message).toContain('source_contact.email');
  });

  it('rejects a bad email (invalid_email), bad JSON, and an unknown position (position_not_found)', async () => {
    const r = await api(sim, 'POST', '/candidates', { body: { ...valid, email: 'not-an-email' } });
    expect(r.json).toMatchObject({ status: 400, error: 'invalid_email' });
    expect(r.text).not.toContain('not-an-email');
    expect((await api(sim, 'POST', '/candidates', { body: '{"oops' })).status).toBe(400);
    const pos = await api(sim, 'POST', '/candidates', { body: { ...valid, position_uid: '99.99' } });
    expect(pos.status).toBe(404);
    expect(pos.json).toMatchObject({ status: 404, error: 'position_not_found' });
  });

  it('answers 409 candidate_post_conflict for the same partner_candidate_id In progress on the position', async () => {
    const first = await api(sim, 'POST', '/candidates', { body: { ...valid, partner_candidate_id: 'P-77' } });
    expect(first.status).toBe(201);
    const again = await api(sim, 'POST', '/candidates', { body: { ...valid, partner_candidate_id: 'P-77' } });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({
      status: 409,
      error: 'candidate_post_conflict',
      message: 'Candidate with provided partner_candidate_id already exists in position with status in progress',
      candidate_uid: first.json.uid,
    });
    const otherPosition = await api(sim, 'POST', '/candidates', { body: { ...valid, position_uid: '21.BKE', partner_candidate_id: 'P-77' } });
    expect(otherPosition.status).toBe(201);
  });

  it('needs candidates:create (403 no_permission)', async () => {
    sim.setPermissions(['candidates:read_other_sources', 'persons:erase']);
    try {
      const r = await api(sim, 'POST', '/candidates', { body: valid });
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ status: 403, error: 'no_permission' });
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
});
