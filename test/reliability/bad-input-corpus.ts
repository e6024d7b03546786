/**
 * A corpus of bad erasure requests. Every email-shaped value carries the marker `leakcheck` so a
 * test can tell whether an error message quoted it back; none of them may be erased or started.
 */

export interface BadCase {
  name: string;
  /** The request as a caller (or a raw `temporal workflow start`) would send it. */
  input: unknown;
  /** What the error must say: the field, and what is wrong with it. */
  message: RegExp;
}

/** Never in any error message: the marker of every email-shaped bad value. */
export const MARKER = 'leakcheck';

const ok = { email: 'leakcheck.valid@example.com' };
const CYR_A = '\u0430'; // Cyrillic small a, looks like the Latin one

const invalidEmail = /email is not a valid email address/;
const tooLong = /email is longer than 254 characters/;

const emails: [string, unknown, RegExp?][] = [
  ['no @', 'leakcheck.example.com'],
  ['two @', 'leakcheck@home@example.com'],
  ['@@', 'leakcheck@@example.com'],
  ['space inside', 'leakcheck x@example.com'],
  ['tab inside', 'leakcheck\t@example.com'],
  ['trailing dot', 'leakcheck@example.com.'],
  ['leading dot', '.leakcheck@example.com'],
  ['double dot', 'leakcheck..x@example.com'],
  ['empty', ''],
  ['blank', '   '],
  ['255 characters', `${MARKER}${'l'.repeat(64 - MARKER.length)}@${'e'.repeat(186)}.com`, tooLong],
  ['300 characters', `${MARKER}${'x'.repeat(290)}@example.com`, tooLong],
  ['1 MB', `${MARKER}${'x'.repeat(1024 * 1024)}@example.com`, tooLong],
  ['NUL', 'leakcheck\u0000@example.com'],
  ['bell', 'leakcheck\u0007@example.com'],
  ['DEL', 'leakcheck\u007f@example.com'],
  ['escape sequence', 'leakcheck\u001b[31m@example.com'],
  ['HTML script', '<script>alert("leakcheck")</script>@example.com'],
  ['HTML attribute', '"><img src=x onerror=alert(1)>leakcheck@example.com'],
  ['SQL comment', "leakcheck'; DROP TABLE candidates;--@example.com"],
  ['SQL tautology', "leakcheck@example.com' OR '1'='1"],
  ['SQL LIKE wildcard', 'leakcheck%@example.com'],
  ['glob wildcard', '*@example.com'],
  ['header injection CRLF', 'leakcheck@example.com\r\nBcc: victim@example.com'],
  ['header injection LF', 'leakcheck@example.com\nX-Erase-All: true'],
  ['path traversal', '../../leakcheck@example.com'],
  ['query injection', 'leakcheck@example.com&email=victim@example.com'],
  ['mailto URI', 'mailto:leakcheck@example.com'],
  ['display name', 'Leak Check <leakcheck@example.com>'],
  ['two addresses', 'leakcheck@example.com,victim@example.com'],
  ['no TLD', 'leakcheck@localhost'],
  ['IP literal', 'leakcheck@[127.0.0.1]'],
  ['Cyrillic a in the local part', `le${CYR_A}kcheck@example.com`],
  ['Cyrillic a in the domain', `leakcheck@ex${CYR_A}mple.com`],
  ['fullwidth @', 'leakcheck\uff20example.com'],
  ['zero-width space', 'leak\u200bcheck@example.com'],
  ['right-to-left override', 'leakcheck@\u202eexample.com'],
  ['combining accent', 'leakche\u0301ck@example.com'],
];

const wrongTypes: [string, unknown][] = [
  ['email is a number', 42],
  ['email is an array', ['leakcheck@example.com']],
  ['email is an object', { address: 'leakcheck@example.com' }],
  ['email is null', null],
  ['email is a boolean', true],
];

