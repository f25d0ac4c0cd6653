// Input made while disconnected: keys held briefly and bounded, presses counted, nothing silently lost.
import t from 'tap';
import { HOLD_KEYS, HOLD_MS, InputHold } from '../../../src/browser/inputHold';
import type { KeyMessage, PointerMessage } from '../../../src/protocol/messages';

const key = (k: string, down: boolean): KeyMessage => ({ type: 'key', down, repeat: false, modifiers: 0, keysym: 0, code: `Key${k.toUpperCase()}`, key: k });
const ptr = (buttons: number, wheelY = 0): PointerMessage => ({ type: 'pointer', x: 1, y: 2, buttons, wheelX: 0, wheelY });

t.test('keys are held and sent in order when the link is back soon', async (t) => {
  const h = new InputHold();
  t.ok(h.hold(key('a', true), 0));
  t.ok(h.hold(key('a', false), 10));
  t.notOk(h.hold(ptr(0), 20), 'a plain move is not held');
  t.notOk(h.hold(ptr(1), 30), 'a press is not replayed');
  t.notOk(h.hold(ptr(0, 40), 40), 'nor a wheel turn');
  t.same(h.release(HOLD_MS), { send: [key('a', true), key('a', false)], dropped: 2 }, 'the keys, and the two dropped actions counted');
  t.same(h.release(HOLD_MS + 1), { send: [], dropped: 0 }, 'released once');
});

t.test('stale keys are dropped and counted; the queue is bounded', async (t) => {
  const h = new InputHold();
  h.hold(key('a', true), 0);
  h.hold(key('a', false), 0);
  h.hold(key('b', true), 3000);
  h.hold(key('b', false), 3000);
  t.same(h.release(HOLD_MS + 1), { send: [key('a', false), key('b', false)], dropped: 2 }, 'older than HOLD_MS: no press sent (two keystrokes reported), the releases are');
  for (let i = 0; i < HOLD_KEYS + 10; i++) h.hold(key('c', i % 2 === 0), 0);
  t.equal(h.heldKeys, HOLD_KEYS);
  t.equal(h.release(1).dropped, 5, 'the keystrokes that overflowed are counted');
});

t.test('a full queue never loses the release of a key the host has seen go down', async (t) => {
  const h = new InputHold();
  // Shift went down before the link dropped (sent live); the held A's press is replayed.
  h.hold(key('a', true), 0);
  for (let i = 2; i < HOLD_KEYS; i++) h.hold(key('c', i % 2 === 0), 0);
  h.hold(key('b', true), 0);
  t.equal(h.heldKeys, HOLD_KEYS, 'full');
  t.notOk(h.hold(key('d', true), 0), 'a new press is dropped');
  t.notOk(h.hold(key('d', false), 0), 'and so is its release (the host never saw it go down)');
  t.notOk(h.hold({ ...key('shift', true), repeat: true }, 0), 'an autorepeat of a key already down is dropped');
  t.ok(h.hold(key('shift', false), 0), 'but its release is held past the bound');
  t.ok(h.hold(key('a', false), 0), 'as is the release of a held press');
  t.ok(h.hold(key('b', false), 0));
  const { send, dropped } = h.release(1);
  t.equal(dropped, 2, 'the dropped press and the autorepeat are counted');
  t.same(send.slice(-3), [key('shift', false), key('a', false), key('b', false)], 'the releases are sent, after the replayed presses');
  const down = new Set<string>();
  for (const m of send) m.down ? down.add(m.code) : down.delete(m.code);
  t.same([...down], [], 'no key is left down on the host');
});

t.test('stale presses are not replayed but the releases still go', async (t) => {
  const h = new InputHold();
  h.hold(key('a', true), 0);
  for (let i = 1; i < HOLD_KEYS; i++) h.hold(key('c', i % 2 === 1), 0);
  h.hold(key('shift', false), 0);
  h.hold(key('a', false), 0);
  const { send } = h.release(HOLD_MS + 1);
  t.ok(send.every((m) => !m.down), 'only releases');
  t.same(send.slice(-2), [key('shift', false), key('a', false)]);
});
