/**
 * The quality ladder of one viewer: what gives way when the link cannot carry
 * everything that changes. Text and UI stay exact and go first at every step;
 * what is lowered first is the update rate of busy regions (tiles changing at
 * video rate, BUSY_CHANGES times within a second (busyTiles.ts), in regions of at
 * least MIN_SLOWED_REGION_TILES tiles: a tile typed into fast is busy too, but
 * small, and stays at full rate) while calm damage is waiting. (With only busy
 * damage pending, flow control alone paces it.)
 *
 *   level 0: every change goes out as soon as flow control allows
 *   level 1: busy tiles at most 10 updates/s     level 2: 5/s     level 3: 2/s
 *
 * The level follows the load: bytes sent in the last second over the delivery
 * rate estimate. Above 0.8 it steps up (at most every 0.5 s); below 0.4 it
 * steps down (at most every 2 s). The same level sets the JPEG quality of
 * busy photographic tiles (LossyPolicy: 80, 70, 55, 40). Which tiles are
 * busy is BusyTiles' (busyTiles.ts).
 */

export const BUSY_INTERVAL_MS = [0, 100, 200, 500] as const;

export class QualityLadder {
  level = 0;
  /** The viewer asked to stay at this level or above (QUALITY_LIMIT: "data saver"). */
  private floor = 0;
  private readonly sent: Array<{ t: number; bytes: number }> = [];
  private lastChange = -Infinity;

  /** Busy tiles may be sent at most this often (0 = no limit). */
  get busyIntervalMs(): number {
    return BUSY_INTERVAL_MS[this.level]!;
  }

  onSend(bytes: number, now: number): void {
    this.sent.push({ t: now, bytes });
  }

  /** The lowest level from now on (0: follow the link only); the level moves there at once if below. */
  setFloor(level: number): void {
    this.floor = Math.max(0, Math.min(BUSY_INTERVAL_MS.length - 1, Math.trunc(level)));
    this.level = Math.max(this.level, this.floor);
  }

  get minLevel(): number {
    return this.floor;
  }

  /** Re-evaluates the level from the delivery rate estimate (bytes/s). Returns the level. */
  update(deliveryRateBps: number | null, now: number): number {
    while (this.sent.length && this.sent[0]!.t < now - 1000) this.sent.shift();
    if (deliveryRateBps === null || deliveryRateBps <= 0) return this.level;
    const load = this.sent.reduce((n, s) => n + s.bytes, 0) / deliveryRateBps;
    if (load > 0.8 && this.level < BUSY_INTERVAL_MS.length - 1 && now - this.lastChange >= 500) {
      this.level++;
      this.lastChange = now;
    } else if (load < 0.4 && this.level > this.floor && now - this.lastChange >= 2000) {
      this.level--;
      this.lastChange = now;
    }
    return this.level;
  }
}

export type TileChoice = 'all' | 'calm' | 'wait';

/**
 * What an update may carry now. `busySlotInMs` is the time until busy tiles may
 * go again (<= 0: now); `calmActiveMs` is how long ago an update last held busy
 * tiles back for calm ones.
 */
export function chooseTiles(p: { level: number; busySlotInMs: number; anyCalm: boolean; anyBusy: boolean; calmActiveMs: number; busyIntervalMs: number }): TileChoice {
  if (p.level === 0 || p.busySlotInMs <= 0 || !p.anyBusy) return 'all';
  if (p.anyCalm) return 'calm';
  // Only busy damage: wait for the slot while calm content is active, else use the link now.
  return p.calmActiveMs < p.busyIntervalMs ? 'wait' : 'all';
}
