// Picture quality of a decoded frame against its source, both BGRA/BGRX with
// the same stride: PSNR over the three colour channels, and SSIM on luma
// (BT.601) over 8x8 windows (Wang et al. constants, K1 0.01, K2 0.03).
'use strict';

function psnr(a, b, width, height, stride = width * 4) {
  let se = 0;
  for (let y = 0; y < height; y++) {
    for (let i = y * stride, end = i + width * 4; i < end; i += 4) {
      const d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1], d2 = a[i + 2] - b[i + 2];
      se += d0 * d0 + d1 * d1 + d2 * d2;
    }
  }
  if (se === 0) return Infinity;
  return 10 * Math.log10((255 * 255 * width * height * 3) / se);
}

function luma(p, width, height, stride) {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0, i = y * stride; x < width; x++, i += 4) out[y * width + x] = 0.114 * p[i] + 0.587 * p[i + 1] + 0.299 * p[i + 2];
  }
  return out;
}

function ssim(a, b, width, height, stride = width * 4) {
  const la = luma(a, width, height, stride), lb = luma(b, width, height, stride);
  const C1 = (0.01 * 255) ** 2, C2 = (0.03 * 255) ** 2, N = 8;
  let sum = 0, windows = 0;
  for (let y0 = 0; y0 + N <= height; y0 += N) {
    for (let x0 = 0; x0 + N <= width; x0 += N) {
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (let y = y0; y < y0 + N; y++) {
        for (let x = x0, i = y * width + x0; x < x0 + N; x++, i++) {
          const va = la[i], vb = lb[i];
          sa += va; sb += vb; saa += va * va; sbb += vb * vb; sab += va * vb;
        }
      }
      const n = N * N, ma = sa / n, mb = sb / n;
      const va = saa / n - ma * ma, vb = sbb / n - mb * mb, cov = sab / n - ma * mb;
      sum += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      windows++;
    }
  }
  return windows ? sum / windows : 1;
}

module.exports = { psnr, ssim };
