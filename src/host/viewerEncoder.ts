/**
 * ViewerEncoder: what one viewer is sent next, and when — the update
 * scheduler of a session, without a socket, timers or a clock of its own.
 *
 * It owns, for one viewer: the damage not sent yet (latest frame wins: while
 * the link is busy damage accumulates, and the next update carries the current
 * pixels of all of it), the change history and lossy policy, the quality
 * ladder's choice of tiles under load, frame ids, keyframes and resizes, and
 * the native encoder that remembers what the viewer has (and so which tiles it
 * shows lossy: asked, never mirrored here).
 *
 * The caller (ViewerSession live, the session bench offline, unit tests with a
 * fake clock) offers frames with their damage, then calls step() with what the
 * link can take; step() returns the messages to send now and when it next
 * wants to run. One step() at a time.
 *
 *   offer(frame, rects) ─► step({ canSend, deliveryRateBps }) ─► { messages, update, nextAt }
 */
import { TileEncoder, TileEncoderOptions, EncodedRects } from '../codec/tileEncoder';
import { ErrorCodes, TilecastError, checkInt } from '../errors';
import type { Frame, Rect } from '../frame';
import { Capability, DEFAULT_CACHE_BYTES, agreedCacheBytes, cacheCapability } from '../protocol/constants';
import { CacheKeepMessage, encodeMessage } from '../protocol/messages';
import { CompactUpdateState, encodeCompactUpdate } from '../protocol/compactUpdate';
import { jpegUnavailableReason, type ParkedCache } from '../native/binding';
import { DEFAULT_TILE_SIZE } from '../tileGrid';
import { DamageRegion } from './damageRegion';
import { LossyPolicy, LossyPolicyOptions, refineBudget } from './lossyPolicy';
import { MIN_SLOWED_REGION_TILES } from './busyTiles';
import { QualityLadder, chooseTiles } from './qualityLadder';
import { BurstAllowance, EARLY_BURST } from './burstAllowance';

export interface ViewerEncoderOptions extends TileEncoderOptions {
  /** Highest update rate, per second (default 30). */
  maxFps?: number;
  /** Lower the update rate of busy regions under load (default true). */
  adaptiveQuality?: boolean;
  /**
   * Let a busy region that changes in bursts (a log printing a few lines at a time) finish its
   * burst before it is sent, so the burst goes as one update (default true; see settleUntil()).
   */
  settleBursts?: boolean;
  /**
   * Lossy coding of photographic tiles changing at video rate, refined to exact
   * once still (default true: on for viewers that decode JPEG; options tune it).
   */
  lossy?: boolean | LossyPolicyOptions;
  /** Send scrolled/moved content as COPY ops (default true, for viewers that support COPY). */
  detectMoves?: boolean;
  /**
   * Keyframes asked for by the viewer (REFRESH_REQUEST) at most this often, ms
   * (default 1000). Requests inside the window are merged into the next
   * allowed keyframe, never dropped.
   */
  minRefreshIntervalMs?: number;
  /**
   * Most bytes of content cache (CACHE_REF) this host keeps per viewer, as a
   * mirror of the viewer's (default DEFAULT_CACHE_BYTES, 64 MiB; 0: no cache).
   * The size used is the smaller of this and the viewer's offer.
   */
  contentCacheBytes?: number;
  /** Monotonic clock, ms (default performance.now): pacing, change history, refinement. */
  clock?: () => number;
  /**
   * Most tiles one update carries when the link is slow (default 32; 0: no
   * limit). Damage that would take more than SPLIT_AFTER_MS to cross the link
   * (delivery rate, recent bytes per tile) goes as several updates (bands of
   * tiles in screen order), each sent when flow control lets it, so a small
   * change made meanwhile (a keystroke, the pointer's surroundings) goes ahead
   * of the rest of a big one. Keyframes are never split, nor is anything
   * before the link has a rate estimate.
   */
  maxUpdateTiles?: number;
}

export const DEFAULT_MAX_UPDATE_TILES = 32;
/** Damage that the link drains in this long goes as one update; more is split into bands about this long. */
export const SPLIT_AFTER_MS = 40;
/** Smallest band of a split update, tiles. */
const MIN_BAND_TILES = 8;
/** The most calm tiles sent ahead of the maxFps slot while a large region is busy (a 64-px square at any offset: 4). */
const CALM_AHEAD_MAX_TILES = 4;

export const DEFAULT_MIN_REFRESH_INTERVAL_MS = 1000;

