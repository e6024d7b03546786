/**
 * Configuration from the environment, validated with zod: a missing or malformed variable stops
 * start-up with a message naming it (never its value, which may be a secret).
 */
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { z } from 'zod';
import { parseNetwork } from './callbacks/address-policy.js';
import { CodecKeyError, parseEncryptionKeys, type EncryptionKeys } from './codec/aes-gcm.js';
import { LOOKUP_STRATEGIES, type ComeetClientOptions } from './comeet/index.js';
import { loadTemporalSettings, type TemporalSettings } from './connection.js';
import { CredentialsError, parseCredentialKeys, type CredentialKeys } from './tenants/credentials.js';
import { DEFAULT_TENANT_ID, TENANT_ID_PATTERN, TENANT_ID_RULE } from './tenants/model.js';
import type { TuningInput } from './erasure-request.js';
import { COMEET_LIMIT_PER_MINUTE, DEFAULT_COMEET_RATE_PER_MINUTE, DEFAULT_TASK_QUEUE } from './task-queues.js';

/** The Worker Deployment the worker's versions belong to (DSAR_DEPLOYMENT_NAME). */
export const DEFAULT_DEPLOYMENT_NAME = 'comeet-dsar';

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `15m`, `4h`, `7d`, or a bare number of milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

const duration = (hint: string) =>
  z.string().transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as 30s, 15m, 4h or 7d (${hint})` });
      return z.NEVER;
    }
    return ms;
  });

const positiveInt = (hint: string) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number (${hint})`)
    .transform(Number)
    .pipe(z.number().int().positive(`must be positive (${hint})`));

/** The port after the last colon of host:port is one a socket can use. */
function validPort(hostPort: string): boolean {
  const port = Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

const bool = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(z.enum(['1', '0', 'true', 'false', 'yes', 'no'], { message: 'must be true or false' }))
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

// The connection itself (address, namespace, TLS, API key, profiles) is src/connection.ts's, read as
// the temporal CLI reads it; the task queue is ours.
const temporalShape = {
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  // Payload encryption is not optional: an eraser that stores the email in clear defeats itself.
  DSAR_ENCRYPTION_KEYS: z.string({
    message: 'is required: id:base64key[,id:base64key] with 32-byte keys (openssl rand -base64 32), e.g. k1:<key>',
  }),
  DSAR_ENCRYPTION_KEY_ID: z.string().min(1).optional(),
};

const clientShape = {
  ...temporalShape,
  DSAR_ID_KEY: z
    .string({ message: 'is required: a random secret (32+ characters) keying the hash that names workflows, e.g. `openssl rand -hex 32`' })
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)'),
  DSAR_FOLLOW_UP_DELAY: duration('delay of the follow-up lookup; 0 turns it off').optional(),
  DSAR_ATTENTION_RETRY: duration('how often a request needing attention retries').optional(),
  DSAR_INTERVIEW_MARGIN: duration('wait after the latest scheduled interview').optional(),
};

const comeetShape = {
  COMEET_BASE_URL: z
    .url({ message: 'must be a URL such as https://api.comeet.co', protocol: /^https?$/ })
    .refine((u) => !/\/v\d+\/?$/.test(u), 'must not end in a version such as /v1: Comeet paths have no version prefix'),
  COMEET_API_KEY: z.string({ message: "is required: the Comeet account's API key (Settings → Integrations)" }).min(1),
  COMEET_SECRET: z.string({ message: 'is required: the integration secret Comeet support issued' }).min(8, 'looks too short for an integration secret'),
  COMEET_LOOKUP: z.enum(LOOKUP_STRATEGIES, { message: `must be one of ${LOOKUP_STRATEGIES.join(', ')}` }).default('candidates-filter'),
  COMEET_PAGE_SIZE: positiveInt('items per page of list calls').default(100),
  COMEET_TIMEOUT: duration('response timeout per Comeet call').pipe(z.number().min(100, 'must be at least 100ms (0 would turn timeouts off)')).default(30_000),
  COMEET_CONNECTIONS: positiveInt('HTTP connections to Comeet per worker').default(4),
  // Plain http would send the signed token and the subject's email in clear: only for a local simulator.
  COMEET_ALLOW_HTTP: bool.default(false),
};

