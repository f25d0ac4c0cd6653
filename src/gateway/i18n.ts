/**
 * Every text a user or an administrator sees, in Japanese (first) and
 * English. The language is the browser's: English only when the
 * Accept-Language header prefers some English over any Japanese, Japanese
 * otherwise (including when the header is missing).
 */

import type { Lang } from '../i18n/language';

export { type Lang, langFromAcceptLanguage as pickLang } from '../i18n/language';

const MESSAGES = {
  appTitle: ['リモート接続', 'Remote access'],
  loginTitle: ['ログイン', 'Sign in'],
  userId: ['ID', 'ID'],
  password: ['パスワード', 'Password'],
  totp: ['ワンタイムコード（設定している方のみ）', 'One-time code (if you have set one up)'],
  loginButton: ['ログイン', 'Sign in'],
  badCredentials: ['IDまたはパスワードが違います', 'The ID or password is incorrect'],
  locked: ['ログインの失敗が続いたため、一時的にログインできません。しばらく待ってからお試しください', 'Too many failed sign-ins: signing in is blocked for a while. Please try again later'],
  licenceFull: ['同時接続数の上限に達しています', 'The limit of concurrent connections has been reached'],
  licenceFullRetry: ['しばらく待ってから、もう一度お試しください', 'Please wait a little and try again'],
  formExpired: ['画面の有効期限が切れました。もう一度お試しください', 'This page expired. Please try again'],
  loggedOut: ['ログアウトしました', 'You have signed out'],
  sessionExpired: ['ログインの有効期限が切れました。もう一度ログインしてください', 'Your sign-in expired. Please sign in again'],
  logout: ['ログアウト', 'Sign out'],
  signedInAs: ['ログイン中: ', 'Signed in as '],
  pcListTitle: ['接続するPC', 'Your PCs'],
  noPcs: ['接続できるPCが登録されていません。管理者にお問い合わせください', 'No PC has been assigned to you. Please contact your administrator'],
  online: ['オンライン', 'Online'],
  offline: ['オフライン', 'Offline'],
  open: ['接続', 'Open'],
  pcName: ['PC名', 'PC'],
  status: ['状態', 'Status'],
  viewerTitle: ['PCの画面', 'PC screen'],
  backToList: ['PC一覧に戻る', 'Back to your PCs'],
  retry: ['再接続', 'Reconnect'],
  pcOffline: ['PCがオフラインです。PCの電源とネットワークを確認してください', 'The PC is offline. Check that it is switched on and connected'],
  notYourPc: ['このPCへの接続は許可されていません', 'You are not allowed to open this PC'],
  adminTitle: ['管理', 'Administration'],
  adminLink: ['管理画面', 'Administration'],
  activeSessions: ['接続中のセッション', 'Active sessions'],
  noSessions: ['接続中のセッションはありません', 'No active sessions'],
  user: ['ユーザー', 'User'],
  since: ['開始', 'Since'],
  bytes: ['転送量', 'Data'],
  rtt: ['RTT', 'RTT'],
  kick: ['切断', 'Disconnect'],
  kicked: ['管理者により切断されました', 'Disconnected by an administrator'],
  licencesInUse: ['使用中のライセンス', 'Licences in use'],
  pcs: ['PC一覧', 'PCs'],
  hostId: ['ホストID', 'Host ID'],
  revoked: ['登録取消', 'Revoked'],
  address: ['接続元', 'Address'],
  screen: ['画面', 'Screen'],
  viewOnly: ['閲覧のみ', 'View only'],
  forbidden: ['この画面を表示する権限がありません', 'You are not allowed to see this page'],
  notFound: ['ページが見つかりません', 'Page not found'],
  badRequest: ['要求が正しくありません', 'Bad request'],
  serverError: ['エラーが発生しました。しばらくしてからお試しください', 'Something went wrong. Please try again later'],
} as const satisfies Record<string, readonly [string, string]>;

export type MessageKey = keyof typeof MESSAGES;

export function t(lang: Lang, key: MessageKey): string {
  return MESSAGES[key][lang === 'en' ? 1 : 0];
}

/** Dates and sizes as each language writes them (Asia/Tokyo: the gateway serves Japanese cities). */
export function formatTime(lang: Lang, ms: number): string {
  return new Date(ms).toLocaleString(lang === 'en' ? 'en-GB' : 'ja-JP', { timeZone: 'Asia/Tokyo', hour12: false });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
