// The standard picture-quality figures, so ours compare with published ones:
// ffmpeg's `ssim` and `psnr` filters on planar RGB (gbrp), frame by frame.
// A QualityMeter is one ffmpeg process fed two BGRA streams through pipes
// (fd 3: what the viewer shows, fd 4: the source); finish() returns each
// pair's { ssim, psnr } in the order added (SSIM "All": the mean over R, G, B;
// PSNR "psnr_avg", Infinity when the frames are identical).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

class QualityMeter {
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.frameBytes = width * height * 4;
    this.count = 0;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-quality-'));
    this.ssimFile = path.join(this.dir, 'ssim.log');
    this.psnrFile = path.join(this.dir, 'psnr.log');
    const input = (fd) => ['-f', 'rawvideo', '-pix_fmt', 'bgra', '-s', `${width}x${height}`, '-r', '30', '-i', `pipe:${fd}`];
    // The stats paths are inside our own temp dir (no ':' or quotes to escape).
    const graph = '[0:v]format=gbrp,split[a1][a2];[1:v]format=gbrp,split[b1][b2];' +
      `[a1][b1]ssim=stats_file=${this.ssimFile}[s];[a2][b2]psnr=stats_file=${this.psnrFile}[p]`;
    this.proc = spawn('ffmpeg', ['-v', 'error', '-nostdin', ...input(3), ...input(4), '-lavfi', graph,
      '-map', '[s]', '-f', 'null', '-', '-map', '[p]', '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => this.proc.on('close', (code, signal) => resolve({ code, signal })));
    this.failure = null;
    for (const fd of [3, 4]) this.proc.stdio[fd].on('error', (err) => { this.failure ??= err; });
  }

  /** Adds one pair: `shown` (what the viewer has) against `source`, both BGRA with stride width×4. */
  async add(shown, source) {
    if (shown.length < this.frameBytes || source.length < this.frameBytes) throw new Error(`QualityMeter: a frame is shorter than ${this.width}×${this.height}×4 bytes`);
    if (this.failure) throw new Error(`QualityMeter: ffmpeg stopped: ${this.failure.message} ${this.stderr}`);
    this.count++;
    const write = (fd, buf) => new Promise((resolve) => {
      if (this.proc.stdio[fd].write(buf.subarray(0, this.frameBytes))) resolve();
      else this.proc.stdio[fd].once('drain', resolve);
    });
    // Both at once: ffmpeg reads its two inputs on their own threads.
    await Promise.race([Promise.all([write(3, shown), write(4, source)]), this.exited.then(() => { throw new Error(`QualityMeter: ffmpeg exited early: ${this.stderr}`); })]);
  }

  /** Ends the streams and returns [{ ssim, psnr }] per pair added. */
  async finish() {
    this.proc.stdio[3].end();
    this.proc.stdio[4].end();
    const { code, signal } = await this.exited;
    try {
      if (code !== 0) throw new Error(`QualityMeter: ffmpeg failed (${code ?? signal}): ${this.stderr}`);
      const ssim = perFrame(this.ssimFile, /All:([0-9.]+|inf)/);
      const psnr = perFrame(this.psnrFile, /psnr_avg:([0-9.]+|inf)/);
      if (ssim.length !== this.count || psnr.length !== this.count) throw new Error(`QualityMeter: ${this.count} frames in, ${ssim.length} SSIM and ${psnr.length} PSNR lines out`);
      return ssim.map((s, i) => ({ ssim: s, psnr: psnr[i] }));
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

function perFrame(file, re) {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
    const m = re.exec(line);
    if (!m) throw new Error(`QualityMeter: cannot read "${line}"`);
    return m[1] === 'inf' ? Infinity : Number(m[1]);
  });
}

/** The { ssim, psnr } of each pair in `pairs` ([shown, source] BGRA buffers), through one meter. */
async function measurePairs(width, height, pairs) {
  const meter = new QualityMeter(width, height);
  for (const [shown, source] of pairs) await meter.add(shown, source);
  return meter.finish();
}

module.exports = { QualityMeter, measurePairs };
