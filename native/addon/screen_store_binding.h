// JS class NativeScreenStore(): the screens shared by the viewers of one
// capture (native/detect/screen_store.h). A host makes one and hands it to
// every NativeViewerEncoder; generations are the capture's screen ids.
//   count() -> screens alive      memoryBytes() -> their bytes
#pragma once
#include <napi.h>

#include <memory>

#include "../detect/screen_store.h"

namespace tilecast {

class ScreenStoreBinding : public Napi::ObjectWrap<ScreenStoreBinding> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ScreenStoreBinding(const Napi::CallbackInfo& info);
  // The store behind `value`, which must be a NativeScreenStore (else a TypeError).
  static std::shared_ptr<ScreenStore> FromValue(Napi::Env env, Napi::Value value);

 private:
  Napi::Value Count(const Napi::CallbackInfo& info);
  Napi::Value MemoryBytes(const Napi::CallbackInfo& info);

  std::shared_ptr<ScreenStore> store_ = std::make_shared<ScreenStore>();
};

}  // namespace tilecast
