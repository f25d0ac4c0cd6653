/**
 * The viewer's small UI, in the UI language: connection state, a stats line
 * (RTT, kbit/s, fps, the codec of the last second), a link-quality dot, a
 * visible error banner, a notice while the host's screen is unavailable or has
 * ended, and a dimmed picture with an announced notice while disconnected.
 * Sized for a phone: the bar never runs off the screen (it wraps, then clips).
 */
import { Lang, TextKey, text } from './i18n';
import type { ScreenState, ViewerState, ViewerStatsSnapshot } from './viewerTypes';

/** Link quality from the measured RTT: what a user feels when typing. */
export function linkQuality(rttMs: number | null): 'good' | 'fair' | 'poor' | 'unknown' {
  if (rttMs === null) return 'unknown';
  return rttMs < 120 ? 'good' : rttMs < 350 ? 'fair' : 'poor';
}

const DOT_COLOUR = { good: '#2ecc40', fair: '#ffb700', poor: '#ff4136', unknown: '#888' };
const LINK_TEXT = { good: 'linkGood', fair: 'linkFair', poor: 'linkPoor', unknown: 'linkUnknown' } as const;

function box(className: string, role: string | null, style: Partial<CSSStyleDeclaration>): HTMLDivElement {
  const el = document.createElement('div');
  el.className = className;
  if (role) el.setAttribute('role', role);
  Object.assign(el.style, style);
  return el;
}

export class ViewerOverlay {
  private readonly bar: HTMLDivElement;
  private readonly dot: HTMLSpanElement;
  private readonly status: HTMLSpanElement;
  private readonly statsLine: HTMLSpanElement;
  private readonly banner: HTMLDivElement;
  private readonly screenNotice: HTMLDivElement;
  private readonly linkNotice: HTMLDivElement;
  private errorShownAt = -Infinity;

  constructor(container: HTMLElement, private readonly showStats: boolean, private readonly lang: Lang, private readonly screen: () => HTMLCanvasElement) {
    this.bar = box('tilecast-overlay', null, {
      position: 'absolute', right: '8px', top: 'calc(8px + env(safe-area-inset-top, 0px))', padding: '4px 8px', borderRadius: '4px', zIndex: '2',
      background: 'rgba(0,0,0,0.6)', color: '#fff', font: '12px system-ui, sans-serif', pointerEvents: 'none',
      maxWidth: 'calc(100% - 16px)', boxSizing: 'border-box', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'normal', textAlign: 'right',
    });
    this.dot = document.createElement('span');
    this.dot.className = 'tilecast-link';
    this.dot.setAttribute('role', 'img');
    Object.assign(this.dot.style, { display: 'inline-block', width: '8px', height: '8px', borderRadius: '50%', marginRight: '6px', background: DOT_COLOUR.unknown });
    this.status = document.createElement('span');
    this.status.className = 'tilecast-status';
    this.statsLine = document.createElement('span');
    this.statsLine.className = 'tilecast-stats';
    Object.assign(this.statsLine.style, { marginLeft: '8px', display: 'inline-block' });
    this.bar.append(this.dot, this.status, this.statsLine);
    this.banner = box('tilecast-error', 'alert', {
      position: 'absolute', left: '50%', top: '25%', transform: 'translateX(-50%)', padding: '8px 12px', borderRadius: '4px', zIndex: '2',
      background: '#b00020', color: '#fff', font: '13px system-ui, sans-serif', display: 'none', maxWidth: '80%', pointerEvents: 'none',
    });
    const centred: Partial<CSSStyleDeclaration> = {
      position: 'absolute', left: '50%', top: '50%', transform: 'translate(-50%, -50%)', padding: '12px 16px', borderRadius: '6px', zIndex: '2',
      background: 'rgba(0,0,0,0.75)', color: '#fff', font: '15px system-ui, sans-serif', textAlign: 'center', display: 'none', maxWidth: '80%',
      pointerEvents: 'none',
    };
    this.screenNotice = box('tilecast-screen-state', 'status', centred);
    // Announced at once by screen readers: the picture is stale and input may not arrive.
    this.linkNotice = box('tilecast-disconnected', 'status', centred);
    this.linkNotice.setAttribute('aria-live', 'assertive');
    container.append(this.bar, this.banner, this.screenNotice, this.linkNotice);
  }

