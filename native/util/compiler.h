// Compiler builtins the hot loops use, with the MSVC spelling beside the GCC/Clang one.
#pragma once
#include <cstdint>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#include <xmmintrin.h>
#endif

namespace tilecast {

// Index of the lowest set bit of v (v != 0).
inline unsigned TrailingZeros64(uint64_t v) {
#if defined(_MSC_VER) && !defined(__clang__)
  unsigned long index;
  _BitScanForward64(&index, v);
  return static_cast<unsigned>(index);
#else
  return static_cast<unsigned>(__builtin_ctzll(v));
#endif
}

// Asks for the cache line holding p ahead of its use (a hint: no effect on results).
inline void PrefetchRead(const void* p) {
#if defined(_MSC_VER) && !defined(__clang__)
  _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace tilecast
