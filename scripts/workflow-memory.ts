/**
 * What a waiting erasure costs a worker: worker RSS once N erasures all wait on interviews, and the
 * worker's CPU time per workflow start, for each sticky cache size and each workflow bundle given.
 * Every configuration gets a fresh worker process (src/worker.ts, as in production) against one dev
 * server and the Comeet simulator; configurations are interleaved round by round, so the noise of a
 * shared machine falls on all of them alike, and the medians over rounds are printed.
 *
 *   npx tsx scripts/workflow-memory.ts --workflows 1000
 *   npx tsx scripts/workflow-memory.ts --workflows 1000 --cache 250,50,25 --rounds 3
 *   npx tsx scripts/workflow-memory.ts --bundle before=/tmp/old-bundle.js   # also this tree's bundle ("after")
 *   npm run build && npx tsx scripts/workflow-memory.ts --cache 50 \
 *     --variant tsx --variant dist --variant 'arena2=dist;MALLOC_ARENA_MAX=2'   # how the worker is run
 *
 * A variant is `name=runner;KEY=VALUE;…`: the runner is `tsx` (src/worker.ts through tsx, as `npm run
 * worker`) or `dist` (node dist/worker.js, as the image runs it); the pairs are extra environment.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { buildWorkflowBundle } from '../src/build-workflow-bundle.js';
import { parseEncryptionKeys } from '../src/codec/aes-gcm.js';
import { createDataConverter } from '../src/codec/data-converter.js';
import { generateReceiptKeys } from '../src/receipt/index.js';
import { SEARCH_ATTRIBUTES } from '../src/search-attributes.js';
import { startSimulator } from '../src/simulator/server.js';
import { COMEET_LIMIT_PER_MINUTE, DEFAULT_COMEET_RATE_PER_MINUTE } from '../src/task-queues.js';
import { DEV_SERVER_DYNAMIC_CONFIG, PROJECT_ROOT, resolveTemporalCli } from '../src/temporal-binaries.js';
import { startWorkerProcess, type WorkerProc } from './processes.js';
import { startWaiting } from './waiting-load.js';
import { API_KEY, SECRET, seedFor, workerEnv } from './bench-common.js';

const { values: args } = parseArgs({
  options: {
    workflows: { type: 'string', default: '1000' },
    cache: { type: 'string', default: '250,50,25' },
    rounds: { type: 'string', default: '1' },
    /** name=path of a prebuilt workflow bundle to compare with this tree's (repeatable). */
    bundle: { type: 'string', multiple: true, default: [] },
    variant: { type: 'string', multiple: true, default: ['tsx'] },
  },
});
const N = Number(args.workflows);
const CACHES = args.cache.split(',').map(Number);
const ROUNDS = Number(args.rounds);
const LIMIT = COMEET_LIMIT_PER_MINUTE * 300;
const CAP = Math.floor((LIMIT * DEFAULT_COMEET_RATE_PER_MINUTE) / COMEET_LIMIT_PER_MINUTE);

