/**
 * `dsar erase --file`: one erasure per row of a CSV. Every row is checked before anything starts, so
 * a bad file starts nothing. Output names rows by number and requests by workflow id, never by email.
 * Each start is independent and idempotent (the workflow id is a keyed hash of the email), so an
 * interrupted run is finished by running the same file again. A `tenant` column and/or `--tenant` say
 * whose Comeet account each row is for (none: the default tenant); a row for a tenant that takes no
 * erasures is refused on its own, the others go on.
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { normalizeEmail } from '../email.js';
import { REGULATIONS } from '../deadlines.js';
import { describeIssues } from '../describe-issues.js';
import { erasureRequestSchema, MODES, type ErasureInput, type ParsedErasureInput } from '../erasure-request.js';
import { DEFAULT_TENANT_ID, TENANT_ID_PATTERN, TENANT_ID_RULE } from '../tenants/model.js';

export const MAX_ROWS = 100_000;
export const MAX_BYTES = 20 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 8;
export const MAX_CONCURRENCY = 64;
/** Consecutive failed starts after which the rest are not tried: Temporal is down, or the config is wrong. */
export const GIVE_UP_AFTER_FAILURES_IN_A_ROW = 50;
/** Beyond this many, row errors are counted rather than printed; --json and --out list them all. */
const MAX_ROWS_LISTED = 100;

/**
 * What `connect` throws when the requests must not start at all (e.g. the tenant is not live): the
 * message becomes the summary's reason, instead of "could not connect".
 */
export class BulkStartRefusedError extends Error {
  override name = 'BulkStartRefusedError';
}

/** The file or the flags cannot be used as given: exit code 2, nothing started. */
export class BulkInputError extends Error {
  override name = 'BulkInputError';
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180, leniently: spaces around fields, CRLF/LF/CR, a UTF-8 BOM, blank lines)

export interface CsvRecord {
  /** The line the record starts on (the header is 1): what an editor or a spreadsheet shows. */
  line: number;
  fields: string[];
}

interface Cursor {
  text: string;
  pos: number;
  line: number;
  recordLine: number;
}

const FIELD_END = /[,\r\n]/g;

/** Parses CSV text into trimmed fields; rows whose fields are all empty (blank lines, Excel's `,,,`) are skipped. */
export function parseCsv(text: string, maxRecords = Infinity): CsvRecord[] {
  const c: Cursor = { text, pos: text.charCodeAt(0) === 0xfeff ? 1 : 0, line: 1, recordLine: 1 };
  const records: CsvRecord[] = [];
  while (c.pos < text.length) {
    c.recordLine = c.line;
    const fields = readRecord(c);
    if (fields.every((f) => f === '')) continue;
    if (records.length >= maxRecords) throw new CsvLimitError(maxRecords);
    records.push({ line: c.recordLine, fields });
  }
  return records;
}

export class CsvLimitError extends BulkInputError {
  constructor(readonly maxRecords: number) {
    super(`more than ${maxRecords} records`);
  }
}

function readRecord(c: Cursor): string[] {
  const fields: string[] = [];
  for (;;) {
    fields.push(readField(c));
    if (c.text[c.pos] !== ',') break;
    c.pos++;
  }
  skipLineBreak(c);
  return fields;
}

function readField(c: Cursor): string {
  skipSpaces(c);
  return c.text[c.pos] === '"' ? readQuoted(c) : readUnquoted(c);
}

function readUnquoted(c: Cursor): string {
  FIELD_END.lastIndex = c.pos;
  const end = FIELD_END.exec(c.text)?.index ?? c.text.length;
  const value = c.text.slice(c.pos, end);
  c.pos = end;
  return value.trim();
}

