import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/server.js';
import { api, mintToken, start, unsecuredToken } from './helpers.js';

describe('simulator: JWT authentication', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await start({ seed: { candidates: [{ first_name: 'Test', last_name: 'Person', email: 'test.person@example.com' }] } });
  });
  afterAll(() => sim.close());

  const expect401 = (r: { status: number; json: any; headers: Headers }, code: string) => {
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.json).toMatchObject({ status: 401, error: code });
    expect(typeof r.json.message).toBe('string');
  };

  it('accepts a Comeet-style token (HS256, iss = api key, exp = now + 600)', async () => {
    const r = await api(sim, 'GET', '/candidates');
    expect(r.status).toBe(200);
  });

  it('answers missing_token without an Authorization header', async () => {
    expect401(await api(sim, 'GET', '/candidates', { token: null }), 'missing_token');
  });

  it('refuses a non-Bearer scheme', async () => {
    const token = await mintToken();
    const r = await fetch(`${sim.url}/candidates`, { headers: { authorization: `Basic ${token}` } });
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('refuses a bad signature', async () => {
    expect401(await api(sim, 'GET', '/candidates', { token: await mintToken({ secret: 'another-secret' }) }), 'invalid_token');
  });

  it('refuses a wrong issuer', async () => {
    expect401(await api(sim, 'GET', '/candidates', { token: await mintToken({ iss: 'other-key' }) }), 'invalid_token');
  });

  it('refuses an expired token', async () => {
    const r = await api(sim, 'GET', '/candidates', { token: await mintToken({ expInS: -5 }) });
    expect401(r, 'invalid_token');
    expect(r.json.message).toMatch(/expired/i);
  });

  it('refuses a token without exp, and one that lives too long', async () => {
    expect401(await api(sim, 'GET', '/candidates', { token: await mintToken({ expInS: null }) }), 'invalid_token');
    expect401(await api(sim, 'GET', '/candidates', { token: await mintToken({ expInS: 3600 }) }), 'invalid_token');
  });

  it('refuses alg none and other algorithms', async () => {
    expect401(await api(sim, 'GET', '/candidates', { token: unsecuredToken() }), 'invalid_token');
    expect401(await api(sim, 'GET', '/candidates', { token: await mintToken({ alg: 'HS512' }) }), 'invalid_token');
    expect401(await api(sim, 'GET', '/candidates', { token: 'not.a.jwt' }), 'invalid_token');
  });

  it('guards every API route, and the error message never echoes the token', async () => {
    const token = await mintToken({ secret: 'wrong' });
    for (const [method, path] of [
      ['GET', '/candidates/10.AAA'],
      ['GET', '/sourcing/candidates/find_duplicates?email=a@example.com'],
      ['DELETE', '/person/10.AAAA'],
      ['POST', '/person/10.AAAA/pseudonymize'],
      ['POST', '/candidates'],
    ] as const) {
      const r = await api(sim, method, path, { token });
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.text).not.toContain(token);
    }
  });

  it('answers unknown routes (like /v1/...) with a 404 HTML page', async () => {
    for (const path of ['/v1/candidates', '/persons/10.AAAA', '/nothing']) {
      const r = await api(sim, 'GET', path);
      expect(r.status).toBe(404);
      expect(r.headers.get('content-type')).toContain('text/html');
      expect(r.text).toMatch(/<title>404 Not Found<\/title>/);
    }
  });
});
