/**
 * `dsar tenant …`: onboarding a customer's Comeet account (seed 000) through its durable workflow.
 * Secrets are read from files or standard input, never from argv (visible in `ps`), sealed here
 * with DSAR_CREDENTIALS_KEY, and never printed.
 */
import { readFileSync } from 'node:fs';
import { Client, Connection, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ConfigError, loadClientConfig, loadCredentialKeys, type Env } from '../config.js';
import { createDataConverter } from '../codec/data-converter.js';
import { nudgeTenantErasures } from '../client.js';
import {
  addTenant,
  InvalidTenantError,
  listTenants,
  setTenantCredentials,
  tenantStatus,
  tenantStep,
  tenantUpdate,
  TenantExistsError,
} from '../tenants/client.js';
import { CredentialsError } from '../tenants/credentials.js';
import { tenantUsage, type TenantUsage } from '../tenants/usage.js';
import { ArgsError, commandHelp, parseCommand, type CommandSpec, type OptionSpec, type Values } from './args.js';
import { isTenantId, TENANT_ID_RULE, type StepAnswer, type TenantStatus } from '../tenants/model.js';

export const TENANT_USAGE = `dsar tenant: onboard a customer's Comeet account (sandbox check, then production)

  dsar tenant add <id> --name <name> --base-url <url> [--lookup <strategy>] [--rate-limit 100]
                  [--mode delete|pseudonymize] [--regulation gdpr|ccpa]
  dsar tenant set-credentials <id> --environment sandbox --api-key-file <f|-> --secret-file <f|->
  dsar tenant set-credentials <id> --environment production --api-key-file <f|-> [--secret-file <f|->]
                                        secrets come from files or stdin (-), never the command line
  dsar tenant validate <id> --environment sandbox --test-email <e> --position <uid>
                                        creates, finds and erases a test candidate in the SANDBOX
  dsar tenant go-live <id>              read-only check of the production key; live if it passes
                                        (also: a new production key of a live tenant takes over)
  dsar tenant pause|resume|offboard <id> [--reason <text>]
  dsar tenant show <id> [--json]
  dsar tenant list [--json]

Needs DSAR_CREDENTIALS_KEY (set-credentials) besides the Temporal settings; --actor <name> records who.
dsar tenant <command> --help shows a command's options.`;

const actor = { type: 'string', value: '<name>', help: 'who does this, recorded on the tenant (default: $DSAR_ACTOR or $USER)' } as const satisfies OptionSpec;
const reason = { type: 'string', value: '<text>', help: 'why, recorded on the tenant' } as const satisfies OptionSpec;
const ID_ARG = ['<id>'] as const;
const step = (name: string, summary: string) => ({ name: `tenant ${name}`, summary, args: ID_ARG, options: { reason, actor } }) as const satisfies CommandSpec;

/** What each `dsar tenant` command takes (parseCommand refuses the rest). */
export const TENANT_COMMANDS = {
  add: {
    name: 'tenant add',
    summary: "start onboarding a customer's Comeet account",
    usage: [
      'tenant add <id> --name <name> --base-url <url> [--lookup <strategy>] [--rate-limit 100]',
      '           [--mode delete|pseudonymize] [--regulation gdpr|ccpa]',
    ],
    args: ID_ARG,
    options: {
      name: { type: 'string', value: '<name>', help: "the customer's name (required)" },
      'base-url': { type: 'string', value: '<url>', help: 'their Comeet API, e.g. https://api.comeet.co (required)' },
      lookup: { type: 'string', value: '<strategy>', help: 'how candidates are found by email (default candidates-filter)' },
      'rate-limit': { type: 'string', value: '<per-minute>', help: "the account's Comeet limit (default 100)" },
      mode: { type: 'string', value: 'delete|pseudonymize', help: 'default mode of their erasures' },
      regulation: { type: 'string', value: 'gdpr|ccpa', help: 'default regulation of their erasures' },
      actor,
    },
  },
  'set-credentials': {
    name: 'tenant set-credentials',
    summary: 'seal and store a sandbox or production key (secrets from files or stdin, never argv)',
    usage: [
      'tenant set-credentials <id> --environment sandbox --api-key-file <f|-> --secret-file <f|->',
      'tenant set-credentials <id> --environment production --api-key-file <f|-> [--secret-file <f|->]',
    ],
    args: ID_ARG,
    options: {
      environment: { type: 'string', value: 'sandbox|production', help: 'which account the key is for (required)' },
      'api-key-file': { type: 'string', value: '<file|->', help: 'file holding the API key (- for stdin)' },
      'secret-file': { type: 'string', value: '<file|->', help: 'file holding the integration secret (- for stdin)' },
      actor,
    },
  },
  validate: {
    name: 'tenant validate',
    summary: 'creates, finds and erases a test candidate in the SANDBOX',
    usage: ['tenant validate <id> --environment sandbox --test-email <e> --position <uid>'],
    args: ID_ARG,
    options: {
      environment: { type: 'string', value: 'sandbox', help: 'the account checked (sandbox; production: go-live)' },
      'test-email': { type: 'string', value: '<address>', help: "the customer's test candidate address" },
      position: { type: 'string', value: '<uid>', help: 'an open position in the sandbox' },
      actor,
    },
  },
  'go-live': step('go-live', 'read-only check of the production key; live if it passes (also: a new key of a live tenant takes over)'),
  pause: step('pause', 'stop every Comeet call of the tenant; its requests wait'),
  resume: step('resume', 'go on after a pause (waiting requests are nudged)'),
  offboard: step('offboard', 'end the tenant: it takes no more erasures'),
  show: {
    name: 'tenant show',
    summary: 'step, settings, credentials, budget in use, requests by phase, at-risk count and events',
    args: ID_ARG,
    options: { json: { type: 'boolean', help: 'print JSON' } },
  },
  list: { name: 'tenant list', summary: 'every tenant and its step', options: { json: { type: 'boolean', help: 'print JSON' } } },
} as const satisfies Record<string, CommandSpec>;

