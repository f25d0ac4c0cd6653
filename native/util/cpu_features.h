// Runtime SIMD dispatch. The level is probed once; TILECAST_SIMD=scalar|sse2|avx2 in
// the environment caps it (a level the CPU lacks is never chosen). Tests run every
// kernel against the scalar reference by calling SetSimdLevel directly.
#pragma once

namespace tilecast {

enum class SimdLevel { kScalar = 0, kSse2 = 1, kAvx2 = 2 };

SimdLevel DetectedSimdLevel();          // what the CPU supports
SimdLevel ActiveSimdLevel();            // what kernels use now (after the env cap)
void SetSimdLevel(SimdLevel level);     // capped at DetectedSimdLevel(); not thread-safe w.r.t. running kernels
const char* SimdLevelName(SimdLevel level);

}  // namespace tilecast
