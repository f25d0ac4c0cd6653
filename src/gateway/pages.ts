/**
 * The gateway's server-rendered pages: login, the user's PCs, the viewer, the
 * admin page, errors. Plain HTML strings, every value escaped; no inline
 * script (the CSP forbids it) — the viewer page loads /static/gateway-viewer.js.
 * Forms that POST carry a per-form CSRF token (SameSite=Strict is the first
 * line, this the second).
 */
import { type Lang, type MessageKey, formatBytes, formatTime, t } from './i18n';

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface PageUser {
  id: string;
  displayName: string;
  isAdmin: boolean;
  /** CSRF token for this login session's forms. */
  csrf: string;
}

interface LayoutOptions {
  lang: Lang;
  title: string;
  body: string;
  user?: PageUser;
  /** Reload the page this often (admin and PC list: online states change), seconds. */
  refreshSeconds?: number;
  bodyClass?: string;
  scripts?: string[];
}

function layout(o: LayoutOptions): string {
  const head = o.user
    ? `<header><span class="app">${esc(t(o.lang, 'appTitle'))}</span><nav>` +
      `<span>${esc(t(o.lang, 'signedInAs'))}${esc(o.user.displayName)}</span>` +
      `<a href="/pcs">${esc(t(o.lang, 'pcListTitle'))}</a>` +
      (o.user.isAdmin ? `<a href="/admin">${esc(t(o.lang, 'adminLink'))}</a>` : '') +
      `<form method="post" action="/logout"><input type="hidden" name="csrf" value="${esc(o.user.csrf)}"><button type="submit">${esc(t(o.lang, 'logout'))}</button></form>` +
      `</nav></header>`
    : '';
  return `<!doctype html>
<html lang="${o.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${o.refreshSeconds ? `<meta http-equiv="refresh" content="${o.refreshSeconds}">\n` : ''}<title>${esc(o.title)} - ${esc(t(o.lang, 'appTitle'))}</title>
<link rel="stylesheet" href="/static/gateway.css">
${(o.scripts ?? []).map((s) => `<script type="module" src="${esc(s)}"></script>`).join('\n')}
</head>
<body${o.bodyClass ? ` class="${esc(o.bodyClass)}"` : ''}>
${head}<main>
${o.body}
</main>
</body>
</html>
`;
}

export function loginPage(lang: Lang, o: { csrf: string; error?: MessageKey; notice?: MessageKey; userId?: string }): string {
  const msg = o.error
    ? `<p class="error" role="alert">${esc(t(lang, o.error))}${o.error === 'licenceFull' ? `<br>${esc(t(lang, 'licenceFullRetry'))}` : ''}</p>`
    : o.notice ? `<p class="notice">${esc(t(lang, o.notice))}</p>` : '';
  const body = `<form class="login" method="post" action="/login" autocomplete="off">
<h1>${esc(t(lang, 'appTitle'))} ${esc(t(lang, 'loginTitle'))}</h1>
${msg}
<input type="hidden" name="csrf" value="${esc(o.csrf)}">
<label>${esc(t(lang, 'userId'))}<input name="user" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required value="${esc(o.userId ?? '')}"${o.userId ? '' : ' autofocus'}></label>
<label>${esc(t(lang, 'password'))}<input name="password" type="password" autocomplete="current-password" maxlength="1024" required${o.userId ? ' autofocus' : ''}></label>
<label>${esc(t(lang, 'totp'))}<input name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7"></label>
<button type="submit">${esc(t(lang, 'loginButton'))}</button>
</form>`;
  return layout({ lang, title: t(lang, 'loginTitle'), body, bodyClass: 'login-page' });
}

export interface PcRow {
  id: string;
  name: string;
  online: boolean;
}

export function pcListPage(lang: Lang, user: PageUser, pcs: PcRow[]): string {
  const rows = pcs.map((pc) => `<li class="${pc.online ? 'on' : 'off'}"><span class="pc-name">${esc(pc.name)}</span>` +
    `<span class="state">${esc(t(lang, pc.online ? 'online' : 'offline'))}</span>` +
    (pc.online ? `<a class="button" href="/view/${encodeURIComponent(pc.id)}">${esc(t(lang, 'open'))}</a>` : `<span class="button disabled">${esc(t(lang, 'open'))}</span>`) +
    `</li>`).join('\n');
  const body = `<h1>${esc(t(lang, 'pcListTitle'))}</h1>\n${pcs.length ? `<ul class="pcs">\n${rows}\n</ul>` : `<p class="notice">${esc(t(lang, 'noPcs'))}</p>`}`;
  return layout({ lang, title: t(lang, 'pcListTitle'), body, user, refreshSeconds: 30 });
}

/**
 * The viewer: the browser viewer bundle mounted by /static/gateway-viewer.js
 * on wss://<this host>/tilecast/viewer?host=<id>; the session cookie
 * authenticates the upgrade. Texts the script may need are data attributes.
 */
