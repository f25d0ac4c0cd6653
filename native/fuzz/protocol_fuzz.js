#!/usr/bin/env node
// Fuzzer for the TypeScript wire protocol (decodeMessage, encodeMessage,
// FrameParser; the compiled dist/protocol). libFuzzer cannot run JS, and
// Jazzer.js's prebuilt addon needs glibc 2.38 (Debian 12 has 2.36), so this is
// a small mutation fuzzer of our own, guided by V8's block coverage (the
// inspector's precise coverage, taken after every input: a new covered block,
// a block's hit count in a new power-of-two bucket, or a new set of blocks
// left unexecuted in a called function keeps the input).
// Seeded RNG, bounded by -runs and -max_total_time.
//
//   node native/fuzz/protocol_fuzz.js [-runs=N] [-max_total_time=S] [-seed=N] [-artifact_dir=D] [corpus dirs...]
//   node native/fuzz/protocol_fuzz.js <file>...     (replay: run the given inputs once, report findings)
//
// Properties (a violation is a finding, saved as <artifact_dir>/crash-<sha1>):
//   - decodeMessage returns a message or throws a TilecastError with a wire
//     error code; never another exception type;
//   - an accepted message re-encodes to the same bytes (the format is canonical)
//     and decodes again to an equal message;
//   - UPDATE_COMPACT, decoded with a fresh connection state, throws only wire
//     errors, and an accepted one re-encodes (encodeCompactUpdate) to bytes
//     that decode to an equal message (not byte-equal: varints may be padded);
//   - FrameParser yields the same messages whatever the chunking (and throws
//     only TilecastErrors);
//   - no input takes longer than 1 s.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const inspector = require('node:inspector');
const path = require('node:path');
const util = require('node:util');

const root = path.join(__dirname, '..', '..');
const protocol = require(path.join(root, 'dist', 'protocol'));
const { TilecastError } = require(path.join(root, 'dist', 'errors'));
const { decodeMessage, encodeMessage, encodeFrame, FrameParser } = protocol;

const WIRE_CODES = new Set(['ERR_PROTOCOL', 'ERR_TRUNCATED', 'ERR_TOO_LARGE', 'ERR_UNKNOWN_MESSAGE']);
const MAX_LEN = 64 * 1024;

// ---- arguments
const opts = { runs: Infinity, max_total_time: 0, seed: 1, artifact_dir: path.join(__dirname, 'out', 'crashes', 'protocol') };
const inputs = [];
for (const a of process.argv.slice(2)) {
  const m = /^-(\w+)=(.*)$/.exec(a);
  if (m) opts[m[1]] = m[1] === 'artifact_dir' ? m[2] : Number(m[2]);
  else inputs.push(a);
}

// ---- deterministic RNG (mulberry32)
let state = opts.seed >>> 0;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const below = (n) => Math.floor(rand() * n);

// ---- the properties
class Finding extends Error {}

function sameMessage(a, b) {
  return util.isDeepStrictEqual(normalise(a), normalise(b));
}
function normalise(m) {
  const o = { ...m };
  for (const k of ['stream', 'images', 'pixels', 'payload', 'ticket']) if (o[k]) o[k] = Buffer.from(o[k]).toString('hex'); // byte views: compared by content (Buffer and Uint8Array are not deep-equal)
  return o;
}

function checkDecode(bytes) {
  let msg;
  try {
    msg = decodeMessage(bytes);
  } catch (err) {
    if (!(err instanceof TilecastError)) throw new Finding(`decodeMessage threw a non-TilecastError: ${err && err.stack}`);
    if (!WIRE_CODES.has(err.code)) throw new Finding(`decodeMessage threw ${err.code} (${err.message}), not a wire error code`);
    return null;
  }
  let again;
  try {
    again = encodeMessage(msg);
  } catch (err) {
    throw new Finding(`an accepted ${msg.type} message does not re-encode: ${err && err.message}`);
  }
  if (Buffer.compare(Buffer.from(again), Buffer.from(bytes)) !== 0) {
    throw new Finding(`${msg.type} is not canonical: ${Buffer.from(bytes).toString('hex').slice(0, 200)} re-encodes to ${Buffer.from(again).toString('hex').slice(0, 200)}`);
  }
  if (!sameMessage(decodeMessage(again), msg)) throw new Finding(`${msg.type}: decode(encode(m)) differs from m`);
  return msg;
}

