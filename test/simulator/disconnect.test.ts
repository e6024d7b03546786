/**
 * A caller that disconnects: like a real server, the simulator carries out a request it received in
 * full even when the caller's socket is gone before the answer (the answer is thrown away), and does
 * nothing for a request whose body never arrived whole. Raw sockets, so the test decides exactly
 * what reached the server and when the connection goes.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/server.js';
import { admin, api, mintToken, sleep, start } from './helpers.js';

const LATENCY_MS = 1000;

/** Opens a connection and writes one request: head, then `body` (Content-Length may claim more). */
async function sendRaw(sim: Simulator, method: string, path: string, opts: { body?: string; contentLength?: number } = {}): Promise<Socket> {
  const u = new URL(sim.url);
  const socket = connect(Number(u.port), u.hostname);
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  await once(socket, 'connect');
  const body = opts.body ?? '';
  const head = [
    `${method} ${path} HTTP/1.1`,
    `Host: ${u.host}`,
    `Authorization: Bearer ${await mintToken()}`,
    'Content-Type: application/json',
    `Content-Length: ${opts.contentLength ?? Buffer.byteLength(body)}`,
    '',
    '',
  ].join('\r\n');
  socket.write(head + body);
  return socket;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const person = (n: number) => ({
  person_uid: `P-${n}`,
  first_name: 'Gone',
  last_name: `Caller${n}`,
  email: `gone${n}@example.com`,
  status: 'Rejected' as const,
});

describe('simulator: a caller that disconnects', () => {
  it('carries out a complete erase whose caller hung up during the injected latency (the answer is thrown away)', async () => {
    const lines: string[] = [];
    const sim = await start({ faults: { latencyMs: LATENCY_MS }, log: (l) => lines.push(l) });
    try {
      const del = sim.addCandidate(person(1));
      const pseudo = sim.addCandidate(person(2));
      const t0 = Date.now();
      // A DELETE closed with a FIN, a POST with a body closed with a RST: both complete on the wire.
      const a = await sendRaw(sim, 'DELETE', '/person/P-1');
      const b = await sendRaw(sim, 'POST', '/person/P-2/pseudonymize', { body: '{}' });
      await until('both requests to arrive', () => sim.stats().total === 2);
      await sleep(50);
      a.destroy();
      b.resetAndDestroy();
      await Promise.all([once(a, 'close'), once(b, 'close')]);
      // Still in the latency: nothing done yet.
      expect((await admin(sim, 'GET', `/_simulator/candidates/${del.uid}`)).json.deleted).toBe(false);
      expect(Date.now() - t0).toBeLessThan(LATENCY_MS);

      // Once the latency has run, both were carried out, as the admin API shows.
      await until('the erase to be applied', async () => (await admin(sim, 'GET', `/_simulator/candidates/${del.uid}`)).json.deleted === true);
      await until('the pseudonymize to be applied', async () => (await admin(sim, 'GET', `/_simulator/candidates/${pseudo.uid}`)).json.pseudonymized === true);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(LATENCY_MS - 20);
      const stats = (await admin(sim, 'GET', '/_simulator/stats')).json;
      expect(stats.erasures.map((e: { personUid: string; mode: string }) => `${e.mode} ${e.personUid}`).sort()).toEqual(['delete P-1', 'pseudonymize P-2']);
      // The answers were produced (and counted, and logged) although nobody was there to read them.
      expect(stats.byStatus).toEqual({ '200': 2 });
      expect(
        lines
          .filter((l) => / 200 \d+ms$/.test(l))
          .map((l) => l.replace(/ \d+ms$/, ''))
          .sort(),
      ).toEqual(['DELETE /person/:uid 200', 'POST /person/:uid/pseudonymize 200']);

      // The caller's retry learns the person is gone; the simulator is unharmed.
      expect((await api(sim, 'DELETE', '/person/P-1')).json).toMatchObject({ status: 404, error: 'not_found' });
    } finally {
      await sim.close();
    }
  });

  it('does nothing for a request whose caller left before sending the whole body, and says so at once', async () => {
    const sim = await start({ faults: { latencyMs: LATENCY_MS } });
    try {
      const c = sim.addCandidate(person(3));
      const t0 = Date.now();
      // Content-Length 2 with 1 byte sent: the request never arrives whole.
      const s = await sendRaw(sim, 'POST', '/person/P-3/pseudonymize', { body: '{', contentLength: 2 });
      await until('the request to arrive', () => sim.stats().total === 1);
      s.destroy();
      await until('the abort to be counted', () => sim.stats().byStatus.aborted === 1);
      expect(Date.now() - t0).toBeLessThan(LATENCY_MS);
      await sleep(LATENCY_MS + 100);
      expect(sim.candidate(c.uid)).toMatchObject({ pseudonymized: false, deleted: false, email: 'gone3@example.com' });
      expect(sim.stats()).toMatchObject({ total: 1, byStatus: { aborted: 1 }, erasures: [] });
    } finally {
      await sim.close();
    }
  });

  it('survives many callers hanging up at every moment, and still answers the ones that stay', async () => {
    const sim = await start({ faults: { latencyMs: 100 } });
    try {
      for (let i = 10; i < 30; i++) sim.addCandidate(person(i));
      const sockets: Socket[] = [];
      for (let i = 10; i < 30; i++) sockets.push(await sendRaw(sim, i % 2 ? 'GET' : 'DELETE', i % 2 ? '/candidates' : `/person/P-${i}`));
      await until('every request to arrive', () => sim.stats().total === 20);
      // Hang up at once, during the latency, around the answer, after it; with a FIN or a RST.
      sockets.forEach((s, i) => setTimeout(() => (i % 3 ? s.destroy() : s.resetAndDestroy()), (i % 5) * 40));
      await Promise.all(sockets.map((s) => (s.closed ? Promise.resolve() : once(s, 'close'))));
      await until('every request to finish', () => {
        const st = sim.stats();
        return Object.values(st.byStatus).reduce((n, v) => n + v, 0) === 20;
      });
      const st = sim.stats();
      // Every complete erase was applied, answered or not.
      expect(st.erasures.map((e) => e.personUid).sort()).toEqual(Array.from({ length: 10 }, (_, k) => `P-${10 + 2 * k}`).sort());
      expect(st.byStatus).toEqual({ '200': 20 });
      expect((await api(sim, 'GET', '/candidates')).status).toBe(200);
    } finally {
      const t0 = Date.now();
      await sim.close();
      expect(Date.now() - t0).toBeLessThan(1000);
    }
  });
});
