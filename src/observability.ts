/**
 * What operators watch on a worker: structured logs (JSON lines), Prometheus metrics (the SDK's own
 * plus ours, exported by the SDK runtime on one port), and a health endpoint for orchestrators.
 * Labels carry endpoints, statuses and outcomes only: never an email, a name or a uid.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricMeter } from '@temporalio/common';
import { Runtime, type BundlerPlugin } from '@temporalio/worker';
import { createLogger, type LogFormat, type LogLevel } from './logging.js';
import type { ComeetCallInfo } from './comeet/index.js';
import { splitHostPort } from './config.js';

export interface RuntimeSettings {
  logFormat: LogFormat;
  logLevel: LogLevel;
  /** host:port of the Prometheus exporter; undefined turns metrics off. */
  metricsBind?: string;
}

/** Installs the SDK runtime (once per process, before any connection): logger and metrics exporter. */
export function installRuntime(settings: RuntimeSettings): Runtime {
  const logger = createLogger({ format: settings.logFormat, level: settings.logLevel });
  return Runtime.install({
    logger,
    telemetryOptions: settings.metricsBind ? { metrics: { prometheus: { bindAddress: settings.metricsBind, countersTotalSuffix: true } } } : undefined,
  });
}

/** Counts every Comeet call by endpoint and status (the client's `onCall` hook). */
/** Comeet call metrics of one tenant's account: the `tenant` label is its id, never a name. */
export function comeetCallMetrics(meter: MetricMeter, tenant = 'default'): (info: ComeetCallInfo) => void {
  const calls = meter.createCounter('dsar_comeet_calls', 'calls', 'Comeet API calls by tenant, endpoint and HTTP status (network = no answer)');
  const rateLimited = meter.createCounter('dsar_comeet_rate_limited', 'calls', "Comeet answers 429: the tenant's budget was exceeded somewhere");
  const latency = meter.createHistogram('dsar_comeet_call_duration', 'int', 'ms', 'Comeet call latency by tenant and endpoint');
  return (info) => {
    calls.add(1, { tenant, endpoint: info.endpoint, status: String(info.status) });
    if (info.status === 429) rateLimited.add(1, { tenant, endpoint: info.endpoint });
    latency.record(info.durationMs, { tenant, endpoint: info.endpoint });
  };
}

export interface HealthSource {
  /** 'RUNNING' when healthy; anything else is reported as unhealthy with that state. */
  getState(): string;
}

export interface HealthServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `GET /healthz`: 200 while the worker polls, 503 otherwise (draining, stopped, failed), with the
 * state and memory in the body. `GET /readyz` is the same; orchestrators use one or the other.
 */
export async function startHealthServer(bind: string, source: HealthSource, details: () => Record<string, unknown> = () => ({})): Promise<HealthServer> {
  const { host, port } = splitHostPort(bind);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/healthz' && path !== '/readyz')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not_found', paths: ['/healthz', '/readyz'] }));
      return;
    }
    const state = source.getState();
    const mem = process.memoryUsage();
    const body = {
      status: state === 'RUNNING' ? 'ok' : 'unavailable',
      state,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      uptimeSeconds: Math.round(process.uptime()),
      ...details(),
    };
    res.writeHead(state === 'RUNNING' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface Tracing {
  /** The SDK plugin: client, workflow and activity interceptors plus the workflow span sink. */
  plugin: unknown;
  /** Flushes spans still buffered; call after the worker stopped. */
  shutdown(): Promise<void>;
}

/**
 * Optional OpenTelemetry tracing through the SDK's interceptors, on when an OTLP endpoint is
 * configured (the standard OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, read
 * by the exporter itself). Spans carry workflow and activity names and ids, never payloads.
 * Loaded on demand, so a worker without tracing pays nothing for it.
 */
export async function tracingFromEnv(env: Record<string, string | undefined>): Promise<Tracing | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  const [{ OpenTelemetryPlugin }, { BasicTracerProvider, BatchSpanProcessor }, { Resource }, { OTLPTraceExporter }] = await Promise.all([
    import('@temporalio/interceptors-opentelemetry'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const processor = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 });
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME || 'comeet-dsar-worker' });
  // Activity and client spans go through this tracer; workflow spans through the plugin's sink.
  const provider = new BasicTracerProvider({ resource });
  provider.addSpanProcessor(processor);
  const tracer = provider.getTracer('comeet-dsar');
  return {
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor: processor, tracer }),
    shutdown: () => processor.shutdown(),
  };
}

/**
 * The tracing plugin for bundleWorkflowCode only, to build the tracing workflow bundle ahead of
 * time: the bundler takes from it just its workflow interceptor modules, so it needs no exporter.
 */
export async function tracingBundlerPlugin(): Promise<BundlerPlugin> {
  const [{ OpenTelemetryPlugin }, { NoopSpanProcessor }, { Resource }] = await Promise.all([
    import('@temporalio/interceptors-opentelemetry'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
  ]);
  return new OpenTelemetryPlugin({ resource: Resource.empty(), spanProcessor: new NoopSpanProcessor() });
}
