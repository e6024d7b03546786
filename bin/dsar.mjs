#!/usr/bin/env node
// `dsar`: runs the CLI in this process. The compiled one (dist/, `npm run build`, what the image
// ships) when it is there; else the TypeScript sources through tsx's loader, registered here, so
// `npx dsar …` works in a checkout without a build step. After editing src/ with a dist/ present,
// rebuild or use `npm run dsar` (always the sources).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
let entry = compiled;
if (!existsSync(compiled)) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('../src/cli/main.ts', import.meta.url);
}
const { runCli } = await import(entry.href);
process.exit(await runCli(process.argv.slice(2)));
