#include "encoder_binding.h"

#include "encode_args.h"
#include "napi_helpers.h"

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
  Job job;
  job.frame = ArgFrame(info, 0);
  job.rects = ArgRects(info, 4, "rects", job.frame);
  std::vector<uint32_t> copies = ArgU32Array(info, 5, "copies", 6);
  for (size_t i = 0; i < copies.size(); i += 6) {
    job.copies.push_back(CopyOp{Rect{copies[i], copies[i + 1], copies[i + 2], copies[i + 3]}, copies[i + 4], copies[i + 5]});
  }
  job.keyframe = ArgBool(info, 6, "keyframe");
  ReadLossyOptions(env, ArgOptions(info, 7), job.frame, encoder_->tile_size(), &job.lossy_mask, &job.jpeg);
  return job;
}

Status EncoderBinding::Run(const Job& job) {
  const FrameView& f = job.frame;
  const uint32_t ts = encoder_->tile_size();
  LossyOptions lossy;
  lossy.tiles_x = (f.width + ts - 1) / ts;
  lossy.tiles_y = (f.height + ts - 1) / ts;
  lossy.jpeg = job.jpeg;
  lossy.tile_mask = job.lossy_mask.empty() ? nullptr : job.lossy_mask.data();
  return encoder_->Encode(f, job.copies, job.rects, job.keyframe, max_threads_, &result_, &lossy);
}

Napi::Value EncoderBinding::ResultToJs(Napi::Env env, const Job& job) {
  return EncodedToJs(env, result_, job.keyframe, job.copies, job.rects);
}

Napi::Value EncoderBinding::Encode(const Napi::CallbackInfo& info) {
  auto job = std::make_shared<Job>(ReadJob(info));
  busy_ = true;
  return PromiseTask::Start(
      info.Env(), {info.This(), info[0]}, [this, job] { return Run(*job); },
      [this, job](Napi::Env env) { return ResultToJs(env, *job); }, [this] { busy_ = false; });
}

Napi::Value EncoderBinding::EncodeSync(const Napi::CallbackInfo& info) {
  Job job = ReadJob(info);
  Status s = Run(job);
  if (!s.ok()) throw MakeError(info.Env(), s);
  return ResultToJs(info.Env(), job);
}

}  // namespace tilecast
