#include "sent_frame.h"

#include <algorithm>
#include <cstring>

namespace tilecast {
namespace {

// Unchanged columns that split a tile's residual into separate boxes: glyphs
// are usually a column or more apart; a one-column gap inside a glyph keeps it
// whole. (typing-ja: 21.7 -> 18.9 kB; 2 to 5 give the same bytes there.)
constexpr uint32_t kSplitGap = 2;
// Only small damage (keystrokes) is split per glyph: on larger damage (a
// scroll's exposed lines) the extra ops and palettes cost more than they save
// (scroll-doc +2.4% when every update is split).
constexpr size_t kSplitMaxTiles = 8;

Rect Intersect(const Rect& a, const Rect& b) {
  const uint32_t x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  const uint32_t x1 = std::min(a.x + a.w, b.x + b.w), y1 = std::min(a.y + a.h, b.y + b.h);
  return x1 > x0 && y1 > y0 ? Rect{x0, y0, x1 - x0, y1 - y0} : Rect{};
}

}  // namespace

void SentFrame::Reset(uint32_t width, uint32_t height, uint32_t tile_size) {
  width_ = width;
  height_ = height;
  tile_ = tile_size;
  tiles_x_ = (width + tile_size - 1) / tile_size;
  tiles_y_ = (height + tile_size - 1) / tile_size;
  screen_.reset();
  // A same-size buffer is kept: the keyframe that must follow (valid_ is false) overwrites all of it,
  // and fresh pages from the OS cost more than the copy (~8 ms of page faults per 1920x1080 keyframe).
  if (pixels_.size() != static_cast<size_t>(width) * height * 4) pixels_.reset();
  lossy_.assign(static_cast<size_t>(tiles_x_) * tiles_y_, 0);
  std::vector<uint8_t>().swap(lossy_px_);
  valid_ = false;
}

void SentFrame::Release() {
  screen_.reset();
  pixels_.reset();
  std::vector<uint8_t>().swap(lossy_);
  std::vector<uint8_t>().swap(lossy_px_);
  width_ = height_ = tiles_x_ = tiles_y_ = 0;
  valid_ = false;
}

FrameView SentFrame::view() const {
  if (screen_) return screen_->view();
  return FrameView{pixels_.data(), width_, height_, static_cast<size_t>(width_) * 4};
}

void SentFrame::MakeOwnCopy() {
  const size_t bytes = static_cast<size_t>(width_) * height_ * 4;
  if (screen_) {
    pixels_ = PageBuffer(bytes);
    std::memcpy(pixels_.data(), screen_->view().data, bytes);
    screen_.reset();
  } else if (pixels_.size() != bytes) {
    pixels_ = PageBuffer(bytes);  // zeroed
  }
}

void SentFrame::MoveLossyFlags(const std::vector<CopyOp>& copies) {
  // Lossy state moves with the pixels, exactly: the lossy mask's rows move as the pixels' do, and
  // each destination tile is lossy if lossy pixels landed in it (or it kept some of its own).
  if (lossy_px_.empty()) return;  // nothing lossy to carry
  for (const CopyOp& c : copies) {  // sequentially, as the viewer applies them
    auto at = [&](uint32_t x, uint32_t y) { return lossy_px_.data() + static_cast<size_t>(y) * width_ + x; };
    if (c.src_y < c.dst.y) {
      for (uint32_t r = c.dst.h; r-- > 0;) std::memmove(at(c.dst.x, c.dst.y + r), at(c.src_x, c.src_y + r), c.dst.w);
    } else {
      for (uint32_t r = 0; r < c.dst.h; ++r) std::memmove(at(c.dst.x, c.dst.y + r), at(c.src_x, c.src_y + r), c.dst.w);
    }
    FlagLossyTiles(c.dst);
  }
}

void SentFrame::MarkLossy(const Rect& r, uint8_t value) {
  if (lossy_px_.empty()) {
    if (value == 0) return;
    lossy_px_.assign(static_cast<size_t>(width_) * height_, 0);
  }
  for (uint32_t y = r.y; y < r.y + r.h; ++y) std::memset(lossy_px_.data() + static_cast<size_t>(y) * width_ + r.x, value, r.w);
}

void SentFrame::FlagLossyTiles(const Rect& area) {
  if (area.w == 0 || area.h == 0) return;
  for (uint32_t ty = area.y / tile_; ty <= (area.y + area.h - 1) / tile_; ++ty) {
    for (uint32_t tx = area.x / tile_; tx <= (area.x + area.w - 1) / tile_; ++tx) {
      const Rect tile = Intersect(Rect{tx * tile_, ty * tile_, tile_, tile_}, Rect{0, 0, width_, height_});
      uint8_t flag = 0;
      for (uint32_t y = tile.y; y < tile.y + tile.h && !flag; ++y) {
        const uint8_t* row = lossy_px_.data() + static_cast<size_t>(y) * width_ + tile.x;
        flag = std::any_of(row, row + tile.w, [](uint8_t v) { return v != 0; }) ? 1 : 0;
      }
      lossy_[ty * tiles_x_ + tx] = flag;
    }
  }
}

std::vector<Rect> SentFrame::Residual(const FrameView& frame, const std::vector<Rect>& rects,
                                      const std::vector<CopyOp>& copies) const {
  const FrameView sent = view();
  std::vector<uint8_t> seen(static_cast<size_t>(tiles_x_) * tiles_y_, 0);
  std::vector<Rect> out;
  std::vector<const CopyOp*> over;  // copies that touch the tile
  std::vector<int32_t> owner;       // per column of a tile row: index into `over` of the copy that wrote it last, or -1
  std::vector<uint32_t> col_first, col_last;
  size_t damaged = 0;
  for (const Rect& r : rects) {
    for (uint32_t ty = r.y / tile_; ty <= (r.y + r.h - 1) / tile_; ++ty) {
      for (uint32_t tx = r.x / tile_; tx <= (r.x + r.w - 1) / tile_; ++tx) damaged += seen[ty * tiles_x_ + tx]++ == 0;
    }
  }
  const uint32_t split_gap = damaged <= kSplitMaxTiles ? kSplitGap : UINT32_MAX;
  std::fill(seen.begin(), seen.end(), 0);
  for (const Rect& r : rects) {
    for (uint32_t ty = r.y / tile_; ty <= (r.y + r.h - 1) / tile_; ++ty) {
      for (uint32_t tx = r.x / tile_; tx <= (r.x + r.w - 1) / tile_; ++tx) {
        if (seen[ty * tiles_x_ + tx]++) continue;
        const Rect tile = Intersect(Rect{tx * tile_, ty * tile_, tile_, tile_}, Rect{0, 0, width_, height_});
        over.clear();
        for (const CopyOp& c : copies) {
          if (Intersect(tile, c.dst).w) over.push_back(&c);
        }
        // Does row y of the tile differ from what the viewer will have there?
        auto differs = [&](uint32_t y) {
          if (over.empty()) return std::memcmp(frame.pixel(tile.x, y), sent.pixel(tile.x, y), static_cast<size_t>(tile.w) * 4) != 0;
          owner.assign(tile.w, -1);
          for (size_t k = 0; k < over.size(); ++k) {  // in order: a later copy overwrites an earlier one
            const Rect& d = over[k]->dst;
            if (y < d.y || y >= d.y + d.h) continue;
            const uint32_t x0 = std::max(d.x, tile.x), x1 = std::min(d.x + d.w, tile.x + tile.w);
            for (uint32_t x = x0; x < x1; ++x) owner[x - tile.x] = static_cast<int32_t>(k);
          }
          for (uint32_t i = 0; i < tile.w;) {
            uint32_t j = i + 1;
            while (j < tile.w && owner[j] == owner[i]) ++j;
            const uint32_t x = tile.x + i;
            const uint8_t* want = frame.pixel(x, y);
            const uint8_t* have = owner[i] < 0 ? sent.pixel(x, y)
                                               : sent.pixel(x - over[owner[i]]->dst.x + over[owner[i]]->src_x,
                                                            y - over[owner[i]]->dst.y + over[owner[i]]->src_y);
            if (std::memcmp(want, have, static_cast<size_t>(j - i) * 4) != 0) return true;
            i = j;
          }
          return false;
        };
        // What the viewer will have at (x, y) of a row differs() just looked at.
        auto have = [&](uint32_t x, uint32_t y) {
          const int32_t k = over.empty() ? -1 : owner[x - tile.x];
          return k < 0 ? sent.pixel(x, y) : sent.pixel(x - over[k]->dst.x + over[k]->src_x, y - over[k]->dst.y + over[k]->src_y);
        };
        // Per column of the tile, the first and last row where it differs.
        col_first.assign(tile.w, UINT32_MAX);
        col_last.assign(tile.w, 0);
        bool any = false;
        for (uint32_t y = tile.y; y < tile.y + tile.h; ++y) {
          if (!differs(y)) continue;
          any = true;
          auto mark = [&](uint32_t i) {
            col_first[i] = std::min(col_first[i], y);
            col_last[i] = y;
          };
          auto differs_at = [&](uint32_t i) { return std::memcmp(frame.pixel(tile.x + i, y), have(tile.x + i, y), 4) != 0; };
          if (split_gap == UINT32_MAX) {  // one box: the row's outermost differing pixels are enough
            uint32_t i = 0, j = tile.w - 1;
            while (!differs_at(i)) ++i;  // the row differs, so both stops exist
            while (!differs_at(j)) --j;
            mark(i);
            mark(j);
            continue;
          }
          for (uint32_t i = 0; i < tile.w; ++i) {
            if (differs_at(i)) mark(i);
          }
        }
        if (!any) continue;
        // Boxes around runs of differing columns, split (on small damage) where
        // kSplitGap or more columns in a row are unchanged: a keystroke is a glyph cell, not a
        // tile, and each glyph gets a box (and palette) of its own, so the same
        // glyph drawn again codes to the same bytes, which deflate finds in its window.
        for (uint32_t i = 0; i < tile.w;) {
          if (col_first[i] == UINT32_MAX) {
            ++i;
            continue;
          }
          uint32_t end = i + 1, top = col_first[i], bottom = col_last[i];
          for (uint32_t k = i + 1, gap = 0; k < tile.w; ++k) {
            if (col_first[k] == UINT32_MAX) {
              if (++gap >= split_gap) break;
              continue;
            }
            gap = 0;
            end = k + 1;
            top = std::min(top, col_first[k]);
            bottom = std::max(bottom, col_last[k]);
          }
          const Rect d{tile.x + i, top, end - i, bottom - top + 1};
          if (!out.empty() && out.back().y == d.y && out.back().h == d.h && out.back().x + out.back().w == d.x) {
            out.back().w += d.w;  // boxes meeting at a tile edge (tiles go left to right within a tile row)
          } else {
            out.push_back(d);
          }
          i = end;
        }
      }
    }
  }
  return out;
}

void SentFrame::Commit(const FrameView& frame, const std::vector<CopyOp>& copies, const std::vector<Rect>& rects,
                       const std::vector<Rect>& lossy, std::shared_ptr<const ScreenPixels> screen) {
  MoveLossyFlags(copies);
  if (screen) {
    // The viewer has all of `frame` now: hold the shared screen, drop any copy of its own.
    screen_ = std::move(screen);
    pixels_.reset();
  } else {
    MakeOwnCopy();
    const size_t stride = static_cast<size_t>(width_) * 4;
    auto at = [&](uint32_t x, uint32_t y) { return pixels_.data() + y * stride + static_cast<size_t>(x) * 4; };
    for (const CopyOp& c : copies) {  // sequentially, as the viewer applies them
      const size_t row_bytes = static_cast<size_t>(c.dst.w) * 4;
      if (c.src_y < c.dst.y) {
        for (uint32_t r = c.dst.h; r-- > 0;) std::memmove(at(c.dst.x, c.dst.y + r), at(c.src_x, c.src_y + r), row_bytes);
      } else {
        for (uint32_t r = 0; r < c.dst.h; ++r) std::memmove(at(c.dst.x, c.dst.y + r), at(c.src_x, c.src_y + r), row_bytes);
      }
    }
    for (const Rect& r : rects) {
      for (uint32_t y = r.y; y < r.y + r.h; ++y) std::memcpy(at(r.x, y), frame.pixel(r.x, y), static_cast<size_t>(r.w) * 4);
    }
  }
  // What was re-sent is exact now, except what went as JPEG.
  for (const Rect& r : rects) MarkLossy(r, 0);
  for (const Rect& r : lossy) MarkLossy(r, 1);
  if (!lossy_px_.empty()) {
    for (const Rect& r : rects) FlagLossyTiles(r);
    for (const Rect& r : lossy) FlagLossyTiles(r);
    // Nothing lossy left: the mask goes until something is sent lossy again.
    if (std::none_of(lossy_.begin(), lossy_.end(), [](uint8_t v) { return v != 0; })) std::vector<uint8_t>().swap(lossy_px_);
  }
  valid_ = true;
}

}  // namespace tilecast
