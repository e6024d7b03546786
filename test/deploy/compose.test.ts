/**
 * The deployment files, checked without Docker: docker-compose.yml against the repository (paths,
 * npm scripts, services it names), against the code (the environment variables the services read,
 * the search attributes, the task queue of the dynamic config) and against itself (ports, profiles,
 * pinned images); and the prebuilt workflow bundle the image ships, loaded by a replaying Worker.
 * Known variables are collected from the sources each service runs, never listed here.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FAILURE_CONVERTER_PATH } from '../../src/codec/data-converter.js';
import * as configModule from '../../src/config.js';
import { ConfigError, loadIntakeConfig, loadWorkerConfig, type Env } from '../../src/config.js';
import { ReceiptKeyError } from '../../src/receipt/index.js';
import { SEARCH_ATTRIBUTES } from '../../src/search-attributes.js';
import { comeetTaskQueue, DEFAULT_TASK_QUEUE } from '../../src/task-queues.js';
import { tracingFromEnv } from '../../src/observability.js';
import { DEV_SERVER_DYNAMIC_CONFIG, PROJECT_ROOT } from '../../src/temporal-binaries.js';
import { loadRequiredReceiptSigner } from '../../src/worker.js';
import { installQuietRuntime } from '../helpers/temporal.js';

const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// Reading the files

type Scalar = string | number | boolean | null;
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, Scalar> | string[];
  depends_on?: string[] | Record<string, unknown>;
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  ports?: (string | number | { published?: string | number; target?: number; host_ip?: string })[];
  expose?: (string | number)[];
  profiles?: string[];
  healthcheck?: { test?: string | string[] };
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const COMPOSE_FILE = join(PROJECT_ROOT, 'docker-compose.yml');
const composeText = readFileSync(COMPOSE_FILE, 'utf8');
const packageJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const dockerfileText = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');

/**
 * Compose's interpolation with an .env that holds only the required secrets: `${X:-d}` gives d,
 * `${X}` and `$X` nothing, `${X:?msg}` (required) a placeholder that is set but is no valid value,
 * `$$` a literal `$` (what the container gets).
 */
const REQUIRED_PLACEHOLDER = (name: string) => `<required:${name}>`;
function interpolate(text: string): string {
  return text.replace(/\$\$|\$\{([A-Za-z_]\w*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_]\w*)/g, (whole, name?: string, op?: string, arg?: string) => {
    if (whole === '$$') return '$';
    if (name === undefined) return ''; // $X, unset
    if (op === ':-' || op === '-') return arg ?? '';
    if (op === ':?' || op === '?') return REQUIRED_PLACEHOLDER(name);
    return ''; // ${X}, ${X:+alt} with X unset
  });
}
function interpolateAll<T>(value: T): T {
  if (typeof value === 'string') return interpolate(value) as T;
  if (Array.isArray(value)) return value.map(interpolateAll) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v)])) as T;
  return value;
}

// Compose accepts YAML merge keys (`<<: *anchor`); so must the parser.
const raw = parse(composeText, { merge: true }) as Compose;
const compose = interpolateAll(raw);
const services = compose.services;
const serviceNames = Object.keys(services);

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

/** A service's environment as compose hands it over (interpolated, list form accepted). */
function envOf(s: Service): Record<string, string> {
  const e = s.environment ?? {};
  const entries = Array.isArray(e)
    ? e.map((line) => {
        const i = line.indexOf('=');
        return i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 1)];
      })
    : Object.entries(e).map(([k, v]) => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(entries) as Record<string, string>;
}

function words(cmd: string | string[] | undefined): string[] {
  if (cmd === undefined) return [];
  return Array.isArray(cmd) ? cmd : cmd.split(/\s+/).filter(Boolean);
}

/** `npm run X` wherever a command, entrypoint or healthcheck says it. */
function npmScriptsIn(text: string): string[] {
  return [...text.matchAll(/\bnpm\s+(?:run|run-script)\s+(?:--?[\w-]+\s+)*([\w:.-]+)/g)].map((m) => m[1]!);
}

/** `host:port` (a *_BIND value) → port. */
function portOf(bind: string): number {
  const m = /:(\d+)$/.exec(bind);
  if (!m) throw new Error(`"${bind}" is not host:port`);
  return Number(m[1]);
}

interface PortMapping {
  hostIp?: string;
  published?: number;
  target: number;
}
function portsOf(s: Service): PortMapping[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') return { hostIp: p.host_ip, published: p.published === undefined ? undefined : Number(p.published), target: Number(p.target) };
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = Number(parts.pop());
    const published = parts.length ? Number(parts.pop()) : undefined;
    return { hostIp: parts.length ? parts.join(':') : undefined, published, target };
  });
}

