/**
 * Password hashes: scrypt from node:crypto with a per-user random salt. The
 * parameters are stored with the hash (`scrypt$ln=15,r=8,p=1$salt$hash`), so
 * they can be raised later and old hashes still verify (and report
 * `needsRehash`). Comparison is timing-safe.
 *
 * Parameters read back from a store are bounded before use: a tampered store
 * must not make one login cost gigabytes.
 */
import * as crypto from 'node:crypto';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  r: number;
  p: number;
}

/** 2^15 × 8 × 128 B = 32 MiB and about 50–100 ms per hash on one core: slow for a guesser, fine for a login. */
export const DEFAULT_SCRYPT: ScryptParams = { ln: 15, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Longest password accepted (bytes of UTF-8): longer input is refused before hashing. */
export const MAX_PASSWORD_BYTES = 1024;
const BOUNDS = { ln: [10, 20], r: [1, 32], p: [1, 16] } as const;

function scrypt(password: string, salt: Buffer, params: ScryptParams, keylen: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  return new Promise((resolve, reject) => {
    // maxmem: scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is exactly our default, so leave room.
    crypto.scrypt(password.normalize('NFC'), salt, keylen, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw new RangeError(`password longer than ${MAX_PASSWORD_BYTES} bytes`);
  const salt = crypto.randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, params, KEY_BYTES);
  return `scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | null {
  const m = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,88})\$([A-Za-z0-9_-]{43})$/.exec(stored);
  if (!m) return null;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  for (const k of ['ln', 'r', 'p'] as const) if (params[k] < BOUNDS[k][0] || params[k] > BOUNDS[k][1]) return null;
  return { params, salt: Buffer.from(m[4]!, 'base64url'), key: Buffer.from(m[5]!, 'base64url') };
}

/**
 * True when `password` matches `stored`. A malformed stored hash never
 * matches (and still costs a hash, so its users cannot be told apart by time).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return false;
  const parsed = parseHash(stored);
  if (!parsed) {
    await scrypt(password, Buffer.alloc(SALT_BYTES), DEFAULT_SCRYPT, KEY_BYTES);
    return false;
  }
  const key = await scrypt(password, parsed.salt, parsed.params, KEY_BYTES);
  return crypto.timingSafeEqual(key, parsed.key);
}

/** The hash was made with other parameters than `params` (rehash it at the next successful login). */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parseHash(stored);
  return !parsed || parsed.params.ln !== params.ln || parsed.params.r !== params.r || parsed.params.p !== params.p;
}

const dummies = new Map<string, Promise<string>>();
/**
 * Spends the same time as checking a real password made with `params`, for
 * logins with an unknown user id: the answer and its timing must not tell
 * whether a user exists.
 */
export async function burnPasswordCheck(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<false> {
  const key = `${params.ln},${params.r},${params.p}`;
  let dummy = dummies.get(key);
  if (!dummy) dummies.set(key, (dummy = hashPassword(crypto.randomBytes(16).toString('hex'), params)));
  await verifyPassword(password, await dummy);
  return false;
}

/** A random password for `user add --generate`: 16 characters from an alphabet without look-alikes. */
export function generatePassword(length = 16): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  let out = '';
  while (out.length < length) {
    const b = crypto.randomBytes(1)[0]!;
    if (b < 256 - (256 % alphabet.length)) out += alphabet[b % alphabet.length];
  }
  return out;
}