/**
 * A burst of a busy region is over once the region has not changed for this long: more than a
 * capture interval at 60 Hz (captures on a busy link come at the tick, so a shorter quiet says nothing).
 */
export const SETTLE_QUIET_MS = 20;
/** The longest a burst's first change waits for the burst to end. */
export const SETTLE_MAX_MS = 50;
/** After the user's input, for this long, nothing waits for a burst to end: what changes is the user's doing. */
export const SETTLE_AFTER_INPUT_MS = 500;

/** What the link can take now: the session's flow controller says. */
export interface LinkState {
  canSend: boolean;
  /** Delivery rate estimate, bytes/s (null: none yet). */
  deliveryRateBps: number | null;
  /**
   * Nothing, or little, in flight (FlowController.uncongested): an update may
   * then go before its maxFps slot (from a BurstAllowance refilled at maxFps),
   * so a change on a quiet link is not held for pacing that only matters
   * while updates queue.
   */
  idle?: boolean;
  /**
   * The viewer hears the PC's sound: a split then bounds big damage by what
   * its tiles cost when sent as pixels, not by the average of recent updates,
   * which a scroll's copies make nearly free per tile (a full page of new text
   * after a scroll otherwise goes as one update of 70 KB, and the sound written
   * behind it over LTE arrives 400 ms late). Exact refinements of lossy tiles
   * then come SPLIT_AFTER_MS of the link at a time, not 100 ms.
   */
  soundOn?: boolean;
  /**
   * The link has stalled (FlowController.stalled: an LTE outage trickling a packet a second).
   * Updates then carry only the calm damage when there is some, so the few bytes that get
   * through bring the small change a user watches, not the next band of a busy region.
   */
  stalled?: boolean;
}

/** A frame whose pixels stay valid while it is held (capture snapshots are reference-counted). */
export interface HeldFrame {
  readonly frame: Frame;
  /** The capture's id of this screen, for sharing copies of it among viewers (ScreenStore). */
  readonly generation?: number;
  retain(): HeldFrame;
  release(): void;
}

export interface SentUpdate {
  frameId: number;
  keyframe: boolean;
  /** Capture time of the screen the update's pixels come from (wall clock, ms). */
  captureTime: number;
  /** Capture time of the oldest change the update carries (damage coalesces while the link is busy). */
  oldestChangeTime: number;
  /** Size of the UPDATE message. */
  bytes: number;
  /** False for updates that only refine lossy tiles (no screen change to measure latency by). */
  changes: boolean;
  encoded: EncodedRects;
}

export interface EncoderStep {
  /** Encoded messages to send now, in order: a RESIZE before the first update of a new size, then the UPDATE. */
  messages: Uint8Array[];
  update: SentUpdate | null;
  /** Clock time at which to call step() again; null: not before something changes (offer, ack, keyframe request). */
  nextAt: number | null;
}

export interface ViewerQuality {
  /** Quality ladder level (0 = full rate), the busy-region update interval and JPEG quality it imposes. */
  level: number;
  /** The lowest level the viewer asked for (QUALITY_LIMIT; 0: none). */
  minLevel: number;
  busyIntervalMs: number;
  jpegQuality: number | null;
  lossyTiles: number;
}

const wallClock = () => performance.timeOrigin + performance.now();

let jpegChecked: boolean | undefined;
/** Whether libturbojpeg loaded (once per process; without it every viewer gets lossless only). */
function jpegAvailable(): boolean {
  jpegChecked ??= jpegUnavailableReason() === null;
  return jpegChecked;
}

/** Update ids count up from 1 and wrap past 2^32 - 1 back to 1: 0 is never an update id. */
export function followingFrameId(id: number): number {
  return (id + 1) >>> 0 || 1;
}

function plainFrame(frame: Frame): HeldFrame {
  const held: HeldFrame = { frame, retain: () => held, release: () => {} };
  return held;
}

