// The router's bookkeeping against a recording sink (the X11 sink itself is
// exercised against a real X server in test/integration/x11.test.ts).
import t from 'tap';
import { InputRouter, WHEEL_PIXELS_PER_CLICK } from '../../../src/input/inputRouter';
import type { InputSink, PointerButton } from '../../../src/input/inputSink';
import { Modifier } from '../../../src/protocol/constants';
import type { KeyMessage, PointerMessage } from '../../../src/protocol/messages';

class RecordingSink implements InputSink {
  readonly width = 800;
  readonly height = 600;
  calls: string[] = [];
  unmappable = new Set<number>();
  move(x: number, y: number) { this.calls.push(`move ${x},${y}`); }
  button(b: PointerButton, down: boolean) { this.calls.push(`button ${b} ${down ? 'down' : 'up'}`); }
  wheel(dx: number, dy: number) { this.calls.push(`wheel ${dx},${dy}`); }
  key(keysym: number, down: boolean) {
    if (this.unmappable.has(keysym)) return false;
    this.calls.push(`key ${keysym.toString(16)} ${down ? 'down' : 'up'}`);
    return true;
  }
  close() {}
}

const key = (code: string, k: string, down: boolean, modifiers = 0, keysym = 0): KeyMessage => ({ type: 'key', down, repeat: false, modifiers, keysym, code, key: k });
const pointer = (x: number, y: number, buttons = 0, wheelX = 0, wheelY = 0): PointerMessage => ({ type: 'pointer', x, y, buttons, wheelX, wheelY });

t.test('a key is released with the keysym it was pressed with', async (t) => {
  const sink = new RecordingSink();
  const r = new InputRouter(sink);
  r.handle(1, key('ShiftLeft', 'Shift', true, Modifier.SHIFT));
  r.handle(1, key('KeyA', 'A', true, Modifier.SHIFT));
  r.handle(1, key('ShiftLeft', 'Shift', false, 0));
  r.handle(1, key('KeyA', 'a', false, 0)); // key changed after Shift went up
  t.same(sink.calls, ['key ffe1 down', 'key 41 down', 'key ffe1 up', 'key 41 up']);
  t.same(r.held(1), []);
});

t.test('modifiers the viewer reports up are released; explicit keysyms are used as sent', async (t) => {
  const sink = new RecordingSink();
  const r = new InputRouter(sink);
  r.handle(1, key('ControlLeft', 'Control', true, Modifier.CONTROL));
  // The page lost focus; the Control keyup never came. Next key: Control is up.
  r.handle(1, key('KeyB', 'b', true, 0, 0x62));
  t.same(sink.calls, ['key ffe3 down', 'key ffe3 up', 'key 62 down']);
});

t.test('a viewer leaving releases only its own keys and buttons', async (t) => {
  const sink = new RecordingSink();
  const r = new InputRouter(sink);
  r.handle(1, key('AltLeft', 'Alt', true, Modifier.ALT));
  r.handle(1, pointer(10, 10, 0b101));
  r.handle(2, key('KeyZ', 'z', true));
  sink.calls = [];
  r.release(1);
  t.same(sink.calls, ['key ffe9 up', 'button 0 up', 'button 2 up']);
  t.same(r.held(2), [0x7a], 'viewer 2 still holds its key');
  r.release(1);
  t.same(sink.calls.length, 3, 'releasing twice does nothing more');
});

t.test('pointer: clamped position, button edges, wheel pixels accumulate into clicks', async (t) => {
  const sink = new RecordingSink();
  const r = new InputRouter(sink);
  r.handle(1, pointer(5000, 20, 1));
  r.handle(1, pointer(30, 40, 1));
  r.handle(1, pointer(30, 40, 0, 0, WHEEL_PIXELS_PER_CLICK / 2));
  r.handle(1, pointer(30, 40, 0, 0, WHEEL_PIXELS_PER_CLICK / 2 + 1));
  r.handle(1, pointer(30, 40, 0, -WHEEL_PIXELS_PER_CLICK * 3, 0));
  t.same(sink.calls, ['move 799,20', 'button 0 down', 'move 30,40', 'move 30,40', 'button 0 up', 'move 30,40', 'wheel 0,1', 'move 30,40', 'wheel -3,0']);
});

t.test('IME and unmapped keys are counted, not held', async (t) => {
  const sink = new RecordingSink();
  sink.unmappable.add(0x01003042);
  const r = new InputRouter(sink);
  r.handle(1, key('KeyA', 'Process', true));
  r.handle(1, key('KeyA', 'あ', true));
  t.same(sink.calls, []);
  t.equal(r.stats.unmapped, 1);
  t.same(r.held(1), []);
});
