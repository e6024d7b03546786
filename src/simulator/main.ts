/**
 * Runs the Comeet API simulator as a standalone server (`npm run simulator`).
 *
 *   --port <n>        / SIMULATOR_PORT        default 4010
 *   --host <h>        / SIMULATOR_HOST        default 127.0.0.1
 *   --seed <file>     / SIMULATOR_SEED        default: the demo data
 *   --accounts <file> / SIMULATOR_ACCOUNTS    further accounts served next to the default one (a JSON
 *                                             file; format in README.md and accounts.example.json)
 *   --quiet           / SIMULATOR_LOG=off     no request log
 *   COMEET_API_KEY / COMEET_SECRET            default demo-api-key / demo-secret-please-change
 *   SIMULATOR_RATE_LIMIT                      e.g. 100/60s (default), 5/500ms, 100/1m, off
 *   SIMULATOR_ERROR_RATE, SIMULATOR_DROP_RATE 0..1
 *   SIMULATOR_LATENCY_MS                      added delay per request
 *   SIMULATOR_PERMISSIONS                     comma list of permissions, or "all"
 *   SIMULATOR_EMAIL_FILTER                    exact | contains | ignored
 *   SIMULATOR_FIND_DUPLICATES                 true | false
 *   SIMULATOR_LIST_SHAPE                      object | array
 *   SIMULATOR_PAGE_SIZE                       max items per page of GET /candidates
 *   SIMULATOR_READ_WITHOUT_PERMISSION         omit | forbid
 *   SIMULATOR_PSEUDONYMIZE_KEEPS_EMAIL        true | false
 *
 * The rate limit, faults and permissions from the environment apply to the default account and to
 * every account of the accounts file that does not set its own.
 *
 * Importing this module does not start anything; `loadDemoSeed` is re-exported for in-process use.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEMO_API_KEY, DEMO_SECRET, demoSubjects, loadDemoSeed, loadSeedFile } from './demo.js';
import { accountOptionsSchema, formatZodError, rateLimitSchema, seedSchema } from './schemas.js';
import { ALL_PERMISSIONS, startSimulator, type Simulator, type SimulatorAccountOptions, type SimulatorOptions, type SimulatorPermission } from './server.js';

export { DEMO_API_KEY, DEMO_SECRET, demoSubjects, loadDemoSeed, loadSeedFile } from './demo.js';

export class ConfigError extends Error {}

export interface MainConfig {
  options: SimulatorOptions;
  /** Seed file path, or undefined for the demo data. */
  seedFile: string | undefined;
  /** Accounts file path, if any. */
  accountsFile: string | undefined;
  usingDemoCredentials: boolean;
  quiet: boolean;
}

const USAGE =
  'usage: simulator [--port N] [--host H] [--seed file.json] [--accounts file.json] [--quiet]  (see src/simulator/main.ts for the environment variables)';

function parseNumber(raw: string, name: string, min: number, max: number, integer: boolean): number {
  const v = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new ConfigError(`${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max} (got "${raw}")`);
  }
  return v;
}