export class ViewerEncoder {
  readonly ladder = new QualityLadder();
  readonly tileSize: number;
  private readonly encoder: TileEncoder;
  private readonly clock: () => number;
  private readonly minIntervalMs: number;
  private readonly early: BurstAllowance;
  /** Small calm changes sent before their maxFps slot while a large region is busy (calmAhead). */
  private readonly calmEarly: BurstAllowance;
  private readonly maxUpdateTiles: number;
  /** Tiles a split update left for later (null: none): damage beyond them is newer and goes first. */
  private remainder: Uint8Array | null = null;
  /** Where the next band of a split starts in screen order (the tile after the last band's last). */
  private bandCursor = 0;
  /** The last update went ahead of a remainder: the next one serves the remainder (newer damage never starves it). */
  private wentAhead = false;
  /** Recent UPDATE bytes per tile carried (null: none yet), to size bands by the delivery rate. */
  private bytesPerTile: number | null = null;
  /**
   * The same over the tiles sent as pixels only (copied tiles cost a few bytes
   * each), as a ratio of decaying sums: the pointer's and the clock's tiny
   * updates, many to a big one, then barely lower it.
   */
  private pixelTileBytes = 0;
  private pixelTiles = 0;
  private capabilities: number | null = null; // null until the viewer's HELLO
  private held: HeldFrame | null = null;
  private damage: DamageRegion | null = null;
  private policy: LossyPolicy | null = null;
  private lossyCount = 0; // tiles the viewer shows lossy, as of the last update (which ones: the encoder knows)
  private lastFullSendAt = 0; // last update that included busy tiles
  private lastCalmOnlyAt = -Infinity; // last update that held busy tiles back
  private pendingSince: number | null = null; // capture time of the oldest damage not yet sent
  private damageSince: number | null = null; // the same on this.clock(), when it was offered
  private lastInputAt = -Infinity; // the user's last input to the screen (noteInput)
  private keyframePending = true;
  private resizePending = true;
  private readonly minRefreshIntervalMs: number;
  private refreshPending = false; // a viewer's refresh request waits for its slot
  private lastRefreshAt = -Infinity; // when a refresh request last became a keyframe
  private lastUpdateAt = -Infinity;
  private encoding = false;
  private closed = false;
  private nextFrameId = 1;
  /** Header state of this connection's UPDATE_COMPACT messages (viewers with COMPACT_UPDATE). */
  private readonly compactUpdates = new CompactUpdateState();
  updatesSent = 0;
  /** Updates sent before their maxFps slot because the link was idle. */
  updatesEarly = 0;
  /** Small calm changes (a keystroke's echo) sent before their maxFps slot while a large region was busy. */
  updatesCalmAhead = 0;
  /** Updates that carried only part of the damage because it was split (maxUpdateTiles), and small ones sent ahead of such a remainder. */
  splitUpdates = 0;
  updatesAhead = 0;
  keyframes = 0;
  /** Refresh requests from the viewer, and those merged into a keyframe already due or waiting for the window. */
  refreshRequests = 0;
  refreshesMerged = 0;
  /** Updates that carried JPEG (lossy) tiles, and those that carried COPY ops. */
  lossyUpdates = 0;
  copyUpdates = 0;
  /** CACHE_REF ops sent (tiles the viewer drew from its content cache). */
  cacheRefs = 0;

  constructor(private readonly options: ViewerEncoderOptions = {}) {
    this.encoder = new TileEncoder({ ...options, trackSent: true });
    this.tileSize = options.tileSize ?? DEFAULT_TILE_SIZE;
    this.minIntervalMs = 1000 / checkInt('maxFps', options.maxFps ?? 30, 1, 240);
    this.clock = options.clock ?? (() => performance.now());
    this.early = new BurstAllowance(1000 / this.minIntervalMs, EARLY_BURST, this.clock());
    this.calmEarly = new BurstAllowance(1000 / this.minIntervalMs, EARLY_BURST, this.clock());
    this.maxUpdateTiles = checkInt('maxUpdateTiles', options.maxUpdateTiles ?? DEFAULT_MAX_UPDATE_TILES, 0, 1_000_000);
    if (options.contentCacheBytes !== undefined) checkInt('contentCacheBytes', options.contentCacheBytes, 0, 0xffffffff);
    this.minRefreshIntervalMs = checkInt('minRefreshIntervalMs', options.minRefreshIntervalMs ?? DEFAULT_MIN_REFRESH_INTERVAL_MS, 0, 3_600_000);
  }

  /** The viewer said HELLO with these capabilities: updates may flow. */
  start(capabilities: number): void {
    this.capabilities = capabilities;
    this.cacheBytes = agreedCacheBytes(this.options.contentCacheBytes ?? DEFAULT_CACHE_BYTES, capabilities);
    this.encoder.setCacheBudget(this.cacheBytes);
  }

  /** The content cache agreed with the viewer at start(), bytes (0: none). */
  cacheBytes = 0;

