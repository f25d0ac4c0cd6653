/**
 * BurstAllowance: a token bucket that lets a paced activity (capture, updates)
 * go early now and then without raising its long-run rate. Tokens refill at
 * `ratePerSecond` up to `burst`; every occurrence, early or on time, spends
 * one (never below zero), and an early one needs a whole token. So after a
 * quiet spell a change is acted on at once, while a steady stream of changes
 * falls back to the regular pace (the refill goes to the on-time ones).
 */
export class BurstAllowance {
  private tokens: number;
  private at: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  private refill(now: number): void {
    if (now > this.at) this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.ratePerSecond) / 1000);
    this.at = Math.max(this.at, now);
  }

  /** Whether an early occurrence is allowed at `now` (ms). */
  available(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }

  /** Something happened at `now` (early or on time): spend a token if there is one. */
  spend(now: number): void {
    this.refill(now);
    this.tokens = Math.max(0, this.tokens - 1);
  }
}

/** Early captures or updates allowed in a row after a quiet spell (the pace's rate refills them). */
export const EARLY_BURST = 4;
