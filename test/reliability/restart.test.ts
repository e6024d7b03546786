/**
 * Issue 5, part 1: crashes and restarts lose nothing.
 *
 * 1. The worker runs as a child process (`node --import tsx src/worker.ts`, configured from the
 *    environment like production) and is SIGKILLed three times while a batch of erasures is spread
 *    over every phase: lookups and erases in flight (the simulator answers slowly), requests waiting
 *    on interviews, requests parked in needs_attention, verifications in flight. The simulator runs
 *    in this process and outlives every kill. In the end every request completes, every target is
 *    erased exactly once, nobody else is touched.
 * 2. The Temporal dev server itself (our own child process, SQLite file) is stopped with SIGTERM and
 *    then SIGKILL while requests wait on interviews, and started again on the same file and port:
 *    the requests resume by their durable timers, at the time they were due, not later.
 *
 * Comeet is the simulator, which like a real server carries out a call it received in full even when
 * the caller died waiting for the answer (it reads the whole request before its injected latency and
 * goes on when the socket closes): an erase in flight at a kill is applied, and its retry is answered
 * 404 (counted as already gone).
 *
 * Activities a killed worker had started stay "started" on the server until their heartbeat timeout
 * (30 s: Comeet activities heartbeat every 5 s while they run) fires; the server then retries them on
 * the new worker by itself. Nothing in this test steps in; the numbers are in the printed report.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { erasureHandle, getStatus, recheckNow, startErasure } from '../../src/client.js';
import { parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { createDataConverter } from '../../src/codec/data-converter.js';
import { verifyReceipt } from '../../src/receipt/index.js';
import type { Mode, TuningInput } from '../../src/erasure-request.js';
import type { ErasureResult } from '../../src/erasure-status.js';
import { ALL_PERMISSIONS, startSimulator, type SimCandidateSeed } from '../../src/simulator/server.js';
import {
  API_KEY,
  count,
  makeSecrets,
  pollSnapshots,
  SECRET,
  snapshotAll,
  workerEnv,
  workerIdentity,
  type PendingActivity,
  type Secrets,
  type WorkflowSnapshot,
} from './restart-harness.js';
import { freePort, killAllChildren, sleep, startTemporalDevServer, startWorkerProcess, type DevServer, type WorkerProcess } from './restart-processes.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse())
    await Promise.resolve()
      .then(c)
      .catch(() => undefined);
  await killAllChildren();
});

function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dsar-restart-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function setUp(secrets: Secrets, comeetUrl: string, server: DevServer) {
  const connection = await Connection.connect({ address: server.address });
  cleanups.push(() => connection.close());
  const client = new Client({ connection, namespace: 'default', dataConverter: createDataConverter(parseEncryptionKeys(secrets.encryptionKeys)) });
  const taskQueue = `restart-${Math.random().toString(36).slice(2, 8)}`;
  const env = workerEnv({ address: server.address, taskQueue, simUrl: comeetUrl, secrets });
  return { connection, client, taskQueue, env };
}

/** Counts simulator answers per `route status` from its log lines (answers a dead worker never read included). */
function answerLog() {
  const answers: Record<string, number> = {};
  return {
    answers,
    log: (line: string) => {
      const m = /^(.*) (\S+) \d+ms$/.exec(line);
      if (m) answers[`${m[1]} ${m[2]}`] = (answers[`${m[1]} ${m[2]}`] ?? 0) + 1;
    },
  };
}

const PEOPLE = (email: string, personUid: string, n: number, extra: Partial<SimCandidateSeed> = {}): SimCandidateSeed[] =>
  Array.from({ length: n }, (_, i) => ({ first_name: 'Test', last_name: `Subject${i}`, email, person_uid: personUid, status: 'Rejected', ...extra }));

