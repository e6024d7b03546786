/** Shared plumbing of the checks: one attempt at a Comeet call (waiting out 429s), lookup advice. */
import { ComeetRateLimitedError, LOOKUP_STRATEGIES, type ComeetClient, type LookupStrategy } from '../comeet/index.js';
import type { CallCounter } from './advice.js';

export interface RunContext {
  client: ComeetClient;
  log: (line: string) => void;
  calls: CallCounter | undefined;
  /** `calls.count` when the check started (a counter may be shared). */
  callsAtStart: number;
  /** Longest wait for one Retry-After before giving up on a call. */
  maxRateLimitWaitMs: number;
}

export type Outcome<T> = { ok: true; value: T; calls: number | undefined } | { ok: false; error: unknown; calls: number | undefined };

const RATE_LIMIT_ATTEMPTS = 3;

/**
 * Runs one client call and never throws: a 429 is waited out (Retry-After, else 60 s, capped) up to
 * three times, since the worker shares the account's 100 calls a minute; anything else is returned.
 */
export async function attempt<T>(ctx: RunContext, fn: () => Promise<T>): Promise<Outcome<T>> {
  const before = ctx.calls?.count;
  const calls = () => (before === undefined || ctx.calls === undefined ? undefined : ctx.calls.count - before);
  for (let i = 1; ; i++) {
    try {
      const value = await fn();
      return { ok: true, value, calls: calls() };
    } catch (error) {
      if (error instanceof ComeetRateLimitedError && i < RATE_LIMIT_ATTEMPTS) {
        const wait = Math.min(error.retryAfterMs ?? 60_000, ctx.maxRateLimitWaitMs);
        ctx.log(`Comeet rate limit reached; waiting ${Math.ceil(wait / 1000)} s before trying again`);
        await sleep(wait);
        continue;
      }
      return { ok: false, error, calls: calls() };
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The strategy to configure among those that work: the documented list endpoint with an email filter
 * first, then find_duplicates, then a full scan (its cost grows with the account). Strategies seen
 * to be costly (a filter that pages like a scan) come after the cheap ones.
 */
export function recommendLookup(works: readonly LookupStrategy[], costly: ReadonlySet<LookupStrategy> = new Set()): LookupStrategy | undefined {
  const ordered = LOOKUP_STRATEGIES.filter((s) => works.includes(s));
  return ordered.find((s) => !costly.has(s)) ?? ordered[0];
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function makeContext(opts: { client: ComeetClient; log?: (line: string) => void; calls?: CallCounter; maxRateLimitWaitMs?: number }): RunContext {
  return {
    client: opts.client,
    log: opts.log ?? (() => {}),
    calls: opts.calls,
    callsAtStart: opts.calls?.count ?? 0,
    maxRateLimitWaitMs: opts.maxRateLimitWaitMs ?? 90_000,
  };
}

/** Adds the `calls` finding when calls are counted. */
export function callsFinding(ctx: RunContext): [string, string] | undefined {
  if (!ctx.calls) return undefined;
  return ['calls', `${plural(ctx.calls.count - ctx.callsAtStart, 'Comeet call')} (the account allows 100 a minute, shared with the worker)`];
}
