// ScreenEncoder -> wire -> ScreenDecoder over the scripted scene session.
import t from 'tap';
import { ScreenDecoder } from '../../../src/client/screenDecoder';
import { encodePng } from '../../../src/client/png';
import { ErrorCodes } from '../../../src/errors';
import { ScreenEncoder } from '../../../src/host/screenEncoder';
import { decodeMessage, encodeMessage } from '../../../src/protocol/messages';
import { SceneSource } from '../../../src/source/sceneSource';
import { expectedFramebuffer, firstDifference, makeFrame } from '../../helpers';
import * as zlib from 'node:zlib';

t.test('the scripted session decodes exactly at every frame, with acks', async (t) => {
  const source = new SceneSource();
  const host = new ScreenEncoder();
  const viewer = new ScreenDecoder();
  let updates = 0, unchanged = 0, keyframes = 0;
  for (let frame; (frame = await source.nextFrame()); ) {
    const out = await host.encodeFrame(frame);
    if (out.frameId === null) unchanged++;
    if (out.keyframe) keyframes++;
    for (const bytes of out.messages) {
      const handled = await viewer.handleBytes(bytes);
      if (handled.ack) {
        updates++;
        t.equal(handled.ack.frameId, out.frameId);
        t.ok(handled.ack.displayedAt >= handled.ack.receivedAt);
        t.same(decodeMessage(encodeMessage(handled.ack)), handled.ack);
      }
    }
    const diff = firstDifference(viewer.framebuffer!, expectedFramebuffer(frame), frame.width);
    if (diff) {
      t.fail(`frame ${out.frameId}: ${diff}`);
      break;
    }
  }
  t.equal(keyframes, 1);
  t.ok(unchanged > 20, `${unchanged} unchanged frames sent nothing`);
  t.ok(updates > 30, `${updates} updates`);
});

t.test('resize and refresh requests produce keyframes', async (t) => {
  const host = new ScreenEncoder({ tileSize: 32 });
  const viewer = new ScreenDecoder();
  const apply = async (frame: ReturnType<typeof makeFrame>) => {
    const out = await host.encodeFrame(frame);
    for (const m of out.messages) await viewer.handleBytes(m);
    return out;
  };
  const a = makeFrame(100, 80);
  t.equal((await apply(a)).keyframe, true);
  t.equal((await apply(a)).frameId, null);
  host.requestKeyframe();
  t.equal((await apply(a)).keyframe, true);
  const b = makeFrame(120, 90);
  b.data.fill(0x7f);
  const out = await apply(b);
  t.equal(out.keyframe, true);
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
