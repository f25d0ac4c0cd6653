// ViewerEncoder: one viewer's update choreography (keyframes, moves, residual,
// lossy tiles and their refinement, failures, release), decoded as a viewer would.
#include <cstring>
#include <random>

#include "../codec/coding_scratch.h"
#include "../codec/viewer_encoder.h"
#include "codec_util.h"
#include "harness.h"
#include "test_util.h"

using namespace tilecast;

namespace {

std::vector<Rect> Whole(const TestFrame& f) { return {Rect{0, 0, f.width, f.height}}; }

// Encodes `req` with `enc` and applies it to `v`; false if either fails.
bool Send(ViewerEncoder& enc, Viewer& v, ViewerEncodeRequest req, ViewerUpdate* out) {
  Status s = enc.Encode(std::move(req), out);
  if (s.ok()) s = v.Apply(out->update, out->keyframe);
  if (!s.ok()) std::fprintf(stderr, "  %s\n", s.message().c_str());
  return s.ok();
}

ViewerEncodeRequest Request(const TestFrame& f, std::vector<Rect> damage, bool keyframe = false) {
  ViewerEncodeRequest r;
  r.frame = f.view();
  r.damage = std::move(damage);
  r.keyframe = keyframe;
  return r;
}

}  // namespace

TEST(viewer_encoder_starts_with_a_keyframe_and_sends_only_what_differs) {
  std::mt19937 rng(3);
  TestFrame a = MakeFrame(320, 200);
  FillScreenLike(a, rng);
  ViewerEncoder enc(64, 6, 2);
  Viewer v(320, 200);
  ViewerUpdate u;
  CHECK(Send(enc, v, Request(a, {Rect{0, 0, 10, 10}}), &u));  // not asked for, but nothing was sent yet
  CHECK(u.keyframe);
  CHECK(v.pixels == Packed(a));
  TestFrame b = a;
  b.px(100, 150)[0] ^= 0xFF;
  CHECK(Send(enc, v, Request(b, Whole(b)), &u));  // damage says "everything"; only one row differs
  CHECK(!u.keyframe);
  CHECK_EQ(u.rects.size(), 1u);
  CHECK_EQ(u.rects[0].y, 150u);
  CHECK_EQ(u.rects[0].h, 1u);
  CHECK(v.pixels == Packed(b));
  CHECK(Send(enc, v, Request(b, Whole(b)), &u));  // nothing differs: an empty update
  CHECK(u.rects.empty());
  CHECK_EQ(u.update.op_count, 0u);
}

TEST(viewer_encoder_scroll_goes_as_a_copy_and_ends_exact) {
  std::mt19937 rng(5);
  TestFrame page = MakeFrame(512, 900);
  FillScreenLike(page, rng);
  auto window = [&](uint32_t top) {
    TestFrame f = MakeFrame(512, 384);
    for (uint32_t y = 0; y < 384; ++y) std::memcpy(f.px(0, y), page.px(0, top + y), 512 * 4);
    return f;
  };
  ViewerEncoder enc(64, 6, 2);
  Viewer v(512, 384);
  ViewerUpdate u;
  CHECK(Send(enc, v, Request(window(0), {}), &u));
  for (uint32_t top : {40u, 93u, 200u}) {
    TestFrame f = window(top);
    ViewerEncodeRequest req = Request(f, Whole(f));
    req.detect_moves = true;
    CHECK(Send(enc, v, std::move(req), &u));
    CHECK(!u.copies.empty());
    CHECK(v.pixels == Packed(f));
  }
}

