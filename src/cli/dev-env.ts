/**
 * Dev mode writes the settings it generated (the workflow-id key, the simulator's address) to
 * `.data/dev.env`, so the CLI in another terminal talks to the same stack without any set-up.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../temporal-binaries.js';

export const DEV_DATA_DIR = join(PROJECT_ROOT, '.data');
export const DEV_ENV_FILE = join(DEV_DATA_DIR, 'dev.env');
export const DEV_JWKS_FILE = join(DEV_DATA_DIR, 'receipt-jwks.json');
export const DEV_DB_FILE = join(DEV_DATA_DIR, 'temporal.db');

/**
 * What every `.data/dev.env` beside a database has held: the workflow-id key (a new one gives the same
 * address a second request) and the payload keys (histories). Later keys (the credentials key came with
 * tenants) are made when missing, as before: a dev.env from before them has nothing sealed with them.
 */
const KEYS_OF_THE_DB = ['DSAR_ID_KEY', 'DSAR_ENCRYPTION_KEYS'] as const;

/**
 * Refuses to make new keys for a database written with others (dev.env deleted, say): none of its
 * requests would decode, and its tenants' sealed credentials, the dev tenant's too, would be lost with
 * the credentials key. A fresh start is the user's choice: moving the database aside.
 */
export function assertKeysOfTheDb(previous: Record<string, string>, dbExists: boolean): void {
  if (!dbExists) return;
  const missing = KEYS_OF_THE_DB.filter((k) => !previous[k]);
  if (missing.length === 0) return;
  throw new Error(
    `.data/temporal.db was written with the keys kept in .data/dev.env, and dev.env lacks ${missing.join(', ')}: new keys could not read ` +
      `its requests nor unseal its tenants' credentials. Restore .data/dev.env, or move the database aside to start afresh ` +
      `(mv .data/temporal.db .data/temporal.db.old).`,
  );
}

export function readDevEnv(file = DEV_ENV_FILE): Record<string, string> {
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

export function writeDevEnv(values: Record<string, string>, file = DEV_ENV_FILE): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );
}