/** Refuses an http Comeet base URL unless COMEET_ALLOW_HTTP says it is a local simulator. */
function requireHttps(c: { COMEET_BASE_URL: string; COMEET_ALLOW_HTTP: boolean }, ctx: z.RefinementCtx): void {
  if (!c.COMEET_ALLOW_HTTP && c.COMEET_BASE_URL.toLowerCase().startsWith('http:')) {
    ctx.addIssue({
      code: 'custom',
      path: ['COMEET_BASE_URL'],
      message: 'must use https: Comeet is reached over TLS (set COMEET_ALLOW_HTTP=true only for a local simulator)',
    });
  }
}

/** `host:port` (IPv6 in brackets) as Node's listen() wants it; an empty host means all interfaces. */
export function splitHostPort(bind: string): { host: string; port: number } {
  const i = bind.lastIndexOf(':');
  return { host: bind.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(bind.slice(i + 1)) };
}

/** host:port to listen on, or `off`. */
const bindAddress = (fallback: string) =>
  z
    .string()
    .regex(/^(off|[\w.:[\]-]*:\d{1,5})$/, { message: 'must be host:port (e.g. 0.0.0.0:9464) or off', abort: true })
    // Port 0 would listen on a random port nobody can find.
    .refine((v) => v === 'off' || validPort(v), 'must end in a port between 1 and 65535')
    .default(fallback)
    .transform((v) => (v === 'off' ? undefined : v));

const commaList = z.string().transform((v) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

/** One intake caller: its name is recorded on its requests, its token authenticates it. */
export interface IntakeToken {
  name: string;
  token: string;
  /** The tenant whose requests it may start and read (`default` when the entry names none); absent on admin tokens, which see all. */
  tenant?: string;
}

/**
 * `name[@tenant]:token,...`; a bare token is refused (its requests could not be told apart from
 * others'). Without `@tenant` a caller belongs to the `default` tenant, so the configs written before
 * tenants keep their meaning. Admin tokens see every tenant and so name none.
 */
const namedTokens = (requiredMessage: string, kind: 'caller' | 'admin') =>
  z.string({ message: requiredMessage }).transform((v, ctx): IntakeToken[] => {
    const out: IntakeToken[] = [];
    const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
    v.split(',')
      .map((x) => x.trim())
      .filter(Boolean)
      .forEach((entry, i) => {
        const colon = entry.indexOf(':');
        const head = colon > 0 ? entry.slice(0, colon) : '';
        const token = colon > 0 ? entry.slice(colon + 1) : entry;
        const at = head.indexOf('@');
        const name = at >= 0 ? head.slice(0, at) : head;
        const tenant = at >= 0 ? head.slice(at + 1) : undefined;
        if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(name)) {
          problem(
            kind === 'admin'
              ? `entry ${i + 1} has no valid name: write name:token (the operator's name, 1-32 of a-z 0-9 _ -), e.g. dpo:<token>`
              : `entry ${i + 1} has no valid name: write name:token or name@tenant:token (the name of the calling service, 1-32 of a-z 0-9 _ -), e.g. billing:<token> or billing@acme:<token>`,
          );
        } else if (tenant !== undefined && kind === 'admin') {
          problem(
            `entry ${i + 1} (${name}) names a tenant: admin tokens read every tenant's requests, so write name:token (a tenant's own service goes in DSAR_INTAKE_TOKENS as name@tenant:token)`,
          );
        } else if (tenant !== undefined && !TENANT_ID_PATTERN.test(tenant)) {
          problem(`entry ${i + 1} (${name}) has an invalid tenant after @: ${TENANT_ID_RULE}; write name@tenant:token, or name:token for the default tenant`);
        } else if (token.length < 32) {
          problem(`each token must be at least 32 characters (e.g. \`openssl rand -hex 32\`); entry ${i + 1} (${name}) is shorter`);
        } else if (out.some((t) => t.name === name)) {
          problem(`names the caller ${name} twice: each service gets its own name (even in different tenants: the name is what requests and logs record)`);
        } else out.push(kind === 'admin' ? { name, token } : { name, token, tenant: tenant ?? DEFAULT_TENANT_ID });
      });
    return out;
  });

