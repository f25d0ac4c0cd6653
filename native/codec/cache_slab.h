// CacheSlab: the memory of content-cache entries (content_cache.h), kept out
// of malloc's heaps.
//
// Why: cache entries live for seconds to minutes and die in LRU order, while
// the coding work around them (on the same worker threads) makes and frees
// many short-lived buffers. Mixed in glibc's arenas, each long-lived entry
// pins the pages around it, and a host serving viewers that come and go for
// hours grew ~190 MiB an hour of free-but-unreturnable arena memory. Here the
// entries live in chunks of their own (mmap), sized by class, and a chunk
// whose entries have all gone is kept for the next keyframe (at most
// kMaxSpareBytes of them, process-wide) or given back to the system.
//
// Size classes: the entry's bytes rounded up to whole pages (4 KiB; a full
// 64×64 tile is exactly 16 KiB; an entry is at least 4 KiB, kCacheMinArea), up
// to kMaxSlabBlock; a larger entry gets a mapping of its own. A chunk holds 1 MiB of slots (between 4 and 64 slots).
// New slots come from the chunk at the lowest address that has one free, so
// use gathers in few chunks and the others drain and can be returned.
//
// Thread-safe (one mutex; a lock per insert or eviction, none per pixel).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

namespace tilecast {

// Free chunks kept for reuse, at most: a keyframe empties a cache and refills it at once, and fresh
// pages cost a zero-fill and a fault each (~8 MB at 1080p).
constexpr uint64_t kMaxSpareBytes = 16ull << 20;
// Largest block served from chunks (a 256×256 tile, the largest tile size).
constexpr uint64_t kMaxSlabBlock = 256ull << 10;

class CacheSlab {
 public:
  struct Chunk;
  // A block of at least `size` bytes; empty if none was allocated.
  class Block {
   public:
    Block() = default;
    Block(Block&& o) noexcept { *this = std::move(o); }
    Block& operator=(Block&& o) noexcept;
    Block(const Block&) = delete;
    Block& operator=(const Block&) = delete;
    ~Block() { Reset(); }
    uint8_t* data() const { return data_; }
    uint64_t size() const { return size_; }
    // Gives the block back to its slab.
    void Reset();

   private:
    friend class CacheSlab;
    CacheSlab* slab_ = nullptr;
    Chunk* chunk_ = nullptr;
    uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
  };

  // A block of `size` bytes (size > 0). Its contents are unspecified (a reused slot keeps old
  // pixels). Throws std::bad_alloc if the system has no memory for it.
  Block Allocate(uint64_t size);

  struct Stats {
    uint64_t blocks = 0;         // blocks handed out and not yet given back
    uint64_t block_bytes = 0;    // the sizes they were asked for
    uint64_t mapped_bytes = 0;   // memory mapped: chunks (used, partly used and spare) and own mappings
    uint64_t spare_bytes = 0;    // chunks with no block in use, kept for reuse
    uint64_t chunks = 0;         // chunks mapped (spare ones included)
  };
  Stats stats() const;
  // Unmaps the spare chunks (trimCodingBuffers(): a host that wants the memory back).
  void TrimSpares();

  // The process's slab: host mirrors and decoders alike.
  static CacheSlab& Shared();

  CacheSlab() = default;
  ~CacheSlab();
  CacheSlab(const CacheSlab&) = delete;
  CacheSlab& operator=(const CacheSlab&) = delete;

 private:
  struct ChunkOrder {
    bool operator()(const Chunk* a, const Chunk* b) const;
  };
  struct SizeClass {
    std::set<Chunk*, ChunkOrder> with_free;  // chunks with at least one free slot (spare ones not here)
    std::vector<Chunk*> spare;               // chunks with no slot in use
  };
  void Free(Block* b);

  mutable std::mutex mu_;
  std::map<uint64_t, SizeClass> classes_;  // by slot size
  Stats stats_;
};

}  // namespace tilecast
