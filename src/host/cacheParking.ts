/**
 * CacheParking: the content cache mirrors of viewers whose connection ended,
 * kept for a while so that the same viewer, reconnecting after a 4G drop,
 * resumes its cache instead of starting empty: its first keyframe then draws
 * most tiles from what it already holds (CACHE_REF) instead of receiving
 * them again (docs/protocol.md, "Resuming the cache").
 *
 * Every viewer session with an agreed cache and the CACHE_RESUME capability
 * gets a ticket (128 random bits, sent as CACHE_TICKET). When its connection
 * ends, its mirror is parked under that ticket; a new connection that shows
 * the ticket (CACHE_RESUME) claims it, once. A connection often comes back
 * before the host noticed the old one died (the cell dropped it silently): a
 * claim for a ticket whose session is still open ends that session (the
 * same viewer replaced it) and takes its mirror as soon as it is parked.
 *
 * A ticket only ever lets a viewer skip pixels it already holds: CACHE_REF
 * carries no pixels, so a stolen ticket shows nobody anything. Tickets are
 * single-use and expire with the parked mirror (keepMs); at most maxParked
 * mirrors are kept (the oldest go first), each up to the agreed cache size.
 */
import { randomBytes } from 'node:crypto';
import type { ParkedCache } from '../native/binding';

export interface CacheParkingOptions {
  /** How long a mirror stays parked, ms (default 120 s: the viewers' reconnect backoff is capped at 8 s). */
  keepMs?: number;
  /** Most mirrors parked at once (default 4); each holds up to the agreed cache size. */
  maxParked?: number;
  /** How long a claim waits for a still-open session to end and park, ms (default 2 s). */
  claimWaitMs?: number;
}

/** What holds a ticket while its connection is open. */
export interface TicketHolder {
  /** End the connection: the same viewer came back on a new one (its mirror is then parked). */
  replacedByResume(): void;
}

type Slot =
  | { state: 'live'; holder: TicketHolder; waiter: ((p: ParkedCache | null) => void) | null }
  | { state: 'parked'; parked: ParkedCache; timer: NodeJS.Timeout };

export class CacheParking {
  private readonly slots = new Map<string, Slot>();
  private readonly keepMs: number;
  private readonly maxParked: number;
  private readonly claimWaitMs: number;
  /** Mirrors parked, and claims that resumed one. */
  parkedCount = 0;
  claimedCount = 0;

  constructor(options: CacheParkingOptions = {}) {
    this.keepMs = options.keepMs ?? 120_000;
    this.maxParked = options.maxParked ?? 4;
    this.claimWaitMs = options.claimWaitMs ?? 2000;
  }

  /** A new ticket for an open connection. */
  issue(holder: TicketHolder): Uint8Array {
    const ticket = randomBytes(16);
    this.slots.set(ticket.toString('hex'), { state: 'live', holder, waiter: null });
    return new Uint8Array(ticket);
  }

  /** A ticket of an open connection is void (a newer one names its cache now). */
  revoke(ticket: Uint8Array): void {
    const key = Buffer.from(ticket).toString('hex');
    const slot = this.slots.get(key);
    if (slot?.state === 'live' && !slot.waiter) this.slots.delete(key);
  }

  /** The ticket's connection ended; `parked` is its mirror (null: nothing to resume, the ticket is void). */
  park(ticket: Uint8Array, parked: ParkedCache | null): void {
    const key = Buffer.from(ticket).toString('hex');
    const slot = this.slots.get(key);
    if (!slot || slot.state !== 'live') return;
    if (slot.waiter) {
      // Claimed while it was still open: straight to the new connection.
      this.slots.delete(key);
      return slot.waiter(parked);
    }
    if (!parked || this.maxParked === 0) return void this.slots.delete(key);
    const timer = setTimeout(() => this.slots.delete(key), this.keepMs);
    timer.unref();
    this.slots.delete(key); // re-inserted last: Map order is parking order
    this.slots.set(key, { state: 'parked', parked, timer });
    this.parkedCount++;
    this.evictOverLimit();
  }

  /** The mirror parked under `ticket`, once (null: unknown, expired or already claimed). */
  claim(ticket: Uint8Array): Promise<ParkedCache | null> {
    const key = Buffer.from(ticket).toString('hex');
    const slot = this.slots.get(key);
    if (!slot) return Promise.resolve(null);
    if (slot.state === 'parked') {
      clearTimeout(slot.timer);
      this.slots.delete(key);
      this.claimedCount++;
      return Promise.resolve(slot.parked);
    }
    if (slot.waiter) return Promise.resolve(null); // claimed already
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.slots.get(key) === slot) this.slots.delete(key);
        resolve(null);
      }, this.claimWaitMs);
      slot.waiter = (parked) => {
        clearTimeout(timer);
        if (parked) this.claimedCount++;
        resolve(parked);
      };
      slot.holder.replacedByResume();
    });
  }

  /** Mirrors parked now. */
  get parked(): number {
    let n = 0;
    for (const s of this.slots.values()) if (s.state === 'parked') n++;
    return n;
  }

  /** Forget everything (the host is closing). */
  clear(): void {
    for (const s of this.slots.values()) {
      if (s.state === 'parked') clearTimeout(s.timer);
      else s.waiter?.(null);
    }
    this.slots.clear();
  }

  private evictOverLimit(): void {
    let parked = this.parked;
    // The first parked slots in Map order were parked first.
    for (const [key, s] of this.slots) {
      if (parked <= this.maxParked) return;
      if (s.state !== 'parked') continue;
      clearTimeout(s.timer);
      this.slots.delete(key);
      parked--;
    }
  }
}
