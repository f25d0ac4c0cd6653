// The client's address behind trusted proxies: X-Forwarded-For is read from the
// right and only when the TCP peer is a trusted proxy; junk stops the walk.
import t from 'tap';
import type { IncomingMessage } from 'node:http';
import { clientAddress, normalizeAddress, trustedProxySet } from '../../../src/net/clientAddress';

// Only the two fields clientAddress reads, as Node's http server fills them.
const req = (peer: string, xff?: string | string[]) => ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;
const proxies = trustedProxySet(['10.0.0.1', '10.0.0.2', '2001:db8::1'])!;

t.test('normalizeAddress', async (t) => {
  t.equal(normalizeAddress('::ffff:192.0.2.7'), '192.0.2.7');
  t.equal(normalizeAddress('::FFFF:192.0.2.7'), '192.0.2.7');
  t.equal(normalizeAddress('FE80::1%eth0'), 'fe80::1');
  t.equal(normalizeAddress('2001:DB8::1'), '2001:db8::1');
});

t.test('trustedProxySet validates', async (t) => {
  t.same([...trustedProxySet(['::ffff:10.0.0.1', '2001:DB8::1'])!], ['10.0.0.1', '2001:db8::1']);
  t.equal(trustedProxySet(['10.0.0.0/8']), null, 'no ranges');
  t.equal(trustedProxySet(['proxy.example']), null);
  t.equal(trustedProxySet('10.0.0.1'), null, 'a list, not a string');
  t.same([...trustedProxySet([])!], []);
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
  t.equal(clientAddress(req('10.0.0.1', '198.51.100.1, junk'), proxies), '10.0.0.1', 'junk where a proxy writes: the last proxy');
  t.equal(clientAddress(req('10.0.0.1', `${'10.0.0.2,'.repeat(100)}198.51.100.1`), proxies), '198.51.100.1');
  t.equal(clientAddress(req('10.0.0.1', `198.51.100.1,${'10.0.0.2,'.repeat(100)}10.0.0.2`), proxies), '10.0.0.2', 'at most 16 hops are read');
});
