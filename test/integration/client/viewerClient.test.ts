// ViewerClient's public surface against a real host: ready() and waitFor() with
// timeouts and AbortSignal, ERR_UNAUTHORIZED for refused credentials, and the
// EventEmitter convention for 'error' (no listener: it throws).
import t from 'tap';
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { connectViewer } from '../../../src/client/viewerClient';
import { createHost } from '../../../src/host/host';
import { PushSource } from '../../../src/source/pushSource';
import { base } from '../../security/hostile';

async function hostWithPassword(t: { teardown(fn: () => unknown): void }) {
  const source = new PushSource();
  source.push(base);
  const host = await createHost({ source, authorize: ({ request }) => request.headers.authorization === 'right' && { user: 'u' } });
  t.teardown(() => host.close());
  return host;
}

t.test('ready() resolves with the HELLO; waitFor() takes a timeout or a signal', async (t) => {
  const host = await hostWithPassword(t);
  const viewer = connectViewer(host.url, { headers: { authorization: 'right' } });
  t.teardown(() => viewer.close());
  const hello = await viewer.ready({ timeoutMs: 20_000 });
  t.equal(hello.type, 'hello');
  t.equal(viewer.connected, true);
  t.equal(await viewer.ready(), hello, 'at once when connected');
  await viewer.waitFor(() => true, { timeoutMs: 20_000 });
  await t.rejects(viewer.waitFor(() => false, 50), { code: 'ERR_TIMEOUT', message: 'waitFor timed out after 50 ms' });
  const ac = new AbortController();
  const waiting = viewer.waitFor(() => false, { signal: ac.signal });
  ac.abort(new Error('user left'));
  await t.rejects(waiting, { code: 'ERR_ABORTED', message: 'waitFor aborted' });
  await t.rejects(viewer.waitFor(() => true, { signal: AbortSignal.abort() }), { code: 'ERR_ABORTED' }, 'already aborted');
});

t.test('refused credentials: ERR_UNAUTHORIZED, and no reconnect', async (t) => {
  const host = await hostWithPassword(t);
  const viewer = connectViewer(host.url, { headers: { authorization: 'wrong' } });
  t.teardown(() => viewer.close());
  const errors: string[] = [];
  const closes: boolean[] = [];
  await t.rejects(viewer.ready(), { code: 'ERR_UNAUTHORIZED', message: /HTTP 401/ });
  viewer.on('error', (e) => errors.push((e as { code?: string }).code ?? '?'));
  viewer.on('close', (c) => closes.push(c.willReconnect));
  await new Promise((r) => setTimeout(r, 1500));
  t.same(errors, [], 'no second attempt (a refusal is final)');
  t.equal(viewer.connections, 0);
});

t.test('a signal closes the client; ready() rejects with ERR_ABORTED or ERR_TIMEOUT', async (t) => {
  const host = await hostWithPassword(t);
  const ac = new AbortController();
  const viewer = connectViewer(host.url, { headers: { authorization: 'right' }, signal: ac.signal });
  await viewer.ready({ timeoutMs: 20_000 });
  const closed = new Promise<{ willReconnect: boolean }>((r) => viewer.once('close', r));
  ac.abort();
  t.equal((await closed).willReconnect, false, 'aborting closes it for good');
  await t.rejects(viewer.ready(), { code: 'ERR_UNAVAILABLE' }, 'a closed viewer will not connect');
  const never = connectViewer(host.url, { signal: AbortSignal.abort() });
  t.equal(never.connected, false);
  await t.rejects(never.ready({ timeoutMs: 1000 }), { code: 'ERR_UNAVAILABLE' }, 'already aborted: never connects');

  // A port nobody answers on quickly: a listening socket that never upgrades.
  const net = await import('node:net');
  const held: import('node:net').Socket[] = [];
  const silent = net.createServer((socket) => void held.push(socket));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => {
    for (const s of held) s.destroy();
    silent.close(r);
  }));
  const stuck = connectViewer(`ws://127.0.0.1:${(silent.address() as { port: number }).port}/`, { reconnect: false });
  stuck.on('error', () => {});
  t.teardown(() => stuck.close());
  await t.rejects(stuck.ready({ timeoutMs: 300 }), { code: 'ERR_TIMEOUT', message: 'connect timed out after 300 ms' });
  const ac2 = new AbortController();
  const pending = stuck.ready({ signal: ac2.signal });
  ac2.abort();
  await t.rejects(pending, { code: 'ERR_ABORTED', message: 'connect aborted' });
});

t.test("no 'error' listener: the refusal throws (EventEmitter's convention), it is not swallowed", async (t) => {
  const host = await hostWithPassword(t);
  const child = fork(path.join(__dirname, 'noErrorListener.ts'), [host.url], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  t.not(code, 0, 'the process dies');
  t.match(out, /ERR_UNAUTHORIZED/);
  t.notMatch(out, /still running/);
});
