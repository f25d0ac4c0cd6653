// LZ blocks (lz_blocks.h): our own deflate coder for large keyframes, inside the persistent stream.
#include <cstring>
#include <random>

#include <zlib.h>

#include "../codec/deflate_stream.h"
#include "../codec/lz_blocks.h"
#include "harness.h"

using namespace tilecast;

namespace {

// Bytes of one kind: noise, text (matches at glyph distances), runs of one byte (the longest
// matches), a dithered ramp (matches one "row" back, as palette tiles have), or a mix of them.
std::vector<uint8_t> Sample(int kind, size_t n, std::mt19937& rng) {
  std::vector<uint8_t> v(n);
  const char* text = "Quarterly figures, budget-2027.xlsx, minutes-1121.docx ";
  const size_t text_len = std::strlen(text);
  const size_t row = 64 + rng() % 200;
  for (size_t i = 0; i < n; ++i) {
    switch (kind) {
      case 0: v[i] = static_cast<uint8_t>(rng()); break;
      case 1: v[i] = static_cast<uint8_t>(text[(i * 7 / 5) % text_len]); break;
      case 2: v[i] = static_cast<uint8_t>(i / 1000); break;
      case 3: v[i] = static_cast<uint8_t>((i % row) / 16 + ((i / row) % 4 == (i % 4) ? 1 : 0)); break;
      default: v[i] = (i / 300) % 3 == 0 ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>(text[i % text_len]); break;
    }
  }
  return v;
}

// Inflates `blocks` (raw deflate, no final block) after `history`, which the decoder is given as
// its window; the output must be exactly `want` and the input used up, ending in the marker.
bool InflatesTo(const std::vector<uint8_t>& history, const std::vector<uint8_t>& blocks, const std::vector<uint8_t>& want) {
  static constexpr uint8_t kMarker[] = {0x00, 0x00, 0xFF, 0xFF};
  if (blocks.size() < 4 || !std::equal(blocks.end() - 4, blocks.end(), kMarker)) return false;
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) return false;
  bool ok = history.empty() || inflateSetDictionary(&zs, history.data(), static_cast<uInt>(history.size())) == Z_OK;
  std::vector<uint8_t> got(want.size() + 64);
  zs.next_in = const_cast<Bytef*>(blocks.data());
  zs.avail_in = static_cast<uInt>(blocks.size());
  zs.next_out = got.data();
  zs.avail_out = static_cast<uInt>(got.size());
  const int rc = inflate(&zs, Z_SYNC_FLUSH);
  ok = ok && (rc == Z_OK || rc == Z_BUF_ERROR) && zs.avail_in == 0 && zs.total_out == want.size() &&
       std::equal(want.begin(), want.end(), got.begin());
  inflateEnd(&zs);
  return ok;
}

}  // namespace

TEST(lz_blocks_round_trip_every_kind_and_size) {
  std::mt19937 rng(11);
  LzCoder lz;
  const size_t sizes[] = {1, 2, 3, 4, 5, 257, 258, 259, 4096, 40000, 300000};
  for (int kind = 0; kind < 5; ++kind) {
    for (size_t n : sizes) {
      const std::vector<uint8_t> data = Sample(kind, n, rng);
      std::vector<uint8_t> out;
      lz.Append(data.data(), 0, data.size(), {}, &out);
      CHECK(InflatesTo({}, out, data));
    }
  }
}

TEST(lz_blocks_reach_into_history_and_skip_literal_ranges) {
  // Random buffers: a history of 0..32 KiB the decoder already holds, then data with random
  // literal-only ranges; the data repeats parts of the history, so matches reach back into it.
  std::mt19937 rng(12);
  LzCoder lz;
  for (int round = 0; round < 300; ++round) {
    const size_t history = round % 3 == 0 ? 0 : rng() % (32 * 1024 + 1);
    const size_t len = 1 + rng() % (round % 10 == 0 ? 200000 : 5000);
    std::vector<uint8_t> buf = Sample(static_cast<int>(rng() % 5), history + len, rng);
    if (history > 100) {  // copy a stretch of the history forward
      const size_t n = std::min<size_t>(len, 1 + rng() % 100);
      std::memcpy(&buf[history + rng() % (len - n + 1)], &buf[rng() % (history - 99)], std::min<size_t>(n, 99));
    }
    std::vector<ByteRange> literal;
    for (size_t at = rng() % (len + 1); at < len && literal.size() < 6; at += 1 + rng() % 3000) {
      const size_t end = std::min(len, at + 1 + rng() % 2000);
      literal.push_back(ByteRange{at, end});
      at = end;
    }
    std::vector<uint8_t> out;
    lz.Append(buf.data(), history, len, literal, &out);
    CHECK(InflatesTo(std::vector<uint8_t>(buf.begin(), buf.begin() + history),
                     out, std::vector<uint8_t>(buf.begin() + history, buf.end())));
  }
}

