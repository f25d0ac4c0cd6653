// Content cache: the host's mirror and the viewer's cache stay identical
// through long random sequences (hits, misses, evictions), the screen stays
// exact, memory stays within the budget, and bad references are refused.
#include <cstring>
#include <random>

#include "../codec/content_cache.h"
#include "../codec/tile_analyzer.h"
#include "../codec/viewer_encoder.h"
#include "codec_util.h"
#include "harness.h"
#include "test_util.h"

using namespace tilecast;

namespace {

// Three "windows" (whole screens of text-like content) and a little noise:
// raising one shows it again exactly, as a window switch does.
struct Desktop {
  std::vector<TestFrame> windows;
  TestFrame screen;
  Desktop(uint32_t w, uint32_t h, std::mt19937& rng) : screen(MakeFrame(w, h)) {
    for (int i = 0; i < 3; ++i) {
      windows.push_back(MakeFrame(w, h));
      FillScreenLike(windows.back(), rng);
      if (i == 1) FillRandom(windows.back(), rng, 40);  // a busier window (truecolor-ish tiles)
    }
    screen = windows[0];
  }
};

// A raw op stream (header + body) deflated as a keyframe update.
std::vector<uint8_t> Deflated(const std::vector<uint8_t>& ops) {
  DeflateStream z(6);
  std::vector<uint8_t> data;
  z.Write(ops.data(), ops.size(), &data);
  z.Finish(&data);
  return data;
}

std::vector<uint8_t> CacheRefOp(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t id) {
  std::vector<uint8_t> op(kOpHeaderBytes + 4);
  PutOpHeader(op.data(), OpCode::kCacheRef, x, y, w, h);
  PutU32(op.data() + kOpHeaderBytes, id);
  return op;
}

}  // namespace

TEST(content_cache_mirror_and_viewer_agree_over_thousands_of_updates) {
  std::mt19937 rng(17);
  const uint32_t W = 256, H = 192;
  Desktop d(W, H, rng);
  ViewerEncoder enc(64, 6, 2);
  const uint64_t budget = 20 * 64 * 64 * 4;  // 20 tiles: the three windows (36 tiles) do not all fit
  enc.SetCacheBudget(budget);
  Viewer v(W, H);
  v.decoder.SetCacheBudget(budget);
  uint32_t hits = 0, keyframes = 0;
  for (int i = 0; i < 4000; ++i) {
    ViewerEncodeRequest req;
    const uint32_t kind = rng() % 50 == 0 ? 9 : rng() % 9;
    if (kind < 5) {
      d.screen = d.windows[rng() % 3];  // raise a window
    } else if (kind < 9) {
      // Edit a window (what the next raise shows) or the screen; any rect.
      TestFrame& f = kind < 7 ? d.windows[rng() % 3] : d.screen;
      const uint32_t x = rng() % W, y = rng() % H, w = 1 + rng() % (W - x), h = 1 + rng() % std::min<uint32_t>(40, H - y);
      const uint32_t c = rng() & 0xFFFFFF;
      for (uint32_t r = y; r < y + h; ++r)
        for (uint32_t q = x; q < x + w; ++q) std::memcpy(f.px(q, r), &c, 3);
      if (kind >= 7) {
        // Scrolled-back content: part of another window pasted where it was.
        TestFrame& o = d.windows[rng() % 3];
        for (uint32_t r = 64; r < 128; ++r) std::memcpy(d.screen.px(0, r), o.px(0, r), W * 4);
      }
    } else {
      req.keyframe = true;  // a viewer's refresh request
      ++keyframes;
    }
    req.frame = d.screen.view();
    req.damage = {Rect{0, 0, W, H}};
    req.detect_moves = rng() % 2 == 0;
    ViewerUpdate u;
    Status s = enc.Encode(std::move(req), &u);
    if (s.ok()) s = v.Apply(u.update, u.keyframe);
    if (!s.ok()) std::fprintf(stderr, "  update %d: %s\n", i, s.message().c_str());
    CHECK(s.ok());
    CHECK(v.pixels == Packed(d.screen));
    hits += u.update.stats.ops_by_code[static_cast<int>(OpCode::kCacheRef)];
    const ContentCache& m = enc.cache();
    const ContentCache& c = v.decoder.cache();
    CHECK_EQ(m.size(), c.size());
    CHECK_EQ(m.used_bytes(), c.used_bytes());
    CHECK_EQ(m.next_id(), c.next_id());
    CHECK(m.used_bytes() <= budget);
    if (!s.ok() || v.pixels != Packed(d.screen)) return;
  }
  std::fprintf(stderr, "  %u cache hits, %u keyframes, %u entries in the last span\n", hits, keyframes, enc.cache().next_id());
  CHECK(hits > 1000);
  CHECK(enc.cache().next_id() > enc.cache().size());  // evictions happened since the last keyframe
}

