// QUALITY_LIMIT ("data saver") end to end with the Node viewer: the host keeps
// that viewer's quality ladder at the asked level, across a reconnection, and
// lifts it on request. (The browser viewer's toolbar button: test/browser/toolbar.test.ts.)
import t from 'tap';
import { connectViewer } from '../../src/client/viewerClient';
import { createHost } from '../../src/host/host';
import { PushSource } from '../../src/source/pushSource';
import { fillRandom, makeFrame, rng, until } from '../helpers';

t.test('the Node viewer asks for data saver; the host honours it on every connection', async (t) => {
  const source = new PushSource();
  const host = await createHost({ source });
  t.teardown(() => host.close());
  source.push(fillRandom(makeFrame(128, 64), rng(1), 8));
  const viewer = connectViewer(host.url, { minBackoffMs: 50, maxBackoffMs: 100 });
  t.teardown(() => viewer.close());
  t.equal(viewer.limitQuality(3), false, 'not connected yet: remembered for the HELLO');
  await until(() => host.viewers().length === 1 && host.viewers()[0]!.quality.minLevel === 3, 'the limit at the host');
  t.equal(host.viewers()[0]!.quality.level, 3, 'the ladder is at the floor at once');
  host.dropViewers();
  await until(() => host.viewers().length === 1 && viewer.connections === 2, 'the reconnection');
  await until(() => host.viewers()[0]!.quality.minLevel === 3, 'the limit again on the new connection');
  t.equal(viewer.limitQuality(0), true, 'this host honours it');
  await until(() => host.viewers()[0]!.quality.minLevel === 0, 'lifted');
  t.throws(() => viewer.limitQuality(7), { code: 'ERR_INVALID_ARG' });
});