TEST(lz_blocks_edge_cases) {
  // Matches exactly 32 KiB back (into the history too), Fibonacci-skewed bytes that force the
  // 15-bit code limit, and a literal-only range every other byte (many tiny blocks: the staging
  // bound), each decoding exactly.
  std::mt19937 rng(15);
  LzCoder lz;
  for (int kind = 0; kind < 3; ++kind) {
    const size_t history = 32 * 1024, len = 150000;
    std::vector<uint8_t> buf(history + len);
    static const uint32_t kFib[] = {1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181, 6765, 10946, 17711};
    for (size_t i = 0; i < buf.size(); ++i) {
      if (kind == 0) {
        buf[i] = i >= 32768 ? buf[i - 32768] : static_cast<uint8_t>(rng());
      } else {
        uint32_t r = rng() % 46367, sym = 0, acc = 0;  // 46367 = the sum of kFib
        while (sym < 21 && acc + kFib[sym] <= r) acc += kFib[sym++];
        buf[i] = static_cast<uint8_t>(sym * 11);
      }
    }
    std::vector<ByteRange> literal;
    if (kind == 2) {
      for (size_t at = 0; at + 1 < len; at += 2) literal.push_back(ByteRange{at, at + 1});
    }
    std::vector<uint8_t> out;
    lz.Append(buf.data(), history, len, literal, &out);
    CHECK(InflatesTo(std::vector<uint8_t>(buf.begin(), buf.begin() + history), out,
                     std::vector<uint8_t>(buf.begin() + history, buf.end())));
    if (kind == 0) CHECK(out.size() < len / 50);  // all of it one match after another, 32 KiB back
  }
}

TEST(lz_blocks_compress_like_zlib) {
  // Within a few % of zlib level 6 on text and the dithered ramp; noise costs about what it is.
  std::mt19937 rng(13);
  LzCoder lz;
  for (int kind : {1, 3, 4}) {
    const std::vector<uint8_t> data = Sample(kind, 500000, rng);
    std::vector<uint8_t> out;
    lz.Append(data.data(), 0, data.size(), {}, &out);
    uLongf zlen = compressBound(static_cast<uLong>(data.size()));
    std::vector<uint8_t> z(zlen);
    CHECK(compress2(z.data(), &zlen, data.data(), static_cast<uLong>(data.size()), 6) == Z_OK);
    CHECK(out.size() < zlen + zlen / 8 + 64);
  }
  const std::vector<uint8_t> noise = Sample(0, 200000, rng);
  std::vector<uint8_t> out;
  lz.Append(noise.data(), 0, noise.size(), {ByteRange{0, 100000}}, &out);
  CHECK(out.size() < noise.size() + noise.size() / 50);
}

TEST(a_stream_started_with_lz_blocks_carries_on_in_zlib) {
  // WriteFreshLz opens a keyframe, in pieces over threads when large; the next updates' zlib
  // matches reach back into its bytes, so zlib's window must hold them. The bytes do not depend on
  // the number of threads. And it refuses to write anywhere but at a stream's start.
  std::mt19937 rng(14);
  DeflateStream z(6), z1(6);
  LzScratch scratch, scratch1;
  InflateStream in;
  for (int keyframe = 0; keyframe < 16; ++keyframe) {
    CHECK_OK(z.Reset());
    CHECK_OK(z1.Reset());
    CHECK_OK(in.Reset());
    const size_t len = keyframe % 4 == 3 ? 2 * kLzPieceBytes + 1 + rng() % kLzPieceBytes : 1 + rng() % 100000;
    const std::vector<uint8_t> first = Sample(static_cast<int>(rng() % 5), len, rng);
    // Literal-only ranges, one of them across a piece boundary when there are pieces.
    const std::vector<ByteRange> literal{{0, len / 7}, {len / 3, std::min(len, kLzPieceBytes + 1000)}};
    std::vector<uint8_t> a, one_thread;
    CHECK_OK(z.WriteFreshLz(first.data(), first.size(), literal, 4, &scratch, &a));
    CHECK_OK(z1.WriteFreshLz(first.data(), first.size(), literal, 1, &scratch1, &one_thread));
    CHECK(a == one_thread);
    CHECK(!z.WriteFreshLz(first.data(), first.size(), {}, 4, &scratch, &a).ok());
    CHECK_OK(z.Finish(&a));
    std::vector<uint8_t> got(first.size());
    in.Begin(a.data(), a.size());
    CHECK(in.Read(got.data(), got.size()).ok() && in.End().ok() && got == first);
    // The last 2000 bytes again through zlib: a match into the LZ blocks' bytes.
    const size_t n = std::min<size_t>(first.size(), 2000);
    std::vector<uint8_t> b;
    CHECK_OK(z.SetLevel(6, &b));
    CHECK_OK(z.Write(first.data() + first.size() - n, n, &b));
    CHECK_OK(z.Finish(&b));
    if (n == 2000) CHECK(b.size() < 100);
    got.assign(n, 0);
    in.Begin(b.data(), b.size());
    CHECK(in.Read(got.data(), n).ok() && in.End().ok());
    CHECK(std::equal(got.begin(), got.end(), first.end() - n));
  }
}
