// Argument reading and result building shared by the two encoder bindings
// (NativeTileEncoder, NativeViewerEncoder): the frame, rect lists, the JPEG
// options object, and the encoded update as a JS object. Marshalling only.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "../codec/tile_encoder.h"
#include "napi_helpers.h"
#include "op_counts.h"

namespace tilecast {

// info[first..first+3] = pixels, width, height, stride.
inline FrameView ArgFrame(const Napi::CallbackInfo& info, size_t first) {
  Napi::Env env = info.Env();
  ByteSpan px = ArgBytes(info, first, "pixels");
  const uint32_t w = ArgU32(info, first + 1, "width"), h = ArgU32(info, first + 2, "height");
  const uint32_t stride = ArgU32(info, first + 3, "stride");
  if (w < 1 || h < 1 || w > kMaxDimension || h > kMaxDimension) ThrowInvalid(env, "width/height out of range");
  if (stride < static_cast<size_t>(w) * 4) ThrowInvalid(env, "stride is smaller than width*4");
  if (px.length < static_cast<size_t>(stride) * (h - 1) + static_cast<size_t>(w) * 4) {
    ThrowInvalid(env, "pixels buffer is too short for the frame");
  }
  return FrameView{px.data, w, h, stride};
}

inline bool RectInside(const Rect& r, uint32_t w, uint32_t h) {
  return r.w > 0 && r.h > 0 && r.x < w && r.y < h && r.w <= w - r.x && r.h <= h - r.y;
}

inline std::vector<Rect> ToRects(const std::vector<uint32_t>& v) {
  std::vector<Rect> out;
  out.reserve(v.size() / 4);
  for (size_t i = 0; i + 3 < v.size(); i += 4) out.push_back(Rect{v[i], v[i + 1], v[i + 2], v[i + 3]});
  return out;
}

// A flat Uint32Array of (x, y, w, h) rects, each inside the frame.
inline std::vector<Rect> ArgRects(const Napi::CallbackInfo& info, size_t i, const char* name, const FrameView& f) {
  std::vector<Rect> rects = ToRects(ArgU32Array(info, i, name, 4));
  for (const Rect& r : rects) {
    if (!RectInside(r, f.width, f.height)) ThrowInvalid(info.Env(), std::string(name) + ": rect outside the frame");
  }
  return rects;
}

// { lossyMask?: Uint8Array (one flag per tile), quality?, subsampling444?, optimizeHuffman? }
inline void ReadLossyOptions(Napi::Env env, Napi::Object o, const FrameView& f, uint32_t tile_size,
                             std::vector<uint8_t>* mask, JpegParams* jpeg) {
  const size_t tiles = static_cast<size_t>((f.width + tile_size - 1) / tile_size) * ((f.height + tile_size - 1) / tile_size);
  Napi::Value m = o.Get("lossyMask");
  if (!m.IsUndefined() && !m.IsNull()) {
    if (!m.IsTypedArray() || m.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      ThrowInvalid(env, "lossyMask must be a Uint8Array");
    }
    auto a = m.As<Napi::Uint8Array>();
    if (a.ElementLength() != tiles) ThrowInvalid(env, "lossyMask must hold one flag per tile (" + std::to_string(tiles) + ")");
    mask->assign(a.Data(), a.Data() + a.ElementLength());
  }
  Napi::Value q = o.Get("quality");
  if (!q.IsUndefined()) {
    const double v = q.IsNumber() ? q.As<Napi::Number>().DoubleValue() : -1;
    if (!(v >= 1 && v <= 100) || v != static_cast<int>(v)) ThrowInvalid(env, "quality must be an integer 1..100");
    jpeg->quality = static_cast<int>(v);
  }
  Napi::Value s444 = o.Get("subsampling444");
  if (!s444.IsUndefined()) {
    if (!s444.IsBoolean()) ThrowInvalid(env, "subsampling444 must be a boolean");
    jpeg->subsampling = s444.As<Napi::Boolean>().Value() ? ChromaSubsampling::k444 : ChromaSubsampling::k420;
  }
  Napi::Value opt = o.Get("optimizeHuffman");
  if (!opt.IsUndefined()) {
    if (!opt.IsBoolean()) ThrowInvalid(env, "optimizeHuffman must be a boolean");
    jpeg->optimize_huffman = opt.As<Napi::Boolean>().Value();
  }
}

// info[i]: undefined or an options object.
inline Napi::Object ArgOptions(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || info[i].IsUndefined()) return Napi::Object::New(info.Env());
  if (!info[i].IsObject()) ThrowInvalid(info.Env(), "options must be an object");
  return info[i].As<Napi::Object>();
}

// { stream, images, opCount, keyframe, copies, rects, lossyRects, stats }
inline Napi::Object EncodedToJs(Napi::Env env, const EncodedUpdate& u, bool keyframe, const std::vector<CopyOp>& copies,
                                const std::vector<Rect>& rects) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("stream", Napi::Buffer<uint8_t>::Copy(env, u.stream.data(), u.stream.size()));
  out.Set("images", Napi::Buffer<uint8_t>::Copy(env, u.images.data(), u.images.size()));
  out.Set("opCount", u.op_count);
  out.Set("keyframe", keyframe);
  auto c = Napi::Uint32Array::New(env, copies.size() * 6);
  for (size_t i = 0; i < copies.size(); ++i) {
    const CopyOp& op = copies[i];
    const uint32_t v[6] = {op.dst.x, op.dst.y, op.dst.w, op.dst.h, op.src_x, op.src_y};
    for (size_t k = 0; k < 6; ++k) c[i * 6 + k] = v[k];
  }
  out.Set("copies", c);
  out.Set("rects", RectsToJs(env, rects));
  out.Set("lossyRects", RectsToJs(env, u.lossy_rects));
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("ops", OpCountsToJs(env, u.stats.ops_by_code));
  stats.Set("pixels", OpCountsToJs(env, u.stats.pixels_by_code));
  stats.Set("rawBytes", static_cast<double>(u.stats.raw_bytes));
  out.Set("stats", stats);
  return out;
}

}  // namespace tilecast
