// Lossy path (JPEG ops), scroll/move detection and the per-viewer sent frame.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "../codec/jpeg_codec.h"
#include "../codec/jpeg_lib.h"
#include "../codec/tile_decoder.h"
#include "../codec/tile_encoder.h"
#include "../detect/move_detector.h"
#include "../detect/sent_frame.h"
#include "codec_util.h"
#include "harness.h"
#include "test_util.h"

using namespace tilecast;

namespace {

// Raw-deflate bytes of `ops` as one sync-flushed update (hand-made hostile streams).
std::vector<uint8_t> Deflated(const std::vector<uint8_t>& ops) {
  DeflateStream d(6);
  std::vector<uint8_t> out;
  d.Write(ops.data(), ops.size(), &out);
  d.Finish(&out);
  return out;
}

// A viewer shown `a` (keyframe), then sent `copies` plus the pixels of `residual` of `b`, shows `b` exactly.
bool UpdateEndsExact(const TestFrame& a, const TestFrame& b, const std::vector<CopyOp>& copies,
                     const std::vector<Rect>& residual) {
  TileEncoder enc(64, 6);
  Viewer v(a.width, a.height);
  EncodedUpdate u;
  if (!enc.Encode(a.view(), {}, {Rect{0, 0, a.width, a.height}}, true, 2, &u).ok() || !v.Apply(u, true).ok()) return false;
  if (!enc.Encode(b.view(), copies, residual, false, 2, &u).ok() || !v.Apply(u, false).ok()) return false;
  return v.pixels == Packed(b);
}

std::vector<uint8_t> JpegOp(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t len) {
  std::vector<uint8_t> op(kOpHeaderBytes + 4);
  PutOpHeader(op.data(), OpCode::kJpeg, x, y, w, h);
  PutU32(op.data() + 9, len);
  return op;
}

}  // namespace

// Skips a JPEG test on a machine without the library, but never in CI.
#define REQUIRE_JPEG()                    \
  if (!HaveJpeg()) {                      \
    CHECK(std::getenv("CI") == nullptr);  \
    return;                               \
  }

TEST(lossy_tiles_go_as_merged_jpeg_rects_and_text_stays_exact) {
  REQUIRE_JPEG();
  std::mt19937 rng(7);
  TestFrame f = MakeFrame(320, 200);
  FillScreenLike(f, rng);
  FillPhoto(f, Rect{64, 64, 128, 128}, rng);  // four tiles of "video"
  const uint32_t tx = 5, ty = 4;
  std::vector<uint8_t> mask(tx * ty, 1);  // history says every tile is busy
  LossyOptions lossy{mask.data(), tx, ty, JpegParams{80, ChromaSubsampling::k420}};
  TileEncoder enc(64, 6);
  EncodedUpdate u;
  CHECK_OK(enc.Encode(f.view(), {}, {Rect{0, 0, 320, 200}}, true, 2, &u, &lossy));
  CHECK_EQ(u.lossy_rects.size(), 1u);
  CHECK(u.lossy_rects[0] == (Rect{64, 64, 128, 128}));
  CHECK_EQ(u.stats.ops_by_code[static_cast<int>(OpCode::kJpeg)], 1u);
  CHECK(!u.images.empty());
  Viewer v(320, 200);
  CHECK_OK(v.Apply(u, true));
  // Text is exact, the photo close, alpha opaque everywhere.
  const std::vector<uint8_t> want = Packed(f);
  for (uint32_t y = 0; y < 200; ++y) {
    for (uint32_t x = 0; x < 320; ++x) {
      const size_t i = (static_cast<size_t>(y) * 320 + x) * 4;
      const bool photo = x >= 64 && x < 192 && y >= 64 && y < 192;
      if (!photo) CHECK(std::memcmp(&v.pixels[i], &want[i], 4) == 0);
      CHECK_EQ(v.pixels[i + 3], 0xFF);
    }
  }
  CHECK(Psnr(v.pixels, want) > 30);
}

