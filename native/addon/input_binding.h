// JS binding of the platform's InputInjector:
//   new NativeX11Input(display)      XTEST on its own X connection (throws ERR_UNAVAILABLE)   (Linux, BSD)
//   new NativeWindowsInput(monitor)  SendInput, coordinates on that monitor (-1: primary)    (Windows)
//   move(x, y); button(n, down); key(keysym, down) -> mapped; close()
// Calls are a few XTEST requests and a flush, or one SendInput: cheap enough for the JS thread.
#pragma once
#include <napi.h>

#include <memory>

#include "../input/input_injector.h"

namespace tilecast {

class InputBinding : public Napi::ObjectWrap<InputBinding> {
 public:
  static Napi::Function Define(Napi::Env env);
  static const char* ExportName();
  explicit InputBinding(const Napi::CallbackInfo& info);

 private:
  InputInjector& Live(Napi::Env env);
  Napi::Value Move(const Napi::CallbackInfo& info);
  Napi::Value Button(const Napi::CallbackInfo& info);
  Napi::Value Key(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Width(const Napi::CallbackInfo& info);
  Napi::Value Height(const Napi::CallbackInfo& info);

  std::unique_ptr<InputInjector> input_;
};

}  // namespace tilecast
