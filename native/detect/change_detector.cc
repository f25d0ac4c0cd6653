#include "change_detector.h"

#include <algorithm>
#include <cstring>

#include "row_diff.h"

namespace tilecast {

ChangeDetector::ChangeDetector(uint32_t width, uint32_t height, uint32_t tile_size)
    : width_(width),
      height_(height),
      tile_size_(tile_size),
      tiles_x_((width + tile_size - 1) / tile_size),
      tiles_y_((height + tile_size - 1) / tile_size),
      reference_(static_cast<size_t>(width) * height * 4),
      dirty_(static_cast<size_t>(tiles_x_) * tiles_y_) {}

Status ChangeDetector::Detect(const FrameView& frame, std::vector<Rect>* dirty_rects) {
  if (frame.width != width_ || frame.height != height_) {
    return Status::Error(ErrorCode::kInvalidArgument, "frame size does not match the detector's size");
  }
  if (frame.stride < static_cast<size_t>(width_) * 4) {
    return Status::Error(ErrorCode::kInvalidArgument, "stride is smaller than width*4");
  }
  const size_t row_bytes = static_cast<size_t>(width_) * 4;
  const size_t segment_bytes = static_cast<size_t>(tile_size_) * 4;
  dirty_rects->clear();

  if (!have_reference_) {
    std::fill(dirty_.begin(), dirty_.end(), 1);
    for (uint32_t y = 0; y < height_; ++y) std::memcpy(&reference_[y * row_bytes], frame.row(y), row_bytes);
    have_reference_ = true;
  } else {
    std::fill(dirty_.begin(), dirty_.end(), 0);
    RowDiffFn row_diff = RowDiffFor(ActiveSimdLevel());
    for (uint32_t ty = 0; ty < tiles_y_; ++ty) {
      uint8_t* flags = &dirty_[static_cast<size_t>(ty) * tiles_x_];
      const uint32_t y0 = ty * tile_size_;
      const uint32_t y1 = std::min(height_, y0 + tile_size_);
      for (uint32_t y = y0; y < y1; ++y) {
        row_diff(&reference_[y * row_bytes], frame.row(y), row_bytes, segment_bytes, flags);
      }
      CopyTileRowSpans(frame, ty, flags);
    }
  }
  MergeDirtyTiles(dirty_.data(), tiles_x_, tiles_y_, tile_size_, width_, height_, dirty_rects);
  return Status::Ok();
}

// Brings the reference up to date for the dirty tiles of one tile row, copying
// each horizontal run of dirty tiles as one span per pixel row.
void ChangeDetector::CopyTileRowSpans(const FrameView& frame, uint32_t ty, const uint8_t* flags) {
  const size_t row_bytes = static_cast<size_t>(width_) * 4;
  const uint32_t y0 = ty * tile_size_;
  const uint32_t y1 = std::min(height_, y0 + tile_size_);
  uint32_t tx = 0;
  while (tx < tiles_x_) {
    if (!flags[tx]) { ++tx; continue; }
    uint32_t run_end = tx;
    while (run_end < tiles_x_ && flags[run_end]) ++run_end;
    const size_t x0 = static_cast<size_t>(tx) * tile_size_ * 4;
    const size_t x1 = std::min(row_bytes, static_cast<size_t>(run_end) * tile_size_ * 4);
    for (uint32_t y = y0; y < y1; ++y) std::memcpy(&reference_[y * row_bytes + x0], frame.row(y) + x0, x1 - x0);
    tx = run_end;
  }
}

void MergeDirtyTiles(const uint8_t* dirty, uint32_t tiles_x, uint32_t tiles_y, uint32_t tile_size, uint32_t width,
                     uint32_t height, std::vector<Rect>* out) {
  // Open rects (in tile units) from the previous tile row, keyed by x-extent.
  struct Run { uint32_t tx0, tx1, ty0, ty1; };
  std::vector<Run> open, next, closed;
  for (uint32_t ty = 0; ty < tiles_y; ++ty) {
    next.clear();
    const uint8_t* row = dirty + static_cast<size_t>(ty) * tiles_x;
    size_t oi = 0;
    uint32_t tx = 0;
    while (tx < tiles_x) {
      if (!row[tx]) { ++tx; continue; }
      uint32_t end = tx;
      while (end < tiles_x && row[end]) ++end;
      // Open runs are sorted by tx0; close those that end before this one starts.
      while (oi < open.size() && open[oi].tx0 < tx) closed.push_back(open[oi++]);
      if (oi < open.size() && open[oi].tx0 == tx && open[oi].tx1 == end) {
        Run r = open[oi++];
        r.ty1 = ty + 1;
        next.push_back(r);
      } else {
        next.push_back(Run{tx, end, ty, ty + 1});
      }
      tx = end;
    }
    while (oi < open.size()) closed.push_back(open[oi++]);
    open.swap(next);
  }
  closed.insert(closed.end(), open.begin(), open.end());
  std::sort(closed.begin(), closed.end(),
            [](const Run& a, const Run& b) { return a.ty0 != b.ty0 ? a.ty0 < b.ty0 : a.tx0 < b.tx0; });
  out->clear();
  out->reserve(closed.size());
  for (const Run& r : closed) {
    Rect rect;
    rect.x = r.tx0 * tile_size;
    rect.y = r.ty0 * tile_size;
    rect.w = std::min(width, r.tx1 * tile_size) - rect.x;
    rect.h = std::min(height, r.ty1 * tile_size) - rect.y;
    out->push_back(rect);
  }
}

}  // namespace tilecast
