// Helpers for hostile-viewer tests: raw WebSocket peers that speak just enough
// of the protocol, a scriptable FrameSource, and a host in a child process.
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import WebSocket from 'ws';
import type { Frame } from '../../src/frame';
import { Message, decodeMessage, encodeMessage } from '../../src/protocol/messages';
import type { FrameSource } from '../../src/source/frameSource';

/** One message from the host as a raw peer saw it: its type byte, and the decoded message when this build knows it. */
export interface RawReceived {
  typeByte: number;
  bytes: Buffer;
  msg: Message | null;
}

export interface RawPeer {
  ws: WebSocket;
  received: RawReceived[];
  closed: Promise<number>;
  isClosed: () => boolean;
  send: (msg: Message) => void;
  of: (type: Message['type']) => Message[];
}

/** A raw peer that sends HELLO with `capabilities` as soon as it is open. */
export function rawPeer(url: string, capabilities: number, headers: Record<string, string> = {}): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers });
    const received: RawReceived[] = [];
    let closedFlag = false;
    const closed = new Promise<number>((r) => ws.on('close', (code) => ((closedFlag = true), r(code))));
    ws.on('message', (d: Buffer) => {
      let msg: Message | null = null;
      try {
        msg = decodeMessage(d);
      } catch {
        // a message type this build does not know (the raw peer only records it)
      }
      received.push({ typeByte: d[0]!, bytes: Buffer.from(d), msg });
    });
    const send = (msg: Message) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(msg));
    };
    ws.on('open', () => {
      send({ type: 'hello', minVersion: 1, maxVersion: 1, capabilities, software: 'hostile-test' });
      resolve({
        ws, received, closed, send, isClosed: () => closedFlag,
        of: (type) => received.filter((r) => r.msg?.type === type).map((r) => r.msg!),
      });
    });
    ws.on('error', reject);
  });
}

/** Sends a PING and waits for its PONG: everything sent before it has been handled by the host. */
export async function roundTrip(peer: RawPeer, id: number): Promise<void> {
  peer.send({ type: 'ping', id, time: 0 });
  const end = Date.now() + 10_000;
  while (!peer.of('pong').some((m) => m.type === 'pong' && m.id === id)) {
    if (Date.now() > end) throw new Error(`no PONG ${id}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A FrameSource the test steers: serves its frame, or throws, hangs or ends on demand. */
export class ScriptedSource implements FrameSource {
  mode: 'ok' | 'throw' | 'hang' | 'end' = 'ok';
  calls = 0;
  private release: (() => void) | null = null;
  constructor(public frame: Frame) {}
  get width(): number {
    return this.frame.width;
  }
  get height(): number {
    return this.frame.height;
  }
  async nextFrame(): Promise<Frame | null> {
    this.calls++;
    if (this.mode === 'throw') throw new Error('X display went away');
    if (this.mode === 'end') return null;
    if (this.mode === 'hang') await new Promise<void>((r) => (this.release = r));
    return (this.mode as ScriptedSource['mode']) === 'end' ? null : this.frame; // it may have ended while hanging
  }
  /** Back to serving frames; a hanging nextFrame() returns. */
  recover(): void {
    this.mode = 'ok';
    this.release?.();
    this.release = null;
  }
  close(): void {
    this.mode = 'end';
    this.release?.();
  }
}

/** The TypeScript loader tap uses, for child processes that run .ts files. */
function tsRegister(): string {
  for (const id of ['ts-node/register/transpile-only', '@isaacs/ts-node-temp-fork-for-pr-2009/register/transpile-only']) {
    try {
      return require.resolve(id);
    } catch {
      // try the next
    }
  }
  throw new Error('no ts-node to run a TypeScript child process');
}

/** Runs a .ts fixture's exported main() in its own Node process with an IPC channel; `ask` sends a command and resolves with the next reply. */
export function tsChild(file: string): { child: ChildProcess; next: () => Promise<any>; ask: (cmd: string) => Promise<any> } {
  // A .ts entry point would go through tap's ESM loader hooks (inherited via NODE_OPTIONS),
  // which do not know .ts: start from -e, register ts-node, then require the fixture.
  const script = `require(${JSON.stringify(tsRegister())}); require(${JSON.stringify(path.resolve(file))}).main();`;
  const child = spawn(process.execPath, ['--expose-gc', '-e', script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise<any>((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`child exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m);
    });
  });
  const ask = (cmd: string) => {
    const reply = next();
    child.send({ cmd });
    return reply;
  };
  return { child, next, ask };
}
