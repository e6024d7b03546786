/**
 * The erasure workflow end to end: a real Temporal dev server, a real worker, the real Comeet client
 * over HTTP against the simulator. Each test has its own simulator and task queue.
 */
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import {
  CancelRefusedError,
  cancelErasure,
  ErasureConflictError,
  erasureHandle,
  erasureWorkflowId,
  extendDeadline,
  InvalidErasureRequestError,
  listErasures,
  recheckNow,
} from '../../src/client.js';
import { attachRequestSignal } from '../../src/workflows/index.js';
import { ComeetPermission } from '../../src/comeet/index.js';
import { cancelSignal, cancelUpdate } from '../../src/workflows/index.js';
import { ALL_PERMISSIONS } from '../../src/simulator/server.js';
import { verifyReceipt } from '../../src/receipt/index.js';
import { testReceiptKeys } from '../helpers/receipts.js';
import { bystanders, FAST_TUNING, interviewing, person, runScenario } from '../helpers/scenario.js';
import { eventually } from '../helpers/eventually.js';
import { useDevServer } from '../helpers/temporal.js';
import { DsarRequestIds } from '../../src/search-attributes.js';
import type { ErasureStatus } from '../../src/erasure-status.js';

let env: TestWorkflowEnvironment;
useDevServer((started) => (env = started));

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('dsarErasure', () => {
  it('deletes every application of the person with one lookup, one erase and one verification', async () => {
    await runScenario(env, 'delete', { seed: { candidates: [...person('Ada.Lovelace@Example.com', 'P-ADA', 2), ...bystanders(5)] } }, async (s) => {
      const { handle, workflowId } = await s.start({ email: '  ada.lovelace@example.com ', requestId: 'req-1' });
      expect(workflowId).toMatch(/^dsar-[0-9a-f]{32}$/);
      const r = await handle.result();
      expect(r.outcome).toBe('completed');
      expect(r.mode).toBe('delete');
      expect(r.persons.map((p) => p.personUid)).toEqual(['P-ADA']);
      expect(r.totals).toEqual({ persons: 1, candidates: 2 });
      expect(r.verifiedAbsentAt).toBeTruthy();
      expect(JSON.stringify(r).toLowerCase()).not.toContain('ada.lovelace');
      // The common case spends exactly: one lookup, one erase, one lookup proving absence.
      expect(s.sim.stats().byRoute).toEqual({ 'GET /candidates': 2, 'DELETE /person/:uid': 1 });
      expect(
        s.sim
          .candidates()
          .filter((c) => c.deleted)
          .map((c) => c.person_uid),
      ).toEqual(['P-ADA', 'P-ADA']);
      expect(s.sim.candidates().filter((c) => !c.deleted)).toHaveLength(5);
      const st = await s.status(workflowId);
      expect(st.phase).toBe('completed');
      // The proof of erasure verifies against the public key and says what was erased.
      const { receipt } = await verifyReceipt(r.receipt!, { jwks: (await testReceiptKeys()).jwks });
      expect(receipt).toMatchObject({
        outcome: 'completed',
        workflowId,
        subjectHash: workflowId.slice(5),
        requestId: 'req-1',
        mode: 'delete',
        totals: { persons: 1, candidates: 2 },
        verifiedAbsentAt: r.verifiedAbsentAt,
      });
      expect(receipt.persons[0]!.candidateUids.sort()).toEqual(r.persons[0]!.candidateUids.sort());
      expect(r.receipt!.split('.')[1]).not.toContain(Buffer.from('@').toString('base64url'));
    });
  });

  it('a simple erasure takes the lean path: started without an update, one patch marker, the receipt signed by the verifying lookup, 4 workflow tasks', async () => {
    await runScenario(env, 'lean', { seed: { candidates: [...person('lean@example.com', 'P-LEAN', 1)] } }, async (s) => {
      const { handle, status } = await s.start({ email: 'lean@example.com', requestId: 'lean-1' });
      expect(status).toBe('started');
      const r = await handle.result();
      expect(r.outcome).toBe('completed');
      const events = (await handle.fetchHistory()).events ?? [];
      const markers = events.flatMap((e) => (e.markerRecordedEventAttributes ? [e.markerRecordedEventAttributes] : []));
      // One patch marker; before: one marker per patch, each with its own upsert.
      expect(markers.map((m) => m.markerName)).toEqual(['core_patch']);
      // Its own request is in the start's input: no update accepted and completed.
      expect(events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateCompletedEventAttributes)).toEqual([]);
      const activities = events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
      // Three Comeet calls, and no signing activity: the lookup that proved absence signed the receipt.
      expect(activities).toEqual(['lookupPage', 'erasePerson', 'lookupPage']);
      const phaseUpserts = events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.['DsarPhase']);
      // The start set looking_up; erasing and verifying are upserted because at the cap they can last minutes and operators filter on them.
      expect(phaseUpserts).toHaveLength(3);
      expect(events.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(4);
      expect(events.length).toBeLessThanOrEqual(28);
      const st = await s.status((await handle.describe()).workflowId);
      expect(st.events.filter((e) => e.kind === 'phase').map((e) => e.detail)).toEqual(['looking_up', 'erasing', 'verifying', 'completed']);
      expect((await handle.describe()).searchAttributes).toMatchObject({ DsarPhase: ['completed'] });
      // The receipt states the times of the run's result: absence seen, and the work finished, at the verifying lookup.
      const { receipt } = await verifyReceipt(r.receipt!, { jwks: (await testReceiptKeys()).jwks });
      expect(receipt).toMatchObject({ outcome: 'completed', requestId: 'lean-1', verifiedAbsentAt: r.verifiedAbsentAt, finishedAt: r.finishedAt, lookups: 2 });
      expect(Date.parse(receipt.verifiedAbsentAt)).toBeGreaterThanOrEqual(Date.parse(r.startedAt));
    });
  });

  it('pseudonymizes the person', async () => {
    await runScenario(env, 'pseudonymize', { seed: { candidates: [...person('pseudo@example.com', 'P-PS', 2), ...bystanders(2)] } }, async (s) => {
      const r = await (await s.start({ email: 'pseudo@example.com', mode: 'pseudonymize', regulation: 'ccpa' })).handle.result();
      expect(r.outcome).toBe('completed');
      expect(r.mode).toBe('pseudonymize');
      expect(r.totals.candidates).toBe(2);
      expect(s.sim.stats().erasures).toEqual([expect.objectContaining({ personUid: 'P-PS', mode: 'pseudonymize' })]);
      expect(
        s.sim
          .candidates()
          .filter((c) => c.person_uid === 'P-PS')
          .every((c) => c.pseudonymized && !c.deleted),
      ).toBe(true);
      expect(s.sim.stats().byRoute['DELETE /person/:uid']).toBeUndefined();
    });
  });

  it('reports no_data after one lookup when Comeet has nobody with that email', async () => {
    await runScenario(env, 'no data', { seed: { candidates: bystanders(3) } }, async (s) => {
      const r = await (await s.start({ email: 'nobody@example.com' })).handle.result();
      expect(r.outcome).toBe('no_data');
      expect(r.persons).toEqual([]);
      // A no_data outcome is proven too: the lookup was done, and when.
      const { receipt } = await verifyReceipt(r.receipt!, { jwks: (await testReceiptKeys()).jwks });
      expect(receipt).toMatchObject({ outcome: 'no_data', persons: [], totals: { persons: 0, candidates: 0 }, lookups: 1 });
      expect(s.sim.stats().total).toBe(1);
    });
  });

  it('erases two persons who share one email', async () => {
    await runScenario(
      env,
      'two persons',
      { seed: { candidates: [...person('shared@example.com', 'P-1'), ...person('SHARED@example.com', 'P-2', 2)] } },
      async (s) => {
        const r = await (await s.start({ email: 'shared@example.com' })).handle.result();
        expect(r.outcome).toBe('completed');
        expect(r.persons.map((p) => p.personUid).sort()).toEqual(['P-1', 'P-2']);
        expect(r.totals.candidates).toBe(3);
        expect(s.sim.stats().byRoute['DELETE /person/:uid']).toBe(2);
      },
    );
  });

  it('never erases people a server-side filter failed to exclude', async () => {
    await runScenario(
      env,
      'ignored filter',
      { emailFilter: 'ignored', pageSize: 2, seed: { candidates: [...person('target@example.com', 'P-T'), ...bystanders(5)] } },
      async (s) => {
        const r = await (await s.start({ email: 'target@example.com' })).handle.result();
        expect(r.persons.map((p) => p.personUid)).toEqual(['P-T']);
        expect(s.sim.stats().erasures.map((e) => e.personUid)).toEqual(['P-T']);
        expect(s.sim.candidates().filter((c) => c.deleted)).toHaveLength(1);
      },
    );
  });

  it('erases one person at once while another waits for interviews, and refuses cancel once erasure started', async () => {
    await runScenario(
      env,
      'one blocked',
      { seed: { candidates: [...person('pair@example.com', 'P-FREE'), interviewing('pair@example.com', 'P-BUSY', '+1d')] } },
      async (s) => {
        const { handle, workflowId } = await s.start({ email: 'pair@example.com' });
        const st = await s.waitForStatus(workflowId, (x) => x.phase === 'waiting_for_interviews' && x.persons.some((p) => p.state === 'erased'));
        const free = st.persons.find((p) => p.personUid === 'P-FREE')!;
        const busy = st.persons.find((p) => p.personUid === 'P-BUSY')!;
        expect(free.state).toBe('erased');
        expect(busy.state).toBe('blocked');
        expect(busy.blockingCandidateUids).toEqual(busy.candidateUids);
        expect(st.blockingCandidateUids).toEqual(busy.candidateUids);
        // The known interview time drives the re-check: about a day away, not a blind poll.
        expect(Date.parse(busy.nextCheckAt!)).toBeGreaterThan(Date.now() + 23 * 3600_000);
        expect(s.sim.stats().erasures.map((e) => e.personUid)).toEqual(['P-FREE']);

        // The operator hears the refusal at once, and it leaves no trace in history.
        const refusal = await cancelErasure(env.client, workflowId, 'subject withdrew the request', 'alice').catch((e: unknown) => e);
        expect(refusal).toBeInstanceOf(CancelRefusedError);
        expect((refusal as Error).message).toBe('erasure has started; it cannot be undone or interrupted');
        // (The start's own attachRequest update is accepted too: look at the cancels only.)
        expect(
          ((await handle.fetchHistory()).events ?? []).filter(
            (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'cancel',
          ),
        ).toEqual([]);
        // The signal, kept for older callers, is refused the same way and says so in the events.
        await handle.signal(cancelSignal, { reason: 'subject withdrew the request', actor: 'alice' });
        const refused = await s.waitForStatus(workflowId, (x) => x.events.some((e) => e.kind === 'cancel_refused'));
        expect(refused.events.find((e) => e.kind === 'cancel_refused')).toMatchObject({
          actor: 'alice',
          detail: expect.stringContaining('erasure has started'),
        });
        expect(refused.cancellation).toBeUndefined();

        s.sim.completeInterviews('P-BUSY');
        await recheckNow(env.client, workflowId, 'bob');
        const r = await handle.result();
        expect(r.outcome).toBe('completed');
        expect(r.persons.map((p) => p.personUid).sort()).toEqual(['P-BUSY', 'P-FREE']);
      },
    );
  });

  it('resumes by itself when the interview ends', async () => {
    await runScenario(env, 'auto resume', { seed: { candidates: [interviewing('auto@example.com', 'P-AUTO', '+2s', 1 / 60)] } }, async (s) => {
      const started = Date.now();
      // Comeet gives the start time only (to the second); a 2.5 s margin covers this 1 s interview.
      const { handle, workflowId } = await s.start({ email: 'auto@example.com' }, { interviewMarginMs: 2500 });
      const st = await s.waitForPhase(workflowId, 'waiting_for_interviews');
      expect(st.persons[0]!.blockingCandidateUids).toHaveLength(1);
      // Nobody signals: the durable timer wakes the workflow just after the scheduled interview.
      const r = await handle.result();
      expect(r.outcome).toBe('completed');
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
      const final = await s.status(workflowId);
      // One blocked attempt, one that erases: the timer was aimed, not polling.
      expect(final.persons[0]!.attempts).toBe(2);
      expect(final.events.map((e) => e.kind)).toContain('blocked');
    });
  });

  it('erases at once on recheckNow after the interview is cleared', async () => {
    await runScenario(env, 'recheck now', { seed: { candidates: [interviewing('recheck@example.com', 'P-RC', '+3d')] } }, async (s) => {
      const { handle, workflowId } = await s.start({ email: 'recheck@example.com' });
      await s.waitForPhase(workflowId, 'waiting_for_interviews');
      const [item] = await eventually(
        () => listErasures(env.client, `WorkflowId="${workflowId}" AND DsarPhase="waiting_for_interviews"`),
        (l) => l.length === 1,
      );
      expect(item).toMatchObject({ phase: 'waiting_for_interviews', mode: 'delete', atRisk: false });
      s.sim.completeInterviews('P-RC');
      await recheckNow(env.client, workflowId, 'operator-1');
      const r = await handle.result();
      expect(r.outcome).toBe('completed');
      const st = await s.status(workflowId);
      expect(st.events).toContainEqual(expect.objectContaining({ kind: 'recheck_requested', actor: 'operator-1' }));
    });
  });

  it('cancels a waiting request on the cancel update, erasing nothing', async () => {
    await runScenario(env, 'cancel', { seed: { candidates: [interviewing('cancel@example.com', 'P-C', '+2d')] } }, async (s) => {
      const { handle, workflowId } = await s.start({ email: 'cancel@example.com' });
      await s.waitForPhase(workflowId, 'waiting_for_interviews');
      await expect(cancelErasure(env.client, workflowId, '   ')).rejects.toThrow(InvalidErasureRequestError);
      // A raw update without a reason (as `temporal workflow update execute` could send) is refused by the workflow.
      await expect(handle.executeUpdate(cancelUpdate, { args: [{ reason: ' ' }] })).rejects.toThrow(WorkflowUpdateFailedError);
      const accepted = await cancelErasure(env.client, workflowId, 'duplicate ticket', 'carol');
      expect(accepted).toMatchObject({ cancelled: true, reason: 'duplicate ticket', actor: 'carol' });
      const r = await handle.result();
      expect(r.outcome).toBe('cancelled');
      expect(r.cancellation).toMatchObject({ reason: 'duplicate ticket', actor: 'carol' });
      expect(s.sim.stats().erasures).toEqual([]);
      const [item] = await eventually(
        () => listErasures(env.client, `WorkflowId="${workflowId}"`),
        (l) => l[0]?.phase === 'cancelled',
      );
      expect(item!.phase).toBe('cancelled');
    });
  });

  it('accepts a valid deadline extension and rejects invalid ones', async () => {
    // GDPR: one month from receipt; at most two more months.
    await runScenario(env, 'extend deadline', { seed: { candidates: [interviewing('extend2@example.com', 'P-X', '+10d')] } }, async (s) => {
      const receivedAt = new Date(Date.now() - 5 * 86_400_000).toISOString();
      const { workflowId, handle } = await s.start({ email: 'extend2@example.com', receivedAt });
      const st = await s.waitForPhase(workflowId, 'waiting_for_interviews');
      const current = Date.parse(st.deadline);
      await expect(extendDeadline(env.client, workflowId, new Date(current - 86_400_000).toISOString())).rejects.toThrow(WorkflowUpdateFailedError);
      await expect(extendDeadline(env.client, workflowId, 'next tuesday')).rejects.toThrow(WorkflowUpdateFailedError);
      const tooLate = new Date(Date.parse(receivedAt) + 100 * 86_400_000).toISOString();
      const err = await extendDeadline(env.client, workflowId, tooLate).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((err as WorkflowUpdateFailedError).cause?.message)).toContain('two further months');

      const later = new Date(current + 30 * 86_400_000).toISOString();
      expect(await extendDeadline(env.client, workflowId, later, { reason: 'complex request', actor: 'dpo' })).toBe(later);
      const after = await s.status(workflowId);
      expect(after.deadline).toBe(later);
      expect(after.events).toContainEqual(expect.objectContaining({ kind: 'deadline_extended', actor: 'dpo' }));
      // Rejected updates leave no trace in history; the accepted one does.
      const history = await handle.fetchHistory();
      // (The start's own attachRequest update is accepted too: count the extensions only.)
      const updates = history.events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'extendDeadline') ?? [];
      expect(updates).toHaveLength(1);
      await cancelErasure(env.client, workflowId, 'test over');
      await handle.result();
    });
  });

  it('does not let an early caller deadline buy priority on the shared Comeet budget', async () => {
    await runScenario(env, 'early deadline', { seed: { candidates: person('early@example.com', 'P-EARLY') } }, async (s) => {
      const priorities = async (handle: {
        fetchHistory(): Promise<{
          events?:
            | {
                activityTaskScheduledEventAttributes?: {
                  activityType?: { name?: string | null } | null;
                  priority?: { priorityKey?: number | null } | null;
                } | null;
              }[]
            | null;
        }>;
      }) =>
        ((await handle.fetchHistory()).events ?? [])
          .map((e) => e.activityTaskScheduledEventAttributes)
          .filter((a) => a?.activityType?.name === 'lookupPage')
          .map((a) => a?.priority?.priorityKey);
      // A deadline a day away on a request received now: GDPR gives a month, so it is ordered as a month.
      const early = await s.start({ email: 'early@example.com', deadline: new Date(Date.now() + 86_400_000).toISOString() });
      expect((await early.handle.result()).outcome).toBe('completed');
      // Both its lookups (look up, verify) are ordered as a month.
      expect(await priorities(early.handle)).toEqual([5, 5]);
      // A request received 29 days ago is truly urgent, whatever deadline it names.
      const late = await s.start({ email: 'early@example.com', receivedAt: new Date(Date.now() - 29 * 86_400_000).toISOString(), requestId: 'late-1' });
      expect((await late.handle.result()).outcome).toBe('no_data');
      expect(await priorities(late.handle)).toEqual([1]);
    });
  });

  it('flags the request at risk at once when the known interview runs past the deadline', async () => {
    await runScenario(env, 'at risk', { seed: { candidates: [interviewing('risk@example.com', 'P-R', '+40d')] } }, async (s) => {
      const { workflowId, handle } = await s.start({ email: 'risk@example.com' });
      const st = await s.waitForStatus(workflowId, (x) => x.phase === 'waiting_for_interviews' && x.atRisk);
      expect(st.atRiskReason).toContain('after the deadline');
      await eventually(
        () => listErasures(env.client, `WorkflowId="${workflowId}" AND DsarAtRisk=true`),
        (l) => l.length === 1,
      );
      await cancelErasure(env.client, workflowId, 'test over');
      await handle.result();
    });
  });

  it('moves to needs_attention naming the missing permission, and completes once it is granted', async () => {
    const withoutErase = ALL_PERMISSIONS.filter((p) => p !== 'persons:erase');
    await runScenario(env, 'permission', { permissions: withoutErase, seed: { candidates: person('perm@example.com', 'P-PERM') } }, async (s) => {
      const { handle, workflowId } = await s.start({ email: 'perm@example.com' }, { attentionRetryMs: 1500 });
      const st = await s.waitForPhase(workflowId, 'needs_attention');
      expect(st.attention).toMatchObject({ code: 'ComeetNoPermission', permission: ComeetPermission.erasePersons });
      await eventually(
        () => listErasures(env.client, `WorkflowId="${workflowId}" AND DsarPhase="needs_attention"`),
        (l) => l.length === 1,
      );
      // It keeps retrying by itself: more erase attempts pile up without anyone's help.
      await s.waitForStatus(workflowId, (x) => x.eraseAttempts >= 2, 10_000);
      s.sim.setPermissions([...ALL_PERMISSIONS]);
      const r = await handle.result();
      expect(r.outcome).toBe('completed');
      const final = await s.status(workflowId);
      expect(final.attention).toBeUndefined();
      expect(final.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['needs_attention', 'attention_cleared']));
    });
  });

  it('does not read hidden emails as absence: needs_attention naming the permission, no receipt, nothing erased; completes once granted', async () => {
    const withoutContact = ALL_PERMISSIONS.filter((p) => p !== 'candidates:source_contact_details');
    await runScenario(
      env,
      'emails hidden',
      { permissions: withoutContact, seed: { candidates: [...person('hidden@example.com', 'P-HID', 2), ...bystanders(2)] } },
      async (s) => {
        const { handle, workflowId } = await s.start({ email: 'hidden@example.com' });
        const st = await s.waitForPhase(workflowId, 'needs_attention');
        expect(st.attention).toMatchObject({ code: 'ComeetEmailsHidden', permission: ComeetPermission.sourceContactDetails });
        expect(st.attention?.reason).toContain('without an email');
        expect(st.attention?.reason).not.toContain('hidden@');
        expect(st.persons).toEqual([]);
        // Parked, not finished: no no_data outcome, so no receipt; and nobody erased.
        expect((await handle.describe()).status.name).toBe('RUNNING');
        expect(s.sim.stats().erasures).toEqual([]);

        s.sim.setPermissions([...ALL_PERMISSIONS]);
        await recheckNow(s.client, workflowId, 'permission granted');
        const r = await handle.result();
        expect(r.outcome).toBe('completed');
        expect(r.persons.map((p) => p.personUid)).toEqual(['P-HID']);
        expect(r.totals).toEqual({ persons: 1, candidates: 2 });
        const { receipt } = await verifyReceipt(r.receipt!, { jwks: (await testReceiptKeys()).jwks });
        expect(receipt).toMatchObject({ outcome: 'completed', totals: { persons: 1, candidates: 2 } });
        expect(
          s.sim
            .candidates()
            .filter((c) => c.deleted)
            .map((c) => c.person_uid),
        ).toEqual(['P-HID', 'P-HID']);
      },
    );
  });

  it('moves to needs_attention on a token Comeet refuses, without failing the request', async () => {
    // The simulator expects another secret than the worker signs with: a misconfigured integration.
    await runScenario(env, 'bad token', { secret: 'the-rotated-secret-0000', seed: { candidates: person('token@example.com', 'P-TOK') } }, async (s) => {
      const { handle, workflowId } = await s.start({ email: 'token@example.com' });
      const st = await s.waitForPhase(workflowId, 'needs_attention');
      expect(st.attention?.code).toBe('ComeetUnauthorized');
      expect(st.attention?.reason).toContain('COMEET_SECRET');
      expect(st.attention?.reason).not.toContain('the-rotated-secret');
      expect(Date.parse(st.attention!.nextRetryAt)).toBeGreaterThan(Date.now());
      // Nothing was looked up, so nothing can have been erased; the request is parked, not failed.
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await cancelErasure(env.client, workflowId, 'test over');
      expect((await handle.result()).outcome).toBe('cancelled');
    });
  });

  it('completes despite a 429 storm and 5xx faults, without a call storm', async () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    await runScenario(
      env,
      'faults',
      {
        random,
        rateLimit: { limit: 4, windowMs: 1000 },
        faults: { errorRate: 0.3, rateLimitBurst: 3 },
        seed: { candidates: [...person('storm1@example.com', 'P-S1'), ...person('storm2@example.com', 'P-S2'), ...person('storm3@example.com', 'P-S3')] },
      },
      async (s) => {
        const started = await Promise.all(['storm1', 'storm2', 'storm3'].map((n) => s.start({ email: `${n}@example.com` })));
        const results = await Promise.all(started.map((x) => x.handle.result()));
        expect(results.map((r) => r.outcome)).toEqual(['completed', 'completed', 'completed']);
        const stats = s.sim.stats();
        expect(stats.rateLimited).toBeGreaterThanOrEqual(3);
        expect(stats.faultsInjected).toBeGreaterThan(0);
        expect(stats.erasures.map((e) => e.personUid).sort()).toEqual(['P-S1', 'P-S2', 'P-S3']);
        // 9 calls succeed (3 × lookup, erase, verify); retries are bounded, not a storm.
        expect(stats.total).toBeLessThan(60);
      },
    );
  });

  it('attaches a duplicate request (any case or padding) to the running one', async () => {
    await runScenario(env, 'duplicate', { seed: { candidates: [interviewing('dup@example.com', 'P-DUP', '+1d')] } }, async (s) => {
      const [a, b, c] = await Promise.all([
        s.start({ email: 'dup@example.com' }),
        s.start({ email: ' DUP@Example.COM ' }),
        s.start({ email: 'Dup@example.com', mode: 'delete' }),
      ]);
      expect(new Set([a.workflowId, b.workflowId, c.workflowId]).size).toBe(1);
      expect([a, b, c].filter((x) => !x.attached)).toHaveLength(1);
      expect(new Set([a.runId, b.runId, c.runId]).size).toBe(1);
      expect(a.workflowId).toBe(erasureWorkflowId('dup@example.com', s.idKey));
      expect(a.workflowId).not.toContain('dup');
      const open = await eventually(
        () => listErasures(env.client, `WorkflowId="${a.workflowId}"`),
        (l) => l.length === 1,
      );
      expect(open).toHaveLength(1);
      // Cancel only once blocked: during the erase attempt that meets the interview, cancel is refused.
      await s.waitForPhase(a.workflowId, 'waiting_for_interviews');
      await cancelErasure(env.client, a.workflowId, 'test over');
      await a.handle.result();
    });
  });

  it('joins a twin request (no requestId, same parameters) to a run started without its update', async () => {
    await runScenario(env, 'twin', { seed: { candidates: [interviewing('twin@example.com', 'P-TWIN', '+1d')] } }, async (s) => {
      // What startErasure does when no worker was polling yet: a plain start, no attachRequest update.
      const workflowId = erasureWorkflowId('twin@example.com', s.idKey);
      const plain = await s.client.workflow.start('dsarErasure', {
        taskQueue: s.taskQueue,
        workflowId,
        args: [{ email: 'twin@example.com', mode: 'delete', regulation: 'gdpr', dryRun: false, tuning: FAST_TUNING }],
      });
      await s.waitForPhase(workflowId, 'waiting_for_interviews');
      const twins = await Promise.all([s.start({ email: 'twin@example.com' }), s.start({ email: ' TWIN@example.com' })]);
      for (const t of twins) expect(t).toMatchObject({ workflowId, runId: plain.firstExecutionRunId, attached: true });
      await cancelErasure(env.client, workflowId, 'test over');
    });
  });

  it('applies the request rules through startErasure: replay, join, refuse, and replay of a finished run', async () => {
    await runScenario(env, 'request rules', { seed: { candidates: [interviewing('rules@example.com', 'P-RU', '+1d')] } }, async (s) => {
      const email = 'rules@example.com';
      const conflict = (p: Promise<unknown>) =>
        p.then(
          () => undefined,
          (e: unknown) => e as ErasureConflictError,
        );
      const first = await s.start({ email, requestId: 'W-1', mode: 'pseudonymize' });
      expect(first).toMatchObject({ status: 'started', attached: false });
      await s.waitForPhase(first.workflowId, 'waiting_for_interviews');
      const cases: [Parameters<typeof s.start>[0], string, boolean][] = [
        [{ email, requestId: 'W-2', dryRun: true, mode: 'pseudonymize' }, 'erasure_in_progress', true],
        [{ email, requestId: 'W-3' }, 'request_in_progress', true],
        [{ email, requestId: 'W-4', mode: 'pseudonymize', regulation: 'ccpa' }, 'request_in_progress', true],
        [{ email, requestId: 'W-1', mode: 'delete' }, 'request_conflict', false],
        [{ email, requestId: 'W-1', mode: 'pseudonymize', callbackUrl: 'https://hooks.example.com/x' }, 'request_conflict', false],
      ];
      for (const [request, code, retryable] of cases) {
        const err = await conflict(s.start(request));
        expect(err, JSON.stringify(request)).toBeInstanceOf(ErasureConflictError);
        expect({ code: err!.code, retryable: err!.retryable }).toEqual({ code, retryable });
        expect(err!.message).not.toContain('rules@');
      }
      expect(await s.start({ email, requestId: 'W-1', mode: 'pseudonymize' })).toMatchObject({ status: 'replayed', runId: first.runId });
      expect(await s.start({ email, requestId: 'W-5', mode: 'pseudonymize', caller: 'svc' })).toMatchObject({
        status: 'attached',
        runId: first.runId,
        otherCallers: true,
      });
      // The old signal goes through the same rules: a delete is refused (and logged), never merged.
      await erasureHandle(s.client, first.workflowId).signal(attachRequestSignal, { requestId: 'W-6', mode: 'delete' });
      await erasureHandle(s.client, first.workflowId).signal(attachRequestSignal, { requestId: 'W-7' });
      const st2 = await s.waitForStatus(first.workflowId, (x) => (x.requests ?? []).length === 3);
      expect(st2.events).toContainEqual(expect.objectContaining({ kind: 'attach_refused', detail: expect.stringMatching(/not merged/) }));
      expect(st2.requests?.map((r) => r.requestId)).toEqual(['W-1', 'W-5', 'W-7']);
      expect(st2.events).toContainEqual(expect.objectContaining({ kind: 'request_attached', actor: 'svc' }));
      const sa = (await erasureHandle(s.client, first.workflowId).describe()).typedSearchAttributes;
      expect(sa.get(DsarRequestIds)).toEqual(['W-1', 'W-5', 'W-7']);

      s.sim.completeInterviews('P-RU');
      await recheckNow(s.client, first.workflowId, 'test');
      expect((await first.handle.result()).outcome).toBe('completed');
      // Closed: the client answers from what the run recorded, without its worker.
      expect(await s.start({ email, requestId: 'W-5', mode: 'pseudonymize', caller: 'svc' })).toMatchObject({
        status: 'replayed',
        runStatus: 'COMPLETED',
        runId: first.runId,
      });
      expect((await conflict(s.start({ email, requestId: 'W-5', caller: 'svc' })))?.code).toBe('request_conflict');
      // Another caller's W-5 is a new request: a new run.
      const fresh = await s.start({ email, requestId: 'W-5', caller: 'another', dryRun: true });
      expect(fresh).toMatchObject({ status: 'started' });
      expect(fresh.runId).not.toBe(first.runId);
      expect((await fresh.handle.result()).outcome).toBe('no_data');
      expect(s.sim.stats().erasures).toHaveLength(1);
    });
  });

  it('fails loudly when the deadline passes while interviews still block', async () => {
    await runScenario(env, 'deadline', { seed: { candidates: [interviewing('late@example.com', 'P-L', '+5d')] } }, async (s) => {
      const receivedAt = new Date(Date.now() - 60_000).toISOString();
      const deadline = new Date(Date.now() + 3000).toISOString();
      const { handle, workflowId } = await s.start({ email: 'late@example.com', receivedAt, deadline });
      const f = await failureOf(handle.result());
      expect(f.type).toBe('DeadlinePassed');
      expect(f.message).toContain('extend');
      const st = await s.status(workflowId);
      expect(st.phase).toBe('failed');
      expect(s.sim.stats().erasures).toEqual([]);
    });
  });

  it('dry run reports who would be erased and erases nothing', async () => {
    await runScenario(env, 'dry run', { seed: { candidates: [...person('dry@example.com', 'P-DRY', 2), ...bystanders(2)] } }, async (s) => {
      const r = await (await s.start({ email: 'dry@example.com', dryRun: true })).handle.result();
      expect(r.outcome).toBe('dry_run');
      expect(r.wouldErase).toEqual([{ personUid: 'P-DRY', candidateUids: expect.any(Array) }]);
      expect(r.wouldErase![0]!.candidateUids).toHaveLength(2);
      expect(r.persons).toEqual([]);
      expect(s.sim.stats().erasures).toEqual([]);
      expect(s.sim.stats().byRoute).toEqual({ 'GET /candidates': 1 });
    });
  });

  it('runs the real request queued behind a dry run that failed, instead of dropping it', async () => {
    // Emails hidden: the dry run's lookup waits in needs_attention until its deadline passes.
    const noRead = ALL_PERMISSIONS.filter((p) => p !== 'candidates:source_contact_details');
    await runScenario(
      env,
      'queued after failed dry run',
      { permissions: noRead, seed: { candidates: person('behind@example.com', 'P-BEHIND') } },
      async (s) => {
        const email = 'behind@example.com';
        const deadline = new Date(Date.now() + 4_000).toISOString();
        const dry = await s.start({ email, requestId: 'fd-dry', dryRun: true, deadline }, { attentionRetryMs: 1000 });
        await s.waitForPhase(dry.workflowId, 'needs_attention');
        const real = await s.start({ email, requestId: 'fd-real' });
        expect(real).toMatchObject({ workflowId: dry.workflowId, status: 'queued' });
        // The dry run fails at its deadline; the real request goes on under the same id, with its own clock.
        await eventually(
          async () => (await s.client.workflow.getHandle(dry.workflowId, dry.runId).describe()).status.name,
          (st) => st !== 'RUNNING',
          20_000,
        );
        const dryRun = s.client.workflow.getHandle(dry.workflowId, dry.runId, { followRuns: false });
        expect((await dryRun.describe()).status.name).toBe('CONTINUED_AS_NEW');
        const dryEvents = (await dryRun.query<ErasureStatus>('status')).events.map((e) => e.kind);
        expect(dryEvents).toEqual(expect.arrayContaining(['failed', 'continuing']));
        const next = await s.waitForStatus(dry.workflowId, (x) => x.phase === 'needs_attention' && !x.dryRun);
        expect(next.requestId).toBe('fd-real');
        s.sim.setPermissions([...ALL_PERMISSIONS]);
        const r = await s.client.workflow.getHandle(dry.workflowId).result();
        expect(r.outcome).toBe('completed');
        expect(s.sim.stats().erasures.map((e) => e.personUid)).toEqual(['P-BEHIND']);
      },
    );
  });

  it('re-erases a person Comeet keeps returning, a bounded number of times, then fails', async () => {
    await runScenario(env, 'verification', { pseudonymizeKeepsEmail: true, seed: { candidates: person('sticky@example.com', 'P-STICKY') } }, async (s) => {
      const { handle } = await s.start({ email: 'sticky@example.com', mode: 'pseudonymize' }, { maxReerasures: 2 });
      const f = await failureOf(handle.result());
      expect(f.type).toBe('VerificationFailed');
      expect(f.message).toContain('P-STICKY');
      expect(s.sim.stats().erasures).toHaveLength(3);
    });
  });

  it('rejects bad input before anything starts, and a raw start with bad input fails clearly', async () => {
    await runScenario(env, 'bad input', { seed: { candidates: bystanders(1) } }, async (s) => {
      await expect(s.start({ email: 'not-an-email' })).rejects.toThrow(/email is not a valid email address/);
      await expect(s.start({ email: 'a@example.com', mode: 'shred' as never })).rejects.toThrow(/mode must be "delete" or "pseudonymize"/);
      await expect(s.start({ email: 'a@example.com', deadline: 'tomorrow' })).rejects.toThrow(/deadline/);
      await expect(s.start({ email: 'a@example.com', colour: 'blue' } as never)).rejects.toThrow(/unknown field\(s\): colour/);
      const err = await s
        .start({ email: 'leak-check@example.com', receivedAt: '2026-02-01T00:00:00Z', deadline: '2026-01-01T00:00:00Z' })
        .catch((e: Error) => e);
      expect(err).toBeInstanceOf(InvalidErasureRequestError);
      expect((err as Error).message).not.toContain('leak-check');
      // A raw start (as `temporal workflow start` would do) is validated by the workflow itself.
      // A keyed-hash-shaped id: any other is refused before the input is looked at.
      const raw = await env.client.workflow.start('dsarErasure', {
        taskQueue: s.taskQueue,
        workflowId: `dsar-${randomBytes(16).toString('hex')}`,
        args: [{ email: 42 }],
      });
      const f = await failureOf(raw.result());
      expect(f.type).toBe('InvalidInput');
      expect(s.sim.stats().total).toBe(0);
    });
  });
});