type TenantCommand = keyof typeof TENANT_COMMANDS;
type AllValues = Values<(typeof TENANT_COMMANDS)['add']['options']> &
  Values<(typeof TENANT_COMMANDS)['set-credentials']['options']> &
  Values<(typeof TENANT_COMMANDS)['validate']['options']> &
  Values<(typeof TENANT_COMMANDS)['pause']['options']> &
  Values<(typeof TENANT_COMMANDS)['show']['options']>;

export interface TenantCliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  stdin?: () => string;
  env: Env;
}

class TenantUsageError extends Error {}

export async function runTenantCommand(argv: string[], io: TenantCliIo): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const about = args[0] !== undefined && Object.hasOwn(TENANT_COMMANDS, args[0]) ? TENANT_COMMANDS[args[0] as TenantCommand] : undefined;
    io.out(about ? commandHelp(about) : TENANT_USAGE);
    return command === undefined ? 2 : 0;
  }
  if (!Object.hasOwn(TENANT_COMMANDS, command)) {
    io.err(`unknown tenant command ${/^[a-z][a-z-]{0,30}$/.test(command) ? `"${command}"` : '(not shown)'}\n\n${TENANT_USAGE}`);
    return 2;
  }
  const spec: CommandSpec = TENANT_COMMANDS[command as TenantCommand];
  let parsed;
  try {
    parsed = parseCommand(spec, args);
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    io.err(err.message);
    return 2;
  }
  if (parsed.values.help) {
    io.out(commandHelp(spec));
    return 0;
  }
  const v = parsed.values as AllValues;
  const [id] = parsed.positionals;
  let connection: Connection | undefined;
  try {
    if (command !== 'list' && !isTenantId(id)) throw new TenantUsageError(`dsar tenant ${command} needs a tenant id: ${TENANT_ID_RULE}`);
    const tenant = id!;
    const config = loadClientConfig(io.env);
    const actor = v.actor ?? io.env.DSAR_ACTOR ?? io.env.USER ?? 'cli';
    const connect = async () => {
      connection = await Connection.connect(config.temporal.connection);
      return new Client({ connection, namespace: config.temporal.namespace, dataConverter: createDataConverter(config.encryption) });
    };
    const accepted = (what: string) => () => io.out(`Accepted: ${what} for tenant ${tenant}.`);
    const report = (a: StepAnswer) => {
      io.out(`Tenant ${tenant}: ${a.step}${a.ok === undefined ? '' : a.ok ? ' (check passed)' : ' (check FAILED)'}`);
      if (a.missing.length) io.out(`Missing:\n${a.missing.map((m) => `  - ${m}`).join('\n')}`);
      return a.ok === false ? 1 : 0;
    };
    switch (command) {
      case 'add': {
        const rate = v['rate-limit'] === undefined ? undefined : Number(v['rate-limit']);
        if (!v.name || !v['base-url']) throw new TenantUsageError('dsar tenant add needs --name and --base-url');
        const workflowId = await addTenant(
          await connect(),
          {
            id: tenant,
            name: v.name,
            baseUrl: v['base-url'],
            ...(v.lookup ? { lookup: v.lookup as never } : {}),
            ...(rate !== undefined ? { ratePerMinute: rate } : {}),
            policy: { ...(v.mode ? { mode: v.mode as never } : {}), ...(v.regulation ? { regulation: v.regulation as never } : {}) },
          },
          { taskQueue: config.TEMPORAL_TASK_QUEUE, actor },
        );
        io.out(
          `Added tenant ${tenant} (workflow ${workflowId}): awaiting_sandbox_credentials.\nNext: dsar tenant set-credentials ${tenant} --environment sandbox --api-key-file <f> --secret-file <f>`,
        );
        return 0;
      }
      case 'set-credentials': {
        const environment = v.environment;
        if (environment !== 'sandbox' && environment !== 'production') throw new TenantUsageError('--environment must be sandbox or production');
        if (!v['api-key-file']) throw new TenantUsageError('set-credentials needs --api-key-file <file> (or - for stdin)');
        if (environment === 'sandbox' && !v['secret-file'])
          throw new TenantUsageError('the sandbox needs the integration secret too: --secret-file <file> (or - for stdin)');
        if (v['api-key-file'] === '-' && v['secret-file'] === '-') throw new TenantUsageError('only one of --api-key-file and --secret-file can read stdin');
        const keys = loadCredentialKeys(io.env, { required: true, payloadKeys: config.encryption });
        const apiKey = readSecret(v['api-key-file'], 'API key', io);
        const secret = v['secret-file'] ? readSecret(v['secret-file'], 'secret', io) : undefined;
        const answer = await setTenantCredentials(
          await connect(),
          keys,
          tenant,
          environment,
          { apiKey, ...(secret ? { secret } : {}) },
          actor,
          accepted(`${environment} credentials`),
        );
        return report(answer);
      }
      case 'validate': {
        if (v.environment === 'production') throw new TenantUsageError(`the production check is part of going live: dsar tenant go-live ${tenant}`);
        if (v.environment !== 'sandbox') throw new TenantUsageError('dsar tenant validate needs --environment sandbox');
        if (!v['test-email'] || !v.position)
          throw new TenantUsageError("dsar tenant validate needs --test-email <the customer's test address> and --position <uid>");
        const client = await connect();
        io.out('Running the sandbox check (it creates a test candidate, finds it, erases it and checks it is gone)...');
        const answer = await tenantUpdate(
          client,
          tenant,
          'validateSandbox',
          { testEmail: v['test-email'], positionUid: v.position, actor },
          accepted('sandbox check'),
        );
        printCheck(await tenantStatus(client, tenant), io);
        return report(answer);
      }
      case 'go-live':
      case 'pause':
      case 'resume':
      case 'offboard': {
        const step = command === 'go-live' ? 'goLive' : command;
        const client = await connect();
        const answer = await tenantStep(client, tenant, step, { actor, ...(v.reason ? { reason: v.reason } : {}) }, accepted(command));
        if (step === 'goLive') printCheck(await tenantStatus(client, tenant), io);
        if (step === 'resume' && answer.step !== 'paused') {
          const nudged = await nudgeTenantErasures(client, tenant, actor);
          io.out(`Nudged ${nudged} waiting erasure(s) of ${tenant} to go on now.`);
        }
        return report(answer);
      }
      case 'show': {
        const client = await connect();
        const s = await tenantStatus(client, tenant);
        // What it uses is shown when Temporal can tell; the tenant's own status is the answer either way.
        const usage = await tenantUsage(client, { id: tenant, ratePerMinute: s.settings.ratePerMinute }, config.TEMPORAL_TASK_QUEUE).catch((err: unknown) => ({
          unavailable: causes(err),
        }));
        io.out(v.json ? JSON.stringify({ ...s, state: tenantState(s), usage }, null, 2) : formatTenant(s, usage));
        return 0;
      }
      case 'list': {
        const items = await listTenants(await connect());
        if (v.json) io.out(JSON.stringify(items, null, 2));
        else if (!items.length) io.out('No tenants.');
        else for (const i of items) io.out(`${i.id.padEnd(32)} ${(i.step ?? i.status).padEnd(30)} ${i.name ?? ''}`);
        return 0;
      }
    }
    return 2; // not reached: every command of TENANT_COMMANDS has its case
  } catch (err) {
    if (err instanceof TenantUsageError || err instanceof ConfigError || err instanceof InvalidTenantError || err instanceof CredentialsError) {
      io.err(err.message);
      return 2;
    }
    if (err instanceof TenantExistsError) {
      io.err(err.message);
      return 1;
    }
    if (err instanceof WorkflowNotFoundError) {
      io.err(`No tenant ${id} (see dsar tenant list), or it was offboarded.`);
      return 1;
    }
    if (err instanceof WorkflowUpdateFailedError) {
      io.err(`dsar tenant ${command} refused: ${err.cause?.message ?? err.message}`);
      return 1;
    }
    io.err(`dsar tenant ${command} failed: ${causes(err)}`);
    return 1;
  } finally {
    await connection?.close();
  }
}

