// RecentChanges: the busy regions the capture loop asks a source to hold.
import t from 'tap';
import { RecentChanges } from '../../../src/host/recentChanges';
import { MAX_BUSY_RECTS } from '../../../src/source/frameSource';

t.test('one bounding box per frame, only the last window, each box once', async (t) => {
  const r = new RecentChanges(66);
  t.same(r.busy(0), [], 'nothing changed yet');
  r.note(0, [{ x: 0, y: 0, w: 64, h: 64 }, { x: 128, y: 64, w: 64, h: 64 }]);
  r.note(10, []); // a frame that changed nothing adds nothing
  r.note(33, [{ x: 0, y: 0, w: 64, h: 64 }, { x: 128, y: 64, w: 64, h: 64 }]);
  t.same(r.busy(40), [{ x: 0, y: 0, w: 192, h: 128 }], 'the same box twice is named once');
  r.note(50, [{ x: 600, y: 300, w: 10, h: 10 }]);
  t.same(r.busy(90), [{ x: 0, y: 0, w: 192, h: 128 }, { x: 600, y: 300, w: 10, h: 10 }], 'the first frame forgotten, the second kept');
  t.same(r.busy(110), [{ x: 600, y: 300, w: 10, h: 10 }], 'then the second');
  t.same(r.busy(200), [], 'and the last: a region changing now and then is not busy when it changes next');
});

t.test('more distinct boxes than a source takes become their bounding box', async (t) => {
  const r = new RecentChanges(1000);
  for (let i = 0; i <= MAX_BUSY_RECTS; i++) r.note(i, [{ x: i * 10, y: 5, w: 4, h: 4 }]);
  t.same(r.busy(MAX_BUSY_RECTS), [{ x: 0, y: 5, w: MAX_BUSY_RECTS * 10 + 4, h: 4 }]);
});
