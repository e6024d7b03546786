/**
 * `npm run codec-server`: the codec server for operators, configured from the environment:
 * DSAR_ENCRYPTION_KEYS / DSAR_ENCRYPTION_KEY_ID (the worker's keys), DSAR_CODEC_TOKEN (24+ chars),
 * DSAR_CODEC_HOST (127.0.0.1), DSAR_CODEC_PORT (8081), DSAR_CODEC_CORS_ORIGINS (the Web UI's origins,
 * comma separated; default http://localhost:8233).
 */
import { z } from 'zod';
import { parseEncryptionKeys } from './aes-gcm.js';
import { startCodecServer } from './server.js';

const schema = z.object({
  DSAR_ENCRYPTION_KEYS: z.string({ message: 'is required (the same keys as the worker)' }),
  DSAR_ENCRYPTION_KEY_ID: z.string().optional(),
  DSAR_CODEC_TOKEN: z.string({ message: 'is required: a secret of 24+ characters operators use' }).min(24, 'must be at least 24 characters'),
  DSAR_CODEC_HOST: z.string().default('127.0.0.1'),
  DSAR_CODEC_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  DSAR_CODEC_CORS_ORIGINS: z.string().default('http://localhost:8233'),
});

const parsed = schema.safeParse(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== '')));
if (!parsed.success) {
  for (const i of parsed.error.issues) console.error(`${String(i.path[0])} ${i.message}`);
  process.exit(1);
}
const env = parsed.data;
let keys;
try {
  keys = parseEncryptionKeys(env.DSAR_ENCRYPTION_KEYS, env.DSAR_ENCRYPTION_KEY_ID);
} catch (err) {
  console.error(`DSAR_ENCRYPTION_KEYS ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
const server = await startCodecServer({
  host: env.DSAR_CODEC_HOST,
  port: env.DSAR_CODEC_PORT,
  keys,
  token: env.DSAR_CODEC_TOKEN,
  corsOrigins: env.DSAR_CODEC_CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean),
  log: (line) => console.log(line),
});
console.log(`Codec server on ${server.url}
  Web UI:  set the codec endpoint to ${server.url}/t/$DSAR_CODEC_TOKEN
  CLI:     temporal workflow show -w <id> --codec-endpoint ${server.url} --codec-auth "Bearer $DSAR_CODEC_TOKEN"`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void server.close().then(() => process.exit(0)));
