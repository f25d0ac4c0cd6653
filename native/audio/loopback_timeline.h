// LoopbackTimeline: keeps a loopback recording's timeline while the audio
// engine delivers nothing (WASAPI loopback is silent while nothing plays,
// unlike a Pulse monitor). Times are in 100 ns units (WASAPI's and its QPC
// stamps'); frames at `rate` per second.
//
// Once no packet came for kSilenceAfter, silence is due up to kSilenceLag ago
// (a late packet then still fits behind it), at most kMaxSilence at a time:
// after a long stall (sleep, a hung thread) the timeline jumps and the framer
// downstream re-anchors, rather than receiving seconds of zeros at once.
// Portable (no Windows types) so the native tests check it under ASan/UBSan.
#pragma once
#include <cstdint>

namespace tilecast {

class LoopbackTimeline {
 public:
  static constexpr int64_t kUnitsPerSecond = 10000000;
  static constexpr int64_t kSilenceAfter = 300000;  // 30 ms
  static constexpr int64_t kSilenceLag = 100000;    // 10 ms
  static constexpr int64_t kMaxSilence = 2000000;   // 200 ms

  LoopbackTimeline(int64_t start, uint32_t rate) : covered_until_(start), rate_(rate) {}

  // A packet whose last sample was captured at `end` was delivered.
  void Delivered(int64_t end) {
    if (end > covered_until_) covered_until_ = end;
  }
  // Frames of silence due at `now` (0 while not due); the timeline then covers them.
  int64_t SilenceDue(int64_t now) {
    if (now - covered_until_ <= kSilenceAfter) return 0;
    if (covered_until_ < now - kSilenceLag - kMaxSilence) covered_until_ = now - kSilenceLag - kMaxSilence;
    const int64_t frames = (now - kSilenceLag - covered_until_) * rate_ / kUnitsPerSecond;
    covered_until_ += frames * kUnitsPerSecond / rate_;
    return frames;
  }
  // When the last sample delivered (real or silence) was captured.
  int64_t covered_until() const { return covered_until_; }

 private:
  int64_t covered_until_;
  int64_t rate_;
};

}  // namespace tilecast
