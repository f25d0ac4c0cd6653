/**
 * What a relay (gateway) and a host that dials out to it say to each other,
 * besides the tilecast stream itself, which the relay forwards untouched
 * (docs/protocol.md, "Relay"). Pure: validation only, no sockets.
 *
 *  - The host keeps one **control** WebSocket open to `RelayPaths.HOST`,
 *    authenticated by its id (`x-tilecast-host` header) and secret
 *    (`Authorization: Bearer …`); never in the URL.
 *  - For each viewer the relay pairs, it sends the host an `open` message on
 *    the control socket; the host dials a **data** WebSocket to
 *    `RelayPaths.HOST_DATA` with the same credentials and the session id
 *    (`x-tilecast-session`), and serves a viewer on it as on any socket.
 *  - Control messages are small JSON text messages.
 */
import { ErrorCodes, TilecastError } from '../errors';

export const RelayPaths = {
  /** A host's control connection. */
  HOST: '/tilecast/host',
  /** A host's data connection for one session. */
  HOST_DATA: '/tilecast/host/data',
  /** Viewers. */
  VIEWER: '/tilecast/viewer',
} as const;

export const RelayHeaders = {
  HOST_ID: 'x-tilecast-host',
  SESSION: 'x-tilecast-session',
} as const;

/** Largest control message either side accepts, bytes. */
export const MAX_CONTROL_MESSAGE_BYTES = 4096;

/** Host ids: what a gateway admin types and a CLI prints (letters, digits, '.', '_', '-'; 1–64). */
export const HOST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Session ids: 128 random bits, base64url. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** Relay → host: serve a viewer on a new data connection for `session`. */
export interface OpenMessage {
  type: 'open';
  session: string;
  /** Who the relay authenticated (for the host's audit and input routing). */
  user: string | null;
  viewOnly: boolean;
  /** The viewer's address as the relay saw it. */
  remoteAddress: string;
}

/** Relay → host: the relay is done with the session (viewer gone, kicked); the host may drop its data socket. */
export interface CloseSessionMessage {
  type: 'close';
  session: string;
  reason: string;
}

export type RelayToHost = OpenMessage | CloseSessionMessage;

/** Host → relay, once after the control socket opens: what it is, for the admin page. */
export interface HostStatusMessage {
  type: 'status';
  software: string;
  /** Screen size, when known. */
  width?: number;
  height?: number;
  /** Viewers the host is serving now. */
  viewers: number;
}

export type HostToRelay = HostStatusMessage;

const MAX_TEXT = 256;

function fail(what: string): never {
  throw new TilecastError(ErrorCodes.PROTOCOL, `relay control message: ${what}`);
}

function text(v: unknown, what: string, max = MAX_TEXT): string {
  if (typeof v !== 'string' || v.length > max) fail(`${what} must be a string of at most ${max} characters`);
  return v;
}

function parseJson(data: string | Uint8Array): Record<string, unknown> {
  const s = typeof data === 'string' ? data : new TextDecoder('utf-8', { fatal: false }).decode(data);
  if (s.length > MAX_CONTROL_MESSAGE_BYTES) throw new TilecastError(ErrorCodes.TOO_LARGE, `relay control message of ${s.length} characters`);
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    fail('not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('not an object');
  return v as Record<string, unknown>;
}

/** A relay's control message, validated field by field (throws ERR_PROTOCOL / ERR_TOO_LARGE). */
export function parseRelayToHost(data: string | Uint8Array): RelayToHost {
  const m = parseJson(data);
  const session = text(m.session, 'session');
  if (!SESSION_ID_PATTERN.test(session)) fail('bad session id');
  if (m.type === 'open') {
    if (m.user !== null && typeof m.user !== 'string') fail('user must be a string or null');
    if (typeof m.user === 'string') text(m.user, 'user');
    if (typeof m.viewOnly !== 'boolean') fail('viewOnly must be a boolean');
    return { type: 'open', session, user: m.user as string | null, viewOnly: m.viewOnly, remoteAddress: text(m.remoteAddress, 'remoteAddress') };
  }
  if (m.type === 'close') return { type: 'close', session, reason: text(m.reason, 'reason') };
  fail(`unknown type ${JSON.stringify(String(m.type)).slice(0, 40)}`);
}

/** A host's control message, validated (throws ERR_PROTOCOL / ERR_TOO_LARGE). */
export function parseHostToRelay(data: string | Uint8Array): HostToRelay {
  const m = parseJson(data);
  if (m.type !== 'status') fail(`unknown type ${JSON.stringify(String(m.type)).slice(0, 40)}`);
  const dim = (v: unknown, what: string) => {
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 16384) fail(`${what} must be an integer 1..16384`);
    return v as number;
  };
  if (!Number.isInteger(m.viewers) || (m.viewers as number) < 0 || (m.viewers as number) > 100_000) fail('viewers must be an integer 0..100000');
  const out: HostStatusMessage = { type: 'status', software: text(m.software, 'software'), viewers: m.viewers as number };
  const width = dim(m.width, 'width');
  const height = dim(m.height, 'height');
  if (width !== undefined) out.width = width;
  if (height !== undefined) out.height = height;
  return out;
}

/** The bearer secret of an Authorization header, or null. */
export function bearerSecret(header: string | undefined): string | null {
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/.exec(header ?? '');
  return m ? m[1]! : null;
}
