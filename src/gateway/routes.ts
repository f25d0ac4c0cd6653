/**
 * The gateway's HTTP pages and actions (everything but the WebSocket paths,
 * which the relay takes). One handler; every response carries the security
 * headers; POSTs need the per-form CSRF token; pages that need a login
 * redirect to /login, the JSON status answers 401.
 *
 * Paths: GET / /login /pcs /view/<hostId> /admin /api/status?host=
 * /static/*; POST /login /logout /admin/kick; for scripts and the Node
 * ViewerClient, POST /api/login (JSON in, token out: then
 * `Authorization: Bearer <token>` or the cookie) and /api/logout (bearer).
 */
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import type { Authenticated, Authenticator } from './auth';
import type { AuditLog } from './audit';
import { type Lang, type MessageKey, pickLang } from './i18n';
import {
  HttpError, LOGIN_NONCE_COOKIE, SESSION_COOKIE, bearerToken, clearCookie, cookie, parseCookies, readForm, readJson, redirect, send,
} from './httpUtil';
import { type AdminPcRow, type AdminSessionRow, type PageUser, adminPage, errorPage, loginPage, pcListPage, viewerPage } from './pages';
import { effectivePolicy, type EffectivePolicy } from './policy';
import type { GatewayStore } from './store';
import type { TokenSigner } from './tokens';
import { GATEWAY_CSS, GATEWAY_VIEWER_JS } from './staticFiles';

/** What the pages need from the running gateway (gateway.ts provides it). */
export interface RouteContext {
  store: GatewayStore;
  auth: Authenticator;
  audit: AuditLog;
  signer: TokenSigner;
  defaultPolicy: EffectivePolicy;
  /** Relay state for the pages. */
  isOnline(hostId: string): boolean;
  liveSessions(): AdminSessionRow[];
  onlineHosts(): Map<string, { remoteAddress: string; since: number; screen: string | null; sessions: number }>;
  /** Admin kick: ends the relay session and signs its user's login out. */
  kick(sessionId: string, actor: string): Promise<boolean>;
  /** Logout: ends the relay sessions opened with this login session. */
  endSessionsOfLogin(loginSessionId: string): void;
  /** The client's address (behind trusted proxies: from X-Forwarded-For), for lockouts and audit. */
  clientAddress(req: http.IncomingMessage): string;
  /** The browser viewer bundle (dist/browser), by file name; null when not built. */
  viewerAsset(name: string): Buffer | null;
}

