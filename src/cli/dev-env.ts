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
