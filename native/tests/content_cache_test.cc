// Content cache: the host's mirror and the viewer's cache stay identical
// through long random sequences (hits, misses, evictions), the screen stays
// exact, memory stays within the budget, and bad references are refused.
#include <cstring>
#include <random>
#include <thread>

#include "../codec/coding_scratch.h"
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

std::vector<uint8_t> CacheRunOp(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t first, uint32_t count) {
  std::vector<uint8_t> op(kOpHeaderBytes + 6);
  PutOpHeader(op.data(), OpCode::kCacheRun, x, y, w, h);
  PutU32(op.data() + kOpHeaderBytes, first);
  PutU16(op.data() + kOpHeaderBytes + 4, count);
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
    req.cache_runs = rng() % 2 == 0;
    ViewerUpdate u;
    Status s = enc.Encode(std::move(req), &u);
    if (s.ok()) s = v.Apply(u.update, u.keyframe);
    if (!s.ok()) std::fprintf(stderr, "  update %d: %s\n", i, s.message().c_str());
    CHECK_OK(s);
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

TEST(host_mirrors_hold_equal_contents_once) {
  // Two viewers' mirrors inserting the same tile share one block of pixels; other pixels under
  // the same (forced) hash get a block of their own; the last mirror to let go frees it.
  std::mt19937 rng(31);
  TestFrame a = MakeFrame(64, 64), b = MakeFrame(64, 64);
  FillScreenLike(a, rng);
  FillScreenLike(b, rng);
  SharedCachePixels& store = SharedCachePixels::Shared();
  const SharedCachePixels::Stats before = store.stats();
  const Rect r{0, 0, 64, 64};
  const uint64_t tile = 64 * 64 * 4;
  {
    ContentCache m1(1 << 20, true), m2(1 << 20, true);
    CHECK(m1.Insert(a.view(), r, 77));
    CHECK(m2.Insert(a.view(), r, 77));
    SharedCachePixels::Stats s = store.stats();
    CHECK_EQ(s.blocks, before.blocks + 1);
    CHECK_EQ(s.bytes, before.bytes + tile);
    CHECK_EQ(s.reused, before.reused + 1);
    CHECK_EQ(m1.used_bytes(), tile);  // each mirror counts the full entry against its budget...
    CHECK_EQ(m1.HeldBytes(), tile / 2);  // ...and holds half of it
    CHECK(m2.Insert(b.view(), r, 77));  // a collision: compared, not shared
    s = store.stats();
    CHECK_EQ(s.blocks, before.blocks + 2);
    uint32_t id = 99;
    CHECK(m2.FindVerified(b.view(), r, 77, &id) && id == 1);
    CHECK(m2.FindVerified(a.view(), r, 77, &id) && id == 0);
    CHECK(!m1.FindVerified(b.view(), r, 77, &id));
    m1.Clear();
    CHECK_EQ(store.stats().blocks, before.blocks + 2);  // m2 still holds both
    CHECK_EQ(m2.HeldBytes(), 2 * tile);
  }
  CHECK_EQ(store.stats().blocks, before.blocks);
  CHECK_EQ(store.stats().bytes, before.bytes);
  CHECK_EQ(store.stats().indexed, before.indexed);  // freed blocks leave the index
}

TEST(host_mirrors_on_many_threads_share_and_free_their_pixels) {
  // Viewers' encodes run at once: mirrors on four threads insert, hit, evict and clear common and
  // private contents; each sees exactly its own, and when all are gone nothing is left held.
  std::mt19937 seed_rng(32);
  TestFrame tiles = MakeFrame(32 * 16, 32);  // 16 tiles of 32x32: 0-7 common, 8-15 one per thread pair
  FillScreenLike(tiles, seed_rng);
  SharedCachePixels& store = SharedCachePixels::Shared();
  const SharedCachePixels::Stats before = store.stats();
  std::vector<std::thread> threads;
  std::vector<int> errors(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      std::mt19937 rng(100 + k);
      ContentCache mirror(6 * 32 * 32 * 4, true);  // room for 6 of them: evictions all along
      for (int step = 0; step < 3000; ++step) {
        const uint32_t t = rng() % 2 ? rng() % 8 : 8 + (k % 2) * 4 + rng() % 4;
        const Rect r{t * 32, 0, 32, 32};
        const uint64_t hash = HashRect(tiles.view(), r);
        uint32_t id = 0;
        if (!mirror.FindVerified(tiles.view(), r, hash, &id) && !mirror.Insert(tiles.view(), r, hash)) ++errors[k];
        if (step % 500 == 499) mirror.Clear();
        CodingScratchPool::Lease lease = CodingScratchPool::Shared().Acquire();
        lease->keyframe_ops.assign(64, static_cast<uint8_t>(k));
      }
      if (mirror.used_bytes() > 6 * 32 * 32 * 4) ++errors[k];
    });
  }
  for (std::thread& th : threads) th.join();
  for (int e : errors) CHECK_EQ(e, 0);
  const SharedCachePixels::Stats after = store.stats();
  CHECK_EQ(after.blocks, before.blocks);
  CHECK_EQ(after.bytes, before.bytes);
  CHECK_EQ(after.indexed, before.indexed);
  CHECK(after.reused > before.reused);
  CHECK(CacheSlab::Shared().stats().spare_bytes <= kMaxSpareBytes);
  CHECK_EQ(CodingScratchPool::Shared().stats().leased_sets, 0u);
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
  CHECK_OK(v.decoder.Apply(v.fb, data.data(), data.size(), 2, true, nullptr));
  CHECK(v.pixels == Packed(f));
  CHECK_EQ(v.decoder.cache().size(), 1u);
}