function readQuoted(c: Cursor): string {
  let value = '';
  let pos = c.pos + 1;
  for (;;) {
    const close = c.text.indexOf('"', pos);
    if (close < 0) {
      throw new BulkInputError(`row ${c.recordLine}: a quoted field starts here and is never closed; end it with ", and write a " inside a quoted field as ""`);
    }
    value += c.text.slice(pos, close);
    pos = close + 1;
    if (c.text[pos] !== '"') break;
    value += '"';
    pos++;
  }
  c.line += lineBreaks(value);
  c.pos = pos;
  skipSpaces(c);
  const next = c.text[c.pos];
  if (next !== undefined && next !== ',' && next !== '\r' && next !== '\n') {
    throw new BulkInputError(`row ${c.recordLine}: text follows a closing quote; write a " inside a quoted field as "", and quote the whole field`);
  }
  return value.trim();
}

function skipSpaces(c: Cursor): void {
  while (c.text[c.pos] === ' ' || c.text[c.pos] === '\t') c.pos++;
}

function skipLineBreak(c: Cursor): void {
  if (c.text.startsWith('\r\n', c.pos)) c.pos += 2;
  else if (c.text[c.pos] === '\n' || c.text[c.pos] === '\r') c.pos++;
  else return;
  c.line++;
}

