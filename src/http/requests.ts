/**
 * What the intake API and the codec server share about reading an HTTP request that anyone may send:
 * a request target parsed without throwing, a body read to a bound, and the answer for a request
 * Node's parser already gave up on. No input may crash either server or make it answer 500.
 */
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';

/** A 4xx to answer: the message says what to fix and never quotes what the caller sent. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * The path of a request target and its percent-decoded segments, or the 400 to answer. Never throws:
 * `new URL()` does on targets such as `//` or `//[`, and `decodeURIComponent` on bad escapes. Dot
 * segments are not resolved: no route has them, so they fall to a 404.
 */
export function parseTarget(target: string | undefined, examplePath: string): { path: string; segments: string[] } | HttpError {
  let raw = target ?? '';
  // Absolute form (`GET http://host/path`), which RFC 9112 has servers accept: only the path counts.
  const absolute = /^https?:\/\/([^/?#]*)(.*)$/i.exec(raw);
  if (absolute) {
    if (!URL.canParse(`http://${absolute[1]}`)) return new HttpError(400, 'invalid_target', 'the request target has an invalid host');
    raw = absolute[2]!.startsWith('/') ? absolute[2]! : `/${absolute[2]!}`;
  }
  if (!raw.startsWith('/')) return new HttpError(400, 'invalid_target', `the request target must be a path such as ${examplePath}`);
  const path = raw.replace(/[?#].*$/s, '');
  if (/[^\x21-\x7e]/.test(path)) return new HttpError(400, 'invalid_target', 'the path may hold only visible ASCII characters; percent-encode the rest');
  const segments: string[] = [];
  for (const segment of path.split('/').slice(1)) {
    try {
      segments.push(decodeURIComponent(segment));
    } catch {
      return new HttpError(400, 'invalid_target', 'the path has a malformed percent-escape (% and two hex digits, forming UTF-8)');
    }
  }
  return { path, segments };
}

/** A request body as read up front: whole, over the size limit, or cut off by the caller leaving. */
export type RequestBody = { kind: 'complete'; text: string } | { kind: 'too-large' } | { kind: 'incomplete' };

/**
 * The one body reader of our HTTP servers (intake, codec server, simulator). Settles once: with the
 * whole body; `too-large` as soon as it passes `limit` bytes; or `incomplete` when the connection goes
 * before the body was whole. Never rejects. Past the limit it reads on and drops the rest (`drain`,
 * so the request can still be answered on a kept-alive connection, as Comeet does), or stops reading
 * (`stop`: the caller then answers with `connection: close`, the only way to stop a client still sending).
 */
export function readRequestBody(req: IncomingMessage, limit: number, overLimit: 'drain' | 'stop' = 'drain'): Promise<RequestBody> {
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (body: RequestBody) => {
      if (settled) return;
      settled = true;
      chunks = [];
      resolve(body);
    };
    const onData = (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      settle({ kind: 'too-large' });
      if (overLimit === 'stop') {
        req.off('data', onData);
        req.pause();
      }
    };
    req.on('data', onData);
    req.on('end', () => settle({ kind: 'complete', text: Buffer.concat(chunks).toString('utf8') }));
    // An error or a closed socket after this point (the caller gone while we work) is nobody's concern but the answer's.
    req.on('error', () => settle({ kind: 'incomplete' }));
    req.on('close', () => settle({ kind: 'incomplete' }));
  });
}

/**
 * The body as text, at most `maxBytes`, for our own APIs: too large is a 413 answered with
 * `connection: close`; a body cut off by the client is a 400.
 */
export async function readBody(req: IncomingMessage, maxBytes: number, tooLargeHint = ''): Promise<string> {
  const tooLarge = () => new HttpError(413, 'payload_too_large', `the body is larger than ${maxBytes} bytes${tooLargeHint}`, { connection: 'close' });
  if (Number(req.headers['content-length']) > maxBytes) throw tooLarge();
  const body = await readRequestBody(req, maxBytes, 'stop');
  if (body.kind === 'too-large') throw tooLarge();
  if (body.kind === 'incomplete') throw new HttpError(400, 'incomplete_body', 'the connection closed before the body was complete');
  return body.text;
}

/** A whole response for a socket the HTTP layer has given up on. */
export function rawResponse(status: number, body: unknown): string {
  const json = JSON.stringify(body);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncache-control: no-store\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
}

/**
 * Requests Node cannot parse (bad request line, header, framing; too large; too slow) never reach the
 * handler: answer them as Node would (400, 408, 431), close the socket, and report the kind only (the
 * bytes may hold a token). CONNECT, which Node drops silently without a listener, gets a 405.
 */
export function answerUnparsedRequests(
  server: Server,
  options: { bodyFor: (status: number) => unknown; connectBody: unknown; onAnswered?: (status: number, code: string, method?: string) => void },
): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    if (err.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) return void socket.destroy();
    socket.end(rawResponse(status, options.bodyFor(status)), () => socket.destroy());
    options.onAnswered?.(status, err.code ?? 'bad_request');
  });
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socket.end(rawResponse(405, options.connectBody), () => socket.destroy());
    options.onAnswered?.(405, 'method_not_allowed', 'CONNECT');
  });
}
