/**
 * The operator's path through the real Temporal Web UI, in a real browser (Debian's Chromium driven
 * by playwright-core): a dev server with the UI pointed at our codec server, an encrypted worker, a
 * subject blocked by an interview weeks away. In the UI: filter the list by
 * `DsarPhase="waiting_for_interviews"`, open the workflow, run the `status` query (decoded through
 * the codec server), clear the interview in the simulator, send `recheckNow` from More Actions, and
 * watch the workflow complete. Screenshots of every step go to test-artifacts/ui/ (gitignored).
 *
 * Nothing here skips: without Chromium the test fails, saying how to install it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { listErasures } from '../../src/client.js';
import { parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { startCodecServer, type CodecServer } from '../../src/codec/server.js';
import { SEARCH_ATTRIBUTES } from '../../src/search-attributes.js';
import { INSTALL_HINT, PROJECT_ROOT, resolveTemporalCli } from '../../src/temporal-binaries.js';
import { interviewing, person, runScenario, TEST_ENCRYPTION_KEYS } from '../helpers/scenario.js';
import { installQuietRuntime } from '../helpers/temporal.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Without the background-networking flags Chromium's own connections are refused on loopback-only machines.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts', 'ui');
/** The UI is a single-page app talking to the server and the codec server: wait generously for what it renders. */
const UI_TIMEOUT = 30_000;

const BLOCKED_EMAIL = 'ui.blocked.subject@example.com';
const BLOCKED_PERSON = 'P-UI-BLOCKED';
const BLOCKING_CANDIDATE = '12.UIBLK';
const FREE_EMAIL = 'ui.free.subject@example.com';
const PHASE_QUERY = 'DsarPhase="waiting_for_interviews"';

let env: TestWorkflowEnvironment | undefined;
let codec: CodecServer | undefined;
let browser: Browser | undefined;
let uiUrl = '';

/**
 * Chromium, the codec server, the dev server with its UI. Called from the test itself (not beforeAll)
 * so that a missing browser or server is reported as a failed test, never as a skipped one.
 */
async function startStack(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the Web UI test drives a real browser. Install it with \`apt-get install chromium\` ` +
        '(or point CHROMIUM_PATH at a Chromium/Chrome binary). playwright-core downloads no browser.',
    );
  }
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  installQuietRuntime();

  const uiPort = await freePort();
  uiUrl = `http://127.0.0.1:${uiPort}`;
  // The same keys as the encrypted worker of runScenario; the browser calls it with the token in the path.
  codec = await startCodecServer({
    keys: parseEncryptionKeys(TEST_ENCRYPTION_KEYS),
    token: randomBytes(24).toString('hex'),
    corsOrigins: [uiUrl, `http://localhost:${uiPort}`],
  });
  const { executable } = resolveTemporalCli();
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable,
        ip: '127.0.0.1',
        ui: true,
        uiPort,
        searchAttributes: [...SEARCH_ATTRIBUTES],
        log: { format: 'pretty', level: 'error' },
        extraArgs: ['--ui-codec-endpoint', codec.uiEndpoint, '--ui-disable-news-fetch'],
      },
    });
  } catch (err) {
    throw new Error(`Could not start the Temporal dev server with its Web UI: ${err instanceof Error ? err.message : err}\n${INSTALL_HINT}`, { cause: err });
  }
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (err) {
    throw new Error(`Could not launch Chromium at ${CHROMIUM} (\`apt-get install chromium\`): ${err instanceof Error ? err.message : err}`, { cause: err });
  }
}

// Closes whatever startStack opened, also when the test failed or timed out.
afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await codec?.close();
  await env?.teardown();
  browser = undefined;
  codec = undefined;
  env = undefined;
});

