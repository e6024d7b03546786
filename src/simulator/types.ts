/**
 * Public types of the Comeet API simulator. Written from the Comeet API facts
 * (shared/comeet-api.md and the source documents), never from our own client.
 */

export type SimulatorPermission =
  | 'candidates:read_other_sources' // "Candidates: Retrieve candidates created by other sources"
  | 'candidates:read_own_source' // "Candidates: Retrieve candidates created by your app as the source"
  | 'candidates:source_contact_details' // "Candidates: Include source contact personal details in candidate object"
  | 'candidates:create' // "Candidates: Create a new candidate"
  | 'persons:erase'; // "Persons: Delete or Pseudonymize persons"

export const ALL_PERMISSIONS: readonly SimulatorPermission[] = Object.freeze([
  'candidates:read_other_sources',
  'candidates:read_own_source',
  'candidates:source_contact_details',
  'candidates:create',
  'persons:erase',
] as const);

export const CANDIDATE_STATUSES = ['In progress', 'On hold', 'Awaiting Decision', 'Rejected', 'Withdrawn', 'Hired'] as const;
export type SimCandidateStatus = (typeof CANDIDATE_STATUSES)[number];

export type SimSource = 'other' | 'app';

/**
 * A workflow step in a seed. Times are ISO strings or offsets against the simulator clock at seed
 * time: `"+90s"`, `"+5m"`, `"+2h"`, `"-3d"`, `"now"`.
 */
export interface SimStepSeed {
  name: string;
  type: string;
  time_scheduled?: string | null;
  time_completed?: string | null;
  /** How long the step lasts from `time_scheduled`; default 60. */
  duration_minutes?: number;
}

export interface SimSourceContact {
  full_name: string;
  email: string;
  phone?: string;
}

export interface SimCandidateSeed {
  uid?: string;
  /** Without it the candidate becomes a new person (seeds never join persons by email). */
  person_uid?: string;
  position_uid?: string;
  first_name: string;
  middle_name?: string;
  last_name: string;
  email?: string | null;
  phone?: string | null;
  mobile_phone?: string | null;
  linkedin_url?: string | null;
  /** Default 'In progress'. `current_steps` must be empty unless 'In progress'. */
  status?: SimCandidateStatus;
  /** 'app' = created by our integration; default 'other'. */
  source?: SimSource;
  source_contact?: SimSourceContact;
  current_steps?: SimStepSeed[];
  completed_steps?: SimStepSeed[];
  future_steps?: SimStepSeed[];
  /** Default: the simulator clock at seed time. */
  time_created?: string;
}

export interface SimulatorFaults {
  /** 0..1 share of requests answered with a 5xx. */
  errorRate?: number;
  /** Default 503. */
  errorStatus?: 500 | 502 | 503 | 504;
  /** Added delay before answering every request. */
  latencyMs?: number;
  /** 0..1 share of requests whose socket is destroyed with no response. */
  dropRate?: number;
  /** The next N requests are answered 429 regardless of the window. */
  rateLimitBurst?: number;
}

export interface SimulatorRateLimit {
  limit: number;
  windowMs: number;
}

export interface SimulatorSeed {
  candidates: SimCandidateSeed[];
  positions?: string[];
}

/** A sandbox is a Comeet account of its own (own data, permissions, rate limit), not a mode of the live one. */
export type SimEnvironment = 'sandbox' | 'production';

/** One API key of an account; the JWT `iss` names the key, its secret signs the token. */
export interface SimApiKey {
  apiKey: string;
  /** HS256 secret (UTF-8 bytes). Accounts may share a secret (one integration secret, several keys). */
  secret: string;
}

/**
 * A further Comeet account served next to the default one: its own keys, candidates, persons,
 * interviews, permissions, faults, rate-limit window and stats. Give either `apiKey` + `secret` or
 * `keys` (several keys of one account, e.g. while a key is rotated).
 */
