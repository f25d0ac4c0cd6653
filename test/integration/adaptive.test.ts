// Adaptive coding end to end: host -> WebSocket -> Node viewer. A region
// playing video goes lossy while it plays and is refined to exact once still;
// a scrolled page goes as COPY ops. Functional checks only, no timing.
import t from 'tap';
import { connectViewer } from '../../src/client/viewerClient';
import { createHost } from '../../src/host/host';
import { jpegUnavailableReason } from '../../src/native/binding';
import { PushSource } from '../../src/source/pushSource';
import { loadScene } from '../../src/source/sceneSource';
import type { Frame } from '../../src/frame';
import { expectedFramebuffer, firstDifference, until, videoFrame } from '../helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noJpeg = jpegUnavailableReason();
if (noJpeg && process.env.CI) throw new Error(`JPEG codec must load in CI: ${noJpeg}`);

async function session(first: Frame) {
  const source = new PushSource();
  source.push(first);
  const host = await createHost({ source, fps: 30 });
  const viewer = connectViewer(host.url, { reconnect: false });
  const ops = { jpeg: 0, copy: 0 };
  viewer.on('update', (u) => ((ops.jpeg += u.ops.jpeg), (ops.copy += u.ops.copy)));
  const close = async () => {
    viewer.close();
    await host.close();
  };
  const atRest = async (f: Frame) => {
    const want = expectedFramebuffer(f);
    await until(() => viewer.framebuffer !== null && firstDifference(viewer.framebuffer, want, f.width) === null && host.viewers().every((v) => v.flow.inflightUpdates === 0), 'the viewer to show the host screen exactly');
    return firstDifference(viewer.framebuffer!, want, f.width);
  };
  return { source, host, viewer, ops, close, atRest };
}

t.test('video plays lossy and the screen is exact once it stops', { skip: noJpeg ?? false }, async (t) => {
  const base = loadScene('document');
  const s = await session(base);
  t.teardown(s.close);
  await s.atRest(base);
  const video = { x: 320, y: 192, w: 640, h: 384 };
  let last = base;
  for (let n = 0; n < 30; n++) {
    last = videoFrame(base, video, n);
    s.source.push(last);
    await sleep(40);
  }
  t.equal(await s.atRest(last), null, 'byte-identical at rest after refinement');
  t.ok(s.ops.jpeg > 0, `the video went as JPEG (${s.ops.jpeg} JPEG ops)`);
  const stats = s.host.viewers()[0]!;
  t.ok(stats.lossyUpdates > 0, `${stats.lossyUpdates} lossy updates`);
  t.equal(stats.quality.lossyTiles, 0, 'no tile is left lossy');
});

t.test('a scrolled page goes as COPY ops plus the exposed rows', async (t) => {
  const page = loadScene('longdoc');
  const view = (top: number): Frame => {
    const h = 600;
    const data = Buffer.alloc(page.width * h * 4);
    (page.data as Buffer).copy(data, 0, top * page.stride, (top + h) * page.stride);
    return { data, width: page.width, height: h, stride: page.width * 4 };
  };
  const first = view(0);
  const s = await session(first);
  t.teardown(s.close);
  await s.atRest(first);
  const before = s.host.viewers()[0]!.bytesSent;
  let last = first;
  for (const top of [40, 80, 120, 160]) {
    last = view(top);
    s.source.push(last);
    await s.atRest(last);
  }
  t.equal(await s.atRest(last), null, 'exact after scrolling');
  t.ok(s.ops.copy >= 1, `scrolls went as copies (${s.ops.copy} COPY ops)`);
  const bytes = s.host.viewers()[0]!.bytesSent - before;
  t.ok(bytes < first.width * 160 * 3, `four scroll steps cost ${bytes} bytes, less than the exposed rows raw`);
});
