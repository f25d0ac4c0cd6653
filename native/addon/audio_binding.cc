#include "audio_binding.h"

#include "napi_helpers.h"

namespace tilecast {
namespace {

// Chunks waiting for the JS thread; beyond this (2 s of 10 ms packets) new ones are dropped and counted.
constexpr size_t kMaxQueuedChunks = 200;
// The longest device query accepted (ids are ~60 characters, names shorter).
constexpr size_t kMaxDeviceQuery = 512;

std::string ArgDevice(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) ThrowInvalid(info.Env(), "device must be a string");
  std::string device = info[0].As<Napi::String>().Utf8Value();
  if (device.size() > kMaxDeviceQuery) ThrowInvalid(info.Env(), "device must be at most 512 bytes");
  return device;
}

Napi::Object EndpointToJs(Napi::Env env, const wasapi::Endpoint& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", e.id);
  o.Set("name", e.name);
  o.Set("render", e.render);
  o.Set("isDefault", e.is_default);
  return o;
}

Napi::Object StatusToJs(Napi::Env env, const Status& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", ErrorCodeName(s.code()));
  o.Set("message", s.message());
  return o;
}

}  // namespace

Napi::Function SoundCaptureBinding::Define(Napi::Env env) {
  return DefineClass(env, "NativeWindowsSoundCapture",
                     {
                         InstanceAccessor("endpoint", &SoundCaptureBinding::Endpoint, nullptr),
                         InstanceAccessor("loopback", &SoundCaptureBinding::Loopback, nullptr),
                         InstanceAccessor("dropped", &SoundCaptureBinding::Dropped, nullptr),
                         InstanceMethod("close", &SoundCaptureBinding::Close),
                     });
}

SoundCaptureBinding::SoundCaptureBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SoundCaptureBinding>(info) {
  Napi::Env env = info.Env();
  const std::string device = ArgDevice(info);
  const uint32_t channels = ArgU32(info, 1, "channels");
  if (channels != 1 && channels != 2) ThrowInvalid(env, "channels must be 1 or 2");
  if (info.Length() < 3 || !info[2].IsFunction()) ThrowInvalid(env, "onEvent must be a function");
  // The JS-thread halves of the callbacks hold only their own data, never `this`; the capture-thread
  // halves end before `this` does (Stop() joins). So the wrapper may die with queued calls pending.
  tsfn_ = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "tilecast.sound", kMaxQueuedChunks, 1);
  auto on_chunk = [this](wasapi::PcmChunk&& chunk) {
    auto c = std::make_shared<wasapi::PcmChunk>(std::move(chunk));
    napi_status s = tsfn_.NonBlockingCall([c](Napi::Env env, Napi::Function fn) {
      fn.Call({Napi::String::New(env, "chunk"),
               Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(c->samples.data()), c->samples.size() * sizeof(int16_t)),
               Napi::Number::New(env, c->end_age_ms)});
    });
    if (s != napi_ok) dropped_++;
  };
  // Never a blocking call: close() joins the capture thread, which must not wait on a full queue meanwhile.
  auto deliver = [this](std::function<void(Napi::Env, Napi::Function)> call) {
    while (tsfn_.NonBlockingCall(call) == napi_queue_full && !closing_) Sleep(5);
  };
  auto on_reopened = [deliver](const wasapi::CaptureOpened& opened) {
    deliver([opened](Napi::Env env, Napi::Function fn) { fn.Call({Napi::String::New(env, "reopened"), EndpointToJs(env, opened.endpoint)}); });
  };
  auto on_end = [deliver](const Status& status) {
    deliver([status](Napi::Env env, Napi::Function fn) { fn.Call({Napi::String::New(env, "ended"), StatusToJs(env, status)}); });
  };
  Status s = capture_.Start(device, static_cast<int>(channels), on_chunk, on_reopened, on_end, &opened_);
  if (!s.ok()) {
    closed_ = true;
    tsfn_.Release();
    throw MakeError(env, s);
  }
}

SoundCaptureBinding::~SoundCaptureBinding() { Shutdown(); }

Napi::Value SoundCaptureBinding::Endpoint(const Napi::CallbackInfo& info) { return EndpointToJs(info.Env(), opened_.endpoint); }
Napi::Value SoundCaptureBinding::Loopback(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), opened_.loopback); }
Napi::Value SoundCaptureBinding::Dropped(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), dropped_.load()); }

