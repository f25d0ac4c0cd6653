// Deterministic 1920×1080 frames for the per-viewer memory benchmark: the
// editor scene with the first `step % 37` characters of a comment typed in
// (the same picture for the same step in every process, alpha 255).
'use strict';
const { loadScene, diffBox } = require('tilecast/testing');

let base = null;
let typed = null;
let box = null;
const CHARS = 36;

function typedFrame(step) {
  if (!base) {
    base = loadScene('editor');
    typed = loadScene('editor-typed');
    box = diffBox(base, typed);
  }
  const chars = step % (CHARS + 1);
  const data = Buffer.from(base.data);
  const shown = Math.round((box.w * chars) / CHARS);
  for (let y = box.y; y < box.y + box.h; y++) {
    const at = (y * base.width + box.x) * 4;
    data.set(typed.data.subarray(at, at + shown * 4), at);
  }
  return { data, width: base.width, height: base.height, stride: base.width * 4 };
}

module.exports = { typedFrame };
