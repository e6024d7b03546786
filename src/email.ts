/**
 * One definition of "the same email", used for the workflow id, the lookup filter and the tests:
 * trimmed and lower-cased. Comeet's own matching is unknown, so we never widen it (no dot or plus
 * folding): a looser rule could erase someone else.
 */
export function normalizeEmail(email: string): string {
  return email.normalize('NFC').trim().toLowerCase();
}

export function sameEmail(a: string | null | undefined, b: string): boolean {
  return typeof a === 'string' && normalizeEmail(a) === normalizeEmail(b);
}
