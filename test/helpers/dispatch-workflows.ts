/**
 * Workflows that only schedule activities, for measuring how the Temporal server dispatches them
 * (rate caps, fairness): no Comeet, no project code, so the figures are the server's alone.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';

export interface DispatchActivities {
  /** Records when it started; `tag` says which batch it belongs to. */
  record(tag: string): Promise<void>;
}

export interface BatchInput {
  /** The queue the activities go to (not the workflow's: no eager dispatch, which skips the server's limits). */
  activityQueue: string;
  tag: string;
  count: number;
  /** Milliseconds between two activities; 0 schedules them all at once. */
  intervalMs?: number;
  fairnessKey?: string;
  fairnessWeight?: number;
}

export async function scheduleBatch(input: BatchInput): Promise<void> {
  const { record } = proxyActivities<DispatchActivities>({
    taskQueue: input.activityQueue,
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: '10 minutes',
    ...(input.fairnessKey ? { priority: { fairnessKey: input.fairnessKey, fairnessWeight: input.fairnessWeight } } : {}),
  });
  const running: Promise<void>[] = [];
  for (let i = 0; i < input.count; i++) {
    if (i > 0 && input.intervalMs) await sleep(input.intervalMs);
    running.push(record(input.tag));
  }
  await Promise.all(running);
}
