/**
 * Shape of a proof-of-erasure receipt and the rules its contents must obey. The same rules run when
 * signing (so we never sign a receipt an auditor would reject) and when verifying.
 *
 * Every string field is restricted to a character set without `@`, so no receipt can carry an email
 * address, even by mistake. No Temporal imports: used from an activity, the CLI and tests.
 */
import { z } from 'zod';

export const RECEIPT_TYPE = 'comeet-dsar-receipt+jws';
export const RECEIPT_VERSION = 1;
export const DEFAULT_ISSUER = 'comeet-dsar';
export const RECEIPT_ALGS = ['EdDSA', 'ES256'] as const;
export type ReceiptAlg = (typeof RECEIPT_ALGS)[number];

export interface ReceiptPerson {
  personUid: string;
  candidateUids: string[];
  count: number;
  erasedAt: string;
  alreadyGone: boolean;
}

/** What the workflow knows when it finishes; the activity turns it into a receipt. */
export interface ReceiptClaims {
  requestId?: string;
  workflowId: string;
  runId: string;
  /** Keyed hash of the subject's normalised email (the hex part of the workflow id: HMAC-SHA256 truncated to 128 bits). Never the email. */
  subjectHash: string;
  outcome: 'completed' | 'no_data';
  mode: 'delete' | 'pseudonymize';
  regulation: 'gdpr' | 'ccpa';
  /** true: a dry run that found no data (nothing was erased, absence was verified). Absent in receipts issued before it was added. */
  dryRun?: boolean;
  receivedAt: string;
  deadline: string;
  startedAt: string;
  finishedAt: string;
  /** When a lookup last found none of the subject's candidates. */
  verifiedAbsentAt: string;
  persons: ReceiptPerson[];
  totals: { persons: number; candidates: number };
  lookups: number;
}

export interface Receipt extends ReceiptClaims {
  version: 1;
  issuedAt: string;
  issuer: string;
  keyId: string;
}

const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2026-05-01T09:00:00Z' });
/** Comeet uids look like `30.ADAL`; numeric ones are kept as strings. */
const uid = z.string().regex(/^[\w.:-]{1,128}$/, 'must be a Comeet uid (letters, digits, . _ : -)');
const count = z.number().int('must be a whole number').min(0, 'must not be negative');
/** A key id: printable, no spaces, no `@`. */
export const keyIdSchema = z.string().regex(/^[\w.:+/=-]{1,128}$/, 'must be 1 to 128 characters among letters, digits and . _ : + / = -');

const personShape = z
  .object({
    personUid: uid,
    candidateUids: z.array(uid),
    count,
    erasedAt: isoDate,
    alreadyGone: z.boolean(),
  })
  .strict();

const claimsShape = {
  requestId: z
    .string()
    .regex(/^[\w.:/-]{1,128}$/, 'may only contain letters, digits and . _ : / - (at most 128)')
    .optional(),
  workflowId: z.string().regex(/^[\w.:/-]{1,256}$/, 'must be a Temporal workflow id (letters, digits and . _ : / -)'),
  runId: z.string().regex(/^[\w-]{1,128}$/, 'must be a Temporal run id'),
  subjectHash: z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lower-case hex characters (HMAC-SHA256 truncated to 128 bits), never the email'),
  outcome: z.enum(['completed', 'no_data'], { message: 'must be "completed" or "no_data" (no receipt for a dry run or a cancelled request)' }),
  mode: z.enum(['delete', 'pseudonymize'], { message: 'must be "delete" or "pseudonymize"' }),
  regulation: z.enum(['gdpr', 'ccpa'], { message: 'must be "gdpr" or "ccpa"' }),
  // Optional, so receipts signed before it existed still verify.
  dryRun: z.boolean({ message: 'must be true or false' }).optional(),
  receivedAt: isoDate,
  deadline: isoDate,
  startedAt: isoDate,
  finishedAt: isoDate,
  verifiedAbsentAt: isoDate,
  persons: z.array(personShape),
  totals: z.object({ persons: count, candidates: count }).strict(),
  lookups: z.number().int('must be a whole number').min(1, 'must be at least 1: absence is only known from a lookup'),
};

