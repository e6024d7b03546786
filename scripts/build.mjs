#!/usr/bin/env node
/**
 * `npm run build`: the production build in dist/, what the Docker image runs.
 *   1. src/ compiled by tsc (tsconfig.build.json) to dist/, same layout (dist/worker.js, dist/cli/main.js…);
 *   2. the data files the code reads at run time (src/**\/*.json: the simulator's demo data) copied beside it;
 *   3. the workflow bundles built by the compiled dist/build-workflow-bundle.js, from that same JavaScript.
 * Plain Node (no tsx), so it runs wherever `npm ci` has installed the dev dependencies.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
const started = performance.now();

function step(what, args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build: ${what} failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
}

// A file removed from src/ must not live on in dist/.
rmSync(dist, { recursive: true, force: true });
step('tsc', [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
cpSync(src, dist, { recursive: true, filter: (from) => statSync(from).isDirectory() || from.endsWith('.json') });
step('the workflow bundles', [join(dist, 'build-workflow-bundle.js')]);

function size(dir) {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = size(path);
      bytes += sub.bytes;
      files += sub.files;
    } else {
      bytes += statSync(path).size;
      files += 1;
    }
  }
  return { bytes, files };
}
const total = size(dist);
console.log(
  `Built ${relative(process.cwd(), dist) || dist}/: ${total.files} files, ${(total.bytes / 1024).toFixed(0)} KiB in ${((performance.now() - started) / 1000).toFixed(1)}s`,
);
