import { describe, expect, it } from 'vitest';
import { api, mintToken, sleep, start } from './helpers.js';

describe('simulator: rate limit', () => {
  it('answers 429 too_many_requests with Retry-After past the limit, counting errors too, then recovers', async () => {
    const sim = await start({ rateLimit: { limit: 3, windowMs: 400 } });
    try {
      const token = await mintToken();
      expect((await api(sim, 'GET', '/candidates', { token })).status).toBe(200);
      expect((await api(sim, 'GET', '/candidates', { token: null })).status).toBe(401); // counts too
      expect((await api(sim, 'GET', '/v1/candidates', { token })).status).toBe(404); // and this
      const limited = await api(sim, 'GET', '/candidates', { token });
      expect(limited.status).toBe(429);
      expect(limited.json).toMatchObject({ status: 429, error: 'too_many_requests' });
      expect(limited.headers.get('retry-after')).toBe('1');
      await sleep(450);
      expect((await api(sim, 'GET', '/candidates', { token })).status).toBe(200);
      const s = sim.stats();
      expect(s.rateLimited).toBe(1);
      expect(s.total).toBe(5);
      expect(s.byStatus).toMatchObject({ '200': 2, '401': 1, '404': 1, '429': 1 });
    } finally {
      await sim.close();
    }
  });

  it('Retry-After counts whole seconds until the window frees, and can be turned off', async () => {
    const sim = await start({ rateLimit: { limit: 1, windowMs: 2500 } });
    try {
      await api(sim, 'GET', '/candidates');
      const r = await api(sim, 'GET', '/candidates');
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('3');
    } finally {
      await sim.close();
    }
    const quiet = await start({ rateLimit: { limit: 1, windowMs: 2500 }, retryAfter: false });
    try {
      await api(quiet, 'GET', '/candidates');
      const r = await api(quiet, 'GET', '/candidates');
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBeNull();
    } finally {
      await quiet.close();
    }
  });

  it('setRateLimit changes the limit at run time (and null turns it off)', async () => {
    const sim = await start();
    try {
      sim.setRateLimit({ limit: 1, windowMs: 60_000 });
      expect((await api(sim, 'GET', '/candidates')).status).toBe(200);
      expect((await api(sim, 'GET', '/candidates')).status).toBe(429);
      sim.setRateLimit(null);
      expect((await api(sim, 'GET', '/candidates')).status).toBe(200);
    } finally {
      await sim.close();
    }
  });

  it('has the documented default of 100 requests per 60 s', async () => {
    const sim = await start({ rateLimit: undefined });
    try {
      const token = await mintToken();
      const statuses: number[] = [];
      for (let i = 0; i < 101; i++) statuses.push((await api(sim, 'GET', '/candidates/1.X', { token })).status);
      expect(statuses.filter((s) => s === 404)).toHaveLength(100);
      expect(statuses[100]).toBe(429);
    } finally {
      await sim.close();
    }
  });
});

describe('simulator: fault injection', () => {
  it('rateLimitBurst forces the next N requests to 429', async () => {
    const sim = await start({ faults: { rateLimitBurst: 2 } });
    try {
      expect((await api(sim, 'GET', '/candidates')).status).toBe(429);
      expect((await api(sim, 'GET', '/candidates')).status).toBe(429);
      expect((await api(sim, 'GET', '/candidates')).status).toBe(200);
      sim.setFaults({ rateLimitBurst: 1 });
      const r = await api(sim, 'GET', '/candidates');
      expect(r.json).toMatchObject({ error: 'too_many_requests' });
      expect(r.headers.get('retry-after')).toBe('1');
      expect(sim.stats()).toMatchObject({ rateLimited: 3, faultsInjected: 3 });
    } finally {
      await sim.close();
    }
  });

  it('errorRate 1 answers every request with a 5xx (JSON or HTML), errorStatus picks the code', async () => {
    const sim = await start({ faults: { errorRate: 1 } });
    try {
      const a = await api(sim, 'GET', '/candidates');
      const b = await api(sim, 'DELETE', '/person/1.X');
      expect([a.status, b.status]).toEqual([503, 503]);
      const types = [a, b].map((r) => r.headers.get('content-type') ?? '');
      expect(types.some((t) => t.includes('application/json'))).toBe(true);
      expect(types.some((t) => t.includes('text/html'))).toBe(true);
      expect([a, b].find((r) => r.json)?.json).toMatchObject({ status: 503, error: 'service_unavailable' });
      sim.setFaults({ errorRate: 1, errorStatus: 502 });
      expect((await api(sim, 'GET', '/candidates')).status).toBe(502);
      sim.setFaults({});
      expect((await api(sim, 'GET', '/candidates')).status).toBe(200);
      expect(sim.stats().faultsInjected).toBe(3);
    } finally {
      await sim.close();
    }
  });

  it('errorRate 0.5 with a seeded PRNG fails some requests and passes others', async () => {
    const sim = await start({ faults: { errorRate: 0.5 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await api(sim, 'GET', '/candidates')).status);
      expect(statuses).toContain(200);
      expect(statuses).toContain(503);
    } finally {
      await sim.close();
    }
  });

  it('dropRate 1 destroys the socket with no response', async () => {
    const sim = await start({ faults: { dropRate: 1 } });
    try {
      await expect(api(sim, 'GET', '/candidates')).rejects.toThrow();
      const s = sim.stats();
      expect(s.byStatus.dropped).toBe(1);
      expect(s.total).toBe(1);
      expect(s.faultsInjected).toBe(1);
    } finally {
      await sim.close();
    }
  });

  it('latencyMs delays every answer', async () => {
    const sim = await start({ faults: { latencyMs: 150 } });
    try {
      const t0 = Date.now();
      expect((await api(sim, 'GET', '/candidates')).status).toBe(200);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    } finally {
      await sim.close();
    }
  });

  it('close() is prompt even with keep-alive sockets and requests still sleeping', async () => {
    const sim = await start({ faults: { latencyMs: 5_000 } });
    const pending = api(sim, 'GET', '/candidates').catch((e: unknown) => e);
    await sleep(50);
    const t0 = Date.now();
    await sim.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });
});
