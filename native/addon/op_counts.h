// Per-op-code counters as the JS object { solid, palette, truecolor, copy, jpeg, cacheRef }.
#pragma once
#include <napi.h>

#include "../codec/wire_format.h"

namespace tilecast {

inline Napi::Object OpCountsToJs(Napi::Env env, const uint32_t (&v)[kOpCodeCount]) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("solid", v[static_cast<int>(OpCode::kSolid)]);
  o.Set("palette", v[static_cast<int>(OpCode::kPalette)]);
  o.Set("truecolor", v[static_cast<int>(OpCode::kTruecolor)]);
  o.Set("copy", v[static_cast<int>(OpCode::kCopy)]);
  o.Set("jpeg", v[static_cast<int>(OpCode::kJpeg)]);
  o.Set("cacheRef", v[static_cast<int>(OpCode::kCacheRef)]);
  return o;
}

}  // namespace tilecast