function checkCompact(bytes) {
  if (bytes[0] !== protocol.MessageType.UPDATE_COMPACT) return;
  let msg;
  try {
    msg = decodeMessage(bytes, new protocol.CompactUpdateState());
  } catch (err) {
    if (!(err instanceof TilecastError)) throw new Finding(`UPDATE_COMPACT decode threw a non-TilecastError: ${err && err.stack}`);
    if (!WIRE_CODES.has(err.code)) throw new Finding(`UPDATE_COMPACT decode threw ${err.code} (${err.message}), not a wire error code`);
    return;
  }
  let again;
  try {
    again = protocol.encodeCompactUpdate(msg, new protocol.CompactUpdateState());
  } catch (err) {
    throw new Finding(`an accepted UPDATE_COMPACT does not re-encode: ${err && err.message}`);
  }
  if (!sameMessage(decodeMessage(again, new protocol.CompactUpdateState()), msg)) throw new Finding('UPDATE_COMPACT: decode(encode(m)) differs from m');
}

function checkFraming(bytes) {
  // Chunk sizes come from the input's own bytes, so this is deterministic per input.
  const framed = encodeFrame(bytes);
  const one = new FrameParser();
  const split = new FrameParser();
  let a, b = [];
  try {
    a = one.push(framed);
  } catch (err) {
    if (!(err instanceof TilecastError)) throw new Finding(`FrameParser threw a non-TilecastError: ${err && err.stack}`);
    return;
  }
  for (let at = 0, i = 0; at < framed.length; i++) {
    const n = 1 + ((bytes[i % Math.max(1, bytes.length)] || 0) % 17);
    b = b.concat(split.push(framed.subarray(at, at + n)));
    at += n;
  }
  if (a.length !== 1 || b.length !== 1 || Buffer.compare(Buffer.from(a[0]), Buffer.from(bytes)) !== 0 || Buffer.compare(Buffer.from(b[0]), Buffer.from(bytes)) !== 0 || !one.idle || !split.idle) {
    throw new Finding('FrameParser: chunked and whole parses disagree or lose bytes');
  }
}

function runOne(bytes) {
  const t0 = process.hrtime.bigint();
  checkDecode(bytes);
  checkCompact(bytes);
  checkFraming(bytes);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (ms > 1000) throw new Finding(`slow input: ${ms.toFixed(0)} ms`);
}

// ---- coverage (V8 block coverage of dist/protocol and dist/errors)
const session = new inspector.Session();
session.connect();
function post(method, params) {
  let out, error;
  session.post(method, params, (err, res) => { error = err; out = res; }); // synchronous for an in-process session
  if (error) throw error;
  return out;
}
post('Profiler.enable');
post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
const seen = new Set();
function newCoverage() {
  const { result } = post('Profiler.takePreciseCoverage');
  let fresh = 0;
  for (const script of result) {
    if (!script.url.includes('/dist/protocol/') && !script.url.endsWith('/dist/errors.js')) continue;
    for (const fn of script.functions) {
      if (fn.ranges[0].count === 0) continue; // not called
      // V8 reports a block only where its count differs from the enclosing one: covered
      // blocks as count buckets, and which blocks of a called function stayed at zero.
      const zero = [];
      for (const r of fn.ranges) {
        if (r.count === 0) {
          zero.push(`${r.startOffset}-${r.endOffset}`);
          continue;
        }
        const key = `${script.url}:${r.startOffset}:${r.endOffset}:${Math.min(8, Math.floor(Math.log2(r.count)))}`;
        if (!seen.has(key)) {
          seen.add(key);
          fresh++;
        }
      }
      const shape = `${script.url}:${fn.ranges[0].startOffset}:Z:${zero.join(',')}`;
      if (!seen.has(shape)) {
        seen.add(shape);
        fresh++;
      }
    }
  }
  return fresh;
}
const coveredBlocks = () => new Set([...seen].filter((k) => !k.includes(':Z:')).map((k) => k.slice(0, k.lastIndexOf(':')))).size;
const shapes = () => [...seen].filter((k) => k.includes(':Z:')).length;

