/**
 * Input made while the viewer is not connected is not silently lost: keys
 * are held (a bounded queue, a short time) and sent once the host accepts
 * input again; pointer presses and wheel turns are not replayed (the screen
 * may have changed under them) but counted, so the user is told. The clock is
 * passed in (tests use a fake one).
 *
 * A key-up is never lost (a key left down on the host autorepeats there): when
 * the queue is full, new presses are dropped and counted, and so are their
 * releases, but the release of a key the host has seen go down (sent before the
 * link dropped, or held here) is still held past the bound, and it is sent
 * even when the presses are too old to replay.
 */
import type { KeyMessage, PointerMessage } from '../protocol/messages';

/** Keys older than this when the link comes back are not sent (the user has moved on). */
export const HOLD_MS = 5000;
/** At most this many KEY messages are held (a press and a release each); key-ups past it: see above. */
export const HOLD_KEYS = 256;

export class InputHold {
  private keys: Array<{ at: number; msg: KeyMessage }> = [];
  private dropped = 0;
  /** Keys whose press was dropped because the queue was full: their release is not needed. */
  private unsentPresses = new Set<string>();

  /** Takes a message that could not be sent; returns true when it is held for later. */
  hold(msg: PointerMessage | KeyMessage, now: number): boolean {
    if (msg.type === 'key') {
      const id = `${msg.code}/${msg.keysym}`;
      if (!msg.down && this.unsentPresses.delete(id)) return false; // the host never saw it go down
      if (this.keys.length < HOLD_KEYS || !msg.down) {
        this.keys.push({ at: now, msg });
        return true;
      }
      if (!msg.repeat) this.unsentPresses.add(id); // a repeat: the key went down before, its release must go
    }
    if (msg.type === 'key' ? msg.down : msg.buttons !== 0 || msg.wheelX !== 0 || msg.wheelY !== 0) this.dropped++;
    return false;
  }

  get heldKeys(): number {
    return this.keys.length;
  }

  /**
   * The host accepts input again: the held keys to send (all of them, or only
   * the releases when the oldest is stale: half a typed word is worse than
   * none, but a key pressed before the link dropped must not stay down), and
   * how many actions were dropped (to tell the user).
   */
  release(now: number): { send: KeyMessage[]; dropped: number } {
    const fresh = this.keys.length > 0 && now - this.keys[0]!.at <= HOLD_MS;
    const send = this.keys.filter((k) => fresh || !k.msg.down).map((k) => k.msg);
    const dropped = this.dropped + (fresh ? 0 : this.keys.filter((k) => k.msg.down).length);
    this.keys = [];
    this.dropped = 0;
    this.unsentPresses.clear(); // a stray release later is harmless; a lost one is not
    return { send, dropped };
  }
}