function lineBreaks(s: string): number {
  return s.match(/\r\n|\r|\n/g)?.length ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Header and rows

export const COLUMNS = ['email', 'tenant', 'mode', 'regulation', 'requestId', 'receivedAt', 'deadline', 'dryRun'] as const;
export type Column = (typeof COLUMNS)[number];

/** Header cells match loosely (case, `_`, `-`, spaces): `request_id`, `Request ID` and `requestId` are one column. */
const columnKey = (name: string) => name.toLowerCase().replace(/[\s_-]/g, '');
const COLUMN_BY_KEY = new Map<string, Column>(COLUMNS.map((c) => [columnKey(c), c]));

// As describeIssues does: only names that look like identifiers are echoed, since a header cell may
// be personal data. A first row holding an email is a subject, not a header: none of it is echoed.
const SHOWABLE_NAME = /^[A-Za-z_][\w-]{0,63}$/;

function columnsFromHeader(header: CsvRecord): Column[] {
  const columns = header.fields.map((name) => COLUMN_BY_KEY.get(columnKey(name)));
  const looksLikeData = header.fields.some((h) => h.includes('@'));
  const problems: string[] = [];
  if (!columns.includes('email')) problems.push(`there is no email column${headerHint(header.fields, looksLikeData)}`);
  const unknown = header.fields.flatMap((name, i) => (columns[i] ? [] : [columnForMessage(name, i, !looksLikeData)]));
  if (unknown.length) problems.push(`unknown column(s): ${unknown.join(', ')}`);
  const repeated = COLUMNS.filter((c) => columns.filter((x) => x === c).length > 1);
  if (repeated.length) problems.push(`column(s) named more than once: ${repeated.join(', ')}`);
  if (problems.length) {
    throw new BulkInputError(
      `The header (row ${header.line}) cannot be used: ${problems.join('; ')}.\n` +
        `Columns: email (required), tenant, mode, regulation, requestId (or request_id), receivedAt (or received_at), deadline, dryRun.`,
    );
  }
  return columns as Column[];
}

function columnForMessage(name: string, index: number, mayShowName: boolean): string {
  if (!name) return `column ${index + 1} (no name)`;
  return mayShowName && SHOWABLE_NAME.test(name) ? name : `column ${index + 1} (name not shown)`;
}

function headerHint(header: string[], looksLikeData: boolean): string {
  if (looksLikeData) return ' (the first row looks like data: add a first row naming the columns, e.g. email,mode)';
  if (header.length === 1 && /[;\t|]/.test(header[0]!)) return ' (the file seems to use ; or tabs between fields: save it as comma-separated "CSV UTF-8")';
  return '';
}

/** Defaults from the command line for cells left empty; `dryRun` is not a default but an override. */
export interface RowDefaults {
  mode?: (typeof MODES)[number];
  regulation?: (typeof REGULATIONS)[number];
  /** --dry-run: every row is a dry run, whatever its dryRun cell says (an erasure cannot be undone). */
  dryRun: boolean;
  /**
   * --tenant: the tenant of rows whose tenant cell is empty. A cell naming another tenant is an error
   * of that row, not an override either way: a file meant for one customer must not erase in another's account.
   */
  tenant?: string;
}

type RowCheck = { ok: true; request: ParsedErasureInput } | { ok: false; error: string };

const YES = new Set(['true', 'yes', 'y', '1']);
const NO = new Set(['false', 'no', 'n', '0']);

function checkRow(record: CsvRecord, columns: Column[], defaults: RowDefaults): RowCheck {
  if (record.fields.length !== columns.length) {
    return { ok: false, error: `has ${record.fields.length} field(s) but the header has ${columns.length}; quote fields that contain commas` };
  }
  const cells: Partial<Record<Column, string>> = {};
  columns.forEach((column, i) => {
    if (record.fields[i]) cells[column] = record.fields[i];
  });
  const problems: string[] = [];
  const dryRunCell = cells.dryRun?.toLowerCase();
  if (dryRunCell !== undefined && !YES.has(dryRunCell) && !NO.has(dryRunCell)) problems.push('dryRun must be true or false (or yes/no, 1/0), or empty');
  // Ids are lower case by rule, so "ACME" can only mean acme (as "Delete" means delete).
  let tenantCell = cells.tenant?.toLowerCase();
  if (tenantCell !== undefined && !TENANT_ID_PATTERN.test(tenantCell)) {
    problems.push(`tenant: ${TENANT_ID_RULE}, or empty`);
    tenantCell = undefined;
  } else if (tenantCell !== undefined && defaults.tenant !== undefined && tenantCell !== defaults.tenant) {
    problems.push(`tenant names another tenant than --tenant ${defaults.tenant}; leave the cell empty or make the two agree`);
  }
  const tenant = tenantCell ?? defaults.tenant;
  const parsed = erasureRequestSchema.safeParse({
    // The default tenant's requests go in as before tenants, with no tenant field.
    ...(tenant !== undefined && tenant !== DEFAULT_TENANT_ID ? { tenant } : {}),
    email: cells.email,
    // Spreadsheets capitalise: "Delete" and "GDPR" mean what they say.
    mode: cells.mode?.toLowerCase() ?? defaults.mode,
    regulation: cells.regulation?.toLowerCase() ?? defaults.regulation,
    requestId: cells.requestId,
    receivedAt: cells.receivedAt,
    deadline: cells.deadline,
    dryRun: defaults.dryRun || (dryRunCell !== undefined && YES.has(dryRunCell)),
  });
  if (!parsed.success) problems.push(describeIssues(parsed.error));
  if (!parsed.success || problems.length) return { ok: false, error: problems.join('; ') };
  return { ok: true, request: parsed.data };
}

export interface PlannedRequest {
  row: number;
  request: ParsedErasureInput;
}
export interface DuplicateRow {
  row: number;
  duplicateOf: number;
  requestId?: string;
}
export interface InvalidRow {
  row: number;
  error: string;
}

/** What a file asks for: one request per person, the rows that repeat a person, and the rows that cannot run. */
export interface BulkPlan {
  /** Data rows, not counting the header and blank lines. */
  rows: number;
  requests: PlannedRequest[];
  duplicates: DuplicateRow[];
  invalid: InvalidRow[];
}

/** Parses and checks a whole file; throws BulkInputError when the file as a whole is unusable. */
export function planBulkErasure(text: string, defaults: RowDefaults): BulkPlan {
  const records = parseRecords(text);
  const [header, ...rows] = records;
  if (!header)
    throw new BulkInputError(
      'The file is empty: it needs a header row (email, plus any of tenant, mode, regulation, requestId, receivedAt, deadline, dryRun) and one row per person.',
    );
  const columns = columnsFromHeader(header);
  const plan: BulkPlan = { rows: rows.length, requests: [], duplicates: [], invalid: [] };
  const firstByPerson = new Map<string, PlannedRequest>();
  for (const record of rows) {
    const checked = checkRow(record, columns, defaults);
    if (!checked.ok) {
      plan.invalid.push({ row: record.line, error: checked.error });
      continue;
    }
    // One request per person and tenant: the same address in two tenants' accounts is two people.
    const person = `${checked.request.tenant ?? DEFAULT_TENANT_ID}\n${normalizeEmail(checked.request.email)}`;
    const first = firstByPerson.get(person);
    if (!first) {
      const planned = { row: record.line, request: checked.request };
      firstByPerson.set(person, planned);
      plan.requests.push(planned);
      continue;
    }
    // One person, one request: a repeat row joins it, but must not silently ask for something else.
    const differing = conflictingFields(first.request, checked.request);
    if (differing.length)
      plan.invalid.push({ row: record.line, error: `same person as row ${first.row} but a different ${differing.join(', ')}; keep one row per person` });
    else plan.duplicates.push({ row: record.line, duplicateOf: first.row, ...(checked.request.requestId ? { requestId: checked.request.requestId } : {}) });
  }
  return plan;
}

function parseRecords(text: string): CsvRecord[] {
  try {
    return parseCsv(text, MAX_ROWS + 1);
  } catch (err) {
    if (err instanceof CsvLimitError) throw new BulkInputError(`The file has more than ${MAX_ROWS} rows: split it into files of at most ${MAX_ROWS} rows.`);
    throw err;
  }
}

/** Fields whose difference changes what happens to the person; a different requestId is just another ticket. */
function conflictingFields(a: ParsedErasureInput, b: ParsedErasureInput): string[] {
  const sameInstant = (x?: string, y?: string) => (x && y ? Date.parse(x) === Date.parse(y) : x === y);
  return [
    a.mode !== b.mode && 'mode',
    a.regulation !== b.regulation && 'regulation',
    a.dryRun !== b.dryRun && 'dryRun',
    !sameInstant(a.receivedAt, b.receivedAt) && 'receivedAt',
    !sameInstant(a.deadline, b.deadline) && 'deadline',
  ].filter((f): f is string => Boolean(f));
}

// ---------------------------------------------------------------------------------------------
// Starting

export type StartOne = (request: ErasureInput) => Promise<{ workflowId: string; runId: string; attached: boolean }>;

export type StartOutcome =
  | { status: 'started' | 'attached'; workflowId: string; runId: string }
  | { status: 'failed'; error: string; /** the rules refused this row (a conflict with the request under way), not the infrastructure */ refused?: boolean }
  | { status: 'not_started' };

export interface Progress {
  total: number;
  done: number;
  started: number;
  attached: number;
  failed: number;
}

export interface StartAllOptions {
  concurrency: number;
  start: StartOne;
  onProgress?: (progress: Progress) => void;
  giveUpAfterFailuresInARow?: number;
}

export interface StartAllResult {
  /** One per request, in the order of `requests`. */
  outcomes: StartOutcome[];
  /** Why the remaining requests were not tried. */
  stoppedBecause?: string;
}

/**
 * Starts every request, `concurrency` at a time. A failed start is recorded and the run goes on
 * (the client already retries transient gRPC errors), unless every start fails for a long stretch.
 */
export async function startAll(requests: PlannedRequest[], options: StartAllOptions): Promise<StartAllResult> {
  const giveUpAfter = options.giveUpAfterFailuresInARow ?? GIVE_UP_AFTER_FAILURES_IN_A_ROW;
  const outcomes: StartOutcome[] = requests.map(() => ({ status: 'not_started' }));
  const progress: Progress = { total: requests.length, done: 0, started: 0, attached: 0, failed: 0 };
  const result: StartAllResult = { outcomes };
  let next = 0;
  let failuresInARow = 0;
  options.onProgress?.({ ...progress });
  const lane = async () => {
    while (next < requests.length && !result.stoppedBecause) {
      const index = next++;
      const outcome = await startOne(options.start, requests[index]!.request);
      outcomes[index] = outcome;
      progress.done++;
      if (outcome.status === 'failed') {
        progress.failed++;
        // A refusal is about that row; only failures of the starts themselves mean something is down.
        if (!outcome.refused) failuresInARow++;
        if (failuresInARow >= giveUpAfter) result.stoppedBecause ??= `the last ${failuresInARow} starts all failed (last error: ${outcome.error})`;
      } else if (outcome.status !== 'not_started') {
        progress[outcome.status]++;
        failuresInARow = 0;
      }
      options.onProgress?.({ ...progress });
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, requests.length) }, lane));
  return result;
}

