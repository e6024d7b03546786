/**
 * The workflow's check of its input and of attachRequest, hand-written instead of zod: each workflow
 * evaluates its modules in its own sandbox context, and zod with the schemas cost ~0.8 MB and ~7 ms
 * of CPU per workflow. The client, CLI and intake still validate with the zod schemas of
 * erasure-request.ts; this guard applies the same rules (limits, patterns and messages from
 * erasure-rules.ts), gives the same output (defaults, trimming, key order) and refuses the same
 * inputs, so a recorded history replays unchanged. test/workflows/input-guard.test.ts compares the two.
 */
import { REGULATIONS } from '../deadlines.js';
import type { DescribedIssue } from '../describe-issues.js';
import type { AttachRequest, ParsedErasureInput, Tuning } from '../erasure-request.js';
import {
  CALLBACK_URL_MAX,
  CALLBACK_URL_MESSAGE,
  CALLER_RULE,
  EMAIL_MAX,
  ISO_DATE_RULE,
  ISO_YEAR_RULE,
  isoYearInRange,
  MAX_CARRIED_PERSONS,
  MAX_EVENTS,
  MODE_RULE,
  MODES,
  REGULATION_RULE,
  REQUEST_ID_MAX,
  REQUEST_ID_PATTERN,
  REQUEST_ID_RULE,
  requestDateIssues,
  START_TOKEN_PATTERN,
  START_TOKEN_RULE,
  TUNING_KEYS,
  TUNING_RULES,
  WORKFLOW_CALLBACK_URL_PATTERN,
} from '../erasure-rules.js';
import { CALLER_PATTERN, MAX_REQUESTS_PER_RUN } from '../requests.js';
import { TENANT_ID_PATTERN, TENANT_ID_RULE } from '../tenants/model.js';

interface Issue extends DescribedIssue {
  readonly path: PropertyKey[];
  /** Like zod's: after a wrong type (or an unknown option), the checks on the whole object do not run. */
  readonly fatal: boolean;
}

export type Checked<T> = { success: true; data: T } | { success: false; error: { issues: Issue[] } };

type Path = PropertyKey[];
/** Checks a value at `path`, adds its issues and returns the value as it comes out (trimmed, defaulted). */
type Check = (v: unknown, path: Path, issues: Issue[]) => unknown;

const INVALID = Symbol('invalid');

/** zod's name for what it received. */
function received(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  return typeof v;
}

function typeIssue(path: Path, expected: string, v: unknown, message?: string): Issue {
  return { code: 'invalid_type', path, message: message ?? `Invalid input: expected ${expected}, received ${received(v)}`, fatal: true };
}
function checkIssue(path: Path, message: string, code = 'custom'): Issue {
  return { code, path, message, fatal: false };
}

interface StringRule {
  type?: (v: unknown) => string;
  trim?: boolean;
  min?: number;
  max?: [number, string?];
  pattern?: [RegExp, string];
}
function str(rule: StringRule = {}): Check {
  return (v, path, issues) => {
    if (typeof v !== 'string') {
      issues.push(typeIssue(path, 'string', v, rule.type?.(v)));
      return INVALID;
    }
    const s = rule.trim ? v.trim() : v;
    if (rule.min !== undefined && s.length < rule.min)
      issues.push(checkIssue(path, `Too small: expected string to have >=${rule.min} characters`, 'too_small'));
    if (rule.max && s.length > rule.max[0])
      issues.push(checkIssue(path, rule.max[1] ?? `Too big: expected string to have <=${rule.max[0]} characters`, 'too_big'));
    if (rule.pattern && !rule.pattern[0].test(s)) issues.push(checkIssue(path, rule.pattern[1], 'invalid_format'));
    return s;
  };
}

function int(min?: number, max?: number): Check {
  return (v, path, issues) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      issues.push(typeIssue(path, 'number', v));
      return INVALID;
    }
    if (!Number.isSafeInteger(v)) issues.push(checkIssue(path, 'Invalid input: expected int, received number', 'invalid_type'));
    if (min !== undefined && v < min) issues.push(checkIssue(path, `Too small: expected number to be >=${min}`, 'too_small'));
    if (max !== undefined && v > max) issues.push(checkIssue(path, `Too big: expected number to be <=${max}`, 'too_big'));
    return v;
  };
}

const num: Check = (v, path, issues) => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  issues.push(typeIssue(path, 'number', v));
  return INVALID;
};

function bool(message?: string): Check {
  return (v, path, issues) => {
    if (typeof v === 'boolean') return v;
    issues.push(typeIssue(path, 'boolean', v, message));
    return INVALID;
  };
}

function oneOf(values: readonly string[], message?: string): Check {
  return (v, path, issues) => {
    if (typeof v === 'string' && values.includes(v)) return v;
    issues.push({
      code: 'invalid_value',
      path,
      message: message ?? `Invalid option: expected one of ${values.map((x) => JSON.stringify(x)).join('|')}`,
      fatal: true,
    });
    return INVALID;
  };
}

