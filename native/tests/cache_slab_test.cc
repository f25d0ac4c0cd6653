// CacheSlab: blocks never overlap, sizes go by page classes, emptied chunks
// are kept up to kMaxSpareBytes and the rest given back, new blocks gather in
// the lowest chunk, and many threads can allocate and free at once.
#include <algorithm>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "../codec/cache_slab.h"
#include "harness.h"

using namespace tilecast;

namespace {

// Fills a block with a pattern of its own, and checks it is still there.
void Stamp(const CacheSlab::Block& b, uint32_t tag) {
  for (uint64_t i = 0; i + 4 <= b.size(); i += 4) std::memcpy(b.data() + i, &tag, 4);
}
bool HasStamp(const CacheSlab::Block& b, uint32_t tag) {
  for (uint64_t i = 0; i + 4 <= b.size(); i += 4) {
    uint32_t v;
    std::memcpy(&v, b.data() + i, 4);
    if (v != tag) return false;
  }
  return true;
}

}  // namespace

TEST(cache_slab_blocks_are_distinct_and_chunks_go_back) {
  CacheSlab slab;
  std::mt19937 rng(5);
  std::vector<CacheSlab::Block> blocks;
  // Entry sizes as a cache sees them: mostly full 64x64 tiles, some edge tiles and small rects.
  const uint64_t sizes[] = {64 * 64 * 4, 64 * 64 * 4, 64 * 56 * 4, 32 * 32 * 4, 40 * 30 * 4, 128 * 128 * 4};
  uint64_t asked = 0;
  for (uint32_t i = 0; i < 3000; ++i) {
    blocks.push_back(slab.Allocate(sizes[rng() % 6]));
    asked += blocks.back().size();
    Stamp(blocks.back(), i);
  }
  CacheSlab::Stats s = slab.stats();
  CHECK_EQ(s.blocks, 3000u);
  CHECK_EQ(s.block_bytes, asked);
  CHECK(s.mapped_bytes >= asked);
  CHECK(s.mapped_bytes < asked + asked / 4 + 6 * (2u << 20));  // page rounding, one part-used chunk a class
  for (uint32_t i = 0; i < blocks.size(); ++i) CHECK(HasStamp(blocks[i], i));  // nothing overlapped

  // Free in random order: every chunk empties; at most kMaxSpareBytes of them stay mapped.
  std::shuffle(blocks.begin(), blocks.end(), rng);
  blocks.clear();
  s = slab.stats();
  CHECK_EQ(s.blocks, 0u);
  CHECK_EQ(s.block_bytes, 0u);
  CHECK_EQ(s.mapped_bytes, s.spare_bytes);
  CHECK(s.spare_bytes <= kMaxSpareBytes);
  CHECK(s.spare_bytes > 0);  // kept for the next keyframe
  slab.TrimSpares();
  s = slab.stats();
  CHECK_EQ(s.mapped_bytes, 0u);
  CHECK_EQ(s.chunks, 0u);
}

TEST(cache_slab_reuses_spare_chunks_and_fills_the_lowest_first) {
  CacheSlab slab;
  const uint64_t tile = 64 * 64 * 4;  // 64 a chunk
  std::vector<CacheSlab::Block> blocks;
  for (int i = 0; i < 128; ++i) blocks.push_back(slab.Allocate(tile));
  CHECK_EQ(slab.stats().chunks, 2u);
  const uint8_t* low = std::min_element(blocks.begin(), blocks.end(), [](const auto& a, const auto& b) {
                         return std::less<const uint8_t*>()(a.data(), b.data());
                       })->data();
  auto in_low = [low, tile](const CacheSlab::Block& b) {
    return !std::less<const uint8_t*>()(b.data(), low) && std::less<const uint8_t*>()(b.data(), low + 64 * tile);
  };
  // Free 10 blocks in each chunk; the next 10 all come from the lower one.
  int freed_low = 0, freed_high = 0;
  for (CacheSlab::Block& b : blocks) {
    int& n = in_low(b) ? freed_low : freed_high;
    if (n < 10) {
      ++n;
      b.Reset();
    }
  }
  for (int i = 0; i < 10; ++i) {
    CacheSlab::Block b = slab.Allocate(tile);
    CHECK(in_low(b));
    blocks.push_back(std::move(b));
  }
  // An emptied chunk is kept and serves the next allocations without a new mapping.
  blocks.clear();
  CHECK_EQ(slab.stats().chunks, 2u);
  CHECK_EQ(slab.stats().spare_bytes, 2 * 64 * tile);
  for (int i = 0; i < 100; ++i) blocks.push_back(slab.Allocate(tile));
  CHECK_EQ(slab.stats().chunks, 2u);
  CHECK_EQ(slab.stats().spare_bytes, 0u);
  // Blocks larger than any class get a mapping of their own, given back on free.
  const uint64_t before = slab.stats().mapped_bytes;
  {
    CacheSlab::Block big = slab.Allocate(kMaxSlabBlock + 1);
    Stamp(big, 7);
    CHECK(HasStamp(big, 7));
    CHECK_EQ(slab.stats().mapped_bytes, before + kMaxSlabBlock + 4096);
  }
  CHECK_EQ(slab.stats().mapped_bytes, before);
  // Moving a block moves its ownership: freed once.
  CacheSlab::Block a = slab.Allocate(tile);
  CacheSlab::Block b = std::move(a);
  CHECK(a.data() == nullptr);
  CHECK_EQ(slab.stats().blocks, 101u);
  b = CacheSlab::Block();
  CHECK_EQ(slab.stats().blocks, 100u);
}

TEST(cache_slab_serves_many_threads_at_once) {
  CacheSlab slab;
  std::vector<std::thread> threads;
  std::vector<int> errors(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      std::mt19937 rng(40 + k);
      std::vector<std::pair<CacheSlab::Block, uint32_t>> held;
      for (uint32_t step = 0; step < 20000; ++step) {
        if (held.size() < 200 && rng() % 3 != 0) {
          const uint32_t tag = (static_cast<uint32_t>(k) << 24) | step;
          held.emplace_back(slab.Allocate(4096 * (1 + rng() % 8)), tag);
          Stamp(held.back().first, tag);
        } else if (!held.empty()) {
          const size_t i = rng() % held.size();
          if (!HasStamp(held[i].first, held[i].second)) ++errors[k];
          std::swap(held[i], held.back());
          held.pop_back();
        }
      }
      for (auto& [block, tag] : held) {
        if (!HasStamp(block, tag)) ++errors[k];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int e : errors) CHECK_EQ(e, 0);
  const CacheSlab::Stats s = slab.stats();
  CHECK_EQ(s.blocks, 0u);
  CHECK_EQ(s.mapped_bytes, s.spare_bytes);
  CHECK(s.spare_bytes <= kMaxSpareBytes);
}
