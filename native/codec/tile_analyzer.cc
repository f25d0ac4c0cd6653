#include "tile_analyzer.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "../util/compiler.h"
#include "../util/cpu_features.h"
#include "predictor.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TILECAST_ANALYZE_AVX2 1
#endif

namespace tilecast {
namespace {

constexpr uint32_t kEmptyKey = 0xFFFFFFFFu;  // never a 24-bit colour

inline uint32_t HashSlot(uint32_t bgr) { return (bgr * 2654435761u) >> 23; }  // 9 bits -> 512 slots

// Rec. 601 luma scaled by 1000; ties broken by colour value so the order is total.
inline uint64_t LumaKey(uint32_t bgr) {
  const uint32_t b = bgr & 0xFF, g = (bgr >> 8) & 0xFF, r = (bgr >> 16) & 0xFF;
  return (static_cast<uint64_t>(r * 299 + g * 587 + b * 114) << 24) | bgr;
}

void SortPaletteByLuma(TileAnalysis* a) {
  uint64_t keyed[kMaxPaletteColors];
  for (uint32_t i = 0; i < a->palette_size; ++i) keyed[i] = (LumaKey(a->palette[i]) << 8) | i;
  std::sort(keyed, keyed + a->palette_size);
  for (uint32_t i = 0; i < a->palette_size; ++i) {
    const uint32_t first_seen = static_cast<uint32_t>(keyed[i] & 0xFF);
    a->index_of_first_seen[first_seen] = static_cast<uint8_t>(i);
    a->palette[i] = static_cast<uint32_t>((keyed[i] >> 8) & 0xFFFFFF);
  }
}

// Writes rows of packed indices (Bits per index, MSB first), translating first-seen indices
// through `remap`. Bits is a template argument so the packing is shifts, not divisions.
template <uint32_t Bits>
void PackRows(const uint8_t* idx, const uint8_t* remap, uint32_t w, uint32_t h, uint8_t* out) {
  constexpr uint32_t kPerByte = 8 / Bits;
  const size_t row_bytes = PaletteRowBytes(w, Bits);
  for (uint32_t y = 0; y < h; ++y) {
    const uint8_t* src = idx + static_cast<size_t>(y) * w;
    uint8_t* dst = out + y * row_bytes;
    uint32_t x = 0;
    for (; x + kPerByte <= w; x += kPerByte) {
      uint32_t byte = 0;
      for (uint32_t k = 0; k < kPerByte; ++k) byte = (byte << Bits) | remap[src[x + k]];
      *dst++ = static_cast<uint8_t>(byte);
    }
    if (x < w) {  // the row's last byte, padded with zero bits
      uint32_t byte = 0;
      for (uint32_t k = 0; k < kPerByte; ++k) byte = (byte << Bits) | (x + k < w ? remap[src[x + k]] : 0u);
      *dst = static_cast<uint8_t>(byte);
    }
  }
}

// 8-bit indices: eight translations gathered into one 8-byte store (a store a byte bounded the
// loop: 0.75 -> 0.5 ms for the 1.6 M indices of the desktop scene's keyframe).
void TranslateIndices(const uint8_t* idx, const uint8_t* remap, size_t n, uint8_t* out) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = 0;
    for (unsigned k = 0; k < 8; ++k) v |= static_cast<uint64_t>(remap[idx[i + k]]) << (8 * k);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    std::memcpy(out + i, &v, 8);
  }
  for (; i < n; ++i) out[i] = remap[idx[i]];
}

void PackPaletteIndices(const uint8_t* idx, const uint8_t* remap, uint32_t w, uint32_t h, uint32_t bits,
                        uint8_t* out) {
  // Rows of 8-bit indices have no padding: the tile's indices are the op's bytes, translated.
  if (bits == 8) return TranslateIndices(idx, remap, static_cast<size_t>(w) * h, out);
  switch (bits) {
    case 1: return PackRows<1>(idx, remap, w, h, out);
    case 2: return PackRows<2>(idx, remap, w, h, out);
    case 4: return PackRows<4>(idx, remap, w, h, out);
    default: return PackRows<8>(idx, remap, w, h, out);
  }
}

}  // namespace

