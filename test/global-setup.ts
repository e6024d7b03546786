/**
 * Runs once before the suite: says which Temporal binaries the tests will use. A test that needs
 * Temporal fails loudly when none can start; nothing is skipped.
 */
import { INSTALL_HINT, resolveTemporalCli, resolveTestServer } from '../src/temporal-binaries.js';

export default function setup(): void {
  const cli = resolveTemporalCli();
  const ts = resolveTestServer();
  const where = (r: ReturnType<typeof resolveTemporalCli>) => (r.executable.type === 'existing-path' ? `${r.executable.path} (${r.source})` : r.source);
  console.log(`Temporal dev server: ${where(cli)}\nTemporal time-skipping server: ${where(ts)}`);
  if (cli.executable.type !== 'existing-path' || ts.executable.type !== 'existing-path') {
    console.warn(`No local Temporal binary found; the SDK will try to download one. ${INSTALL_HINT}`);
  }
}
