/**
 * The gateway's state behind one small async interface: users, PCs, group
 * policies, login lockouts, TOTP replay marks, licence leases (live sessions)
 * and login sessions.
 *
 * Contract for implementations (FileStore now, a Redis store for many gateway
 * processes later): every method is one atomic step. Anything that reads,
 * decides and writes (taking a licence under the cap, counting a login
 * failure and locking, claiming a TOTP step) is a single call here, never a
 * get followed by a put in the caller, so two gateway processes cannot both
 * take the last licence.
 */

/** Per-user or per-group limits, passed to the relay in each viewer grant. */
export interface Policy {
  /** Input from the viewer is dropped. */
  viewOnly?: boolean;
  /** End the session after this long without input, ms. */
  idleTimeoutMs?: number;
  /** End the session this long after it started, ms. */
  maxSessionMs?: number;
  /** May hear the PC's sound (the PC must enable audio too). */
  audio?: boolean;
  /** May send the microphone to the PC (the PC must accept it too). */
  microphone?: boolean;
}

export type Role = 'user' | 'admin';

export interface UserRecord {
  /** Login id: what staff type. */
  id: string;
  displayName: string;
  /** passwords.ts format. */
  passwordHash: string;
  role: Role;
  groups: string[];
  /** Host ids this user may open. */
  pcs: string[];
  /** Base32 TOTP secret; required for admins. */
  totpSecret?: string;
  disabled: boolean;
  /** Overrides the user's groups' policies, field by field. */
  policy?: Policy;
  createdAt: number;
}

export interface PcRecord {
  /** Host id the PC dials in with (relayProtocol HOST_ID_PATTERN). */
  id: string;
  name: string;
  /** hostSecrets.ts format: only a hash is kept. */
  secretHash: string;
  revoked: boolean;
  createdAt: number;
}

export interface LockoutRule {
  /** Failures within `windowMs` that lock the key … */
  limit: number;
  windowMs: number;
  /** … for this long. */
  lockMs: number;
}

export interface FailureResult {
  failures: number;
  /** Set when this failure (or an earlier one) locked the key. */
  lockedUntil: number | null;
}

/** A licence held by a live session (in memory in FileStore: a restart frees them all). */
export interface Lease {
  id: string;
  user: string;
  hostId: string;
  acquiredAt: number;
}

export interface LoginSession {
  id: string;
  user: string;
  createdAt: number;
  /** Absolute end: the token is renewed while a page is open, never past this. */
  expiresAt: number;
  remoteAddress: string;
  revoked: boolean;
}

/** Fields `updateUser` may change (id and createdAt are fixed). */
export type UserPatch = Partial<Omit<UserRecord, 'id' | 'createdAt'>>;
export type PcPatch = Partial<Pick<PcRecord, 'name' | 'secretHash' | 'revoked'>>;

export interface GatewayStore {
  // Users. createUser fails (false) when the id exists.
  createUser(user: UserRecord): Promise<boolean>;
  getUser(id: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  /** Applies the patch; null when there is no such user. `totpSecret: undefined` / `policy: undefined` remove those fields. */
  updateUser(id: string, patch: UserPatch): Promise<UserRecord | null>;
  removeUser(id: string): Promise<boolean>;

  // PCs. createPc fails (false) when the id exists (revoked ids are not reused).
  createPc(pc: PcRecord): Promise<boolean>;
  getPc(id: string): Promise<PcRecord | null>;
  listPcs(): Promise<PcRecord[]>;
  updatePc(id: string, patch: PcPatch): Promise<PcRecord | null>;

  // Group policies.
  groupPolicies(): Promise<Record<string, Policy>>;
  /** null removes the group's policy. */
  setGroupPolicy(group: string, policy: Policy | null): Promise<void>;

  // Login lockout, per key ("user:<id tried>", "ip:<address>").
  /** Counts one failure for `key` and locks it when the rule says so, atomically. */
  recordLoginFailure(key: string, rule: LockoutRule, now: number): Promise<FailureResult>;
  /** When `key` is locked at `now`, until when; else null. */
  lockedUntil(key: string, now: number): Promise<number | null>;
  clearLoginFailures(key: string): Promise<void>;

  /** TOTP replay guard: true (and remembered) only if `step` is newer than the last claimed for `user`. */
  claimTotpStep(user: string, step: number): Promise<boolean>;

  // Licences: at most `cap` leases at once, across all gateway processes sharing the store.
  /** A lease, or null when `cap` leases are held. */
  acquireLicence(cap: number, holder: { user: string; hostId: string }, now: number): Promise<Lease | null>;
  /** Frees a lease; false if it was not held (already freed). Idempotent. */
  releaseLicence(leaseId: string): Promise<boolean>;
  licenceCount(): Promise<number>;
  listLicences(): Promise<Lease[]>;

  // Login sessions (the server side of session tokens).
  createLoginSession(session: LoginSession): Promise<void>;
  /** The session if it exists, is not revoked and has not expired at `now`. */
  getLoginSession(id: string, now: number): Promise<LoginSession | null>;
  revokeLoginSession(id: string): Promise<boolean>;
  /** Revokes every session of `user` (password change, removal, disable); returns how many. */
  revokeUserSessions(user: string): Promise<number>;

  /**
   * A number that changes whenever another process may have changed users,
   * PCs or policies (the gateway polls it to end sessions of a revoked PC or
   * a disabled user promptly).
   */
  version(): Promise<string>;
  close(): Promise<void>;
}

/** User ids: letters, digits and . _ @ - (1–64); what a city's staff ids look like. */
export const USER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** Group names: same alphabet. */
export const GROUP_PATTERN = USER_ID_PATTERN;
