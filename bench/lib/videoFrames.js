// Synthetic video frames (tilecast/testing's videoFrame) made on a worker
// thread, one frame ahead. Making a 1920×1080 frame with a 640×360 video
// region costs ~23 ms of JavaScript; at 30 fps on the host's own thread that
// is two thirds of its event loop, a load no real capture puts there (X11 and
// DXGI grab on a native thread), and every audio frame and ack waited behind
// it. The worker hands each frame's memory over (transferred, not copied).
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

if (isMainThread) {
  class VideoFrames {
    /** `scene`: a tilecast/testing scene name; `rect`: the video region. */
    constructor(scene, rect) {
      this.worker = new Worker(__filename, { workerData: { scene, rect } });
      this.waiting = new Map(); // n -> resolve
      this.ready = new Map(); // n -> frame
      this.failed = null;
      this.worker.on('message', (f) => {
        const frame = { data: Buffer.from(f.data), width: f.width, height: f.height, stride: f.stride };
        const w = this.waiting.get(f.n);
        if (w) {
          this.waiting.delete(f.n);
          w.resolve(frame);
        } else this.ready.set(f.n, frame);
      });
      this.worker.on('error', (err) => {
        this.failed = err;
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
      });
      this.worker.postMessage(0);
    }
    /** Frame `n` (asked for in order: n, n + 1, ...), the next one already being made. */
    frame(n) {
      if (this.failed) return Promise.reject(this.failed);
      this.worker.postMessage(n + 1);
      const done = this.ready.get(n);
      if (done) {
        this.ready.delete(n);
        return Promise.resolve(done);
      }
      return new Promise((resolve, reject) => this.waiting.set(n, { resolve, reject }));
    }
    close() {
      return this.worker.terminate();
    }
  }
  module.exports = { VideoFrames };
} else {
  const { videoFrame, loadScene } = require('tilecast/testing');
  const base = loadScene(workerData.scene);
  const made = new Set();
  parentPort.on('message', (n) => {
    if (made.has(n)) return;
    made.add(n);
    made.delete(n - 4);
    const f = videoFrame(base, workerData.rect, n);
    // An 8 MB Buffer.allocUnsafe owns its whole ArrayBuffer (too big for the pool): transfer it.
    const ab = f.data.buffer;
    if (f.data.byteOffset !== 0 || f.data.byteLength !== ab.byteLength) throw new Error('videoFrames: the frame does not own its memory');
    parentPort.postMessage({ n, data: ab, width: f.width, height: f.height, stride: f.stride }, [ab]);
  });
}
