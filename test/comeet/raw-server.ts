/**
 * A tiny real HTTP server on 127.0.0.1 (ephemeral port) for responses the simulator never sends:
 * HTML on 200, truncated JSON, wrong types, foreign `next_page` links. It records every request.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RawRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface RawServer {
  /** e.g. http://127.0.0.1:54321 */
  readonly url: string;
  readonly port: number;
  readonly requests: RawRequest[];
  close(): Promise<void>;
}

/** `n` is the 0-based index of the request on this server. */
export type RawHandler = (req: IncomingMessage, res: ServerResponse, n: number, server: RawServer) => void;

export async function startRawServer(handler: RawHandler): Promise<RawServer> {
  const requests: RawRequest[] = [];
  const server = createServer((req, res) => {
    const n = requests.length;
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => handler(req, res, n, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const raw: RawServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return raw;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, typeof body === 'string' ? body : JSON.stringify(body), 'application/json', headers);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** A server that answers every request with the same JSON (or raw text when `body` is a string). */
export function jsonServer(status: number, body: unknown, contentType = 'application/json'): Promise<RawServer> {
  return startRawServer((_req, res) => sendText(res, status, typeof body === 'string' ? body : JSON.stringify(body), contentType));
}
