/**
 * `dsar`: the operator's command line. Starts erasures and steers them through the typed client
 * API; prints workflow ids, phases and uids, never the subject's email.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Client, Connection, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  CancelRefusedError,
  cancelErasure,
  erasureHandle,
  extendDeadline,
  getStatus,
  ErasureConflictError,
  InvalidErasureRequestError,
  listErasures,
  recheckNow,
  startErasure,
  startOptionsFromConfig,
} from '../client.js';
import { ConfigError, loadClientConfig, tuningFromConfig, type ClientConfig, type Env } from '../config.js';
import { createDataConverter } from '../codec/data-converter.js';
import { describeIssues } from '../describe-issues.js';
import { erasureRequestSchema, type ErasureInput } from '../erasure-request.js';
import { PHASES, type ErasureStatus } from '../erasure-status.js';
import { DsarTenant } from '../search-attributes.js';
import { comeetTaskQueue } from '../task-queues.js';
import { ensureTenantAccepts, TenantNotAcceptingError } from '../tenants/client.js';
import { isTenantId, TENANT_ID_RULE } from '../tenants/model.js';
import { generateReceiptKeys, ReceiptKeyError, ReceiptVerificationError, verifyReceipt } from '../receipt/index.js';
import { runSandboxCommand } from '../sandbox/cli.js';
import { describeQueueRate, type QueueRate } from '../rate-cap.js';
import { ArgsError, commandHelp, commandList, parseCommand, type CommandSpec, type OptionSpecs, type Parsed, type Values } from './args.js';
import { BulkStartRefusedError, eraseFromFile } from './bulk.js';
import { CANCEL, COMMANDS, ERASE, EXTEND_DEADLINE, LIST, OTHER_COMMANDS, RECEIPT, RECEIPT_KEYS, RECHECK, STATUS, VERIFY_RECEIPT } from './commands.js';
import { runTenantCommand } from './tenant.js';
import { readDevEnv } from './dev-env.js';

export const USAGE = `dsar: erase people from Comeet (GDPR/CCPA), durably, on Temporal

Usage: dsar <command> [options]     dsar <command> --help shows a command's options

Commands:
${commandList([...COMMANDS, ...OTHER_COMMANDS])}

Operator actions are recorded with --actor <name> (default: $DSAR_ACTOR or $USER).
Configuration comes from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE,
DSAR_ID_KEY, ...; the connection also from a temporal CLI profile, TEMPORAL_PROFILE); in dev mode,
from .data/dev.env written by \`npm run dev\`.
Exit codes: 0 done, 1 refused or failed, 2 bad usage, input or configuration.`;

/** Every command's values: an option has one type in every command that takes it. */
type AllValues = Values<typeof ERASE.options> &
  Values<typeof STATUS.options> &
  Values<typeof LIST.options> &
  Values<typeof RECHECK.options> &
  Values<typeof CANCEL.options> &
  Values<typeof EXTEND_DEADLINE.options> &
  Values<typeof RECEIPT.options> &
  Values<typeof VERIFY_RECEIPT.options> &
  Values<typeof RECEIPT_KEYS.options>;

/** A mistake the user can fix; printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  stdin?: () => string;
  env?: Env;
  /** stderr is a terminal: progress redraws one line instead of printing one every 10%. */
  isTTY?: boolean;
}