TEST(classification_is_deterministic_and_content_based) {
  REQUIRE_JPEG();
  std::mt19937 rng(3);
  TestFrame f = MakeFrame(256, 64);
  FillScreenLike(f, rng);
  FillPhoto(f, Rect{128, 0, 128, 64}, rng);
  std::vector<uint8_t> mask(4, 1);
  LossyOptions lossy{mask.data(), 4, 1, JpegParams{70, ChromaSubsampling::k444}};
  EncodedUpdate a, b;
  TileEncoder e1(64, 6), e2(64, 6);
  CHECK_OK(e1.Encode(f.view(), {}, {Rect{0, 0, 256, 64}}, true, 1, &a, &lossy));
  CHECK_OK(e2.Encode(f.view(), {}, {Rect{0, 0, 256, 64}}, true, 4, &b, &lossy));
  CHECK(a.stream == b.stream);
  CHECK(a.images == b.images);
  CHECK_EQ(a.lossy_rects.size(), 1u);
  CHECK(a.lossy_rects[0] == (Rect{128, 0, 128, 64}));
  // Without the history half nothing goes lossy.
  LossyOptions none{nullptr, 4, 1, JpegParams{}};
  EncodedUpdate c;
  TileEncoder e3(64, 6);
  CHECK_OK(e3.Encode(f.view(), {}, {Rect{0, 0, 256, 64}}, true, 1, &c, &none));
  CHECK(c.lossy_rects.empty());
  CHECK(c.images.empty());
}

TEST(decoder_rejects_bad_jpeg_ops) {
  REQUIRE_JPEG();
  std::mt19937 rng(5);
  TestFrame f = MakeFrame(64, 64);
  FillPhoto(f, Rect{0, 0, 64, 64}, rng);
  std::vector<uint8_t> jpeg;
  CHECK_OK(EncodeJpeg(f.view(), Rect{0, 0, 64, 64}, JpegParams{}, &jpeg));
  auto apply = [&](const std::vector<uint8_t>& ops, uint32_t count, const std::vector<uint8_t>& images) {
    Viewer v(64, 64);
    const std::vector<uint8_t> s = Deflated(ops);
    return v.decoder.Apply(v.fb, s.data(), s.size(), count, true, nullptr, images.data(), images.size());
  };
  const uint32_t n = static_cast<uint32_t>(jpeg.size());
  CHECK_OK(apply(JpegOp(0, 0, 64, 64, n), 1, jpeg));
  CHECK(apply(JpegOp(0, 0, 64, 64, n + 1), 1, jpeg).code() == ErrorCode::kProtocol);  // beyond the section
  std::vector<uint8_t> extra = jpeg;
  extra.push_back(0);
  CHECK(apply(JpegOp(0, 0, 64, 64, n), 1, extra).code() == ErrorCode::kProtocol);  // bytes left over
  CHECK(apply(JpegOp(0, 0, 32, 64, n), 1, jpeg).code() == ErrorCode::kProtocol);  // wrong size
  std::vector<uint8_t> garbage = jpeg;
  for (size_t i = garbage.size() / 2; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(rng());
  CHECK(!apply(JpegOp(0, 0, 64, 64, n), 1, garbage).ok());  // corrupt data: an error, never a crash
  std::vector<uint8_t> not_jpeg(n, 0x55);
  CHECK(apply(JpegOp(0, 0, 64, 64, n), 1, not_jpeg).code() == ErrorCode::kProtocol);
  // A COPY after a pixel op breaks the ordering decoders rely on.
  std::vector<uint8_t> ops = JpegOp(0, 0, 64, 64, n);
  std::vector<uint8_t> copy(kOpHeaderBytes + 4, 0);
  PutOpHeader(copy.data(), OpCode::kCopy, 0, 0, 8, 8);
  ops.insert(ops.end(), copy.begin(), copy.end());
  CHECK(apply(ops, 2, jpeg).code() == ErrorCode::kProtocol);
}

// One hostile JPEG op must not leave the thread's TurboJPEG handle in a state
// that breaks the next image: a header cut short (or any other failure) used
// to make every later decode on that thread fail ("Bogus DQT index").
TEST(a_failed_jpeg_op_does_not_break_later_decodes) {
  REQUIRE_JPEG();
  std::mt19937 rng(19);
  TestFrame f = MakeFrame(64, 64);
  FillPhoto(f, Rect{0, 0, 64, 64}, rng);
  std::vector<uint8_t> jpeg;
  CHECK_OK(EncodeJpeg(f.view(), Rect{0, 0, 64, 64}, JpegParams{}, &jpeg));
  const uint32_t n = static_cast<uint32_t>(jpeg.size());
  auto decode = [&](Viewer& v, uint32_t w, const std::vector<uint8_t>& images) {
    const std::vector<uint8_t> s = Deflated(JpegOp(0, 0, w, 64, static_cast<uint32_t>(images.size())));
    return v.decoder.Apply(v.fb, s.data(), s.size(), 1, true, nullptr, images.data(), images.size());
  };
  Viewer reference(64, 64);
  const Status first = decode(reference, 64, jpeg);
  if (!first.ok()) std::fprintf(stderr, "  reference decode: %s\n", first.message().c_str());
  CHECK_OK(first);
  CHECK(Psnr(reference.pixels, Packed(f)) > 30);
  const std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + 64);         // ends inside the header
  const std::vector<uint8_t> cut_scan(jpeg.begin(), jpeg.begin() + n / 2);  // ends inside the scan
  std::vector<uint8_t> bad_marker = jpeg;                                   // a DQT with a bogus table index
  for (size_t i = 2; i + 4 < bad_marker.size(); ++i) {
    if (bad_marker[i] == 0xFF && bad_marker[i + 1] == 0xDB) {
      bad_marker[i + 4] = 0x0F;
      break;
    }
  }
  struct Bad { const char* what; uint32_t w; const std::vector<uint8_t>* images; };
  const Bad bads[] = {{"header cut short", 64, &cut},
                      {"scan cut short", 64, &cut_scan},
                      {"bogus DQT", 64, &bad_marker},
                      {"size differs from the rect", 32, &jpeg}};
  for (const Bad& b : bads) {
    for (int round = 0; round < 2; ++round) {  // the same failure twice in a row as well
      Viewer hostile(64, 64);
      if (decode(hostile, b.w, *b.images).ok()) {
        std::fprintf(stderr, "  %s: accepted\n", b.what);
        CHECK(false);
      }
    }
    // Fresh decoders on the same thread decode a valid image to the same pixels as before.
    for (int k = 0; k < 2; ++k) {
      Viewer v(64, 64);
      Status s = decode(v, 64, jpeg);
      if (!s.ok()) std::fprintf(stderr, "  after %s: %s\n", b.what, s.message().c_str());
      CHECK_OK(s);
      CHECK(v.pixels == reference.pixels);
    }
    // So does the bare codec entry point.
    std::vector<uint8_t> out(64 * 64 * 4, 0);
    CHECK_OK(DecodeJpeg(jpeg.data(), jpeg.size(), out.data(), 64 * 4, 64, 64));
    CHECK(out == reference.pixels);
  }
}

