// JS class NativeTileEncoder(tileSize, deflateLevel, maxThreads, trackSent):
//   encode(pixels, width, height, stride, rects: Uint32Array (x,y,w,h)*,
//          copies: Uint32Array (x,y,w,h,srcX,srcY)*, keyframe, options?) -> Promise<EncodeResult>
//   encodeSync(...same) -> EncodeResult   (blocks the JS thread: bench/tests only)
// options = { lossyMask?: Uint8Array (one flag per tile), quality?: 1..100,
//             subsampling444?: boolean, optimizeHuffman?: boolean, detectMoves?: boolean,
//             refine?: Uint32Array rects }
// EncodeResult = { stream: Buffer, images: Buffer, opCount, keyframe, copies, rects,
//                  lossyRects, lossyTiles?: Uint8Array, stats: { ops, pixels, rawBytes } }
//
// With trackSent the encoder keeps a SentFrame (what its viewer was sent): `rects`
// are then the damage to look at, and what is sent is computed against the sent
// frame — moves found there (detectMoves), the residual that still differs,
// plus `refine` rects re-sent lossless. `copies` must then be empty; a
// non-keyframe before the first keyframe becomes a keyframe.
#pragma once
#include <napi.h>

#include <memory>

#include "../codec/tile_encoder.h"
#include "../detect/sent_frame.h"

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
    bool detect_moves = false;
    std::vector<Rect> refine;
  };
  struct Result {
    EncodedUpdate update;
    std::vector<CopyOp> copies;
    std::vector<Rect> rects;
    bool keyframe = false;
  };
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value EncodeSync(const Napi::CallbackInfo& info);
  Job ReadJob(const Napi::CallbackInfo& info);
  Status Run(Job& job);
  Napi::Value ResultToJs(Napi::Env env);

  std::unique_ptr<TileEncoder> encoder_;
  std::unique_ptr<SentFrame> sent_;  // when tracking what the viewer has
  unsigned max_threads_ = 1;
  Result result_;
  bool busy_ = false;
};

}  // namespace tilecast
