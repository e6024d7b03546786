/**
 * What operators see of a running worker process (`src/worker.ts`): Prometheus metrics scraped over
 * HTTP (the SDK's and ours, with no PII in any label), the health endpoint, and JSON log lines.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflowBundle } from '../../src/build-workflow-bundle.js';
import { recheckNow, startErasure } from '../../src/client.js';
import { parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { createDataConverter } from '../../src/codec/data-converter.js';
import { startSimulator } from '../../src/simulator/server.js';
import { FAST_TUNING, interviewing, person, pollStatus } from '../helpers/scenario.js';
import { startDevServer, taskQueueFor } from '../helpers/temporal.js';
import { API_KEY, SECRET, makeSecrets, workerEnv } from '../reliability/restart-harness.js';
import { freePort, startWorkerProcess } from '../reliability/restart-processes.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startDevServer();
});
const bundleDir = mkdtempSync(join(tmpdir(), 'dsar-obs-bundle-'));
afterAll(async () => {
  await env?.teardown();
  rmSync(bundleDir, { recursive: true, force: true });
});

/** The worker's environment for the tracing bundle, built as the image builds it. */
async function tracingBundles(): Promise<Record<string, string>> {
  const built = await buildWorkflowBundle(join(bundleDir, 'workflow-bundle-tracing.js'), { tracing: true });
  return { DSAR_WORKFLOW_BUNDLE_TRACING: built.path };
}

const EMAILS = ['metrics.one@example.com', 'metrics.blocked@example.com'];

async function get(url: string) {
  const res = await request(url);
  return { status: res.statusCode, text: await res.body.text() };
}