TEST(vertical_scroll_becomes_a_copy_plus_the_exposed_rows) {
  std::mt19937 rng(11);
  TestFrame page = MakeFrame(640, 1200);
  FillScreenLike(page, rng);
  auto window = [&](uint32_t top) {  // a 640x480 view of the page, scrolled to `top`
    TestFrame f = MakeFrame(640, 480);
    for (uint32_t y = 0; y < 480; ++y) std::memcpy(f.px(0, y), page.px(0, top + y), 640 * 4);
    return f;
  };
  TestFrame a = window(100), b = window(137);
  SentFrame sent;
  sent.Reset(640, 480, 64);
  sent.Commit(a.view(), {}, {Rect{0, 0, 640, 480}}, {});
  std::vector<CopyOp> copies = FindMoves(sent.view(), b.view(), {Rect{0, 0, 640, 480}}, MoveSearch{});
  CHECK_EQ(copies.size(), 1u);
  CHECK_EQ(copies[0].dst.y + 37, copies[0].src_y);
  CHECK_EQ(copies[0].dst.w, 640u);
  std::vector<Rect> residual = sent.Residual(b.view(), {Rect{0, 0, 640, 480}}, copies);
  uint64_t area = 0;
  for (const Rect& r : residual) area += static_cast<uint64_t>(r.w) * r.h;
  CHECK(area <= 640u * 64);  // the newly exposed rows (and the rest of their tile row at most)
  CHECK(UpdateEndsExact(a, b, copies, residual));
}

