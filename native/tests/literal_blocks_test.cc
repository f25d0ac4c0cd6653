// Literal blocks (literal_blocks.h) inside the persistent deflate stream, and the PREDICTED op
// that sends its residuals that way.
#include <cstring>
#include <random>

#include "../codec/deflate_stream.h"
#include "../codec/literal_blocks.h"
#include "../codec/predictor.h"
#include "codec_util.h"
#include "harness.h"
#include "test_util.h"

using namespace tilecast;

namespace {

// Kraft sum of a code, scaled by 2^15 (complete: exactly 2^15).
uint64_t KraftSum(const uint8_t* lengths, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    if (lengths[i]) sum += uint64_t{1} << (15 - lengths[i]);
  }
  return sum;
}

// Bytes of one kind: uniform noise, a skewed (geometric) spread around 0 as residuals are, one
// value only, or text (which the zlib parts around them can match).
std::vector<uint8_t> Sample(int kind, size_t n, std::mt19937& rng) {
  std::vector<uint8_t> v(n);
  std::geometric_distribution<int> geo(0.35);
  const char* text = "Quarterly figures, budget-2027.xlsx, minutes-1121.docx ";
  for (size_t i = 0; i < n; ++i) {
    switch (kind) {
      case 0: v[i] = static_cast<uint8_t>(rng()); break;
      case 1: v[i] = static_cast<uint8_t>(rng() & 1 ? geo(rng) : -geo(rng)); break;
      case 2: v[i] = 0x5A; break;
      default: v[i] = static_cast<uint8_t>(text[i % std::strlen(text)]); break;
    }
  }
  return v;
}

// Inflates one update's bytes, which must hold exactly `want` and end in the sync-flush marker.
bool InflatesTo(InflateStream& in, const std::vector<uint8_t>& update, const std::vector<uint8_t>& want) {
  std::vector<uint8_t> got(want.size());
  in.Begin(update.data(), update.size());
  Status s = in.Read(got.data(), got.size());
  if (s.ok()) s = in.End();
  if (!s.ok()) std::fprintf(stderr, "  inflate: %s\n", s.message().c_str());
  return s.ok() && got == want;
}

}  // namespace

TEST(huffman_code_lengths_are_complete_and_within_the_limit) {
  // Fibonacci frequencies make an unlimited Huffman code as deep as there are symbols.
  uint32_t fib[40];
  fib[0] = fib[1] = 1;
  for (int i = 2; i < 40; ++i) fib[i] = fib[i - 1] + fib[i - 2];
  uint8_t len[40];
  HuffmanCodeLengths(fib, 40, 15, len);
  CHECK_EQ(KraftSum(len, 40), uint64_t{1} << 15);
  for (uint8_t l : len) CHECK(l >= 1 && l <= 15);
  HuffmanCodeLengths(fib, 19, 7, len);
  CHECK_EQ(KraftSum(len, 19), uint64_t{1} << 15);
  for (int i = 0; i < 19; ++i) CHECK(len[i] >= 1 && len[i] <= 7);
  // One used symbol: two one-bit codes (a complete code every inflater accepts).
  uint32_t one[5] = {0, 0, 9, 0, 0};
  HuffmanCodeLengths(one, 5, 15, len);
  CHECK_EQ(static_cast<int>(len[2]), 1);
  CHECK_EQ(KraftSum(len, 5), uint64_t{1} << 15);
  // Random spreads with unused symbols: complete, unused symbols get no code.
  std::mt19937 rng(3);
  for (int round = 0; round < 200; ++round) {
    uint32_t freq[257];
    for (uint32_t& f : freq) f = rng() % 4 == 0 ? 0 : rng() % (1u << (rng() % 20));
    freq[256] = 1;
    std::vector<uint8_t> l(257);
    HuffmanCodeLengths(freq, 257, 15, l.data());
    CHECK_EQ(KraftSum(l.data(), 257), uint64_t{1} << 15);
    for (int s = 0; s < 257; ++s) CHECK((freq[s] == 0) == (l[s] == 0) && l[s] <= 15);
  }
}

