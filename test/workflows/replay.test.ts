/**
 * Replays the histories recorded from every path (test/histories, made by `npm run record-histories`)
 * against the current workflow code: a change that would break running workflows fails here with a
 * DeterminismViolationError, before it reaches a worker. Fix it with `patched()` (see README).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/temporal-binaries.js';
import { installQuietRuntime, workflowBundle } from '../helpers/temporal.js';

const DIR = join(PROJECT_ROOT, 'test', 'histories');
const workflowIds = JSON.parse(readFileSync(join(DIR, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json')
  .sort();

describe('replay of recorded histories', () => {
  it('keeps the histories of earlier workflow versions (v1: before receipts; v2: before the Comeet queue rules, attach, cancel update, page activities, continue-as-new; v3: before the lean path; v4: before the lookup signed the receipt), and of the current one', () => {
    expect(files.filter((f) => f.startsWith('v1-')).length).toBeGreaterThanOrEqual(10);
    expect(files.filter((f) => f.startsWith('v2-')).length).toBeGreaterThanOrEqual(12);
    // v4: update-with-start and a signing activity of its own (before the lookup signed the receipt).
    expect(files.filter((f) => f.startsWith('v4-')).length).toBeGreaterThanOrEqual(20);
  });

  it('has histories for every path', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'completed-delete.json',
        'blocked-recheck-completed.json',
        'blocked-timer-completed.json',
        'cancelled.json',
        'failed-deadline.json',
        'needs-attention-completed.json',
        'dry-run.json',
        'no-data.json',
        'follow-up-clean.json',
        'attached-completed.json',
        'dry-run-continued-as-queued.json',
        'queued-after-dry-run-completed.json',
        'dry-run-failed-continued-as-queued.json',
        'queued-after-failed-dry-run-completed.json',
        // Recorded before: the failed dry run dropped the real request queued behind it.
        'dry-run-failed-dropped-queued.json',
        'cancelled-signal.json',
        'temporal-cancelled.json',
        // A cancel of a dry run with a real request queued behind it: its callers told, and before that, not.
        'temporal-cancelled-queued.json',
        'cancelled-queued.json',
        'temporal-cancelled-queued-untold.json',
        'cancelled-queued-untold.json',
        // The same after the dry run's outcome was decided, and while a failed dry run told its failure.
        'temporal-cancelled-handing-over.json',
        'temporal-cancelled-handing-over-untold.json',
        'temporal-cancelled-failed-handing-over.json',
        'temporal-cancelled-failed-handing-over-untold.json',
        'emails-hidden-completed.json',
        'follow-up-failed.json',
        'long-lookup-completed.json',
        'lookup-child.json',
        'waiting-continued-as-new.json',
        'continued-run-completed.json',
        // A tenant from add to offboard, and one recorded before its run kept its state in the memo.
        'tenant-onboarding.json',
        'tenant-onboarding-before-memo.json',
      ]),
    );
  });

  it.each(files)('%s replays against the current workflow code', async (file) => {
    installQuietRuntime();
    const history = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
    expect(workflowIds[file], `${file} has no entry in workflow-ids.json`).toBeTruthy();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowIds[file]);
  });
});
