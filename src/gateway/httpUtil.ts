/**
 * Small HTTP helpers for the gateway's pages: security headers on every
 * response, cookies, bounded form bodies, the client address.
 */
import type * as http from 'node:http';

/** No framework, no inline script: scripts and styles come only from this origin. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' wss:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000',
};

/** The session cookie. `__Host-`: the browser accepts it only Secure, for Path=/ and without Domain. */
export const SESSION_COOKIE = '__Host-tilecast';
/** The login form's CSRF nonce, before there is a session. */
export const LOGIN_NONCE_COOKIE = '__Host-tilecast-login';

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').slice(0, 8192).split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    if (!out.has(name)) out.set(name, part.slice(i + 1).trim());
  }
  return out;
}

export function cookie(name: string, value: string, maxAgeSeconds?: number): string {
  return `${name}=${value}; HttpOnly; Secure; SameSite=Strict; Path=/${maxAgeSeconds === undefined ? '' : `; Max-Age=${maxAgeSeconds}`}`;
}

export function clearCookie(name: string): string {
  return cookie(name, '', 0);
}

/** Largest form body accepted (login, kick), bytes. */
export const MAX_FORM_BYTES = 8 * 1024;

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Reads an application/x-www-form-urlencoded body of at most MAX_FORM_BYTES. */
export async function readForm(req: http.IncomingMessage, timeoutMs = 10_000): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(req, 'application/x-www-form-urlencoded', timeoutMs));
}

/**
 * Reads a JSON object body of at most MAX_FORM_BYTES. Requiring the JSON type
 * also keeps cross-site forms out: a browser cannot send it to another origin
 * without a CORS preflight, which this server never answers.
 */
export async function readJson(req: http.IncomingMessage, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  let v: unknown;
  try {
    v = JSON.parse(await readBody(req, 'application/json', timeoutMs));
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, 'not JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'a JSON object expected');
  return v as Record<string, unknown>;
}

/** The bearer token of an Authorization header (scripts and ViewerClient), or undefined. */
export function bearerToken(req: http.IncomingMessage): string | undefined {
  const m = /^Bearer (v1\.[A-Za-z0-9._-]{1,500})$/.exec(req.headers.authorization ?? '');
  return m ? m[1] : undefined;
}

function readBody(req: http.IncomingMessage, wantType: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== wantType) return reject(new HttpError(415, `${wantType} expected`));
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_FORM_BYTES) return reject(new HttpError(413, 'form too large'));
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      reject(new HttpError(408, 'form not received in time'));
      req.destroy();
    }, timeoutMs);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_FORM_BYTES) {
        clearTimeout(timer);
        reject(new HttpError(413, 'form too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export function send(res: http.ServerResponse, status: number, body: string | Buffer, type = 'text/html; charset=utf-8', headers: Record<string, string | string[]> = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(buf.length), ...headers });
  res.end(res.req?.method === 'HEAD' ? undefined : buf);
}

/** 303 See Other: after a POST the browser GETs the target (no re-post on reload). */
export function redirect(res: http.ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { ...SECURITY_HEADERS, location, 'content-length': '0', ...headers });
  res.end();
}