TEST(viewer_encoder_owns_lossy_tiles_and_refines_them_to_exact) {
  if (!HaveJpeg()) {
    CHECK(std::getenv("CI") == nullptr);  // CI must have the codec
    return;
  }
  std::mt19937 rng(7);
  TestFrame f = MakeFrame(256, 192);
  FillScreenLike(f, rng);
  ViewerEncoder enc(64, 6, 2);
  Viewer v(256, 192);
  ViewerUpdate u;
  CHECK(Send(enc, v, Request(f, {}), &u));
  FillPhoto(f, Rect{64, 64, 128, 128}, rng);
  ViewerEncodeRequest req = Request(f, {Rect{64, 64, 128, 128}});
  req.lossy_mask.assign(4 * 3, 0);
  for (uint32_t i : {5u, 6u, 9u, 10u}) req.lossy_mask[i] = 1;  // the photo's four tiles
  req.jpeg.quality = 80;
  CHECK(Send(enc, v, std::move(req), &u));
  CHECK_EQ(u.lossy_tiles, 4u);
  CHECK(enc.LossyTiles() == (std::vector<uint32_t>{5, 6, 9, 10}));
  CHECK(Psnr(v.pixels, Packed(f)) > 30);
  // Two tiles refined: they go exact, even though the mask still allows lossy there.
  req = Request(f, {});
  req.lossy_mask.assign(12, 1);
  req.jpeg.quality = 80;
  req.refine = {Rect{64, 64, 64, 64}, Rect{128, 64, 64, 64}};
  CHECK(Send(enc, v, std::move(req), &u));
  CHECK(enc.LossyTiles() == (std::vector<uint32_t>{9, 10}));
  req = Request(f, {});
  req.refine = {Rect{64, 128, 128, 64}};
  CHECK(Send(enc, v, std::move(req), &u));
  CHECK_EQ(u.lossy_tiles, 0u);
  CHECK(v.pixels == Packed(f));
}

TEST(viewer_encoder_rejects_bad_requests_without_losing_state) {
  std::mt19937 rng(9);
  TestFrame f = MakeFrame(200, 100);
  FillScreenLike(f, rng);
  ViewerEncoder enc(64, 6, 1);
  Viewer v(200, 100);
  ViewerUpdate u;
  CHECK(Send(enc, v, Request(f, {}), &u));
  CHECK(enc.Encode(Request(f, {Rect{150, 0, 51, 10}}), &u).code() == ErrorCode::kInvalidArgument);
  ViewerEncodeRequest bad_refine = Request(f, {});
  bad_refine.refine = {Rect{0, 90, 10, 11}};
  CHECK(enc.Encode(std::move(bad_refine), &u).code() == ErrorCode::kInvalidArgument);
  ViewerEncodeRequest bad_mask = Request(f, {});
  bad_mask.lossy_mask.assign(5, 1);  // the grid has 4 x 2 tiles
  CHECK(enc.Encode(std::move(bad_mask), &u).code() == ErrorCode::kInvalidArgument);
  ViewerEncodeRequest bad_quality = Request(f, {});
  bad_quality.lossy_mask.assign(8, 1);
  bad_quality.jpeg.quality = 0;
  CHECK(enc.Encode(std::move(bad_quality), &u).code() == ErrorCode::kInvalidArgument);
  // Nothing was touched: the next update is a delta the viewer can apply.
  TestFrame g = f;
  g.px(5, 5)[1] ^= 0x55;
  CHECK(Send(enc, v, Request(g, {Rect{0, 0, 64, 64}}), &u));
  CHECK(!u.keyframe);
  CHECK(v.pixels == Packed(g));
}

TEST(viewer_encoder_resize_and_release_start_over_with_a_keyframe) {
  std::mt19937 rng(11);
  TestFrame a = MakeFrame(128, 128), b = MakeFrame(96, 160);
  FillScreenLike(a, rng);
  FillScreenLike(b, rng);
  ViewerEncoder enc(64, 6, 1);
  ViewerUpdate u;
  Viewer va(128, 128);
  CHECK(Send(enc, va, Request(a, {}), &u));
  CHECK(enc.MemoryBytes() >= 128u * 128 * 4);
  Viewer vb(96, 160);
  CHECK(Send(enc, vb, Request(b, {Rect{0, 0, 8, 8}}), &u));
  CHECK(u.keyframe);
  CHECK(vb.pixels == Packed(b));
  enc.Release();
  CHECK_EQ(enc.MemoryBytes(), 0u);
  CHECK_EQ(enc.LossyTileCount(), 0u);
  Viewer vc(96, 160);
  CHECK(Send(enc, vc, Request(b, {}), &u));
  CHECK(u.keyframe);
  CHECK(vc.pixels == Packed(b));
}

