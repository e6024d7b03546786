/** Shared helpers for the simulator tests: token minting, a seeded PRNG, small fetch wrappers. */
import { SignJWT, UnsecuredJWT } from 'jose';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server.js';

export const API_KEY = 'test-api-key';
export const SECRET = 'test-secret-0123456789';

/** A token the way Comeet specifies it: HS256, iss = api key, exp = now + 600 s. */
export async function mintToken(opts: { iss?: string; secret?: string; expInS?: number | null; alg?: 'HS256' | 'HS384' | 'HS512' } = {}): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' }).setIssuer(opts.iss ?? API_KEY);
  if (opts.expInS !== null) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (opts.expInS ?? 600));
  return jwt.sign(new TextEncoder().encode(opts.secret ?? SECRET));
}

export function unsecuredToken(): string {
  return new UnsecuredJWT({})
    .setIssuer(API_KEY)
    .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
    .encode();
}

/** mulberry32: a small deterministic PRNG for fault injection. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function start(opts: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  return startSimulator({ apiKey: API_KEY, secret: SECRET, rateLimit: null, random: seededRandom(42), ...opts });
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body (undefined when not JSON). */
  json: any;
}

/** An authenticated API call (fresh token each time unless `token` is given; `token: null` sends none). */
export async function api(
  sim: Simulator,
  method: string,
  path: string,
  opts: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const token = opts.token === undefined ? await mintToken() : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path.startsWith('http') ? path : `${sim.url}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  return reply(res);
}

/** A call to an admin route (no token). */
export async function admin(sim: Simulator, method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return reply(res);
}

async function reply(res: Response): Promise<Reply> {
  const text = await res.text();
  let json: unknown;
  if ((res.headers.get('content-type') ?? '').includes('application/json')) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, json };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
