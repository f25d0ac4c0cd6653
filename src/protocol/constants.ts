/**
 * Wire constants: one table per kind of id, each with a name helper for logs.
 * docs/protocol.md describes every layout; keep both in step.
 */

export const PROTOCOL_MAGIC = 0x54534354; // "TCST" read as u32 LE bytes 'T','C','S','T'
export const PROTOCOL_VERSION = 1;
export const MIN_PROTOCOL_VERSION = 1;

export const MessageType = {
  HELLO: 0x01,
  RESIZE: 0x10,
  UPDATE: 0x11,
  CURSOR_SHAPE: 0x12,
  CURSOR_POSITION: 0x13,
  SCREEN_STATE: 0x14,
  /** UPDATE with a varint header and no sync-flush trailer (COMPACT_UPDATE capability; docs/protocol.md). */
  UPDATE_COMPACT: 0x15,
  /** The ticket a viewer with CACHE_RESUME shows when it reconnects, to resume its content cache. */
  CACHE_TICKET: 0x16,
  /** After a resume: the content cache entries both sides keep, and the next id. */
  CACHE_KEEP: 0x17,
  ACK: 0x20,
  POINTER: 0x21,
  KEY: 0x22,
  REFRESH_REQUEST: 0x23,
  QUALITY_LIMIT: 0x24,
  /** Right after a HELLO with RESUMING: the ticket of the viewer's previous connection and its cache's next id. */
  CACHE_RESUME: 0x25,
  PING: 0x30,
  PONG: 0x31,
  ERROR: 0x3e,
  BYE: 0x3f,
  /** Both directions: one compressed audio frame (host: what the PC plays; viewer: its microphone). */
  AUDIO: 0x40,
} as const;
export type MessageTypeId = (typeof MessageType)[keyof typeof MessageType];

/** Op codes inside an UPDATE's compressed op stream (see native/codec/wire_format.h). */
export const OpCode = {
  SOLID: 0,
  PALETTE: 1,
  TRUECOLOR: 2,
  COPY: 3,
  JPEG: 4,
  /** Draw a content cache entry (only to viewers that announced CACHE). */
  CACHE_REF: 5,
  /** PALETTE with difference-coded colours (COMPACT_UPDATE capability). */
  PALETTE_DIFF: 6,
  /** TRUECOLOR as prediction residuals (PREDICTED capability). */
  PREDICTED: 7,
  /** Consecutive content cache entries side by side (CACHE_RUN capability). */
  CACHE_RUN: 8,
} as const;

/** Reason codes carried by ERROR and BYE. */
export const Reason = {
  NORMAL: 0,
  PROTOCOL_ERROR: 1,
  UNSUPPORTED_VERSION: 2,
  UNAUTHORIZED: 3,
  TOO_LARGE: 4,
  DECODE_FAILED: 5,
  TIMEOUT: 6,
  SERVER_SHUTDOWN: 7,
  CAPACITY: 8,
  INTERNAL: 9,
  /** Through a relay: the PC is offline or did not answer in time. */
  HOST_UNAVAILABLE: 10,
} as const;
export type ReasonCode = (typeof Reason)[keyof typeof Reason];

/** Capability bits announced in HELLO. */
export const Capability = {
  /** Understands COPY ops. */
  COPY_RECT: 1 << 0,
  /** Renders a locally drawn cursor from CURSOR_SHAPE/CURSOR_POSITION. */
  CURSOR: 1 << 1,
  /** Decodes JPEG ops (the lossy path); hosts send them only to viewers that say so. */
  JPEG: 1 << 2,
  /**
   * Viewer: it will send input (POINTER/KEY); a viewer without it is view-only
   * and the host drops its input. Host: it accepts this viewer's input (not
   * set for a view-only viewer); a viewer sends none to a host without it.
   */
  INPUT: 1 << 3,
  /**
   * Viewer: understands SCREEN_STATE (hosts send it only to viewers that say
   * so: an older viewer would fail on an unknown message). Host: sends it.
   */
  SCREEN_STATE: 1 << 4,
  /**
   * Host: accepts QUALITY_LIMIT (a viewer sends it only to a host that says
   * so: an older host would close on an unknown message). Viewer: unused.
   */
  QUALITY_LIMIT: 1 << 5,
  /**
   * Content cache (CACHE_REF ops). Viewer: it keeps a cache of the size in
   * the CACHE_SIZE field (bits 8-11) of its HELLO. Host: it sends CACHE_REF,
   * and its CACHE_SIZE field is the size both use (at most the viewer's).
   */
  CACHE: 1 << 6,
  /**
   * Viewer: understands UPDATE_COMPACT messages and PALETTE_DIFF ops. Host:
   * sends its updates that way (only to viewers that announced it).
   */
  COMPACT_UPDATE: 1 << 7,
  /**
   * Viewer: understands PREDICTED ops. Host: sends photographic truecolour
   * tiles that way (only to viewers that announced it). Bits 8-11 are the
   * CACHE_SIZE field.
   */
  PREDICTED: 1 << 12,
  /**
   * Viewer: keeps its content cache when a connection drops, and wants a
   * CACHE_TICKET to resume it with. Host: gives tickets and honours them
   * (only with CACHE agreed). See docs/protocol.md, "Resuming the cache".
   */
  CACHE_RESUME: 1 << 13,
  /** Viewer only: a CACHE_RESUME message follows this HELLO (the host waits for it before the first keyframe). */
  RESUMING: 1 << 14,
  /** Viewer: understands CACHE_RUN ops. Host: sends rows of cache hits that way (only to viewers that announced it). */
  CACHE_RUN: 1 << 15,
  /**
   * Viewer: plays the host's sound (understands AUDIO from the host). Host:
   * it will send AUDIO (set only when its audio is enabled and the viewer
   * asked). Bits from 1 << 16 up are audio's (lower ones belong to pixels).
   */
  AUDIO: 1 << 16,
  /**
   * Viewer: it will send its microphone as AUDIO. Host: it accepts them (set
   * only when its microphone is enabled and the viewer asked); a viewer sends
   * none to a host without it, and a host cuts off one that does.
   */
  MICROPHONE: 1 << 17,
} as const;

