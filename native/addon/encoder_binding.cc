#include "encoder_binding.h"

#include "../detect/move_detector.h"
#include "napi_helpers.h"
#include "op_counts.h"

namespace tilecast {
namespace {

std::vector<Rect> ToRects(const std::vector<uint32_t>& v) {
  std::vector<Rect> out;
  for (size_t i = 0; i < v.size(); i += 4) out.push_back(Rect{v[i], v[i + 1], v[i + 2], v[i + 3]});
  return out;
}

bool Inside(const Rect& r, uint32_t w, uint32_t h) {
  return r.w > 0 && r.h > 0 && r.x < w && r.y < h && r.w <= w - r.x && r.h <= h - r.y;
}

}  // namespace

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
  if (info.Length() > 3 && ArgBool(info, 3, "trackSent")) sent_ = std::make_unique<SentFrame>();
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
  job.rects = ToRects(ArgU32Array(info, 4, "rects", 4));
  std::vector<uint32_t> copies = ArgU32Array(info, 5, "copies", 6);
  for (size_t i = 0; i < copies.size(); i += 6) {
    job.copies.push_back(CopyOp{Rect{copies[i], copies[i + 1], copies[i + 2], copies[i + 3]}, copies[i + 4], copies[i + 5]});
  }
  if (sent_ && !job.copies.empty()) ThrowInvalid(env, "copies are found by the encoder itself when it tracks what was sent");
  job.keyframe = ArgBool(info, 6, "keyframe");
  if (info.Length() > 7 && !info[7].IsUndefined()) {
    if (!info[7].IsObject()) ThrowInvalid(env, "options must be an object");
    Napi::Object o = info[7].As<Napi::Object>();
    const uint32_t ts = encoder_->tile_size();
    const size_t tiles = static_cast<size_t>((w + ts - 1) / ts) * ((h + ts - 1) / ts);
    Napi::Value mask = o.Get("lossyMask");
    if (!mask.IsUndefined() && !mask.IsNull()) {
      if (!mask.IsTypedArray() || mask.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        ThrowInvalid(env, "lossyMask must be a Uint8Array");
      }
      auto a = mask.As<Napi::Uint8Array>();
      if (a.ElementLength() != tiles) ThrowInvalid(env, "lossyMask must hold one flag per tile (" + std::to_string(tiles) + ")");
      job.lossy_mask.assign(a.Data(), a.Data() + a.ElementLength());
    }
    Napi::Value q = o.Get("quality");
    if (!q.IsUndefined()) {
      const double v = q.IsNumber() ? q.As<Napi::Number>().DoubleValue() : -1;
      if (!(v >= 1 && v <= 100) || v != static_cast<int>(v)) ThrowInvalid(env, "quality must be an integer 1..100");
      job.jpeg.quality = static_cast<int>(v);
    }
    Napi::Value s444 = o.Get("subsampling444");
    if (!s444.IsUndefined()) {
      if (!s444.IsBoolean()) ThrowInvalid(env, "subsampling444 must be a boolean");
      job.jpeg.subsampling = s444.As<Napi::Boolean>().Value() ? ChromaSubsampling::k444 : ChromaSubsampling::k420;
    }
    Napi::Value opt = o.Get("optimizeHuffman");
    if (!opt.IsUndefined()) {
      if (!opt.IsBoolean()) ThrowInvalid(env, "optimizeHuffman must be a boolean");
      job.jpeg.optimize_huffman = opt.As<Napi::Boolean>().Value();
    }
    Napi::Value dm = o.Get("detectMoves");
    if (!dm.IsUndefined()) {
      if (!dm.IsBoolean()) ThrowInvalid(env, "detectMoves must be a boolean");
      job.detect_moves = dm.As<Napi::Boolean>().Value();
    }
    Napi::Value refine = o.Get("refine");
    if (!refine.IsUndefined()) {
      if (!refine.IsTypedArray() || refine.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
          refine.As<Napi::Uint32Array>().ElementLength() % 4 != 0) {
        ThrowInvalid(env, "refine must be a Uint32Array of (x, y, w, h) rects");
      }
      auto a = refine.As<Napi::Uint32Array>();
      job.refine = ToRects(std::vector<uint32_t>(a.Data(), a.Data() + a.ElementLength()));
      for (const Rect& r : job.refine) {
        if (!Inside(r, w, h)) ThrowInvalid(env, "refine rect outside the frame");
      }
    }
    if ((job.detect_moves || !job.refine.empty()) && !sent_) {
      ThrowInvalid(env, "detectMoves and refine need an encoder that tracks what was sent");
    }
  }
  return job;
}

