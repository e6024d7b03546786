/**
 * Temporal's own cancel (`handle.cancel()`, `temporal workflow cancel`) and the follow-up's life of
 * its own: callers hear how a request ended, an erase in flight is waited for and reported, and a
 * follow-up's cancel or failure is neither silent nor contagious. Real dev server, worker, simulator.
 */
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { cancelErasure, ErasureConflictError, listErasures, type StartedErasure } from '../../src/client.js';
import { ALL_PERMISSIONS } from '../../src/simulator/server.js';
import type { CallbackPayload } from '../../src/callbacks/payload.js';
import type { ErasureInput } from '../../src/erasure-request.js';
import type { ErasureResult, ErasureStatus } from '../../src/erasure-status.js';
import type { FollowUpResult } from '../../src/follow-up.js';
import { interviewing, person, pollStatus, runScenario, type Scenario } from '../helpers/scenario.js';
import { callbackWorker, startReceiver } from '../helpers/callbacks.js';
import { useDevServer } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

async function until<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition never held; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function cancelledError(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
}

describe('Temporal cancel', () => {
  it('tells the caller (outcome cancelled) and closes CANCELED when cancelled while waiting on interviews', async () => {
    const receiver = await startReceiver();
    try {
      await runScenario(
        env,
        'hard cancel waiting',
        { seed: { candidates: [interviewing('hard.wait@example.com', 'P-HW', '+2d')] } },
        async (s) => {
          const { handle, workflowId } = await s.start(
            { email: 'hard.wait@example.com', requestId: 'HC-1', callbackUrl: receiver.url },
            { callbackRetryMs: 1000 },
          );
          await s.waitForPhase(workflowId, 'waiting_for_interviews');
          await handle.cancel();
          await cancelledError(handle.result());
          expect((await handle.describe()).status.name).toBe('CANCELLED');
          const [cb] = await until(
            () => receiver.received,
            (r) => r.length > 0,
          );
          expect(cb).toMatchObject({
            event: 'erasure.finished',
            id: workflowId,
            requestId: 'HC-1',
            outcome: 'cancelled',
            totals: { persons: 0, candidates: 0 },
          });
          expect(cb!.persons).toBeUndefined();
          const st = await s.status(workflowId);
          expect(st.phase).toBe('cancelled');
          expect(st.requests).toEqual([{ requestId: 'HC-1', mode: 'delete', regulation: 'gdpr', dryRun: false, hasCallback: true, callback: 'delivered' }]);
          expect(st.events.map((e) => e.kind)).not.toContain('needs_attention');
          expect(st.failure).toContain('before anything was erased');
          expect(s.sim.stats().erasures).toEqual([]);
        },
        callbackWorker,
      );
    } finally {
      await receiver.close();
    }
  });

  it('waits for a DELETE in flight, reports the person it erased, and never parks the request in needs_attention', async () => {
    const receiver = await startReceiver();
    try {
      await runScenario(
        env,
        'hard cancel deleting',
        { faults: { latencyMs: 2500 }, seed: { candidates: person('hard.delete@example.com', 'P-HD', 2) } },
        async (s) => {
          const { handle, workflowId } = await s.start({ email: 'hard.delete@example.com', callbackUrl: receiver.url }, { callbackRetryMs: 1000 });
          await s.waitForStatus(workflowId, (x) => x.persons.some((p) => p.state === 'erasing'));
          // The DELETE reaches the simulator, which answers 2.5 s later; cancel meanwhile.
          await until(
            () => s.sim.stats().byRoute['DELETE /person/:uid'] ?? 0,
            (n) => n > 0,
          );
          await handle.cancel();
          await cancelledError(handle.result());
          expect(s.sim.stats().erasures.map((e) => e.personUid)).toEqual(['P-HD']);
          const [cb] = await until(
            () => receiver.received,
            (r) => r.length > 0,
          );
          expect(cb).toMatchObject({ outcome: 'cancelled', totals: { persons: 1, candidates: 2 } });
          expect(cb!.persons?.map((p) => p.personUid)).toEqual(['P-HD']);
          const st = await s.status(workflowId);
          expect(st.persons).toEqual([expect.objectContaining({ personUid: 'P-HD', state: 'erased' })]);
          expect(st.events.map((e) => e.kind)).not.toContain('needs_attention');
          expect(st.failure).toMatch(/after erasing person\(s\) P-HD \(2 candidate\(s\)\)/);
        },
        callbackWorker,
      );
    } finally {
      await receiver.close();
    }
  });

  // A real request queued behind a dry run was to run next; any cancel of the dry run ends it too.
  const hiddenEmails = { permissions: ALL_PERMISSIONS.filter((p) => p !== 'candidates:source_contact_details') };

  it('tells the callers of a real request queued behind a dry run that the cancel stopped it too, in its own terms', async () => {
    await withReceiver({}, (receiver) =>
      runScenario(
        env,
        'hard cancel queued',
        { seed: { candidates: person('hard.queued@example.com', 'P-HQ') } },
        async (s) => {
          // A slow lookup keeps the dry run open while the real request arrives and queues behind it.
          s.sim.setFaults({ latencyMs: 3000 });
          const dry = await s.start(
            { email: 'hard.queued@example.com', requestId: 'HQ-dry', dryRun: true, callbackUrl: receiver.url },
            { callbackRetryMs: 1000 },
          );
          await queue(s, dry, { email: 'hard.queued@example.com', requestId: 'HQ-real', mode: 'pseudonymize', callbackUrl: receiver.url });
          await dry.handle.cancel();
          await cancelledError(dry.handle.result());
          const cbs = await queuedToldCancelled(receiver, 'HQ-real', {
            event: 'erasure.finished',
            id: dry.workflowId,
            mode: 'pseudonymize',
            regulation: 'gdpr',
          });
          expect(cbs.find((c) => c.requestId === 'HQ-dry')).toMatchObject({ outcome: 'cancelled', dryRun: true, mode: 'delete' });
          const st = await s.status(dry.workflowId);
          expect(st.requests?.find((r) => r.requestId === 'HQ-real')).toMatchObject({ queued: true, callback: 'delivered' });
          expect(st.events.filter((e) => e.kind === 'callback_delivered').map((e) => e.detail)).toEqual(expect.arrayContaining(['HQ-dry', 'HQ-real']));
          await noHandOver(s, dry);
        },
        callbackWorker,
      ),
    );
  });

  it('a Temporal cancel while a finished dry run tells its callers still ends the queued request, and its callers hear so', async () => {
    // The dry run's callback is held: the cancel lands after the dry run's outcome is decided, before it hands over.
    await withReceiver({ held: true }, (receiver) =>
      runScenario(
        env,
        'hard cancel handing over',
        { seed: { candidates: person('late.queued@example.com', 'P-LQ') } },
        async (s) => {
          s.sim.setFaults({ latencyMs: 3000 });
          const dry = await s.start(
            { email: 'late.queued@example.com', requestId: 'LQ-dry', dryRun: true, callbackUrl: receiver.url },
            { callbackRetryMs: 1000 },
          );
          await queue(s, dry, { email: 'late.queued@example.com', requestId: 'LQ-real', callbackUrl: receiver.url });
          await until(
            () => receiver.received.length,
            (n) => n > 0,
          );
          await dry.handle.cancel();
          receiver.release();
          await cancelledError(dry.handle.result());
          const cbs = await queuedToldCancelled(receiver, 'LQ-real', { mode: 'delete', regulation: 'gdpr' });
          expect(cbs.find((c) => c.requestId === 'LQ-dry')).toMatchObject({ outcome: 'dry_run', dryRun: true });
          await noHandOver(s, dry);
        },
        callbackWorker,
      ),
    );
  });

  it('a Temporal cancel while a failed dry run tells its callers ends the queued request instead of handing over, and its callers hear so', async () => {
    // The dry run's failure callback is held: the cancel lands while it is told, before the hand-over.
    await withReceiver({ held: true }, (receiver) =>
      runScenario(
        env,
        'hard cancel failed handing over',
        // Emails hidden: the dry run waits in needs_attention until its deadline, then fails.
        { ...hiddenEmails, seed: { candidates: person('failed.queued@example.com', 'P-FQ') } },
        async (s) => {
          const deadline = new Date(Date.now() + 8_000).toISOString();
          const dry = await s.start(
            { email: 'failed.queued@example.com', requestId: 'FQ-dry', dryRun: true, deadline, callbackUrl: receiver.url },
            { attentionRetryMs: 1000, callbackRetryMs: 1000 },
          );
          await s.waitForPhase(dry.workflowId, 'needs_attention');
          await queue(s, dry, { email: 'failed.queued@example.com', requestId: 'FQ-real', callbackUrl: receiver.url });
          await until(
            () => receiver.received.length,
            (n) => n > 0,
          );
          expect(receiver.received[0]).toMatchObject({ requestId: 'FQ-dry', outcome: 'failed' });
          await dry.handle.cancel();
          receiver.release();
          await cancelledError(s.client.workflow.getHandle(dry.workflowId, dry.runId, { followRuns: false }).result());
          await queuedToldCancelled(receiver, 'FQ-real');
          // The cancel did not cut the dry run's own failure callback off mid-delivery.
          const st = await s.client.workflow.getHandle(dry.workflowId, dry.runId, { followRuns: false }).query<ErasureStatus>('status');
          expect(st.requests?.find((r) => r.requestId === 'FQ-dry')).toMatchObject({ callback: 'delivered' });
          await noHandOver(s, dry);
        },
        callbackWorker,
      ),
    );
  });

  it('a dsar cancel of a dry run ends the real request queued behind it, its callers hear so, and a real request arriving meanwhile is refused, not queued', async () => {
    // Callbacks held: the cancelled run is still telling its callers when the third request arrives.
    await withReceiver({ held: true }, (receiver) =>
      runScenario(
        env,
        'cancel queued',
        // Emails hidden: the dry run's lookup waits in needs_attention, where a cancel is accepted.
        { ...hiddenEmails, seed: { candidates: person('soft.queued@example.com', 'P-SQ') } },
        async (s) => {
          const dry = await s.start(
            { email: 'soft.queued@example.com', requestId: 'SQ-dry', dryRun: true, callbackUrl: receiver.url },
            { attentionRetryMs: 60_000, callbackRetryMs: 1000 },
          );
          await s.waitForPhase(dry.workflowId, 'needs_attention');
          await queue(s, dry, { email: 'soft.queued@example.com', requestId: 'SQ-real', callbackUrl: receiver.url });
          await cancelErasure(s.client, dry.workflowId, 'ticket withdrawn');
          await until(
            () => receiver.received.length,
            (n) => n > 0,
          );
          // Queued now, it would be told nothing and never run: the run will not hand over.
          const late = await s.start({ email: 'soft.queued@example.com', requestId: 'SQ-late', callbackUrl: receiver.url }).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(late).toBeInstanceOf(ErasureConflictError);
          expect(late).toMatchObject({ code: 'request_finishing', retryable: true });
          receiver.release();
          expect((await dry.handle.result()).outcome).toBe('cancelled');
          const cbs = await queuedToldCancelled(receiver, 'SQ-real', { mode: 'delete' });
          expect(cbs.find((c) => c.requestId === 'SQ-dry')).toMatchObject({ outcome: 'cancelled', dryRun: true });
          await noHandOver(s, dry);
        },
        callbackWorker,
      ),
    );
  });
});

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

