/**
 * Per-command options and help, without Temporal: a command refuses options it does not take
 * (naming them and its valid ones) before reading any configuration, and prints its own help.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';

async function dsar(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  // No configuration at all: whatever answers here answered before loading it.
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('dsar options per command', () => {
  it('refuses an option of another command, naming it and the command’s own', async () => {
    const r = await dsar('list', '--email', 'x');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain("Unknown option '--email' for dsar list");
    expect(r.err).toContain('Its options: --tenant, --phase, --at-risk, --query, --limit, --json, --help');
    // Every unknown option at once, not the first only.
    expect((await dsar('status', 'dsar-x', '--reason', 'r', '--wait')).err).toContain("Unknown options '--reason', '--wait' for dsar status");
    expect((await dsar('erase', '--email', 'a@example.com', '--phase', 'erasing')).err).toContain("Unknown option '--phase' for dsar erase");
    expect((await dsar('recheck', 'dsar-x', '--json')).code).toBe(2);
    expect((await dsar('tenant', 'pause', 'acme', '--json')).err).toContain(
      "Unknown option '--json' for dsar tenant pause. Its options: --reason, --actor, --help",
    );
    expect((await dsar('tenant', 'list', '--name', 'x')).code).toBe(2);
  });

  it('never echoes an address typed where an option or argument goes', async () => {
    for (const argv of [
      ['erase', '--jane.doe@example.com'],
      ['erase', 'jane.doe@example.com'],
      ['status', 'dsar-x', 'jane.doe@example.com'],
      ['jane.doe@example.com'],
    ]) {
      const r = await dsar(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err + r.out, argv.join(' ')).not.toContain('jane.doe');
    }
    expect((await dsar('erase', 'jane.doe@example.com')).err).toMatch(/^dsar erase needs --email <address>, --email-stdin or --file/);
  });

  it('prints each command’s help, exit 0; dsar --help lists the commands', async () => {
    const erase = await dsar('erase', '--help');
    expect(erase.code).toBe(0);
    expect(erase.out).toMatch(/^dsar erase: /);
    for (const o of [
      '--email <address>',
      '--email-stdin',
      '--file <file|->',
      '--tenant <id>',
      '--mode delete|pseudonymize',
      '--wait',
      '--skip-invalid',
      '--concurrency <n>',
      '-h, --help',
    ])
      expect(erase.out).toContain(o);
    expect(erase.out).not.toContain('--phase');
    expect((await dsar('help', 'list')).out).toMatch(/^dsar list: [\s\S]*--tenant <id>[\s\S]*--at-risk/);
    expect((await dsar('cancel', '-h')).out).toContain('--reason <text>');
    const all = await dsar('--help');
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/^dsar: erase people from Comeet/);
    for (const c of [
      'erase',
      'status <workflow-id>',
      'list',
      'recheck <workflow-id>',
      'cancel <workflow-id>',
      'extend-deadline <workflow-id>',
      'receipt <workflow-id>',
      'verify-receipt',
      'receipt-keys',
      'doctor',
      'sandbox-check',
      'tenant <command>',
    ]) {
      expect(all.out).toContain(`  ${c}`);
    }
    expect(await dsar()).toMatchObject({ code: 2, out: expect.stringContaining('Commands:') });
    expect(await dsar('shred')).toMatchObject({ code: 2, err: expect.stringContaining('unknown command "shred"') });
    expect(await dsar('--json', 'list')).toMatchObject({ code: 2, err: expect.stringContaining('the command comes first') });
    const show = await dsar('tenant', 'show', '--help');
    expect(show).toMatchObject({ code: 0, out: expect.stringContaining('budget in use, requests by phase, at-risk count') });
    expect((await dsar('tenant', '--help')).code).toBe(0);
  });

  it('checks --tenant before connecting', async () => {
    const env = { DSAR_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`, DSAR_ID_KEY: 'x'.repeat(32), TEMPORAL_ADDRESS: '127.0.0.1:1' };
    for (const argv of [
      ['list', '--tenant', 'Not A Tenant'],
      ['erase', '--email', 'a@example.com', '--tenant', 'ACME'],
    ]) {
      const err: string[] = [];
      expect(await runCli(argv, { out: () => undefined, err: (l) => err.push(l), env }), argv.join(' ')).toBe(2);
      expect(err.join('\n')).toContain('--tenant: a tenant id is 2-31 characters');
    }
  });
});
