/**
 * The activities with a real ComeetClient against the simulator over HTTP, run inside
 * MockActivityEnvironment: result shapes (no personal data) and the Temporal failures the workflow
 * branches on.
 */
import { testReceiptKeys } from '../helpers/receipts.js';
import { ApplicationFailure, type LogLevel, type LogMetadata, type Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMIT_WAIT_MS, createActivities, type Activities, type ReceiptDraft } from '../../src/activities/index.js';
import { verifyReceipt, type ReceiptSigner } from '../../src/receipt/index.js';
import { ComeetClient, type ComeetClientOptions, type LookupStrategy } from '../../src/comeet/index.js';
import { startSimulator, type SimCandidateSeed, type Simulator, type SimulatorOptions } from '../../src/simulator/server.js';
import type { Mode } from '../../src/erasure-request.js';
import type { ErasedPerson } from '../../src/erasure-status.js';
import { jsonServer, type RawServer } from '../comeet/raw-server.js';

const API_KEY = 'acct-key-a1b2c3';
const SECRET = 'integration-secret-d4e5f6';
const EMAIL = 'zeb@example.com';
const FIRST = 'Zebulon';
const LAST = 'Quackenbush';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Captures what the activities log, to check it carries no personal data. */
class CapturingLogger implements Logger {
  readonly lines: string[] = [];
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.lines.push(`${level} ${message} ${JSON.stringify(meta ?? {}, (_k, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v))}`);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

interface Setup {
  sim: Simulator;
  activities: Activities;
  env: MockActivityEnvironment;
  logger: CapturingLogger;
}

async function setup(simOptions: Partial<SimulatorOptions> = {}, clientOptions: Partial<ComeetClientOptions> = {}, lookup?: LookupStrategy): Promise<Setup> {
  const sim = await startSimulator({ apiKey: API_KEY, secret: SECRET, rateLimit: null, random: () => 0, ...simOptions });
  closers.push(() => sim.close());
  const comeet = new ComeetClient({ baseUrl: sim.url, apiKey: API_KEY, secret: SECRET, responseTimeoutMs: 3000, ...clientOptions });
  closers.push(() => comeet.close());
  const logger = new CapturingLogger();
  return {
    sim,
    activities: createActivities({ comeet, lookup, receipts: (await testReceiptKeys()).signer }),
    env: new MockActivityEnvironment(undefined, { logger }),
    logger,
  };
}

async function rawSetup(status: number, body: unknown): Promise<{ server: RawServer; activities: Activities; env: MockActivityEnvironment }> {
  const server = await jsonServer(status, body);
  closers.push(() => server.close());
  const comeet = new ComeetClient({ baseUrl: server.url, apiKey: API_KEY, secret: SECRET, responseTimeoutMs: 3000 });
  closers.push(() => comeet.close());
  return {
    server,
    activities: createActivities({ comeet, receipts: (await testReceiptKeys()).signer }),
    env: new MockActivityEnvironment(undefined, { logger: new CapturingLogger() }),
  };
}

/** Runs an activity in the mock activity context, keeping its result type. */
function run<A, R>(env: MockActivityEnvironment, fn: (input: A) => Promise<R>, input: A): Promise<R> {
  return env.run(fn, input) as Promise<R>;
}

function erase(env: MockActivityEnvironment, activities: Activities, personUid: string, mode: Mode): Promise<ErasedPerson> {
  return run(env, activities.erasePerson, { personUid, mode });
}

/** The ApplicationFailure `p` rejects with; fails the test when `p` resolves or throws anything else. */
async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected the activity to fail, but it succeeded');
}

/**
 * Person 63.ZEB has two applications (one interviewing, one rejected); person 63.ZEC shares the
 * email under another person uid; two bystanders.
 */
