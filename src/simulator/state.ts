/**
 * The simulator's data: candidates (one per hiring process), grouped into persons by `person_uid`,
 * with their workflow steps and the interview rules that block erasure.
 */
import { candidateSeedSchema, parseOrThrow } from './schemas.js';
import { formatTime, resolveTimeSpec } from './time.js';
import type { SimCandidateSeed, SimCandidateStatus, SimCandidateView, SimSource, SimSourceContact, SimStepSeed, SimStepView } from './types.js';

export interface StoredStep {
  name: string;
  type: string;
  time_scheduled: number | null;
  time_completed: number | null;
  duration_minutes: number;
}

export interface StoredCandidate {
  uid: string;
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
  time_created: number;
  time_last_status_changed: number;
  current_steps: StoredStep[];
  completed_steps: StoredStep[];
  future_steps: StoredStep[];
  deleted: boolean;
  pseudonymized: boolean;
  time_deleted: number | null;
  time_pseudonymized: number | null;
}

/** The fields POST /candidates stores (already validated by the route). */
export interface CreateCandidateInput {
  position_uid: string;
  first_name: string;
  middle_name: string | null;
  last_name: string;
  email: string | null;
  phone: string | null;
  mobile_phone: string | null;
  linkedin_url: string | null;
  partner_candidate_id: string | null;
  source_contact: SimSourceContact | null;
}

export const DEFAULT_POSITION_UID = '11.11';
const DEFAULT_DURATION_MINUTES = 60;
const INTERVIEW = /interview/i;
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * The simulator's email matching: Unicode lower-casing, as a database collation may do, so a
 * look-alike such as `\u212Aate@…` (KELVIN SIGN) matches `kate@…` here. Only the client's exact
 * match keeps such candidates out of an erasure.
 */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function isInterview(step: { type: string }): boolean {
  return INTERVIEW.test(step.type);
}

export function stepEnd(step: StoredStep): number | null {
  return step.time_scheduled === null ? null : step.time_scheduled + step.duration_minutes * 60_000;
}

/** An interview that is scheduled or ongoing at `now`: it blocks erasure. */
export function isPendingInterview(step: StoredStep, now: number): boolean {
  const end = stepEnd(step);
  return isInterview(step) && step.time_completed === null && end !== null && end > now;
}

/** Maps n (0, 1, 2, ...) to a scrambled but unique code of `width` letters. */
function letterCode(n: number, width: number, salt: number): string {
  const space = LETTERS.length ** width;
  // 7919 is prime and coprime to 26^k, so this is a bijection on [0, space).
  let v = ((((n % space) * 7919 + salt) % space) + space) % space;
  let out = '';
  for (let i = 0; i < width; i++) {
    out = LETTERS[v % 26] + out;
    v = Math.floor(v / 26);
  }
  const wrap = Math.floor(n / space);
  return wrap > 0 ? `${out}${wrap}` : out;
}

/**
 * How a store generates ids. Stores of one simulator share `taken`, so generated uids are unique
 * across accounts: a client that sends one account's uid with another account's key finds nothing
 * instead of erasing a look-alike. Seeded uids are only checked within their own store.
 */
export interface StoreIds {
  /** 0 for the default account: its uids are the same as a single-account simulator's. */
  index: number;
  taken: Set<string>;
}

export class CandidateStore {
  private readonly list: StoredCandidate[] = [];
  private readonly byUid = new Map<string, StoredCandidate>();
  private readonly byRealId = new Map<number, StoredCandidate>();
  private readonly personUids = new Set<string>();
  readonly positions = new Set<string>([DEFAULT_POSITION_UID]);
  private candidateCounter = 0;
  private personCounter = 0;
  private realIdCounter: number;
  private readonly ids: StoreIds;

  constructor(
    private readonly clock: () => number,
    ids: StoreIds = { index: 0, taken: new Set() },
  ) {
    this.ids = ids;
    this.realIdCounter = 100_000 + ids.index * 1_000_000;
  }

  // ---- uids -------------------------------------------------------------------------------------

  private uidFree(uid: string): boolean {
    return !this.byUid.has(uid) && !this.personUids.has(uid) && !this.ids.taken.has(uid);
  }

  private nextCandidateUid(): string {
    for (;;) {
      const n = this.candidateCounter++;
      const uid = `${String(10 + ((n * 37) % 90))}.${letterCode(n, 3, 1234 + this.ids.index * 4567)}`;
      if (this.uidFree(uid)) return uid;
    }
  }