TEST(content_cache_hash_collisions_never_draw_wrong_pixels) {
  // FindVerified compares pixels: an entry under the same hash but other content is no hit.
  std::mt19937 rng(4);
  TestFrame a = MakeFrame(64, 64), b = MakeFrame(64, 64);
  FillScreenLike(a, rng);
  FillScreenLike(b, rng);
  ContentCache cache(1 << 20, true);
  const Rect r{0, 0, 64, 64};
  CHECK(cache.Insert(a.view(), r, 42));
  uint32_t id = 99;
  CHECK(!cache.FindVerified(b.view(), r, 42, &id));  // same (forced) hash, other pixels
  CHECK(cache.FindVerified(a.view(), r, 42, &id));
  CHECK_EQ(id, 0u);
  a.px(3, 3)[3] = 0x00;  // the 4th byte is padding, not content
  CHECK(cache.FindVerified(a.view(), r, 42, &id));
}

TEST(content_cache_budget_and_lru_order) {
  std::mt19937 rng(8);
  TestFrame f = MakeFrame(128, 32);
  FillRandom(f, rng, 0);
  const uint64_t entry = 32 * 32 * 4;
  ContentCache cache(3 * entry, true);
  for (uint32_t i = 0; i < 3; ++i) CHECK(cache.Insert(f.view(), Rect{i * 32, 0, 32, 32}, i));
  CHECK(cache.Use(0) != nullptr);  // 0 is now the most recent: 1 goes first
  CHECK(cache.Insert(f.view(), Rect{96, 0, 32, 32}, 3));
  CHECK(cache.Use(1) == nullptr);
  CHECK(cache.Use(0) != nullptr && cache.Use(2) != nullptr && cache.Use(3) != nullptr);
  CHECK_EQ(cache.used_bytes(), 3 * entry);
  CHECK(!cache.Insert(f.view(), Rect{0, 0, 128, 32}, 9));  // larger than the budget: not inserted, no id
  CHECK_EQ(cache.next_id(), 4u);
  ContentCache off;
  CHECK(!off.Insert(f.view(), Rect{0, 0, 32, 32}, 0));
}

TEST(content_cache_bad_references_are_protocol_errors) {
  std::mt19937 rng(9);
  TestFrame f = MakeFrame(64, 64);
  FillRandom(f, rng, 0);  // truecolor: enters the cache
  std::vector<uint8_t> tile;
  TileScratch scratch;
  TileAnalysis analysis;
  AnalyzeTile(f.view(), Rect{0, 0, 64, 64}, &scratch, &analysis);
  AppendTileOp(f.view(), Rect{0, 0, 64, 64}, analysis, scratch, &tile);
  struct Case {
    const char* what;
    uint64_t budget;
    std::vector<uint8_t> ops;
    uint32_t count;
    const char* message;
  };
  std::vector<uint8_t> short_ref = CacheRefOp(0, 0, 64, 64, 0);
  short_ref.resize(short_ref.size() - 2);
  auto cat = [](std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  std::vector<Case> cases = {
      {"no cache negotiated", 0, cat(tile, CacheRefOp(0, 0, 64, 64, 0)), 2, "without a content cache"},
      {"missing entry", 1 << 20, cat(tile, CacheRefOp(0, 0, 64, 64, 1)), 2, "does not hold"},
      {"empty cache", 1 << 20, CacheRefOp(0, 0, 64, 64, 0), 1, "does not hold"},
      {"wrong size", 1 << 20, cat(tile, CacheRefOp(0, 0, 32, 64, 0)), 2, "of 64x64 for a 32x64 rect"},
      {"outside", 1 << 20, cat(tile, CacheRefOp(32, 0, 64, 64, 0)), 2, "outside the framebuffer"},
      {"truncated id", 1 << 20, cat(tile, short_ref), 2, ""},
  };
  for (const Case& c : cases) {
    Viewer v(64, 64);
    v.decoder.SetCacheBudget(c.budget);
    std::vector<uint8_t> data = Deflated(c.ops);
    Status s = v.decoder.Apply(v.fb, data.data(), data.size(), c.count, true, nullptr);
    if (s.ok() || s.message().find(c.message) == std::string::npos) std::fprintf(stderr, "  %s: %s\n", c.what, s.message().c_str());
    CHECK(!s.ok());
    CHECK(s.message().find(c.message) != std::string::npos);
    CHECK_EQ(v.decoder.cache().size(), 0u);  // emptied after the error
  }
  // The good case, for contrast: the entry drawn back exactly.
  Viewer v(64, 64);
  v.decoder.SetCacheBudget(1 << 20);
  std::vector<uint8_t> data = Deflated(cat(tile, CacheRefOp(0, 0, 64, 64, 0)));
  CHECK(v.decoder.Apply(v.fb, data.data(), data.size(), 2, true, nullptr).ok());
  CHECK(v.pixels == Packed(f));
  CHECK_EQ(v.decoder.cache().size(), 1u);
}
