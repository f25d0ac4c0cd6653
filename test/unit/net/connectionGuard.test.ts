// ConnectionGuard: pure bookkeeping with an injected clock.
import t from 'tap';
import { AUDIT_BURST, AUDIT_PER_SECOND, ConnectionGuard, ConnectionLimits, GuardedConnection, addressKey } from '../../../src/net/connectionGuard';

const limits: ConnectionLimits = { maxConnectionsPerIp: 3, maxUnauthenticated: 5, authFailureLimit: 3, authFailureWindowMs: 1000, authCooldownMs: 5000 };

function guard(l: Partial<ConnectionLimits> = {}) {
  let now = 0;
  const g = new ConnectionGuard({ ...limits, ...l }, () => now);
  return { g, advance: (ms: number) => (now += ms) };
}

function admitted(v: GuardedConnection | string): GuardedConnection {
  if (typeof v === 'string') throw new Error(`refused: ${v}`);
  return v;
}

t.test('per-address cap counts every open socket of the address', (t) => {
  const { g } = guard();
  const a = [admitted(g.admit('10.0.0.1')), admitted(g.admit('10.0.0.1')), admitted(g.admit('10.0.0.1'))];
  t.equal(g.admit('10.0.0.1'), 'per-address connection limit');
  g.authenticated(a[0]!); // authenticated sockets still count against their address
  t.equal(g.admit('10.0.0.1'), 'per-address connection limit');
  t.equal(typeof g.admit('10.0.0.2'), 'object', 'another address is unaffected');
  g.release(a[1]!);
  g.release(a[1]!); // idempotent
  t.equal(typeof g.admit('10.0.0.1'), 'object', 'a released place can be used again');
  t.same(g.stats(), { open: 4, unauthenticated: 3, refused: {} });
  t.end();
});

t.test('perIpUnauthenticatedOnly (the relay): authenticated sockets leave the per-address count', (t) => {
  const { g } = guard({ perIpUnauthenticatedOnly: true });
  const a = [admitted(g.admit('10.0.0.1')), admitted(g.admit('10.0.0.1')), admitted(g.admit('10.0.0.1'))];
  t.equal(g.admit('10.0.0.1'), 'per-address connection limit', 'three unauthenticated fill the cap');
  g.authenticated(a[0]!);
  g.authenticated(a[1]!);
  const b = [admitted(g.admit('10.0.0.1')), admitted(g.admit('10.0.0.1'))];
  t.equal(g.admit('10.0.0.1'), 'per-address connection limit', 'still three unauthenticated at most');
  g.release(a[0]!); // an authenticated socket closing does not free an unauthenticated place twice
  t.equal(g.admit('10.0.0.1'), 'per-address connection limit');
  g.release(b[0]!);
  t.equal(typeof g.admit('10.0.0.1'), 'object');
  t.same(g.stats(), { open: 4, unauthenticated: 3, refused: {} });
  t.end();
});

t.test('the global cap counts only unauthenticated sockets', (t) => {
  const { g } = guard({ maxConnectionsPerIp: 100 });
  const c = Array.from({ length: 5 }, (_, i) => admitted(g.admit(`10.0.1.${i}`)));
  t.equal(g.admit('10.0.2.1'), 'unauthenticated connection limit');
  g.authenticated(c[0]!);
  g.authenticated(c[0]!); // idempotent
  t.equal(g.stats().unauthenticated, 4);
  const d = admitted(g.admit('10.0.2.1'));
  t.equal(g.admit('10.0.2.2'), 'unauthenticated connection limit');
  g.release(c[0]!); // an authenticated one leaving frees no unauthenticated place
  t.equal(g.admit('10.0.2.2'), 'unauthenticated connection limit');
  g.release(d);
  t.equal(typeof g.admit('10.0.2.2'), 'object');
  t.equal(g.stats().open, 5);
  t.end();
});

t.test('refused authorisations: a cool-down after the limit within the window, then it ends', (t) => {
  const { g, advance } = guard();
  t.equal(g.authBlockedFor('10.0.0.1'), 0);
  g.authRefused('10.0.0.1');
  g.authRefused('10.0.0.1');
  t.equal(g.authBlockedFor('10.0.0.1'), 0, 'two refusals: still allowed');
  g.authRefused('10.0.0.1');
  t.equal(g.authBlockedFor('10.0.0.1'), 5000, 'third: cool-down');
  t.equal(g.authBlockedFor('10.0.0.2'), 0, 'other addresses unaffected');
  advance(4999);
  t.equal(g.authBlockedFor('10.0.0.1'), 1);
  advance(1);
  t.equal(g.authBlockedFor('10.0.0.1'), 0, 'cool-down over');
  t.end();
});

t.test('refusals spread wider than the window do not add up', (t) => {
  const { g, advance } = guard();
  for (let i = 0; i < 10; i++) {
    g.authRefused('10.0.0.1');
    advance(600); // two per window at most
  }
  t.equal(g.authBlockedFor('10.0.0.1'), 0);
  t.end();
});

t.test('refusal audits are rate limited; every refusal is counted; the next audit says how many were left out', (t) => {
  const { g, advance } = guard();
  let audited = 0;
  for (let i = 0; i < 100; i++) if (g.refused('headers timeout').audit) audited++;
  t.equal(audited, AUDIT_BURST, 'a burst, then nothing');
  t.equal(g.stats().refused['headers timeout'], 100, 'all counted');
  advance(1000 / AUDIT_PER_SECOND);
  const next = g.refused('per-address connection limit');
  t.same(next, { audit: true, suppressed: 100 - AUDIT_BURST });
  t.same(g.refused('per-address connection limit'), { audit: false, suppressed: 0 });
  advance(60_000);
  let again = 0;
  for (let i = 0; i < 100; i++) if (g.refused('headers timeout').audit) again++;
  t.equal(again, AUDIT_BURST, 'the bucket refills to the burst, no more');
  t.end();
});

t.test('the auth table stays bounded under a flood of addresses', (t) => {
  const { g, advance } = guard({ authFailureLimit: 1000 });
  for (let i = 0; i < 12_000; i++) {
    g.authRefused(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    advance(1);
  }
  t.ok(g.trackedAddresses <= 10_000, `${g.trackedAddresses} tracked`);
  t.end();
});

t.test('addressKey: IPv4 as is, IPv4-mapped as IPv4, IPv6 by /64', (t) => {
  t.equal(addressKey('192.0.2.7'), '192.0.2.7');
  t.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
  t.equal(addressKey('::FFFF:192.0.2.7'), '192.0.2.7');
  t.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  t.equal(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64', 'same /64, same key');
  t.equal(addressKey('2001:0db8:0001:0002::5'), '2001:db8:1:2::/64', 'leading zeros');
  t.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64', 'zone id dropped');
  t.equal(addressKey('::1'), '0:0:0:0::/64');
  t.not(addressKey('2001:db8:1:3::1'), addressKey('2001:db8:1:2::1'));
  t.equal(addressKey('not-an-address'), 'not-an-address');
  t.end();
});