  /**
   * After start(), before the first update: the viewer came back with a cache
   * that has seen `viewerNextId` inserts of `parked` (its previous
   * connection's mirror). Returns the CACHE_KEEP to send before anything
   * else, or null (nothing resumed: the first keyframe starts the cache afresh).
   */
  resumeCache(parked: ParkedCache, viewerNextId: number): CacheKeepMessage | null {
    if (this.cacheBytes === 0 || this.updatesSent > 0 || this.encoding) return null;
    const kept = this.encoder.resumeCache(parked, viewerNextId);
    this.resumedKeyframePending = kept !== null;
    return kept && { type: 'cacheKeep', nextId: kept.nextId, ranges: kept.ranges };
  }

  /** After resumeCache(): the keyframe that keeps the cache has not gone out yet. */
  private resumedKeyframePending = false;
  /**
   * The keyframe after a resume failed: the mirror and the viewer's cache may
   * now disagree (the viewer keeps its cache for that keyframe, a retry would
   * empty the mirror), so the connection must end rather than retry.
   */
  resumedKeyframeLost = false;

  /** The CACHE capability and size field for the host's HELLO (0: no cache). */
  get cacheCapability(): number {
    return cacheCapability(this.cacheBytes);
  }

  /** JPEG for busy photographic tiles: the viewer decodes it, the host has the codec, and it is not turned off. */
  get lossyEnabled(): boolean {
    return this.options.lossy !== false && ((this.capabilities ?? 0) & Capability.JPEG) !== 0 && jpegAvailable();
  }

  /** PREDICTED ops for photographic truecolour: the viewer announced PREDICTED. */
  private get predictedEnabled(): boolean {
    return ((this.capabilities ?? 0) & Capability.PREDICTED) !== 0;
  }

  /** CACHE_RUN ops: a cache is agreed and the viewer announced CACHE_RUN. */
  private get cacheRunsEnabled(): boolean {
    return this.cacheBytes > 0 && ((this.capabilities ?? 0) & Capability.CACHE_RUN) !== 0;
  }

  /** UPDATE_COMPACT messages and PALETTE_DIFF ops: the viewer announced COMPACT_UPDATE. */
  private get compactEnabled(): boolean {
    return ((this.capabilities ?? 0) & Capability.COMPACT_UPDATE) !== 0;
  }

  private get movesEnabled(): boolean {
    return this.options.detectMoves !== false && ((this.capabilities ?? 0) & Capability.COPY_RECT) !== 0;
  }

  /**
   * The screen changed: `rects` of `frame` differ from the previous frame
   * offered. A HeldFrame is retained until a newer one replaces it; a plain
   * Frame's pixels must stay unchanged until the next offer() or close().
   */
  offer(frame: HeldFrame | Frame, rects: readonly Rect[]): void {
    if (this.closed) return;
    const held = 'retain' in frame ? frame.retain() : plainFrame(frame);
    const f = held.frame;
    if (!this.damage || this.damage.width !== f.width || this.damage.height !== f.height) {
      this.damage = new DamageRegion(f.width, f.height, this.tileSize);
      this.policy = new LossyPolicy(f.width, f.height, this.tileSize, typeof this.options.lossy === 'object' ? this.options.lossy : {});
      this.lossyCount = 0;
      this.remainder = null;
      this.resizePending = true;
      this.keyframePending = true;
    }
    const t = this.clock();
    if (this.damage.empty) this.damageSince = t;
    this.damage.add(rects, (i) => this.policy!.record(i, t));
    const captured = f.timestamp ?? wallClock();
    this.pendingSince = Math.min(this.pendingSince ?? captured, captured);
    this.held?.release();
    this.held = held;
  }

  /** The next update resends the whole screen with a fresh deflate stream (new viewer, recovery, the host's own call). Not rate-limited. */
  requestKeyframe(): void {
    this.keyframePending = true;
  }

  /**
   * The viewer asked for a keyframe (REFRESH_REQUEST). Rate-limited: at most
   * one keyframe per minRefreshIntervalMs comes from refresh requests; a
   * request inside the window, or while a keyframe is already pending, is
   * merged into that next keyframe (the viewer always gets one after asking).
   */
  requestRefresh(): void {
    this.refreshRequests++;
    if (this.keyframePending || this.refreshPending) {
      this.refreshesMerged++;
      return;
    }
    this.refreshPending = true;
    this.promoteRefresh(this.clock());
    if (this.refreshPending) this.refreshesMerged++;
  }

  /** A waiting refresh request becomes the pending keyframe once its window has passed. */
  private promoteRefresh(t: number): void {
    if (!this.refreshPending || t < this.lastRefreshAt + this.minRefreshIntervalMs) return;
    this.refreshPending = false;
    this.lastRefreshAt = t;
    this.keyframePending = true;
  }

