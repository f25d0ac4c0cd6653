/**
 * Session policy for one user: view-only, idle timeout, maximum session
 * length, and whether sound and the microphone may be used. Each field is
 * decided on its own, first match wins:
 *   1. the user's own override;
 *   2. the user's groups — the strictest of those that set it (view-only if
 *      any group says so, the shortest timeout, no sound or microphone if
 *      any group forbids it);
 *   3. the gateway's default.
 * The result goes into the relay's grant; the relay enforces it.
 */
import type { Policy, UserRecord } from './store';

export interface EffectivePolicy {
  viewOnly: boolean;
  /** 0: none. */
  idleTimeoutMs: number;
  /** 0: none. */
  maxSessionMs: number;
  /** May hear the PC's sound (off unless enabled). */
  audio: boolean;
  /** May send the microphone to the PC (off unless enabled). */
  microphone: boolean;
}

/** Limits of any policy value, ms: from one minute to one week. */
export const POLICY_MS_RANGE = [60_000, 7 * 24 * 3600_000] as const;

export function effectivePolicy(user: Pick<UserRecord, 'groups' | 'policy'>, groups: Record<string, Policy>, defaults: EffectivePolicy): EffectivePolicy {
  const mine = user.groups.map((g) => (Object.hasOwn(groups, g) ? groups[g] : undefined)).filter((p): p is Policy => !!p);
  const strictest = (k: 'idleTimeoutMs' | 'maxSessionMs'): number | undefined => {
    const set = mine.map((p) => p[k]).filter((v): v is number => typeof v === 'number');
    if (!set.length) return undefined;
    // 0 means "no limit": any group with a real limit is stricter.
    const limits = set.filter((v) => v > 0);
    return limits.length ? Math.min(...limits) : 0;
  };
  /** A permission: forbidden if any group forbids it, granted if one grants it. */
  const strictestPermission = (k: 'audio' | 'microphone'): boolean | undefined =>
    mine.some((p) => p[k] === false) ? false : mine.some((p) => p[k] === true) ? true : undefined;
  const groupViewOnly = mine.some((p) => p.viewOnly === true) ? true : mine.some((p) => p.viewOnly === false) ? false : undefined;
  return {
    viewOnly: user.policy?.viewOnly ?? groupViewOnly ?? defaults.viewOnly,
    audio: user.policy?.audio ?? strictestPermission('audio') ?? defaults.audio,
    microphone: user.policy?.microphone ?? strictestPermission('microphone') ?? defaults.microphone,
    idleTimeoutMs: user.policy?.idleTimeoutMs ?? strictest('idleTimeoutMs') ?? defaults.idleTimeoutMs,
    maxSessionMs: user.policy?.maxSessionMs ?? strictest('maxSessionMs') ?? defaults.maxSessionMs,
  };
}

/** Parses "30m", "8h", "90s", "0" (none) or plain milliseconds, for the CLI. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new RangeError(`not a duration: ${JSON.stringify(s)} (e.g. 30m, 8h, 0 for none)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  const ms = Math.round(Number(m[1]) * unit);
  if (ms !== 0 && (ms < POLICY_MS_RANGE[0] || ms > POLICY_MS_RANGE[1])) throw new RangeError(`${s}: must be 0 (none) or between 1 minute and 7 days`);
  return ms;
}
