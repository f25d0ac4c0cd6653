// The PREDICTED op's pixel transform (docs/protocol.md), shared by encoder and decoder.
//
// Each pixel's colour becomes (b-g, g, r-g) mod 256 ("subtract green", as WebP lossless does:
// the channels of photographs move together), then each of those three values is predicted from
// the same value of the pixel to the left (a), above (b) and above-left (c) inside the op's rect
// with LOCO-I's median edge detector: min(a,b) if c >= max(a,b), max(a,b) if c <= min(a,b), else
// a+b-c. The first row predicts from the left, the first column from above, the first pixel
// from 0. The op carries (value - prediction) mod 256, three bytes a pixel: mostly small numbers
// on photographs, which a Huffman code packs in ~4 bits each (literal_blocks.h).
#pragma once
#include <algorithm>
#include <cstdint>

namespace tilecast {

struct GreenDelta {
  uint8_t v[3];  // b-g, g, r-g (mod 256)
};

inline GreenDelta ToGreenDelta(const uint8_t* bgra) {
  return GreenDelta{{static_cast<uint8_t>(bgra[0] - bgra[1]), bgra[1], static_cast<uint8_t>(bgra[2] - bgra[1])}};
}

inline uint8_t MedianEdge(uint8_t a, uint8_t b, uint8_t c) {
  const uint8_t lo = std::min(a, b), hi = std::max(a, b);
  if (c >= hi) return lo;
  if (c <= lo) return hi;
  return static_cast<uint8_t>(a + b - c);
}

// The prediction of pixel x of a row, from the row's pixels left of it (`left`, valid when
// x > 0) and the row above (`up`/`up_left`, valid when has_up; up_left only when x > 0 too).
inline GreenDelta Predict(uint32_t x, bool has_up, const GreenDelta& left, const GreenDelta& up, const GreenDelta& up_left) {
  if (!has_up) return x == 0 ? GreenDelta{{0, 0, 0}} : left;
  if (x == 0) return up;
  return GreenDelta{{MedianEdge(left.v[0], up.v[0], up_left.v[0]), MedianEdge(left.v[1], up.v[1], up_left.v[1]),
                     MedianEdge(left.v[2], up.v[2], up_left.v[2])}};
}

// A row of `w` BGRA pixels as (b-g, g, r-g) triplets (3w bytes).
inline void ToGreenDeltaRow(const uint8_t* bgra, uint32_t w, uint8_t* t) {
  for (uint32_t x = 0; x < w; ++x, bgra += 4, t += 3) {
    t[0] = static_cast<uint8_t>(bgra[0] - bgra[1]);
    t[1] = bgra[1];
    t[2] = static_cast<uint8_t>(bgra[2] - bgra[1]);
  }
}

// Residuals of one row from its triplets `t` and the row above's (`up`, nullptr on the first
// row). Every prediction reads only the source, so the loop has no carried dependency and the
// compiler vectorises it (the decoder's inverse cannot be: it needs the pixel just decoded).
inline void PredictRow(const uint8_t* t, const uint8_t* up, uint32_t w, uint8_t* out) {
  const size_t n = static_cast<size_t>(w) * 3;
  for (size_t k = 0; k < 3 && k < n; ++k) out[k] = static_cast<uint8_t>(t[k] - (up ? up[k] : 0));
  if (!up) {
    for (size_t k = 3; k < n; ++k) out[k] = static_cast<uint8_t>(t[k] - t[k - 3]);
    return;
  }
  for (size_t k = 3; k < n; ++k) {
    const uint8_t a = t[k - 3], b = up[k], c = up[k - 3];
    const uint8_t lo = a < b ? a : b, hi = a < b ? b : a;
    uint8_t p = c >= hi ? lo : static_cast<uint8_t>(a + b - c);  // MedianEdge, as selects
    p = c <= lo ? hi : p;
    out[k] = static_cast<uint8_t>(t[k] - p);
  }
}

// The inverse: writes `w` BGRA pixels (alpha 255) to `row` from residuals; `up` is the row above
// inside the rect as already decoded, or nullptr.
inline void UnpredictRow(const uint8_t* residual, const uint8_t* up, uint32_t w, uint8_t* row) {
  GreenDelta left{}, above{}, above_left{};
  for (uint32_t x = 0; x < w; ++x, row += 4, residual += 3) {
    if (up) above = ToGreenDelta(up + 4 * x);
    const GreenDelta p = Predict(x, up != nullptr, left, above, above_left);
    GreenDelta cur;
    for (int c = 0; c < 3; ++c) cur.v[c] = static_cast<uint8_t>(residual[c] + p.v[c]);
    row[1] = cur.v[1];
    row[0] = static_cast<uint8_t>(cur.v[0] + cur.v[1]);
    row[2] = static_cast<uint8_t>(cur.v[2] + cur.v[1]);
    row[3] = 0xFF;
    left = cur;
    above_left = above;
  }
}

}  // namespace tilecast
