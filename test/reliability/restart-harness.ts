/**
 * Shared pieces of the restart tests: keys and worker environment, a server-side snapshot of every
 * workflow (phase search attribute, pending activities and which worker runs them), and the
 * bookkeeping of activities a killed worker leaves behind ("orphans").
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
// CommonJS package: Node's ESM loader only sees its default export.
import proto from '@temporalio/proto';
import { generateReceiptKeys } from '../../src/receipt/index.js';
import { DsarPhase } from '../../src/search-attributes.js';
import { sleep } from './restart-processes.js';

export const API_KEY = 'restart-test-api-key';
export const SECRET = 'restart-test-secret-0123456789';

const { PendingActivityState } = proto.temporal.api.enums.v1;

/** Fresh secrets per test file: payload key, id key and a receipt key pair. */
export async function makeSecrets() {
  const receipt = await generateReceiptKeys('EdDSA');
  return {
    encryptionKeys: `rk1:${randomBytes(32).toString('base64')}`,
    idKey: randomBytes(32).toString('hex'),
    receipt,
    jwks: JSON.stringify(receipt.publicJwks),
  };
}

export type Secrets = Awaited<ReturnType<typeof makeSecrets>>;

/** The environment `src/worker.ts` reads (README's configuration table). */
export function workerEnv(opts: { address: string; taskQueue: string; simUrl: string; secrets: Secrets }): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: opts.address,
    TEMPORAL_TASK_QUEUE: opts.taskQueue,
    COMEET_BASE_URL: opts.simUrl,
    COMEET_ALLOW_HTTP: 'true',
    COMEET_API_KEY: API_KEY,
    COMEET_SECRET: SECRET,
    COMEET_TIMEOUT: '20s',
    // Enough sockets that every slow call is really in flight at the simulator, not queued in undici.
    COMEET_CONNECTIONS: '32',
    DSAR_ENCRYPTION_KEYS: opts.secrets.encryptionKeys,
    DSAR_RECEIPT_KEY: opts.secrets.receipt.privateJwk,
    DSAR_RECEIPT_KEY_ID: opts.secrets.receipt.keyId,
    // No fixed ports: successive (and leftover) workers of these tests must not collide.
    DSAR_METRICS_BIND: 'off',
    DSAR_HEALTH_BIND: 'off',
    // The simulator has no rate limit here; the Comeet queue's server-side cap must not pace the test.
    COMEET_RATE_LIMIT_PER_MINUTE: '6000',
    COMEET_RATE_PER_MINUTE: '6000',
  };
}

/** The SDK's default worker identity (`${pid}@${hostname}`), which the server records per activity attempt. */
export function workerIdentity(pid: number): string {
  return `${pid}@${hostname()}`;
}

export interface PendingActivity {
  workflowId: string;
  runId: string;
  activityId: string;
  type: string;
  state: 'SCHEDULED' | 'STARTED' | 'OTHER';
  attempt: number;
  identity: string;
}

export interface WorkflowSnapshot {
  workflowId: string;
  runId: string;
  status: string;
  phase?: string;
  pending: PendingActivity[];
}

/** Describes every workflow (authoritative server state, no worker needed). */
export async function snapshotAll(client: Client, workflowIds: string[]): Promise<WorkflowSnapshot[]> {
  return Promise.all(
    workflowIds.map(async (workflowId) => {
      const d = await client.workflow.getHandle(workflowId).describe();
      const pending = (d.raw.pendingActivities ?? []).map((a): PendingActivity => ({
        workflowId,
        runId: d.runId,
        activityId: a.activityId ?? '',
        type: a.activityType?.name ?? '?',
        state:
          a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
            ? 'STARTED'
            : a.state === PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
              ? 'SCHEDULED'
              : 'OTHER',
        attempt: a.attempt ?? 0,
        identity: a.lastWorkerIdentity ?? '',
      }));
      return { workflowId, runId: d.runId, status: d.status.name, phase: d.typedSearchAttributes.get(DsarPhase), pending };
    }),
  );
}

/** Polls snapshots until `predicate` holds; returns the matching snapshot, or undefined on timeout. */
export async function pollSnapshots(
  client: Client,
  workflowIds: string[],
  predicate: (s: WorkflowSnapshot[]) => boolean,
  timeoutMs: number,
  intervalMs = 150,
): Promise<{ snaps: WorkflowSnapshot[]; matched: boolean }> {
  const until = Date.now() + timeoutMs;
  let snaps = await snapshotAll(client, workflowIds);
  while (!predicate(snaps)) {
    if (Date.now() > until) return { snaps, matched: false };
    await sleep(intervalMs);
    snaps = await snapshotAll(client, workflowIds);
  }
  return { snaps, matched: true };
}

export function count<T>(items: T[], key: (t: T) => string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) {
    const k = key(i);
    if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