function seeds(): SimCandidateSeed[] {
  return [
    {
      uid: '33.ZEA',
      person_uid: '63.ZEB',
      first_name: FIRST,
      last_name: LAST,
      email: EMAIL,
      phone: '+1 555 0100',
      status: 'In progress',
      current_steps: [
        { name: 'Review', type: 'Go/No-go', time_scheduled: null },
        { name: 'Phone screen', type: 'Phone Interview', time_scheduled: '+2h', duration_minutes: 30 },
      ],
      future_steps: [{ name: 'Onsite', type: 'In person Interview', time_scheduled: null }],
      completed_steps: [{ name: 'Intro call', type: 'Phone Interview', time_scheduled: '-3d' }],
    },
    { uid: '33.BYA', first_name: 'By', last_name: 'Stander', email: 'zebra@example.com', status: 'Rejected' },
    { uid: '33.ZEB', person_uid: '63.ZEB', first_name: FIRST, last_name: LAST, email: ' ZEB@Example.com', status: 'Rejected' },
    { uid: '33.ZEC', person_uid: '63.ZEC', first_name: FIRST, middle_name: 'Q', last_name: LAST, email: EMAIL, status: 'Withdrawn' },
    { uid: '33.BYB', first_name: 'Other', last_name: 'Person', email: 'other@example.com', status: 'Hired' },
  ];
}

