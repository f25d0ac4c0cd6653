// The relay between hosts that dial out and viewers: real sockets, real hosts
// and viewers, in one process (test/integration/gateway*.test.ts runs them as
// separate processes through the gateway app).
import t from 'tap';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectViewer, ViewerClient } from '../../src/client/viewerClient';
import { Host, createHost } from '../../src/host/host';
import { PushSource } from '../../src/source/pushSource';
import { Capability, Reason } from '../../src/protocol/constants';
import { CloseMessage, decodeMessage, encodeMessage } from '../../src/protocol/messages';
import { Relay, ViewerVerdict } from '../../src/relay/relay';
import { RelayLink, dialRelay } from '../../src/relay/dialRelay';
import { RelaySessionEnd, RelaySessionInfo } from '../../src/relay/relaySession';
import { HELLO, allClosed, base, exact, frameN, rawPeer, rawSocket, sleep, upgradeStatus } from '../security/hostile';
import { rng, until } from '../helpers';

const SECRETS: Record<string, string> = { pc1: 'secret-of-pc1-0123456789', pc2: 'secret-of-pc2-0123456789' };
/** Viewer tokens → user and the PCs they may open. */
const TOKENS: Record<string, { user: string; pcs: string[] }> = { 'token-alice-0123': { user: 'alice', pcs: ['pc1'] }, 'token-bob-01234567': { user: 'bob', pcs: ['pc1', 'pc2'] } };

interface Gateway {
  relay: Relay;
  server: http.Server;
  port: number;
  url: string;
  starts: RelaySessionInfo[];
  ends: RelaySessionEnd[];
  refusals: string[];
  policy: { idleTimeoutMs?: number; maxSessionMs?: number; audio?: boolean; microphone?: boolean };
}

async function startGateway(port = 0, options: Partial<ConstructorParameters<typeof Relay>[0]> = {}): Promise<Gateway> {
  const gw = { starts: [], ends: [], refusals: [], policy: {} } as unknown as Gateway;
  gw.relay = new Relay({
    authenticateHost: ({ hostId, secret }) => SECRETS[hostId] === secret,
    authorizeViewer: ({ request, hostId, hostOnline }): ViewerVerdict => {
      const who = TOKENS[(request.headers.authorization ?? '').replace(/^Bearer /, '')];
      if (!who) return false;
      if (!hostId || !who.pcs.includes(hostId)) return { bye: { reason: Reason.UNAUTHORIZED, message: 'not your PC' } };
      if (!hostOnline) return { bye: { reason: Reason.HOST_UNAVAILABLE, message: 'offline' } };
      return { user: who.user, hostId, tag: `lease-${who.user}`, ...gw.policy };
    },
    ...options,
  });
  gw.relay.on('sessionStart', (s) => gw.starts.push(s));
  gw.relay.on('sessionEnd', (s) => gw.ends.push(s));
  gw.relay.on('audit', (e) => gw.refusals.push(e.reason));
  gw.server = http.createServer((_req, res) => res.writeHead(404).end());
  gw.relay.attach(gw.server);
  await new Promise<void>((r) => gw.server.listen(port, '127.0.0.1', r));
  gw.port = (gw.server.address() as AddressInfo).port;
  gw.url = `ws://127.0.0.1:${gw.port}`;
  return gw;
}

async function stopGateway(gw: Gateway): Promise<void> {
  await gw.relay.close();
  gw.server.closeAllConnections();
  await new Promise<void>((r) => gw.server.close(() => r()));
}

async function startPc(gw: Gateway, hostId: string, secret = SECRETS[hostId]!) {
  const source = new PushSource();
  source.push(base);
  const host = await createHost({ source, noServer: true });
  const link = dialRelay(host, { url: gw.url, hostId, secret, minBackoffMs: 50, maxBackoffMs: 200, refusedBackoffMs: 200 });
  const errors: string[] = [];
  link.on('error', (e) => errors.push(e.message));
  return { source, host, link, errors };
}

