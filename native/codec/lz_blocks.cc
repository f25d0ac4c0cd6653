#include "lz_blocks.h"

#include <algorithm>
#include <cstring>

#include "../util/compiler.h"
#include "deflate_bits.h"
#include "literal_blocks.h"

namespace tilecast {
namespace {

constexpr size_t kWindow = 32 * 1024;    // deflate's farthest distance
constexpr unsigned kHashBits = 15;
constexpr size_t kMinMatch = 4;          // hashed on 4 bytes; deflate allows 3, rarely worth a code here
constexpr size_t kMaxMatch = 258;
constexpr unsigned kMaxChain = 8;        // candidates looked at per position
constexpr size_t kGoodMatch = 32;        // at or above this, take it without looking further
constexpr size_t kLazyMatch = 12;        // shorter matches are checked against the next position's,
constexpr unsigned kLazyChain = 1;       // found among that many candidates (and the previous distance)
constexpr size_t kMaxInsertMatch = 64;   // longer matches put only their first positions in the chains
constexpr size_t kBlockSymbols = 16 * 1024;
constexpr unsigned kSkipShift = 5;       // after 2^k fruitless searches, one position in two is skipped, and so on
constexpr size_t kMaxSkip = 16;          // but never more than this many (a match may begin among them)
constexpr size_t kLitLenCodes = 286, kDistCodes = 30;

// RFC 1951 3.2.5: the length codes 257..285 and distance codes 0..29, their bases and extra bits.
constexpr uint16_t kLengthBase[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                      35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr uint8_t kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr uint16_t kDistBase[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
                                    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr uint8_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

struct CodeTables {
  uint8_t length_code[kMaxMatch + 1];  // length -> 0..28
  uint8_t dist_code_small[512];        // distance-1 < 256 -> code; else dist_code_large[(distance-1) >> 7]
  uint8_t dist_code_large[256];
  CodeTables() {
    for (unsigned c = 0; c < 29; ++c) {
      const unsigned top = c == 28 ? kMaxMatch : kLengthBase[c] + (1u << kLengthExtra[c]) - 1;
      for (unsigned len = kLengthBase[c]; len <= top; ++len) length_code[len] = static_cast<uint8_t>(c);
    }
    for (unsigned c = 0; c < 30; ++c) {
      const unsigned first = kDistBase[c] - 1, last = first + (1u << kDistExtra[c]) - 1;
      for (unsigned d = first; d <= last; ++d) {
        if (d < 256) dist_code_small[d] = static_cast<uint8_t>(c);
        else dist_code_large[d >> 7] = static_cast<uint8_t>(c);
      }
    }
  }
  unsigned DistCode(unsigned dist) const {
    const unsigned d = dist - 1;
    return d < 256 ? dist_code_small[d] : dist_code_large[d >> 7];
  }
};

const CodeTables& Codes() {
  static const CodeTables tables;
  return tables;
}

inline uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline uint32_t Hash4(const uint8_t* p) { return (Load32(p) * 0x9E3779B1u) >> (32 - kHashBits); }

// Bytes a[0..] and b[0..] have in common, up to max.
inline size_t CommonLength(const uint8_t* a, const uint8_t* b, size_t max) {
  size_t n = 0;
  while (n + 8 <= max) {
    uint64_t x, y;
    std::memcpy(&x, a + n, 8);
    std::memcpy(&y, b + n, 8);
    // The first differing byte is the lowest one in memory: the low end of the word on
    // little-endian machines, the high end on big-endian ones.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    if (x != y) return n + static_cast<size_t>(LeadingZeros64(x ^ y) >> 3);
#else
    if (x != y) return n + static_cast<size_t>(TrailingZeros64(x ^ y) >> 3);
#endif
    n += 8;
  }
  while (n < max && a[n] == b[n]) ++n;
  return n;
}

}  // namespace

struct LzCoder::Tables {
  // Hash chains over absolute positions in the caller's buffer (-1: none).
  std::vector<int32_t> head = std::vector<int32_t>(size_t{1} << kHashBits);
  std::vector<int32_t> prev = std::vector<int32_t>(kWindow);
  // A block's symbols, each coded as it is written out: bits 0-9 the literal (0-255) or 256 + the
  // match length, bits 10-14 the distance code (kNoDistance for a literal), bits 15-27 the distance's
  // extra bits. Flush then writes literals and matches alike, without a branch between them.
  static constexpr unsigned kDistCodeShift = 10, kDistExtraShift = 15, kNoDistance = kDistCodes;
  std::vector<uint32_t> symbols = std::vector<uint32_t>(kBlockSymbols);
  size_t count = 0;
  size_t last_dist = 0;  // of the last match coded (0: none yet)
  // The blocks are written here first, sized for the worst case, then copied out.
  std::unique_ptr<uint8_t[]> staging;
  size_t staging_size = 0;
  uint32_t lit_freq[kLitLenCodes] = {};
  uint32_t dist_freq[kDistCodes] = {};

  void Insert(const uint8_t* buf, size_t pos) { InsertHashed(pos, Hash4(buf + pos)); }
  void InsertHashed(size_t pos, uint32_t hash) {  // hash: Hash4(buf + pos), when the caller has it
    int32_t& h = head[hash];
    prev[pos & (kWindow - 1)] = h;
    h = static_cast<int32_t>(pos);
  }
  struct Found {
    size_t len = 0, dist = 0;  // dist 0: no match of kMinMatch bytes or more
  };
  // The longest match for buf[pos..] among the chain's first max_chain candidates, up to max_len;
  // hash is Hash4(buf + pos), which the caller then inserts pos with.
  Found Find(const uint8_t* buf, size_t pos, size_t max_len, uint32_t hash, unsigned max_chain = kMaxChain) const {
    Found best;
    best.len = kMinMatch - 1;
    // The previous match's distance first: screens repeat at a fixed stride (a tile row, a
    // dither period), and a distance used again costs fewer bits than a nearer but new one.
    if (last_dist != 0 && last_dist <= pos && Load32(buf + pos - last_dist) == Load32(buf + pos)) {
      best.len = CommonLength(buf + pos - last_dist, buf + pos, max_len);
      best.dist = last_dist;
      if (best.len >= kGoodMatch || best.len == max_len) return best;
    }
    int32_t cand = head[hash];
    const size_t lowest = pos > kWindow ? pos - kWindow : 0;
    for (unsigned depth = 0; depth < max_chain && cand >= 0 && static_cast<size_t>(cand) >= lowest; ++depth) {
      const size_t c = static_cast<size_t>(cand);
      if (buf[c + best.len] == buf[pos + best.len] && Load32(buf + c) == Load32(buf + pos)) {
        const size_t n = CommonLength(buf + c, buf + pos, max_len);
        if (n > best.len && pos - c != best.dist) {
          best.len = n;
          best.dist = pos - c;
          if (n >= kGoodMatch || n == max_len) break;
        }
      }
      const int32_t older = prev[c & (kWindow - 1)];
      if (older >= cand) break;  // the slot was reused by a newer position: the chain ends here
      cand = older;
    }
    return best;
  }
  void Literal(uint8_t byte) {
    symbols[count++] = byte | kNoDistance << kDistCodeShift;
    lit_freq[byte]++;
  }
  void Match(size_t len, size_t dist) {
    last_dist = dist;
    const CodeTables& c = Codes();
    const unsigned dc = c.DistCode(static_cast<unsigned>(dist));
    symbols[count++] = static_cast<uint32_t>((256 + len) | dc << kDistCodeShift | (dist - kDistBase[dc]) << kDistExtraShift);
    lit_freq[257 + c.length_code[len]]++;
    dist_freq[dc]++;
  }
  // Writes the symbols gathered as one dynamic block.
  void Flush(deflate_bits::BitWriter* w);
};

void LzCoder::Tables::Flush(deflate_bits::BitWriter* w) {
  if (count == 0) return;
  lit_freq[deflate_bits::kEndOfBlock] = 1;
  uint8_t lit_len[kLitLenCodes], dist_len[kDistCodes];
  HuffmanCodeLengths(lit_freq, kLitLenCodes, deflate_bits::kMaxCodeBits, lit_len);
  HuffmanCodeLengths(dist_freq, kDistCodes, deflate_bits::kMaxCodeBits, dist_len);
  if (std::all_of(dist_len, dist_len + kDistCodes, [](uint8_t l) { return l == 0; })) {
    dist_len[0] = dist_len[1] = 1;  // no matches: a complete code all the same, as inflaters want
  }
  size_t hlit = kLitLenCodes, hdist = kDistCodes;
  while (hlit > 257 && lit_len[hlit - 1] == 0) --hlit;
  while (hdist > 1 && dist_len[hdist - 1] == 0) --hdist;
  uint16_t lit_code[kLitLenCodes], dist_code[kDistCodes];
  deflate_bits::CanonicalCodes(lit_len, kLitLenCodes, lit_code);
  deflate_bits::CanonicalCodes(dist_len, kDistCodes, dist_code);
  deflate_bits::PutDynamicHeader(lit_len, hlit, dist_len, hdist, w);

  // What a symbol's first part writes (a literal's code, or a length's code and extra bits: at most
  // 15 + 5 bits) by bits 0-9, and its distance's code (at most 15 bits, then up to 13 extra) by
  // bits 10-14; a literal's "distance" writes nothing. So every symbol is one write of at most 48
  // bits, and the loop below has no branch a literal/match mix would mispredict.
  const CodeTables& c = Codes();
  uint32_t first_bits[256 + kMaxMatch + 1];
  uint8_t first_count[256 + kMaxMatch + 1];
  for (unsigned b = 0; b < 256; ++b) {
    first_bits[b] = lit_code[b];
    first_count[b] = lit_len[b];
  }
  for (unsigned len = kMinMatch; len <= kMaxMatch; ++len) {
    const unsigned lc = c.length_code[len];
    first_bits[256 + len] = lit_code[257 + lc] | (len - kLengthBase[lc]) << lit_len[257 + lc];
    first_count[256 + len] = static_cast<uint8_t>(lit_len[257 + lc] + kLengthExtra[lc]);
  }
  uint16_t dist_bits[kNoDistance + 1];
  uint8_t dist_shift[kNoDistance + 1], dist_count[kNoDistance + 1];
  for (unsigned d = 0; d < kDistCodes; ++d) {
    dist_bits[d] = dist_code[d];
    dist_shift[d] = dist_len[d];
    dist_count[d] = static_cast<uint8_t>(dist_len[d] + kDistExtra[d]);
  }
  dist_bits[kNoDistance] = 0;
  dist_shift[kNoDistance] = dist_count[kNoDistance] = 0;
  deflate_bits::BitWriter bw = *w;
  bw.Settle();
  for (size_t i = 0; i < count; ++i) {
    const uint32_t s = symbols[i];
    const uint32_t first = s & 0x3FF, dc = (s >> kDistCodeShift) & 0x1F, extra = s >> kDistExtraShift;
    const uint64_t second = dist_bits[dc] | static_cast<uint64_t>(extra) << dist_shift[dc];
    bw.PutSettled(first_bits[first] | second << first_count[first], first_count[first] + dist_count[dc]);
  }
  bw.Put(lit_code[deflate_bits::kEndOfBlock], lit_len[deflate_bits::kEndOfBlock]);
  *w = bw;
  count = 0;
  std::memset(lit_freq, 0, sizeof lit_freq);
  std::memset(dist_freq, 0, sizeof dist_freq);
}

LzCoder::LzCoder() : t_(std::make_unique<Tables>()) {}
LzCoder::~LzCoder() = default;

size_t LzCoder::RetainedBytes() const {
  return t_->head.capacity() * sizeof(int32_t) + t_->prev.capacity() * sizeof(int32_t) +
         t_->symbols.capacity() * sizeof(uint32_t) + t_->staging_size;
}

void LzCoder::Append(const uint8_t* buf, size_t history, size_t len, const std::vector<ByteRange>& literal_only,
                     std::vector<uint8_t>* out) {
  if (len == 0) return;
  Tables& t = *t_;
  std::fill(t.head.begin(), t.head.end(), -1);
  t.last_dist = 0;
  const size_t end = history + len;
  // Every position of the history may start a match.
  const size_t from = history > kWindow ? history - kWindow : 0;
  for (size_t p = from; p + kMinMatch <= end && p < history; ++p) t.Insert(buf, p);

  // Worst case: 15 bits a literal (a match of >= 4 bytes takes at most 48), a header of at most
  // ~600 bytes a block (a block ends every kBlockSymbols symbols and at each range), the marker.
  const size_t blocks = len / kBlockSymbols + 2 * literal_only.size() + 2;
  const size_t room = len * 2 + blocks * 640 + 16;
  if (t.staging_size < room) {  // not zero-filled: a keyframe's worth of memset costs ~0.5 ms
    t.staging.reset(new uint8_t[room]);
    t.staging_size = room;
  }
  deflate_bits::BitWriter w{t.staging.get()};

  size_t next_range = 0;
  for (size_t pos = history; pos < end;) {
    // The stretch up to the next literal-only range is searched; that range is not.
    size_t stretch_end = end;
    if (next_range < literal_only.size()) {
      const ByteRange& r = literal_only[next_range];
      if (pos >= history + r.begin) {
        const size_t stop = std::min(end, history + r.end);
        // Residuals get literal blocks of their own (literal_blocks.h: faster than symbols here).
        t.Flush(&w);
        for (; pos < stop; pos += std::min(kLiteralBlockBytes, stop - pos)) {
          PutLiteralBlock(buf + pos, std::min(kLiteralBlockBytes, stop - pos), &w);
        }
        ++next_range;
        continue;
      }
      stretch_end = std::min(end, history + r.begin);
    }
    size_t misses = 0;  // positions searched in a row without a match
    while (pos < stretch_end) {
      if (t.count >= kBlockSymbols - 2) t.Flush(&w);
      const size_t max_len = std::min(kMaxMatch, stretch_end - pos);
      if (max_len < kMinMatch || pos + kMinMatch > end) {
        t.Literal(buf[pos++]);
        continue;
      }
      uint32_t hash = Hash4(buf + pos);
      Tables::Found m = t.Find(buf, pos, max_len, hash);
      t.InsertHashed(pos, hash);
      // Lazy evaluation: a longer match starting at the next byte wins over this one (and so on,
      // while each is short). The look ahead is shallow (kLazyChain), for matches under 12 bytes:
      // against a full search for matches under 8, the desktop keyframe's LZ time is 5-9 % less
      // for 0.07 % more bytes, and the text scenes and recorded first frames are 0.5-1.2 % smaller.
      while (m.dist != 0 && m.len < kLazyMatch && pos + 1 < stretch_end && pos + 1 + kMinMatch <= end) {
        hash = Hash4(buf + pos + 1);
        const Tables::Found next = t.Find(buf, pos + 1, std::min(kMaxMatch, stretch_end - pos - 1), hash, kLazyChain);
        if (next.len <= m.len) break;
        if (t.count >= kBlockSymbols - 2) t.Flush(&w);
        t.Literal(buf[pos++]);
        t.InsertHashed(pos, hash);
        m = next;
      }
      if (m.dist == 0) {
        t.Literal(buf[pos++]);
        // Long stretches without a match (a photo's or gradient's 8-bit indices): search only
        // every second, third... position, as LZ4 does; the bytes skipped go as literals. On a
        // video frame this is ~30 % less search work for 0.1 % more bytes.
        const size_t skip = std::min(kMaxSkip, ++misses >> kSkipShift);
        for (size_t k = 0; k < skip && pos < stretch_end; ++k) {
          if (t.count >= kBlockSymbols - 2) t.Flush(&w);
          t.Literal(buf[pos++]);
        }
        continue;
      }
      misses = 0;
      const size_t best_len = m.len;
      t.Match(best_len, m.dist);
      const size_t insert_end = std::min(pos + (best_len <= kMaxInsertMatch ? best_len : 8), end - kMinMatch + 1);
      for (size_t p = pos + 1; p < insert_end; ++p) t.Insert(buf, p);
      pos += best_len;
    }
  }
  t.Flush(&w);
  deflate_bits::PutSyncMarker(&w);
  out->insert(out->end(), t.staging.get(), w.p);
}

}  // namespace tilecast
