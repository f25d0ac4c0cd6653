/**
 * AudioSequence: where an arriving audio frame sits in its stream, from its
 * seq. Pure (no Node APIs): the Node receiver and the browser player share it.
 *
 *   next frame           → { lost: 0 }
 *   after a short gap    → { lost: n }: conceal n frames, then play this one
 *   a duplicate or older → null: drop it (it would play out of order)
 *   a jump > MAX_GAP     → { lost: 0, restart: true }: the sender restarted
 *                          (a reconnect, a new capture); nothing to conceal
 *
 * seq is u32 and wraps: differences are taken mod 2^32.
 */
export const MAX_CONCEALED_GAP = 25; // 500 ms of 20 ms frames: longer than that is an outage, not a loss

export interface SequencePlace {
  /** Frames missing just before this one (concealed by the caller). */
  lost: number;
  /** The stream started again: the caller resets its decoder and timing. */
  restart: boolean;
}

export class AudioSequence {
  private last: number | null = null;
  frames = 0;
  lost = 0;
  late = 0;
  restarts = 0;

  place(seq: number): SequencePlace | null {
    if (this.last === null) {
      this.last = seq;
      this.frames++;
      return { lost: 0, restart: false };
    }
    const ahead = (seq - this.last) >>> 0; // 1 = the next frame
    if (ahead === 0 || ahead > 0x80000000) {
      this.late++;
      return null;
    }
    this.last = seq;
    this.frames++;
    if (ahead - 1 > MAX_CONCEALED_GAP) {
      this.restarts++;
      return { lost: 0, restart: true };
    }
    this.lost += ahead - 1;
    return { lost: ahead - 1, restart: false };
  }

  /** A new connection: the next frame starts a stream. */
  reset(): void {
    this.last = null;
  }
}