function viewerFor(gw: Gateway, token: string, hostId: string, options: { reconnect?: boolean } = {}): ViewerClient {
  const v = connectViewer(`${gw.url}/tilecast/viewer?host=${hostId}`, { headers: { authorization: `Bearer ${token}` }, reconnect: options.reconnect ?? false });
  // Refusals are checked through 'hostClose' (reason and text); an UNAUTHORIZED BYE is also an 'error'.
  v.on('error', () => {});
  return v;
}

function closeMessage(v: ViewerClient): Promise<CloseMessage> {
  return new Promise((resolve) => v.once('hostClose', resolve));
}

t.test('a viewer reaches a host that dialled out, exactly, and the session is accounted once', async (t) => {
  const gw = await startGateway();
  const pc = await startPc(gw, 'pc1');
  t.teardown(async () => (pc.link.close(), await pc.host.close(), await stopGateway(gw)));
  await until(() => gw.relay.isOnline('pc1'), 'pc1 online');
  await until(() => gw.relay.hosts()[0]?.software !== null, 'pc1 status');
  t.same(gw.relay.hosts().map((h) => [h.hostId, h.software, h.width, h.height]), [['pc1', 'tilecast-host', base.width, base.height]], 'the PC says what it is');
  const v = viewerFor(gw, 'token-alice-0123', 'pc1');
  t.equal(await exact(v, base), null, 'the first screen arrives exact');
  for (let n = 1; n <= 5; n++) pc.source.push(frameN(n));
  t.equal(await exact(v, frameN(5)), null, 'later changes arrive exact');
  const [s] = gw.relay.sessions();
  t.equal(s?.user, 'alice');
  t.ok(s?.paired && s.bytesToViewer > 0 && s.bytesToHost > 0, 'bytes counted both ways');
  t.equal(pc.host.viewers()[0]?.user, 'alice', 'the host knows the user the gateway authenticated');
  v.close();
  await until(() => gw.ends.length === 1, 'session end');
  t.equal(gw.starts.length, 1);
  t.equal(gw.ends[0]!.tag, 'lease-alice', 'the grant\'s tag comes back to free the licence');
  t.equal(gw.ends[0]!.bytesToViewer, pc.host.viewers()[0]?.bytesSent ?? gw.ends[0]!.bytesToViewer, 'every byte the host sent was forwarded');
  t.same(pc.errors, []);
});

t.test('credentials: wrong host secrets and viewer tokens are refused before any upgrade, and audited', async (t) => {
  const gw = await startGateway();
  const pc = await startPc(gw, 'pc1');
  t.teardown(async () => (pc.link.close(), await pc.host.close(), await stopGateway(gw)));
  await until(() => gw.relay.isOnline('pc1'), 'pc1 online');
  // Another machine claims to be pc1 with a wrong secret: refused; the real pc1 stays.
  const impostor = await startPc(gw, 'pc1', 'not-the-secret-0123456789');
  await until(() => impostor.errors.some((e) => /HTTP 401/.test(e)), 'the impostor refused');
  impostor.link.close();
  await impostor.host.close();
  t.ok(gw.relay.isOnline('pc1'), 'the real pc1 is still online');
  t.ok(gw.refusals.includes('host credentials refused'));
  t.equal(await upgradeStatus(`${gw.url}/tilecast/host`), 401, 'control without credentials');
  t.equal(await upgradeStatus(`${gw.url}/tilecast/host`, { headers: { 'x-tilecast-host': 'pc1', authorization: 'Bearer wrong-secret-0123456789' } }), 401);
  t.equal(await upgradeStatus(`${gw.url}/tilecast/viewer?host=pc1`), 401, 'viewer without a token');
  t.equal(await upgradeStatus(`${gw.url}/tilecast/viewer?host=pc1`, { headers: { authorization: 'Bearer forged-token-000' } }), 401, 'viewer with a forged token');
  t.equal(await upgradeStatus(`${gw.url}/elsewhere`), 404);
  // A data connection for a session that is not waiting for this host.
  t.equal(await upgradeStatus(`${gw.url}/tilecast/host/data`, { headers: { 'x-tilecast-host': 'pc1', authorization: `Bearer ${SECRETS.pc1}`, 'x-tilecast-session': 'AAAAAAAAAAAAAAAAAAAAAA' } }), 404);
  t.equal(gw.starts.length, 0, 'no session started');
});

