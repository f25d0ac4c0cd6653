// PageBuffer: a large byte buffer taken straight from the OS (mmap on POSIX)
// and given back the moment it is freed. Screen-sized buffers (8 MB at 1080p:
// a viewer's copy of what it has, shared screens) come and go with viewers;
// from malloc, glibc's moving mmap threshold soon serves them from its heap,
// whose pages it keeps after free, so a host's RSS would not come down when
// viewers leave. Contents start zeroed. Move-only.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tilecast {

class PageBuffer {
 public:
  PageBuffer() = default;
  explicit PageBuffer(size_t bytes);  // zeroed; throws std::bad_alloc when the OS refuses
  ~PageBuffer();
  PageBuffer(PageBuffer&& o) noexcept;
  PageBuffer& operator=(PageBuffer&& o) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void reset();  // frees now

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tilecast
