/**
 * Input made while the viewer is not connected is not silently lost: keys
 * are held (a bounded queue, a short time) and sent once the host accepts
 * input again; pointer presses and wheel turns are not replayed (the screen
 * may have changed under them) but counted, so the user is told. The clock is
 * passed in (tests use a fake one).
 */
import type { KeyMessage, PointerMessage } from '../protocol/messages';

/** Keys older than this when the link comes back are not sent (the user has moved on). */
export const HOLD_MS = 5000;
/** At most this many KEY messages are held (a press and a release each). */
export const HOLD_KEYS = 256;

export class InputHold {
  private keys: Array<{ at: number; msg: KeyMessage }> = [];
  private dropped = 0;

  /** Takes a message that could not be sent; returns true when it is held for later. */
  hold(msg: PointerMessage | KeyMessage, now: number): boolean {
    if (msg.type === 'key' && this.keys.length < HOLD_KEYS) {
      this.keys.push({ at: now, msg });
      return true;
    }
    if (msg.type === 'key' ? msg.down : msg.buttons !== 0 || msg.wheelX !== 0 || msg.wheelY !== 0) this.dropped++;
    return false;
  }

  get heldKeys(): number {
    return this.keys.length;
  }

  /**
   * The host accepts input again: the held keys to send (all of them, or none
   * when the oldest is stale: half a typed word is worse than none), and how
   * many actions were dropped (to tell the user).
   */
  release(now: number): { send: KeyMessage[]; dropped: number } {
    const fresh = this.keys.length > 0 && now - this.keys[0]!.at <= HOLD_MS;
    const send = fresh ? this.keys.map((k) => k.msg) : [];
    const dropped = this.dropped + (fresh ? 0 : this.keys.filter((k) => k.msg.down).length);
    this.keys = [];
    this.dropped = 0;
    return { send, dropped };
  }
}