describe('findCandidatesByEmail / verifyAbsence activities', () => {
  it.each(['candidates-filter', 'scan', 'find-duplicates'] as const)(
    'groups the subject by person with statuses and open interviews, and nothing personal (%s)',
    async (lookup) => {
      const { sim, activities, env, logger } = await setup({ pageSize: 2, seed: { candidates: seeds() } }, {}, lookup);
      const phoneAt = sim.candidate('33.ZEA')!.current_steps[1]!.time_scheduled;
      expect(phoneAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

      const result = await run(env, activities.findCandidatesByEmail, { email: EMAIL });
      expect(result).toEqual({
        persons: [
          {
            personUid: '63.ZEB',
            candidates: [
              {
                uid: '33.ZEA',
                personUid: '63.ZEB',
                status: 'In progress',
                openInterviews: [
                  { type: 'Phone Interview', scheduledAt: phoneAt },
                  { type: 'In person Interview', scheduledAt: null },
                ],
              },
              { uid: '33.ZEB', personUid: '63.ZEB', status: 'Rejected', openInterviews: [] },
            ],
          },
          { personUid: '63.ZEC', candidates: [{ uid: '33.ZEC', personUid: '63.ZEC', status: 'Withdrawn', openInterviews: [] }] },
        ],
      });

      const text = JSON.stringify(result).toLowerCase();
      for (const pii of [EMAIL, 'zeb@', FIRST, LAST, '555', 'example']) expect(text).not.toContain(pii.toLowerCase());
      const logs = logger.lines.join('\n').toLowerCase();
      expect(logs).toContain('comeet lookup done');
      for (const pii of [EMAIL, FIRST, LAST]) expect(logs).not.toContain(pii.toLowerCase());
    },
  );

  it('verifyAbsence is the same lookup: empty after the subject is erased', async () => {
    const { activities, env } = await setup({ seed: { candidates: seeds() } });
    await erase(env, activities, '63.ZEC', 'delete');
    const after = await run(env, activities.verifyAbsence, { email: EMAIL });
    expect(after.persons.map((p) => p.personUid)).toEqual(['63.ZEB']);
    expect(await run(env, activities.verifyAbsence, { email: 'nobody@example.com' })).toEqual({ persons: [] });
  });

  it('a matching candidate without person_uid → ComeetInvalidResponse, non-retryable', async () => {
    const { activities, env } = await rawSetup(200, {
      candidates: [
        { uid: '1.A', person_uid: 'p1', email: EMAIL },
        { uid: '1.B', email: EMAIL, first_name: FIRST },
      ],
    });
    const f = await failureOf(run(env, activities.findCandidatesByEmail, { email: EMAIL }));
    expect(f.type).toBe('ComeetInvalidResponse');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('1.B');
    expect(f.message).not.toContain(EMAIL);
    expect(f.message).not.toContain(FIRST);
  });

  it('a candidate without person_uid from getCandidate → ComeetInvalidResponse, non-retryable', async () => {
    const { activities, env } = await rawSetup(200, { uid: '1.B', person_uid: null, email: EMAIL });
    const f = await failureOf(run(env, activities.getInterviewSchedules, { candidateUids: ['1.B'] }));
    expect(f.type).toBe('ComeetInvalidResponse');
    expect(f.nonRetryable).toBe(true);
  });

  it('a malformed lookup answer → ComeetInvalidResponse, non-retryable', async () => {
    const { activities, env } = await rawSetup(200, { candidates: 'x' });
    const f = await failureOf(run(env, activities.findCandidatesByEmail, { email: EMAIL }));
    expect(f.type).toBe('ComeetInvalidResponse');
    expect(f.nonRetryable).toBe(true);
  });
});

describe('erasePerson activity', () => {
  it('returns the erased candidates (delete), then alreadyGone on a repeat (404)', async () => {
    const { sim, activities, env } = await setup({ seed: { candidates: seeds() } });
    const before = Date.now();
    const r = await erase(env, activities, '63.ZEC', 'delete');
    expect(r).toEqual({ personUid: '63.ZEC', candidateUids: ['33.ZEC'], count: 1, erasedAt: expect.any(String), alreadyGone: false });
    const at = Date.parse(r.erasedAt);
    expect(new Date(at).toISOString()).toBe(r.erasedAt);
    expect(at).toBeGreaterThanOrEqual(before - 1);
    expect(at).toBeLessThanOrEqual(Date.now() + 1);
    expect(sim.candidate('33.ZEC')?.deleted).toBe(true);

    const again = await erase(env, activities, '63.ZEC', 'delete');
    expect(again).toEqual({ personUid: '63.ZEC', candidateUids: [], count: 0, erasedAt: expect.any(String), alreadyGone: true });
    expect(sim.stats().byStatus).toEqual({ '200': 1, '404': 1 });
  });

  it('pseudonymizes all of a person once the interviews are over', async () => {
    const { sim, activities, env } = await setup({ seed: { candidates: seeds() } });
    sim.completeInterviews('63.ZEB');
    const r = await erase(env, activities, '63.ZEB', 'pseudonymize');
    expect(r).toMatchObject({ personUid: '63.ZEB', candidateUids: ['33.ZEA', '33.ZEB'], count: 2, alreadyGone: false });
    expect(sim.stats().erasures.map((e) => [e.personUid, e.mode])).toEqual([['63.ZEB', 'pseudonymize']]);
  });

  it('an unknown person is alreadyGone', async () => {
    const { activities, env } = await setup({ seed: { candidates: seeds() } });
    const r = await erase(env, activities, '99.NOPE', 'pseudonymize');
    expect(r).toMatchObject({ personUid: '99.NOPE', candidateUids: [], count: 0, alreadyGone: true });
  });

  it('pending interviews → InterviewsInProgress, non-retryable, with the blocking candidates', async () => {
    const { sim, activities, env } = await setup({ seed: { candidates: seeds() } });
    const f = await failureOf(erase(env, activities, '63.ZEB', 'delete'));
    expect(f.type).toBe('InterviewsInProgress');
    expect(f.nonRetryable).toBe(true);
    expect(f.details).toEqual([{ personUid: '63.ZEB', blockingCandidateUids: ['33.ZEA'] }]);
    expect(f.message).not.toContain(EMAIL);
    expect(sim.stats().erasures).toEqual([]);
  });

  it('403 → ComeetNoPermission, non-retryable, naming the Comeet permission', async () => {
    const { sim, activities, env } = await setup({ seed: { candidates: seeds() }, permissions: ['candidates:read_other_sources'] });
    const f = await failureOf(erase(env, activities, '63.ZEC', 'delete'));
    expect(f.type).toBe('ComeetNoPermission');
    expect(f.nonRetryable).toBe(true);
    expect(f.details).toEqual([{ permission: 'Persons: Delete or Pseudonymize persons' }]);
    expect(sim.candidate('33.ZEC')?.deleted).toBe(false);
  });

  it('401 (wrong secret) → ComeetUnauthorized, non-retryable, without the secret', async () => {
    const wrong = 'not-the-secret-77aa';
    const { activities, env } = await setup({ seed: { candidates: seeds() } }, { secret: wrong });
    const f = await failureOf(erase(env, activities, '63.ZEC', 'delete'));
    expect(f.type).toBe('ComeetUnauthorized');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).not.toContain(wrong);
    expect(f.message).not.toContain(API_KEY);
  });

  it('429 → ComeetRateLimited, retryable, nextRetryDelay = Retry-After', async () => {
    const { activities, env } = await setup({ seed: { candidates: seeds() }, faults: { rateLimitBurst: 1 } });
    const f = await failureOf(erase(env, activities, '63.ZEC', 'delete'));
    expect(f.type).toBe('ComeetRateLimited');
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBe(1000);
  });

  it('429 from a full window → nextRetryDelay is the window left (60 s)', async () => {
    const { activities, env } = await setup({ seed: { candidates: seeds() }, rateLimit: { limit: 1, windowMs: 60_000 } });
    await run(env, activities.findCandidatesByEmail, { email: EMAIL });
    const f = await failureOf(erase(env, activities, '63.ZEC', 'delete'));
    expect(f.type).toBe('ComeetRateLimited');
    expect(f.nextRetryDelay).toBe(60_000);
  });

  it('429 without Retry-After → nextRetryDelay 60000 (a whole window)', async () => {
    const { activities, env } = await setup({ seed: { candidates: seeds() }, faults: { rateLimitBurst: 1 }, retryAfter: false });
    const f = await failureOf(erase(env, activities, '63.ZEC', 'delete'));
    expect(f.type).toBe('ComeetRateLimited');
    expect(f.nonRetryable).toBe(false);
    expect(DEFAULT_RATE_LIMIT_WAIT_MS).toBe(60_000);
    expect(f.nextRetryDelay).toBe(60_000);
  });

  it('5xx → ComeetServerError, retryable', async () => {
    const { activities, env } = await setup({ seed: { candidates: seeds() }, faults: { errorRate: 1 } });
    for (let i = 0; i < 2; i++) {
      const f = await failureOf(erase(env, activities, '63.ZEC', 'delete'));
      expect(f.type).toBe('ComeetServerError');
      expect(f.nonRetryable).toBe(false);
    }
  });

  it('a dropped connection → ComeetNetworkError, retryable', async () => {
    const { activities, env } = await setup({ seed: { candidates: seeds() }, faults: { dropRate: 1 } });
    const f = await failureOf(erase(env, activities, '63.ZEC', 'delete'));
    expect(f.type).toBe('ComeetNetworkError');
    expect(f.nonRetryable).toBe(false);
  });

  it('a /v1 base URL (HTML 404) → ComeetInvalidResponse, never alreadyGone', async () => {
    const { sim } = await setup({ seed: { candidates: seeds() } });
    const comeet = new ComeetClient({ baseUrl: `${sim.url}/v1`, apiKey: API_KEY, secret: SECRET });
    closers.push(() => comeet.close());
    const env = new MockActivityEnvironment(undefined, { logger: new CapturingLogger() });
    const f = await failureOf(erase(env, createActivities({ comeet, receipts: (await testReceiptKeys()).signer }), '63.ZEC', 'delete'));
    expect(f.type).toBe('ComeetInvalidResponse');
    expect(f.nonRetryable).toBe(true);
  });
});

