/** Reads a `Retry-After` header (delta seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // Only an HTTP date (IMF-fixdate, RFC 850 or asctime: weekday name, then hh:mm:ss): Date.parse alone
  // accepts garbage such as "-1" or "abc 2020" as some past date, which would mean "retry right now".
  if (!/^[A-Za-z]{3,9},?\s.*\b\d{1,2}:\d{2}:\d{2}\b/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
