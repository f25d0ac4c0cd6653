/**
 * Login session tokens and per-form CSRF tokens, both HMAC-SHA256 under the
 * gateway's secret key (32 random bytes made on first start, kept in the data
 * dir with mode 0600; deleting it logs everyone out).
 *
 * A session token is `v1.<sessionId>.<user, base64url>.<expiry ms>.<mac>`.
 * It is short-lived (renewed while a page is open, up to the login session's
 * absolute end) and valid only while the store still holds its login session,
 * so a token replayed after logout is refused even before it expires. The
 * token only ever travels in a cookie: never in a URL or a log line.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const KEY_FILE = 'session-key';
const MAX_TOKEN_CHARS = 512;

export interface TokenClaims {
  sessionId: string;
  user: string;
  expiresAt: number;
}

/** The gateway's key: read from `dataDir/session-key`, or made there (0600) on first start. */
export function loadOrCreateKey(dataDir: string): Buffer {
  const file = path.join(dataDir, KEY_FILE);
  try {
    const key = fs.readFileSync(file);
    if (key.length !== 32) throw new Error(`${file} must hold 32 bytes, has ${key.length}`);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = crypto.randomBytes(32);
  // 'wx': two processes starting at once must not both write a key.
  try {
    fs.writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file);
    throw err;
  }
}

/** Separate keys per use, so a MAC of one kind can never pass as another. */
function subkey(key: Buffer, use: string): Buffer {
  return crypto.createHmac('sha256', key).update(`tilecast-gateway ${use}`).digest();
}

export class TokenSigner {
  private readonly sessionKey: Buffer;
  private readonly csrfKey: Buffer;

  constructor(key: Buffer) {
    if (key.length < 32) throw new RangeError('token key must have at least 32 bytes');
    this.sessionKey = subkey(key, 'session');
    this.csrfKey = subkey(key, 'csrf');
  }

  static newSessionId(): string {
    return crypto.randomBytes(16).toString('base64url');
  }

  sign(claims: TokenClaims): string {
    const body = `v1.${claims.sessionId}.${Buffer.from(claims.user, 'utf8').toString('base64url')}.${Math.floor(claims.expiresAt)}`;
    return `${body}.${this.mac(this.sessionKey, body)}`;
  }

  /** The claims of a well-formed, untampered, unexpired token; null otherwise. Revocation is the store's job. */
  verify(token: string | undefined, now: number): TokenClaims | null {
    if (!token || token.length > MAX_TOKEN_CHARS) return null;
    const m = /^(v1\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{1,200})\.(\d{1,15}))\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return null;
    const want = Buffer.from(this.mac(this.sessionKey, m[1]!));
    const got = Buffer.from(m[5]!);
    if (want.length !== got.length || !crypto.timingSafeEqual(want, got)) return null;
    const expiresAt = Number(m[4]);
    if (!(expiresAt > now)) return null;
    return { sessionId: m[2]!, user: Buffer.from(m[3]!, 'base64url').toString('utf8'), expiresAt };
  }

  /** A per-form token bound to what the form acts for (a login session id, or the login page's nonce). */
  csrf(purpose: string, binding: string): string {
    return this.mac(this.csrfKey, `${purpose}\n${binding}`);
  }

  checkCsrf(purpose: string, binding: string, given: unknown): boolean {
    if (typeof given !== 'string' || given.length !== 43) return false;
    return crypto.timingSafeEqual(Buffer.from(this.csrf(purpose, binding)), Buffer.from(given));
  }

  private mac(key: Buffer, body: string): string {
    return crypto.createHmac('sha256', key).update(body).digest('base64url');
  }
}