/** One log format for the worker, the intake and the codec server (src/logging.ts). */
const logShape = {
  DSAR_LOG_FORMAT: z.enum(['json', 'pretty'], { message: 'must be json or pretty' }).default('json'),
  DSAR_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'], { message: 'must be one of TRACE, DEBUG, INFO, WARN, ERROR' }).default('INFO'),
};

const callbackShape = {
  // Several secrets (comma-separated) during a rotation: each callback carries a signature per secret.
  DSAR_CALLBACK_SECRET: commaList.pipe(z.array(z.string().min(32, 'each secret must be at least 32 characters (e.g. `openssl rand -hex 32`)'))).optional(),
  DSAR_CALLBACK_HOSTS: commaList
    .pipe(z.array(z.string().regex(/^\.?[a-z0-9.-]+$/i, 'must list host names, e.g. hooks.example.com,.internal.example.com')))
    .optional(),
  // Callbacks reach public addresses only; these networks are allowed too (a sidecar, a receiver on loopback).
  DSAR_CALLBACK_ALLOW_NETWORKS: commaList
    .pipe(z.array(z.string().refine((v) => parseNetwork(v) !== undefined, 'must list addresses or CIDR networks, e.g. 10.20.0.0/16,127.0.0.1/32,fd00::/8')))
    .optional(),
};

const workerShape = {
  ...temporalShape,
  ...comeetShape,
  ...callbackShape,
  COMEET_RATE_LIMIT_PER_MINUTE: positiveInt("the Comeet account's limit per 60 s").default(COMEET_LIMIT_PER_MINUTE),
  COMEET_RATE_PER_MINUTE: positiveInt('Comeet calls per minute for the whole system, enforced by the Temporal server').optional(),
  DSAR_METRICS_BIND: bindAddress('0.0.0.0:9464'),
  DSAR_HEALTH_BIND: bindAddress('0.0.0.0:8090'),
  ...logShape,
  DSAR_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  // The same workflows with the OpenTelemetry interceptors, loaded instead when tracing is on.
  DSAR_WORKFLOW_BUNDLE_TRACING: z.string().min(1).optional(),
  // Requests sleep for hours or weeks: a cached one saves a short replay at wake-up, so a small cache
  // costs little and keeps memory flat however many requests wait. 50, measured with 1,000 waiting
  // requests (scripts/workflow-memory.ts): 348 MiB of worker RSS against 504 MiB at 250 and the same
  // CPU per start; 25 cost 50% more CPU per start (workflows evicted between their first tasks).
  DSAR_MAX_CACHED_WORKFLOWS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number (workflows kept in memory between tasks; 0 turns the cache off)')
    .transform(Number)
    .default(50),
  // Worker Versioning is opt-in: without a build id the worker runs unversioned (dev, tests, a
  // deployment that has not adopted it). The SDK writes a version as <deployment>.<build id>.
  DSAR_DEPLOYMENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'must be letters, digits, - and _ (no dot, at most 100 characters), e.g. comeet-dsar')
    .default(DEFAULT_DEPLOYMENT_NAME),
  DSAR_BUILD_ID: z
    .string()
    // Starting with a letter or digit also keeps out the server's reserved __unversioned__.
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/,
      'must start with a letter or digit and hold only letters, digits and . _ + - (at most 200 characters), e.g. a git commit or image tag',
    )
    .optional(),
};

