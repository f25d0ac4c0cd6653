#include "content_cache.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace tilecast {
namespace {

constexpr uint32_t kOpaque = 0xFF000000u;

inline uint32_t LoadPixel(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// True if row `src` (frame pixels, any 4th byte) equals the stored opaque row.
bool RowEquals(const uint8_t* src, const uint8_t* stored, uint32_t w) {
  for (uint32_t c = 0; c < w; ++c) {
    if ((LoadPixel(src + c * 4) | kOpaque) != LoadPixel(stored + c * 4)) return false;
  }
  return true;
}

// True if `r` of `frame` equals the stored opaque pixels (r.w*r.h*4 bytes, rows packed).
bool RectEquals(const FrameView& frame, const Rect& r, const uint8_t* stored) {
  for (uint32_t y = 0; y < r.h; ++y) {
    if (!RowEquals(frame.pixel(r.x, r.y + y), stored + static_cast<size_t>(y) * r.w * 4, r.w)) return false;
  }
  return true;
}

// Copies `r` of `frame` to `dst` as opaque pixels, rows packed.
void CopyOpaque(const FrameView& frame, const Rect& r, uint8_t* dst) {
  for (uint32_t y = 0; y < r.h; ++y) {
    const uint8_t* src = frame.pixel(r.x, r.y + y);
    for (uint32_t c = 0; c < r.w; ++c, dst += 4) {
      const uint32_t v = LoadPixel(src + c * 4) | kOpaque;
      std::memcpy(dst, &v, 4);
    }
  }
}

}  // namespace

// One step of the hash: a multiply-xorshift of a pixel's colour (its 4th byte ignored) into a lane.
inline uint64_t Mix(uint64_t h, uint32_t px) {
  h = (h ^ (px & 0x00FFFFFFu)) * 0x100000001B3ull;
  return h ^ (h >> 29);
}

uint64_t HashRect(const FrameView& frame, const Rect& r) {
  // Four lanes (pixels 0, 1, 2, 3 mod 4 of each row), so four multiply chains run side by side
  // instead of one long one (a keyframe hashes every pixel of the screen); the size is mixed in.
  const uint64_t seed = 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(r.w) << 32 | r.h);
  uint64_t h0 = seed, h1 = seed ^ 0x5555555555555555ull, h2 = seed ^ 0x3333333333333333ull, h3 = seed ^ 0x0F0F0F0F0F0F0F0Full;
  for (uint32_t y = 0; y < r.h; ++y) {
    const uint8_t* p = frame.pixel(r.x, r.y + y);
    uint32_t c = 0;
    for (; c + 4 <= r.w; c += 4, p += 16) {
      h0 = Mix(h0, LoadPixel(p));
      h1 = Mix(h1, LoadPixel(p + 4));
      h2 = Mix(h2, LoadPixel(p + 8));
      h3 = Mix(h3, LoadPixel(p + 12));
    }
    for (; c < r.w; ++c, p += 4) h0 = Mix(h0, LoadPixel(p));
  }
  for (uint64_t lane : {h1, h2, h3}) {
    h0 = (h0 ^ lane) * 0x100000001B3ull;
    h0 ^= h0 >> 29;
  }
  return h0;
}

std::shared_ptr<CachePixels> SharedCachePixels::Get(const FrameView& frame, const Rect& r, uint64_t hash) {
  const uint64_t bytes = static_cast<uint64_t>(r.w) * r.h * 4;
  // Candidates are compared outside the lock, and dropped outside it too: dropping a block's last
  // reference calls Release(), which takes the lock.
  std::vector<std::shared_ptr<CachePixels>> candidates;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto range = by_hash_.equal_range(hash);
    for (auto it = range.first; it != range.second; ++it) candidates.push_back(it->second.block.lock());
  }
  for (const std::shared_ptr<CachePixels>& c : candidates) {
    if (c && c->w == r.w && c->h == r.h && RectEquals(frame, r, c->bytes.data())) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.reused;
      return c;
    }
  }
  CacheSlab::Block buf = CacheSlab::Shared().Allocate(bytes);
  CopyOpaque(frame, r, buf.data());
  CachePixels* raw = new CachePixels{std::move(buf), hash, r.w, r.h};
  std::shared_ptr<CachePixels> block(raw, [this](CachePixels* p) { Release(p); });
  std::lock_guard<std::mutex> lock(mu_);
  by_hash_.emplace(hash, Indexed{block, raw});
  ++stats_.blocks;
  stats_.bytes += bytes;
  return block;
}