TEST(content_cache_resumes_after_cuts_with_updates_in_flight) {
  // A viewer's connection is cut at random points with 0-3 updates encoded
  // but never applied (in flight); the host parks its mirror, the viewer keeps
  // its cache; the new connection's encoder resumes the mirror for the
  // viewer's next id, the viewer keeps what CACHE_KEEP names, and a keyframe
  // that keeps the cache follows. Both must go on agreeing exactly.
  std::mt19937 rng(23);
  const uint32_t W = 256, H = 192;
  Desktop d(W, H, rng);
  const uint64_t budget = 20 * 64 * 64 * 4;
  auto enc = std::make_unique<ViewerEncoder>(64, 6, 2);
  enc->SetCacheBudget(budget);
  Viewer v(W, H);
  v.decoder.SetCacheBudget(budget);
  uint32_t resumes = 0, kept_total = 0, resume_hits = 0, in_flight = 0;
  bool resume_keyframe = false;
  for (int i = 0; i < 3000; ++i) {
    if (i > 0 && rng() % 40 == 0) {
      // The cut: 0-3 updates the viewer never applies, then a reconnect.
      for (uint32_t lost = rng() % 4; lost > 0; --lost, ++in_flight) {
        d.screen = d.windows[rng() % 3];
        ViewerEncodeRequest req;
        req.frame = d.screen.view();
        req.damage = {Rect{0, 0, W, H}};
        ViewerUpdate u;
        CHECK_OK(enc->Encode(std::move(req), &u));
      }
      std::unique_ptr<ContentCache> parked = enc->TakeCache();
      CHECK(parked != nullptr);
      // Sometimes the new connection agrees a smaller cache.
      const uint64_t budget2 = rng() % 3 == 0 ? budget / 2 : budget;
      enc = std::make_unique<ViewerEncoder>(64, 6, 2);
      enc->SetCacheBudget(budget2);
      std::vector<uint32_t> ranges;
      uint32_t next_id = 0;
      CHECK(enc->ResumeCache(std::move(parked), v.decoder.cache().next_id(), &ranges, &next_id));
      Status k = v.decoder.KeepCache(budget2, next_id, ranges.data(), ranges.size() / 2);
      if (!k.ok()) std::fprintf(stderr, "  resume at %d: %s\n", i, k.message().c_str());
      CHECK_OK(k);
      CHECK_EQ(enc->cache().size(), v.decoder.cache().size());
      CHECK_EQ(enc->cache().used_bytes(), v.decoder.cache().used_bytes());
      CHECK(enc->cache().used_bytes() <= budget2);
      kept_total += static_cast<uint32_t>(enc->cache().size());
      ++resumes;
      resume_keyframe = true;
    }
    ViewerEncodeRequest req;
    const uint32_t kind = rng() % 9;
    if (kind < 5) {
      d.screen = d.windows[rng() % 3];
    } else {
      TestFrame& f = kind < 7 ? d.windows[rng() % 3] : d.screen;
      const uint32_t x = rng() % W, y = rng() % H, w = 1 + rng() % (W - x), h = 1 + rng() % std::min<uint32_t>(40, H - y);
      const uint32_t c = rng() & 0xFFFFFF;
      for (uint32_t r = y; r < y + h; ++r)
        for (uint32_t q = x; q < x + w; ++q) std::memcpy(f.px(q, r), &c, 3);
    }
    req.keyframe = resume_keyframe;  // a new connection starts with a keyframe
    req.cache_runs = true;
    req.frame = d.screen.view();
    req.damage = {Rect{0, 0, W, H}};
    ViewerUpdate u;
    Status s = enc->Encode(std::move(req), &u);
    if (s.ok()) s = v.Apply(u.update, u.keyframe);
    if (!s.ok()) std::fprintf(stderr, "  update %d: %s\n", i, s.message().c_str());
    CHECK_OK(s);
    CHECK(v.pixels == Packed(d.screen));
    if (resume_keyframe) resume_hits += u.update.stats.ops_by_code[static_cast<int>(OpCode::kCacheRef)];
    resume_keyframe = false;
    CHECK_EQ(enc->cache().size(), v.decoder.cache().size());
    CHECK_EQ(enc->cache().used_bytes(), v.decoder.cache().used_bytes());
    CHECK_EQ(enc->cache().next_id(), v.decoder.cache().next_id());
    if (!s.ok() || v.pixels != Packed(d.screen)) return;
  }
  std::fprintf(stderr, "  %u resumes (%u updates lost in flight), %u entries kept, %u hits in the keyframes after them\n",
               resumes, in_flight, kept_total, resume_hits);
  CHECK(resumes > 40);
  CHECK(resume_hits > resumes);  // the keyframes after a resume drew from the kept cache
}