TEST(horizontal_scroll_is_found_too) {
  std::mt19937 rng(13);
  TestFrame wide = MakeFrame(900, 256);
  FillScreenLike(wide, rng);
  auto window = [&](uint32_t left) {
    TestFrame f = MakeFrame(512, 256);
    for (uint32_t y = 0; y < 256; ++y) std::memcpy(f.px(0, y), wide.px(left, y), 512 * 4);
    return f;
  };
  TestFrame a = window(10), b = window(93);
  std::vector<CopyOp> copies = FindMoves(a.view(), b.view(), {Rect{0, 0, 512, 256}}, MoveSearch{});
  CHECK(!copies.empty());
  for (const CopyOp& c : copies) CHECK_EQ(c.src_x, c.dst.x + 83);
}

TEST(copies_carry_lossy_state_and_exact_resends_clear_it) {
  TestFrame f = MakeFrame(256, 256);
  SentFrame sent;
  sent.Reset(256, 256, 64);
  sent.Commit(f.view(), {}, {Rect{0, 0, 256, 256}}, {Rect{0, 0, 64, 64}});  // tile (0,0) went lossy
  CHECK_EQ(sent.lossy_tiles()[0], 1);
  // Move tile (0,0)'s content to (128,128): the destination tile is lossy now.
  sent.Commit(f.view(), {CopyOp{Rect{128, 128, 64, 64}, 0, 0}}, {}, {});
  CHECK_EQ(sent.lossy_tiles()[2 * 4 + 2], 1);
  // An exact re-send of the whole tile clears it; one of only part of its lossy pixels does not.
  sent.Commit(f.view(), {}, {Rect{128, 128, 64, 20}}, {});
  CHECK_EQ(sent.lossy_tiles()[2 * 4 + 2], 1);
  sent.Commit(f.view(), {}, {Rect{128, 128, 64, 64}}, {});
  CHECK_EQ(sent.lossy_tiles()[2 * 4 + 2], 0);
}

TEST(lossy_state_scrolls_with_its_pixels_without_smearing_across_tiles) {
  TestFrame f = MakeFrame(256, 512);
  SentFrame sent;
  sent.Reset(256, 512, 64);
  sent.Commit(f.view(), {}, {Rect{0, 0, 256, 512}}, {Rect{0, 300, 64, 20}});  // a picture in tile row 4
  const size_t with_mask = sent.MemoryBytes();
  // Twenty scroll steps of 8 rows up: the picture moves to rows 140..159 (tile row 2).
  for (int step = 0; step < 20; ++step) sent.Commit(f.view(), {CopyOp{Rect{0, 0, 256, 504}, 0, 8}}, {Rect{0, 504, 256, 8}}, {});
  for (uint32_t ty = 0; ty < 8; ++ty) {
    for (uint32_t tx = 0; tx < 4; ++tx) CHECK_EQ(sent.lossy_tiles()[ty * 4 + tx], ty == 2 && tx == 0 ? 1 : 0);
  }
  // Ten steps of 16 rows down (rows copied bottom-up): the picture is at rows 300..319 again.
  for (int step = 0; step < 10; ++step) sent.Commit(f.view(), {CopyOp{Rect{0, 16, 256, 496}, 0, 0}}, {Rect{0, 0, 256, 16}}, {});
  for (uint32_t ty = 0; ty < 8; ++ty) CHECK_EQ(sent.lossy_tiles()[ty * 4], ty == 4 ? 1 : 0);
  // A copy over the top 10 of its rows from exact content: the tile keeps the other 10.
  sent.Commit(f.view(), {CopyOp{Rect{0, 300, 64, 10}, 128, 0}}, {}, {});
  CHECK_EQ(sent.lossy_tiles()[4 * 4], 1);
  // Re-sending just those rows (not the whole tile) makes it exact; the mask is given back.
  sent.Commit(f.view(), {}, {Rect{0, 310, 64, 10}}, {});
  CHECK_EQ(sent.lossy_tiles()[4 * 4], 0);
  CHECK(sent.MemoryBytes() + 256 * 512 <= with_mask);
}

