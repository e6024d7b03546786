/**
 * The undici connector of callback deliveries: it resolves the host itself, keeps only addresses the
 * policy allows and connects to one of those, so the address checked is the address connected to (a
 * DNS answer that changes between a check and the connect, DNS rebinding, changes nothing). TLS still
 * verifies the certificate against the host name (SNI too).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import { allowedAddresses, type CallbackTargetPolicy } from './address-policy.js';

/** Every address of a host name, in the resolver's order. */
export type ResolveAll = (hostname: string) => Promise<string[]>;

export const resolveAll: ResolveAll = async (hostname) => (await dnsLookup(hostname, { all: true })).map((a) => a.address);

export interface GuardedConnectorOptions {
  policy: CallbackTargetPolicy;
  /** Default: dns.lookup of every address (what the OS would use, /etc/hosts included). */
  resolve?: ResolveAll;
  /** Opens the socket to a checked address; default undici's own connector. */
  connect?: buildConnector.connector;
  timeoutMs?: number;
}

export function guardedConnector(options: GuardedConnectorOptions): buildConnector.connector {
  const resolve = options.resolve ?? resolveAll;
  const connect = options.connect ?? buildConnector({ timeout: options.timeoutMs ?? 10_000 });
  return (opts, callback) => {
    // undici strips the brackets of an IPv6 literal from `hostname`; `host` keeps the URL's form.
    const literal = isIP(opts.hostname) !== 0;
    (literal ? Promise.resolve([opts.hostname]) : resolve(opts.hostname))
      .then((addresses) => allowedAddresses(opts.hostname, addresses, options.policy, !literal))
      .then(
        // The TLS servername (SNI and the certificate check) stays the name we were asked to reach.
        ([address]) => connect({ ...opts, hostname: address!, ...(literal ? {} : { servername: opts.servername || opts.hostname }) }, callback),
        (err: Error) => callback(err, null),
      );
  };
}