export async function runCli(argv: string[], io: CliIo = { out: console.log, err: console.error, isTTY: process.stderr.isTTY }): Promise<number> {
  const [first] = argv;
  // These talk to Comeet only: they need neither Temporal nor the id key, and parse their own flags.
  if (first === 'doctor' || first === 'sandbox-check') {
    const env = io.env ?? { ...readDevEnv(), ...process.env };
    return runSandboxCommand(first, argv.slice(1), { out: io.out, err: io.err, env, queueRate: () => comeetQueueRate(env) });
  }
  // Tenant commands have their own flags (secrets from files, never argv).
  if (first === 'tenant')
    return runTenantCommand(argv.slice(1), { out: io.out, err: io.err, stdin: io.stdin, env: io.env ?? { ...readDevEnv(), ...process.env } });
  if (first === undefined) {
    io.out(USAGE);
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const about = argv[1] === undefined ? undefined : COMMANDS.find((c) => c.name === argv[1]);
    if (argv[1] !== undefined && !about) return unknownCommand(argv[1], io);
    io.out(about ? commandHelp(about) : USAGE);
    return 0;
  }
  const spec = COMMANDS.find((c) => c.name === first);
  if (!spec) return unknownCommand(first, io);
  let parsed: Parsed<OptionSpecs>;
  try {
    parsed = parseCommand(spec as CommandSpec, argv.slice(1));
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
  const command = spec.name;
  const rest = parsed.positionals;
  if (command === 'verify-receipt') return verifyReceiptCommand(rest[0], v, io);
  if (command === 'receipt-keys') {
    const alg = v.alg ?? 'EdDSA';
    if (alg !== 'EdDSA' && alg !== 'ES256') {
      io.err('--alg must be EdDSA or ES256');
      return 2;
    }
    const k = await generateReceiptKeys(alg);
    io.out(`# Worker settings (keep the private key secret):\nDSAR_RECEIPT_KEY_ID=${k.keyId}\nDSAR_RECEIPT_ALG=${alg}\nDSAR_RECEIPT_KEY=${k.privateJwk}\n`);
    io.out(`# Public JWKS for auditors (dsar verify-receipt --jwks):\n${JSON.stringify(k.publicJwks, null, 2)}`);
    return 0;
  }
  let client: Client | undefined;
  let connection: Connection | undefined;
  try {
    const config = loadClientConfig(io.env ?? { ...readDevEnv(), ...process.env });
    const connect = async () => {
      connection = await Connection.connect(config.temporal.connection);
      client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: createDataConverter(config.encryption) });
      return client;
    };
    const actor = v.actor ?? process.env.DSAR_ACTOR ?? process.env.USER ?? 'cli';
    const id = () => {
      if (!rest[0]) throw new UsageError(`dsar ${command} needs a workflow id (see \`dsar list\`)`);
      return rest[0];
    };
    switch (command) {
      case 'erase':
        // Bad input gets its answer (exit 2) even when Temporal is down: validate before connecting.
        return await erase(connect, config, v, io);
      case 'status': {
        const status = await getStatus(await connect(), id());
        io.out(v.json ? JSON.stringify(status, null, 2) : formatStatus(id(), status));
        return 0;
      }
      case 'list': {
        if (v.phase && !(PHASES as readonly string[]).includes(v.phase)) throw new UsageError(`--phase must be one of ${PHASES.join(', ')}`);
        const limit = v.limit === undefined ? 100 : Number(v.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError('--limit must be a whole number from 1 to 10000');
        if (v.tenant !== undefined && !isTenantId(v.tenant)) throw new UsageError(`--tenant: ${TENANT_ID_RULE}`);
        const clauses = [
          v.tenant ? `${DsarTenant.name}="${v.tenant}"` : '',
          v.phase ? `DsarPhase="${v.phase}"` : '',
          v['at-risk'] ? 'DsarAtRisk=true' : '',
          v.query ? `(${v.query})` : '',
        ].filter(Boolean);
        const items = await listErasures(await connect(), clauses.join(' AND ') || undefined, limit);
        if (v.json) io.out(JSON.stringify(items, null, 2));
        else if (!items.length) io.out('No erasures match.');
        else
          for (const i of items)
            io.out(
              `${i.workflowId}  ${i.status.padEnd(10)} ${String(i.phase ?? '-').padEnd(22)} ${String(i.mode ?? '-').padEnd(12)} deadline ${i.deadline ?? '-'}${i.atRisk ? '  AT RISK' : ''}`,
            );
        return 0;
      }
      case 'recheck':
        await recheckNow(await connect(), id(), actor);
        io.out(`Re-check requested for ${id()}.`);
        return 0;
      case 'cancel': {
        if (!v.reason?.trim()) throw new UsageError('dsar cancel needs --reason <text>');
        try {
          const r = await cancelErasure(await connect(), id(), v.reason, actor);
          io.out(`Cancelled ${id()} (by ${r.actor} at ${r.at}); it ends with outcome cancelled, nothing erased.`);
          return 0;
        } catch (err) {
          if (!(err instanceof CancelRefusedError)) throw err;
          io.err(`Cancel refused for ${id()}: ${err.message}`);
          return 1;
        }
      }
      case 'receipt': {
        const handle = erasureHandle(await connect(), id());
        const d = await handle.describe();
        if (d.status.name !== 'COMPLETED') {
          io.err(`${id()} is ${d.status.name}: receipts exist for completed requests (outcome completed or no_data).`);
          return 1;
        }
        const r = await handle.result();
        if (!r.receipt) {
          io.err(`${id()} ended ${r.outcome} without a receipt (only completed and no_data outcomes are signed; see \`dsar status\`).`);
          return 1;
        }
        io.out(v.json ? JSON.stringify({ receipt: r.receipt, keyId: r.receiptKeyId }, null, 2) : r.receipt);
        return 0;
      }
      case 'extend-deadline': {
        if (!v.deadline) throw new UsageError('dsar extend-deadline needs --deadline <iso date-time>');
        const d = await extendDeadline(await connect(), id(), v.deadline, { reason: v.reason, actor });
        io.out(`Deadline of ${id()} is now ${d}.`);
        return 0;
      }
    }
    return 2; // not reached: every command of COMMANDS has its case
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof InvalidErasureRequestError) {
      io.err(err.message);
      return 2;
    }
    if (err instanceof WorkflowNotFoundError) {
      // Signalling a closed workflow also answers "not found": tell the two apart.
      const closed =
        client && rest[0]
          ? await erasureHandle(client, rest[0])
              .describe()
              .catch(() => undefined)
          : undefined;
      io.err(
        closed ? `The erasure ${rest[0]} already ended (${closed.status.name}); nothing to ${command}.` : 'No erasure with that workflow id (see `dsar list`).',
      );
      return 1;
    }
    if (err instanceof TenantNotAcceptingError) {
      io.err(`dsar ${command} refused (${err.code}): ${err.message}`);
      return 1;
    }
    if (err instanceof ErasureConflictError) {
      io.err(`dsar ${command} refused (${err.code}): ${err.message}`);
      return 1;
    }
    if (err instanceof WorkflowUpdateFailedError) {
      // The validator's reason is what the operator needs, not the wrapper's "Update failed".
      io.err(`dsar ${command} refused: ${err.cause?.message ?? err.message}`);
      return 1;
    }
    io.err(`dsar ${command} failed: ${err instanceof Error ? err.message : err}`);
    return 1;
  } finally {
    await connection?.close();
  }
}

