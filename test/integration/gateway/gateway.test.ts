// The gateway app in one process over real TLS sockets: browser-style login
// (form, CSRF, cookie) → the cookie authenticates the viewer upgrade → a PC
// that dialled out streams exactly; refusals (no cookie, not your PC,
// licence cap, token after logout, revoked PC, admin kick) are clear and
// audited. The multi-process test with a real browser is
// test/integration/gateway*.test.ts (the relay's owner).
import t from 'tap';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { connectViewer, type ViewerClient } from '../../../src/client/viewerClient';
import { createHost } from '../../../src/host/host';
import { Reason } from '../../../src/protocol/constants';
import type { CloseMessage } from '../../../src/protocol/messages';
import { dialRelay } from '../../../src/relay/dialRelay';
import { PushSource } from '../../../src/source/pushSource';
import { startGateway, type RunningGateway } from '../../../src/gateway/cli/serve';
import { FileStore } from '../../../src/gateway/fileStore';
import { hashHostSecret } from '../../../src/gateway/hostSecrets';
import { hashPassword } from '../../../src/gateway/passwords';
import { generateTotpSecret, totpCode } from '../../../src/gateway/totp';
import { base, exact } from '../../security/hostile';
import { until } from '../../helpers';
import { auditFiles } from '../../../src/gateway/audit';

const FAST = { ln: 10, r: 8, p: 1 };
const SECRET = { pc1: 'pc1-secret-0123456789abcdef', pc2: 'pc2-secret-0123456789abcdef' };
const ADMIN_TOTP = generateTotpSecret();

