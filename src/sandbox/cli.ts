/**
 * `dsar doctor` and `dsar sandbox-check`: the commands wrapping runDoctor and runSandboxCheck.
 * Configuration comes from the environment (COMEET_*, validated by loadComeetConfig); the report goes
 * to `out`, progress and errors to `err`. Secrets are never printed.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { comeetClientOptions, ConfigError, loadComeetConfig, type ComeetConfig } from '../config.js';
import { ComeetClient } from '../comeet/index.js';
import { CallCounter } from './advice.js';
import { runSandboxCheck } from './check.js';
import { runDoctor } from './doctor.js';
import type { QueueRate } from '../rate-cap.js';
import { formatReport, type CheckItem, type CheckReport } from './report.js';

export const SANDBOX_USAGE = `Usage:
  dsar doctor [--probe-email <address>] [--json]
      Read-only health check of the Comeet integration (safe on production): authentication, base URL,
      which lookup strategies answer, and reminders of what cannot be checked read-only.
  dsar sandbox-check --position <uid> --test-email <address> [--mode delete|pseudonymize] [--json]
      SANDBOX ONLY. Creates a test candidate with the test email on the position, finds it with every
      lookup strategy, erases the person (every candidate of it), verifies it is gone and erases again.

Configuration from the environment: COMEET_BASE_URL, COMEET_API_KEY, COMEET_SECRET, COMEET_LOOKUP,
COMEET_PAGE_SIZE, COMEET_TIMEOUT. Exit codes: 0 all checks passed, 1 a check failed, 2 bad usage or configuration.`;

/** A doctor reads at most this many pages per lookup: enough to see a strategy answer, cheap on big accounts. */
export const DOCTOR_MAX_PAGES = 10;

