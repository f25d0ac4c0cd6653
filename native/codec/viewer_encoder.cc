#include "viewer_encoder.h"

#include <algorithm>

#include "../detect/move_detector.h"

namespace tilecast {
namespace {

bool Inside(const Rect& r, uint32_t w, uint32_t h) {
  return r.w > 0 && r.h > 0 && r.x < w && r.y < h && r.w <= w - r.x && r.h <= h - r.y;
}

bool Contains(const Rect& outer, const Rect& r) {
  return r.x >= outer.x && r.y >= outer.y && r.x + r.w <= outer.x + outer.w && r.y + r.h <= outer.y + outer.h;
}

}  // namespace

ViewerEncoder::ViewerEncoder(uint32_t tile_size, int deflate_level, unsigned max_threads, std::shared_ptr<ScreenStore> store)
    : tiles_(tile_size, deflate_level), store_(std::move(store)), max_threads_(std::max(1u, max_threads)) {
  if (store_) store_->AddViewer();
}

ViewerEncoder::~ViewerEncoder() {
  if (store_) store_->RemoveViewer();
}

Status ViewerEncoder::Encode(ViewerEncodeRequest req, ViewerUpdate* out) {
  Status s = EncodeUpdate(std::move(req), out);
  RecountCache(/*after_encode=*/true);  // a failed encode may have changed the mirror too
  return s;
}

void ViewerEncoder::RecountCache(bool after_encode) {
  const ContentCache& c = tiles_.cache();
  if (after_encode) {
    if (c.next_id() == counted_next_id_ && c.size() == counted_entries_) return;  // hits only: same share
    if (c.size() > kRecountEveryEntries && ++changed_encodes_ < kRecountEvery) return;
  }
  changed_encodes_ = 0;
  counted_next_id_ = c.next_id();
  counted_entries_ = c.size();
  cache_held_ = c.HeldBytes();
}

Status ViewerEncoder::EncodeUpdate(ViewerEncodeRequest req, ViewerUpdate* out) {
  const FrameView& f = req.frame;
  if (f.width == 0 || f.height == 0 || f.width > kMaxDimension || f.height > kMaxDimension ||
      f.stride < static_cast<size_t>(f.width) * 4) {
    return Status::Error(ErrorCode::kInvalidArgument, "invalid frame geometry");
  }
  const uint32_t ts = tile_size();
  const uint32_t tiles_x = (f.width + ts - 1) / ts, tiles_y = (f.height + ts - 1) / ts;
  for (const Rect& r : req.damage) {
    if (!Inside(r, f.width, f.height)) return Status::Error(ErrorCode::kInvalidArgument, "damage rect outside the frame");
  }
  for (const Rect& r : req.refine) {
    if (!Inside(r, f.width, f.height)) return Status::Error(ErrorCode::kInvalidArgument, "refine rect outside the frame");
  }
  if (!req.lossy_mask.empty()) {
    if (req.lossy_mask.size() != static_cast<size_t>(tiles_x) * tiles_y) {
      return Status::Error(ErrorCode::kInvalidArgument, "lossy mask must hold one flag per tile");
    }
    if (req.jpeg.quality < 1 || req.jpeg.quality > 100) {
      return Status::Error(ErrorCode::kInvalidArgument, "JPEG quality must be 1..100");
    }
  }

  out->copies.clear();
  out->keyframe = req.keyframe || !sent_.valid() || sent_.width() != f.width || sent_.height() != f.height;
  if (out->keyframe) {
    sent_.Reset(f.width, f.height, ts);
    out->rects = {Rect{0, 0, f.width, f.height}};
  } else {
    if (req.detect_moves) {
      MoveSearch search;
      search.tile_size = ts;
      search.max_threads = max_threads_;
      out->copies = FindMoves(sent_.view(), f, req.damage, search);
    }
    out->rects = sent_.Residual(f, req.damage, out->copies);
    if (!req.refine.empty()) {
      // Refined rects go whole and exact: residual parts inside them are covered,
      // and none of their tiles may go lossy again in this update.
      if (req.lossy_mask.empty()) req.lossy_mask.assign(static_cast<size_t>(tiles_x) * tiles_y, 0);
      std::vector<Rect> kept;
      for (const Rect& r : out->rects) {
        if (std::none_of(req.refine.begin(), req.refine.end(), [&](const Rect& q) { return Contains(q, r); })) kept.push_back(r);
      }
      for (const Rect& q : req.refine) {
        for (uint32_t ty = q.y / ts; ty <= (q.y + q.h - 1) / ts; ++ty) {
          for (uint32_t tx = q.x / ts; tx <= (q.x + q.w - 1) / ts; ++tx) req.lossy_mask[ty * tiles_x + tx] = 0;
        }
        kept.push_back(q);
      }
      out->rects.swap(kept);
    }
  }

  LossyOptions lossy;
  lossy.tile_mask = req.lossy_mask.empty() ? nullptr : req.lossy_mask.data();
  lossy.tiles_x = tiles_x;
  lossy.tiles_y = tiles_y;
  lossy.jpeg = req.jpeg;
  tiles_.set_palette_diff(req.palette_diff);
  tiles_.set_predicted(req.predicted);
  tiles_.set_cache_runs(req.cache_runs);
  Status s = tiles_.Encode(f, out->copies, out->rects, out->keyframe, max_threads_, &out->update, &lossy);
  if (!s.ok()) {
    // The deflate stream may be half-written: the next update is a keyframe.
    sent_.Reset(f.width, f.height, ts);
    return s;
  }
  // After a keyframe, or damage with nothing held back, the viewer has all of
  // this screen: it shares the store's copy (made here, off the JS thread, by
  // the first viewer to need it).
  std::shared_ptr<const ScreenPixels> screen;
  if (store_ && store_->Shared() && req.generation != 0 && (out->keyframe || req.complete)) screen = store_->Intern(req.generation, f);
  sent_.Commit(f, out->copies, out->rects, out->update.lossy_rects, std::move(screen));
  const auto& flags = sent_.lossy_tiles();
  lossy_count_ = static_cast<uint32_t>(std::count_if(flags.begin(), flags.end(), [](uint8_t v) { return v != 0; }));
  out->lossy_tiles = lossy_count_;
  return Status::Ok();
}

std::vector<uint32_t> ViewerEncoder::LossyTiles() const {
  std::vector<uint32_t> out;
  const auto& flags = sent_.lossy_tiles();
  for (size_t i = 0; i < flags.size(); ++i) {
    if (flags[i]) out.push_back(static_cast<uint32_t>(i));
  }
  return out;
}

void ViewerEncoder::Release() {
  sent_.Release();
  tiles_.SetCacheBudget(tiles_.cache().budget());  // empties the mirror
  RecountCache();
  lossy_count_ = 0;
}

size_t ViewerEncoder::MemoryBytes() const {
  return sent_.MemoryBytes() + static_cast<size_t>(cache_held_);
}

}  // namespace tilecast
