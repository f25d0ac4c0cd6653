#include "screen_store.h"

#include <algorithm>
#include <cstring>

namespace tilecast {

ScreenPixels::ScreenPixels(const FrameView& frame)
    : width_(frame.width), height_(frame.height), pixels_(static_cast<size_t>(frame.width) * frame.height * 4) {
  // PageBuffer: freed screens go back to the OS at once (see page_buffer.h).
  const size_t row = static_cast<size_t>(width_) * 4;
  for (uint32_t y = 0; y < height_; ++y) std::memcpy(pixels_.data() + y * row, frame.row(y), row);
}

std::shared_ptr<const ScreenPixels> ScreenStore::Intern(uint64_t generation, const FrameView& frame) {
  std::lock_guard<std::mutex> lock(mu_);
  screens_.erase(std::remove_if(screens_.begin(), screens_.end(), [](const auto& e) { return e.second.expired(); }),
                 screens_.end());
  for (const auto& e : screens_) {
    if (e.first != generation) continue;
    auto held = e.second.lock();
    const FrameView v = held ? held->view() : FrameView{};
    if (held && v.width == frame.width && v.height == frame.height) return held;
  }
  // Made under the lock: other viewers asking for the same screen wait for it
  // rather than copying it again.
  auto made = std::make_shared<const ScreenPixels>(frame);
  screens_.emplace_back(generation, made);
  return made;
}

size_t ScreenStore::Count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(std::count_if(screens_.begin(), screens_.end(), [](const auto& e) { return !e.second.expired(); }));
}

size_t ScreenStore::MemoryBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& e : screens_) {
    if (auto held = e.second.lock()) n += held->bytes();
  }
  return n;
}

}  // namespace tilecast