export const BAD_CASES: BadCase[] = [
  ...emails.map(([name, email, message]) => ({ name: `email: ${name}`, input: { email, requestId: 'T-1' }, message: message ?? invalidEmail })),
  ...wrongTypes.map(([name, email]) => ({ name, input: { email }, message: /\bemail\b/ })),
  { name: 'email missing', input: { mode: 'delete' }, message: /email is required/ },
  // Wrong modes and regulations.
  { name: 'mode: unknown', input: { ...ok, mode: 'shred' }, message: /mode must be "delete" or "pseudonymize"/ },
  { name: 'mode: upper case', input: { ...ok, mode: 'DELETE' }, message: /mode must be/ },
  { name: 'mode: empty', input: { ...ok, mode: '' }, message: /mode must be/ },
  { name: 'mode: number', input: { ...ok, mode: 1 }, message: /mode must be/ },
  { name: 'mode: null', input: { ...ok, mode: null }, message: /mode must be/ },
  { name: 'regulation: unknown', input: { ...ok, regulation: 'hipaa' }, message: /regulation must be "gdpr" or "ccpa"/ },
  { name: 'regulation: upper case', input: { ...ok, regulation: 'GDPR' }, message: /regulation must be/ },
  { name: 'regulation: array', input: { ...ok, regulation: ['gdpr', 'ccpa'] }, message: /regulation must be/ },
  // Dates.
  { name: 'receivedAt: words', input: { ...ok, receivedAt: 'yesterday' }, message: /receivedAt: must be an ISO 8601 date-time/ },
  { name: 'receivedAt: date only', input: { ...ok, receivedAt: '2026-05-01' }, message: /receivedAt: must be an ISO 8601/ },
  { name: 'receivedAt: no time zone', input: { ...ok, receivedAt: '2026-05-01T09:00:00' }, message: /receivedAt: must be an ISO 8601/ },
  { name: 'receivedAt: RFC 2822', input: { ...ok, receivedAt: 'Fri, 01 May 2026 09:00:00 GMT' }, message: /receivedAt: must be an ISO 8601/ },
  { name: 'receivedAt: 30 February', input: { ...ok, receivedAt: '2026-02-30T00:00:00Z' }, message: /receivedAt: must be an ISO 8601/ },
  { name: 'deadline: 29 February of a common year', input: { ...ok, deadline: '2026-02-29T00:00:00Z' }, message: /deadline: must be an ISO 8601/ },
  { name: 'deadline: month 13', input: { ...ok, deadline: '2026-13-01T00:00:00Z' }, message: /deadline: must be an ISO 8601/ },
  { name: 'deadline: hour 25', input: { ...ok, deadline: '2026-05-01T25:00:00Z' }, message: /deadline: must be an ISO 8601/ },
  { name: 'deadline: epoch number', input: { ...ok, deadline: 1_780_000_000_000 }, message: /deadline: must be an ISO 8601/ },
  {
    name: 'deadline before receivedAt',
    input: { ...ok, receivedAt: '2026-03-01T00:00:00Z', deadline: '2026-02-01T00:00:00Z' },
    message: /deadline must be after receivedAt/,
  },
  {
    name: 'deadline equal to receivedAt',
    input: { ...ok, receivedAt: '2026-03-01T00:00:00Z', deadline: '2026-03-01T00:00:00Z' },
    message: /deadline must be after receivedAt/,
  },
  // Dates the regulation does not allow (a far deadline is never at risk; a receipt would sign it).
  { name: 'deadline: year 2999', input: { ...ok, deadline: '2999-01-01T00:00:00Z' }, message: /deadline is later than GDPR allows/ },
  {
    name: 'deadline: past the GDPR extension',
    input: { ...ok, receivedAt: '2026-03-01T00:00:00Z', deadline: '2026-06-01T00:00:01Z' },
    message: /deadline is later than GDPR allows \(2026-06-01T00:00:00.000Z/,
  },
  {
    name: 'deadline: past the CCPA extension',
    input: { ...ok, regulation: 'ccpa', receivedAt: '2026-03-01T00:00:00Z', deadline: '2026-05-30T00:00:01Z' },
    message: /deadline is later than CCPA allows/,
  },
  { name: 'deadline: in the past, no receivedAt', input: { ...ok, deadline: '2026-01-01T00:00:00Z' }, message: /deadline must be in the future/ },
  { name: 'receivedAt: tomorrow', input: { ...ok, receivedAt: new Date(Date.now() + 86_400_000).toISOString() }, message: /receivedAt is in the future/ },
  // requestId.
  { name: 'requestId: 10 KB', input: { ...ok, requestId: 'R'.repeat(10 * 1024) }, message: /requestId is longer than 128 characters/ },
  { name: 'requestId: newline', input: { ...ok, requestId: 'T-1\nX-Injected: 1' }, message: /requestId may only contain/ },
  { name: 'requestId: an email', input: { ...ok, requestId: 'leakcheck@example.com' }, message: /requestId may only contain/ },
  { name: 'requestId: empty', input: { ...ok, requestId: '' }, message: /requestId/ },
  { name: 'requestId: number', input: { ...ok, requestId: 42 }, message: /requestId/ },
  // dryRun.
  { name: 'dryRun: string', input: { ...ok, dryRun: 'true' }, message: /dryRun/ },
  { name: 'dryRun: number', input: { ...ok, dryRun: 1 }, message: /dryRun/ },
  // Unknown fields and tuning.
  { name: 'unknown field', input: { ...ok, colour: 'blue' }, message: /unknown field\(s\): colour/ },
  { name: 'typo e-mail', input: { 'e-mail': 'leakcheck@example.com' }, message: /email is required.*unknown field\(s\): e-mail/ },
  { name: 'capitalised Email', input: { Email: 'leakcheck@example.com' }, message: /email is required.*unknown field\(s\): Email/ },
  { name: '__proto__ key', input: JSON.parse('{"email":"leakcheck.valid@example.com","__proto__":{"dryRun":true}}'), message: /unknown field\(s\): __proto__/ },
  {
    name: 'constructor key',
    input: JSON.parse('{"email":"leakcheck.valid@example.com","constructor":{"prototype":{}}}'),
    message: /unknown field\(s\): constructor/,
  },
  { name: 'tuning: unknown knob', input: { ...ok, tuning: { speed: 11 } }, message: /unknown field\(s\): speed/ },
  { name: 'tuning: attention retry 0', input: { ...ok, tuning: { attentionRetryMs: 0 } }, message: /tuning\.attentionRetryMs/ },
  { name: 'tuning: not an object', input: { ...ok, tuning: 'fast' }, message: /tuning/ },
  // The input itself.
  { name: 'input: null', input: null, message: /input: .*expected object, received null/ },
  { name: 'input: undefined', input: undefined, message: /input: .*expected object, received undefined/ },
  { name: 'input: the email as a bare string', input: 'leakcheck@example.com', message: /input: .*expected object, received string/ },
  { name: 'input: an array', input: [{ email: 'leakcheck@example.com' }], message: /input: .*expected object, received array/ },
  { name: 'input: a number', input: 42, message: /input: .*expected object, received number/ },
];

const FLAGS: Record<string, string> = {
  email: '--email',
  mode: '--mode',
  regulation: '--regulation',
  requestId: '--request-id',
  receivedAt: '--received-at',
  deadline: '--deadline',
};

/** The `dsar erase` flags that express this input, or undefined when the CLI cannot (non-strings, unknown fields). */
export function cliFlags(input: unknown): string[] | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  const flags: string[] = [];
  for (const [k, v] of Object.entries(input)) {
    if (k === 'dryRun' && v === true) flags.push('--dry-run');
    else if (FLAGS[k] && typeof v === 'string') flags.push(`${FLAGS[k]}=${v}`);
    else return undefined;
  }
  return flags;
}