  private nextPersonUid(): string {
    for (;;) {
      const n = this.personCounter++;
      const uid = `${String(10 + ((n * 53) % 90))}.${letterCode(n, 4, 4321 + this.ids.index * 76_543)}`;
      if (this.uidFree(uid)) return uid;
    }
  }

  // ---- adding -----------------------------------------------------------------------------------

  /**
   * Validates and stores a seed. Errors read `<what>: <prefix>.<field>: <problem>`, e.g.
   * `Invalid simulator options: seed.candidates[3].first_name: ...`.
   * Without `person_uid` the candidate is a new person.
   */
  addSeed(raw: unknown, what = 'Invalid candidate seed', prefix = ''): StoredCandidate {
    const seed = parseOrThrow(candidateSeedSchema, raw, what, prefix) as SimCandidateSeed;
    const field = (name: string) => (prefix === '' ? name : `${prefix}.${name}`);
    const now = this.clock();
    const at = (spec: string | null | undefined, name: string): number | null => {
      if (spec === null || spec === undefined) return null;
      const v = resolveTimeSpec(spec, now);
      if (v === undefined) throw new Error(`${what}: ${field(name)}: bad time "${spec}"`);
      return v;
    };
    if (seed.uid !== undefined && (this.byUid.has(seed.uid) || this.personUids.has(seed.uid))) {
      throw new Error(`${what}: ${field('uid')}: "${seed.uid}" is already used`);
    }
    if (seed.person_uid !== undefined && this.byUid.has(seed.person_uid)) {
      throw new Error(`${what}: ${field('person_uid')}: "${seed.person_uid}" is already a candidate uid`);
    }
    const timeCreated = at(seed.time_created, 'time_created') ?? now;
    const steps = (list: SimStepSeed[] | undefined, field: string, completed: boolean): StoredStep[] =>
      (list ?? []).map((s, i) => {
        const step: StoredStep = {
          name: s.name,
          type: s.type,
          time_scheduled: at(s.time_scheduled, `${field}[${i}].time_scheduled`),
          time_completed: at(s.time_completed, `${field}[${i}].time_completed`),
          duration_minutes: s.duration_minutes ?? DEFAULT_DURATION_MINUTES,
        };
        if (completed && step.time_completed === null) step.time_completed = stepEnd(step) ?? timeCreated;
        return step;
      });
    const current = steps(seed.current_steps, 'current_steps', false);
    const candidate: StoredCandidate = {
      uid: seed.uid ?? this.nextCandidateUid(),
      real_id: this.realIdCounter++,
      person_uid: seed.person_uid ?? this.nextPersonUid(),
      position_uid: seed.position_uid ?? DEFAULT_POSITION_UID,
      first_name: seed.first_name,
      middle_name: seed.middle_name ?? null,
      last_name: seed.last_name,
      email: seed.email ?? null,
      phone: seed.phone ?? null,
      mobile_phone: seed.mobile_phone ?? null,
      linkedin_url: seed.linkedin_url ?? null,
      status: seed.status ?? 'In progress',
      source: seed.source ?? 'other',
      source_contact: seed.source_contact ? { ...seed.source_contact } : null,
      partner_candidate_id: null,
      time_created: timeCreated,
      time_last_status_changed: timeCreated,
      current_steps: current,
      completed_steps: steps(seed.completed_steps, 'completed_steps', true),
      future_steps: steps(seed.future_steps, 'future_steps', false),
      deleted: false,
      pseudonymized: false,
      time_deleted: null,
      time_pseudonymized: null,
    };
    this.insert(candidate);
    return candidate;
  }

  /** POST /candidates: joins the person of an existing non-deleted candidate with the same email. */
  create(input: CreateCandidateInput): StoredCandidate {
    const now = this.clock();
    const email = input.email === null ? null : input.email.trim();
    const sameEmail =
      email === null || email === '' ? undefined : this.list.find((c) => !c.deleted && c.email !== null && normalizeEmail(c.email) === normalizeEmail(email));
    const candidate: StoredCandidate = {
      uid: this.nextCandidateUid(),
      real_id: this.realIdCounter++,
      person_uid: sameEmail?.person_uid ?? this.nextPersonUid(),
      position_uid: input.position_uid,
      first_name: input.first_name,
      middle_name: input.middle_name,
      last_name: input.last_name,
      email: email === '' ? null : email,
      phone: input.phone,
      mobile_phone: input.mobile_phone,
      linkedin_url: input.linkedin_url,
      status: 'In progress',
      source: 'app',
      source_contact: input.source_contact,
      partner_candidate_id: input.partner_candidate_id,
      time_created: now,
      time_last_status_changed: now,
      current_steps: [{ name: 'Application Review', type: 'Go/No-go', time_scheduled: null, time_completed: null, duration_minutes: DEFAULT_DURATION_MINUTES }],
      completed_steps: [],
      future_steps: [{ name: 'Phone Screen', type: 'Phone Interview', time_scheduled: null, time_completed: null, duration_minutes: 30 }],
      deleted: false,
      pseudonymized: false,
      time_deleted: null,
      time_pseudonymized: null,
    };
    this.insert(candidate);
    return candidate;
  }