type Problem = { path: (string | number)[]; message: string };

/** Rules across fields: counts add up, dates are in order, the outcome matches the persons. */
export function consistencyProblems(v: ReceiptClaims): Problem[] {
  const problems: Problem[] = [];
  const issue = (path: (string | number)[], message: string) => problems.push({ path, message });
  v.persons.forEach((p, i) => {
    if (p.count !== p.candidateUids.length) {
      issue(['persons', i, 'count'], `is ${p.count} but the person lists ${p.candidateUids.length} candidate uid(s)`);
    }
    if (new Set(p.candidateUids).size !== p.candidateUids.length) issue(['persons', i, 'candidateUids'], 'lists a candidate uid twice');
  });
  if (new Set(v.persons.map((p) => p.personUid)).size !== v.persons.length) issue(['persons'], 'lists a person uid twice');
  if (v.totals.persons !== v.persons.length) {
    issue(['totals', 'persons'], `is ${v.totals.persons} but the receipt lists ${v.persons.length} person(s)`);
  }
  const candidates = v.persons.reduce((n, p) => n + p.count, 0);
  if (v.totals.candidates !== candidates) {
    issue(['totals', 'candidates'], `is ${v.totals.candidates} but the persons' counts add up to ${candidates}`);
  }
  if (v.outcome === 'no_data' && v.persons.length > 0) issue(['persons'], 'must be empty when the outcome is no_data');
  if (v.dryRun && v.outcome !== 'no_data') issue(['dryRun'], 'a dry run erases nothing: only a no_data receipt can be one');
  if (v.outcome === 'completed' && v.persons.length === 0) issue(['persons'], 'must list at least one person when the outcome is completed');
  if (!v.workflowId.includes(v.subjectHash)) issue(['subjectHash'], 'must be the hex part of the workflow id');
  const t = (s: string) => Date.parse(s);
  if (t(v.deadline) <= t(v.receivedAt)) issue(['deadline'], 'must be after receivedAt');
  if (t(v.finishedAt) < t(v.startedAt)) issue(['finishedAt'], 'must not be before startedAt');
  if (t(v.verifiedAbsentAt) < t(v.startedAt) || t(v.verifiedAbsentAt) > t(v.finishedAt)) {
    issue(['verifiedAbsentAt'], 'must be between startedAt and finishedAt');
  }
  return problems;
}

function checkConsistency(v: ReceiptClaims, ctx: { addIssue(issue: { code: 'custom'; path: (string | number)[]; message: string }): void }): void {
  for (const p of consistencyProblems(v)) ctx.addIssue({ code: 'custom', ...p });
}

/** Claims as the signer accepts them: unknown fields (an `email`, `eraseAttempts`…) are dropped. */
export const receiptClaimsSchema = z.object(claimsShape).superRefine(checkConsistency);

/** A version 1 receipt as the verifier accepts it: exactly these fields, nothing else. */
export const receiptSchema = z
  .object({
    version: z.literal(RECEIPT_VERSION, { message: `must be ${RECEIPT_VERSION}: this verifier reads version ${RECEIPT_VERSION} receipts` }),
    ...claimsShape,
    issuedAt: isoDate,
    issuer: z.string().regex(/^[\w.:/-]{1,128}$/, 'must be a name such as comeet-dsar (letters, digits and . _ : / -)'),
    keyId: keyIdSchema,
  })
  .strict()
  .superRefine(checkConsistency);

/** One line saying what is wrong, naming fields but never echoing their values. */
export function describeReceiptIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : 'receipt';
      if (i.code === 'unrecognized_keys') return `unknown field(s) ${i.keys.map((k) => (i.path.length ? `${where}.${k}` : k)).join(', ')}`;
      if (i.code === 'invalid_type' && i.input === undefined) return `${where} is missing`;
      return `${where} ${i.message}`;
    })
    .join('; ')
    .concat(error.issues.length > 5 ? `; and ${error.issues.length - 5} more problem(s)` : '');
}
