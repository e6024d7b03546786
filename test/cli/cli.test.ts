/** The `dsar` CLI against a real Temporal dev server, worker and simulator; output is checked for PII. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { erasureWorkflowId } from '../../src/client.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_PERMISSIONS } from '../../src/simulator/server.js';
import { testReceiptKeys } from '../helpers/receipts.js';
import { API_KEY, interviewing, person, runScenario, SECRET, TEST_ENCRYPTION_KEYS, type Scenario } from '../helpers/scenario.js';
import { scenarioCli } from '../helpers/cli.js';
import { useDevServer } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

const cli = (s: Scenario, extraEnv: Record<string, string> = {}) =>
  scenarioCli(env, s, { DSAR_INTERVIEW_MARGIN: '300ms', ...extraEnv }, () => '  Cli.Subject@Example.com \n');

describe('dsar CLI', () => {
  it('prints a receipt that verify-receipt accepts, and rejects a tampered copy with the reason', async () => {
    await runScenario(
      env,
      'cli receipt',
      { seed: { candidates: person('cli.receipt@example.com', 'P-REC', 2) } },
      async (s) => {
        const dsar = cli(s);
        const dir = mkdtempSync(join(tmpdir(), 'dsar-receipt-'));
        expect((await dsar('erase', '--email', 'cli.receipt@example.com', '--wait')).code).toBe(0);
        const id = erasureWorkflowId('cli.receipt@example.com', s.idKey);
        const printed = await dsar('receipt', id);
        expect(printed.code).toBe(0);
        const jws = printed.out.trim();
        expect(jws.split('.')).toHaveLength(3);
        writeFileSync(join(dir, 'r.jws'), jws);
        writeFileSync(join(dir, 'jwks.json'), (await testReceiptKeys()).jwks);
        const ok = await dsar('verify-receipt', join(dir, 'r.jws'), '--jwks', join(dir, 'jwks.json'));
        expect(ok).toMatchObject({ code: 0 });
        expect(ok.out).toContain('VALID receipt');
        expect(ok.out).toContain('completed: 1 person(s), 2 candidate(s) deleted');
        expect(ok.out).toContain('person P-REC');

        // Claim one more candidate than was erased, keeping the signature.
        const [h, p, sig] = jws.split('.');
        const payload = Buffer.from(p!, 'base64url').toString().replace('"count":2', '"count":3');
        writeFileSync(join(dir, 'bad.jws'), `${h}.${Buffer.from(payload).toString('base64url')}.${sig}`);
        const bad = await dsar('verify-receipt', join(dir, 'bad.jws'), '--jwks', join(dir, 'jwks.json'));
        expect(bad.code).toBe(1);
        expect(bad.err).toMatch(/INVALID receipt \(bad_signature\): .*altered/);

        // Another key's JWKS does not vouch for it.
        const other = await runCli(['receipt-keys'], { out: (l) => writeFileSync(join(dir, 'keys.txt'), l, { flag: 'a' }), err: () => undefined });
        expect(other).toBe(0);
        const otherJwks = readFileSync(join(dir, 'keys.txt'), 'utf8').split('# Public JWKS for auditors (dsar verify-receipt --jwks):\n')[1]!;
        writeFileSync(join(dir, 'other.json'), otherJwks);
        const foreign = await dsar('verify-receipt', join(dir, 'r.jws'), '--jwks', join(dir, 'other.json'));
        expect(foreign.code).toBe(1);
        expect(foreign.err).toContain('INVALID receipt');
        expect(await dsar('verify-receipt', join(dir, 'r.jws'))).toMatchObject({ code: 2 });
      },
      { encrypted: true },
    );
  });

  it('runs doctor and sandbox-check against Comeet settings alone', async () => {
    await runScenario(env, 'cli sandbox', {}, async (s) => {
      const comeetEnv = { COMEET_BASE_URL: s.sim.url, COMEET_ALLOW_HTTP: 'true', COMEET_API_KEY: API_KEY, COMEET_SECRET: SECRET };
      const io = () => {
        const out: string[] = [];
        return { out, io: { out: (l: string) => out.push(l), err: (l: string) => out.push(l), env: comeetEnv } };
      };
      const d = io();
      expect(await runCli(['doctor'], d.io)).toBe(0);
      expect(d.out.join('\n')).toContain('share');
      expect(d.out.join('\n')).toMatch(/Comeet queue's rate .*\n?.*no Temporal settings/);
      // With the Temporal settings it reports the Comeet queue's rate: set through the API by this worker ...
      const temporalEnv = { DSAR_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS, TEMPORAL_ADDRESS: env.address, DSAR_ID_KEY: s.idKey };
      const withRate = { out: [] as string[] };
      expect(
        await runCli(['doctor', '--json'], {
          out: (l) => withRate.out.push(l),
          err: () => undefined,
          env: { ...comeetEnv, ...temporalEnv, TEMPORAL_TASK_QUEUE: s.taskQueue },
        }),
      ).toBe(0);
      const item = (JSON.parse(withRate.out.join('\n')) as { items: { id: string; status: string; detail?: string }[] }).items.find(
        (i) => i.id === 'comeet-queue-rate',
      );
      expect(item).toMatchObject({
        status: 'pass',
        detail: expect.stringMatching(new RegExp(`^60000/min on ${s.taskQueue}-comeet \\(set by comeet-dsar worker `)),
      });
      // ... and warns about a queue nobody capped.
      const uncapped = { out: [] as string[] };
      expect(
        await runCli(['doctor', '--json'], {
          out: (l) => uncapped.out.push(l),
          err: () => undefined,
          env: { ...comeetEnv, ...temporalEnv, TEMPORAL_TASK_QUEUE: `${s.taskQueue}-nobody` },
        }),
      ).toBe(0);
      expect(
        (JSON.parse(uncapped.out.join('\n')) as { items: { id: string; status: string; detail?: string; fix?: string }[] }).items.find(
          (i) => i.id === 'comeet-queue-rate',
        ),
      ).toMatchObject({
        status: 'warn',
        detail: expect.stringContaining('no cap on'),
        fix: expect.stringContaining('temporal task-queue config set'),
      });
      const c = io();
      expect(await runCli(['sandbox-check', '--position', '11.11', '--test-email', 'sandbox.test@example.com'], c.io)).toBe(0);
      expect(c.out.join('\n')).toMatch(/Result: OK/);
      s.sim.setPermissions(ALL_PERMISSIONS.filter((p) => p !== 'persons:erase'));
      const f = io();
      expect(await runCli(['sandbox-check', '--position', '11.11', '--test-email', 'sandbox.test2@example.com'], f.io)).toBe(1);
      expect(f.out.join('\n')).toContain('Persons: Delete or Pseudonymize persons');
    });
  });

  it('erases, lists, shows status, re-checks and refuses or accepts cancel, never printing the email', async () => {
    const seed = [
      ...person('cli.subject@example.com', 'P-CLI', 2),
      interviewing('cli.waiting@example.com', 'P-WAIT', '+1d'),
      ...person('cli.half@example.com', 'P-HALF'),
      interviewing('cli.half@example.com', 'P-HALF-BUSY', '+1d'),
    ];
    await runScenario(
      env,
      'cli',
      { seed: { candidates: seed } },
      async (s) => {
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
        const again = await dsar('erase', '--email', 'CLI.waiting@example.com', '--mode', 'pseudonymize');
        expect(again.out).toContain(`Joined the erasure already running ${waitingId}`);
        // A delete is not merged into the pseudonymize under way: refused, saying why and what to do.
        const other = await dsar('erase', '--email', 'cli.waiting@example.com', '--mode', 'delete');
        expect(other.code).toBe(1);
        expect(other.err).toMatch(
          /^dsar erase refused \(request_in_progress\): a pseudonymize GDPR request for this person is under way; this delete GDPR request is not merged into it: retry after it ends/,
        );
        expect(other.err).not.toContain('cli.waiting');
        const dry = await dsar('erase', '--email', 'cli.waiting@example.com', '--mode', 'pseudonymize', '--dry-run');
        expect(dry.err).toMatch(/refused \(erasure_in_progress\): a real erasure for this person is under way/);

        const status = await dsar('status', waitingId);
        expect(status.code).toBe(0);
        expect(status.out).toMatch(/waiting_for_interviews/);
        expect(status.out).toMatch(/person P-WAIT: blocked; candidates .*; blocked by /);
        const json = JSON.parse((await dsar('status', waitingId, '--json')).out);
        expect(json).toMatchObject({ phase: 'waiting_for_interviews', mode: 'pseudonymize' });

        await s.waitForStatus(waitingId, () => true);
        const list = await eventuallyOut(
          () => dsar('list', '--phase', 'waiting_for_interviews'),
          (o) => o.includes(waitingId),
        );
        expect(list).toContain(waitingId);
        expect(list).not.toContain(id);

        expect((await dsar('recheck', waitingId, '--actor', 'op-1')).out).toContain('Re-check requested');
        // The re-check tries the erase again: while Comeet answers it, the run is erasing and refuses a cancel.
        await s.waitForStatus(waitingId, (st) => {
          const at = st.events.findIndex((e) => e.kind === 'recheck_requested');
          return at >= 0 && st.events.slice(at + 1).some((e) => e.kind === 'blocked');
        });
        const ext = await dsar('extend-deadline', waitingId, '--deadline', '2000-01-01T00:00:00Z');
        expect(ext.code).toBe(1);
        expect(ext.err).toContain('later than the current one');

        const finished = await dsar('cancel', id, '--reason', 'too late');
        expect(finished.code).toBe(1);
        expect(finished.err).toContain('already ended (COMPLETED)');
        const cancelled = await dsar('cancel', waitingId, '--reason', 'subject withdrew', '--actor', 'dpo');
        expect(cancelled.code).toBe(0);
        expect(cancelled.out).toContain(`Cancelled ${waitingId} (by dpo at `);

        // One person erased, another waiting: the refusal is the answer, not something to dig out of events.
        expect((await dsar('erase', '--email', 'cli.half@example.com')).code).toBe(0);
        const halfId = erasureWorkflowId('cli.half@example.com', s.idKey);
        await s.waitForStatus(halfId, (x) => x.phase === 'waiting_for_interviews' && x.persons.some((p) => p.state === 'erased'));
        const refused = await dsar('cancel', halfId, '--reason', 'subject withdrew');
        expect(refused).toMatchObject({ code: 1, err: `Cancel refused for ${halfId}: erasure has started; it cannot be undone or interrupted` });
        expect((await s.status(halfId)).phase).toBe('waiting_for_interviews');

        for (const r of [done, waiting, again, status, finished, cancelled, refused]) {
          expect((r.out + r.err).toLowerCase()).not.toContain('@example.com');
        }
      },
      { encrypted: true },
    );
  });

  it('answers bad input and bad config with exit code 2 and a clear message', async () => {
    await runScenario(
      env,
      'cli errors',
      {},
      async (s) => {
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
      },
      { encrypted: true },
    );
  });
});

async function eventuallyOut(run: () => Promise<{ out: string }>, ok: (o: string) => boolean): Promise<string> {
  for (let i = 0; ; i++) {
    const { out } = await run();
    if (ok(out) || i > 50) return out;
    await new Promise((r) => setTimeout(r, 200));
  }
}
