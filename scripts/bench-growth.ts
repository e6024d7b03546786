/**
 * The bench's growth phase: requests blocked by interviews, at several sizes (1,000 / 3,000 / 10,000 by
 * default), each on a fresh worker process as the image runs it (`node dist/worker.js`, the image's
 * MALLOC_ARENA_MAX, the production sticky cache): a line per size with the worker's memory, history events
 * per waiting request and the times until all wait and until all completed, and the MiB per 1,000
 * requests between lines, so a reader sees the slope rather than one point. Every request must resume
 * and complete.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { mapPool } from '../src/pool.js';
import { startSimulator } from '../src/simulator/server.js';
import { COMEET_LIMIT_PER_MINUTE, DEFAULT_COMEET_RATE_PER_MINUTE } from '../src/task-queues.js';
import { API_KEY, line, mib, SECRET, sec, seedFor, type Shared, startWorker, subjects, TUNING } from './bench-common.js';
import { imageEnv } from './processes.js';
import { resumeAll, startWaiting } from './waiting-load.js';

export interface GrowthLine {
  requests: number;
  idleRssBytes: number;
  waitingRssBytes: number;
  peakRssBytes: number;
  historyEventsPerWaitingRequest: number;
  allWaitingAfterMs: number;
  resumedAndCompletedMs: number;
  completed: number;
  comeetCallsPerRequest: number;
  rateLimited: number;
  /** (waiting RSS − the previous line's) per 1,000 more requests; the first line against its idle worker. */
  mibPer1000: number;
}

const MiB = 1024 * 1024;

async function measureSize(shared: Shared, client: Client, n: number, limitPerMinute: number): Promise<Omit<GrowthLine, 'mibPer1000'>> {
  const cap = Math.floor((limitPerMinute * DEFAULT_COMEET_RATE_PER_MINUTE) / COMEET_LIMIT_PER_MINUTE);
  const people = subjects(`growth-${n}`, n);
  const sim = await startSimulator({ apiKey: API_KEY, secret: SECRET, rateLimit: { limit: limitPerMinute, windowMs: 60_000 }, seed: seedFor(people, '+30d') });
  const taskQueue = `bench-growth-${n}-${Date.now()}`;
  const idKey = randomBytes(32).toString('hex');
  // No DSAR_MAX_CACHED_WORKFLOWS: the production default.
  const worker = await startWorker(shared, taskQueue, sim.url, { limit: limitPerMinute, cap }, imageEnv(), true);
  try {
    const w = await startWaiting({ client, worker, sim, people, taskQueue, idKey, tuning: TUNING });
    const sample = await mapPool(w.runs.slice(0, 20), 10, async (r) => (await r.handle.fetchHistory()).events?.length ?? 0);
    const resumed = await resumeAll({ client, worker, sim, people, runs: w.runs });
    const stats = sim.stats();
    return {
      requests: n,
      idleRssBytes: w.idle.rss,
      waitingRssBytes: w.waiting.rss,
      peakRssBytes: Math.max(w.peakRss, resumed.peakRss),
      historyEventsPerWaitingRequest: sample.reduce((a, b) => a + b, 0) / sample.length,
      allWaitingAfterMs: w.allWaitingMs,
      resumedAndCompletedMs: resumed.resumeMs,
      completed: resumed.completed,
      comeetCallsPerRequest: stats.total / n,
      rateLimited: stats.rateLimited,
    };
  } finally {
    await worker.stop();
    await sim.close();
  }
}

/** Sizes in the order given; returns a line per size. The Comeet limit is scaled far up: this phase is about memory and resumption, not the budget. */
export async function runGrowth(shared: Shared, client: Client, sizes: number[], waitingScale: number): Promise<GrowthLine[]> {
  const limit = COMEET_LIMIT_PER_MINUTE * waitingScale;
  const env = Object.entries(imageEnv())
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(
    `\n4. Growth: ${sizes.join(' / ')} requests blocked by interviews at once, each size a fresh worker (node dist/worker.js${env ? `, ${env}` : ''}, ` +
      `default sticky cache); limit scaled ×${waitingScale} for this phase`,
  );
  const head = ['requests', 'RSS idle', 'all waiting', 'peak', 'events/req', 'all waiting after', 'resumed+completed', 'MiB/1,000 req'];
  const widths = [9, 9, 12, 9, 11, 18, 18, 14];
  const row = (cells: string[]) => console.log('  ' + cells.map((c, i) => c.padStart(widths[i]!)).join(' '));
  row(head);
  const lines: GrowthLine[] = [];
  for (const n of sizes) {
    const m = await measureSize(shared, client, n, limit);
    const prev = lines[lines.length - 1];
    const mibPer1000 = prev
      ? ((m.waitingRssBytes - prev.waitingRssBytes) / MiB / (n - prev.requests)) * 1000
      : ((m.waitingRssBytes - m.idleRssBytes) / MiB / n) * 1000;
    const l = { ...m, mibPer1000 };
    lines.push(l);
    row([
      n.toLocaleString('en-US'),
      mib(l.idleRssBytes),
      mib(l.waitingRssBytes),
      mib(l.peakRssBytes),
      l.historyEventsPerWaitingRequest.toFixed(1),
      sec(l.allWaitingAfterMs),
      sec(l.resumedAndCompletedMs),
      `${l.mibPer1000.toFixed(1)}${prev ? '' : ' (vs idle)'}`,
    ]);
    if (l.completed !== n) throw new Error(`growth: only ${l.completed} of ${n} waiting requests resumed and completed`);
  }
  line(
    'resumed (recheckNow to all) and completed',
    lines.map((l) => `${l.completed.toLocaleString('en-US')} / ${l.requests.toLocaleString('en-US')}`).join(', ') + ' (all)',
  );
  line('Comeet calls per request / 429s', lines.map((l) => `${l.comeetCallsPerRequest.toFixed(2)} / ${l.rateLimited}`).join(', '));
  line('', '(RSS: the worker process and any below it; peak: its high-water mark (VmHWM) and the highest sample, start to last completion;');
  line('', ' MiB/1,000 req: all-waiting RSS over the previous line, per 1,000 more requests; the first line over its idle worker)');
  return lines;
}
