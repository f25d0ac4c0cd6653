// SentFrame: what one viewer has been sent — the source pixels of every rect
// it was sent (before any lossy coding) and, per tile, whether what it shows
// there is lossy. It lets each viewer's updates be computed against what that
// viewer actually has, whatever updates it skipped while its link was busy:
//   - moves (scrolls, drags) are found against it (FindMoves);
//   - the residual of the damage is what will still differ once the update's
//     COPY ops are applied, trimmed to the rows that differ inside each tile;
//   - lossy tiles are known, so they can be refined to exact once still.
// Copies carry lossy state along, to the pixel: a tile that receives lossy content is lossy.
//
// Memory: after an update that brought the viewer everything that changed,
// what it has equals the captured screen, so it holds the screen shared by
// all such viewers (ScreenStore) instead of a copy of its own; it makes its
// own copy only while it lags behind in part (some damage held back). While
// anything it shows is lossy it also keeps the lossy mask (a byte a pixel).
//
// Thread: one call at a time (its ViewerEncoder runs it on a worker thread).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../codec/tile_encoder.h"
#include "../util/frame_view.h"
#include "../util/page_buffer.h"
#include "screen_store.h"

namespace tilecast {

class SentFrame {
 public:
  // Forgets everything; the next update must send the whole frame (a same-size pixel buffer is kept for it).
  void Reset(uint32_t width, uint32_t height, uint32_t tile_size);
  // Forgets everything and gives the memory back (the viewer left).
  void Release();

  bool valid() const { return valid_; }
  uint32_t width() const { return width_; }
  uint32_t height() const { return height_; }
  uint32_t tiles_x() const { return tiles_x_; }
  uint32_t tiles_y() const { return tiles_y_; }
  // What the viewer has (valid() only).
  FrameView view() const;
  const std::vector<uint8_t>& lossy_tiles() const { return lossy_; }
  // Whether it holds a shared screen (true) or a copy of its own.
  bool shared() const { return screen_ != nullptr; }
  // Bytes of its own: a private copy, if any, and the lossy flags and mask (not the shared screen).
  size_t MemoryBytes() const { return pixels_.size() + lossy_.capacity() + lossy_px_.capacity(); }

  // The parts of `rects` where `frame` differs from what the viewer will have
  // once `copies` (ordered, see OrderCopies) are applied: per tile, the
  // bounding box of its differing pixels, or, when `rects` cover at most 8
  // tiles (a keystroke), boxes around its runs of differing columns (split
  // where two or more columns are unchanged: one box per glyph), each from the
  // first to the last row that differs in its columns; neighbouring boxes with
  // the same rows that touch (at a tile edge) joined. Pixels a copy covers are compared with that
  // copy's source, so nothing has to be applied first.
  std::vector<Rect> Residual(const FrameView& frame, const std::vector<Rect>& rects,
                             const std::vector<CopyOp>& copies = {}) const;

  // Records the update: the viewer applied `copies`, then got `rects` of
  // `frame`, `lossy` of them as JPEG. With `screen` (the shared copy of
  // `frame`, given when the update brought the viewer everything that changed,
  // so what it has equals `frame`), it holds that screen from now on and drops
  // its own copy; without, it updates its own copy.
  void Commit(const FrameView& frame, const std::vector<CopyOp>& copies, const std::vector<Rect>& rects,
              const std::vector<Rect>& lossy, std::shared_ptr<const ScreenPixels> screen = nullptr);

 private:
  void MoveLossyFlags(const std::vector<CopyOp>& copies);
  void MarkLossy(const Rect& r, uint8_t value);  // lossy_px_ of `r` (made on the first lossy rect)
  void FlagLossyTiles(const Rect& area);         // lossy_ of the tiles `area` touches, from lossy_px_
  void MakeOwnCopy();  // pixels_ = what the viewer has (from the shared screen, or blank)

  uint32_t width_ = 0, height_ = 0, tile_ = 64, tiles_x_ = 0, tiles_y_ = 0;
  bool valid_ = false;
  std::shared_ptr<const ScreenPixels> screen_;  // what the viewer has, when it is a whole captured screen
  PageBuffer pixels_;                           // its own copy otherwise (packed BGRA; from the OS, see page_buffer.h)
  std::vector<uint8_t> lossy_;                  // tiles_y_ x tiles_x_ flags
  // One byte a pixel (width_ x height_), nonzero where the viewer shows lossy pixels; kept only
  // while some tile is lossy. Copies move it as they move pixels, so lossy content scrolled across
  // the screen flags only the tiles it is in. (Tile flags alone smeared a tile row further with
  // every scroll step, and each was re-sent exact later: ~20 % of scroll-doc's bytes.)
  std::vector<uint8_t> lossy_px_;
};

}  // namespace tilecast
