/**
 * InputRouter: turns viewers' POINTER and KEY messages into InputSink calls and
 * remembers, per viewer, what that viewer holds down, so that
 *  - a key is released with the keysym it was pressed with (the `key` of a
 *    keyup can differ from its keydown, e.g. when Shift went up first);
 *  - modifiers the viewer says are up (its window lost focus mid-chord) are
 *    released on the host;
 *  - everything a viewer held is released when it disconnects: a dropped 4G
 *    link must not leave Ctrl stuck on the office PC.
 *
 * Wheel: POINTER carries wheel deltas in CSS pixels; the router accumulates
 * them per viewer and sends one wheel click per 50 px (as noVNC does), so
 * touchpads scroll smoothly and a mouse notch gives one or two clicks.
 */
import type { KeyMessage, PointerMessage } from '../protocol/messages';
import { MODIFIER_KEYSYMS, keysymFor } from './keysyms';
import type { InputSink, PointerButton } from './inputSink';

export const WHEEL_PIXELS_PER_CLICK = 50;

export interface ViewerInputEvent {
  viewerId: number;
  message: PointerMessage | KeyMessage;
}

/** Where input comes from: a Host, a relay, or anything that emits these two events. */
export interface InputEventSource {
  on(event: 'input', listener: (e: ViewerInputEvent) => void): unknown;
  on(event: 'viewerLeft', listener: (e: { viewerId: number }) => void): unknown;
}

interface ViewerInput {
  buttons: number;
  wheelX: number;
  wheelY: number;
  /** KeyboardEvent.code -> keysym pressed for it. */
  keys: Map<string, number>;
}

export interface InputRouterStats {
  keys: number;
  pointer: number;
  unmapped: number;
}

export class InputRouter {
  private readonly viewers = new Map<number, ViewerInput>();
  readonly stats: InputRouterStats = { keys: 0, pointer: 0, unmapped: 0 };

  constructor(private readonly sink: InputSink) {}

  /** Routes the source's input events to the sink and releases a viewer's keys when it leaves. */
  attach(source: InputEventSource): this {
    source.on('input', (e) => this.handle(e.viewerId, e.message));
    source.on('viewerLeft', (e) => this.release(e.viewerId));
    return this;
  }

  handle(viewerId: number, msg: PointerMessage | KeyMessage): void {
    const v = this.state(viewerId);
    if (msg.type === 'pointer') this.pointer(v, msg);
    else this.key(v, msg);
  }

  /** Releases every key and button `viewerId` holds. */
  release(viewerId: number): void {
    const v = this.viewers.get(viewerId);
    if (!v) return;
    this.viewers.delete(viewerId);
    for (const keysym of v.keys.values()) this.sink.key(keysym, false);
    for (let b = 0; b < 5; b++) if (v.buttons & (1 << b)) this.sink.button(b as PointerButton, false);
  }

  /** Keysyms `viewerId` holds now (tests, diagnostics). */
  held(viewerId: number): number[] {
    return [...(this.viewers.get(viewerId)?.keys.values() ?? [])];
  }

  private state(id: number): ViewerInput {
    let v = this.viewers.get(id);
    if (!v) this.viewers.set(id, (v = { buttons: 0, wheelX: 0, wheelY: 0, keys: new Map() }));
    return v;
  }

  private pointer(v: ViewerInput, msg: PointerMessage): void {
    this.stats.pointer++;
    this.sink.move(Math.min(msg.x, Math.max(0, this.sink.width - 1)), Math.min(msg.y, Math.max(0, this.sink.height - 1)));
    const changed = v.buttons ^ msg.buttons;
    for (let b = 0; b < 5; b++) if (changed & (1 << b)) this.sink.button(b as PointerButton, (msg.buttons & (1 << b)) !== 0);
    v.buttons = msg.buttons & 0x1f;
    v.wheelX += msg.wheelX;
    v.wheelY += msg.wheelY;
    const clicksX = Math.trunc(v.wheelX / WHEEL_PIXELS_PER_CLICK);
    const clicksY = Math.trunc(v.wheelY / WHEEL_PIXELS_PER_CLICK);
    if (clicksX !== 0 || clicksY !== 0) {
      v.wheelX -= clicksX * WHEEL_PIXELS_PER_CLICK;
      v.wheelY -= clicksY * WHEEL_PIXELS_PER_CLICK;
      this.sink.wheel(clicksX, clicksY);
    }
  }

  private key(v: ViewerInput, msg: KeyMessage): void {
    this.stats.keys++;
    // Modifiers the viewer reports up but we hold were released while the
    // viewer's page had no focus: release them here too.
    for (const { bit, keysyms } of MODIFIER_KEYSYMS) {
      if (msg.modifiers & bit) continue;
      for (const [code, keysym] of v.keys) {
        if (keysyms.includes(keysym) && !(msg.down && code === msg.code)) {
          this.sink.key(keysym, false);
          v.keys.delete(code);
        }
      }
    }
    const pressed = v.keys.get(msg.code);
    if (!msg.down) {
      if (pressed === undefined) return;
      v.keys.delete(msg.code);
      this.sink.key(pressed, false);
      return;
    }
    const keysym = pressed ?? (msg.keysym !== 0 ? msg.keysym : keysymFor(msg.code, msg.key));
    if (keysym === null) return;
    if (this.sink.key(keysym, true)) v.keys.set(msg.code, keysym);
    else this.stats.unmapped++;
  }
}