describe('getInterviewSchedules activity', () => {
  it('returns the open interviews with their times for the given candidates, in order', async () => {
    const { sim, activities, env } = await setup({ seed: { candidates: seeds() } });
    sim.scheduleInterview('33.ZEB', '+1d', 45);
    const phoneAt = sim.candidate('33.ZEA')!.current_steps[1]!.time_scheduled;
    const laterAt = sim.candidate('33.ZEB')!.current_steps.at(-1)!.time_scheduled;
    expect(laterAt).not.toBeNull();

    const r = await run(env, activities.getInterviewSchedules, { candidateUids: ['33.ZEB', '33.ZEA', '33.ZEC'] });
    expect(r).toEqual([
      { uid: '33.ZEB', personUid: '63.ZEB', status: 'In progress', openInterviews: [{ type: 'Phone Interview', scheduledAt: laterAt }] },
      {
        uid: '33.ZEA',
        personUid: '63.ZEB',
        status: 'In progress',
        openInterviews: [
          { type: 'Phone Interview', scheduledAt: phoneAt },
          { type: 'In person Interview', scheduledAt: null },
        ],
      },
      { uid: '33.ZEC', personUid: '63.ZEC', status: 'Withdrawn', openInterviews: [] },
    ]);
    expect(JSON.stringify(r)).not.toContain(FIRST);
    expect(sim.stats().byRoute).toEqual({ 'GET /candidates/:uid': 3 });
  });

  it('drops an interview once it is over', async () => {
    const { sim, activities, env } = await setup({ seed: { candidates: seeds() } });
    sim.advanceClock(3 * 3_600_000); // past the 30-minute phone screen at +2h
    const [c] = await run(env, activities.getInterviewSchedules, { candidateUids: ['33.ZEA'] });
    expect(c?.openInterviews).toEqual([{ type: 'In person Interview', scheduledAt: null }]);
  });

  it('an unknown candidate → ComeetNotFound, non-retryable (not "already gone")', async () => {
    const { activities, env } = await setup({ seed: { candidates: seeds() } });
    const f = await failureOf(run(env, activities.getInterviewSchedules, { candidateUids: ['99.NOPE'] }));
    expect(f.type).toBe('ComeetNotFound');
    expect(f.nonRetryable).toBe(true);
  });
});

