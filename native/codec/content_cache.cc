#include "content_cache.h"

#include <cstring>

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

}  // namespace

uint64_t HashRect(const FrameView& frame, const Rect& r) {
  // 64-bit multiply-xorshift over the colours; the size is mixed in too.
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(r.w) << 32 | r.h);
  for (uint32_t y = 0; y < r.h; ++y) {
    const uint8_t* p = frame.pixel(r.x, r.y + y);
    for (uint32_t c = 0; c < r.w; ++c) {
      h = (h ^ (LoadPixel(p + c * 4) & 0x00FFFFFFu)) * 0x100000001B3ull;
      h ^= h >> 29;
    }
  }
  return h;
}

ContentCache::ContentCache(uint64_t budget_bytes, bool index_by_hash)
    : budget_(budget_bytes > kCacheMaxBudget ? kCacheMaxBudget : budget_bytes), index_by_hash_(index_by_hash) {}

void ContentCache::Clear() {
  lru_.clear();
  by_id_.clear();
  by_hash_.clear();
  used_ = 0;
  next_id_ = 0;
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
  used_ -= victim->pixels.size();
  lru_.erase(victim);
}

bool ContentCache::Insert(const FrameView& frame, const Rect& r, uint64_t hash, uint32_t* id) {
  const uint64_t cost = static_cast<uint64_t>(r.w) * r.h * 4;
  if (cost == 0 || cost > budget_) return false;
  while (used_ + cost > budget_) EvictLeastRecent();
  Entry e;
  e.id = next_id_++;
  e.w = r.w;
  e.h = r.h;
  e.hash = hash;
  e.pixels.resize(cost);
  uint8_t* dst = e.pixels.data();
  for (uint32_t y = 0; y < r.h; ++y) {
    const uint8_t* src = frame.pixel(r.x, r.y + y);
    for (uint32_t c = 0; c < r.w; ++c, dst += 4) {
      const uint32_t v = LoadPixel(src + c * 4) | kOpaque;
      std::memcpy(dst, &v, 4);
    }
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
    bool same = true;
    for (uint32_t y = 0; y < r.h && same; ++y) same = RowEquals(frame.pixel(r.x, r.y + y), e.pixels.data() + static_cast<size_t>(y) * r.w * 4, r.w);
    if (!same) continue;
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

}  // namespace tilecast
