#include "literal_blocks.h"

#include <algorithm>

#include "deflate_bits.h"

namespace tilecast {
namespace {

using deflate_bits::kEndOfBlock;
constexpr size_t kLiteralCodes = 257;  // 0..255 and end-of-block: HLIT = 257
constexpr size_t kDistanceCodes = 2;   // never used; two of length 1 keep that code complete

}  // namespace

void PutLiteralBlock(const uint8_t* data, size_t len, deflate_bits::BitWriter* w) {
  // Four histograms, summed after, so consecutive equal bytes do not wait on each other's store.
  uint32_t h[4][256] = {};
  size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    h[0][data[i]]++;
    h[1][data[i + 1]]++;
    h[2][data[i + 2]]++;
    h[3][data[i + 3]]++;
  }
  for (; i < len; ++i) h[0][data[i]]++;
  uint32_t freq[kLiteralCodes];
  for (size_t s = 0; s < 256; ++s) freq[s] = h[0][s] + h[1][s] + h[2][s] + h[3][s];
  freq[kEndOfBlock] = 1;

  uint8_t lengths[kLiteralCodes + kDistanceCodes];
  HuffmanCodeLengths(freq, kLiteralCodes, deflate_bits::kMaxCodeBits, lengths);
  lengths[kLiteralCodes] = lengths[kLiteralCodes + 1] = 1;
  uint16_t codes[kLiteralCodes];
  deflate_bits::CanonicalCodes(lengths, kLiteralCodes, codes);

  deflate_bits::PutDynamicHeader(lengths, kLiteralCodes, lengths + kLiteralCodes, kDistanceCodes, w);

  // Two symbols (at most 30 bits) per spill check: acc holds under 32 + 30 bits.
  deflate_bits::BitWriter bw = *w;
  i = 0;
  for (; i + 2 <= len; i += 2) {
    const uint8_t a = data[i], b = data[i + 1];
    bw.acc |= static_cast<uint64_t>(codes[a]) << bw.n;
    bw.n += lengths[a];
    bw.acc |= static_cast<uint64_t>(codes[b]) << bw.n;
    bw.n += lengths[b];
    if (bw.n >= 32) bw.Spill();
  }
  if (i < len) bw.Put(codes[data[i]], lengths[data[i]]);
  bw.Put(codes[kEndOfBlock], lengths[kEndOfBlock]);
  *w = bw;
}

void AppendLiteralBlocks(const uint8_t* data, size_t len, std::vector<uint8_t>* out) {
  if (len == 0) return;
  const size_t blocks = (len + kLiteralBlockBytes - 1) / kLiteralBlockBytes;
  // Worst case: 15 bits a byte, a header of at most ~600 bytes a block, the stored block.
  const size_t room = len * 2 + blocks * 640 + 16;
  const size_t start = out->size();
  out->resize(start + room);
  deflate_bits::BitWriter w{out->data() + start};
  for (size_t at = 0; at < len; at += kLiteralBlockBytes) {
    PutLiteralBlock(data + at, std::min(kLiteralBlockBytes, len - at), &w);
  }
  deflate_bits::PutSyncMarker(&w);
  out->resize(static_cast<size_t>(w.p - out->data()));
}

}  // namespace tilecast
