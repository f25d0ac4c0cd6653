// Hostile clients for the security suite: raw TCP sockets, slowloris, raw
// WebSocket peers that skip or abuse the handshake. Real sockets on 127.0.0.x.
import * as net from 'node:net';
import WebSocket from 'ws';
import { ViewerClient } from '../../src/client/viewerClient';
import { AuditEvent, Host, HostOptions, createHost } from '../../src/host/host';
import { Message, decodeMessage, encodeMessage } from '../../src/protocol/messages';
import { PushSource } from '../../src/source/pushSource';
import { loadScene } from '../../src/source/sceneSource';
import type { Frame } from '../../src/frame';
import { expectedFramebuffer, firstDifference, rng, until } from '../helpers';

export const HELLO = encodeMessage({ type: 'hello', minVersion: 1, maxVersion: 1, capabilities: 0, software: 'hostile-test' });
/** A second loopback address: a different "remote IP" as far as the host can tell. */
export const OTHER_IP = '127.0.0.2';

export const base = loadScene('document');

/** `base` with a block whose content depends on `n`. */
export function frameN(n: number): Frame {
  const data = Buffer.from(base.data);
  const random = rng(n);
  const x0 = (n * 97) % (base.width - 100), y0 = (n * 61) % (base.height - 50);
  for (let y = y0; y < y0 + 50; y++) for (let x = x0; x < x0 + 100; x++) data[(y * base.width + x) * 4] = (random() * 256) | 0;
  return { ...base, data };
}

/** A host serving a PushSource that shows `base`, with its audit events collected. */
export async function startHost(options: Omit<HostOptions, 'source'> = {}) {
  const source = new PushSource();
  source.push(base);
  const host = await createHost({ source, ...options });
  const audits: AuditEvent[] = [];
  host.on('audit', (e: AuditEvent) => audits.push(e));
  return { source, host, audits };
}

/** Waits until the viewer shows exactly `frame`; returns the first difference or null. */
export async function exact(viewer: ViewerClient, frame: Frame, ms = 20_000): Promise<string | null> {
  const want = expectedFramebuffer(frame);
  try {
    await until(() => viewer.framebuffer !== null && viewer.width === frame.width && firstDifference(viewer.framebuffer, want, frame.width) === null,
      'the viewer to match the host screen', ms);
  } catch (err) {
    return viewer.framebuffer ? firstDifference(viewer.framebuffer, want, frame.width) ?? (err as Error).message : 'no framebuffer';
  }
  return null;
}

export interface RawSocket {
  socket: net.Socket;
  closed: boolean;
  /** Everything the host sent. */
  received: () => string;
  closedP: Promise<void>;
}

/** A raw TCP connection that sends nothing unless told to. */
export function rawSocket(port: number, localAddress?: string): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const chunks: Buffer[] = [];
    const r: RawSocket = { socket, closed: false, received: () => Buffer.concat(chunks).toString('latin1'), closedP: null as unknown as Promise<void> };
    r.closedP = new Promise<void>((done) => socket.on('close', () => {
      r.closed = true;
      done();
    }));
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {}); // resets are expected
    socket.once('connect', () => resolve(r));
    socket.once('error', (err) => {
      if (!r.closed && socket.connecting) reject(err);
    });
  });
}

/** The upgrade request a browser would send, as raw text. */
export function upgradeRequest(port: number, extra = ''): string {
  return `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
    + `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/**
 * Slowloris: an upgrade request dribbled one byte every `everyMs`, the headers
 * never finished (the request repeats a harmless header forever). Stops when closed.
 */
export async function slowloris(port: number, everyMs = 50): Promise<RawSocket> {
  const r = await rawSocket(port);
  const text = upgradeRequest(port).replace(/\r\n$/, '');
  let i = 0;
  const filler = 'X-Padding: aaaaaaaaaaaaaaaa\r\n';
  const timer = setInterval(() => {
    if (r.closed || r.socket.destroyed) return clearInterval(timer);
    const ch = i < text.length ? text[i] : filler[(i - text.length) % filler.length];
    i++;
    r.socket.write(ch!);
  }, everyMs);
  void r.closedP.then(() => clearInterval(timer));
  return r;
}

export interface RawPeer {
  ws: WebSocket;
  messages: Message[];
  closed: Promise<number>;
  isClosed: () => boolean;
}

/** A WebSocket peer that completes the upgrade and then does only what the test says. */
export function rawPeer(url: string, options: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: options.localAddress, headers: options.headers });
    const messages: Message[] = [];
    let done = false;
    const closed = new Promise<number>((r) => ws.on('close', (code) => {
      done = true;
      r(code);
    }));
    ws.on('message', (d: Buffer) => {
      try {
        messages.push(decodeMessage(d));
      } catch {
        /* not our concern here */
      }
    });
    ws.on('open', () => resolve({ ws, messages, closed, isClosed: () => done }));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

/** The HTTP status of an upgrade attempt (101 on success; the socket is then closed). */
export function upgradeStatus(url: string, options: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: options.localAddress, headers: options.headers });
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('unexpected-response', (req, res) => {
      req.destroy();
      resolve(res.statusCode ?? 0);
    });
    ws.on('error', () => resolve(0)); // reset / destroyed before any response
  });
}

export async function allClosed(sockets: Array<{ closed: boolean } | { isClosed: () => boolean }>, what: string, ms = 15_000): Promise<string | null> {
  try {
    await until(() => sockets.every((s) => ('isClosed' in s ? s.isClosed() : s.closed)), what, ms);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { Host };
