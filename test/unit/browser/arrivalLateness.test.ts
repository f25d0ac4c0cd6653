// ArrivalLateness: how much later than the quickest recent update one arrives, whatever the offset
// between the host's clock and the page's.
import t from 'tap';
import { ArrivalLateness } from '../../../src/browser/arrivalLateness';

t.test('the clocks\' offset cancels: lateness is the delay beyond the least one seen', async (t) => {
  const l = new ArrivalLateness();
  const offset = -123_456.5; // the host's clock ahead of the page's
  const arrive = (capture: number, delay: number) => l.note(capture, capture + offset + delay);
  t.equal(arrive(1000, 30), 0, 'the first is on time');
  t.equal(arrive(1100, 25), 0, 'a quicker one is on time, and the new least');
  t.equal(arrive(1200, 27), 2);
  t.equal(arrive(1300, 425), 400, 'held 400 ms');
});

t.test('the least delay is forgotten after the window: a slower route is on time again', async (t) => {
  const l = new ArrivalLateness(10_000);
  t.equal(l.note(0, 20), 0);
  t.equal(l.note(1000, 1020), 0);
  // The route now takes 200 ms: late at first, on time once the old minimum is out of the window.
  t.equal(l.note(2000, 2200), 180);
  t.equal(l.note(8000, 8200), 180, 'within the window the old least still counts');
  t.equal(l.note(16_000, 16_200), 0, 'after it, the new delay is the least');
});

t.test('reset: a new connection starts afresh; nonsense times are never on time', async (t) => {
  const l = new ArrivalLateness();
  l.note(0, 10);
  l.reset();
  t.equal(l.note(0, 500), 0);
  t.equal(l.note(Number.NaN, 600), Infinity);
  t.equal(l.note(700, Infinity), Infinity);
});
