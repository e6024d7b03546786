/**
 * The stats a benchmark reads: when the first and last API requests arrived, and the most requests
 * the rate limiter saw within one window (sliding, exact).
 */
import { describe, expect, it } from 'vitest';
import { SlidingWindowPeak } from '../../src/simulator/peak.js';
import { admin, api, mintToken, seededRandom, sleep, start } from './helpers.js';

/** The definition, by brute force: the most stamps in any (t - w, t]. */
function bruteForcePeak(stamps: number[], w: number): number {
  let best = 0;
  for (const t of stamps) best = Math.max(best, stamps.filter((s) => s > t - w && s <= t).length);
  return best;
}

describe('SlidingWindowPeak', () => {
  it('is exact: matches the brute-force count over every window, on random and bursty traffic', () => {
    const random = seededRandom(7);
    for (const w of [1, 10, 100, 1000]) {
      for (let run = 0; run < 20; run++) {
        const stamps: number[] = [];
        let t = 1_000_000;
        for (let i = 0; i < 300; i++) {
          // Bursts (same ms), near-window gaps and long pauses.
          const r = random();
          t += r < 0.3 ? 0 : r < 0.6 ? Math.floor(random() * 5) : r < 0.9 ? Math.floor(random() * w * 1.5) : w * 3;
          stamps.push(t);
        }
        const p = new SlidingWindowPeak(w);
        for (const s of stamps) p.add(s);
        expect(p.peak, `window ${w} run ${run}`).toBe(bruteForcePeak(stamps, w));
      }
    }
  });

  it('counts requests exactly one window apart in different windows, like the rate limiter', () => {
    const p = new SlidingWindowPeak(1000);
    expect([p.add(0), p.add(999), p.add(1000), p.add(1999), p.add(2000)]).toEqual([1, 2, 2, 2, 2]);
    expect(p.peak).toBe(2);
  });

  it('keeps only the stamps of the last window', () => {
    const p = new SlidingWindowPeak(100);
    for (let t = 0; t < 100_000; t += 10) p.add(t); // 10 per window, 10,000 in all
    expect(p.peak).toBe(10);
    expect(p.held).toBe(10);
    for (let i = 0; i < 5000; i++) p.add(200_000); // one burst
    expect(p.peak).toBe(5000);
    p.add(200_100);
    expect(p.held).toBe(1);
  });

  it('a clock stepping back does not lose or reorder stamps', () => {
    const p = new SlidingWindowPeak(100);
    p.add(1000);
    p.add(990); // counted at 1000
    p.add(1099);
    expect(p.peak).toBe(3);
    expect(p.add(1100)).toBe(2);
  });

  it('a new window length starts afresh and keeps the peak; the same length changes nothing; reset forgets all', () => {
    const p = new SlidingWindowPeak(100);
    [0, 1, 2].forEach((t) => p.add(t));
    p.setWindow(100);
    expect(p.add(3)).toBe(4);
    p.setWindow(1000);
    expect(p.window).toBe(1000);
    expect(p.add(4)).toBe(1);
    expect(p.peak).toBe(4);
    p.reset();
    expect([p.peak, p.held]).toEqual([0, 0]);
    expect(() => new SlidingWindowPeak(0)).toThrow();
  });
});

