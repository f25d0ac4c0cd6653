// PcmRing: the queue between whoever writes sound (the JS thread) and the
// audio thread that plays it. Bounded: a burst after a stall drops the oldest
// samples, so the delay never exceeds the capacity. Primed: after running dry
// it gives nothing until `prime` samples are queued, so network jitter becomes
// a steady delay rather than a crackle on every late packet.
// Not locked: its owner (WasapiRender) holds a mutex around every call.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tilecast {

class PcmRing {
 public:
  PcmRing(size_t capacity, size_t prime);
  // Appends `count` samples; returns how many older ones were dropped to make room.
  size_t Write(const int16_t* samples, size_t count);
  // Moves up to `max` samples into `out` (nothing while priming); returns how many.
  size_t Take(int16_t* out, size_t max);
  size_t size() const { return size_; }
  size_t capacity() const { return ring_.size(); }

 private:
  std::vector<int16_t> ring_;
  size_t prime_;
  size_t head_ = 0, size_ = 0;
  bool priming_ = true;
};

}  // namespace tilecast
