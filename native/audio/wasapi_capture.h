// WasapiCapture (Windows): what the PC plays, as 48 kHz s16 PCM, on its own
// MMCSS "Pro Audio" thread.
//
// A render endpoint (the default one when no device is named) is recorded in
// loopback; a capture endpoint (a microphone, or a virtual cable's output) is
// recorded as it is. AUTOCONVERTPCM lets the audio engine convert its mix
// format (usually float at 44.1/48 kHz) to what we ask. Loopback delivers
// nothing while nothing plays, so the thread inserts silence on its own clock:
// the stream keeps its 20 ms frames (Opus DTX makes them ~1 byte) and its
// timeline. When the default output changes (a headset plugged in) the
// default-device capture reopens on the new one.
//
// Each chunk carries the age of its last sample at delivery (from the QPC
// time WASAPI stamps each packet with): the caller's framer turns that into
// capture times better than arrival stamps would.
#pragma once
#if !defined(_WIN32)
#error "Windows only"
#endif
#include <windows.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "audio_thread.h"
#include "wasapi_device.h"

namespace tilecast {
namespace wasapi {

constexpr uint32_t kSampleRate = 48000;

struct PcmChunk {
  std::vector<int16_t> samples;  // interleaved
  double end_age_ms = 0;         // how long ago its last sample was captured
};

struct CaptureOpened {
  Endpoint endpoint;
  bool loopback = false;
};

class WasapiCapture {
 public:
  using OnChunk = std::function<void(PcmChunk&&)>;
  using OnReopened = std::function<void(const CaptureOpened&)>;  // the default output changed and recording moved to it
  using OnEnd = std::function<void(const Status&)>;            // once, when the stream ended on its own

  WasapiCapture() = default;
  ~WasapiCapture() { Stop(); }  // before the callbacks go
  WasapiCapture(const WasapiCapture&) = delete;
  WasapiCapture& operator=(const WasapiCapture&) = delete;

  // Opens `device` (see FindEndpoint; "" is the default output, in loopback)
  // with 1 or 2 channels and starts the thread; returns once it is recording
  // (filling `opened`) or has failed. Callbacks run on the capture thread.
  Status Start(const std::string& device, int channels, OnChunk on_chunk, OnReopened on_reopened, OnEnd on_end, CaptureOpened* opened);
  // Ends the thread (no callback after it returns).
  void Stop() { thread_.Stop(); }

 private:
  void Run(HANDLE stop, const std::string& device, int channels, std::promise<Status>& started, CaptureOpened* opened);

  AudioThread thread_;
  OnChunk on_chunk_;
  OnReopened on_reopened_;
  OnEnd on_end_;
};

}  // namespace wasapi
}  // namespace tilecast
