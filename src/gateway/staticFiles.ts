/**
 * The gateway's own static files, served from memory: its stylesheet and the
 * viewer page's script (the CSP allows scripts from this origin only, never
 * inline). Kept as strings in a module so tsc's build carries them into dist
 * with no copy step. The browser viewer bundle itself is served from
 * dist/browser (scripts/build-viewer.js).
 */

export const GATEWAY_CSS = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,"Hiragino Sans","Yu Gothic UI","Meiryo",sans-serif;background:#f4f5f7;color:#1d2129;font-size:16px}
header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:8px;padding:8px 16px;background:#1f3a5f;color:#fff}
header .app{font-weight:bold}
header nav{display:flex;flex-wrap:wrap;align-items:center;gap:12px}
header a{color:#fff}
header form{margin:0}
main{max-width:960px;margin:0 auto;padding:16px}
h1{font-size:1.4em}
h2{font-size:1.15em;margin-top:2em}
button,.button{display:inline-block;padding:10px 18px;border:0;border-radius:6px;background:#1f6feb;color:#fff;font-size:1em;text-decoration:none;cursor:pointer}
header button{padding:4px 10px;background:#3d5a80}
.button.disabled{background:#aab;cursor:default}
.error{color:#b00020;background:#fde7ea;padding:10px;border-radius:6px}
.notice{background:#e8f0fe;padding:10px;border-radius:6px}
form.login{max-width:380px;margin:8vh auto;background:#fff;padding:24px;border-radius:10px;box-shadow:0 1px 4px #0002;display:flex;flex-direction:column;gap:14px}
form.login label{display:flex;flex-direction:column;gap:4px;font-size:.95em}
form.login input{font-size:1.1em;padding:10px;border:1px solid #bbb;border-radius:6px}
ul.pcs{list-style:none;padding:0}
ul.pcs li{display:flex;align-items:center;gap:12px;background:#fff;margin:8px 0;padding:12px;border-radius:8px;box-shadow:0 1px 3px #0001}
ul.pcs .pc-name{flex:1;font-weight:bold}
ul.pcs li.on .state{color:#137333}
ul.pcs li.off .state{color:#888}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9em}
th,td{padding:6px 8px;border-bottom:1px solid #e1e4e8;text-align:left}
tr.off td,tr.revoked td{color:#888}
td form{margin:0}
td button{padding:4px 10px;background:#b00020}
body.viewer-page{background:#000;overflow:hidden}
body.viewer-page main{max-width:none;padding:0}
#screen{position:fixed;inset:0}
#notice{position:fixed;left:50%;top:40%;transform:translate(-50%,-50%);max-width:90vw;background:#fff;color:#1d2129;padding:20px;border-radius:10px;box-shadow:0 2px 12px #0008;z-index:10}
#back{position:fixed;left:50%;top:0;transform:translateX(-50%);z-index:5;color:#fff;background:#0006;border-radius:0 0 6px 6px;padding:0 10px;opacity:.4;text-decoration:none;font-size:20px}
#back:hover{opacity:1}
`;

/**
 * The viewer page's script: mounts the browser viewer on this gateway's relay
 * and asks /api/status (which also renews the session cookie while the page
 * is open) whether the PC may be opened, is online, and whether a licence is
 * free; shows why when the viewer cannot connect, instead of reconnecting
 * forever without saying so.
 */
export const GATEWAY_VIEWER_JS = `import { mountViewer } from './tilecast-viewer.js';

const el = document.getElementById('screen');
const hostId = el.dataset.host;
// data-t-pcoffline → dataset.tPcoffline
const text = (k) => el.dataset['t' + k[0].toUpperCase() + k.slice(1)] || k;
const notice = document.getElementById('notice');
const noticeText = document.getElementById('notice-text');
const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
// The viewer speaks the page's language (the gateway picked it from Accept-Language).
const lang = document.documentElement.lang === 'en' ? 'en' : 'ja';
// Sound (and the microphone) only for a user the gateway's policy grants them to.
const audio = el.dataset.audio === 'true' ? { microphone: el.dataset.microphone === 'true' } : undefined;
const viewer = mountViewer(el, { url: proto + '//' + location.host + '/tilecast/viewer?host=' + encodeURIComponent(hostId), viewOnly: el.dataset.viewOnly === 'true', lang, audio });
window.tilecastViewer = viewer; // for tests and the console
// On a touch device the viewer's keyboard button opens the soft keyboard when the user wants it.
if (!matchMedia('(pointer: coarse)').matches) viewer.focus();
// Set once the viewer is closed for good (by us, or by itself after a final BYE).
let stopped = false;

function show(key) {
  noticeText.textContent = text(key);
  notice.hidden = false;
}
function stop(key) {
  stopped = true;
  if (viewer.stats.state !== 'closed') viewer.close();
  show(key);
}
document.getElementById('retry').addEventListener('click', () => location.reload());

/** Asks the gateway why the viewer is not connected; \`final\`: the viewer already gave up, only explain. */
async function check(final = false) {
  if (stopped && !final) return;
  let r;
  try {
    r = await fetch('/api/status?host=' + encodeURIComponent(hostId), { credentials: 'same-origin', cache: 'no-store' });
  } catch {
    return; // the network is down: the viewer is reconnecting and says so
  }
  if (r.status === 401) {
    stop('sessionexpired');
    setTimeout(() => location.assign('/login'), 3000);
    return;
  }
  if (!r.ok) return;
  const s = await r.json();
  if (!s.allowed) return stop('notyourpc');
  if (final) return;
  if (viewer.stats.state === 'connected') return void (notice.hidden = true);
  if (!s.online) return show('pcoffline');
  if (s.licenceFull) return stop('licencefull');
}

let lastState = viewer.stats.state;
setInterval(() => {
  const state = viewer.stats.state;
  if (state !== lastState && state === 'reconnecting') check();
  if (state === 'connected' && !stopped) notice.hidden = true;
  if (state === 'closed' && !stopped) {
    // The viewer gave up by itself after a final BYE (kicked, not allowed, PC revoked): show its message,
    // then find out whether the login is gone too.
    stopped = true;
    noticeText.textContent = (viewer.stats.lastError || '').replace(/^host: /, '');
    notice.hidden = false;
    check(true);
  }
  lastState = state;
}, 1000);
setInterval(check, 60000);
check();
`;
