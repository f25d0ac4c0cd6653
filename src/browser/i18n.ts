/**
 * Every text the viewer shows or announces, Japanese first and English. The
 * language is the browser's (as the gateway picks it): English only when the
 * browser lists some English before any Japanese, Japanese otherwise; an
 * embedder can force one (ViewerOptions.lang).
 */

import type { Lang } from '../i18n/language';

export { type Lang, langFromList as pickLang } from '../i18n/language';

const TEXT = {
  connecting: ['接続中…', 'Connecting…'],
  connected: ['接続済み', 'Connected'],
  reconnecting: ['再接続中…', 'Reconnecting…'],
  closed: ['切断されました', 'Disconnected'],
  attempt: ['{n}回目', 'attempt {n}'],
  retryingIn: ['{s}秒後に再試行', 'retrying in {s} s'],
  disconnectedNotice: ['接続が切れています。画面は最後の状態のままです', 'Not connected. The picture is the last one received'],
  inputHeld: ['接続が戻ったら入力を送ります', 'Your typing will be sent once reconnected'],
  inputDropped: ['切断中の操作 {n} 件は送信されませんでした', '{n} actions made while disconnected were not sent'],
  unavailable: ['画面を取得できません（再試行中）', 'Screen unavailable (retrying)'],
  ended: ['画面の共有は終了しました', 'Screen sharing has ended'],
  lossless: ['可逆', 'lossless'],
  jpegAndLossless: ['JPEG＋可逆', 'JPEG + lossless'],
  idle: ['変化なし', 'idle'],
  linkGood: ['回線: 良好', 'link: good'],
  linkFair: ['回線: やや遅い', 'link: fair'],
  linkPoor: ['回線: 遅い', 'link: poor'],
  linkUnknown: ['回線: 不明', 'link: unknown'],
  decodeFailed: ['画面の復号に失敗しました。再取得します', 'Could not decode the screen; refreshing'],
  protocolError: ['通信エラー', 'Connection error'],
  hostSays: ['PC側: ', 'PC: '],
  // Toolbar
  toolbar: ['操作ツールバー', 'Controls'],
  showToolbar: ['ツールバーを開く', 'Show controls'],
  hideToolbar: ['ツールバーを閉じる', 'Hide controls'],
  keyboard: ['キーボード', 'Keyboard'],
  ctrl: ['Ctrl（次のキーと同時に押す）', 'Ctrl (held for the next key)'],
  alt: ['Alt（次のキーと同時に押す）', 'Alt (held for the next key)'],
  win: ['Windowsキー（次のキーと同時に押す）', 'Windows key (held for the next key)'],
  shift: ['Shift（次のキーと同時に押す）', 'Shift (held for the next key)'],
  esc: ['Esc', 'Esc'],
  tab: ['Tab', 'Tab'],
  left: ['左矢印', 'Left arrow'],
  up: ['上矢印', 'Up arrow'],
  right: ['右矢印', 'Right arrow'],
  down: ['下矢印', 'Down arrow'],
  zenkaku: ['半角/全角（日本語入力の切り替え）', 'Hankaku/Zenkaku (Japanese input on/off)'],
  ctrlAltDel: ['Ctrl+Alt+Del', 'Ctrl+Alt+Del'],
  fullscreen: ['全画面表示', 'Full screen'],
  fullscreenShort: ['全画面', 'Full'],
  touchMode: ['タッチ操作: 触れた所をクリック（切り替え）', 'Touch: tap where you click (switch)'],
  trackpadMode: ['トラックパッド操作: 指でポインターを動かす（切り替え）', 'Trackpad: the finger moves the pointer (switch)'],
  zoomFit: ['画面全体を表示', 'Fit to screen'],
  zoomOne: ['等倍（1:1）で表示', 'Actual size (1:1)'],
  dataSaver: ['データ節約（動きの多い部分を粗く・少なく）', 'Data saver (moving parts coarser and less often)'],
  dataSaverUnsupported: ['この接続先はデータ節約に対応していません', 'This PC does not support data saver'],
  disconnect: ['切断', 'Disconnect'],
  // Audio (toolbar and the audio-only buttons of a viewer without toolbar)
  tapForSound: ['タップして音声を再生', 'Tap to play sound'],
  mute: ['消音', 'Mute'],
  unmute: ['消音を解除', 'Unmute'],
  volume: ['音量', 'Volume'],
  micOn: ['マイクをオンにする', 'Turn microphone on'],
  micOff: ['マイクをオフにする', 'Turn microphone off'],
  micDenied: ['マイクを使用できません', 'The microphone cannot be used'],
  audioUnsupported: ['このブラウザーでは音声を使用できません', 'This browser cannot play the sound'],
  disconnectedByUser: ['切断しました', 'You disconnected'],
} satisfies Record<string, [string, string]>;

export type TextKey = keyof typeof TEXT;

/** The text for `key` with {name} placeholders filled. */
export function text(lang: Lang, key: TextKey, vars: Record<string, string | number> = {}): string {
  const s = TEXT[key][lang === 'ja' ? 0 : 1];
  return s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}