interface Http {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function request(gw: RunningGateway, method: string, p: string, o: { cookies?: Map<string, string>; form?: Record<string, string>; json?: unknown; bearer?: string; lang?: string; headers?: Record<string, string> } = {}): Promise<Http> {
  const body = o.form ? new URLSearchParams(o.form).toString() : o.json !== undefined ? JSON.stringify(o.json) : undefined;
  const port = new URL(gw.url).port;
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, servername: 'localhost', ca: gw.cert, method, path: p,
      headers: {
        ...(o.cookies?.size ? { cookie: [...o.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        ...(body ? { 'content-type': o.form ? 'application/x-www-form-urlencoded' : 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
        ...(o.bearer ? { authorization: `Bearer ${o.bearer}` } : {}),
        'accept-language': o.lang ?? 'ja',
        ...o.headers,
      },
    }, (res) => {
      let s = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (s += d));
      res.on('end', () => {
        // Keep cookies as a browser would (set, or cleared with Max-Age=0).
        for (const c of [res.headers['set-cookie'] ?? []].flat()) {
          const [kv] = c.split(';');
          const [k, v] = [kv!.slice(0, kv!.indexOf('=')), kv!.slice(kv!.indexOf('=') + 1)];
          if (/Max-Age=0/.test(c)) o.cookies?.delete(k);
          else o.cookies?.set(k, v);
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: s });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A browser's login: GET the form (nonce cookie + CSRF token), POST it. */
async function login(gw: RunningGateway, user: string, password: string, totp = ''): Promise<{ res: Http; cookies: Map<string, string> }> {
  const cookies = new Map<string, string>();
  const page = await request(gw, 'GET', '/login', { cookies });
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
  const res = await request(gw, 'POST', '/login', { cookies, form: { csrf, user, password, totp } });
  return { res, cookies };
}

function viewer(gw: RunningGateway, cookies: Map<string, string>, hostId: string): ViewerClient {
  const v = connectViewer(`${gw.url.replace('https:', 'wss:').replace('localhost', '127.0.0.1')}/tilecast/viewer?host=${hostId}`, {
    headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') }, ca: gw.cert, rejectUnauthorized: false, reconnect: false,
  });
  // Refusals are checked through 'hostClose' (reason and text); an UNAUTHORIZED BYE is also an 'error'.
  v.on('error', () => {});
  return v;
}

/** The HTTP status of a viewer upgrade (101 when it got through). */
function upgradeStatus(gw: RunningGateway, hostId: string, cookie?: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${gw.url.replace('https:', 'wss:').replace('localhost', '127.0.0.1')}/tilecast/viewer?host=${hostId}`, { ca: gw.cert, rejectUnauthorized: false, headers: cookie ? { cookie } : {} });
    ws.on('open', () => (ws.terminate(), resolve(101)));
    ws.on('unexpected-response', (req, res) => (req.destroy(), resolve(res.statusCode ?? 0)));
    ws.on('error', () => resolve(0));
  });
}

const farewell = (v: ViewerClient) => new Promise<CloseMessage>((r) => v.once('hostClose', r));

async function setup(t: { teardown(fn: () => Promise<void> | void): void }, extra: Partial<Parameters<typeof startGateway>[0]> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-gw-'));
  const assets = path.join(dir, 'viewer-assets');
  fs.mkdirSync(assets);
  fs.writeFileSync(path.join(assets, 'tilecast-viewer.js'), 'export function mountViewer() {}\n');
  const store = await FileStore.open(path.join(dir, 'store.json'));
  const user = async (id: string, pcs: string[], extra = {}) => store.createUser({
    id, displayName: id, passwordHash: await hashPassword(`${id}-password`, FAST), role: 'user', groups: [], pcs, disabled: false, createdAt: 0, ...extra,
  });
  await user('alice', ['pc1']);
  await user('bob', ['pc1', 'pc2']);
  await user('boss', [], { role: 'admin', totpSecret: ADMIN_TOTP });
  for (const [id, secret] of Object.entries(SECRET)) await store.createPc({ id, name: `${id} name`, secretHash: hashHostSecret(secret), revoked: false, createdAt: 0 });
  const gw = await startGateway({ dataDir: dir, store, host: '127.0.0.1', port: 0, auth: { licences: 1, scrypt: FAST }, viewerAssetsDir: assets, watchIntervalMs: 60_000, ...extra });
  const hosts: Array<{ close(): Promise<void> }> = [];
  t.teardown(async () => {
    for (const h of hosts) await h.close();
    await gw.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const startPc = async (id: keyof typeof SECRET) => {
    const source = new PushSource();
    source.push(base);
    const host = await createHost({ source, noServer: true });
    const link = dialRelay(host, { url: gw.url.replace('https:', 'wss:').replace('localhost', '127.0.0.1'), hostId: id, secret: SECRET[id], ca: gw.cert, minBackoffMs: 50, maxBackoffMs: 200, refusedBackoffMs: 200 });
    hosts.push({ close: async () => (link.close(), await host.close()) });
    await until(() => gw.gateway.relay.isOnline(id), `${id} online`);
    return { host, link };
  };
  const audit = () => auditFiles(dir).map((f) => fs.readFileSync(f, 'utf8')).join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { gw, store, startPc, audit };
}

t.test('login → cookie → viewer upgrade; refusals and the licence cap', async (t) => {
  const { gw, store, startPc, audit } = await setup(t);
  await startPc('pc1');
  await startPc('pc2');

  t.equal(await upgradeStatus(gw, 'pc1'), 401, 'no cookie: 401 before any upgrade');
  t.equal(await upgradeStatus(gw, 'pc1', '__Host-tilecast=v1.AAAAAAAAAAAAAAAAAAAAAA.YWxpY2U.99999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 401, 'forged cookie: 401');

  const bad = await login(gw, 'alice', 'wrong');
  t.equal(bad.res.status, 401);
  t.match(bad.res.body, /IDまたはパスワードが違います/);
  t.notOk(bad.cookies.has('__Host-tilecast'), 'no session cookie');
  t.match((await login(gw, 'nobody', 'wrong')).res.body, /IDまたはパスワードが違います/, 'same message for an unknown ID');

  const alice = await login(gw, 'alice', 'alice-password');
  t.equal(alice.res.status, 303);
  t.equal(alice.res.headers.location, '/pcs');
  const setCookie = String(alice.res.headers['set-cookie']);
  t.match(setCookie, /__Host-tilecast=v1\.[^;]+; HttpOnly; Secure; SameSite=Strict; Path=\//);
  t.notMatch(alice.res.headers.location!, /v1\./, 'no token in a URL');
  const pcs = await request(gw, 'GET', '/pcs', { cookies: alice.cookies });
  t.match(pcs.body, /pc1 name/);
  t.notMatch(pcs.body, /pc2 name/, 'only her PCs are listed');
  t.match(String(pcs.headers['content-security-policy']), /script-src 'self'/);
  t.equal((await request(gw, 'GET', '/view/pc2', { cookies: alice.cookies })).status, 403, 'the viewer page of a PC not hers');
  t.equal((await request(gw, 'GET', '/admin', { cookies: alice.cookies })).status, 403, 'admin page for admins only');

  // Forging the WebSocket URL for a PC that is not hers: told so, no pixels.
  const forged = viewer(gw, alice.cookies, 'pc2');
  const bye = await farewell(forged);
  t.equal(bye.reason, Reason.UNAUTHORIZED);
  t.equal(bye.message, 'このPCへの接続は許可されていません');
  t.equal(forged.framebuffer, null);
  forged.close();

  const v = viewer(gw, alice.cookies, 'pc1');
  t.equal(await exact(v, base), null, 'her PC streams exactly through the gateway');
  t.equal(await store.licenceCount(), 1);
  const tab2 = viewer(gw, alice.cookies, 'pc1');
  t.equal(await exact(tab2, base), null, 'a second tab on the same PC needs no second licence');

  // Cap 1: bob cannot sign in while alice's session is live; his viewer would be refused too.
  const bob = await login(gw, 'bob', 'bob-password');
  t.equal(bob.res.status, 503);
  t.match(bob.res.body, /同時接続数の上限に達しています/);
  const status = await request(gw, 'GET', '/api/status?host=pc1', { cookies: alice.cookies });
  t.same(JSON.parse(status.body), { allowed: true, online: true, licenceFull: false }, 'her own PC is not "full" for her');

  v.close();
  tab2.close();
  await until(() => gw.gateway.relay.sessions().length === 0, 'sessions ended');
  await until(() => audit().filter((r) => r.type === 'session.end').length === 2, 'two session ends audited (the refused one was never a session)');
  t.equal(await store.licenceCount(), 0, 'the licence is freed when the sessions end');

  const bob2 = await login(gw, 'bob', 'bob-password');
  t.equal(bob2.res.status, 303, 'bob gets in once the licence is free');
  const bv = viewer(gw, bob2.cookies, 'pc2');
  t.equal(await exact(bv, base), null);
  const aliceAgain = viewer(gw, alice.cookies, 'pc1');
  const full = await farewell(aliceAgain);
  t.equal(full.reason, Reason.CAPACITY, 'a viewer over the cap is told');
  t.equal(full.message, '同時接続数の上限に達しています');
  aliceAgain.close();
  bv.close();
  await until(() => gw.gateway.relay.sessions().length === 0, 'bob done');

  // Logout revokes: the same cookie replayed afterwards is refused.
  const bobCookie = `__Host-tilecast=${bob2.cookies.get('__Host-tilecast')}`;
  const page = await request(gw, 'GET', '/pcs', { cookies: bob2.cookies });
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
  t.equal((await request(gw, 'POST', '/logout', { cookies: new Map(bob2.cookies), form: { csrf: 'wrong' } })).status, 403, 'logout needs the form token');
  const out = await request(gw, 'POST', '/logout', { cookies: bob2.cookies, form: { csrf } });
  t.equal(out.headers.location, '/login?out=1');
  t.equal(await upgradeStatus(gw, 'pc1', bobCookie), 401, 'a token replayed after logout: 401');
  t.equal((await request(gw, 'GET', '/api/status?host=pc1', { cookies: new Map([['__Host-tilecast', bobCookie.split('=').slice(1).join('=')]]) })).status, 401);

  const types = audit().map((r) => r.type);
  for (const want of ['gateway.start', 'pc.online', 'login.failed', 'login.ok', 'viewer.refused', 'session.start', 'session.end', 'licence.refused', 'logout']) t.ok(types.includes(want), `audited: ${want}`);
  const failed = audit().filter((r) => r.type === 'login.failed');
  t.same(failed.map((r) => r.userTried), ['alice', 'nobody'], 'failed logins name the ID tried');
  t.notMatch(fs.readFileSync(path.join(gw.gateway.audit.file), 'utf8'), /alice-password|bob-password|v1\.[A-Za-z0-9_-]{22}\./, 'no password or token in the audit log');
});

t.test('admin: kick ends the session and its login; a revoked PC is dropped', async (t) => {
  const { gw, store, startPc, audit } = await setup(t);
  await startPc('pc1');
  const alice = await login(gw, 'alice', 'alice-password');
  const v = viewer(gw, alice.cookies, 'pc1');
  t.equal(await exact(v, base), null);

  t.equal((await login(gw, 'boss', 'boss-password')).res.status, 401, 'an admin needs the TOTP code');
  const boss = await login(gw, 'boss', 'boss-password', totpCode(ADMIN_TOTP, Date.now()));
  t.equal(boss.res.status, 303);
  const admin = await request(gw, 'GET', '/admin', { cookies: boss.cookies, lang: 'en' });
  t.equal(admin.status, 200);
  t.match(admin.body, /Active sessions/);
  t.match(admin.body, /alice/);
  const csrf = /name="csrf" value="([^"]+)"/.exec(admin.body)![1]!;
  const session = /name="session" value="([^"]+)"/.exec(admin.body)![1]!;
  const bye = farewell(v);
  const kicked = await request(gw, 'POST', '/admin/kick', { cookies: boss.cookies, form: { csrf, session } });
  t.equal(kicked.status, 303);
  t.equal((await bye).message, '管理者により切断されました / Disconnected by an administrator');
  t.equal((await request(gw, 'GET', '/api/status?host=pc1', { cookies: alice.cookies })).status, 401, 'the kicked login is signed out (the viewer cannot just reconnect)');
  t.ok(audit().some((r) => r.type === 'admin' && r.action === 'kick' && r.actor === 'boss'), 'the kick is audited');

  // Revoked from the CLI while serving: the gateway notices and drops the PC.
  await store.updatePc('pc1', { revoked: true });
  await gw.gateway.watchStore();
  await until(() => !gw.gateway.relay.isOnline('pc1'), 'pc1 dropped');
  t.ok(audit().some((r) => r.type === 'pc.offline' && r.hostId === 'pc1'));
  await new Promise((r) => setTimeout(r, 500));
  t.notOk(gw.gateway.relay.isOnline('pc1'), 'its redials are refused');
  t.ok(audit().some((r) => r.type === 'relay.refused' && r.reason === 'host credentials refused' && r.hostId === 'pc1'), 'and audited');
  v.close();
});

t.test('scripts: JSON login, a bearer token for the Node viewer, JSON logout', async (t) => {
  const { gw, startPc } = await setup(t);
  await startPc('pc1');
  const wrong = await request(gw, 'POST', '/api/login', { json: { user: 'alice', password: 'nope' } });
  t.equal(wrong.status, 401);
  t.same(JSON.parse(wrong.body), { error: 'bad-credentials' });
  t.equal((await request(gw, 'POST', '/api/login', { form: { user: 'alice', password: 'alice-password' } })).status, 415, 'JSON only (no cross-site form posts)');
  const ok = await request(gw, 'POST', '/api/login', { json: { user: 'alice', password: 'alice-password' } });
  t.equal(ok.status, 200);
  const { token, pcs } = JSON.parse(ok.body) as { token: string; pcs: string[] };
  t.same(pcs, ['pc1']);
  const v = connectViewer(`${gw.url.replace('https:', 'wss:').replace('localhost', '127.0.0.1')}/tilecast/viewer?host=pc1`, {
    headers: { authorization: `Bearer ${token}` }, ca: gw.cert, rejectUnauthorized: false, reconnect: false,
  });
  v.on('error', () => {}); // the logout's BYE is checked through 'hostClose'
  t.equal(await exact(v, base), null, 'the Node viewer streams through the gateway with the token');
  const bye = farewell(v);
  t.equal((await request(gw, 'POST', '/api/logout', { bearer: token })).status, 200);
  t.equal((await bye).reason, Reason.NORMAL, 'logout ends the sessions opened with that login');
  t.equal((await request(gw, 'GET', '/api/status?host=pc1', { bearer: token })).status, 401, 'the token is dead after logout');
  v.close();
});

t.test('behind a trusted proxy, X-Forwarded-For names the client for lockouts and audit; from anyone else it is ignored', async (t) => {
  const lockout = { limit: 2, windowMs: 60_000, lockMs: 60_000 };
  const { gw, audit } = await setup(t, { relay: { trustedProxies: ['127.0.0.1'] }, auth: { licences: 1, scrypt: FAST, ipLockout: lockout } });
  const apiLogin = (password: string, xff: string) => request(gw, 'POST', '/api/login', { json: { user: 'alice', password }, headers: { 'x-forwarded-for': xff } });
  t.equal((await apiLogin('nope', '203.0.113.9')).status, 401);
  // A client may prepend anything; the proxy appends what it saw (the rightmost untrusted entry).
  t.equal((await apiLogin('nope', '198.51.100.1, 203.0.113.9')).status, 401);
  t.equal((await apiLogin('alice-password', '203.0.113.9')).status, 429, 'the address that failed twice is locked out');
  const other = await apiLogin('alice-password', '203.0.113.10');
  t.equal(other.status, 200, 'another client behind the same proxy is not');
  await request(gw, 'POST', '/api/logout', { bearer: (JSON.parse(other.body) as { token: string }).token });
  const failed = audit().filter((r) => r.type === 'login.failed').map((r) => r.ip);
  t.same(failed, ['203.0.113.9', '203.0.113.9', '203.0.113.9'], 'audited with the client\'s address');
  t.equal(audit().find((r) => r.type === 'login.ok')?.ip, '203.0.113.10');

  // Without trustedProxies the header is the client's own words: ignored.
  const plain = await setup(t);
  await request(plain.gw, 'POST', '/api/login', { json: { user: 'alice', password: 'nope' }, headers: { 'x-forwarded-for': '203.0.113.9' } });
  t.equal(plain.audit().find((r) => r.type === 'login.failed')?.ip, '127.0.0.1', 'the TCP peer, not the header');
});
