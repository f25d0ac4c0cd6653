'use strict';
// A synthetic photographic screen for the lossy benchmarks: smooth colour
// fields with grain, different in every pixel (deterministic).

/** A width x height BGRA frame (default 1920x1080). */
function photoFrame(width = 1920, height = 1080) {
  const data = Buffer.alloc(width * height * 4);
  let seed = 12345;
  const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24) % 12;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (120 + 90 * Math.sin(x * 0.013 + y * 0.007) + noise()) | 0;
      data[i + 1] = (120 + 90 * Math.cos(y * 0.011) * Math.sin(x * 0.004) + noise()) | 0;
      data[i + 2] = (120 + 90 * Math.sin((x + y) * 0.009) + noise()) | 0;
      data[i + 3] = 255;
    }
  }
  return { data, width, height, stride: width * 4 };
}

module.exports = { photoFrame };
