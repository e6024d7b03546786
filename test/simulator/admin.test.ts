import { describe, expect, it } from 'vitest';
import { ConfigError, parseMainConfig, parseRateLimit } from '../../src/simulator/main.js';
import { demoSubjects, loadDemoSeed } from '../../src/simulator/index.js';
import { startSimulator, type SimulatorOptions } from '../../src/simulator/server.js';
import { API_KEY, SECRET, admin, api, start } from './helpers.js';

describe('simulator: admin routes', () => {
  it('reads and changes the simulator without a token, outside stats and rate limit', async () => {
    const sim = await start({ rateLimit: { limit: 1, windowMs: 60_000 } });
    try {
      const created = await admin(sim, 'POST', '/_simulator/candidates', {
        person_uid: '70.ADMN',
        first_name: 'Ad',
        last_name: 'Min',
        email: 'ad.min@example.com',
        current_steps: [{ name: 'Call', type: 'Phone Interview', time_scheduled: '+5m', duration_minutes: 10 }],
      });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ person_uid: '70.ADMN', has_pending_interview: true, deleted: false });
      const uid = created.json.uid as string;

      const list = await admin(sim, 'GET', '/_simulator/candidates');
      expect(list.json).toHaveLength(1);
      expect((await admin(sim, 'GET', `/_simulator/candidates/${uid}`)).json.uid).toBe(uid);
      expect((await admin(sim, 'GET', '/_simulator/candidates/1.NOPE')).status).toBe(404);

      expect((await api(sim, 'DELETE', '/person/70.ADMN')).json.error).toBe('person_has_pending_interviews');
      const done = await admin(sim, 'POST', `/_simulator/interviews/${uid}/complete`);
      expect(done.status).toBe(200);
      expect(done.json.candidates[0].has_pending_interview).toBe(false);
      expect((await admin(sim, 'POST', '/_simulator/interviews/1.NOPE/complete')).status).toBe(404);

      const sched = await admin(sim, 'POST', `/_simulator/interviews/${uid}/schedule`, { at: '+1m', durationMinutes: 5 });
      expect(sched.json.has_pending_interview).toBe(true);
      const clock = await admin(sim, 'POST', '/_simulator/clock/advance', { ms: 10 * 60_000 });
      expect(clock.json.offsetMs).toBe(600_000);
      expect(sim.candidate(uid)?.has_pending_interview).toBe(false);

      // The one API request above used the whole rate window; admin calls were not limited or counted.
      expect((await api(sim, 'GET', '/candidates')).status).toBe(429);
      const stats = await admin(sim, 'GET', '/_simulator/stats');
      expect(stats.json).toMatchObject({ total: 2, rateLimited: 1, byRoute: { 'DELETE /person/:uid': 1, 'GET /candidates': 1 } });
      expect((await admin(sim, 'POST', '/_simulator/reset-stats')).status).toBe(200);
      expect(sim.stats()).toEqual({
        total: 0,
        byRoute: {},
        byStatus: {},
        rateLimited: 0,
        faultsInjected: 0,
        erasures: [],
        firstRequestAt: null,
        lastRequestAt: null,
        peakInWindow: 0,
      });

      expect((await admin(sim, 'POST', '/_simulator/rate-limit', { rateLimit: null })).status).toBe(200);
      const perms = await admin(sim, 'POST', '/_simulator/permissions', { permissions: ['candidates:read_other_sources'] });
      expect(perms.json).toEqual({ permissions: ['candidates:read_other_sources'] });
      expect((await api(sim, 'DELETE', '/person/70.ADMN')).json.error).toBe('no_permission');

      const faults = await admin(sim, 'POST', '/_simulator/faults', { errorRate: 1, errorStatus: 504 });
      expect(faults.json).toEqual({ errorRate: 1, errorStatus: 504 });
      expect((await api(sim, 'GET', '/candidates')).status).toBe(504);
      await admin(sim, 'POST', '/_simulator/faults', {});
      expect((await api(sim, 'GET', '/candidates')).status).toBe(200);
    } finally {
      await sim.close();
    }
  });

  it('validates admin bodies with clear 400 messages', async () => {
    const sim = await start();
    try {
      const badFaults = await admin(sim, 'POST', '/_simulator/faults', { errorRate: 2 });
      expect(badFaults.status).toBe(400);
      expect(badFaults.json).toMatchObject({ status: 400, error: 'invalid_body' });
      expect(badFaults.json.message).toContain('errorRate');
      const badPerm = await admin(sim, 'POST', '/_simulator/permissions', { permissions: ['candidates:everything'] });
      expect(badPerm.json.message).toContain('permissions[0]');
      const badSeed = await admin(sim, 'POST', '/_simulator/candidates', { first_name: 'No', email: 3 });
      expect(badSeed.status).toBe(400);
      expect(badSeed.json.message).toContain('last_name');
      expect(badSeed.json.message).toContain('email');
      const badTime = await admin(sim, 'POST', '/_simulator/candidates', { first_name: 'A', last_name: 'B', time_created: 'soon' });
      expect(badTime.json.message).toContain('time_created');
      expect((await admin(sim, 'POST', '/_simulator/clock/advance', { ms: -5 })).status).toBe(400);
      expect((await admin(sim, 'POST', '/_simulator/clock/advance', 'nope')).json.error).toBe('invalid_json');
      expect((await admin(sim, 'GET', '/_simulator/unknown')).status).toBe(404);
    } finally {
      await sim.close();
    }
  });
});

