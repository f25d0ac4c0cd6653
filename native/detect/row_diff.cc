#include "row_diff.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TILECAST_X86 1
#endif

namespace tilecast {
namespace {

// Scalar compare of one segment in 8-byte words (memcpy keeps it free of
// alignment and aliasing UB; compilers turn it into plain loads).
bool SegmentEqualScalar(const uint8_t* a, const uint8_t* b, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    if (x != y) return false;
  }
  for (; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

template <bool (*Equal)(const uint8_t*, const uint8_t*, size_t)>
inline void RowDiffWith(const uint8_t* prev, const uint8_t* cur, size_t width_bytes, size_t segment_bytes,
                        uint8_t* dirty) {
  // Most rows of most frames are unchanged: one straight pass over the row (no
  // per-segment bookkeeping) is what keeps detection near memcmp speed.
  if (Equal(prev, cur, width_bytes)) return;
  size_t seg = 0;
  for (size_t off = 0; off < width_bytes; off += segment_bytes, ++seg) {
    if (dirty[seg]) continue;
    size_t n = width_bytes - off < segment_bytes ? width_bytes - off : segment_bytes;
    if (!Equal(prev + off, cur + off, n)) dirty[seg] = 1;
  }
}

#ifdef TILECAST_X86
__attribute__((target("sse2"))) bool SegmentEqualSse2(const uint8_t* a, const uint8_t* b, size_t n) {
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m128i d0 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)),
                               _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    __m128i d1 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i + 16)),
                               _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 16)));
    __m128i d2 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i + 32)),
                               _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 32)));
    __m128i d3 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i + 48)),
                               _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 48)));
    __m128i any = _mm_or_si128(_mm_or_si128(d0, d1), _mm_or_si128(d2, d3));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(any, _mm_setzero_si128())) != 0xFFFF) return false;
  }
  for (; i + 16 <= n; i += 16) {
    __m128i eq = _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)),
                                _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    if (_mm_movemask_epi8(eq) != 0xFFFF) return false;
  }
  return SegmentEqualScalar(a + i, b + i, n - i);
}

__attribute__((target("avx2"))) bool SegmentEqualAvx2(const uint8_t* a, const uint8_t* b, size_t n) {
  size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    __m256i d0 = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)));
    __m256i d1 = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i + 32)),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i + 32)));
    __m256i d2 = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i + 64)),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i + 64)));
    __m256i d3 = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i + 96)),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i + 96)));
    __m256i any = _mm256_or_si256(_mm256_or_si256(d0, d1), _mm256_or_si256(d2, d3));
    if (!_mm256_testz_si256(any, any)) return false;
  }
  for (; i + 32 <= n; i += 32) {
    __m256i d = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)),
                                 _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)));
    if (!_mm256_testz_si256(d, d)) return false;
  }
  return SegmentEqualScalar(a + i, b + i, n - i);
}
#endif

}  // namespace

void RowDiffScalar(const uint8_t* prev, const uint8_t* cur, size_t width_bytes, size_t segment_bytes,
                   uint8_t* dirty) {
  RowDiffWith<SegmentEqualScalar>(prev, cur, width_bytes, segment_bytes, dirty);
}

#ifdef TILECAST_X86
__attribute__((target("sse2"))) void RowDiffSse2(const uint8_t* prev, const uint8_t* cur, size_t width_bytes,
                                                 size_t segment_bytes, uint8_t* dirty) {
  RowDiffWith<SegmentEqualSse2>(prev, cur, width_bytes, segment_bytes, dirty);
}
__attribute__((target("avx2"))) void RowDiffAvx2(const uint8_t* prev, const uint8_t* cur, size_t width_bytes,
                                                 size_t segment_bytes, uint8_t* dirty) {
  RowDiffWith<SegmentEqualAvx2>(prev, cur, width_bytes, segment_bytes, dirty);
}
#else
void RowDiffSse2(const uint8_t* p, const uint8_t* c, size_t w, size_t s, uint8_t* d) { RowDiffScalar(p, c, w, s, d); }
void RowDiffAvx2(const uint8_t* p, const uint8_t* c, size_t w, size_t s, uint8_t* d) { RowDiffScalar(p, c, w, s, d); }
#endif

RowDiffFn RowDiffFor(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx2: return RowDiffAvx2;
    case SimdLevel::kSse2: return RowDiffSse2;
    case SimdLevel::kScalar: return RowDiffScalar;
  }
  return RowDiffScalar;
}

}  // namespace tilecast