/** `name{labels} value` lines of a Prometheus exposition, by metric name. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '))
    .map((l) => {
      const m = /^[^{ ]+(?:\{(.*)\})? (\S+)/.exec(l)!;
      const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
      return { labels, value: Number(m[2]) };
    });
}

describe('worker observability', () => {
  it('exports metrics by endpoint, status and outcome, answers health checks, and logs JSON lines without PII', async () => {
    const sim = await startSimulator({
      apiKey: API_KEY,
      secret: SECRET,
      rateLimit: null,
      seed: { candidates: [...person(EMAILS[0]!, 'P-M1', 2), interviewing(EMAILS[1]!, 'P-M2', '+1d')] },
    });
    const secrets = await makeSecrets();
    const taskQueue = taskQueueFor('observability');
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    const worker = startWorkerProcess({
      ...workerEnv({ address: env.address, taskQueue, simUrl: sim.url, secrets }),
      DSAR_METRICS_BIND: `127.0.0.1:${metricsPort}`,
      DSAR_HEALTH_BIND: `127.0.0.1:${healthPort}`,
      DSAR_LOG_FORMAT: 'json',
    });
    const lines: string[] = [];
    worker.output.onLine((l) => lines.push(l));
    try {
      await worker.ready;
      const health = await get(`http://127.0.0.1:${healthPort}/healthz`);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', state: 'RUNNING', taskQueue });
      expect((await get(`http://127.0.0.1:${healthPort}/other`)).status).toBe(404);

      const client = new Client({
        connection: env.connection,
        namespace: 'default',
        dataConverter: createDataConverter(parseEncryptionKeys(secrets.encryptionKeys)),
      });
      const idKey = randomBytes(32).toString('hex');
      // One 429 on the way, so the rate-limit counter has something to count.
      sim.setFaults({ rateLimitBurst: 1 });
      const runs = await Promise.all(EMAILS.map((email) => startErasure(client, { email }, { taskQueue, idKey, tuning: FAST_TUNING })));
      await pollStatus(client, runs[1]!.workflowId, (s) => s.phase === 'waiting_for_interviews');
      sim.completeInterviews('P-M2');
      await recheckNow(client, runs[1]!.workflowId, 'test');
      const results = await Promise.all(runs.map((r) => r.handle.result()));
      expect(results.map((r) => r.outcome)).toEqual(['completed', 'completed']);

      // The SDK exports on its own schedule: poll until our counters show up.
      let text = '';
      for (let i = 0; i < 50; i++) {
        text = (await get(`http://127.0.0.1:${metricsPort}/metrics`)).text;
        if (samples(text, 'dsar_erasures_finished_total').reduce((n, s) => n + s.value, 0) >= 2 && text.includes('dsar_blocked_duration_seconds')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const calls = samples(text, 'dsar_comeet_calls_total');
      const byKey = Object.fromEntries(calls.map((c) => [`${c.labels.endpoint} ${c.labels.status}`, c.value]));
      const total = calls.reduce((n, c) => n + c.value, 0);
      expect(total).toBe(sim.stats().total);
      // Every series names its tenant (an id): the single-account setup is the default tenant.
      expect(new Set(calls.map((c) => c.labels.tenant))).toEqual(new Set(['default']));
      expect(byKey['DELETE /person/:uid 200']).toBe(2);
      expect(byKey['DELETE /person/:uid 400']).toBeGreaterThanOrEqual(1); // blocked by the interview
      expect(Object.keys(byKey).some((k) => k.endsWith(' 429'))).toBe(true);
      expect(samples(text, 'dsar_comeet_rate_limited_total').reduce((n, s) => n + s.value, 0)).toBe(1);
      expect(samples(text, 'dsar_erasures_finished_total')).toContainEqual(
        expect.objectContaining({ labels: expect.objectContaining({ outcome: 'completed', mode: 'delete', tenant: 'default' }), value: 2 }),
      );
      expect(samples(text, 'dsar_blocked_duration_seconds_count').reduce((n, s) => n + s.value, 0)).toBe(1);
      expect(samples(text, 'dsar_erasure_duration_seconds_count').reduce((n, s) => n + s.value, 0)).toBe(2);
      // The SDK's own metrics come through the same exporter.
      expect(text).toMatch(/^temporal_workflow_completed_total\{/m);
      expect(text).toMatch(/^temporal_activity_execution_latency/m);
      // Labels carry endpoints, statuses and outcomes: never an email or a person.
      expect(text).not.toMatch(/@|P-M1|P-M2|metrics\.one/);

      const json = lines.filter((l) => l.startsWith('{'));
      expect(json.length).toBeGreaterThan(5);
      for (const l of json)
        expect(JSON.parse(l)).toEqual(expect.objectContaining({ ts: expect.any(String), level: expect.any(String), msg: expect.any(String) }));
      expect(json.map((l) => JSON.parse(l).msg)).toContain('Person erased');
      expect(lines.join('\n')).not.toMatch(/metrics\.one|metrics\.blocked/);
    } finally {
      const exit = await worker.stop('SIGTERM');
      expect(exit.code).toBe(0);
      await sim.close();
    }
  });

  // The worker bundles at start-up (with the interceptors), or loads the tracing bundle built ahead
  // of time (what the image does); both must give workflow spans.
  it.each([
    { how: 'bundled at start-up', bundle: false },
    { how: 'from the prebuilt tracing bundle (DSAR_WORKFLOW_BUNDLE_TRACING)', bundle: true },
  ])('exports OpenTelemetry spans for workflows and Comeet activities when an OTLP endpoint is set, without PII ($how)', async ({ bundle }) => {
    const bundles = bundle ? await tracingBundles() : {};
    const bodies: string[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    const sim = await startSimulator({ apiKey: API_KEY, secret: SECRET, rateLimit: null, seed: { candidates: person('traced.subject@example.com', 'P-T1') } });
    const secrets = await makeSecrets();
    const taskQueue = taskQueueFor('tracing');
    const worker = startWorkerProcess({
      ...workerEnv({ address: env.address, taskQueue, simUrl: sim.url, secrets }),
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`,
      OTEL_SERVICE_NAME: 'dsar-test-worker',
      ...bundles,
    });
    try {
      await worker.ready;
      expect(worker.output.text()).toContain(bundle ? '"workflowBundle":"prebuilt"' : '"workflowBundle":"built at start-up"');
      const client = new Client({
        connection: env.connection,
        namespace: 'default',
        dataConverter: createDataConverter(parseEncryptionKeys(secrets.encryptionKeys)),
      });
      const run = await startErasure(
        client,
        { email: 'traced.subject@example.com' },
        { taskQueue, idKey: randomBytes(32).toString('hex'), tuning: FAST_TUNING },
      );
      expect((await run.handle.result()).outcome).toBe('completed');
      const names = () =>
        bodies.flatMap((b) =>
          (JSON.parse(b) as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] }).resourceSpans.flatMap((r) =>
            r.scopeSpans.flatMap((sc) => sc.spans.map((x) => x.name)),
          ),
        );
      for (let i = 0; i < 50 && !names().some((n) => n.startsWith('RunWorkflow:')); i++) await new Promise((r) => setTimeout(r, 200));
      const spans = names();
      expect(spans).toEqual(
        expect.arrayContaining(['RunWorkflow:dsarErasure', 'StartActivity:erasePerson', 'RunActivity:lookupPage', 'RunActivity:erasePerson']),
      );
      expect(bodies.join('\n')).toContain('dsar-test-worker');
      expect(bodies.join('\n')).not.toMatch(/traced\.subject|@example\.com/);
    } finally {
      await worker.stop('SIGTERM');
      await sim.close();
      await new Promise((r) => collector.close(r));
    }
  });
});