// ---- paged lookups: checkpoint in the heartbeat, lost pages read again (issue 10 items 3, 11) ----

describe('lookup activities on a paged answer', () => {
  /** Random draws for the simulator's fault check, in order, then "no fault". */
  const draws =
    (...xs: number[]) =>
    () =>
      xs.shift() ?? 0.99;
  /** The subject's four candidates, one a page (page size 1 on the simulator). */
  const paged = (): SimCandidateSeed[] =>
    ['A', 'B', 'C', 'D'].map((x) => ({
      uid: `34.PG${x}`,
      person_uid: '64.PAGE',
      first_name: FIRST,
      last_name: LAST,
      email: EMAIL,
      status: 'Rejected' as const,
    }));

  it('heartbeats a checkpoint after each page, without the email, and a retry resumes at the next page', async () => {
    const { sim, activities, env } = await setup({ pageSize: 1, seed: { candidates: paged() } });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const full = await run(env, activities.findCandidatesByEmail, { email: EMAIL });
    expect(full.persons.map((p) => p.candidates.length)).toEqual([4]);
    expect(JSON.stringify(beats)).not.toContain('zeb');
    const afterTwo = beats.find((b) => (b as { progress?: { pagesRead: number } } | undefined)?.progress?.pagesRead === 2);
    expect(afterTwo).toMatchObject({ progress: { strategy: 'candidates-filter', pagesRead: 2 }, found: [{ uid: '34.PGA' }, { uid: '34.PGB' }] });

    // The next attempt (another worker, say) starts from those details: pages 3 and 4 only.
    sim.resetStats();
    const retry = new MockActivityEnvironment({ heartbeatDetails: JSON.parse(JSON.stringify(afterTwo)) }, { logger: new CapturingLogger() });
    const resumed = await run(retry, activities.findCandidatesByEmail, { email: EMAIL });
    expect(resumed).toEqual(full);
    expect(sim.stats().byRoute).toEqual({ 'GET /candidates': 2 });
  });

  it('ignores heartbeat details that are not a checkpoint of this strategy, and starts at page 1', async () => {
    const { sim, activities } = await setup({ pageSize: 1, seed: { candidates: paged() } }, {}, 'scan');
    // A finished checkpoint of another strategy would read as "nobody found" if it were taken.
    const other = { progress: { strategy: 'candidates-filter', next: null, storable: true, pagesRead: 4, visited: [], seen: 4, withoutEmail: 0 }, found: [] };
    for (const heartbeatDetails of [other, 'junk', { progress: 1 }]) {
      sim.resetStats();
      const env = new MockActivityEnvironment({ heartbeatDetails }, { logger: new CapturingLogger() });
      const r = await run(env, activities.findCandidatesByEmail, { email: EMAIL });
      expect(r.persons.map((p) => p.candidates.length)).toEqual([4]);
      expect(sim.stats().byRoute['GET /candidates']).toBe(4);
    }
  });

  it('reads a lost page (5xx) again inside the attempt', async () => {
    // Page 1 passes, then page 2 is lost twice before it comes.
    const { sim, activities, env } = await setup({ pageSize: 1, faults: { errorRate: 0.5 }, random: draws(0.99, 0, 0), seed: { candidates: paged() } });
    const r = await run(env, activities.findCandidatesByEmail, { email: EMAIL });
    expect(r.persons.map((p) => p.candidates.length)).toEqual([4]);
    expect(sim.stats().byRoute).toEqual({ 'GET /candidates': 4 + 2 });
    expect(sim.stats().byStatus['503']).toBe(2);
  });

  it('fails the attempt after the page retries, leaving the checkpoint at the lost page', async () => {
    const { sim, activities, env } = await setup({ pageSize: 1, faults: { errorRate: 0.5 }, random: draws(0.99, 0, 0, 0, 0), seed: { candidates: paged() } });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const f = await failureOf(run(env, activities.findCandidatesByEmail, { email: EMAIL }));
    expect(f.type).toBe('ComeetServerError');
    expect(f.nonRetryable).toBe(false);
    expect(sim.stats().byRoute).toEqual({ 'GET /candidates': 1 + 4 });
    expect(beats.at(-1)).toMatchObject({ progress: { pagesRead: 1 }, found: [{ uid: '34.PGA' }] });
  });

  it('does not read a page again on a 429: the attempt fails with Retry-After as its delay', async () => {
    const { sim, activities, env } = await setup({ pageSize: 1, faults: { rateLimitBurst: 1 }, seed: { candidates: paged() } });
    const f = await failureOf(run(env, activities.findCandidatesByEmail, { email: EMAIL }));
    expect(f.type).toBe('ComeetRateLimited');
    expect(f.nextRetryDelay).toBe(1000);
    expect(sim.stats().total).toBe(1);
  });

  it('candidates without an email → ComeetEmailsHidden, non-retryable, naming the permission', async () => {
    const { activities, env } = await setup({
      seed: { candidates: seeds() },
      permissions: ['candidates:read_other_sources', 'candidates:read_own_source', 'persons:erase'],
    });
    for (const activity of [activities.findCandidatesByEmail, activities.verifyAbsence]) {
      const f = await failureOf(run(env, activity, { email: EMAIL }));
      expect(f.type).toBe('ComeetEmailsHidden');
      expect(f.nonRetryable).toBe(true);
      expect(f.details).toEqual([{ permission: 'Candidates: Include source contact personal details in candidate object' }]);
      expect(f.message).not.toContain(EMAIL);
    }
  });
});

