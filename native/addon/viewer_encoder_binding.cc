#include "viewer_encoder_binding.h"

#include "encode_args.h"
#include "napi_helpers.h"
#include "screen_store_binding.h"

namespace tilecast {
namespace {

// A parked cache mirror between two connections of one viewer. Its pixels
// count towards V8's external memory while parked, as the encoder's do.
struct ParkedCache {
  std::unique_ptr<ContentCache> cache;
  int64_t reported = 0;
};
constexpr napi_type_tag kParkedCacheTag = {0x74637061726b6564ull, 0x636163686531ull};  // "tcparked" "cache1"

}  // namespace

Napi::Function ViewerEncoderBinding::Define(Napi::Env env) {
  return DefineClass(env, "NativeViewerEncoder",
                     {InstanceMethod<&ViewerEncoderBinding::Encode>("encode"),
                      InstanceMethod<&ViewerEncoderBinding::EncodeSync>("encodeSync"),
                      InstanceMethod<&ViewerEncoderBinding::LossyTiles>("lossyTiles"),
                      InstanceMethod<&ViewerEncoderBinding::Release>("release"),
                      InstanceMethod<&ViewerEncoderBinding::MemoryBytes>("memoryBytes"),
                      InstanceMethod<&ViewerEncoderBinding::SetCacheBudget>("setCacheBudget"),
                      InstanceMethod<&ViewerEncoderBinding::TakeCache>("takeCache"),
                      InstanceMethod<&ViewerEncoderBinding::ResumeCache>("resumeCache")});
}

ViewerEncoderBinding::ViewerEncoderBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ViewerEncoderBinding>(info) {
  const uint32_t tile = ArgU32(info, 0, "tileSize"), level = ArgU32(info, 1, "deflateLevel");
  const uint32_t threads = ArgU32(info, 2, "maxThreads");
  if (tile < kMinTileSize || tile > kMaxTileSize) ThrowInvalid(info.Env(), "tileSize out of range");
  if (level < 1 || level > 9) ThrowInvalid(info.Env(), "deflateLevel must be 1..9");
  if (threads < 1 || threads > 64) ThrowInvalid(info.Env(), "maxThreads must be 1..64");
  std::shared_ptr<ScreenStore> store;
  if (info.Length() > 3 && !info[3].IsUndefined() && !info[3].IsNull()) store = ScreenStoreBinding::FromValue(info.Env(), info[3]);
  encoder_ = std::make_unique<ViewerEncoder>(tile, static_cast<int>(level), threads, std::move(store));
}

void ViewerEncoderBinding::Finalize(Napi::Env env) {
  if (reported_bytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(env, -reported_bytes_);
  reported_bytes_ = 0;
}

void ViewerEncoderBinding::ReportMemory(Napi::Env env) {
  const int64_t now = static_cast<int64_t>(encoder_->MemoryBytes());
  if (now != reported_bytes_) Napi::MemoryManagement::AdjustExternalMemory(env, now - reported_bytes_);
  reported_bytes_ = now;
}

ViewerEncodeRequest ViewerEncoderBinding::ReadRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (busy_) throw MakeError(env, ErrorCode::kBusy, "an encode() call is still running on this encoder");
  ViewerEncodeRequest req;
  req.frame = ArgFrame(info, 0);
  req.damage = ArgRects(info, 4, "damage", req.frame);
  req.keyframe = ArgBool(info, 5, "keyframe");
  Napi::Object o = ArgOptions(info, 6);
  ReadLossyOptions(env, o, req.frame, encoder_->tile_size(), &req.lossy_mask, &req.jpeg);
  Napi::Value dm = o.Get("detectMoves");
  if (!dm.IsUndefined()) {
    if (!dm.IsBoolean()) ThrowInvalid(env, "detectMoves must be a boolean");
    req.detect_moves = dm.As<Napi::Boolean>().Value();
  }
  Napi::Value gen = o.Get("generation");
  if (!gen.IsUndefined()) {
    const double v = gen.IsNumber() ? gen.As<Napi::Number>().DoubleValue() : -1;
    if (!(v >= 0 && v <= 9007199254740991.0) || v != static_cast<double>(static_cast<uint64_t>(v))) {
      ThrowInvalid(env, "generation must be an integer 0..2^53-1");
    }
    req.generation = static_cast<uint64_t>(v);
  }
  Napi::Value pd = o.Get("paletteDiff");
  if (!pd.IsUndefined()) {
    if (!pd.IsBoolean()) ThrowInvalid(env, "paletteDiff must be a boolean");
    req.palette_diff = pd.As<Napi::Boolean>().Value();
  }
  Napi::Value pr = o.Get("predicted");
  if (!pr.IsUndefined()) {
    if (!pr.IsBoolean()) ThrowInvalid(env, "predicted must be a boolean");
    req.predicted = pr.As<Napi::Boolean>().Value();
  }
  Napi::Value runs = o.Get("cacheRuns");
  if (!runs.IsUndefined()) {
    if (!runs.IsBoolean()) ThrowInvalid(env, "cacheRuns must be a boolean");
    req.cache_runs = runs.As<Napi::Boolean>().Value();
  }
  Napi::Value complete = o.Get("complete");
  if (!complete.IsUndefined()) {
    if (!complete.IsBoolean()) ThrowInvalid(env, "complete must be a boolean");
    req.complete = complete.As<Napi::Boolean>().Value();
  }
  Napi::Value refine = o.Get("refine");
  if (!refine.IsUndefined()) {
    if (!refine.IsTypedArray() || refine.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
        refine.As<Napi::Uint32Array>().ElementLength() % 4 != 0) {
      ThrowInvalid(env, "refine must be a Uint32Array of (x, y, w, h) rects");
    }
    auto a = refine.As<Napi::Uint32Array>();
    req.refine = ToRects(std::vector<uint32_t>(a.Data(), a.Data() + a.ElementLength()));
    for (const Rect& r : req.refine) {
      if (!RectInside(r, req.frame.width, req.frame.height)) ThrowInvalid(env, "refine rect outside the frame");
    }
  }
  return req;
}

Napi::Value ViewerEncoderBinding::ResultToJs(Napi::Env env) {
  ReportMemory(env);
  Napi::Object out = EncodedToJs(env, result_.update, result_.keyframe, result_.copies, result_.rects);
  out.Set("lossyTileCount", result_.lossy_tiles);
  return out;
}

Napi::Value ViewerEncoderBinding::Encode(const Napi::CallbackInfo& info) {
  auto req = std::make_shared<ViewerEncodeRequest>(ReadRequest(info));
  busy_ = true;
  Napi::Env env = info.Env();
  // The memory figures are refreshed when the encode ends, failed or not (a failure may have
  // changed the cache mirror or the sent frame too).
  return PromiseTask::Start(
      env, {info.This(), info[0]}, [this, req] { return encoder_->Encode(std::move(*req), &result_); },
      [this](Napi::Env e) { return ResultToJs(e); }, [this, env] { busy_ = false; ReportMemory(env); });
}

Napi::Value ViewerEncoderBinding::EncodeSync(const Napi::CallbackInfo& info) {
  Status s = encoder_->Encode(ReadRequest(info), &result_);
  if (!s.ok()) {
    ReportMemory(info.Env());
    throw MakeError(info.Env(), s);
  }
  return ResultToJs(info.Env());
}

Napi::Value ViewerEncoderBinding::LossyTiles(const Napi::CallbackInfo& info) {
  if (busy_) throw MakeError(info.Env(), ErrorCode::kBusy, "lossyTiles() while an encode() is running");
  const std::vector<uint32_t> tiles = encoder_->LossyTiles();
  auto out = Napi::Uint32Array::New(info.Env(), tiles.size());
  std::copy(tiles.begin(), tiles.end(), out.Data());
  return out;
}

Napi::Value ViewerEncoderBinding::Release(const Napi::CallbackInfo& info) {
  if (busy_) throw MakeError(info.Env(), ErrorCode::kBusy, "release() while an encode() is running");
  encoder_->Release();
  ReportMemory(info.Env());
  return info.Env().Undefined();
}

Napi::Value ViewerEncoderBinding::SetCacheBudget(const Napi::CallbackInfo& info) {
  if (busy_) throw MakeError(info.Env(), ErrorCode::kBusy, "setCacheBudget() while an encode() is running");
  encoder_->SetCacheBudget(ArgU32(info, 0, "bytes"));
  ReportMemory(info.Env());
  return info.Env().Undefined();
}

Napi::Value ViewerEncoderBinding::TakeCache(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (busy_) throw MakeError(env, ErrorCode::kBusy, "takeCache() while an encode() is running");
  std::unique_ptr<ContentCache> cache = encoder_->TakeCache();
  ReportMemory(env);
  if (!cache) return env.Null();
  auto* parked = new ParkedCache{std::move(cache), 0};
  // Its full size, not its share: live viewers may let go of those contents while it stays parked.
  parked->reported = static_cast<int64_t>(parked->cache->used_bytes());
  Napi::MemoryManagement::AdjustExternalMemory(env, parked->reported);
  auto ext = Napi::External<ParkedCache>::New(env, parked, [](Napi::Env e, ParkedCache* p) {
    if (p->reported != 0) Napi::MemoryManagement::AdjustExternalMemory(e, -p->reported);
    delete p;
  });
  ext.TypeTag(&kParkedCacheTag);
  return ext;
}

Napi::Value ViewerEncoderBinding::ResumeCache(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (busy_) throw MakeError(env, ErrorCode::kBusy, "resumeCache() while an encode() is running");
  if (info.Length() < 1 || !info[0].IsExternal() || !info[0].As<Napi::External<ParkedCache>>().CheckTypeTag(&kParkedCacheTag)) {
    ThrowInvalid(env, "parked must be a cache from takeCache()");
  }
  const uint32_t viewer_next_id = ArgU32(info, 1, "viewerNextId");
  ParkedCache* parked = info[0].As<Napi::External<ParkedCache>>().Data();
  if (!parked->cache) ThrowInvalid(env, "this parked cache was already resumed");
  if (parked->reported != 0) Napi::MemoryManagement::AdjustExternalMemory(env, -parked->reported);
  parked->reported = 0;
  std::vector<uint32_t> ranges;
  uint32_t next_id = 0;
  const bool ok = encoder_->ResumeCache(std::move(parked->cache), viewer_next_id, &ranges, &next_id);
  parked->cache.reset();
  ReportMemory(env);
  if (!ok) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("nextId", static_cast<double>(next_id));
  auto a = Napi::Uint32Array::New(env, ranges.size());
  std::copy(ranges.begin(), ranges.end(), a.Data());
  out.Set("ranges", a);
  return out;
}

Napi::Value ViewerEncoderBinding::MemoryBytes(const Napi::CallbackInfo& info) {
  // While an encode runs, the encoder (and its content cache) belongs to the worker thread:
  // answer with the figure taken when the last call finished rather than race it.
  if (busy_) return Napi::Number::New(info.Env(), static_cast<double>(reported_bytes_));
  return Napi::Number::New(info.Env(), static_cast<double>(encoder_->MemoryBytes()));
}

}  // namespace tilecast