namespace {

// Colour c, not yet in the tile's table, becomes the next first-seen index at `slot` (where the
// probe for it ended). False when the tile already has kMaxPaletteColors.
inline bool AddColor(uint32_t c, uint32_t slot, uint32_t* count, TileScratch* s, TileAnalysis* out) {
  if (*count == kMaxPaletteColors) return false;
  s->table_keys[slot] = c;
  s->table_vals[slot] = static_cast<uint16_t>(*count);
  if (slot == HashSlot(c)) s->home[slot] = c | *count << 24;
  out->palette[(*count)++] = c;
  return true;
}

// The first-seen index of colour c, added if new; false past kMaxPaletteColors.
inline bool IndexOf(uint32_t c, uint32_t* count, TileScratch* s, TileAnalysis* out, uint8_t* index) {
  uint32_t slot = HashSlot(c);
  while (s->table_keys[slot] != kEmptyKey && s->table_keys[slot] != c) slot = (slot + 1) & 511;
  if (s->table_keys[slot] == kEmptyKey && !AddColor(c, slot, count, s, out)) return false;
  *index = static_cast<uint8_t>(s->table_vals[slot]);
  return true;
}

// A tile's walk in pixel order: the colours seen so far, and the last pixel's colour and index
// (runs of equal pixels, most of text and UI, skip the lookup).
struct TileWalk {
  uint32_t count = 0;
  uint32_t last_color = kEmptyKey;
  uint8_t last_index = 0;

  // n pixels from p, one index each into idx; false past kMaxPaletteColors.
  bool Pixels(const uint8_t* p, uint32_t n, uint8_t* idx, TileScratch* s, TileAnalysis* out) {
    for (uint32_t x = 0; x < n; ++x, p += 4) {
      const uint32_t c = PixelBgr(p);
      if (c != last_color) {
        if (!IndexOf(c, &count, s, out, &last_index)) return false;
        last_color = c;
      }
      idx[x] = last_index;
    }
    return true;
  }
};

#ifdef TILECAST_ANALYZE_AVX2
// One row, eight pixels at a time. Eight pixels the colour of the last one are a run; otherwise
// their eight home slots are read at once (a gather of `home`, which holds colour | index << 24 for
// each colour sitting in its own hash slot), and only the lanes that missed (a new colour, or one
// pushed along by a collision) are looked up one by one, in pixel order, so new colours get the
// same first-seen indices as the scalar walk. A dithered gradient changes colour every other pixel
// (the desktop scene: half its pixels), which cost the scalar walk a mispredicted branch each.
__attribute__((target("avx2"))) bool RowAvx2(const uint8_t* p, uint32_t w, uint8_t* idx, TileWalk* walk,
                                             TileScratch* s, TileAnalysis* out) {
  const __m256i rgb = _mm256_set1_epi32(0xFFFFFF);
  const __m256i golden = _mm256_set1_epi32(static_cast<int>(2654435761u));  // HashSlot's multiplier
  uint32_t x = 0;
  for (; x + 8 <= w; x += 8) {
    const __m256i c = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 4 * x)), rgb);
    const __m256i last = _mm256_set1_epi32(static_cast<int>(walk->last_color));
    if (_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(c, last))) == 0xFF) {
      const uint64_t run = 0x0101010101010101ull * walk->last_index;
      std::memcpy(idx + x, &run, 8);
      continue;
    }
    const __m256i slot = _mm256_srli_epi32(_mm256_mullo_epi32(c, golden), 23);
    const __m256i home = _mm256_i32gather_epi32(reinterpret_cast<const int*>(s->home), slot, 4);
    const unsigned hits = static_cast<unsigned>(
        _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(home, rgb), c))));
    const __m256i index32 = _mm256_srli_epi32(home, 24);
    const __m128i index16 = _mm_packus_epi32(_mm256_castsi256_si128(index32), _mm256_extracti128_si256(index32, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(idx + x), _mm_packus_epi16(index16, index16));
    for (unsigned miss = ~hits & 0xFFu; miss != 0; miss &= miss - 1) {
      const uint32_t k = TrailingZeros64(miss);
      if (!IndexOf(PixelBgr(p + 4 * (x + k)), &walk->count, s, out, idx + x + k)) return false;
    }
    walk->last_color = PixelBgr(p + 4 * (x + 7));
    walk->last_index = idx[x + 7];
  }
  return walk->Pixels(p + 4 * x, w - x, idx + x, s, out);
}
#endif

}  // namespace