export function viewerPage(lang: Lang, user: PageUser, pc: { id: string; name: string }, grants: { viewOnly: boolean; audio: boolean; microphone: boolean }): string {
  const texts: MessageKey[] = ['pcOffline', 'notYourPc', 'licenceFull', 'sessionExpired', 'backToList', 'retry'];
  const data = texts.map((k) => ` data-t-${k.toLowerCase()}="${esc(t(lang, k))}"`).join('');
  // Sound and microphone are asked for only when this user may have them (the relay enforces it anyway).
  const body = `<div id="screen" data-host="${esc(pc.id)}" data-view-only="${grants.viewOnly}" data-audio="${grants.audio}" data-microphone="${grants.microphone && !grants.viewOnly}"${data}></div>
<div id="notice" hidden><p id="notice-text"></p><p><button type="button" id="retry">${esc(t(lang, 'retry'))}</button> <a class="button" href="/pcs">${esc(t(lang, 'backToList'))}</a></p></div>
<a id="back" href="/pcs" title="${esc(t(lang, 'backToList'))}">×</a>`;
  return layout({ lang, title: `${pc.name} - ${t(lang, 'viewerTitle')}`, body, bodyClass: 'viewer-page', scripts: ['/static/gateway-viewer.js'] });
}

export interface AdminSessionRow {
  id: string;
  user: string;
  hostId: string;
  pcName: string;
  remoteAddress: string;
  startedAt: number;
  bytes: number;
  rttMs: number | null;
  viewOnly: boolean;
}

export interface AdminPcRow {
  id: string;
  name: string;
  online: boolean;
  revoked: boolean;
  remoteAddress: string | null;
  since: number | null;
  screen: string | null;
  sessions: number;
}

export function adminPage(lang: Lang, user: PageUser, o: { sessions: AdminSessionRow[]; pcs: AdminPcRow[]; licencesInUse: number; licences: number }): string {
  const tt = (k: MessageKey) => esc(t(lang, k));
  const sessions = o.sessions.length
    ? `<table><thead><tr><th>${tt('user')}</th><th>${tt('pcName')}</th><th>${tt('address')}</th><th>${tt('since')}</th><th>${tt('bytes')}</th><th>${tt('rtt')}</th><th></th></tr></thead><tbody>\n` +
      o.sessions.map((s) => `<tr><td>${esc(s.user)}${s.viewOnly ? ` <small>(${tt('viewOnly')})</small>` : ''}</td><td>${esc(s.pcName)} <small>${esc(s.hostId)}</small></td><td>${esc(s.remoteAddress)}</td>` +
        `<td>${esc(formatTime(lang, s.startedAt))}</td><td>${esc(formatBytes(s.bytes))}</td><td>${s.rttMs === null ? '-' : `${Math.round(s.rttMs)} ms`}</td>` +
        `<td><form method="post" action="/admin/kick"><input type="hidden" name="csrf" value="${esc(user.csrf)}"><input type="hidden" name="session" value="${esc(s.id)}"><button type="submit">${tt('kick')}</button></form></td></tr>`).join('\n') +
      `\n</tbody></table>`
    : `<p class="notice">${tt('noSessions')}</p>`;
  const pcs = `<table><thead><tr><th>${tt('hostId')}</th><th>${tt('pcName')}</th><th>${tt('status')}</th><th>${tt('address')}</th><th>${tt('since')}</th><th>${tt('screen')}</th><th>${tt('activeSessions')}</th></tr></thead><tbody>\n` +
    o.pcs.map((p) => `<tr class="${p.revoked ? 'revoked' : p.online ? 'on' : 'off'}"><td>${esc(p.id)}</td><td>${esc(p.name)}</td>` +
      `<td>${tt(p.revoked ? 'revoked' : p.online ? 'online' : 'offline')}</td><td>${esc(p.remoteAddress ?? '-')}</td>` +
      `<td>${p.since === null ? '-' : esc(formatTime(lang, p.since))}</td><td>${esc(p.screen ?? '-')}</td><td>${p.sessions}</td></tr>`).join('\n') +
    `\n</tbody></table>`;
  const body = `<h1>${tt('adminTitle')}</h1>
<p class="licences">${tt('licencesInUse')}: <strong>${o.licencesInUse}</strong> / ${o.licences}</p>
<h2>${tt('activeSessions')}</h2>
${sessions}
<h2>${tt('pcs')}</h2>
${pcs}`;
  return layout({ lang, title: t(lang, 'adminTitle'), body, user, refreshSeconds: 15 });
}

export function errorPage(lang: Lang, key: MessageKey, user?: PageUser): string {
  return layout({ lang, title: t(lang, key), body: `<p class="error">${esc(t(lang, key))}</p><p><a href="/">${esc(t(lang, 'backToList'))}</a></p>`, ...(user ? { user } : {}) });
}
