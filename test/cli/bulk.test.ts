/**
 * `dsar erase --file`: CSV parsing and row checks as fast unit tests, then the command end to end
 * against a real Temporal dev server (no worker: started workflows simply stay running, which is
 * what a re-run must attach to). Every line the CLI prints is checked for email addresses.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BulkInputError,
  MAX_BYTES,
  MAX_ROWS,
  parseCsv,
  planBulkErasure,
  progressReporter,
  REDRAW,
  startAll,
  summarize,
  type BulkSummary,
  type Progress,
  type StartOne,
} from '../../src/cli/bulk.js';
import { runCli } from '../../src/cli/main.js';
import { erasureWorkflowId } from '../../src/client.js';
import { AesGcmPayloadCodec, parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { createDataConverter } from '../../src/codec/data-converter.js';
import type { ErasureInput } from '../../src/erasure-request.js';
import { TEST_ENCRYPTION_KEYS } from '../helpers/scenario.js';
import { startDevServer, taskQueueFor } from '../helpers/temporal.js';

const NO_DEFAULTS = { dryRun: false };
const PROGRESS_LINE = /^(?:\x1b\[1A\r\x1b\[2K)?\[[#-]{20}\] (\d+)\/(\d+) started (\d+) attached (\d+) failed (\d+)$/;

describe('parseCsv', () => {
  it('reads RFC 4180 quoting, CRLF/LF/CR, a BOM, blank lines and padding, numbering rows by their first line', () => {
    const text = '\uFEFFemail,note\r\n"a,b ""quoted""" , plain  \r\n\r\n   \n,,\n "multi\nline",x\rlast,"" \n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['email', 'note'] },
      { line: 2, fields: ['a,b "quoted"', 'plain'] },
      { line: 6, fields: ['multi\nline', 'x'] },
      { line: 8, fields: ['last', ''] },
    ]);
    expect(parseCsv('email\nno-newline-at-end')).toEqual([
      { line: 1, fields: ['email'] },
      { line: 2, fields: ['no-newline-at-end'] },
    ]);
    expect(parseCsv('')).toEqual([]);
  });

  it('refuses broken quoting with the row and what to do', () => {
    expect(() => parseCsv('email\nok\n"never closed,x\nmore\n')).toThrow(/^row 3: a quoted field starts here and is never closed/);
    expect(() => parseCsv('email\n"a"b,c\n')).toThrow(/^row 2: text follows a closing quote; write a " inside a quoted field as ""/);
    expect(() => parseCsv('email\n"a"b,c\n')).toThrow(BulkInputError);
  });
});

describe('planBulkErasure', () => {
  it('fills empty cells from the flags, merges rows of one person and keeps different tickets as duplicates', () => {
    const plan = planBulkErasure(
      [
        'Email,MODE,request_id,Received At,dryRun,regulation',
        'a@example.com,,T-1,,,',
        'b@example.com,Delete,,2026-01-05T09:00:00Z,YES,GDPR',
        '  A@EXAMPLE.com ,,T-2,,no,',
        'B@example.com,delete,,2026-01-05T09:00:00.000Z,y,gdpr',
      ].join('\n'),
      { mode: 'pseudonymize', regulation: 'ccpa', dryRun: false },
    );
    expect(plan.rows).toBe(4);
    expect(plan.invalid).toEqual([]);
    expect(plan.requests).toEqual([
      { row: 2, request: { email: 'a@example.com', mode: 'pseudonymize', regulation: 'ccpa', requestId: 'T-1', dryRun: false } },
      { row: 3, request: { email: 'b@example.com', mode: 'delete', regulation: 'gdpr', receivedAt: '2026-01-05T09:00:00Z', dryRun: true } },
    ]);
    expect(plan.duplicates).toEqual([
      { row: 4, duplicateOf: 2, requestId: 'T-2' },
      { row: 5, duplicateOf: 3 },
    ]);
  });

  it('takes the tenant from its column or --tenant; a cell other than --tenant is a bad row; one request per person and tenant', () => {
    const text = [
      'email,tenant',
      'a@example.com,acme',
      'a@example.com,Globex',
      'a@example.com,',
      'b@example.com,default',
      'A@example.com,ACME',
      'c@example.com,Acme Co',
    ].join('\n');
    const plan = planBulkErasure(text, NO_DEFAULTS);
    expect(plan.requests).toEqual([
      { row: 2, request: expect.objectContaining({ email: 'a@example.com', tenant: 'acme' }) },
      { row: 3, request: expect.objectContaining({ email: 'a@example.com', tenant: 'globex' }) },
      { row: 4, request: expect.not.objectContaining({ tenant: expect.anything() }) },
      // `default` is the single-account setup: its requests go in as before tenants, with no tenant field.
      { row: 5, request: expect.not.objectContaining({ tenant: expect.anything() }) },
    ]);
    expect(plan.duplicates).toEqual([{ row: 6, duplicateOf: 2 }]);
    expect(plan.invalid).toEqual([{ row: 7, error: 'tenant: a tenant id is 2-31 characters of a-z, 0-9 and -, starting with a letter (e.g. acme), or empty' }]);

    const scoped = planBulkErasure(text, { ...NO_DEFAULTS, tenant: 'acme' });
    // Row 4's empty cell is --tenant's acme: the same person as row 2 there.
    expect(scoped.requests.map((r) => [r.row, r.request.tenant])).toEqual([[2, 'acme']]);
    expect(scoped.invalid).toEqual([
      { row: 3, error: 'tenant names another tenant than --tenant acme; leave the cell empty or make the two agree' },
      { row: 5, error: 'tenant names another tenant than --tenant acme; leave the cell empty or make the two agree' },
      { row: 7, error: expect.stringMatching(/^tenant: a tenant id is/) },
    ]);
    expect(scoped.duplicates).toEqual([
      { row: 4, duplicateOf: 2 },
      { row: 6, duplicateOf: 2 },
    ]);
  });

  it('makes every row a dry run under --dry-run, whatever its dryRun cell says', () => {
    const plan = planBulkErasure('email,dryRun\na@example.com,false\nb@example.com,\n', { dryRun: true });
    expect(plan.requests.map((r) => r.request.dryRun)).toEqual([true, true]);
  });

  it('reports every bad row by number with what to fix, never echoing the values', () => {
    const plan = planBulkErasure(
      [
        'email,mode,deadline,dryRun,requestId',
        'not-an-email,,,,',
        'x@example.com,destroy,tomorrow,maybe,',
        'y@example.com,,,,"R,1"',
        'z@example.com,,,',
        'ok@example.com,,,,',
        'OK@example.com,pseudonymize,,,',
        ',delete,,,',
      ].join('\r\n'),
      NO_DEFAULTS,
    );
    expect(plan.requests.map((r) => r.row)).toEqual([6]);
    expect(plan.invalid).toEqual([
      { row: 2, error: 'email is not a valid email address' },
      {
        row: 3,
        error: expect.stringMatching(/^dryRun must be true or false .*; mode must be "delete" or "pseudonymize"; deadline: must be an ISO 8601 date-time/),
      },
      { row: 4, error: 'requestId may only contain letters, digits and . _ : / -' },
      { row: 5, error: 'has 4 field(s) but the header has 5; quote fields that contain commas' },
      { row: 7, error: 'same person as row 6 but a different mode; keep one row per person' },
      { row: 8, error: 'email is required' },
    ]);
    expect(JSON.stringify(plan.invalid)).not.toMatch(/@|not-an-email|destroy|tomorrow|maybe/);
  });

  it('refuses unusable headers, naming only columns that look like identifiers', () => {
    const header = (text: string) => () => planBulkErasure(text, NO_DEFAULTS);
    expect(header('email,notes,,Jane Doe,mode\n')).toThrow(
      /unknown column\(s\): notes, column 3 \(no name\), column 4 \(name not shown\)\.\nColumns: email \(required\)/,
    );
    const data = (() => {
      try {
        planBulkErasure('jane.doe@example.com,Jane,delete\nx@example.com,X,delete\n', NO_DEFAULTS);
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(data).toMatch(/no email column \(the first row looks like data: add a first row naming the columns/);
    expect(data).toContain('column 1 (name not shown), column 2 (name not shown), column 3 (name not shown)');
    expect(data).not.toMatch(/jane|@|delete/i);
    expect(header('email;mode\nx@example.com;delete\n')).toThrow(/seems to use ; or tabs between fields/);
    expect(header('email,requestId,request_id\n')).toThrow(/named more than once: requestId/);
    expect(header('mode\ndelete\n')).toThrow(/there is no email column/);
    expect(header('\uFEFF\r\n\r\n')).toThrow(/The file is empty: it needs a header row/);
    expect(planBulkErasure('email\r\n', NO_DEFAULTS)).toEqual({ rows: 0, requests: [], duplicates: [], invalid: [] });
  });

  it(`refuses more than ${MAX_ROWS} rows before checking any`, () => {
    const rows = (n: number) => `email\n${Array.from({ length: n }, (_, i) => `s${i}@example.com`).join('\n')}\n`;
    expect(planBulkErasure(rows(MAX_ROWS), NO_DEFAULTS).requests).toHaveLength(MAX_ROWS);
    expect(() => planBulkErasure(rows(MAX_ROWS + 1), NO_DEFAULTS)).toThrow(`The file has more than ${MAX_ROWS} rows: split it`);
  });
});

describe('startAll', () => {
  const requests = (n: number) => planBulkErasure(`email\n${Array.from({ length: n }, (_, i) => `p${i}@example.com`).join('\n')}`, NO_DEFAULTS).requests;

  it('keeps at most `concurrency` starts in flight, records failures without emails and goes on', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const start: StartOne = async (request) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      if (request.email === 'p3@example.com') throw new Error(`server said no for ${request.email}`);
      return { workflowId: `wf-${request.email.split('@')[0]}`, runId: 'r', attached: request.email === 'p5@example.com' };
    };
    const progress: Progress[] = [];
    const result = await startAll(requests(20), { concurrency: 4, start, onProgress: (p) => progress.push(p) });
    expect(maxInFlight).toBe(4);
    expect(result.stoppedBecause).toBeUndefined();
    expect(result.outcomes[3]).toEqual({ status: 'failed', error: 'server said no for <email>' });
    expect(result.outcomes[5]).toEqual({ status: 'attached', workflowId: 'wf-p5', runId: 'r' });
    expect(result.outcomes.filter((o) => o.status === 'started')).toHaveLength(18);
    expect(progress[0]).toEqual({ total: 20, done: 0, started: 0, attached: 0, failed: 0 });
    expect(progress.at(-1)).toEqual({ total: 20, done: 20, started: 18, attached: 1, failed: 1 });
  });

  it('stops trying after a long run of failures, leaving the rest not started', async () => {
    const result = await startAll(requests(30), {
      concurrency: 1,
      start: () => Promise.reject(new Error('14 UNAVAILABLE: connection refused')),
      giveUpAfterFailuresInARow: 5,
    });
    expect(result.outcomes.filter((o) => o.status === 'failed')).toHaveLength(5);
    expect(result.outcomes.filter((o) => o.status === 'not_started')).toHaveLength(25);
    expect(result.stoppedBecause).toBe('the last 5 starts all failed (last error: 14 UNAVAILABLE: connection refused)');
    const summary = summarize({ rows: 30, requests: requests(30), duplicates: [], invalid: [] }, 'stopped', result);
    expect(summary).toMatchObject({ failed: 5, notStarted: 25, started: 0 });
  });
});

describe('progressReporter', () => {
  const steps = (total: number) => Array.from({ length: total + 1 }, (_, done) => ({ total, done, started: done, attached: 0, failed: 0 }));

  it('prints a line at every 10% and at the end when stderr is not a terminal', () => {
    const lines: string[] = [];
    const report = progressReporter({ err: (l) => lines.push(l) });
    steps(25).forEach(report);
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe('[##------------------] 3/25 started 3 attached 0 failed 0');
    expect(lines.at(-1)).toBe('[####################] 25/25 started 25 attached 0 failed 0');
    const few: string[] = [];
    const reportFew = progressReporter({ err: (l) => few.push(l) });
    steps(3).forEach(reportFew);
    expect(few.map((l) => l.match(PROGRESS_LINE)![1])).toEqual(['1', '2', '3']);
  });

  it('redraws one line on a terminal, at most every 100 ms but always at the end', () => {
    const lines: string[] = [];
    let now = 0;
    const report = progressReporter({ err: (l) => lines.push(l), isTTY: true }, () => now);
    for (const p of steps(10)) {
      report(p);
      now += 60;
    }
    expect(lines[0]).toBe('[--------------------] 0/10 started 0 attached 0 failed 0');
    expect(lines.slice(1).every((l) => l.startsWith(REDRAW))).toBe(true);
    expect(lines.length).toBeLessThan(11);
    expect(lines.at(-1)).toBe(`${REDRAW}[####################] 10/10 started 10 attached 0 failed 0`);
  });
});

describe('dsar erase --file against Temporal', () => {
  let env: TestWorkflowEnvironment;
  const codec = new AesGcmPayloadCodec(parseEncryptionKeys(TEST_ENCRYPTION_KEYS));
  beforeAll(async () => {
    env = await startDevServer();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  /** A task queue, id key and scratch directory of its own, and the CLI pointed at them. */
  function bulk(title: string, extraEnv: Record<string, string> = {}) {
    const taskQueue = taskQueueFor(title);
    const idKey = randomBytes(32).toString('hex');
    const dir = mkdtempSync(join(tmpdir(), 'dsar-bulk-'));
    return {
      taskQueue,
      dir,
      id: (email: string) => erasureWorkflowId(email, idKey),
      file(name: string, text: string) {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      },
      async dsar(argv: string[], options: { stdin?: string; isTTY?: boolean } = {}) {
        const out: string[] = [];
        const err: string[] = [];
        const code = await runCli(argv, {
          out: (l) => out.push(l),
          err: (l) => err.push(l),
          stdin: options.stdin === undefined ? undefined : () => options.stdin!,
          isTTY: options.isTTY,
          env: { DSAR_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS, TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: taskQueue, DSAR_ID_KEY: idKey, ...extraEnv },
        });
        // The one rule that holds for every command and outcome: no email address, anywhere.
        expect([...out, ...err].join('\n')).not.toContain('@');
        return { code, out: out.join('\n'), err, errText: err.join('\n') };
      },
      /** Workflow ids on this test's task queue (visibility is eventually consistent: waits for `expected`). */
      async workflowsOnQueue(expected: number): Promise<string[]> {
        for (let i = 0; ; i++) {
          const ids: string[] = [];
          // The CLI's client: runs carry an encrypted memo (their registrations), which a plain client cannot decode.
          const client = new Client({
            connection: env.connection,
            namespace: env.namespace ?? 'default',
            dataConverter: createDataConverter(parseEncryptionKeys(TEST_ENCRYPTION_KEYS)),
          });
          for await (const wf of client.workflow.list({ query: `TaskQueue="${taskQueue}"` })) ids.push(wf.workflowId);
          if (ids.length >= expected || i >= 50) return ids.sort();
          await new Promise((r) => setTimeout(r, 100));
        }
      },
    };
  }

  /** What a workflow was started with, decrypted with the CLI's keys. */
  async function startedWith(workflowId: string): Promise<ErasureInput> {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    const [input] = await codec.decode(payloads);
    return defaultPayloadConverter.fromPayload<ErasureInput>(input!);
  }

  const MIXED =
    '\uFEFF"email", Mode ,request_id,received_at,dryRun,Regulation\r\n' +
    'alice@example.com,,REQ-1,,,\r\n' +
    '"bob@example.com","Delete","REQ-2", 2026-01-05T09:00:00Z ,no,GDPR\r\n' +
    '\r\n' +
    '  ALICE@Example.COM  ,,REQ-1b,,,  \n' +
    '"carol@example.com",,"REQ ""3"", x",,,\n' +
    'dave@example.com,,,,yes,\r\n' +
    ',,,,,\r\n' +
    '" Bob@Example.com ",delete,,2026-01-05T09:00:00.000Z,,gdpr\n' +
    'erin@example.com,,,,,ccpa';

  it('starts one request per person from a mixed file, skipping the invalid row when asked', async () => {
    const b = bulk('bulk mixed');
    const run = await b.dsar([
      'erase',
      '--file',
      b.file('subjects.csv', MIXED),
      '--mode',
      'pseudonymize',
      '--regulation',
      'ccpa',
      '--skip-invalid',
      '--concurrency',
      '3',
    ]);
    expect(run.code).toBe(0);
    expect(run.err).toContain('row 6: requestId may only contain letters, digits and . _ : / -');
    expect(run.out).toMatch(
      /Rows in the file +7\n +valid +6\n +invalid +1 +\(skipped\)\n +duplicates +2 +\(same person as an earlier row: one request\)\nRequests +4\n +started +4\n +attached +0\n +failed +0/,
    );

    const [alice, bob, dave, erin] = ['alice@example.com', 'bob@example.com', 'dave@example.com', 'erin@example.com'].map(b.id) as [
      string,
      string,
      string,
      string,
    ];
    expect(await b.workflowsOnQueue(4)).toEqual([alice, bob, dave, erin].sort());
    expect(await startedWith(alice)).toMatchObject({ email: 'alice@example.com', mode: 'pseudonymize', regulation: 'ccpa', requestId: 'REQ-1', dryRun: false });
    expect(await startedWith(bob)).toMatchObject({
      email: 'bob@example.com',
      mode: 'delete',
      regulation: 'gdpr',
      requestId: 'REQ-2',
      receivedAt: '2026-01-05T09:00:00Z',
      dryRun: false,
    });
    expect(await startedWith(dave)).toMatchObject({ mode: 'pseudonymize', regulation: 'ccpa', dryRun: true });
    expect(await startedWith(erin)).toMatchObject({ mode: 'pseudonymize', regulation: 'ccpa', dryRun: false });
    await expect(env.client.workflow.getHandle(b.id('carol@example.com')).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('starts nothing when a row is invalid, and lists the bad rows by number', async () => {
    const b = bulk('bulk invalid');
    const file = b.file(
      'subjects.csv',
      'email,mode,deadline\nfirst@example.com,,\nsecond@example.com,destroy,\n\nthird@example.com,,next week\nnot-an-email,,\nfourth@example.com,,\n',
    );
    const run = await b.dsar(['erase', '--file', file]);
    expect(run.code).toBe(2);
    expect(run.err).toEqual([
      'row 3: mode must be "delete" or "pseudonymize"',
      expect.stringMatching(/^row 5: deadline: must be an ISO 8601 date-time such as 2026-05-01T09:00:00Z/),
      'row 6: email is not a valid email address',
      'Nothing was started: fix the rows above, or pass --skip-invalid to start the valid rows only.',
    ]);
    expect(run.out).toMatch(/invalid +3 +\(nothing was started because of them\)/);
    expect(run.out).toMatch(/started +0\n/);
    for (const email of ['first@example.com', 'fourth@example.com']) {
      await expect(env.client.workflow.getHandle(b.id(email)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    }
    expect(await b.workflowsOnQueue(0)).toEqual([]);
  });

  it('attaches every row when the same file is run again (from stdin), and says so in the JSON summary', async () => {
    const b = bulk('bulk rerun');
    const csv = 'email,requestId\nr1@example.com,A-1\nr2@example.com,A-2\nR1@example.com,A-3\n';
    const first = await b.dsar(['erase', '--file', b.file('subjects.csv', csv), '--json']);
    expect(first.code).toBe(0);
    const firstSummary = JSON.parse(first.out) as BulkSummary;
    expect(firstSummary).toMatchObject({ outcome: 'finished', totalRows: 3, valid: 3, duplicates: 1, requests: 2, started: 2, attached: 0, failed: 0 });

    const again = await b.dsar(['erase', '--file', '-', '--json'], { stdin: csv });
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.out) as BulkSummary;
    expect(summary).toMatchObject({ totalRows: 3, requests: 2, started: 0, attached: 2, failed: 0 });
    const r1 = b.id('r1@example.com');
    expect(summary.rows).toEqual([
      { row: 2, status: 'attached', workflowId: r1, runId: firstSummary.rows[0]!.runId, attached: true, requestId: 'A-1' },
      { row: 3, status: 'attached', workflowId: b.id('r2@example.com'), runId: expect.any(String), attached: true, requestId: 'A-2' },
      { row: 4, status: 'duplicate', workflowId: r1, runId: firstSummary.rows[0]!.runId, attached: true, duplicateOf: 2, requestId: 'A-3' },
    ]);
    expect(await b.workflowsOnQueue(2)).toHaveLength(2);
  });

  it('shows progress on stderr: a line every 10% in logs, one redrawn bar on a terminal', async () => {
    const b = bulk('bulk progress');
    const file = b.file('subjects.csv', `email\n${Array.from({ length: 25 }, (_, i) => `prog${i}@example.com`).join('\n')}\n`);
    const logged = await b.dsar(['erase', '--file', file, '--concurrency', '4']);
    expect(logged.code).toBe(0);
    expect(logged.err[0]).toBe('Starting 25 request(s), 4 at a time.');
    const lines = logged.err.slice(1);
    expect(lines).toHaveLength(10);
    const done = lines.map((l) => Number(l.match(PROGRESS_LINE)![1]));
    expect(done).toEqual([...done].sort((x, y) => x - y));
    expect(lines.at(-1)).toBe('[####################] 25/25 started 25 attached 0 failed 0');

    const tty = await b.dsar(['erase', '--file', file, '--concurrency', '4'], { isTTY: true });
    expect(tty.code).toBe(0);
    const bar = tty.err.slice(1);
    expect(bar[0]).toBe('[--------------------] 0/25 started 0 attached 0 failed 0');
    expect(bar.slice(1).every((l) => l.startsWith(REDRAW) && PROGRESS_LINE.test(l))).toBe(true);
    expect(bar.at(-1)).toBe(`${REDRAW}[####################] 25/25 started 0 attached 25 failed 0`);
  });

  it('writes the per-row results to --out, and records failed starts without stopping the run', async () => {
    const b = bulk('bulk failures', { TEMPORAL_NAMESPACE: 'no-such-namespace' });
    const out = join(b.dir, 'results.json');
    const run = await b.dsar(['erase', '--file', b.file('s.csv', 'email\nf1@example.com\nf2@example.com\nF1@example.com\n'), '--out', out]);
    expect(run.code).toBe(1);
    expect(run.err).toEqual(
      expect.arrayContaining([expect.stringMatching(/^row 2: failed: .*no-such-namespace/), expect.stringMatching(/^row 3: failed: .*no-such-namespace/)]),
    );
    expect(run.out).toMatch(/failed +2\n/);
    expect(run.out).toContain('Re-run the same file to retry');
    const written = JSON.parse(readFileSync(out, 'utf8')) as BulkSummary;
    expect(written).toMatchObject({ outcome: 'finished', requests: 2, started: 0, failed: 2 });
    expect(written.rows.map((r) => [r.row, r.status, r.duplicateOf])).toEqual([
      [2, 'failed', undefined],
      [3, 'failed', undefined],
      [4, 'duplicate', 2],
    ]);
    expect(written.rows.every((r) => typeof r.error === 'string' && !r.workflowId)).toBe(true);
    expect(readFileSync(out, 'utf8')).not.toContain('@');
  });

  it('refuses files over the limits, missing files and conflicting flags with exit code 2', async () => {
    const b = bulk('bulk limits');
    const tooManyRows = b.file('many.csv', `email\n${Array.from({ length: MAX_ROWS + 1 }, (_, i) => `m${i}@example.com`).join('\n')}\n`);
    expect(await b.dsar(['erase', '--file', tooManyRows])).toMatchObject({
      code: 2,
      errText: `The file has more than ${MAX_ROWS} rows: split it into files of at most ${MAX_ROWS} rows.`,
    });
    const tooLarge = b.file('large.csv', `email,requestId\nbig@example.com,${'x'.repeat(MAX_BYTES)}\n`);
    expect(await b.dsar(['erase', '--file', tooLarge])).toMatchObject({ code: 2, errText: expect.stringContaining('The file is larger than 20 MB') });
    expect(await b.dsar(['erase', '--file', '-'], { stdin: 'x'.repeat(MAX_BYTES + 1) })).toMatchObject({
      code: 2,
      errText: expect.stringContaining('larger than 20 MB'),
    });
    const missing = await b.dsar(['erase', '--file', join(b.dir, 'nope.csv')]);
    expect(missing).toMatchObject({ code: 2, errText: expect.stringMatching(/^Cannot read ".*nope\.csv": no such file or directory\.$/) });
    writeFileSync(join(b.dir, 'latin1.csv'), Buffer.from('email\ncaf\xe9@example.com\n', 'latin1'));
    expect(await b.dsar(['erase', '--file', join(b.dir, 'latin1.csv')])).toMatchObject({ code: 2, errText: expect.stringContaining('not UTF-8') });

    const ok = b.file('ok.csv', 'email\nok@example.com\n');
    expect(await b.dsar(['erase', '--file', ok, '--email', 'x@example.com'])).toMatchObject({
      code: 2,
      errText: expect.stringContaining('cannot be combined with --email'),
    });
    expect(await b.dsar(['erase', '--file', ok, '--concurrency', '65'])).toMatchObject({
      code: 2,
      errText: '--concurrency must be a whole number from 1 to 64',
    });
    expect(await b.dsar(['erase', '--file', ok, '--mode', 'shred'])).toMatchObject({ code: 2, errText: '--mode must be delete or pseudonymize' });
    expect(await b.dsar(['erase', '--file', ok, '--out', ok])).toMatchObject({ code: 2, errText: expect.stringContaining('--out must not be the --file') });
    expect(await b.dsar(['erase', '--email', 'ok@example.com', '--skip-invalid'])).toMatchObject({
      code: 2,
      errText: '--skip-invalid can only be used with --file',
    });
    expect(await b.workflowsOnQueue(0)).toEqual([]);
  });
});