/** The message with its causes: the SDK's wrappers say little ("Update failed", "Query failed"). */
function causes(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) parts.push(e.message);
  return parts.join(': ') || String(err);
}

function readSecret(file: string, what: string, io: TenantCliIo): string {
  let text: string;
  try {
    text = file === '-' ? (io.stdin ? io.stdin() : readFileSync(0, 'utf8')) : readFileSync(file, 'utf8');
  } catch {
    throw new TenantUsageError(`cannot read the ${what} from ${file === '-' ? 'stdin' : 'its file'}`);
  }
  const value = text.trim();
  if (!value) throw new TenantUsageError(`the ${what} ${file === '-' ? 'from stdin' : 'file'} is empty`);
  return value;
}

function printCheck(s: TenantStatus, io: TenantCliIo): void {
  const c = s.lastCheck;
  if (!c) return;
  io.out(`Last check (${c.environment}, ${c.at}): ${c.ok ? 'passed' : 'FAILED'}`);
  for (const i of c.items) io.out(`  ${i.status.padEnd(4)} ${i.title}${i.status === 'fail' && i.fix ? `\n       fix: ${i.fix}` : ''}`);
  if (c.lookupWorks.length) io.out(`  lookup works: ${c.lookupWorks.join(', ')}${c.recommendedLookup ? ` (recommended: ${c.recommendedLookup})` : ''}`);
}

