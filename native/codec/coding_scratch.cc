#include "coding_scratch.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace tilecast {

size_t LzScratch::Bytes() const {
  size_t n = 0;
  for (const auto& c : coders) n += c->RetainedBytes();
  for (const auto& piece : coded) n += piece.capacity();
  return n;
}

size_t CodingScratch::Bytes() const {
  size_t n = cache_scratch.capacity() + keyframe_ops.capacity() + lz.Bytes();
  for (const auto& b : band_buffers) n += b.capacity();
  return n;
}

void CodingScratch::KeepBandBuffersBounded(size_t slots_used) {
  size_t used = 0;
  for (size_t i = 0; i < slots_used && i < band_buffers.size(); ++i) used += band_buffers[i].size();
  if (used > band_peak) {
    band_peak = used;
    peak_slots = slots_used;
  }
  // The slots the largest Encode used, within twice its bytes (capacity runs up to twice the size
  // as a buffer grows); small sets are not worth trimming. Slots past those serve updates with
  // many small bands, whose buffers are quick to make again.
  const size_t cap = std::max<size_t>(2 * band_peak, 256 * 1024);
  size_t kept = 0, last = 0;
  for (size_t i = 0; i < band_buffers.size(); ++i) {
    if (i >= peak_slots || kept + band_buffers[i].capacity() > cap) {
      std::vector<uint8_t>().swap(band_buffers[i]);
      continue;
    }
    kept += band_buffers[i].capacity();
    if (band_buffers[i].capacity() > 0) last = i + 1;
  }
  band_buffers.resize(last);
}

CodingScratchPool::CodingScratchPool(size_t max_idle) : max_idle_(max_idle) {}

CodingScratchPool::Lease CodingScratchPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++leased_;
    if (!idle_.empty()) {
      Idle last = std::move(idle_.back());
      idle_.pop_back();
      idle_bytes_ -= last.bytes;
      return Lease(this, std::move(last.set));
    }
    ++made_;
  }
  return Lease(this, std::make_unique<CodingScratch>());
}

void CodingScratchPool::Return(std::unique_ptr<CodingScratch> set) {
  const size_t bytes = set->Bytes();  // outside the lock: it walks the buffers
  std::unique_ptr<CodingScratch> drop;   // freed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  --leased_;
  if (idle_.size() < max_idle_) {
    idle_bytes_ += bytes;
    idle_.push_back(Idle{std::move(set), bytes});
  } else {
    drop = std::move(set);
  }
}

CodingScratchPool::Stats CodingScratchPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s;
  s.idle_sets = idle_.size();
  s.idle_bytes = idle_bytes_;
  s.leased_sets = leased_;
  s.sets_made = made_;
  return s;
}

void CodingScratchPool::Trim() {
  std::vector<Idle> drop;
  {
    std::lock_guard<std::mutex> lock(mu_);
    drop.swap(idle_);
    idle_bytes_ = 0;
  }
}

CodingScratchPool& CodingScratchPool::Shared() {
  // Leaked on purpose, like ThreadPool::Shared(): encodes on worker threads may outlive static destruction.
  // As many sets as encodes may run at once: one a libuv worker (UV_THREADPOOL_SIZE, default 4).
  static CodingScratchPool* pool = [] {
    size_t workers = 4;
    if (const char* env = std::getenv("UV_THREADPOOL_SIZE")) {
      const long n = std::strtol(env, nullptr, 10);
      if (n > 0 && n <= 1024) workers = static_cast<size_t>(n);
    }
    return new CodingScratchPool(std::max<size_t>(workers, std::thread::hardware_concurrency()));
  }();
  return *pool;
}

}  // namespace tilecast
