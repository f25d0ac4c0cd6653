/**
 * How late an update arrives: its capture (the host's clock) to its arrival (the page's), less the
 * shortest such delay lately (the last 5-10 s of updates; after a pause, the last ones before it), so
 * the offset between the two clocks cancels. An
 * update that is late was held somewhere (the link's queue after an outage, the host's flow
 * control): more are likely right behind it. One on time is likely alone.
 */
export class ArrivalLateness {
  /** The least delay in the current and the previous half window (a minimum that forgets). */
  private current = Infinity;
  private previous = Infinity;
  private halfStartedAt = -Infinity;

  constructor(private readonly windowMs = 10_000) {}

  /** Notes an update captured at `captureTime` arriving at `arrivedAt` (epoch ms); returns how late it is, ms (≥ 0). */
  note(captureTime: number, arrivedAt: number): number {
    if (!Number.isFinite(captureTime) || !Number.isFinite(arrivedAt)) return Infinity;
    if (arrivedAt - this.halfStartedAt >= this.windowMs / 2) {
      this.previous = this.current;
      this.current = Infinity;
      this.halfStartedAt = arrivedAt;
    }
    const delay = arrivedAt - captureTime;
    this.current = Math.min(this.current, delay);
    return delay - Math.min(this.current, this.previous);
  }

  /** A new connection (perhaps another host, another clock). */
  reset(): void {
    this.current = this.previous = Infinity;
    this.halfStartedAt = -Infinity;
  }
}
