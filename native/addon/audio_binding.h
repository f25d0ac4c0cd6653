// JS bindings of the WASAPI sound capture and output (Windows builds only):
//   new NativeWindowsSoundCapture(device, channels, onEvent)   opens it (throws ERR_UNAVAILABLE with WASAPI's reason)
//       device: '' for the default output in loopback, else an endpoint id or (part of) its name
//       onEvent('chunk', pcm: Buffer (s16 interleaved, 48 kHz), endAgeMs)
//       onEvent('reopened', endpoint)   the default output changed; recording follows it
//       onEvent('ended', { code, message })   the stream failed; nothing follows
//     .endpoint { id, name, render, isDefault }, .loopback, .dropped (chunks JS was too slow for), close()
//   new NativeWindowsSoundOutput(device, onEnded)   plays mono 48 kHz s16 into a render endpoint
//     .endpoint, write(Int16Array) -> samples dropped, queued() -> samples waiting, close()
//   listAudioDevices() -> [{ id, name, render, isDefault }]
//   findAudioDevice(query, 'render' | 'capture' | 'any') -> { id, name, render, isDefault }
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>

#include "../audio/wasapi_capture.h"
#include "../audio/wasapi_render.h"

namespace tilecast {

class SoundCaptureBinding : public Napi::ObjectWrap<SoundCaptureBinding> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit SoundCaptureBinding(const Napi::CallbackInfo& info);
  ~SoundCaptureBinding() override;

 private:
  Napi::Value Endpoint(const Napi::CallbackInfo& info);
  Napi::Value Loopback(const Napi::CallbackInfo& info);
  Napi::Value Dropped(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  void Shutdown();

  wasapi::WasapiCapture capture_;
  wasapi::CaptureOpened opened_;
  Napi::ThreadSafeFunction tsfn_;
  std::atomic<uint32_t> dropped_{0};
  std::atomic<bool> closing_{false};
  bool closed_ = false;
};

class SoundOutputBinding : public Napi::ObjectWrap<SoundOutputBinding> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit SoundOutputBinding(const Napi::CallbackInfo& info);
  ~SoundOutputBinding() override;

 private:
  Napi::Value Endpoint(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Queued(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  void Shutdown();

  wasapi::WasapiRender render_;
  wasapi::Endpoint endpoint_;
  Napi::ThreadSafeFunction tsfn_;
  bool closed_ = false;
};

Napi::Value ListAudioDevicesJs(const Napi::CallbackInfo& info);
// findAudioDevice(query, 'render' | 'capture' | 'any') -> endpoint: wasapi::FindEndpoint's matching (throws ERR_UNAVAILABLE naming the candidates).
Napi::Value FindAudioDeviceJs(const Napi::CallbackInfo& info);

}  // namespace tilecast
