#include <cstring>
#include <random>

#include "../codec/tile_analyzer.h"
#include "../codec/tile_decoder.h"
#include "../codec/tile_encoder.h"
#include "../detect/change_detector.h"
#include "../util/cpu_features.h"
#include "../util/thread_pool.h"
#include "harness.h"
#include "test_util.h"

using namespace tilecast;

namespace {

// A decoder plus the framebuffer it draws into, as the bindings pair them.
struct Viewer {
  Viewer(uint32_t w, uint32_t h) : pixels(static_cast<size_t>(w) * h * 4), fb{nullptr, w, h} {
    fb.data = pixels.data();
    ClearFramebuffer(fb);
  }
  Status Apply(const uint8_t* data, size_t len, uint32_t ops, bool key, DecodeStats* stats) {
    return decoder.Apply(fb, data, len, ops, key, stats);
  }
  uint8_t* framebuffer() { return pixels.data(); }
  size_t framebuffer_bytes() const { return pixels.size(); }
  std::vector<uint8_t> pixels;
  Framebuffer fb;
  TileDecoder decoder;
};

std::vector<Rect> Whole(const TestFrame& f) { return {Rect{0, 0, f.width, f.height}}; }

bool RoundTrip(TileEncoder& enc, Viewer& dec, const TestFrame& f, const std::vector<Rect>& rects, bool key,
               unsigned threads = 2, EncodeStats* stats = nullptr) {
  EncodedUpdate u;
  Status s = enc.Encode(f.view(), {}, rects, key, threads, &u);
  if (!s.ok()) {
    std::fprintf(stderr, "encode: %s\n", s.message().c_str());
    return false;
  }
  if (stats) *stats = u.stats;
  s = dec.Apply(u.stream.data(), u.stream.size(), u.op_count, key, nullptr);
  if (!s.ok()) {
    std::fprintf(stderr, "decode: %s\n", s.message().c_str());
    return false;
  }
  return std::memcmp(dec.framebuffer(), Packed(f).data(), dec.framebuffer_bytes()) == 0;
}

EncodedUpdate EncodeWhole(TileEncoder& enc, const TestFrame& f, bool key = true) {
  EncodedUpdate u;
  enc.Encode(f.view(), {}, Whole(f), key, 1, &u);
  return u;
}

}  // namespace

TEST(round_trip_is_exact_for_every_palette_size_and_odd_sizes) {
  std::mt19937 rng(2);
  for (uint32_t colors : {1u, 2u, 3u, 4u, 5u, 16u, 17u, 255u, 256u, 257u, 0u}) {
    for (uint32_t w : {1u, 7u, 64u, 65u, 200u}) {
      TestFrame f = MakeFrame(w, 37, 8);
      FillRandom(f, rng, colors);
      for (uint32_t tile : {16u, 64u, 256u}) {
        TileEncoder enc(tile, 6);
        Viewer dec(f.width, f.height);
        CHECK(RoundTrip(enc, dec, f, Whole(f), true));
      }
    }
  }
}

