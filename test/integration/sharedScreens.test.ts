// Viewers in sync share one copy of the screen: a host with several viewers
// holds one screen for all of them (plus a copy per viewer only while it lags
// behind in part), and every viewer stays byte-identical. Memory figures come
// from the native encoders' own accounting, not from timing.
import t from 'tap';
import { ViewerClient, connectViewer } from '../../src/client/viewerClient';
import type { Frame } from '../../src/frame';
import { createHost } from '../../src/host/host';
import { PushSource } from '../../src/source/pushSource';
import { loadScene } from '../../src/source/sceneSource';
import { expectedFramebuffer, firstDifference, until } from '../helpers';

const base = loadScene('document');

function withBlock(f: Frame, n: number): Frame {
  const data = Buffer.from(f.data);
  for (let y = 100 + n * 7; y < 160 + n * 7; y++) data.fill(n * 40, (y * f.width + 200) * 4, (y * f.width + 420) * 4);
  return { ...f, data };
}

t.test('five viewers in sync hold one shared screen between them, and all stay exact', async (t) => {
  const source = new PushSource();
  source.push(base);
  // Without the content cache: its mirror is per viewer by design (docs/security.md) and
  // would count in memoryBytes; this test is about the screen copies.
  const host = await createHost({ source, contentCacheBytes: 0 });
  const viewers: ViewerClient[] = [];
  t.teardown(async () => {
    for (const v of viewers) v.close();
    await host.close();
  });
  for (let i = 0; i < 5; i++) viewers.push(connectViewer(host.url, { reconnect: false }));
  let frame: Frame = base;
  const inSync = async (what: string) => {
    const want = expectedFramebuffer(frame);
    await until(() => viewers.every((v) => v.framebuffer !== null && firstDifference(v.framebuffer, want, frame.width) === null)
      && host.viewers().length === 5 && host.viewers().every((s) => s.flow.inflightUpdates === 0), what);
  };
  await inSync('every viewer shows the first screen');
  for (let n = 1; n <= 4; n++) {
    frame = withBlock(frame, n);
    source.push(frame);
    await inSync(`every viewer shows change ${n}`);
  }
  const screenBytes = base.width * base.height * 4;
  // Each viewer's own memory (flags; the coding buffers are the process's pool's) stays far below a screen.
  const own = host.viewers().map((s) => s.memoryBytes);
  t.ok(own.every((b) => b < screenBytes / 8), `no viewer keeps a copy of its own (${own.join(', ')} bytes)`);
  t.ok(host.screens.memoryBytes <= 2 * screenBytes, `shared screens: ${host.screens.count} (${host.screens.memoryBytes} bytes) for 5 viewers`);
  t.ok(host.screens.count >= 1);
  for (const v of viewers) t.equal(firstDifference(v.framebuffer!, expectedFramebuffer(frame), frame.width), null, 'byte-identical');
  // Viewers leaving give their share back: with none left, nothing is held.
  for (const v of viewers) v.close();
  await until(() => host.viewers().length === 0, 'the sessions to close');
  t.equal(host.screens.count, 0, 'no screen held once every viewer left');
});