Status EncoderBinding::Run(Job& job) {
  const FrameView& f = job.frame;
  const uint32_t ts = encoder_->tile_size();
  LossyOptions lossy;
  lossy.tiles_x = (f.width + ts - 1) / ts;
  lossy.tiles_y = (f.height + ts - 1) / ts;
  lossy.jpeg = job.jpeg;
  result_.copies.clear();
  if (sent_) {
    if (!sent_->valid() || sent_->width() != f.width || sent_->height() != f.height) job.keyframe = true;
    if (job.keyframe) {
      sent_->Reset(f.width, f.height, ts);
      job.rects = {Rect{0, 0, f.width, f.height}};
    } else {
      if (job.detect_moves) {
        MoveSearch search;
        search.tile_size = ts;
        search.max_threads = max_threads_;
        result_.copies = FindMoves(sent_->view(), f, job.rects, search);
        sent_->ApplyCopies(result_.copies);
      }
      std::vector<Rect> rects = sent_->Residual(f, job.rects);
      // Refined tiles go whole and lossless; residual parts inside them are covered.
      if (!job.refine.empty()) {
        if (job.lossy_mask.empty()) job.lossy_mask.assign(static_cast<size_t>(lossy.tiles_x) * lossy.tiles_y, 0);
        std::vector<Rect> kept;
        for (const Rect& r : rects) {
          bool covered = false;
          for (const Rect& q : job.refine) {
            covered = covered || (r.x >= q.x && r.y >= q.y && r.x + r.w <= q.x + q.w && r.y + r.h <= q.y + q.h);
          }
          if (!covered) kept.push_back(r);
        }
        for (const Rect& q : job.refine) {
          for (uint32_t ty = q.y / ts; ty <= (q.y + q.h - 1) / ts; ++ty) {
            for (uint32_t tx = q.x / ts; tx <= (q.x + q.w - 1) / ts; ++tx) job.lossy_mask[ty * lossy.tiles_x + tx] = 0;
          }
          kept.push_back(q);
        }
        rects.swap(kept);
      }
      job.rects.swap(rects);
    }
  }
  lossy.tile_mask = job.lossy_mask.empty() ? nullptr : job.lossy_mask.data();
  result_.keyframe = job.keyframe;
  result_.rects = job.rects;
  TC_RETURN_IF_ERROR(encoder_->Encode(f, sent_ ? result_.copies : job.copies, job.rects, job.keyframe, max_threads_,
                                      &result_.update, &lossy));
  if (!sent_) result_.copies = job.copies;
  if (sent_) sent_->Commit(f, job.rects, result_.update.lossy_rects);
  return Status::Ok();
}

Napi::Value EncoderBinding::ResultToJs(Napi::Env env) {
  const EncodedUpdate& u = result_.update;
  Napi::Object out = Napi::Object::New(env);
  out.Set("stream", Napi::Buffer<uint8_t>::Copy(env, u.stream.data(), u.stream.size()));
  out.Set("images", Napi::Buffer<uint8_t>::Copy(env, u.images.data(), u.images.size()));
  out.Set("opCount", u.op_count);
  out.Set("keyframe", result_.keyframe);
  auto copies = Napi::Uint32Array::New(env, result_.copies.size() * 6);
  for (size_t i = 0; i < result_.copies.size(); ++i) {
    const CopyOp& c = result_.copies[i];
    const uint32_t v[6] = {c.dst.x, c.dst.y, c.dst.w, c.dst.h, c.src_x, c.src_y};
    for (size_t k = 0; k < 6; ++k) copies[i * 6 + k] = v[k];
  }
  out.Set("copies", copies);
  out.Set("rects", RectsToJs(env, result_.rects));
  out.Set("lossyRects", RectsToJs(env, u.lossy_rects));
  if (sent_) {
    const auto& flags = sent_->lossy_tiles();
    auto a = Napi::Uint8Array::New(env, flags.size());
    std::copy(flags.begin(), flags.end(), a.Data());
    out.Set("lossyTiles", a);
  }
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("ops", OpCountsToJs(env, u.stats.ops_by_code));
  stats.Set("pixels", OpCountsToJs(env, u.stats.pixels_by_code));
  stats.Set("rawBytes", static_cast<double>(u.stats.raw_bytes));
  out.Set("stats", stats);
  return out;
}

Napi::Value EncoderBinding::Encode(const Napi::CallbackInfo& info) {
  auto job = std::make_shared<Job>(ReadJob(info));
  busy_ = true;
  return PromiseTask::Start(
      info.Env(), {info.This(), info[0]}, [this, job] { return Run(*job); },
      [this](Napi::Env env) { return ResultToJs(env); }, [this] { busy_ = false; });
}

Napi::Value EncoderBinding::EncodeSync(const Napi::CallbackInfo& info) {
  Job job = ReadJob(info);
  Status s = Run(job);
  if (!s.ok()) throw MakeError(info.Env(), s);
  return ResultToJs(info.Env());
}

}  // namespace tilecast