TEST(palette_diff_round_trips_every_palette_size_and_codes_colours_invertibly) {
  // The colour coding alone: random palettes (any bytes, any order) come back exactly.
  std::mt19937 rng(21);
  for (int round = 0; round < 2000; ++round) {
    const uint32_t n = 1 + rng() % kMaxPaletteColors;
    uint32_t colours[kMaxPaletteColors];
    for (uint32_t i = 0; i < n; ++i) colours[i] = rng() & 0xFFFFFF;
    uint8_t coded[kMaxPaletteColors * 3], back[kMaxPaletteColors * 3];
    PutPaletteDiff(colours, n, coded);
    GetPaletteDiff(coded, n, back);
    for (uint32_t i = 0; i < n; ++i) {
      CHECK_EQ(back[i * 3], colours[i] & 0xFF);
      CHECK_EQ(back[i * 3 + 1], (colours[i] >> 8) & 0xFF);
      CHECK_EQ(back[i * 3 + 2], (colours[i] >> 16) & 0xFF);
    }
  }
  // docs/protocol.md's example.
  const uint32_t doc[2] = {0x302010, 0x332212};
  uint8_t doc_coded[6];
  PutPaletteDiff(doc, 2, doc_coded);
  const uint8_t doc_want[6] = {0xf0, 0x20, 0x10, 0x00, 0x02, 0x01};
  CHECK(std::memcmp(doc_coded, doc_want, 6) == 0);
  // Whole updates: palettes go as PALETTE_DIFF, counted as palette ops, decoded exactly.
  for (uint32_t colors : {2u, 3u, 5u, 17u, 100u, 256u}) {
    for (uint32_t w : {1u, 9u, 64u, 130u}) {
      TestFrame f = MakeFrame(w, 33, 8);
      FillRandom(f, rng, colors);
      TileEncoder enc(64, 6);
      enc.set_palette_diff(true);
      Viewer dec(f.width, f.height);
      EncodeStats stats;
      CHECK(RoundTrip(enc, dec, f, Whole(f), true, 2, &stats));
      CHECK(stats.ops_by_code[static_cast<int>(OpCode::kPalette)] > 0u);
      EncodedUpdate u = EncodeWhole(enc, f, true);
      CHECK(u.stream.size() > 0u);
      // Raw op stream: its first op (one tile of the first band) is PALETTE_DIFF.
      InflateStream in;
      in.Begin(u.stream.data(), u.stream.size());
      uint8_t h9[kOpHeaderBytes];
      CHECK_OK(in.Read(h9, sizeof h9));
      CHECK_EQ(h9[0], static_cast<uint8_t>(OpCode::kPaletteDiff));
    }
  }
}

TEST(codec_choice_follows_colour_count) {
  std::mt19937 rng(3);
  struct Want { uint32_t colors; OpCode op; } wants[] = {
      {1, OpCode::kSolid}, {2, OpCode::kPalette}, {256, OpCode::kPalette}, {0, OpCode::kTruecolor}};
  for (auto want : wants) {
    TestFrame f = MakeFrame(64, 64);
    FillRandom(f, rng, want.colors);
    TileEncoder enc(64, 1);
    Viewer dec(64, 64);
    EncodeStats stats;
    CHECK(RoundTrip(enc, dec, f, Whole(f), true, 1, &stats));
    CHECK_EQ(stats.ops_by_code[static_cast<int>(want.op)], 1u);
  }
}

// The SIMD walk of a tile (tile_analyzer.cc) must give exactly the scalar walk's analysis: the same
// colours in the same first-seen order, the same index per pixel, the same op bytes. Tiles of every
// shape the encoder cuts (widths not a multiple of 8, edge tiles), with runs, dithering and random
// pixels, 1 to 300 colours (past 256: TRUECOLOR), and colour sets dense enough that many colours
// sit outside their hash slot, with alpha bytes that must be ignored.
TEST(tile_analysis_is_the_same_at_every_simd_level) {
  const SimdLevel before = ActiveSimdLevel();
  std::mt19937 rng(17);
  size_t compared = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    const uint32_t w = static_cast<uint32_t>(1 + rng() % 80), h = static_cast<uint32_t>(1 + rng() % 70);
    TestFrame f = MakeFrame(w + 5, h + 3, 4 * (rng() % 3));
    const uint32_t colors = static_cast<uint32_t>(1 + rng() % 300);
    std::vector<uint32_t> pal(colors);
    for (auto& c : pal) c = static_cast<uint32_t>(iter % 3 == 0 ? (rng() % 256) * 0x010101u : rng());  // grey ramps collide often
    const uint32_t run = static_cast<uint32_t>(1 + rng() % 12);  // 1: dithered; longer: text-like runs
    uint32_t c = pal[0];
    for (uint32_t y = 0; y < f.height; ++y) {
      for (uint32_t x = 0; x < f.width; ++x) {
        if (rng() % run == 0) c = pal[rng() % colors];
        const uint32_t v = c ^ (rng() & 0xFF000000u);  // alpha is not part of the colour
        std::memcpy(f.px(x, y), &v, 4);
      }
    }
    const Rect r{static_cast<uint32_t>(rng() % 6), static_cast<uint32_t>(rng() % 4), w, h};
    TileScratch scratch[2];
    TileAnalysis got[2];
    std::vector<uint8_t> ops[2];
    const SimdLevel levels[2] = {SimdLevel::kScalar, SimdLevel::kAvx2};
    for (int k = 0; k < 2; ++k) {
      SetSimdLevel(levels[k]);
      AnalyzeTile(f.view(), r, &scratch[k], &got[k]);
      AppendTileOp(f.view(), r, got[k], scratch[k], &ops[k], iter % 2 == 0);
    }
    CHECK(got[0].op == got[1].op);
    CHECK_EQ(got[0].palette_size, got[1].palette_size);
    CHECK_EQ(got[0].solid_bgr, got[1].solid_bgr);
    if (got[0].op == OpCode::kPalette) {
      CHECK(std::memcmp(got[0].palette, got[1].palette, got[0].palette_size * 4) == 0);
      CHECK(std::memcmp(got[0].index_of_first_seen, got[1].index_of_first_seen, got[0].palette_size) == 0);
      CHECK(std::memcmp(scratch[0].indices.data(), scratch[1].indices.data(), static_cast<size_t>(w) * h) == 0);
    }
    CHECK(ops[0] == ops[1]);
    ++compared;
  }
  SetSimdLevel(before);
  CHECK_EQ(compared, size_t{1500});
  if (DetectedSimdLevel() < SimdLevel::kAvx2) std::fprintf(stderr, "  (no AVX2 here: both walks were scalar)\n");
}

