/**
 * `npm run codec-server`: the codec server for operators, configured from the environment
 * (src/config.ts loadCodecConfig): DSAR_ENCRYPTION_KEYS / DSAR_ENCRYPTION_KEY_ID (the worker's keys),
 * DSAR_CODEC_TOKEN (24+ chars), DSAR_CODEC_BIND (127.0.0.1:8081; DSAR_CODEC_HOST / DSAR_CODEC_PORT still
 * read), DSAR_CODEC_CORS_ORIGINS (the Web UI's origins, comma separated; default http://localhost:8233).
 */
import { ConfigError, loadCodecConfig, type CodecConfig } from '../config.js';
import { createLogger } from '../logging.js';
import { startCodecServer } from './server.js';

let config: CodecConfig;
try {
  config = loadCodecConfig();
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
const logger = createLogger({ ...config.log, base: { service: 'codec-server' } });
const server = await startCodecServer({
  host: config.host,
  port: config.port,
  keys: config.encryption,
  token: config.token,
  corsOrigins: config.corsOrigins,
  log: (line) => logger.info(line),
});
logger.info(`Codec server on ${server.url}`, {
  webUi: `set the codec endpoint to ${server.url}/t/$DSAR_CODEC_TOKEN`,
  cli: `temporal workflow show -w <id> --codec-endpoint ${server.url} --codec-auth "Bearer $DSAR_CODEC_TOKEN"`,
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void server.close().then(() => process.exit(0)));