  quality(): ViewerQuality {
    return {
      level: this.ladder.level,
      minLevel: this.ladder.minLevel,
      busyIntervalMs: this.ladder.busyIntervalMs,
      jpegQuality: this.lossyEnabled && this.policy ? this.policy.quality(this.ladder.level) : null,
      lossyTiles: this.lossyCount,
    };
  }

  /** Native memory held for this viewer: the copy of what it was sent (unless shared), its cache mirror. */
  get memoryBytes(): number {
    return this.encoder.memoryBytes;
  }

  /** Decides what to send now and encodes it. */
  async step(link: LinkState): Promise<EncoderStep> {
    if (this.encoding) throw new TilecastError(ErrorCodes.BUSY, 'step() called before the previous step finished');
    if (this.closed || this.capabilities === null || !this.held || !this.damage) return { messages: [], update: null, nextAt: null };
    const t = this.clock();
    this.promoteRefresh(t);
    // A refresh request waiting for its window brings the caller back when the window opens.
    const refreshAt = this.refreshPending ? this.lastRefreshAt + this.minRefreshIntervalMs : null;
    const idle = (nextAt: number | null): EncoderStep => ({
      messages: [], update: null, nextAt: refreshAt === null ? nextAt : nextAt === null ? refreshAt : Math.min(nextAt, refreshAt),
    });
    if (this.damage.empty && !this.keyframePending) {
      // Nothing new: refine lossy tiles that have settled, or come back when one will have.
      if (!this.lossyEnabled || this.lossyCount === 0) return idle(null);
      const due = this.policy!.nextRefineAt(this.encoder.lossyTiles());
      if (due === null) return idle(null);
      if (due > t) return idle(due);
    }
    if (!link.canSend) return idle(null); // an ack will bring the caller back
    const wait = this.lastUpdateAt + this.minIntervalMs - t;
    // The rest of a split update is the same screen change: it follows as flow control allows, not at maxFps.
    const early = wait > 0 && this.remainder === null && link.idle === true && this.early.available(t);
    // The busy region waits for its slot, or for its burst to end (settleUntil); a small calm change
    // beside it (a key's echo while a video plays or a log scrolls) goes now, in an update of its
    // own, and the busy region keeps its wait.
    const holdUntil = wait > 0 && this.remainder === null && !early ? t + wait : this.settleUntil(t);
    if (holdUntil !== null) {
      const calm = this.calmAhead(t);
      if (!calm) return idle(holdUntil);
      this.updatesCalmAhead++;
      return this.encodeUpdate(t, link, calm, false, true);
    }
    // Under load, calm tiles (text, UI) go first and busy (video-rate) tiles wait
    // for their slower slot while calm content is active. With no calm content
    // competing, busy tiles go now: holding them back would leave the link idle.
    // At full rate, calm damage still goes as its own update just ahead of the
    // busy region's (when that is a region, not a tile or two), which follows at
    // once: a keystroke is then painted without waiting for the video's JPEG to
    // be encoded, sent and decoded.
    let select: ((tile: number) => boolean) | undefined;
    let calmFirst = false;
    const level = this.ladder.update(link.deliveryRateBps, t);
    if (!this.keyframePending && this.options.adaptiveQuality !== false) {
      // Small busy regions (the tile being typed in, a caret, a clock) count as calm: they cost little and are what a user watches.
      const slowable = this.policy!.slowable(t);
      const calm = (tile: number) => slowable[tile] === 0;
      let anyCalm = false;
      let busyTiles = 0;
      this.damage.forEachTile((tile) => (calm(tile) ? (anyCalm = true) : busyTiles++));
      const anyBusy = busyTiles > 0;
      if (link.stalled === true && anyCalm && anyBusy) select = calm;
      else if (level === 0) {
        // Only ahead of a busy part that takes time to code and send (a region of video, not the
        // last tile or two of a busy region typed across): otherwise the split costs a second
        // update's header and flush (~12 bytes a keystroke) and the keystroke arrives no sooner.
        calmFirst = anyCalm && busyTiles >= MIN_SLOWED_REGION_TILES;
        if (calmFirst) select = calm;
      } else {
        const busySlotInMs = this.lastFullSendAt + this.ladder.busyIntervalMs - t;
        const choice = chooseTiles({ level, busySlotInMs, anyCalm, anyBusy, calmActiveMs: t - this.lastCalmOnlyAt, busyIntervalMs: this.ladder.busyIntervalMs });
        if (choice === 'wait') return idle(t + busySlotInMs);
        if (choice === 'calm') {
          select = calm;
          this.lastCalmOnlyAt = t;
        }
      }
    }
    if (early) this.updatesEarly++;
    return this.encodeUpdate(t, link, select, calmFirst);
  }