// ---- one Comeet call per activity: the workflow carries the cursor (issue 11 item 1) ----

describe('lookupPage / getCandidateSchedule activities', () => {
  const paged = (): SimCandidateSeed[] =>
    ['A', 'B', 'C', 'D'].map((x) => ({
      uid: `35.PG${x}`,
      person_uid: '65.PAGE',
      first_name: FIRST,
      last_name: LAST,
      email: EMAIL,
      status: 'Rejected' as const,
    }));
  type PageInput = Parameters<Activities['lookupPage']>[0];

  /** Walks a lookup the way the workflow does: the progress goes through JSON (history) between pages. */
  async function walk(s: Setup, strategy?: LookupStrategy) {
    const pages: Awaited<ReturnType<Activities['lookupPage']>>[] = [];
    let input: PageInput = strategy ? { email: EMAIL, strategy } : { email: EMAIL };
    for (;;) {
      const before = s.sim.stats().total;
      const page = await run(s.env, s.activities.lookupPage, JSON.parse(JSON.stringify(input)) as PageInput);
      expect(s.sim.stats().total - before).toBe(1);
      pages.push(page);
      if (page.done) return pages;
      input = { email: EMAIL, progress: page.progress! };
    }
  }

  it.each(['candidates-filter', 'scan'] as const)('reads exactly one page per activity, with a cursor free of the email (%s)', async (strategy) => {
    const s = await setup({ pageSize: 2, seed: { candidates: [...seeds(), ...paged()] } });
    const pages = await walk(s, strategy);
    expect(pages.length).toBe(strategy === 'scan' ? 5 : 4); // 9 candidates, 7 of them the subject's
    expect(pages.at(-1)).toEqual({ found: expect.any(Array), done: true });
    const found = pages.flatMap((p) => p.found);
    expect(found.map((f) => f.uid).sort()).toEqual(['33.ZEA', '33.ZEB', '33.ZEC', '35.PGA', '35.PGB', '35.PGC', '35.PGD']);
    expect(found.find((f) => f.uid === '33.ZEA')).toMatchObject({
      personUid: '63.ZEB',
      status: 'In progress',
      openInterviews: [{ type: 'Phone Interview' }, { type: 'In person Interview' }],
    });
    const text = JSON.stringify(pages).toLowerCase();
    for (const pii of ['zeb@', FIRST, LAST, '555']) expect(text).not.toContain(pii.toLowerCase());
    expect(pages[0]!.progress).toMatchObject({ strategy, pagesRead: 1, storable: true });
    expect(s.sim.stats().byRoute).toEqual({ 'GET /candidates': pages.length });
  });

  it('a call that answers at once sends no heartbeat (each is a server write); one that takes longer beats from 5 s on', async () => {
    const s = await setup({ pageSize: 2, seed: { candidates: [...seeds(), ...paged()] } });
    const beats: unknown[] = [];
    s.env.on('heartbeat', (d: unknown) => beats.push(d));
    await run(s.env, s.activities.lookupPage, { email: EMAIL });
    await run(s.env, s.activities.getCandidateSchedule, { candidateUid: '35.PGA' });
    await run(s.env, s.activities.getInterviewSchedules, { candidateUids: ['35.PGA'] });
    expect((await erase(s.env, s.activities, '65.PAGE', 'delete')).personUid).toBe('65.PAGE');
    expect(beats).toEqual([]);

    // A worker that dies mid-call is seen through the 30 s heartbeat timeout: a slow call still beats.
    const slow = await setup({ faults: { latencyMs: 5_600 }, seed: { candidates: paged() } }, { responseTimeoutMs: 10_000 });
    const slowBeats: unknown[] = [];
    slow.env.on('heartbeat', (d: unknown) => slowBeats.push(d));
    expect((await run(slow.env, slow.activities.lookupPage, { email: EMAIL })).found).toHaveLength(4);
    expect(slowBeats.length).toBe(1);
  }, 20_000);

  it('the hidden-email rule holds across pages: a scan fails only at its last page, a filter at its first', async () => {
    const hidden = { permissions: ['candidates:read_other_sources', 'candidates:read_own_source', 'persons:erase'] as SimulatorOptions['permissions'] };
    const scan = await setup({ ...hidden, pageSize: 2, seed: { candidates: seeds() } }, {}, 'scan');
    const first = await run(scan.env, scan.activities.lookupPage, { email: EMAIL });
    const second = await run(scan.env, scan.activities.lookupPage, { email: EMAIL, progress: first.progress! });
    expect([first.done, second.done]).toEqual([false, false]);
    const f = await failureOf(run(scan.env, scan.activities.lookupPage, { email: EMAIL, progress: second.progress! }));
    expect(f.type).toBe('ComeetEmailsHidden');
    expect(f.nonRetryable).toBe(true);
    expect(scan.sim.stats().total).toBe(3);

    const filter = await setup({ ...hidden, pageSize: 2, seed: { candidates: seeds() } });
    expect((await failureOf(run(filter.env, filter.activities.lookupPage, { email: EMAIL }))).type).toBe('ComeetEmailsHidden');
    expect(filter.sim.stats().total).toBe(1);
  });

  it('a lost page or a 429 fails the attempt after its one call: Temporal retries it (a dispatch the cap counts)', async () => {
    const lost = await setup({ pageSize: 1, faults: { errorRate: 0.5 }, random: () => 0, seed: { candidates: paged() } });
    const f = await failureOf(run(lost.env, lost.activities.lookupPage, { email: EMAIL }));
    expect(f.type).toBe('ComeetServerError');
    expect(f.nonRetryable).toBe(false);
    expect(lost.sim.stats().total).toBe(1);

    const limited = await setup({ pageSize: 1, faults: { rateLimitBurst: 1 }, seed: { candidates: paged() } });
    const r = await failureOf(run(limited.env, limited.activities.lookupPage, { email: EMAIL }));
    expect(r.type).toBe('ComeetRateLimited');
    expect(r.nextRetryDelay).toBe(1000);
    expect(limited.sim.stats().total).toBe(1);
  });

  it('refuses a cursor that is not one (or quotes nothing it may), without a call and without quoting it', async () => {
    const s = await setup({ pageSize: 1, seed: { candidates: paged() } });
    const ok = await run(s.env, s.activities.lookupPage, { email: EMAIL });
    for (const progress of [{ ...ok.progress!, storable: false }, { ...ok.progress!, pagesRead: -1 }, 'junk']) {
      const f = await failureOf(run(s.env, s.activities.lookupPage, { email: EMAIL, progress } as unknown as PageInput));
      expect(f.type).toBe('InvalidInput');
      expect(f.nonRetryable).toBe(true);
      expect(f.message).not.toContain(EMAIL);
    }
    expect(s.sim.stats().total).toBe(1);
  });

  it('getCandidateSchedule reads one candidate in one call, as getInterviewSchedules does', async () => {
    const { sim, activities, env } = await setup({ seed: { candidates: seeds() } });
    sim.scheduleInterview('33.ZEB', '+1d', 45);
    const [expected] = await run(env, activities.getInterviewSchedules, { candidateUids: ['33.ZEB'] });
    sim.resetStats();
    expect(await run(env, activities.getCandidateSchedule, { candidateUid: '33.ZEB' })).toEqual(expected);
    expect(sim.stats().byRoute).toEqual({ 'GET /candidates/:uid': 1 });
    expect((await failureOf(run(env, activities.getCandidateSchedule, { candidateUid: '99.NOPE' }))).type).toBe('ComeetNotFound');
  });

  describe('the receipt signed with the lookup that proves absence', () => {
    const draft = (): ReceiptDraft => ({
      requestId: 'r-1',
      workflowId: 'dsar-0123456789abcdef0123456789abcdef',
      runId: '5b1f2f0e-7d0c-4a36-9f0e-2b8d6d7b9a11',
      subjectHash: '0123456789abcdef0123456789abcdef',
      outcome: 'completed',
      mode: 'delete',
      regulation: 'gdpr',
      dryRun: false,
      receivedAt: '2026-01-01T00:00:00.000Z',
      deadline: '2026-02-01T00:00:00.000Z',
      startedAt: '2026-01-01T00:00:00.000Z',
      persons: [{ personUid: '63.ZEB', candidateUids: ['33.ZEA'], count: 1, erasedAt: '2026-01-01T00:00:01.000Z', alreadyGone: false }],
      totals: { persons: 1, candidates: 1 },
      lookups: 2,
    });

    it('signs the claims it was sent, with the time absence was seen, on the last page of a lookup that found nobody', async () => {
      const s = await setup({ pageSize: 2, seed: { candidates: seeds().filter((c) => (c.uid ?? '').startsWith('33.BY')) } });
      const page = await run(s.env, s.activities.lookupPage, { email: EMAIL, receipt: draft() });
      expect(page.done).toBe(true);
      expect(page.found).toEqual([]);
      const { receipt } = await verifyReceipt(page.receipt!.jws, { jwks: (await testReceiptKeys()).jwks });
      expect(receipt).toMatchObject({ ...draft(), verifiedAbsentAt: page.receipt!.verifiedAbsentAt, finishedAt: page.receipt!.verifiedAbsentAt });
      expect(page.receipt!.keyId).toBe((await testReceiptKeys()).keyId);
      expect(s.sim.stats().total).toBe(1);
    });

    it('signs nothing when the lookup finds the subject, or on a page that is not the last', async () => {
      const found = await setup({ seed: { candidates: seeds() } });
      const page = await run(found.env, found.activities.lookupPage, { email: EMAIL, receipt: draft() });
      expect(page.found.length).toBeGreaterThan(0);
      expect(page.receipt).toBeUndefined();
      const paging = await setup({
        pageSize: 1,
        seed: {
          candidates: [...seeds().filter((c) => (c.uid ?? '').startsWith('33.BY')), ...seeds().filter((c) => (c.uid ?? '').startsWith('33.BY'))].map(
            (c, i) => ({
              ...c,
              uid: `${c.uid}${i}`,
            }),
          ),
        },
      });
      const first = await run(paging.env, paging.activities.lookupPage, { email: EMAIL, strategy: 'scan', receipt: draft() });
      expect(first.done).toBe(false);
      expect(first.receipt).toBeUndefined();
    });

    it('a signing fault leaves the lookup answered, without a receipt: the workflow signs apart, no second Comeet call', async () => {
      const sim = await startSimulator({ apiKey: API_KEY, secret: SECRET, rateLimit: null, random: () => 0, seed: { candidates: [] } });
      closers.push(() => sim.close());
      const comeet = new ComeetClient({ baseUrl: sim.url, apiKey: API_KEY, secret: SECRET, responseTimeoutMs: 3000 });
      closers.push(() => comeet.close());
      const broken: ReceiptSigner = {
        keyId: 'k-broken',
        alg: 'EdDSA',
        issuer: 'comeet-dsar',
        sign: () => Promise.reject(new Error('key unavailable')),
        publicJwks: async () => ({ keys: [] }),
      };
      const logger = new CapturingLogger();
      const env = new MockActivityEnvironment(undefined, { logger });
      const page = await run(env, createActivities({ comeet, receipts: broken }).lookupPage, { email: EMAIL, receipt: draft() });
      expect(page).toEqual({ found: [], done: true });
      expect(sim.stats().total).toBe(1);
      expect(JSON.stringify(logger.lines)).toContain('Receipt not signed with the lookup');
    });
  });
});
