/**
 * ViewerAudio: the browser viewer's audio in one object with a small API the
 * viewer (and its toolbar) calls: start() from a tap (autoplay rules), mute,
 * volume, microphone on/off, and the hooks the viewer's connection feeds
 * (connected(), receive(), notePixelBytes()).
 *
 * Controls: the viewer's toolbar has the audio buttons (mute, volume,
 * microphone: it calls setMuted()/setVolume()/setMicrophone() and follows
 * onChange); a viewer without toolbar (view-only) gets a minimal speaker
 * button and microphone button in the top-right corner instead
 * (`controls`, default true). Labels in the viewer's language.
 */
import { Capability } from '../../protocol/constants';
import type { Lang } from '../i18n';
import type { AudioMessage } from '../../protocol/messages';
import { AudioPlayer, PlayerStats, audioPlaybackSupported } from './audioPlayer';
import { AudioLabels, audioLabels } from './labels';
import { Microphone, microphoneSupported } from './microphone';
import { keepOffRemoteScreen } from '../viewerInput';

export interface ViewerAudioOptions {
  /** Play the host's sound (default true when audio is on). */
  sound?: boolean;
  /** Offer the microphone (default false); it starts on setMicrophone(true) or its button. */
  microphone?: boolean;
  /** Start with the microphone on (default false; the browser asks for permission). */
  microphoneOn?: boolean;
  /** Speaker volume 0..1 (default 1). */
  volume?: number;
  /** Show the minimal buttons (default true). */
  controls?: boolean;
  /** URL of tilecast-audio-worklet.js (default: beside the viewer bundle). */
  workletUrl?: string;
  /** Labels' language (default: the browser's; the viewer passes its own). */
  lang?: Lang;
  /** Called whenever AudioControlsState changes (the toolbar follows it). */
  onChange?: (state: AudioControlsState) => void;
}

/** What audio controls show. */
export interface AudioControlsState {
  /** The host sends its sound to this viewer. */
  soundGranted: boolean;
  /** The host takes this viewer's microphone. */
  microphoneGranted: boolean;
  /** Playing (false: the browser waits for a tap, autoplay rules). */
  running: boolean;
  muted: boolean;
  /** 0..1 */
  volume: number;
  microphoneOn: boolean;
  /** Why sound or the microphone cannot be used, in the viewer's language; null when they can. */
  error: string | null;
}

export interface ViewerAudioStats {
  playback: (PlayerStats & { error: string | null }) | null;
  microphone: { active: boolean; framesCaptured: number; framesSent: number; error: string | null } | null;
}

/** Beside the viewer bundle (dist/browser/, served at / by viewerPage()). */
// @ts-ignore import.meta: the viewer is bundled as an ES module (scripts/build-viewer.js); the type-check runs as CommonJS
const defaultWorkletUrl = (): string => new URL('./tilecast-audio-worklet.js', import.meta.url).href;

export class ViewerAudio {
  private player: AudioPlayer | null = null;
  private mic: Microphone | null = null;
  private readonly supported: boolean;
  private readonly micWanted: boolean;
  private playerError: string | null = null;
  private readonly labels: AudioLabels;
  private soundGranted = false;
  private micGranted = false;
  private volume: number;
  private micError: string | null = null;
  private sendMic: ((frame: Omit<AudioMessage, 'type' | 'codec'>) => void) | null = null;
  private readonly buttons: { speaker: HTMLButtonElement; mic: HTMLButtonElement | null } | null = null;

  constructor(
    private readonly container: HTMLElement,
    private readonly options: ViewerAudioOptions,
  ) {
    this.labels = audioLabels(options.lang);
    this.volume = options.volume ?? 1;
    this.supported = audioPlaybackSupported();
    this.micWanted = options.microphone === true && microphoneSupported();
    if (options.controls !== false) this.buttons = this.makeButtons();
    // Autoplay: the context may only start from a user gesture; a tap or key on the viewer does it
    // (the listeners stay until it runs: the host's grant may come after the first tap).
    const unlock = () => {
      if (this.player && this.player.context.state !== 'running') void this.start();
    };
    container.addEventListener('pointerdown', unlock, { capture: true });
    container.addEventListener('keydown', unlock, { capture: true });
  }

  /**
   * The AudioContext, worklets and microphone exist only once a host granted
   * sound or the microphone (a page whose host has no audio makes none).
   */
  private ensurePlayer(): AudioPlayer | null {
    if (this.player || !this.supported) return this.player;
    const player = new AudioPlayer(this.options.workletUrl ?? defaultWorkletUrl());
    player.ready.catch((err: Error) => {
      this.playerError = `${this.labels.audioUnsupported}: ${err.message}`;
      this.refreshButtons();
    });
    player.setVolume(this.volume);
    // The context may start or stop by itself (autoplay allowed, the OS took the device).
    player.context.addEventListener('statechange', () => this.refreshButtons());
    this.player = player;
    if (this.micWanted) this.mic = new Microphone(player.context, player.ready, (f) => this.sendMic?.(f));
    if (this.options.microphoneOn) void this.setMicrophone(true);
    return player;
  }

  /** The HELLO capability bits to ask for: what this browser can do and the options want. */
  capabilities(viewOnly: boolean): number {
    return (this.supported && this.options.sound !== false ? Capability.AUDIO : 0) | (this.micWanted && !viewOnly ? Capability.MICROPHONE : 0);
  }

