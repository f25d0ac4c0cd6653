// D4 and message abuse: sockets that upgrade and never say HELLO, HELLO races
// at the viewer limit, and out-of-order / oversize / text messages. Each abuse
// closes only its own connection; an honest viewer stays exact throughout.
import t from 'tap';
import { connectViewer } from '../../src/client/viewerClient';
import { MAX_VIEWER_MESSAGE_BYTES } from '../../src/host/host';
import { Reason } from '../../src/protocol/constants';
import { encodeMessage } from '../../src/protocol/messages';
import { until } from '../helpers';
import { HELLO, RawPeer, allClosed, base, exact, frameN, rawPeer, startHost, upgradeStatus } from './hostile';

t.test('silent upgraded sockets do not hold viewer slots; a real viewer gets in and ends exact', async (t) => {
  const { source, host } = await startHost({ maxViewers: 8, fps: 60 });
  const honest = connectViewer(host.url);
  t.equal(await exact(honest, base), null, 'honest viewer exact before the attack');
  // Seven sockets upgrade, never send HELLO, and come straight back when closed.
  let stop = false;
  const silent = new Set<RawPeer>();
  const holdSlot = async (): Promise<void> => {
    if (stop) return;
    const p = await rawPeer(host.url).catch(() => null);
    if (!p) return void setTimeout(() => void holdSlot(), 50);
    silent.add(p);
    void p.closed.then(() => {
      silent.delete(p);
      void holdSlot();
    });
  };
  for (let i = 0; i < 7; i++) await holdSlot();
  t.equal(silent.size, 7, 'seven silent sockets upgraded');
  const real = connectViewer(host.url, { reconnect: false });
  const refused: string[] = [];
  real.on('error', (e) => refused.push(e.message));
  const next = frameN(11);
  source.push(next);
  t.equal(await exact(real, next), null, `the real viewer got in and is exact (errors: ${refused.join('; ') || 'none'})`);
  t.equal(await exact(honest, next), null, 'the honest viewer stayed exact');
  t.equal(host.viewers().filter((v) => v.streaming).length, 2, 'two streaming viewers; the silent ones are not counted');
  stop = true;
  for (const p of silent) p.ws.terminate();
  real.close();
  honest.close();
  await host.close();
});

t.test('a socket that upgrades and never sends HELLO is closed by the HELLO deadline (default)', async (t) => {
  const { host, audits } = await startHost();
  const silent = await rawPeer(host.url);
  // Generous bound: the default deadline is a few seconds, far below the old 10 s.
  t.equal(await allClosed([silent], 'the silent socket to be closed', 8_000), null, 'closed by the HELLO deadline');
  const bye = silent.messages.find((m) => m.type === 'bye' || m.type === 'error');
  t.ok(bye && 'reason' in bye && bye.reason === Reason.TIMEOUT, 'with reason TIMEOUT');
  t.ok(audits.some((a) => a.type === 'disconnect'), 'audited as a disconnect');
  await host.close();
});

t.test('at the viewer limit, HELLO is where a slot is taken: the loser of a race gets BYE CAPACITY', async (t) => {
  const { host } = await startHost({ maxViewers: 1 });
  const a = await rawPeer(host.url);
  const b = await rawPeer(host.url); // both upgrade: neither streams yet
  a.ws.send(HELLO);
  await until(() => a.messages.some((m) => m.type === 'hello'), "a's host HELLO");
  b.ws.send(HELLO);
  await b.closed;
  const bye = b.messages.find((m) => m.type === 'bye' || m.type === 'error');
  t.ok(bye && 'reason' in bye && bye.reason === Reason.CAPACITY, 'the second HELLO is refused with CAPACITY');
  t.notOk(b.messages.some((m) => m.type === 'update'), 'no pixel to the refused viewer');
  t.notOk(a.isClosed(), 'the first viewer streams on');
  t.equal(await upgradeStatus(host.url), 503, 'with a streaming viewer at the limit, new upgrades get 503');
  a.ws.terminate();
  await host.close();
});

t.test('message abuse closes only that connection, with the right close code and reason', async (t) => {
  const { source, host } = await startHost({ fps: 60 });
  const honest = connectViewer(host.url);
  t.equal(await exact(honest, base), null);
  const ack = encodeMessage({ type: 'ack', frameId: 1, receivedAt: 0, displayedAt: 0 });
  const cases: Array<{ name: string; run: (p: RawPeer) => void; code: number; reason: number | null }> = [
    { name: 'ACK before HELLO', run: (p) => p.ws.send(ack), code: 1008, reason: Reason.PROTOCOL_ERROR },
    { name: 'second HELLO', run: (p) => (p.ws.send(HELLO), p.ws.send(HELLO)), code: 1008, reason: Reason.PROTOCOL_ERROR },
    { name: 'text frame before HELLO', run: (p) => p.ws.send('hello'), code: 1008, reason: Reason.PROTOCOL_ERROR },
    { name: 'text frame after HELLO', run: (p) => (p.ws.send(HELLO), p.ws.send('{"type":"ack"}')), code: 1008, reason: Reason.PROTOCOL_ERROR },
    { name: 'oversize before HELLO', run: (p) => p.ws.send(Buffer.alloc(MAX_VIEWER_MESSAGE_BYTES + 1, 0x01)), code: 1009, reason: null },
    { name: 'oversize after HELLO', run: (p) => (p.ws.send(HELLO), p.ws.send(Buffer.alloc(MAX_VIEWER_MESSAGE_BYTES + 1, 0x21))), code: 1009, reason: null },
    { name: 'host-only message (UPDATE type) after HELLO', run: (p) => (p.ws.send(HELLO), p.ws.send(Buffer.from([0x11, 0, 0]))), code: 1008, reason: Reason.PROTOCOL_ERROR },
  ];
  for (const c of cases) {
    const p = await rawPeer(host.url);
    c.run(p);
    const code = await p.closed;
    t.equal(code, c.code, `${c.name}: close code ${c.code}`);
    if (c.reason !== null) {
      const err = p.messages.find((m) => m.type === 'error');
      t.ok(err && err.type === 'error' && err.reason === c.reason, `${c.name}: ERROR ${c.reason}`);
    }
  }
  // Exactly at the limit is still accepted (decoded, then judged on content).
  const atLimit = await rawPeer(host.url);
  atLimit.ws.send(HELLO);
  atLimit.ws.send(Buffer.alloc(MAX_VIEWER_MESSAGE_BYTES, 0x21));
  t.equal(await atLimit.closed, 1008, 'a message of exactly the limit reaches the decoder (then fails on content)');
  const next = frameN(21);
  source.push(next);
  t.equal(await exact(honest, next), null, 'the honest viewer stayed exact through all of it');
  t.equal(honest.connections, 1, 'and never reconnected');
  honest.close();
  await host.close();
});
