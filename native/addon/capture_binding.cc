#include "capture_binding.h"

#include "napi_helpers.h"

namespace tilecast {

using BackendFactory = CaptureThread::BackendFactory;

#if defined(_WIN32)
const char* CaptureBinding::ExportName() { return "NativeWindowsCapture"; }
#else
const char* CaptureBinding::ExportName() { return "NativeX11Capture"; }
#endif

Napi::Function CaptureBinding::Define(Napi::Env env) {
  return DefineClass(env, ExportName(),
                     {
                         InstanceMethod("start", &CaptureBinding::Start),
                         InstanceMethod("next", &CaptureBinding::Next),
                         InstanceMethod("close", &CaptureBinding::Close),
                     });
}

CaptureBinding::CaptureBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CaptureBinding>(info) {
  Napi::Env env = info.Env();
#if defined(_WIN32)
  if (info.Length() < 1 || !info[0].IsString()) ThrowInvalid(env, "mode must be a string");
  const std::string mode = info[0].As<Napi::String>().Utf8Value();
  WindowsBackendOptions backend;
  if (mode == "auto") backend.mode = WindowsCaptureMode::kAuto;
  else if (mode == "dxgi") backend.mode = WindowsCaptureMode::kDxgi;
  else if (mode == "gdi") backend.mode = WindowsCaptureMode::kGdi;
  else ThrowInvalid(env, "mode must be 'auto', 'dxgi' or 'gdi'");
  if (info.Length() < 2 || !info[1].IsNumber()) ThrowInvalid(env, "monitor must be a number");
  const double monitor = info[1].As<Napi::Number>().DoubleValue();
  if (!(monitor >= -1 && monitor <= 63) || monitor != static_cast<double>(static_cast<int32_t>(monitor))) {
    ThrowInvalid(env, "monitor must be an integer in [-1, 63]");
  }
  backend.monitor = static_cast<int32_t>(monitor);
  const size_t first_option = 2;
  BackendFactory factory = [backend] { return CreateWindowsBackend(backend); };
#else
  if (info.Length() < 1 || !info[0].IsString()) ThrowInvalid(env, "display must be a string");
  const std::string display = info[0].As<Napi::String>().Utf8Value();
  const size_t first_option = 1;
  BackendFactory factory = [display] { return CreateX11Backend(display); };
#endif
  CaptureOptions options;
  options.poll_interval_ms = ArgU32(info, first_option, "pollIntervalMs");
  options.verify_interval_ms = ArgU32(info, first_option + 1, "verifyIntervalMs");
  if (options.poll_interval_ms < 1 || options.poll_interval_ms > 10000) ThrowInvalid(env, "pollIntervalMs must be 1..10000");
  if (options.verify_interval_ms < 100 || options.verify_interval_ms > 3600000) ThrowInvalid(env, "verifyIntervalMs must be 100..3600000");

  // The wrapper stays alive until the thread-safe function is finalized (after
  // close()), so no queued callback can outlive `this`.
  Ref();
  tsfn_ = Napi::ThreadSafeFunction::New(
      env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "tilecast.capture", 0, 1,
      [this](Napi::Env) { Unref(); });
  tsfn_.Unref(env);  // only a waiting start()/next() keeps the event loop alive

  CaptureThread::Callbacks callbacks;
  callbacks.opened = [this](const Status& s, const CaptureOpened& opened) {
    tsfn_.NonBlockingCall([this, s, opened](Napi::Env env, Napi::Function) { OnOpened(env, s, opened); });
  };
  callbacks.frame = [this](CapturedFrame frame) {
    auto f = std::make_shared<CapturedFrame>(std::move(frame));
    tsfn_.NonBlockingCall([this, f](Napi::Env env, Napi::Function) { OnFrame(env, *f); });
  };
  callbacks.failed = [this](const Status& s) {
    tsfn_.NonBlockingCall([this, s](Napi::Env env, Napi::Function) { OnFailed(env, s); });
  };
  thread_ = std::make_unique<CaptureThread>(std::move(factory), options, std::move(callbacks));
}

CaptureBinding::~CaptureBinding() {
  if (thread_) thread_->Stop();
}

Napi::Value CaptureBinding::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) throw MakeError(env, ErrorCode::kUnavailable, "capture is closed");
  if (started_) throw MakeError(env, ErrorCode::kBusy, "start() was already called");
  started_ = true;
  start_deferred_ = std::make_unique<Napi::Promise::Deferred>(env);
  Napi::Promise promise = start_deferred_->Promise();
  tsfn_.Ref(env);
  thread_->Start();
  return promise;
}

