/**
 * The client's address behind trusted reverse proxies.
 *
 * Per-address lockouts and the audit log need the client's address. Behind a
 * load balancer every TCP peer is the balancer, so one client's failed logins
 * would lock everybody out. X-Forwarded-For is only believed when the TCP peer
 * is a proxy the operator named, and then read from the right: each trusted
 * proxy appends the address it saw, so the first address from the right that
 * is not a trusted proxy is the client (entries further left are whatever the
 * client sent, and a client can write anything there).
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** One spelling per address: lower case, no zone id, IPv4-mapped IPv6 ('::ffff:10.0.0.1') as IPv4. */
export function normalizeAddress(address: string): string {
  const a = address.toLowerCase().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return mapped ? mapped[1]! : a;
}

/** A list of proxy addresses (exact addresses, no ranges) as a set, or null if an entry is not an IP address. */
export function trustedProxySet(addresses: unknown): ReadonlySet<string> | null {
  if (!Array.isArray(addresses) || addresses.some((a) => typeof a !== 'string' || isIP(a) === 0)) return null;
  return new Set((addresses as string[]).map(normalizeAddress));
}

/** At most this many X-Forwarded-For entries are looked at (a client may send a long header). */
const MAX_HOPS = 16;

export function clientAddress(req: IncomingMessage, trustedProxies: ReadonlySet<string>): string {
  const peer = normalizeAddress(req.socket.remoteAddress ?? 'unknown');
  if (!trustedProxies.has(peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  if (!header) return peer;
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',').slice(-MAX_HOPS);
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.trim();
    // Garbage where a trusted proxy should have written an address: the last proxy is all we know.
    if (isIP(hop) === 0) return client;
    client = normalizeAddress(hop);
    if (!trustedProxies.has(client)) return client;
  }
  return client;
}