  /** Starts playback (call from a user gesture the first time). */
  async start(): Promise<void> {
    await this.player?.unlock().catch(() => {});
    this.refreshButtons();
  }

  setMuted(muted: boolean): void {
    this.player?.setMuted(muted);
    this.refreshButtons();
  }

  setVolume(volume: number): void {
    this.volume = Math.max(0, Math.min(1, volume));
    this.player?.setVolume(this.volume);
    this.refreshButtons();
  }

  /** What the controls show now. */
  state(): AudioControlsState {
    return {
      soundGranted: this.soundGranted, microphoneGranted: this.micGranted, running: this.player?.context.state === 'running',
      muted: this.player?.isMuted ?? false, volume: this.volume, microphoneOn: this.mic?.active === true,
      error: this.playerError ?? this.micError ?? (this.supported ? null : this.labels.audioUnsupported),
    };
  }

  /** Microphone on (asks the browser's permission) or off. */
  async setMicrophone(on: boolean): Promise<void> {
    if (!this.mic) return;
    if (!on) this.mic.stop();
    else {
      try {
        await this.player!.unlock();
        await this.mic.start();
        this.micError = null;
      } catch (err) {
        this.micError = `${this.labels.micDenied}: ${(err as Error).message}`;
      }
    }
    this.refreshButtons();
  }

  /**
   * A connection's HELLO exchange finished: a new sound stream starts, and
   * the microphone goes to `send` only while the host accepts it.
   */
  connected(soundGranted: boolean, send: ((frame: Omit<AudioMessage, 'type' | 'codec'>) => void) | null): void {
    if (soundGranted || send) this.ensurePlayer();
    this.player?.reset();
    this.sendMic = send;
    this.soundGranted = soundGranted;
    this.micGranted = send !== null && this.mic !== null;
    this.refreshButtons();
    // The buttons show only for what this host grants.
    if (this.buttons) {
      this.buttons.speaker.style.display = soundGranted ? '' : 'none';
      if (this.buttons.mic) this.buttons.mic.style.display = send ? '' : 'none';
    }
  }

  /** The connection is gone: nothing more is sent (a stale sender must not talk to the next connection before its grant). */
  disconnected(): void {
    this.sendMic = null;
  }

  receive(msg: AudioMessage): void {
    this.ensurePlayer()?.receive(msg);
  }

  /** `bytes` of another message (pixels) arrived: the sound's delay allows for pixel load. */
  notePixelBytes(bytes: number): void {
    this.player?.notePixelBytes(bytes);
  }

  stats(): ViewerAudioStats {
    return {
      playback: this.player ? { ...this.player.stats(), error: this.playerError } : null,
      microphone: this.mic ? { active: this.mic.active, framesCaptured: this.mic.framesCaptured, framesSent: this.mic.framesSent, error: this.micError ?? this.mic.lastError } : null,
    };
  }

  close(): void {
    this.mic?.stop();
    this.player?.close();
    this.buttons?.speaker.parentElement?.remove();
  }

  private makeButtons(): { speaker: HTMLButtonElement; mic: HTMLButtonElement | null } {
    const bar = document.createElement('div');
    bar.className = 'tilecast-audio-controls';
    Object.assign(bar.style, { position: 'absolute', top: '8px', right: '8px', display: 'flex', gap: '6px', zIndex: '3' });
    const button = (onClick: () => void) => {
      const b = document.createElement('button');
      b.type = 'button';
      Object.assign(b.style, { font: '16px system-ui, sans-serif', padding: '6px 10px', borderRadius: '6px', border: '0', background: 'rgba(0,0,0,0.6)', color: '#fff' });
      b.addEventListener('click', (ev) => {
        ev.stopPropagation();
        onClick();
      });
      bar.append(b);
      return b;
    };
    bar.style.pointerEvents = 'auto';
    keepOffRemoteScreen(bar);
    const speaker = button(() => {
      if (this.player?.context.state !== 'running') return void this.start();
      this.setMuted(!this.player.isMuted);
    });
    speaker.className = 'tilecast-audio-speaker';
    const mic = this.micWanted ? button(() => void this.setMicrophone(!this.mic?.active)) : null;
    if (mic) mic.className = 'tilecast-audio-mic';
    speaker.style.display = 'none'; // until the host's HELLO grants sound (connected())
    if (mic) mic.style.display = 'none';
    this.container.append(bar);
    const b = { speaker, mic };
    queueMicrotask(() => this.refreshButtons());
    return b;
  }

  private refreshButtons(): void {
    this.options.onChange?.(this.state());
    const b = this.buttons;
    if (!b) return;
    const L = this.labels;
    if (!this.player || this.playerError) {
      b.speaker.textContent = '🔇';
      b.speaker.title = this.playerError ?? L.audioUnsupported;
    } else if (this.player.context.state !== 'running') {
      b.speaker.textContent = `🔈 ${L.tapForSound}`;
      b.speaker.title = L.tapForSound;
    } else {
      b.speaker.textContent = this.player.isMuted ? '🔇' : '🔊';
      b.speaker.title = this.player.isMuted ? L.unmute : L.mute;
    }
    b.speaker.setAttribute('aria-label', b.speaker.title);
    if (b.mic) {
      const on = this.mic?.active === true;
      b.mic.textContent = on ? '🎙️' : '🎙️✕';
      b.mic.title = this.micError ?? (on ? L.micOff : L.micOn);
      b.mic.setAttribute('aria-label', b.mic.title);
    }
  }
}
