// The portable parts of the Windows sound path: the render queue (bounded,
// primed, drop-oldest) and the loopback silence timeline.
#include <numeric>
#include <random>
#include <vector>

#include "../audio/loopback_timeline.h"
#include "../audio/pcm_ring.h"
#include "harness.h"

using namespace tilecast;

TEST(PcmRingKeepsOrderAcrossWrapsAndPrimes) {
  PcmRing ring(100, 30);
  std::vector<int16_t> out(200);
  int16_t next_in = 0, next_out = 0;
  auto write = [&](size_t n) {
    std::vector<int16_t> v(n);
    for (auto& s : v) s = next_in++;
    return ring.Write(v.data(), n);
  };
  CHECK(write(20) == 0);
  CHECK(ring.Take(out.data(), 50) == 0);  // priming: 20 < 30
  CHECK(write(20) == 0);
  std::mt19937 rng(7);
  size_t taken_total = 0;
  for (int i = 0; i < 5000; ++i) {
    const size_t n = ring.Take(out.data(), 1 + rng() % 40);
    for (size_t k = 0; k < n; ++k) CHECK(out[k] == next_out++);
    taken_total += n;
    if (ring.size() < 60) CHECK(write(1 + rng() % 35) == 0);
  }
  CHECK(taken_total > 10000);
}

TEST(PcmRingPrimesAgainAfterRunningDry) {
  PcmRing ring(100, 30);
  std::vector<int16_t> in(40, 1), out(100);
  ring.Write(in.data(), 40);
  CHECK(ring.Take(out.data(), 100) == 40);
  CHECK(ring.size() == 0);
  ring.Write(in.data(), 10);
  CHECK(ring.Take(out.data(), 100) == 0);  // dry: waits for 30 again
  ring.Write(in.data(), 25);
  CHECK(ring.Take(out.data(), 100) == 35);
}

TEST(PcmRingDropsOldestBeyondCapacity) {
  PcmRing ring(100, 10);
  std::vector<int16_t> in(250), out(100);
  std::iota(in.begin(), in.end(), 0);
  CHECK(ring.Write(in.data(), 80) == 0);
  CHECK(ring.Write(in.data() + 80, 50) == 30);  // 130 > 100: the 30 oldest go
  CHECK(ring.size() == 100);
  CHECK(ring.Take(out.data(), 100) == 100);
  CHECK(out[0] == 30 && out[99] == 129);
  CHECK(ring.Write(in.data(), 250) == 150);  // more than fits at once: only the newest 100
  CHECK(ring.Take(out.data(), 100) == 100);
  CHECK(out[0] == 150 && out[99] == 249);
}

TEST(LoopbackTimelineFillsSilenceOnlyWhenDue) {
  const int64_t ms = LoopbackTimeline::kUnitsPerSecond / 1000;
  LoopbackTimeline t(1000 * ms, 48000);
  CHECK(t.SilenceDue(1000 * ms + 30 * ms) == 0);  // 30 ms without packets: not yet
  const int64_t f = t.SilenceDue(1000 * ms + 31 * ms);  // due: up to 10 ms ago
  CHECK(f == 21 * 48);
  CHECK(t.covered_until() == 1021 * ms);
  // A packet that ends earlier than what silence covered does not move the timeline back.
  t.Delivered(1015 * ms);
  CHECK(t.covered_until() == 1021 * ms);
  t.Delivered(1040 * ms);
  CHECK(t.SilenceDue(1060 * ms) == 0);
  // Ticking every 10 ms while nothing plays for 10 s: the silence covers the time exactly (to rounding),
  // and is never more than 10 + 30 ms behind.
  int64_t total = 0;
  for (int64_t now = 1080 * ms; now <= 11080 * ms; now += 10 * ms) {
    total += t.SilenceDue(now);
    CHECK(now - t.covered_until() <= 40 * ms && now - t.covered_until() >= 10 * ms);
  }
  const int64_t covered = (t.covered_until() - 1040 * ms) * 48 / ms;
  CHECK(covered > 9900 * 48);
  CHECK(total >= covered - 2 && total <= covered + 2);
}

TEST(LoopbackTimelineCapsSilenceAfterALongStall) {
  const int64_t ms = LoopbackTimeline::kUnitsPerSecond / 1000;
  LoopbackTimeline t(0, 48000);
  CHECK(t.SilenceDue(5000 * ms) == 200 * 48);  // 5 s stall: 200 ms of zeros, the timeline jumps
  CHECK(t.covered_until() == 4990 * ms);
  CHECK(t.SilenceDue(5010 * ms) == 0);
}
