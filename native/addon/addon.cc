// Entry point of the native addon: registers exports and nothing else.
// Each concern lives in its own binding file.
#include <napi.h>

#include "../codec/coding_scratch.h"
#include "../codec/content_cache.h"
#include "../codec/jpeg_codec.h"
#include "../codec/jpeg_lib.h"
#include "../util/allocator_tuning.h"
#include "../util/cpu_features.h"
#if defined(_WIN32)
#include "audio_binding.h"
#endif
#include "capture_binding.h"
#include "decoder_binding.h"
#include "detector_binding.h"
#include "encoder_binding.h"
#include "input_binding.h"
#include "screen_store_binding.h"
#include "viewer_encoder_binding.h"
#include "napi_helpers.h"

namespace tilecast {
namespace {

Napi::Value SimdLevelJs(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), SimdLevelName(ActiveSimdLevel()));
}

Napi::Value DetectedSimdLevelJs(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), SimdLevelName(DetectedSimdLevel()));
}

// For tests and benchmarks: run the same inputs through each kernel level.
Napi::Value SetSimdLevelJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) ThrowInvalid(info.Env(), "level must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name == "scalar") SetSimdLevel(SimdLevel::kScalar);
  else if (name == "sse2") SetSimdLevel(SimdLevel::kSse2);
  else if (name == "avx2") SetSimdLevel(SimdLevel::kAvx2);
  else ThrowInvalid(info.Env(), "level must be scalar, sse2 or avx2");
  return SimdLevelJs(info);
}

// The JS side names the libturbojpeg files that ship in the npm package (one per libc).
Napi::Value SetJpegLibraryPathsJs(const Napi::CallbackInfo& info) {
  std::vector<std::string> paths;
  for (size_t i = 0; i < info.Length(); ++i) {
    if (!info[i].IsString()) ThrowInvalid(info.Env(), "paths must be strings");
    paths.push_back(info[i].As<Napi::String>().Utf8Value());
  }
  jpeg::SetLibraryPaths(paths);
  return info.Env().Undefined();
}

// null when the JPEG codec works, else why not.
Napi::Value JpegUnavailableReasonJs(const Napi::CallbackInfo& info) {
  std::string why;
  if (JpegAvailable(&why)) return info.Env().Null();
  return Napi::String::New(info.Env(), why);
}

// Process-wide malloc tuning for long-running hosts (util/allocator_tuning.cc); the JS loader calls it
// once unless TILECAST_MALLOC_TUNING=0. Returns what it did ("" when not glibc).
Napi::Value TuneAllocatorJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) ThrowInvalid(info.Env(), "arenas must be a number");
  const int arenas = info[0].As<Napi::Number>().Int32Value();
  if (arenas < 1 || arenas > 1024) ThrowInvalid(info.Env(), "arenas must be 1..1024");
  return Napi::String::New(info.Env(), TuneAllocator(arenas));
}

// The process's pool of coding buffers (codec/coding_scratch.h): what the idle sets hold between
// encodes; the host's shared content cache pixels (codec/content_cache.h) and the memory all cache
// entries live in (codec/cache_slab.h).
Napi::Value CodingScratchJs(const Napi::CallbackInfo& info) {
  const CodingScratchPool::Stats s = CodingScratchPool::Shared().stats();
  const SharedCachePixels::Stats c = SharedCachePixels::Shared().stats();
  const CacheSlab::Stats slab = CacheSlab::Shared().stats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("idleSets", static_cast<double>(s.idle_sets));
  o.Set("idleBytes", static_cast<double>(s.idle_bytes));
  o.Set("leasedSets", static_cast<double>(s.leased_sets));
  o.Set("setsMade", static_cast<double>(s.sets_made));
  o.Set("cacheBlocks", static_cast<double>(c.blocks));
  o.Set("cacheBytes", static_cast<double>(c.bytes));
  o.Set("cacheMappedBytes", static_cast<double>(slab.mapped_bytes));
  o.Set("cacheSpareBytes", static_cast<double>(slab.spare_bytes));
  return o;
}

Napi::Value TrimCodingScratchJs(const Napi::CallbackInfo& info) {
  CodingScratchPool::Shared().Trim();
  CacheSlab::Shared().TrimSpares();
  return info.Env().Undefined();
}

}  // namespace

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeChangeDetector", DetectorBinding::Define(env));
  exports.Set("NativeTileEncoder", EncoderBinding::Define(env));
  exports.Set("NativeViewerEncoder", ViewerEncoderBinding::Define(env));
  exports.Set("NativeScreenStore", ScreenStoreBinding::Define(env));
  exports.Set("NativeTileDecoder", DecoderBinding::Define(env));
  exports.Set(CaptureBinding::ExportName(), CaptureBinding::Define(env));
  exports.Set(InputBinding::ExportName(), InputBinding::Define(env));
#if defined(_WIN32)
  exports.Set("NativeWindowsSoundCapture", SoundCaptureBinding::Define(env));
  exports.Set("NativeWindowsSoundOutput", SoundOutputBinding::Define(env));
  exports.Set("listAudioDevices", Napi::Function::New(env, ListAudioDevicesJs));
  exports.Set("findAudioDevice", Napi::Function::New(env, FindAudioDeviceJs));
#endif
  exports.Set("clearFramebuffer", Napi::Function::New(env, DecoderBinding::ClearFramebufferJs));
  exports.Set("setJpegLibraryPaths", Napi::Function::New(env, SetJpegLibraryPathsJs));
  exports.Set("jpegUnavailableReason", Napi::Function::New(env, JpegUnavailableReasonJs));
  exports.Set("simdLevel", Napi::Function::New(env, SimdLevelJs));
  exports.Set("detectedSimdLevel", Napi::Function::New(env, DetectedSimdLevelJs));
  exports.Set("setSimdLevel", Napi::Function::New(env, SetSimdLevelJs));
  exports.Set("tuneAllocator", Napi::Function::New(env, TuneAllocatorJs));
  exports.Set("codingScratch", Napi::Function::New(env, CodingScratchJs));
  exports.Set("trimCodingScratch", Napi::Function::New(env, TrimCodingScratchJs));
  return exports;
}

}  // namespace tilecast

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return tilecast::InitAddon(env, exports); }
NODE_API_MODULE(NODE_GYP_MODULE_NAME, Init)
