/**
 * Which addresses a completion callback may reach. A callback URL comes from a caller, so without a
 * policy any caller could make the worker POST to its own loopback, the cloud metadata service
 * (169.254.169.254) or the private network (SSRF). Only public unicast addresses are allowed, plus
 * networks the operator lists in DSAR_CALLBACK_ALLOW_NETWORKS (a sidecar, tests). The worker checks
 * the address it is about to connect to (see connector.ts); the intake checks IP-literal hosts early.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { callbackHostAllowed, callbackUrlSchema } from '../erasure-request.js';

/** What an address is, in words an operator reads in an error ("a link-local address"). */
export type AddressKind =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'carrier-grade NAT'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'reserved';

// ::ffff:0:0/96 and 64:ff9b::/96, which stand for the IPv4 address in their last 32 bits.
const MAPPED = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0]);
const NAT64 = Uint8Array.from([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

interface Network {
  bytes: Uint8Array;
  prefix: number;
}

/** An IP address as 4 or 16 bytes; undefined when the text is not one. */
function addressBytes(ip: string): Uint8Array | undefined {
  if (isIPv4(ip)) return Uint8Array.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) return undefined;
  let text = ip.replace(/%.*$/, ''); // a zone id (fe80::1%eth0) names an interface, not an address
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -dotted[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function inNetwork(bytes: Uint8Array, net: Network): boolean {
  if (bytes.length !== net.bytes.length) return false;
  for (let bit = 0; bit < net.prefix; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((bytes[bit >> 3]! & mask) !== (net.bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}

/** `10.0.0.0/8`, `fc00::/7`, or a bare address (one host); undefined when malformed. */
export function parseNetwork(text: string): Network | undefined {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  const bytes = m ? addressBytes(m[1]!) : undefined;
  if (!m || !bytes) return undefined;
  const prefix = m[2] === undefined ? bytes.length * 8 : Number(m[2]);
  if (prefix > bytes.length * 8) return undefined;
  // ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are compared in their IPv4 form (see normalised).
  if (prefix >= 96 && inNetwork(bytes, { bytes: MAPPED, prefix: 96 })) return { bytes: bytes.slice(12), prefix: prefix - 96 };
  return { bytes, prefix };
}

const net = (cidr: string): Network => parseNetwork(cidr)!;

// Most specific first: the first match names the kind.
const IPV4_RANGES: [AddressKind, Network][] = (
  [
    ['unspecified', '0.0.0.0/8'],
    ['private', '10.0.0.0/8'],
    ['carrier-grade NAT', '100.64.0.0/10'],
    ['loopback', '127.0.0.0/8'],
    ['link-local', '169.254.0.0/16'],
    ['private', '172.16.0.0/12'],
    ['reserved', '192.0.0.0/24'],
    ['documentation', '192.0.2.0/24'],
    ['reserved', '192.88.99.0/24'],
    ['private', '192.168.0.0/16'],
    ['reserved', '198.18.0.0/15'],
    ['documentation', '198.51.100.0/24'],
    ['documentation', '203.0.113.0/24'],
    ['multicast', '224.0.0.0/4'],
    ['broadcast', '255.255.255.255/32'],
    ['reserved', '240.0.0.0/4'],
  ] as const
).map(([kind, cidr]) => [kind, net(cidr)]);

const IPV6_RANGES: [AddressKind, Network][] = (
  [
    ['unspecified', '::/128'],
    ['loopback', '::1/128'],
    ['reserved', '::/96'], // IPv4-compatible (deprecated)
    ['reserved', '100::/64'], // discard-only
    ['private', '64:ff9b:1::/48'], // local-use NAT64
    ['reserved', '2001::/32'], // Teredo: the IPv4 inside is obfuscated, so it cannot be checked
    ['documentation', '2001:db8::/32'],
    ['unique-local', 'fc00::/7'],
    ['link-local', 'fe80::/10'],
    ['private', 'fec0::/10'], // site-local (deprecated)
    ['multicast', 'ff00::/8'],
  ] as const
).map(([kind, cidr]) => [kind, net(cidr)]);
const IPV6_GLOBAL_UNICAST = net('2000::/3');

/**
 * The IPv4 address an IPv6 one stands for: IPv4-mapped (::ffff:0:0/96, what a dual-stack socket
 * reports), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) all end up at that IPv4 host.
 */
function embeddedIPv4(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length !== 16) return undefined;
  if (inNetwork(bytes, { bytes: MAPPED, prefix: 96 }) || inNetwork(bytes, { bytes: NAT64, prefix: 96 })) return bytes.slice(12);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.slice(2, 6);
  return undefined;
}

/** An address as the bytes it reaches: IPv4 (4 bytes) for the IPv6 forms that embed one. */
function normalised(ip: string): Uint8Array | undefined {
  const bytes = addressBytes(ip.replace(/^\[|\]$/g, ''));
  return bytes && (embeddedIPv4(bytes) ?? bytes);
}

/** What kind of address `ip` is (IPv4 or IPv6, brackets allowed); undefined when it is not an IP. */
export function classifyAddress(ip: string): AddressKind | undefined {
  const bytes = normalised(ip);
  if (!bytes) return undefined;
  if (bytes.length === 4) return IPV4_RANGES.find(([, n]) => inNetwork(bytes, n))?.[0] ?? 'public';
  const kind = IPV6_RANGES.find(([, n]) => inNetwork(bytes, n))?.[0];
  return kind ?? (inNetwork(bytes, IPV6_GLOBAL_UNICAST) ? 'public' : 'reserved');
}

/** Deployment settings of where callbacks may go. */
export interface CallbackTargetPolicy {
  /** DSAR_CALLBACK_HOSTS: exact host names or `.suffix`; empty = any host. */
  allowedHosts: readonly string[];
  /** DSAR_CALLBACK_ALLOW_NETWORKS: CIDRs whose non-public addresses callbacks may reach anyway. */
  allowedNetworks?: readonly string[];
}

/** Refused: the kind of the address (the first one, when a name resolved to several). */
export class CallbackAddressError extends Error {
  override name = 'CallbackAddressError';
  readonly code = 'CallbackAddressNotAllowed';
  constructor(
    readonly host: string,
    readonly kind: AddressKind,
    resolved: boolean,
  ) {
    super(
      `callback host ${host} ${resolved ? 'resolves only to' : 'is'} ${addressKindPhrase(kind)}, which callbacks may not reach (allow its network in DSAR_CALLBACK_ALLOW_NETWORKS for a sidecar)`,
    );
  }
}

/** "a loopback address", "an unspecified address". */
export function addressKindPhrase(kind: AddressKind): string {
  return `${kind === 'unspecified' ? 'an' : 'a'} ${kind} address`;
}

/** The addresses among `addresses` a callback may connect to, in their order; throws when none. */
export function allowedAddresses(host: string, addresses: readonly string[], policy: CallbackTargetPolicy, resolved: boolean): string[] {
  const networks = (policy.allowedNetworks ?? []).map((n) => {
    const parsed = parseNetwork(n);
    // config.ts validates DSAR_CALLBACK_ALLOW_NETWORKS; a bad entry here is a programming error.
    if (!parsed) throw new Error('allowedNetworks holds an entry that is not an address or CIDR network');
    return parsed;
  });
  let firstRefused: AddressKind | undefined;
  const ok = addresses.filter((a) => {
    const kind = classifyAddress(a) ?? 'reserved';
    const bytes = normalised(a);
    if (kind === 'public' || (bytes && networks.some((n) => inNetwork(bytes, n)))) return true;
    firstRefused ??= kind;
    return false;
  });
  if (!ok.length) throw new CallbackAddressError(host, firstRefused ?? 'reserved', resolved);
  return ok;
}

// RFC 6761: localhost names resolve to loopback, whatever DNS says.
const LOCALHOST_NAME = /^(.+\.)?localhost\.?$/i;

export interface CallbackTargetProblem {
  code: 'CallbackUrlInvalid' | 'CallbackHostNotAllowed' | 'CallbackAddressNotAllowed';
  /** Names the host (for the worker's log and the request's status). */
  message: string;
  /** CallbackAddressNotAllowed: what the address is. */
  kind?: AddressKind;
}

/**
 * Every check that needs no DNS: the URL schema (https, or http for localhost; no credentials), the
 * host allow-list and, for a host that is an IP literal or a localhost name, the address policy.
 * The intake calls it before starting; the worker calls it before each delivery, whatever path the
 * URL took into the workflow, and then checks the resolved address at connect time.
 */
export function callbackTargetProblem(url: string, policy: CallbackTargetPolicy): CallbackTargetProblem | undefined {
  const parsed = callbackUrlSchema.safeParse(url);
  // The schema's messages name callbackUrl themselves and never quote it.
  if (!parsed.success) return { code: 'CallbackUrlInvalid', message: parsed.error.issues.map((i) => i.message).join('; ') };
  const host = new URL(url).hostname;
  if (!callbackHostAllowed(url, policy.allowedHosts)) {
    return { code: 'CallbackHostNotAllowed', message: `callback host ${host} is not in DSAR_CALLBACK_HOSTS` };
  }
  const literal = classifyAddress(host) ? [host.replace(/^\[|\]$/g, '')] : LOCALHOST_NAME.test(host) ? ['127.0.0.1', '::1'] : undefined;
  if (literal) {
    try {
      allowedAddresses(host, literal, policy, false);
    } catch (err) {
      if (err instanceof CallbackAddressError) return { code: err.code, message: err.message, kind: err.kind };
      throw err;
    }
  }
  return undefined;
}
