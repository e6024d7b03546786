/** Small HTTP helpers shared by the simulator's API and admin routes. */
import type { IncomingMessage } from 'node:http';

export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export const NOT_FOUND_HTML =
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n' +
  '<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';

const FAULT_TITLES: Record<number, [code: string, title: string]> = {
  500: ['internal_server_error', 'Internal Server Error'],
  502: ['bad_gateway', 'Bad Gateway'],
  503: ['service_unavailable', 'Service Temporarily Unavailable'],
  504: ['gateway_timeout', 'Gateway Time-out'],
};

export function faultCode(status: number): string {
  return FAULT_TITLES[status]?.[0] ?? 'server_error';
}

/** The HTML a load balancer in front of the API would send for a 5xx. */
export function faultHtml(status: number): string {
  const title = `${status} ${FAULT_TITLES[status]?.[1] ?? 'Server Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

export class BodyTooLargeError extends Error {
  constructor() {
    super('Request body too large');
  }
}

/** Reads the whole request body as UTF-8 (rejects past `limit` bytes). */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

/** A request body as read up front: whole, over the size limit, or cut off by the caller leaving. */
export type RequestBody = { kind: 'complete'; text: string } | { kind: 'too-large' } | { kind: 'incomplete' };

/**
 * Reads the request to its end, the way a server does before acting on it. Settles once: with the
 * whole body; `too-large` as soon as it passes `limit` bytes (the rest is still read and discarded, so
 * the request can be answered); or `incomplete` when the connection goes before the body was whole.
 * Never rejects, and leaves an `error` listener on the request for good: an error or a closed socket
 * after this point (the caller gone while we work) is nobody's concern but the answer's.
 */
export function readRequestBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<RequestBody> {
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
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) settle({ kind: 'too-large' });
      else chunks.push(chunk);
    });
    req.on('end', () => settle({ kind: 'complete', text: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', () => settle({ kind: 'incomplete' }));
    req.on('close', () => settle({ kind: 'incomplete' }));
  });
}

/** Splits a path into decoded segments; undefined when a segment is not valid percent-encoding. */
export function pathSegments(pathname: string): string[] | undefined {
  const parts = pathname.split('/').filter((p) => p !== '');
  try {
    return parts.map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
}

/** `http://host:port` for a bound address, using a loopback name for wildcard hosts. */
export function baseUrl(host: string, port: number): string {
  let h = host;
  if (h === '0.0.0.0' || h === '') h = '127.0.0.1';
  else if (h === '::') h = '::1';
  if (h.includes(':') && !h.startsWith('[')) h = `[${h}]`;
  return `http://${h}:${port}`;
}

export function isValidEmail(email: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@.]+$/.test(email.trim());
}
