#include "input_binding.h"

#include "napi_helpers.h"

#if defined(_WIN32)
#include "../input/win_input.h"
#else
#include "../input/x11_input.h"
#endif

namespace tilecast {

#if defined(_WIN32)
const char* InputBinding::ExportName() { return "NativeWindowsInput"; }
#else
const char* InputBinding::ExportName() { return "NativeX11Input"; }
#endif

Napi::Function InputBinding::Define(Napi::Env env) {
  return DefineClass(env, ExportName(),
                     {
                         InstanceMethod("move", &InputBinding::Move),
                         InstanceMethod("button", &InputBinding::Button),
                         InstanceMethod("key", &InputBinding::Key),
                         InstanceMethod("close", &InputBinding::Close),
                         InstanceAccessor("width", &InputBinding::Width, nullptr),
                         InstanceAccessor("height", &InputBinding::Height, nullptr),
                     });
}

InputBinding::InputBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<InputBinding>(info) {
#if defined(_WIN32)
  if (info.Length() < 1 || !info[0].IsNumber()) ThrowInvalid(info.Env(), "monitor must be a number");
  const double monitor = info[0].As<Napi::Number>().DoubleValue();
  if (!(monitor >= -1 && monitor <= 63) || monitor != static_cast<double>(static_cast<int32_t>(monitor))) {
    ThrowInvalid(info.Env(), "monitor must be an integer in [-1, 63]");
  }
  std::unique_ptr<WinInput> input;
  Status s = WinInput::Open(static_cast<int32_t>(monitor), &input);
#else
  if (info.Length() < 1 || !info[0].IsString()) ThrowInvalid(info.Env(), "display must be a string");
  std::unique_ptr<X11Input> input;
  Status s = X11Input::Open(info[0].As<Napi::String>().Utf8Value(), &input);
#endif
  if (!s.ok()) throw MakeError(info.Env(), s);
  input_ = std::move(input);
}

InputInjector& InputBinding::Live(Napi::Env env) {
  if (!input_) throw MakeError(env, ErrorCode::kUnavailable, "input is closed");
  return *input_;
}

static int32_t ArgI32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) ThrowInvalid(info.Env(), std::string(name) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= -32768 && v <= 65535) || v != static_cast<double>(static_cast<int32_t>(v))) {
    ThrowInvalid(info.Env(), std::string(name) + " must be an integer in [-32768, 65535]");
  }
  return static_cast<int32_t>(v);
}

Napi::Value InputBinding::Move(const Napi::CallbackInfo& info) {
  Status s = Live(info.Env()).Move(ArgI32(info, 0, "x"), ArgI32(info, 1, "y"));
  if (!s.ok()) throw MakeError(info.Env(), s);
  return info.Env().Undefined();
}

Napi::Value InputBinding::Button(const Napi::CallbackInfo& info) {
  Status s = Live(info.Env()).Button(ArgU32(info, 0, "button"), ArgBool(info, 1, "down"));
  if (!s.ok()) throw MakeError(info.Env(), s);
  return info.Env().Undefined();
}

Napi::Value InputBinding::Key(const Napi::CallbackInfo& info) {
  bool mapped = false;
  Status s = Live(info.Env()).Key(ArgU32(info, 0, "keysym"), ArgBool(info, 1, "down"), &mapped);
  if (!s.ok()) throw MakeError(info.Env(), s);
  return Napi::Boolean::New(info.Env(), mapped);
}

Napi::Value InputBinding::Close(const Napi::CallbackInfo& info) {
  input_.reset();  // releases keys still held and closes the connection
  return info.Env().Undefined();
}

Napi::Value InputBinding::Width(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), input_ ? input_->width() : 0); }
Napi::Value InputBinding::Height(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), input_ ? input_->height() : 0); }

}  // namespace tilecast