// ---- mutations
const INTERESTING32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 64 * 1024 * 1024, 64 * 1024 * 1024 + 1];
const DICT = [
  [0xef, 0xbb, 0xbf], // UTF-8 BOM
  [0xc3, 0xbc], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], // valid multi-byte
  [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff], // invalid UTF-8
  [0x54, 0x43, 0x53, 0x54], // magic "TCST"
  [0, 0, 0, 0, 0, 0, 0xf0, 0x7f], [0, 0, 0, 0, 0, 0, 0xf8, 0x7f], [0, 0, 0, 0, 0, 0, 0, 0x80], // +inf, NaN, -0
];
function mutate(src, corpus) {
  let b = Buffer.from(src);
  const n = 1 + below(4);
  for (let k = 0; k < n; k++) {
    const at = below(Math.max(1, b.length));
    switch (below(11)) {
      case 0: if (b.length) b[at] ^= 1 << below(8); break;
      case 1: if (b.length) b[at] = below(256); break;
      case 2: if (b.length) b = b.subarray(0, below(b.length + 1)); break;
      case 3: b = Buffer.concat([b.subarray(0, at), Buffer.from([below(256)]), b.subarray(at)]); break;
      case 4: if (b.length > 1) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + below(8))]); break;
      case 5: if (b.length >= 4) b.writeUInt32LE(INTERESTING32[below(INTERESTING32.length)] >>> 0, below(b.length - 3)); break;
      case 6: if (b.length >= 2) b.writeUInt16LE(INTERESTING32[below(INTERESTING32.length)] & 0xffff, below(b.length - 1)); break;
      case 7: { const d = Buffer.from(DICT[below(DICT.length)]); b = Buffer.concat([b.subarray(0, at), d, b.subarray(at + (below(2) ? d.length : 0))]); break; }
      case 8: if (b.length) b[0] = below(20); break; // another message type
      case 9: { const o = corpus[below(corpus.length)]; const cut = below(o.length + 1); b = Buffer.concat([b.subarray(0, at), o.subarray(cut, cut + below(64))]); break; }
      default: if (b.length) { const s = below(b.length); const len = 1 + below(Math.min(16, b.length - s)); b = Buffer.concat([b.subarray(0, at), b.subarray(s, s + len), b.subarray(at)]); } break;
    }
  }
  return b.length > MAX_LEN ? b.subarray(0, MAX_LEN) : b;
}

// ---- driver
function save(bytes, finding) {
  fs.mkdirSync(opts.artifact_dir, { recursive: true });
  const file = path.join(opts.artifact_dir, `crash-${crypto.createHash('sha1').update(bytes).digest('hex')}`);
  fs.writeFileSync(file, bytes);
  fs.writeFileSync(`${file}.txt`, `${finding.message}\n`);
  return file;
}

function readDir(d) {
  if (!fs.existsSync(d)) return [];
  if (fs.statSync(d).isFile()) return [fs.readFileSync(d)];
  return fs.readdirSync(d).sort().map((f) => path.join(d, f)).filter((f) => fs.statSync(f).isFile()).map((f) => fs.readFileSync(f));
}

function main() {
  const replay = inputs.length > 0 && inputs.every((p) => fs.existsSync(p) && fs.statSync(p).isFile());
  const corpus = inputs.flatMap(readDir).map((b) => (b.length > MAX_LEN ? b.subarray(0, MAX_LEN) : b));
  if (corpus.length === 0) corpus.push(Buffer.from([1]));
  const outDir = !replay && inputs.length ? inputs[0] : null; // new interesting inputs go to the first corpus dir, as libFuzzer does
  const start = Date.now();
  let execs = 0, added = 0;
  const exec = (bytes) => {
    execs++;
    try {
      runOne(bytes);
    } catch (err) {
      if (!(err instanceof Finding)) throw err;
      const file = save(bytes, err);
      console.log(`==FINDING== ${err.message}\nartifact: ${file}`);
      return false;
    }
    return true;
  };
  for (const b of corpus) {
    if (!exec(b)) process.exit(1);
    newCoverage();
  }
  console.log(`#${execs}\tINITED blocks: ${coveredBlocks()} shapes: ${shapes()} corp: ${corpus.length}`);
  if (replay) {
    console.log(`replayed ${execs} inputs, no finding`);
    return;
  }
  let lastReport = start;
  while (execs < opts.runs && (!opts.max_total_time || Date.now() - start < opts.max_total_time * 1000)) {
    const b = mutate(corpus[below(corpus.length)], corpus);
    if (!exec(b)) {
      console.log(`stat::execs: ${execs}\nstat::exec_per_sec: ${Math.round(execs / Math.max(0.001, (Date.now() - start) / 1000))}`);
      process.exit(1);
    }
    if (newCoverage() > 0) {
      corpus.push(b);
      added++;
      if (outDir) {
        fs.mkdirSync(outDir, { recursive: true });
        fs.writeFileSync(path.join(outDir, crypto.createHash('sha1').update(b).digest('hex')), b);
      }
    }
    if (Date.now() - lastReport > 10000) {
      lastReport = Date.now();
      console.log(`#${execs}\tpulse blocks: ${coveredBlocks()} shapes: ${shapes()} corp: ${corpus.length} exec/s: ${Math.round(execs / ((Date.now() - start) / 1000))}`);
    }
  }
  const secs = Math.max(0.001, (Date.now() - start) / 1000);
  console.log(`#${execs}\tDONE blocks: ${coveredBlocks()} shapes: ${shapes()} corp: ${corpus.length} (+${added}) exec/s: ${Math.round(execs / secs)}`);
}

main();
