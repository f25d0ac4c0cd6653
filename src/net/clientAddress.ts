/**
 * The client's address behind trusted reverse proxies.
 *
 * Per-address lockouts and the audit log need the client's address. Behind a
 * load balancer every TCP peer is the balancer, so one client's failed logins
 * would lock everybody out. X-Forwarded-For is only believed when the TCP peer
 * is a proxy the operator named, and then read from the right: each trusted
 * proxy appends the address it saw, so the first address from the right that
 * is not a trusted proxy is the client (entries further left are whatever the
 * client sent, and a client can write anything there). Proxies may write an
 * entry with a port ('192.0.2.7:5678', '[2001:db8::7]:443'); the address is
 * what counts.
 */
import type { IncomingMessage } from 'node:http';
import { SocketAddress, isIP } from 'node:net';

/**
 * One spelling per address, so a proxy named one way matches the peer seen
 * another: lower case, no zone id, IPv6 in its canonical (RFC 5952) form
 * ('2001:DB8:0::1' → '2001:db8::1'), IPv4-mapped IPv6 ('::ffff:10.0.0.1',
 * '::ffff:a00:1') as IPv4. Anything that is not an IP address is only lower-cased.
 */
export function normalizeAddress(address: string): string {
  const a = address.toLowerCase().replace(/%.*$/, '');
  if (isIP(a) !== 6) return a;
  const canonical = new SocketAddress({ address: a, family: 'ipv6' }).address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(canonical);
  return mapped ? mapped[1]! : canonical;
}

/** The address in an X-Forwarded-For entry ('a', 'ipv4:port', '[ipv6]', '[ipv6]:port'), normalized; null if there is none. */
export function forwardedAddress(entry: string): string | null {
  const e = entry.trim();
  const v6 = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(e);
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d{1,5}$/.exec(e);
  const address = v6 ? v6[1]! : v4 ? v4[1]! : e;
  const family = isIP(address.replace(/%.*$/, ''));
  return family === 0 || (v6 && family !== 6) ? null : normalizeAddress(address);
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
    const hop = forwardedAddress(hops[i]!);
    // Garbage where a trusted proxy should have written an address: the last proxy is all we know.
    if (hop === null) return client;
    client = hop;
    if (!trustedProxies.has(client)) return client;
  }
  return client;
}