  /**
   * When a burst of a large busy region starts (the first change after a quiet slot, in a region
   * whose tiles change in bursts, not at a steady frame rate), the update waits until the region
   * has been still for SETTLE_QUIET_MS, at most SETTLE_MAX_MS after that first change: returns when
   * to look again, or null (send now). A log printing five lines over 20 ms otherwise goes as two
   * large updates a slot apart, and in a browser each large draw keeps the compositor on its
   * frame clock for about two frames, so a keystroke's echo landing then waits for the next frame
   * (bench/results/latency-apart.md); the burst's end goes SETTLE_QUIET_MS after its last change,
   * about when the slot would have sent it (bench/results/latency-settle.md). Steady change
   * (video) keeps its slot pace, and for SETTLE_AFTER_INPUT_MS after the user's input (a drag,
   * the user's own scrolling) nothing waits.
   */
  private settleUntil(t: number): number | null {
    if (this.options.settleBursts === false || this.options.adaptiveQuality === false || this.keyframePending || this.remainder !== null || this.damageSince === null) return null;
    if (t - this.lastInputAt < SETTLE_AFTER_INPUT_MS || this.damageSince < this.lastUpdateAt + this.minIntervalMs) return null;
    const limit = this.damageSince + SETTLE_MAX_MS;
    if (t >= limit) return null;
    const policy = this.policy!;
    const slowable = policy.slowable(t);
    let newest = -Infinity;
    let bursty = false;
    this.damage!.forEachTile((i) => {
      if (slowable[i] !== 1) return;
      newest = Math.max(newest, policy.busy.lastChange(i));
      bursty ||= policy.busy.changesInBursts(i, SETTLE_QUIET_MS);
    });
    const quietAt = newest + SETTLE_QUIET_MS;
    return bursty && quietAt > t ? Math.min(quietAt, limit) : null;
  }

  /** The user gave the screen input (a key, the pointer): for a while, busy regions do not wait for their bursts to end. */
  noteInput(): void {
    this.lastInputAt = this.clock();
  }

  /**
   * Before the maxFps slot: the damaged tiles outside large busy regions, when there are a few
   * (at most CALM_AHEAD_MAX_TILES: a key's echo, a cursor's surroundings, not a window's worth)
   * while some large region of the screen is busy, and the calm allowance (maxFps again, so
   * at most twice maxFps updates in all) has a token. Without a busy region nothing changes: the
   * slot then only coalesces calm changes (typing alone), which saves their update headers.
   */
  private calmAhead(t: number): ((tile: number) => boolean) | undefined {
    if (this.keyframePending || this.options.adaptiveQuality === false || !this.calmEarly.available(t)) return undefined;
    const slowable = this.policy!.slowable(t);
    if (!slowable.includes(1)) return undefined;
    const calm: number[] = [];
    let tooMany = false;
    this.damage!.forEachTile((i) => {
      if (slowable[i] === 1) return;
      if (calm.length === CALM_AHEAD_MAX_TILES) tooMany = true;
      else calm.push(i);
    });
    if (calm.length === 0 || tooMany) return undefined;
    return this.chosen(calm, this.damage!.tileCount);
  }

  /**
   * Which damaged tiles (of those `select` allows) the next update carries
   * when nothing goes ahead (ahead()): all of them when the link drains them
   * quickly; else a band of them in bandOrder(). Undefined: everything `select` allows.
   */
  private band(t: number, rateBps: number | null, soundOn: boolean, select?: (tile: number) => boolean): ((tile: number) => boolean) | undefined {
    const damage = this.damage!;
    const continuing = this.remainder !== null;
    this.remainder = null; // recomputed from what this update leaves
    const perTile = soundOn ? (this.pixelTiles > 0 ? this.pixelTileBytes / this.pixelTiles : null) : this.bytesPerTile;
    if (this.maxUpdateTiles === 0 || rateBps === null || rateBps <= 0 || perTile === null) return select;
    const allowed: number[] = [];
    damage.forEachTile((i) => (!select || select(i)) && allowed.push(i));
    // Drained within SPLIT_AFTER_MS: one update, however many tiles.
    if ((allowed.length * perTile * 1000) / rateBps <= SPLIT_AFTER_MS) return select;
    // Else bands of as many tiles as the link drains in SPLIT_AFTER_MS, within [MIN_BAND_TILES, maxUpdateTiles].
    const limit = Math.max(Math.min(MIN_BAND_TILES, this.maxUpdateTiles), Math.min(this.maxUpdateTiles, Math.floor((rateBps * SPLIT_AFTER_MS) / 1000 / perTile)));
    if (allowed.length <= limit) return select;
    const order = this.bandOrder(t, allowed, continuing);
    const taken = order.calm.concat(order.rest).slice(0, limit);
    if (taken.length > order.calm.length) this.bandCursor = taken[taken.length - 1]! + 1;
    return this.chosen(taken, damage.tileCount);
  }

