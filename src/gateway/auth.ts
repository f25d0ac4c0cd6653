/**
 * Login, session tokens and logout, without HTTP (routes.ts does the HTTP).
 *
 * - One answer for every wrong credential — unknown user, wrong password,
 *   disabled user, wrong or missing TOTP — so the page cannot be used to find
 *   out which IDs exist; an unknown ID costs the same scrypt time.
 * - Failures are counted per user ID tried and per client address, each with
 *   its own lockout rule; a locked key is refused without checking the
 *   password (no oracle while locked). Unknown IDs lock like real ones.
 * - Every attempt is audited with the ID tried and the address.
 * - Admins must have TOTP; a TOTP code is accepted once (replay refused).
 * - The licence cap is checked only after the credentials are right, and not
 *   for admins (an admin must be able to sign in to a full gateway to kick)
 *   nor for a user who already holds a licence. It is advisory here: the
 *   licence itself is taken atomically when a viewer opens (gateway.ts).
 */
import { addressKey } from '../net/connectionGuard';
import type { AuditLog, LoginFailReason } from './audit';
import { DEFAULT_SCRYPT, type ScryptParams, burnPasswordCheck, hashPassword, needsRehash, verifyPassword } from './passwords';
import type { GatewayStore, LockoutRule, LoginSession, UserRecord } from './store';
import { TokenSigner, type TokenClaims } from './tokens';
import { verifyTotp } from './totp';

export interface AuthConfig {
  /** Concurrent licences (the cap on live sessions). */
  licences: number;
  userLockout: LockoutRule;
  ipLockout: LockoutRule;
  /** Lifetime of one session token (cookie), renewed while a page is open, ms. */
  tokenTtlMs: number;
  /** A login session ends this long after sign-in whatever happens, ms. */
  loginMaxMs: number;
  /** Password hash parameters; older hashes are upgraded at the next successful login. */
  scrypt: ScryptParams;
}

export const DEFAULT_AUTH: AuthConfig = {
  licences: 10,
  userLockout: { limit: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 },
  // Higher than per user: staff behind one carrier NAT share an address.
  ipLockout: { limit: 30, windowMs: 15 * 60_000, lockMs: 15 * 60_000 },
  tokenTtlMs: 60 * 60_000,
  loginMaxMs: 12 * 3600_000,
  scrypt: DEFAULT_SCRYPT,
};

export type LoginResult =
  | { ok: true; token: string; user: UserRecord; session: LoginSession }
  | { ok: false; error: 'bad-credentials' | 'locked' | 'licence-full' };

export interface Authenticated {
  user: UserRecord;
  session: LoginSession;
  claims: TokenClaims;
}

/** Login IDs as staff type them: full-width letters from a Japanese IME and capitals mean the same ID. */
export function normalizeUserId(typed: string): string {
  return typed.normalize('NFKC').trim().toLowerCase().slice(0, 64);
}

export class Authenticator {
  constructor(
    private readonly store: GatewayStore,
    private readonly audit: AuditLog,
    private readonly signer: TokenSigner,
    readonly config: AuthConfig,
    private readonly now: () => number = Date.now,
  ) {}

