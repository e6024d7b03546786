/**
 * The checklist both `dsar doctor` and `dsar sandbox-check` hand back, and its text rendering.
 * Nothing in a report may carry a secret; details name settings and permissions, never values.
 */

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckItem {
  id: string;
  title: string;
  status: CheckStatus;
  detail?: string;
  /** What to do about a fail/warn, naming the Comeet setting or permission by its exact name. */
  fix?: string;
}

export interface CheckReport {
  ok: boolean;
  items: CheckItem[];
  /** e.g. which lookup strategies work, what a repeat erase returns. */
  findings: Record<string, string>;
}

const MARKS: Record<CheckStatus, string> = { pass: '✔', fail: '✘', warn: '!', skip: '-' };

/** Collects items and findings in order; `ok` is false as soon as one item fails. */
export class ReportBuilder {
  readonly items: CheckItem[] = [];
  readonly findings: Record<string, string> = {};

  add(item: CheckItem): CheckItem {
    const clean: CheckItem = { id: item.id, title: item.title, status: item.status };
    if (item.detail !== undefined) clean.detail = item.detail;
    if (item.fix !== undefined) clean.fix = item.fix;
    this.items.push(clean);
    return clean;
  }

  /** Items that could not run because an earlier step failed. */
  skip(id: string, title: string, why: string): void {
    this.add({ id, title, status: 'skip', detail: why });
  }

  find(key: string, value: string): void {
    this.findings[key] = value;
  }

  build(): CheckReport {
    return {
      ok: !this.items.some((i) => i.status === 'fail'),
      items: this.items.map((i) => ({ ...i })),
      findings: { ...this.findings },
    };
  }
}

/** A checklist: ✔/✘/!/- per item with its detail and fix, then the findings, then a verdict. */
export function formatReport(title: string, report: CheckReport): string {
  const lines: string[] = [title, ''];
  for (const item of report.items) {
    lines.push(`${MARKS[item.status]} ${item.title}`);
    if (item.detail) lines.push(...indent(item.detail, '    '));
    if (item.fix && (item.status === 'fail' || item.status === 'warn')) lines.push(...indent(`fix: ${item.fix}`, '    '));
  }
  const keys = Object.keys(report.findings);
  if (keys.length > 0) {
    lines.push('', 'Findings:');
    const width = Math.min(32, Math.max(...keys.map((k) => k.length)));
    for (const k of keys) lines.push(`  ${k.padEnd(width)}  ${report.findings[k]}`);
  }
  const count = (s: CheckStatus) => report.items.filter((i) => i.status === s).length;
  const fails = count('fail');
  const warns = count('warn');
  lines.push(
    '',
    report.ok
      ? `Result: OK (${count('pass')} passed${warns ? `, ${warns} warning${warns > 1 ? 's' : ''}` : ''})`
      : `Result: FAILED (${fails} failed${warns ? `, ${warns} warning${warns > 1 ? 's' : ''}` : ''}, ${count('pass')} passed)`,
  );
  return lines.join('\n');
}

function indent(text: string, prefix: string): string[] {
  return text.split('\n').map((l) => prefix + l);
}