export interface SimulatorAccountOptions {
  /** A label for admin routes and `sim.account(id)`: letters, digits, '.', '_', '-' (at most 64). */
  id: string;
  /** Informational; default 'production'. */
  environment?: SimEnvironment;
  apiKey?: string;
  secret?: string;
  keys?: SimApiKey[];
  /** Default ALL_PERMISSIONS. */
  permissions?: SimulatorPermission[];
  /** Default { limit: 100, windowMs: 60_000 }; null = off. */
  rateLimit?: SimulatorRateLimit | null;
  faults?: SimulatorFaults;
  seed?: SimulatorSeed;
}

export interface SimulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Expected JWT `iss` of the default account (the one `apiKey`, `secret`, `permissions`, `rateLimit`, `faults` and `seed` describe). */
  apiKey: string;
  /** HS256 secret (UTF-8 bytes). */
  secret: string;
  /** The default account's id; default 'default'. */
  accountId?: string;
  /** The default account's environment; default 'production'. */
  environment?: SimEnvironment;
  /** Further accounts, served side by side with the default one; API keys are unique across all. */
  accounts?: SimulatorAccountOptions[];
  /** Default ALL_PERMISSIONS. */
  permissions?: SimulatorPermission[];
  /** Default { limit: 100, windowMs: 60_000 } (sliding window over all API requests); null = off. */
  rateLimit?: SimulatorRateLimit | null;
  /** Send Retry-After (whole seconds until the window frees) on 429; default true. */
  retryAfter?: boolean;
  /** Max items per page of GET /candidates; default 50; a smaller `limit=` query wins. */
  pageSize?: number;
  /** How GET /candidates?email= behaves; default 'exact' (trimmed, case-insensitive). */
  emailFilter?: 'exact' | 'contains' | 'ignored';
  /** Whether GET /sourcing/candidates/find_duplicates exists; default true (else 404 HTML). */
  findDuplicates?: boolean;
  /** GET /candidates answers {candidates, next_page} (default 'object') or a bare array (no paging). */
  listShape?: 'object' | 'array';
  /** Without a read permission, candidates are silently left out ('omit', default) or the call gets 403. */
  readWithoutPermission?: 'omit' | 'forbid';
  /** Default false: pseudonymize clears email, names, phones, linkedin. */
  pseudonymizeKeepsEmail?: boolean;
  faults?: SimulatorFaults;
  seed?: SimulatorSeed;
  /** Default Math.random; tests pass a seeded PRNG. */
  random?: () => number;
  /** Default: no logging. Lines carry method, route pattern, status and ms only (no PII, no tokens). */
  log?: (line: string) => void;
}

export interface SimErasureRecord {
  personUid: string;
  mode: 'delete' | 'pseudonymize';
  candidateUids: string[];
  at: string;
}

export interface SimulatorStats {
  /** Every API request received, including faulted ones (admin routes are not counted). */
  total: number;
  /** Keyed by route pattern, e.g. 'GET /candidates/:uid'; unknown routes count as '<METHOD> (unmatched)'. */
  byRoute: Record<string, number>;
  /**
   * '200', '429', ...; dropped connections count under 'dropped', requests whose caller left before
   * sending the whole body under 'aborted'. An answer to a caller that left after sending the whole
   * request counts under its status (the request was carried out; only the answer was lost).
   */
  byStatus: Record<string, number>;
  rateLimited: number;
  faultsInjected: number;
  erasures: SimErasureRecord[];
  /** When the first API request counted in `total` arrived (ISO, real clock, ms); null when none. */
  firstRequestAt: string | null;
  /** When the last API request counted in `total` arrived (ISO, real clock, ms); null when none. */
  lastRequestAt: string | null;
  /**
   * The most API requests the rate limiter saw within any one window (sliding, exact): every request
   * that reached the rate-limit step, whether it passed or was answered 429 there (not those dropped
   * or answered by a `rateLimitBurst` fault before it). The window is the current rate limit's
   * `windowMs`, or 60 s when the rate limit is off; when that length changes, counting starts afresh
   * (the peak so far is kept).
   */
  peakInWindow: number;
}

