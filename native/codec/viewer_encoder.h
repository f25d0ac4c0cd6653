// ViewerEncoder: what one viewer is sent next, natively. It owns everything
// the encoder must remember about that viewer:
//   - the SentFrame (what the viewer has: pixels, and which tiles are lossy —
//     the one owner of lossy state; the TS scheduler asks LossyTiles()); when
//     an update brings the viewer all that changed, it holds the screen shared
//     with the other viewers in the ScreenStore instead of a copy of its own
//     (once there are two or more viewers: a lone viewer keeps its own copy);
//   - the TileEncoder and its deflate stream;
// and per update it runs the choreography: keyframe or not, moves found
// against the sent frame (COPY ops), the residual of the damage that still
// differs, refinement rects re-sent whole and exact (they cover residual
// parts inside them and may not go lossy), tile coding, then the commit.
//
// Policy (which tiles may go lossy, what to refine, when) is the caller's.
//
// Thread: one Encode() at a time, on any thread but the JS thread.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "../detect/screen_store.h"
#include "../detect/sent_frame.h"
#include "../util/frame_view.h"
#include "../util/status.h"
#include "tile_encoder.h"

namespace tilecast {

struct ViewerEncodeRequest {
  FrameView frame;
  std::vector<Rect> damage;  // where the screen changed since the last request (inside the frame)
  bool keyframe = false;     // forced when the viewer has nothing of this size yet
  bool detect_moves = false;
  // Empty, or one flag per tile of the frame's grid: nonzero = may go lossy.
  std::vector<uint8_t> lossy_mask;
  JpegParams jpeg;
  std::vector<Rect> refine;  // rects to re-send exactly (inside the frame)
  // The capture's id of this screen (0: none, e.g. frames from a caller), and
  // whether `damage` is everything that changed since the previous request
  // (nothing held back): then the viewer has all of the screen afterwards and
  // can share the store's copy of it.
  uint64_t generation = 0;
  bool complete = false;
  bool palette_diff = false;  // the viewer announced COMPACT_UPDATE: palettes as PALETTE_DIFF
  bool predicted = false;     // the viewer announced PREDICTED: photographic truecolour as PREDICTED
  bool cache_runs = false;    // the viewer announced CACHE_RUN: rows of cache hits as one op
};

struct ViewerUpdate {
  EncodedUpdate update;
  bool keyframe = false;
  std::vector<CopyOp> copies;  // applied first by the viewer, in order
  std::vector<Rect> rects;     // sent as pixels (update.lossy_rects of them as JPEG)
  uint32_t lossy_tiles = 0;    // tiles the viewer shows lossy after this update
};

class ViewerEncoder {
 public:
  // tile_size in [kMinTileSize, kMaxTileSize]; deflate_level 1..9; max_threads >= 1.
  // `store` (may be null: every viewer keeps its own copy) is shared by the
  // viewers of one capture, whose generations it names.
  ViewerEncoder(uint32_t tile_size, int deflate_level, unsigned max_threads, std::shared_ptr<ScreenStore> store = nullptr);
  ~ViewerEncoder();
  ViewerEncoder(const ViewerEncoder&) = delete;
  ViewerEncoder& operator=(const ViewerEncoder&) = delete;

  // Validates the request (rects, mask size, quality) before changing any state.
  Status Encode(ViewerEncodeRequest request, ViewerUpdate* out);

  // Indices (row-major over the tile grid) of the tiles the viewer shows lossy.
  std::vector<uint32_t> LossyTiles() const;
  uint32_t LossyTileCount() const { return lossy_count_; }

  // Frees the sent-frame copy and the cache mirror (the viewer left); a later
  // Encode is a keyframe.
  void Release();

  // The content cache budget agreed with the viewer at HELLO (0: none); call before the first Encode.
  void SetCacheBudget(uint64_t bytes) {
    tiles_.SetCacheBudget(bytes);
    RecountCache();
  }
  const ContentCache& cache() const { return tiles_.cache(); }
  // The connection ended: the cache mirror, to park for a resume (TileEncoder::TakeCache).
  std::unique_ptr<ContentCache> TakeCache() {
    std::unique_ptr<ContentCache> parked = tiles_.TakeCache();
    RecountCache();
    return parked;
  }
  // The viewer came back: adopt a parked mirror (TileEncoder::ResumeCache).
  bool ResumeCache(std::unique_ptr<ContentCache> parked, uint32_t viewer_next_id, std::vector<uint32_t>* ranges,
                   uint32_t* next_id) {
    const bool resumed = tiles_.ResumeCache(std::move(parked), viewer_next_id, ranges, next_id);
    RecountCache();
    return resumed;
  }

  uint32_t tile_size() const { return tiles_.tile_size(); }
  // What the viewer has (tests and fuzz targets check it against the screen).
  const SentFrame& sent_frame() const { return sent_; }
  // Bytes held for this viewer alone (its own copy, if any, flags, its share
  // of the cache mirror's pixels, which viewers of one screen hold together
  // in SharedCachePixels; not shared screens, nor zlib's fixed state, nor the
  // coding buffers, which the process's CodingScratchPool keeps).
  size_t MemoryBytes() const;

 private:
  Status EncodeUpdate(ViewerEncodeRequest request, ViewerUpdate* out);
  // The mirror's share (ContentCache::HeldBytes, O(entries)), counted on the encoding thread so
  // MemoryBytes() stays cheap on the JS thread: after an encode that changed the mirror (for a
  // mirror of over kRecountEveryEntries entries, every kRecountEvery such encodes), and after every
  // other change to it. Other viewers leaving or joining change the share too; it follows at this
  // viewer's next recount, so it is approximate between them.
  void RecountCache(bool after_encode = false);
  static constexpr size_t kRecountEveryEntries = 4096;
  static constexpr uint32_t kRecountEvery = 8;

  TileEncoder tiles_;
  SentFrame sent_;
  std::shared_ptr<ScreenStore> store_;
  unsigned max_threads_;
  uint32_t lossy_count_ = 0;
  uint64_t cache_held_ = 0;
  // The mirror as of the last recount: any insert, eviction or clear changes one of these.
  uint32_t counted_next_id_ = 0;
  size_t counted_entries_ = 0;
  uint32_t changed_encodes_ = 0;  // encodes that changed the mirror since the last recount
};

}  // namespace tilecast