TEST(solid_tiles_of_one_colour_merge_into_one_op_per_band) {
  TestFrame f = MakeFrame(640, 64);
  TileEncoder enc(64, 1);
  Viewer dec(640, 64);
  EncodeStats stats;
  CHECK(RoundTrip(enc, dec, f, Whole(f), true, 2, &stats));
  CHECK_EQ(stats.ops_by_code[0], 1u);
  CHECK_EQ(stats.pixels_by_code[0], 640u * 64u);
}

TEST(stream_spans_frames_and_updates_apply_in_order) {
  std::mt19937 rng(4);
  TestFrame f = MakeFrame(300, 200, 16);
  FillScreenLike(f, rng);
  TileEncoder enc(64, 6);
  Viewer dec(300, 200);
  ChangeDetector det(300, 200, 64);
  size_t first_bytes = 0, repeat_bytes = 0;
  for (int frame = 0; frame < 40; ++frame) {
    if (frame > 0) {
      for (int e = 0; e < 30; ++e) f.px(rng() % 300, rng() % 200)[rng() % 3] = static_cast<uint8_t>(rng());
    }
    std::vector<Rect> rects;
    CHECK_OK(det.Detect(f.view(), &rects));
    EncodedUpdate u;
    CHECK_OK(enc.Encode(f.view(), {}, rects, frame == 0, 2, &u));
    if (frame == 0) first_bytes = u.stream.size();
    CHECK_OK(dec.Apply(u.stream.data(), u.stream.size(), u.op_count, frame == 0, nullptr));
    CHECK(std::memcmp(dec.framebuffer(), Packed(f).data(), dec.framebuffer_bytes()) == 0);
  }
  // The same full frame again, without a reset: the window still holds similar data.
  EncodedUpdate again;
  CHECK_OK(enc.Encode(f.view(), {}, Whole(f), false, 1, &again));
  repeat_bytes = again.stream.size();
  CHECK_OK(dec.Apply(again.stream.data(), again.stream.size(), again.op_count, false, nullptr));
  CHECK(first_bytes > 0 && repeat_bytes > 0);
}

TEST(output_does_not_depend_on_thread_count) {
  std::mt19937 rng(6);
  TestFrame f = MakeFrame(1000, 500);
  FillScreenLike(f, rng);
  TileEncoder a(64, 6), b(64, 6);
  EncodedUpdate ua, ub;
  CHECK_OK(a.Encode(f.view(), {}, Whole(f), true, 1, &ua));
  CHECK_OK(b.Encode(f.view(), {}, Whole(f), true, 8, &ub));
  CHECK(ua.stream == ub.stream);
  CHECK_EQ(ua.op_count, ub.op_count);
}