/** `dsar erase` mistakes the CLI adds on its own: flags, positionals, standard input. */
export const CLI_ONLY: { name: string; argv: string[]; stdin?: string; message: RegExp }[] = [
  { name: 'no email at all', argv: ['erase'], message: /dsar erase needs --email <address>, --email-stdin or --file/ },
  { name: 'email as a positional', argv: ['erase', 'leakcheck@example.com'], message: /dsar erase needs --email/ },
  { name: '--email without a value', argv: ['erase', '--email'], message: /--email/ },
  { name: 'empty --email', argv: ['erase', '--email='], message: /dsar erase needs --email/ },
  { name: 'unknown flag', argv: ['erase', '--email=leakcheck@example.com', '--colour=blue'], message: /Unknown option '--colour'/ },
  { name: 'value on a boolean flag', argv: ['erase', '--email=leakcheck@example.com', '--dry-run=yes'], message: /--dry-run/ },
  { name: 'empty standard input', argv: ['erase', '--email-stdin'], stdin: ' \n', message: /dsar erase needs --email/ },
  {
    name: 'bad address on standard input',
    argv: ['erase', '--email-stdin'],
    stdin: 'leakcheck at example.com\n',
    message: /email is not a valid email address/,
  },
  {
    name: 'two lines on standard input',
    argv: ['erase', '--email-stdin'],
    stdin: 'leakcheck@example.com\nvictim@example.com\n',
    message: /email is not a valid email address/,
  },
  {
    name: '1 MB on standard input',
    argv: ['erase', '--email-stdin'],
    stdin: `${MARKER}${'y'.repeat(1024 * 1024)}@example.com`,
    message: /email is longer than 254/,
  },
];