TEST(copies_are_ordered_so_sequential_application_reads_old_pixels) {
  // b reads where a writes: b must go first. A cycle drops one copy.
  CopyOp a{Rect{0, 0, 10, 10}, 50, 50}, b{Rect{100, 100, 10, 10}, 0, 0};
  std::vector<CopyOp> ordered = OrderCopies({a, b});
  CHECK_EQ(ordered.size(), 2u);
  CHECK(ordered[0].dst == b.dst);
  CopyOp c{Rect{50, 50, 10, 10}, 0, 0};  // a reads c's target, c reads a's target
  CHECK_EQ(OrderCopies({a, c}).size(), 1u);
}

TEST(a_copy_cycle_drops_its_smallest_copy_not_the_scroll) {
  // A scroll (big), the rest of it below (mid) and a 16-row chance match (small)
  // that wait on one another in a ring: the chance match goes, the scroll stays.
  CopyOp big{Rect{0, 0, 64, 100}, 0, 10}, mid{Rect{0, 100, 64, 30}, 0, 190}, small{Rect{0, 200, 64, 16}, 0, 95};
  std::vector<CopyOp> ordered = OrderCopies({big, mid, small});
  CHECK_EQ(ordered.size(), 2u);
  CHECK(ordered[0].dst == big.dst);  // mid writes where big reads: big first
  CHECK(ordered[1].dst == mid.dst);
}

TEST(ordered_copies_applied_one_by_one_equal_the_same_copies_applied_at_once) {
  // Random copies on a 64x64 grid of distinct values: whatever OrderCopies keeps,
  // applied in its order (each reading the grid as it is then), must give what
  // those copies give applied together from the old grid (COPY on the wire).
  constexpr uint32_t kW = 64, kH = 64;
  std::mt19937 rng(5);
  size_t kept_total = 0, given_total = 0;
  for (int round = 0; round < 2000; ++round) {
    std::vector<CopyOp> copies;
    const int n = 1 + static_cast<int>(rng() % 6);
    auto below = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
    for (int i = 0; i < n; ++i) {
      const uint32_t w = 1 + below(24), h = 1 + below(24);
      copies.push_back(CopyOp{Rect{below(kW - w + 1), below(kH - h + 1), w, h}, below(kW - w + 1), below(kH - h + 1)});
    }
    // Destinations on the wire are disjoint (FindMoves claims each position once): keep the first of overlapping ones.
    std::vector<CopyOp> given;
    for (const CopyOp& c : copies) {
      const bool overlaps = std::any_of(given.begin(), given.end(), [&](const CopyOp& o) {
        return c.dst.x < o.dst.x + o.dst.w && o.dst.x < c.dst.x + c.dst.w && c.dst.y < o.dst.y + o.dst.h && o.dst.y < c.dst.y + c.dst.h;
      });
      if (!overlaps) given.push_back(c);
    }
    const std::vector<CopyOp> kept = OrderCopies(given);
    CHECK(kept.size() <= given.size());
    given_total += given.size();
    kept_total += kept.size();
    std::vector<uint32_t> old(kW * kH), at_once, one_by_one;
    for (uint32_t i = 0; i < old.size(); ++i) old[i] = i;
    at_once = one_by_one = old;
    for (const CopyOp& c : kept) {
      CHECK(std::any_of(given.begin(), given.end(), [&](const CopyOp& g) { return g.dst == c.dst && g.src_x == c.src_x && g.src_y == c.src_y; }));
      for (uint32_t y = 0; y < c.dst.h; ++y)
        for (uint32_t x = 0; x < c.dst.w; ++x) at_once[(c.dst.y + y) * kW + c.dst.x + x] = old[(c.src_y + y) * kW + c.src_x + x];
      const std::vector<uint32_t> before = one_by_one;  // one op reads the grid as it was just before it
      for (uint32_t y = 0; y < c.dst.h; ++y)
        for (uint32_t x = 0; x < c.dst.w; ++x) one_by_one[(c.dst.y + y) * kW + c.dst.x + x] = before[(c.src_y + y) * kW + c.src_x + x];
    }
    CHECK(at_once == one_by_one);
  }
  std::printf("# ordered copies: kept %zu of %zu\n", kept_total, given_total);
  CHECK(kept_total < given_total);       // some rounds had cycles
  CHECK(kept_total * 10 > given_total * 8);  // and few copies went for them
}

