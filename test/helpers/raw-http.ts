/**
 * HTTP over a raw TCP socket, for requests no well-behaved client would send (broken request lines,
 * bad escapes, lying framing headers, slow bodies): writes bytes as given, reads one response.
 */
import { connect } from 'node:net';

export interface RawResponse {
  /** Undefined when the server closed (or the wait ended) before a status line arrived. */
  status?: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (before `timeoutMs`). */
  closed: boolean;
  /** Bytes of `chunks` written before the server closed or answered-and-closed. */
  written: number;
}

export interface RawOptions {
  /** Pause between chunks: a slow client. */
  delayMs?: number;
  /** Half-close after the last chunk, as a client that gives up sending does. */
  end?: boolean;
  /** After a complete response, wait for the server to close (to see `connection: close` honoured). */
  waitForClose?: boolean;
  timeoutMs?: number;
}

export function rawRequest(baseUrl: string, chunks: (string | Buffer)[] | string, options: RawOptions = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const parts = (typeof chunks === 'string' ? [chunks] : chunks).map((c) => (typeof c === 'string' ? Buffer.from(c, 'latin1') : c));
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let received = Buffer.alloc(0);
    let written = 0;
    let closed = false;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parse(received), closed, written });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 10_000);
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (!options.waitForClose && complete(received)) finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    const send = async () => {
      for (const [i, part] of parts.entries()) {
        if (closed || settled) return;
        if (i > 0 && options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        if (closed || settled) return;
        await new Promise<void>((r) => socket.write(part, () => r()));
        written += part.length;
      }
      if (options.end && !closed) socket.end();
    };
    // A write that fails surfaces as the socket's error/close, which settle the exchange.
    socket.on('connect', () => void send().catch(() => undefined));
  });
}

function split(buf: Buffer): { head: string; body: Buffer } | undefined {
  const at = buf.indexOf('\r\n\r\n');
  return at < 0 ? undefined : { head: buf.subarray(0, at).toString('latin1'), body: buf.subarray(at + 4) };
}

function complete(buf: Buffer): boolean {
  const parts = split(buf);
  if (!parts) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(parts.head);
  if (length) return parts.body.length >= Number(length[1]);
  return !/\r\ntransfer-encoding:\s*chunked/i.test(parts.head) || parts.body.includes('0\r\n\r\n');
}

function parse(buf: Buffer): Pick<RawResponse, 'status' | 'headers' | 'body'> {
  const parts = split(buf);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(parts?.head ?? buf.toString('latin1'));
  const headers: Record<string, string> = {};
  for (const line of parts?.head.split('\r\n').slice(1) ?? []) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: status ? Number(status[1]) : undefined, headers, body: parts?.body.toString('utf8') ?? '' };
}
