/** Small HTTP helpers shared by the simulator's API and admin routes. */

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
