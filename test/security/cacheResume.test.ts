// Resuming the content cache, from a hostile or confused viewer's side: raw
// peers that show unknown or used tickets, send CACHE_RESUME out of turn or
// never, and a viewer that comes back while the host still holds its old
// connection open (the old one is ended, its mirror resumed). Every case
// either resumes exactly what both sides hold or starts with an empty cache;
// none draws wrong pixels, and other viewers are untouched.
import t from 'tap';
import { ScreenDecoder } from '../../src/client/screenDecoder';
import { connectViewer } from '../../src/client/viewerClient';
import { createHost } from '../../src/host/host';
import { Capability, Reason, cacheCapability } from '../../src/protocol/constants';
import type { Message } from '../../src/protocol/messages';
import { PushSource } from '../../src/source/pushSource';
import { loadScene } from '../../src/source/sceneSource';
import { until } from '../helpers';
import { RawPeer, rawPeer } from './helpers';

const screen = loadScene('document');
const CAPS = Capability.COPY_RECT | cacheCapability(64 << 20) | Capability.CACHE_RESUME;

/** Feeds what the peer received (from `from` on) to `decoder` in order; returns how many messages it took. */
async function decodeAll(peer: RawPeer, decoder: ScreenDecoder, from = 0): Promise<number> {
  let i = from;
  for (; i < peer.received.length; i++) {
    const m = peer.received[i]!.msg;
    if (m && (m.type === 'resize' || m.type === 'update' || m.type === 'cacheKeep')) await decoder.handle(m);
  }
  return i;
}

/** Waits until the peer has an update (and, with CACHE_RESUME, the ticket that follows it) and decodes what came. */
async function connectAndDecode(url: string, caps: number, decoder: ScreenDecoder, before?: (p: RawPeer) => void): Promise<RawPeer> {
  const p = await rawPeer(url, caps);
  before?.(p);
  await until(() => p.of('update').length > 0 && (!(caps & Capability.CACHE_RESUME) || p.of('cacheTicket').length > 0), 'a first update and its ticket');
  await decodeAll(p, decoder);
  return p;
}

/** The last ticket the peer got (each keyframe brings a new one). */
/** A host showing `screen` (closed at the test's end), and a decoder with the cache a raw peer offers. */
async function hostAndDecoder(t: { teardown(fn: () => unknown): void }, options: { minRefreshIntervalMs?: number } = {}) {
  const source = new PushSource();
  source.push(screen);
  const host = await createHost({ source, ...options });
  t.teardown(() => host.close());
  const decoder = new ScreenDecoder();
  decoder.setCacheBudget(64 << 20);
  return { host, decoder };
}

const ticketOf = (p: RawPeer) => (p.of('cacheTicket').at(-1) as Extract<Message, { type: 'cacheTicket' }> | undefined)?.ticket;

t.test('CACHE_RESUME out of turn, or never, closes only that connection with a clear reason', async (t) => {
  const source = new PushSource();
  source.push(screen);
  const host = await createHost({ source, helloTimeoutMs: 500 });
  t.teardown(() => host.close());
  const honest = connectViewer(host.url);
  t.teardown(() => honest.close());
  await honest.waitFor(() => honest.framebuffer?.equals(screen.data) ?? false, { timeoutMs: 30_000 });
  const resume = { type: 'cacheResume', ticket: new Uint8Array(16), nextId: 1 } as const;
  const cases: Array<[string, number, (p: RawPeer) => void, number, RegExp]> = [
    ['CACHE_RESUME without RESUMING', CAPS, (p) => p.send(resume), Reason.PROTOCOL_ERROR, /only right after a HELLO with RESUMING/],
    ['RESUMING, then another message first', CAPS | Capability.RESUMING, (p) => p.send({ type: 'refreshRequest' }), Reason.PROTOCOL_ERROR, /expected CACHE_RESUME/],
    ['RESUMING, then nothing', CAPS | Capability.RESUMING, () => {}, Reason.TIMEOUT, /no CACHE_RESUME/],
    ['a second CACHE_RESUME', CAPS | Capability.RESUMING, (p) => (p.send(resume), p.send(resume)), Reason.PROTOCOL_ERROR, /only right after a HELLO/],
  ];
  for (const [what, caps, run, reason, message] of cases) {
    const p = await rawPeer(host.url, caps);
    run(p);
    await p.closed;
    const err = p.of('error')[0];
    t.ok(err?.type === 'error' && err.reason === reason && message.test(err.message), `${what}: ERROR ${reason} (${err?.type === 'error' ? err.message : 'none'})`);
    t.equal(p.of('update').length, 0, `${what}: no pixels`);
  }
  t.equal(honest.connections, 1, 'the honest viewer never noticed');
});

t.test('an unknown ticket resumes nothing: a normal keyframe, exact', async (t) => {
  const { host, decoder } = await hostAndDecoder(t);
  const p = await connectAndDecode(host.url, CAPS | Capability.RESUMING, decoder, (q) => q.send({ type: 'cacheResume', ticket: new Uint8Array(16).fill(7), nextId: 500 }));
  t.equal(p.of('cacheKeep').length, 0, 'no CACHE_KEEP');
  t.ok(decoder.framebuffer?.equals(screen.data), 'exact');
  t.equal(host.viewers()[0]!.cacheResumed, null);
  t.ok(ticketOf(p), 'and a ticket of its own for next time');
  p.ws.close();
});

