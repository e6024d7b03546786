/**
 * What the phases of `npm run bench` (scripts/bench.ts, bench-growth.ts, bench-fleet.ts) share: the
 * simulator's credentials and the production timings, the subjects and their seed, a worker process
 * started for a phase, the printing helpers, and the header that says which machine and versions the
 * figures come from.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TuningInput } from '../src/erasure-request.js';
import { PROJECT_ROOT, type Resolved } from '../src/temporal-binaries.js';
import { startWorkerProcess, type WorkerProc } from './processes.js';

export const API_KEY = 'bench-api-key';
export const SECRET = 'bench-secret-0123456789abcdef';
/** Production timings, except no follow-up (it would be a fourth call a week later). */
export const TUNING: TuningInput = { followUpDelayMs: 0, interviewMarginMs: 1000, verifyRetryMs: 1000 };

export const line = (label: string, value: string) => console.log(`  ${label.padEnd(44)} ${value}`);
export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
export const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until no run that `query` matches is open, by a visibility count every `everyMs`, not a
 * result() long poll per run: hundreds of long polls held open on the server are load the benchmark
 * adds, not the system under test. Read the outcomes after, once each.
 */
export async function untilClosed(client: Client, query: string, everyMs = 1_000): Promise<void> {
  while ((await client.workflow.count(query)).count > 0) await sleep(everyMs);
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function subjects(prefix: string, n: number) {
  return Array.from({ length: n }, (_, i) => ({ email: `${prefix}.${i}@bench.example.com`, personUid: `P-${prefix}-${i}` }));
}

/** Candidates for `people`: rejected (nothing blocks the erasure), or in progress with an interview at `interviewAt` ('+30d' works). */
export function seedFor(people: { email: string; personUid: string }[], interviewAt?: string) {
  return {
    candidates: people.map((p) => ({
      first_name: 'Bench',
      last_name: 'Subject',
      email: p.email,
      person_uid: p.personUid,
      status: interviewAt ? ('In progress' as const) : ('Rejected' as const),
      ...(interviewAt ? { current_steps: [{ name: 'Interview', type: 'Phone Interview', time_scheduled: interviewAt, duration_minutes: 60 }] } : {}),
    })),
  };
}

// ------------------------------------------------------------------------------------------------
// Worker processes: `src/worker.ts` as in production (prebuilt bundle, JSON logs, health endpoint)
// ------------------------------------------------------------------------------------------------

export interface Shared {
  env: TestWorkflowEnvironment;
  address: string;
  encryptionKeys: string;
  receipt: { privateJwk: string; keyId: string };
  bundlePath: string;
}

/** A bench worker's environment: the dev server, the simulator as its Comeet account, the run's keys, quiet logs. */
export function workerEnv(o: {
  address: string;
  encryptionKeys: string;
  receipt: { privateJwk: string; keyId: string };
  taskQueue: string;
  simUrl: string;
  perMinute: { limit: number; cap: number };
  bundlePath: string;
}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: o.address,
    TEMPORAL_TASK_QUEUE: o.taskQueue,
    COMEET_BASE_URL: o.simUrl,
    COMEET_ALLOW_HTTP: 'true',
    COMEET_API_KEY: API_KEY,
    COMEET_SECRET: SECRET,
    COMEET_CONNECTIONS: '16',
    COMEET_RATE_LIMIT_PER_MINUTE: String(o.perMinute.limit),
    COMEET_RATE_PER_MINUTE: String(o.perMinute.cap),
    DSAR_ENCRYPTION_KEYS: o.encryptionKeys,
    DSAR_RECEIPT_KEY: o.receipt.privateJwk,
    DSAR_RECEIPT_KEY_ID: o.receipt.keyId,
    DSAR_WORKFLOW_BUNDLE: o.bundlePath,
    DSAR_METRICS_BIND: 'off',
    DSAR_LOG_LEVEL: 'WARN',
  };
}

export async function startWorker(
  shared: Shared,
  taskQueue: string,
  simUrl: string,
  perMinute: { limit: number; cap: number },
  extraEnv: Record<string, string> = {},
  /** `node dist/worker.js` as the image runs it (`npm run build` first), instead of the sources through tsx. */
  compiled = false,
): Promise<WorkerProc> {
  const bundlePath = compiled ? join(PROJECT_ROOT, 'dist', 'workflow-bundle.js') : shared.bundlePath;
  return startWorkerProcess(compiled ? 'dist' : 'tsx', { ...workerEnv({ ...shared, taskQueue, simUrl, perMinute, bundlePath }), ...extraEnv });
}

// ------------------------------------------------------------------------------------------------

/** The machine and the versions the figures were measured with, printed before any of them. */
export function machineContext(cli: Resolved) {
  const cpuList = cpus();
  const version = (pkg: string) => {
    try {
      return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  // `temporal --version`: "temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)"; the dev server is this binary.
  const cliText =
    cli.executable.type === 'existing-path' ? spawnSync(cli.executable.path, ['--version'], { encoding: 'utf8' }).stdout.trim() : 'the SDK download';
  const m = /version (\S+) \(Server ([^,)\s]+)/.exec(cliText);
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cpus: cpuList.length,
    memoryBytes: totalmem(),
    node: process.version,
    temporalCli: m?.[1] ?? cliText,
    temporalServer: m?.[2] ?? 'unknown',
    temporalSdk: version('@temporalio/worker'),
    loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  };
}

export function printMachineContext(c: ReturnType<typeof machineContext>): void {
  console.log(
    `machine: ${c.cpus} × ${c.cpuModel}, ${(c.memoryBytes / 1024 ** 3).toFixed(1)} GiB; node ${c.node}; Temporal CLI ${c.temporalCli} (server ${c.temporalServer}), ` +
      `@temporalio SDK ${c.temporalSdk}; load average at start ${c.loadAverageAtStart.join(' / ')} (1 / 5 / 15 min)`,
  );
}
