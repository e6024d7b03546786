/**
 * Child processes for the restart tests: a Temporal dev server we start, stop and restart ourselves
 * (same SQLite file, same port), and `src/worker.ts` run the way production runs it. Every child is
 * started in its own process group (`detached: true`) and registered, so `killAllChildren()` (and a
 * last-chance `exit` hook) can SIGKILL the whole group and no orphan keeps a port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../src/search-attributes.js';
import { DEV_SERVER_DYNAMIC_CONFIG, PROJECT_ROOT, resolveTemporalCli } from '../../src/temporal-binaries.js';
import { INSTALL_HINT } from '../../src/temporal-binaries.js';

const live = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

// Last chance (vitest worker exiting after a crash): synchronous SIGKILL of every group we started.
process.once('exit', () => {
  for (const c of live) killGroup(c, 'SIGKILL');
});

/** SIGKILLs every child process group still running and waits (bounded) for them to exit. */
export async function killAllChildren(): Promise<void> {
  const waits = [...live].map((c) => {
    killGroup(c, 'SIGKILL');
    return waitForExit(c, 5000).catch(() => undefined);
  });
  await Promise.all(waits);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A port nobody listens on right now (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal });
    });
  });
}

/** Keeps the last lines of a child's output, for failure messages. */
class Tail {
  private lines: string[] = [];
  private partial = '';
  private listeners: Array<(line: string) => void> = [];
  constructor(private readonly max = 200) {}
  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
      for (const l of this.listeners) l(line);
    }
  }
  onLine(l: (line: string) => void): () => void {
    this.listeners.push(l);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }
  text(): string {
    return [...this.lines, this.partial].filter(Boolean).join('\n');
  }
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly output: Tail;
  /** Sends `signal` to the whole process group and waits (bounded) for the exit. */
  stop(signal: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited(): boolean;
}

function spawnManaged(command: string, args: string[], env: NodeJS.ProcessEnv, label: string): ManagedProcess {
  const child = spawn(command, args, { cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${label}`);
  live.add(child);
  const output = new Tail();
  child.stdout!.on('data', (d: Buffer) => output.push(d));
  child.stderr!.on('data', (d: Buffer) => output.push(d));
  child.once('exit', () => live.delete(child));
  return {
    child,
    pid: child.pid,
    output,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop(signal, timeoutMs = 15_000) {
      killGroup(child, signal);
      try {
        return await waitForExit(child, timeoutMs);
      } catch (err) {
        // A graceful signal that did not work: make sure nothing stays behind, then report.
        killGroup(child, 'SIGKILL');
        await waitForExit(child, 5000).catch(() => undefined);
        throw err;
      }
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Temporal dev server
// ------------------------------------------------------------------------------------------------

/** The CLI's names for the SDK's search attribute types (`--search-attribute Name=Type`). */
const CLI_SEARCH_ATTRIBUTE_TYPES: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** Every search attribute the workflows set (src/search-attributes.ts), registered when the dev server starts. */
export const SEARCH_ATTRIBUTE_ARGS = SEARCH_ATTRIBUTES.flatMap((k) => {
  const type = CLI_SEARCH_ATTRIBUTE_TYPES[k.type];
  if (!type) throw new Error(`no CLI type for search attribute ${k.name} (${k.type})`);
  return ['--search-attribute', `${k.name}=${type}`];
});

export interface DevServer {
  readonly address: string;
  readonly port: number;
  readonly process: ManagedProcess;
}

/** Starts `temporal server start-dev` on `port` with `dbFile`, and waits until the namespace answers. */
export async function startTemporalDevServer(opts: { dbFile: string; port: number; readyTimeoutMs?: number }): Promise<DevServer> {
  const cli = resolveTemporalCli();
  if (cli.executable.type !== 'existing-path') throw new Error(`No temporal CLI binary found. ${INSTALL_HINT}`);
  const [httpPort, metricsPort] = [await freePort(), await freePort()];
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    opts.dbFile,
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--headless',
    '--log-level',
    'error',
    ...SEARCH_ATTRIBUTE_ARGS,
    // What production sets for the rate-capped Comeet queue (see src/temporal-binaries.ts).
    ...DEV_SERVER_DYNAMIC_CONFIG,
  ];
  const proc = spawnManaged(cli.executable.path, args, { ...process.env }, 'temporal dev server');
  const address = `127.0.0.1:${opts.port}`;
  try {
    await waitForTemporal(address, opts.readyTimeoutMs ?? 30_000, proc);
  } catch (err) {
    await proc.stop('SIGKILL').catch(() => undefined);
    throw err;
  }
  return { address, port: opts.port, process: proc };
}

/** Polls until the `default` namespace is described and our search attributes are registered. */
export async function waitForTemporal(address: string, timeoutMs: number, proc?: ManagedProcess): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    if (proc?.exited()) throw new Error(`temporal dev server exited (${proc.child.exitCode ?? proc.child.signalCode}):\n${proc.output.text()}`);
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.describeNamespace({ namespace: 'default' });
      const sa = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      if (SEARCH_ATTRIBUTES.every((k) => k.name in (sa.customAttributes ?? {}))) return;
      last = new Error('search attributes not registered yet');
    } catch (err) {
      last = err;
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await sleep(200);
  }
  throw new Error(`Temporal at ${address} not ready after ${timeoutMs} ms: ${last instanceof Error ? last.message : last}\n${proc?.output.text() ?? ''}`);
}

// ------------------------------------------------------------------------------------------------
// Worker (`node --import tsx src/worker.ts`)
// ------------------------------------------------------------------------------------------------

export interface WorkerProcess extends ManagedProcess {
  /** Resolves when the worker printed its "polling" line (after bundling the workflows). */
  ready: Promise<void>;
}

export function startWorkerProcess(env: Record<string, string>, readyTimeoutMs = 60_000): WorkerProcess {
  const proc = spawnManaged(process.execPath, ['--import', 'tsx', 'src/worker.ts'], { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, 'worker');
  const ready = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`worker not polling after ${readyTimeoutMs} ms:\n${proc.output.text()}`));
    }, readyTimeoutMs);
    const off = proc.output.onLine((line) => {
      if (line.includes('Worker polling task queue')) {
        clearTimeout(t);
        off();
        resolve();
      }
    });
    proc.child.once('exit', (code, signal) => {
      clearTimeout(t);
      off();
      reject(new Error(`worker exited (${code ?? signal}) before polling:\n${proc.output.text()}`));
    });
  });
  ready.catch(() => undefined); // observed by the caller; avoid an unhandled rejection if it is not
  return { ...proc, ready };
}
