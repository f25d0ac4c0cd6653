// Shared helpers for the libFuzzer targets: a bounded reader over the fuzz
// input, a checked abort that prints why, and the libturbojpeg path.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../codec/jpeg_lib.h"

namespace tcfuzz {

// Reads little-endian integers and byte runs from the input; past the end it
// yields zeros / empty runs, so every input is a valid (if short) program.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  size_t remaining() const { return n_ - at_; }
  bool empty() const { return at_ >= n_; }
  uint8_t u8() { return at_ < n_ ? p_[at_++] : 0; }
  uint16_t u16() {
    const uint16_t lo = u8();
    return static_cast<uint16_t>(lo | (u8() << 8));
  }
  uint32_t u32() {
    const uint32_t lo = u16();
    return lo | (static_cast<uint32_t>(u16()) << 16);
  }
  // Up to `want` bytes (fewer at the end of the input); returns how many.
  const uint8_t* bytes(size_t want, size_t* got) {
    *got = want < remaining() ? want : remaining();
    const uint8_t* out = p_ + at_;
    at_ += *got;
    return out;
  }
  // A value in [lo, hi] (inclusive), from the next 1 or 2 bytes.
  uint32_t range(uint32_t lo, uint32_t hi) {
    const uint32_t span = hi - lo + 1;
    const uint32_t v = span <= 256 ? u8() : u16();
    return lo + v % span;
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t at_ = 0;
};

// An invariant failed: print and abort, so libFuzzer saves the input as a crash.
[[noreturn]] inline void Fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "\n*** invariant failed at %s:%d: %s\n", file, line, what.c_str());
  std::fflush(stderr);
  std::abort();
}
#define FUZZ_CHECK(cond, what)                                   \
  do {                                                           \
    if (!(cond)) ::tcfuzz::Fail(__FILE__, __LINE__, (what));     \
  } while (0)

// The Makefile exports TILECAST_TURBOJPEG (the npm package's libturbojpeg).
inline void InitJpeg() {
  if (const char* p = std::getenv("TILECAST_TURBOJPEG")) tilecast::jpeg::SetLibraryPaths({p});
}

inline bool EnvFlag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

}  // namespace tcfuzz