function parseBool(raw: string, name: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false (got "${raw}")`);
}

function parseChoice<T extends string>(raw: string, name: string, choices: readonly T[]): T {
  const v = raw.trim() as T;
  if (!choices.includes(v)) throw new ConfigError(`${name} must be one of ${choices.join(', ')} (got "${raw}")`);
  return v;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `100/60s`, `5/500ms`, `100/1m`, `100/60` (seconds), or `off`. */
export function parseRateLimit(raw: string, name = 'SIMULATOR_RATE_LIMIT'): SimulatorOptions['rateLimit'] {
  const v = raw.trim().toLowerCase();
  if (v === 'off' || v === 'none' || v === '0') return null;
  const m = /^(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(v);
  if (!m) throw new ConfigError(`${name} must look like 100/60s, 5/500ms or off (got "${raw}")`);
  const limit = Number(m[1]);
  const windowMs = Math.round(Number(m[2]) * (UNIT_MS[m[3] ?? 's'] ?? 1000));
  if (limit < 1 || windowMs < 1) throw new ConfigError(`${name} needs a limit and a window above zero (got "${raw}")`);
  return { limit, windowMs };
}

function parsePermissions(raw: string, name: string): SimulatorPermission[] {
  const v = raw.trim();
  if (v.toLowerCase() === 'all') return [...ALL_PERMISSIONS];
  if (v === '' || v.toLowerCase() === 'none') return [];
  return v.split(',').map((p) => parseChoice(p, name, ALL_PERMISSIONS));
}

/** Builds the simulator options from flags and environment; throws ConfigError with one clear line. */
export function parseMainConfig(argv: string[], env: NodeJS.ProcessEnv): MainConfig {
  let values: { port?: string; host?: string; seed?: string; accounts?: string; quiet?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        seed: { type: 'string' },
        accounts: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError(`${err instanceof Error ? err.message : String(err)}; ${USAGE}`);
  }
  if (values.help) throw new ConfigError(USAGE);
  const pick = (flag: string | undefined, flagName: string, envName: string): [string, string] | undefined => {
    if (flag !== undefined) return [flag, flagName];
    const e = env[envName];
    return e !== undefined && e !== '' ? [e, envName] : undefined;
  };

  const port = pick(values.port, '--port', 'SIMULATOR_PORT');
  const host = pick(values.host, '--host', 'SIMULATOR_HOST');
  const seed = pick(values.seed, '--seed', 'SIMULATOR_SEED');
  const accountsFile = pick(values.accounts, '--accounts', 'SIMULATOR_ACCOUNTS');
  const apiKey = env.COMEET_API_KEY !== undefined && env.COMEET_API_KEY !== '' ? env.COMEET_API_KEY : undefined;
  const secret = env.COMEET_SECRET !== undefined && env.COMEET_SECRET !== '' ? env.COMEET_SECRET : undefined;

  const options: SimulatorOptions = {
    host: host ? host[0].trim() : '127.0.0.1',
    port: port ? parseNumber(port[0], port[1], 0, 65535, true) : 4010,
    apiKey: apiKey ?? DEMO_API_KEY,
    secret: secret ?? DEMO_SECRET,
  };
  if (options.host === '') throw new ConfigError(`${host?.[1] ?? '--host'} must not be empty`);
  const faults: NonNullable<SimulatorOptions['faults']> = {};
  const e = (name: string): string | undefined => (env[name] !== undefined && env[name] !== '' ? env[name] : undefined);
  let raw: string | undefined;
  if ((raw = e('SIMULATOR_RATE_LIMIT')) !== undefined) options.rateLimit = parseRateLimit(raw);
  if ((raw = e('SIMULATOR_ERROR_RATE')) !== undefined) faults.errorRate = parseNumber(raw, 'SIMULATOR_ERROR_RATE', 0, 1, false);
  if ((raw = e('SIMULATOR_DROP_RATE')) !== undefined) faults.dropRate = parseNumber(raw, 'SIMULATOR_DROP_RATE', 0, 1, false);
  if ((raw = e('SIMULATOR_LATENCY_MS')) !== undefined) faults.latencyMs = parseNumber(raw, 'SIMULATOR_LATENCY_MS', 0, 120_000, true);
  if (Object.keys(faults).length > 0) options.faults = faults;
  if ((raw = e('SIMULATOR_PERMISSIONS')) !== undefined) options.permissions = parsePermissions(raw, 'SIMULATOR_PERMISSIONS');
  if ((raw = e('SIMULATOR_EMAIL_FILTER')) !== undefined) {
    options.emailFilter = parseChoice(raw, 'SIMULATOR_EMAIL_FILTER', ['exact', 'contains', 'ignored'] as const);
  }
  if ((raw = e('SIMULATOR_FIND_DUPLICATES')) !== undefined) options.findDuplicates = parseBool(raw, 'SIMULATOR_FIND_DUPLICATES');
  if ((raw = e('SIMULATOR_LIST_SHAPE')) !== undefined) {
    options.listShape = parseChoice(raw, 'SIMULATOR_LIST_SHAPE', ['object', 'array'] as const);
  }
  if ((raw = e('SIMULATOR_PAGE_SIZE')) !== undefined) options.pageSize = parseNumber(raw, 'SIMULATOR_PAGE_SIZE', 1, 10_000, true);
  if ((raw = e('SIMULATOR_READ_WITHOUT_PERMISSION')) !== undefined) {
    options.readWithoutPermission = parseChoice(raw, 'SIMULATOR_READ_WITHOUT_PERMISSION', ['omit', 'forbid'] as const);
  }
  if ((raw = e('SIMULATOR_PSEUDONYMIZE_KEEPS_EMAIL')) !== undefined) {
    options.pseudonymizeKeepsEmail = parseBool(raw, 'SIMULATOR_PSEUDONYMIZE_KEEPS_EMAIL');
  }
  const quiet = values.quiet === true || (e('SIMULATOR_LOG') !== undefined && !parseBool(e('SIMULATOR_LOG') ?? '', 'SIMULATOR_LOG'));

  if (seed) {
    try {
      options.seed = loadSeedFile(seed[0]);
    } catch (err) {
      throw new ConfigError(`${seed[1]}: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else {
    options.seed = loadDemoSeed();
  }
  if (accountsFile) {
    try {
      options.accounts = loadAccountsFile(accountsFile[0], {
        rateLimit: options.rateLimit,
        faults: options.faults,
        permissions: options.permissions,
      });
    } catch (err) {
      throw new ConfigError(`${accountsFile[1]}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return {
    options,
    seedFile: seed?.[0],
    accountsFile: accountsFile?.[0],
    usingDemoCredentials: apiKey === undefined || secret === undefined,
    quiet,
  };
}

/**
 * An account in an accounts file: `SimulatorAccountOptions`, except that `seed` may also be "demo"
 * or a seed file path (relative to the accounts file), and `rateLimit` also "100/60s" or "off".
 */
const fileAccountSchema = z.looseObject({
  seed: z.union([z.string().min(1), seedSchema, z.array(z.unknown())]).optional(),
  rateLimit: z.union([z.string(), rateLimitSchema, z.null()]).optional(),
});
const accountsFileSchema = z.union([z.strictObject({ accounts: z.array(z.unknown()) }), z.array(z.unknown())]);

/**
 * Reads an accounts file: `{ "accounts": [...] }` or a bare array. Settings an account leaves out
 * take `defaults` (the environment's). Errors name the file and the field, never a key or secret.
 */
export function loadAccountsFile(
  path: string,
  defaults: Pick<SimulatorAccountOptions, 'rateLimit' | 'faults' | 'permissions'> = {},
): SimulatorAccountOptions[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const why = err instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read';
    throw new Error(`accounts file ${path} ${why}`, { cause: err });
  }
  const file = accountsFileSchema.safeParse(raw);
  if (!file.success) throw new Error(`accounts file ${path}: expected {"accounts": [...]} or an array of accounts`);
  const list = Array.isArray(file.data) ? file.data : file.data.accounts;
  return list.map((entry, i) => {
    const where = `accounts[${i}]`;
    const shape = fileAccountSchema.safeParse(entry);
    if (!shape.success) throw new Error(`accounts file ${path}: ${formatZodError(shape.error, where)}`);
    const a: Record<string, unknown> = { ...shape.data };
    if (typeof a.seed === 'string') {
      a.seed = a.seed === 'demo' ? loadDemoSeed() : loadSeedFile(resolve(dirname(path), a.seed));
    } else if (Array.isArray(a.seed)) {
      a.seed = { candidates: a.seed };
    }
    if (typeof a.rateLimit === 'string') a.rateLimit = parseRateLimit(a.rateLimit, `${where}.rateLimit`);
    for (const [name, value] of Object.entries(defaults)) {
      if (a[name] === undefined && value !== undefined) a[name] = value;
    }
    const parsed = accountOptionsSchema.safeParse(a);
    if (!parsed.success) throw new Error(`accounts file ${path}: ${formatZodError(parsed.error, where)}`);
    return parsed.data as SimulatorAccountOptions;
  });
}

/** Starts the simulator from flags and environment, prints where it is, and stops on SIGINT/SIGTERM. */
export async function main(argv = process.argv.slice(2), env = process.env): Promise<Simulator> {
  const config = parseMainConfig(argv, env);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (!config.quiet) config.options.log = (line) => out(`${new Date().toISOString()} ${line}`);
  const sim = await startSimulator(config.options);
  const o = config.options;
  out(`Comeet API simulator listening on ${sim.url}`);
  out(
    config.usingDemoCredentials
      ? `  credentials: demo (api key "${o.apiKey}"); set COMEET_API_KEY and COMEET_SECRET to change`
      : '  credentials: from COMEET_API_KEY / COMEET_SECRET',
  );
  out(`  rate limit: ${o.rateLimit === null ? 'off' : `${o.rateLimit?.limit ?? 100} requests / ${(o.rateLimit?.windowMs ?? 60_000) / 1000}s`}`);
  if (o.faults) out(`  faults: ${JSON.stringify(o.faults)}`);
  out(`  admin: ${sim.url}/_simulator/stats, ${sim.url}/_simulator/candidates`);
  if (config.accountsFile !== undefined) {
    out(`Accounts (keys and secrets from ${config.accountsFile}; admin under ${sim.url}/_simulator/accounts/<id>/...):`);
    for (const a of sim.accounts()) {
      const n = sim.account(a.id).candidates().length;
      out(`  ${a.id.padEnd(24)} ${a.environment.padEnd(10)} ${n} candidates${a.isDefault ? ' (the default account: COMEET_API_KEY)' : ''}`);
    }
  }
  if (config.seedFile === undefined) {
    out('Demo subjects:');
    for (const s of demoSubjects()) out(`  ${s.email.padEnd(32)} ${s.description}`);
  } else {
    const persons = new Set(sim.candidates().map((c) => c.person_uid)).size;
    out(`Seeded from ${config.seedFile}: ${sim.candidates().length} candidates, ${persons} persons`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    out(`${signal}: shutting down`);
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return sim;
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isMainModule()) {
  main().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`simulator: ${message.split('\n')[0]}\n`);
    process.exit(1);
  });
}