TEST(copy_ops_move_pixels_with_overlap) {
  std::mt19937 rng(7);
  TestFrame f = MakeFrame(128, 128);
  FillRandom(f, rng, 0);
  TileEncoder enc(64, 1);
  Viewer dec(128, 128);
  CHECK(RoundTrip(enc, dec, f, Whole(f), true));
  // Scroll up by 10 rows: the host frame moves, the bottom 10 rows are new.
  TestFrame g = f;
  for (uint32_t y = 0; y + 10 < 128; ++y) std::memcpy(g.px(0, y), f.px(0, y + 10), 128 * 4);
  for (uint32_t y = 118; y < 128; ++y)
    for (uint32_t x = 0; x < 128; ++x) g.px(x, y)[0] = static_cast<uint8_t>(x + y);
  EncodedUpdate u;
  CopyOp c{Rect{0, 0, 128, 118}, 0, 10};
  CHECK_OK(enc.Encode(g.view(), {c}, {Rect{0, 118, 128, 10}}, false, 1, &u));
  CHECK_OK(dec.Apply(u.stream.data(), u.stream.size(), u.op_count, false, nullptr));
  CHECK(std::memcmp(dec.framebuffer(), Packed(g).data(), dec.framebuffer_bytes()) == 0);
  // Scroll down by 5 (overlap the other way).
  TestFrame h = g;
  for (uint32_t y = 127; y >= 5; --y) std::memcpy(h.px(0, y), g.px(0, y - 5), 128 * 4);
  for (uint32_t y = 0; y < 5; ++y) std::memset(h.px(0, y), 0x33, 128 * 4);
  for (uint32_t y = 0; y < 5; ++y) for (uint32_t x = 0; x < 128; ++x) h.px(x, y)[3] = 0xFF;
  CopyOp down{Rect{0, 5, 128, 123}, 0, 0};
  CHECK_OK(enc.Encode(h.view(), {down}, {Rect{0, 0, 128, 5}}, false, 1, &u));
  CHECK_OK(dec.Apply(u.stream.data(), u.stream.size(), u.op_count, false, nullptr));
  CHECK(std::memcmp(dec.framebuffer(), Packed(h).data(), dec.framebuffer_bytes()) == 0);
}

TEST(encoder_rejects_rects_outside_the_frame) {
  TestFrame f = MakeFrame(100, 100);
  TileEncoder enc(64, 1);
  EncodedUpdate u;
  CHECK_EQ(static_cast<int>(enc.Encode(f.view(), {}, {Rect{90, 0, 11, 10}}, true, 1, &u).code()),
           static_cast<int>(ErrorCode::kInvalidArgument));
  CHECK(!enc.Encode(f.view(), {}, {Rect{0, 0, 0, 10}}, true, 1, &u).ok());
  CHECK(!enc.Encode(f.view(), {CopyOp{Rect{0, 0, 10, 10}, 95, 0}}, {}, true, 1, &u).ok());
}

TEST(decoder_rejects_truncated_and_trailing_data) {
  std::mt19937 rng(8);
  TestFrame f = MakeFrame(200, 100);
  FillScreenLike(f, rng);
  TileEncoder enc(64, 6);
  EncodedUpdate u = EncodeWhole(enc, f);
  Viewer dec(200, 100);
  Status s = dec.Apply(u.stream.data(), u.stream.size() / 2, u.op_count, true, nullptr);
  CHECK_EQ(static_cast<int>(s.code()), static_cast<int>(ErrorCode::kTruncated));
  // Fewer ops than the data holds: extra data is an error.
  s = dec.Apply(u.stream.data(), u.stream.size(), u.op_count - 1, true, nullptr);
  CHECK_EQ(static_cast<int>(s.code()), static_cast<int>(ErrorCode::kProtocol));
  // After an error the decoder waits for a keyframe...
  s = dec.Apply(u.stream.data(), u.stream.size(), u.op_count, false, nullptr);
  CHECK_EQ(static_cast<int>(s.code()), static_cast<int>(ErrorCode::kDesync));
  // ...and a keyframe recovers it exactly.
  CHECK_OK(dec.Apply(u.stream.data(), u.stream.size(), u.op_count, true, nullptr));
  CHECK(std::memcmp(dec.framebuffer(), Packed(f).data(), dec.framebuffer_bytes()) == 0);
}

