/**
 * FileStore: the GatewayStore for one gateway process, in one JSON file
 * (`store.json` in the data dir, mode 0600).
 *
 * - Every change is read-modify-write under the in-process queue and the
 *   cross-process FileLock, written with writeFileAtomic: `serve` and CLI
 *   commands can run at the same time without losing each other's writes.
 * - Reads use the last loaded copy unless the file changed on disk (checked
 *   with one stat), so a user added by the CLI is seen by a running server.
 * - Licence leases live in memory only: they describe sockets of this
 *   process, so a restart frees them all (nothing can hold a licence after the
 *   process that served it is gone).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { FileLock, writeFileAtomic } from './atomicFile';
import type {
  FailureResult, GatewayStore, Lease, LockoutRule, LoginSession, PcPatch, PcRecord, Policy, UserPatch, UserRecord,
} from './store';

interface FailureState {
  count: number;
  firstAt: number;
  lockedUntil: number | null;
}

interface StoreData {
  format: 1;
  users: Record<string, UserRecord>;
  pcs: Record<string, PcRecord>;
  groups: Record<string, Policy>;
  failures: Record<string, FailureState>;
  totpSteps: Record<string, number>;
  sessions: Record<string, LoginSession>;
}

/** Bound on remembered lockout keys (one per user name and address tried); the oldest unlocked ones go first. */
export const MAX_FAILURE_KEYS = 20_000;

function empty(): StoreData {
  return { format: 1, users: {}, pcs: {}, groups: {}, failures: {}, totpSteps: {}, sessions: {} };
}

// Object.create(null) maps: ids such as "__proto__" must be plain keys.
function dict<T>(v: unknown): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out[k] = x as T;
  return out;
}

const clone = <T>(v: T): T => structuredClone(v);