/** `ENV K=V K2=V2` / `ENV K V` lines of the Dockerfile: what every container starts with. */
function dockerfileEnv(text: string): Env {
  const env: Env = {};
  for (const line of text.split('\n')) {
    const m = /^\s*ENV\s+(.+)$/i.exec(line);
    if (!m) continue;
    const rest = m[1]!.trim();
    if (/^[A-Za-z_]\w*\s+[^=]*$/.test(rest) && !rest.includes('=')) {
      const [k, ...v] = rest.split(/\s+/);
      env[k!] = v.join(' ');
    } else {
      for (const pair of rest.matchAll(/([A-Za-z_]\w*)=("[^"]*"|\S*)/g)) env[pair[1]!] = pair[2]!.replace(/^"|"$/g, '');
    }
  }
  return env;
}
const IMAGE_ENV = dockerfileEnv(dockerfileText);

// ---------------------------------------------------------------------------------------------
// What the code reads: the sources reachable from a service's entry file by relative imports.

const ENV_NAME = '[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+';
const ENV_READS = [
  new RegExp(`\\benv\\??\\.(${ENV_NAME})\\b`, 'g'), // process.env.X, env.X, env?.X
  new RegExp(`^\\s*['"]?(${ENV_NAME})['"]?\\s*:`, 'gm'), // X: z.string()… (the zod shapes of the config schemas)
  new RegExp(`['"\`](${ENV_NAME})['"\`]`, 'g'), // 'X' as a literal: env['X'], RECEIPT_ENV = { key: 'X' }, e('X')
];
const IMPORTS = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

function resolveImport(fromFile: string, spec: string): string | undefined {
  const base = resolve(dirname(fromFile), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => /\.m?ts$/.test(c) && existsSync(c) && statSync(c).isFile());
}

function sourcesFrom(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORTS)) {
      const target = resolveImport(file, m[1]!);
      if (target && !seen.has(target)) queue.push(target);
    }
  }
  return [...seen];
}

const CONFIG_FILE = join(PROJECT_ROOT, 'src', 'config.ts');

/**
 * The variables these sources read. src/config.ts holds the schemas of every process, so it is
 * not scanned: the loaders the sources call (loadWorkerConfig(), loadIntakeConfig()…) are run
 * instead on an environment that records what they look up, which is exactly their schema's keys.
 */
