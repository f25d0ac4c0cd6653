#include "screen_store_binding.h"

#include "napi_helpers.h"

namespace tilecast {
namespace {

// The constructor, per addon instance, to recognise NativeScreenStore objects.
// (It holds the addon's one instance-data slot: another binding that needs
// per-instance data must share a struct with it.)
struct StoreClass {
  Napi::FunctionReference constructor;
};

}  // namespace

Napi::Function ScreenStoreBinding::Define(Napi::Env env) {
  Napi::Function fn = DefineClass(env, "NativeScreenStore",
                                  {InstanceMethod<&ScreenStoreBinding::Count>("count"),
                                   InstanceMethod<&ScreenStoreBinding::MemoryBytes>("memoryBytes")});
  env.SetInstanceData<StoreClass>(new StoreClass{Napi::Persistent(fn)});  // deleted with the addon instance
  return fn;
}

ScreenStoreBinding::ScreenStoreBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ScreenStoreBinding>(info) {}

std::shared_ptr<ScreenStore> ScreenStoreBinding::FromValue(Napi::Env env, Napi::Value value) {
  StoreClass* data = env.GetInstanceData<StoreClass>();
  if (!data || !value.IsObject() || !value.As<Napi::Object>().InstanceOf(data->constructor.Value())) {
    ThrowInvalid(env, "screenStore must be a NativeScreenStore");
  }
  return Unwrap(value.As<Napi::Object>())->store_;
}

Napi::Value ScreenStoreBinding::Count(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(store_->Count()));
}

Napi::Value ScreenStoreBinding::MemoryBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(store_->MemoryBytes()));
}

}  // namespace tilecast
