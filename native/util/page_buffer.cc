#include "page_buffer.h"

#include <new>
#include <utility>

#if defined(_WIN32)
#include <cstdlib>
#include <cstring>
#else
#include <sys/mman.h>
#endif

namespace tilecast {

PageBuffer::PageBuffer(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
#if defined(_WIN32)
  data_ = static_cast<uint8_t*>(std::calloc(bytes, 1));  // large blocks go to VirtualAlloc there anyway
  if (!data_) throw std::bad_alloc();
#else
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(p);
#endif
}

PageBuffer::~PageBuffer() { reset(); }

PageBuffer::PageBuffer(PageBuffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

PageBuffer& PageBuffer::operator=(PageBuffer&& o) noexcept {
  if (this != &o) {
    reset();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void PageBuffer::reset() {
  if (!data_) return;
#if defined(_WIN32)
  std::free(data_);
#else
  munmap(data_, size_);
#endif
  data_ = nullptr;
  size_ = 0;
}

}  // namespace tilecast