const codecShape = {
  DSAR_ENCRYPTION_KEYS: z.string({ message: 'is required (the same keys as the worker)' }),
  DSAR_ENCRYPTION_KEY_ID: z.string().optional(),
  DSAR_CODEC_TOKEN: z.string({ message: 'is required: a secret of 24+ characters operators use' }).min(24, 'must be at least 24 characters'),
  DSAR_CODEC_BIND: bindAddress('127.0.0.1:8081'),
  // The names before DSAR_CODEC_BIND, still read when it is not set.
  DSAR_CODEC_HOST: z.string().min(1).optional(),
  DSAR_CODEC_PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number')
    .transform(Number)
    .pipe(z.number().int().min(0).max(65535, 'must be a port number'))
    .optional(),
  DSAR_CODEC_CORS_ORIGINS: commaList.default(['http://localhost:8233']),
  ...logShape,
};
const codecSchema = z.object(codecShape);

const clientSchema = z.object(clientShape);
const intakeSchema = z.object({
  ...clientShape,
  DSAR_CALLBACK_HOSTS: callbackShape.DSAR_CALLBACK_HOSTS,
  DSAR_CALLBACK_ALLOW_NETWORKS: callbackShape.DSAR_CALLBACK_ALLOW_NETWORKS,
  DSAR_INTAKE_TOKENS: namedTokens(
    "is required: comma-separated name:token pairs of the services allowed to call the intake (name@tenant:token for a tenant's service), e.g. billing:<token>,hr@acme:<token> (`openssl rand -hex 32` each)",
    'caller',
  ).refine((t) => t.length > 0, 'must hold at least one name:token pair'),
  // Admin tokens read every request of every tenant; the others only the requests they made, in their tenant.
  DSAR_INTAKE_ADMIN_TOKENS: namedTokens('comma-separated name:token pairs of operators who may read every request', 'admin').optional(),
  DSAR_INTAKE_DRY_RUNS_PER_HOUR: positiveInt('dry runs per token per hour, per intake process; a dry run tells whether an email is in Comeet').default(20),
  DSAR_INTAKE_BIND: bindAddress('0.0.0.0:8088'),
  ...logShape,
});
const workerSchema = z
  .object(workerShape)
  .superRefine(requireHttps)
  .transform((c, ctx) => {
    const limit = c.COMEET_RATE_LIMIT_PER_MINUTE;
    const rate = c.COMEET_RATE_PER_MINUTE ?? Math.floor((limit * DEFAULT_COMEET_RATE_PER_MINUTE) / COMEET_LIMIT_PER_MINUTE);
    if (rate > limit) {
      ctx.addIssue({
        code: 'custom',
        path: ['COMEET_RATE_PER_MINUTE'],
        message: `must not exceed COMEET_RATE_LIMIT_PER_MINUTE (${limit}): above the account's limit every worker meets 429s`,
      });
    }
    return { ...c, COMEET_RATE_PER_MINUTE: rate };
  });
const comeetSchema = z.object(comeetShape).superRefine(requireHttps);

