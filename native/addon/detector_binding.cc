#include "detector_binding.h"

#include <cstring>

#include "napi_helpers.h"

namespace tilecast {

Napi::Function DetectorBinding::Define(Napi::Env env) {
  return DefineClass(env, "NativeChangeDetector",
                     {InstanceMethod<&DetectorBinding::Detect>("detect"),
                      InstanceMethod<&DetectorBinding::DetectSync>("detectSync"),
                      InstanceMethod<&DetectorBinding::Reset>("reset")});
}

DetectorBinding::DetectorBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DetectorBinding>(info) {
  const uint32_t w = ArgU32(info, 0, "width"), h = ArgU32(info, 1, "height"), tile = ArgU32(info, 2, "tileSize");
  if (w < 1 || h < 1 || w > kMaxDimension || h > kMaxDimension) ThrowInvalid(info.Env(), "width/height out of range");
  if (tile < kMinTileSize || tile > kMaxTileSize) ThrowInvalid(info.Env(), "tileSize out of range");
  detector_ = std::make_unique<ChangeDetector>(w, h, tile);
}

void DetectorBinding::EnsureIdle(Napi::Env env) {
  if (busy_) throw MakeError(env, ErrorCode::kBusy, "a detect() call is still running on this detector");
}

FrameView DetectorBinding::ReadFrame(const Napi::CallbackInfo& info) {
  ByteSpan px = ArgBytes(info, 0, "pixels");
  const uint32_t stride = ArgU32(info, 1, "stride");
  const size_t w = detector_->width(), h = detector_->height();
  if (stride < w * 4) ThrowInvalid(info.Env(), "stride is smaller than width*4");
  if (px.length < static_cast<size_t>(stride) * (h - 1) + w * 4) ThrowInvalid(info.Env(), "pixels buffer is too short for the frame");
  return FrameView{px.data, detector_->width(), detector_->height(), stride};
}

Napi::Value DetectorBinding::Detect(const Napi::CallbackInfo& info) {
  EnsureIdle(info.Env());
  FrameView frame = ReadFrame(info);
  busy_ = true;
  return PromiseTask::Start(
      info.Env(), {info.This(), info[0]}, [this, frame] { return detector_->Detect(frame, &rects_); },
      [this](Napi::Env env) { return RectsToJs(env, rects_); }, [this] { busy_ = false; });
}

Napi::Value DetectorBinding::DetectSync(const Napi::CallbackInfo& info) {
  EnsureIdle(info.Env());
  FrameView frame = ReadFrame(info);
  Status s = detector_->Detect(frame, &rects_);
  if (!s.ok()) throw MakeError(info.Env(), s);
  return RectsToJs(info.Env(), rects_);
}

Napi::Value DetectorBinding::Reset(const Napi::CallbackInfo& info) {
  EnsureIdle(info.Env());
  detector_->Reset();
  return info.Env().Undefined();
}

}  // namespace tilecast