async function withReceiver(options: { held?: boolean }, use: (receiver: Receiver) => Promise<void>): Promise<void> {
  const receiver = await startReceiver(options);
  try {
    await use(receiver);
  } finally {
    await receiver.close();
  }
}

/** A real request for the dry run's person, queued behind it. */
async function queue(s: Scenario, dry: StartedErasure, request: ErasureInput): Promise<void> {
  expect(await s.start(request)).toMatchObject({ workflowId: dry.workflowId, status: 'queued' });
}

/** Once the dry run's callback and the queued request's are in: the queued one heard that it never ran, in its own terms. */
async function queuedToldCancelled(receiver: Receiver, requestId: string, own: Partial<CallbackPayload> = {}): Promise<CallbackPayload[]> {
  const cbs = await until(
    () => receiver.received,
    (r) => r.length >= 2,
  );
  // One each: the run delivers every callback before it closes, so none can come later.
  expect(cbs).toHaveLength(2);
  expect(cbs.find((c) => c.requestId === requestId)).toMatchObject({
    outcome: 'cancelled',
    dryRun: false,
    totals: { persons: 0, candidates: 0 },
    failure: expect.stringContaining('queued behind a dry run'),
    ...own,
  });
  return cbs;
}

/** Nothing ran after the dry run: the id holds its one closed run, and nobody was erased. */
async function noHandOver(s: Scenario, dry: StartedErasure): Promise<void> {
  expect((await s.client.workflow.getHandle(dry.workflowId).describe()).runId).toBe(dry.runId);
  expect(s.sim.stats().erasures).toEqual([]);
}