async function startOne(start: StartOne, request: ErasureInput): Promise<StartOutcome> {
  try {
    const started = await start(request);
    return { status: started.attached ? 'attached' : 'started', workflowId: started.workflowId, runId: started.runId };
  } catch (err) {
    // A conflict with the request under way, or a tenant that takes no erasures (unknown, not live):
    // about that row, not a sign that Temporal is down.
    const conflict =
      err instanceof Error && (err.name === 'ErasureConflictError' || err.name === 'TenantNotAcceptingError') ? (err as Error & { code?: string }) : undefined;
    if (conflict) return { status: 'failed', refused: true, error: redactEmails(`refused (${conflict.code}): ${conflict.message}`) };
    return { status: 'failed', error: redactEmails(err instanceof Error ? err.message : String(err)) };
  }
}

/** Belt and braces: errors come from the client and the server, which should not quote the email. */
export function redactEmails(text: string): string {
  return text.replace(/[^\s@"'<>(),;:[\]]+@[^\s@"'<>(),;:[\]]+/g, '<email>');
}

// ---------------------------------------------------------------------------------------------
// Progress (stderr)

const BAR_WIDTH = 20;
/**
 * io.err is line-based (console.error ends each line), so a redraw first steps back up onto the
 * bar's line, returns to its start with \r and clears it.
 */
export const REDRAW = '\x1b[1A\r\x1b[2K';
const TTY_REDRAW_MS = 100;

export function progressLine(p: Progress): string {
  const filled = p.total ? Math.floor((p.done / p.total) * BAR_WIDTH) : BAR_WIDTH;
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${p.done}/${p.total} started ${p.started} attached ${p.attached} failed ${p.failed}`;
}

/** On a terminal, one bar redrawn in place; otherwise (logs, CI) a line at every 10% and at the end. */
export function progressReporter(io: { err: (line: string) => void; isTTY?: boolean }, now: () => number = Date.now): (p: Progress) => void {
  if (io.isTTY) {
    let drawnAt: number | undefined;
    return (p) => {
      const t = now();
      if (drawnAt !== undefined && p.done < p.total && t - drawnAt < TTY_REDRAW_MS) return;
      io.err(`${drawnAt === undefined ? '' : REDRAW}${progressLine(p)}`);
      drawnAt = t;
    };
  }
  let printedTenths = 0;
  return (p) => {
    const tenths = p.total ? Math.floor((p.done * 10) / p.total) : 10;
    if (tenths <= printedTenths) return;
    printedTenths = tenths;
    io.err(progressLine(p));
  };
}

// ---------------------------------------------------------------------------------------------
// Summary (stdout, --json, --out)

export type RowStatus = 'started' | 'attached' | 'duplicate' | 'invalid' | 'failed' | 'not_started';

/** One row's fate. No email: the row number and the workflow id say who. */
export interface RowResult {
  row: number;
  status: RowStatus;
  workflowId?: string;
  runId?: string;
  /** true when the row joined a request that was already running (or an earlier row's). */
  attached?: boolean;
  duplicateOf?: number;
  requestId?: string;
  /** The row's tenant, when not the default one. */
  tenant?: string;
  /** A failed row the rules refused (a conflict, a tenant that takes no erasures), rather than one whose start failed. */
  refused?: boolean;
  error?: string;
}

export interface BulkSummary {
  /** refused: invalid rows and no --skip-invalid, nothing started. stopped: some requests were not tried. */
  outcome: 'finished' | 'refused' | 'stopped' | 'in_progress';
  totalRows: number;
  valid: number;
  invalid: number;
  duplicates: number;
  /** One per person: the valid rows less the duplicates. */
  requests: number;
  started: number;
  attached: number;
  failed: number;
  notStarted: number;
  stoppedBecause?: string;
  rows: RowResult[];
}

export function summarize(plan: BulkPlan, outcome: BulkSummary['outcome'], run?: StartAllResult): BulkSummary {
  const outcomes = plan.requests.map((_, i) => run?.outcomes[i] ?? ({ status: 'not_started' } as const));
  const byRow = new Map(plan.requests.map((r, i) => [r.row, outcomes[i]!]));
  const tenantByRow = new Map(plan.requests.map((r) => [r.row, r.request.tenant]));
  const rows: RowResult[] = [
    ...plan.requests.map((r, i) => rowResult(r.row, r.request.requestId, r.request.tenant, outcomes[i]!)),
    ...plan.duplicates.map((d) => duplicateResult(d, tenantByRow.get(d.duplicateOf), byRow.get(d.duplicateOf)!)),
    ...plan.invalid.map((x) => ({ row: x.row, status: 'invalid' as const, error: x.error })),
  ].sort((a, b) => a.row - b.row);
  const count = (status: StartOutcome['status']) => outcomes.filter((o) => o.status === status).length;
  return {
    outcome,
    totalRows: plan.rows,
    valid: plan.requests.length + plan.duplicates.length,
    invalid: plan.invalid.length,
    duplicates: plan.duplicates.length,
    requests: plan.requests.length,
    started: count('started'),
    attached: count('attached'),
    failed: count('failed'),
    notStarted: count('not_started'),
    ...(run?.stoppedBecause ? { stoppedBecause: run.stoppedBecause } : {}),
    rows,
  };
}

/** A repeat row shares its first row's request: joined to it when that one got a workflow. */
function duplicateResult(d: DuplicateRow, tenant: string | undefined, firstOutcome: StartOutcome): RowResult {
  const shared = rowResult(d.row, d.requestId, tenant, firstOutcome);
  return { ...shared, status: 'duplicate', duplicateOf: d.duplicateOf, ...(shared.workflowId ? { attached: true } : {}) };
}

function rowResult(row: number, requestId: string | undefined, tenant: string | undefined, outcome: StartOutcome): RowResult {
  const base = { row, ...(requestId ? { requestId } : {}), ...(tenant ? { tenant } : {}) };
  switch (outcome.status) {
    case 'started':
    case 'attached':
      return { ...base, status: outcome.status, workflowId: outcome.workflowId, runId: outcome.runId, attached: outcome.status === 'attached' };
    case 'failed':
      return { ...base, status: 'failed', ...(outcome.refused ? { refused: true } : {}), error: outcome.error };
    case 'not_started':
      return { ...base, status: 'not_started' };
  }
}

export function formatSummary(s: BulkSummary): string {
  const line = (label: string, n: number, note = '') => `${label.padEnd(18)}${String(n).padStart(7)}${n && note ? `  (${note})` : ''}`;
  const lines = [
    line('Rows in the file', s.totalRows),
    line('  valid', s.valid),
    line('  invalid', s.invalid, s.outcome === 'refused' ? 'nothing was started because of them' : 'skipped'),
    line('  duplicates', s.duplicates, 'same person as an earlier row: one request'),
    line('Requests', s.requests),
    line('  started', s.started),
    line('  attached', s.attached, 'a request for that person was already running'),
    line('  failed', s.failed),
  ];
  if (s.notStarted) lines.push(line('  not started', s.notStarted));
  if (!s.totalRows) lines.push('The file has no rows after the header: nothing to start.');
  if (s.stoppedBecause) lines.push(`Stopped before trying every request: ${s.stoppedBecause}.`);
  if (s.failed || s.stoppedBecause) lines.push('Re-run the same file to retry: requests already running are joined, not started twice.');
  else if (s.started || s.attached) lines.push('Follow them with `dsar list` or `dsar status <workflow-id>`.');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// The command

export interface BulkIo {
  out: (line: string) => void;
  err: (line: string) => void;
  stdin?: () => string;
  isTTY?: boolean;
}

type Flags = Record<string, string | boolean | undefined>;

const CONCURRENCY_MESSAGE = `--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}`;
const bulkFlagsSchema = z.object({
  file: z.string().min(1, '--file needs a path, or - to read standard input'),
  mode: z.enum(MODES, { message: '--mode must be delete or pseudonymize' }).optional(),
  regulation: z.enum(REGULATIONS, { message: '--regulation must be gdpr or ccpa' }).optional(),
  tenant: z.string().regex(TENANT_ID_PATTERN, `--tenant: ${TENANT_ID_RULE}`).optional(),
  'dry-run': z.boolean().default(false),
  'skip-invalid': z.boolean().default(false),
  concurrency: z
    .string()
    .regex(/^\d+$/, CONCURRENCY_MESSAGE)
    .transform(Number)
    .pipe(z.number().min(1, CONCURRENCY_MESSAGE).max(MAX_CONCURRENCY, CONCURRENCY_MESSAGE))
    .default(DEFAULT_CONCURRENCY),
  json: z.boolean().default(false),
  out: z.string().min(1, '--out needs a file path').optional(),
});
type BulkFlags = z.output<typeof bulkFlagsSchema>;

/** Flags that describe one request; with --file those come from the file's columns. */
const SINGLE_REQUEST_FLAGS = ['email', 'email-stdin', 'request-id', 'received-at', 'deadline', 'wait'];

function bulkFlags(flags: Flags): BulkFlags {
  const single = SINGLE_REQUEST_FLAGS.filter((f) => flags[f] !== undefined);
  if (single.length) {
    throw new BulkInputError(
      `--file starts one request per row and cannot be combined with ${single.map((f) => `--${f}`).join(', ')}: put requestId, receivedAt and deadline in the file's columns.`,
    );
  }
  const parsed = bulkFlagsSchema.safeParse(Object.fromEntries(Object.keys(bulkFlagsSchema.shape).map((k) => [k, flags[k]])));
  if (!parsed.success) throw new BulkInputError(parsed.error.issues.map((i) => i.message).join('; '));
  if (parsed.data.out && parsed.data.file !== '-' && resolve(parsed.data.out) === resolve(parsed.data.file)) {
    throw new BulkInputError('--out must not be the --file: it would overwrite the list of subjects.');
  }
  return parsed.data;
}