/** Own entries only: a user id like "constructor" must not find Object.prototype's. */
function own<T>(rec: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

function cloneData(d: StoreData): StoreData {
  return {
    format: 1, users: dict(clone(d.users)), pcs: dict(clone(d.pcs)), groups: dict(clone(d.groups)),
    failures: dict(clone(d.failures)), totpSteps: dict(clone(d.totpSteps)), sessions: dict(clone(d.sessions)),
  };
}

export class FileStore implements GatewayStore {
  private data: StoreData = empty();
  private stamp = '';
  private queue: Promise<unknown> = Promise.resolve();
  private readonly lock: FileLock;
  private readonly leases = new Map<string, Lease>();

  private constructor(readonly file: string, private readonly now: () => number) {
    this.lock = new FileLock(file);
  }

  /**
   * Opens (or creates, empty) the store file. Throws on a file that is not a
   * store rather than overwrite it. `now` is the clock used to prune expired
   * entries when writing (tests pass their own).
   */
  static async open(file: string, options: { now?: () => number } = {}): Promise<FileStore> {
    const s = new FileStore(file, options.now ?? Date.now);
    await s.reload(true);
    return s;
  }

  private async statStamp(): Promise<string> {
    try {
      const st = await fs.promises.stat(this.file);
      return `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
      throw err;
    }
  }

  private async reload(force = false): Promise<void> {
    const stamp = await this.statStamp();
    if (!force && stamp === this.stamp) return;
    if (stamp === 'none') {
      this.data = empty();
    } else {
      const text = await fs.promises.readFile(this.file, 'utf8');
      let raw: Partial<StoreData>;
      try {
        raw = JSON.parse(text) as Partial<StoreData>;
      } catch (err) {
        throw new Error(`${this.file} is not valid JSON (${(err as Error).message}); refusing to overwrite it`);
      }
      if (raw?.format !== 1) throw new Error(`${this.file} is not a tilecast gateway store (format ${String(raw?.format)})`);
      this.data = {
        format: 1, users: dict(raw.users), pcs: dict(raw.pcs), groups: dict(raw.groups),
        failures: dict(raw.failures), totpSteps: dict(raw.totpSteps), sessions: dict(raw.sessions),
      };
    }
    this.stamp = stamp;
  }

  /** Runs `fn` alone (in this process), on fresh data. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private read<T>(fn: (d: StoreData) => T): Promise<T> {
    return this.serial(async () => {
      await this.reload();
      return clone(fn(this.data));
    });
  }

  /** Read-modify-write under both locks; `fn` returns [result, changed]. */
  private write<T>(fn: (d: StoreData) => [T, boolean]): Promise<T> {
    return this.serial(async () => {
      const release = await this.lock.acquire();
      try {
        await this.reload();
        const draft = cloneData(this.data);
        const [result, changed] = fn(draft);
        if (changed) {
          prune(draft, this.now());
          await writeFileAtomic(this.file, `${JSON.stringify(draft, null, 1)}\n`);
          this.data = draft;
          this.stamp = await this.statStamp();
        }
        return clone(result);
      } finally {
        await release();
      }
    });
  }

  createUser(user: UserRecord): Promise<boolean> {
    return this.write((d) => (own(d.users, user.id) ? [false, false] : ((d.users[user.id] = clone(user)), [true, true])));
  }
  getUser(id: string): Promise<UserRecord | null> {
    return this.read((d) => own(d.users, id) ?? null);
  }
  listUsers(): Promise<UserRecord[]> {
    return this.read((d) => Object.values(d.users).sort((a, b) => a.id.localeCompare(b.id)));
  }
  updateUser(id: string, patch: UserPatch): Promise<UserRecord | null> {
    return this.write((d) => {
      const u = own(d.users, id);
      if (!u) return [null, false];
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) delete (u as unknown as Record<string, unknown>)[k];
        else (u as unknown as Record<string, unknown>)[k] = clone(v);
      }
      return [u, true];
    });
  }
  removeUser(id: string): Promise<boolean> {
    return this.write((d) => {
      if (!own(d.users, id)) return [false, false];
      delete d.users[id];
      delete d.totpSteps[id];
      for (const s of Object.values(d.sessions)) if (s.user === id) s.revoked = true;
      return [true, true];
    });
  }

  createPc(pc: PcRecord): Promise<boolean> {
    return this.write((d) => (own(d.pcs, pc.id) ? [false, false] : ((d.pcs[pc.id] = clone(pc)), [true, true])));
  }
  getPc(id: string): Promise<PcRecord | null> {
    return this.read((d) => own(d.pcs, id) ?? null);
  }
  listPcs(): Promise<PcRecord[]> {
    return this.read((d) => Object.values(d.pcs).sort((a, b) => a.id.localeCompare(b.id)));
  }
  updatePc(id: string, patch: PcPatch): Promise<PcRecord | null> {
    return this.write((d) => {
      const pc = own(d.pcs, id);
      if (!pc) return [null, false];
      Object.assign(pc, clone(patch));
      return [pc, true];
    });
  }

  groupPolicies(): Promise<Record<string, Policy>> {
    return this.read((d) => d.groups);
  }
  setGroupPolicy(group: string, policy: Policy | null): Promise<void> {
    return this.write((d) => {
      if (policy) d.groups[group] = clone(policy);
      else delete d.groups[group];
      return [undefined, true];
    });
  }

  recordLoginFailure(key: string, rule: LockoutRule, now: number): Promise<FailureResult> {
    return this.write((d) => {
      let f = own(d.failures, key);
      if (f && f.lockedUntil !== null && f.lockedUntil > now) return [{ failures: f.count, lockedUntil: f.lockedUntil }, false];
      // A new window after the old one ran out, or after a lock expired.
      if (!f || now - f.firstAt >= rule.windowMs || f.lockedUntil !== null) f = { count: 0, firstAt: now, lockedUntil: null };
      f.count++;
      if (f.count >= rule.limit) f.lockedUntil = now + rule.lockMs;
      d.failures[key] = f;
      return [{ failures: f.count, lockedUntil: f.lockedUntil }, true];
    });
  }
  lockedUntil(key: string, now: number): Promise<number | null> {
    return this.read((d) => {
      const until = own(d.failures, key)?.lockedUntil ?? null;
      return until !== null && until > now ? until : null;
    });
  }
  clearLoginFailures(key: string): Promise<void> {
    return this.write((d) => {
      if (!own(d.failures, key)) return [undefined, false];
      delete d.failures[key];
      return [undefined, true];
    });
  }

  claimTotpStep(user: string, step: number): Promise<boolean> {
    return this.write((d) => {
      if ((own(d.totpSteps, user) ?? -1) >= step) return [false, false];
      d.totpSteps[user] = step;
      return [true, true];
    });
  }

  /**
   * One licence per (user, PC): a second tab of the same user on the same PC,
   * or a viewer reconnecting before the relay noticed its old socket died,
   * holds a lease of its own but no further licence. Synchronous in here, so
   * atomic within the process (the only one holding these leases).
   */
  acquireLicence(cap: number, holder: { user: string; hostId: string }, now: number): Promise<Lease | null> {
    const pairs = this.licencePairs();
    const pair = `${holder.user}\n${holder.hostId}`;
    if (!pairs.has(pair) && pairs.size >= cap) return Promise.resolve(null);
    const lease: Lease = { id: crypto.randomBytes(12).toString('base64url'), user: holder.user, hostId: holder.hostId, acquiredAt: now };
    this.leases.set(lease.id, lease);
    return Promise.resolve({ ...lease });
  }
  releaseLicence(leaseId: string): Promise<boolean> {
    return Promise.resolve(this.leases.delete(leaseId));
  }
  licenceCount(): Promise<number> {
    return Promise.resolve(this.licencePairs().size);
  }
  listLicences(): Promise<Lease[]> {
    return Promise.resolve([...this.leases.values()].map((l) => ({ ...l })));
  }
  private licencePairs(): Set<string> {
    return new Set([...this.leases.values()].map((l) => `${l.user}\n${l.hostId}`));
  }

  createLoginSession(session: LoginSession): Promise<void> {
    return this.write((d) => {
      d.sessions[session.id] = clone(session);
      return [undefined, true];
    });
  }
  getLoginSession(id: string, now: number): Promise<LoginSession | null> {
    return this.read((d) => {
      const s = own(d.sessions, id);
      return s && !s.revoked && s.expiresAt > now ? s : null;
    });
  }
  revokeLoginSession(id: string): Promise<boolean> {
    return this.write((d) => {
      const s = own(d.sessions, id);
      if (!s || s.revoked) return [false, false];
      s.revoked = true;
      return [true, true];
    });
  }
  revokeUserSessions(user: string): Promise<number> {
    return this.write((d) => {
      let n = 0;
      for (const s of Object.values(d.sessions)) if (s.user === user && !s.revoked) (s.revoked = true), n++;
      return [n, n > 0];
    });
  }

  version(): Promise<string> {
    return this.serial(async () => {
      await this.reload();
      return this.stamp;
    });
  }

  async close(): Promise<void> {
    await this.serial(async () => {});
  }
}

/** Drops what can no longer matter, so the file does not grow without bound. */
function prune(d: StoreData, now: number): void {
  for (const [id, s] of Object.entries(d.sessions)) if (s.expiresAt <= now) delete d.sessions[id];
  const keys = Object.keys(d.failures);
  for (const k of keys) {
    const f = d.failures[k]!;
    // Keep a window's failures for a day at most; locks until they expire.
    if ((f.lockedUntil === null || f.lockedUntil <= now) && now - f.firstAt > 24 * 3600_000) delete d.failures[k];
  }
  const left = Object.entries(d.failures);
  if (left.length > MAX_FAILURE_KEYS) {
    left
      .filter(([, f]) => !(f.lockedUntil !== null && f.lockedUntil > now))
      .sort((a, b) => a[1].firstAt - b[1].firstAt)
      .slice(0, left.length - MAX_FAILURE_KEYS)
      .forEach(([k]) => delete d.failures[k]);
  }
}
