/**
 * "The same email" (src/email.ts): ASCII case-insensitive, exact otherwise. Every code point that
 * Unicode case mapping or normalisation turns into ASCII is tried, so no look-alike can stand in for
 * an ASCII address (issue 10 item 9).
 */
import { describe, expect, it } from 'vitest';
import { erasureWorkflowId } from '../src/client.js';
import { normalizeEmail, sameEmail } from '../src/email.js';

const ASCII_ONLY = /^[\x00-\x7f]+$/;

/** What a case-folding or normalising comparison could turn `ch` into, reduced to ASCII when it can be. */
function asciiImages(ch: string): string[] {
  const images = new Set<string>();
  const forms = [
    ch.toLowerCase(),
    ch.toUpperCase(),
    ch.toLocaleLowerCase('tr'),
    ch.toLocaleUpperCase('tr'),
    ch.normalize('NFC'),
    ch.normalize('NFKC'),
    ch.normalize('NFKC').toLowerCase(),
    ch.toLowerCase().normalize('NFKC'),
    ch.toUpperCase().normalize('NFKC').toLowerCase(),
  ];
  for (const f of forms) {
    // Also with combining marks dropped, as an accent-insensitive collation would: U+212B Å → A.
    for (const g of [f, f.normalize('NFD').replace(/\p{M}/gu, '')]) {
      if (g !== '' && ASCII_ONLY.test(g)) images.add(g);
    }
  }
  return [...images];
}

describe('normalizeEmail / sameEmail', () => {
  it('no code point that folds or normalises to ASCII makes a look-alike match an ASCII address', () => {
    const folding: number[] = [];
    const matched: string[] = [];
    for (let cp = 0x80; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      const images = asciiImages(ch);
      if (images.length === 0) continue;
      folding.push(cp);
      const lookalike = `a${ch}z@example.com`;
      // A string with a non-ASCII code point inside never normalises to an all-ASCII one...
      if (ASCII_ONLY.test(normalizeEmail(lookalike))) matched.push(cp.toString(16));
      // ...so it matches none of the ASCII addresses it could be folded into, in any case.
      for (const img of images) {
        for (const ascii of [`a${img}z@example.com`, `A${img.toUpperCase()}Z@EXAMPLE.COM`, `a${img.toLowerCase()}z@example.com`]) {
          if (sameEmail(lookalike, ascii) || sameEmail(ascii, lookalike)) matched.push(`${cp.toString(16)}~${ascii}`);
        }
      }
    }
    expect(matched).toEqual([]);
    // The search is not vacuous: it met the known look-alikes, and many more.
    expect(folding).toEqual(expect.arrayContaining([0x212a, 0x0130, 0x017f, 0x212b, 0x037e, 0x1fef, 0xff4b, 0x1d55c]));
    expect(folding.length).toBeGreaterThan(1000);
  }, 120_000);

  it('does not take the Kelvin sign for k, nor the long s for s', () => {
    expect(sameEmail('\u212Aate@example.com', 'kate@example.com')).toBe(false);
    expect(sameEmail('\u212Aate@example.com', 'Kate@Example.com')).toBe(false);
    expect(normalizeEmail('\u212Aate@example.com')).not.toBe(normalizeEmail('kate@example.com'));
    expect(sameEmail('\u017Fam@example.com', 'sam@example.com')).toBe(false);
    expect(sameEmail('\u0130da@example.com', 'ida@example.com')).toBe(false);
  });

  it('is ASCII case-insensitive and trims', () => {
    expect(sameEmail('  Kate.O+X@Example.COM ', 'kate.o+x@example.com')).toBe(true);
    expect(sameEmail('kate@example.com', 'kate@example.org')).toBe(false);
    expect(sameEmail(null, 'kate@example.com')).toBe(false);
    expect(sameEmail(undefined, 'kate@example.com')).toBe(false);
  });

  it('compares non-ASCII exactly after NFC: composed and decomposed match, other cases do not', () => {
    expect(sameEmail('jos\u00e9@example.com', 'jose\u0301@example.com')).toBe(true);
    expect(sameEmail('JOS\u00c9@example.com', 'jos\u00e9@example.com')).toBe(false);
    // The same look-alike on both sides is the same string.
    expect(sameEmail('\u212Aate@example.com', ' \u212Aate@EXAMPLE.com')).toBe(true);
  });

  it('is idempotent', () => {
    for (const e of ['  Kate@Example.COM ', 'JOSE\u0301@x.org', '\u212A\u0301ate@x.org', 'a\u037Eb@x.org', '\u1E30@x.org']) {
      expect(normalizeEmail(normalizeEmail(e))).toBe(normalizeEmail(e));
    }
  });

  it('keeps the workflow ids of ASCII emails byte-identical to the ids made before this rule', () => {
    const key = 'a'.repeat(64);
    // Computed with the previous rule (NFC + trim + toLowerCase) before it changed.
    expect(erasureWorkflowId('kate@example.com', key)).toBe('dsar-fa3b7bf15092772284ec8f5defd5cf03');
    expect(erasureWorkflowId('  Kate@Example.COM ', key)).toBe('dsar-fa3b7bf15092772284ec8f5defd5cf03');
    expect(erasureWorkflowId("O'Brien+DSAR@Mail.Example.ORG", key)).toBe('dsar-1698051d5f98de7280cdd3c2365df7fb');
    expect(erasureWorkflowId('x_Y-z.9@sub.example.co.uk', key)).toBe('dsar-a616e1506495ca46161b3d08efeedbda');
    expect(erasureWorkflowId('\u212Aate@example.com', key)).not.toBe(erasureWorkflowId('kate@example.com', key));
  });
});
