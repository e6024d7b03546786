/**
 * Records workflow histories from every path (happy, blocked, cancelled, failed, needs attention,
 * dry run, no data) into test/histories/, for the replay test that guards running workflows against
 * non-deterministic changes. Run after a deliberate, patched workflow change: `npm run record-histories`.
 * Subjects are synthetic (example.com), so the files hold no real personal data. Names given as
 * arguments record only those files (`npm run record-histories -- tenant-onboarding`); the rest stay.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { CancelRefusedError, cancelErasure, recheckNow } from '../src/client.js';
import { ALL_PERMISSIONS } from '../src/simulator/server.js';
import { tenantStep } from '../src/tenants/client.js';
import { PROJECT_ROOT, resolveTemporalCli } from '../src/temporal-binaries.js';
import { bystanders, interviewing, person, runScenario, type Scenario } from '../test/helpers/scenario.js';
import { startDevServer } from '../test/helpers/temporal.js';
import { bringTenantLive, tenantAccounts, TENANT_WORKER } from '../test/helpers/tenants.js';

// Workers in runScenario sign receipts with a throwaway key; the histories hold the signed results.

const OUT = join(PROJECT_ROOT, 'test', 'histories');
mkdirSync(OUT, { recursive: true });
const env = await startDevServer();
// Replay must run under the original workflow id (children's ids derive from it). Files of earlier
// workflow versions (renamed v1-… before re-recording) keep their entries.
const INDEX = join(OUT, 'workflow-ids.json');
const index: Record<string, string> = existsSync(INDEX) ? JSON.parse(readFileSync(INDEX, 'utf8')) : {};

const only = process.argv.slice(2);

async function save(name: string, s: Scenario, workflowId: string, runId?: string): Promise<void> {
  if (only.length && !only.includes(name)) return;
  // The CLI's JSON export is the format operators get from `temporal workflow show -o json`.
  const cli = resolveTemporalCli().executable;
  if (cli.type !== 'existing-path') throw new Error('recording needs the temporal CLI (npm run setup:temporal)');
  const json = execFileSync(cli.path, ['workflow', 'show', '--address', env.address, '-w', workflowId, ...(runId ? ['-r', runId] : []), '-o', 'json'], {
    encoding: 'utf8',
  });
  const history = JSON.parse(json) as { events: unknown[] };
  writeFileSync(join(OUT, `${name}.json`), JSON.stringify(history, null, 1) + '\n');
  index[`${name}.json`] = workflowId;
  console.log(`recorded ${name} (${history.events.length} events, ${s.sim.stats().total} Comeet calls)`);
}

/** A run that continued as new, and the run after it (the chain has two). */
async function saveContinued(s: Scenario, workflowId: string, firstRunId: string, [first, next]: [string, string]): Promise<void> {
  const runs: string[] = [];
  for await (const wf of env.client.workflow.list({ query: `WorkflowId="${workflowId}"` })) runs.push(wf.runId);
  await save(first, s, workflowId, firstRunId);
  await save(
    next,
    s,
    workflowId,
    runs.find((id) => id !== firstRunId),
  );
}

