// bin/tilecast-gateway.js `serve` restarts Node with the relay's young-generation
// flags (src/relay/nodeFlags.ts) unless the user sized it (and passes the user's
// flags on, but not the inspector's); signals reach the gateway: one request
// (a terminal's Ctrl-C reaches both processes) stops it cleanly, a second one
// while it is stopping quits at once; the launcher ends as the gateway does.
import t from 'tap';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SAME_REQUEST_MS } from '../../../src/gateway/cli/serve';
import { RELAY_NODE_FLAGS, flagsForGateway, youngGenerationConfigured } from '../../../src/relay/nodeFlags';

const BIN = path.resolve(__dirname, '../../../bin/tilecast-gateway.js');

t.test('youngGenerationConfigured: a semi-space flag in execArgv or NODE_OPTIONS, either spelling', async (t) => {
  t.notOk(youngGenerationConfigured([], ''));
  t.notOk(youngGenerationConfigured(['--expose-gc'], '--max-old-space-size=512'));
  t.ok(youngGenerationConfigured(['--max-semi-space-size=32'], ''));
  t.ok(youngGenerationConfigured([], '--trace-warnings --min_semi_space_size=8'));
  t.ok(youngGenerationConfigured(RELAY_NODE_FLAGS, undefined));
});

t.test('flagsForGateway: the user\'s flags without the inspector\'s', async (t) => {
  t.same(flagsForGateway(['--inspect', '--max-old-space-size=512', '--inspect-brk=0.0.0.0:9230', '--inspect-wait', '--inspect-port', '9231', '--inspect-port=9232', '--debug-port=9233', '--enable-source-maps']), ['--max-old-space-size=512', '--enable-source-maps']);
  t.same(flagsForGateway(['--inspector-free-flag', '--inspect=9229']), ['--inspector-free-flag'], 'only the inspector flags themselves');
  t.same(flagsForGateway([]), []);
});

function dataDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-launcher-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function serve(t: { teardown(fn: () => void): void }, nodeArgs: string[], dir = dataDir(t)) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // tap's own loader flags must not count as the user's
  delete env.TILECAST_GATEWAY_NODE_FLAGS_APPLIED;
  // Its own process group, as a terminal's foreground job: a Ctrl-C there reaches every process in it.
  const proc = spawn(process.execPath, [...nodeArgs, BIN, '--data-dir', dir, 'serve', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  t.teardown(() => void proc.kill('SIGKILL'));
  const ready = new Promise<{ pid: number; flags: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no process line in 30 s: ${out}`)), 30_000);
    proc.stdout.on('data', () => {
      const m = /process: pid (\d+), node \S+ (.*)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ pid: Number(m[1]), flags: m[2]!, port: Number(/serving https:\/\/\S+:(\d+) /.exec(out)![1]) });
      }
    });
  });
  /** Resolves once the output has matched `re` (bounded: rejects with the output after 30 s). */
  const printed = (re: RegExp) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${re} not printed in 30 s: ${out}`)), 30_000);
    const look = () => re.test(out) && (clearTimeout(timer), proc.stdout.off('data', look), resolve());
    proc.stdout.on('data', look);
    look();
  });
  return { proc, out: () => out, exited, ready, printed };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Makes the gateway's close wait a few seconds, as a store on a slow or busy
 * disk would: another process holds the store's lock (FileLock: a live pid, so
 * it is waited for, up to 5 s) while a failed login waits to count itself; the
 * close waits for the store's queue.
 */
async function slowClose(dir: string, port: number): Promise<void> {
  fs.writeFileSync(path.join(dir, 'store.json.lock'), `${process.pid} launcher-test`);
  const req = https.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/login', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } });
  req.on('error', () => undefined);
  req.end(JSON.stringify({ user: 'nobody', password: 'wrong' }));
  await pause(2000); // the password check (scrypt) is over: the failure now waits for the lock
}

