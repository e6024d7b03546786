/**
 * Codec server for operators: the Temporal Web UI and `temporal --codec-endpoint` send it encrypted
 * payloads and get them decoded (or encoded). Only callers with the token get anything: in an
 * `Authorization: Bearer <token>` header (CLI), or as a `/t/<token>` path prefix (the Web UI, which
 * cannot add headers without an auth provider).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
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
const bodySchema = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() })).max(10_000),
});

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  if (options.token.length < 24) throw new Error('the codec server token must be at least 24 characters');
  const codec = new AesGcmPayloadCodec(options.keys);
  const expected = Buffer.from(options.token);
  const tokenOk = (given: string | undefined) => {
    const b = Buffer.from(given ?? '');
    return b.length === expected.length && timingSafeEqual(b, expected);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { message: 'codec server error' }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    if (origin && options.corsOrigins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
      res.setHeader('vary', 'origin');
    }
    const url = new URL(req.url ?? '/', 'http://codec');
    let path = url.pathname;
    let token: string | undefined;
    const m = /^\/t\/([^/]+)(\/.*)$/.exec(path);
    if (m) {
      token = decodeURIComponent(m[1]!);
      path = m[2]!;
    } else {
      const auth = req.headers.authorization;
      token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    }
    const done = (status: number, body: unknown) => {
      options.log?.(`${req.method} ${path} ${status}`);
      send(res, status, body);
    };
    if (req.method === 'OPTIONS') return done(204, undefined);
    if (path !== '/encode' && path !== '/decode') return done(404, { message: 'use POST /encode or /decode' });
    if (req.method !== 'POST') return done(405, { message: 'use POST' });
    if (!tokenOk(token)) return done(401, { message: 'missing or wrong codec token' });
    let parsed: z.infer<typeof bodySchema>;
    try {
      parsed = bodySchema.parse(JSON.parse(await readBody(req)));
    } catch {
      return done(400, { message: 'body must be JSON {"payloads":[{"metadata":{...base64},"data":"base64"}]}' });
    }
    const payloads: Payload[] = parsed.payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
      data: Buffer.from(p.data ?? '', 'base64'),
    }));
    try {
      const out = path === '/encode' ? await codec.encode(payloads) : await codec.decode(payloads);
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

function send(res: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