/**
 * `dsar erase --file <path|->`. `connect` is called only once the whole file has passed its checks,
 * so a bad file gets its answer even when Temporal is down.
 */
export async function eraseFromFile(flags: Flags, io: BulkIo, connect: () => Promise<StartOne>): Promise<number> {
  try {
    const options = bulkFlags(flags);
    const plan = planBulkErasure(await readSubjects(options.file, io), {
      mode: options.mode,
      regulation: options.regulation,
      dryRun: options['dry-run'],
      tenant: options.tenant,
    });
    listRows(
      plan.invalid.map((x) => `row ${x.row}: ${x.error}`),
      io,
    );
    if (plan.invalid.length && !options['skip-invalid']) {
      io.err('Nothing was started: fix the rows above, or pass --skip-invalid to start the valid rows only.');
      report(summarize(plan, 'refused'), options, io);
      return 2;
    }
    if (options.out) writeOut(options.out, summarize(plan, 'in_progress'));
    const run = await startPlanned(plan, options, io, connect);
    const summary = summarize(plan, run.stoppedBecause ? 'stopped' : 'finished', run);
    listRows(
      summary.rows.filter((r) => r.status === 'failed').map((r) => `row ${r.row}: failed: ${r.error}`),
      io,
    );
    report(summary, options, io);
    return summary.failed || summary.notStarted ? 1 : 0;
  } catch (err) {
    if (!(err instanceof BulkInputError)) throw err;
    io.err(err.message);
    return 2;
  }
}

