// WasapiRender (Windows): plays mono 48 kHz s16 PCM into a render endpoint,
// for the viewer's microphone. Windows has no user-mode way to add a
// microphone, so the endpoint is a virtual audio cable's input (a driver such
// as VB-CABLE, or a tilecast driver shipped by the deployment): what is played
// into it comes out of its capture side, which meeting apps select as their
// microphone (docs/capture-backends.md).
//
// Write() queues samples in a bounded ring; the render thread (MMCSS "Pro
// Audio") moves them into the engine's buffer on its events. After the ring
// ran dry it waits for kPrimeMs of voice before playing again, so network
// jitter becomes a steady delay instead of a crackle; more than kMaxQueuedMs
// queued (a burst after a stall) drops the oldest, keeping the delay bounded.
#pragma once
#if !defined(_WIN32)
#error "Windows only"
#endif
#include <windows.h>

#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "audio_thread.h"
#include "pcm_ring.h"
#include "wasapi_device.h"

namespace tilecast {
namespace wasapi {

constexpr uint32_t kRenderRate = 48000;
constexpr uint32_t kPrimeMs = 40;
constexpr uint32_t kMaxQueuedMs = 200;

class WasapiRender {
 public:
  using OnEnd = std::function<void(const Status&)>;

  WasapiRender() = default;
  ~WasapiRender() { Stop(); }
  WasapiRender(const WasapiRender&) = delete;
  WasapiRender& operator=(const WasapiRender&) = delete;

  // Opens render endpoint `device` (FindEndpoint; "" is the default output)
  // and starts the thread; returns once it plays or has failed.
  Status Start(const std::string& device, OnEnd on_end, Endpoint* opened);
  // Queues mono samples; returns how many older ones were dropped to make room.
  size_t Write(const int16_t* samples, size_t count);
  // Samples queued and not yet handed to the engine.
  size_t Queued();
  void Stop() { thread_.Stop(); }

 private:
  void Run(HANDLE stop, const std::string& device, std::promise<Status>& started, Endpoint* opened);

  AudioThread thread_;
  OnEnd on_end_;
  std::mutex mu_;
  PcmRing ring_{kRenderRate * kMaxQueuedMs / 1000, kRenderRate * kPrimeMs / 1000};  // guarded by mu_
};

}  // namespace wasapi
}  // namespace tilecast
