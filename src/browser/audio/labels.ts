/** The audio controls' words, Japanese first (staff), English by the browser's language. */
export const AUDIO_LABELS = {
  ja: {
    tapForSound: 'タップして音声を再生',
    mute: '消音',
    unmute: '消音を解除',
    volume: '音量',
    micOn: 'マイクをオンにする',
    micOff: 'マイクをオフにする',
    micDenied: 'マイクを使用できません',
    unsupported: 'このブラウザーでは音声を使用できません',
  },
  en: {
    tapForSound: 'Tap to play sound',
    mute: 'Mute',
    unmute: 'Unmute',
    volume: 'Volume',
    micOn: 'Turn microphone on',
    micOff: 'Turn microphone off',
    micDenied: 'The microphone cannot be used',
    unsupported: 'This browser cannot play the sound',
  },
} as const;

export type AudioLabels = { [K in keyof (typeof AUDIO_LABELS)['ja']]: string };

export function audioLabels(language = typeof navigator === 'undefined' ? 'ja' : navigator.language): AudioLabels {
  return language.toLowerCase().startsWith('ja') ? AUDIO_LABELS.ja : AUDIO_LABELS.en;
}