const interview = (email: string, personUid: string, at: string): SimCandidateSeed => ({
  first_name: 'Busy',
  last_name: 'Subject',
  email,
  person_uid: personUid,
  status: 'In progress',
  // 3 seconds long; the workflow wakes interviewMarginMs after its start.
  current_steps: [{ name: 'Phone screen', type: 'Phone Interview', time_scheduled: at, duration_minutes: 0.05 }],
});

const BYSTANDERS: SimCandidateSeed[] = Array.from({ length: 12 }, (_, i) => ({
  first_name: 'By',
  last_name: `Stander${i}`,
  // Near misses of the subjects' addresses must never match.
  email: i % 2 ? `bystander${i}@example.org` : `x${i}.subject-a1@example.com`,
  status: 'Rejected',
}));

describe('crashes and restarts lose nothing', () => {
  it(
    'worker SIGKILLed three times mid-batch, with requests in every phase: all complete, each target erased once, nobody else',
    { timeout: 200_000 },
    async () => {
      const t0 = Date.now();
      const at = () => Date.now() - t0;
      const secrets = await makeSecrets();
      const server = await startTemporalDevServer({ dbFile: join(tmp(), 't.db'), port: await freePort() });
      cleanups.push(() => server.process.stop('SIGKILL'));

      interface Subject {
        key: string;
        email: string;
        group: 'A' | 'B' | 'C';
        mode: Mode;
        persons: string[];
        workflowId?: string;
        /** Comeet calls the request needs without any crash. */
        minimumCalls: number;
      }
      const subjects: Subject[] = [];
      const seed: SimCandidateSeed[] = [...BYSTANDERS];
      // A: plain requests (A7 has two Comeet persons with the subject's email).
      for (let i = 1; i <= 8; i++) {
        const email = `subject-a${i}@example.com`;
        const persons = i === 7 ? ['P-A7a', 'P-A7b'] : [`P-A${i}`];
        seed.push(...PEOPLE(email, persons[0]!, 1 + (i % 2)));
        if (persons[1]) seed.push(...PEOPLE(email.toUpperCase(), persons[1], 1));
        subjects.push({ key: `a${i}`, email, group: 'A', mode: i === 2 || i === 5 ? 'pseudonymize' : 'delete', persons, minimumCalls: 2 + persons.length });
      }
      // B: blocked by an interview (candidates added when the wave starts, so their times are fresh).
      for (let i = 1; i <= 5; i++) {
        subjects.push({ key: `b${i}`, email: `subject-b${i}@example.com`, group: 'B', mode: 'delete', persons: [`P-B${i}`], minimumCalls: 4 });
      }
      // C: parked in needs_attention by a missing permission.
      for (let i = 1; i <= 4; i++) {
        const email = `subject-c${i}@example.com`;
        seed.push(...PEOPLE(email, `P-C${i}`, 1));
        subjects.push({ key: `c${i}`, email, group: 'C', mode: i === 2 ? 'pseudonymize' : 'delete', persons: [`P-C${i}`], minimumCalls: 4 });
      }

      const { answers, log } = answerLog();
      // 1.5 s per Comeet call: lookups and erases are really in flight when the worker dies. No rate
      // limit: a 429's 60 s Retry-After would only stretch the run.
      const sim = await startSimulator({
        apiKey: API_KEY,
        secret: SECRET,
        rateLimit: null,
        faults: { latencyMs: 1500 },
        permissions: ALL_PERMISSIONS.filter((p) => p !== 'persons:erase'),
        seed: { candidates: seed },
        log,
      });
      cleanups.push(() => sim.close());
      // Comeet carries out a call it received in full even when the caller dies waiting for the answer.
      const { client, taskQueue, env } = await setUp(secrets, sim.url, server);

      const tuning: TuningInput = {
        interviewMarginMs: 5000,
        backoffInitialMs: 1000,
        backoffMaxMs: 2000,
        attentionRetryMs: 45_000,
        verifyRetryMs: 100,
        followUpDelayMs: 0,
      };
      const start = async (s: Subject) => {
        const started = await startErasure(client, { email: s.email, mode: s.mode, requestId: `REL-${s.key}` }, { taskQueue, idKey: secrets.idKey, tuning });
        expect(started.attached).toBe(false);
        s.workflowId = started.workflowId;
      };
      const ids = () => subjects.filter((s) => s.workflowId).map((s) => s.workflowId!);
      const group = (g: Subject['group']) => subjects.filter((s) => s.group === g);
      const phases = (snaps: WorkflowSnapshot[]) => count(snaps, (w) => w.phase);

      let worker: WorkerProcess = startWorkerProcess(env);
      await worker.ready;
      const workerStarts: number[] = [];

      interface Kill {
        label: string;
        atMs: number;
        conditionMet: boolean;
        phases: Record<string, number>;
        orphans: Record<string, number>;
        orphanedAfterRestart: Record<string, number>;
        restartMs: number;
      }
      const kills: Kill[] = [];
      const orphanedErases: Array<PendingActivity & { kill: string }> = [];

      /** Waits (bounded) for `condition`, SIGKILLs the worker, runs `whileDown`, starts a new worker. */
      async function killWorker(
        label: string,
        condition: (s: WorkflowSnapshot[]) => boolean,
        timeoutMs: number,
        opts: { settleMs?: number; whileDown?: () => Promise<void> } = {},
      ) {
        const identity = workerIdentity(worker.pid);
        const { matched } = await pollSnapshots(client, ids(), condition, timeoutMs, 100);
        // Let the started calls reach Comeet (they take 1.5 s to answer, so they are still in flight).
        if (opts.settleMs) await sleep(opts.settleMs);
        await worker.stop('SIGKILL');
        const killedAt = at();
        // Server state after the kill: the phase of every request and what the dead worker had started.
        const snaps = await snapshotAll(client, ids());
        const orphans = snaps.flatMap((w) => w.pending).filter((p) => p.state === 'STARTED' && p.identity === identity);
        orphanedErases.push(...orphans.filter((o) => o.type === 'erasePerson').map((o) => ({ ...o, kill: label })));
        await opts.whileDown?.();
        const t = Date.now();
        worker = startWorkerProcess(env);
        await worker.ready;
        const restartMs = Date.now() - t;
        workerStarts.push(restartMs);
        // Nothing tells the server the worker died: its attempts stay STARTED until they time out.
        const still = (await snapshotAll(client, ids())).flatMap((w) => w.pending).filter((p) => p.state === 'STARTED' && p.identity === identity);
        kills.push({
          label,
          atMs: killedAt,
          conditionMet: matched,
          phases: phases(snaps),
          orphans: count(orphans, (o) => o.type),
          orphanedAfterRestart: count(still, (o) => o.type),
          restartMs,
        });
      }
      // A lookup is one lookupPage activity per page: the phase says whether it looks up or verifies.
      const started = (snaps: WorkflowSnapshot[], type: string, identity: string, phase?: string) =>
        snaps
          .filter((w) => phase === undefined || w.phase === phase)
          .flatMap((w) => w.pending)
          .filter((p) => p.type === type && p.state === 'STARTED' && p.identity === identity).length;

      // Wave 1: the integration lacks "Persons: Delete or Pseudonymize persons"; C parks in needs_attention.
      for (const s of group('C')) await start(s);
      const parked = await pollSnapshots(client, ids(), (snaps) => snaps.every((w) => w.phase === 'needs_attention'), 30_000);
      expect(parked.matched, `C never reached needs_attention: ${JSON.stringify(phases(parked.snaps))}`).toBe(true);
      // The admin grants it; C stays parked until its next attention retry or an operator's recheckNow.
      sim.setPermissions([...ALL_PERMISSIONS]);

      // Wave 2: B (interviews ending ~45-55 s from now) and A1-A3; kill 1 while their lookups are in flight.
      group('B').forEach((s, i) => {
        sim.addCandidate(PEOPLE(s.email, s.persons[0]!, 1)[0]!);
        sim.addCandidate(interview(s.email, s.persons[0]!, `+${45 + 2 * i}s`));
      });
      for (const s of [...group('B'), ...group('A').slice(0, 3)]) await start(s);
      await killWorker('lookups in flight', (snaps) => started(snaps, 'lookupPage', workerIdentity(worker.pid), 'looking_up') >= 3, 15_000);

      // Wave 3 once B waits (their lookups, orphaned by kill 1, are retried when the 30 s heartbeat
      // timeout fires): A4-A8; kill 2 while their erases are in flight.
      const waiting = await pollSnapshots(client, ids(), (snaps) => snaps.filter((w) => w.phase === 'waiting_for_interviews').length >= 3, 75_000);
      expect(waiting.matched, `B never waited: ${JSON.stringify(phases(waiting.snaps))}`).toBe(true);
      for (const s of group('A').slice(3)) await start(s);
      const c = group('C');
      await killWorker(
        'erases in flight',
        (snaps) => started(snaps, 'erasePerson', workerIdentity(worker.pid)) >= 2 && snaps.some((w) => w.phase === 'waiting_for_interviews'),
        20_000,
        {
          settleMs: 300,
          // The operator re-checks C1 and C2 while no worker runs: the signal waits in their histories.
          whileDown: async () => {
            await recheckNow(client, c[0]!.workflowId!, 'restart-test');
            await recheckNow(client, c[1]!.workflowId!, 'restart-test');
          },
        },
      );
      // Kill 3 while a verification lookup is in flight (C1/C2 after their re-check, or A4-A8).
      await killWorker('verification in flight', (snaps) => started(snaps, 'lookupPage', workerIdentity(worker.pid), 'verifying') >= 1, 25_000);

      // Every request ends by itself: B by its interview timer, C3/C4 by their attention timer, the
      // attempts orphaned by the kills when their 30 s heartbeat timeout fires.
      const done = await pollSnapshots(client, ids(), (snaps) => snaps.every((w) => w.status !== 'RUNNING'), 120_000, 1000);
      expect(
        done.matched,
        `still running: ${JSON.stringify(
          done.snaps.filter((w) => w.status === 'RUNNING'),
          null,
          1,
        )}\n${worker.output.text().slice(-4000)}`,
      ).toBe(true);
      const finishedAt = at();
      expect(count(done.snaps, (w) => w.status)).toEqual({ COMPLETED: subjects.length });

      // --- results --------------------------------------------------------------------------------
      const results = new Map<string, ErasureResult>();
      for (const s of subjects) results.set(s.key, await erasureHandle(client, s.workflowId!).result());
      const stats = sim.stats();
      const candidates = sim.candidates();
      const targetPersons = new Set(subjects.flatMap((s) => s.persons));
      const minimum = subjects.reduce((n, s) => n + s.minimumCalls, 0);
      const report = {
        test: 'worker SIGKILL mid-batch',
        requests: subjects.length,
        kills: kills.length,
        killLog: kills,
        orphanedErases: orphanedErases.length,
        orphanedErasesBySubject: orphanedErases.map((o) => `${subjects.find((x) => x.workflowId === o.workflowId)!.key} (${o.kill})`),
        alreadyGonePersons: [...results.values()].flatMap((r) => r.persons).filter((p) => p.alreadyGone).length,
        // What the results' totals say was erased vs what Comeet erased for the subjects.
        resultTotalCandidates: [...results.values()].reduce((n, r) => n + r.totals.candidates, 0),
        comeetErasedCandidates: candidates.filter((x) => targetPersons.has(x.person_uid)).length,
        comeetCalls: stats.total,
        minimumCalls: minimum,
        extraCalls: stats.total - minimum,
        byRoute: stats.byRoute,
        answers,
        eraseAttempts: Object.fromEntries(subjects.map((s) => [s.key, results.get(s.key)!.eraseAttempts])),
        lookups: Object.fromEntries(subjects.map((s) => [s.key, results.get(s.key)!.lookups])),
        workerRestartMs: workerStarts,
        allCompletedAtMs: finishedAt,
        totalMs: at(),
      };
      console.log(`RESTART REPORT ${JSON.stringify(report, null, 1)}`);
      let alreadyGone = 0;
      // What each request itself recorded, for failure messages.
      const history = new Map<string, string>();
      for (const s of subjects) {
        const st = await getStatus(client, s.workflowId!);
        const own = stats.erasures.filter((e) => s.persons.includes(e.personUid));
        history.set(
          s.key,
          JSON.stringify({ result: results.get(s.key)!.persons, events: st.events.map((e) => `${e.at} ${e.kind} ${e.detail ?? ''}`), comeet: own }, null, 1),
        );
      }
      for (const s of subjects) {
        const r = results.get(s.key)!;
        const why = `${s.key}: ${history.get(s.key)}`;
        expect(r.outcome, why).toBe('completed');
        expect(r.persons.map((p) => p.personUid).sort(), s.key).toEqual([...s.persons].sort());
        for (const p of r.persons) {
          const own = candidates.filter((x) => x.person_uid === p.personUid);
          expect(own.length, p.personUid).toBeGreaterThan(0);
          expect(
            own.every((x) => (s.mode === 'delete' ? x.deleted : x.pseudonymized && !x.deleted)),
            p.personUid,
          ).toBe(true);
          const records = stats.erasures.filter((e) => e.personUid === p.personUid);
          // A delete Comeet acted on once; a repeat after a kill answers 404. A repeated pseudonymize is
          // answered 200 again by the simulator (the person still exists), never a delete.
          if (s.mode === 'delete') expect(records, p.personUid).toHaveLength(1);
          else expect(records.length, p.personUid).toBeGreaterThanOrEqual(1);
          expect(
            records.every((e) => e.mode === s.mode),
            p.personUid,
          ).toBe(true);
          // A person is "already gone" when Comeet erased them on a call whose answer died with the
          // worker and the retry was answered 404; the result still names the candidates the lookup
          // found (all of the person's here), so nothing is under-reported.
          if (p.alreadyGone) alreadyGone++;
          expect([...p.candidateUids].sort(), why).toEqual(own.map((x) => x.uid).sort());
          expect(p.count, why).toBe(own.length);
        }
        expect(r.totals).toEqual({ persons: r.persons.length, candidates: r.persons.reduce((n, p) => n + p.count, 0) });
        const { receipt } = await verifyReceipt(r.receipt!, { jwks: secrets.jwks });
        expect(receipt).toMatchObject({ outcome: 'completed', workflowId: s.workflowId, totals: r.totals, persons: r.persons });
      }
      // The erases kill 2 left in flight: Comeet carried them out, and the retry after their 1-minute
      // start-to-close timeout was answered 404 (delete: counted as already gone) or re-applied (pseudonymize).
      const kill2Erases = orphanedErases.filter((o) => o.kill === 'erases in flight');
      expect(kill2Erases.length).toBeGreaterThanOrEqual(2);
      for (const o of kill2Erases) {
        const s = subjects.find((x) => x.workflowId === o.workflowId)!;
        if (s.mode === 'delete')
          expect(
            results.get(s.key)!.persons.some((p) => p.alreadyGone),
            s.key,
          ).toBe(true);
        else expect(stats.erasures.filter((e) => s.persons.includes(e.personUid)).length, s.key).toBeGreaterThanOrEqual(2);
      }
      // Nobody else: every erasure Comeet saw was of a target; every bystander is intact.
      expect(stats.erasures.every((e) => targetPersons.has(e.personUid))).toBe(true);
      const bystanders = candidates.filter((x) => !targetPersons.has(x.person_uid));
      expect(bystanders).toHaveLength(BYSTANDERS.length);
      expect(bystanders.filter((x) => x.deleted || x.pseudonymized)).toEqual([]);
      // Each alreadyGone answer is a 404 Comeet really gave to an erase; no 5xx at all.
      const erase404 = (answers['DELETE /person/:uid 404'] ?? 0) + (answers['POST /person/:uid/pseudonymize 404'] ?? 0);
      expect(alreadyGone).toBeLessThanOrEqual(erase404);
      // The results add up to exactly what Comeet erased for the subjects.
      expect(report.resultTotalCandidates).toBe(report.comeetErasedCandidates);
      expect(Object.keys(stats.byStatus).filter((k) => k.startsWith('5'))).toEqual([]);

      // The kills happened with requests in every phase, and with every kind of Comeet call in flight.
      const seenPhases = new Set(kills.flatMap((k) => Object.keys(k.phases)));
      for (const p of ['looking_up', 'erasing', 'waiting_for_interviews', 'needs_attention', 'verifying']) expect(seenPhases, p).toContain(p);
      const orphanTypes = new Set(kills.flatMap((k) => Object.keys(k.orphans)));
      for (const t of ['lookupPage', 'erasePerson']) expect(orphanTypes, t).toContain(t);

      expect(stats.total).toBeGreaterThanOrEqual(minimum);
    },
  );

  it('Temporal dev server SIGTERM and SIGKILL while requests wait on interviews: they resume on their durable timers', { timeout: 120_000 }, async () => {
    const t0 = Date.now();
    const at = () => Date.now() - t0;
    const secrets = await makeSecrets();
    const dbFile = join(tmp(), 't.db');
    const port = await freePort();
    let server = await startTemporalDevServer({ dbFile, port });
    cleanups.push(() => server.process.stop('SIGKILL'));
    const subjects = Array.from({ length: 4 }, (_, i) => ({
      key: `w${i + 1}`,
      email: `waiting-${i + 1}@example.com`,
      personUid: `P-W${i + 1}`,
      workflowId: '',
    }));
    const sim = await startSimulator({
      apiKey: API_KEY,
      secret: SECRET,
      rateLimit: null,
      seed: {
        candidates: [...BYSTANDERS, ...subjects.flatMap((s, i) => [...PEOPLE(s.email, s.personUid, 1), interview(s.email, s.personUid, `+${28 + 3 * i}s`)])],
      },
    });
    cleanups.push(() => sim.close());
    const { client, taskQueue, env } = await setUp(secrets, sim.url, server);
    let worker = startWorkerProcess(env);
    await worker.ready;
    const firstWorkerPid = worker.pid;
    const tuning: TuningInput = { interviewMarginMs: 5000, backoffInitialMs: 1000, backoffMaxMs: 2000, verifyRetryMs: 100, followUpDelayMs: 0 };
    for (const s of subjects)
      s.workflowId = (await startErasure(client, { email: s.email, requestId: `REL-${s.key}` }, { taskQueue, idKey: secrets.idKey, tuning })).workflowId;
    const ids = subjects.map((s) => s.workflowId);

    const blocked = await pollSnapshots(client, ids, (snaps) => snaps.every((w) => w.phase === 'waiting_for_interviews'), 30_000);
    expect(blocked.matched, JSON.stringify(blocked.snaps)).toBe(true);
    // When each request means to re-check (just after its interview), as the workflow itself says.
    const due = new Map<string, number>();
    const blockedAt = new Map<string, number>();
    for (const s of subjects) {
      const st = await getStatus(client, s.workflowId);
      due.set(s.key, Date.parse(st.persons[0]!.nextCheckAt!));
      blockedAt.set(s.key, Date.parse([...st.events].reverse().find((e) => e.kind === 'blocked')!.at));
    }

    const restarts: Array<{ signal: string; atMs: number; downMs: number; exit: string; workerSurvived: boolean; workerRestarted: boolean }> = [];
    let workerRestarts = 0;
    let lastRestartAt = 0;
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await sleep(1500);
      const stoppedAt = Date.now();
      const exit = await server.process.stop(signal);
      await sleep(2500); // the worker's polls fail meanwhile
      server = await startTemporalDevServer({ dbFile, port });
      lastRestartAt = Date.now();
      const workerSurvived = !worker.exited();
      if (!workerSurvived) {
        worker = startWorkerProcess(env);
        await worker.ready;
        workerRestarts++;
      }
      restarts.push({
        signal,
        atMs: stoppedAt - t0,
        downMs: lastRestartAt - stoppedAt,
        exit: String(exit.code ?? exit.signal),
        workerSurvived,
        workerRestarted: !workerSurvived,
      });
      // Still waiting, with the same re-check time: the server kept the timers.
      for (const s of subjects) {
        const st = await getStatus(client, s.workflowId);
        expect(st.phase, s.key).toBe('waiting_for_interviews');
        expect(Date.parse(st.persons[0]!.nextCheckAt!), s.key).toBe(due.get(s.key));
      }
    }
    expect(Math.min(...due.values()), 'every timer is due after the last restart').toBeGreaterThan(lastRestartAt);

    const done = await pollSnapshots(client, ids, (snaps) => snaps.every((w) => w.status !== 'RUNNING'), 60_000, 500);
    expect(done.matched, `${JSON.stringify(done.snaps)}\n${worker.output.text().slice(-3000)}`).toBe(true);
    const timing: Record<string, { dueInMsAfterLastRestart: number; erasedLateByMs: number; timers: number }> = {};
    for (const s of subjects) {
      const handle = erasureHandle(client, s.workflowId);
      const r = await handle.result();
      expect(r.outcome, s.key).toBe('completed');
      expect(r.persons.map((p) => p.personUid)).toEqual([s.personUid]);
      expect(r.persons[0]!.alreadyGone).toBe(false);
      expect(r.eraseAttempts, s.key).toBe(2); // blocked once, erased on the timer
      const erasedAt = Date.parse(r.persons[0]!.erasedAt);
      const dueAt = due.get(s.key)!;
      // Erased when the timer was due (after the interview), not a full wait after a restart.
      expect(erasedAt, s.key).toBeGreaterThanOrEqual(dueAt);
      expect(erasedAt - dueAt, s.key).toBeLessThan(4000);
      const fullWait = dueAt - blockedAt.get(s.key)!;
      expect(erasedAt, s.key).toBeLessThan(lastRestartAt + fullWait - 2000);
      // One durable timer per request, started before the restarts and fired once.
      const events = (await handle.fetchHistory()).events ?? [];
      const timersStarted = events.filter((e) => e.timerStartedEventAttributes);
      expect(timersStarted, s.key).toHaveLength(1);
      expect(
        events.filter((e) => e.timerFiredEventAttributes),
        s.key,
      ).toHaveLength(1);
      timing[s.key] = { dueInMsAfterLastRestart: dueAt - lastRestartAt, erasedLateByMs: erasedAt - dueAt, timers: timersStarted.length };
      const { receipt } = await verifyReceipt(r.receipt!, { jwks: secrets.jwks });
      expect(receipt.totals).toEqual(r.totals);
    }
    // The interview really blocked the first attempt and the erase came after it ended.
    const stats = sim.stats();
    expect(stats.byRoute['DELETE /person/:uid']).toBe(2 * subjects.length);
    expect(stats.erasures.map((e) => e.personUid).sort()).toEqual(subjects.map((s) => s.personUid).sort());
    expect(sim.candidates().filter((x) => x.deleted)).toHaveLength(2 * subjects.length);
    const report = {
      test: 'Temporal dev server restart',
      requests: subjects.length,
      restarts,
      workerPid: { first: firstWorkerPid, last: worker.pid },
      workerRestarts,
      timing,
      comeetCalls: stats.total,
      minimumCalls: 4 * subjects.length,
      totalMs: at(),
    };
    console.log(`RESTART REPORT ${JSON.stringify(report, null, 1)}`);
  });
});
