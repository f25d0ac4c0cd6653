/**
 * AudioReceiver: AUDIO messages of one stream → PCM, in order, with lost
 * frames concealed (Opus PLC) so the output has no holes. Node side: the
 * ViewerClient's 'audioPcm' and the host's microphone use it.
 */
import type { AudioMessage } from '../protocol/messages';
import { AudioSequence } from './audioSequence';
import { OPUS_FRAME_MS, OpusDecoder } from './opus';

export interface PcmFrame {
  seq: number;
  /** Sender's capture time of the first sample (for a concealed frame: where it would have been). */
  captureTime: number;
  sampleRate: number;
  channels: number;
  /** s16 interleaved, 20 ms. */
  pcm: Int16Array;
  /** True for a frame made up by concealment (the real one was lost or dropped). */
  concealed: boolean;
}

export class AudioReceiver {
  readonly sequence = new AudioSequence();
  private decoder: OpusDecoder | null = null;

  /**
   * @param sampleRate, channels what to decode to (Opus converts); default
   *   each stream's own.
   */
  constructor(private readonly output: { sampleRate?: number; channels?: number } = {}) {}

  get concealed(): number {
    return this.sequence.lost;
  }

  /**
   * One AUDIO message → its frames (concealed ones first). Throws
   * ERR_CORRUPT_STREAM for a payload Opus rejects; drops (returns []) a late
   * or duplicate frame. `maxConcealed` bounds the concealment decodes this
   * message may cost (the most recent missing frames are the ones made up).
   */
  receive(msg: AudioMessage, maxConcealed = Infinity): PcmFrame[] {
    const place = this.sequence.place(msg.seq);
    if (!place) return [];
    const sampleRate = this.output.sampleRate ?? msg.sampleRate;
    const channels = this.output.channels ?? msg.channels;
    if (place.restart || !this.decoder || this.decoder.sampleRate !== sampleRate || this.decoder.channels !== channels) {
      this.decoder?.close();
      this.decoder = new OpusDecoder(sampleRate, channels);
    }
    const out: PcmFrame[] = [];
    for (let i = Math.min(place.lost, Math.max(0, Math.floor(maxConcealed))); i > 0; i--) {
      out.push({ seq: (msg.seq - i) >>> 0, captureTime: msg.captureTime - i * OPUS_FRAME_MS, sampleRate, channels, pcm: this.decoder.conceal(), concealed: true });
    }
    out.push({ seq: msg.seq, captureTime: msg.captureTime, sampleRate, channels, pcm: this.decoder.decode(msg.payload), concealed: false });
    return out;
  }

  /** A new connection: the next frame starts a fresh stream (no concealment across the gap). */
  reset(): void {
    this.sequence.reset();
  }

  close(): void {
    this.decoder?.close();
    this.decoder = null;
  }
}
