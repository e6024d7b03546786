/**
 * What the workflow tells about a request: its phase, its status (the `status` query) and its
 * result. Types and constants only. No Node imports: the workflow bundle uses it.
 */
import type { Regulation } from './deadlines.js';
import type { Mode } from './erasure-request.js';

export const PHASES = [
  'looking_up',
  'waiting_for_interviews',
  'erasing',
  'verifying',
  'completed',
  'no_data',
  'dry_run',
  'needs_attention',
  'failed',
  'cancelled',
] as const;
export type Phase = (typeof PHASES)[number];

export type PersonState = 'pending' | 'blocked' | 'erasing' | 'erased' | 'failed';

export interface PersonStatus {
  personUid: string;
  candidateUids: string[];
  state: PersonState;
  blockingCandidateUids: string[];
  /** When the workflow re-checks a blocked person by itself. */
  nextCheckAt?: string;
  /** Erase calls made for this person (blocked ones included). */
  attempts: number;
  erasedAt?: string;
  erasedCandidateUids?: string[];
  alreadyGone?: boolean;
}

export interface StatusEvent {
  at: string;
  kind: string;
  detail?: string;
  /** Who sent an operator message; `workflow` for the workflow's own steps. */
  actor: string;
}

export interface Attention {
  /** Failure type, e.g. `ComeetNoPermission`. */
  code: string;
  reason: string;
  /** The Comeet permission to grant, by its name in Comeet's settings. */
  permission?: string;
  since: string;
  nextRetryAt: string;
}

export interface ErasureStatus {
  phase: Phase;
  mode: Mode;
  regulation: Regulation;
  dryRun: boolean;
  requestId?: string;
  receivedAt: string;
  deadline: string;
  atRisk: boolean;
  atRiskReason?: string;
  persons: PersonStatus[];
  blockingCandidateUids: string[];
  nextCheckAt?: string;
  attention?: Attention;
  lookups: number;
  eraseAttempts: number;
  events: StatusEvent[];
  failure?: string;
  cancellation?: { reason: string; actor: string; at: string };
  /** Callers who asked for this request, and the state of their callbacks. */
  requests?: RequestRegistration[];
  /** How many times the request went on in a new run (continue-as-new) because its history grew long. */
  runsContinued?: number;
  /** The tenant whose account the request is for (`default`: the single-account setup). */
  tenant?: string;
  /** The tenant is paused: nothing is called until it resumes. */
  tenantPaused?: boolean;
}

export interface ErasedPerson {
  personUid: string;
  candidateUids: string[];
  count: number;
  erasedAt: string;
  /** Comeet answered 404: already gone before our call (a retry of ours, or someone else). */
  alreadyGone: boolean;
}

export type Outcome = 'completed' | 'no_data' | 'dry_run' | 'cancelled';

/** The workflow's result. It never contains the email. */
export interface ErasureResult {
  outcome: Outcome;
  requestId?: string;
  mode: Mode;
  regulation: Regulation;
  /** Set by runs recorded since requests carry it (older results: a dry run is outcome dry_run or no_data). */
  dryRun?: boolean;
  receivedAt: string;
  deadline: string;
  startedAt: string;
  finishedAt: string;
  /** When a lookup last found none of the subject's candidates. */
  verifiedAbsentAt?: string;
  persons: ErasedPerson[];
  /** dry run: who would be erased. */
  wouldErase?: { personUid: string; candidateUids: string[] }[];
  totals: { persons: number; candidates: number };
  lookups: number;
  eraseAttempts: number;
  followUp?: { workflowId: string; at: string };
  cancellation?: { reason: string; actor: string; at: string };
  /** Proof of erasure (completed and no_data): a compact JWS; check it with `dsar verify-receipt`. */
  receipt?: string;
  receiptKeyId?: string;
}

/** One caller's interest in a request: told of the outcome at `callbackUrl`, when given. */
export interface RequestRegistration {
  requestId?: string;
  caller?: string;
  mode?: Mode;
  regulation?: Regulation;
  dryRun?: boolean;
  /** Waiting for the dry run under way; this run continues as it. */
  queued?: boolean;
  /** Present only inside the workflow; the status query says only whether there is one. */
  hasCallback: boolean;
  callback?: 'pending' | 'delivered' | 'failed';
  callbackError?: string;
}
