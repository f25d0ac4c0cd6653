// JS class NativeChangeDetector(width, height, tileSize):
//   detect(pixels: Uint8Array, stride) -> Promise<Uint32Array>  (x,y,w,h per rect)
//   detectSync(pixels, stride) -> Uint32Array   (blocks the JS thread: bench/tests only)
//   reset()
#pragma once
#include <napi.h>

#include <memory>

#include "../detect/change_detector.h"

namespace tilecast {

class DetectorBinding : public Napi::ObjectWrap<DetectorBinding> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit DetectorBinding(const Napi::CallbackInfo& info);

 private:
  Napi::Value Detect(const Napi::CallbackInfo& info);
  Napi::Value DetectSync(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  FrameView ReadFrame(const Napi::CallbackInfo& info);
  void EnsureIdle(Napi::Env env);

  std::unique_ptr<ChangeDetector> detector_;
  std::vector<Rect> rects_;
  bool busy_ = false;
};

}  // namespace tilecast