void AnalyzeTile(const FrameView& frame, const Rect& r, TileScratch* s, TileAnalysis* out) {
  const size_t n = static_cast<size_t>(r.w) * r.h;
  if (s->indices.size() < n) s->indices.resize(n);
  for (uint32_t& k : s->table_keys) k = kEmptyKey;
  // An empty home slot holds a colour whose own slot is another, so no lookup ever matches it.
  for (uint32_t i = 0; i < 512; ++i) s->home[i] = HashSlot(0) == i ? 1u : 0u;
#ifdef TILECAST_ANALYZE_AVX2
  const bool avx2 = ActiveSimdLevel() == SimdLevel::kAvx2;
#endif

  TileWalk walk;
  uint8_t* idx = s->indices.data();
  for (uint32_t y = 0; y < r.h; ++y, idx += r.w) {
    const uint8_t* p = frame.pixel(r.x, r.y + y);
    // A tile's rows are a frame stride apart, too far for the hardware prefetcher: ask for the
    // row after next while this one is read.
    if (y + 2 < r.h) {
      const uint8_t* ahead = frame.pixel(r.x, r.y + y + 2);
      for (uint32_t at = 0; at < r.w * 4; at += 64) PrefetchRead(ahead + at);
    }
#ifdef TILECAST_ANALYZE_AVX2
    const bool ok = avx2 ? RowAvx2(p, r.w, idx, &walk, s, out) : walk.Pixels(p, r.w, idx, s, out);
#else
    const bool ok = walk.Pixels(p, r.w, idx, s, out);
#endif
    if (!ok) {
      out->op = OpCode::kTruecolor;
      out->palette_size = 0;
      return;
    }
  }
  if (walk.count == 1) {
    out->op = OpCode::kSolid;
    out->solid_bgr = out->palette[0];
    out->palette_size = 1;
  } else {
    out->op = OpCode::kPalette;
    out->palette_size = walk.count;
    SortPaletteByLuma(out);
  }
}

bool LooksPhotographic(const FrameView& frame, const Rect& r, const TileAnalysis& a) {
  if (a.op == OpCode::kTruecolor) return true;
  if (a.op != OpCode::kPalette || a.palette_size <= 32 || r.w < 2) return false;
  uint32_t steps = 0, small = 0;  // differing horizontal neighbours, and those differing a little
  for (uint32_t y = 0; y < r.h; ++y) {
    const uint8_t* p = frame.pixel(r.x, r.y + y);
    for (uint32_t x = 1; x < r.w; ++x, p += 4) {
      const int db = std::abs(p[4] - p[0]), dg = std::abs(p[5] - p[1]), dr = std::abs(p[6] - p[2]);
      if ((db | dg | dr) == 0) continue;
      ++steps;
      if (std::max(db, std::max(dg, dr)) <= 24) ++small;
    }
  }
  const uint32_t pairs = (r.w - 1) * r.h;
  return steps * 4 >= pairs && small * 2 >= steps;  // a quarter of pixels are steps, mostly gentle
}

bool PredictionPays(const FrameView& frame, const Rect& r) {
  uint32_t repeats = 0;
  for (uint32_t y = 0; y < r.h; ++y) {
    const uint8_t* p = frame.pixel(r.x, r.y + y);
    for (uint32_t x = 1; x < r.w; ++x, p += 4) repeats += PixelBgr(p) == PixelBgr(p + 4);
  }
  return static_cast<uint64_t>(repeats) * 8 < static_cast<uint64_t>(r.w) * r.h;
}

