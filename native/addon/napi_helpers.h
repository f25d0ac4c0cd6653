// Helpers shared by the bindings: argument readers that throw TypeErrors with a
// stable code, Status -> JS Error conversion, and PromiseTask, an AsyncWorker that
// runs native work on the libuv pool and settles a Promise on the JS thread.
//
// The TS layer validates every option with one error factory before calling in;
// these checks are the last line of defence (wrong types, short buffers).
#pragma once
#include <napi.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "../util/frame_view.h"
#include "../util/status.h"

namespace tilecast {

inline Napi::Error MakeError(Napi::Env env, ErrorCode code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, ErrorCodeName(code)));
  return err;
}
inline Napi::Error MakeError(Napi::Env env, const Status& s) { return MakeError(env, s.code(), s.message()); }

[[noreturn]] inline void ThrowInvalid(Napi::Env env, const std::string& message) {
  Napi::TypeError err = Napi::TypeError::New(env, message);
  err.Set("code", Napi::String::New(env, ErrorCodeName(ErrorCode::kInvalidArgument)));
  throw err;
}

inline uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) ThrowInvalid(info.Env(), std::string(name) + " must be a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 4294967295.0) || v != static_cast<double>(static_cast<uint32_t>(v))) {
    ThrowInvalid(info.Env(), std::string(name) + " must be an integer in [0, 2^32)");
  }
  return static_cast<uint32_t>(v);
}

inline bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsBoolean()) ThrowInvalid(info.Env(), std::string(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

struct ByteSpan {
  const uint8_t* data = nullptr;
  size_t length = 0;
};

inline ByteSpan ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowInvalid(info.Env(), std::string(name) + " must be a Uint8Array or Buffer");
  }
  auto a = info[i].As<Napi::Uint8Array>();
  return ByteSpan{a.Data(), a.ByteLength()};
}

inline std::vector<uint32_t> ArgU32Array(const Napi::CallbackInfo& info, size_t i, const char* name, size_t group) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    ThrowInvalid(info.Env(), std::string(name) + " must be a Uint32Array");
  }
  auto a = info[i].As<Napi::Uint32Array>();
  if (a.ElementLength() % group != 0) ThrowInvalid(info.Env(), std::string(name) + " length must be a multiple of " + std::to_string(group));
  return std::vector<uint32_t>(a.Data(), a.Data() + a.ElementLength());
}

// Rects as a flat Uint32Array (x, y, w, h)*: how every binding hands rects to JS.
inline Napi::Uint32Array RectsToJs(Napi::Env env, const std::vector<Rect>& rects) {
  auto out = Napi::Uint32Array::New(env, rects.size() * 4);
  for (size_t i = 0; i < rects.size(); ++i) {
    out[i * 4] = rects[i].x;
    out[i * 4 + 1] = rects[i].y;
    out[i * 4 + 2] = rects[i].w;
    out[i * 4 + 3] = rects[i].h;
  }
  return out;
}

// Runs `work` off the JS thread, then `settle` on the JS thread to build the
// resolved value. `keep_alive` values (input buffers, the wrapped object) stay
// referenced until the task ends, so GC cannot free memory the worker reads.
// `on_done` runs on the JS thread before the promise settles (clears busy flags).
class PromiseTask : public Napi::AsyncWorker {
 public:
  using Work = std::function<Status()>;
  using Settle = std::function<Napi::Value(Napi::Env)>;

  static Napi::Promise Start(Napi::Env env, std::vector<Napi::Value> keep_alive, Work work, Settle settle,
                             std::function<void()> on_done) {
    auto* task = new PromiseTask(env, std::move(keep_alive), std::move(work), std::move(settle), std::move(on_done));
    Napi::Promise promise = task->deferred_.Promise();
    task->Queue();
    return promise;
  }

 protected:
  void Execute() override { status_ = work_(); }
  void OnOK() override {
    Napi::Env env = Env();
    on_done_();
    if (!status_.ok()) {
      deferred_.Reject(MakeError(env, status_).Value());
      return;
    }
    try {
      deferred_.Resolve(settle_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override {
    on_done_();
    deferred_.Reject(e.Value());
  }

 private:
  PromiseTask(Napi::Env env, std::vector<Napi::Value> keep_alive, Work work, Settle settle, std::function<void()> on_done)
      : Napi::AsyncWorker(env, "tilecast"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        settle_(std::move(settle)),
        on_done_(std::move(on_done)) {
    Napi::Array holder = Napi::Array::New(env, keep_alive.size());
    for (uint32_t i = 0; i < keep_alive.size(); ++i) holder.Set(i, keep_alive[i]);
    keep_alive_ = Napi::Persistent(holder.As<Napi::Object>());
  }

  Napi::Promise::Deferred deferred_;
  Work work_;
  Settle settle_;
  std::function<void()> on_done_;
  Status status_;
  Napi::ObjectReference keep_alive_;
};

}  // namespace tilecast