// docs/protocol.md: after any rejection the decoder refuses non-keyframes. That
// includes the limits checked before any data is read (op count): the update's
// deflate bytes were never consumed, so the next delta cannot be decoded.
TEST(decoder_waits_for_a_keyframe_after_any_rejection) {
  std::mt19937 rng(12);
  TestFrame f = MakeFrame(128, 64);
  FillScreenLike(f, rng);
  for (uint32_t bad_count : {0xFFFFFFFFu, TileDecoder::MaxOps(128, 64) + 1}) {
    for (bool bad_is_keyframe : {true, false}) {
      TileEncoder enc(64, 6);
      EncodedUpdate key = EncodeWhole(enc, f, true);
      for (int e = 0; e < 20; ++e) f.px(rng() % 128, rng() % 64)[rng() % 3] ^= 0x55;
      EncodedUpdate delta;
      CHECK_OK(enc.Encode(f.view(), {}, Whole(f), false, 1, &delta));
      Viewer dec(128, 64);
      CHECK_OK(dec.Apply(key.stream.data(), key.stream.size(), key.op_count, true, nullptr));
      // The same bytes with an absurd op count: refused before any data is read.
      const EncodedUpdate& bad = bad_is_keyframe ? key : delta;
      Status s = dec.Apply(bad.stream.data(), bad.stream.size(), bad_count, bad_is_keyframe, nullptr);
      CHECK_EQ(static_cast<int>(s.code()), static_cast<int>(ErrorCode::kTooLarge));
      // The next delta is refused as a desync (twice), whatever its bytes...
      for (int k = 0; k < 2; ++k) {
        s = dec.Apply(delta.stream.data(), delta.stream.size(), delta.op_count, false, nullptr);
        CHECK_EQ(static_cast<int>(s.code()), static_cast<int>(ErrorCode::kDesync));
      }
      // ...and a keyframe recovers the decoder exactly.
      TileEncoder fresh(64, 6);
      EncodedUpdate again = EncodeWhole(fresh, f, true);
      CHECK_OK(dec.Apply(again.stream.data(), again.stream.size(), again.op_count, true, nullptr));
      CHECK(std::memcmp(dec.framebuffer(), Packed(f).data(), dec.framebuffer_bytes()) == 0);
    }
  }
}

TEST(decoder_rejects_hostile_op_headers) {
  struct Case { std::vector<uint8_t> ops; uint32_t count; ErrorCode want; };
  auto op = [](uint8_t code, uint32_t x, uint32_t y, uint32_t w, uint32_t h, std::vector<uint8_t> body) {
    std::vector<uint8_t> v(9);
    PutOpHeader(v.data(), static_cast<OpCode>(code), x, y, w, h);
    v.insert(v.end(), body.begin(), body.end());
    return v;
  };
  std::vector<uint8_t> palette_bad_index = op(1, 0, 0, 2, 1, {2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x30});  // 3 colours, index 3
  std::vector<Case> cases = {
      {op(9, 0, 0, 1, 1, {}), 1, ErrorCode::kProtocol},                 // unknown op
      {op(0, 60, 0, 5, 1, {1, 2, 3}), 1, ErrorCode::kProtocol},         // past the right edge
      {op(0, 0, 0, 0, 1, {1, 2, 3}), 1, ErrorCode::kProtocol},          // empty rect
      {op(0, 0, 64, 1, 1, {1, 2, 3}), 1, ErrorCode::kProtocol},         // below the bottom
      {op(3, 0, 0, 10, 10, {60, 0, 0, 0}), 1, ErrorCode::kProtocol},    // copy source out of bounds
      {op(1, 0, 0, 4, 1, {1, 1, 2, 3, 4, 5, 6, 0xF0}), 1, ErrorCode::kOk},  // valid 2-colour palette
      {op(1, 0, 0, 4, 1, {0, 1, 2, 3, 0xF0}), 1, ErrorCode::kProtocol},  // 1-colour palette
      {palette_bad_index, 1, ErrorCode::kProtocol},
      {op(2, 0, 0, 64, 64, {1, 2, 3}), 1, ErrorCode::kTruncated},       // truecolour body missing
      {op(0, 0, 0, 1, 1, {1, 2, 3}), 5000000, ErrorCode::kTooLarge},    // absurd op count
  };
  // Area bound: 5 full-screen solids exceed 4x the screen.
  std::vector<uint8_t> many;
  for (int i = 0; i < 5; ++i) {
    auto o = op(0, 0, 0, 64, 64, {1, 2, 3});
    many.insert(many.end(), o.begin(), o.end());
  }
  cases.push_back({many, 5, ErrorCode::kTooLarge});
  for (auto& c : cases) {
    DeflateStream z(6);
    std::vector<uint8_t> data;
    CHECK_OK(z.Write(c.ops.data(), c.ops.size(), &data));
    CHECK_OK(z.Finish(&data));
    Viewer dec(64, 64);
    Status s = dec.Apply(data.data(), data.size(), c.count, true, nullptr);
    CHECK_EQ(static_cast<int>(s.code()), static_cast<int>(c.want));
  }
}

