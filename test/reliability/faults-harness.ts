/**
 * Reliability harness: `runScenario` (real dev server, simulator, worker, real Comeet client over
 * HTTP) with the worker's Comeet client behind a corrupting proxy when asked, and a short response
 * timeout, so timeouts are cheap to cause; plus the raw servers and proxy the fault tests use.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SimulatorOptions } from '../../src/simulator/server.js';
import { startRawServer, type RawServer } from '../comeet/raw-server.js';
import { runScenario, type Scenario } from '../helpers/scenario.js';

export interface ChaosScenario extends Scenario {
  /** The corrupting proxy, when the scenario has one. */
  proxy?: CorruptingProxy;
}

export interface ChaosOptions {
  sim: Partial<SimulatorOptions>;
  /** Response timeout of the worker's Comeet client (headers, then between body chunks). */
  responseTimeoutMs?: number;
  connections?: number;
  /** Put a corrupting proxy between the worker and the simulator. */
  corrupt?: Corruptor;
  encrypted?: boolean;
}

/** `runScenario` with a short Comeet timeout and, optionally, a corrupting proxy in front of the simulator. */
export async function runChaosScenario(
  env: TestWorkflowEnvironment,
  title: string,
  options: ChaosOptions,
  body: (s: ChaosScenario) => Promise<void>,
): Promise<void> {
  let proxy: CorruptingProxy | undefined;
  await runScenario(env, title, options.sim, (s) => body({ ...s, proxy }), {
    encrypted: options.encrypted,
    responseTimeoutMs: options.responseTimeoutMs,
    connections: options.connections,
    comeetVia: options.corrupt
      ? async (simUrl) => {
          proxy = await startCorruptingProxy(simUrl, options.corrupt!);
          return proxy;
        }
      : undefined,
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// A proxy standing in for Comeet: forwards to the simulator, and lets a test rewrite the answer
// ---------------------------------------------------------------------------------------------

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  /** The `email` query parameter of a lookup, when there is one. */
  email: string | null;
}

/**
 * Returns the response to send instead of the simulator's, or undefined to pass it through.
 * `upstream` is fetched first, so a corruption can start from the real answer.
 */
export type Corruptor = (req: ProxiedRequest, upstream: UpstreamResponse) => UpstreamResponse | undefined;

export interface CorruptingProxy extends RawServer {
  /** Requests seen, with the lookup email decoded (the proxy is test-only; nothing is logged). */
  readonly seen: ProxiedRequest[];
  /** Swaps the corruption at run time (`undefined` = plain pass-through). */
  setCorruptor(c: Corruptor | undefined): void;
  /** Holds the (already received) upstream answer this long before sending it: a slow network. */
  setDelay(d: ((req: ProxiedRequest) => number | undefined) | undefined): void;
}

export async function startCorruptingProxy(targetUrl: string, initial: Corruptor | undefined): Promise<CorruptingProxy> {
  const target = new URL(targetUrl);
  let corrupt = initial;
  let delay: ((req: ProxiedRequest) => number | undefined) | undefined;
  const seen: ProxiedRequest[] = [];
  const raw = await startRawServer((req, res) => {
    const url = req.url ?? '/';
    const email = new URL(url, 'http://proxy.invalid').searchParams.get('email');
    const info: ProxiedRequest = { method: req.method ?? 'GET', url, email };
    seen.push(info);
    forward(target, req)
      .then(async (upstream) => {
        const ms = delay?.(info);
        if (ms) await sleep(ms);
        if (!res.destroyed) send(res, corrupt?.(info, upstream) ?? upstream);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('proxy: upstream failed');
      });
  });
  return Object.assign(raw, {
    seen,
    setCorruptor: (c: Corruptor | undefined) => void (corrupt = c),
    setDelay: (d: ((req: ProxiedRequest) => number | undefined) | undefined) => void (delay = d),
  });
}

/** Body-less forward (the erasure paths only GET, DELETE and POST without a body). */
function forward(target: URL, req: IncomingMessage): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    // `host` too: the simulator builds absolute next_page links from it, and they must point back here.
    for (const h of ['host', 'authorization', 'accept', 'identifier_type', 'identifier-type']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent: false }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        const out: Record<string, string> = {};
        for (const h of ['content-type', 'retry-after']) {
          const v = r.headers[h];
          if (typeof v === 'string') out[h] = v;
        }
        resolve({ status: r.statusCode ?? 502, headers: out, body: Buffer.concat(chunks).toString('utf8') });
      });
      r.on('error', reject);
    });
    up.setTimeout(10_000, () => up.destroy(new Error('upstream timeout')));
    up.on('error', reject);
    up.end();
  });
}

function send(res: ServerResponse, r: UpstreamResponse): void {
  res.writeHead(r.status, { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) });
  res.end(r.body);
}
