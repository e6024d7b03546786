/**
 * `npm run intake`: the HTTP intake API as a process. Config from the environment (see README):
 * the client settings (TEMPORAL_*, DSAR_ENCRYPTION_KEYS, DSAR_ID_KEY) plus DSAR_INTAKE_TOKENS,
 * DSAR_INTAKE_ADMIN_TOKENS, DSAR_INTAKE_DRY_RUNS_PER_HOUR, DSAR_INTAKE_BIND, DSAR_CALLBACK_HOSTS and DSAR_CALLBACK_ALLOW_NETWORKS. Logs one JSON line per request, without bodies.
 */
import { Client, Connection } from '@temporalio/client';
import { startOptionsFromConfig } from '../client.js';
import { createDataConverter } from '../codec/data-converter.js';
import { ConfigError, loadIntakeConfig, splitHostPort, tuningFromConfig, type IntakeConfig } from '../config.js';
import { createLogger } from '../logging.js';
import { startIntakeServer } from './server.js';

let config: IntakeConfig;
try {
  config = loadIntakeConfig();
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}

const logger = createLogger({ format: config.DSAR_LOG_FORMAT, level: config.DSAR_LOG_LEVEL, base: { service: 'intake' } });
const { host, port } = splitHostPort(config.DSAR_INTAKE_BIND ?? '0.0.0.0:8088');
const connection = await Connection.connect(config.temporal.connection);
const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: createDataConverter(config.encryption) });
const server = await startIntakeServer({
  client,
  start: startOptionsFromConfig(config, tuningFromConfig(config)),
  tokens: [...config.DSAR_INTAKE_TOKENS, ...(config.DSAR_INTAKE_ADMIN_TOKENS ?? []).map((t) => ({ ...t, admin: true }))],
  dryRunsPerHour: config.DSAR_INTAKE_DRY_RUNS_PER_HOUR,
  allowedCallbackHosts: config.DSAR_CALLBACK_HOSTS ?? [],
  allowedCallbackNetworks: config.DSAR_CALLBACK_ALLOW_NETWORKS ?? [],
  host,
  port,
  log: (entry) => logger.log(entry.status >= 500 ? 'ERROR' : 'INFO', 'intake request', { ...entry }),
});
logger.info(`Intake API listening on ${server.url}`, { taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.temporal.namespace });

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void server
      .close()
      .then(() => connection.close())
      .then(() => process.exit(0));
  });
}
