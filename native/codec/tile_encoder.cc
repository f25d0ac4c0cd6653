#include "tile_encoder.h"

#include <algorithm>
#include <memory>

#include "../util/thread_pool.h"
#include "coding_scratch.h"
#include "tile_analyzer.h"

namespace tilecast {
namespace {

struct Span {
  uint32_t x, w;
};

// A PALETTE/TRUECOLOR op the content cache may replace (decided in stream order).
struct CacheCandidate {
  size_t offset, length;  // the op's bytes in Band::bytes
  Rect rect;
  uint64_t hash;
  OpCode op;  // as counted in the stats (CountedAs)
};

// A band's ops in stream order, in two sections: `zlib` goes through zlib's match search, then
// `literal` (PREDICTED ops, whose residuals LZ77 finds nothing in) as literal blocks.
struct OpSection {
  std::vector<uint8_t> bytes;
  std::vector<CacheCandidate> cacheable;
};

struct Band {
  Rect area;  // one tile row of the grid, or the part of it the rect covers
  OpSection zlib, literal;
  uint32_t ops = 0;
  uint32_t predicted_ops = 0;  // in `literal`, before the cache pass
  std::vector<Span> lossy;  // runs of tiles left for the JPEG pass, left to right
  EncodeStats stats;
};

bool MayGoLossy(const LossyOptions* lossy, uint32_t tile_size, uint32_t x, uint32_t y) {
  if (!lossy || !lossy->tile_mask) return false;
  const uint32_t tx = x / tile_size, ty = y / tile_size;
  return tx < lossy->tiles_x && ty < lossy->tiles_y && lossy->tile_mask[static_cast<size_t>(ty) * lossy->tiles_x + tx];
}

// The content cache's candidates of a band's section: every op the viewer will
// insert (content_cache.h's rule). Found by walking the finished op bytes, as
// the decoder will, so the mirror follows the rule whatever code emitted the
// ops. Hashes are computed here, in parallel; the cache pass is sequential.
void CollectCacheable(const FrameView& frame, OpSection* section) {
  const std::vector<uint8_t>& b = section->bytes;
  for (size_t at = 0; at + kOpHeaderBytes <= b.size();) {
    const OpCode op = static_cast<OpCode>(b[at]);
    const Rect r{GetU16(&b[at + 1]), GetU16(&b[at + 3]), GetU16(&b[at + 5]), GetU16(&b[at + 7])};
    size_t body = 0;
    switch (op) {
      case OpCode::kSolid: body = 3; break;
      case OpCode::kPalette:
      case OpCode::kPaletteDiff: {
        const uint32_t n = static_cast<uint32_t>(b[at + kOpHeaderBytes]) + 1;
        body = 1 + n * 3 + PaletteRowBytes(r.w, PaletteIndexBits(n)) * r.h;
        break;
      }
      case OpCode::kTruecolor:
      case OpCode::kPredicted: body = static_cast<size_t>(r.w) * r.h * 3; break;
      case OpCode::kCopy:
      case OpCode::kJpeg:
      case OpCode::kCacheRef: body = 4; break;
      case OpCode::kCacheRun: body = 6; break;
    }
    const size_t length = kOpHeaderBytes + body;
    if (ContentCache::Inserts(op) && ContentCache::Eligible(r.w, r.h)) {
      // A cache hit is taken back from the op the stats counted (as CodeBand does).
      section->cacheable.push_back(CacheCandidate{at, length, r, HashRect(frame, r), CountedAs(op)});
    }
    at += length;
  }
}

struct OpChoices {
  bool cache = false;         // keep the content cache mirror
  bool palette_diff = false;  // palettes as PALETTE_DIFF
  bool predicted = false;     // photographic truecolour as PREDICTED
};

void CodeBand(const FrameView& frame, uint32_t tile_size, const LossyOptions* lossy, const OpChoices& choices, Band* band) {
  TileScratch scratch;
  auto analysis = std::make_unique<TileAnalysis>();

  size_t last_solid_at = SIZE_MAX;  // offset of the previous op if it was a mergeable SOLID
  uint32_t last_solid_color = 0;
  // Tiles are cut on the frame's tile grid (a rect need not start on it), so
  // each is one grid tile or part of one, as the lossy mask expects.
  const uint32_t end = band->area.x + band->area.w;
  for (uint32_t x = band->area.x, next = 0; x < end; x = next) {
    next = std::min(end, (x / tile_size + 1) * tile_size);
    Rect tile{x, band->area.y, next - x, band->area.h};
    AnalyzeTile(frame, tile, &scratch, analysis.get());
    if (MayGoLossy(lossy, tile_size, tile.x, tile.y) && LooksPhotographic(frame, tile, *analysis)) {
      if (!band->lossy.empty() && band->lossy.back().x + band->lossy.back().w == tile.x) {
        band->lossy.back().w += tile.w;
      } else {
        band->lossy.push_back(Span{tile.x, tile.w});
      }
      last_solid_at = SIZE_MAX;
      continue;
    }
    const auto code = static_cast<size_t>(analysis->op);
    band->stats.pixels_by_code[code] += tile.w * tile.h;
    if (analysis->op == OpCode::kSolid && last_solid_at != SIZE_MAX && analysis->solid_bgr == last_solid_color) {
      // Widen the previous SOLID op instead of starting a new one.
      uint8_t* header = band->zlib.bytes.data() + last_solid_at;
      PutU16(header + 5, GetU16(header + 5) + tile.w);
      continue;
    }
    band->ops++;
    band->stats.ops_by_code[code]++;
    if (analysis->op == OpCode::kTruecolor && choices.predicted && PredictionPays(frame, tile)) {
      AppendPredictedOp(frame, tile, &band->literal.bytes);
      band->predicted_ops++;
      last_solid_at = SIZE_MAX;  // the next SOLID is not this one's neighbour in the zlib section
      continue;
    }
    const size_t at = band->zlib.bytes.size();
    AppendTileOp(frame, tile, *analysis, scratch, &band->zlib.bytes, choices.palette_diff);
    if (analysis->op == OpCode::kSolid) {
      last_solid_at = at;
      last_solid_color = analysis->solid_bgr;
    } else {
      last_solid_at = SIZE_MAX;
    }
  }
  band->stats.raw_bytes = band->zlib.bytes.size() + band->literal.bytes.size();
  if (choices.cache) {
    CollectCacheable(frame, &band->zlib);
    CollectCacheable(frame, &band->literal);
  }
}

// Lossy runs of consecutive bands with the same x-extent become one rect.
std::vector<Rect> MergeLossyRuns(const std::vector<Band>& bands) {
  std::vector<Rect> out;
  std::vector<size_t> open;  // indices into out that end at the previous band's bottom
  for (const Band& b : bands) {
    std::vector<size_t> next;
    for (const Span& s : b.lossy) {
      size_t found = SIZE_MAX;
      for (size_t i : open) {
        const Rect& r = out[i];
        if (r.x == s.x && r.w == s.w && r.y + r.h == b.area.y) found = i;
      }
      if (found != SIZE_MAX) {
        out[found].h += b.area.h;
        next.push_back(found);
      } else {
        out.push_back(Rect{s.x, b.area.y, s.w, b.area.h});
        next.push_back(out.size() - 1);
      }
    }
    open = std::move(next);
  }
  return out;
}

// Tall lossy rects are cut so their JPEGs code in parallel; each piece costs a
// JPEG header (~600 bytes), so pieces stay large. Cuts fall on 16-row MCU lines.
std::vector<Rect> SplitForThreads(const std::vector<Rect>& rects) {
  constexpr uint32_t kMinRows = 256;
  std::vector<Rect> out;
  for (const Rect& r : rects) {
    for (uint32_t y = 0; y < r.h;) {
      const uint32_t rows = r.h - y < 2 * kMinRows ? r.h - y : kMinRows;
      out.push_back(Rect{r.x, r.y + y, r.w, rows});
      y += rows;
    }
  }
  return out;
}

// Op bytes (before deflate) up to which an update counts as small.
constexpr size_t kSmallUpdateBytes = 16 * 1024;

bool Inside(const Rect& r, uint32_t w, uint32_t h) {
  return r.w > 0 && r.h > 0 && r.x < w && r.y < h && r.w <= w - r.x && r.h <= h - r.y;
}

// The content cache pass over one section of a band, in stream order (the
// viewer applies the same rule op by op): an op whose content the mirror holds
// (verified by comparing pixels) becomes a CACHE_REF; any other cacheable op
// enters the mirror. With `runs`, a hit that continues the op just written
// (the next entry id, the same row, right beside it, nothing in between)
// joins it as a CACHE_RUN instead: a window raised again or a resumed cache's
// keyframe names a row of tiles in one op. Returns how many ops became cache
// references; *merged: how many of those joined a run (ops the update no longer has).
// `scratch` is a buffer kept between calls: the section's bytes are rebuilt there and the two swap.
uint32_t ApplyContentCache(const FrameView& frame, ContentCache* cache, OpSection* section, EncodeStats* stats,
                           std::vector<uint8_t>* scratch, bool runs, uint32_t* merged) {
  *merged = 0;
  if (section->cacheable.empty()) return 0;
  uint32_t hits = 0;
  const std::vector<uint8_t>& bytes = section->bytes;
  std::vector<uint8_t>& out = *scratch;
  out.clear();
  out.reserve(bytes.size());
  size_t from = 0;
  // The last reference written: where its op starts, the next id a run would take, and
  // where it ends (a run continues only if nothing was written after it).
  constexpr size_t kNone = SIZE_MAX;
  size_t ref_at = kNone, ref_end = 0;
  uint32_t ref_next_id = 0;
  for (const CacheCandidate& c : section->cacheable) {
    out.insert(out.end(), bytes.begin() + from, bytes.begin() + c.offset);
    from = c.offset + c.length;
    uint32_t id = 0;
    if (cache->FindVerified(frame, c.rect, c.hash, &id)) {
      uint8_t* prev = ref_at != kNone && out.size() == ref_end ? out.data() + ref_at : nullptr;
      if (runs && prev && id == ref_next_id && GetU16(prev + 3) == c.rect.y && GetU16(prev + 7) == c.rect.h &&
          GetU16(prev + 1) + GetU16(prev + 5) == c.rect.x &&
          (prev[0] == static_cast<uint8_t>(OpCode::kCacheRef) || GetU16(prev + kOpHeaderBytes + 4) < kMaxCacheRun)) {
        if (prev[0] == static_cast<uint8_t>(OpCode::kCacheRef)) {
          prev[0] = static_cast<uint8_t>(OpCode::kCacheRun);  // CACHE_REF's u32 id becomes the run's first id
          out.push_back(1);
          out.push_back(0);  // count, raised to 2 below
          prev = out.data() + ref_at;
        }
        PutU16(prev + 5, GetU16(prev + 5) + c.rect.w);
        PutU16(prev + kOpHeaderBytes + 4, GetU16(prev + kOpHeaderBytes + 4) + 1);
        ++*merged;
      } else {
        uint8_t op[kOpHeaderBytes + 4];
        PutOpHeader(op, OpCode::kCacheRef, c.rect.x, c.rect.y, c.rect.w, c.rect.h);
        PutU32(op + kOpHeaderBytes, id);
        ref_at = out.size();
        out.insert(out.end(), op, op + sizeof op);
      }
      ref_end = out.size();
      ref_next_id = id + 1;
      const uint32_t px = c.rect.w * c.rect.h;
      stats->ops_by_code[static_cast<size_t>(c.op)]--;
      stats->pixels_by_code[static_cast<size_t>(c.op)] -= px;
      stats->ops_by_code[static_cast<size_t>(OpCode::kCacheRef)]++;  // tiles drawn from the cache, run or not
      stats->pixels_by_code[static_cast<size_t>(OpCode::kCacheRef)] += px;
      ++hits;
    } else {
      out.insert(out.end(), bytes.begin() + c.offset, bytes.begin() + from);
      cache->Insert(frame, c.rect, c.hash);
    }
  }
  out.insert(out.end(), bytes.begin() + from, bytes.end());
  stats->raw_bytes -= bytes.size() - out.size();
  section->bytes.swap(out);
  return hits;
}

}  // namespace

TileEncoder::TileEncoder(uint32_t tile_size, int level) : tile_size_(tile_size), level_(level), deflate_(level) {}

Status TileEncoder::Encode(const FrameView& frame, const std::vector<CopyOp>& copies, const std::vector<Rect>& rects,
                           bool keyframe, unsigned max_threads, EncodedUpdate* out, const LossyOptions* lossy) {
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
  if (lossy && lossy->tile_mask) {
    if (lossy->tiles_x != (frame.width + tile_size_ - 1) / tile_size_ ||
        lossy->tiles_y != (frame.height + tile_size_ - 1) / tile_size_) {
      return Status::Error(ErrorCode::kInvalidArgument, "lossy tile mask does not match the frame's tile grid");
    }
    if (lossy->jpeg.quality < 1 || lossy->jpeg.quality > 100) {
      return Status::Error(ErrorCode::kInvalidArgument, "JPEG quality must be 1..100");
    }
  }
  if (!deflate_.ok()) return Status::Error(ErrorCode::kInternal, "deflate stream failed to initialise");
  if (!keyframe && needs_reset_) {
    return Status::Error(ErrorCode::kDesync, "a previous encode failed; the next update must be a keyframe");
  }
  if (keyframe) {
    TC_RETURN_IF_ERROR(deflate_.Reset());
    if (keep_cache_at_keyframe_) {
      keep_cache_at_keyframe_ = false;  // the first keyframe after a resume keeps what both sides kept
    } else {
      cache_.Clear();  // the viewer's cache empties on every keyframe too
    }
  }
  needs_reset_ = true;  // until this Encode completes

  std::vector<Band> bands;
  for (const Rect& r : rects) {
    for (uint32_t y = r.y, next = 0; y < r.y + r.h; y = next) {
      next = std::min(r.y + r.h, (y / tile_size_ + 1) * tile_size_);  // bands on the tile grid too
      Band b;
      b.area = Rect{r.x, y, r.w, next - y};
      bands.push_back(std::move(b));
    }
  }
  // Bands write into buffers kept from earlier updates (this or another encoder's, leased from the
  // process's pool): fresh ones would fault their pages in and be copied as they grow (~4 ms of a
  // 1080p keyframe).
  CodingScratchPool::Lease scratch = CodingScratchPool::Shared().Acquire();
  std::vector<std::vector<uint8_t>>& spare_buffers = scratch->band_buffers;
  if (spare_buffers.size() < 2 * bands.size()) spare_buffers.resize(2 * bands.size());
  for (size_t i = 0; i < bands.size(); ++i) {
    bands[i].zlib.bytes.swap(spare_buffers[2 * i]);
    bands[i].literal.bytes.swap(spare_buffers[2 * i + 1]);
    bands[i].zlib.bytes.clear();
    bands[i].literal.bytes.clear();
  }
  OpChoices choices;
  choices.cache = cache_.budget() > 0;
  choices.palette_diff = palette_diff_;
  choices.predicted = predicted_;
  ThreadPool::Shared().ParallelFor(bands.size(), max_threads,
                                   [&](size_t i) { CodeBand(frame, tile_size_, lossy, choices, &bands[i]); });

  // The JPEG pass: one image per lossy rect, coded in parallel, appended in order.
  out->lossy_rects = MergeLossyRuns(bands);
  const std::vector<Rect> pieces = SplitForThreads(out->lossy_rects);
  std::vector<std::vector<uint8_t>> jpegs(pieces.size());
  std::vector<Status> jpeg_status(pieces.size());
  ThreadPool::Shared().ParallelFor(pieces.size(), max_threads, [&](size_t i) {
    jpeg_status[i] = EncodeJpeg(frame, pieces[i], lossy->jpeg, &jpegs[i]);
  });
  for (const Status& s : jpeg_status) TC_RETURN_IF_ERROR(s);

  out->stream.clear();
  out->images.clear();
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
  // Small updates (a keystroke's glyphs) at level 9: the longer match search
  // costs microseconds there and finds more of the glyphs in the window.
  const size_t unbanded_bytes = copy_bytes.size() + pieces.size() * (kOpHeaderBytes + 4);  // COPY and JPEG ops
  size_t raw_total = unbanded_bytes;
  for (const Band& b : bands) raw_total += b.zlib.bytes.size() + b.literal.bytes.size();
  // Large keyframes (a whole screen, when a viewer connects or recovers) go through our own LZ
  // coder (lz_blocks.h): about half zlib's time at level 5 for a few % more bytes, so the first
  // picture arrives sooner (bench/micro.js). The op bytes are gathered in stream order first.
  const bool own_lz = keyframe && raw_total > kSmallUpdateBytes;
  if (!own_lz) TC_RETURN_IF_ERROR(deflate_.SetLevel(raw_total <= kSmallUpdateBytes ? 9 : level_, &out->stream));
  // The content cache first, band by band in stream order (it only shortens the ops), so the bytes
  // to gather are known: one allocation, not a doubling series that would copy them as it grows
  // and keep up to twice them (nor raw_total's worth when the cache replaced most of them).
  std::vector<uint32_t> literal_hits(bands.size());
  size_t gathered_total = unbanded_bytes;
  for (size_t i = 0; i < bands.size(); ++i) {
    Band& b = bands[i];
    uint32_t merged = 0, literal_merged = 0;
    ApplyContentCache(frame, &cache_, &b.zlib, &b.stats, &scratch->cache_scratch, cache_runs_, &merged);
    literal_hits[i] = ApplyContentCache(frame, &cache_, &b.literal, &b.stats, &scratch->cache_scratch, cache_runs_, &literal_merged);
    b.ops -= merged + literal_merged;  // references that joined a CACHE_RUN are no ops of their own
    gathered_total += b.zlib.bytes.size() + b.literal.bytes.size();
  }
  std::vector<uint8_t>& gathered = scratch->keyframe_ops;
  std::vector<ByteRange> literal_ranges;
  gathered.clear();
  if (own_lz) gathered.reserve(gathered_total);
  // `literal`: PREDICTED residuals, coded without a match search.
  auto emit = [&](const std::vector<uint8_t>& bytes, bool literal) -> Status {
    if (own_lz) {
      if (literal && !bytes.empty()) literal_ranges.push_back(ByteRange{gathered.size(), gathered.size() + bytes.size()});
      gathered.insert(gathered.end(), bytes.begin(), bytes.end());
      return Status::Ok();
    }
    return literal ? deflate_.WriteLiterals(bytes.data(), bytes.size(), &out->stream)
                   : deflate_.Write(bytes.data(), bytes.size(), &out->stream);
  };
  TC_RETURN_IF_ERROR(emit(copy_bytes, false));
  for (size_t i = 0; i < bands.size(); ++i) {
    Band& b = bands[i];
    TC_RETURN_IF_ERROR(emit(b.zlib.bytes, false));
    // PREDICTED ops as literal blocks; if the cache replaced them all, the CACHE_REFs left are a
    // few bytes that zlib codes without a block of their own.
    TC_RETURN_IF_ERROR(emit(b.literal.bytes, b.predicted_ops > literal_hits[i]));
    out->op_count += b.ops;
    out->stats.raw_bytes += b.stats.raw_bytes;
    for (size_t c = 0; c < kOpCodeCount; ++c) {
      out->stats.ops_by_code[c] += b.stats.ops_by_code[c];
      out->stats.pixels_by_code[c] += b.stats.pixels_by_code[c];
    }
  }
  std::vector<uint8_t> jpeg_ops(pieces.size() * (kOpHeaderBytes + 4));
  for (size_t i = 0; i < pieces.size(); ++i) {
    uint8_t* p = jpeg_ops.data() + i * (kOpHeaderBytes + 4);
    const Rect& r = pieces[i];
    PutOpHeader(p, OpCode::kJpeg, r.x, r.y, r.w, r.h);
    PutU32(p + 9, static_cast<uint32_t>(jpegs[i].size()));
    out->images.insert(out->images.end(), jpegs[i].begin(), jpegs[i].end());
    out->stats.ops_by_code[static_cast<size_t>(OpCode::kJpeg)]++;
    out->stats.pixels_by_code[static_cast<size_t>(OpCode::kJpeg)] += r.w * r.h;
  }
  out->op_count += static_cast<uint32_t>(pieces.size());
  out->stats.raw_bytes += jpeg_ops.size();
  TC_RETURN_IF_ERROR(emit(jpeg_ops, false));
  if (own_lz) TC_RETURN_IF_ERROR(deflate_.WriteFreshLz(gathered.data(), gathered.size(), literal_ranges, max_threads, &scratch->lz, &out->stream));
  TC_RETURN_IF_ERROR(deflate_.Finish(&out->stream));
  for (size_t i = 0; i < bands.size(); ++i) {
    bands[i].zlib.bytes.swap(spare_buffers[2 * i]);
    bands[i].literal.bytes.swap(spare_buffers[2 * i + 1]);
  }
  scratch->KeepBandBuffersBounded(2 * bands.size());
  needs_reset_ = false;
  return Status::Ok();
}

std::unique_ptr<ContentCache> TileEncoder::TakeCache() {
  if (needs_reset_ || cache_.budget() == 0 || cache_.size() == 0) return nullptr;
  auto out = std::make_unique<ContentCache>(0, true);
  std::swap(*out, cache_);
  keep_cache_at_keyframe_ = false;
  return out;
}

bool TileEncoder::ResumeCache(std::unique_ptr<ContentCache> parked, uint32_t viewer_next_id,
                              std::vector<uint32_t>* ranges, uint32_t* next_id) {
  if (!parked || cache_.budget() == 0) return false;
  if (!parked->ResumeFor(viewer_next_id, cache_.budget(), ranges)) return false;
  std::swap(*parked, cache_);
  *next_id = cache_.next_id();
  keep_cache_at_keyframe_ = true;
  return true;
}

}  // namespace tilecast
