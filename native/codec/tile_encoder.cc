#include "tile_encoder.h"

#include <algorithm>
#include <memory>

#include "../util/thread_pool.h"
#include "tile_analyzer.h"

namespace tilecast {
namespace {

struct Band {
  Rect area;  // one tile high (or less at the bottom of a rect)
  std::vector<uint8_t> bytes;
  uint32_t ops = 0;
  EncodeStats stats;
};

void CodeBand(const FrameView& frame, uint32_t tile_size, Band* band) {
  TileScratch scratch;
  auto analysis = std::make_unique<TileAnalysis>();
  size_t last_solid_at = SIZE_MAX;  // offset of the previous op if it was a mergeable SOLID
  uint32_t last_solid_color = 0;
  for (uint32_t x = band->area.x; x < band->area.x + band->area.w; x += tile_size) {
    Rect tile{x, band->area.y, std::min(tile_size, band->area.x + band->area.w - x), band->area.h};
    AnalyzeTile(frame, tile, &scratch, analysis.get());
    const auto code = static_cast<size_t>(analysis->op);
    band->stats.pixels_by_code[code] += tile.w * tile.h;
    if (analysis->op == OpCode::kSolid && last_solid_at != SIZE_MAX && analysis->solid_bgr == last_solid_color) {
      // Widen the previous SOLID op instead of starting a new one.
      uint8_t* header = band->bytes.data() + last_solid_at;
      PutU16(header + 5, GetU16(header + 5) + tile.w);
      continue;
    }
    const size_t at = band->bytes.size();
    AppendTileOp(frame, tile, *analysis, scratch, &band->bytes);
    band->ops++;
    band->stats.ops_by_code[code]++;
    if (analysis->op == OpCode::kSolid) {
      last_solid_at = at;
      last_solid_color = analysis->solid_bgr;
    } else {
      last_solid_at = SIZE_MAX;
    }
  }
  band->stats.raw_bytes = band->bytes.size();
}

bool Inside(const Rect& r, uint32_t w, uint32_t h) {
  return r.w > 0 && r.h > 0 && r.x < w && r.y < h && r.w <= w - r.x && r.h <= h - r.y;
}

}  // namespace

TileEncoder::TileEncoder(uint32_t tile_size, int level) : tile_size_(tile_size), deflate_(level) {}

Status TileEncoder::Encode(const FrameView& frame, const std::vector<CopyOp>& copies, const std::vector<Rect>& rects,
                           bool keyframe, unsigned max_threads, EncodedUpdate* out) {
  if (frame.width == 0 || frame.height == 0 || frame.width > kMaxDimension || frame.height > kMaxDimension ||
      frame.stride < static_cast<size_t>(frame.width) * 4) {
    return Status::Error(ErrorCode::kInvalidArgument, "invalid frame geometry");
  }
  for (const Rect& r : rects) {
    if (!Inside(r, frame.width, frame.height)) return Status::Error(ErrorCode::kInvalidArgument, "rect outside the frame");
  }
  for (const CopyOp& c : copies) {
    if (!Inside(c.dst, frame.width, frame.height) || !Inside(Rect{c.src_x, c.src_y, c.dst.w, c.dst.h}, frame.width, frame.height)) {
      return Status::Error(ErrorCode::kInvalidArgument, "copy rect outside the frame");
    }
  }
  if (!deflate_.ok()) return Status::Error(ErrorCode::kInternal, "deflate stream failed to initialise");
  if (!keyframe && needs_reset_) {
    return Status::Error(ErrorCode::kDesync, "a previous encode failed; the next update must be a keyframe");
  }
  if (keyframe) TC_RETURN_IF_ERROR(deflate_.Reset());
  needs_reset_ = true;  // until this Encode completes

  std::vector<Band> bands;
  for (const Rect& r : rects) {
    for (uint32_t y = r.y; y < r.y + r.h; y += tile_size_) {
      Band b;
      b.area = Rect{r.x, y, r.w, std::min(tile_size_, r.y + r.h - y)};
      bands.push_back(std::move(b));
    }
  }
  ThreadPool::Shared().ParallelFor(bands.size(), max_threads,
                                   [&](size_t i) { CodeBand(frame, tile_size_, &bands[i]); });

  out->stream.clear();
  out->op_count = 0;
  out->stats = EncodeStats();
  std::vector<uint8_t> copy_bytes(copies.size() * (kOpHeaderBytes + 4));
  for (size_t i = 0; i < copies.size(); ++i) {
    uint8_t* p = copy_bytes.data() + i * (kOpHeaderBytes + 4);
    const CopyOp& c = copies[i];
    PutOpHeader(p, OpCode::kCopy, c.dst.x, c.dst.y, c.dst.w, c.dst.h);
    PutU16(p + 9, c.src_x);
    PutU16(p + 11, c.src_y);
    out->stats.ops_by_code[static_cast<size_t>(OpCode::kCopy)]++;
    out->stats.pixels_by_code[static_cast<size_t>(OpCode::kCopy)] += c.dst.w * c.dst.h;
  }
  out->op_count = static_cast<uint32_t>(copies.size());
  out->stats.raw_bytes = copy_bytes.size();
  TC_RETURN_IF_ERROR(deflate_.Write(copy_bytes.data(), copy_bytes.size(), &out->stream));
  for (Band& b : bands) {
    TC_RETURN_IF_ERROR(deflate_.Write(b.bytes.data(), b.bytes.size(), &out->stream));
    out->op_count += b.ops;
    out->stats.raw_bytes += b.stats.raw_bytes;
    for (size_t c = 0; c < kOpCodeCount; ++c) {
      out->stats.ops_by_code[c] += b.stats.ops_by_code[c];
      out->stats.pixels_by_code[c] += b.stats.pixels_by_code[c];
    }
  }
  TC_RETURN_IF_ERROR(deflate_.Finish(&out->stream));
  needs_reset_ = false;
  return Status::Ok();
}

}  // namespace tilecast