const nullable =
  (check: Check): Check =>
  (v, path, issues) =>
    v === null ? null : check(v, path, issues);

function list(item: Check, max: number): Check {
  return (v, path, issues) => {
    if (!Array.isArray(v)) {
      issues.push(typeIssue(path, 'array', v));
      return INVALID;
    }
    const out = v.map((x, i) => item(x, [...path, i], issues));
    if (v.length > max) issues.push(checkIssue(path, `Too big: expected array to have <=${max} items`, 'too_big'));
    return out;
  };
}

/** A field of an object: required unless `optional`; `fallback` fills it in when it is absent or undefined. */
interface Field {
  check: Check;
  optional?: boolean;
  fallback?: () => unknown;
}
const opt = (check: Check): Field => ({ check, optional: true });
const req = (check: Check): Field => ({ check });

/** A strict object: unknown keys refused, the output in the order of `shape` (as zod gives it). */
function obj(shape: Record<string, Field>, refine?: (out: Record<string, unknown>, path: Path, issues: Issue[]) => void): Check {
  return (v, path, issues) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      issues.push(typeIssue(path, 'object', v));
      return INVALID;
    }
    const input = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const before = issues.length;
    for (const [key, field] of Object.entries(shape)) {
      const present = Object.prototype.hasOwnProperty.call(input, key);
      const value = present ? input[key] : undefined;
      if (value === undefined) {
        if (field.fallback) out[key] = field.fallback();
        else if (field.optional) {
          if (present) out[key] = undefined;
        } else out[key] = field.check(value, [...path, key], issues);
        continue;
      }
      out[key] = field.check(value, [...path, key], issues);
    }
    const unknown = Object.keys(input).filter((k) => !Object.prototype.hasOwnProperty.call(shape, k));
    if (unknown.length) issues.push({ code: 'unrecognized_keys', path, message: 'Unrecognized key(s) in object', keys: unknown, fatal: false });
    if (refine && !issues.slice(before).some((i) => i.fatal)) refine(out, path, issues);
    return out;
  };
}

function isoDate(): Check {
  // zod's z.iso.datetime({ offset: true }): RFC 3339 with seconds, a Z or ±hh:mm, real calendar days.
  const date =
    '(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))';
  const time = '(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?';
  const pattern = new RegExp(`^${date}T(?:${time}(?:Z|([+-](?:[01]\\d|2[0-3]):[0-5]\\d)))$`);
  // Its message is also the one for a value that is not a string.
  const format = str({ type: () => ISO_DATE_RULE, pattern: [pattern, ISO_DATE_RULE] });
  return (v, path, issues) => {
    const s = format(v, path, issues);
    if (typeof s === 'string' && !isoYearInRange(s)) issues.push(checkIssue(path, ISO_YEAR_RULE));
    return s;
  };
}

// zod's z.email() pattern (zod 4.6), its needless escapes dropped.
const EMAIL_PATTERN = /^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/;

const email: Check = (v, path, issues) => {
  const before = issues.length;
  const s = str({
    type: (x) => (x === undefined ? 'email is required' : 'email must be a string'),
    trim: true,
    max: [EMAIL_MAX, `email is longer than ${EMAIL_MAX} characters`],
  })(v, path, issues);
  // As zod's pipe: the address is only looked at when it is a string of a possible length.
  if (issues.length === before && !EMAIL_PATTERN.test(s as string)) issues.push(checkIssue(path, 'email is not a valid email address', 'invalid_format'));
  return s;
};

const requestId = str({
  trim: true,
  min: 1,
  max: [REQUEST_ID_MAX, `requestId is longer than ${REQUEST_ID_MAX} characters`],
  pattern: [REQUEST_ID_PATTERN, REQUEST_ID_RULE],
});
const caller = str({ pattern: [CALLER_PATTERN, CALLER_RULE] });
const callbackUrl = str({
  type: () => CALLBACK_URL_MESSAGE,
  max: [CALLBACK_URL_MAX, `callbackUrl is longer than ${CALLBACK_URL_MAX} characters`],
  pattern: [WORKFLOW_CALLBACK_URL_PATTERN, CALLBACK_URL_MESSAGE],
});
const startToken = str({ pattern: [START_TOKEN_PATTERN, START_TOKEN_RULE] });
const stamp = str({ max: [64] });
const uid = str({ max: [128] });
const text = (max: number) => str({ max: [max] });

/** The timing knobs: each absent one gets its default (also inside a partial `tuning`, as zod's partial of defaults does). */
const tuning = obj(
  Object.fromEntries(TUNING_KEYS.map((k) => [k, { check: int(TUNING_RULES[k].min, TUNING_RULES[k].max), fallback: () => TUNING_RULES[k].default }])),
);