function envNamesReadBy(files: string[]): Set<string> {
  const names = new Set<string>();
  const loaders = new Set<string>();
  for (const file of files) {
    if (file === CONFIG_FILE) continue;
    const text = readFileSync(file, 'utf8');
    for (const re of ENV_READS) for (const m of text.matchAll(re)) names.add(m[1]!);
    for (const m of text.matchAll(/\b(load\w+Config)\s*\(/g)) loaders.add(m[1]!);
  }
  const recording = new Proxy({} as Env, {
    get: (_, key) => {
      if (typeof key === 'string') names.add(key);
      return undefined;
    },
  });
  for (const name of loaders) {
    const loader = (configModule as Record<string, unknown>)[name];
    if (typeof loader !== 'function') continue; // a loader of another module
    try {
      loader(recording);
    } catch {
      // Nothing is set, so it complains; what it looked up is recorded all the same.
    }
  }
  return names;
}

/** The compiled file a command runs (`node dist/<path>.js …`), relative to the image's /app. */
function distEntryOf(cmd: string | string[] | undefined): string | undefined {
  const w = words(cmd);
  return w[0] === 'node' && w[1] && /^dist\/.+\.js$/.test(w[1]) ? w[1] : undefined;
}

/** The source a service's compiled entry is built from (dist/x/y.js ← src/x/y.ts), for services of our image. */
function entryFileOf(s: Service): { dist: string; file: string } | undefined {
  const dist = distEntryOf(s.command);
  if (!dist) return undefined;
  return { dist, file: join(PROJECT_ROOT, 'src', dist.replace(/^dist\//, '').replace(/\.js$/, '.ts')) };
}

/** The Dockerfile's default command (exec form), e.g. ["node", "dist/worker.js"]. */
function dockerfileJson(instruction: string, text: string = dockerfileText): string[] | undefined {
  const m = new RegExp(`^\\s*${instruction}\\s+(\\[.*\\])\\s*$`, 'im').exec(text);
  return m ? (JSON.parse(m[1]!) as string[]) : undefined;
}

/** The services that run our image (built from this repository). */
const APP_SERVICES = serviceNames.filter((n) => service(n).build !== undefined);

// ---------------------------------------------------------------------------------------------
// What the code requires: the config loaders' own complaints.

/** Variable names from a loader's problems (each problem starts with the variable's name). */
async function problemsOf(load: () => unknown): Promise<string[]> {
  try {
    await load();
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    if (err instanceof ReceiptKeyError) return [`${err.variable} ${err.message}`];
    throw err;
  }
}
const nameOf = (problem: string) => /^([A-Z][A-Z0-9_]*)/.exec(problem)?.[1] ?? problem;

// ---------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('defines the stack: Temporal on PostgreSQL, admin tools, Web UI, worker, intake, codec server, simulator, Prometheus', () => {
    expect(serviceNames).toEqual(
      expect.arrayContaining([
        'postgresql',
        'temporal',
        'temporal-admin-tools',
        'temporal-ui',
        'worker',
        'intake',
        'codec-server',
        'comeet-simulator',
        'prometheus',
      ]),
    );
    expect(APP_SERVICES).toEqual(expect.arrayContaining(['worker', 'intake', 'codec-server', 'comeet-simulator']));
  });

  it('depends only on services it defines, and never on one behind a profile from one without', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const dep of deps) {
        expect(serviceNames, `${name} depends on undefined service ${dep}`).toContain(dep);
        if (!s.profiles?.length) expect(service(dep).profiles ?? [], `${name} (no profile) depends on ${dep}, which only runs with a profile`).toEqual([]);
      }
    }
  });

  it('builds from contexts and Dockerfiles that exist', () => {
    const builds = Object.entries(services).filter(([, s]) => s.build !== undefined);
    expect(builds.length).toBeGreaterThan(0);
    for (const [name, s] of builds) {
      const b = typeof s.build === 'string' ? { context: s.build } : s.build!;
      const context = resolve(PROJECT_ROOT, b.context ?? '.');
      expect(existsSync(context) && statSync(context).isDirectory(), `${name}: build context ${b.context} is not a directory`).toBe(true);
      const dockerfile = resolve(context, b.dockerfile ?? 'Dockerfile');
      expect(existsSync(dockerfile), `${name}: ${relative(PROJECT_ROOT, dockerfile)} does not exist`).toBe(true);
    }
  });

  it('bind-mounts only paths that exist in the repository, and declares its named volumes', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0]! : v.type === 'bind' ? v.source! : undefined;
        if (source === undefined) continue;
        if (/^[.~/]/.test(source)) {
          expect(existsSync(resolve(PROJECT_ROOT, source)), `${name} mounts ${source}, which does not exist`).toBe(true);
        } else {
          expect(Object.keys(compose.volumes ?? {}), `${name} uses volume ${source}, not declared under volumes:`).toContain(source);
        }
      }
    }
  });

  it('runs only npm scripts that package.json defines (compose commands and the Dockerfile)', () => {
    const used: [string, string][] = [];
    for (const [name, s] of Object.entries(services)) {
      const text = [words(s.command), words(s.entrypoint), words(s.healthcheck?.test)].flat().join(' ');
      for (const script of npmScriptsIn(text)) used.push([name, script]);
    }
    for (const script of npmScriptsIn(dockerfileText)) used.push(['Dockerfile', script]);
    expect(used.map(([, s]) => s)).toContain('build');
    for (const [where, script] of used) expect(Object.keys(packageJson.scripts), `${where} runs npm script "${script}", not in package.json`).toContain(script);
  });

  it('runs the compiled code: every service of our image and the image’s default command start `node dist/….js`, no tsx, no npm in between', () => {
    expect(APP_SERVICES).toEqual(expect.arrayContaining(['worker', 'intake', 'codec-server', 'comeet-simulator']));
    for (const name of APP_SERVICES) {
      const s = service(name);
      expect(distEntryOf(s.command), `${name}: command ${JSON.stringify(s.command)} must be ["node", "dist/….js", …]`).toBeDefined();
      expect(s.entrypoint, `${name} must keep the image's entrypoint (tini)`).toBeUndefined();
    }
    expect(distEntryOf(dockerfileJson('CMD'))).toBe('dist/worker.js');
    expect(distEntryOf(service('worker').command)).toBe('dist/worker.js');
    // tsx compiles at run time: a development tool, not something the image installs.
    expect(Object.keys(packageJson.dependencies)).not.toContain('tsx');
    expect(Object.keys(packageJson.devDependencies)).toContain('tsx');
    expect(dockerfileText.replace(/^\s*#.*$/gm, '')).not.toMatch(/\btsx\b/);
  });

  it('gives every service of our image an init process as PID 1 (the image’s tini, or compose’s init:)', () => {
    const entrypoint = dockerfileJson('ENTRYPOINT') ?? [];
    const imageInit = /(^|\/)(tini|dumb-init)$/.test(entrypoint[0] ?? '');
    expect(imageInit, `Dockerfile ENTRYPOINT ${JSON.stringify(entrypoint)} is no init process`).toBe(true);
    if (imageInit) expect(dockerfileText).toMatch(/apt-get install[^\n]*\btini\b/);
    for (const name of APP_SERVICES) {
      // Both would put a second init under the first, which tini warns about.
      expect((service(name) as { init?: boolean }).init, `${name}: the image already runs tini`).toBeUndefined();
    }
  });

  describe('environment of the services that run our code', () => {
    it.each(APP_SERVICES)('%s sets only variables its code reads', (name) => {
      const entry = entryFileOf(service(name))!;
      expect(existsSync(entry.file), `${name} runs ${entry.dist}, built from ${relative(PROJECT_ROOT, entry.file)}, which does not exist`).toBe(true);
      const known = envNamesReadBy(sourcesFrom(entry.file));
      const unread = Object.keys(envOf(service(name))).filter((k) => !known.has(k));
      expect(unread, `${name} sets variables that nothing reachable from ${relative(PROJECT_ROOT, entry.file)} reads`).toEqual([]);
    });

    it('the image sets only variables the worker reads (DSAR_WORKFLOW_BUNDLE, DSAR_WORKFLOW_BUNDLE_TRACING)', () => {
      const known = envNamesReadBy(sourcesFrom(entryFileOf(service('worker'))!.file));
      const ours = Object.keys(IMAGE_ENV).filter((k) => /^(DSAR|TEMPORAL|COMEET)_/.test(k));
      expect(ours).toEqual(expect.arrayContaining(['DSAR_WORKFLOW_BUNDLE', 'DSAR_WORKFLOW_BUNDLE_TRACING']));
      expect(ours.filter((k) => !known.has(k))).toEqual([]);
    });

    it('the worker gets every variable src/config.ts and the receipt signer require', async () => {
      // What the loaders complain about with only the image's ENV: each problem is a missing variable.
      const required = [...(await problemsOf(() => loadWorkerConfig(IMAGE_ENV))), ...(await problemsOf(() => loadRequiredReceiptSigner(IMAGE_ENV)))]
        .map(nameOf)
        .filter((n) => IMAGE_ENV[n] === undefined);
      expect(required).toEqual(expect.arrayContaining(['DSAR_ENCRYPTION_KEYS', 'COMEET_BASE_URL', 'COMEET_API_KEY', 'COMEET_SECRET', 'DSAR_RECEIPT_KEY']));
      const env = envOf(service('worker'));
      for (const name of required) expect(env[name], `worker: ${name} is required by the code but not set`).toBeTruthy();

      // And with compose's environment (secrets as placeholders) nothing is "required" any more,
      // including variables required only in combination (production, a key with its id).
      const withCompose = { ...IMAGE_ENV, ...env };
      const still = [...(await problemsOf(() => loadWorkerConfig(withCompose))), ...(await problemsOf(() => loadRequiredReceiptSigner(withCompose)))];
      expect(still.filter((p) => /\brequired\b/i.test(p))).toEqual([]);
    });

    it('the intake gets every variable its config requires, and the worker’s task queue and namespace', async () => {
      const required = (await problemsOf(() => loadIntakeConfig(IMAGE_ENV))).map(nameOf).filter((n) => IMAGE_ENV[n] === undefined);
      expect(required).toEqual(expect.arrayContaining(['DSAR_ENCRYPTION_KEYS', 'DSAR_ID_KEY', 'DSAR_INTAKE_TOKENS']));
      const intake = envOf(service('intake'));
      for (const name of required) expect(intake[name], `intake: ${name} is required by the code but not set`).toBeTruthy();
      const still = await problemsOf(() => loadIntakeConfig({ ...IMAGE_ENV, ...intake }));
      expect(still.filter((p) => /\brequired\b/i.test(p))).toEqual([]);
      const worker = envOf(service('worker'));
      // Workflows started on a queue no worker polls would wait forever.
      for (const k of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE', 'DSAR_ENCRYPTION_KEYS', 'DSAR_ENCRYPTION_KEY_ID'])
        expect(intake[k], k).toBe(worker[k]);
      expect(envOf(service('codec-server')).DSAR_ENCRYPTION_KEYS).toBe(worker.DSAR_ENCRYPTION_KEYS);
    });

    it('callbacks go only to hosts the deployment names: DSAR_CALLBACK_HOSTS is required for the worker and the intake alike', () => {
      for (const name of ['worker', 'intake']) {
        const env = envOf(raw.services[name]!); // before interpolation
        expect(env.DSAR_CALLBACK_HOSTS, `${name}: DSAR_CALLBACK_HOSTS must be \${DSAR_CALLBACK_HOSTS:?…}`).toMatch(/^\$\{DSAR_CALLBACK_HOSTS:\?[^}]+\}$/);
        // No network is allowed by default: private and loopback addresses stay refused.
        expect(env.DSAR_CALLBACK_ALLOW_NETWORKS, name).toBe('${DSAR_CALLBACK_ALLOW_NETWORKS:-}');
      }
      expect(envOf(service('intake')).DSAR_CALLBACK_HOSTS).toBe(envOf(service('worker')).DSAR_CALLBACK_HOSTS);
    });

    it('secrets come from .env and are required there (${VAR:?message}), never defaulted', () => {
      const secrets = [
        'DSAR_ENCRYPTION_KEYS',
        'DSAR_RECEIPT_KEY',
        'DSAR_ID_KEY',
        'DSAR_CODEC_TOKEN',
        'DSAR_INTAKE_TOKENS',
        'DSAR_CALLBACK_SECRET',
        'COMEET_API_KEY',
        'COMEET_SECRET',
        'POSTGRES_PASSWORD',
      ];
      for (const name of secrets) {
        expect(composeText, `${name} must be required with \${${name}:?…}`).toMatch(new RegExp(`\\$\\{${name}:\\?[^}]+\\}`));
        expect(composeText, `${name} must not have a default`).not.toMatch(new RegExp(`\\$\\{${name}:?-`));
      }
    });
  });

  it('registers exactly the search attributes of src/search-attributes.ts (names and types)', () => {
    const admin = service('temporal-admin-tools');
    const env = envOf(admin);
    const registered = (env.DSAR_SEARCH_ATTRIBUTES ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => {
        const [name, type] = pair.split('=');
        return `${name}:${type!.toUpperCase()}`;
      })
      .sort();
    // The CLI's type names (Keyword, KeywordList, Datetime…) are the SDK's without the underscore.
    const expected = SEARCH_ATTRIBUTES.map((k) => `${k.name}:${k.type.replace(/_/g, '')}`).sort();
    expect(expected.map((e) => e.split(':')[0])).toContain('DsarPhase');
    expect(registered).toEqual(expected);
    const script = words(admin.command).join(' ');
    expect(script).toMatch(/temporal operator search-attribute create --namespace "\$DSAR_NAMESPACE" "\$@"/);
    expect(script).toContain('for sa in $DSAR_SEARCH_ATTRIBUTES');
    expect(env.DSAR_NAMESPACE).toBe(envOf(service('worker')).TEMPORAL_NAMESPACE);
  });

  describe('Temporal dynamic config', () => {
    const temporal = service('temporal');
    const path = envOf(temporal).DYNAMIC_CONFIG_FILE_PATH ?? '';
    // The file the server reads, mapped back through the bind mount to the repository.
    const mount = (temporal.volumes ?? [])
      .filter((v): v is string => typeof v === 'string')
      .map((v) => v.split(':'))
      .find(([, target]) => target && (path === target || path.startsWith(`${target}/`)));
    const hostFile = mount ? resolve(PROJECT_ROOT, mount[0]!, posix.relative(mount[1]!, path)) : '';
    const comeetQueue = comeetTaskQueue(DEFAULT_TASK_QUEUE);

    type Entry = { value: unknown; constraints?: Record<string, unknown> };
    const config = (hostFile && existsSync(hostFile) ? parse(readFileSync(hostFile, 'utf8')) : {}) as Record<string, Entry[]>;
    const byKey = new Map(Object.entries(config).map(([k, v]) => [k.toLowerCase(), v]));
    /** The server's pick: among entries whose constraints all match, the most specific one. */
    function valueFor(key: string, taskQueueName: string, namespace = 'default'): unknown {
      const facts: Record<string, string> = { taskqueuename: taskQueueName, namespace };
      const matching = (byKey.get(key.toLowerCase()) ?? []).filter((e) => Object.entries(e.constraints ?? {}).every(([k, v]) => facts[k.toLowerCase()] === v));
      matching.sort((a, b) => Object.keys(b.constraints ?? {}).length - Object.keys(a.constraints ?? {}).length);
      return matching[0]?.value;
    }

    it('is deploy/temporal/dynamic-config.yaml, mounted where DYNAMIC_CONFIG_FILE_PATH points', () => {
      expect(mount, `no volume of the temporal service holds ${path}`).toBeDefined();
      expect(relative(PROJECT_ROOT, hostFile)).toBe(join('deploy', 'temporal', 'dynamic-config.yaml'));
      expect(existsSync(hostFile)).toBe(true);
    });

    it('is in the server’s format: every key a list of { value, constraints } with known constraints', () => {
      expect(Object.keys(config).length).toBeGreaterThan(0);
      for (const [key, entries] of Object.entries(config)) {
        expect(Array.isArray(entries), `${key} must be a list of { value, constraints }`).toBe(true);
        for (const e of entries) {
          expect(
            Object.keys(e).every((k) => k === 'value' || k === 'constraints'),
            `${key}: only value and constraints`,
          ).toBe(true);
          expect(e).toHaveProperty('value');
          for (const c of Object.keys(e.constraints ?? {})) {
            expect(['namespace', 'taskqueuename', 'tasktype', 'namespaceid', 'shardid', 'destination', 'historytasktype'], `${key}: constraint ${c}`).toContain(
              c.toLowerCase(),
            );
          }
        }
      }
    });

    // A tenant's queue is named at run time (onboarding), so no constraint written beforehand can name it.
    const tenantQueues = ['acme', 'fleet-01', 'a'.repeat(32)].map((t) => comeetTaskQueue(DEFAULT_TASK_QUEUE, t));

    it(`turns on the priority matcher and gives "${comeetQueue}" and every tenant's Comeet queue exactly one read and one write partition`, () => {
      expect(envOf(service('worker')).TEMPORAL_TASK_QUEUE, 'the worker’s queue is what the queues are derived from').toBe(DEFAULT_TASK_QUEUE);
      for (const queue of [comeetQueue, ...tenantQueues]) {
        expect(valueFor('matching.useNewMatcher', queue), queue).toBe(true);
        // More partitions would share the tenant's rate out among them (each capped at a part, a
        // partition without work leaving its part unused) and order by priority only within each.
        expect(valueFor('matching.numTaskqueueReadPartitions', queue), queue).toBe(1);
        expect(valueFor('matching.numTaskqueueWritePartitions', queue), queue).toBe(1);
      }
    });

    it('matches the dev server the tests and the benchmark run against (the same values, unconstrained)', () => {
      for (const [key, value] of DEV_SERVER_DYNAMIC_CONFIG.filter((a) => a !== '--dynamic-config-value').map((kv) => kv.split('='))) {
        for (const queue of [DEFAULT_TASK_QUEUE, comeetQueue, ...tenantQueues]) expect(valueFor(key!, queue), `${key} on ${queue}`).toEqual(JSON.parse(value!));
      }
    });
  });

  it('points the Web UI at the codec server’s published port, and the codec server lets the UI’s origin in', () => {
    const endpoint = new URL(envOf(service('temporal-ui')).TEMPORAL_CODEC_ENDPOINT ?? 'http://invalid');
    const codec = service('codec-server');
    const codecPort = Number(envOf(codec).DSAR_CODEC_BIND?.split(':').pop());
    const published = portsOf(codec).find((p) => p.target === codecPort);
    expect(published, `codec-server does not publish its port ${codecPort}`).toBeDefined();
    expect(Number(endpoint.port)).toBe(published!.published);
    expect(endpoint.pathname).toMatch(/^\/t\/.+/);
    const ui = portsOf(service('temporal-ui')).find((p) => p.target === 8080);
    expect(ui).toBeDefined();
    const origins = (envOf(codec).DSAR_CODEC_CORS_ORIGINS ?? '').split(',').map((o) => o.trim());
    expect(origins).toContain(`http://${endpoint.hostname}:${ui!.published}`);
  });

  it('publishes ports on 127.0.0.1 only (the UI and Temporal have no authentication here)', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const p of portsOf(s)) expect(p.hostIp, `${name} publishes ${p.target} on every interface`).toBe('127.0.0.1');
    }
  });

  it('checks health where the services listen: worker (DSAR_HEALTH_BIND /healthz, metrics port exposed), intake, codec server', () => {
    const worker = service('worker');
    const env = envOf(worker);
    const healthPort = portOf(env.DSAR_HEALTH_BIND ?? '');
    const metricsPort = portOf(env.DSAR_METRICS_BIND ?? '');
    expect(words(worker.healthcheck?.test).join(' ')).toContain(`:${healthPort}/healthz`);
    expect((worker.expose ?? []).map(Number)).toEqual(expect.arrayContaining([healthPort, metricsPort]));
    // No fixed host port: `--scale worker=3` must not collide.
    expect(worker.ports ?? []).toEqual([]);
    const intake = service('intake');
    const intakePort = portOf(envOf(intake).DSAR_INTAKE_BIND ?? '');
    expect(words(intake.healthcheck?.test).join(' ')).toContain(`:${intakePort}/healthz`);
    expect(portsOf(intake).map((p) => p.target)).toContain(intakePort);
    const codec = service('codec-server');
    const codecPort = Number(envOf(codec).DSAR_CODEC_BIND?.split(':').pop());
    expect(words(codec.healthcheck?.test).join(' ')).toContain(`(${codecPort}, '127.0.0.1')`);
  });

  it('has Prometheus scrape every worker replica on the metrics port, and the Temporal server', () => {
    const prom = service('prometheus');
    const mount = (prom.volumes ?? []).find((v): v is string => typeof v === 'string' && v.includes('prometheus.yml'));
    expect(mount).toBeDefined();
    const file = resolve(PROJECT_ROOT, mount!.split(':')[0]!);
    expect(relative(PROJECT_ROOT, file)).toBe(join('deploy', 'prometheus', 'prometheus.yml'));
    const config = parse(readFileSync(file, 'utf8')) as {
      scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; type?: string; port?: number }[]; static_configs?: { targets: string[] }[] }[];
    };
    const metricsPort = portOf(envOf(service('worker')).DSAR_METRICS_BIND ?? '');
    const dns = config.scrape_configs.flatMap((j) => j.dns_sd_configs ?? []);
    expect(dns).toContainEqual(expect.objectContaining({ names: ['worker'], type: 'A', port: metricsPort }));
    const serverPort = portOf(envOf(service('temporal')).PROMETHEUS_ENDPOINT ?? '');
    expect(config.scrape_configs.flatMap((j) => (j.static_configs ?? []).flatMap((s) => s.targets))).toContain(`temporal:${serverPort}`);
  });

  it('puts the simulator under profile "simulator" and Prometheus under "metrics"; the rest always runs', () => {
    const profiles = Object.fromEntries(Object.entries(services).map(([n, s]) => [n, s.profiles ?? []]));
    expect(profiles['comeet-simulator']).toEqual(['simulator']);
    expect(profiles.prometheus).toEqual(['metrics']);
    for (const [name, p] of Object.entries(profiles)) if (name !== 'comeet-simulator' && name !== 'prometheus') expect(p, name).toEqual([]);
  });

  it('pins every image exactly (a digest, or a release tag: no latest, no bare major), the Dockerfile’s base too', () => {
    // Our own image (build:) is named locally, not pulled: its pin is the Dockerfile's base.
    const images = Object.entries(services)
      .filter(([, s]) => s.image && s.build === undefined)
      .map(([n, s]) => [n, s.image!] as const);
    const bases = [...dockerfileText.matchAll(/^\s*FROM\s+(\S+)/gim)].map((m) => m[1]!);
    for (const base of bases) images.push(['Dockerfile', base]);
    expect(images.length).toBeGreaterThan(5);
    for (const [where, image] of images) {
      if (/@sha256:[0-9a-f]{64}$/.test(image)) continue;
      const tag = /:([^:/]+)$/.exec(image)?.[1];
      expect(tag, `${where}: ${image} has no tag`).toBeTruthy();
      // A release: major.minor at least (PostgreSQL's 16.10 is its exact release), optionally a
      // variant suffix; `16`, `latest` or `bookworm` move under the same name.
      expect(tag, `${where}: ${image} is not pinned to a release`).toMatch(/^v?\d+\.\d+(\.\d+)?(-[\w.-]+)?$/);
    }
    // Node: an LTS line (even major, not 20, which is past its end of life), the same exact release in every stage.
    const nodeTags = bases.map((b) => /^node:(\d+)\.(\d+)\.(\d+)(-[\w.-]+)?(@sha256:[0-9a-f]{64})?$/.exec(b));
    expect(nodeTags.every(Boolean), `every FROM is node:<x.y.z>[-variant]: ${bases.join(', ')}`).toBe(true);
    expect(new Set(bases).size, 'the build and runtime stages use the same Node').toBe(1);
    const major = Number(nodeTags[0]![1]);
    expect(major % 2, 'an LTS line has an even major').toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);
    // The Temporal images agree on the server version.
    const temporalVersion = service('temporal').image!.split(':')[1];
    expect(service('temporal-admin-tools').image).toMatch(new RegExp(`:${temporalVersion!.replace(/\./g, '\\.')}-`));
  });
});