export function createRoutes(ctx: RouteContext): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const STATIC: Record<string, () => { body: string | Buffer | null; type: string }> = {
    '/static/gateway.css': () => ({ body: GATEWAY_CSS, type: 'text/css; charset=utf-8' }),
    '/static/gateway-viewer.js': () => ({ body: GATEWAY_VIEWER_JS, type: 'text/javascript; charset=utf-8' }),
    '/static/tilecast-viewer.js': () => ({ body: ctx.viewerAsset('tilecast-viewer.js'), type: 'text/javascript; charset=utf-8' }),
    // The viewer's audio thread loads this beside the bundle.
    '/static/tilecast-audio-worklet.js': () => ({ body: ctx.viewerAsset('tilecast-audio-worklet.js'), type: 'text/javascript; charset=utf-8' }),
  };

  const pageUser = (a: Authenticated): PageUser => ({
    id: a.user.id, displayName: a.user.displayName || a.user.id, isAdmin: a.user.role === 'admin', csrf: ctx.signer.csrf('form', a.session.id),
  });

  /** The signed-in user (cookie, or a script's bearer token), with a renewed cookie in `headers` when due. */
  async function signedIn(req: http.IncomingMessage, headers: Record<string, string[]>): Promise<Authenticated | null> {
    const fromCookie = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    const a = await ctx.auth.authenticate(fromCookie ?? bearerToken(req));
    if (!a) return null;
    const renewed = fromCookie ? ctx.auth.renew(a) : null;
    if (renewed) (headers['set-cookie'] ??= []).push(cookie(SESSION_COOKIE, renewed));
    return a;
  }

  /** Scripts: the same login (same lockouts, audit, licence check) with JSON; the token comes back in the body. */
  async function apiLogin(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readJson(req);
    const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 1024) : '');
    const r = await ctx.auth.login({ userId: str(body.user), password: str(body.password), totp: str(body.totp), ip: ctx.clientAddress(req) });
    if (!r.ok) return send(res, r.error === 'locked' ? 429 : r.error === 'licence-full' ? 503 : 401, JSON.stringify({ error: r.error }), 'application/json');
    send(res, 200, JSON.stringify({ token: r.token, user: r.user.id, pcs: r.user.pcs, expiresAt: ctx.signer.verify(r.token, 0)?.expiresAt }), 'application/json');
  }

  function loginForm(req: http.IncomingMessage, res: http.ServerResponse, lang: Lang, status: number, o: { error?: MessageKey; notice?: MessageKey; userId?: string }): void {
    // The login form's CSRF token is bound to a random nonce cookie (there is no session yet).
    let nonce = parseCookies(req.headers.cookie).get(LOGIN_NONCE_COOKIE);
    const headers: Record<string, string[]> = {};
    if (!nonce || !/^[A-Za-z0-9_-]{22}$/.test(nonce)) {
      nonce = crypto.randomBytes(16).toString('base64url');
      headers['set-cookie'] = [cookie(LOGIN_NONCE_COOKIE, nonce, 3600)];
    }
    send(res, status, loginPage(lang, { csrf: ctx.signer.csrf('login', nonce), ...o }), undefined, headers);
  }

  async function postLogin(req: http.IncomingMessage, res: http.ServerResponse, lang: Lang): Promise<void> {
    const form = await readForm(req);
    const nonce = parseCookies(req.headers.cookie).get(LOGIN_NONCE_COOKIE) ?? '';
    if (!nonce || !ctx.signer.checkCsrf('login', nonce, form.get('csrf'))) return loginForm(req, res, lang, 400, { error: 'formExpired' });
    const userId = (form.get('user') ?? '').slice(0, 256);
    const result = await ctx.auth.login({ userId, password: form.get('password') ?? '', totp: form.get('totp') ?? '', ip: ctx.clientAddress(req) });
    if (result.ok) {
      return redirect(res, '/pcs', { 'set-cookie': [cookie(SESSION_COOKIE, result.token), clearCookie(LOGIN_NONCE_COOKIE)] });
    }
    const [status, error]: [number, MessageKey] =
      result.error === 'locked' ? [429, 'locked'] : result.error === 'licence-full' ? [503, 'licenceFull'] : [401, 'badCredentials'];
    loginForm(req, res, lang, status, { error, userId: userId.slice(0, 64) });
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const lang = pickLang(req.headers['accept-language']);
    const url = new URL(req.url ?? '/', 'https://gateway');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const get = method === 'GET' || method === 'HEAD';
    if (!get && method !== 'POST') return send(res, 405, errorPage(lang, 'badRequest'), undefined, { allow: 'GET, HEAD, POST' });

    const staticFile = Object.hasOwn(STATIC, path) ? STATIC[path] : undefined;
    if (staticFile && get) {
      const f = staticFile();
      return f.body === null ? send(res, 404, 'not built\n', 'text/plain') : send(res, 200, f.body, f.type);
    }
    if (path === '/favicon.ico') return send(res, 204, '');
    if (path === '/login' && get) {
      return loginForm(req, res, lang, 200, url.searchParams.has('out') ? { notice: 'loggedOut' } : url.searchParams.has('expired') ? { notice: 'sessionExpired' } : {});
    }
    if (path === '/login' && method === 'POST') return postLogin(req, res, lang);
    if (path === '/api/login' && method === 'POST') return apiLogin(req, res);
    if (path === '/api/logout' && method === 'POST') {
      // Bearer only: a browser never sends it by itself, so no CSRF token is needed.
      const a = await ctx.auth.authenticate(bearerToken(req));
      if (!a) return send(res, 401, '{"error":"unauthenticated"}', 'application/json');
      await ctx.auth.logout(a, ctx.clientAddress(req));
      ctx.endSessionsOfLogin(a.session.id);
      return send(res, 200, '{}', 'application/json');
    }

    const headers: Record<string, string[]> = {};
    const a = await signedIn(req, headers);
    if (path === '/api/status' && get) {
      if (!a) return send(res, 401, '{"error":"unauthenticated"}', 'application/json');
      const hostId = url.searchParams.get('host') ?? '';
      const allowed = a.user.pcs.includes(hostId) && !(await ctx.store.getPc(hostId))?.revoked;
      const mine = (await ctx.store.listLicences()).some((l) => l.user === a.user.id && l.hostId === hostId);
      const licenceFull = !mine && (await ctx.store.licenceCount()) >= ctx.auth.config.licences;
      return send(res, 200, JSON.stringify({ allowed, online: allowed && ctx.isOnline(hostId), licenceFull }), 'application/json', headers);
    }
    if (!a) {
      if (method === 'POST') return send(res, 401, errorPage(lang, 'sessionExpired'));
      return redirect(res, path === '/' ? '/login' : '/login?expired=1');
    }
    const user = pageUser(a);

    if (method === 'POST') {
      const form = await readForm(req);
      if (!ctx.signer.checkCsrf('form', a.session.id, form.get('csrf'))) return send(res, 403, errorPage(lang, 'formExpired', user), undefined, headers);
      if (path === '/logout') {
        await ctx.auth.logout(a, ctx.clientAddress(req));
        ctx.endSessionsOfLogin(a.session.id);
        return redirect(res, '/login?out=1', { 'set-cookie': [clearCookie(SESSION_COOKIE)] });
      }
      if (path === '/admin/kick') {
        if (!user.isAdmin) return send(res, 403, errorPage(lang, 'forbidden', user), undefined, headers);
        await ctx.kick(form.get('session') ?? '', a.user.id);
        return redirect(res, '/admin', headers);
      }
      return send(res, 404, errorPage(lang, 'notFound', user), undefined, headers);
    }

    if (path === '/' || path === '/pcs') {
      if (path === '/') return redirect(res, '/pcs', headers);
      const pcs = [];
      for (const id of a.user.pcs) {
        const pc = await ctx.store.getPc(id);
        if (pc && !pc.revoked) pcs.push({ id, name: pc.name, online: ctx.isOnline(id) });
      }
      return send(res, 200, pcListPage(lang, user, pcs), undefined, headers);
    }
    const view = /^\/view\/([^/]{1,200})$/.exec(path);
    if (view) {
      let hostId = '';
      try {
        hostId = decodeURIComponent(view[1]!);
      } catch {
        // a malformed %-escape: no such PC
      }
      const pc = a.user.pcs.includes(hostId) ? await ctx.store.getPc(hostId) : null;
      if (!pc || pc.revoked) return send(res, 403, errorPage(lang, 'notYourPc', user), undefined, headers);
      const policy = effectivePolicy(a.user, await ctx.store.groupPolicies(), ctx.defaultPolicy);
      return send(res, 200, viewerPage(lang, user, pc, policy), undefined, headers);
    }
    if (path === '/admin') {
      if (!user.isAdmin) return send(res, 403, errorPage(lang, 'forbidden', user), undefined, headers);
      const hosts = ctx.onlineHosts();
      const pcs: AdminPcRow[] = (await ctx.store.listPcs()).map((pc) => {
        const h = hosts.get(pc.id);
        return { id: pc.id, name: pc.name, revoked: pc.revoked, online: !!h, remoteAddress: h?.remoteAddress ?? null, since: h?.since ?? null, screen: h?.screen ?? null, sessions: h?.sessions ?? 0 };
      });
      const names = new Map(pcs.map((p) => [p.id, p.name]));
      const sessions = ctx.liveSessions().map((s) => ({ ...s, pcName: names.get(s.hostId) ?? s.hostId }));
      return send(res, 200, adminPage(lang, user, { sessions, pcs, licencesInUse: await ctx.store.licenceCount(), licences: ctx.auth.config.licences }), undefined, headers);
    }
    send(res, 404, errorPage(lang, 'notFound', user), undefined, headers);
  }

  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      const lang = pickLang(req.headers['accept-language']);
      if (res.headersSent) return void res.destroy();
      if (err instanceof HttpError) return send(res, err.status, errorPage(lang, 'badRequest'));
      process.emitWarning(`tilecast gateway: ${(err as Error)?.stack ?? String(err)}`);
      send(res, 500, errorPage(lang, 'serverError'));
    });
  };
}