const registration = obj({
  requestId: opt(requestId),
  caller: opt(caller),
  mode: req(oneOf(MODES)),
  regulation: req(oneOf(REGULATIONS)),
  dryRun: req(bool()),
  callbackUrl: opt(callbackUrl),
  receivedAt: opt(stamp),
  deadline: opt(stamp),
  callback: opt(oneOf(['pending', 'delivered', 'failed'])),
  callbackError: opt(text(2000)),
  queued: opt(bool()),
  legacy: opt(bool()),
});

const carriedPerson = obj({
  personUid: req(uid),
  candidateUids: req(list(uid, 500)),
  state: req(oneOf(['pending', 'blocked', 'erasing', 'erased', 'failed'])),
  blockingCandidateUids: req(list(uid, 500)),
  nextCheckAt: opt(stamp),
  attempts: req(int(0)),
  erasedAt: opt(stamp),
  erasedCandidateUids: opt(list(uid, 500)),
  alreadyGone: opt(bool()),
  candidates: req(
    list(
      obj({
        uid: req(uid),
        personUid: req(uid),
        status: req(nullable(text(64))),
        openInterviews: req(list(obj({ type: req(text(128)), scheduledAt: req(nullable(stamp)) }), 100)),
      }),
      500,
    ),
  ),
  firstBlockedAt: opt(num),
  expectedClearAt: opt(num),
  backoffStep: req(int(0, 64)),
  blockedBefore: opt(bool()),
});

const resume = obj({
  runsContinued: req(int(1, 1_000_000)),
  startedAt: req(stamp),
  stage: req(oneOf(['looking_up', 'handling', 'verifying'])),
  round: req(int(0, 10)),
  persons: req(list(carriedPerson, MAX_CARRIED_PERSONS)),
  attention: opt(obj({ code: req(text(128)), reason: req(text(4000)), permission: opt(text(128)), since: req(stamp), nextRetryAt: req(stamp) })),
  lookups: req(int(0)),
  eraseAttempts: req(int(0)),
  events: req(list(obj({ at: req(stamp), kind: req(text(64)), detail: opt(text(4000)), actor: req(text(128)) }), MAX_EVENTS)),
});

const erasureInput = obj(
  {
    tenant: opt(str({ type: () => 'tenant must be a string', pattern: [TENANT_ID_PATTERN, TENANT_ID_RULE] })),
    email: req(email),
    mode: { check: oneOf(MODES, MODE_RULE), fallback: () => 'delete' },
    requestId: opt(requestId),
    regulation: { check: oneOf(REGULATIONS, REGULATION_RULE), fallback: () => 'gdpr' },
    receivedAt: opt(isoDate()),
    deadline: opt(isoDate()),
    dryRun: { check: bool(), fallback: () => false },
    callbackUrl: opt(callbackUrl),
    tuning: opt(tuning),
    caller: opt(caller),
    requests: opt(list(registration, MAX_REQUESTS_PER_RUN)),
    startToken: opt(startToken),
    resume: opt(resume),
  },
  (out, _path, issues) => {
    // Date.now() is the task's (deterministic) time in the workflow.
    const v = out as { receivedAt?: string; deadline?: string; regulation?: (typeof REGULATIONS)[number] };
    for (const i of requestDateIssues(v, Date.now())) issues.push(checkIssue([i.field], i.message));
  },
);

const attachRequest = obj({
  requestId: opt(requestId),
  callbackUrl: opt(callbackUrl),
  caller: opt(caller),
  mode: opt(oneOf(MODES, MODE_RULE)),
  regulation: opt(oneOf(REGULATIONS, REGULATION_RULE)),
  dryRun: opt(bool('dryRun must be true or false')),
  receivedAt: opt(isoDate()),
  deadline: opt(isoDate()),
  startToken: opt(startToken),
});

function run<T>(check: Check, v: unknown): Checked<T> {
  const issues: Issue[] = [];
  const data = check(v, [], issues);
  return issues.length ? { success: false, error: { issues } } : { success: true, data: data as T };
}

/** An erasure request as the workflow takes it (a start, or the input of the run it continues as). */
export function checkErasureInput(v: unknown): Checked<ParsedErasureInput> {
  return run(erasureInput, v);
}

/** The argument of attachRequest (update or signal). */
export function checkAttachRequest(v: unknown): Checked<AttachRequest> {
  return run(attachRequest, v);
}

/** The timing knobs with their defaults; throws (failing the workflow task, as zod's parse did) on a bad knob. */
export function tuningOf(v: Partial<Tuning> | undefined): Tuning {
  const checked = run<Tuning>(tuning, v ?? {});
  if (!checked.success) throw new TypeError(`Invalid tuning: ${checked.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`);
  return checked.data;
}
