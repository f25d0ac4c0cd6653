#include "pcm_ring.h"

#include <algorithm>
#include <cstring>

namespace tilecast {

PcmRing::PcmRing(size_t capacity, size_t prime) : ring_(std::max<size_t>(capacity, 1)), prime_(std::min(prime, std::max<size_t>(capacity, 1))) {}

size_t PcmRing::Write(const int16_t* samples, size_t count) {
  const size_t cap = ring_.size();
  size_t dropped = 0;
  if (count > cap) {  // only the newest fit
    dropped += count - cap;
    samples += count - cap;
    count = cap;
  }
  if (size_ + count > cap) {
    const size_t over = size_ + count - cap;
    head_ = (head_ + over) % cap;
    size_ -= over;
    dropped += over;
  }
  size_t tail = (head_ + size_) % cap;
  for (size_t done = 0; done < count;) {
    const size_t n = std::min(count - done, cap - tail);
    std::memcpy(&ring_[tail], samples + done, n * sizeof(int16_t));
    done += n;
    tail = (tail + n) % cap;
  }
  size_ += count;
  return dropped;
}

size_t PcmRing::Take(int16_t* out, size_t max) {
  if (priming_ && size_ < prime_) return 0;
  priming_ = false;
  const size_t cap = ring_.size();
  const size_t n = std::min(max, size_);
  for (size_t done = 0; done < n;) {
    const size_t run = std::min(n - done, cap - head_);
    std::memcpy(out + done, &ring_[head_], run * sizeof(int16_t));
    done += run;
    head_ = (head_ + run) % cap;
  }
  size_ -= n;
  if (size_ == 0) priming_ = true;
  return n;
}

}  // namespace tilecast