/**
 * The content cache size field of HELLO capabilities: bits 8-11 hold n, the
 * size is 2^n MiB (1 MiB .. 32 GiB; decoders cap it at 1 GiB). Meaningful only
 * with CACHE; an older peer ignores these bits like any unknown capability.
 */
export const CACHE_SIZE_SHIFT = 8;
export const CACHE_SIZE_MASK = 0xf << CACHE_SIZE_SHIFT;
/** The capability bits announcing a content cache of at least 1 MiB and at most `bytes` (0 if none fits). */
export function cacheCapability(bytes: number): number {
  if (!(bytes >= 1 << 20)) return 0;
  const n = Math.min(15, Math.floor(Math.log2(bytes / (1 << 20))));
  return Capability.CACHE | (n << CACHE_SIZE_SHIFT);
}
/** Default content cache a tilecast viewer offers and a host accepts: 64 MiB. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
/** The content cache size (bytes) announced by `capabilities`, 0 without CACHE. */
export function cacheBytesOf(capabilities: number): number {
  if (!(capabilities & Capability.CACHE)) return 0;
  return 2 ** ((capabilities & CACHE_SIZE_MASK) >>> CACHE_SIZE_SHIFT) * (1 << 20);
}
/** The size both sides use: what the peer announced, at most `mine`, as a HELLO field can say it (0: none). */
export function agreedCacheBytes(mine: number, peerCapabilities: number): number {
  return cacheBytesOf(cacheCapability(Math.min(mine, cacheBytesOf(peerCapabilities))));
}

/** QUALITY_LIMIT `minLevel`: the highest quality-ladder level a viewer may ask to stay at or above. */
export const MAX_QUALITY_LIMIT = 3;

/** AUDIO `codec` values. */
export const AudioCodec = {
  OPUS: 1,
} as const;
/** Sample rates an AUDIO frame may declare (Opus's own). */
export const AUDIO_SAMPLE_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];

/** SCREEN_STATE `state` values: what the host's screen source is doing. */
export const ScreenStateCode = {
  /** Frames are coming (the initial state; sent only after another). */
  LIVE: 0,
  /** Capture is failing or hangs; the host retries. */
  UNAVAILABLE: 1,
  /** The source ended: no more frames will come on this host. */
  ENDED: 2,
} as const;
export type ScreenStateName = 'live' | 'unavailable' | 'ended';
export const SCREEN_STATE_NAMES: readonly ScreenStateName[] = ['live', 'unavailable', 'ended'];

/** UPDATE flag bits. */
export const UpdateFlag = {
  /** The deflate stream restarts with this update (decoder resets first). */
  KEYFRAME: 1 << 0,
  /** An image section (JPEG data of JPEG ops) follows the op stream. */
  IMAGES: 1 << 1,
} as const;

/** KEY flag bits. */
export const KeyFlag = {
  DOWN: 1 << 0,
  REPEAT: 1 << 1,
} as const;

/** Modifier bits in KEY (state at the time of the event). */
export const Modifier = {
  SHIFT: 1 << 0,
  CONTROL: 1 << 1,
  ALT: 1 << 2,
  META: 1 << 3,
  CAPS_LOCK: 1 << 4,
  NUM_LOCK: 1 << 5,
  ALT_GRAPH: 1 << 6,
} as const;

/** Hard limits checked on every message before anything is allocated. */
export const Limits = {
  MAX_MESSAGE_BYTES: 64 * 1024 * 1024,
  /** Largest message a viewer sends (a KEY or HELLO is a few hundred bytes): hosts and relays cap viewer sockets at this. */
  MAX_VIEWER_MESSAGE_BYTES: 16 * 1024,
  MAX_DIMENSION: 16384,
  MAX_CURSOR_DIMENSION: 256,
  MAX_NAME_BYTES: 256,
  MAX_KEY_STRING_BYTES: 64,
  MAX_REASON_BYTES: 1024,
  MAX_SCREEN_STATE_REASON_BYTES: 200,
  /** One AUDIO payload: an Opus packet of one frame is at most 1276 bytes (RFC 6716 §3.4, R2 + TOC), 3 of them 3828. */
  MAX_AUDIO_PAYLOAD_BYTES: 4000,
  /** CACHE_TICKET and CACHE_RESUME tickets: 128 random bits. */
  CACHE_TICKET_BYTES: 16,
  /** CACHE_KEEP ranges: at most one per entry of the largest cache (1 GiB of 32×32 entries). */
  MAX_CACHE_KEEP_RANGES: (1024 * 1024 * 1024) / (32 * 32 * 4),
} as const;

function nameTable(table: Record<string, number>): Map<number, string> {
  return new Map(Object.entries(table).map(([k, v]) => [v, k]));
}
const messageNames = nameTable(MessageType);
const opNames = nameTable(OpCode);
const reasonNames = nameTable(Reason);

export function messageTypeName(type: number): string {
  return messageNames.get(type) ?? `UNKNOWN(0x${type.toString(16).padStart(2, '0')})`;
}
export function opCodeName(op: number): string {
  return opNames.get(op) ?? `UNKNOWN(${op})`;
}
export function reasonName(reason: number): string {
  return reasonNames.get(reason) ?? `UNKNOWN(${reason})`;
}
export function isMessageType(type: number): type is MessageTypeId {
  return messageNames.has(type);
}