TEST(content_cache_keep_rejects_bad_ranges_and_empties_the_cache) {
  std::mt19937 rng(31);
  TestFrame f = MakeFrame(256, 64);
  FillRandom(f, rng, 0);
  const uint64_t budget = 1 << 20;
  auto filled = [&]() -> ContentCache {
    ContentCache c(budget);
    for (uint32_t i = 0; i < 4; ++i) c.Insert(f.view(), Rect{i * 64, 0, 64, 64}, 0);  // ids 0..3
    return c;
  };
  CHECK_EQ(filled().size(), 4u);
  struct Case {
    const char* what;
    uint64_t budget;
    uint32_t next_id;
    std::vector<uint32_t> ranges;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"empty range", budget, 4, {0, 0}, "is empty"},
      {"not ascending", budget, 4, {2, 1, 1, 1}, "does not ascend"},
      {"overlapping", budget, 4, {0, 2, 1, 2}, "does not ascend"},
      {"reaches next id", budget, 3, {0, 4}, "reaches the next id"},
      {"more than held", budget, 0xFFFFFFFFu, {0, 0xFFFFFFF0u}, "more entries than this cache holds"},
      {"not held", budget, 9, {5, 1}, "does not hold"},
      {"over budget", 64 * 64 * 4, 4, {0, 2}, "over the cache size"},
  };
  for (const Case& c : cases) {
    ContentCache cache = filled();
    Status s = cache.Keep(c.budget, c.next_id, c.ranges.data(), c.ranges.size() / 2);
    if (s.ok() || s.message().find(c.message) == std::string::npos) std::fprintf(stderr, "  %s: %s\n", c.what, s.message().c_str());
    CHECK(!s.ok());
    CHECK(s.message().find(c.message) != std::string::npos);
    CHECK_EQ(cache.size(), 0u);
  }
  // Keeping 1 and 3: those stay (3 the most recent), the next insert gets the host's next id.
  ContentCache cache = filled();
  const uint32_t ranges[] = {1, 1, 3, 1};
  CHECK_OK(cache.Keep(2 * 64 * 64 * 4, 7, ranges, 2));
  CHECK_EQ(cache.size(), 2u);
  CHECK(cache.Use(0) == nullptr && cache.Use(2) == nullptr);
  uint32_t id = 0;
  CHECK(cache.Insert(f.view(), Rect{0, 0, 64, 64}, 0, &id));  // evicts the least recent: 1
  CHECK_EQ(id, 7u);
  CHECK(cache.Use(1) == nullptr && cache.Use(3) != nullptr);
  // A mirror that made fewer inserts than the viewer claims cannot resume.
  ContentCache mirror = filled();
  std::vector<uint32_t> out;
  CHECK(!mirror.ResumeFor(5, budget, &out));
  CHECK_EQ(mirror.size(), 0u);
  CHECK_EQ(mirror.next_id(), 4u);
}

