/**
 * The viewer's toolbar for touch devices: a handle at the bottom right that
 * opens a bar of 44 px buttons (wrapping onto a second row below ~560 px, so
 * it fits a 360 px phone in portrait), within thumb reach. Every button has a
 * spoken label (aria-label) and a tooltip in the UI language; toggles report
 * their state with aria-pressed.
 *
 * It only calls ToolbarActions: what a key means on the wire lives in
 * TextInput, zoom in ViewTransform, the connection in the viewer, sound and
 * microphone in ViewerAudio (whose state the audio buttons show: audioState();
 * they appear only for what the host granted).
 */
import type { AudioControlsState } from './audio/viewerAudio';
import { Lang, TextKey, text } from './i18n';
import type { InputMode } from './touchInput';
import { keepOffRemoteScreen } from './viewerInput';

export type StickyModifier = 'ctrl' | 'alt' | 'win' | 'shift';

export interface ToolbarActions {
  /** Opens or closes the soft keyboard; returns whether it is now open. */
  toggleKeyboard(): boolean;
  /** Presses and releases a key, by KeyboardEvent code and key (the host maps them as it maps a keyboard's). */
  key(code: string, key: string): void;
  /** Arms or disarms a modifier for the next key. */
  sticky(mod: StickyModifier, on: boolean): void;
  ctrlAltDel(): void;
  /** Switches touch input between touchscreen and trackpad; returns the new mode. */
  toggleInputMode(): InputMode;
  /** Fit-to-screen ↔ 1:1; returns true when now at 1:1. */
  toggleZoom(): boolean;
  /** Data saver on/off; returns whether it is on. */
  toggleDataSaver(): boolean;
  disconnect(): void;
  /** Sound and microphone (absent: no audio buttons). */
  audio?: ToolbarAudioActions;
}

export interface ToolbarAudioActions {
  /** Starts playback when the browser waits for a tap, else mutes or unmutes. */
  toggleMute(): void;
  /** 0..1 */
  setVolume(volume: number): void;
  toggleMicrophone(): void;
}

const BUTTON_PX = 44;

interface Spec {
  id: string;
  label: string;
  title: TextKey;
  run(b: HTMLButtonElement): void;
  toggle?: boolean;
}

export class Toolbar {
  readonly element: HTMLDivElement;
  private readonly bar: HTMLDivElement;
  private readonly handle: HTMLButtonElement;
  private readonly buttons = new Map<string, HTMLButtonElement>();
  private readonly volume: HTMLInputElement | null = null;

  constructor(container: HTMLElement, private readonly lang: Lang, private readonly actions: ToolbarActions) {
    this.element = document.createElement('div');
    this.element.className = 'tilecast-toolbar';
    this.element.setAttribute('role', 'toolbar');
    this.element.setAttribute('aria-label', text(lang, 'toolbar'));
    Object.assign(this.element.style, {
      position: 'absolute', right: '8px', bottom: 'calc(8px + env(safe-area-inset-bottom, 0px))', zIndex: '3', display: 'flex',
      flexDirection: 'column', alignItems: 'flex-end', gap: '6px', maxWidth: 'calc(100% - 16px)', touchAction: 'manipulation',
      font: '15px system-ui, sans-serif',
    });
    this.bar = document.createElement('div');
    this.bar.className = 'tilecast-toolbar-buttons';
    Object.assign(this.bar.style, {
      display: 'none', flexWrap: 'wrap', justifyContent: 'flex-end', gap: '4px', padding: '4px', borderRadius: '8px',
      background: 'rgba(32,32,32,0.88)', maxWidth: `${12 * (BUTTON_PX + 4) + 8}px`,
    });
    this.handle = this.button({ id: 'toolbar', label: '☰', title: 'showToolbar', run: () => this.setOpen(this.bar.style.display === 'none') });
    this.handle.setAttribute('aria-expanded', 'false');
    const specs: Spec[] = [
      { id: 'keyboard', label: '⌨', title: 'keyboard', toggle: true, run: (b) => pressed(b, actions.toggleKeyboard()) },
      ...(['ctrl', 'alt', 'win', 'shift'] as const).map((mod): Spec => ({
        id: mod, label: { ctrl: 'Ctrl', alt: 'Alt', win: '⊞', shift: '⇧' }[mod], title: mod, toggle: true,
        run: (b) => {
          const on = b.getAttribute('aria-pressed') !== 'true';
          pressed(b, on);
          actions.sticky(mod, on);
        },
      })),
      { id: 'esc', label: 'Esc', title: 'esc', run: () => actions.key('Escape', 'Escape') },
      { id: 'tab', label: 'Tab', title: 'tab', run: () => actions.key('Tab', 'Tab') },
      { id: 'left', label: '←', title: 'left', run: () => actions.key('ArrowLeft', 'ArrowLeft') },
      { id: 'up', label: '↑', title: 'up', run: () => actions.key('ArrowUp', 'ArrowUp') },
      { id: 'down', label: '↓', title: 'down', run: () => actions.key('ArrowDown', 'ArrowDown') },
      { id: 'right', label: '→', title: 'right', run: () => actions.key('ArrowRight', 'ArrowRight') },
      { id: 'zenkaku', label: '半/全', title: 'zenkaku', run: () => actions.key('Backquote', 'Zenkaku') },
      { id: 'cad', label: 'C+A+D', title: 'ctrlAltDel', run: () => actions.ctrlAltDel() },
      {
        id: 'mode', label: '☝', title: 'touchMode',
        run: (b) => {
          const mode = actions.toggleInputMode();
          b.textContent = mode === 'trackpad' ? '◎' : '☝';
          this.label(b, mode === 'trackpad' ? 'trackpadMode' : 'touchMode');
        },
      },
      {
        id: 'zoom', label: '1:1', title: 'zoomOne',
        run: (b) => {
          const one = actions.toggleZoom();
          b.textContent = one ? '⤢' : '1:1';
          this.label(b, one ? 'zoomFit' : 'zoomOne');
        },
      },
      { id: 'saver', label: '⇣', title: 'dataSaver', toggle: true, run: (b) => pressed(b, actions.toggleDataSaver()) },
      ...(document.fullscreenEnabled ? [{ id: 'fullscreen', label: text(lang, 'fullscreenShort'), title: 'fullscreen' as const, toggle: true, run: () => this.toggleFullscreen() }] : []),
      ...(actions.audio ? this.audioSpecs(actions.audio) : []),
      { id: 'disconnect', label: '⏏', title: 'disconnect', run: () => actions.disconnect() },
    ];
    for (const s of specs) this.bar.append(this.button(s));
    if (actions.audio) {
      this.volume = this.volumeSlider(actions.audio);
      this.buttons.get('sound')!.after(this.volume);
      this.audioState({ soundGranted: false, microphoneGranted: false, running: false, muted: false, volume: 1, microphoneOn: false, error: null });
    }
    this.element.append(this.bar, this.handle);
    container.append(this.element);
    keepOffRemoteScreen(this.element);
    document.addEventListener('fullscreenchange', () => {
      const b = this.buttons.get('fullscreen');
      if (b) pressed(b, document.fullscreenElement !== null);
    });
  }

