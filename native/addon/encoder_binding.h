// JS class NativeTileEncoder(tileSize, deflateLevel, maxThreads):
//   encode(pixels, width, height, stride, rects: Uint32Array (x,y,w,h)*,
//          copies: Uint32Array (x,y,w,h,srcX,srcY)*, keyframe) -> Promise<EncodeResult>
//   encodeSync(...same) -> EncodeResult   (blocks the JS thread: bench/tests only)
// EncodeResult = { stream: Buffer, opCount, stats: { ops, pixels, rawBytes } }
#pragma once
#include <napi.h>

#include <memory>

#include "../codec/tile_encoder.h"

namespace tilecast {

class EncoderBinding : public Napi::ObjectWrap<EncoderBinding> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit EncoderBinding(const Napi::CallbackInfo& info);

 private:
  struct Job {
    FrameView frame;
    std::vector<Rect> rects;
    std::vector<CopyOp> copies;
    bool keyframe = false;
  };
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value EncodeSync(const Napi::CallbackInfo& info);
  Job ReadJob(const Napi::CallbackInfo& info);
  Napi::Value ResultToJs(Napi::Env env);

  std::unique_ptr<TileEncoder> encoder_;
  unsigned max_threads_ = 1;
  EncodedUpdate result_;
  bool busy_ = false;
};

}  // namespace tilecast
