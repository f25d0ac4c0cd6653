// JS binding of X11Input: `NativeX11Input`.
//   new NativeX11Input(display)     opens its own X connection (throws ERR_UNAVAILABLE)
//   move(x, y); button(n, down); key(keysym, down) -> mapped; close()
// Calls are a few XTEST requests and a flush: cheap enough for the JS thread.
#pragma once
#include <napi.h>

#include <memory>

#include "../input/x11_input.h"

namespace tilecast {

class InputBinding : public Napi::ObjectWrap<InputBinding> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit InputBinding(const Napi::CallbackInfo& info);

 private:
  X11Input& Live(Napi::Env env);
  Napi::Value Move(const Napi::CallbackInfo& info);
  Napi::Value Button(const Napi::CallbackInfo& info);
  Napi::Value Key(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Width(const Napi::CallbackInfo& info);
  Napi::Value Height(const Napi::CallbackInfo& info);

  std::unique_ptr<X11Input> input_;
};

}  // namespace tilecast
