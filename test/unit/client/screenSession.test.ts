// Detector + ViewerEncoder -> wire -> ScreenDecoder over the scripted scene session.
import t from 'tap';
import { ScreenDecoder } from '../../../src/client/screenDecoder';
import { encodePng } from '../../../src/client/png';
import { ErrorCodes } from '../../../src/errors';
import { ChangeDetector } from '../../../src/detect/changeDetector';
import type { Frame } from '../../../src/frame';
import { Capability } from '../../../src/protocol/constants';
import { ViewerEncoder } from '../../../src/host/viewerEncoder';
import { decodeMessage, encodeMessage } from '../../../src/protocol/messages';
import { SceneSource } from '../../../src/source/sceneSource';
import { expectedFramebuffer, firstDifference, makeFrame } from '../../helpers';
import * as zlib from 'node:zlib';

/** One viewer's pipeline as a host runs it, frame by frame, on a clock that moves 100 ms per frame. */
function pipeline(tileSize = 64) {
  let now = 0;
  const encoder = new ViewerEncoder({ tileSize, clock: () => now });
  encoder.start(Capability.COPY_RECT | Capability.JPEG);
  let detector: ChangeDetector | null = null;
  return {
    encoder,
    async send(frame: Frame) {
      now += 100;
      if (detector?.width !== frame.width || detector.height !== frame.height) detector = new ChangeDetector({ width: frame.width, height: frame.height, tileSize });
      const rects = await detector.detect(frame);
      if (rects.length) encoder.offer(frame, rects);
      return encoder.step({ canSend: true, deliveryRateBps: null });
    },
  };
}

t.test('the scripted session decodes exactly at every frame, with acks', async (t) => {
  const source = new SceneSource();
  const host = pipeline();
  const viewer = new ScreenDecoder();
  let updates = 0, unchanged = 0, keyframes = 0;
  for (let frame; (frame = await source.nextFrame()); ) {
    const out = await host.send(frame);
    if (!out.update) unchanged++;
    if (out.update?.keyframe) keyframes++;
    for (const bytes of out.messages) {
      const handled = await viewer.handleBytes(bytes);
      if (handled.ack) {
        updates++;
        t.equal(handled.ack.frameId, out.update!.frameId);
        t.ok(handled.ack.displayedAt >= handled.ack.receivedAt);
        t.same(decodeMessage(encodeMessage(handled.ack)), handled.ack);
      }
    }
    const diff = firstDifference(viewer.framebuffer!, expectedFramebuffer(frame), frame.width);
    if (diff) {
      t.fail(`frame ${out.update?.frameId}: ${diff}`);
      break;
    }
  }
  t.equal(keyframes, 1);
  t.ok(unchanged > 20, `${unchanged} unchanged frames sent nothing`);
  t.ok(updates > 30, `${updates} updates`);
});

t.test('resize and refresh requests produce keyframes', async (t) => {
  const host = pipeline(32);
  const viewer = new ScreenDecoder();
  const apply = async (frame: ReturnType<typeof makeFrame>) => {
    const out = await host.send(frame);
    for (const m of out.messages) await viewer.handleBytes(m);
    return out;
  };
  const a = makeFrame(100, 80);
  t.equal((await apply(a)).update?.keyframe, true);
  t.equal((await apply(a)).update, null, 'an unchanged screen sends nothing');
  host.encoder.requestKeyframe();
  t.equal((await apply(a)).update?.keyframe, true);
  const b = makeFrame(120, 90);
  b.data.fill(0x7f);
  const out = await apply(b);
  t.equal(out.update?.keyframe, true);
  t.equal(decodeMessage(out.messages[0]!).type, 'resize');
  t.equal(viewer.width, 120);
  t.equal(firstDifference(viewer.framebuffer!, expectedFramebuffer(b), 120), null);
});

t.test('viewer refuses an update before the screen size is known', async (t) => {
  const viewer = new ScreenDecoder();
  const bytes = encodeMessage({ type: 'update', frameId: 1, captureTime: 0, keyframe: true, opCount: 0, stream: new Uint8Array(0) });
  await t.rejects(viewer.handleBytes(bytes), { code: ErrorCodes.PROTOCOL });
});

t.test('cursor messages update the cursor state', async (t) => {
  const viewer = new ScreenDecoder();
  await viewer.handleBytes(encodeMessage({ type: 'cursorPosition', x: 5, y: 6, visible: true }));
  await viewer.handleBytes(encodeMessage({ type: 'cursorShape', width: 1, height: 1, hotX: 0, hotY: 0, pixels: Uint8Array.from([1, 2, 3, 4]) }));
  t.same({ x: viewer.cursor.x, y: viewer.cursor.y, visible: viewer.cursor.visible }, { x: 5, y: 6, visible: true });
  t.same(Array.from(viewer.cursor.shape!.pixels), [1, 2, 3, 4]);
});

t.test('PNG snapshots decode back to the framebuffer colours', async (t) => {
  const bgra = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 1, 2, 3, 255]);
  const png = encodePng(bgra, 2, 2);
  t.same(Array.from(png.subarray(1, 4)), [0x50, 0x4e, 0x47]);
  // IDAT starts after the 8-byte signature and the 25-byte IHDR chunk.
  const idatLength = png.readUInt32BE(33);
  const raw = zlib.inflateSync(png.subarray(41, 41 + idatLength));
  t.same(Array.from(raw), [0, 0, 0, 255, 0, 255, 0, 0, 255, 0, 0, 3, 2, 1]);
});