TEST(viewers_in_sync_share_one_copy_of_the_screen) {
  std::mt19937 rng(13);
  TestFrame page = MakeFrame(320, 700);
  FillScreenLike(page, rng);
  auto window = [&](uint32_t top) {
    TestFrame f = MakeFrame(320, 240);
    for (uint32_t y = 0; y < 240; ++y) std::memcpy(f.px(0, y), page.px(0, top + y), 320 * 4);
    return f;
  };
  const size_t screen_bytes = 320u * 240 * 4;
  auto store = std::make_shared<ScreenStore>();
  ViewerEncoder a(64, 6, 1, store), b(64, 6, 1, store);
  Viewer va(320, 240), vb(320, 240);
  ViewerUpdate u;
  auto request = [](const TestFrame& f, std::vector<Rect> damage, uint64_t generation, bool complete) {
    ViewerEncodeRequest r = Request(f, std::move(damage));
    r.generation = generation;
    r.complete = complete;
    r.detect_moves = true;
    return r;
  };
  TestFrame f1 = window(0);
  CHECK(Send(a, va, request(f1, {}, 1, true), &u));
  CHECK(Send(b, vb, request(f1, {}, 1, true), &u));
  CHECK(a.sent_frame().shared() && b.sent_frame().shared());
  CHECK_EQ(store->Count(), 1u);
  CHECK_EQ(store->MemoryBytes(), screen_bytes);
  // Flags only, no copy of its own (the coding buffers are the process's pool's, not the viewer's).
  CHECK(a.MemoryBytes() < screen_bytes / 8);
  // A scroll: copies against the shared screen, nothing copied per viewer, and exact.
  TestFrame f2 = window(57);
  CHECK(Send(a, va, request(f2, Whole(f2), 2, true), &u));
  CHECK(!u.copies.empty());
  CHECK(Send(b, vb, request(f2, Whole(f2), 2, true), &u));
  CHECK(va.pixels == Packed(f2) && vb.pixels == Packed(f2));
  CHECK_EQ(store->Count(), 1u);  // screen 1 was freed when the last viewer moved on
  CHECK(a.sent_frame().shared() && a.MemoryBytes() < screen_bytes / 8);
  // Viewer b gets only part of the next change (the rest held back): it keeps a copy of its own...
  TestFrame f3 = f2;
  f3.px(10, 10)[0] ^= 0xFF;
  f3.px(300, 200)[1] ^= 0xFF;
  CHECK(Send(b, vb, request(f3, {Rect{0, 0, 64, 64}}, 3, false), &u));
  CHECK(!b.sent_frame().shared());
  CHECK(b.MemoryBytes() >= screen_bytes);
  CHECK(Send(a, va, request(f3, {Rect{0, 0, 64, 64}, Rect{256, 192, 64, 48}}, 3, true), &u));
  CHECK(va.pixels == Packed(f3));
  // ...until an update brings it everything: then it shares again.
  CHECK(Send(b, vb, request(f3, {Rect{256, 192, 64, 48}}, 3, true), &u));
  CHECK(vb.pixels == Packed(f3));
  CHECK(b.sent_frame().shared() && b.MemoryBytes() < screen_bytes / 8);
  CHECK_EQ(store->Count(), 1u);
  a.Release();
  b.Release();
  CHECK_EQ(store->Count(), 0u);
}

TEST(viewer_encoder_keyframe_reuses_the_sent_copy_and_stays_exact) {
  // A keyframe of the same size keeps the copy's buffer: what follows must be computed
  // against the keyframe's pixels, not what was there before.
  std::mt19937 rng(4);
  TestFrame a = MakeFrame(320, 200), c = MakeFrame(320, 200);
  FillScreenLike(a, rng);
  FillScreenLike(c, rng);
  ViewerEncoder enc(64, 6, 2);
  Viewer v(320, 200);
  ViewerUpdate u;
  CHECK(Send(enc, v, Request(a, Whole(a)), &u));
  CHECK(Send(enc, v, Request(c, Whole(c), /*keyframe=*/true), &u));
  CHECK(u.keyframe);
  CHECK(v.pixels == Packed(c));
  CHECK(Send(enc, v, Request(c, Whole(c)), &u));  // nothing differs from the keyframe
  CHECK(u.rects.empty());
  TestFrame d = c;
  d.px(7, 9)[1] ^= 0x55;
  CHECK(Send(enc, v, Request(d, Whole(d)), &u));
  CHECK_EQ(u.rects.size(), 1u);
  CHECK(v.pixels == Packed(d));
}

