/**
 * Refuses an HTTP upgrade on its raw socket: the WebSocket handshake never
 * happened, so the answer is a bare HTTP response, and the connection closes.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export function refuseUpgrade(socket: Duplex, status: number, headers: Record<string, string> = {}): void {
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\n${extra}Content-Length: 0\r\n\r\n`);
}

/** 429 with the seconds until the address may try again. */
export function refuseRateLimited(socket: Duplex, blockedMs: number): void {
  refuseUpgrade(socket, 429, { 'Retry-After': String(Math.ceil(blockedMs / 1000)) });
}