async function erase(connect: () => Promise<Client>, config: ClientConfig, v: AllValues, io: CliIo): Promise<number> {
  const startOptions = startOptionsFromConfig(config, tuningFromConfig(config));
  if (v.tenant !== undefined && !isTenantId(v.tenant)) throw new UsageError(`--tenant: ${TENANT_ID_RULE}`);
  const tenant = v.tenant;
  if (v.file !== undefined) {
    return eraseFromFile(v, io, async () => {
      const client = await connect();
      // Once for the file, not once a row: an unknown or not-live tenant starts nothing.
      if (tenant) {
        try {
          await ensureTenantAccepts(client, tenant);
        } catch (err) {
          if (err instanceof TenantNotAcceptingError) throw new BulkStartRefusedError(`${err.message} (${err.code})`);
          throw err;
        }
      }
      return (request) => startErasure(client, { ...request, ...(tenant ? { tenant } : {}) }, startOptions);
    });
  }
  const bulkOnly = (['skip-invalid', 'concurrency', 'out'] as const).filter((f) => v[f] !== undefined);
  if (bulkOnly.length) throw new UsageError(`${bulkOnly.map((f) => `--${f}`).join(', ')} can only be used with --file`);
  let email = v.email as string | undefined;
  if (v['email-stdin']) email = (io.stdin ?? (() => readFileSync(0, 'utf8')))().trim();
  if (!email) throw new UsageError('dsar erase needs --email <address>, --email-stdin or --file <subjects.csv>');
  const request: ErasureInput = {
    ...(v.tenant !== undefined ? { tenant: v.tenant as string } : {}),
    email,
    ...(tenant ? { tenant } : {}),
    mode: v.mode as never,
    regulation: v.regulation as never,
    requestId: v['request-id'] as string | undefined,
    receivedAt: v['received-at'] as string | undefined,
    deadline: v.deadline as string | undefined,
    dryRun: Boolean(v['dry-run']),
  };
  const checked = erasureRequestSchema.safeParse(request);
  if (!checked.success) throw new InvalidErasureRequestError(`Invalid erasure request: ${describeIssues(checked.error)}`);
  const client = await connect();
  const started = await startErasure(client, request, startOptions);
  const what = {
    started: 'Started erasure',
    attached: 'Joined the erasure already running',
    replayed: `This request is already on the erasure (${started.runStatus})`,
    queued: 'Queued after the dry run under way; it starts as soon as that ends, under',
  }[started.status];
  io.out(`${what} ${started.workflowId} (run ${started.runId}).`);
  io.out(`Watch it: dsar status ${started.workflowId}  ·  temporal workflow describe -w ${started.workflowId}`);
  if (!v.wait) return 0;
  const result = await erasureHandle(client, started.workflowId).result();
  io.out(
    v.json
      ? JSON.stringify(result, null, 2)
      : `Outcome: ${result.outcome}; ${result.totals.persons} person(s), ${result.totals.candidates} candidate(s) ${result.mode === 'delete' ? 'deleted' : 'pseudonymized'}; verified absent at ${result.verifiedAbsentAt ?? '-'}.`,
  );
  return 0;
}

function unknownCommand(name: string, io: CliIo): number {
  // The first word may be anything, an address included: echo it only when it looks like a command.
  const what = name.startsWith('-')
    ? 'the command comes first, then its options'
    : `unknown command ${/^[a-z][a-z-]{0,30}$/.test(name) ? `"${name}"` : '(not shown)'}`;
  io.err(`dsar: ${what}\n\n${USAGE}`);
  return 2;
}

