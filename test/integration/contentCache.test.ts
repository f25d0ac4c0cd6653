// The content cache end to end: a real host and a real ViewerClient agree on
// its size in HELLO, a window raised again goes as CACHE_REF ops and the
// viewer's screen is exact; after a dropped connection the viewer resumes its
// cache (CACHE_TICKET, CACHE_RESUME, CACHE_KEEP), so the first keyframe comes
// mostly from it; without resume a reconnect starts with an empty cache on
// both sides. A host with the cache off announces none and sends no references.
import t from 'tap';
import { connectViewer, ViewerClient, ViewerUpdate } from '../../src/client/viewerClient';
import { createHost } from '../../src/host/host';
import { Capability, cacheBytesOf } from '../../src/protocol/constants';
import { loadScene } from '../../src/source/sceneSource';
import { PushSource } from '../../src/source/pushSource';
import type { Frame } from '../../src/frame';

const windows = (['document', 'editor', 'desktop'] as const).map((n) => loadScene(n));

/** Pushes `frame` and waits until the viewer shows it exactly; returns the CACHE_REF ops on the way. */
async function show(source: PushSource, viewer: ViewerClient, frame: Frame): Promise<number> {
  let refs = 0;
  const count = (u: ViewerUpdate) => { refs += u.ops.cacheRef; };
  viewer.on('update', count);
  try {
    source.push(frame);
    await viewer.waitFor(() => viewer.framebuffer?.equals(frame.data) ?? false, { timeoutMs: 30_000 });
  } finally {
    viewer.off('update', count);
  }
  return refs;
}

/** Drops the viewer's connection and waits for the first update of the next one; returns it. */
async function reconnect(host: { dropViewers(): void }, viewer: ViewerClient, frame: Frame): Promise<ViewerUpdate> {
  const first = new Promise<ViewerUpdate>((resolve) => {
    viewer.once('hello', () => viewer.once('update', resolve));
  });
  host.dropViewers();
  const u = await first;
  if (!viewer.framebuffer?.equals(frame.data)) await viewer.waitFor(() => viewer.framebuffer?.equals(frame.data) ?? false, { timeoutMs: 30_000 });
  return u;
}

t.test('window raised again: CACHE_REF ops, exact screen; the cache resumes after a reconnect', async (t) => {
  const source = new PushSource();
  source.push(windows[0]!);
  const host = await createHost({ source });
  t.teardown(() => host.close());
  const viewer = connectViewer(host.url);
  t.teardown(() => viewer.close());
  const hello = await viewer.ready({ timeoutMs: 20_000 });
  t.ok(hello.capabilities & Capability.CACHE, 'the host announces CACHE');
  t.ok(hello.capabilities & Capability.CACHE_RESUME, 'and CACHE_RESUME');
  t.equal(cacheBytesOf(hello.capabilities), 64 << 20, 'of the 64 MiB both offer by default');
  await viewer.waitFor(() => viewer.framebuffer?.equals(windows[0]!.data) ?? false, { timeoutMs: 30_000 });
  // A new window hits only tiles it repeats itself or shares with the first (a title bar, a margin).
  const first = await show(source, viewer, windows[1]!);
  const again = await show(source, viewer, windows[0]!);
  t.ok(host.viewers()[0]!.cacheRefs >= first + again, 'the host counts them (the keyframe may repeat tiles too)');
  t.ok(again > 100 && again > 2 * first, `the first window raised again: ${again} CACHE_REF ops (the new one: ${first}), screen exact`);

  // Drop the connection: the client reconnects, shows its ticket, and the keyframe comes from its cache.
  const keyframe = await reconnect(host, viewer, windows[0]!);
  t.ok(keyframe.keyframe, 'the new connection starts with a keyframe');
  t.ok(viewer.framebuffer?.equals(windows[0]!.data), 'exact after the resumed keyframe');
  t.ok(keyframe.ops.cacheRef > 100, `the keyframe drew ${keyframe.ops.cacheRef} tiles from the resumed cache (${keyframe.bytes} bytes)`);
  const resumed = host.viewers()[0]!.cacheResumed;
  t.ok(resumed !== null && resumed > 100, `the host resumed ${resumed} entries`);
  t.equal(host.cacheParking!.claimedCount, 1, 'one parked mirror claimed');
  // The second window, cached on the old connection, is still cached.
  t.ok((await show(source, viewer, windows[1]!)) > 100, 'the second window raised after the reconnect comes from the cache too');

  // The ticket is single-use, and each connection gets a new one: a second drop resumes again.
  const second = await reconnect(host, viewer, windows[1]!);
  t.ok(second.ops.cacheRef > 100 && viewer.framebuffer?.equals(windows[1]!.data), `a second reconnect resumes too: ${second.ops.cacheRef} references`);
});

t.test('without resume (viewer or host) a reconnect starts with an empty cache', async (t) => {
  for (const [what, hostOptions, viewerOptions] of [
    ['viewer resumeCache: false', {}, { resumeCache: false }],
    ['host cacheResume: false', { cacheResume: false as const }, {}],
  ] as const) {
    const source = new PushSource();
    source.push(windows[0]!);
    const host = await createHost({ source, ...hostOptions });
    const viewer = connectViewer(host.url, viewerOptions);
    try {
      const hello = await viewer.ready({ timeoutMs: 20_000 });
      t.equal(hello.capabilities & Capability.CACHE_RESUME, 0, `${what}: the host's HELLO has no CACHE_RESUME`);
      await viewer.waitFor(() => viewer.framebuffer?.equals(windows[0]!.data) ?? false, { timeoutMs: 30_000 });
      const first = await show(source, viewer, windows[1]!);
      await show(source, viewer, windows[0]!);
      const keyframe = await reconnect(host, viewer, windows[0]!);
      t.ok(viewer.framebuffer?.equals(windows[0]!.data), `${what}: exact after the reconnect`);
      t.equal(host.viewers()[0]!.cacheResumed, null, `${what}: nothing resumed`);
      // Its own repeated tiles still hit within the keyframe; how many varies with how its tiles split into ops.
      t.ok(keyframe.ops.cacheRef < 100, `${what}: the keyframe sends pixels (${keyframe.ops.cacheRef} references)`);
      const afterReconnect = await show(source, viewer, windows[1]!);
      t.ok(afterReconnect < 100, `${what}: the second window is not cached any more: ${afterReconnect} references (before: ${first})`);
    } finally {
      viewer.close();
      await host.close();
    }
  }
});

t.test('a host with the cache off announces none and sends no references', async (t) => {
  const source = new PushSource();
  source.push(windows[0]!);
  const host = await createHost({ source, contentCacheBytes: 0 });
  t.teardown(() => host.close());
  const viewer = connectViewer(host.url);
  t.teardown(() => viewer.close());
  const hello = await viewer.ready({ timeoutMs: 20_000 });
  t.equal(hello.capabilities & Capability.CACHE, 0);
  await viewer.waitFor(() => viewer.framebuffer?.equals(windows[0]!.data) ?? false, { timeoutMs: 30_000 });
  await show(source, viewer, windows[1]!);
  t.equal(await show(source, viewer, windows[0]!), 0, 'no CACHE_REF ops');
});
