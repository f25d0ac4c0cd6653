// ChangeDetector: finds which tiles of a frame differ from the previous frame.
//
// It keeps its own packed copy of the last frame it saw. Detect() scans the new
// frame row by row (sequential memory access is what reaches the memory-bandwidth
// floor on frames that are not in cache), marks tiles that differ, copies just
// those tiles into its reference, and returns the dirty tiles merged into rects.
// The first call after construction or Reset() reports the whole frame.
//
// Thread: one Detect() at a time per instance; any thread (the binding runs it on
// a libuv worker).
#pragma once
#include <cstdint>
#include <vector>

#include "../util/frame_view.h"
#include "../util/status.h"

namespace tilecast {

class ChangeDetector {
 public:
  // Caller validates: 1 <= width,height <= kMaxDimension, tile size in range.
  ChangeDetector(uint32_t width, uint32_t height, uint32_t tile_size);

  // frame must be width x height with stride >= width*4.
  Status Detect(const FrameView& frame, std::vector<Rect>* dirty_rects);

  // Forget the reference frame: the next Detect reports everything.
  void Reset() { have_reference_ = false; }

  uint32_t width() const { return width_; }
  uint32_t height() const { return height_; }
  uint32_t tile_size() const { return tile_size_; }
  uint32_t tiles_x() const { return tiles_x_; }
  uint32_t tiles_y() const { return tiles_y_; }

 private:
  void CopyTileRowSpans(const FrameView& frame, uint32_t tile_row, const uint8_t* dirty);

  uint32_t width_, height_, tile_size_, tiles_x_, tiles_y_;
  bool have_reference_ = false;
  std::vector<uint8_t> reference_;   // packed BGRA, width_*4 bytes per row
  std::vector<uint8_t> dirty_;       // tiles_y_ x tiles_x_ flags
};

// Merges a tile grid of dirty flags into rects: horizontal runs per tile row, then
// runs with the same x-extent in consecutive tile rows are joined. Rects are
// clipped to width x height. Output is ordered top-to-bottom, left-to-right.
void MergeDirtyTiles(const uint8_t* dirty, uint32_t tiles_x, uint32_t tiles_y, uint32_t tile_size, uint32_t width,
                     uint32_t height, std::vector<Rect>* out);

}  // namespace tilecast
