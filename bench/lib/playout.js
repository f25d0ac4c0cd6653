// The viewer's playout on recorded arrival times: the browser's jitter buffer
// (src/audio/jitterBuffer.ts, timed playout as its AudioWorklet runs it), a
// pull every 20 ms from the first arrival. Shared by bench/audio.js and
// bench/audio-replay.js (which replays a run's saved arrivals, so two playout
// policies can be compared on identical arrivals).
'use strict';
const { JitterBuffer, PixelLoadMeter } = require('tilecast');

const { pct } = require('./percentile');

/**
 * When a frame that never arrived was captured: frames are captured every 20
 * ms in seq order, so from the nearest one before it that arrived, else the
 * nearest after. (Not the last frame played: when the host dropped a run of
 * stale frames in an outage, that one was captured before the outage began,
 * and the run's slots would count as outside it.)
 */
function lostCaptureTime(bySeqTime, seq) {
  for (let k = 1; k <= MAX_LOST_RUN; k++) {
    const before = bySeqTime.get((seq - k) >>> 0);
    if (before !== undefined && !bySeqTime.has((seq - k + 1) >>> 0)) {
      // The run of missing frames starts right after `before`; prefer the frame after the run when it is closer.
      let j = 1;
      while (j <= MAX_LOST_RUN && !bySeqTime.has((seq + j) >>> 0)) j++;
      const after = bySeqTime.get((seq + j) >>> 0);
      return after !== undefined && j < k ? after - 20 * j : before + 20 * k;
    }
  }
  for (let j = 1; j <= MAX_LOST_RUN; j++) {
    const after = bySeqTime.get((seq + j) >>> 0);
    if (after !== undefined) return after - 20 * j;
  }
  return null;
}
/** Longest run of missing frames searched for a neighbour (a minute of sound). */
const MAX_LOST_RUN = 3000;

/**
 * arrivals: [{ seq, captureTime, receivedAt }] (one clock); measureFrom: frames captured before it
 * (less 200 ms) are the warm-up; inOutage(captureTime): whether a slot's sound falls in a trace outage;
 * pixels: [[receivedAt, bytes]] of everything else the viewer received, in time order (null: unknown, no pixel load).
 */
function simulatePlayout(arrivals, { measureFrom, inOutage, jitterBuffer = new JitterBuffer(), pixels = null }) {
  const jb = jitterBuffer;
  // The viewer's pixel load (what the browser's AudioPlayer tells its worklet), from the pixel bytes' arrivals.
  const load = new PixelLoadMeter();
  const pixelArrivals = pixels ?? [];
  let k = 0;
  const events = arrivals.filter((a) => a.captureTime >= measureFrom - 200).sort((a, b) => a.receivedAt - b.receivedAt);
  const m2e = [];
  let concealed = 0;
  let concealedOutside = 0;
  let played = 0;
  if (events.length) {
    let i = 0;
    const bySeqTime = new Map(events.map((e) => [e.seq, e.captureTime]));
    let lastCapture = events[0].captureTime;
    let lastPlayedAt = events[0].receivedAt;
    for (let t = events[0].receivedAt; t <= events[events.length - 1].receivedAt; t += 20) {
      while (i < events.length && events[i].receivedAt <= t) {
        // As the browser's AudioPlayer does on each frame: pixels so far, this frame heard, the load passed on, then the frame.
        const at = events[i].receivedAt;
        for (; k < pixelArrivals.length && pixelArrivals[k][0] <= at; k++) load.add(pixelArrivals[k][1], pixelArrivals[k][0]);
        load.heard(at);
        if (pixels) jb.setPixelLoad(load.loaded(at));
        jb.push(events[i].seq, events[i], { captureTime: events[i].captureTime, arrivedAt: at });
        i++;
      }
      const p = jb.pull(t);
      if (p.kind === 'frame') {
        played++;
        m2e.push(t - p.frame.captureTime);
        lastCapture = p.frame.captureTime;
        lastPlayedAt = t;
      } else if (p.kind === 'lost' || p.kind === 'underrun' || p.kind === 'hold') {
        concealed++;
        // The sound this slot stands for: a lost frame's own; for silence, what would play now at the last frame's delay.
        const when = p.kind === 'lost' ? lostCaptureTime(bySeqTime, p.seq) ?? lastCapture + 20 : lastCapture + (t - lastPlayedAt);
        if (!inOutage(when)) concealedOutside++;
      }
    }
  }
  m2e.sort((a, b) => a - b);
  const transit = events.map((e) => e.receivedAt - e.captureTime).sort((a, b) => a - b);
  const jbStats = jb.stats();
  const slots = played + concealed;
  return {
    framesArrived: events.length, played, concealed,
    concealedPercent: slots ? (100 * concealed) / slots : NaN,
    concealedOutsideOutagesPercent: slots ? (100 * concealedOutside) / slots : NaN,
    underruns: jbStats.underruns, lost: jbStats.lost, late: jbStats.late, skipped: jbStats.skipped, finalTargetMs: jbStats.targetFrames * 20,
    mouthToEar: { p50: pct(m2e, 50), p95: pct(m2e, 95), p99: pct(m2e, 99) },
    /** Capture → arrival at the viewer (before the jitter buffer): the host's capture, send path and the link. */
    transit: { p50: pct(transit, 50), p95: pct(transit, 95), p99: pct(transit, 99) },
    /** The jitter buffer's playout delay at the end (fastest transit + jitter allowance), ms. */
    finalPlayoutDelayMs: jb.delayMs,
  };
}

module.exports = { simulatePlayout };