TEST(an_update_with_nothing_written_still_ends_in_the_sync_flush_marker) {
  // Twice in a row with nothing written (tiles damaged but equal to what the viewer has), at the
  // same level and after a level change: each stream ends in 00 00 FF FF and decodes to no ops.
  std::mt19937 rng(11);
  TestFrame f = MakeFrame(128, 64, 4);
  FillScreenLike(f, rng);
  TileEncoder enc(32, 6);
  EncodedUpdate first = EncodeWhole(enc, f);
  Viewer dec(128, 64);
  CHECK_OK(dec.Apply(first.stream.data(), first.stream.size(), first.op_count, true, nullptr));
  DeflateStream z(6);
  std::vector<uint8_t> a, b, c;
  const uint8_t solid[] = {0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3};  // any bytes: a warm-up write
  CHECK_OK(z.Write(solid, sizeof solid, &a));
  CHECK_OK(z.Finish(&a));
  CHECK_OK(z.Finish(&b));
  CHECK_OK(z.SetLevel(9, &c));
  CHECK_OK(z.Finish(&c));
  const uint8_t marker[] = {0x00, 0x00, 0xFF, 0xFF};
  for (const auto* s : {&a, &b, &c}) {
    CHECK(s->size() >= 4);
    CHECK(std::equal(s->end() - 4, s->end(), marker));
  }
  // The empty updates decode (zero ops) on the stream that carries them.
  for (int i = 0; i < 3; ++i) {
    EncodedUpdate none;
    CHECK_OK(enc.Encode(f.view(), {}, {}, false, 1, &none));
    CHECK(none.stream.size() >= 4 && std::equal(none.stream.end() - 4, none.stream.end(), marker));
    CHECK_EQ(none.op_count, 0u);
    CHECK_OK(dec.Apply(none.stream.data(), none.stream.size(), 0, false, nullptr));
  }
}

TEST(decoder_survives_random_corruption) {
  std::mt19937 rng(10);
  TestFrame f = MakeFrame(160, 90, 4);
  FillScreenLike(f, rng);
  TileEncoder enc(32, 6);
  EncodedUpdate u = EncodeWhole(enc, f);
  Viewer dec(160, 90);
  int failures = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> bad = u.stream;
    int flips = 1 + rng() % 4;
    for (int i = 0; i < flips; ++i) bad[rng() % bad.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    if (rng() % 4 == 0) bad.resize(rng() % bad.size());
    uint32_t count = rng() % 8 == 0 ? rng() % (u.op_count * 2 + 1) : u.op_count;
    if (!dec.Apply(bad.data(), bad.size(), count, true, nullptr).ok()) ++failures;
  }
  CHECK(failures > 0);  // most corruptions are caught; none may crash (ASan checks the rest)
  CHECK_OK(dec.Apply(u.stream.data(), u.stream.size(), u.op_count, true, nullptr));
  CHECK(std::memcmp(dec.framebuffer(), Packed(f).data(), dec.framebuffer_bytes()) == 0);
}

TEST(thread_pool_runs_every_item_once_from_concurrent_callers) {
  ThreadPool pool(3);
  std::vector<std::thread> callers;
  std::atomic<int> bad{0};
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int round = 0; round < 50; ++round) {
        std::vector<std::atomic<int>> hits(257);
        pool.ParallelFor(hits.size(), 4, [&](size_t i) { hits[i]++; });
        for (auto& h : hits) if (h.load() != 1) bad++;
      }
    });
  }
  for (auto& t : callers) t.join();
  CHECK_EQ(bad.load(), 0);
}