  private insert(c: StoredCandidate): void {
    this.list.push(c);
    this.byUid.set(c.uid, c);
    this.byRealId.set(c.real_id, c);
    this.personUids.add(c.person_uid);
    this.positions.add(c.position_uid);
    this.ids.taken.add(c.uid);
    this.ids.taken.add(c.person_uid);
  }

  // ---- reading ----------------------------------------------------------------------------------

  /** Moves interviews whose end has passed (and any step with a completion time) to completed_steps. */
  settle(): void {
    const now = this.clock();
    for (const c of this.list) {
      for (const key of ['current_steps', 'future_steps'] as const) {
        const keep: StoredStep[] = [];
        for (const step of c[key]) {
          if (step.time_completed === null && isInterview(step)) {
            const end = stepEnd(step);
            if (end !== null && end <= now) step.time_completed = end;
          }
          if (step.time_completed !== null) c.completed_steps.push(step);
          else keep.push(step);
        }
        c[key] = keep;
      }
    }
  }

  /** All candidates in creation order (settled at the simulator clock). */
  all(): StoredCandidate[] {
    this.settle();
    return [...this.list];
  }

  get(uid: string): StoredCandidate | undefined {
    this.settle();
    return this.byUid.get(uid);
  }

  getByRealId(realId: number): StoredCandidate | undefined {
    this.settle();
    return this.byRealId.get(realId);
  }

  /** Every candidate of the person, including deleted ones. */
  personCandidates(personUid: string): StoredCandidate[] {
    this.settle();
    return this.list.filter((c) => c.person_uid === personUid);
  }

  pendingInterviewSteps(c: StoredCandidate): StoredStep[] {
    const now = this.clock();
    if (c.deleted) return [];
    return [...c.current_steps, ...c.future_steps].filter((s) => isPendingInterview(s, now));
  }

  /** Non-deleted candidate with this partner_candidate_id 'In progress' on that position, if any. */
  findConflict(positionUid: string, partnerCandidateId: string): StoredCandidate | undefined {
    this.settle();
    return this.list.find((c) => !c.deleted && c.position_uid === positionUid && c.partner_candidate_id === partnerCandidateId && c.status === 'In progress');
  }

  // ---- changing ---------------------------------------------------------------------------------

  /** Deletes the given candidates, wiping their personal data. */
  markDeleted(cands: StoredCandidate[]): void {
    const now = this.clock();
    for (const c of cands) {
      c.deleted = true;
      c.time_deleted = now;
      c.first_name = '';
      c.middle_name = null;
      c.last_name = '';
      c.email = null;
      c.phone = null;
      c.mobile_phone = null;
      c.linkedin_url = null;
      c.source_contact = null;
    }
  }

  /** Replaces the candidates' personal data with a pseudonym. */
  markPseudonymized(cands: StoredCandidate[], keepEmail: boolean): void {
    const now = this.clock();
    for (const c of cands) {
      c.pseudonymized = true;
      c.time_pseudonymized = now;
      c.first_name = 'Pseudonymized';
      c.middle_name = null;
      c.last_name = 'Candidate';
      if (!keepEmail) c.email = null;
      c.phone = null;
      c.mobile_phone = null;
      c.linkedin_url = null;
    }
  }

  /** Completes now every pending interview of a candidate (by candidate uid) or of a person (by person uid). */
  completeInterviews(uid: string): number {
    this.settle();
    const now = this.clock();
    const direct = this.byUid.get(uid);
    const targets = direct ? [direct] : this.list.filter((c) => c.person_uid === uid);
    if (targets.length === 0) throw new Error(`completeInterviews: no candidate or person with uid "${uid}"`);
    let count = 0;
    for (const c of targets) {
      for (const step of this.pendingInterviewSteps(c)) {
        step.time_completed = now;
        count++;
      }
    }
    this.settle();
    return count;
  }

