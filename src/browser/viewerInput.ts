/**
 * Input capture for the browser viewer: keyboard (physical codes, JIS keys,
 * IME composition), mouse, wheel and touch, turned into POINTER/KEY messages in
 * remote screen coordinates.
 *
 * Keys are read from a hidden textarea that holds the focus, because IME
 * composition only happens in an editable element: while composing, raw keys
 * are held back (`isComposing`, key "Process"), and the composed text is sent as
 * characters when the composition ends. Nothing typed is kept: the textarea is
 * emptied after every event.
 */
import { Modifier } from '../protocol/constants';
import type { KeyMessage, PointerMessage } from '../protocol/messages';
import { keysymForCodePoint } from '../input/keysyms';
import { InputMode, TouchInput } from './touchInput';
import type { ViewTransform } from './viewTransform';

export interface InputTarget {
  /** Where the remote screen is shown (null before the first RESIZE). */
  view(): ViewTransform | null;
  /** The view was zoomed or panned by a gesture. */
  viewChanged(): void;
  send(msg: PointerMessage | KeyMessage): void;
}

// DOM MouseEvent.buttons bits (1 left, 2 right, 4 middle, 8 back, 16 forward)
// to the protocol's (0 left, 1 middle, 2 right, 3 back, 4 forward).
function protocolButtons(domButtons: number): number {
  return (domButtons & 1) | ((domButtons & 4) >> 1) | ((domButtons & 2) << 1) | (domButtons & 8) | (domButtons & 16);
}

function modifiers(e: KeyboardEvent): number {
  return (e.shiftKey ? Modifier.SHIFT : 0) | (e.ctrlKey ? Modifier.CONTROL : 0) | (e.altKey ? Modifier.ALT : 0) |
    (e.metaKey ? Modifier.META : 0) | (e.getModifierState?.('CapsLock') ? Modifier.CAPS_LOCK : 0) |
    (e.getModifierState?.('NumLock') ? Modifier.NUM_LOCK : 0) | (e.getModifierState?.('AltGraph') ? Modifier.ALT_GRAPH : 0);
}

const clampI16 = (v: number) => Math.max(-32768, Math.min(32767, Math.round(v)));

export class ViewerInput {
  private readonly keySink: HTMLTextAreaElement;
  private x = 0;
  private y = 0;
  private buttons = 0;
  private composing = false;
  private readonly touch: TouchInput;
  private readonly cleanups: Array<() => void> = [];

  constructor(
    private readonly surface: HTMLElement,
    private readonly target: InputTarget,
  ) {
    const ta = document.createElement('textarea');
    ta.setAttribute('autocomplete', 'off');
    ta.setAttribute('autocorrect', 'off');
    ta.setAttribute('autocapitalize', 'off');
    ta.setAttribute('spellcheck', 'false');
    ta.setAttribute('aria-label', 'remote keyboard');
    Object.assign(ta.style, { position: 'absolute', left: '0', top: '0', width: '1px', height: '1px', opacity: '0', border: '0', padding: '0', resize: 'none' });
    surface.appendChild(ta);
    this.keySink = ta;

    this.on(ta, 'keydown', (e) => this.key(e as KeyboardEvent, true));
    this.on(ta, 'keyup', (e) => this.key(e as KeyboardEvent, false));
    this.on(ta, 'compositionstart', () => (this.composing = true));
    this.on(ta, 'compositionend', (e) => {
      this.composing = false;
      this.typeText((e as CompositionEvent).data ?? '');
      ta.value = '';
    });
    this.on(ta, 'input', () => {
      if (!this.composing) ta.value = '';
    });
    this.on(surface, 'pointerdown', (e) => this.pointer(e as PointerEvent));
    this.on(surface, 'pointermove', (e) => this.pointer(e as PointerEvent));
    this.on(surface, 'pointerup', (e) => this.pointer(e as PointerEvent));
    this.on(surface, 'wheel', (e) => this.wheel(e as WheelEvent), { passive: false });
    this.on(surface, 'contextmenu', (e) => e.preventDefault());
    // A click would move the focus to the page; keep it on the key sink.
    this.on(surface, 'mousedown', (e) => {
      e.preventDefault();
      this.focus();
    });
    this.touch = new TouchInput({
      view: () => target.view(),
      viewChanged: () => target.viewChanged(),
      origin: () => {
        const r = surface.getBoundingClientRect();
        return { x: r.left + surface.clientLeft, y: r.top + surface.clientTop };
      },
      pointerAt: () => ({ x: this.x, y: this.y }),
      pointer: (x, y, buttons, wheelX = 0, wheelY = 0) => {
        this.x = x;
        this.y = y;
        this.buttons = buttons;
        this.sendPointer(wheelX, wheelY);
      },
    });
    // Touch never focuses the key sink (that would open the soft keyboard on every tap): the keyboard button does.
    for (const type of ['touchstart', 'touchmove', 'touchend', 'touchcancel']) this.on(surface, type, (e) => this.touch.handle(e as TouchEvent), { passive: false });
    // The page's own pinch-zoom and scrolling would fight the viewer's.
    surface.style.touchAction = 'none';
  }

