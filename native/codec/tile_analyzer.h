// TileAnalyzer: decides how one tile is coded losslessly and prepares its bytes.
//
// One pass over the tile counts distinct colours (stopping at 257) while writing a
// palette index per pixel. Runs of equal pixels skip the hash lookup, which is what
// makes text and UI (long runs of background) cheap.
//
// Palettes are sent sorted by luminance, not in order of first appearance: the
// anti-aliasing ramps of text then get the same index pattern in every tile, so
// deflate finds repeated glyphs across tiles (10-28% fewer bytes on text screens).
//
// Thread: pure function of its inputs; called concurrently from the thread pool,
// each call with its own TileScratch.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "../util/frame_view.h"
#include "wire_format.h"

namespace tilecast {

struct TileScratch {
  std::vector<uint8_t> indices;     // one palette index per pixel
  uint32_t table_keys[512];         // open-addressing colour -> index table
  uint16_t table_vals[512];
  uint32_t home[512];               // colour | index << 24 of each colour in its own slot (the SIMD walk's table)
};

struct TileAnalysis {
  OpCode op = OpCode::kTruecolor;
  uint32_t solid_bgr = 0;           // for kSolid: 0x00RRGGBB as read from b,g,r bytes
  uint32_t palette_size = 0;        // for kPalette
  uint32_t palette[kMaxPaletteColors];        // sorted by luminance
  uint8_t index_of_first_seen[kMaxPaletteColors];  // scratch index -> sorted index
};

// Analyzes rect `r` of `frame` (must lie inside it).
void AnalyzeTile(const FrameView& frame, const Rect& r, TileScratch* scratch, TileAnalysis* out);

// Content half of the lossy decision (the encoder's caller supplies the change
// history half): is this analysed tile photographic? More than 256 colours, or
// more than 32 colours of which neighbouring pixels mostly step by small amounts
// (gradients, as in photos and video), whereas text and UI are flat runs with
// hard edges. Pure function of the pixels: the same tile always classifies alike.
bool LooksPhotographic(const FrameView& frame, const Rect& r, const TileAnalysis& a);

// Appends the op (header and body) for an analyzed tile to `out`; palettes as
// PALETTE_DIFF when `palette_diff` (the viewer announced COMPACT_UPDATE).
void AppendTileOp(const FrameView& frame, const Rect& r, const TileAnalysis& a, const TileScratch& scratch,
                  std::vector<uint8_t>* out, bool palette_diff = false);

// Is a truecolour tile better sent as PREDICTED than as TRUECOLOR? Yes for photographs (few
// pixels repeat their left neighbour: LZ77 finds little, prediction residuals are small); no for
// anti-aliased text and UI with over 256 colours, whose flat runs and repeated glyphs deflate
// better as they are. The 1-in-8 threshold comes from the scenes and recordings: video tiles
// repeat under 1 %, text and UI tiles 20-80 %.
bool PredictionPays(const FrameView& frame, const Rect& r);

// Appends a PREDICTED op (predictor.h) for rect `r` of `frame`.
void AppendPredictedOp(const FrameView& frame, const Rect& r, std::vector<uint8_t>* out);

// Reads the 24-bit colour of a BGRA pixel (alpha ignored).
inline uint32_t PixelBgr(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // one load; memcpy keeps it free of alignment/aliasing UB
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v & 0xFFFFFF;
}

}  // namespace tilecast