  t(key: TextKey, vars?: Record<string, string | number>): string {
    return text(this.lang, key, vars);
  }

  /** Shows (unavailable, ended) or hides (live) the screen-state notice; the host's reason goes in a smaller second line. */
  setScreenState(state: ScreenState, reason: string): void {
    this.screenNotice.dataset.state = state;
    if (state === 'live') {
      this.screenNotice.style.display = 'none';
      this.screenNotice.textContent = '';
      return;
    }
    const line = document.createElement('div');
    line.className = 'tilecast-screen-state-text';
    line.textContent = this.t(state);
    const detail = document.createElement('div');
    detail.className = 'tilecast-screen-state-reason';
    Object.assign(detail.style, { fontSize: '12px', opacity: '0.8', marginTop: '4px' });
    detail.textContent = reason;
    this.screenNotice.replaceChildren(line, ...(reason ? [detail] : []));
    this.screenNotice.style.display = 'block';
  }

  /** The connection state; anything but connected dims the picture and says so (with `detail`: why, what next). */
  setState(state: ViewerState, detail: string, hasPicture: boolean): void {
    this.status.textContent = detail ? `${this.t(state)} (${detail})` : this.t(state);
    this.status.dataset.state = state;
    if (state !== 'connected') {
      this.dot.style.background = DOT_COLOUR.unknown;
      this.dot.dataset.state = state; // so setStats colours it again once connected
    }
    const down = state !== 'connected' && hasPicture;
    this.screen().style.filter = down ? 'grayscale(0.7) brightness(0.45)' : '';
    this.linkNotice.dataset.state = state;
    this.linkNotice.style.display = down ? 'block' : 'none';
    // The typing-held line stays while the link is down (the state changes as it retries); the keys
    // are still held until it is back.
    const note = this.linkNotice.querySelector<HTMLDivElement>('.tilecast-input-note');
    this.linkNotice.textContent = down ? `${this.t(state)} — ${this.t('disconnectedNotice')}${detail ? ` (${detail})` : ''}` : '';
    if (down && note) this.linkNotice.append(note);
  }

  /** A second line under the disconnected notice (typing held, actions dropped). */
  noteInput(message: string): void {
    if (this.linkNotice.style.display === 'none') return this.showError(message);
    let note = this.linkNotice.querySelector<HTMLDivElement>('.tilecast-input-note');
    if (!note) {
      note = document.createElement('div');
      note.className = 'tilecast-input-note';
      Object.assign(note.style, { fontSize: '12px', opacity: '0.85', marginTop: '4px' });
      this.linkNotice.append(note);
    }
    note.textContent = message;
  }

  /** The link dot and the stats line; only what differs is written (any change to the page costs the screen's next frame time). */
  setStats(s: ViewerStatsSnapshot): void {
    const q = linkQuality(s.rttMs);
    if (this.bar.dataset.link !== q || this.dot.dataset.state !== s.state) {
      this.dot.style.background = s.state === 'connected' ? DOT_COLOUR[q] : DOT_COLOUR.unknown;
      this.dot.title = this.t(LINK_TEXT[q]);
      this.dot.setAttribute('aria-label', this.t(LINK_TEXT[q]));
      this.dot.dataset.state = s.state;
      this.bar.dataset.link = q;
    }
    if (!this.showStats) return;
    const rtt = s.rttMs === null ? '–' : s.rttMs.toFixed(0);
    const codec = s.codec === 'idle' ? this.t('idle') : s.codec === 'jpeg' ? this.t('jpegAndLossless') : this.t('lossless');
    const line = `RTT ${rtt} ms · ${s.kbps.toFixed(0)} kbit/s · ${s.fps} fps · ${codec}`;
    if (this.statsLine.textContent !== line) this.statsLine.textContent = line;
    if (this.statsLine.dataset.codec !== s.codec) this.statsLine.dataset.codec = s.codec;
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