describe('follow-up', () => {
  it('cancelling a follow-up leaves its re-erasure running, with the original clock and caller', async () => {
    const receiver = await startReceiver();
    try {
      await runScenario(
        env,
        'follow-up cancel',
        { seed: { candidates: person('again.cancel@example.com', 'P-AC') } },
        async (s) => {
          const receivedAt = new Date(Date.now() - 3 * 86_400_000).toISOString();
          const { handle, workflowId } = await s.start(
            { email: 'again.cancel@example.com', requestId: 'FC-1', receivedAt, callbackUrl: receiver.url },
            { followUpDelayMs: 1500, callbackRetryMs: 1000 },
          );
          const first: ErasureResult = await handle.result();
          expect(first.outcome).toBe('completed');
          // The person applies again, and is in interviews when the follow-up looks.
          s.sim.addCandidate(interviewing('again.cancel@example.com', 'P-AC2', '+2d'));
          const followUp = env.client.workflow.getHandle<() => Promise<FollowUpResult>>(first.followUp!.workflowId);
          const again = await pollStatus(s.client, workflowId, (x) => x.phase === 'waiting_for_interviews' && x.persons.some((p) => p.personUid === 'P-AC2'));
          expect(again.receivedAt).toBe(receivedAt);
          expect(again.deadline).toBe(first.deadline);
          expect(again.requests).toEqual([{ requestId: 'FC-1', mode: 'delete', regulation: 'gdpr', dryRun: false, hasCallback: true }]);
          // Its Comeet lookup ran on the lowest priority key.
          const priorities = ((await followUp.fetchHistory()).events ?? [])
            .map((e) => e.activityTaskScheduledEventAttributes?.priority?.priorityKey)
            .filter((k) => k !== undefined);
          expect(priorities).toEqual([5]);

          await followUp.cancel();
          await cancelledError(followUp.result());
          // The re-erasure goes on: still waiting, a new run of the erasure's id.
          await new Promise((r) => setTimeout(r, 1000));
          const d = await env.client.workflow.getHandle(workflowId).describe();
          expect(d.status.name).toBe('RUNNING');
          expect((await s.status(workflowId)).phase).toBe('waiting_for_interviews');
          await cancelErasure(s.client, workflowId, 'test over');
          expect((await env.client.workflow.getHandle(workflowId).result()).outcome).toBe('cancelled');
        },
        callbackWorker,
      );
    } finally {
      await receiver.close();
    }
  });

  it('a follow-up whose lookup fails tells the original caller and shows as DsarPhase="failed"', async () => {
    const receiver = await startReceiver();
    try {
      await runScenario(
        env,
        'follow-up failed',
        { readWithoutPermission: 'forbid', seed: { candidates: person('again.fail@example.com', 'P-AF') } },
        async (s) => {
          const { handle, workflowId } = await s.start(
            { email: 'again.fail@example.com', requestId: 'FF-1', callbackUrl: receiver.url },
            { followUpDelayMs: 1500, callbackRetryMs: 1000 },
          );
          const first = await handle.result();
          // The person applies again, and the permission to read them is withdrawn before the follow-up
          // looks: a 403 that no retry can fix.
          s.sim.addCandidate(person('again.fail@example.com', 'P-AF2')[0]!);
          s.sim.setPermissions(ALL_PERMISSIONS.filter((p) => p !== 'candidates:read_other_sources'));
          const followUp = env.client.workflow.getHandle(first.followUp!.workflowId);
          const err = await followUp.result().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(WorkflowFailedError);
          const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
          expect(cause).toBeInstanceOf(ApplicationFailure);
          expect(cause.type).toBe('FollowUpFailed');
          expect(cause.message).toContain(workflowId);
          expect(cause.message.toLowerCase()).not.toContain('again.fail');
          const cbs = await until(
            () => receiver.received,
            (r) => r.some((c) => c.event === 'erasure.follow_up_failed'),
          );
          expect(cbs.find((c) => c.event === 'erasure.follow_up_failed')).toMatchObject({
            id: workflowId,
            requestId: 'FF-1',
            outcome: 'failed',
            followUpId: first.followUp!.workflowId,
            failure: expect.stringContaining('failed after its retries'),
          });
          const q = `WorkflowType="dsarFollowUp" AND WorkflowId="${first.followUp!.workflowId}" AND DsarPhase="failed"`;
          const found = await until(
            async () => {
              const out = [];
              for await (const wf of env.client.workflow.list({ query: q })) out.push(wf.workflowId);
              return out;
            },
            (l) => l.length === 1,
          );
          expect(found).toEqual([first.followUp!.workflowId]);
          expect(await listErasures(env.client, `WorkflowId="${workflowId}"`)).toHaveLength(1);
        },
        callbackWorker,
      );
    } finally {
      await receiver.close();
    }
  });
});
