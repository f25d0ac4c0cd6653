/**
 * ReplaySource: plays a recorded session (any video ffmpeg reads; the
 * workload recorder writes lossless FFV1) as BGRA frames, at the recording's
 * timestamps (`realtime`) or as fast as they are consumed.
 *
 * Decoding runs in an ffmpeg child process (Debian's ffmpeg), piping raw BGRA;
 * frames are read from the pipe one at a time, so memory stays at one frame
 * whatever the recording's length.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { ErrorCodes, TilecastError, checkInt, invalidArg } from '../errors';
import type { Frame } from '../frame';
import { Limits } from '../protocol/constants';
import type { FrameSource } from './frameSource';

export interface ReplaySourceOptions {
  /** Sleep until each frame's timestamp (default false: as fast as consumed). */
  realtime?: boolean;
  /** Stop after this many frames (default: the whole recording). */
  maxFrames?: number;
  /** The ffmpeg/ffprobe executables (default: from $PATH). */
  ffmpeg?: string;
  ffprobe?: string;
}

export interface RecordingInfo {
  width: number;
  height: number;
  fps: number;
  frames: number | null;
}

/** Size, frame rate and frame count of a recording, from ffprobe. */
export function probeRecording(file: string, ffprobe = 'ffprobe'): RecordingInfo {
  const r = spawnSync(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=width,height,r_frame_rate,nb_read_packets', '-of', 'json', file], { encoding: 'utf8' });
  if (r.error) throw new TilecastError(ErrorCodes.UNAVAILABLE, `cannot run ${ffprobe} (Debian: ffmpeg): ${r.error.message}`);
  if (r.status !== 0) throw new TilecastError(ErrorCodes.INVALID_ARG, `${file}: ${r.stderr.trim() || 'not a video ffprobe can read'}`);
  const s = JSON.parse(r.stdout).streams?.[0];
  if (!s) throw new TilecastError(ErrorCodes.INVALID_ARG, `${file}: no video stream`);
  const [num, den] = String(s.r_frame_rate).split('/').map(Number);
  const info = { width: Number(s.width), height: Number(s.height), fps: den ? num! / den : num!, frames: s.nb_read_packets ? Number(s.nb_read_packets) : null };
  checkInt('recording width', info.width, 1, Limits.MAX_DIMENSION);
  checkInt('recording height', info.height, 1, Limits.MAX_DIMENSION);
  if (!(info.fps > 0 && info.fps <= 1000)) throw new TilecastError(ErrorCodes.INVALID_ARG, `${file}: frame rate ${s.r_frame_rate}`);
  return info;
}

export class ReplaySource implements FrameSource {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly info: RecordingInfo;
  private proc: ChildProcess | null;
  private readonly frameBytes: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;
  private index = 0;
  private startedAt: number | null = null;
  private readonly frame: Buffer;

  constructor(
    readonly file: string,
    private readonly options: ReplaySourceOptions = {},
  ) {
    if (typeof file !== 'string' || file === '') throw invalidArg('file', 'a recording file name', file);
    if (options.maxFrames !== undefined) checkInt('maxFrames', options.maxFrames, 1, 0x7fffffff);
    this.info = probeRecording(file, options.ffprobe);
    this.width = this.info.width;
    this.height = this.info.height;
    this.fps = this.info.fps;
    this.frameBytes = this.width * this.height * 4;
    this.frame = Buffer.alloc(this.frameBytes);
    const proc = spawn(options.ffmpeg ?? 'ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'bgra', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    proc.stdout!.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.buffered += d.length;
      // Backpressure: hold the decoder once two frames are waiting.
      if (this.buffered >= 2 * this.frameBytes) proc.stdout!.pause();
      this.wake?.();
    });
    proc.on('error', (err) => {
      this.error = new TilecastError(ErrorCodes.UNAVAILABLE, `cannot run ffmpeg (Debian: ffmpeg): ${err.message}`);
      this.wake?.();
    });
    proc.on('close', (code) => {
      this.ended = true;
      if (code && !this.error && this.proc) this.error = new TilecastError(ErrorCodes.INVALID_ARG, `ffmpeg failed on ${file}: ${stderr.trim()}`);
      this.wake?.();
    });
  }

  /** Pictures skipped in realtime play because the reader fell a whole frame behind. */
  framesSkipped = 0;
  /** The last readFrame() had to wait for ffmpeg to decode the picture (it was not ready when asked for). */
  private waitedForDecoder = false;

  /** Frames of the recording passed so far (delivered or skipped). */
  get position(): number {
    return this.index;
  }

  async nextFrame(): Promise<Frame | null> {
    for (;;) {
      if (this.options.maxFrames !== undefined && this.index >= this.options.maxFrames) return null;
      if (!(await this.readFrame())) return null;
      const intervalMs = 1000 / this.fps;
      const now = performance.timeOrigin + performance.now();
      this.startedAt ??= now;
      const due = this.startedAt + this.index * intervalMs;
      if (this.options.realtime) {
        // A screen shows each picture only until the next is due: a reader that fell behind (a busy
        // machine, a late timer) skips pictures, as a real capture would, rather than being handed
        // ever older ones whose age would count as the engine's latency. Only a picture whose
        // successor is already decoded is skipped, so the recording's last picture always comes.
        if (due + intervalMs <= now && this.buffered >= this.frameBytes) {
          this.index++;
          this.framesSkipped++;
          continue;
        }
        if (due > now) await new Promise((r) => setTimeout(r, due - now));
      }
      this.index++;
      // A picture the decoder hands over late (it cannot keep up with the recording's rate on a
      // busy machine) appears on the "screen" when it is decoded: its age before that is the
      // replay's, not the engine's latency. One decoded in time is the screen's from when it was due.
      const timestamp = !this.options.realtime ? now : this.waitedForDecoder ? Math.max(due, now) : due;
      return { data: this.frame, width: this.width, height: this.height, stride: this.width * 4, timestamp };
    }
  }

  /** The next picture from the pipe into this.frame; false at the end of the recording. */
  private async readFrame(): Promise<boolean> {
    this.waitedForDecoder = false;
    while (this.buffered < this.frameBytes) {
      if (this.error) throw this.error;
      if (this.ended || !this.proc) return false;
      this.proc.stdout!.resume();
      this.waitedForDecoder = true;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
    let at = 0;
    while (at < this.frameBytes) {
      const c = this.chunks[0]!;
      const n = Math.min(c.length, this.frameBytes - at);
      c.copy(this.frame, at, 0, n);
      at += n;
      if (n === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(n);
    }
    this.buffered -= this.frameBytes;
    if (this.buffered < 2 * this.frameBytes) this.proc?.stdout!.resume();
    return true;
  }

  close(): void {
    const p = this.proc;
    this.proc = null;
    this.ended = true;
    p?.kill('SIGKILL');
    this.wake?.();
  }
}
