// JS binding of CaptureThread with the platform's backend:
//   new NativeX11Capture(display, pollIntervalMs, verifyIntervalMs)            (Linux, BSD)
//   new NativeWindowsCapture(mode, monitor, pollIntervalMs, verifyIntervalMs)  (Windows;
//       mode 'auto' | 'dxgi' | 'gdi', monitor -1 for the primary)
//   start(): Promise<{ width, height, features, backend, fallbackReason }>  opens it on the capture thread
//   next():  Promise<frame | null>                  the next change (null after close)
//   close()
// Frames are answered from the capture thread through a thread-safe function;
// the pixels stay in a native mirror that JS sees as an external Buffer.
#pragma once
#include <napi.h>

#include <memory>

#include "../capture/capture_thread.h"

namespace tilecast {

class CaptureBinding : public Napi::ObjectWrap<CaptureBinding> {
 public:
  static Napi::Function Define(Napi::Env env);
  // The name the class is exported under on this platform.
  static const char* ExportName();
  explicit CaptureBinding(const Napi::CallbackInfo& info);
  ~CaptureBinding() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Next(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  // JS-thread halves of the capture thread's callbacks.
  void OnOpened(Napi::Env env, const Status& status, const CaptureOpened& info);
  void OnFrame(Napi::Env env, CapturedFrame& frame);
  void OnFailed(Napi::Env env, const Status& status);
  Napi::Value MirrorBuffer(Napi::Env env, const std::shared_ptr<const ScreenMirror>& mirror);
  void Shutdown();

  std::unique_ptr<CaptureThread> thread_;
  Napi::ThreadSafeFunction tsfn_;
  bool closed_ = false;
  bool started_ = false;
  std::unique_ptr<Napi::Promise::Deferred> start_deferred_;
  std::unique_ptr<Napi::Promise::Deferred> next_deferred_;
  const ScreenMirror* mirror_ptr_ = nullptr;
  Napi::Reference<Napi::Buffer<uint8_t>> mirror_buffer_;
};

}  // namespace tilecast
