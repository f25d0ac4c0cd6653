/**
 * The gateway app in one object: the store, the audit log, login, the pages
 * and the relay, wired together. `Gateway.create()` opens the data dir;
 * `attach(server)` serves the pages and lets the relay take the WebSocket
 * paths of that HTTPS server.
 *
 * What it decides for the relay:
 *  - a host is who it says when its id is registered, not revoked, and the
 *    secret's hash matches;
 *  - a viewer upgrade needs a valid session cookie or bearer token (else 401 before any
 *    upgrade), the PC assigned to the user, the PC online, and a licence
 *    lease taken atomically from the store; refusals the viewer can show go
 *    as BYE with a message in the browser's language;
 *  - the lease rides in the grant's tag and is freed on the relay's
 *    sessionEnd, which comes exactly once per grant.
 *
 * Changes made by the CLI while serving (a PC revoked, a user disabled,
 * removed, unassigned or their password reset) are noticed by polling the
 * store's version, and the affected hosts and sessions are cut off.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { Reason } from '../protocol/constants';
import { Relay, type RelayOptions, type ViewerRequest, type ViewerVerdict } from '../relay/relay';
import type { MediaUse, RelaySessionEnd, RelaySessionInfo } from '../relay/relaySession';
import { viewerAssetsDir } from '../host/viewerPage';
import { type AuditedMediaUse, AuditLog } from './audit';
import { type AuthConfig, Authenticator, DEFAULT_AUTH } from './auth';
import { FileStore } from './fileStore';
import { verifyHostSecret } from './hostSecrets';
import { SESSION_COOKIE, bearerToken, parseCookies } from './httpUtil';
import { pickLang, t } from './i18n';
import { type EffectivePolicy, effectivePolicy } from './policy';
import { type RouteContext, createRoutes } from './routes';
import type { GatewayStore } from './store';
import { TokenSigner, loadOrCreateKey } from './tokens';

export const STORE_FILE = 'store.json';

export interface GatewayOptions {
  /** Holds store.json, session-key, audit.log (and the certificate, see certificate.ts). */
  dataDir: string;
  /** Default: FileStore on dataDir/store.json. */
  store?: GatewayStore;
  auth?: Partial<AuthConfig>;
  /** Policy for users and groups that set nothing: default editable, 30 min idle, no length limit. */
  defaultPolicy?: Partial<EffectivePolicy>;
  /** Relay limits (docs/security.md, "Relay"). */
  relay?: Partial<Omit<RelayOptions, 'authenticateHost' | 'authorizeViewer'>>;
  /** Where the browser viewer bundle is (default dist/browser). */
  viewerAssetsDir?: string;
  /** How often to look for CLI changes to users and PCs, ms (default 5000). */
  watchIntervalMs?: number;
}

export const DEFAULT_POLICY: EffectivePolicy = { viewOnly: false, idleTimeoutMs: 30 * 60_000, maxSessionMs: 0, audio: false, microphone: false };

interface GrantTag {
  leaseId: string;
  loginSession: string;
}

const KICKED = '管理者により切断されました / Disconnected by an administrator';
const ACCESS_ENDED = 'このPCへの接続権限がなくなりました / Access to this PC was withdrawn';

export class Gateway {
  readonly relay: Relay;
  readonly handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  private readonly viewerFiles = new Map<string, Buffer>();
  private readonly loginOf = new Map<string, string>(); // relay session id → login session id
  private readonly watcher: NodeJS.Timeout;
  private lastVersion = '';
  private watching = false;

  private constructor(
    readonly store: GatewayStore,
    readonly audit: AuditLog,
    readonly signer: TokenSigner,
    readonly auth: Authenticator,
    readonly defaultPolicy: EffectivePolicy,
    options: GatewayOptions,
  ) {
    this.relay = new Relay({ ...options.relay, authenticateHost: (c) => this.authenticateHost(c), authorizeViewer: (r) => this.authorizeViewer(r) });
    this.relay.on('sessionStart', (s) => this.onSessionStart(s));
    this.relay.on('sessionEnd', (s) => void this.onSessionEnd(s));
    this.relay.on('hostOnline', (h) => this.audit.write({ type: 'pc.online', hostId: h.hostId, ip: h.remoteAddress }));
    this.relay.on('hostOffline', (h) => this.audit.write({ type: 'pc.offline', hostId: h.hostId, reason: h.reason }));
    // The relay's own refusals (its BYE refusals come from authorizeViewer, which audits them with the user).
    this.relay.on('audit', (e) => this.audit.write({
      type: 'relay.refused', reason: e.reason, ip: e.remoteAddress,
      ...(e.hostId ? { hostId: e.hostId } : {}), ...(e.user ? { user: e.user } : {}), ...(e.suppressed ? { suppressed: e.suppressed } : {}),
    }));
    this.relay.on('error', (err) => process.emitWarning(`tilecast gateway relay: ${err.message}`));
    const dir = options.viewerAssetsDir ?? viewerAssetsDir();
    for (const name of ['tilecast-viewer.js', 'tilecast-audio-worklet.js']) {
      const file = path.join(dir, name);
      if (fs.existsSync(file)) this.viewerFiles.set(name, fs.readFileSync(file));
    }
    this.handler = createRoutes(this.routeContext());
    this.watcher = setInterval(() => void this.watchStore(), options.watchIntervalMs ?? 5000);
    this.watcher.unref();
  }