TEST(window_drag_in_both_directions_becomes_tile_copies) {
  std::mt19937 rng(17);
  TestFrame desk = MakeFrame(800, 600), window = MakeFrame(400, 300);
  FillScreenLike(desk, rng);
  FillScreenLike(window, rng);
  for (uint32_t y = 0; y < 300; ++y)
    for (uint32_t x = 0; x < 400; ++x) window.px(x, y)[2] ^= 0x40;  // tinted: not the desktop's colours
  auto with_window = [&](uint32_t wx, uint32_t wy) {
    TestFrame f = desk;
    for (uint32_t y = 0; y < 300; ++y) std::memcpy(f.px(wx, wy + y), window.px(0, y), 400 * 4);
    return f;
  };
  TestFrame a = with_window(100, 80), b = with_window(153, 117);
  SentFrame sent;
  sent.Reset(800, 600, 64);
  sent.Commit(a.view(), {}, {Rect{0, 0, 800, 600}}, {});
  std::vector<CopyOp> copies = FindMoves(sent.view(), b.view(), {Rect{64, 64, 576, 384}}, MoveSearch{});
  CHECK(!copies.empty());
  uint64_t copied = 0;
  for (const CopyOp& c : copies) {
    CHECK_EQ(static_cast<int>(c.dst.x) - static_cast<int>(c.src_x), 53);
    CHECK_EQ(static_cast<int>(c.dst.y) - static_cast<int>(c.src_y), 37);
    copied += static_cast<uint64_t>(c.dst.w) * c.dst.h;
  }
  CHECK(copied >= 64u * 64 * 12);  // the window's inner tiles
  std::vector<Rect> residual = sent.Residual(b.view(), {Rect{64, 64, 576, 384}}, copies);
  CHECK(UpdateEndsExact(a, b, copies, residual));
}

TEST(residual_is_a_box_per_glyph_not_the_tile) {
  std::mt19937 rng(21);
  TestFrame a = MakeFrame(256, 128);
  FillScreenLike(a, rng);
  SentFrame sent;
  sent.Reset(256, 128, 64);
  sent.Commit(a.view(), {}, {Rect{0, 0, 256, 128}}, {});
  // A glyph cell inside one tile: only its box goes, not the tile.
  TestFrame b = MakeFrame(256, 128);
  std::memcpy(b.bytes.data(), a.bytes.data(), a.bytes.size());
  for (uint32_t y = 70; y < 88; ++y) {
    for (uint32_t x = 141; x < 150; ++x) b.px(x, y)[1] ^= 0x5A;
  }
  std::vector<Rect> residual = sent.Residual(b.view(), {Rect{128, 64, 64, 64}});
  CHECK_EQ(residual.size(), 1u);
  CHECK(residual[0] == (Rect{141, 70, 9, 18}));
  CHECK(UpdateEndsExact(a, b, {}, residual));
  // A cell across a tile edge: the two boxes touch there and are joined.
  std::memcpy(b.bytes.data(), a.bytes.data(), a.bytes.size());
  for (uint32_t y = 10; y < 30; ++y) {
    for (uint32_t x = 60; x < 70; ++x) b.px(x, y)[0] ^= 0x33;
  }
  residual = sent.Residual(b.view(), {Rect{0, 0, 128, 64}});
  CHECK_EQ(residual.size(), 1u);
  CHECK(residual[0] == (Rect{60, 10, 10, 20}));
  CHECK(UpdateEndsExact(a, b, {}, residual));
  // Two glyphs in one tile, two unchanged columns apart: a box each, each with
  // its own rows; one column apart: one box.
  std::memcpy(b.bytes.data(), a.bytes.data(), a.bytes.size());
  for (uint32_t y = 5; y < 20; ++y) {
    for (uint32_t x = 130; x < 138; ++x) b.px(x, y)[2] ^= 0x11;
  }
  for (uint32_t y = 8; y < 25; ++y) {
    for (uint32_t x = 140; x < 147; ++x) b.px(x, y)[2] ^= 0x22;
  }
  residual = sent.Residual(b.view(), {Rect{128, 0, 64, 64}});
  CHECK_EQ(residual.size(), 2u);
  CHECK(residual[0] == (Rect{130, 5, 8, 15}));
  CHECK(residual[1] == (Rect{140, 8, 7, 17}));
  CHECK(UpdateEndsExact(a, b, {}, residual));
  for (uint32_t y = 8; y < 25; ++y) b.px(138, y)[2] ^= 0x44;  // now one column apart
  residual = sent.Residual(b.view(), {Rect{128, 0, 64, 64}});
  CHECK_EQ(residual.size(), 1u);
  CHECK(residual[0] == (Rect{130, 5, 17, 20}));
  CHECK(UpdateEndsExact(a, b, {}, residual));
}

