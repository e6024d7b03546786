/**
 * Builds the production workflow bundles: the workflow code with the failure converter that encodes
 * failure messages (the same one `createDataConverter` names), as a single file a worker loads with
 * `workflowBundle: { codePath }` instead of running webpack at every start-up. Two of them, from the
 * same sources: the plain one (DSAR_WORKFLOW_BUNDLE) and one that also holds the OpenTelemetry
 * workflow interceptors (DSAR_WORKFLOW_BUNDLE_TRACING), which a worker with tracing on needs: a
 * prebuilt bundle cannot take interceptor modules at start-up, and the plain one must not carry
 * them (they would call a span sink that a worker without tracing does not register).
 *
 *   npm run build:workflows                         # dist/workflow-bundle.js and dist/workflow-bundle-tracing.js
 *   npm run build:workflows -- /path/bundle.js      # only the plain one, somewhere else
 *   npm run build:workflows -- --tracing /path.js   # only the tracing one
 *
 * `npm run build` runs the compiled dist/build-workflow-bundle.js, so the bundles are made of the
 * JavaScript the image ships. Rebuild them whenever src/workflows (or anything it imports) changes:
 * a worker runs the bundle it is given.
 */
import { mkdirSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from './codec/data-converter.js';
import { tracingBundlerPlugin } from './observability.js';
import { PROJECT_ROOT } from './temporal-binaries.js';
import { WORKFLOWS_PATH } from './worker.js';

export const DEFAULT_BUNDLE_PATH = join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');
export const DEFAULT_TRACING_BUNDLE_PATH = join(PROJECT_ROOT, 'dist', 'workflow-bundle-tracing.js');

export interface BuiltBundle {
  path: string;
  bytes: number;
  ms: number;
}

export interface BundleBuildOptions {
  /** With the OpenTelemetry workflow interceptors, for a worker with tracing on. */
  tracing?: boolean;
}

/** Bundles the workflows with the production failure converter and writes the code to `outPath`. */
export async function buildWorkflowBundle(outPath: string = DEFAULT_BUNDLE_PATH, options: BundleBuildOptions = {}): Promise<BuiltBundle> {
  const started = performance.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('WARN'),
    // The tracing plugin adds its workflow interceptor modules itself (its configureBundler), the
    // ones it would add to a worker that bundles at start-up.
    ...(options.tracing ? { plugins: [await tracingBundlerPlugin()] } : {}),
  });
  const path = resolve(outPath);
  mkdirSync(dirname(path), { recursive: true });
  // Written next to the target, then renamed: a worker never sees half a bundle.
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, code);
  renameSync(partial, path);
  return { path, bytes: Buffer.byteLength(code), ms: Math.round(performance.now() - started) };
}

const USAGE =
  'usage: npm run build:workflows [-- [<plain bundle path>] [--tracing <tracing bundle path>]]\n  (no paths: dist/workflow-bundle.js and dist/workflow-bundle-tracing.js)';

/** The command line: which bundles to build where. Throws on a usage error. */
export function bundleTargets(argv: string[]): { path: string; tracing: boolean }[] {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { tracing: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return [];
  if (positionals.length > 1) throw new Error(`one plain bundle path at most, got ${positionals.length}`);
  if (positionals.length === 0 && values.tracing === undefined) {
    return [
      { path: DEFAULT_BUNDLE_PATH, tracing: false },
      { path: DEFAULT_TRACING_BUNDLE_PATH, tracing: true },
    ];
  }
  return [...positionals.map((path) => ({ path, tracing: false })), ...(values.tracing !== undefined ? [{ path: values.tracing, tracing: true }] : [])];
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isMainModule()) {
  let targets: { path: string; tracing: boolean }[];
  try {
    targets = bundleTargets(process.argv.slice(2));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : err}\n${USAGE}`);
    process.exit(2);
  }
  if (targets.length === 0) {
    console.error(USAGE);
    process.exit(0);
  }
  try {
    // One after the other: each webpack run takes a CPU and a few hundred MB.
    for (const target of targets) {
      const built = await buildWorkflowBundle(target.path, { tracing: target.tracing });
      const rel = relative(process.cwd(), built.path);
      const shown = rel && !rel.startsWith('..') ? rel : built.path;
      console.log(`Workflow bundle${target.tracing ? ' (tracing)' : ''} ${shown}: ${(built.bytes / 1024).toFixed(0)} KiB in ${(built.ms / 1000).toFixed(1)}s`);
    }
  } catch (err) {
    console.error('Could not build the workflow bundle:', err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