  /**
   * The order a split takes `allowed` (damaged tiles, in screen order) in: calm tiles first,
   * then the rest in screen order from where the last band of this split ended (from the top
   * when a split starts). Taking the top `limit` each time instead starves the lower part of
   * the screen while the upper part keeps changing: over a slow link a scrolling log at the
   * top held a small change below it back for the whole of an LTE outage.
   */
  private bandOrder(t: number, allowed: readonly number[], continuing: boolean): { calm: number[]; rest: number[] } {
    const busy = this.busyTiles(t);
    const start = continuing ? this.bandCursor : 0;
    const calm: number[] = [], rest: number[] = [];
    const at = allowed.findIndex((i) => i >= start);
    const rotated = at <= 0 ? allowed : [...allowed.slice(at), ...allowed.slice(0, at)];
    for (const i of rotated) (busy && busy[i] === 0 ? calm : rest).push(i);
    return { calm, rest };
  }

  /** The policy's large busy regions (1 per tile) when there are some, else null (then no tile is calmer than another). */
  private busyTiles(t: number): Uint8Array | null {
    if (this.options.adaptiveQuality === false || this.keyframePending) return null;
    const slowable = this.policy!.slowable(t);
    return slowable.includes(1) ? slowable : null;
  }

  /**
   * After a split: the calm damage newer than its remainder, when there is some and it fits in one
   * update (it goes first); not twice in a row, so the remainder always moves.
   */
  private ahead(t: number, select?: (tile: number) => boolean): ((tile: number) => boolean) | undefined {
    const rest = this.remainder;
    if (!rest || this.wentAhead) return undefined;
    // A busy region changing again (the band just sent, scrolled further) is not newer than the
    // remainder in the sense that matters: it would go ahead of it every time and starve it.
    const busy = this.busyTiles(t);
    const fresh: number[] = [];
    let older = false;
    this.damage!.forEachTile((i) => {
      if (select && !select(i)) return;
      if (rest[i]) older = true;
      else if (!busy || busy[i] === 0) fresh.push(i);
    });
    if (!older || fresh.length === 0 || (this.maxUpdateTiles > 0 && fresh.length > this.maxUpdateTiles)) return undefined;
    this.updatesAhead++;
    return this.chosen(fresh, this.damage!.tileCount);
  }

  private chosen(tiles: readonly number[], count: number): (tile: number) => boolean {
    const flags = new Uint8Array(count);
    for (const i of tiles) flags[i] = 1;
    return (i) => flags[i] === 1;
  }

