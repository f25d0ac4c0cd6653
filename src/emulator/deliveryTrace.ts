/**
 * Mahimahi delivery-opportunity traces (../shared/traces/README.md): one line per
 * opportunity for one MTU-sized packet, in ms since the trace start; the trace
 * loops with period = last timestamp. Each opportunity carries up to 1504 bytes
 * (mm-link's budget); unused opportunities are lost.
 */
import * as fs from 'node:fs';
import { ErrorCodes, TilecastError } from '../errors';

export const OPPORTUNITY_BYTES = 1504;

export class DeliveryTrace {
  /** Opportunity times within one period, nondecreasing. */
  readonly times: Float64Array;
  readonly periodMs: number;

  constructor(times: ArrayLike<number>, readonly name = 'trace') {
    if (times.length === 0) throw new TilecastError(ErrorCodes.INVALID_ARG, `${name}: empty trace`);
    this.times = Float64Array.from(times);
    for (let i = 1; i < this.times.length; i++) {
      if (this.times[i]! < this.times[i - 1]!) throw new TilecastError(ErrorCodes.INVALID_ARG, `${name}: timestamps decrease at line ${i + 1}`);
    }
    this.periodMs = this.times[this.times.length - 1]!;
    if (!(this.periodMs > 0)) throw new TilecastError(ErrorCodes.INVALID_ARG, `${name}: last timestamp must be > 0`);
  }

  static load(file: string): DeliveryTrace {
    const lines = fs.readFileSync(file, 'latin1').split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
    const times = lines.map((l, i) => {
      const v = Number(l);
      if (!Number.isInteger(v) || v < 0) throw new TilecastError(ErrorCodes.INVALID_ARG, `${file}:${i + 1}: not a timestamp: ${l}`);
      return v;
    });
    return new DeliveryTrace(times, file);
  }

  /** A constant-rate link: `mbps` megabits per second in 1 ms steps. */
  static constant(mbps: number): DeliveryTrace {
    const perMs = (mbps * 1e6) / 8 / OPPORTUNITY_BYTES / 1000;
    const times: number[] = [];
    // Spread opportunities evenly over a 1 s period.
    const count = Math.max(1, Math.round(perMs * 1000));
    for (let i = 1; i <= count; i++) times.push(Math.ceil((i * 1000) / count));
    return new DeliveryTrace(times, `constant ${mbps} Mbit/s`);
  }

  get meanMbps(): number {
    return (this.times.length * 1500 * 8) / (this.periodMs / 1000) / 1e6;
  }

  /** Time (ms from trace start, across loops) of opportunity number `n`. */
  timeOf(n: number): number {
    const len = this.times.length;
    return Math.floor(n / len) * this.periodMs + this.times[n % len]!;
  }

  /** Index of the first opportunity at or after time t. */
  firstAtOrAfter(t: number): number {
    const len = this.times.length;
    const loop = Math.max(0, Math.floor(t / this.periodMs));
    const within = t - loop * this.periodMs;
    let lo = 0, hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! < within) lo = mid + 1;
      else hi = mid;
    }
    return loop * len + lo;
  }
}
