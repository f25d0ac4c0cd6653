// D3: descriptor exhaustion before the upgrade. Idle sockets, slowloris, per-IP
// and global caps. Real sockets on 127.0.0.1 (and 127.0.0.2 as a second IP).
// No timing assertions beyond generous "eventually" bounds.
import t from 'tap';
import { connectViewer } from '../../src/client/viewerClient';
import { until } from '../helpers';
import { OTHER_IP, RawSocket, allClosed, base, exact, frameN, rawPeer, rawSocket, slowloris, sleep, startHost, upgradeRequest, upgradeStatus, HELLO } from './hostile';

t.test('idle raw TCP sockets that never send a request are closed by the pre-upgrade timeout', async (t) => {
  const { host, audits } = await startHost({ headersTimeoutMs: 300 });
  const idle: RawSocket[] = [];
  for (let i = 0; i < 10; i++) idle.push(await rawSocket(host.port));
  t.equal(await allClosed(idle, 'the idle sockets to be closed', 10_000), null, 'every idle socket was closed');
  t.ok(idle.every((s) => s.received() === ''), 'nothing was sent to them');
  t.ok(host.connectionStats().refused['headers timeout']! >= 10, 'counted');
  t.ok(audits.some((a) => a.type === 'refused' && a.reason === 'headers timeout'), 'audited');
  await host.close();
});

t.test('slowloris: an upgrade whose headers never finish is closed', async (t) => {
  const { host } = await startHost({ headersTimeoutMs: 500 });
  const slow = [await slowloris(host.port), await slowloris(host.port)];
  t.equal(await allClosed(slow, 'the slowloris sockets to be closed', 10_000), null, 'closed while still dribbling');
  t.notMatch(slow[0]!.received(), /101 Switching/, 'never upgraded');
  await host.close();
});

t.test('a keep-alive HTTP connection must finish its next request headers in time too', async (t) => {
  const { host } = await startHost({ headersTimeoutMs: 300 });
  const s = await rawSocket(host.port);
  s.socket.write(`GET /page HTTP/1.1\r\nHost: x\r\n\r\n`);
  await until(() => /404/.test(s.received()), 'the response');
  s.socket.write(`GET /next HTTP/1.1\r\nHost: x\r\n`); // the second request's headers never end
  t.equal(await allClosed([s], 'the half-sent keep-alive socket to be closed', 10_000), null);
  await host.close();
});

t.test('per-IP cap: the N+1th socket from one address is refused, other addresses are not', async (t) => {
  const { host, audits } = await startHost({ maxConnectionsPerIp: 4, headersTimeoutMs: 60_000 });
  const held: RawSocket[] = [];
  for (let i = 0; i < 4; i++) held.push(await rawSocket(host.port));
  const extra = await rawSocket(host.port);
  t.equal(await allClosed([extra], 'the 5th socket to be refused', 10_000), null, 'the 5th socket was closed at once');
  t.ok(host.connectionStats().refused['per-address connection limit']! >= 1, 'counted');
  t.ok(audits.some((a) => a.type === 'refused' && a.reason === 'per-address connection limit' && a.remoteAddress === '127.0.0.1'), 'audited');
  await sleep(200);
  t.ok(held.every((s) => !s.closed), 'the 4 within the cap stay open');
  // Another address is unaffected: it can upgrade and stream.
  const other = await rawPeer(host.url, { localAddress: OTHER_IP });
  other.ws.send(HELLO);
  await until(() => other.messages.some((m) => m.type === 'update'), 'an update for the viewer on 127.0.0.2');
  t.pass('a viewer from 127.0.0.2 streams while 127.0.0.1 is at its cap');
  // Closing one of the held sockets frees a place.
  held.pop()!.socket.destroy();
  await until(() => host.connectionStats().open === 3 + 1, 'the freed socket to be released (3 held + the viewer on 127.0.0.2)');
  const again = await rawSocket(host.port);
  await sleep(200);
  t.notOk(again.closed, 'a place freed by a close can be used again');
  for (const s of [...held, again]) s.socket.destroy();
  other.ws.terminate();
  await host.close();
});

t.test('per-IP cap counts upgraded viewers too', async (t) => {
  const { host } = await startHost({ maxConnectionsPerIp: 2, headersTimeoutMs: 60_000 });
  const v1 = connectViewer(host.url);
  t.equal(await exact(v1, base), null);
  const idle = await rawSocket(host.port);
  const over = await rawSocket(host.port);
  t.equal(await allClosed([over], 'the socket over the cap to be refused', 10_000), null, 'viewer + idle = 2: a third is refused');
  t.notOk(idle.closed);
  idle.socket.destroy();
  v1.close();
  await host.close();
});

t.test('global cap on unauthenticated sockets; a streaming viewer is not counted and stays exact', async (t) => {
  const { source, host, audits } = await startHost({ maxUnauthenticated: 6, maxConnectionsPerIp: 100, headersTimeoutMs: 60_000, fps: 60 });
  const honest = connectViewer(host.url);
  t.equal(await exact(honest, base), null, 'honest viewer exact before the flood');
  const held: RawSocket[] = [];
  for (let i = 0; i < 6; i++) held.push(await rawSocket(host.port, i % 2 ? OTHER_IP : undefined));
  const extra = [await rawSocket(host.port), await rawSocket(host.port, OTHER_IP)];
  t.equal(await allClosed(extra, 'sockets over the unauthenticated cap to be refused', 10_000), null, 'over the global cap: refused, from any address');
  t.ok(audits.some((a) => a.type === 'refused' && a.reason === 'unauthenticated connection limit'));
  // Refused at accept, before a byte was read: no upgrade slips in while the pool is full.
  t.equal(await upgradeStatus(host.url), 0, 'an upgrade over the cap is cut before any response');
  const next = frameN(5);
  source.push(next);
  t.equal(await exact(honest, next), null, 'the honest viewer streams on during the flood');
  for (const s of held) s.socket.destroy();
  await until(() => host.connectionStats().unauthenticated === 0, 'the held sockets to be released');
  const late = connectViewer(host.url);
  t.equal(await exact(late, next), null, 'after the flood a new viewer gets in');
  late.close();
  honest.close();
  await host.close();
});

t.test('a flood of refused sockets is counted in full but audited at a bounded rate', async (t) => {
  const { host, audits } = await startHost({ maxConnectionsPerIp: 1, headersTimeoutMs: 60_000 });
  const held = await rawSocket(host.port);
  const flood: RawSocket[] = [];
  for (let i = 0; i < 300; i++) flood.push(await rawSocket(host.port));
  t.equal(await allClosed(flood, 'the flood to be refused', 15_000), null);
  const counted = host.connectionStats().refused['per-address connection limit']!;
  const audited = audits.filter((a) => a.type === 'refused').length;
  t.equal(counted, 300, 'every refusal counted');
  t.ok(audited >= 1 && audited <= 100, `${audited} audit events for 300 refusals`);
  held.socket.destroy();
  await host.close();
});

t.test('a request line over a cap gets an HTTP status, not a silent reset', async (t) => {
  // Auth refusals put the address in cool-down; a raw request then gets 429.
  const { host } = await startHost({ authorize: () => false, authFailureLimit: 1 });
  const first = await rawSocket(host.port);
  first.socket.write(upgradeRequest(host.port));
  await until(() => /401/.test(first.received()), 'the 401');
  const second = await rawSocket(host.port);
  second.socket.write(upgradeRequest(host.port));
  await until(() => /^HTTP\/1.1 429/.test(second.received()), 'the 429');
  t.equal(await allClosed([first, second], 'both closed', 10_000), null);
  await host.close();
});