t.test('a viewer back while the host still holds its old connection: the old one ends, the mirror resumes, once', async (t) => {
  const { host, decoder } = await hostAndDecoder(t);
  const a = await connectAndDecode(host.url, CAPS, decoder);
  const ticket = ticketOf(a)!;
  t.ok(ticket && ticket.length === 16, 'the first connection got a ticket');
  const firstTicket = a.received.findIndex((r) => r.msg?.type === 'cacheTicket');
  t.ok(firstTicket > a.received.findIndex((r) => r.msg?.type === 'update'), 'right after its keyframe');
  t.ok(decoder.framebuffer?.equals(screen.data), 'first connection exact');
  const nextId = decoder.cacheNextId!;
  t.ok(nextId > 10, `its cache holds entries (next id ${nextId})`);

  // Connection B shows A's ticket while A is still open (a silent 4G drop the host has not noticed).
  const resumed = new ScreenDecoder();
  resumed.setCacheBudget(64 << 20);
  resumed.adopt(decoder);
  const b = await connectAndDecode(host.url, CAPS | Capability.RESUMING, resumed, (q) => q.send({ type: 'cacheResume', ticket, nextId }));
  await a.closed;
  const bye = a.of('bye')[0];
  t.ok(bye?.type === 'bye' && bye.reason === Reason.NORMAL && /resumed on a new connection/.test(bye.message), 'the old connection is told it was replaced');
  const keep = b.of('cacheKeep')[0];
  t.ok(keep?.type === 'cacheKeep' && keep.ranges.length >= 2, 'CACHE_KEEP before the keyframe');
  const first = b.received.findIndex((r) => r.msg?.type === 'cacheKeep');
  const resize = b.received.findIndex((r) => r.msg?.type === 'resize');
  t.ok(first >= 0 && first < resize, 'CACHE_KEEP comes before RESIZE');
  const update = b.of('update')[0];
  t.ok(update?.type === 'update' && update.keyframe, 'a keyframe follows');
  t.ok(resumed.framebuffer?.equals(screen.data), 'exact from the resumed cache');
  const v = host.viewers().find((x) => x.cacheResumed !== null);
  t.ok(v && v.cacheResumed! > 10 && v.cacheRefs > 10, `resumed ${v?.cacheResumed} entries, ${v?.cacheRefs} references in the keyframe`);

  // The same ticket again: used up, nothing resumes.
  const again = new ScreenDecoder();
  again.setCacheBudget(64 << 20);
  const c = await connectAndDecode(host.url, CAPS | Capability.RESUMING, again, (q) => q.send({ type: 'cacheResume', ticket, nextId }));
  t.equal(c.of('cacheKeep').length, 0, 'a used ticket resumes nothing');
  t.ok(again.framebuffer?.equals(screen.data), 'and that viewer is exact from pixels');
  t.equal(host.cacheParking!.claimedCount, 1, 'one claim in all');
  b.ws.close();
  c.ws.close();
});

t.test('a viewer claiming more inserts than the host made gets no resume (and cannot be fed stale entries)', async (t) => {
  const { host, decoder } = await hostAndDecoder(t);
  const a = await connectAndDecode(host.url, CAPS, decoder);
  const ticket = ticketOf(a)!;
  a.ws.terminate();
  await until(() => host.viewers().length === 0, 'the old connection ends');
  await until(() => host.cacheParking!.parked === 1, 'its mirror is parked');
  const claimed = decoder.cacheNextId! + 1000; // more inserts than the host's mirror made
  const resumed = new ScreenDecoder();
  resumed.setCacheBudget(64 << 20);
  resumed.adopt(decoder);
  const b = await connectAndDecode(host.url, CAPS | Capability.RESUMING, resumed, (q) => q.send({ type: 'cacheResume', ticket, nextId: claimed }));
  t.equal(b.of('cacheKeep').length, 0, 'no CACHE_KEEP for an impossible next id');
  t.ok(resumed.framebuffer?.equals(screen.data), 'the keyframe emptied the kept cache and sent pixels: exact');
  b.ws.close();
});

t.test('a ticket names one run of the cache: a keyframe brings a new one and voids the last', async (t) => {
  const { host, decoder } = await hostAndDecoder(t, { minRefreshIntervalMs: 0 });
  const a = await connectAndDecode(host.url, CAPS, decoder);
  const first = ticketOf(a)!;
  // A keyframe the viewer (say) never gets: the mirror empties and starts again, under a new ticket.
  const u = a.of('update')[0];
  if (u?.type === 'update') a.send({ type: 'ack', frameId: u.frameId, receivedAt: 0, displayedAt: 0 }); // room in flight for it
  a.send({ type: 'refreshRequest' });
  await until(() => a.of('cacheTicket').length === 2, 'a second ticket after the second keyframe');
  t.notSame(Array.from(ticketOf(a)!), Array.from(first), 'a new ticket');
  a.ws.terminate();
  await until(() => host.cacheParking!.parked === 1, 'the mirror is parked (under the new ticket)');
  // Showing the first ticket (its cache from before the second keyframe) resumes nothing.
  const stale = new ScreenDecoder();
  stale.setCacheBudget(64 << 20);
  stale.adopt(decoder);
  const b = await connectAndDecode(host.url, CAPS | Capability.RESUMING, stale, (q) => q.send({ type: 'cacheResume', ticket: first, nextId: stale.cacheNextId! }));
  t.equal(b.of('cacheKeep').length, 0, 'the voided ticket resumes nothing');
  t.ok(stale.framebuffer?.equals(screen.data), 'exact from pixels');
  t.equal(host.cacheParking!.claimedCount, 0);
  b.ws.close();
});
