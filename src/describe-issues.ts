/** How a refused input is told to whoever sent it. No Node imports: the workflow bundle uses it. */
import type { z } from 'zod';

/** Turns zod issues into one line that says what to fix, without echoing the values. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : 'input';
      if (i.code === 'unrecognized_keys') {
        // Only name keys that look like field names: a key may itself be personal data.
        const named = i.keys.filter((k) => /^[A-Za-z_][\w-]{0,63}$/.test(k));
        const others = i.keys.length - named.length;
        return `unknown field(s): ${[...named, ...(others ? [`${others} other(s)`] : [])].join(', ')}`;
      }
      return i.message.startsWith(String(i.path[0] ?? '\u0000')) ? i.message : `${where}: ${i.message}`;
    })
    .join('; ');
}
