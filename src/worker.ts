/**
 * The worker: config → Comeet client → activities → Temporal connection → worker → run.
 * The SDK traps SIGINT/SIGTERM and drains in-flight tasks before `run()` resolves.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { createDataConverter } from './codec/data-converter.js';
import { ComeetClient } from './comeet/index.js';
import { comeetClientOptions, ConfigError, loadWorkerConfig, type WorkerConfig } from './config.js';
import { loadReceiptSigner, ReceiptKeyError, type ReceiptSigner } from './receipt/index.js';
import { connectionOptions } from './connection.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface ErasureWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  comeet: ComeetClient;
  /** Signs proofs of erasure. */
  receipts: ReceiptSigner;
  /** A prebuilt bundle (bundleWorkflowCode) starts faster and is what tests share between workers. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Payload codec and failure converter; production always passes the encrypting one. */
  dataConverter?: WorkerOptions['dataConverter'];
  /** Extra worker options (tuning, interceptors, identity). */
  overrides?: Partial<WorkerOptions>;
}

export function createErasureWorker(options: ErasureWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities({ comeet: options.comeet, receipts: options.receipts }),
    dataConverter: options.dataConverter,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...options.overrides,
  });
}

/** Runs a worker until SIGINT/SIGTERM; used by `npm run worker` and the dev mode. */
export async function runWorker(config: WorkerConfig, receipts: ReceiptSigner, signal?: AbortSignal): Promise<void> {
  const comeet = new ComeetClient(comeetClientOptions(config));
  const connection = await NativeConnection.connect(connectionOptions(config));
  try {
    const worker = await createErasureWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      comeet,
      receipts,
      dataConverter: createDataConverter(config.encryption),
    });
    signal?.addEventListener('abort', () => worker.shutdown(), { once: true });
    console.log(
      `Worker polling task queue "${config.TEMPORAL_TASK_QUEUE}" on ${config.TEMPORAL_ADDRESS} (namespace ${config.TEMPORAL_NAMESPACE}); ` +
        `lookup strategy ${config.COMEET_LOOKUP}; payload key ${config.encryption.currentKeyId}; receipt key ${receipts.keyId}`,
    );
    await worker.run();
  } finally {
    await connection.close();
    await comeet.close();
  }
}

/** The receipt key is required: a worker that cannot prove its erasures should not run. */
export async function loadRequiredReceiptSigner(env: Record<string, string | undefined>): Promise<ReceiptSigner> {
  const signer = await loadReceiptSigner(env);
  if (!signer) {
    throw new ConfigError([
      'DSAR_RECEIPT_KEY is required: the private key (JWK JSON or PKCS#8 PEM) that signs proofs of erasure, with DSAR_RECEIPT_KEY_ID; make one with `npm run dsar -- receipt-keys`',
    ]);
  }
  return signer;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let config: WorkerConfig;
  let receipts: ReceiptSigner;
  try {
    config = loadWorkerConfig();
    receipts = await loadRequiredReceiptSigner(process.env);
  } catch (err) {
    console.error(err instanceof ConfigError || err instanceof ReceiptKeyError ? err.message : err);
    process.exit(1);
  }
  runWorker(config, receipts).catch((err) => {
    console.error('Worker stopped:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