type WithEncryption<T> = T & { encryption: EncryptionKeys };
type WithTemporal<T> = T & { temporal: TemporalSettings };
export type ClientConfig = WithEncryption<WithTemporal<z.output<typeof clientSchema>>>;
export type WorkerConfig = WithEncryption<WithTemporal<z.output<typeof workerSchema>>> & {
  /** DSAR_CREDENTIALS_KEY: opens tenants' sealed Comeet credentials; optional until tenants are wired into erasures. */
  credentials?: CredentialKeys;
};
export type IntakeConfig = WithEncryption<WithTemporal<z.output<typeof intakeSchema>>>;
export interface CodecConfig {
  host: string;
  port: number;
  token: string;
  corsOrigins: string[];
  encryption: EncryptionKeys;
  log: { format: 'json' | 'pretty'; level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' };
}
/** The Comeet part alone: what `dsar doctor` and `dsar sandbox-check` need. */
export type ComeetConfig = z.output<typeof comeetSchema>;

function load<S extends z.ZodType>(schema: S, env: Env, shape: Record<string, unknown>): z.output<S> {
  // Empty strings count as unset (an exported but blank variable), as t3-env does.
  const cleaned = Object.fromEntries(Object.keys(shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => {
    const name = String(i.path[0] ?? 'config');
    if (cleaned[name] === undefined) {
      // A missing variable is "required", whatever the format check would have said of a value.
      if (i.message.startsWith('is required')) return `${name} ${i.message}`;
      return i.message.startsWith('Invalid input') ? `${name} is required` : `${name} is required (${i.message})`;
    }
    return `${name} ${i.message}`;
  });
  throw new ConfigError(problems);
}

/** `load` plus the Temporal connection settings, every problem of both in one ConfigError. */
function loadWithTemporal<S extends z.ZodType>(schema: S, env: Env, shape: Record<string, unknown>): WithTemporal<z.output<S>> {
  const temporal = loadTemporalSettings(env);
  let config: z.output<S> | undefined;
  let problems: string[] = [];
  try {
    config = load(schema, env, shape);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems = err.problems;
  }
  problems = [...problems, ...temporal.problems];
  if (problems.length || !config || !temporal.settings) throw new ConfigError(problems);
  return { ...config, temporal: temporal.settings };
}

function withEncryption<T extends { DSAR_ENCRYPTION_KEYS: string; DSAR_ENCRYPTION_KEY_ID?: string }>(config: T): WithEncryption<T> {
  try {
    return { ...config, encryption: parseEncryptionKeys(config.DSAR_ENCRYPTION_KEYS, config.DSAR_ENCRYPTION_KEY_ID) };
  } catch (err) {
    if (!(err instanceof CodecKeyError)) throw err;
    throw new ConfigError([err.message.startsWith('DSAR_') ? err.message : `DSAR_ENCRYPTION_KEYS ${err.message}`]);
  }
}

/** What a service starting erasures needs (CLI, intake): Temporal, payload keys and the workflow-id key. */
export function loadClientConfig(env: Env = process.env): ClientConfig {
  return withEncryption(loadWithTemporal(clientSchema, env, clientShape));
}

/** The intake API: a client of Temporal plus its own tokens and listen address. */
export function loadIntakeConfig(env: Env = process.env): IntakeConfig {
  return withEncryption(loadWithTemporal(intakeSchema, env, intakeSchema.shape));
}

/** The codec server for operators: the worker's payload keys, its token, where it listens, the Web UI's origins. */
export function loadCodecConfig(env: Env = process.env): CodecConfig {
  const c = withEncryption(load(codecSchema, env, codecShape));
  // DSAR_CODEC_BIND wins; without it the older DSAR_CODEC_HOST / DSAR_CODEC_PORT apply.
  const explicit = env['DSAR_CODEC_BIND'] !== undefined && env['DSAR_CODEC_BIND'] !== '';
  const bind = c.DSAR_CODEC_BIND ?? '127.0.0.1:8081';
  const at = bind.lastIndexOf(':');
  const host = explicit ? bind.slice(0, at).replace(/^\[|\]$/g, '') : (c.DSAR_CODEC_HOST ?? bind.slice(0, at));
  const port = explicit ? Number(bind.slice(at + 1)) : (c.DSAR_CODEC_PORT ?? Number(bind.slice(at + 1)));
  return {
    host,
    port,
    token: c.DSAR_CODEC_TOKEN,
    corsOrigins: c.DSAR_CODEC_CORS_ORIGINS,
    encryption: c.encryption,
    log: { format: c.DSAR_LOG_FORMAT, level: c.DSAR_LOG_LEVEL },
  };
}

/** What the worker needs: Temporal, payload keys and Comeet (and the tenants' credentials key, if set). */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const config = withEncryption(loadWithTemporal(workerSchema, env, workerShape));
  const credentials = loadCredentialKeys(env, { required: false, payloadKeys: config.encryption });
  return credentials ? { ...config, credentials } : config;
}

/**
 * DSAR_CREDENTIALS_KEY (`id:base64key[,id:base64key]`, the first or DSAR_CREDENTIALS_KEY_ID seals)
 * seals tenants' Comeet credentials. It must not be a payload key: the codec server and the UI hold
 * those, and would then open the credentials too.
 */
export function loadCredentialKeys(env: Env, options: { required: true; payloadKeys?: EncryptionKeys }): CredentialKeys;
export function loadCredentialKeys(env: Env, options: { required: boolean; payloadKeys?: EncryptionKeys }): CredentialKeys | undefined;
export function loadCredentialKeys(env: Env, options: { required: boolean; payloadKeys?: EncryptionKeys }): CredentialKeys | undefined {
  const text = env.DSAR_CREDENTIALS_KEY?.trim();
  if (!text) {
    if (!options.required) return undefined;
    throw new ConfigError([
      'DSAR_CREDENTIALS_KEY is required: id:base64key[,id:base64key] with 32-byte keys (openssl rand -base64 32), a key of its own, not one of DSAR_ENCRYPTION_KEYS',
    ]);
  }
  let keys: CredentialKeys;
  try {
    keys = parseCredentialKeys(text, env.DSAR_CREDENTIALS_KEY_ID?.trim() || undefined);
  } catch (err) {
    if (!(err instanceof CredentialsError)) throw err;
    throw new ConfigError([err.message.startsWith('DSAR_') ? err.message : `DSAR_CREDENTIALS_KEY ${err.message}`]);
  }
  const payload = [...(options.payloadKeys?.keys.values() ?? [])].map((k) => Buffer.from(k).toString('base64'));
  for (const [id, key] of keys.keys) {
    if (payload.includes(Buffer.from(key).toString('base64'))) {
      throw new ConfigError([
        `DSAR_CREDENTIALS_KEY key "${id}" is also a payload key (DSAR_ENCRYPTION_KEYS): the codec server holds those, so it must be a key of its own`,
      ]);
    }
  }
  return keys;
}

/** Comeet settings alone, for checks that talk to Comeet and nothing else. */
export function loadComeetConfig(env: Env = process.env): ComeetConfig {
  return load(comeetSchema, env, comeetShape);
}

/** One mapping from settings to the Comeet client, for the worker and the checks alike. */
export function comeetClientOptions(config: ComeetConfig): ComeetClientOptions {
  return {
    baseUrl: config.COMEET_BASE_URL,
    apiKey: config.COMEET_API_KEY,
    secret: config.COMEET_SECRET,
    lookup: config.COMEET_LOOKUP,
    pageSize: config.COMEET_PAGE_SIZE,
    responseTimeoutMs: config.COMEET_TIMEOUT,
    connections: config.COMEET_CONNECTIONS,
  };
}

/** The Worker Deployment Version this worker runs as, or undefined (unversioned) without DSAR_BUILD_ID. */
export function deploymentVersionFromConfig(config: Pick<WorkerConfig, 'DSAR_DEPLOYMENT_NAME' | 'DSAR_BUILD_ID'>): WorkerDeploymentVersion | undefined {
  return config.DSAR_BUILD_ID ? { deploymentName: config.DSAR_DEPLOYMENT_NAME, buildId: config.DSAR_BUILD_ID } : undefined;
}

/** Tuning the client passes into each workflow from its config. */
export function tuningFromConfig(config: ClientConfig): TuningInput {
  const t: TuningInput = {};
  if (config.DSAR_FOLLOW_UP_DELAY !== undefined) t.followUpDelayMs = config.DSAR_FOLLOW_UP_DELAY;
  if (config.DSAR_ATTENTION_RETRY !== undefined) t.attentionRetryMs = config.DSAR_ATTENTION_RETRY;
  if (config.DSAR_INTERVIEW_MARGIN !== undefined) t.interviewMarginMs = config.DSAR_INTERVIEW_MARGIN;
  return t;
}
