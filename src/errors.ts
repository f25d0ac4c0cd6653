/**
 * One error type for the whole library. Every error carries a stable string
 * `code` so callers (and the wire's BYE reasons) can branch on it; messages are
 * for humans and may change. Pure TypeScript: shared by Node and the browser.
 */

export const ErrorCodes = {
  /** A caller passed an invalid option, size or buffer. */
  INVALID_ARG: 'ERR_INVALID_ARG',
  /** Wire data is malformed: bad field, bad length, out-of-bounds rect. */
  PROTOCOL: 'ERR_PROTOCOL',
  /** A declared size or count exceeds a hard limit. */
  TOO_LARGE: 'ERR_TOO_LARGE',
  /** Wire data ended before a complete value. */
  TRUNCATED: 'ERR_TRUNCATED',
  /** Compressed data failed to decompress. */
  CORRUPT_STREAM: 'ERR_CORRUPT_STREAM',
  /** The decoder's stream state is lost; it needs a keyframe. */
  STREAM_DESYNC: 'ERR_STREAM_DESYNC',
  /** An async call is still running on the same object. */
  BUSY: 'ERR_BUSY',
  /** A system resource is missing or went away: X display, X library or extension. */
  UNAVAILABLE: 'ERR_UNAVAILABLE',
  /** Message type not known to this protocol version. */
  UNKNOWN_MESSAGE: 'ERR_UNKNOWN_MESSAGE',
  /** The peer went silent, or a wait (connect, waitFor) ran past its timeout. */
  TIMEOUT: 'ERR_TIMEOUT',
  /** Credentials refused: HTTP 401/403 on the upgrade, or an UNAUTHORIZED BYE/ERROR from a host or gateway. */
  UNAUTHORIZED: 'ERR_UNAUTHORIZED',
  /** The AbortSignal passed to the call fired (the error's cause is the signal's reason). */
  ABORTED: 'ERR_ABORTED',
  /** The peers share no protocol version. */
  UNSUPPORTED_VERSION: 'ERR_UNSUPPORTED_VERSION',
  /** The native addon could not be loaded. */
  NATIVE_LOAD: 'ERR_NATIVE_LOAD',
  /** A bug or resource failure inside tilecast. */
  INTERNAL: 'ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const knownCodes = new Set<string>(Object.values(ErrorCodes));

export class TilecastError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TilecastError';
    this.code = code;
  }
}

/** The one factory for invalid options: `<name> must be <expected>, got <actual>`. */
export function invalidArg(name: string, expected: string, actual: unknown): TilecastError {
  return new TilecastError(ErrorCodes.INVALID_ARG, `${name} must be ${expected}, got ${describe(actual)}`);
}

/** The error a call rejects with when its AbortSignal fires. */
export function abortedError(signal: AbortSignal, what: string): TilecastError {
  return new TilecastError(ErrorCodes.ABORTED, `${what} aborted`, { cause: signal.reason });
}

/** Wraps an error thrown by the native addon, keeping its code when it has one. */
export function fromNative(err: unknown): TilecastError {
  if (err instanceof TilecastError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' && knownCodes.has(e.code) ? (e.code as ErrorCode) : ErrorCodes.INTERNAL;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return new TilecastError(code, message, { cause: err });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array(${v.length})`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${v.byteLength} bytes)`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return typeof v;
}

/** Validation helpers built on invalidArg, used by every public entry point. */
export function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidArg(name, `an integer in [${min}, ${max}]`, v);
  }
  return v;
}

export function checkBytes(name: string, v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalidArg(name, 'a Uint8Array or Buffer', v);
  return v;
}
