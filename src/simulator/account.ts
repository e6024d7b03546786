/**
 * One Comeet account of the simulator: what a customer's account holds and is limited by on its
 * own: API keys, candidates and persons, permissions, faults, its rate-limit window and its stats.
 * The simulator clock is shared by all accounts.
 */
import { faultsSchema, parseOrThrow, permissionsBodySchema, rateLimitSchema } from './schemas.js';
import { SlidingWindowPeak } from './peak.js';
import { CandidateStore, type StoreIds } from './state.js';
import { resolveTimeSpec } from './time.js';
import {
  ALL_PERMISSIONS,
  type SimAccountInfo,
  type SimCandidateSeed,
  type SimCandidateView,
  type SimEnvironment,
  type SimulatorAccount,
  type SimulatorFaults,
  type SimulatorPermission,
  type SimulatorRateLimit,
  type SimulatorSeed,
  type SimulatorStats,
} from './types.js';

export const DEFAULT_RATE_LIMIT: SimulatorRateLimit = Object.freeze({ limit: 100, windowMs: 60_000 });
/** The window `peakInWindow` counts over while the rate limit is off. */
export const PEAK_WINDOW_WITHOUT_RATE_LIMIT_MS = 60_000;

export function emptyStats(): SimulatorStats {
  return {
    total: 0,
    byRoute: {},
    byStatus: {},
    rateLimited: 0,
    faultsInjected: 0,
    erasures: [],
    firstRequestAt: null,
    lastRequestAt: null,
    peakInWindow: 0,
  };
}

/** An account's settings, already validated. */
export interface AccountConfig {
  id: string;
  environment: SimEnvironment;
  keys: { apiKey: string; secret: string }[];
  permissions?: SimulatorPermission[];
  rateLimit?: SimulatorRateLimit | null;
  faults?: SimulatorFaults;
  seed?: SimulatorSeed;
}

export class Account implements SimulatorAccount {
  readonly id: string;
  readonly environment: SimEnvironment;
  /** API key → HS256 key bytes. */
  readonly keys: Map<string, Uint8Array>;
  /** The key a token naming no known API key is checked against (the first one). */
  readonly primaryKey: { apiKey: string; secret: Uint8Array };
  readonly store: CandidateStore;
  private permissionSet: Set<SimulatorPermission>;
  /** Read and written by the request pipeline (a rateLimitBurst counts down). */
  currentFaults: SimulatorFaults;
  currentRateLimit: SimulatorRateLimit | null;
  /** Arrival times (real clock) of the requests in the current rate-limit window. */
  windowStamps: number[] = [];
  statsData: SimulatorStats = emptyStats();
  readonly peak: SlidingWindowPeak;
  faultCounter = 0;

  constructor(
    config: AccountConfig,
    private readonly clock: () => number,
    ids: StoreIds,
    private readonly isDefault: boolean,
    errorPrefix: string,
    seedPath: string,
  ) {
    this.id = config.id;
    this.environment = config.environment;
    const encoder = new TextEncoder();
    this.keys = new Map(config.keys.map((k) => [k.apiKey, encoder.encode(k.secret)]));
    const first = config.keys[0];
    if (!first) throw new Error(`${errorPrefix}: an account needs at least one API key`);
    this.primaryKey = { apiKey: first.apiKey, secret: encoder.encode(first.secret) };
    this.permissionSet = new Set(config.permissions ?? ALL_PERMISSIONS);
    this.currentFaults = { ...(config.faults ?? {}) };
    this.currentRateLimit = config.rateLimit === undefined ? { ...DEFAULT_RATE_LIMIT } : config.rateLimit === null ? null : { ...config.rateLimit };
    this.peak = new SlidingWindowPeak(this.peakWindowMs());
    this.store = new CandidateStore(clock, ids);
    for (const p of config.seed?.positions ?? []) this.store.positions.add(p);
    (config.seed?.candidates ?? []).forEach((c, i) => {
      this.store.addSeed(c, errorPrefix, `${seedPath}.candidates[${i}]`);
    });
  }

  info(): SimAccountInfo {
    return { id: this.id, environment: this.environment, keyCount: this.keys.size, isDefault: this.isDefault };
  }

  hasPermission(p: SimulatorPermission): boolean {
    return this.permissionSet.has(p);
  }

  peakWindowMs(): number {
    return this.currentRateLimit?.windowMs ?? PEAK_WINDOW_WITHOUT_RATE_LIMIT_MS;
  }

  /** Whole seconds until the oldest request leaves the window (at least 1). */
  retryAfterSeconds(): number | undefined {
    if (!this.currentRateLimit || this.windowStamps.length < this.currentRateLimit.limit) return undefined;
    const oldest = this.windowStamps[0] ?? Date.now();
    return Math.max(1, Math.ceil((oldest + this.currentRateLimit.windowMs - Date.now()) / 1000));
  }

  // ---- steering ---------------------------------------------------------------------------------

  addCandidate(seed: SimCandidateSeed): SimCandidateView {
    return this.store.view(this.store.addSeed(seed));
  }

  setPermissions(p: SimulatorPermission[]): void {
    const parsed = parseOrThrow(permissionsBodySchema, { permissions: p }, 'setPermissions');
    this.permissionSet = new Set(parsed.permissions);
  }

  permissions(): SimulatorPermission[] {
    return [...this.permissionSet];
  }

  setFaults(f: SimulatorFaults): void {
    this.currentFaults = { ...(parseOrThrow(faultsSchema, f, 'setFaults') as SimulatorFaults) };
  }

  faults(): SimulatorFaults {
    return { ...this.currentFaults };
  }

  setRateLimit(r: SimulatorRateLimit | null): void {
    this.currentRateLimit = r === null ? null : { ...parseOrThrow(rateLimitSchema, r, 'setRateLimit') };
    this.windowStamps = [];
    this.peak.setWindow(this.peakWindowMs());
  }

  rateLimit(): SimulatorRateLimit | null {
    return this.currentRateLimit === null ? null : { ...this.currentRateLimit };
  }

  completeInterviews(uid: string): void {
    this.store.completeInterviews(uid);
  }

  scheduleInterview(candidateUid: string, at: Date | string, durationMinutes = 60): void {
    const atMs = at instanceof Date ? at.getTime() : resolveTimeSpec(at, this.clock());
    if (atMs === undefined || !Number.isFinite(atMs)) throw new Error(`scheduleInterview: at: bad time "${String(at)}"`);
    this.store.scheduleInterview(candidateUid, atMs, durationMinutes);
  }

  candidate(uid: string): SimCandidateView | undefined {
    const c = this.store.get(uid);
    return c ? this.store.view(c) : undefined;
  }

  candidates(): SimCandidateView[] {
    return this.store.all().map((c) => this.store.view(c));
  }

  stats(): SimulatorStats {
    return { ...structuredClone(this.statsData), peakInWindow: this.peak.peak };
  }

  resetStats(): void {
    this.statsData = emptyStats();
    this.peak.reset();
  }
}