  async login(form: { userId: string; password: string; totp?: string; ip: string }): Promise<LoginResult> {
    const userTried = normalizeUserId(form.userId);
    const ip = form.ip;
    const userKey = `user:${userTried}`;
    const ipKey = `ip:${addressKey(ip)}`;
    const now = this.now();
    if ((await this.store.lockedUntil(userKey, now)) !== null || (await this.store.lockedUntil(ipKey, now)) !== null) {
      this.audit.write({ type: 'login.failed', userTried, ip, reason: 'locked' });
      return { ok: false, error: 'locked' };
    }
    const user = userTried ? await this.store.getUser(userTried) : null;
    const passwordOk = user ? await verifyPassword(form.password, user.passwordHash) : await burnPasswordCheck(form.password, this.config.scrypt);
    let reason: LoginFailReason | null = null;
    if (!user || !passwordOk) reason = 'bad-credentials';
    else if (user.disabled) reason = 'disabled';
    else if (user.role === 'admin' && !user.totpSecret) reason = 'totp-required';
    else if (user.totpSecret) {
      const step = verifyTotp(user.totpSecret, (form.totp ?? '').replace(/\s/g, ''), this.now());
      // A step not newer than the last one used is a replayed code.
      if (step === null || !(await this.store.claimTotpStep(user.id, step))) reason = 'bad-credentials';
    }
    if (reason !== null || !user) {
      await this.fail(userKey, ipKey, userTried, ip, reason ?? 'bad-credentials');
      return { ok: false, error: 'bad-credentials' };
    }
    await this.store.clearLoginFailures(userKey);
    // A user already holding a licence (signing in on a second device) may come in: opening the same PC again takes no new one.
    if (user.role !== 'admin' && (await this.store.licenceCount()) >= this.config.licences && !(await this.store.listLicences()).some((l) => l.user === user.id)) {
      this.audit.write({ type: 'licence.refused', user: user.id, ip, at: 'login', cap: this.config.licences });
      return { ok: false, error: 'licence-full' };
    }
    const session: LoginSession = {
      id: TokenSigner.newSessionId(), user: user.id, createdAt: now, expiresAt: now + this.config.loginMaxMs, remoteAddress: ip, revoked: false,
    };
    await this.store.createLoginSession(session);
    this.audit.write({ type: 'login.ok', user: user.id, ip, session: session.id });
    if (needsRehash(user.passwordHash, this.config.scrypt)) {
      // Parameters were raised since this hash was made: upgrade it now that we know the password.
      void hashPassword(form.password, this.config.scrypt).then((h) => this.store.updateUser(user.id, { passwordHash: h })).catch(() => {});
    }
    return { ok: true, token: this.tokenFor(session, now), user, session };
  }

  private async fail(userKey: string, ipKey: string, userTried: string, ip: string, reason: LoginFailReason): Promise<void> {
    this.audit.write({ type: 'login.failed', userTried, ip, reason });
    const now = this.now();
    for (const [key, rule, kind] of [[userKey, this.config.userLockout, 'user'], [ipKey, this.config.ipLockout, 'ip']] as const) {
      const r = await this.store.recordLoginFailure(key, rule, now);
      if (r.lockedUntil !== null && r.failures >= rule.limit) {
        this.audit.write({ type: 'login.lockout', key: kind, userTried, ip, until: new Date(r.lockedUntil).toISOString() });
      }
    }
  }

  private tokenFor(session: LoginSession, now: number): string {
    return this.signer.sign({ sessionId: session.id, user: session.user, expiresAt: Math.min(now + this.config.tokenTtlMs, session.expiresAt) });
  }

  /** The signed-in user behind a token: signature, expiry, the login session in the store, the user still enabled. */
  async authenticate(token: string | undefined): Promise<Authenticated | null> {
    const now = this.now();
    const claims = this.signer.verify(token, now);
    if (!claims) return null;
    const session = await this.store.getLoginSession(claims.sessionId, now);
    if (!session || session.user !== claims.user) return null;
    const user = await this.store.getUser(session.user);
    if (!user || user.disabled) return null;
    return { user, session, claims };
  }

  /** A fresh token once more than half of the current one's life is used (while a page is open); else null. */
  renew(auth: Authenticated): string | null {
    const now = this.now();
    if (auth.claims.expiresAt - now > this.config.tokenTtlMs / 2) return null;
    if (auth.session.expiresAt <= auth.claims.expiresAt) return null; // at the absolute end already
    return this.tokenFor(auth.session, now);
  }

  /** Revokes the token's login session: the token (and any copy of it) is refused from now on. */
  async logout(auth: Authenticated, ip: string): Promise<void> {
    await this.store.revokeLoginSession(auth.session.id);
    this.audit.write({ type: 'logout', user: auth.user.id, ip, session: auth.session.id });
  }
}
