// D5: a closed session's memory is returned. 200 viewer sessions of a
// 1920×1080 screen are opened (each caught up, so its encoder holds its copy
// of the screen) and closed, 10 at a time, against one host in a child process
// (memoryHost.ts), whose memory after a forced GC must come back near where it
// started. Generous bounds, no timing: external memory within 32 MiB of the
// start (a host may keep a couple of idle screen buffers), the native memory
// reported to V8 and glibc's allocated bytes likewise (when the malloc probe
// of the benchmarks can be built), RSS growth < 256 MiB. The encoders' screen
// copies are page-mapped buffers given back when freed, and the addon fixes
// glibc's mmap threshold at 2 MiB (native/util/allocator_tuning.cc), so what
// glibc keeps afterwards is the smaller coding buffers of the threads that
// encoded; batches are kept small all the same.
import t from 'tap';
import { fork, ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { ViewerClient, connectViewer } from '../../src/client/viewerClient';
import { loadScene } from '../../src/source/sceneSource';
import { expectedFramebuffer, until } from '../helpers';

interface Sample {
  rss: number;
  external: number;
  arrayBuffers: number;
  heapTotal: number;
  reported: number | null;
  malloc: { inUse: number; mmapped: number; free: number } | null;
  probe: string | null;
  viewers: number;
  inflight: number;
  encoderBytes: number;
}

const SESSIONS = 200;
const BATCH = 10;
const MiB = 1024 * 1024;

function startHost(): Promise<{ child: ChildProcess; port: number; sample: () => Promise<Sample> }> {
  const child = fork(path.join(__dirname, 'memoryHost.ts'), [], { execArgv: [...process.execArgv, '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // Answers come in the order asked.
  const waiting: Array<{ resolve: (m: unknown) => void; reject: (e: Error) => void }> = [];
  child.on('message', (m) => waiting.shift()?.resolve(m));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`memoryHost exited (${code})`));
  });
  const ask = <T>(msg?: object) =>
    new Promise<T>((resolve, reject) => {
      waiting.push({ resolve: resolve as (m: unknown) => void, reject });
      if (msg) child.send(msg);
    });
  const sample = () => ask<Sample>({ cmd: 'sample' });
  return ask<{ port: number }>().then((m) => ({ child, port: m.port, sample }));
}

t.test('D5: 200 closed sessions of a 1920×1080 screen give their memory back (host in its own process)', async (t) => {
  const { child, port, sample } = await startHost();
  t.teardown(() => {
    child.kill();
  });
  const want = expectedFramebuffer(loadScene('document'));
  const start = await sample();
  let peakEncoderBytes = 0;
  for (let opened = 0; opened < SESSIONS; opened += BATCH) {
    const viewers: ViewerClient[] = [];
    for (let i = 0; i < BATCH; i++) {
      const v = connectViewer(`ws://127.0.0.1:${port}/`, { reconnect: false });
      v.on('error', () => {});
      viewers.push(v);
    }
    await until(() => viewers.every((v) => v.framebuffer !== null && v.framebuffer.equals(want)), `batch ${opened / BATCH + 1}: every viewer showing the host's screen`, 120_000);
    const open = await sample();
    peakEncoderBytes = Math.max(peakEncoderBytes, open.encoderBytes);
    t.equal(open.viewers, BATCH, `batch ${opened / BATCH + 1}: ${BATCH} sessions open on the host`);
    for (const v of viewers) v.close();
    let s = await sample();
    for (let tries = 0; s.viewers > 0 && tries < 600; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await sample();
    }
    t.equal(s.viewers, 0, `batch ${opened / BATCH + 1}: every session closed on the host`);
  }
  const end = await sample();
  const mib = (b: number) => (b / MiB).toFixed(1);
  t.comment(`host after ${SESSIONS} sessions, forced GC: RSS ${mib(start.rss)} -> ${mib(end.rss)} MiB, external ${mib(start.external)} -> ${mib(end.external)} MiB, ` +
    `reported to V8 ${start.reported === null ? 'n/a' : `${mib(start.reported)} -> ${mib(end.reported!)}`} MiB, V8 heap ${mib(start.heapTotal)} -> ${mib(end.heapTotal)} MiB` +
    (start.malloc && end.malloc ? `, glibc allocated ${mib(start.malloc.inUse + start.malloc.mmapped)} -> ${mib(end.malloc.inUse + end.malloc.mmapped)} MiB, free kept ${mib(start.malloc.free)} -> ${mib(end.malloc.free)} MiB` : '') +
    `; encoders held up to ${mib(peakEncoderBytes)} MiB with ${BATCH} open`);
  t.ok(Math.abs(end.external - start.external) <= 32 * MiB, `external memory within 32 MiB of the start (${mib(start.external)} -> ${mib(end.external)} MiB)`);
  if (start.reported === null || end.reported === null) {
    t.comment(`native memory reported to V8 not checked: ${start.probe}`);
  } else {
    t.ok(Math.abs(end.reported - start.reported) <= 32 * MiB, `native memory reported to V8 within 32 MiB of the start (${mib(start.reported)} -> ${mib(end.reported)} MiB)`);
  }
  if (start.malloc && end.malloc) {
    // Native memory the host still holds (glibc's allocated bytes, ArrayBuffers included), free pages kept by glibc aside.
    const held = (s: Sample) => s.malloc!.inUse + s.malloc!.mmapped;
    t.ok(Math.abs(held(end) - held(start)) <= 32 * MiB, `glibc-allocated memory within 32 MiB of the start (${mib(held(start))} -> ${mib(held(end))} MiB)`);
  }
  t.ok(end.rss - start.rss < 256 * MiB, `RSS growth < 256 MiB (${mib(start.rss)} -> ${mib(end.rss)} MiB)`);
  child.send({ cmd: 'close' });
});
