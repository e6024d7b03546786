/**
 * Builds the production workflow bundle: the workflow code with the failure converter that encodes
 * failure messages (the same one `createDataConverter` names), as a single file a worker loads with
 * `workflowBundle: { codePath }` instead of running webpack at every start-up.
 *
 *   npm run build:workflows                     # writes dist/workflow-bundle.js
 *   npm run build:workflows -- /path/bundle.js  # somewhere else
 *
 * The Docker image runs it at build time and points DSAR_WORKFLOW_BUNDLE at the result. Rebuild it
 * whenever src/workflows (or anything it imports) changes: a worker runs the bundle it is given.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../src/codec/data-converter.js';
import { PROJECT_ROOT } from '../src/temporal-binaries.js';
import { WORKFLOWS_PATH } from '../src/worker.js';

export const DEFAULT_BUNDLE_PATH = join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');

export interface BuiltBundle {
  path: string;
  bytes: number;
  ms: number;
}

/** Bundles the workflows with the production failure converter and writes the code to `outPath`. */
export async function buildWorkflowBundle(outPath: string = DEFAULT_BUNDLE_PATH): Promise<BuiltBundle> {
  const started = performance.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('WARN'),
  });
  const path = resolve(outPath);
  mkdirSync(dirname(path), { recursive: true });
  // Written next to the target, then renamed: a worker never sees half a bundle.
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, code);
  renameSync(partial, path);
  return { path, bytes: Buffer.byteLength(code), ms: Math.round(performance.now() - started) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  if (args.length > 1 || args.some((a) => a === '-h' || a === '--help')) {
    console.error('usage: npm run build:workflows [-- <output path, default dist/workflow-bundle.js>]');
    process.exit(args.length > 1 ? 2 : 0);
  }
  try {
    const built = await buildWorkflowBundle(args[0]);
    const rel = relative(process.cwd(), built.path);
    const shown = rel && !rel.startsWith('..') ? rel : built.path;
    console.log(`Workflow bundle ${shown}: ${(built.bytes / 1024).toFixed(0)} KiB in ${(built.ms / 1000).toFixed(1)}s`);
  } catch (err) {
    console.error('Could not build the workflow bundle:', err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
