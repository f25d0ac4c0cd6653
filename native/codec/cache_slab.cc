#include "cache_slab.h"

#include <algorithm>
#include <functional>
#include <new>

#include "../util/page_buffer.h"

namespace tilecast {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kChunkBytes = 1ull << 20;

uint64_t RoundToPages(uint64_t n) { return (n + kPage - 1) / kPage * kPage; }

}  // namespace

// Slots of one size in memory of their own (PageBuffer: mmap, or the OS's equivalent). A block
// larger than kMaxSlabBlock is a chunk of one slot in no size class.
struct CacheSlab::Chunk {
  PageBuffer memory;
  uint8_t* base = nullptr;
  uint64_t slot_bytes = 0;
  uint32_t slots = 0;
  uint32_t used = 0;
  std::vector<uint32_t> free_slots;  // a stack of slot indexes
  SizeClass* size_class = nullptr;
  uint64_t bytes() const { return slot_bytes * slots; }
};

bool CacheSlab::ChunkOrder::operator()(const Chunk* a, const Chunk* b) const {
  return std::less<const uint8_t*>()(a->base, b->base);
}

CacheSlab::Block& CacheSlab::Block::operator=(Block&& o) noexcept {
  if (this != &o) {
    Reset();
    slab_ = o.slab_;
    chunk_ = o.chunk_;
    data_ = o.data_;
    size_ = o.size_;
    o.slab_ = nullptr;
    o.chunk_ = nullptr;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

void CacheSlab::Block::Reset() {
  if (slab_ != nullptr) slab_->Free(this);
  slab_ = nullptr;
  chunk_ = nullptr;
  data_ = nullptr;
  size_ = 0;
}

CacheSlab::Block CacheSlab::Allocate(uint64_t size) {
  Block b;  // owned by this slab (slab_ set) only once it holds memory: a throw frees nothing
  b.size_ = size;
  const uint64_t slot_bytes = RoundToPages(size == 0 ? 1 : size);
  if (slot_bytes > kMaxSlabBlock) {
    auto own = std::make_unique<Chunk>();  // mapped outside the lock: no one else's wait
    own->memory = PageBuffer(slot_bytes);
    own->base = own->memory.data();
    own->slot_bytes = slot_bytes;
    own->slots = 1;
    own->used = 1;
    b.chunk_ = own.release();
    b.data_ = b.chunk_->base;
    b.slab_ = this;
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.blocks;
    stats_.block_bytes += size;
    stats_.mapped_bytes += slot_bytes;
    return b;
  }
  std::lock_guard<std::mutex> lock(mu_);
  SizeClass& sc = classes_[slot_bytes];
  Chunk* c = nullptr;
  if (!sc.with_free.empty()) {
    c = *sc.with_free.begin();
  } else if (!sc.spare.empty()) {
    c = sc.spare.back();
    sc.spare.pop_back();
    stats_.spare_bytes -= c->bytes();
    sc.with_free.insert(c);
  } else {
    // Mapped under the lock: rare (a chunk serves 4 to 64 inserts) and it keeps the counts simple.
    auto fresh = std::make_unique<Chunk>();
    fresh->slot_bytes = slot_bytes;
    fresh->slots = static_cast<uint32_t>(std::max<uint64_t>(4, std::min<uint64_t>(64, kChunkBytes / slot_bytes)));
    fresh->memory = PageBuffer(fresh->bytes());
    fresh->base = fresh->memory.data();
    fresh->size_class = &sc;
    fresh->free_slots.reserve(fresh->slots);
    for (uint32_t i = fresh->slots; i-- > 0;) fresh->free_slots.push_back(i);  // slot 0 first
    c = fresh.release();
    ++stats_.chunks;
    stats_.mapped_bytes += c->bytes();
    sc.with_free.insert(c);
  }
  const uint32_t slot = c->free_slots.back();
  c->free_slots.pop_back();
  if (++c->used == c->slots) sc.with_free.erase(c);
  b.chunk_ = c;
  b.data_ = c->base + slot * slot_bytes;
  b.slab_ = this;
  ++stats_.blocks;
  stats_.block_bytes += size;
  return b;
}

void CacheSlab::Free(Block* b) {
  Chunk* c = b->chunk_;
  if (c->size_class == nullptr) {  // a mapping of its own
    {
      std::lock_guard<std::mutex> lock(mu_);
      --stats_.blocks;
      stats_.block_bytes -= b->size_;
      stats_.mapped_bytes -= c->bytes();
    }
    delete c;
    return;
  }
  Chunk* unmap = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    --stats_.blocks;
    stats_.block_bytes -= b->size_;
    SizeClass& sc = *c->size_class;
    if (c->used-- == c->slots) sc.with_free.insert(c);  // it was full
    c->free_slots.push_back(static_cast<uint32_t>((b->data_ - c->base) / c->slot_bytes));
    if (c->used == 0) {
      sc.with_free.erase(c);
      if (stats_.spare_bytes + c->bytes() <= kMaxSpareBytes) {
        sc.spare.push_back(c);
        stats_.spare_bytes += c->bytes();
      } else {
        unmap = c;
        --stats_.chunks;
        stats_.mapped_bytes -= c->bytes();
      }
    }
  }
  if (unmap != nullptr) delete unmap;
}

CacheSlab::Stats CacheSlab::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void CacheSlab::TrimSpares() {
  std::vector<Chunk*> drop;  // unmapped outside the lock
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [bytes, sc] : classes_) {
      for (Chunk* c : sc.spare) {
        drop.push_back(c);
        --stats_.chunks;
        stats_.mapped_bytes -= c->bytes();
      }
      sc.spare.clear();
    }
    stats_.spare_bytes = 0;
  }
  for (Chunk* c : drop) delete c;
}

CacheSlab::~CacheSlab() {
  // Only a test's own slab is destroyed (Shared() is never), after its blocks are gone.
  for (auto& [bytes, sc] : classes_) {
    for (Chunk* c : sc.with_free) delete c;
    for (Chunk* c : sc.spare) delete c;
  }
}

CacheSlab& CacheSlab::Shared() {
  // Leaked on purpose: cache entries held by parked mirrors and encoders may outlive static destruction.
  static CacheSlab* slab = new CacheSlab();
  return *slab;
}

}  // namespace tilecast