  static async create(options: GatewayOptions): Promise<Gateway> {
    fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const store = options.store ?? (await FileStore.open(path.join(options.dataDir, STORE_FILE)));
    const signer = new TokenSigner(loadOrCreateKey(options.dataDir));
    const audit = new AuditLog(options.dataDir);
    const config = { ...DEFAULT_AUTH, ...options.auth };
    const auth = new Authenticator(store, audit, signer, config);
    const gw = new Gateway(store, audit, signer, auth, { ...DEFAULT_POLICY, ...options.defaultPolicy }, options);
    gw.lastVersion = await store.version();
    return gw;
  }

  /** True when the browser viewer bundle was found (the viewer page needs it). */
  get viewerBuilt(): boolean {
    return this.viewerFiles.has('tilecast-viewer.js');
  }

  /** Serves the pages on `server` and lets the relay take its WebSocket paths. */
  attach(server: http.Server): this {
    this.relay.attach(server);
    server.on('request', this.handler);
    return this;
  }

  async close(): Promise<void> {
    clearInterval(this.watcher);
    await this.relay.close();
    await this.store.close();
    this.audit.close();
  }

  private async authenticateHost({ hostId, secret }: { hostId: string; secret: string }): Promise<boolean> {
    const pc = await this.store.getPc(hostId);
    return !!pc && !pc.revoked && verifyHostSecret(secret, pc.secretHash);
  }

  private async authorizeViewer({ request, remoteAddress, hostId, hostOnline }: ViewerRequest): Promise<ViewerVerdict> {
    const a = await this.auth.authenticate(parseCookies(request.headers.cookie).get(SESSION_COOKIE) ?? bearerToken(request));
    if (!a) return false;
    const lang = pickLang(request.headers['accept-language']);
    const refuse = (reason: string, code: (typeof Reason)[keyof typeof Reason], key: 'notYourPc' | 'pcOffline' | 'licenceFull'): ViewerVerdict => {
      this.audit.write({ type: 'viewer.refused', user: a.user.id, ip: remoteAddress, hostId, reason });
      return { bye: { reason: code, message: t(lang, key) } };
    };
    const pc = hostId && a.user.pcs.includes(hostId) ? await this.store.getPc(hostId) : null;
    if (!hostId || !pc || pc.revoked) return refuse('PC not assigned to the user', Reason.UNAUTHORIZED, 'notYourPc');
    if (!hostOnline) return refuse('PC offline', Reason.HOST_UNAVAILABLE, 'pcOffline');
    const cap = this.auth.config.licences;
    const lease = await this.store.acquireLicence(cap, { user: a.user.id, hostId }, Date.now());
    if (!lease) {
      this.audit.write({ type: 'licence.refused', user: a.user.id, ip: remoteAddress, at: 'viewer', hostId, cap });
      return { bye: { reason: Reason.CAPACITY, message: t(lang, 'licenceFull') } };
    }
    try {
      const policy = effectivePolicy(a.user, await this.store.groupPolicies(), this.defaultPolicy);
      const tag: GrantTag = { leaseId: lease.id, loginSession: a.session.id };
      // A viewer session never outlives the login it was opened with.
      const loginLeft = Math.max(1, a.session.expiresAt - Date.now());
      const maxSessionMs = policy.maxSessionMs > 0 ? Math.min(policy.maxSessionMs, loginLeft) : loginLeft;
      return { user: a.user.id, hostId, viewOnly: policy.viewOnly, audio: policy.audio, microphone: policy.microphone && !policy.viewOnly, idleTimeoutMs: policy.idleTimeoutMs, maxSessionMs, tag };
    } catch (err) {
      await this.store.releaseLicence(lease.id); // no grant, so no sessionEnd will free it
      throw err;
    }
  }

