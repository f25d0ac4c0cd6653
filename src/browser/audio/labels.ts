/** The audio controls' words: the viewer's texts (src/browser/i18n.ts), Japanese first, English by language. */
import { Lang, pickLang, text } from '../i18n';

const KEYS = ['tapForSound', 'mute', 'unmute', 'volume', 'micOn', 'micOff', 'micDenied', 'audioUnsupported'] as const;

export type AudioLabels = Record<(typeof KEYS)[number], string>;

export function audioLabels(lang: Lang = typeof navigator === 'undefined' ? 'ja' : pickLang(navigator.languages?.length ? navigator.languages : [navigator.language])): AudioLabels {
  return Object.fromEntries(KEYS.map((k) => [k, text(lang, k)])) as AudioLabels;
}
