// BurstAllowance: early occurrences after a quiet spell, the regular pace under steady change.
import t from 'tap';
import { BurstAllowance } from '../../../src/host/burstAllowance';

t.test('a full bucket allows `burst` early occurrences, then refills at the rate', async (t) => {
  const b = new BurstAllowance(10, 3, 0); // 10 a second: a token per 100 ms
  for (let i = 0; i < 3; i++) {
    t.ok(b.available(0), `early ${i + 1} of 3`);
    b.spend(0);
  }
  t.notOk(b.available(0), 'burst spent');
  t.notOk(b.available(99), 'not a whole token yet');
  t.ok(b.available(100), 'one token after 100 ms');
  b.spend(100);
  t.notOk(b.available(150));
  t.ok(b.available(10_000), 'refilled after a quiet spell');
  b.spend(10_000);
  b.spend(10_000);
  b.spend(10_000);
  t.notOk(b.available(10_000), 'never more than the burst: three spent empty it');
});

t.test('steady on-time occurrences at the rate leave no early ones', async (t) => {
  const b = new BurstAllowance(10, 3, 0);
  for (let i = 0; i < 3; i++) b.spend(0);
  let early = 0;
  for (let at = 100; at <= 2000; at += 100) {
    b.spend(at); // the on-time occurrence takes the token refilled meanwhile
    if (b.available(at + 50)) early++;
  }
  t.equal(early, 0);
});

t.test('spending on an empty bucket does not go into debt', async (t) => {
  const b = new BurstAllowance(10, 1, 0);
  b.spend(0);
  b.spend(0);
  b.spend(0);
  t.ok(b.available(100), 'one token after 100 ms, whatever was spent while empty');
});