TEST(coding_buffers_are_leased_from_one_pool_not_kept_per_viewer) {
  // A keyframe's coding buffers (megabytes at 1080p) go back to the process's pool when its Encode
  // ends: a second viewer's keyframe reuses the same set, and neither viewer counts them.
  std::mt19937 rng(21);
  TestFrame f = MakeFrame(640, 480);
  FillScreenLike(f, rng);
  CodingScratchPool& pool = CodingScratchPool::Shared();
  pool.Trim();
  const size_t made = pool.stats().sets_made;
  ViewerEncoder a(64, 6, 2), b(64, 6, 2);
  Viewer va(640, 480), vb(640, 480);
  ViewerUpdate u;
  CHECK(Send(a, va, Request(f, {}), &u));
  const CodingScratchPool::Stats after_a = pool.stats();
  CHECK_EQ(after_a.sets_made, made + 1);
  CHECK_EQ(after_a.leased_sets, 0u);
  CHECK_EQ(after_a.idle_sets, 1u);
  CHECK(after_a.idle_bytes > u.update.stream.size());  // the op bytes, gathered and coded
  CHECK(Send(b, vb, Request(f, {}), &u));
  const CodingScratchPool::Stats after_b = pool.stats();
  CHECK_EQ(after_b.sets_made, made + 1);
  CHECK_EQ(after_b.idle_bytes, after_a.idle_bytes);  // the same set, no growth
  CHECK(va.pixels == Packed(f) && vb.pixels == Packed(f));
  CHECK(a.MemoryBytes() <= static_cast<size_t>(f.stride) * f.height + 64 * 1024);  // its copy and flags only
  pool.Trim();
  CHECK_EQ(pool.stats().idle_bytes, 0u);
  CHECK(Send(a, va, Request(f, {}, /*keyframe=*/true), &u));  // and coding works on after a trim
  CHECK(va.pixels == Packed(f));
}

TEST(coding_buffers_stay_within_what_the_largest_encode_needed) {
  // Updates with many dirty rects of changing sizes use many band buffers; kept per slot, a set's
  // buffers grew with every new mix of rects. They stay within twice the most bytes one Encode
  // wrote (here the keyframe's), and every update still decodes exactly.
  std::mt19937 rng(22);
  TestFrame f = MakeFrame(640, 480), noise = MakeFrame(640, 480);
  FillScreenLike(f, rng);
  FillRandom(noise, rng, 0);
  CodingScratchPool& pool = CodingScratchPool::Shared();
  pool.Trim();
  ViewerEncoder enc(64, 6, 2);
  Viewer v(640, 480);
  ViewerUpdate u;
  CHECK(Send(enc, v, Request(f, {}), &u));
  for (int step = 0; step < 60; ++step) {
    std::vector<Rect> damage;
    const int rects = 20 + static_cast<int>(rng() % 60);
    for (int k = 0; k < rects; ++k) {
      const uint32_t w = 8 + rng() % 120, h = 8 + rng() % 90;
      const Rect r{static_cast<uint32_t>(rng() % (640 - w)), static_cast<uint32_t>(rng() % (480 - h)), w, h};
      for (uint32_t y = 0; y < r.h; ++y) std::memcpy(f.px(r.x, r.y + y), noise.px((r.x + step) % (640 - w), r.y + y), r.w * 4);
      damage.push_back(r);
    }
    CHECK(Send(enc, v, Request(f, damage), &u));
  }
  CHECK(v.pixels == Packed(f));
  CHECK_EQ(pool.stats().idle_sets, 1u);
  {
    CodingScratchPool::Lease set = pool.Acquire();  // the one set every Encode above used
    size_t band_bytes = 0;
    for (const auto& b : set->band_buffers) band_bytes += b.capacity();
    CHECK(set->band_peak > 0);
    CHECK(band_bytes <= std::max<size_t>(2 * set->band_peak, 256 * 1024));
    CHECK(set->band_buffers.size() <= set->peak_slots);  // only the largest Encode's slots
  }
  pool.Trim();
}

TEST(coding_scratch_pool_keeps_at_most_its_idle_sets) {
  CodingScratchPool pool(2);
  {
    CodingScratchPool::Lease x = pool.Acquire(), y = pool.Acquire(), z = pool.Acquire();
    x->keyframe_ops.resize(1000);
    CHECK_EQ(pool.stats().leased_sets, 3u);
    CHECK_EQ(pool.stats().sets_made, 3u);
  }
  const CodingScratchPool::Stats s = pool.stats();
  CHECK_EQ(s.leased_sets, 0u);
  CHECK_EQ(s.idle_sets, 2u);  // the third set returned was freed
  {
    CodingScratchPool::Lease again = pool.Acquire();
    CHECK_EQ(pool.stats().sets_made, 3u);  // an idle set, not a new one
    CHECK_EQ(pool.stats().idle_sets, 1u);
  }
  CHECK_EQ(pool.stats().idle_sets, 2u);
}