t.test('serve runs the gateway in a Node started with RELAY_NODE_FLAGS; a terminal\'s Ctrl-C stops it once, cleanly', async (t) => {
  const g = serve(t, []);
  const { pid, flags } = await g.ready;
  t.not(pid, g.proc.pid, 'the gateway is a child of the launcher');
  for (const f of RELAY_NODE_FLAGS) t.ok(flags.includes(f), `the gateway runs with ${f}`);
  process.kill(-g.proc.pid!, 'SIGINT'); // the whole group: the gateway gets it directly and from the launcher
  const end = await g.exited;
  t.same(end, { code: 0, signal: null }, 'the launcher exits 0 when the gateway stopped cleanly');
  t.equal(g.out().match(/SIGINT: stopping/g)?.length, 1, 'the gateway stopped once');
  t.notMatch(g.out(), /again: quitting/, 'the two copies of one Ctrl-C are one request');
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the gateway process is gone');
});

t.test('a second Ctrl-C while the gateway\'s close waits quits at once', async (t) => {
  const dir = dataDir(t);
  const g = serve(t, [], dir);
  const { pid, port } = await g.ready;
  await slowClose(dir, port);
  process.kill(-g.proc.pid!, 'SIGINT');
  await g.printed(/SIGINT: stopping/);
  process.kill(-g.proc.pid!, 'SIGINT'); // at once: copies of the same request
  process.kill(-g.proc.pid!, 'SIGINT');
  await pause(SAME_REQUEST_MS + 200); // then a human's second Ctrl-C
  t.notMatch(g.out(), /again: quitting/, 'signals right after the first are the same request');
  process.kill(-g.proc.pid!, 'SIGINT');
  t.same(await g.exited, { code: 130, signal: null }, 'the launcher ends with the gateway\'s status, 128 + SIGINT');
  t.match(g.out(), /SIGINT again: quitting now, without waiting for connections to close/);
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the gateway process is gone');
});

t.test('the launcher\'s inspector flags are not passed to the gateway (its port would clash); the others are', async (t) => {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.once('listening', r));
  const inspectPort = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const g = serve(t, [`--inspect=127.0.0.1:${inspectPort}`, '--max-old-space-size=600']);
  const { pid, flags } = await g.ready;
  t.not(pid, g.proc.pid, 'restarted with the relay flags');
  t.notMatch(flags, /inspect/, `the gateway runs without an inspector flag (${flags})`);
  t.match(flags, /--max-old-space-size=600/, 'the user\'s other flags are passed on');
  t.notMatch(g.out(), /Starting inspector .* failed|address already in use/, 'no inspector clash');
  g.proc.kill('SIGTERM');
  t.same(await g.exited, { code: 0, signal: null });
});

t.test('a user who sized the young generation keeps their flags and a single process', async (t) => {
  const g = serve(t, ['--max-semi-space-size=32']);
  const { pid, flags } = await g.ready;
  t.equal(pid, g.proc.pid, 'no restart');
  t.equal(flags, '--max-semi-space-size=32');
  g.proc.kill('SIGINT');
  t.same(await g.exited, { code: 0, signal: null });
});

t.test('alone (no launcher), a second signal while stopping quits at once too', async (t) => {
  const dir = dataDir(t);
  const g = serve(t, ['--max-semi-space-size=32'], dir);
  const { pid, port } = await g.ready;
  t.equal(pid, g.proc.pid, 'one process');
  await slowClose(dir, port);
  g.proc.kill('SIGTERM');
  await g.printed(/SIGTERM: stopping/);
  await pause(SAME_REQUEST_MS + 200);
  g.proc.kill('SIGTERM');
  t.same(await g.exited, { code: 143, signal: null }, '128 + SIGTERM');
  t.match(g.out(), /SIGTERM again: quitting now/);
});

t.test('a launcher killed outright takes the gateway with it', async (t) => {
  const g = serve(t, []);
  const { pid } = await g.ready;
  g.proc.kill('SIGKILL');
  await g.exited;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the gateway stopped when its launcher died');
});