TEST(literal_blocks_interleave_with_zlib_in_one_stream) {
  // Updates mixing zlib writes and literal blocks in every order, sizes across the block size,
  // decode byte-exactly on one inflate stream; zlib's later matches into the literal bytes (the
  // text repeats them) prove its window was kept in step.
  std::mt19937 rng(5);
  DeflateStream z(6);
  InflateStream in;
  const size_t sizes[] = {1, 2, 255, 4096, kLiteralBlockBytes, kLiteralBlockBytes + 1, 3 * kLiteralBlockBytes + 77};
  for (int update = 0; update < 120; ++update) {
    std::vector<uint8_t> stream, want;
    const int levels[] = {1, 3, 5, 6, 9};  // 1-3 and 4-9 are zlib's two routines: a switch ends a block
    if (update % 13 == 5) {  // a keyframe: a fresh stream on both sides, maybe literal blocks first
      CHECK_OK(z.Reset());
      CHECK_OK(in.Reset());
    }
    CHECK_OK(z.SetLevel(levels[rng() % 5], &stream));
    const int parts = 1 + static_cast<int>(rng() % 4);
    for (int p = 0; p < parts; ++p) {
      if (rng() % 5 == 0) CHECK_OK(z.SetLevel(levels[rng() % 5], &stream));  // mid-update too
      const bool literal = rng() % 2 == 0;
      std::vector<uint8_t> data = Sample(static_cast<int>(rng() % 4), sizes[rng() % 7], rng);
      if (literal) {
        CHECK_OK(z.WriteLiterals(data.data(), data.size(), &stream));
      } else {
        CHECK_OK(z.Write(data.data(), data.size(), &stream));
      }
      want.insert(want.end(), data.begin(), data.end());
    }
    CHECK_OK(z.Finish(&stream));
    const uint8_t marker[] = {0x00, 0x00, 0xFF, 0xFF};
    CHECK(stream.size() >= 4 && std::equal(stream.end() - 4, stream.end(), marker));
    CHECK(InflatesTo(in, stream, want));
  }
  // Random bytes through zlib, literal blocks, the same random bytes again (in the same update
  // and in the next): zlib codes the repeat as a match reaching back over the literal bytes, so
  // it must count them as the decoder does.
  for (size_t literal_len : {size_t{100}, size_t{5000}, size_t{40000}}) {
    std::vector<uint8_t> r = Sample(0, 3000, rng), l = Sample(1, literal_len, rng), a, b, want;
    CHECK_OK(z.Write(r.data(), r.size(), &a));
    CHECK_OK(z.WriteLiterals(l.data(), l.size(), &a));
    CHECK_OK(z.Write(r.data(), r.size(), &a));
    CHECK_OK(z.Finish(&a));
    want = r;
    want.insert(want.end(), l.begin(), l.end());
    want.insert(want.end(), r.begin(), r.end());
    CHECK(InflatesTo(in, a, want));
    std::vector<uint8_t> l_alone;
    AppendLiteralBlocks(l.data(), l.size(), &l_alone);
    CHECK(literal_len > 32 * 1024 || a.size() < r.size() + l_alone.size() + r.size() / 10);  // the repeat was a match
    CHECK_OK(z.WriteLiterals(l.data(), 64, &b));
    CHECK_OK(z.Write(r.data(), r.size(), &b));
    CHECK_OK(z.Finish(&b));
    want.assign(l.begin(), l.begin() + 64);
    want.insert(want.end(), r.begin(), r.end());
    CHECK(InflatesTo(in, b, want));
  }
  // Noise as literal blocks costs about what it is (no blow-up); skewed bytes far less.
  std::vector<uint8_t> noise = Sample(0, 200000, rng), skewed = Sample(1, 200000, rng), out1, out2;
  AppendLiteralBlocks(noise.data(), noise.size(), &out1);
  AppendLiteralBlocks(skewed.data(), skewed.size(), &out2);
  CHECK(out1.size() < noise.size() + noise.size() / 50);
  CHECK(out2.size() < skewed.size() / 2);
}

