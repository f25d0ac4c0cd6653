// Pixel load as the viewer sees it: busy seconds in a row turn it on, quiet seconds in a row turn it off.
import t from 'tap';
import { PIXEL_LOAD_BYTES_PER_S, PIXEL_LOAD_OFF_S, PIXEL_LOAD_ON_S, PixelLoadMeter } from '../../../src/audio/pixelLoad';

/** `bytesPerS` spread over each second from `from` to `to` (ms), in 10 pieces a second. */
function feed(m: PixelLoadMeter, from: number, to: number, bytesPerS: number): void {
  for (let at = from; at < to; at += 100) m.add(bytesPerS / 10, at);
}

t.test('on after PIXEL_LOAD_ON_S busy seconds in a row, off after PIXEL_LOAD_OFF_S quiet ones', async (t) => {
  const m = new PixelLoadMeter();
  feed(m, 0, PIXEL_LOAD_ON_S * 1000, PIXEL_LOAD_BYTES_PER_S);
  t.notOk(m.loaded(PIXEL_LOAD_ON_S * 1000 - 1), 'not while the last busy second is still counting');
  t.ok(m.loaded(PIXEL_LOAD_ON_S * 1000), 'on once it has ended');
  const quietFrom = PIXEL_LOAD_ON_S * 1000;
  feed(m, quietFrom, quietFrom + (PIXEL_LOAD_OFF_S - 1) * 1000, PIXEL_LOAD_BYTES_PER_S / 2);
  t.ok(m.loaded(quietFrom + (PIXEL_LOAD_OFF_S - 1) * 1000), `still on after ${PIXEL_LOAD_OFF_S - 1} quiet seconds (a pause between scenes)`);
  t.notOk(m.loaded(quietFrom + PIXEL_LOAD_OFF_S * 1000), `off after ${PIXEL_LOAD_OFF_S}, with no bytes arriving meanwhile`);
});

t.test('one busy second (a page turned) does not count; a busy second between quiet ones resets the run', async (t) => {
  const m = new PixelLoadMeter();
  m.add(10 * PIXEL_LOAD_BYTES_PER_S, 500);
  t.notOk(m.loaded(5_000), 'a burst in one second');
  feed(m, 5_000, 6_000, PIXEL_LOAD_BYTES_PER_S);
  feed(m, 6_000, 7_000, PIXEL_LOAD_BYTES_PER_S - 1000);
  feed(m, 7_000, 8_000, PIXEL_LOAD_BYTES_PER_S);
  t.notOk(m.loaded(8_000), 'busy, quiet, busy: never two in a row');
  feed(m, 8_000, 9_000, PIXEL_LOAD_BYTES_PER_S);
  t.ok(m.loaded(9_000), 'then two in a row');
});

t.test('bad input is ignored; a clock that goes back restarts the count; a long silence ends the load', async (t) => {
  const m = new PixelLoadMeter();
  m.add(NaN, 0);
  m.add(-5, 100);
  m.add(Infinity, 200);
  m.add(100, NaN);
  feed(m, 1_000, 3_000, PIXEL_LOAD_BYTES_PER_S);
  t.ok(m.loaded(3_000));
  t.ok(m.loaded(NaN), 'a NaN time changes nothing');
  t.notOk(m.loaded(3_000 + 3_600_000), 'an hour without pixels: off');
  feed(m, 0, 1_000, PIXEL_LOAD_BYTES_PER_S * 5);
  t.notOk(m.loaded(1_500), 'the clock went back: counting starts again');
});
