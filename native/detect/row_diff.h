// Row-diff kernels: the inner loop of change detection.
//
// A row of `width_bytes` is cut into segments of `segment_bytes` (one tile's width;
// the last segment may be shorter). For every segment whose flag in `dirty` is 0,
// the kernel compares prev against cur and sets the flag to 1 if any byte differs.
// Segments already flagged are skipped, so once a tile is known dirty the remaining
// rows of that tile cost nothing. Every SIMD variant must give exactly the scalar
// result; tests compare them on random inputs.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../util/cpu_features.h"

namespace tilecast {

using RowDiffFn = void (*)(const uint8_t* prev, const uint8_t* cur, size_t width_bytes, size_t segment_bytes,
                           uint8_t* dirty);

void RowDiffScalar(const uint8_t* prev, const uint8_t* cur, size_t width_bytes, size_t segment_bytes,
                   uint8_t* dirty);
void RowDiffSse2(const uint8_t* prev, const uint8_t* cur, size_t width_bytes, size_t segment_bytes,
                 uint8_t* dirty);
void RowDiffAvx2(const uint8_t* prev, const uint8_t* cur, size_t width_bytes, size_t segment_bytes,
                 uint8_t* dirty);

RowDiffFn RowDiffFor(SimdLevel level);

}  // namespace tilecast
