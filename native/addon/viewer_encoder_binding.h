// JS class NativeViewerEncoder(tileSize, deflateLevel, maxThreads, screenStore?):
// marshals calls to one viewer's ViewerEncoder (native/codec/viewer_encoder.h).
//   encode(pixels, width, height, stride, damage: Uint32Array (x,y,w,h)*, keyframe,
//          options?) -> Promise<EncodeResult & { lossyTileCount }>
//   encodeSync(...same) -> same result   (blocks the JS thread: bench/tests only)
//   lossyTiles() -> Uint32Array: indices of the tiles the viewer shows lossy
//   release()    -> frees the sent-frame copy now (the viewer left)
//   memoryBytes() -> bytes held for this viewer
//   setCacheBudget(bytes) -> the content cache agreed with the viewer (0: none; before the first encode)
//   takeCache()  -> the cache mirror as an opaque parked cache (an External), or null when there
//                   is none or it cannot be trusted; this encoder's mirror is then empty
//   resumeCache(parked, viewerNextId) -> { nextId, ranges: Uint32Array (first, count)* } of what
//                   both sides keep, or null; the parked cache is used up either way
// options = NativeTileEncoder's + { detectMoves?: boolean, refine?: Uint32Array rects,
//             generation?: the capture's screen id, complete?: nothing held back }
// The native memory it holds is reported to V8 (AdjustExternalMemory), so a
// closed session's megabytes count towards GC pressure until release().
#pragma once
#include <napi.h>

#include <memory>

#include "../codec/viewer_encoder.h"

namespace tilecast {

class ViewerEncoderBinding : public Napi::ObjectWrap<ViewerEncoderBinding> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ViewerEncoderBinding(const Napi::CallbackInfo& info);
  void Finalize(Napi::Env env) override;

 private:
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value EncodeSync(const Napi::CallbackInfo& info);
  Napi::Value LossyTiles(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  Napi::Value MemoryBytes(const Napi::CallbackInfo& info);
  Napi::Value SetCacheBudget(const Napi::CallbackInfo& info);
  Napi::Value TakeCache(const Napi::CallbackInfo& info);
  Napi::Value ResumeCache(const Napi::CallbackInfo& info);
  ViewerEncodeRequest ReadRequest(const Napi::CallbackInfo& info);
  Napi::Value ResultToJs(Napi::Env env);
  void ReportMemory(Napi::Env env);

  std::unique_ptr<ViewerEncoder> encoder_;
  ViewerUpdate result_;
  bool busy_ = false;
  int64_t reported_bytes_ = 0;  // what V8 was last told this object holds natively
};

}  // namespace tilecast
