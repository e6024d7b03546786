/**
 * How a refused input is told to whoever sent it. No Node imports and no zod: the workflow bundle
 * uses it, with the issues of its own guard (workflows/input-guard.ts) as with zod's.
 */

/** What describeIssues reads of an issue: zod's issues have this shape, and so do the guard's. */
export interface DescribedIssue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  /** Of an `unrecognized_keys` issue. */
  readonly keys?: readonly string[];
}

/** Turns issues (zod's or the guard's) into one line that says what to fix, without echoing the values. */
export function describeIssues(error: { readonly issues: readonly DescribedIssue[] }): string {
  return error.issues
    .map((i) => {
      const where = i.path.length ? i.path.map(String).join('.') : 'input';
      if (i.code === 'unrecognized_keys') {
        // Only name keys that look like field names: a key may itself be personal data.
        const keys = i.keys ?? [];
        const named = keys.filter((k) => /^[A-Za-z_][\w-]{0,63}$/.test(k));
        const others = keys.length - named.length;
        return `unknown field(s): ${[...named, ...(others ? [`${others} other(s)`] : [])].join(', ')}`;
      }
      return i.message.startsWith(String(i.path[0] ?? '\u0000')) ? i.message : `${where}: ${i.message}`;
    })
    .join('; ');
}
