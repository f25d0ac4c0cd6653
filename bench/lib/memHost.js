// The host side of the memory benchmarks (soak.js, viewers.js), in a child
// process of its own so that process.memoryUsage() is the host's alone. Run by
// child_process.fork (with --expose-gc); talks over the IPC channel:
//
//   parent -> child  { cmd, id?, ...args }; the child answers { reply: id, ... }
//   child  -> parent { type: 'ready', port, width, height, pid }
//                    { type: 'mem', t, rss, heapUsed, external, arrayBuffers, reported, viewers } every second
//
// `reported` is the memory native code reported to V8 with AdjustExternalMemory
// (the native encoders' screen copies): V8's external-memory counter (read with
// napi_adjust_external_memory(0)) minus arrayBuffers, which that counter also
// holds. Node 20's process.memoryUsage().external does not include it.
//
// Sources: 'scene' (SceneSource looping, with quiet periods on command: the
// screen stands still while quiet), or 'push' (a PushSource showing the
// deterministic frames of frames.js: `show` picks one).
'use strict';
const crypto = require('node:crypto');
const { createHost, PushSource, codingBufferStats } = require('tilecast');
const { SceneSource } = require('tilecast/testing');
const { typedFrame } = require('./frames');
const { serve } = require('./child');
const mallocProbe = require('./mallocProbe');

const opts = JSON.parse(process.argv[2] || '{}');
const t0 = performance.now();

/** SceneSource that can be frozen: while quiet it keeps returning the last frame. */
class QuietableScene {
  constructor() {
    this.inner = new SceneSource({ loops: 1_000_000 });
    this.width = this.inner.width;
    this.height = this.inner.height;
    this.quiet = false;
    this.last = null;
  }
  async nextFrame() {
    if (this.quiet && this.last) return { ...this.last, timestamp: this.last.timestamp };
    const f = await this.inner.nextFrame();
    this.last = f;
    return f;
  }
  close() {
    this.inner.close();
  }
}

/** SHA-1 of a frame's pixels as a viewer holds them: packed rows, alpha 255. */
function screenHash(frame) {
  const row = frame.width * 4;
  const packed = Buffer.alloc(row * frame.height);
  for (let y = 0; y < frame.height; y++) frame.data.copy(packed, y * row, y * frame.stride, y * frame.stride + row);
  for (let i = 3; i < packed.length; i += 4) packed[i] = 255;
  return crypto.createHash('sha1').update(packed).digest('hex');
}

/**
 * Resident memory by kind of mapping (/proc/self/smaps), MiB: glibc's thread
 * arenas (anonymous heaps aligned to 64 MiB, what worker threads malloc from),
 * the main [heap], other anonymous memory (V8 heap, mmapped chunks, stacks) and
 * files (code).
 */
function smapsByKind() {
  const out = { threadArenas: 0, threadArenaCount: 0, mainHeap: 0, otherAnon: 0, files: 0 };
  let kind = null;
  for (const line of require('node:fs').readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = line.match(/^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/);
    if (m) {
      const start = BigInt(`0x${m[1]}`), end = BigInt(`0x${m[2]}`);
      const arena = m[5] === '' && m[4] === '0' && start % (64n << 20n) === 0n && end - start <= 64n << 20n && m[3].startsWith('rw');
      kind = m[5] === '[heap]' ? 'mainHeap' : arena ? 'threadArenas' : m[5] === '' || m[5].startsWith('[') ? 'otherAnon' : 'files';
      if (arena) out.threadArenaCount++;
      continue;
    }
    const r = line.match(/^Rss:\s+(\d+) kB/);
    if (r && kind) out[kind] += Number(r[1]) / 1024;
  }
  return out;
}

// Besides process.memoryUsage(): where native memory is, so a slope can be traced to its owner:
// the coding buffer sets kept between encodes, the memory mapped for content cache entries, and
// what glibc has handed out (null where mallocProbe cannot be built).
function sample(host) {
  const m = process.memoryUsage();
  const c = codingBufferStats();
  const malloc = mallocProbe.info(false);
  return {
    t: (performance.now() - t0) / 1000, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers,
    reported: mallocProbe.v8External() - m.arrayBuffers, viewers: host ? host.viewers().length : 0,
    codingIdle: c.idleBytes, cacheMapped: c.cacheMappedBytes,
    mallocInUse: malloc ? malloc.inUse : null, mallocFree: malloc ? malloc.free : null, mallocMmapped: malloc ? malloc.mmapped : null,
    ...rssParts(),
  };
}

// The kernel's split of RSS (Linux): anonymous memory (heaps, arenas, mappings) against file pages
// (the binaries and libraries mapped in). Null elsewhere.
function rssParts() {
  try {
    const status = require('node:fs').readFileSync('/proc/self/status', 'utf8');
    const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { rssAnon: kib('RssAnon'), rssFile: kib('RssFile') };
  } catch {
    return { rssAnon: null, rssFile: null };
  }
}

async function main() {
  let source;
  if (opts.source === 'push') {
    source = new PushSource();
    source.push(typedFrame(0));
  } else {
    source = new QuietableScene();
  }
  // Every load viewer comes from 127.0.0.1: the per-address and handshake caps must let them all in.
  const cap = Math.max(16, (opts.maxViewers ?? 8) + 8);
  const host = await createHost({ source, fps: 30, maxViewers: opts.maxViewers ?? 8, maxConnectionsPerIp: cap, maxUnauthenticated: cap });
  host.on('error', (err) => process.send({ type: 'error', message: String(err && err.message) }));
  let shown = 0;
  const sampler = setInterval(() => process.send({ type: 'mem', ...sample(host) }), 1000);

  const handlers = {
    sample: () => sample(host),
    gc: () => {
      global.gc();
      global.gc();
      return sample(host);
    },
    quiet: ({ on }) => {
      source.quiet = on;
      return {};
    },
    // The screen the host shows now (scene: the frozen frame while quiet).
    hash: () => ({ hash: opts.source === 'push' ? screenHash(typedFrame(shown)) : source.last ? screenHash(source.last) : null }),
    show: ({ step }) => {
      shown = step;
      source.push(typedFrame(step));
      return {};
    },
    // Every session has its updates acked (nothing in flight) and nothing left to send.
    settled: () => {
      const v = host.viewers();
      return { viewers: v.length, inflight: v.reduce((n, s) => n + s.flow.inflightUpdates, 0) };
    },
    viewers: () => ({ viewers: host.viewers().map((s) => ({ id: s.id, updates: s.updatesSent, bytes: s.bytesSent, keyframes: s.keyframes, lossy: s.lossyUpdates })) }),
    smaps: () => ({ smaps: smapsByKind() }),
    malloc: ({ trim }) => ({ malloc: mallocProbe.load() ? mallocProbe.info(trim) : null, reason: mallocProbe.reason() }),
    close: async () => {
      clearInterval(sampler);
      await host.close();
      source.close();
      setTimeout(() => process.exit(0), 50);
      return {};
    },
  };
  serve(handlers);
  process.send({ type: 'ready', port: host.port, width: source.width, height: source.height, pid: process.pid });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