TEST(prediction_inverts_exactly_on_every_kind_of_pixel) {
  std::mt19937 rng(8);
  for (int round = 0; round < 50; ++round) {
    const uint32_t w = 1 + rng() % 70, h = 1 + rng() % 5;
    std::vector<uint8_t> px(static_cast<size_t>(w) * h * 4), back(px.size()), res(static_cast<size_t>(w) * 3);
    std::vector<uint8_t> t(static_cast<size_t>(w) * 3 * h);
    for (size_t i = 0; i < px.size(); ++i) px[i] = i % 4 == 3 ? 0xFF : static_cast<uint8_t>(round % 2 ? rng() : (i * 7 + rng() % 3));
    for (uint32_t y = 0; y < h; ++y) {
      ToGreenDeltaRow(&px[y * w * 4], w, &t[y * w * 3]);
      PredictRow(&t[y * w * 3], y ? &t[(y - 1) * w * 3] : nullptr, w, res.data());
      UnpredictRow(res.data(), y ? &back[(y - 1) * w * 4] : nullptr, w, &back[y * w * 4]);
    }
    CHECK(px == back);
  }
}

TEST(photographic_truecolour_goes_as_predicted_and_round_trips) {
  // A photo beside UI text: with PREDICTED the photo's tiles shrink, everything decodes exactly,
  // over a keyframe and changed updates; the content cache sees PREDICTED ops as it sees TRUECOLOR.
  std::mt19937 rng(9);
  TestFrame f = MakeFrame(320, 192, 4);
  FillScreenLike(f, rng);
  FillPhoto(f, Rect{64, 64, 192, 128}, rng);
  TestFrame g = f;
  FillPhoto(g, Rect{0, 0, 128, 64}, rng);
  EncodedUpdate plain, pred;
  {
    TileEncoder enc(64, 6);
    CHECK_OK(enc.Encode(f.view(), {}, {Rect{0, 0, 320, 192}}, true, 2, &plain));
  }
  TileEncoder enc(64, 6);
  enc.set_predicted(true);
  enc.SetCacheBudget(8 << 20);
  tilecast::Viewer v(320, 192);
  v.decoder.SetCacheBudget(8 << 20);
  CHECK_OK(enc.Encode(f.view(), {}, {Rect{0, 0, 320, 192}}, true, 2, &pred));
  CHECK(pred.stream.size() < plain.stream.size() * 9 / 10);
  CHECK(pred.stats.ops_by_code[static_cast<int>(OpCode::kTruecolor)] == plain.stats.ops_by_code[static_cast<int>(OpCode::kTruecolor)]);
  CHECK_OK(v.Apply(pred, true));
  CHECK(v.pixels == Packed(f));
  // g, then f again: the photo tiles f had come back from the cache.
  for (const TestFrame* next : {&g, &f}) {
    EncodedUpdate u;
    CHECK_OK(enc.Encode(next->view(), {}, {Rect{0, 0, 320, 192}}, false, 2, &u));
    CHECK_OK(v.Apply(u, false));
    CHECK(v.pixels == Packed(*next));
    if (next == &f) CHECK(u.stats.ops_by_code[static_cast<int>(OpCode::kCacheRef)] >= 6);
  }
  CHECK_EQ(enc.cache().next_id(), v.decoder.cache().next_id());
}

TEST(decoder_rejects_a_truncated_predicted_op) {
  uint8_t op[kOpHeaderBytes + 3 * 4 * 2 - 1];
  std::memset(op, 7, sizeof op);
  PutOpHeader(op, OpCode::kPredicted, 0, 0, 4, 2);
  DeflateStream z(6);
  std::vector<uint8_t> data;
  CHECK_OK(z.Write(op, sizeof op, &data));
  CHECK_OK(z.Finish(&data));
  tilecast::Viewer v(16, 16);
  EncodedUpdate u;
  u.stream = data;
  u.op_count = 1;
  CHECK_EQ(static_cast<int>(v.Apply(u, true).code()), static_cast<int>(ErrorCode::kTruncated));
}