/** Missing or malformed configuration of the CLI; `secret` must never be printed. */
export function configCases(good: Record<string, string>): { name: string; env: Record<string, string | undefined>; message: RegExp; secret?: string }[] {
  const short = Buffer.alloc(16, 7).toString('base64');
  const wrongLen = Buffer.alloc(31, 5).toString('base64');
  return [
    { name: 'no DSAR_ID_KEY', env: { ...good, DSAR_ID_KEY: undefined }, message: /DSAR_ID_KEY is required/ },
    { name: 'blank DSAR_ID_KEY', env: { ...good, DSAR_ID_KEY: '' }, message: /DSAR_ID_KEY is required/ },
    {
      name: 'short DSAR_ID_KEY',
      env: { ...good, DSAR_ID_KEY: 'sekrit-id-key-short' },
      message: /DSAR_ID_KEY must be at least 32 characters/,
      secret: 'sekrit-id-key-short',
    },
    { name: 'no DSAR_ENCRYPTION_KEYS', env: { ...good, DSAR_ENCRYPTION_KEYS: undefined }, message: /DSAR_ENCRYPTION_KEYS is required/ },
    {
      name: 'DSAR_ENCRYPTION_KEYS without an id',
      env: { ...good, DSAR_ENCRYPTION_KEYS: Buffer.alloc(32, 3).toString('base64') },
      message: /DSAR_ENCRYPTION_KEYS entry 1 is not id:base64key/,
      secret: Buffer.alloc(32, 3).toString('base64'),
    },
    {
      name: 'DSAR_ENCRYPTION_KEYS 16-byte key',
      env: { ...good, DSAR_ENCRYPTION_KEYS: `k1:${short}` },
      message: /DSAR_ENCRYPTION_KEYS key "k1" must be 32 bytes/,
      secret: short,
    },
    {
      name: 'DSAR_ENCRYPTION_KEYS 31-byte key',
      env: { ...good, DSAR_ENCRYPTION_KEYS: `k1:${wrongLen}` },
      message: /key "k1" must be 32 bytes/,
      secret: wrongLen,
    },
    {
      name: 'DSAR_ENCRYPTION_KEYS not base64',
      env: { ...good, DSAR_ENCRYPTION_KEYS: 'k1:this-is-not-base64!!!' },
      message: /key "k1" must be 32 bytes in base64/,
      secret: 'this-is-not-base64',
    },
    {
      name: 'DSAR_ENCRYPTION_KEYS id listed twice',
      env: { ...good, DSAR_ENCRYPTION_KEYS: `${good.DSAR_ENCRYPTION_KEYS},${good.DSAR_ENCRYPTION_KEYS}` },
      message: /listed twice/,
      secret: good.DSAR_ENCRYPTION_KEYS!.split(':')[1],
    },
    { name: 'DSAR_ENCRYPTION_KEYS only commas', env: { ...good, DSAR_ENCRYPTION_KEYS: ' , ,' }, message: /DSAR_ENCRYPTION_KEYS lists no keys/ },
    { name: 'DSAR_ENCRYPTION_KEY_ID not listed', env: { ...good, DSAR_ENCRYPTION_KEY_ID: 'k9' }, message: /DSAR_ENCRYPTION_KEY_ID "k9" is not one of the ids/ },
    { name: 'TEMPORAL_ADDRESS a URL', env: { ...good, TEMPORAL_ADDRESS: 'http://localhost:7233' }, message: /TEMPORAL_ADDRESS must be host:port/ },
    { name: 'DSAR_FOLLOW_UP_DELAY not a duration', env: { ...good, DSAR_FOLLOW_UP_DELAY: 'next week' }, message: /DSAR_FOLLOW_UP_DELAY must be a duration/ },
    { name: 'DSAR_ATTENTION_RETRY negative', env: { ...good, DSAR_ATTENTION_RETRY: '-4h' }, message: /DSAR_ATTENTION_RETRY must be a duration/ },
  ];
}

export { mapPool } from '../../src/pool.js';