  private onSessionStart(s: RelaySessionInfo): void {
    const tag = s.tag as GrantTag | undefined;
    if (tag) this.loginOf.set(s.id, tag.loginSession);
    this.audit.write({ type: 'session.start', id: s.id, user: s.user, hostId: s.hostId, ip: s.remoteAddress, viewOnly: s.viewOnly,
      audio: s.audio, microphone: s.microphone, startedAt: new Date(s.startedAt).toISOString() });
  }

  private async onSessionEnd(s: RelaySessionEnd): Promise<void> {
    this.loginOf.delete(s.id);
    this.audit.write({
      type: 'session.end', id: s.id, user: s.user, hostId: s.hostId, ip: s.remoteAddress, startedAt: new Date(s.startedAt).toISOString(),
      endedAt: new Date(s.endedAt).toISOString(), durationMs: s.durationMs, bytesToViewer: s.bytesToViewer, bytesToHost: s.bytesToHost,
      paired: s.paired, reason: s.reason, ...auditedUse('audio', s.audioUse), ...auditedUse('microphone', s.microphoneUse),
    });
    const tag = s.tag as GrantTag | undefined;
    if (tag) await this.store.releaseLicence(tag.leaseId).catch((err) => process.emitWarning(`tilecast gateway: licence not freed: ${(err as Error).message}`));
  }

  private routeContext(): RouteContext {
    return {
      store: this.store, auth: this.auth, audit: this.audit, signer: this.signer, defaultPolicy: this.defaultPolicy,
      isOnline: (id) => this.relay.isOnline(id),
      liveSessions: () => this.relay.sessions().map((s) => ({
        id: s.id, user: s.user, hostId: s.hostId, pcName: s.hostId, remoteAddress: s.remoteAddress, startedAt: s.startedAt,
        bytes: s.bytesToViewer + s.bytesToHost, rttMs: s.rttMs, viewOnly: s.viewOnly,
      })),
      onlineHosts: () => new Map(this.relay.hosts().map((h) => [h.hostId, {
        remoteAddress: h.remoteAddress, since: h.since, sessions: h.sessions, screen: h.width && h.height ? `${h.width}×${h.height}` : null,
      }])),
      kick: (id, actor) => this.kick(id, actor),
      endSessionsOfLogin: (login) => {
        for (const [id, l] of this.loginOf) if (l === login) this.relay.endSession(id, { reason: Reason.NORMAL, message: 'logout' });
      },
      clientAddress: (req) => this.relay.clientAddress(req),
      viewerAsset: (name) => this.viewerFiles.get(name) ?? null,
    };
  }

  /** Ends a live session and signs out the login it was opened with (else the viewer would just reconnect). */
  async kick(relaySessionId: string, actor: string): Promise<boolean> {
    const s = this.relay.sessions().find((x) => x.id === relaySessionId);
    if (!s) return false;
    const login = this.loginOf.get(relaySessionId);
    if (login) await this.store.revokeLoginSession(login);
    this.relay.endSession(relaySessionId, { reason: Reason.UNAUTHORIZED, message: KICKED });
    this.audit.write({ type: 'admin', actor, action: 'kick', target: `${s.user}@${s.hostId}`, detail: relaySessionId });
    return true;
  }

  /** Applies store changes made elsewhere (the CLI) to live hosts and sessions. */
  async watchStore(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    try {
      const v = await this.store.version();
      if (v === this.lastVersion) return;
      this.lastVersion = v;
      for (const h of this.relay.hosts()) {
        const pc = await this.store.getPc(h.hostId);
        if (!pc || pc.revoked) this.relay.disconnectHost(h.hostId);
      }
      const now = Date.now();
      for (const s of this.relay.sessions()) {
        const user = await this.store.getUser(s.user);
        const login = this.loginOf.get(s.id);
        const loginOk = !login || (await this.store.getLoginSession(login, now)) !== null;
        if (!user || user.disabled || !user.pcs.includes(s.hostId) || !loginOk) {
          this.relay.endSession(s.id, { reason: Reason.UNAUTHORIZED, message: ACCESS_ENDED });
        }
      }
    } catch (err) {
      process.emitWarning(`tilecast gateway: store check failed: ${(err as Error).message}`);
    } finally {
      this.watching = false;
    }
  }
}

/** When sound or the microphone went through a session, for its session.end record (nothing when unused). */
function auditedUse(kind: 'audio' | 'microphone', u: MediaUse | null): Partial<Record<'audio' | 'microphone', AuditedMediaUse>> {
  return u ? { [kind]: { firstAt: new Date(u.firstAt).toISOString(), lastAt: new Date(u.lastAt).toISOString(), frames: u.frames } } : {};
}
