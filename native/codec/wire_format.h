// Byte layout of the op stream that travels deflated inside an UPDATE message.
// docs/protocol.md is the normative description; keep the two in step.
//
// Every op starts with a 9-byte header: u8 op, u16 x, u16 y, u16 w, u16 h (LE),
// followed by op-specific bytes:
//   SOLID      b g r                        (3 bytes)
//   PALETTE    u8 n-1, n*3 palette (b g r), then h rows of ceil(w*bits/8) bytes,
//              indices packed MSB-first, bits = 1/2/4/8 for n <= 2/4/16/256
//   TRUECOLOR  w*h*3 bytes (b g r), row-major
//   COPY       u16 src_x, u16 src_y: copy w x h pixels from (src_x, src_y) of the
//              framebuffer as it was just before this op (overlap-safe)
//   JPEG       u32 length: the next `length` bytes of the update's image section
//              (outside the deflate stream) are a baseline JPEG of exactly w x h
//   CACHE_REF  u32 id: draw entry `id` of the content cache (content_cache.h),
//              which must be exactly w x h; only with the CACHE capability
//   PALETTE_DIFF  as PALETTE, but the colours are difference-coded (PutPaletteDiff);
//              only to viewers that announced the COMPACT_UPDATE capability
//   PREDICTED  w*h*3 bytes: TRUECOLOR's pixels as prediction residuals (predictor.h); only
//              to viewers that announced the PREDICTED capability
//   CACHE_RUN  u32 first_id, u16 count: entries first_id .. first_id+count-1 of the content
//              cache side by side, left to right, each h high, their widths summing to w;
//              only to viewers that announced CACHE_RUN (a row of tiles a window raise or
//              a resumed cache's keyframe brings back, as one op)
//
// COPY ops come first in an update; the other ops cover disjoint rects, so a
// decoder may finish JPEG ops asynchronously (a browser's image decoder).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tilecast {

enum class OpCode : uint8_t {
  kSolid = 0,
  kPalette = 1,
  kTruecolor = 2,
  kCopy = 3,
  kJpeg = 4,
  kCacheRef = 5,
  kPaletteDiff = 6,
  kPredicted = 7,
  kCacheRun = 8,
};
constexpr uint8_t kOpCodeCount = 9;
// Entries one CACHE_RUN may draw (its count is a u16).
constexpr uint32_t kMaxCacheRun = 0xFFFF;

constexpr size_t kOpHeaderBytes = 9;
constexpr uint32_t kMaxPaletteColors = 256;

// Bits per packed index for a palette of n colours (2 <= n <= 256).
inline uint32_t PaletteIndexBits(uint32_t n) { return n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8; }
inline size_t PaletteRowBytes(uint32_t w, uint32_t bits) { return (static_cast<size_t>(w) * bits + 7) / 8; }

inline void PutU16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline uint32_t GetU16(const uint8_t* p) { return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8); }
inline void PutU32(uint8_t* p, uint32_t v) {
  PutU16(p, v & 0xFFFF);
  PutU16(p + 2, v >> 16);
}
inline uint32_t GetU32(const uint8_t* p) { return GetU16(p) | (GetU16(p + 2) << 16); }

// PALETTE_DIFF colours: each colour b g r becomes (b-g, g, r-g) ("subtract
// green"), then each of those bytes minus the same byte of the previous colour,
// all mod 256 (the first colour is not differenced). Palettes are sorted by
// luminance, so an anti-aliasing ramp becomes runs of small, repeating steps
// that deflate codes in few bits (typing: ~8% fewer bytes than plain colours).
// `bgr` holds n colours as 0x00RRGGBB (b in the low byte).
inline void PutPaletteDiff(const uint32_t* bgr, uint32_t n, uint8_t* p) {
  uint8_t prev[3] = {0, 0, 0};
  for (uint32_t i = 0; i < n; ++i) {
    const uint8_t b = static_cast<uint8_t>(bgr[i]), g = static_cast<uint8_t>(bgr[i] >> 8), r = static_cast<uint8_t>(bgr[i] >> 16);
    const uint8_t t[3] = {static_cast<uint8_t>(b - g), g, static_cast<uint8_t>(r - g)};
    for (int c = 0; c < 3; ++c) {
      *p++ = static_cast<uint8_t>(t[c] - prev[c]);
      prev[c] = t[c];
    }
  }
}
// The inverse: n difference-coded colours at `p` to plain b g r triplets.
inline void GetPaletteDiff(const uint8_t* p, uint32_t n, uint8_t* bgr) {
  uint8_t t[3] = {0, 0, 0};
  for (uint32_t i = 0; i < n; ++i, p += 3, bgr += 3) {
    for (int c = 0; c < 3; ++c) t[c] = static_cast<uint8_t>(t[c] + p[c]);
    bgr[0] = static_cast<uint8_t>(t[0] + t[1]);
    bgr[1] = t[1];
    bgr[2] = static_cast<uint8_t>(t[2] + t[1]);
  }
}

// The op a coded op counts as in stats: PALETTE_DIFF and PREDICTED are PALETTE and TRUECOLOR
// coded otherwise.
// Stats count PALETTE_DIFF as PALETTE, PREDICTED as TRUECOLOR, and the tiles of a CACHE_RUN as
// CACHE_REFs (cacheRef counts tiles drawn from the cache, however they were named).
inline OpCode CountedAs(OpCode op) {
  return op == OpCode::kPaletteDiff ? OpCode::kPalette
         : op == OpCode::kPredicted ? OpCode::kTruecolor
         : op == OpCode::kCacheRun  ? OpCode::kCacheRef
                                    : op;
}

inline void PutOpHeader(uint8_t* p, OpCode op, uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
  p[0] = static_cast<uint8_t>(op);
  PutU16(p + 1, x);
  PutU16(p + 3, y);
  PutU16(p + 5, w);
  PutU16(p + 7, h);
}

}  // namespace tilecast