  setOpen(open: boolean): void {
    this.bar.style.display = open ? 'flex' : 'none';
    this.handle.setAttribute('aria-expanded', String(open));
    this.label(this.handle, open ? 'hideToolbar' : 'showToolbar');
  }

  /** A sticky modifier was used by a key (or released): show it unpressed. */
  stickyReleased(): void {
    for (const id of ['ctrl', 'alt', 'win', 'shift']) {
      const b = this.buttons.get(id);
      if (b) pressed(b, false);
    }
  }

  /** The soft keyboard closed or opened by itself (the key sink lost or got the focus). */
  keyboardShown(open: boolean): void {
    const b = this.buttons.get('keyboard');
    if (b) pressed(b, open);
  }

  /** Shows the audio buttons for what the host granted, in the state ViewerAudio reports. */
  audioState(s: AudioControlsState): void {
    const sound = this.buttons.get('sound');
    const mic = this.buttons.get('mic');
    if (!sound || !mic || !this.volume) return;
    sound.style.display = s.soundGranted ? '' : 'none';
    this.volume.style.display = s.soundGranted && s.running ? '' : 'none';
    mic.style.display = s.microphoneGranted ? '' : 'none';
    if (!s.running) {
      sound.textContent = `🔈 ${text(this.lang, 'tapForSound')}`;
      this.label(sound, 'tapForSound');
      sound.setAttribute('aria-pressed', 'false');
    } else {
      sound.textContent = s.muted ? '🔇' : '🔊';
      this.label(sound, s.muted ? 'unmute' : 'mute');
      pressed(sound, s.muted);
    }
    if (s.error) sound.title = s.error;
    this.volume.value = String(Math.round(s.volume * 100));
    mic.textContent = s.microphoneOn ? '🎙' : '🎙✕';
    this.label(mic, s.microphoneOn ? 'micOff' : 'micOn');
    pressed(mic, s.microphoneOn);
  }

  private audioSpecs(audio: ToolbarAudioActions): Spec[] {
    return [
      { id: 'sound', label: '🔊', title: 'mute', toggle: true, run: () => audio.toggleMute() },
      { id: 'mic', label: '🎙✕', title: 'micOn', toggle: true, run: () => audio.toggleMicrophone() },
    ];
  }

  /** The speaker volume: a slider as tall as the buttons, 0–100 %. */
  private volumeSlider(audio: ToolbarAudioActions): HTMLInputElement {
    const v = document.createElement('input');
    v.type = 'range';
    v.min = '0';
    v.max = '100';
    v.step = '5';
    v.className = 'tilecast-volume';
    v.setAttribute('aria-label', text(this.lang, 'volume'));
    v.title = text(this.lang, 'volume');
    Object.assign(v.style, { width: `${3 * BUTTON_PX}px`, height: `${BUTTON_PX}px`, margin: '0 4px', accentColor: '#1a73e8' });
    v.addEventListener('input', () => audio.setVolume(Number(v.value) / 100));
    return v;
  }

  private toggleFullscreen(): void {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void document.documentElement.requestFullscreen?.().catch(() => undefined);
  }

  private label(b: HTMLButtonElement, key: TextKey): void {
    b.setAttribute('aria-label', text(this.lang, key));
    b.title = text(this.lang, key);
  }

  private button(s: Spec): HTMLButtonElement {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `tilecast-button tilecast-button-${s.id}`;
    b.textContent = s.label;
    this.label(b, s.title);
    Object.assign(b.style, {
      minWidth: `${BUTTON_PX}px`, height: `${BUTTON_PX}px`, padding: '0 6px', border: '1px solid #666', borderRadius: '6px',
      background: '#2b2b2b', color: '#fff', font: 'inherit', cursor: 'pointer',
    });
    // Keep the key sink focused (and the soft keyboard up) when a button is pressed.
    b.addEventListener('mousedown', (e) => e.preventDefault());
    b.addEventListener('click', () => s.run(b));
    if (s.toggle) pressed(b, false);
    this.buttons.set(s.id, b);
    return b;
  }
}

/** A toggle button's state: for screen readers (aria-pressed) and the eye. */
function pressed(b: HTMLButtonElement, on: boolean): void {
  b.setAttribute('aria-pressed', String(on));
  b.style.background = on ? '#1a73e8' : '#2b2b2b';
}