void SharedCachePixels::Release(CachePixels* p) {
  std::unique_ptr<CachePixels> owned(p);  // freed after the lock is let go
  std::lock_guard<std::mutex> lock(mu_);
  auto range = by_hash_.equal_range(p->hash);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.raw == p) {
      by_hash_.erase(it);
      --stats_.blocks;
      stats_.bytes -= p->bytes.size();
      break;
    }
  }
}

SharedCachePixels::Stats SharedCachePixels::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.indexed = by_hash_.size();
  return s;
}

SharedCachePixels& SharedCachePixels::Shared() {
  // Leaked on purpose: mirrors parked or held by encoders may outlive static destruction.
  static SharedCachePixels* store = new SharedCachePixels();
  return *store;
}

ContentCache::ContentCache(uint64_t budget_bytes, bool index_by_hash)
    : budget_(budget_bytes > kCacheMaxBudget ? kCacheMaxBudget : budget_bytes), index_by_hash_(index_by_hash) {}

uint64_t ContentCache::HeldBytes() const {
  if (!index_by_hash_) return used_;
  double share = 0;
  for (const Entry& e : lru_) share += static_cast<double>(e.bytes()) / static_cast<double>(std::max<long>(1, e.pixels.use_count()));
  return static_cast<uint64_t>(share);
}

void ContentCache::Clear() {
  used_ = 0;
  lru_.clear();
  by_id_.clear();
  by_hash_.clear();
  next_id_ = 0;
  wrapped_ = false;
}

void ContentCache::SetBudget(uint64_t budget_bytes) {
  budget_ = budget_bytes > kCacheMaxBudget ? kCacheMaxBudget : budget_bytes;
  Clear();
}

void ContentCache::EvictLeastRecent() {
  List::iterator victim = std::prev(lru_.end());
  if (index_by_hash_) {
    auto range = by_hash_.equal_range(victim->hash);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == victim) {
        by_hash_.erase(it);
        break;
      }
    }
  }
  by_id_.erase(victim->id);
  used_ -= victim->bytes();
  lru_.erase(victim);
}

bool ContentCache::Insert(const FrameView& frame, const Rect& r, uint64_t hash, uint32_t* id) {
  const uint64_t cost = static_cast<uint64_t>(r.w) * r.h * 4;
  if (cost == 0 || cost > budget_) return false;
  while (used_ + cost > budget_) EvictLeastRecent();
  Entry e;
  e.id = next_id_++;
  if (next_id_ == 0) wrapped_ = true;
  e.w = r.w;
  e.h = r.h;
  e.hash = hash;
  if (index_by_hash_) {
    e.pixels = SharedCachePixels::Shared().Get(frame, r, hash);  // the host: shared with other viewers' mirrors
  } else {
    e.pixels = std::make_shared<CachePixels>();
    e.pixels->w = r.w;
    e.pixels->h = r.h;
    e.pixels->bytes = CacheSlab::Shared().Allocate(cost);
    CopyOpaque(frame, r, e.pixels->bytes.data());
  }
  // An id still held (only after 2^32 inserts on one connection) names the new entry now.
  auto old = by_id_.find(e.id);
  if (old != by_id_.end()) {
    lru_.splice(lru_.end(), lru_, old->second);
    EvictLeastRecent();
  }
  lru_.push_front(std::move(e));
  by_id_[lru_.front().id] = lru_.begin();
  if (index_by_hash_) by_hash_.emplace(hash, lru_.begin());
  used_ += cost;
  if (id) *id = lru_.front().id;
  return true;
}

bool ContentCache::FindVerified(const FrameView& frame, const Rect& r, uint64_t hash, uint32_t* id) {
  auto range = by_hash_.equal_range(hash);
  for (auto it = range.first; it != range.second; ++it) {
    const Entry& e = *it->second;
    if (e.w != r.w || e.h != r.h) continue;
    if (!RectEquals(frame, r, e.data())) continue;
    lru_.splice(lru_.begin(), lru_, it->second);
    *id = e.id;
    return true;
  }
  return false;
}

const ContentCache::Entry* ContentCache::Use(uint32_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &*it->second;
}