TEST(content_cache_runs_name_rows_of_tiles_and_bad_runs_are_protocol_errors) {
  // A window raised again: with runs, each tile row of hits is one CACHE_RUN op.
  std::mt19937 rng(12);
  const uint32_t W = 320, H = 192;
  TestFrame a = MakeFrame(W, H), b = MakeFrame(W, H);
  FillScreenLike(a, rng);
  FillRandom(a, rng, 40);  // busy: no SOLID tiles to break a row
  FillRandom(b, rng, 40);
  for (bool runs : {false, true}) {
    ViewerEncoder enc(64, 6, 2);
    enc.SetCacheBudget(64 << 20);
    Viewer v(W, H);
    v.decoder.SetCacheBudget(64 << 20);
    uint32_t last_ops = 0, last_refs = 0;
    for (const TestFrame* f : {&a, &b, &a}) {
      ViewerEncodeRequest req;
      req.frame = f->view();
      req.damage = {Rect{0, 0, W, H}};
      req.keyframe = f == &a && last_ops == 0;
      req.cache_runs = runs;
      ViewerUpdate u;
      CHECK_OK(enc.Encode(std::move(req), &u));
      DecodeStats stats;
      CHECK_OK(v.decoder.Apply(v.fb, u.update.stream.data(), u.update.stream.size(), u.update.op_count, u.keyframe, &stats));
      CHECK(v.pixels == Packed(*f));
      CHECK_EQ(stats.ops_by_code[static_cast<int>(OpCode::kCacheRef)], u.update.stats.ops_by_code[static_cast<int>(OpCode::kCacheRef)]);
      last_ops = u.update.op_count;
      last_refs = stats.ops_by_code[static_cast<int>(OpCode::kCacheRef)];
    }
    CHECK_EQ(last_refs, 15u);  // every tile of the first screen came back from the cache
    CHECK_EQ(last_ops, runs ? 3u : 15u);  // as one run per tile row, or one reference per tile
    CHECK_EQ(enc.cache().size(), v.decoder.cache().size());
  }

  // Bad runs: each is a protocol error with a clear message, and the cache is emptied.
  TestFrame f = MakeFrame(256, 64);
  FillRandom(f, rng, 0);
  std::vector<uint8_t> tiles;
  TileScratch scratch;
  TileAnalysis analysis;
  for (uint32_t i = 0; i < 4; ++i) {
    const Rect r{i * 64, 0, i == 3 ? 32u : 64u, 64};  // ids 0..3, the last 32 wide
    AnalyzeTile(f.view(), r, &scratch, &analysis);
    AppendTileOp(f.view(), r, analysis, scratch, &tiles);
  }
  auto cat = [](std::vector<uint8_t> x, const std::vector<uint8_t>& y) {
    x.insert(x.end(), y.begin(), y.end());
    return x;
  };
  struct Case {
    const char* what;
    uint64_t budget;
    std::vector<uint8_t> run;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"no cache", 0, CacheRunOp(0, 0, 128, 64, 0, 2), "without a content cache"},
      {"zero entries", 1 << 20, CacheRunOp(0, 0, 128, 64, 0, 0), "of 0 entries"},
      {"missing entry", 1 << 20, CacheRunOp(0, 0, 192, 64, 2, 3), "entry 4, which the cache does not hold"},
      {"too few columns", 1 << 20, CacheRunOp(0, 0, 100, 64, 0, 2), "does not fit the 100x64 rect at x 64"},
      {"columns left over", 1 << 20, CacheRunOp(0, 0, 200, 64, 0, 3), "covers 192 of its 200 columns"},
      {"wrong height", 1 << 20, CacheRunOp(0, 0, 128, 32, 0, 2), "does not fit the 128x32 rect"},
  };
  for (const Case& c : cases) {
    Viewer v(256, 64);
    v.decoder.SetCacheBudget(c.budget);
    std::vector<uint8_t> data = Deflated(cat(tiles, c.run));
    Status s = v.decoder.Apply(v.fb, data.data(), data.size(), 5, true, nullptr);
    if (s.ok() || s.message().find(c.message) == std::string::npos) std::fprintf(stderr, "  %s: %s\n", c.what, s.message().c_str());
    CHECK(!s.ok());
    CHECK(s.message().find(c.message) != std::string::npos);
    CHECK_EQ(v.decoder.cache().size(), 0u);
  }
  // The good run: entries 1..3 (64 + 64 + 32 wide) drawn back side by side, exactly.
  Viewer v(256, 64);
  v.decoder.SetCacheBudget(1 << 20);
  std::vector<uint8_t> data = Deflated(cat(tiles, CacheRunOp(0, 0, 160, 64, 1, 3)));
  DecodeStats stats;
  CHECK_OK(v.decoder.Apply(v.fb, data.data(), data.size(), 5, true, &stats));
  CHECK_EQ(stats.ops_by_code[static_cast<int>(OpCode::kCacheRef)], 3u);
  for (uint32_t y = 0; y < 64; ++y) {
    CHECK(std::memcmp(v.pixels.data() + y * 256 * 4, Packed(f).data() + (y * 256 + 64) * 4, 160 * 4) == 0);
  }
}
