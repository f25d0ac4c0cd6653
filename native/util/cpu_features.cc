#include "cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace tilecast {
namespace {

SimdLevel Probe() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return SimdLevel::kAvx2;
  if (__builtin_cpu_supports("sse2")) return SimdLevel::kSse2;
#endif
  return SimdLevel::kScalar;
}

SimdLevel FromEnv(SimdLevel detected) {
  const char* env = std::getenv("TILECAST_SIMD");
  if (env == nullptr) return detected;
  SimdLevel wanted = detected;
  if (std::strcmp(env, "scalar") == 0) wanted = SimdLevel::kScalar;
  else if (std::strcmp(env, "sse2") == 0) wanted = SimdLevel::kSse2;
  else if (std::strcmp(env, "avx2") == 0) wanted = SimdLevel::kAvx2;
  return wanted < detected ? wanted : detected;
}

std::atomic<int>& ActiveSlot() {
  static std::atomic<int> active{static_cast<int>(FromEnv(DetectedSimdLevel()))};
  return active;
}

}  // namespace

SimdLevel DetectedSimdLevel() {
  static const SimdLevel detected = Probe();
  return detected;
}

SimdLevel ActiveSimdLevel() { return static_cast<SimdLevel>(ActiveSlot().load(std::memory_order_relaxed)); }

void SetSimdLevel(SimdLevel level) {
  SimdLevel capped = level < DetectedSimdLevel() ? level : DetectedSimdLevel();
  ActiveSlot().store(static_cast<int>(capped), std::memory_order_relaxed);
}

const char* SimdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx2: return "avx2";
    case SimdLevel::kSse2: return "sse2";
    case SimdLevel::kScalar: return "scalar";
  }
  return "scalar";
}

}  // namespace tilecast
