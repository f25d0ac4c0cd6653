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
                      InstanceMethod<&DecoderBinding::CacheInfo>("cacheInfo")});
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