async function startPlanned(plan: BulkPlan, options: BulkFlags, io: BulkIo, connect: () => Promise<StartOne>): Promise<StartAllResult> {
  if (!plan.requests.length) return { outcomes: [] };
  let start: StartOne;
  try {
    start = await connect();
  } catch (err) {
    const reason =
      err instanceof BulkStartRefusedError ? err.message : `could not connect to Temporal: ${redactEmails(err instanceof Error ? err.message : String(err))}`;
    return { outcomes: plan.requests.map(() => ({ status: 'not_started' })), stoppedBecause: reason };
  }
  io.err(`Starting ${plan.requests.length} request(s), ${options.concurrency} at a time${options['dry-run'] ? ' (dry run: nothing will be erased)' : ''}.`);
  return startAll(plan.requests, { concurrency: options.concurrency, start, onProgress: progressReporter(io) });
}

function listRows(lines: string[], io: BulkIo): void {
  for (const line of lines.slice(0, MAX_ROWS_LISTED)) io.err(line);
  if (lines.length > MAX_ROWS_LISTED) io.err(`... and ${lines.length - MAX_ROWS_LISTED} more such rows (--json or --out <file> lists every row).`);
}

function report(summary: BulkSummary, options: BulkFlags, io: BulkIo): void {
  io.out(options.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  if (options.out) writeOut(options.out, summary);
}

function writeOut(path: string, summary: BulkSummary): void {
  try {
    writeFileSync(path, `${JSON.stringify(summary, null, 2)}\n`);
  } catch (err) {
    throw new BulkInputError(`Cannot write --out ${describePath(path)}: ${describeFsError(err)}.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the file

async function readSubjects(file: string, io: BulkIo): Promise<string> {
  if (file === '-' && io.stdin) {
    const text = io.stdin();
    if (Buffer.byteLength(text) > MAX_BYTES) throw tooLarge();
    return text;
  }
  let bytes: Buffer;
  try {
    bytes = await readAtMost(file === '-' ? process.stdin : createReadStream(file), MAX_BYTES);
  } catch (err) {
    if (err instanceof BulkInputError) throw err;
    throw new BulkInputError(`Cannot read ${file === '-' ? 'standard input' : describePath(file)}: ${describeFsError(err)}.`);
  }
  return decodeUtf8(bytes);
}

async function readAtMost(source: AsyncIterable<Buffer | string>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early (too large) destroys the stream.
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

function tooLarge(): BulkInputError {
  return new BulkInputError(`The file is larger than ${MAX_BYTES / 1024 / 1024} MB: split it into smaller files (at most ${MAX_ROWS} rows each).`);
}

function decodeUtf8(bytes: Buffer): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new BulkInputError('The file is UTF-16 text: save it as "CSV UTF-8 (comma delimited)".');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BulkInputError('The file is not UTF-8 text: save it as "CSV UTF-8 (comma delimited)".');
  }
}

/** A path is echoed unless it could hold an email (someone may name a file after a subject). */
function describePath(path: string): string {
  return path.includes('@') ? 'the file' : JSON.stringify(path);
}

function describeFsError(err: unknown): string {
  const code = (err as { code?: string }).code;
  const known: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a parent is not a directory',
  };
  return code ? (known[code] ?? code) : redactEmails(err instanceof Error ? err.message : String(err));
}