t.test('many PCs and viewers behind one address: only unauthenticated sockets count against the per-address cap', async (t) => {
  // A city's office PCs dial out from one NAT address: with every socket counted, the default cap of 256
  // held a gateway to about 128 sessions per office address (found by bench/gateway.js, 300 sessions).
  const gw = await startGateway(0, { maxConnectionsPerIp: 3, headersTimeoutMs: 60_000 });
  const pcs = [await startPc(gw, 'pc1'), await startPc(gw, 'pc2')];
  t.teardown(async () => {
    for (const pc of pcs) (pc.link.close(), await pc.host.close());
    await stopGateway(gw);
  });
  await until(() => gw.relay.isOnline('pc1') && gw.relay.isOnline('pc2'), 'both PCs online');
  // Two control connections, then two sessions (a viewer socket and a data connection each): 6 sockets from 127.0.0.1.
  const a = viewerFor(gw, 'token-alice-0123', 'pc1');
  t.equal(await exact(a, base), null, 'the first session streams');
  const b = viewerFor(gw, 'token-bob-01234567', 'pc2');
  t.equal(await exact(b, base), null, 'the second session streams, twice the cap of sockets in all');
  t.same(pcs.flatMap((pc) => pc.errors), [], 'no PC was refused');
  // Sockets that never authenticate are still capped per address.
  const held = [await rawSocket(gw.port), await rawSocket(gw.port), await rawSocket(gw.port)];
  const extra = await rawSocket(gw.port);
  t.equal(await allClosed([extra], 'the 4th unauthenticated socket to be refused', 10_000), null);
  t.ok(gw.relay.connectionStats().refused['per-address connection limit']! >= 1, 'refused at the cap');
  t.ok(held.every((s) => !s.closed), 'the three within the cap stay open');
  pcs[0]!.source.push(frameN(2));
  t.equal(await exact(a, frameN(2)), null, 'the sessions stream on');
  for (const s of held) s.socket.destroy();
  a.close();
  b.close();
});

t.test('viewers told why: a PC not theirs, a PC offline; the grant to an offline PC still ends once', async (t) => {
  const gw = await startGateway();
  const pc = await startPc(gw, 'pc1');
  t.teardown(async () => (pc.link.close(), await pc.host.close(), await stopGateway(gw)));
  await until(() => gw.relay.isOnline('pc1'), 'pc1 online');
  const notTheirs = viewerFor(gw, 'token-alice-0123', 'pc2', { reconnect: true });
  const closed1 = new Promise<{ willReconnect: boolean }>((r) => notTheirs.once('close', r));
  const m1 = await closeMessage(notTheirs);
  t.equal(m1.reason, Reason.UNAUTHORIZED, 'alice may not open pc2 (also by editing the URL)');
  t.equal((await closed1).willReconnect, false, 'not allowed: the viewer stops instead of retrying');
  const offline = viewerFor(gw, 'token-bob-01234567', 'pc2', { reconnect: true });
  const closed2 = new Promise<{ willReconnect: boolean }>((r) => offline.once('close', r));
  const m2 = await closeMessage(offline);
  t.equal(m2.reason, Reason.HOST_UNAVAILABLE, 'pc2 is offline');
  t.equal((await closed2).willReconnect, true, 'offline: the viewer keeps trying (the PC may come up)');
  offline.close();
  t.equal(gw.starts.length, 0);
});

