// AudioThread (Windows): the thread a WASAPI stream runs on. Start() runs
// `body` there inside a COM apartment, registered with MMCSS ("Pro Audio":
// packets keep coming on time while the host encodes pixels on every core),
// and returns what body reports through `opened` once its stream is open (or
// failed). Stop() signals the event body waits on, and joins.
#pragma once
#if !defined(_WIN32)
#error "Windows only"
#endif
#include <windows.h>
#include <avrt.h>

#include <functional>
#include <future>
#include <thread>

#include "wasapi_device.h"

namespace tilecast {
namespace wasapi {

class AudioThread {
 public:
  using Body = std::function<void(HANDLE stop, std::promise<Status>& opened)>;

  AudioThread() = default;
  ~AudioThread() { Stop(); }
  AudioThread(const AudioThread&) = delete;
  AudioThread& operator=(const AudioThread&) = delete;

  bool running() const { return thread_.joinable(); }

  Status Start(Body body) {
    if (running()) return Status::Error(ErrorCode::kBusy, "the sound stream is already running");
    stop_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (!stop_) return Status::Error(ErrorCode::kUnavailable, "CreateEvent failed");
    // Shared: the thread may still be inside set_value() when Start() returns.
    auto opened = std::make_shared<std::promise<Status>>();
    std::future<Status> result = opened->get_future();
    HANDLE stop = stop_;
    try {
      thread_ = std::thread([stop, opened, body = std::move(body)] {
        // An exception must not end the process (std::terminate) nor leave Start() waiting: it becomes the status.
        try {
          ComApartment com;
          if (!com.status().ok()) return opened->set_value(com.status());
          DWORD task = 0;
          HANDLE mmcss = AvSetMmThreadCharacteristicsW(L"Pro Audio", &task);
          try {
            body(stop, *opened);
          } catch (...) {
            if (mmcss) AvRevertMmThreadCharacteristics(mmcss);
            throw;
          }
          if (mmcss) AvRevertMmThreadCharacteristics(mmcss);
        } catch (...) {
          try {
            opened->set_value(Status::Error(ErrorCode::kInternal, "the sound thread failed"));
          } catch (...) {  // already set: the stream had opened
          }
        }
      });
    } catch (const std::exception&) {
      Stop();
      return Status::Error(ErrorCode::kUnavailable, "could not start the sound thread");
    }
    Status s = result.get();
    if (!s.ok()) Stop();
    return s;
  }

  void Stop() {
    if (thread_.joinable()) {
      SetEvent(stop_);
      thread_.join();
    }
    if (stop_) CloseHandle(stop_);
    stop_ = nullptr;
  }

 private:
  std::thread thread_;
  HANDLE stop_ = nullptr;
};

}  // namespace wasapi
}  // namespace tilecast
