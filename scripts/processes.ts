/**
 * The processes the benchmark scripts start and read: free ports, the image's build and environment,
 * a worker process run as in production (through tsx, or from dist/ as the image runs it) and ready
 * on its health endpoint, and what /proc says of a process, its descendants and the machine (Linux;
 * undefined elsewhere).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/temporal-binaries.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `npm run build`: the compiled JavaScript and the bundles made from it in dist/, rebuilt so they are this code. */
export function buildDist(): void {
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
}

/**
 * The environment the image gives the worker beyond the app's own settings, read from the Dockerfile
 * (its last stage) so a benchmark of "the worker as the image runs it" follows the image: the allocator
 * and V8 settings (`ENV MALLOC_ARENA_MAX=2`, `ENV NODE_OPTIONS="…"`, one per line).
 */
export function imageEnv(): Record<string, string> {
  const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const name of ['MALLOC_ARENA_MAX', 'NODE_OPTIONS']) {
    const m = new RegExp(`^ENV\\s+${name}=(?:"([^"]*)"|(\\S+))\\s*$`, 'm').exec(lastStage);
    if (m) env[name] = m[1] ?? m[2]!;
  }
  return env;
}

export interface WorkerProc {
  child: ChildProcess;
  healthUrl: string;
  stop(): Promise<void>;
}

/**
 * `src/worker.ts` through tsx, or `node dist/worker.js` (`npm run build` first), with only PATH, HOME
 * and `env` (plus its own health port) in its environment; resolves once /healthz answers.
 */
export async function startWorkerProcess(runner: 'tsx' | 'dist', env: Record<string, string>): Promise<WorkerProc> {
  const healthPort = await freePort();
  const child = spawn(process.execPath, runner === 'dist' ? ['dist/worker.js'] : ['--import', 'tsx', 'src/worker.ts'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DSAR_HEALTH_BIND: `127.0.0.1:${healthPort}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (c: Buffer) => {
    output = (output + c.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const healthUrl = `http://127.0.0.1:${healthPort}/healthz`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`worker exited before it was ready:\n${output}`);
    const ok = await fetch(healthUrl).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`worker not healthy after 60 s:\n${output}`);
    }
    await sleep(200);
  }
  return {
    child,
    healthUrl,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Resident memory of a process: now and the peak (VmHWM). */
export function memoryOf(pid: number | undefined): { rss: number; peak: number } | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** A process and every process below it (children through every thread), the process first. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`))
        out.push(...readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // Gone meanwhile, or not Linux.
    }
  }
  return out;
}

/**
 * Resident memory and CPU time of a process with its descendants (a worker's whole footprint, should it
 * ever start helpers): RSS summed now; the peak is the sum of each one's VmHWM, exact for one process.
 */
export function treeUsageOf(pid: number | undefined): { rss: number; peak: number; cpuMs: number } | undefined {
  if (!pid) return undefined;
  const root = memoryOf(pid);
  const rootCpu = cpuMsOf(pid);
  if (!root || rootCpu === undefined) return undefined;
  const out = { rss: root.rss, peak: root.peak, cpuMs: rootCpu };
  for (const child of processTree(pid).slice(1)) {
    const m = memoryOf(child);
    out.rss += m?.rss ?? 0;
    out.peak += m?.peak ?? 0;
    out.cpuMs += cpuMsOf(child) ?? 0;
  }
  return out;
}

/** CPU time of a process, user + system, in ms. */
export function cpuMsOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    // Fields after the command (which may hold spaces) start at ") ": utime and stime are the 12th and 13th of them.
    const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * The machine's CPU seconds from one read of /proc/stat: busy (all processes, ours and our
 * neighbours', steal included) and steal alone (what the hypervisor gave other guests while this one
 * had work: a neighbour we cannot see).
 */
export function machineCpuSeconds(): { busy: number; steal: number } | undefined {
  try {
    // user nice system idle iowait irq softirq steal ..., in USER_HZ (100 on Linux)
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { busy: (f.reduce((a, b) => a + b, 0) - f[3]! - f[4]!) / 100, steal: f[7]! / 100 };
  } catch {
    return undefined;
  }
}

/** The Temporal dev server the test environment started: a child process of this one named temporal. */
export function devServerPid(): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === process.pid && comm.startsWith('temporal')) return Number(entry);
      } catch {
        // Gone meanwhile.
      }
    }
  } catch {
    // not Linux
  }
  return undefined;
}

/**
 * A load of `cpu` CPUs that does no Temporal work: one process a CPU of the machine, each busy the
 * same share of every 4 ms (a spin, then a wait), so it takes CPU in slices as short as a busy
 * server's and, like a multi-threaded server's load, is spread over the machine's CPUs rather than
 * saturating one.
 */
export function startCpuLoad(cpu: number, cpus: number): { pids: number[]; stop(): void } {
  const duty = Math.min(1, Math.max(0, cpu / cpus));
  const code = `
    const period = 4, busy = period * ${duty};
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      const from = performance.now();
      while (performance.now() - from < busy);
      const rest = period - (performance.now() - from);
      if (rest > 0) Atomics.wait(cell, 0, 0, rest);
    }`;
  const children: ChildProcess[] = duty > 0 ? Array.from({ length: cpus }, () => spawn(process.execPath, ['-e', code], { stdio: 'ignore' })) : [];
  return {
    pids: children.map((c) => c.pid).filter((p): p is number => p !== undefined),
    stop: () => children.forEach((c) => c.kill('SIGKILL')),
  };
}
