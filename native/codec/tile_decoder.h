// TileDecoder: applies update op streams to a caller-owned BGRA framebuffer
// (packed rows, alpha written as 255). It owns only the inflate state, so the
// framebuffer can live wherever the caller wants (a JS Buffer, a test vector).
//
// Everything read from the wire is checked before use: op codes, rect bounds,
// palette sizes, the op count and the total area of an update. Decompressed data
// is pulled only as the ops ask for it, a row at a time, so a hostile update costs
// at most one row of memory. After any error (a limit exceeded before any data
// was read included) the deflate state no longer matches the host's, so the
// decoder refuses further updates (kDesync) until one arrives with the keyframe
// flag.
//
// With a content cache budget (SetCacheBudget, from the host's HELLO) it keeps
// the viewer's side of the content cache (content_cache.h): PALETTE(_DIFF),
// TRUECOLOR and PREDICTED ops big enough enter it, CACHE_REF ops draw from it. A reference
// to an id the cache does not hold, or of another size, is a protocol error.
// The cache empties on every keyframe and after any error.
//
// Thread: one Apply() at a time per instance, on any thread. The framebuffer must
// not be read while an Apply() runs; SetCacheBudget() not during an Apply().
#pragma once
#include <cstdint>
#include <vector>

#include "../util/status.h"
#include "content_cache.h"
#include "deflate_stream.h"
#include "wire_format.h"

namespace tilecast {

struct Framebuffer {
  uint8_t* data = nullptr;  // width*height*4 bytes
  uint32_t width = 0, height = 0;
  uint8_t* pixel(uint32_t x, uint32_t y) const { return data + (static_cast<size_t>(y) * width + x) * 4; }
};

// Fills a framebuffer with opaque black (what a viewer shows before the first update).
void ClearFramebuffer(const Framebuffer& fb);

struct DecodeStats {
  uint32_t ops_by_code[kOpCodeCount] = {};
};

class TileDecoder {
 public:
  TileDecoder() = default;

  // Applies one update: `op_count` ops read from `data` (deflate bytes) onto fb;
  // JPEG ops take their data in order from `images` (the update's image
  // section), which they must use up exactly.
  // Caller guarantees 1 <= fb.width,fb.height <= kMaxDimension.
  Status Apply(const Framebuffer& fb, const uint8_t* data, size_t len, uint32_t op_count, bool keyframe,
               DecodeStats* stats, const uint8_t* images = nullptr, size_t images_len = 0);

  // Bytes of content cache the host agreed to (0: no cache; CACHE_REF is then an error).
  void SetCacheBudget(uint64_t bytes) {
    cache_.SetBudget(bytes);
    keep_cache_at_keyframe_ = false;
  }
  const ContentCache& cache() const { return cache_; }
  // The host's CACHE_KEEP after a reconnect: the cache this decoder kept from
  // the viewer's previous connection keeps exactly those entries
  // (ContentCache::Keep), and the next keyframe does not empty it. An error
  // empties it (ERR_PROTOCOL, naming what was wrong).
  Status KeepCache(uint64_t budget, uint32_t next_id, const uint32_t* ranges, size_t range_count) {
    Status s = cache_.Keep(budget, next_id, ranges, range_count);
    keep_cache_at_keyframe_ = s.ok();
    return s;
  }

  // Limits applied to every update (beyond these an update is refused as too large).
  static uint32_t MaxOps(uint32_t width, uint32_t height);
  static uint64_t MaxAreaPerUpdate(uint32_t width, uint32_t height);

 private:
  Status ApplyUpdate(const Framebuffer& fb, const uint8_t* data, size_t len, uint32_t op_count, bool keyframe,
                     DecodeStats* stats, const uint8_t* images, size_t images_len);
  Status ApplyOps(const Framebuffer& fb, uint32_t op_count, DecodeStats* stats, const uint8_t* images,
                  size_t images_len);
  Status DecodeSolid(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
  // diff: PALETTE_DIFF (colours difference-coded, see wire_format.h).
  Status DecodePalette(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h, bool diff);
  Status DecodeTruecolor(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
  Status DecodePredicted(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
  Status DecodeCopy(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
  Status DecodeCacheRef(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
  // *tiles: how many entries it drew (the stats count each as a CACHE_REF).
  Status DecodeCacheRun(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t* tiles);
  Status DecodeJpegOp(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h, const uint8_t* images,
                      size_t images_len, size_t* images_used);

  std::vector<uint8_t> row_;  // one row of op data
  InflateStream inflate_;
  ContentCache cache_;
  bool keep_cache_at_keyframe_ = false;  // after KeepCache: the next keyframe keeps the cache
  bool desynced_ = true;  // no stream state yet: the first update must be a keyframe (as in the TS decoder)
};

}  // namespace tilecast