TEST(random_small_changes_round_trip_exactly_through_unaligned_rects) {
  std::mt19937 rng(23);
  TestFrame cur = MakeFrame(300, 170);  // not a multiple of the tile size
  FillScreenLike(cur, rng);
  TileEncoder enc(64, 6);
  Viewer v(300, 170);
  SentFrame sent;
  sent.Reset(300, 170, 64);
  EncodedUpdate u;
  CHECK_OK(enc.Encode(cur.view(), {}, {Rect{0, 0, 300, 170}}, true, 2, &u));
  CHECK_OK(v.Apply(u, true));
  sent.Commit(cur.view(), {}, {Rect{0, 0, 300, 170}}, {});
  for (int step = 0; step < 300; ++step) {
    TestFrame next = MakeFrame(300, 170);
    std::memcpy(next.bytes.data(), cur.bytes.data(), cur.bytes.size());
    const int changes = 1 + static_cast<int>(rng() % 3);
    std::vector<Rect> damage;  // the cells: small damage, split per glyph (or whole-frame damage, not split)
    for (int c = 0; c < changes; ++c) {  // glyph-sized cells anywhere, some across tile edges
      const uint32_t w = 1 + rng() % 20, h = 1 + rng() % 24;
      const uint32_t x = rng() % (300 - w + 1), y = rng() % (170 - h + 1);
      damage.push_back(Rect{x, y, w, h});
      const uint32_t colors = 2 + rng() % 6;
      for (uint32_t yy = y; yy < y + h; ++yy) {
        for (uint32_t xx = x; xx < x + w; ++xx) {
          const uint32_t k = rng() % colors;
          uint8_t* p = next.px(xx, yy);
          p[0] = static_cast<uint8_t>(k * 40);
          p[1] = static_cast<uint8_t>(255 - k * 30);
          p[2] = static_cast<uint8_t>(k * 7);
        }
      }
    }
    if (step % 4 == 0) damage = {Rect{0, 0, 300, 170}};
    std::vector<Rect> residual = sent.Residual(next.view(), damage);
    for (const Rect& r : residual) {
      // Each box lies in one tile row; boxes that span tiles were joined at a tile edge.
      CHECK_EQ(r.y / 64, (r.y + r.h - 1) / 64);
    }
    CHECK_OK(enc.Encode(next.view(), {}, residual, false, 2, &u));
    CHECK_OK(v.Apply(u, false));
    sent.Commit(next.view(), {}, residual, {});
    CHECK(v.pixels == Packed(next));
    cur = std::move(next);
  }
}

TEST(unaligned_rects_are_cut_on_the_tile_grid_for_the_lossy_mask) {
  REQUIRE_JPEG();
  std::mt19937 rng(29);
  TestFrame f = MakeFrame(192, 64);
  FillScreenLike(f, rng);
  FillPhoto(f, Rect{0, 0, 192, 64}, rng);  // photographic everywhere
  std::vector<uint8_t> mask = {0, 1, 0};   // only the middle tile may go lossy
  LossyOptions lossy{mask.data(), 3, 1, JpegParams{80, ChromaSubsampling::k420}};
  TileEncoder enc(64, 6);
  EncodedUpdate u;
  CHECK_OK(enc.Encode(f.view(), {}, {Rect{0, 0, 192, 64}}, true, 2, &u));
  // A rect from inside tile 0 to inside tile 2: the JPEG part is exactly tile 1.
  CHECK_OK(enc.Encode(f.view(), {}, {Rect{30, 5, 130, 40}}, false, 2, &u, &lossy));
  CHECK_EQ(u.lossy_rects.size(), 1u);
  CHECK(u.lossy_rects[0] == (Rect{64, 5, 64, 40}));
  CHECK_EQ(u.stats.pixels_by_code[static_cast<int>(OpCode::kJpeg)], 64u * 40);
}
