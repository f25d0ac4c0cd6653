/**
 * viewerPage: an HTTP handler that serves the browser viewer (the page at `/`
 * and its bundled ES module) next to the host's WebSocket, so a browser needs
 * nothing but the host's address. Pass it as `createHost({ httpHandler })`.
 *
 * Nothing the viewer shows may stay on the device: every response is
 * `Cache-Control: no-store`, and a strict Content-Security-Policy allows only
 * this origin's script and WebSocket.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { ErrorCodes, TilecastError } from '../errors';

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/start.js': { file: 'start.js', type: 'text/javascript; charset=utf-8' },
  '/tilecast-viewer.js': { file: 'tilecast-viewer.js', type: 'text/javascript; charset=utf-8' },
  '/tilecast-viewer.js.map': { file: 'tilecast-viewer.js.map', type: 'application/json' },
  // The audio thread's code (AudioWorklet modules load from a URL: 'self' under the page's CSP).
  '/tilecast-audio-worklet.js': { file: 'tilecast-audio-worklet.js', type: 'text/javascript; charset=utf-8' },
};

const HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; script-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The directory holding the built viewer: <package>/dist/browser (from src/host or dist/host alike). */
export function viewerAssetsDir(): string {
  return path.join(__dirname, '..', '..', 'dist', 'browser');
}

export function viewerPage(dir = viewerAssetsDir()): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  // Read once: a fixed, small set of files.
  const cache = new Map<string, Buffer>();
  for (const { file } of Object.values(FILES)) {
    const p = path.join(dir, file);
    if (!fs.existsSync(p)) {
      if (file.endsWith('.map')) continue;
      throw new TilecastError(ErrorCodes.NATIVE_LOAD, `browser viewer not built: ${p} is missing (run \`npm run build\`)`);
    }
    cache.set(file, fs.readFileSync(p));
  }
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://host');
    const entry = FILES[url.pathname];
    const body = entry && cache.get(entry.file);
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, HEADERS).end();
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...HEADERS, allow: 'GET, HEAD' }).end();
    } else if (!entry || !body) {
      res.writeHead(404, { ...HEADERS, 'content-type': 'text/plain' }).end('not found\n');
    } else {
      res.writeHead(200, { ...HEADERS, 'content-type': entry.type, 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    }
  };
}
