// noVNC as a browser-viewer peer for the glass-to-glass bench: the same Xvnc
// as the TigerVNC rows, read by noVNC (npm @novnc/novnc, the client Guacamole-
// and websockify-style deployments put in the browser) in the same Chromium
// the tilecast browser viewer runs in. A small server on the host side plays
// websockify: it serves the page and the noVNC bundle, and bridges each
// WebSocket at /websockify to Xvnc's RFB port, so the link sits where it sits
// for tilecast (between the browser and the office PC's side).
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

/** Why noVNC cannot run here, or null. */
function unavailable() {
  try {
    require.resolve('@novnc/novnc');
    return null;
  } catch {
    return 'noVNC not installed (npm devDependency @novnc/novnc: run npm install)';
  }
}

/** noVNC's RFB as one ES module (it uses top-level await), built on first use into the temp folder. */
function bundle() {
  const entry = require.resolve('@novnc/novnc'); // core/rfb.js (the package exports nothing else)
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8'));
  const out = path.join(os.tmpdir(), `tilecast-novnc-${pkg.version}.js`);
  if (!fs.existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    require('esbuild').buildSync({
      entryPoints: [entry], outfile: tmp, bundle: true, format: 'esm', platform: 'browser', target: ['chrome100'], logLevel: 'warning',
    });
    fs.renameSync(tmp, out);
  }
  return out;
}

// View only, no local cursor, no scaling: as vncviewer full screen. Quality 6 and
// compression 1 are the TigerVNC JPEG row's settings (noVNC always offers JPEG).
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>noVNC</title>
<style>html,body{margin:0;height:100%;overflow:hidden;background:#000}#screen{position:absolute;inset:0}</style></head>
<body><div id="screen"></div><script type="module">
import RFB from '/novnc.js';
const rfb = new RFB(document.getElementById('screen'), new URL(location.href).searchParams.get('ws'));
rfb.viewOnly = true; rfb.showDotCursor = false; rfb.scaleViewport = false; rfb.resizeSession = false;
rfb.qualityLevel = 6; rfb.compressionLevel = 1;
</script></body></html>`;

/**
 * The host side: page, bundle and a WebSocket → TCP bridge to `vncPort`.
 * Resolves { port, close }; open `http://127.0.0.1:port/?ws=<the WebSocket URL to use>`.
 */
async function startNoVncServer(vncPort) {
  const { WebSocketServer } = require('ws');
  const js = fs.readFileSync(bundle());
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    else if (url.pathname === '/novnc.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server, path: '/websockify', perMessageDeflate: false });
  wss.on('connection', (ws) => {
    const tcp = net.connect(vncPort, '127.0.0.1');
    tcp.setNoDelay(true);
    tcp.on('data', (d) => ws.send(d));
    tcp.on('close', () => ws.close());
    tcp.on('error', () => ws.terminate());
    ws.on('message', (d) => tcp.write(d));
    ws.on('close', () => tcp.destroy());
    ws.on('error', () => tcp.destroy());
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => new Promise((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.close(() => resolve());
    }),
  };
}

module.exports = { unavailable, startNoVncServer };