  /**
   * `followNow`: what `select` leaves of the damage follows right after, as the rest of a split does.
   * `beforeSlot`: a calm change sent ahead of the maxFps slot, which stays where it was (calmAhead).
   */
  private async encodeUpdate(t: number, link: LinkState, select?: (tile: number) => boolean, followNow = false, beforeSlot = false): Promise<EncoderStep> {
    const held = this.held!.retain();
    const frame = held.frame;
    const keyframe = this.keyframePending;
    const resize = this.resizePending;
    const ahead = keyframe ? undefined : this.ahead(t, select);
    const part = keyframe ? undefined : ahead ?? this.band(t, link.deliveryRateBps, link.soundOn === true, select);
    this.wentAhead = ahead !== undefined;
    const tilesBefore = this.damage!.damagedTiles;
    const rects = this.damage!.take(part);
    const tilesTaken = tilesBefore - this.damage!.damagedTiles;
    const complete = this.damage!.empty; // nothing held back: the viewer will have all of this screen
    if (!keyframe && (part !== select || followNow) && !complete) {
      // Split: what is left of the damage now (the ladder's held-back busy tiles too) waits behind newer changes.
      if (!ahead && part !== select) this.splitUpdates++;
      const rest = new Uint8Array(this.damage!.tileCount);
      this.damage!.forEachTile((i) => (rest[i] = 1));
      this.remainder = rest;
    } else if (keyframe || complete) this.remainder = null;
    if (!select) this.lastFullSendAt = t;
    const oldestChangeTime = this.pendingSince ?? frame.timestamp ?? wallClock();
    // Damage left behind (busy tiles waiting for their slot) keeps its age, conservatively.
    if (this.damage!.empty) this.pendingSince = this.damageSince = null;
    this.keyframePending = this.resizePending = false;
    if (beforeSlot) this.calmEarly.spend(t);
    else {
      this.lastUpdateAt = t;
      this.early.spend(t);
    }
    this.encoding = true;
    try {
      const messages: Uint8Array[] = [];
      if (resize) messages.push(encodeMessage({ type: 'resize', width: frame.width, height: frame.height }));
      const policy = this.policy!;
      const level = this.ladder.level;
      const lossy = this.lossyEnabled
        ? { mask: policy.mask(t), quality: policy.quality(level), subsampling: policy.subsampling, optimizeHuffman: policy.optimizeHuffman(level) }
        : undefined;
      const refine = this.lossyEnabled && !keyframe && this.lossyCount > 0
        // With sound on, refinements come in smaller batches too (see LinkState.soundOn).
        ? policy.refineDue(t, refineBudget(link.deliveryRateBps, this.tileSize, link.soundOn ? SPLIT_AFTER_MS : undefined), this.encoder.lossyTiles())
        : [];
      const encoded = await this.encoder.encode(frame, rects, { keyframe, lossy, refine, detectMoves: this.movesEnabled, generation: held.generation, complete, paletteDiff: this.compactEnabled, predicted: this.predictedEnabled, cacheRuns: this.cacheRunsEnabled });
      this.lossyCount = encoded.lossyTileCount ?? 0;
      const frameId = this.nextFrameId;
      this.nextFrameId = followingFrameId(this.nextFrameId);
      const captureTime = frame.timestamp ?? wallClock();
      const message = { type: 'update', frameId, captureTime, keyframe: encoded.keyframe, opCount: encoded.opCount, stream: encoded.stream, images: encoded.images } as const;
      const bytes = this.compactEnabled ? encodeCompactUpdate(message, this.compactUpdates) : encodeMessage(message);
      messages.push(bytes);
      if (tilesTaken > 0) {
        const perTile = bytes.length / tilesTaken;
        this.bytesPerTile = this.bytesPerTile === null ? perTile : 0.75 * this.bytesPerTile + 0.25 * perTile;
        const copiedArea = encoded.copies.reduce((a, c) => a + c.w * c.h, 0);
        this.pixelTileBytes = 0.75 * this.pixelTileBytes + bytes.length;
        // Refined tiles are pixel tiles too: their bytes are in the update.
        this.pixelTiles = 0.75 * this.pixelTiles + Math.max(1, tilesTaken - Math.floor(copiedArea / (this.tileSize * this.tileSize))) + refine.length;
      }
      this.ladder.onSend(bytes.length, this.clock());
      this.updatesSent++;
      if (encoded.lossyRects.length) this.lossyUpdates++;
      if (encoded.copies.length) this.copyUpdates++;
      this.cacheRefs += encoded.stats.ops.cacheRef;
      if (encoded.keyframe) this.keyframes++;
      if (encoded.keyframe) this.resumedKeyframePending = false;
      const update: SentUpdate = {
        frameId, keyframe: encoded.keyframe, captureTime, oldestChangeTime: Math.min(oldestChangeTime, captureTime),
        bytes: bytes.length, changes: keyframe || rects.length > 0, encoded,
      };
      return { messages, update, nextAt: this.clock() };
    } catch (err) {
      // What the viewer has is unknown after a failure: resend everything.
      if (this.resumedKeyframePending) this.resumedKeyframeLost = true;
      this.keyframePending = true;
      this.resizePending ||= resize;
      throw err;
    } finally {
      held.release();
      this.encoding = false;
      if (this.closed) this.releaseNative(); // close() came while the native side was busy
    }
  }

  /**
   * The viewer left: frees the frame it held and the native copy of what it
   * was sent. `park` gets the content cache mirror (or null: none, or not to
   * be trusted), once no encode is running, so the viewer may resume it.
   */
  close(park?: (parked: ParkedCache | null) => void): void {
    if (this.closed) return;
    this.closed = true;
    this.park = park ?? null;
    this.held?.release();
    this.held = null;
    if (!this.encoding) this.releaseNative();
  }

  private park: ((parked: ParkedCache | null) => void) | null = null;

  private releaseNative(): void {
    const park = this.park;
    this.park = null;
    if (park) park(this.encoder.takeCache());
    this.encoder.release();
  }
}