/** A step as stored, at the simulator clock (interviews whose end has passed are completed). */
export interface SimStepView {
  name: string;
  type: string;
  time_scheduled: string | null;
  time_completed: string | null;
  duration_minutes: number;
  /** An interview that is scheduled or ongoing at the simulator clock (blocks erasure). */
  pending: boolean;
}

/** A candidate as stored by the simulator, including erased ones (their personal fields are wiped). */
export interface SimCandidateView {
  uid: string;
  /** The numeric web-UI id (usable with header `IDENTIFIER_TYPE: REAL_ID`). */
  real_id: number;
  person_uid: string;
  position_uid: string;
  first_name: string;
  middle_name: string | null;
  last_name: string;
  email: string | null;
  phone: string | null;
  mobile_phone: string | null;
  linkedin_url: string | null;
  status: SimCandidateStatus;
  source: SimSource;
  source_contact: SimSourceContact | null;
  partner_candidate_id: string | null;
  time_created: string;
  time_last_status_changed: string;
  current_steps: SimStepView[];
  completed_steps: SimStepView[];
  future_steps: SimStepView[];
  deleted: boolean;
  pseudonymized: boolean;
  time_deleted: string | null;
  time_pseudonymized: string | null;
  /** True when any current or future step is a pending interview. */
  has_pending_interview: boolean;
}

/** An account as the admin routes list it (no keys or secrets). */
export interface SimAccountInfo {
  id: string;
  environment: SimEnvironment;
  keyCount: number;
  isDefault: boolean;
}

/** Steers one account; the same methods on `Simulator` act on the default account. */
export interface SimulatorAccount {
  readonly id: string;
  readonly environment: SimEnvironment;
  addCandidate(seed: SimCandidateSeed): SimCandidateView;
  setPermissions(p: SimulatorPermission[]): void;
  permissions(): SimulatorPermission[];
  setFaults(f: SimulatorFaults): void;
  faults(): SimulatorFaults;
  /** Replaces the limit and starts a fresh window. */
  setRateLimit(r: SimulatorRateLimit | null): void;
  rateLimit(): SimulatorRateLimit | null;
  /** uid = person uid or candidate uid: every pending interview step of it is completed now. */
  completeInterviews(uid: string): void;
  /** Adds a current step {type:'Phone Interview'}; status becomes 'In progress'. `at` may be relative ("+5m"). */
  scheduleInterview(candidateUid: string, at: Date | string, durationMinutes?: number): void;
  /** As stored, including erased ones. */
  candidate(uid: string): SimCandidateView | undefined;
  candidates(): SimCandidateView[];
  stats(): SimulatorStats;
  resetStats(): void;
}

/** The server; the account methods it shares with SimulatorAccount act on the default account. */
export interface Simulator extends Omit<SimulatorAccount, 'id' | 'environment' | 'permissions' | 'faults' | 'rateLimit'> {
  /** e.g. http://127.0.0.1:54321 (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Closes the server and any open keep-alive sockets promptly. */
  close(): Promise<void>;
  /** Simulator clock (ms) = Date.now() + offset. */
  now(): number;
  /** Moves the simulator clock forward (interview times use it; JWT exp and the rate window use real time). */
  advanceClock(ms: number): void;
  /** One account by id (the default one included); throws for an unknown id. */
  account(id: string): SimulatorAccount;
  /** From now on the key is refused (401 invalid_token), as Comeet does once a customer revokes it. */
  revokeApiKey(apiKey: string): void;
  /** Every account, the default one first. */
  accounts(): SimAccountInfo[];
  /** Adds an account while running (its API keys must not be in use). */
  addAccount(options: SimulatorAccountOptions): SimulatorAccount;
  /** Every account's stats, keyed by account id. */
  statsByAccount(): Record<string, SimulatorStats>;
}
