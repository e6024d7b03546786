/**
 * Codec server for operators: the Temporal Web UI and `temporal --codec-endpoint` send it encrypted
 * payloads and get them decoded (or encoded). Only callers with the token get anything: in an
 * `Authorization: Bearer <token>` header (CLI), or as a `/t/<token>` path prefix (the Web UI, which
 * cannot add headers without an auth provider).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import { answerUnparsedRequests, HttpError, parseTarget, readBody } from '../http/requests.js';
import { describeIssues } from '../describe-issues.js';
import { AesGcmPayloadCodec, type EncryptionKeys } from './aes-gcm.js';

export interface CodecServerOptions {
  host?: string;
  port?: number;
  keys: EncryptionKeys;
  /** Shared secret operators hold; 24+ characters. */
  token: string;
  /** Browser origins allowed to call (the Web UI's), e.g. http://localhost:8233. */
  corsOrigins: string[];
  /** Request lines (method, route, status): never payloads or tokens. */
  log?: (line: string) => void;
}

export interface CodecServer {
  /** Base URL for `temporal --codec-endpoint` (with `--codec-auth "Bearer <token>"`). */
  readonly url: string;
  /** Endpoint for the Web UI (`--ui-codec-endpoint` / TEMPORAL_CODEC_ENDPOINT): the token is in the path. */
  readonly uiEndpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

const MAX_BODY = 8 * 1024 * 1024;
// Proto JSON's bytes: standard or URL-safe base64, padded or not (Buffer decodes all four).
const base64 = z.string({ message: 'must be a base64 string' }).regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');
const bodySchema = z.object(
  {
    // The CLI sends `{}` when a command has no payloads; Temporal's own codec servers read that as none.
    payloads: z
      .array(
        z.object(
          { metadata: z.record(z.string(), base64, { message: 'must be an object of base64 strings' }).optional(), data: base64.optional() },
          { message: 'each payload must be an object' },
        ),
        {
          message: 'must be a list of payloads',
        },
      )
      .max(10_000, 'at most 10000 payloads per call')
      .optional(),
  },
  { message: 'the body must be a JSON object' },
);
const BODY_HINT = 'send JSON {"payloads":[{"metadata":{"<key>":"<base64>"},"data":"<base64>"}]}';

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  if (options.token.length < 24) throw new Error('the codec server token must be at least 24 characters');
  const codec = new AesGcmPayloadCodec(options.keys);
  // Digests of equal length, compared in constant time: neither the token's content nor its length leaks.
  const digest = (t: string) => createHash('sha256').update(t).digest();
  const expected = digest(options.token);
  const tokenOk = (given: string | undefined) => given !== undefined && timingSafeEqual(digest(given), expected);

  const server = createServer(
    // Bodies are at most 8 MiB on a local network: a minute is plenty, and slow clients are cut.
    { headersTimeout: 10_000, requestTimeout: 60_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 },
    (req, res) => {
      const state: RequestState = { route: '/<unknown>' };
      handle(req, res, state)
        .catch((err: unknown) => {
          options.log?.(`${req.method} ${state.route} 500 ${(err as Error)?.name ?? 'Error'}`);
          if (!res.headersSent) send(res, 500, { message: 'codec server error' });
          else res.destroy();
        })
        // Only a throwing `log` gets here: one request's bookkeeping must never take the process down.
        .catch(() => res.destroy());
    },
  );
  server.maxConnections = 256;
  // Logged by kind only: the bytes of a request Node could not parse may hold the token.
  answerUnparsedRequests(server, {
    bodyFor: (status) => ({ message: STATUS_CODES[status] }),
    connectBody: { message: 'use POST /encode or /decode' },
    onAnswered: (status, code, method) => options.log?.(method ? `${method} /<unknown> ${status}` : `? <unparsed> ${status} ${code}`),
  });

  async function handle(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> {
    const origin = req.headers.origin;
    if (origin && options.corsOrigins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
      res.setHeader('vary', 'origin');
    }
    // Log lines name the route, never the path: `/t/<token>/...` carries the token, whatever follows it.
    const done = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      options.log?.(`${req.method} ${state.route} ${status}`);
      send(res, status, body, headers);
    };
    const target = parseTarget(req.url, '/decode');
    if (target instanceof HttpError) return done(target.status, { message: target.message });
    let rest = target.segments;
    let token: string | undefined;
    if (rest[0] === 't' && rest.length >= 2) {
      token = rest[1];
      rest = rest.slice(2);
    } else {
      const auth = req.headers.authorization;
      token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    }
    const endpoint = rest.length === 1 && (rest[0] === 'encode' || rest[0] === 'decode') ? rest[0] : undefined;
    state.route = `${target.segments[0] === 't' ? '/t/<token>' : ''}/${endpoint ?? '<unknown>'}`;
    if (req.method === 'OPTIONS') return done(204, undefined);
    if (!endpoint) return done(404, { message: 'use POST /encode or /decode' });
    if (req.method !== 'POST') return done(405, { message: 'use POST' }, { allow: 'POST, OPTIONS' });
    if (!tokenOk(token)) return done(401, { message: 'missing or wrong codec token' });
    let raw: string;
    try {
      raw = await readBody(req, MAX_BODY, '; send fewer payloads per call');
    } catch (err) {
      if (err instanceof HttpError) return done(err.status, { message: err.message }, err.headers);
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return done(400, { message: `the body is not valid JSON: ${BODY_HINT}` });
    }
    const parsed = bodySchema.safeParse(json);
    if (!parsed.success) return done(400, { message: `${describeIssues(parsed.error)}: ${BODY_HINT}` });
    const payloads: Payload[] = (parsed.data.payloads ?? []).map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
      data: Buffer.from(p.data ?? '', 'base64'),
    }));
    try {
      const out = endpoint === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
      return done(200, {
        payloads: out.map((p) => ({
          metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
          data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
        })),
      });
    } catch (err) {
      return done(422, { message: err instanceof Error ? err.message : 'cannot decode' });
    }
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  const url = `http://${host}:${port}`;
  return {
    url,
    uiEndpoint: `${url}/t/${encodeURIComponent(options.token)}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface RequestState {
  /** What log lines name: `/encode`, `/decode` or `/<unknown>`, after `/t/<token>` if the token came that way. */
  route: string;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