void SoundCaptureBinding::Close(const Napi::CallbackInfo&) { Shutdown(); }

void SoundCaptureBinding::Shutdown() {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  capture_.Stop();  // joins: no callback is queued after this
  tsfn_.Release();
}

Napi::Function SoundOutputBinding::Define(Napi::Env env) {
  return DefineClass(env, "NativeWindowsSoundOutput",
                     {
                         InstanceAccessor("endpoint", &SoundOutputBinding::Endpoint, nullptr),
                         InstanceMethod("write", &SoundOutputBinding::Write),
                         InstanceMethod("queued", &SoundOutputBinding::Queued),
                         InstanceMethod("close", &SoundOutputBinding::Close),
                     });
}

SoundOutputBinding::SoundOutputBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SoundOutputBinding>(info) {
  Napi::Env env = info.Env();
  const std::string device = ArgDevice(info);
  if (info.Length() < 2 || !info[1].IsFunction()) ThrowInvalid(env, "onEnded must be a function");
  tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "tilecast.soundOutput", 0, 1);
  tsfn_.Unref(env);  // a playing output does not keep the process alive
  auto on_end = [this](const Status& status) {
    tsfn_.BlockingCall([status](Napi::Env env, Napi::Function fn) { fn.Call({StatusToJs(env, status)}); });
  };
  Status s = render_.Start(device, on_end, &endpoint_);
  if (!s.ok()) {
    closed_ = true;
    tsfn_.Release();
    throw MakeError(env, s);
  }
}

SoundOutputBinding::~SoundOutputBinding() { Shutdown(); }

Napi::Value SoundOutputBinding::Endpoint(const Napi::CallbackInfo& info) { return EndpointToJs(info.Env(), endpoint_); }

Napi::Value SoundOutputBinding::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array) {
    ThrowInvalid(env, "pcm must be an Int16Array");
  }
  if (closed_) throw MakeError(env, ErrorCode::kUnavailable, "the sound output is closed");
  auto pcm = info[0].As<Napi::Int16Array>();
  return Napi::Number::New(env, static_cast<double>(render_.Write(pcm.Data(), pcm.ElementLength())));
}

Napi::Value SoundOutputBinding::Queued(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(render_.Queued())); }

void SoundOutputBinding::Close(const Napi::CallbackInfo&) { Shutdown(); }

void SoundOutputBinding::Shutdown() {
  if (closed_) return;
  closed_ = true;
  render_.Stop();
  tsfn_.Release();
}

Napi::Value ListAudioDevicesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Enumerated on a thread of our own: COM's apartment there is ours to choose (the JS thread's is not).
  std::vector<wasapi::Endpoint> all;
  Status s;
  std::thread([&] {
    wasapi::ComApartment com;
    s = com.status();
    if (s.ok()) s = wasapi::ListEndpoints(&all);
  }).join();
  if (!s.ok()) throw MakeError(env, s);
  Napi::Array out = Napi::Array::New(env, all.size());
  for (size_t i = 0; i < all.size(); ++i) out.Set(static_cast<uint32_t>(i), EndpointToJs(env, all[i]));
  return out;
}

Napi::Value FindAudioDeviceJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string query = ArgDevice(info);
  if (info.Length() < 2 || !info[1].IsString()) ThrowInvalid(env, "want must be 'render', 'capture' or 'any'");
  const std::string want_name = info[1].As<Napi::String>().Utf8Value();
  wasapi::Want want;
  if (want_name == "render") want = wasapi::Want::kRender;
  else if (want_name == "capture") want = wasapi::Want::kCapture;
  else if (want_name == "any") want = wasapi::Want::kAny;
  else ThrowInvalid(env, "want must be 'render', 'capture' or 'any'");
  wasapi::Endpoint found;
  Status s;
  std::thread([&] {  // a COM apartment of our own, as for listAudioDevices
    wasapi::ComApartment com;
    s = com.status();
    Com<IMMDevice> device;
    if (s.ok()) s = wasapi::FindEndpoint(query, want, &device, &found);
  }).join();
  if (!s.ok()) throw MakeError(env, s);
  return EndpointToJs(env, found);
}

}  // namespace tilecast