/** Whether it takes erasures and calls Comeet: live, paused (requests wait), or not live (none taken). */
export function tenantState(s: TenantStatus): 'live' | 'paused' | 'not_live' {
  return s.step === 'live' ? 'live' : s.step === 'paused' ? 'paused' : 'not_live';
}

export function formatTenant(s: TenantStatus, usage?: TenantUsage | { unavailable: string }): string {
  const state = tenantState(s);
  const lines = [
    `Tenant ${s.id} (${s.name})`,
    `  state:       ${state === 'live' ? 'LIVE' : state === 'paused' ? 'PAUSED: no Comeet call is made; requests wait for the resume' : 'not live: takes no erasures'}`,
    `  step:        ${s.step}${s.pausedFrom ? ` (from ${s.pausedFrom})` : ''}`,
    `  base URL:    ${s.settings.baseUrl}   lookup: ${s.settings.lookup}   rate: ${s.settings.ratePerMinute}/min`,
    `  policy:      ${s.settings.policy.mode}, ${s.settings.policy.regulation}`,
    `  sandbox:     ${s.credentials.sandbox.set ? `credentials set (sealing key ${s.credentials.sandbox.keyId})` : 'no credentials'}${s.sandboxValidatedAt ? `, validated ${s.sandboxValidatedAt}` : ''}`,
    `  production:  ${s.credentials.production.set ? `key set (sealing key ${s.credentials.production.keyId})` : 'no key'}${s.credentials.production.staged ? ', a new key staged' : ''}${s.liveSince ? `, live since ${s.liveSince}` : ''}`,
  ];
  if (usage) lines.push(...formatUsage(usage));
  if (s.lookupWorks?.length) lines.push(`  lookup works: ${s.lookupWorks.join(', ')}`);
  if (s.missing.length) lines.push('  missing:', ...s.missing.map((m) => `    - ${m}`));
  if (s.lastCheck) lines.push(`  last check:  ${s.lastCheck.environment} ${s.lastCheck.ok ? 'passed' : 'FAILED'} at ${s.lastCheck.at}`);
  lines.push('  events:', ...s.events.slice(-20).map((e) => `    ${e.at}  ${e.kind.padEnd(26)} by ${e.actor}${e.detail ? `: ${e.detail}` : ''}`));
  return lines.join('\n');
}

function formatUsage(usage: TenantUsage | { unavailable: string }): string[] {
  if ('unavailable' in usage) return [`  budget:      unavailable (${usage.unavailable})`];
  const { budget: b, requests: r } = usage;
  const cap =
    b.capPerMinute !== undefined
      ? `${b.capPerMinute}/min of the account's ${b.ratePerMinute}/min (${b.percentOfLimit}%), set through the API${b.setBy ? ` by ${b.setBy}` : ''}${b.setAt ? ` at ${b.setAt}` : ''}${b.source === 'api' || b.source === 'system' ? '' : ` (but the server applies the ${b.source}'s rate)`}`
      : `no rate set through the API on ${b.taskQueue}: no worker has capped it yet (account limit ${b.ratePerMinute}/min)`;
  const lines = [
    `  budget:      ${cap}`,
    `               queue ${b.taskQueue}${b.backlog ? `, backlog ${b.backlog.count} task(s)${b.backlog.count ? `, oldest ${Math.round(b.backlog.ageSeconds)} s` : ''}` : ''}`,
  ];
  const phases = Object.entries(r.byPhase).map(([p, n]) => `${p} ${n}`);
  lines.push(`  requests:    ${r.running} running${phases.length ? ` (${phases.join(', ')})` : ''}; ${r.atRisk} at risk of missing their deadline`);
  return lines;
}
