// The client's address behind trusted proxies: X-Forwarded-For is read from the
// right and only when the TCP peer is a trusted proxy; junk stops the walk.
import t from 'tap';
import type { IncomingMessage } from 'node:http';
import { clientAddress, forwardedAddress, normalizeAddress, trustedProxySet } from '../../../src/net/clientAddress';

// Only the two fields clientAddress reads, as Node's http server fills them.
const req = (peer: string, xff?: string | string[]) => ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;
const proxies = trustedProxySet(['10.0.0.1', '10.0.0.2', '2001:db8::1'])!;

t.test('normalizeAddress', async (t) => {
  t.equal(normalizeAddress('::ffff:192.0.2.7'), '192.0.2.7');
  t.equal(normalizeAddress('::FFFF:192.0.2.7'), '192.0.2.7');
  t.equal(normalizeAddress('FE80::1%eth0'), 'fe80::1');
  t.equal(normalizeAddress('2001:DB8::1'), '2001:db8::1');
  t.equal(normalizeAddress('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1', 'IPv6 in its canonical form');
  t.equal(normalizeAddress('0:0:0:0:0:0:0:1'), '::1');
  t.equal(normalizeAddress('::ffff:c000:207'), '192.0.2.7', 'IPv4-mapped in hex');
  t.equal(normalizeAddress('0:0:0:0:0:FFFF:192.0.2.7'), '192.0.2.7', 'IPv4-mapped spelled out');
  t.equal(normalizeAddress('unknown'), 'unknown', 'not an address: left alone');
});

t.test('forwardedAddress: with or without a port', async (t) => {
  t.equal(forwardedAddress(' 192.0.2.7 '), '192.0.2.7');
  t.equal(forwardedAddress('192.0.2.7:5678'), '192.0.2.7');
  t.equal(forwardedAddress('[2001:DB8:0::7]:443'), '2001:db8::7');
  t.equal(forwardedAddress('[::1]'), '::1');
  t.equal(forwardedAddress('[::ffff:192.0.2.7]:80'), '192.0.2.7');
  t.equal(forwardedAddress('2001:db8::7'), '2001:db8::7', 'bare IPv6 (its colons are not a port)');
  for (const junk of ['junk', 'unknown', '', '192.0.2.7:', '192.0.2.7:123456', '[junk]:80', '[192.0.2.7]:80', '2001:db8::7:80]', 'host.example:80']) {
    t.equal(forwardedAddress(junk), null, `${JSON.stringify(junk)} is not an address`);
  }
});

t.test('trustedProxySet validates', async (t) => {
  t.same([...trustedProxySet(['::ffff:10.0.0.1', '2001:DB8::1'])!], ['10.0.0.1', '2001:db8::1']);
  t.equal(trustedProxySet(['10.0.0.0/8']), null, 'no ranges');
  t.equal(trustedProxySet(['proxy.example']), null);
  t.equal(trustedProxySet('10.0.0.1'), null, 'a list, not a string');
  t.same([...trustedProxySet([])!], []);
  t.same([...trustedProxySet(['2001:0db8:0:0::0001', '::ffff:a00:1'])!], ['2001:db8::1', '10.0.0.1'], 'canonical IPv6, mapped IPv4 as IPv4');
});

t.test('the header is ignored unless the peer is a trusted proxy', async (t) => {
  t.equal(clientAddress(req('203.0.113.5', '198.51.100.1'), proxies), '203.0.113.5');
  t.equal(clientAddress(req('::ffff:203.0.113.5'), proxies), '203.0.113.5');
  t.equal(clientAddress(req('203.0.113.5', '198.51.100.1'), new Set()), '203.0.113.5');
});

t.test('behind trusted proxies: the rightmost address that is not a proxy', async (t) => {
  t.equal(clientAddress(req('10.0.0.1', '198.51.100.1'), proxies), '198.51.100.1');
  t.equal(clientAddress(req('::ffff:10.0.0.1', '198.51.100.1'), proxies), '198.51.100.1', 'an IPv4-mapped peer is the same proxy');
  t.equal(clientAddress(req('10.0.0.1', 'forged, 198.51.100.1, 10.0.0.2'), proxies), '198.51.100.1', 'a chain of proxies; what the client wrote on the left is not read');
  t.equal(clientAddress(req('10.0.0.1', ['192.0.2.1', '198.51.100.1 ,10.0.0.2']), proxies), '198.51.100.1', 'repeated headers join in order');
  t.equal(clientAddress(req('10.0.0.1', '2001:DB8::7'), proxies), '2001:db8::7');
  t.equal(clientAddress(req('10.0.0.1'), proxies), '10.0.0.1', 'no header: the proxy');
  t.equal(clientAddress(req('10.0.0.1', '10.0.0.2'), proxies), '10.0.0.2', 'only proxies: the leftmost proxy');
  t.equal(clientAddress(req('10.0.0.1', '198.51.100.1:5678'), proxies), '198.51.100.1', 'a proxy that writes the port too');
  t.equal(clientAddress(req('10.0.0.1', '[2001:db8::7]:443, 10.0.0.2:80'), proxies), '2001:db8::7', 'ports on IPv6 and on the proxy hop');
  t.equal(clientAddress(req('10.0.0.1', '198.51.100.1, [::ffff:10.0.0.2]:80'), proxies), '198.51.100.1', 'a mapped proxy hop is that proxy');
  t.equal(clientAddress(req('10.0.0.1', '198.51.100.1, junk'), proxies), '10.0.0.1', 'junk where a proxy writes: the last proxy');
  t.equal(clientAddress(req('10.0.0.1', `${'10.0.0.2,'.repeat(100)}198.51.100.1`), proxies), '198.51.100.1');
  t.equal(clientAddress(req('10.0.0.1', `198.51.100.1,${'10.0.0.2,'.repeat(100)}10.0.0.2`), proxies), '10.0.0.2', 'at most 16 hops are read');
});

t.test('a proxy named in a non-canonical IPv6 spelling matches its peer address', async (t) => {
  const named = trustedProxySet(['2001:DB8:0:0:0:0:0:0001'])!;
  t.equal(clientAddress(req('2001:db8::1', '198.51.100.1'), named), '198.51.100.1');
  t.equal(clientAddress(req('2001:db8::2', '198.51.100.1'), named), '2001:db8::2', 'another peer is not trusted');
  t.equal(clientAddress(req('10.0.0.1', '2001:db8::5, 2001:0db8::0001'), trustedProxySet(['10.0.0.1', '2001:db8::1'])!), '2001:db8::5', 'a hop spelled differently is still the proxy');
});
