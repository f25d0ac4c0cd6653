/**
 * Office PC (host) credentials: 32 random bytes, base64url, printed once by
 * `pc add`. The store keeps only their SHA-256: a stolen store does not let
 * anyone pose as a PC. A fast hash is enough here (unlike passwords) because
 * the secret has 256 bits of entropy; nothing to brute-force.
 */
import * as crypto from 'node:crypto';

export function generateHostSecret(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function hashHostSecret(secret: string): string {
  return `sha256$${crypto.createHash('sha256').update(secret, 'utf8').digest('base64url')}`;
}

/** Timing-safe: both sides are fixed-length digests. */
export function verifyHostSecret(secret: string, stored: string): boolean {
  const want = Buffer.from(stored.startsWith('sha256$') ? stored.slice(7) : '', 'base64url');
  if (want.length !== 32) return false;
  const got = crypto.createHash('sha256').update(secret, 'utf8').digest();
  return crypto.timingSafeEqual(got, want);
}
