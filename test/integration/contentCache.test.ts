// The content cache end to end: a real host and a real ViewerClient agree on
// its size in HELLO, a window raised again goes as CACHE_REF ops and the
// viewer's screen is exact, and a reconnect starts with an empty cache on both
// sides (content cached on the old connection is sent as pixels again). A host
// with the cache off announces none and sends no references.
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

t.test('window raised again: CACHE_REF ops, exact screen; a reconnect starts with an empty cache', async (t) => {
  const source = new PushSource();
  source.push(windows[0]!);
  const host = await createHost({ source });
  t.teardown(() => host.close());
  const viewer = connectViewer(host.url);
  t.teardown(() => viewer.close());
  const hello = await viewer.ready({ timeoutMs: 20_000 });
  t.ok(hello.capabilities & Capability.CACHE, 'the host announces CACHE');
  t.equal(cacheBytesOf(hello.capabilities), 64 << 20, 'of the 64 MiB both offer by default');
  await viewer.waitFor(() => viewer.framebuffer?.equals(windows[0]!.data) ?? false, { timeoutMs: 30_000 });
  // A new window hits only tiles it repeats itself or shares with the first (a title bar, a margin).
  const first = await show(source, viewer, windows[1]!);
  const again = await show(source, viewer, windows[0]!);
  t.ok(host.viewers()[0]!.cacheRefs >= first + again, 'the host counts them (the keyframe may repeat tiles too)');
  t.ok(again > 100 && again > 2 * first, `the first window raised again: ${again} CACHE_REF ops (the new one: ${first}), screen exact`);

  // Drop the connection; the client reconnects and gets a keyframe (the first window).
  const reconnected = new Promise((r) => viewer.once('hello', r));
  host.dropViewers();
  await reconnected;
  await viewer.waitFor(() => viewer.framebuffer?.equals(windows[0]!.data) ?? false, { timeoutMs: 30_000 });
  // Had the cache survived, the second window would now come almost whole from it (as the first did above).
  // Its own repeats still hit, and how many varies a little with how its tiles were split into ops (49–72 seen).
  const afterReconnect = await show(source, viewer, windows[1]!);
  t.ok(afterReconnect < again / 2, `after the reconnect the second window is not cached any more: ${afterReconnect} references (before the reconnect: ${first}; a cached window: ${again})`);
  t.ok((await show(source, viewer, windows[0]!)) > 100, 'the keyframe after the reconnect filled the new cache');
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