describe('simulator: options, seeds and logging', () => {
  const base: SimulatorOptions = { apiKey: API_KEY, secret: SECRET };

  it('throws clear errors naming the bad option or seed field', async () => {
    await expect(startSimulator({ ...base, pageSize: 0 })).rejects.toThrow(/Invalid simulator options: pageSize/);
    await expect(startSimulator({ ...base, apiKey: '' })).rejects.toThrow(/apiKey/);
    await expect(startSimulator({ ...base, seed: { candidates: [{ first_name: 'A', last_name: 'B' }, { first_name: 'C' } as never] } })).rejects.toThrow(
      /seed\.candidates\[1\]\.last_name/,
    );
    await expect(
      startSimulator({ ...base, seed: { candidates: [{ first_name: 'A', last_name: 'B', status: 'Rejected', current_steps: [{ name: 'x', type: 'y' }] }] } }),
    ).rejects.toThrow(/seed\.candidates\[0\]\.current_steps/);
    await expect(
      startSimulator({
        ...base,
        seed: {
          candidates: [
            { uid: '1.A', first_name: 'A', last_name: 'B' },
            { uid: '1.A', first_name: 'C', last_name: 'D' },
          ],
        },
      }),
    ).rejects.toThrow(/seed\.candidates\[1\]\.uid/);
    await expect(startSimulator({ ...base, permissions: ['nope' as never] })).rejects.toThrow(/permissions\[0\]/);
  });

  it('resolves relative seed times against the simulator clock', async () => {
    const sim = await start({
      seed: {
        candidates: [
          { first_name: 'T', last_name: 'Ime', time_created: '-3d', current_steps: [{ name: 'c', type: 'Phone Interview', time_scheduled: '+90s' }] },
        ],
      },
    });
    try {
      const c = sim.candidates()[0]!;
      expect(Math.abs(Date.parse(c.time_created) - (sim.now() - 3 * 86_400_000))).toBeLessThan(2000);
      expect(Math.abs(Date.parse(c.current_steps[0]!.time_scheduled!) - (sim.now() + 90_000))).toBeLessThan(2000);
      expect(c.current_steps[0]!.duration_minutes).toBe(60);
    } finally {
      await sim.close();
    }
  });

  it('logs method, route pattern, status and ms, never an email, name or token', async () => {
    const lines: string[] = [];
    const sim = await start({
      log: (l) => lines.push(l),
      seed: { candidates: [{ person_uid: '80.LOGG', first_name: 'Logan', last_name: 'Secret', email: 'logan.secret@example.com' }] },
    });
    try {
      await api(sim, 'GET', '/candidates?email=logan.secret@example.com');
      await api(sim, 'GET', '/sourcing/candidates/find_duplicates?email=logan.secret@example.com');
      await api(sim, 'GET', '/v1/logan.secret@example.com');
      await api(sim, 'POST', '/candidates', { body: { position_uid: '11.11', first_name: 'Logan', last_name: 'Secret', email: 'x@example.com' } });
      await api(sim, 'DELETE', '/person/80.LOGG');
      await api(sim, 'GET', '/candidates', { token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl' });
    } finally {
      await sim.close();
    }
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^GET \/candidates 200 \d+ms$/);
    expect(lines).toContain(lines.find((l) => l.startsWith('DELETE /person/:uid 200')));
    for (const line of lines) {
      expect(line).not.toMatch(/@|logan|secret|eyJ|80\.LOGG/i);
    }
  });

  it('the demo seed loads and holds the documented subjects', async () => {
    const sim = await start({ seed: loadDemoSeed() });
    try {
      const all = sim.candidates();
      const by = (email: string) => all.filter((c) => c.email?.trim().toLowerCase() === email);
      expect(new Set(by('ada.lovelace@example.com').map((c) => c.person_uid)).size).toBe(1);
      expect(by('ada.lovelace@example.com')).toHaveLength(2);
      expect(by('ada.lovelace@example.com').some((c) => c.has_pending_interview)).toBe(false);
      expect(by('grace.hopper@example.com')[0]!.has_pending_interview).toBe(true);
      expect(new Set(by('shared.inbox@example.com').map((c) => c.person_uid)).size).toBe(2);
      expect(by('katherine.johnson@example.com')[0]!.source).toBe('app');
      expect(all.length).toBeGreaterThanOrEqual(15);
      expect(all.every((c) => c.email === null || c.email.trim().toLowerCase().endsWith('@example.com'))).toBe(true);
      expect((await api(sim, 'DELETE', `/person/${by('ada.lovelace@example.com')[0]!.person_uid}`)).status).toBe(200);
      const grace = by('grace.hopper@example.com')[0]!;
      expect((await api(sim, 'DELETE', `/person/${grace.person_uid}`)).status).toBe(400);
      sim.advanceClock(3 * 60_000 + 1000);
      expect((await api(sim, 'DELETE', `/person/${grace.person_uid}`)).status).toBe(200);
      expect(demoSubjects().map((s) => s.email)).toContain('shared.inbox@example.com');
    } finally {
      await sim.close();
    }
  });
});

describe('simulator: main.ts configuration', () => {
  it('uses defaults and the demo data', () => {
    const c = parseMainConfig([], {});
    expect(c.options).toMatchObject({ port: 4010, host: '127.0.0.1', apiKey: 'demo-api-key', secret: 'demo-secret-please-change' });
    expect(c.options.seed?.candidates.length).toBeGreaterThan(10);
    expect(c.usingDemoCredentials).toBe(true);
  });

  it('reads flags and environment', () => {
    const c = parseMainConfig(['--port', '5001', '--host', '0.0.0.0'], {
      COMEET_API_KEY: 'k',
      COMEET_SECRET: 's',
      SIMULATOR_RATE_LIMIT: '5/500ms',
      SIMULATOR_ERROR_RATE: '0.25',
      SIMULATOR_LATENCY_MS: '20',
      SIMULATOR_DROP_RATE: '0',
      SIMULATOR_EMAIL_FILTER: 'ignored',
    });
    expect(c.options).toMatchObject({
      port: 5001,
      host: '0.0.0.0',
      apiKey: 'k',
      secret: 's',
      rateLimit: { limit: 5, windowMs: 500 },
      faults: { errorRate: 0.25, latencyMs: 20, dropRate: 0 },
      emailFilter: 'ignored',
    });
    expect(c.usingDemoCredentials).toBe(false);
    expect(parseMainConfig([], { SIMULATOR_PORT: '4999', SIMULATOR_RATE_LIMIT: 'off' }).options).toMatchObject({ port: 4999, rateLimit: null });
    expect(parseRateLimit('100/60s')).toEqual({ limit: 100, windowMs: 60_000 });
    expect(parseRateLimit('100/1m')).toEqual({ limit: 100, windowMs: 60_000 });
  });

  it('names the bad flag or variable in one line', () => {
    const bad = (argv: string[], env: Record<string, string>, re: RegExp) => {
      expect(() => parseMainConfig(argv, env)).toThrow(ConfigError);
      expect(() => parseMainConfig(argv, env)).toThrow(re);
    };
    bad(['--port', 'abc'], {}, /--port/);
    bad([], { SIMULATOR_PORT: '70000' }, /SIMULATOR_PORT/);
    bad([], { SIMULATOR_RATE_LIMIT: 'lots' }, /SIMULATOR_RATE_LIMIT/);
    bad([], { SIMULATOR_ERROR_RATE: '1.5' }, /SIMULATOR_ERROR_RATE/);
    bad([], { SIMULATOR_LATENCY_MS: '-1' }, /SIMULATOR_LATENCY_MS/);
    bad([], { SIMULATOR_DROP_RATE: 'x' }, /SIMULATOR_DROP_RATE/);
    bad(['--seed', '/nonexistent/seed.json'], {}, /--seed/);
    bad(['--bogus'], {}, /bogus/);
  });
});
