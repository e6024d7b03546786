/**
 * One definition of "the same email", used for the workflow id, the lookup filter and the tests:
 * trimmed, ASCII letters lower-cased, the rest compared exactly after NFC. Comeet's own matching is
 * unknown, so we never widen it (no dot or plus folding): a looser rule could erase someone else.
 *
 * No Unicode case folding: `toLowerCase()` turns look-alikes into ASCII (U+212A KELVIN SIGN → `k`,
 * U+0130 → `i̇`), and NFC alone maps U+212A to `K`, U+037E to `;` and U+1FEF to `` ` ``. A stored
 * `\u212Aate@example.com` is somebody else's address, not `kate@example.com`, so those code points
 * are kept out of NFC. NFC still applies to the rest, so a composed and a decomposed `é` match.
 */
const ASCII_ONLY = /^[\x00-\x7f]*$/;

export function normalizeEmail(email: string): string {
  return nfcKeepingLookalikes(email.trim().replace(/[A-Z]+/g, (s) => s.toLowerCase()));
}

export function sameEmail(a: string | null | undefined, b: string): boolean {
  return typeof a === 'string' && normalizeEmail(a) === normalizeEmail(b);
}

/** NFC, except that a code point NFC would turn into ASCII stays as it is (and splits the runs around it). */
function nfcKeepingLookalikes(s: string): string {
  if (ASCII_ONLY.test(s)) return s;
  let out = '';
  let run = '';
  for (const ch of s) {
    if (!ASCII_ONLY.test(ch) && ASCII_ONLY.test(ch.normalize('NFC'))) {
      out += run.normalize('NFC') + ch;
      run = '';
    } else {
      run += ch;
    }
  }
  return out + run.normalize('NFC');
}
