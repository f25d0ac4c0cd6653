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
  t.same(h.release(HOLD_MS + 1), { send: [], dropped: 2 }, 'older than HOLD_MS: none sent, two keystrokes reported');
  for (let i = 0; i < HOLD_KEYS + 10; i++) h.hold(key('c', i % 2 === 0), 0);
  t.equal(h.heldKeys, HOLD_KEYS);
  t.equal(h.release(1).dropped, 5, 'the keystrokes that overflowed are counted');
});
