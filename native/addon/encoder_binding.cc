#include "encoder_binding.h"

#include "napi_helpers.h"
#include "op_counts.h"

namespace tilecast {

Napi::Function EncoderBinding::Define(Napi::Env env) {
  return DefineClass(env, "NativeTileEncoder",
                     {InstanceMethod<&EncoderBinding::Encode>("encode"),
                      InstanceMethod<&EncoderBinding::EncodeSync>("encodeSync")});
}

EncoderBinding::EncoderBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EncoderBinding>(info) {
  const uint32_t tile = ArgU32(info, 0, "tileSize"), level = ArgU32(info, 1, "deflateLevel");
  max_threads_ = ArgU32(info, 2, "maxThreads");
  if (tile < kMinTileSize || tile > kMaxTileSize) ThrowInvalid(info.Env(), "tileSize out of range");
  if (level < 1 || level > 9) ThrowInvalid(info.Env(), "deflateLevel must be 1..9");
  if (max_threads_ < 1 || max_threads_ > 64) ThrowInvalid(info.Env(), "maxThreads must be 1..64");
  encoder_ = std::make_unique<TileEncoder>(tile, static_cast<int>(level));
}

EncoderBinding::Job EncoderBinding::ReadJob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (busy_) throw MakeError(env, ErrorCode::kBusy, "an encode() call is still running on this encoder");
  ByteSpan px = ArgBytes(info, 0, "pixels");
  const uint32_t w = ArgU32(info, 1, "width"), h = ArgU32(info, 2, "height"), stride = ArgU32(info, 3, "stride");
  if (w < 1 || h < 1 || w > kMaxDimension || h > kMaxDimension) ThrowInvalid(env, "width/height out of range");
  if (stride < static_cast<size_t>(w) * 4) ThrowInvalid(env, "stride is smaller than width*4");
  if (px.length < static_cast<size_t>(stride) * (h - 1) + static_cast<size_t>(w) * 4) {
    ThrowInvalid(env, "pixels buffer is too short for the frame");
  }
  Job job;
  job.frame = FrameView{px.data, w, h, stride};
  std::vector<uint32_t> rects = ArgU32Array(info, 4, "rects", 4);
  for (size_t i = 0; i < rects.size(); i += 4) job.rects.push_back(Rect{rects[i], rects[i + 1], rects[i + 2], rects[i + 3]});
  std::vector<uint32_t> copies = ArgU32Array(info, 5, "copies", 6);
  for (size_t i = 0; i < copies.size(); i += 6) {
    job.copies.push_back(CopyOp{Rect{copies[i], copies[i + 1], copies[i + 2], copies[i + 3]}, copies[i + 4], copies[i + 5]});
  }
  job.keyframe = ArgBool(info, 6, "keyframe");
  return job;
}

Napi::Value EncoderBinding::ResultToJs(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("stream", Napi::Buffer<uint8_t>::Copy(env, result_.stream.data(), result_.stream.size()));
  out.Set("opCount", result_.op_count);
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("ops", OpCountsToJs(env, result_.stats.ops_by_code));
  stats.Set("pixels", OpCountsToJs(env, result_.stats.pixels_by_code));
  stats.Set("rawBytes", static_cast<double>(result_.stats.raw_bytes));
  out.Set("stats", stats);
  return out;
}

Napi::Value EncoderBinding::Encode(const Napi::CallbackInfo& info) {
  auto job = std::make_shared<Job>(ReadJob(info));
  busy_ = true;
  return PromiseTask::Start(
      info.Env(), {info.This(), info[0]},
      [this, job] { return encoder_->Encode(job->frame, job->copies, job->rects, job->keyframe, max_threads_, &result_); },
      [this](Napi::Env env) { return ResultToJs(env); }, [this] { busy_ = false; });
}

Napi::Value EncoderBinding::EncodeSync(const Napi::CallbackInfo& info) {
  Job job = ReadJob(info);
  Status s = encoder_->Encode(job.frame, job.copies, job.rects, job.keyframe, max_threads_, &result_);
  if (!s.ok()) throw MakeError(info.Env(), s);
  return ResultToJs(info.Env());
}

}  // namespace tilecast
