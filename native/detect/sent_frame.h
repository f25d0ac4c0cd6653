// SentFrame: what one viewer has been sent — the source pixels of every rect
// it was sent (before any lossy coding) and, per tile, whether what it shows
// there is lossy. It lets each viewer's updates be computed against what that
// viewer actually has, whatever updates it skipped while its link was busy:
//   - moves (scrolls, drags) are found against it (FindMoves) and applied to it
//     exactly as the viewer will apply the COPY ops;
//   - the residual of the damage is what still differs from it, trimmed to the
//     rows that differ inside each tile;
//   - lossy tiles are known, so they can be refined to exact once still.
// Copies carry lossy state along: a tile that receives lossy content is lossy.
//
// Thread: one call at a time (its ViewerEncoder runs it on a worker thread).
#pragma once
#include <cstdint>
#include <vector>

#include "../codec/tile_encoder.h"
#include "../util/frame_view.h"

namespace tilecast {

class SentFrame {
 public:
  // Forgets everything; the next update must send the whole frame.
  void Reset(uint32_t width, uint32_t height, uint32_t tile_size);
  // Forgets everything and gives the memory back (the viewer left).
  void Release();
  size_t MemoryBytes() const { return pixels_.capacity() + lossy_.capacity(); }

  bool valid() const { return valid_; }
  uint32_t width() const { return width_; }
  uint32_t height() const { return height_; }
  uint32_t tiles_x() const { return tiles_x_; }
  uint32_t tiles_y() const { return tiles_y_; }
  FrameView view() const { return FrameView{pixels_.data(), width_, height_, static_cast<size_t>(width_) * 4}; }
  const std::vector<uint8_t>& lossy_tiles() const { return lossy_; }

  // Applies copies (already ordered) to the pixels and the lossy flags.
  void ApplyCopies(const std::vector<CopyOp>& copies);

  // The parts of `rects` where `frame` differs from what was sent: per tile, its
  // columns by the rows from the first to the last differing one; neighbouring
  // tiles with the same rows joined.
  std::vector<Rect> Residual(const FrameView& frame, const std::vector<Rect>& rects) const;

  // Records that `rects` of `frame` were sent, `lossy` of them as JPEG.
  void Commit(const FrameView& frame, const std::vector<Rect>& rects, const std::vector<Rect>& lossy);

 private:
  uint32_t width_ = 0, height_ = 0, tile_ = 64, tiles_x_ = 0, tiles_y_ = 0;
  bool valid_ = false;
  std::vector<uint8_t> pixels_;  // packed BGRA
  std::vector<uint8_t> lossy_;   // tiles_y_ x tiles_x_ flags
};

}  // namespace tilecast
