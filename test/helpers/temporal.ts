/** Real Temporal servers for tests: the dev server (createLocal) or the time-skipping server. */
import { afterAll, beforeAll } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { registerSearchAttributes } from '../../src/client.js';
import { FAILURE_CONVERTER_PATH } from '../../src/codec/data-converter.js';
import { SEARCH_ATTRIBUTES } from '../../src/search-attributes.js';
import { DEV_SERVER_DYNAMIC_CONFIG, INSTALL_HINT, resolveTemporalCli, resolveTestServer } from '../../src/temporal-binaries.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';

let runtimeInstalled = false;
/** Quiet the SDK to warnings, once per process, before anything else touches the runtime. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by another file in this process.
  }
}

async function withHint<T>(what: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw new Error(`Could not start the ${what}: ${err instanceof Error ? err.message : err}\n${INSTALL_HINT}`, { cause: err });
  }
}

/** `extraArgs`: more `temporal server start-dev` flags, e.g. dynamic config only one test file needs. */
export function startDevServer(extraArgs: string[] = []): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const { executable } = resolveTemporalCli();
  return withHint('Temporal dev server', () =>
    TestWorkflowEnvironment.createLocal({
      server: { executable, searchAttributes: [...SEARCH_ATTRIBUTES], extraArgs: ['--log-level', 'error', ...DEV_SERVER_DYNAMIC_CONFIG, ...extraArgs] },
    }),
  );
}

export function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const { executable } = resolveTestServer();
  return withHint('Temporal time-skipping test server', async () => {
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
    await registerSearchAttributes(env.connection, env.namespace ?? 'default');
    return env;
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** One workflow bundle per test file: webpack takes seconds, workers then start in milliseconds. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  return bundle;
}

let encryptedBundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The bundle for workers with the encrypting data converter (its failure converter runs in the sandbox). */
export function encryptedWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  encryptedBundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, failureConverterPath: FAILURE_CONVERTER_PATH, logger: new DefaultLogger('WARN') });
  return encryptedBundle;
}

/** A task queue per test, derived from its title as the SDK's own tests do. */
export function taskQueueFor(title: string): string {
  return `test-${title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 60)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A dev server for one test file: started (with the workflow bundle built) before its tests, torn
 * down after them; `onStarted` receives it.
 */
export function useDevServer(onStarted: (env: TestWorkflowEnvironment) => void): void {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await startDevServer();
    onStarted(env);
    await workflowBundle();
  });
  afterAll(async () => {
    await env?.teardown();
  });
}
