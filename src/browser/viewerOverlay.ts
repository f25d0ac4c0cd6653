/**
 * The viewer's small UI: connection state, a stats line (RTT, kbit/s, fps,
 * codec), a link-quality dot, a visible error banner, and a notice while the
 * host's screen is unavailable or has ended.
 */
import type { ScreenState, ViewerState, ViewerStatsSnapshot } from './viewerTypes';

/** The screen-state notice: Japanese first, English second. */
export const SCREEN_STATE_TEXT: Record<Exclude<ScreenState, 'live'>, string> = {
  unavailable: '画面を取得できません（再試行中）/ Screen unavailable (retrying)',
  ended: '画面の共有は終了しました / Screen sharing has ended',
};

const STATE_TEXT: Record<ViewerState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
};

/** Link quality from the measured RTT: what a user feels when typing. */
export function linkQuality(rttMs: number | null): 'good' | 'fair' | 'poor' | 'unknown' {
  if (rttMs === null) return 'unknown';
  return rttMs < 120 ? 'good' : rttMs < 350 ? 'fair' : 'poor';
}

const DOT_COLOUR = { good: '#2ecc40', fair: '#ffb700', poor: '#ff4136', unknown: '#888' };

export class ViewerOverlay {
  private readonly bar: HTMLDivElement;
  private readonly dot: HTMLSpanElement;
  private readonly status: HTMLSpanElement;
  private readonly statsLine: HTMLSpanElement;
  private readonly banner: HTMLDivElement;
  private readonly screenNotice: HTMLDivElement;
  private errorShownAt = -Infinity;

  constructor(container: HTMLElement, private readonly showStats: boolean) {
    this.bar = document.createElement('div');
    this.bar.className = 'tilecast-overlay';
    Object.assign(this.bar.style, {
      position: 'absolute', right: '8px', top: '8px', padding: '4px 8px', borderRadius: '4px', zIndex: '2',
      background: 'rgba(0,0,0,0.6)', color: '#fff', font: '12px system-ui, sans-serif', pointerEvents: 'none', whiteSpace: 'nowrap',
    });
    this.dot = document.createElement('span');
    Object.assign(this.dot.style, { display: 'inline-block', width: '8px', height: '8px', borderRadius: '50%', marginRight: '6px', background: DOT_COLOUR.unknown });
    this.status = document.createElement('span');
    this.status.className = 'tilecast-status';
    this.statsLine = document.createElement('span');
    this.statsLine.className = 'tilecast-stats';
    this.statsLine.style.marginLeft = '8px';
    this.bar.append(this.dot, this.status, this.statsLine);
    this.banner = document.createElement('div');
    this.banner.className = 'tilecast-error';
    this.banner.setAttribute('role', 'alert');
    Object.assign(this.banner.style, {
      position: 'absolute', left: '50%', bottom: '16px', transform: 'translateX(-50%)', padding: '8px 12px', borderRadius: '4px', zIndex: '2',
      background: '#b00020', color: '#fff', font: '13px system-ui, sans-serif', display: 'none', maxWidth: '80%',
    });
    this.screenNotice = document.createElement('div');
    this.screenNotice.className = 'tilecast-screen-state';
    this.screenNotice.setAttribute('role', 'status');
    Object.assign(this.screenNotice.style, {
      position: 'absolute', left: '50%', top: '50%', transform: 'translate(-50%, -50%)', padding: '12px 16px', borderRadius: '6px', zIndex: '2',
      background: 'rgba(0,0,0,0.75)', color: '#fff', font: '15px system-ui, sans-serif', textAlign: 'center', display: 'none', maxWidth: '80%',
      pointerEvents: 'none',
    });
    container.append(this.bar, this.banner, this.screenNotice);
  }

  /** Shows (unavailable, ended) or hides (live) the screen-state notice; the host's reason goes in a smaller second line. */
  setScreenState(state: ScreenState, reason: string): void {
    this.screenNotice.dataset.state = state;
    if (state === 'live') {
      this.screenNotice.style.display = 'none';
      this.screenNotice.textContent = '';
      return;
    }
    const text = document.createElement('div');
    text.className = 'tilecast-screen-state-text';
    text.textContent = SCREEN_STATE_TEXT[state];
    const detail = document.createElement('div');
    detail.className = 'tilecast-screen-state-reason';
    Object.assign(detail.style, { fontSize: '12px', opacity: '0.8', marginTop: '4px' });
    detail.textContent = reason;
    this.screenNotice.replaceChildren(text, ...(reason ? [detail] : []));
    this.screenNotice.style.display = 'block';
  }

  setState(state: ViewerState, detail: string): void {
    this.status.textContent = detail ? `${STATE_TEXT[state]} (${detail})` : STATE_TEXT[state];
    this.status.dataset.state = state;
    if (state !== 'connected') this.dot.style.background = DOT_COLOUR.unknown;
  }

  setStats(s: ViewerStatsSnapshot): void {
    const q = linkQuality(s.rttMs);
    this.dot.style.background = s.state === 'connected' ? DOT_COLOUR[q] : DOT_COLOUR.unknown;
    this.dot.title = `link ${q}`;
    this.bar.dataset.link = q;
    if (!this.showStats) return;
    const rtt = s.rttMs === null ? '–' : s.rttMs.toFixed(0);
    this.statsLine.textContent = `RTT ${rtt} ms · ${s.kbps.toFixed(0)} kbit/s · ${s.fps} fps · lossless`;
  }

  showError(message: string): void {
    this.banner.textContent = message;
    this.banner.style.display = 'block';
    this.errorShownAt = performance.now();
  }

  /** Hides the banner once it has been readable for a few seconds. */
  clearError(): void {
    const left = this.errorShownAt + 5000 - performance.now();
    if (left <= 0) this.banner.style.display = 'none';
    else setTimeout(() => this.clearError(), left);
  }
}
