/** The `dsar` CLI against a real Temporal dev server, worker and simulator; output is checked for PII. */
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { erasureWorkflowId } from '../../src/client.js';
import { interviewing, person, runScenario, TEST_ENCRYPTION_KEYS, type Scenario } from '../helpers/scenario.js';
import { startDevServer, workflowBundle } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startDevServer();
  await workflowBundle();
});
afterAll(async () => {
  await env?.teardown();
});

function cli(s: Scenario, extraEnv: Record<string, string> = {}) {
  return async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: { DSAR_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS, TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: s.taskQueue, DSAR_ID_KEY: s.idKey, DSAR_INTERVIEW_MARGIN: '300ms', DSAR_FOLLOW_UP_DELAY: '0', ...extraEnv },
      stdin: () => '  Cli.Subject@Example.com \n',
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
}

describe('dsar CLI', () => {
  it('erases, lists, shows status, re-checks and refuses or accepts cancel, never printing the email', async () => {
    const seed = [...person('cli.subject@example.com', 'P-CLI', 2), interviewing('cli.waiting@example.com', 'P-WAIT', '+1d')];
    await runScenario(env, 'cli', { seed: { candidates: seed } }, async (s) => {
      const dsar = cli(s);
      const done = await dsar('erase', '--email-stdin', '--wait', '--request-id', 'CLI-1');
      expect(done.code).toBe(0);
      const id = erasureWorkflowId('cli.subject@example.com', s.idKey);
      expect(done.out).toContain(`Started erasure ${id}`);
      expect(done.out).toContain('Outcome: completed; 1 person(s), 2 candidate(s) deleted');

      const waiting = await dsar('erase', '--email', 'cli.waiting@example.com', '--mode', 'pseudonymize');
      expect(waiting.code).toBe(0);
      const waitingId = erasureWorkflowId('cli.waiting@example.com', s.idKey);
      await s.waitForPhase(waitingId, 'waiting_for_interviews');
      const again = await dsar('erase', '--email', 'CLI.waiting@example.com');
      expect(again.out).toContain(`Joined the erasure already running ${waitingId}`);

      const status = await dsar('status', waitingId);
      expect(status.code).toBe(0);
      expect(status.out).toMatch(/waiting_for_interviews/);
      expect(status.out).toMatch(/person P-WAIT: blocked; candidates .*; blocked by /);
      const json = JSON.parse((await dsar('status', waitingId, '--json')).out);
      expect(json).toMatchObject({ phase: 'waiting_for_interviews', mode: 'pseudonymize' });

      await s.waitForStatus(waitingId, () => true);
      const list = await eventuallyOut(() => dsar('list', '--phase', 'waiting_for_interviews'), (o) => o.includes(waitingId));
      expect(list).toContain(waitingId);
      expect(list).not.toContain(id);

      expect((await dsar('recheck', waitingId, '--actor', 'op-1')).out).toContain('Re-check requested');
      const ext = await dsar('extend-deadline', waitingId, '--deadline', '2000-01-01T00:00:00Z');
      expect(ext.code).toBe(1);
      expect(ext.err).toContain('later than the current one');

      const finished = await dsar('cancel', id, '--reason', 'too late');
      expect(finished.code).toBe(1);
      expect(finished.err).toContain('already ended (COMPLETED)');
      const cancelled = await dsar('cancel', waitingId, '--reason', 'subject withdrew', '--actor', 'dpo');
      expect(cancelled.code).toBe(0);
      expect(cancelled.out).toContain(`Cancelled ${waitingId}`);

      for (const r of [done, waiting, again, status, finished, cancelled]) {
        expect((r.out + r.err).toLowerCase()).not.toContain('@example.com');
      }
    }, { encrypted: true });
  });

  it('answers bad input and bad config with exit code 2 and a clear message', async () => {
    await runScenario(env, 'cli errors', {}, async (s) => {
      const dsar = cli(s);
      expect(await dsar('erase', '--email', 'not-an-email')).toMatchObject({ code: 2, err: expect.stringContaining('email is not a valid email address') });
      expect(await dsar('erase')).toMatchObject({ code: 2, err: expect.stringContaining('needs --email') });
      expect(await dsar('cancel', 'dsar-x')).toMatchObject({ code: 2, err: expect.stringContaining('--reason') });
      expect(await dsar('list', '--phase', 'sleeping')).toMatchObject({ code: 2, err: expect.stringContaining('--phase must be one of') });
      expect(await dsar('status')).toMatchObject({ code: 2, err: expect.stringContaining('needs a workflow id') });
      expect(await dsar('erase', '--email', 'a@example.com', '--bogus')).toMatchObject({ code: 2, err: expect.stringContaining("Unknown option '--bogus'") });
      expect(await dsar('status', 'dsar-doesnotexist')).toMatchObject({ code: 1, err: expect.stringContaining('No erasure with that workflow id') });
      const noKey = await cli(s, { DSAR_ID_KEY: '' })('list');
      expect(noKey).toMatchObject({ code: 2, err: expect.stringContaining('DSAR_ID_KEY is required') });
      expect(s.sim.stats().total).toBe(0);
    }, { encrypted: true });
  });
});

async function eventuallyOut(run: () => Promise<{ out: string }>, ok: (o: string) => boolean): Promise<string> {
  for (let i = 0; ; i++) {
    const { out } = await run();
    if (ok(out) || i > 50) return out;
    await new Promise((r) => setTimeout(r, 200));
  }
}
