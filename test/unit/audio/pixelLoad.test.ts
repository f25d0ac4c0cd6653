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
  feed(m, quietFrom, quietFrom + PIXEL_LOAD_OFF_S * 1000, PIXEL_LOAD_BYTES_PER_S / 2);
  t.ok(m.loaded(quietFrom + PIXEL_LOAD_OFF_S * 1000 - 1), `still on after ${PIXEL_LOAD_OFF_S - 1} quiet seconds (a pause between scenes)`);
  t.notOk(m.loaded(quietFrom + PIXEL_LOAD_OFF_S * 1000), `off after ${PIXEL_LOAD_OFF_S}`);
});

t.test('seconds with sound and no pixels are quiet; seconds with nothing at all (an outage) count for neither', async (t) => {
  const m = new PixelLoadMeter();
  feed(m, 0, 2_000, PIXEL_LOAD_BYTES_PER_S);
  t.ok(m.loaded(2_000));
  t.ok(m.loaded(2_000 + 60_000), 'a minute in which nothing arrived: still on (the link was out, the video may still play)');
  const from = 62_000;
  for (let at = from; at < from + (PIXEL_LOAD_OFF_S - 1) * 1000; at += 20) m.heard(at);
  t.ok(m.loaded(from + (PIXEL_LOAD_OFF_S - 1) * 1000 + 500), 'sound alone for less than PIXEL_LOAD_OFF_S: on');
  for (let at = from + (PIXEL_LOAD_OFF_S - 1) * 1000; at < from + PIXEL_LOAD_OFF_S * 1000; at += 20) m.heard(at);
  t.notOk(m.loaded(from + PIXEL_LOAD_OFF_S * 1000), `off after ${PIXEL_LOAD_OFF_S} seconds of sound without pixels`);
});

t.test('one busy second (a page turned) does not count; a busy second between quiet ones resets the run', async (t) => {
  const m = new PixelLoadMeter();
  m.add(10 * PIXEL_LOAD_BYTES_PER_S, 500);
  for (let at = 1_000; at < 5_000; at += 20) m.heard(at);
  t.notOk(m.loaded(5_000), 'a burst in one second');
  feed(m, 5_000, 6_000, PIXEL_LOAD_BYTES_PER_S);
  feed(m, 6_000, 7_000, PIXEL_LOAD_BYTES_PER_S - 1000);
  feed(m, 7_000, 8_000, PIXEL_LOAD_BYTES_PER_S);
  t.notOk(m.loaded(8_000), 'busy, quiet, busy: never two in a row');
  feed(m, 8_000, 9_000, PIXEL_LOAD_BYTES_PER_S);
  t.ok(m.loaded(9_000), 'then two in a row');
});

t.test('bad input is ignored; a time before the current second counts in it; an outage breaks a busy run', async (t) => {
  const m = new PixelLoadMeter();
  m.add(NaN, 0);
  m.add(-5, 100);
  m.add(Infinity, 200);
  m.add(100, NaN);
  m.heard(NaN);
  feed(m, 1_000, 3_000, PIXEL_LOAD_BYTES_PER_S);
  t.ok(m.loaded(3_000));
  t.ok(m.loaded(NaN), 'a NaN time changes nothing');
  const back = new PixelLoadMeter();
  back.add(PIXEL_LOAD_BYTES_PER_S / 2, 10_500);
  back.add(PIXEL_LOAD_BYTES_PER_S / 2, 9_990); // stamped a little earlier, arriving later
  back.add(PIXEL_LOAD_BYTES_PER_S, 11_200);
  t.ok(back.loaded(12_000), 'both halves counted in second 10: two busy seconds');
  const gap = new PixelLoadMeter();
  feed(gap, 0, 1_000, PIXEL_LOAD_BYTES_PER_S);
  feed(gap, 5_000, 6_000, PIXEL_LOAD_BYTES_PER_S);
  t.notOk(gap.loaded(6_000), 'busy, outage, busy: not two seen in a row');
});
