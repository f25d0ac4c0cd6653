// JS class NativeTileDecoder():
//   apply(framebuffer: Uint8Array, width, height, stream: Uint8Array, opCount, keyframe, images?)
//     -> Promise<{ ops: {solid, palette, truecolor, copy, jpeg, cacheRef} }>
//   applySync(...same) -> same   (blocks the JS thread: tests only)
// The framebuffer belongs to the caller (packed BGRA, width*height*4 bytes) and must
// not be touched until the promise settles.
//   setCacheBudget(bytes) -> the content cache the host agreed to (0: none)
//   cacheInfo() -> { budget, usedBytes, entries, nextId }
//   keepCache(budget, nextId, ranges: Uint32Array (first, count)*) -> the host's CACHE_KEEP (throws ERR_PROTOCOL)
// Module function clearFramebuffer(fb, width, height) paints it opaque black.
#pragma once
#include <napi.h>

#include "../codec/tile_decoder.h"
#include "../util/frame_view.h"

namespace tilecast {

class DecoderBinding : public Napi::ObjectWrap<DecoderBinding> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit DecoderBinding(const Napi::CallbackInfo& info);
  static Napi::Value ClearFramebufferJs(const Napi::CallbackInfo& info);

 private:
  struct Job {
    Framebuffer fb;
    const uint8_t* data = nullptr;
    size_t length = 0;
    uint32_t op_count = 0;
    bool keyframe = false;
    const uint8_t* images = nullptr;  // the update's image section (JPEG data)
    size_t images_length = 0;
  };
  Napi::Value Apply(const Napi::CallbackInfo& info);
  Napi::Value ApplySync(const Napi::CallbackInfo& info);
  Napi::Value SetCacheBudget(const Napi::CallbackInfo& info);
  Napi::Value CacheInfo(const Napi::CallbackInfo& info);
  Napi::Value KeepCache(const Napi::CallbackInfo& info);
  Job ReadJob(const Napi::CallbackInfo& info);
  Napi::Value StatsToJs(Napi::Env env);

  TileDecoder decoder_;
  DecodeStats stats_;
  bool busy_ = false;
};

}  // namespace tilecast