void ContentCache::Rebuild(std::vector<Entry> kept) {
  lru_.clear();
  by_id_.clear();
  by_hash_.clear();
  used_ = 0;
  for (Entry& e : kept) {
    used_ += e.bytes();
    lru_.push_front(std::move(e));
    by_id_[lru_.front().id] = lru_.begin();
    if (index_by_hash_) by_hash_.emplace(lru_.front().hash, lru_.begin());
  }
}

bool ContentCache::ResumeFor(uint32_t viewer_next_id, uint64_t budget, std::vector<uint32_t>* ranges) {
  budget_ = budget > kCacheMaxBudget ? kCacheMaxBudget : budget;
  if (wrapped_ || viewer_next_id > next_id_) {
    const uint32_t next = next_id_;
    const bool wrapped = wrapped_;
    Clear();
    next_id_ = next;  // ids never repeat within what the viewer may still hold
    wrapped_ = wrapped;
    return false;
  }
  std::vector<Entry> kept;
  kept.reserve(lru_.size());
  for (Entry& e : lru_) {
    if (e.id < viewer_next_id) kept.push_back(std::move(e));
  }
  std::sort(kept.begin(), kept.end(), [](const Entry& a, const Entry& b) { return a.id < b.id; });
  uint64_t used = 0;
  for (const Entry& e : kept) used += e.bytes();
  size_t first = 0;
  while (used > budget_) used -= kept[first++].bytes();  // the oldest ids go first
  kept.erase(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(first));
  for (const Entry& e : kept) {
    if (!ranges->empty() && ranges->end()[-2] + ranges->back() == e.id) {
      ranges->back()++;
    } else {
      ranges->push_back(e.id);
      ranges->push_back(1);
    }
  }
  Rebuild(std::move(kept));
  return true;
}

Status ContentCache::Keep(uint64_t budget, uint32_t next_id, const uint32_t* ranges, size_t range_count) {
  budget_ = budget > kCacheMaxBudget ? kCacheMaxBudget : budget;
  // The ranges are checked whole before any entry moves, and their total
  // against what is held, so a hostile list costs at most one pass over it.
  uint64_t total = 0, end = 0;
  for (size_t i = 0; i < range_count; ++i) {
    const uint64_t first = ranges[2 * i], count = ranges[2 * i + 1];
    Status bad;
    if (count == 0) bad = Status::Error(ErrorCode::kProtocol, "CACHE_KEEP range " + std::to_string(i) + " is empty");
    else if (i > 0 && first < end) bad = Status::Error(ErrorCode::kProtocol, "CACHE_KEEP range " + std::to_string(i) + " does not ascend");
    else if (first + count > next_id) bad = Status::Error(ErrorCode::kProtocol, "CACHE_KEEP range " + std::to_string(i) + " reaches the next id " + std::to_string(next_id));
    else if ((total += count) > by_id_.size()) bad = Status::Error(ErrorCode::kProtocol, "CACHE_KEEP names more entries than this cache holds (" + std::to_string(by_id_.size()) + ")");
    if (!bad.ok()) {
      Clear();
      return bad;
    }
    end = first + count;
  }
  std::vector<Entry> kept;
  kept.reserve(static_cast<size_t>(total));
  uint64_t used = 0;
  for (size_t i = 0; i < range_count; ++i) {
    for (uint64_t id = ranges[2 * i]; id < static_cast<uint64_t>(ranges[2 * i]) + ranges[2 * i + 1]; ++id) {
      auto it = by_id_.find(static_cast<uint32_t>(id));
      if (it == by_id_.end()) {
        Clear();
        return Status::Error(ErrorCode::kProtocol, "CACHE_KEEP names cache entry " + std::to_string(id) + ", which this cache does not hold");
      }
      used += it->second->bytes();
      kept.push_back(std::move(*it->second));
      by_id_.erase(it);  // a moved-from entry is never found again
    }
  }
  if (used > budget_) {
    Clear();
    return Status::Error(ErrorCode::kProtocol, "CACHE_KEEP keeps " + std::to_string(used) + " bytes, over the cache size " + std::to_string(budget_));
  }
  Rebuild(std::move(kept));
  next_id_ = next_id;
  wrapped_ = false;
  return Status::Ok();
}

}  // namespace tilecast