interface Variant {
  name: string;
  runner: 'tsx' | 'dist';
  env: Record<string, string>;
}
const VARIANTS: Variant[] = args.variant.map((v) => {
  const [head, ...pairs] = v.split(';');
  const [name, runner = name] = head!.split('=', 2) as [string, string?];
  if (runner !== 'tsx' && runner !== 'dist') throw new Error(`--variant ${v}: the runner is tsx or dist, not "${runner}"`);
  const env = Object.fromEntries(
    pairs.map((kv) => {
      const i = kv.indexOf('=');
      if (i < 1) throw new Error(`--variant ${v}: "${kv}" is not KEY=VALUE`);
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
  return { name, runner, env };
});
if (VARIANTS.some((v) => v.runner === 'dist')) {
  try {
    readFileSync(join(PROJECT_ROOT, 'dist', 'worker.js'));
  } catch {
    throw new Error('a dist variant runs dist/worker.js: run `npm run build` first');
  }
}
const mib = (b: number) => (b / 1024 / 1024).toFixed(0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

interface Shared {
  address: string;
  encryptionKeys: string;
  receipt: { privateJwk: string; keyId: string };
}

function startWorker(shared: Shared, variant: Variant, bundlePath: string, cache: number, taskQueue: string, simUrl: string): Promise<WorkerProc> {
  const env = workerEnv({ ...shared, taskQueue, simUrl, perMinute: { limit: LIMIT, cap: CAP }, bundlePath });
  return startWorkerProcess(variant.runner, { ...env, DSAR_MAX_CACHED_WORKFLOWS: String(cache), ...variant.env });
}

interface Figures {
  idleRss: number;
  waitingRss: number;
  cpuMsPerStart: number;
  startedS: number;
}

/** N erasures on a fresh worker, each blocked by an interview a month away: memory once all wait. */
async function measure(shared: Shared, client: Client, variant: Variant, bundlePath: string, cache: number, tag: string): Promise<Figures> {
  const people = Array.from({ length: N }, (_, i) => ({ email: `mem.${tag}.${i}@bench.example.com`, personUid: `P-${tag}-${i}` }));
  const at = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const sim = await startSimulator({
    apiKey: API_KEY,
    secret: SECRET,
    rateLimit: { limit: LIMIT, windowMs: 60_000 },
    seed: seedFor(people, at),
  });
  const taskQueue = `mem-${tag}`;
  const worker = await startWorker(shared, variant, bundlePath, cache, taskQueue, sim.url);
  try {
    const idKey = randomBytes(32).toString('hex');
    const w = await startWaiting({ client, worker, sim, people, taskQueue, idKey, tuning: { followUpDelayMs: 0 } });
    return { idleRss: w.idle.rss, waitingRss: w.waiting.rss, cpuMsPerStart: (w.waiting.cpuMs - w.idle.cpuMs) / N, startedS: w.allWaitingMs / 1000 };
  } finally {
    await worker.stop();
    await sim.close();
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = mkdtempSync(join(tmpdir(), 'dsar-mem-'));
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: resolveTemporalCli().executable,
      searchAttributes: [...SEARCH_ATTRIBUTES],
      extraArgs: ['--log-level', 'error', ...DEV_SERVER_DYNAMIC_CONFIG],
    },
  });
  try {
    const bundles: [string, string][] = [
      ...args.bundle.map((b) => b.split('=', 2) as [string, string]),
      ['after', (await buildWorkflowBundle(join(dir, 'workflow-bundle.js'))).path],
    ];
    const receipt = await generateReceiptKeys('EdDSA');
    const shared: Shared = { address: env.address, encryptionKeys: `mem:${randomBytes(32).toString('base64')}`, receipt };
    const client = new Client({
      connection: env.connection,
      namespace: 'default',
      dataConverter: createDataConverter(parseEncryptionKeys(shared.encryptionKeys)),
    });
    const results = new Map<string, Figures[]>();
    console.log(`${N} waiting erasures per configuration, ${ROUNDS} round(s); node ${process.version}`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of VARIANTS) {
        for (const [name, path] of bundles) {
          for (const cache of CACHES) {
            const key = `${variant.name} ${name} cache=${cache}`;
            const f = await measure(shared, client, variant, path, cache, `${variant.name}-${name}-${cache}-${round}-${Date.now()}`);
            console.log(
              `  round ${round + 1} ${key.padEnd(28)} RSS idle ${mib(f.idleRss)} MiB, all waiting ${mib(f.waitingRss)} MiB; CPU ${f.cpuMsPerStart.toFixed(1)} ms per start; all waiting after ${f.startedS.toFixed(0)} s`,
            );
            results.set(key, [...(results.get(key) ?? []), f]);
          }
        }
      }
    }
    console.log('\nmedians                         idle MiB  waiting MiB  (waiting-idle)/N KiB  CPU ms/start');
    for (const [key, fs] of results) {
      const idle = median(fs.map((f) => f.idleRss));
      const waiting = median(fs.map((f) => f.waitingRss));
      const per = median(fs.map((f) => (f.waitingRss - f.idleRss) / N / 1024));
      console.log(
        `  ${key.padEnd(30)} ${mib(idle).padStart(8)} ${mib(waiting).padStart(12)} ${per.toFixed(0).padStart(21)} ${median(fs.map((f) => f.cpuMsPerStart))
          .toFixed(1)
          .padStart(13)}`,
      );
    }
  } finally {
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