void AppendPredictedOp(const FrameView& frame, const Rect& r, std::vector<uint8_t>* out) {
  const size_t start = out->size();
  const size_t row_bytes = static_cast<size_t>(r.w) * 3;
  out->resize(start + kOpHeaderBytes + row_bytes * r.h);
  uint8_t* p = out->data() + start;
  PutOpHeader(p, OpCode::kPredicted, r.x, r.y, r.w, r.h);
  p += kOpHeaderBytes;
  std::vector<uint8_t> rows(2 * row_bytes);  // this row's and the previous row's triplets
  for (uint32_t y = 0; y < r.h; ++y, p += row_bytes) {
    uint8_t* t = rows.data() + (y & 1) * row_bytes;
    ToGreenDeltaRow(frame.pixel(r.x, r.y + y), r.w, t);
    PredictRow(t, y > 0 ? rows.data() + ((y - 1) & 1) * row_bytes : nullptr, r.w, p);
  }
}

void AppendTileOp(const FrameView& frame, const Rect& r, const TileAnalysis& a, const TileScratch& s,
                  std::vector<uint8_t>* out, bool palette_diff) {
  const size_t start = out->size();
  switch (a.op) {
    case OpCode::kSolid: {
      out->resize(start + kOpHeaderBytes + 3);
      uint8_t* p = out->data() + start;
      PutOpHeader(p, OpCode::kSolid, r.x, r.y, r.w, r.h);
      p[9] = static_cast<uint8_t>(a.solid_bgr);
      p[10] = static_cast<uint8_t>(a.solid_bgr >> 8);
      p[11] = static_cast<uint8_t>(a.solid_bgr >> 16);
      return;
    }
    case OpCode::kPalette: {
      const uint32_t bits = PaletteIndexBits(a.palette_size);
      const size_t body = 1 + a.palette_size * 3 + PaletteRowBytes(r.w, bits) * r.h;
      out->resize(start + kOpHeaderBytes + body);
      uint8_t* p = out->data() + start;
      PutOpHeader(p, palette_diff ? OpCode::kPaletteDiff : OpCode::kPalette, r.x, r.y, r.w, r.h);
      p += kOpHeaderBytes;
      *p++ = static_cast<uint8_t>(a.palette_size - 1);
      if (palette_diff) {
        PutPaletteDiff(a.palette, a.palette_size, p);
        p += a.palette_size * 3;
      } else {
        for (uint32_t i = 0; i < a.palette_size; ++i) {
          *p++ = static_cast<uint8_t>(a.palette[i]);
          *p++ = static_cast<uint8_t>(a.palette[i] >> 8);
          *p++ = static_cast<uint8_t>(a.palette[i] >> 16);
        }
      }
      PackPaletteIndices(s.indices.data(), a.index_of_first_seen, r.w, r.h, bits, p);
      return;
    }
    case OpCode::kTruecolor: {
      out->resize(start + kOpHeaderBytes + static_cast<size_t>(r.w) * r.h * 3);
      uint8_t* p = out->data() + start;
      PutOpHeader(p, OpCode::kTruecolor, r.x, r.y, r.w, r.h);
      p += kOpHeaderBytes;
      for (uint32_t y = 0; y < r.h; ++y) {
        const uint8_t* src = frame.pixel(r.x, r.y + y);
        for (uint32_t x = 0; x < r.w; ++x, src += 4) {
          *p++ = src[0];
          *p++ = src[1];
          *p++ = src[2];
        }
      }
      return;
    }
    case OpCode::kCopy:
    case OpCode::kJpeg:
    case OpCode::kPaletteDiff:  // analysis says kPalette; palette_diff picks the coding
    case OpCode::kPredicted:    // AppendPredictedOp
    case OpCode::kCacheRef:
    case OpCode::kCacheRun:
      break;  // copies, JPEG images and cache references are emitted by the encoder, never chosen per tile
  }
}

}  // namespace tilecast
