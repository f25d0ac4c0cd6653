#!/usr/bin/env node
// The main job on its embedded default: a host streams the built-in scene desktop
// (real screens rendered by Chromium, replayed as a scripted session: window
// switches and typing) to a viewer over a loopback TCP connection. The viewer
// decodes every update, acks it, and at the end the host checks that the viewer's
// framebuffer equals its screen byte for byte and writes a PNG snapshot.
//
//   npm start                       # one pass in real time (30 fps)
//   npm start -- --fast --loops 3   # as fast as the pipeline goes, three passes
//   npm start -- --snapshot out.png
'use strict';
const net = require('node:net');
const fs = require('node:fs');
const { parseArgs } = require('node:util');
const { SceneSource, ScreenEncoder, ScreenDecoder, encodePng, simdLevel, protocol } = require('..');

const { values: args } = parseArgs({
  options: {
    loops: { type: 'string', default: '1' },
    fast: { type: 'boolean', default: false },
    snapshot: { type: 'string', default: 'tilecast-snapshot.png' },
  },
});

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

// Viewer: connects, decodes, acks. Resolves with its decoder once the host says BYE.
function runViewer(port) {
  return new Promise((resolve, reject) => {
    const decoder = new ScreenDecoder();
    const parser = new protocol.FrameParser();
    const socket = net.connect(port, '127.0.0.1');
    let chain = Promise.resolve();
    socket.on('data', (chunk) => {
      let messages;
      try {
        messages = parser.push(chunk);
      } catch (err) {
        socket.destroy();
        return reject(err);
      }
      for (const bytes of messages) {
        chain = chain.then(async () => {
          const handled = await decoder.handleBytes(bytes);
          if (handled.ack) socket.write(protocol.encodeFrame(protocol.encodeMessage(handled.ack)));
          if (handled.message.type === 'bye') {
            socket.end();
            resolve(decoder);
          }
        }).catch((err) => {
          socket.destroy();
          reject(err);
        });
      }
    });
    socket.on('error', reject);
  });
}

async function main() {
  const source = new SceneSource({ loops: Number(args.loops), realtime: !args.fast });
  const encoder = new ScreenEncoder();
  const sent = new Map(); // frameId -> capture time
  const latencies = [];
  let lastFrame = null;

  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const viewerDone = runViewer(server.address().port);
  const socket = await new Promise((r) => server.once('connection', r));
  const parser = new protocol.FrameParser();
  socket.on('data', (chunk) => {
    for (const bytes of parser.push(chunk)) {
      const msg = protocol.decodeMessage(bytes);
      if (msg.type === 'ack' && sent.has(msg.frameId)) {
        latencies.push(msg.displayedAt - sent.get(msg.frameId));
        sent.delete(msg.frameId);
      }
    }
  });

  console.log(`tilecast host: ${source.width}x${source.height} scene desktop, ${source.length} frames, SIMD ${simdLevel()}`);
  const t0 = performance.now();
  let frames = 0, updates = 0, bytes = 0, encodeMs = 0;
  for (let frame; (frame = await source.nextFrame()); ) {
    const t = performance.now();
    const out = await encoder.encodeFrame(frame);
    encodeMs += performance.now() - t;
    frames++;
    if (out.frameId !== null) {
      updates++;
      sent.set(out.frameId, frame.timestamp);
    }
    for (const m of out.messages) {
      bytes += m.length;
      socket.write(protocol.encodeFrame(m));
    }
    lastFrame = frame;
  }
  socket.write(protocol.encodeFrame(protocol.encodeMessage({ type: 'bye', reason: protocol.Reason.NORMAL, message: 'scene finished' })));
  const viewer = await viewerDone;
  const seconds = (performance.now() - t0) / 1000;
  server.close();

  const exact = Buffer.compare(viewer.framebuffer, Buffer.from(lastFrame.data.buffer, lastFrame.data.byteOffset, lastFrame.data.length)) === 0;
  fs.writeFileSync(args.snapshot, encodePng(viewer.framebuffer, viewer.width, viewer.height));
  const sorted = latencies.sort((a, b) => a - b);
  const raw = frames * source.width * source.height * 4;
  console.log(`frames ${frames}, updates ${updates}, sent ${(bytes / 1024).toFixed(1)} KiB (${(raw / bytes).toFixed(0)}x smaller than raw BGRA)`);
  console.log(`mean bitrate ${((bytes * 8) / seconds / 1e6).toFixed(2)} Mbit/s over ${seconds.toFixed(1)} s; encode ${(encodeMs / frames).toFixed(2)} ms/frame`);
  console.log(`capture-to-display on loopback: p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms (${sorted.length} acks)`);
  console.log(`viewer framebuffer equals host screen: ${exact ? 'yes (byte-identical)' : 'NO'}; snapshot written to ${args.snapshot}`);
  if (!exact) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