describe('simulator: benchmark stats', () => {
  it('firstRequestAt / lastRequestAt: ISO times of the first and last API request (admin calls not counted), null when none', async () => {
    const sim = await start();
    try {
      expect(sim.stats()).toMatchObject({ firstRequestAt: null, lastRequestAt: null, peakInWindow: 0 });
      const token = await mintToken();
      const t0 = Date.now();
      await api(sim, 'GET', '/candidates', { token });
      await sleep(30);
      await api(sim, 'GET', '/nowhere', { token });
      await api(sim, 'DELETE', '/person/1.NOPE', { token: null });
      const t1 = Date.now();
      await sleep(30);
      await admin(sim, 'GET', '/_simulator/candidates');
      const s = (await admin(sim, 'GET', '/_simulator/stats')).json;
      expect(s.firstRequestAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const first = Date.parse(s.firstRequestAt);
      const last = Date.parse(s.lastRequestAt);
      expect(first).toBeGreaterThanOrEqual(t0);
      expect(last - first).toBeGreaterThanOrEqual(25);
      expect(last).toBeLessThanOrEqual(t1);
      // The existing fields are unchanged.
      expect(s).toMatchObject({ total: 3, byStatus: { '200': 1, '401': 1, '404': 1 }, rateLimited: 0, faultsInjected: 0, erasures: [] });

      expect((await admin(sim, 'POST', '/_simulator/reset-stats')).status).toBe(200);
      expect((await admin(sim, 'GET', '/_simulator/stats')).json).toMatchObject({ firstRequestAt: null, lastRequestAt: null, peakInWindow: 0 });
      await api(sim, 'GET', '/candidates', { token });
      const after = sim.stats();
      expect(after.firstRequestAt).toBe(after.lastRequestAt);
      expect(Date.parse(after.firstRequestAt!)).toBeGreaterThan(t1);
    } finally {
      await sim.close();
    }
  });

  it('peakInWindow counts every request the rate limiter saw in one window, the 429s too', async () => {
    const sim = await start({ rateLimit: { limit: 3, windowMs: 1000 } });
    try {
      const token = await mintToken();
      const burst = await Promise.all(Array.from({ length: 5 }, () => api(sim, 'GET', '/candidates', { token })));
      expect(burst.map((r) => r.status).sort()).toEqual([200, 200, 200, 429, 429]);
      expect(sim.stats()).toMatchObject({ peakInWindow: 5, rateLimited: 2 });
      // A window later: 2 more are a window of 2, not of 7.
      await sleep(1100);
      expect((await api(sim, 'GET', '/candidates', { token })).status).toBe(200);
      expect((await api(sim, 'GET', '/candidates', { token })).status).toBe(200);
      expect(sim.stats().peakInWindow).toBe(5);
      sim.resetStats();
      expect(sim.stats().peakInWindow).toBe(0);
      await api(sim, 'GET', '/candidates', { token });
      expect(sim.stats().peakInWindow).toBe(1);
    } finally {
      await sim.close();
    }
  });

  it('peakInWindow slides: a window that spans two bursts counts both', async () => {
    const sim = await start({ rateLimit: { limit: 100, windowMs: 1000 } });
    try {
      const token = await mintToken();
      for (let i = 0; i < 3; i++) await api(sim, 'GET', '/candidates', { token });
      await sleep(300);
      for (let i = 0; i < 3; i++) await api(sim, 'GET', '/candidates', { token });
      // Fixed 1 s buckets could split the bursts; a sliding window ending at the last one holds all 6.
      expect(sim.stats().peakInWindow).toBe(6);
      await sleep(1100);
      for (let i = 0; i < 4; i++) await api(sim, 'GET', '/candidates', { token });
      expect(sim.stats().peakInWindow).toBe(6);
    } finally {
      await sim.close();
    }
  });

  it('without a rate limit peakInWindow counts over 60 s; drops and burst 429s never reach the limiter', async () => {
    const sim = await start({ rateLimit: null });
    try {
      const token = await mintToken();
      for (let i = 0; i < 4; i++) await api(sim, 'GET', '/candidates', { token });
      await sleep(100);
      await api(sim, 'GET', '/candidates/1.NOPE', { token });
      expect(sim.stats().peakInWindow).toBe(5);
      sim.setFaults({ rateLimitBurst: 2 });
      expect((await api(sim, 'GET', '/candidates', { token })).status).toBe(429);
      expect((await api(sim, 'GET', '/candidates', { token })).status).toBe(429);
      sim.setFaults({ dropRate: 1 });
      await expect(api(sim, 'GET', '/candidates', { token })).rejects.toThrow();
      sim.setFaults({});
      expect(sim.stats()).toMatchObject({ total: 8, peakInWindow: 5 });
      await api(sim, 'GET', '/candidates', { token });
      expect(sim.stats().peakInWindow).toBe(6);
    } finally {
      await sim.close();
    }
  });

  it('a new rate-limit window length starts counting afresh and keeps the peak so far', async () => {
    const sim = await start({ rateLimit: { limit: 100, windowMs: 60_000 } });
    try {
      const token = await mintToken();
      for (let i = 0; i < 3; i++) await api(sim, 'GET', '/candidates', { token });
      sim.setRateLimit({ limit: 50, windowMs: 60_000 }); // same window: still counting
      await api(sim, 'GET', '/candidates', { token });
      expect(sim.stats().peakInWindow).toBe(4);
      expect((await admin(sim, 'POST', '/_simulator/rate-limit', { rateLimit: { limit: 1, windowMs: 10_000 } })).status).toBe(200);
      const r = await Promise.all([1, 2].map(() => api(sim, 'GET', '/candidates', { token })));
      expect(r.map((x) => x.status).sort()).toEqual([200, 429]);
      expect(sim.stats().peakInWindow).toBe(4);
      for (let i = 0; i < 3; i++) await api(sim, 'GET', '/candidates', { token });
      expect(sim.stats().peakInWindow).toBe(5);
    } finally {
      await sim.close();
    }
  });
});