t.test('a viewer that stops reading stalls only its own session: the host sees the backpressure, another viewer stays exact', async (t) => {
  const gw = await startGateway(0, { highWaterBytes: 64 * 1024 });
  const pc = await startPc(gw, 'pc1');
  t.teardown(async () => (pc.link.close(), await pc.host.close(), await stopGateway(gw)));
  await until(() => gw.relay.isOnline('pc1'), 'pc1 online');
  const stuck = await rawPeer(`${gw.url}/tilecast/viewer?host=pc1`, { headers: { authorization: 'Bearer token-bob-01234567' } });
  stuck.ws.send(HELLO);
  await until(() => pc.host.viewers().length === 1 && pc.host.viewers()[0]!.streaming, 'the stuck viewer streams');
  (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // reads nothing more
  // Spoofed acks for every frame id keep the host's ack-based flow control open.
  const ackTimer = setInterval(() => {
    for (let id = 1; id < 400; id++) stuck.ws.send(encodeMessage({ type: 'ack', frameId: id, receivedAt: 1, displayedAt: 1 }));
  }, 100);
  t.teardown(() => clearInterval(ackTimer));
  const honest = viewerFor(gw, 'token-alice-0123', 'pc1');
  // Noise in a 512×512 square: ~1 MiB per update, enough to fill the loopback sockets' kernel buffers on the stuck path.
  const noisy = (n: number) => {
    const data = Buffer.from(base.data);
    const random = rng(n);
    for (let y = 0; y < 512; y++) for (let x = 0; x < 512; x++) data.writeUInt32LE(((random() * 0x1000000) | 0xff000000) >>> 0, (y * base.width + x) * 4);
    return { ...base, data };
  };
  const stuckStats = () => pc.host.viewers().find((v) => v.user === 'bob')!;
  const relayed = (user: string) => gw.relay.sessions().find((s) => s.user === user)!.bytesToViewer;
  // Until the stuck path is full (the host sees its socket blocked), then as much again: from then
  // on the relay must forward (almost) nothing more to the stuck viewer, however fast the machine.
  let n = 0;
  for (; n < 200 && stuckStats().sendBlocked === 0; n++) {
    pc.source.push(noisy(n));
    await sleep(50);
  }
  const stalledAt = { bob: relayed('bob'), alice: relayed('alice') };
  for (const end = n + 40; n < end; n++) {
    pc.source.push(noisy(n));
    await sleep(50);
  }
  pc.source.push(frameN(60));
  t.equal(await exact(honest, frameN(60)), null, 'the honest viewer ends exact');
  t.ok(stuckStats().sendBlocked > 0, `the host saw the stuck viewer's socket fill (${stuckStats().sendBlocked} times, ${stuckStats().bufferedBytes} bytes held)`);
  const grew = { bob: relayed('bob') - stalledAt.bob, alice: relayed('alice') - stalledAt.alice };
  // A paused socket may still hand over the messages it had read: a couple of ~0.8 MB updates.
  t.ok(grew.bob <= 3 * 1024 * 1024 && grew.bob < grew.alice, `the relay stopped forwarding to the stuck viewer (${grew.bob} more bytes to it, ${grew.alice} to the honest one)`);
});

t.test('junk from a viewer ends that session only, with a reason', async (t) => {
  const gw = await startGateway();
  const pc = await startPc(gw, 'pc1');
  t.teardown(async () => (pc.link.close(), await pc.host.close(), await stopGateway(gw)));
  await until(() => gw.relay.isOnline('pc1'), 'pc1 online');
  const honest = viewerFor(gw, 'token-alice-0123', 'pc1');
  t.equal(await exact(honest, base), null);
  const text = await rawPeer(`${gw.url}/tilecast/viewer?host=pc1`, { headers: { authorization: 'Bearer token-bob-01234567' } });
  text.ws.send('not binary');
  t.equal(await text.closed, 4000 + Reason.PROTOCOL_ERROR, 'a text message: protocol error');
  const big = await rawPeer(`${gw.url}/tilecast/viewer?host=pc1`, { headers: { authorization: 'Bearer token-bob-01234567' } });
  big.ws.send(Buffer.alloc(64 * 1024, 0x21));
  t.equal(await big.closed, 1009, 'an oversize message: 1009');
  pc.source.push(frameN(7));
  t.equal(await exact(honest, frameN(7)), null, 'the other session streams on');
  await until(() => gw.ends.length === 2, 'both junk sessions ended');
});

t.test('policies and the admin: idle timeout, session time limit, kick, revoke', async (t) => {
  const gw = await startGateway();
  const pc = await startPc(gw, 'pc1');
  t.teardown(async () => (pc.link.close(), await pc.host.close(), await stopGateway(gw)));
  await until(() => gw.relay.isOnline('pc1'), 'pc1 online');
  gw.policy = { idleTimeoutMs: 300 };
  const idle = viewerFor(gw, 'token-alice-0123', 'pc1');
  t.equal((await closeMessage(idle)).reason, Reason.TIMEOUT, 'idle: ended');
  gw.policy = { maxSessionMs: 300 };
  const long = viewerFor(gw, 'token-alice-0123', 'pc1');
  t.equal((await closeMessage(long)).reason, Reason.TIMEOUT, 'time limit: ended');
  gw.policy = {};
  const kicked = viewerFor(gw, 'token-alice-0123', 'pc1');
  t.equal(await exact(kicked, base), null);
  const kickedMsg = closeMessage(kicked);
  t.ok(gw.relay.endSession(gw.relay.sessions()[0]!.id, { reason: Reason.NORMAL, message: 'kicked by the admin' }));
  t.equal((await kickedMsg).message, 'kicked by the admin');
  const revoked = viewerFor(gw, 'token-alice-0123', 'pc1');
  t.equal(await exact(revoked, base), null);
  const revokedMsg = closeMessage(revoked);
  gw.relay.disconnectHost('pc1');
  t.equal((await revokedMsg).reason, Reason.UNAUTHORIZED, 'revoked: the session ends');
  t.notOk(gw.relay.isOnline('pc1'));
  await until(() => gw.ends.length === 4, 'four sessions ended');
  t.same(gw.ends.map((e) => e.tag), ['lease-alice', 'lease-alice', 'lease-alice', 'lease-alice']);
});

t.test('gateway restart: the host dials again and a reconnecting viewer ends exact', async (t) => {
  let gw = await startGateway();
  const port = gw.port;
  const pc = await startPc(gw, 'pc1');
  t.teardown(async () => (pc.link.close(), await pc.host.close(), await stopGateway(gw)));
  await until(() => gw.relay.isOnline('pc1'), 'pc1 online');
  const v = viewerFor(gw, 'token-alice-0123', 'pc1', { reconnect: true });
  t.equal(await exact(v, base), null);
  await stopGateway(gw);
  pc.source.push(frameN(3));
  await sleep(300);
  gw = await startGateway(port);
  await until(() => gw.relay.isOnline('pc1'), 'pc1 dials the new gateway');
  t.equal(await exact(v, frameN(3)), null, 'the viewer came back and shows the screen as it is now');
  const resumed = pc.host.viewers()[0]?.cacheResumed ?? null;
  t.ok(resumed !== null && resumed > 10, `through the relay too, the viewer resumed its content cache (${resumed} entries)`);
  v.close();
});

t.test('hostile sockets at the relay: slowloris and silent sockets are cut, junk before HELLO ends only that session', async (t) => {
  const gw = await startGateway(0, { headersTimeoutMs: 300 });
  const pc = await startPc(gw, 'pc1');
  t.teardown(async () => (pc.link.close(), await pc.host.close(), await stopGateway(gw)));
  await until(() => gw.relay.isOnline('pc1'), 'pc1 online');
  const honest = viewerFor(gw, 'token-alice-0123', 'pc1');
  t.equal(await exact(honest, base), null);
  const { slowloris, rawSocket } = await import('../security/hostile');
  const slow = await slowloris(gw.port, 20);
  const silent = await rawSocket(gw.port);
  await Promise.all([slow.closedP, silent.closedP]);
  t.ok(gw.refusals.filter((r) => r === 'headers timeout').length >= 2, 'both cut at the headers deadline, and audited');
  const junk = await rawPeer(`${gw.url}/tilecast/viewer?host=pc1`, { headers: { authorization: 'Bearer token-bob-01234567' } });
  junk.ws.send(Buffer.from([0x7f, 1, 2, 3])); // not a message type: the host refuses it once paired
  t.equal(await junk.closed, 1008, 'the host\'s close reaches the viewer through the relay');
  const error = junk.messages.find((m): m is CloseMessage => m.type === 'error');
  t.equal(error?.reason, Reason.PROTOCOL_ERROR, 'with its ERROR');
  pc.source.push(frameN(9));
  t.equal(await exact(honest, frameN(9)), null, 'the honest session streams on');
  t.ok(gw.relay.isOnline('pc1'));
});

t.test('audio grants: the relay strips what the grant lacks from the HELLO and drops a host\'s AUDIO to a viewer without sound', async (t) => {
  const gw = await startGateway();
  t.teardown(() => stopGateway(gw));
  // A host that ignores the viewer's HELLO: grants everything and sends three AUDIO frames at once.
  const heardHellos: number[] = [];
  const audio = (seq: number) => encodeMessage({ type: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, seq, captureTime: seq * 20, payload: new Uint8Array([0xfc, 0xff, 0xfe]) });
  const hostile = {
    screenSize: { width: 0, height: 0 },
    viewers: () => [],
    attachViewer(ws: import('ws').WebSocket) {
      ws.on('message', (d: Buffer) => {
        const m = decodeMessage(d);
        if (m.type !== 'hello') return;
        heardHellos.push(m.capabilities);
        ws.send(encodeMessage({ type: 'hello', minVersion: 1, maxVersion: 1, capabilities: Capability.AUDIO | Capability.MICROPHONE, software: 'hostile-host' }));
        for (let seq = 0; seq < 3; seq++) ws.send(audio(seq));
      });
    },
  } as unknown as Host;
  const link = dialRelay(hostile, { url: gw.url, hostId: 'pc1', secret: SECRETS.pc1!, minBackoffMs: 50, maxBackoffMs: 200 });
  link.on('error', () => {});
  t.teardown(() => link.close());
  await until(() => gw.relay.isOnline('pc1'), 'pc1 online');
  const asking = encodeMessage({ type: 'hello', minVersion: 1, maxVersion: 1, capabilities: Capability.AUDIO | Capability.MICROPHONE | Capability.INPUT, software: 'viewer' });

  for (const grant of [{}, { audio: true }, { audio: true, microphone: true }] as const) {
    gw.policy = grant;
    const v = await rawPeer(`${gw.url}/tilecast/viewer?host=pc1`, { headers: { authorization: 'Bearer token-alice-0123' } });
    v.ws.send(asking);
    await until(() => heardHellos.length === gw.ends.length + 1 && v.messages.some((m) => m.type === 'hello'), 'the hostile host answered');
    // Its three AUDIO follow its HELLO: each either forwarded or refused.
    await until(() => { const s = gw.relay.sessions()[0]; return !!s && s.audioRefused + (s.audioUse?.frames ?? 0) === 3; }, 'the host\'s AUDIO through the relay');
    await until(() => v.messages.filter((m) => m.type === 'audio').length === ('audio' in grant ? 3 : 0), 'forwarded AUDIO at the viewer');
    const kept = (Capability.AUDIO | Capability.MICROPHONE) & heardHellos[heardHellos.length - 1]!;
    const want = ('audio' in grant ? Capability.AUDIO : 0) | ('microphone' in grant ? Capability.MICROPHONE : 0);
    t.equal(kept, want, `${JSON.stringify(grant)}: the host saw only the granted audio capabilities`);
    t.equal(heardHellos[heardHellos.length - 1]! & Capability.INPUT, Capability.INPUT, 'other capabilities untouched');
    t.equal(v.messages.filter((m) => m.type === 'audio').length, 'audio' in grant ? 3 : 0, `${JSON.stringify(grant)}: AUDIO reaches the viewer only with sound granted`);
    const live = gw.relay.sessions()[0]!;
    t.equal(live.audioRefused, 'audio' in grant ? 0 : 3);
    t.equal(live.audioUse?.frames ?? 0, 'audio' in grant ? 3 : 0, 'sound use counted');
    v.ws.close();
    await v.closed;
    await until(() => gw.ends.length === heardHellos.length, 'session ended');
  }
  gw.policy = {};
});
