// ScreenStore: screens shared by every viewer that has them. After an update
// that brought a viewer everything that changed, what it has equals the
// captured screen; instead of a copy per viewer (8 MB at 1080p), its
// SentFrame holds the one shared copy of that screen, made here by the first
// viewer to need it. Screens are immutable and freed when the last viewer
// moves on (shared_ptr), so memory follows the viewers, not the GC.
//
// Thread: any; Intern() may run on several encoder workers at once.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "../util/frame_view.h"
#include "../util/page_buffer.h"

namespace tilecast {

// A packed (stride = width*4) copy of one screen.
class ScreenPixels {
 public:
  explicit ScreenPixels(const FrameView& frame);
  FrameView view() const { return FrameView{pixels_.data(), width_, height_, static_cast<size_t>(width_) * 4}; }
  size_t bytes() const { return pixels_.size(); }

 private:
  uint32_t width_, height_;
  PageBuffer pixels_;
};

class ScreenStore {
 public:
  // The shared copy of screen `generation` (a capture's id for one screen
  // content; 0 is not an id), made from `frame` if nobody holds it yet.
  std::shared_ptr<const ScreenPixels> Intern(uint64_t generation, const FrameView& frame);
  // Screens alive now, and their bytes.
  size_t Count() const;
  size_t MemoryBytes() const;

  // Viewers using the store. With one, sharing saves nothing and costs a
  // screen copy per update, so a lone viewer keeps its own copy (updated
  // rect by rect) and the store is used once there are two or more.
  void AddViewer() { viewers_.fetch_add(1); }
  void RemoveViewer() { viewers_.fetch_sub(1); }
  bool Shared() const { return viewers_.load() > 1; }

 private:
  std::atomic<int> viewers_{0};
  mutable std::mutex mu_;
  std::vector<std::pair<uint64_t, std::weak_ptr<const ScreenPixels>>> screens_;
};

}  // namespace tilecast