  get mode(): InputMode {
    return this.touch.mode;
  }

  set mode(mode: InputMode) {
    this.touch.mode = mode;
  }

  focus(): void {
    this.keySink.focus({ preventScroll: true });
  }

  dispose(): void {
    this.touch.dispose();
    for (const c of this.cleanups) c();
    this.keySink.remove();
  }

  private on(el: EventTarget, type: string, fn: (e: Event) => void, opts?: AddEventListenerOptions): void {
    el.addEventListener(type, fn, opts);
    this.cleanups.push(() => el.removeEventListener(type, fn, opts));
  }

  private key(e: KeyboardEvent, down: boolean): void {
    // IME composing: the composed text comes with compositionend.
    if (e.isComposing || this.composing || e.key === 'Process' || e.keyCode === 229) return;
    e.preventDefault();
    this.target.send({ type: 'key', down, repeat: e.repeat, modifiers: modifiers(e), keysym: 0, code: e.code.slice(0, 64), key: e.key.slice(0, 64) });
  }

  /** Composed text (IME) goes as characters: a press and release each. */
  private typeText(text: string): void {
    for (const ch of text) {
      const keysym = keysymForCodePoint(ch.codePointAt(0)!);
      if (keysym === null) continue;
      for (const down of [true, false]) this.target.send({ type: 'key', down, repeat: false, modifiers: 0, keysym, code: '', key: ch });
    }
  }

  private toScreen(clientX: number, clientY: number): boolean {
    const view = this.target.view();
    if (!view) return false;
    const r = this.surface.getBoundingClientRect();
    const at = view.toRemoteClamped(clientX - r.left - this.surface.clientLeft, clientY - r.top - this.surface.clientTop);
    this.x = at.x;
    this.y = at.y;
    return true;
  }

  private sendPointer(wheelX = 0, wheelY = 0): void {
    this.target.send({ type: 'pointer', x: this.x, y: this.y, buttons: this.buttons, wheelX: clampI16(wheelX), wheelY: clampI16(wheelY) });
  }

  private pointer(e: PointerEvent): void {
    if (e.pointerType === 'touch') return; // touch has its own gestures below
    if (e.type === 'pointerdown') {
      this.focus();
      this.surface.setPointerCapture?.(e.pointerId);
    }
    e.preventDefault();
    if (!this.toScreen(e.clientX, e.clientY)) return;
    this.buttons = protocolButtons(e.buttons);
    this.sendPointer();
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault();
    if (!this.toScreen(e.clientX, e.clientY)) return;
    // The protocol carries CSS pixels.
    const scale = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? this.surface.clientHeight : 1;
    this.sendPointer(e.deltaX * scale, e.deltaY * scale);
  }
}
