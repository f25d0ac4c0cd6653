// JS class NativeTileEncoder(tileSize, deflateLevel, maxThreads): rects in, one
// update's op stream out, through the encoder's persistent deflate stream. It
// remembers nothing about the viewer (NativeViewerEncoder does).
//   encode(pixels, width, height, stride, rects: Uint32Array (x,y,w,h)*,
//          copies: Uint32Array (x,y,w,h,srcX,srcY)*, keyframe, options?) -> Promise<EncodeResult>
//   encodeSync(...same) -> EncodeResult   (blocks the JS thread: bench/tests only)
// options = { lossyMask?: Uint8Array (one flag per tile), quality?: 1..100,
//             subsampling444?: boolean, optimizeHuffman?: boolean }
// EncodeResult = { stream: Buffer, images: Buffer, opCount, keyframe, copies, rects,
//                  lossyRects, stats: { ops, pixels, rawBytes } }
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
    std::vector<uint8_t> lossy_mask;  // empty: nothing may go lossy
    JpegParams jpeg;
  };
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value EncodeSync(const Napi::CallbackInfo& info);
  Job ReadJob(const Napi::CallbackInfo& info);
  Status Run(const Job& job);
  Napi::Value ResultToJs(Napi::Env env, const Job& job);

  std::unique_ptr<TileEncoder> encoder_;
  unsigned max_threads_ = 1;
  EncodedUpdate result_;
  bool busy_ = false;
};

}  // namespace tilecast
