// CodingScratch: the large buffers one Encode works in: the bands' op bytes, the content cache
// pass's scratch, a large keyframe's gathered op bytes, and our LZ coders' tables and coded pieces.
//
// Why a process-wide pool: they are needed only while an Encode runs, yet a 1080p keyframe leaves
// ~5-6 MB in them. Kept per encoder, every viewer of a shared screen cost that much for as long as
// it stayed connected (bench/viewers.js: 7 MiB per viewer). Leased per Encode from one pool, they
// cost a few sets a process (as many as encodes run at once). Sets go back to the pool rather than
// to malloc because fresh buffers of keyframe size fault every page in again (~4 ms of a 1080p
// keyframe).
//
// Thread: the pool is thread-safe; a leased set belongs to one Encode until the lease ends.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "lz_blocks.h"

namespace tilecast {

// DeflateStream::WriteFreshLz's working set.
struct LzScratch {
  std::vector<std::unique_ptr<LzCoder>> coders;  // one a thread, made when first needed
  std::vector<std::vector<uint8_t>> coded;       // each piece's coded bytes
  size_t Bytes() const;
};

struct CodingScratch {
  std::vector<std::vector<uint8_t>> band_buffers;  // two a band: its zlib and its literal op bytes
  std::vector<uint8_t> cache_scratch;              // ApplyContentCache rebuilds a band's bytes here
  std::vector<uint8_t> keyframe_ops;               // a large keyframe's op bytes, gathered for the LZ coder
  LzScratch lz;
  size_t Bytes() const;

  // After an Encode that used the first `slots_used` band buffers: keeps only the slots the Encode
  // that wrote the most bytes in them used (band_peak bytes in peak_slots slots: a keyframe, whose
  // buffers stay warm for the next one), within twice those bytes, and frees the rest.
  // Why: slot i keeps the largest band any Encode gave it, and an update with a hundred dirty rects
  // uses a hundred slots; without a bound a set's buffers grew with every new mix of rects (a host
  // serving the scene loop for 8 minutes: 314 slots, 9.7 MB, still growing).
  void KeepBandBuffersBounded(size_t slots_used);
  size_t band_peak = 0;
  size_t peak_slots = 0;
};

class CodingScratchPool {
 public:
  // Keeps at most `max_idle` sets between encodes; a set returned beyond that is freed.
  explicit CodingScratchPool(size_t max_idle);
  CodingScratchPool(const CodingScratchPool&) = delete;
  CodingScratchPool& operator=(const CodingScratchPool&) = delete;

  // A set for one Encode; it goes back to the pool when the lease ends.
  class Lease {
   public:
    Lease(CodingScratchPool* pool, std::unique_ptr<CodingScratch> set) : pool_(pool), set_(std::move(set)) {}
    ~Lease() {
      if (set_) pool_->Return(std::move(set_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    CodingScratch* operator->() const { return set_.get(); }
    CodingScratch& operator*() const { return *set_; }

   private:
    CodingScratchPool* pool_;
    std::unique_ptr<CodingScratch> set_;
  };
  Lease Acquire();

  struct Stats {
    size_t idle_sets = 0;
    size_t idle_bytes = 0;   // what the idle sets hold
    size_t leased_sets = 0;  // encodes running now
    size_t sets_made = 0;    // since the pool began (a set is made when none is idle)
  };
  Stats stats() const;
  // Frees the idle sets (tests; a host that wants the memory back).
  void Trim();

  // The process's pool: idle sets at most max(libuv's workers (UV_THREADPOOL_SIZE, default 4), cores).
  static CodingScratchPool& Shared();

 private:
  void Return(std::unique_ptr<CodingScratch> set);
  const size_t max_idle_;
  mutable std::mutex mu_;
  struct Idle {
    std::unique_ptr<CodingScratch> set;
    size_t bytes;  // set->Bytes() when it came back
  };
  std::vector<Idle> idle_;  // most recently returned last
  size_t idle_bytes_ = 0;
  size_t leased_ = 0;
  size_t made_ = 0;
};

}  // namespace tilecast
