/**
 * The largest number of events seen within any one sliding window, kept exactly and incrementally.
 *
 * A window ending at `t` holds the events in `(t - windowMs, t]`, the same rule the rate limiter
 * uses to evict its own stamps. The count of a window can only reach a new maximum when an event
 * arrives, so it suffices to count, at each event, the events of the window ending at it: only the
 * stamps of the last window are kept (memory is bounded by the busiest window, not the run).
 */
export class SlidingWindowPeak {
  private stamps: number[] = [];
  /** Index of the oldest stamp still in the window (stamps before it are evicted, compacted lazily). */
  private head = 0;
  private max = 0;

  constructor(private windowMs: number) {
    if (!(windowMs > 0)) throw new Error(`SlidingWindowPeak: windowMs must be > 0 (got ${windowMs})`);
  }

  /** The largest count reached so far. */
  get peak(): number {
    return this.max;
  }

  get window(): number {
    return this.windowMs;
  }

  /** How many stamps are held (those of the last window). */
  get held(): number {
    return this.stamps.length - this.head;
  }

  /**
   * Records an event at `at` (ms) and returns how many events the window ending at it holds.
   * A clock that steps backwards is clamped to the last stamp, so the stamps stay in order.
   */
  add(at: number): number {
    const last = this.stamps.length > this.head ? (this.stamps[this.stamps.length - 1] ?? at) : at;
    const t = Math.max(at, last);
    this.evict(t);
    this.stamps.push(t);
    const n = this.stamps.length - this.head;
    if (n > this.max) this.max = n;
    return n;
  }

  /**
   * Uses a new window length from now on. The stamps of the old window cannot answer for a longer
   * one, so counting starts afresh (as the rate limiter's own window does); the peak so far is kept.
   * The same length changes nothing.
   */
  setWindow(windowMs: number): void {
    if (!(windowMs > 0)) throw new Error(`SlidingWindowPeak: windowMs must be > 0 (got ${windowMs})`);
    if (windowMs === this.windowMs) return;
    this.windowMs = windowMs;
    this.stamps = [];
    this.head = 0;
  }

  /** Forgets every stamp and the peak. */
  reset(): void {
    this.stamps = [];
    this.head = 0;
    this.max = 0;
  }

  private evict(now: number): void {
    const edge = now - this.windowMs;
    while (this.head < this.stamps.length && (this.stamps[this.head] ?? Infinity) <= edge) this.head++;
    if (this.head === this.stamps.length) {
      this.stamps = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.stamps.length) {
      this.stamps = this.stamps.slice(this.head);
      this.head = 0;
    }
  }
}
