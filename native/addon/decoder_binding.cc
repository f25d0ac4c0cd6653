#include "decoder_binding.h"

#include "napi_helpers.h"
#include "op_counts.h"

namespace tilecast {
namespace {

Framebuffer ReadFramebuffer(const Napi::CallbackInfo& info, size_t at) {
  Napi::Env env = info.Env();
  ByteSpan fb = ArgBytes(info, at, "framebuffer");
  const uint32_t w = ArgU32(info, at + 1, "width"), h = ArgU32(info, at + 2, "height");
  if (w < 1 || h < 1 || w > kMaxDimension || h > kMaxDimension) ThrowInvalid(env, "width/height out of range");
  if (fb.length != static_cast<size_t>(w) * h * 4) ThrowInvalid(env, "framebuffer must be exactly width*height*4 bytes");
  return Framebuffer{const_cast<uint8_t*>(fb.data), w, h};
}

}  // namespace

Napi::Function DecoderBinding::Define(Napi::Env env) {
  return DefineClass(env, "NativeTileDecoder",
                     {InstanceMethod<&DecoderBinding::Apply>("apply"),
                      InstanceMethod<&DecoderBinding::ApplySync>("applySync"),
                      InstanceMethod<&DecoderBinding::SetCacheBudget>("setCacheBudget"),
                      InstanceMethod<&DecoderBinding::CacheInfo>("cacheInfo"),
                      InstanceMethod<&DecoderBinding::KeepCache>("keepCache")});
}

DecoderBinding::DecoderBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DecoderBinding>(info) {}

Napi::Value DecoderBinding::ClearFramebufferJs(const Napi::CallbackInfo& info) {
  ClearFramebuffer(ReadFramebuffer(info, 0));
  return info.Env().Undefined();
}

DecoderBinding::Job DecoderBinding::ReadJob(const Napi::CallbackInfo& info) {
  if (busy_) throw MakeError(info.Env(), ErrorCode::kBusy, "an apply() call is still running on this decoder");
  Job job;
  job.fb = ReadFramebuffer(info, 0);
  ByteSpan stream = ArgBytes(info, 3, "stream");
  job.data = stream.data;
  job.length = stream.length;
  job.op_count = ArgU32(info, 4, "opCount");
  job.keyframe = ArgBool(info, 5, "keyframe");
  if (info.Length() > 6 && !info[6].IsUndefined()) {
    ByteSpan images = ArgBytes(info, 6, "images");
    job.images = images.data;
    job.images_length = images.length;
  }
  return job;
}

Napi::Value DecoderBinding::StatsToJs(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("ops", OpCountsToJs(env, stats_.ops_by_code));
  return out;
}

Napi::Value DecoderBinding::Apply(const Napi::CallbackInfo& info) {
  Job job = ReadJob(info);
  busy_ = true;
  stats_ = DecodeStats();
  return PromiseTask::Start(
      info.Env(), {info.This(), info[0], info[3], info.Length() > 6 ? info[6] : info.Env().Undefined()},
      [this, job] {
        return decoder_.Apply(job.fb, job.data, job.length, job.op_count, job.keyframe, &stats_, job.images,
                              job.images_length);
      },
      [this](Napi::Env env) { return StatsToJs(env); }, [this] { busy_ = false; });
}

Napi::Value DecoderBinding::SetCacheBudget(const Napi::CallbackInfo& info) {
  if (busy_) throw MakeError(info.Env(), ErrorCode::kBusy, "setCacheBudget() while an apply() is running");
  decoder_.SetCacheBudget(ArgU32(info, 0, "bytes"));
  return info.Env().Undefined();
}

Napi::Value DecoderBinding::KeepCache(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (busy_) throw MakeError(env, ErrorCode::kBusy, "keepCache() while an apply() is running");
  const uint32_t budget = ArgU32(info, 0, "budget"), next_id = ArgU32(info, 1, "nextId");
  if (info.Length() < 3 || !info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      info[2].As<Napi::Uint32Array>().ElementLength() % 2 != 0) {
    ThrowInvalid(env, "ranges must be a Uint32Array of (first, count) pairs");
  }
  auto ranges = info[2].As<Napi::Uint32Array>();
  Status s = decoder_.KeepCache(budget, next_id, ranges.Data(), ranges.ElementLength() / 2);
  if (!s.ok()) throw MakeError(env, s);
  return env.Undefined();
}

Napi::Value DecoderBinding::CacheInfo(const Napi::CallbackInfo& info) {
  if (busy_) throw MakeError(info.Env(), ErrorCode::kBusy, "cacheInfo() while an apply() is running");
  const ContentCache& c = decoder_.cache();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("budget", static_cast<double>(c.budget()));
  o.Set("usedBytes", static_cast<double>(c.used_bytes()));
  o.Set("entries", static_cast<double>(c.size()));
  o.Set("nextId", static_cast<double>(c.next_id()));
  return o;
}

Napi::Value DecoderBinding::ApplySync(const Napi::CallbackInfo& info) {
  Job job = ReadJob(info);
  stats_ = DecodeStats();
  Status s = decoder_.Apply(job.fb, job.data, job.length, job.op_count, job.keyframe, &stats_, job.images,
                            job.images_length);
  if (!s.ok()) throw MakeError(info.Env(), s);
  return StatsToJs(info.Env());
}

}  // namespace tilecast
