/**
 * Keeps the screen on while the viewer is connected, where the browser allows
 * it (Screen Wake Lock API; not everywhere, and only for a visible page: the
 * browser drops the lock when the page is hidden, so it is asked for again
 * when the page shows). Failures are silent: the screen then sleeps as usual.
 * One request at a time: two racing requests would leave one lock held with
 * nothing to release it.
 */
type Lock = { released: boolean; release(): Promise<void> };
type WakeLockApi = { request(type: 'screen'): Promise<Lock> };

export class ScreenWakeLock {
  private lock: Lock | null = null;
  private wanted = false;
  private requesting = false;
  private readonly onVisibility = () => void this.acquire();

  constructor() {
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  /** On: hold the lock (now, and again whenever the page shows); off: release it. */
  set(on: boolean): void {
    this.wanted = on;
    if (on) return void this.acquire();
    const lock = this.lock;
    this.lock = null;
    void lock?.release().catch(() => undefined);
  }

  dispose(): void {
    this.set(false);
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  private async acquire(): Promise<void> {
    if (this.requesting || !this.wanted || (this.lock && !this.lock.released) || document.visibilityState !== 'visible') return;
    const api = (navigator as Navigator & { wakeLock?: WakeLockApi }).wakeLock;
    if (!api) return;
    this.requesting = true;
    const lock = await api.request('screen').catch(() => null);
    this.requesting = false;
    if (this.wanted) this.lock = lock;
    else void lock?.release().catch(() => undefined); // turned off while the request was pending
  }
}