// Callbacks go to a loopback receiver, which the worker may reach only when its network is allowed.
const CALLBACK_SECRET = 'recorder-callback-secret-0123456789abcdef';
const callbackWorker = { worker: { callbacks: { secrets: [CALLBACK_SECRET], allowedHosts: [], allowedNetworks: ['127.0.0.1/32'] } } };
// Requests under SLOW_PATH are answered 2 s late: a cancel can then land while a run tells its callers.
const SLOW_PATH = '/hooks/slow';
let slowReceived = 0;
const receiver = createServer((req, res) => {
  req.resume();
  const slow = req.url === SLOW_PATH;
  if (slow) slowReceived++;
  req.on('end', () => setTimeout(() => res.writeHead(200).end(), slow ? 2000 : 0));
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
const CALLBACK_URL = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/dsar`;
const SLOW_CALLBACK_URL = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}${SLOW_PATH}`;
/** Until the slow receiver has had more than `from` callbacks (its count taken before the run that sends one starts). */
async function slowCallbackReceived(from: number): Promise<void> {
  const until = Date.now() + 30_000;
  while (slowReceived === from) {
    if (Date.now() > until) throw new Error('no callback reached the slow receiver');
    await new Promise((r) => setTimeout(r, 100));
  }
}

try {
  // A tenant from add to offboard: the seed-000 steps, a pause and a resume on the way.
  const tenant = tenantAccounts('recorder');
  await runScenario(
    env,
    'tenant',
    { accounts: tenant.accounts },
    async (s) => {
      await bringTenantLive(s.client, s.taskQueue, s.sim.url, tenant);
      await tenantStep(s.client, tenant.id, 'pause', { actor: 'recorder', reason: 'incident' });
      await tenantStep(s.client, tenant.id, 'resume', { actor: 'recorder' });
      await tenantStep(s.client, tenant.id, 'offboard', { actor: 'recorder' });
      await s.client.workflow.getHandle(`tenant-${tenant.id}`).result();
      await save('tenant-onboarding', s, `tenant-${tenant.id}`);
    },
    { worker: TENANT_WORKER },
  );
  await runScenario(
    env,
    'completed',
    { seed: { candidates: [...person('happy@example.com', 'P-H', 2), ...person('happy@example.com', 'P-H2')] } },
    async (s) => {
      const { handle, workflowId } = await s.start({ email: 'happy@example.com', requestId: 'rec-1' });
      await handle.result();
      await save('completed-delete', s, workflowId);
    },
  );
  await runScenario(env, 'pseudonymize', { seed: { candidates: person('pseudo@example.com', 'P-P') } }, async (s) => {
    const { handle, workflowId } = await s.start({ email: 'pseudo@example.com', mode: 'pseudonymize', regulation: 'ccpa' });
    await handle.result();
    await save('completed-pseudonymize', s, workflowId);
  });
  await runScenario(
    env,
    'blocked',
    { seed: { candidates: [...person('mixed@example.com', 'P-FREE'), interviewing('mixed@example.com', 'P-BUSY', '+1d')] } },
    async (s) => {
      const { handle, workflowId } = await s.start({ email: 'mixed@example.com' });
      await s.waitForStatus(workflowId, (x) => x.phase === 'waiting_for_interviews' && x.persons.some((p) => p.state === 'erased'));
      // The cancel update is refused without a trace; the signal records its refusal.
      await cancelErasure(env.client, workflowId, 'should be refused', 'recorder').catch((err: unknown) => {
        if (!(err instanceof CancelRefusedError)) throw err;
      });
      await handle.signal('cancel', { reason: 'should be refused too', actor: 'recorder' });
      await s.waitForStatus(workflowId, (x) => x.events.some((e) => e.kind === 'cancel_refused'));
      await handle.executeUpdate('extendDeadline', { args: [{ deadline: new Date(Date.now() + 40 * 86_400_000).toISOString(), actor: 'recorder' }] });
      s.sim.completeInterviews('P-BUSY');
      await recheckNow(env.client, workflowId, 'recorder');
      await handle.result();
      await save('blocked-recheck-completed', s, workflowId);
    },
  );
  await runScenario(env, 'auto', { seed: { candidates: [interviewing('auto@example.com', 'P-A', '+2s', 1 / 60)] } }, async (s) => {
    const { handle, workflowId } = await s.start({ email: 'auto@example.com' }, { interviewMarginMs: 2500 });
    await handle.result();
    await save('blocked-timer-completed', s, workflowId);
  });
  await runScenario(env, 'cancelled', { seed: { candidates: [interviewing('cancel@example.com', 'P-C', '+2d')] } }, async (s) => {
    const { handle, workflowId } = await s.start({ email: 'cancel@example.com' });
    await s.waitForPhase(workflowId, 'waiting_for_interviews');
    await cancelErasure(env.client, workflowId, 'duplicate ticket', 'recorder');
    await handle.result();
    await save('cancelled', s, workflowId);
  });
  await runScenario(env, 'deadline', { seed: { candidates: [interviewing('late@example.com', 'P-L', '+5d')] } }, async (s) => {
    const { handle, workflowId } = await s.start({
      email: 'late@example.com',
      receivedAt: new Date(Date.now() - 60_000).toISOString(),
      deadline: new Date(Date.now() + 2000).toISOString(),
    });
    await handle.result().catch(() => undefined);
    await save('failed-deadline', s, workflowId);
  });
  await runScenario(
    env,
    'attention',
    { permissions: ALL_PERMISSIONS.filter((p) => p !== 'persons:erase'), seed: { candidates: person('perm@example.com', 'P-PERM') } },
    async (s) => {
      const { handle, workflowId } = await s.start({ email: 'perm@example.com' });
      await s.waitForPhase(workflowId, 'needs_attention');
      s.sim.setPermissions([...ALL_PERMISSIONS]);
      await recheckNow(env.client, workflowId, 'recorder');
      await handle.result();
      await save('needs-attention-completed', s, workflowId);
    },
  );
  await runScenario(env, 'verification', { pseudonymizeKeepsEmail: true, seed: { candidates: person('sticky@example.com', 'P-S') } }, async (s) => {
    const { handle, workflowId } = await s.start({ email: 'sticky@example.com', mode: 'pseudonymize' }, { maxReerasures: 1 });
    await handle.result().catch(() => undefined);
    await save('failed-verification', s, workflowId);
  });
  await runScenario(env, 'dry run', { seed: { candidates: person('dry@example.com', 'P-D') } }, async (s) => {
    const { handle, workflowId } = await s.start({ email: 'dry@example.com', dryRun: true });
    await handle.result();
    await save('dry-run', s, workflowId);
  });
  await runScenario(env, 'no data', {}, async (s) => {
    const { handle, workflowId } = await s.start({ email: 'nobody@example.com' });
    await handle.result();
    await save('no-data', s, workflowId);
  });
  await runScenario(env, 'follow up', { seed: { candidates: person('follow@example.com', 'P-F') } }, async (s) => {
    const { handle, workflowId } = await s.start({ email: 'follow@example.com' }, { followUpDelayMs: 1500 });
    const r = await handle.result();
    await env.client.workflow.getHandle(r.followUp!.workflowId).result();
    await save('completed-with-follow-up', s, workflowId);
    await save('follow-up-clean', s, r.followUp!.workflowId);
  });
  // Paths added with the hardening and durability work.
  await runScenario(
    env,
    'attached',
    { seed: { candidates: [interviewing('joined@example.com', 'P-J', '+1d')] } },
    async (s) => {
      const first = await s.start({ email: 'joined@example.com', requestId: 'att-1', callbackUrl: CALLBACK_URL });
      await s.waitForPhase(first.workflowId, 'waiting_for_interviews');
      const second = await s.start({ email: 'joined@example.com', requestId: 'att-2', callbackUrl: CALLBACK_URL });
      if (second.status !== 'attached') throw new Error(`expected attached, got ${second.status}`);
      await s.start({ email: 'joined@example.com', requestId: 'att-1', callbackUrl: CALLBACK_URL }); // a replay
      s.sim.completeInterviews('P-J');
      await recheckNow(env.client, first.workflowId, 'recorder');
      await first.handle.result();
      await save('attached-completed', s, first.workflowId);
    },
    callbackWorker,
  );
  await runScenario(env, 'queued', { seed: { candidates: person('queued@example.com', 'P-Q') } }, async (s) => {
    // A slow lookup keeps the dry run open while the real request arrives and queues behind it.
    s.sim.setFaults({ latencyMs: 1500 });
    const dry = await s.start({ email: 'queued@example.com', requestId: 'q-dry', dryRun: true });
    const real = await s.start({ email: 'queued@example.com', requestId: 'q-real' });
    if (real.status !== 'queued') throw new Error(`expected queued, got ${real.status}`);
    s.sim.setFaults({});
    const r = await env.client.workflow.getHandle(dry.workflowId).result();
    if (r.outcome !== 'completed') throw new Error(`expected the queued request to complete, got ${r.outcome}`);
    await saveContinued(s, dry.workflowId, dry.runId, ['dry-run-continued-as-queued', 'queued-after-dry-run-completed']);
  });
  await runScenario(
    env,
    'queued after failed dry run',
    { permissions: ALL_PERMISSIONS.filter((p) => p !== 'candidates:source_contact_details'), seed: { candidates: person('behind@example.com', 'P-BH') } },
    async (s) => {
      // The dry run waits in needs_attention (emails hidden) until its deadline; the real request queued behind it runs next.
      const dry = await s.start(
        { email: 'behind@example.com', requestId: 'fd-dry', dryRun: true, deadline: new Date(Date.now() + 4000).toISOString() },
        { attentionRetryMs: 1000 },
      );
      await s.waitForPhase(dry.workflowId, 'needs_attention');
      const real = await s.start({ email: 'behind@example.com', requestId: 'fd-real' });
      if (real.status !== 'queued') throw new Error(`expected queued, got ${real.status}`);
      await s.waitForStatus(dry.workflowId, (x) => !x.dryRun && x.phase === 'needs_attention');
      s.sim.setPermissions([...ALL_PERMISSIONS]);
      const r = await env.client.workflow.getHandle(dry.workflowId).result();
      if (r.outcome !== 'completed') throw new Error(`expected the queued request to complete, got ${r.outcome}`);
      await saveContinued(s, dry.workflowId, dry.runId, ['dry-run-failed-continued-as-queued', 'queued-after-failed-dry-run-completed']);
    },
  );
  await runScenario(env, 'cancel signal', { seed: { candidates: [interviewing('cancel.signal@example.com', 'P-CS', '+2d')] } }, async (s) => {
    const { handle, workflowId } = await s.start({ email: 'cancel.signal@example.com' });
    await s.waitForPhase(workflowId, 'waiting_for_interviews');
    await handle.signal('cancel', { reason: 'duplicate ticket', actor: 'recorder' });
    await handle.result();
    await save('cancelled-signal', s, workflowId);
  });
  await runScenario(
    env,
    'hard cancel',
    { seed: { candidates: [interviewing('hard.cancel@example.com', 'P-HC', '+2d')] } },
    async (s) => {
      const { handle, workflowId } = await s.start(
        { email: 'hard.cancel@example.com', requestId: 'hc-1', callbackUrl: CALLBACK_URL },
        { callbackRetryMs: 1000 },
      );
      await s.waitForPhase(workflowId, 'waiting_for_interviews');
      await handle.cancel();
      await handle.result().catch(() => undefined);
      await save('temporal-cancelled', s, workflowId);
    },
    callbackWorker,
  );
  // A real request queued behind a dry run, each with a callback: a cancel of the dry run ends both.
  await runScenario(
    env,
    'hard cancel queued',
    { seed: { candidates: person('hard.queued@example.com', 'P-HQ') } },
    async (s) => {
      s.sim.setFaults({ latencyMs: 3000 });
      const dry = await s.start({ email: 'hard.queued@example.com', requestId: 'hq-dry', dryRun: true, callbackUrl: CALLBACK_URL }, { callbackRetryMs: 1000 });
      const real = await s.start({ email: 'hard.queued@example.com', requestId: 'hq-real', mode: 'pseudonymize', callbackUrl: CALLBACK_URL });
      if (real.status !== 'queued') throw new Error(`expected queued, got ${real.status}`);
      await dry.handle.cancel();
      await dry.handle.result().catch(() => undefined);
      await save('temporal-cancelled-queued', s, dry.workflowId);
    },
    callbackWorker,
  );
  await runScenario(
    env,
    'cancel queued',
    { permissions: ALL_PERMISSIONS.filter((p) => p !== 'candidates:source_contact_details'), seed: { candidates: person('soft.queued@example.com', 'P-SQ') } },
    async (s) => {
      const dry = await s.start(
        { email: 'soft.queued@example.com', requestId: 'sq-dry', dryRun: true, callbackUrl: CALLBACK_URL },
        { attentionRetryMs: 60_000 },
      );
      await s.waitForPhase(dry.workflowId, 'needs_attention');
      const real = await s.start({ email: 'soft.queued@example.com', requestId: 'sq-real', callbackUrl: CALLBACK_URL });
      if (real.status !== 'queued') throw new Error(`expected queued, got ${real.status}`);
      await cancelErasure(env.client, dry.workflowId, 'ticket withdrawn', 'recorder');
      await dry.handle.result();
      await save('cancelled-queued', s, dry.workflowId);
    },
    callbackWorker,
  );
  // A Temporal cancel after the dry run's outcome was decided (its callback held 2 s), before it hands over.
  await runScenario(
    env,
    'hard cancel handing over',
    { seed: { candidates: person('late.queued@example.com', 'P-LQ') } },
    async (s) => {
      s.sim.setFaults({ latencyMs: 3000 });
      const seen = slowReceived;
      const dry = await s.start(
        { email: 'late.queued@example.com', requestId: 'lq-dry', dryRun: true, callbackUrl: SLOW_CALLBACK_URL },
        { callbackRetryMs: 1000 },
      );
      const real = await s.start({ email: 'late.queued@example.com', requestId: 'lq-real', callbackUrl: CALLBACK_URL });
      if (real.status !== 'queued') throw new Error(`expected queued, got ${real.status}`);
      await slowCallbackReceived(seen);
      await dry.handle.cancel();
      await dry.handle.result().catch(() => undefined);
      await save('temporal-cancelled-handing-over', s, dry.workflowId);
    },
    callbackWorker,
  );
  // A Temporal cancel while a failed dry run tells its failure (held 2 s), before it hands over.
  await runScenario(
    env,
    'hard cancel failed handing over',
    {
      permissions: ALL_PERMISSIONS.filter((p) => p !== 'candidates:source_contact_details'),
      seed: { candidates: person('failed.queued@example.com', 'P-FQ') },
    },
    async (s) => {
      const deadline = new Date(Date.now() + 8000).toISOString();
      const seen = slowReceived;
      const dry = await s.start(
        { email: 'failed.queued@example.com', requestId: 'fq-dry', dryRun: true, deadline, callbackUrl: SLOW_CALLBACK_URL },
        { attentionRetryMs: 1000, callbackRetryMs: 1000 },
      );
      await s.waitForPhase(dry.workflowId, 'needs_attention');
      const real = await s.start({ email: 'failed.queued@example.com', requestId: 'fq-real', callbackUrl: CALLBACK_URL });
      if (real.status !== 'queued') throw new Error(`expected queued, got ${real.status}`);
      await slowCallbackReceived(seen);
      await dry.handle.cancel();
      await env.client.workflow
        .getHandle(dry.workflowId, dry.runId, { followRuns: false })
        .result()
        .catch(() => undefined);
      await save('temporal-cancelled-failed-handing-over', s, dry.workflowId);
    },
    callbackWorker,
  );
  await runScenario(
    env,
    'emails hidden',
    { permissions: ALL_PERMISSIONS.filter((p) => p !== 'candidates:source_contact_details'), seed: { candidates: person('hidden@example.com', 'P-HID') } },
    async (s) => {
      const { handle, workflowId } = await s.start({ email: 'hidden@example.com' });
      await s.waitForPhase(workflowId, 'needs_attention');
      s.sim.setPermissions([...ALL_PERMISSIONS]);
      await recheckNow(env.client, workflowId, 'recorder');
      await handle.result();
      await save('emails-hidden-completed', s, workflowId);
    },
  );
  await runScenario(
    env,
    'follow-up failed',
    { readWithoutPermission: 'forbid', seed: { candidates: person('again.fail@example.com', 'P-AF') } },
    async (s) => {
      const { handle } = await s.start(
        { email: 'again.fail@example.com', requestId: 'ff-1', callbackUrl: CALLBACK_URL },
        { followUpDelayMs: 1500, callbackRetryMs: 1000 },
      );
      const first = await handle.result();
      s.sim.addCandidate(person('again.fail@example.com', 'P-AF2')[0]!);
      s.sim.setPermissions(ALL_PERMISSIONS.filter((p) => p !== 'candidates:read_other_sources'));
      await env.client.workflow
        .getHandle(first.followUp!.workflowId)
        .result()
        .catch(() => undefined);
      await save('follow-up-failed', s, first.followUp!.workflowId);
    },
    callbackWorker,
  );
  await runScenario(
    env,
    'long lookup',
    { pageSize: 1, emailFilter: 'ignored', seed: { candidates: [...person('paged@example.com', 'P-PG', 2), ...bystanders(6)] } },
    async (s) => {
      // Eight pages: past the five the erasure reads itself, so the rest go to a dsarLookup child.
      const { handle, workflowId } = await s.start({ email: 'paged@example.com' });
      await handle.result();
      await save('long-lookup-completed', s, workflowId);
      const children: string[] = [];
      for await (const wf of env.client.workflow.list({ query: `WorkflowType="dsarLookup"` }))
        if (wf.workflowId.startsWith(workflowId)) children.push(wf.workflowId);
      if (children.length) await save('lookup-child', s, children.sort()[0]!);
    },
  );
  await runScenario(env, 'continued', { seed: { candidates: [interviewing('long.wait@example.com', 'P-LW', '-1h', 600)] } }, async (s) => {
    // A short event budget: the waiting request continues as new after a few re-checks.
    const { handle, workflowId, runId } = await s.start(
      { email: 'long.wait@example.com' },
      { backoffInitialMs: 1000, backoffMaxMs: 1000, interviewMarginMs: 0, continueAfterEvents: 100 },
    );
    await s.waitForStatus(workflowId, (x) => (x.runsContinued ?? 0) >= 1, 120_000);
    s.sim.completeInterviews('P-LW');
    await recheckNow(env.client, workflowId, 'recorder');
    await env.client.workflow.getHandle(workflowId).result();
    await save('waiting-continued-as-new', s, workflowId, runId);
    await save('continued-run-completed', s, workflowId);
    void handle;
  });
  writeFileSync(INDEX, JSON.stringify(index, null, 1) + '\n');
} finally {
  receiver.close();
  await env.teardown();
}
