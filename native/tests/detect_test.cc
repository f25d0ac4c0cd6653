#include <cstring>
#include <random>

#include "../detect/change_detector.h"
#include "../detect/row_diff.h"
#include "../util/cpu_features.h"
#include "harness.h"
#include "test_util.h"

using namespace tilecast;

namespace {
const SimdLevel kLevels[] = {SimdLevel::kScalar, SimdLevel::kSse2, SimdLevel::kAvx2};

std::vector<Rect> Detect(ChangeDetector& d, const TestFrame& f) {
  std::vector<Rect> rects;
  Status s = d.Detect(f.view(), &rects);
  if (!s.ok()) std::fprintf(stderr, "detect failed: %s\n", s.message().c_str());
  return rects;
}
}  // namespace

TEST(row_diff_kernels_match_scalar_on_random_rows) {
  std::mt19937 rng(1);
  for (int iter = 0; iter < 3000; ++iter) {
    size_t width = 1 + rng() % 3000;
    size_t seg = 4 * (1 + rng() % 80);
    std::vector<uint8_t> a(width), b;
    for (auto& v : a) v = static_cast<uint8_t>(rng());
    b = a;
    int changes = rng() % 4;
    for (int c = 0; c < changes; ++c) b[rng() % width] ^= static_cast<uint8_t>(1 + rng() % 255);
    size_t segs = (width + seg - 1) / seg;
    std::vector<uint8_t> pre(segs);
    for (auto& v : pre) v = (rng() % 5 == 0);
    std::vector<uint8_t> want = pre;
    RowDiffScalar(a.data(), b.data(), width, seg, want.data());
    for (SimdLevel level : kLevels) {
      if (level > DetectedSimdLevel()) continue;
      std::vector<uint8_t> got = pre;
      RowDiffFor(level)(a.data(), b.data(), width, seg, got.data());
      CHECK(got == want);
    }
  }
}

TEST(row_diff_finds_a_single_changed_byte_anywhere) {
  const size_t width = 1920 * 4, seg = 256;
  std::vector<uint8_t> a(width, 7);
  for (SimdLevel level : kLevels) {
    if (level > DetectedSimdLevel()) continue;
    for (size_t pos = 0; pos < width; pos += 3) {
      std::vector<uint8_t> b = a;
      b[pos] = 8;
      std::vector<uint8_t> flags(width / seg, 0);
      RowDiffFor(level)(a.data(), b.data(), width, seg, flags.data());
      for (size_t s = 0; s < flags.size(); ++s) CHECK_EQ(flags[s], static_cast<uint8_t>(s == pos / seg));
    }
  }
}

TEST(first_frame_is_all_dirty_then_unchanged_is_clean) {
  for (uint32_t size : {1u, 2u, 63u, 64u, 65u, 130u}) {
    TestFrame f = MakeFrame(size, size + 3, 12);
    std::mt19937 rng(size);
    FillRandom(f, rng, 0);
    ChangeDetector d(f.width, f.height, 64);
    auto first = Detect(d, f);
    uint64_t area = 0;
    for (auto& r : first) area += static_cast<uint64_t>(r.w) * r.h;
    CHECK_EQ(area, static_cast<uint64_t>(f.width) * f.height);
    CHECK(Detect(d, f).empty());
  }
}

TEST(single_pixel_change_marks_exactly_its_tile_on_every_simd_level) {
  for (SimdLevel level : kLevels) {
    if (level > DetectedSimdLevel()) continue;
    SetSimdLevel(level);
    TestFrame f = MakeFrame(333, 201, 20);  // odd size, padded stride
    std::mt19937 rng(5);
    FillRandom(f, rng, 3);
    ChangeDetector d(f.width, f.height, 32);
    Detect(d, f);
    for (int i = 0; i < 200; ++i) {
      uint32_t x = rng() % f.width, y = rng() % f.height;
      f.px(x, y)[rng() % 3] ^= 0x10;
      auto rects = Detect(d, f);
      CHECK_EQ(rects.size(), size_t{1});
      Rect want{x / 32 * 32, y / 32 * 32, std::min(32u, f.width - x / 32 * 32), std::min(32u, f.height - y / 32 * 32)};
      CHECK(rects[0] == want);
      CHECK(Detect(d, f).empty());  // reference was updated
    }
    // Changing only the stride padding is not a change.
    for (uint32_t y = 0; y < f.height; ++y) f.bytes[y * f.stride + f.width * 4] ^= 0xFF;
    CHECK(Detect(d, f).empty());
  }
  SetSimdLevel(DetectedSimdLevel());
}

TEST(merge_dirty_tiles_joins_runs_and_clips) {
  // 4x3 tile grid, tile 10, screen 35x25:
  // row0: X X . X
  // row1: X X . .
  // row2: . X X X
  const uint8_t grid[] = {1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1};
  std::vector<Rect> out;
  MergeDirtyTiles(grid, 4, 3, 10, 35, 25, &out);
  CHECK_EQ(out.size(), size_t{3});
  CHECK(out[0] == (Rect{0, 0, 20, 20}));
  CHECK(out[1] == (Rect{30, 0, 5, 10}));
  CHECK(out[2] == (Rect{10, 20, 25, 5}));
}

TEST(detector_rects_cover_exactly_the_changed_tiles_on_random_edits) {
  std::mt19937 rng(9);
  TestFrame f = MakeFrame(517, 389, 4);
  FillRandom(f, rng, 0);
  const uint32_t tile = 64;
  ChangeDetector d(f.width, f.height, tile);
  Detect(d, f);
  const uint32_t tx = (f.width + tile - 1) / tile, ty = (f.height + tile - 1) / tile;
  for (int iter = 0; iter < 100; ++iter) {
    const std::vector<uint8_t> before = f.bytes;
    int edits = rng() % 12;
    for (int e = 0; e < edits; ++e) f.px(rng() % f.width, rng() % f.height)[rng() % 3] ^= 1;
    // Expected: a tile is dirty iff some pixel in it differs from before (edits may cancel out).
    std::vector<uint8_t> expect(tx * ty, 0);
    for (uint32_t y = 0; y < f.height; ++y)
      for (uint32_t x = 0; x < f.width; ++x)
        if (std::memcmp(&before[y * f.stride + x * 4], f.px(x, y), 4) != 0) expect[(y / tile) * tx + x / tile] = 1;
    auto rects = Detect(d, f);
    // Rects must be disjoint, tile-aligned and cover exactly the dirty tiles.
    std::vector<uint8_t> covered(tx * ty, 0);
    for (auto& r : rects) {
      CHECK_EQ(r.x % tile, 0u);
      CHECK_EQ(r.y % tile, 0u);
      for (uint32_t y = r.y; y < r.y + r.h; y += tile)
        for (uint32_t x = r.x; x < r.x + r.w; x += tile) {
          CHECK_EQ(covered[(y / tile) * tx + x / tile], uint8_t{0});
          covered[(y / tile) * tx + x / tile] = 1;
        }
    }
    CHECK(covered == expect);
  }
}
