/**
 * What each `dsar` command takes: its options and help. main.ts runs them; parseCommand (args.ts)
 * refuses whatever a command does not take.
 */
import { PHASES } from '../erasure-status.js';
import type { CommandSpec, OptionSpec } from './args.js';

const actor = { type: 'string', value: '<name>', help: 'who does this, recorded on the request (default: $DSAR_ACTOR or $USER)' } as const satisfies OptionSpec;
const json = { type: 'boolean', help: 'print JSON' } as const satisfies OptionSpec;
const tenant = {
  type: 'string',
  value: '<id>',
  help: "the customer's Comeet account (dsar tenant list); default: default (COMEET_*)",
} as const satisfies OptionSpec;

export const ERASE = {
  name: 'erase',
  summary: 'erase one person from Comeet, or one person per row of a CSV file',
  usage: [
    'erase --email <address> [--tenant <id>] [--mode delete|pseudonymize] [--regulation gdpr|ccpa]',
    '      [--request-id <id>] [--received-at <iso>] [--deadline <iso>] [--dry-run] [--wait [--json]]',
    'erase --email-stdin ...          read the address from standard input (keeps it out of shell history)',
    'erase --file <subjects.csv|-> [--tenant <id>] [--mode ...] [--regulation ...] [--dry-run] [--skip-invalid]',
    '      [--concurrency <n>] [--json] [--out <results.json>]',
  ],
  noArgs: 'dsar erase needs --email <address>, --email-stdin or --file <subjects.csv>: it takes no arguments (the address is not printed back).',
  options: {
    email: { type: 'string', value: '<address>', help: "the data subject's email address" },
    'email-stdin': { type: 'boolean', help: 'read the address from standard input' },
    file: { type: 'string', value: '<file|->', help: 'one erasure per CSV row (- reads standard input)' },
    tenant,
    mode: { type: 'string', value: 'delete|pseudonymize', help: 'what happens to the candidates (default delete)' },
    regulation: { type: 'string', value: 'gdpr|ccpa', help: 'sets the deadline (default gdpr: one month)' },
    'request-id': { type: 'string', value: '<id>', help: "your ticket's id, recorded on the request" },
    'received-at': { type: 'string', value: '<iso>', help: 'when the subject asked (default now)' },
    deadline: { type: 'string', value: '<iso>', help: "an earlier deadline than the regulation's" },
    'dry-run': { type: 'boolean', help: 'find and report, erase nothing' },
    wait: { type: 'boolean', help: 'wait for the outcome (not with --file)' },
    json: { type: 'boolean', help: 'with --wait or --file: print the result as JSON' },
    'skip-invalid': { type: 'boolean', help: '--file: start the valid rows even when some are not' },
    concurrency: { type: 'string', value: '<n>', help: '--file: starts at a time (default 8, at most 64)' },
    out: { type: 'string', value: '<results.json>', help: '--file: write the results of every row to this file' },
  },
  details: `With --file: a header row is required: email, and optionally tenant, mode, regulation, requestId,
receivedAt, deadline, dryRun; --tenant, --mode and --regulation fill empty cells (a tenant cell other than
--tenant is a bad row), --dry-run applies to every row. Rows for a tenant that is unknown or not live are
refused, the others go on. Every row is
checked first: one bad row starts nothing (exit 2) unless --skip-invalid. Rows for the same person start
one request. Re-running the file after an interruption is safe: requests already running are joined, not
started twice. Output names rows by number.
With --tenant the requests go to that tenant's Comeet account only; it must be live (or paused: they
wait until it resumes). Exit codes: 0 started, 1 refused or failed, 2 bad usage or input.`,
} as const satisfies CommandSpec;

export const STATUS = {
  name: 'status',
  summary: "a request's phase, persons, deadline and recent events",
  args: ['<workflow-id>'],
  options: { json },
} as const satisfies CommandSpec;

export const LIST = {
  name: 'list',
  summary: 'erasures, newest first, by phase, tenant or risk',
  options: {
    tenant: { type: 'string', value: '<id>', help: "only this tenant's erasures (default: every tenant)" },
    phase: { type: 'string', value: '<phase>', help: `only this phase: ${PHASES.join(', ')}` },
    'at-risk': { type: 'boolean', help: 'only those at risk of missing their deadline' },
    query: { type: 'string', value: '<visibility query>', help: 'a Temporal visibility clause, ANDed with the others' },
    limit: { type: 'string', value: '<n>', help: 'at most this many (default 100, at most 10000)' },
    json,
  },
} as const satisfies CommandSpec;

export const RECHECK = {
  name: 'recheck',
  summary: 're-check a waiting request now',
  args: ['<workflow-id>'],
  options: { actor },
} as const satisfies CommandSpec;

export const CANCEL = {
  name: 'cancel',
  summary: 'cancel a request that has erased nothing yet',
  usage: ['cancel <workflow-id> --reason <text> [--actor <name>]'],
  args: ['<workflow-id>'],
  options: { reason: { type: 'string', value: '<text>', help: 'why (required), recorded on the request' }, actor },
  details: 'Exit codes: 0 cancelled, 1 refused (erasure has started, or the request ended), 2 bad usage.',
} as const satisfies CommandSpec;

export const EXTEND_DEADLINE = {
  name: 'extend-deadline',
  summary: "move a request's deadline later, as far as its regulation allows",
  usage: ['extend-deadline <workflow-id> --deadline <iso> [--reason <text>] [--actor <name>]'],
  args: ['<workflow-id>'],
  options: {
    deadline: { type: 'string', value: '<iso>', help: 'the new deadline (required)' },
    reason: { type: 'string', value: '<text>', help: 'why, recorded on the request' },
    actor,
  },
} as const satisfies CommandSpec;

export const RECEIPT = {
  name: 'receipt',
  summary: 'the signed proof of erasure of a finished request',
  args: ['<workflow-id>'],
  options: { json: { type: 'boolean', help: 'print the receipt and its key id as JSON' } },
} as const satisfies CommandSpec;

export const VERIFY_RECEIPT = {
  name: 'verify-receipt',
  summary: 'check a receipt against the public key(s) that signed it',
  usage: ['verify-receipt <file|-> (--jwks <file> | --public-key <file>) [--json]'],
  args: ['<file|->'],
  options: {
    jwks: { type: 'string', value: '<file>', help: 'the public JWKS (from dsar receipt-keys)' },
    'public-key': { type: 'string', value: '<file>', help: 'one public key, PEM or JWK' },
    json,
  },
} as const satisfies CommandSpec;

export const RECEIPT_KEYS = {
  name: 'receipt-keys',
  summary: 'a new receipt signing key (DSAR_RECEIPT_KEY) and its public JWKS',
  options: { alg: { type: 'string', value: 'EdDSA|ES256', help: 'signature algorithm (default EdDSA)' } },
} as const satisfies CommandSpec;

/** The commands main.ts parses itself, in the order `dsar --help` lists them. */
export const COMMANDS = [ERASE, STATUS, LIST, RECHECK, CANCEL, EXTEND_DEADLINE, RECEIPT, VERIFY_RECEIPT, RECEIPT_KEYS] as const;

/** Commands with their own parser and help, listed in `dsar --help` too. */
export const OTHER_COMMANDS = [
  { name: 'doctor', summary: 'read-only check of the Comeet integration (COMEET_* settings)' },
  { name: 'sandbox-check', summary: 'the whole flow on a SANDBOX account before going live' },
  { name: 'tenant', args: ['<command>'], summary: "onboard and run a customer's Comeet account (dsar tenant --help)" },
] as const;