const OPTIONS = {
  position: { type: 'string' },
  'test-email': { type: 'string' },
  mode: { type: 'string' },
  'probe-email': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

const ALLOWED: Record<'doctor' | 'sandbox-check', (keyof typeof OPTIONS)[]> = {
  doctor: ['probe-email', 'json', 'help'],
  'sandbox-check': ['position', 'test-email', 'mode', 'json', 'help'],
};

class UsageError extends Error {}

export interface SandboxIo {
  out(l: string): void;
  err(l: string): void;
  env: Record<string, string | undefined>;
  /** For `dsar doctor`: the Comeet queue's rate as the Temporal server reports it (undefined: no Temporal settings). */
  queueRate?: () => Promise<{ taskQueue: string; rate: QueueRate } | undefined>;
}

/** The doctor's item on the Comeet queue's rate: only a rate set through the API holds against every poller. */
async function queueRateItem(io: SandboxIo): Promise<CheckItem> {
  const title = "The Comeet queue's rate is set through Temporal's API";
  let found;
  try {
    found = await io.queueRate?.();
  } catch (err) {
    return {
      id: 'comeet-queue-rate',
      title,
      status: 'skip',
      detail: `Temporal did not answer (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
    };
  }
  if (!found) return { id: 'comeet-queue-rate', title, status: 'skip', detail: 'no Temporal settings (TEMPORAL_ADDRESS, DSAR_ENCRYPTION_KEYS, DSAR_ID_KEY)' };
  const { taskQueue, rate } = found;
  const fix = `temporal task-queue config set --task-queue ${taskQueue} --task-queue-type activity --queue-rps-limit <per-second> --queue-rps-limit-reason <why>, or start a worker (it sets COMEET_RATE_PER_MINUTE)`;
  const perMinute = rate.effectivePerSecond !== undefined ? Math.round(rate.effectivePerSecond * 60 * 100) / 100 : undefined;
  if (rate.api && (rate.source === 'api' || rate.source === 'system')) {
    const who = [rate.api.identity, rate.api.reason].filter(Boolean).join(': ');
    const apiPerMinute = Math.round(rate.api.perSecond * 60 * 100) / 100;
    return { id: 'comeet-queue-rate', title, status: 'pass', detail: `${apiPerMinute}/min on ${taskQueue}${who ? ` (set by ${who})` : ''}` };
  }
  if (rate.source === 'worker') {
    return {
      id: 'comeet-queue-rate',
      title,
      status: 'warn',
      detail: `${perMinute}/min on ${taskQueue}, from the workers' poll option only: a poller without it lifts the cap`,
      fix,
    };
  }
  return { id: 'comeet-queue-rate', title, status: 'warn', detail: `no cap on ${taskQueue}: Comeet calls are not held to the account's limit`, fix };
}

/**
 * `dsar doctor` and `dsar sandbox-check --position <uid> --test-email <email> [--mode delete|pseudonymize]`;
 * config from env via loadComeetConfig (COMEET_*). Returns the exit code (0 ok, 1 checks failed,
 * 2 usage/config error).
 */
export async function runSandboxCommand(command: 'doctor' | 'sandbox-check', argv: string[], io: SandboxIo): Promise<number> {
  let values: { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };
  let probeEmail: string | undefined;
  let position = '';
  let testEmail = '';
  let mode: 'delete' | 'pseudonymize' = 'delete';
  try {
    if (command !== 'doctor' && command !== 'sandbox-check') throw new UsageError(`unknown command "${String(command)}"`);
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    if (values.help) {
      io.out(SANDBOX_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`dsar ${command} takes no arguments (got "${positionals[0]}")`);
    const extra = (Object.keys(values) as (keyof typeof OPTIONS)[]).find((k) => values[k] !== undefined && !ALLOWED[command].includes(k));
    if (extra) throw new UsageError(`--${extra} does not apply to dsar ${command}`);
    if (command === 'doctor') {
      if (values['probe-email'] !== undefined) {
        probeEmail = values['probe-email'].trim();
        if (!isEmail(probeEmail)) throw new UsageError('--probe-email must be an email address');
      }
    } else {
      position = (values.position ?? '').trim();
      testEmail = (values['test-email'] ?? '').trim();
      if (position === '') throw new UsageError('dsar sandbox-check needs --position <uid>: the Comeet uid of an open position in the sandbox');
      if (testEmail === '')
        throw new UsageError('dsar sandbox-check needs --test-email <address>: the test candidate email the customer provided for the sandbox');
      if (!isEmail(testEmail)) throw new UsageError('--test-email must be an email address');
      const m = values.mode ?? 'delete';
      if (m !== 'delete' && m !== 'pseudonymize') throw new UsageError('--mode must be delete or pseudonymize');
      mode = m;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`dsar ${command}: ${err.message}\n\n${SANDBOX_USAGE}`);
      return 2;
    }
    throw err;
  }

  let config: ComeetConfig;
  try {
    config = loadComeetConfig(io.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 2;
    }
    throw err;
  }

  const calls = new CallCounter();
  let client: ComeetClient;
  try {
    client = new ComeetClient({
      ...comeetClientOptions(config),
      connections: 1,
      ...(command === 'doctor' ? { maxPages: DOCTOR_MAX_PAGES } : {}),
      onCall: calls.onCall,
    });
  } catch (err) {
    io.err(`Invalid configuration:\n  - COMEET_BASE_URL ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  const where = safeUrl(config.COMEET_BASE_URL);
  const log = (line: string) => io.err(`… ${line}`);
  let report: CheckReport;
  let title: string;
  try {
    if (command === 'doctor') {
      title = `dsar doctor: ${where} (COMEET_LOOKUP=${config.COMEET_LOOKUP}, read-only)`;
      report = await runDoctor({ client, log, calls, ...(probeEmail ? { probeEmail } : {}) });
      // A warning, not a failure: the rate is Temporal's side, the rest of the report is Comeet's.
      if (io.queueRate) report.items.push(await queueRateItem(io));
    } else {
      title = `dsar sandbox-check: ${where}, position ${position}, test email ${testEmail}, mode ${mode}`;
      report = await runSandboxCheck({ client, positionUid: position, testEmail, mode, log, calls });
    }
  } catch (err) {
    io.err(`dsar ${command} failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await client.close();
  }
  io.out(values.json ? JSON.stringify(report, null, 2) : formatReport(title, report));
  return report.ok ? 0 : 1;
}

function isEmail(text: string): boolean {
  return z.email().safeParse(text).success;
}

/** The base URL without user info, query or fragment (a URL may carry credentials). */
function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return '(unparseable COMEET_BASE_URL)';
  }
}