async function verifyReceiptCommand(file: string | undefined, v: AllValues, io: CliIo): Promise<number> {
  const jwksFile = v.jwks;
  const keyFile = v['public-key'];
  if (!file || (!jwksFile && !keyFile) || (jwksFile && keyFile)) {
    io.err('usage: dsar verify-receipt <receipt file, or - for stdin> (--jwks <jwks.json> | --public-key <key.pem|jwk.json>)');
    return 2;
  }
  let jws: string;
  let key: { jwks: string } | { publicKey: string };
  try {
    jws = file === '-' ? (io.stdin ?? (() => readFileSync(0, 'utf8')))() : readFileSync(file, 'utf8');
    key = jwksFile ? { jwks: readFileSync(jwksFile, 'utf8') } : { publicKey: readFileSync(keyFile!, 'utf8') };
  } catch (err) {
    io.err(`cannot read ${(err as { path?: string }).path ?? 'the file'}: ${(err as { code?: string }).code ?? err}`);
    return 2;
  }
  try {
    const { receipt, header } = await verifyReceipt(jws, key);
    io.out(
      v.json
        ? JSON.stringify({ valid: true, header, receipt }, null, 2)
        : `VALID receipt, signed by key ${header.kid} (${header.alg}) at ${receipt.issuedAt}\n` +
            `  ${receipt.outcome}: ${receipt.totals.persons} person(s), ${receipt.totals.candidates} candidate(s) ${receipt.mode === 'delete' ? 'deleted' : 'pseudonymized'}; absence verified ${receipt.verifiedAbsentAt}\n` +
            `  workflow ${receipt.workflowId} run ${receipt.runId}${receipt.requestId ? `, request ${receipt.requestId}` : ''}, ${receipt.regulation.toUpperCase()} deadline ${receipt.deadline}\n` +
            receipt.persons.map((p) => `  person ${p.personUid}: ${p.candidateUids.join(', ') || '(already gone)'}`).join('\n'),
    );
    return 0;
  } catch (err) {
    if (err instanceof ReceiptVerificationError) {
      io.err(`INVALID receipt (${err.code}): ${err.message}`);
      return 1;
    }
    if (err instanceof ReceiptKeyError) {
      io.err(`Cannot use that key: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

export function formatStatus(workflowId: string, s: ErasureStatus): string {
  const lines = [
    `${workflowId}: ${s.phase}${s.dryRun ? ' (dry run)' : ''}`,
    `  mode ${s.mode}, ${s.regulation.toUpperCase()}, received ${s.receivedAt}, deadline ${s.deadline}${s.atRisk ? `  AT RISK: ${s.atRiskReason}` : ''}`,
    `  lookups ${s.lookups}, erase attempts ${s.eraseAttempts}${s.nextCheckAt ? `, next re-check ${s.nextCheckAt}` : ''}`,
  ];
  if (s.requestId) lines.push(`  request ${s.requestId}`);
  if (s.attention)
    lines.push(
      `  NEEDS ATTENTION (${s.attention.code}): ${s.attention.reason}${s.attention.permission ? `\n    grant the Comeet permission "${s.attention.permission}"` : ''}\n    retries by itself at ${s.attention.nextRetryAt}, or now with \`dsar recheck ${workflowId}\``,
    );
  for (const p of s.persons) {
    lines.push(
      `  person ${p.personUid}: ${p.state}; candidates ${p.candidateUids.join(', ')}${p.blockingCandidateUids.length ? `; blocked by ${p.blockingCandidateUids.join(', ')}` : ''}${p.nextCheckAt ? `; re-check ${p.nextCheckAt}` : ''}`,
    );
  }
  if (s.failure) lines.push(`  failure: ${s.failure}`);
  if (s.cancellation) lines.push(`  cancelled by ${s.cancellation.actor}: ${s.cancellation.reason}`);
  lines.push('  recent events:');
  for (const e of s.events.slice(-8)) lines.push(`    ${e.at} ${e.kind}${e.detail ? `: ${e.detail}` : ''}${e.actor !== 'workflow' ? ` (by ${e.actor})` : ''}`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}

/** The Comeet queue's rate for `dsar doctor`, when the Temporal settings are there (else undefined). */
async function comeetQueueRate(env: Env): Promise<{ taskQueue: string; rate: QueueRate } | undefined> {
  let config: ClientConfig;
  try {
    config = loadClientConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return undefined;
    throw err;
  }
  const connection = await Connection.connect({ ...config.temporal.connection, connectTimeout: 5000 });
  try {
    const taskQueue = comeetTaskQueue(config.TEMPORAL_TASK_QUEUE);
    return { taskQueue, rate: await describeQueueRate(connection.workflowService, config.temporal.namespace, taskQueue) };
  } finally {
    await connection.close();
  }
}
