/**
 * The order of requests on the shared Comeet budget: task queue priority from the deadline. No Node
 * imports: the workflow bundle uses it.
 */
import { regulationDeadline, type Regulation } from './deadlines.js';

/**
 * Task queue priority (1 = first) from the time left to the deadline, so a backlog drains in
 * deadline order: Temporal dispatches by priority key, FIFO within a key.
 */
export function deadlinePriority(deadlineMs: number, nowMs: number): 1 | 2 | 3 | 4 | 5 {
  const daysLeft = (deadlineMs - nowMs) / 86_400_000;
  if (daysLeft <= 3) return 1;
  if (daysLeft <= 7) return 2;
  if (daysLeft <= 14) return 3;
  if (daysLeft <= 21) return 4;
  return 5;
}

/**
 * The deadline that orders a request on the shared Comeet budget: never earlier than the
 * regulation's own deadline, so a caller cannot buy top priority by sending an early `deadline`.
 */
export function priorityDeadline(regulation: Regulation, receivedAt: Date, deadline: Date): Date {
  return new Date(Math.max(deadline.getTime(), regulationDeadline(regulation, receivedAt).getTime()));
}
