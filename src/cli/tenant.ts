/**
 * `dsar tenant …`: onboarding a customer's Comeet account (seed 000) through its durable workflow.
 * Secrets are read from files or standard input, never from argv (visible in `ps`), sealed here
 * with DSAR_CREDENTIALS_KEY, and never printed.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ConfigError, loadClientConfig, loadCredentialKeys, type Env } from '../config.js';
import { createDataConverter } from '../codec/data-converter.js';
import { nudgeTenantErasures } from '../client.js';
import { addTenant, InvalidTenantError, listTenants, setTenantCredentials, tenantStatus, tenantStep, tenantUpdate, TenantExistsError } from '../tenants/client.js';
import { CredentialsError } from '../tenants/credentials.js';
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

Needs DSAR_CREDENTIALS_KEY (set-credentials) besides the Temporal settings; --actor <name> records who.`;

const OPTIONS = {
  name: { type: 'string' },
  'base-url': { type: 'string' },
  lookup: { type: 'string' },
  'rate-limit': { type: 'string' },
  mode: { type: 'string' },
  regulation: { type: 'string' },
  environment: { type: 'string' },
  'api-key-file': { type: 'string' },
  'secret-file': { type: 'string' },
  'test-email': { type: 'string' },
  position: { type: 'string' },
  reason: { type: 'string' },
  actor: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface TenantCliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  stdin?: () => string;
  env: Env;
}

class TenantUsageError extends Error {}

export async function runTenantCommand(argv: string[], io: TenantCliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : err}\n\n${TENANT_USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const [command, id] = positionals;
  if (v.help || !command) {
    io.out(TENANT_USAGE);
    return command || v.help ? 0 : 2;
  }
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
        io.out(`Added tenant ${tenant} (workflow ${workflowId}): awaiting_sandbox_credentials.\nNext: dsar tenant set-credentials ${tenant} --environment sandbox --api-key-file <f> --secret-file <f>`);
        return 0;
      }
      case 'set-credentials': {
        const environment = v.environment;
        if (environment !== 'sandbox' && environment !== 'production') throw new TenantUsageError('--environment must be sandbox or production');
        if (!v['api-key-file']) throw new TenantUsageError('set-credentials needs --api-key-file <file> (or - for stdin)');
        if (environment === 'sandbox' && !v['secret-file']) throw new TenantUsageError('the sandbox needs the integration secret too: --secret-file <file> (or - for stdin)');
        if (v['api-key-file'] === '-' && v['secret-file'] === '-') throw new TenantUsageError('only one of --api-key-file and --secret-file can read stdin');
        const keys = loadCredentialKeys(io.env, { required: true, payloadKeys: config.encryption });
        const apiKey = readSecret(v['api-key-file'], 'API key', io);
        const secret = v['secret-file'] ? readSecret(v['secret-file'], 'secret', io) : undefined;
        const answer = await setTenantCredentials(await connect(), keys, tenant, environment, { apiKey, ...(secret ? { secret } : {}) }, actor, accepted(`${environment} credentials`));
        return report(answer);
      }
      case 'validate': {
        if (v.environment === 'production') throw new TenantUsageError(`the production check is part of going live: dsar tenant go-live ${tenant}`);
        if (v.environment !== 'sandbox') throw new TenantUsageError('dsar tenant validate needs --environment sandbox');
        if (!v['test-email'] || !v.position) throw new TenantUsageError('dsar tenant validate needs --test-email <the customer\'s test address> and --position <uid>');
        const client = await connect();
        io.out('Running the sandbox check (it creates a test candidate, finds it, erases it and checks it is gone)...');
        const answer = await tenantUpdate(client, tenant, 'validateSandbox', { testEmail: v['test-email'], positionUid: v.position, actor }, accepted('sandbox check'));
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
        const s = await tenantStatus(await connect(), tenant);
        io.out(v.json ? JSON.stringify(s, null, 2) : formatTenant(s));
        return 0;
      }
      case 'list': {
        const items = await listTenants(await connect());
        if (v.json) io.out(JSON.stringify(items, null, 2));
        else if (!items.length) io.out('No tenants.');
        else for (const i of items) io.out(`${i.id.padEnd(32)} ${(i.step ?? i.status).padEnd(30)} ${i.name ?? ''}`);
        return 0;
      }
      default:
        throw new TenantUsageError(`unknown tenant command "${command}"\n\n${TENANT_USAGE}`);
    }
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

export function formatTenant(s: TenantStatus): string {
  const lines = [
    `Tenant ${s.id} (${s.name})`,
    `  step:        ${s.step}${s.pausedFrom ? ` (from ${s.pausedFrom})` : ''}`,
    `  base URL:    ${s.settings.baseUrl}   lookup: ${s.settings.lookup}   rate: ${s.settings.ratePerMinute}/min`,
    `  policy:      ${s.settings.policy.mode}, ${s.settings.policy.regulation}`,
    `  sandbox:     ${s.credentials.sandbox.set ? `credentials set (sealing key ${s.credentials.sandbox.keyId})` : 'no credentials'}${s.sandboxValidatedAt ? `, validated ${s.sandboxValidatedAt}` : ''}`,
    `  production:  ${s.credentials.production.set ? `key set (sealing key ${s.credentials.production.keyId})` : 'no key'}${s.credentials.production.staged ? ', a new key staged' : ''}${s.liveSince ? `, live since ${s.liveSince}` : ''}`,
  ];
  if (s.lookupWorks?.length) lines.push(`  lookup works: ${s.lookupWorks.join(', ')}`);
  if (s.missing.length) lines.push('  missing:', ...s.missing.map((m) => `    - ${m}`));
  if (s.lastCheck) lines.push(`  last check:  ${s.lastCheck.environment} ${s.lastCheck.ok ? 'passed' : 'FAILED'} at ${s.lastCheck.at}`);
  lines.push('  events:', ...s.events.slice(-20).map((e) => `    ${e.at}  ${e.kind.padEnd(26)} by ${e.actor}${e.detail ? `: ${e.detail}` : ''}`));
  return lines.join('\n');
}