  scheduleInterview(candidateUid: string, atMs: number, durationMinutes: number): StoredCandidate {
    this.settle();
    const c = this.byUid.get(candidateUid);
    if (!c) throw new Error(`scheduleInterview: no candidate with uid "${candidateUid}"`);
    if (c.deleted) throw new Error(`scheduleInterview: candidate "${candidateUid}" is deleted`);
    if (!Number.isFinite(atMs)) throw new Error('scheduleInterview: at: not a valid time');
    if (!(durationMinutes > 0)) throw new Error('scheduleInterview: durationMinutes: must be positive');
    const now = this.clock();
    if (c.status !== 'In progress') {
      c.status = 'In progress';
      c.time_last_status_changed = now;
    }
    c.current_steps.push({
      name: 'Phone Interview',
      type: 'Phone Interview',
      time_scheduled: atMs,
      time_completed: null,
      duration_minutes: durationMinutes,
    });
    this.settle();
    return c;
  }

  // ---- views ------------------------------------------------------------------------------------

  view(c: StoredCandidate): SimCandidateView {
    const now = this.clock();
    const stepView = (s: StoredStep): SimStepView => ({
      name: s.name,
      type: s.type,
      time_scheduled: s.time_scheduled === null ? null : formatTime(s.time_scheduled),
      time_completed: s.time_completed === null ? null : formatTime(s.time_completed),
      duration_minutes: s.duration_minutes,
      pending: !c.deleted && isPendingInterview(s, now),
    });
    return {
      uid: c.uid,
      real_id: c.real_id,
      person_uid: c.person_uid,
      position_uid: c.position_uid,
      first_name: c.first_name,
      middle_name: c.middle_name,
      last_name: c.last_name,
      email: c.email,
      phone: c.phone,
      mobile_phone: c.mobile_phone,
      linkedin_url: c.linkedin_url,
      status: c.status,
      source: c.source,
      source_contact: c.source_contact ? { ...c.source_contact } : null,
      partner_candidate_id: c.partner_candidate_id,
      time_created: formatTime(c.time_created),
      time_last_status_changed: formatTime(c.time_last_status_changed),
      current_steps: c.current_steps.map(stepView),
      completed_steps: c.completed_steps.map(stepView),
      future_steps: c.future_steps.map(stepView),
      deleted: c.deleted,
      pseudonymized: c.pseudonymized,
      time_deleted: c.time_deleted === null ? null : formatTime(c.time_deleted),
      time_pseudonymized: c.time_pseudonymized === null ? null : formatTime(c.time_pseudonymized),
      has_pending_interview: this.pendingInterviewSteps(c).length > 0,
    };
  }
}

/**
 * The candidate object as the API returns it. A deleted candidate is only `{uid, deleted: true}`;
 * `current_steps` only while In progress. Without the source-contact permission the contact details
 * (`email`, `phone`, `mobile_phone`) and `source_contact` are left out, while the email filters
 * still match on the stored email: what shared/comeet-api.md expects of a real account.
 */
export function toApiCandidate(c: StoredCandidate, opts: { sourceContact: boolean }): Record<string, unknown> {
  if (c.deleted) return { uid: c.uid, deleted: true };
  const pending = (s: StoredStep) => ({
    name: s.name,
    type: s.type,
    time_scheduled: s.time_scheduled === null ? null : formatTime(s.time_scheduled),
  });
  const done = (s: StoredStep) => ({
    ...pending(s),
    time_completed: s.time_completed === null ? null : formatTime(s.time_completed),
  });
  const out: Record<string, unknown> = {
    uid: c.uid,
    person_uid: c.person_uid,
    first_name: c.first_name,
    middle_name: c.middle_name,
    last_name: c.last_name,
    email: c.email,
    phone: c.phone,
    mobile_phone: c.mobile_phone,
    linkedin_url: c.linkedin_url,
    deleted: false,
    position_uid: c.position_uid,
    status: c.status,
    time_created: formatTime(c.time_created),
    time_last_status_changed: formatTime(c.time_last_status_changed),
    current_steps: c.status === 'In progress' ? c.current_steps.map(pending) : [],
    completed_steps: c.completed_steps.map(done),
    future_steps: c.future_steps.map(pending),
  };
  if (!opts.sourceContact) {
    delete out.email;
    delete out.phone;
    delete out.mobile_phone;
  }
  if (opts.sourceContact && c.source_contact) out.source_contact = { ...c.source_contact };
  return out;
}
