/**
 * Time helpers of the simulator: Comeet's wire format for times, and the relative offsets
 * (`"+5m"`, `"-3d"`, `"now"`) that seeds may use instead of absolute ISO strings.
 */

const RELATIVE = /^([+-])(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const ISO_LIKE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;
/** The documented query-parameter format, `YYYY-MM-DDTHH:mm:ssZ` (fractional seconds tolerated). */
const WIRE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Formats epoch milliseconds the way Comeet does: `2018-01-01T12:50:50Z` (UTC, whole seconds). */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** True when `spec` is `"now"`, a relative offset like `"+90s"`, or an ISO date/time string. */
export function isTimeSpec(spec: string): boolean {
  return resolveTimeSpec(spec, 0) !== undefined;
}

/**
 * Resolves a seed time against `now` (simulator clock, ms). Returns undefined when `spec` is not a
 * valid time spec.
 */
export function resolveTimeSpec(spec: string, now: number): number | undefined {
  const s = spec.trim();
  if (s.toLowerCase() === 'now') return now;
  const rel = RELATIVE.exec(s);
  if (rel) {
    const [, sign, amount, unit] = rel;
    const ms = Number(amount) * (UNIT_MS[unit ?? 's'] ?? 1000);
    return sign === '-' ? now - ms : now + ms;
  }
  if (!ISO_LIKE.test(s)) return undefined;
  const parsed = Date.parse(s);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Parses a query-string time (`time_created:after=...`); undefined when it is not in the wire format. */
export function parseWireTime(value: string): number | undefined {
  if (!WIRE.test(value)) return undefined;
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}
