#include "tile_analyzer.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "../util/compiler.h"
#include "predictor.h"

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

void PackPaletteIndices(const uint8_t* idx, const uint8_t* remap, uint32_t w, uint32_t h, uint32_t bits,
                        uint8_t* out) {
  switch (bits) {
    case 1: return PackRows<1>(idx, remap, w, h, out);
    case 2: return PackRows<2>(idx, remap, w, h, out);
    case 4: return PackRows<4>(idx, remap, w, h, out);
    default: return PackRows<8>(idx, remap, w, h, out);
  }
}

}  // namespace

void AnalyzeTile(const FrameView& frame, const Rect& r, TileScratch* s, TileAnalysis* out) {
  const size_t n = static_cast<size_t>(r.w) * r.h;
  if (s->indices.size() < n) s->indices.resize(n);
  for (uint32_t& k : s->table_keys) k = kEmptyKey;

  uint32_t count = 0;
  uint32_t last_color = kEmptyKey;
  uint8_t last_index = 0;
  uint8_t* idx = s->indices.data();
  for (uint32_t y = 0; y < r.h; ++y) {
    const uint8_t* p = frame.pixel(r.x, r.y + y);
    // A tile's rows are a frame stride apart, too far for the hardware prefetcher: ask for the
    // row after next while this one is read.
    if (y + 2 < r.h) {
      const uint8_t* ahead = frame.pixel(r.x, r.y + y + 2);
      for (uint32_t at = 0; at < r.w * 4; at += 64) PrefetchRead(ahead + at);
    }
    for (uint32_t x = 0; x < r.w; ++x, p += 4) {
      uint32_t c = PixelBgr(p);
      if (c != last_color) {
        uint32_t slot = HashSlot(c);
        while (s->table_keys[slot] != kEmptyKey && s->table_keys[slot] != c) slot = (slot + 1) & 511;
        if (s->table_keys[slot] == kEmptyKey) {
          if (count == kMaxPaletteColors) {
            out->op = OpCode::kTruecolor;
            out->palette_size = 0;
            return;
          }
          s->table_keys[slot] = c;
          s->table_vals[slot] = static_cast<uint16_t>(count);
          out->palette[count++] = c;
        }
        last_color = c;
        last_index = static_cast<uint8_t>(s->table_vals[slot]);
      }
      *idx++ = last_index;
    }
  }
  if (count == 1) {
    out->op = OpCode::kSolid;
    out->solid_bgr = out->palette[0];
    out->palette_size = 1;
  } else {
    out->op = OpCode::kPalette;
    out->palette_size = count;
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
