// TileEncoder: turns the dirty rects of a frame into one update's op stream,
// compressed through the connection's persistent deflate stream, plus the
// update's image section (JPEG data of lossy rects, kept out of deflate).
//
// Each rect is cut on the tile grid into bands (one tile row each); bands are analysed and coded in
// parallel (thread pool), then deflated in order on the calling thread. Inside a
// band, neighbouring solid tiles of the same colour become one SOLID op; with
// set_predicted, photographic truecolour tiles become PREDICTED ops, which go
// after the band's other ops as literal-only deflate blocks (literal_blocks.h). Tiles
// the caller allows to go lossy (LossyOptions::tile_mask, from change history)
// and that look photographic (LooksPhotographic, from content) are gathered
// into rects (adjacent lossy tiles of a band, then equal runs of consecutive
// bands) and JPEG-coded in parallel, one image per rect. The output does not
// depend on the number of threads.
//
// With a content cache budget (SetCacheBudget) it keeps the mirror of the
// viewer's content cache (content_cache.h): PALETTE/TRUECOLOR tiles whose
// content the viewer holds go as CACHE_REF ops. The mirror empties on keyframes.
//
// Thread: one Encode() at a time per instance, on any thread but the JS thread.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "../util/frame_view.h"
#include "../util/status.h"
#include "content_cache.h"
#include "deflate_stream.h"
#include "jpeg_codec.h"
#include "wire_format.h"

namespace tilecast {

struct CopyOp {
  Rect dst;
  uint32_t src_x = 0, src_y = 0;
};

struct LossyOptions {
  // tiles_x * tiles_y flags over the frame's tile grid (tile (tx, ty) covers
  // x in [tx*T, tx*T+T)); nonzero = this tile may be coded lossy. nullptr = none may.
  const uint8_t* tile_mask = nullptr;
  uint32_t tiles_x = 0, tiles_y = 0;
  JpegParams jpeg;
};

struct EncodeStats {
  uint32_t ops_by_code[kOpCodeCount] = {};
  uint32_t pixels_by_code[kOpCodeCount] = {};
  uint64_t raw_bytes = 0;  // op stream bytes before deflate
};

struct EncodedUpdate {
  std::vector<uint8_t> stream;   // raw deflate bytes, ending in a sync flush
  std::vector<uint8_t> images;   // the image section: JPEG data, in op order
  uint32_t op_count = 0;
  std::vector<Rect> lossy_rects;  // what went as JPEG
  EncodeStats stats;
};

class TileEncoder {
 public:
  // tile_size in [kMinTileSize, kMaxTileSize]; level is the zlib level 1..9.
  TileEncoder(uint32_t tile_size, int level);

  // Encodes `copies` (applied first, in order) then the pixels of `rects`.
  // keyframe=true resets the deflate stream first; the decoder must then reset too.
  Status Encode(const FrameView& frame, const std::vector<CopyOp>& copies, const std::vector<Rect>& rects,
                bool keyframe, unsigned max_threads, EncodedUpdate* out, const LossyOptions* lossy = nullptr);

  uint32_t tile_size() const { return tile_size_; }
  // Palettes go as PALETTE_DIFF (only for viewers that announced COMPACT_UPDATE).
  void set_palette_diff(bool on) { palette_diff_ = on; }
  // Photographic truecolour tiles go as PREDICTED, coded as literal blocks (only for viewers that
  // announced PREDICTED).
  void set_predicted(bool on) { predicted_ = on; }
  // Rows of cache hits with consecutive ids go as one CACHE_RUN (only for viewers that announced
  // CACHE_RUN).
  void set_cache_runs(bool on) { cache_runs_ = on; }

  // Bytes of content cache the viewer agreed to (0: none); empties the mirror.
  // Call before the first Encode (the viewer's cache starts empty with it).
  void SetCacheBudget(uint64_t bytes) { cache_.SetBudget(bytes); }
  const ContentCache& cache() const { return cache_; }

  // The viewer's connection ended: moves the mirror out (to be parked for a
  // resume); this encoder's is then empty, budget 0. nullptr when there is
  // nothing to resume, or the mirror cannot be trusted (an Encode failed since
  // the last keyframe).
  std::unique_ptr<ContentCache> TakeCache();

  // A viewer came back whose cache has seen `viewer_next_id` inserts of the
  // parked mirror: it becomes this encoder's (ContentCache::ResumeFor with this
  // encoder's budget) and the next keyframe keeps it. Appends the kept ids'
  // (first, count) ranges and sets *next_id; false if it cannot resume (the
  // mirror stays empty; the next keyframe empties it as usual).
  bool ResumeCache(std::unique_ptr<ContentCache> parked, uint32_t viewer_next_id, std::vector<uint32_t>* ranges,
                   uint32_t* next_id);

 private:
  uint32_t tile_size_;
  int level_;  // the configured zlib level (small updates use 9; large keyframes use our LZ coder)
  DeflateStream deflate_;
  ContentCache cache_{0, true};
  bool palette_diff_ = false;
  bool predicted_ = false;
  bool cache_runs_ = false;
  bool needs_reset_ = false;  // set when an Encode failed midway: the stream state is unknown
  bool keep_cache_at_keyframe_ = false;  // a resumed mirror: the next keyframe does not empty it
};

}  // namespace tilecast