Napi::Value CaptureBinding::Next(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto deferred = Napi::Promise::Deferred::New(env);
  if (closed_) {
    deferred.Resolve(env.Null());
    return deferred.Promise();
  }
  if (!started_) throw MakeError(env, ErrorCode::kInvalidArgument, "call start() before next()");
  if (next_deferred_) throw MakeError(env, ErrorCode::kBusy, "next() is already waiting for a frame");
  Status s = thread_->Request();
  if (!s.ok()) throw MakeError(env, s);
  next_deferred_ = std::make_unique<Napi::Promise::Deferred>(deferred);
  tsfn_.Ref(env);
  return deferred.Promise();
}

void CaptureBinding::Close(const Napi::CallbackInfo&) { Shutdown(); }

void CaptureBinding::Shutdown() {
  if (closed_) return;
  closed_ = true;
  thread_->Stop();
  Napi::Env env = Env();
  if (next_deferred_) {
    next_deferred_->Resolve(env.Null());
    next_deferred_.reset();
  }
  if (start_deferred_) {
    start_deferred_->Reject(MakeError(env, ErrorCode::kUnavailable, "capture was closed before it opened").Value());
    start_deferred_.reset();
  }
  tsfn_.Release();
}

void CaptureBinding::OnOpened(Napi::Env env, const Status& status, const CaptureOpened& opened) {
  if (closed_ || !start_deferred_) return;
  auto deferred = std::move(start_deferred_);
  if (!next_deferred_) tsfn_.Unref(env);
  if (!status.ok()) {
    deferred->Reject(MakeError(env, status).Value());
    return;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("width", opened.width);
  out.Set("height", opened.height);
  Napi::Object features = Napi::Object::New(env);
  features.Set("sharedMemory", opened.features.shared_memory);
  features.Set("damage", opened.features.damage);
  features.Set("cursor", opened.features.cursor);
  features.Set("resizeEvents", opened.features.resize_events);
  out.Set("features", features);
  out.Set("backend", opened.backend);
  if (!opened.fallback_reason.empty()) out.Set("fallbackReason", opened.fallback_reason);
  deferred->Resolve(out);
}

Napi::Value CaptureBinding::MirrorBuffer(Napi::Env env, const std::shared_ptr<const ScreenMirror>& mirror) {
  if (mirror.get() != mirror_ptr_ || mirror_buffer_.IsEmpty()) {
    // The Buffer owns a reference to the mirror: the pixels live as long as JS
    // holds the Buffer, even after a resize replaced the mirror.
    auto* hold = new std::shared_ptr<const ScreenMirror>(mirror);
    auto buffer = Napi::Buffer<uint8_t>::New(
        env, const_cast<uint8_t*>(mirror->pixels.data()), mirror->pixels.size(),
        [](Napi::Env, uint8_t*, std::shared_ptr<const ScreenMirror>* h) { delete h; }, hold);
    mirror_buffer_ = Napi::Persistent(buffer);
    mirror_ptr_ = mirror.get();
  }
  return mirror_buffer_.Value();
}

void CaptureBinding::OnFrame(Napi::Env env, CapturedFrame& frame) {
  if (closed_ || !next_deferred_) return;
  auto deferred = std::move(next_deferred_);
  tsfn_.Unref(env);
  Napi::Object out = Napi::Object::New(env);
  out.Set("data", MirrorBuffer(env, frame.mirror));
  out.Set("width", frame.mirror->width);
  out.Set("height", frame.mirror->height);
  out.Set("stride", static_cast<double>(frame.mirror->stride));
  // Age rather than an absolute time: JS turns it into its own clock.
  out.Set("ageMs", static_cast<double>(MonotonicNs() - frame.grabbed_ns) / 1e6);
  out.Set("damage", RectsToJs(env, frame.damage));
  out.Set("resized", frame.resized);
  out.Set("grabMs", frame.grab_ms);
  Napi::Object cursor = Napi::Object::New(env);
  cursor.Set("x", frame.cursor_x);
  cursor.Set("y", frame.cursor_y);
  cursor.Set("visible", frame.cursor_visible);
  cursor.Set("moved", frame.cursor_moved);
  if (frame.cursor_shape) {
    const CursorImage& c = *frame.cursor_shape;
    Napi::Object shape = Napi::Object::New(env);
    shape.Set("width", c.width);
    shape.Set("height", c.height);
    shape.Set("hotX", c.hot_x);
    shape.Set("hotY", c.hot_y);
    shape.Set("pixels", Napi::Buffer<uint8_t>::Copy(env, c.bgra.data(), c.bgra.size()));
    cursor.Set("shape", shape);
  }
  out.Set("cursor", cursor);
  deferred->Resolve(out);
}

void CaptureBinding::OnFailed(Napi::Env env, const Status& status) {
  if (closed_ || !next_deferred_) return;
  auto deferred = std::move(next_deferred_);
  tsfn_.Unref(env);
  deferred->Reject(MakeError(env, status).Value());
}

}  // namespace tilecast