describe('the prebuilt workflow bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsar-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is built by npm run build:workflows and replays recorded histories in a Worker (codePath)', async () => {
    const codePath = join(dir, 'nested', 'workflow-bundle.js');
    const { stdout } = await run('npm', ['run', '--silent', 'build:workflows', '--', codePath], { cwd: PROJECT_ROOT, maxBuffer: 16 << 20 });
    expect(stdout).toMatch(/Workflow bundle .+: \d+ KiB in [\d.]+s/);
    const code = readFileSync(codePath, 'utf8');
    // The production failure converter (encoded failure messages) is inside.
    expect(code).toContain('__temporal_custom_failure_converter');
    expect(code).toContain(relative(PROJECT_ROOT, FAILURE_CONVERTER_PATH).split('\\').join('/'));

    installQuietRuntime();
    const histories = join(PROJECT_ROOT, 'test', 'histories');
    const ids = JSON.parse(readFileSync(join(histories, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
    // The histories are recorded without payload encryption; both replay with the failure
    // converter in the sandbox (it only changes how new failures are encoded): one happy path,
    // one that fails the workflow.
    for (const file of ['completed-delete.json', 'failed-deadline.json']) {
      const history = JSON.parse(readFileSync(join(histories, file), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: { codePath } }, history, ids[file]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The image's build, replayed without Docker: the Dockerfile's COPY lines and `npm run build` into a
// directory per stage that stands for its /app (node_modules linked in place of `npm ci`), then the
// runtime stage's files checked against what compose and the image run.

interface Stage {
  name?: string;
  lines: string[];
}
function stagesOf(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of text.split('\n')) {
    const from = /^\s*FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: from[1], lines: [] });
    else if (stages.length && /^\s*[A-Z]+\s/.test(line)) stages.at(-1)!.lines.push(line.trim());
  }
  return stages;
}

/** `COPY [--from=stage] src… dest` with /app as WORKDIR, into `root` (the stage's /app). */
function replayCopy(line: string, root: string, fromRoots: Record<string, string>): void {
  const w = line.split(/\s+/).slice(1);
  const from = w[0]?.startsWith('--from=') ? w.shift()!.slice('--from='.length) : undefined;
  const dest = w.pop()!;
  const sourceRoot = from === undefined ? PROJECT_ROOT : fromRoots[from];
  if (!sourceRoot) throw new Error(`COPY --from=${from}: no such stage`);
  const inImage = (p: string) => (p.startsWith('/app/') ? p.slice('/app/'.length) : p);
  const target = join(root, inImage(dest));
  for (const src of w) {
    const source = join(sourceRoot, inImage(src));
    if (!existsSync(source)) throw new Error(`${line}: ${src} does not exist`);
    if (statSync(source).isDirectory()) cpSync(source, target, { recursive: true });
    else {
      const to = dest.endsWith('/') || w.length > 1 ? join(target, basename(source)) : target;
      mkdirSync(dirname(to), { recursive: true });
      cpSync(source, to);
    }
  }
}

describe('the image’s build (npm run build), replayed without Docker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsar-image-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const stages = stagesOf(dockerfileText);
  const build = stages.find((s) => s.name === 'build');
  const runtime = stages.at(-1)!;
  const roots: Record<string, string> = {};
  /** The runtime stage's /app, once built. */
  let app = '';

  /** A stage's /app: its COPY lines replayed, node_modules linked (what `npm ci` installs). */
  function replayStage(stage: Stage, name: string): string {
    const root = join(dir, name);
    mkdirSync(root, { recursive: true });
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
    for (const line of stage.lines.filter((l) => /^COPY\s/i.test(l))) replayCopy(line, root, roots);
    return root;
  }

  it('has a build stage that runs npm run build and a runtime stage with production dependencies that copies dist/ from it', { timeout: 120_000 }, async () => {
    expect(build, 'the Dockerfile needs a stage "AS build"').toBeDefined();
    expect(build!.lines).toContain('RUN npm run build');
    expect(
      runtime.lines.some((l) => /^RUN npm ci --omit=dev\b/.test(l)),
      'the runtime stage installs production dependencies only',
    ).toBe(true);
    expect(runtime.lines).toContain('COPY --from=build /app/dist ./dist');
    // dist/ is copied before USER node, so it belongs to root and the service cannot rewrite it.
    expect(runtime.lines.findIndex((l) => l.startsWith('COPY --from=build'))).toBeLessThan(runtime.lines.indexOf('USER node'));

    roots.build = replayStage(build!, 'build');
    const { stdout } = await run('npm', ['run', '--silent', 'build'], { cwd: roots.build, maxBuffer: 16 << 20 });
    expect(stdout).toMatch(/Workflow bundle dist\/workflow-bundle\.js: \d+ KiB/);
    expect(stdout).toMatch(/Workflow bundle \(tracing\) dist\/workflow-bundle-tracing\.js: \d+ KiB/);
    app = replayStage(runtime, 'app');
  });

  it('holds the compiled entry point of every service and the image’s default command, and the bundles the image points at', () => {
    expect(app, 'the build above failed').not.toBe('');
    const entries = [distEntryOf(dockerfileJson('CMD')), ...APP_SERVICES.map((n) => distEntryOf(service(n).command))];
    expect(entries).toEqual(expect.arrayContaining(['dist/worker.js', 'dist/intake/main.js', 'dist/codec/main.js', 'dist/simulator/main.js']));
    for (const entry of entries) expect(existsSync(join(app, entry!)), `${entry} is not in the image`).toBe(true);
    for (const k of ['DSAR_WORKFLOW_BUNDLE', 'DSAR_WORKFLOW_BUNDLE_TRACING']) {
      const path = IMAGE_ENV[k] ?? '';
      expect(path, k).toMatch(/^\/app\/dist\//);
      expect(existsSync(join(app, path.slice('/app/'.length))), `${k}=${path} is not in the image`).toBe(true);
    }
    // The data the simulator reads at run time comes along with the code.
    expect(existsSync(join(app, 'dist', 'simulator', 'demo-data.json'))).toBe(true);
    // The build tool chain stays in the build stage.
    expect(existsSync(join(app, 'src'))).toBe(false);
  });

  it('runs: the compiled worker gets as far as its configuration, and bin/dsar runs the compiled CLI', { timeout: 30_000 }, async () => {
    expect(app, 'the build above failed').not.toBe('');
    const env = { PATH: process.env.PATH ?? '', HOME: dir };
    const worker = await run(process.execPath, ['dist/worker.js'], { cwd: app, env }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(worker.code).toBe(1);
    expect(worker.stderr).toMatch(/^Invalid configuration:\n {2}- DSAR_ENCRYPTION_KEYS is required/);
    // No src/ here, so bin/dsar can only have run dist/cli/main.js.
    const { stdout } = await run(process.execPath, ['bin/dsar.mjs', '--help'], { cwd: app, env });
    expect(stdout).toMatch(/^dsar: erase people from Comeet/);
  });

  it(
    'builds both bundles from the compiled JavaScript: they replay recorded histories, and only the tracing one has the tracing interceptors',
    { timeout: 60_000 },
    async () => {
      expect(app, 'the build above failed').not.toBe('');
      const plain = join(app, 'dist', 'workflow-bundle.js');
      const traced = join(app, 'dist', 'workflow-bundle-tracing.js');
      const plainCode = readFileSync(plain, 'utf8');
      const tracedCode = readFileSync(traced, 'utf8');
      for (const code of [plainCode, tracedCode]) {
        expect(code).toContain('dist/workflows/index.js');
        expect(code).toContain('dist/codec/failure-converter.js');
        expect(code).toContain('__temporal_custom_failure_converter');
        expect(code).not.toContain('src/workflows/');
      }
      const interceptors = 'interceptors-opentelemetry/lib/workflow-interceptors';
      expect(tracedCode).toContain(interceptors);
      expect(plainCode).not.toContain(interceptors);

      installQuietRuntime();
      const histories = join(PROJECT_ROOT, 'test', 'histories');
      const ids = JSON.parse(readFileSync(join(histories, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
      // The tracing bundle with the plugin a worker with tracing on runs (its span sink); nothing is exported.
      const tracing = (await tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }))!;
      try {
        for (const file of ['completed-delete.json', 'failed-deadline.json']) {
          const history = JSON.parse(readFileSync(join(histories, file), 'utf8'));
          await Worker.runReplayHistory({ workflowBundle: { codePath: plain } }, history, ids[file]);
          await Worker.runReplayHistory({ workflowBundle: { codePath: traced }, plugins: [tracing.plugin as never] }, history, ids[file]);
        }
      } finally {
        await tracing.shutdown();
      }
    },
  );
});
