// Compiler builtins the hot loops use, with the MSVC spellings beside the GCC/Clang ones.
#pragma once
#include <cstdint>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#if defined(_M_X64) || defined(_M_IX86)
#include <xmmintrin.h>
#endif
#endif

namespace tilecast {

// Index of the lowest set bit of v (v != 0).
inline unsigned TrailingZeros64(uint64_t v) {
#if defined(_MSC_VER) && !defined(__clang__)
  unsigned long index;
#if defined(_M_X64) || defined(_M_ARM64)
  _BitScanForward64(&index, v);
  return static_cast<unsigned>(index);
#else
  if (_BitScanForward(&index, static_cast<unsigned long>(v))) return static_cast<unsigned>(index);
  _BitScanForward(&index, static_cast<unsigned long>(v >> 32));
  return static_cast<unsigned>(index) + 32;
#endif
#else
  return static_cast<unsigned>(__builtin_ctzll(v));
#endif
}

// Index of the highest set bit of v counted from the top (v != 0).
inline unsigned LeadingZeros64(uint64_t v) {
#if defined(_MSC_VER) && !defined(__clang__)
  unsigned long index;
#if defined(_M_X64) || defined(_M_ARM64)
  _BitScanReverse64(&index, v);
  return 63 - static_cast<unsigned>(index);
#else
  if (_BitScanReverse(&index, static_cast<unsigned long>(v >> 32))) return 31 - static_cast<unsigned>(index);
  _BitScanReverse(&index, static_cast<unsigned long>(v));
  return 63 - static_cast<unsigned>(index);
#endif
#else
  return static_cast<unsigned>(__builtin_clzll(v));
#endif
}

// Asks for the cache line holding p ahead of its use (a hint: no effect on results).
inline void PrefetchRead(const void* p) {
#if defined(_MSC_VER) && !defined(__clang__)
#if defined(_M_X64) || defined(_M_IX86)
  _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
#elif defined(_M_ARM64)
  __prefetch(p);
#else
  (void)p;
#endif
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace tilecast
