/**
 * LinkEmulator: a loopback TCP proxy that makes a connection behave like a
 * cellular link, following mm-link's rules: bytes wait in a bottleneck queue and
 * leave only at the trace's delivery opportunities (up to 1504 bytes each; an
 * opportunity with an empty queue is lost), then arrive after a fixed one-way
 * delay. Uplink (client -> server) and downlink (server -> client) have their
 * own trace, delay and queue. The queue bound is applied by pausing the
 * sending socket (TCP cannot drop bytes), which pushes back like a full buffer.
 *
 * For tests and benchmarks only; it listens on 127.0.0.1.
 */
import * as net from 'node:net';
import { DeliveryTrace, OPPORTUNITY_BYTES } from './deliveryTrace';

export interface LinkDirection {
  trace: DeliveryTrace;
  /** One-way propagation delay, ms (default 0). */
  delayMs?: number;
  /** Bottleneck queue bound in bytes (default 256 KiB). */
  queueBytes?: number;
}

export interface LinkEmulatorOptions {
  targetPort: number;
  targetHost?: string;
  /** Server -> client. */
  down: LinkDirection;
  /** Client -> server. */
  up: LinkDirection;
  /**
   * Measurement hooks (bench/latency.js): a connection opened, with its epoch
   * (performance.now() ms when it opened: trace time 0 for both directions),
   * and bytes entering a direction's bottleneck queue (at: performance.now()).
   */
  onConnection?: (epoch: number) => void;
  /**
   * Trace time 0 for every connection, as performance.now() ms (default: each
   * connection's own open), so a second connection replays the same trace
   * segment at the same moments as the first.
   */
  epoch?: number;
  onQueued?: (e: { direction: 'down' | 'up'; bytes: number; epoch: number; at: number }) => void;
}

/** One direction of one connection. */
class TraceLink {
  private readonly queue: Array<{ bytes: Buffer; arrivedAt: number }> = [];
  private queued = 0;
  private next = -1; // next opportunity index
  private readonly inFlight: Array<{ bytes: Buffer; deliverAt: number }> = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  bytesDelivered = 0;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly dir: Required<LinkDirection>,
    private readonly epoch: number,
    onQueued?: (bytes: number, at: number) => void,
  ) {
    from.on('data', (chunk: Buffer) => {
      const now = this.now();
      onQueued?.(chunk.length, now + this.epoch);
      this.queue.push({ bytes: chunk, arrivedAt: now });
      this.queued += chunk.length;
      if (this.queued >= this.dir.queueBytes) from.pause();
      this.schedule(0);
    });
  }

  private now(): number {
    return performance.now() - this.epoch;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delay: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), Math.max(0, delay));
  }

  private run(): void {
    this.timer = null;
    const now = this.now();
    // Spend every opportunity up to now on bytes that had arrived by then.
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (this.next < 0 || this.dir.trace.timeOf(this.next) < head.arrivedAt) {
        this.next = Math.max(this.next, this.dir.trace.firstAtOrAfter(head.arrivedAt));
      }
      const at = this.dir.trace.timeOf(this.next);
      if (at > now) break;
      let budget = OPPORTUNITY_BYTES;
      const parts: Buffer[] = [];
      while (budget > 0 && this.queue.length > 0 && this.queue[0]!.arrivedAt <= at) {
        const q = this.queue[0]!;
        const take = Math.min(budget, q.bytes.length);
        parts.push(q.bytes.subarray(0, take));
        budget -= take;
        if (take === q.bytes.length) this.queue.shift();
        else q.bytes = q.bytes.subarray(take);
      }
      const sent = OPPORTUNITY_BYTES - budget;
      this.queued -= sent;
      this.inFlight.push({ bytes: Buffer.concat(parts), deliverAt: at + this.dir.delayMs });
      this.next++;
    }
    if (this.queued < this.dir.queueBytes && this.from.isPaused()) this.from.resume();
    while (this.inFlight.length > 0 && this.inFlight[0]!.deliverAt <= now) {
      const d = this.inFlight.shift()!;
      this.bytesDelivered += d.bytes.length;
      if (!this.to.destroyed) this.to.write(d.bytes);
    }
    // Wake for the next delivery or the next usable opportunity.
    let wake = Infinity;
    if (this.inFlight.length > 0) wake = this.inFlight[0]!.deliverAt;
    if (this.queue.length > 0) wake = Math.min(wake, Math.max(this.dir.trace.timeOf(this.next), this.queue[0]!.arrivedAt));
    if (wake < Infinity) this.schedule(wake - this.now());
  }
}

export class LinkEmulator {
  private server: net.Server | null = null;
  private readonly links = new Set<TraceLink>();
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: LinkEmulatorOptions) {}

  static async start(options: LinkEmulatorOptions): Promise<LinkEmulator> {
    const emu = new LinkEmulator(options);
    await emu.listen();
    return emu;
  }

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  private withDefaults(d: LinkDirection): Required<LinkDirection> {
    return { trace: d.trace, delayMs: d.delayMs ?? 0, queueBytes: d.queueBytes ?? 256 * 1024 };
  }

  private listen(): Promise<void> {
    this.server = net.createServer((client) => {
      client.setNoDelay(true);
      const upstream = net.connect(this.options.targetPort, this.options.targetHost ?? '127.0.0.1');
      upstream.setNoDelay(true);
      this.sockets.add(client).add(upstream);
      // Both links share one epoch: the traces start when the connection opens (or at options.epoch).
      const epoch = this.options.epoch ?? performance.now();
      const { onConnection, onQueued } = this.options;
      onConnection?.(epoch);
      const tap = (direction: 'down' | 'up') => onQueued && ((bytes: number, at: number) => onQueued({ direction, bytes, epoch, at }));
      const down = new TraceLink(upstream, client, this.withDefaults(this.options.down), epoch, tap('down'));
      const up = new TraceLink(client, upstream, this.withDefaults(this.options.up), epoch, tap('up'));
      this.links.add(down).add(up);
      const teardown = () => {
        down.close();
        up.close();
        this.links.delete(down);
        this.links.delete(up);
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', teardown).on('error', teardown);
      upstream.on('close', teardown).on('error', teardown);
    });
    return new Promise((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  /** Drops every proxied connection (both sides see a reset), keeps listening. */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    for (const l of this.links) l.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
