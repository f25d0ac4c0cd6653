// Why: glibc's malloc keeps freed memory in per-thread arenas, and the first
// free of a large mmapped block raises its mmap threshold to that block's size
// (up to 32 MiB), so from then on frame-sized buffers (encode outputs, zlib and
// JPEG work areas) come from the arenas and stay there once freed. A host that
// runs for days with viewers coming and going then grows by tens of MiB an hour
// with almost nothing allocated (bench/soak.js: 20 MiB allocated, 61 MiB free
// but kept). A fixed threshold keeps large transient buffers mmapped, so they
// go back to the system on free, and fewer arenas keep less memory idle.
//
// The threshold is 2 MiB: every screen-sized buffer (a screen over 724x724 is
// more) is still mmapped, while an update's output (a 1080p keyframe's is up
// to 1.2 MB) and its message come from the arenas, in pages already faulted
// in. At 256 KiB each of those was a fresh mapping, faulted in page by page
// while it was filled: about 300 faults for the video keyframe on this VM,
// 14-15 ms instead of 11 (bench/results/micro.md).
#include "allocator_tuning.h"

#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tilecast {

namespace {
constexpr int kMmapThresholdBytes = 2 * 1024 * 1024;
}

std::string TuneAllocator(int arenas) {
#if defined(__GLIBC__)
  static std::once_flag once;
  static std::string done;
  std::call_once(once, [arenas] {
    const int n = arenas < 1 ? 1 : arenas;
    // Setting the threshold also turns off glibc's dynamic adjustment of it (and of the trim threshold).
    const bool threshold = mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes) == 1;
    const bool arenaMax = mallopt(M_ARENA_MAX, n) == 1;
    done = std::string("glibc malloc: mmap threshold ") + (threshold ? "2 MiB" : "unchanged") +
           ", arena max " + (arenaMax ? std::to_string(n) : std::string("unchanged"));
  });
  return done;
#else
  (void)arenas;
  return "";
#endif
}

}  // namespace tilecast