describe('Temporal Web UI (operator path, real browser)', () => {
  it('filters by DsarPhase, runs the status query, sends recheckNow and sees the erasure complete', async () => {
    await startStack();
    const seed = { candidates: [{ ...interviewing(BLOCKED_EMAIL, BLOCKED_PERSON, '+10d'), uid: BLOCKING_CANDIDATE }, ...person(FREE_EMAIL, 'P-UI-FREE')] };
    await runScenario(
      env!,
      'web ui',
      { seed },
      async (s) => {
        // 2. Two erasures: one runs straight through (so the phase filter has something to leave out),
        //    one waits for the interview ten days away.
        const free = await s.start({ email: FREE_EMAIL, requestId: 'UI-FREE' });
        expect((await free.handle.result()).outcome).toBe('completed');
        const { workflowId, handle } = await s.start({ email: BLOCKED_EMAIL, requestId: 'UI-BLOCKED' });
        await s.waitForPhase(workflowId, 'waiting_for_interviews');
        // Visibility is eventually consistent: let the server index the phase before asking the UI.
        await eventually(
          () => listErasures(s.client, `WorkflowId="${workflowId}" AND ${PHASE_QUERY}`),
          (l) => l.length === 1,
        );
        await eventually(
          () => listErasures(s.client, `WorkflowId="${free.workflowId}" AND DsarPhase="completed"`),
          (l) => l.length === 1,
        );

        const context = await browser!.newContext({ viewport: { width: 1400, height: 1000 } });
        const page = await context.newPage();
        page.setDefaultTimeout(UI_TIMEOUT);
        const pageErrors: string[] = [];
        page.on('pageerror', (e) => pageErrors.push(e.message));
        page.on('requestfailed', (r) => pageErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
        try {
          // 3. The workflows list, filtered by typing the query into the UI's query box.
          await page.goto(`${uiUrl}/namespaces/default/workflows`);
          await page.getByRole('link', { name: free.workflowId }).waitFor();
          await page.getByRole('link', { name: workflowId }).waitFor();
          await shot(page, '01-workflows-unfiltered');
          await page.getByTestId('toggle-manual-query').click();
          const queryBox = page.getByTestId('workflow-manual-search-input');
          await queryBox.fill(PHASE_QUERY);
          await page.getByTestId('workflow-manual-search-button').click();
          await page.waitForURL((u) => u.searchParams.get('query') === PHASE_QUERY);
          await page.getByRole('link', { name: workflowId }).waitFor();
          // The completed erasure is filtered out.
          await page.getByRole('link', { name: free.workflowId }).waitFor({ state: 'detached' });
          expect(
            await page
              .locator('table')
              .getByRole('link', { name: /^dsar-/ })
              .allInnerTexts(),
          ).toEqual([workflowId]);
          await shot(page, '02-workflows-filtered-waiting-for-interviews');

          // 4. Open it; run the `status` query from the Queries tab; read the decoded result.
          await page.getByRole('link', { name: workflowId }).click();
          await page.waitForURL(new RegExp(`/workflows/${workflowId}/`));
          await page
            .getByTestId('execution-status')
            .first()
            .filter({ hasText: /running/i })
            .waitFor();
          // The decoded input shows the codec server is wired in (the stored payloads are ciphertext).
          await page.getByText(`"requestId": "UI-BLOCKED"`).first().waitFor();
          await page.getByTestId('data-encoder-status-success').waitFor();
          await shot(page, '03-workflow-running-decoded-input');
          await page.getByTestId('queries-tab').click();
          await page.waitForURL(/\/query$/);
          await page.getByTestId('query-select-button').click();
          await page.getByRole('option', { name: 'status', exact: true }).click();
          await page.getByRole('listbox').filter({ hasText: 'status' }).waitFor({ state: 'hidden' });
          await page.getByRole('button', { name: 'Run Query' }).click();
          const result = page.getByTestId('query-result');
          await result.filter({ hasText: /"phase":\s*"waiting_for_interviews"/ }).waitFor();
          await result.filter({ hasText: new RegExp(`"blockingCandidateUids":\\s*\\[\\s*"${escapeRegExp(BLOCKING_CANDIDATE)}"`) }).waitFor();
          await result.filter({ hasText: new RegExp(`"personUid":\\s*"${BLOCKED_PERSON}"`) }).waitFor();
          await shot(page, '04-status-query-waiting-for-interviews');

          // 5. The interview is over; an operator asks for a re-check from the UI.
          s.sim.completeInterviews(BLOCKED_PERSON);
          await page.getByRole('button', { name: 'More Actions' }).click();
          await page.getByTestId('signal-button').filter({ visible: true }).click();
          const dialog = page.getByRole('dialog').filter({ hasText: 'Send a Signal' });
          await dialog.getByTestId('signal-select-button').click();
          await dialog.getByRole('option', { name: 'recheckNow', exact: true }).click();
          await dialog.getByRole('listbox').waitFor({ state: 'hidden' });
          // The input is a CodeMirror editor: fill() inserts the text at once (typing would auto-close brackets).
          const data = dialog.getByRole('textbox', { name: 'Data' });
          await data.fill('{"actor":"ui-test"}');
          expect(JSON.parse(await data.innerText())).toEqual({ actor: 'ui-test' });
          const submit = dialog.getByTestId('confirm-modal-button');
          await expect.poll(() => submit.isEnabled(), { timeout: UI_TIMEOUT }).toBe(true);
          await shot(page, '05-send-signal-recheckNow');
          await submit.click();
          await dialog.waitFor({ state: 'hidden' });
          await page.locator('#workflow-signal-success-toast').filter({ hasText: 'Workflow signaled.' }).waitFor();

          // The workflow completes; the UI shows it (the page refreshes by itself while a workflow runs).
          expect((await handle.result()).outcome).toBe('completed');
          await page.getByTestId('timeline-tab').click();
          const reloaded = await waitForCompleted(page);
          await page.getByText(`"outcome": "completed"`).first().waitFor();
          await shot(page, '06-workflow-completed');
          if (reloaded) console.log('web-ui test: the workflow page needed a reload to show Completed');

          // The signal the UI sent (encoded through the codec server) reached the workflow as sent.
          const final = await s.status(workflowId);
          expect(final.phase).toBe('completed');
          expect(final.events).toContainEqual(expect.objectContaining({ kind: 'recheck_requested', actor: 'ui-test' }));
          expect(pageErrors.filter((e) => /codec|\/t\//.test(e))).toEqual([]);
        } catch (err) {
          await shot(page, 'failure').catch(() => undefined);
          if (pageErrors.length) console.error(`web-ui test: browser errors:\n${pageErrors.join('\n')}`);
          throw err;
        } finally {
          await context.close();
        }
      },
      { encrypted: true },
    );
  }, 120_000);
});

/** Waits for the execution status badge to read Completed; reloads the page if it stays stale. */
async function waitForCompleted(page: Page): Promise<boolean> {
  const completed: Locator = page
    .getByTestId('execution-status')
    .first()
    .filter({ hasText: /completed/i });
  const until = Date.now() + 60_000;
  let reloaded = false;
  for (;;) {
    try {
      await completed.waitFor({ timeout: 15_000 });
      return reloaded;
    } catch (err) {
      if (Date.now() > until) throw err;
      await page.reload();
      reloaded = true;
    }
  }
}

async function shot(page: Page, name: string): Promise<void> {
  // Transitions (menus closing, buttons enabling) are finished before the picture is taken.
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`condition never held; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
