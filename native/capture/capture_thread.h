// CaptureThread: runs a ScreenBackend on its own thread so the JS thread never
// waits on the X server or touches pixels.
//
// The hand-off is a one-slot mailbox, latest frame wins: the consumer asks for a
// frame (Request) and the thread answers once there is news: damaged pixels
// (grabbed into the shared screen mirror at that moment, so the frame is always
// the current screen, never a queued stale one), a cursor move or shape change,
// or the periodic verification grab. Between requests change hints accumulate in
// the backend (XDamage keeps one region), so memory stays bounded however slow
// the consumer is. After a backend failure (X server gone) the next request
// opens a new connection.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "screen_backend.h"

namespace tilecast {

struct CaptureOptions {
  // Pointer position is polled this often while a request waits (ms).
  uint32_t poll_interval_ms = 33;
  // A full grab at least this often while requests keep coming (ms), so the
  // consumer's own diff catches anything the change hints missed.
  uint32_t verify_interval_ms = 2000;
};

struct CapturedFrame {
  std::shared_ptr<const ScreenMirror> mirror;
  uint64_t grabbed_ns = 0;  // MonotonicNs()
  double grab_ms = 0;       // time spent grabbing these pixels
  // Rects grabbed afresh (change hints, or the whole screen); empty when only
  // the cursor changed and the pixels are as last delivered.
  std::vector<Rect> damage;
  bool resized = false;
  int32_t cursor_x = 0, cursor_y = 0;
  bool cursor_visible = false;
  bool cursor_moved = false;
  std::shared_ptr<const CursorImage> cursor_shape;  // set when the shape changed
};

struct CaptureOpened {
  BackendFeatures features;
  std::string backend;          // ScreenBackend::name()
  std::string fallback_reason;  // ScreenBackend::fallback_reason()
  uint32_t width = 0, height = 0;
};

class CaptureThread {
 public:
  using BackendFactory = std::function<std::unique_ptr<ScreenBackend>()>;
  // Callbacks run on the capture thread.
  struct Callbacks {
    std::function<void(const Status&, const CaptureOpened&)> opened;  // each (re)open
    std::function<void(CapturedFrame)> frame;
    std::function<void(const Status&)> failed;  // the pending request failed
  };

  CaptureThread(BackendFactory factory, CaptureOptions options, Callbacks callbacks);
  ~CaptureThread();
  CaptureThread(const CaptureThread&) = delete;
  CaptureThread& operator=(const CaptureThread&) = delete;

  // Opens the backend on the capture thread; `opened` reports the outcome.
  void Start();
  // Asks for the next frame. kBusy when a request is already waiting.
  Status Request();
  // Stops and joins the thread; a waiting request gets no answer.
  void Stop();

 private:
  void Run();
  Status Serve();
  Status OpenBackend();
  void Wake();
  void WaitForEvents(int timeout_ms);

  BackendFactory factory_;
  const CaptureOptions options_;
  Callbacks callbacks_;
  std::unique_ptr<ScreenBackend> backend_;
  std::shared_ptr<ScreenMirror> mirror_;
  uint64_t cursor_serial_ = 0;
  int32_t cursor_x_ = INT32_MIN, cursor_y_ = INT32_MIN;
  bool cursor_visible_ = false;
  bool need_full_ = true;
  bool size_unknown_ = true;
  uint64_t last_full_ns_ = 0;
  uint64_t last_pointer_ns_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stop_ = false;
  int wake_pipe_[2] = {-1, -1};
  std::thread thread_;
};

uint64_t MonotonicNs();

}  // namespace tilecast
