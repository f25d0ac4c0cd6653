// Time-driven workloads for the live benchmark, as FrameSources. The screen
// content follows the wall clock (like a real desktop) and each frame is stamped
// with the time its content last changed, so "capture time" is the keystroke or
// scroll step that caused it.
'use strict';
const { loadScene, diffBox } = require('tilecast/testing');

const now = () => performance.timeOrigin + performance.now();

/**
 * Typing in an editor: a 36-character comment appears at `cps` characters per
 * second, stays for a second, is deleted, and is typed again.
 */
class TypingWorkload {
  constructor({ cps = 6 } = {}) {
    this.base = loadScene('editor');
    this.typed = loadScene('editor-typed');
    this.box = diffBox(this.base, this.typed);
    this.chars = 36;
    this.cps = cps;
    this.width = this.base.width;
    this.height = this.base.height;
    this.start = null;
    this.shownChars = -1;
    this.frame = null;
  }
  async nextFrame() {
    this.start ??= now();
    const cycle = this.chars / this.cps + 1; // type, then hold for 1 s
    const t = (now() - this.start) / 1000;
    const inCycle = t % cycle;
    const chars = Math.min(this.chars, Math.floor(inCycle * this.cps));
    if (chars !== this.shownChars) {
      const data = Buffer.from(this.base.data);
      const shown = Math.round((this.box.w * chars) / this.chars);
      for (let y = this.box.y; y < this.box.y + this.box.h; y++) {
        const at = (y * this.width + this.box.x) * 4;
        data.set(this.typed.data.subarray(at, at + shown * 4), at);
      }
      const keyTime = this.start + (Math.floor(t / cycle) * cycle + chars / this.cps) * 1000;
      this.frame = { data, width: this.width, height: this.height, stride: this.width * 4, timestamp: Math.min(now(), keyTime) };
      this.shownChars = chars;
    }
    return this.frame;
  }
  close() {}
}

/**
 * Reading a long document: scrolls down at `pxPerSecond` for 2 s, pauses 1 s,
 * and so on; at the end it jumps back to the top.
 */
class ScrollWorkload {
  constructor({ pxPerSecond = 400 } = {}) {
    this.doc = loadScene('longdoc');
    this.width = this.doc.width;
    this.height = 1080;
    this.speed = pxPerSecond;
    this.start = null;
    this.offset = -1;
    this.frame = null;
  }
  async nextFrame() {
    this.start ??= now();
    const t = (now() - this.start) / 1000;
    const maxOffset = this.doc.height - this.height;
    const scrolled = Math.floor(t / 3) * 2 + Math.min(2, t % 3); // seconds spent scrolling
    const offset = Math.floor((scrolled * this.speed) % maxOffset);
    if (offset !== this.offset) {
      const row = this.width * 4;
      // A view, not a copy: the document never changes, and the host copies what it keeps (its snapshot).
      // An 8 MB copy here cost ~7 ms of the host's event loop a frame, which a real capture spends on its own thread.
      const data = this.doc.data.subarray(offset * row, (offset + this.height) * row);
      this.frame = { data, width: this.width, height: this.height, stride: row, timestamp: now() };
      this.offset = offset;
    }
    return this.frame;
  }
  close() {}
}

module.exports = { TypingWorkload, ScrollWorkload };
