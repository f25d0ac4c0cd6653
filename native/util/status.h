// Status: how native code reports failure without exceptions crossing threads.
// Worker threads fill a Status; the binding turns it into a JS TilecastError with
// the same stable code on the JS thread.
#pragma once
#include <string>
#include <utility>

namespace tilecast {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,   // caller passed a bad size/stride/option
  kProtocol,          // wire data is malformed (bad op, out-of-bounds rect, ...)
  kTooLarge,          // a declared size exceeds a hard limit
  kTruncated,         // wire data ended early
  kCorruptStream,     // deflate data failed to inflate
  kDesync,            // decoder lost its stream state and needs a keyframe
  kBusy,              // an async call is still running on this object
  kUnavailable,       // a system resource (X display, library, extension) is missing or went away
  kInternal,
};

// Stable string codes shared with the TS side (src/errors.ts).
inline const char* ErrorCodeName(ErrorCode c) {
  switch (c) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kInvalidArgument: return "ERR_INVALID_ARG";
    case ErrorCode::kProtocol: return "ERR_PROTOCOL";
    case ErrorCode::kTooLarge: return "ERR_TOO_LARGE";
    case ErrorCode::kTruncated: return "ERR_TRUNCATED";
    case ErrorCode::kCorruptStream: return "ERR_CORRUPT_STREAM";
    case ErrorCode::kDesync: return "ERR_STREAM_DESYNC";
    case ErrorCode::kBusy: return "ERR_BUSY";
    case ErrorCode::kUnavailable: return "ERR_UNAVAILABLE";
    case ErrorCode::kInternal: return "ERR_INTERNAL";
  }
  return "ERR_INTERNAL";
}

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(ErrorCode code, std::string message) {
    Status s;
    s.code_ = code;
    s.message_ = std::move(message);
    return s;
  }
  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

#define TC_RETURN_IF_ERROR(expr)      \
  do {                                \
    ::tilecast::Status _s = (expr);   \
    if (!_s.ok()) return _s;          \
  } while (0)

}  // namespace tilecast
