#include "deflate_bits.h"

#include <algorithm>
#include <cstring>

namespace tilecast {
namespace deflate_bits {
namespace {

// The order code-length code lengths are sent in (RFC 1951 3.2.7).
constexpr uint8_t kCodeLengthOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

// One run-length-coded entry of the code lengths: symbol 0..18 and its extra bits.
struct LengthSymbol {
  uint8_t sym, extra;
};

// The code lengths as symbols 0-15 (a length), 16 (repeat the previous 3-6 times), 17 (3-10
// zeros), 18 (11-138 zeros).
std::vector<LengthSymbol> RunLengthCode(const uint8_t* lengths, size_t n) {
  std::vector<LengthSymbol> out;
  for (size_t i = 0; i < n;) {
    const uint8_t cur = lengths[i];
    size_t run = 1;
    while (i + run < n && lengths[i + run] == cur) ++run;
    i += run;
    if (cur == 0) {
      while (run >= 11) {
        const size_t take = std::min<size_t>(run, 138);
        out.push_back({18, static_cast<uint8_t>(take - 11)});
        run -= take;
      }
      if (run >= 3) {
        out.push_back({17, static_cast<uint8_t>(run - 3)});
        run = 0;
      }
    } else {
      out.push_back({cur, 0});
      --run;
      while (run >= 3) {
        const size_t take = std::min<size_t>(run, 6);
        out.push_back({16, static_cast<uint8_t>(take - 3)});
        run -= take;
      }
    }
    for (; run > 0; --run) out.push_back({cur, 0});
  }
  return out;
}

}  // namespace

// Canonical codes for `lengths` (RFC 1951 3.2.2), bit-reversed because deflate sends a Huffman
// code's first bit first while BitWriter packs from the low bit.
void CanonicalCodes(const uint8_t* lengths, size_t n, uint16_t* codes) {
  uint32_t count[kMaxCodeBits + 1] = {};
  for (size_t i = 0; i < n; ++i) count[lengths[i]]++;
  count[0] = 0;
  uint32_t next[kMaxCodeBits + 2] = {};
  for (unsigned bits = 1, code = 0; bits <= kMaxCodeBits; ++bits) {
    code = (code + count[bits - 1]) << 1;
    next[bits] = code;
  }
  for (size_t i = 0; i < n; ++i) {
    const unsigned len = lengths[i];
    if (len == 0) {
      codes[i] = 0;
      continue;
    }
    uint32_t code = next[len]++, reversed = 0;
    for (unsigned b = 0; b < len; ++b, code >>= 1) reversed = (reversed << 1) | (code & 1);
    codes[i] = static_cast<uint16_t>(reversed);
  }
}

void PutDynamicHeader(const uint8_t* lit_lengths, size_t hlit, const uint8_t* dist_lengths, size_t hdist, BitWriter* w) {
  // Both codes' lengths form one sequence, run-length coded across the boundary (RFC 1951 3.2.7).
  uint8_t all[286 + 30];
  std::memcpy(all, lit_lengths, hlit);
  std::memcpy(all + hlit, dist_lengths, hdist);
  const std::vector<LengthSymbol> rle = RunLengthCode(all, hlit + hdist);
  uint32_t cl_freq[19] = {};
  for (const LengthSymbol& s : rle) cl_freq[s.sym]++;
  uint8_t cl_lengths[19];
  HuffmanCodeLengths(cl_freq, 19, kMaxCodeLengthBits, cl_lengths);
  uint16_t cl_codes[19];
  CanonicalCodes(cl_lengths, 19, cl_codes);
  unsigned hclen = 19;
  while (hclen > 4 && cl_lengths[kCodeLengthOrder[hclen - 1]] == 0) --hclen;

  w->Put(0, 1);  // BFINAL = 0: the stream lives on
  w->Put(2, 2);  // BTYPE = 2: dynamic Huffman codes
  w->Put(static_cast<uint32_t>(hlit - 257), 5);
  w->Put(static_cast<uint32_t>(hdist - 1), 5);
  w->Put(hclen - 4, 4);
  for (unsigned k = 0; k < hclen; ++k) w->Put(cl_lengths[kCodeLengthOrder[k]], 3);
  for (const LengthSymbol& s : rle) {
    w->Put(cl_codes[s.sym], cl_lengths[s.sym]);
    if (s.sym == 16) w->Put(s.extra, 2);
    if (s.sym == 17) w->Put(s.extra, 3);
    if (s.sym == 18) w->Put(s.extra, 7);
  }
}

void PutSyncMarker(BitWriter* w) {
  w->Put(0, 3);
  w->Align();
  static constexpr uint8_t kMarker[] = {0x00, 0x00, 0xFF, 0xFF};
  std::memcpy(w->p, kMarker, sizeof kMarker);
  w->p += sizeof kMarker;
}

}  // namespace deflate_bits

void HuffmanCodeLengths(const uint32_t* freq, size_t n, unsigned max_bits, uint8_t* lengths) {
  std::memset(lengths, 0, n);
  std::vector<uint32_t> weight;  // of used symbols, scaled down until the code fits max_bits
  std::vector<size_t> symbol;
  for (size_t s = 0; s < n; ++s) {
    if (freq[s] == 0) continue;
    weight.push_back(freq[s]);
    symbol.push_back(s);
  }
  const size_t used = symbol.size();
  if (used == 0) return;
  if (used == 1) {  // two codes of one bit: complete, as every decoder accepts
    lengths[symbol[0]] = 1;
    lengths[symbol[0] == 0 ? 1 : 0] = 1;
    return;
  }
  std::vector<size_t> order(used);
  std::vector<uint64_t> node_weight(2 * used);
  std::vector<size_t> parent(2 * used);
  std::vector<unsigned> depth(2 * used);
  for (;;) {
    // Huffman's construction with two queues: leaves sorted by weight, then the internal nodes
    // in the order made (their weights never decrease).
    for (size_t k = 0; k < used; ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return weight[a] < weight[b]; });
    for (size_t k = 0; k < used; ++k) node_weight[k] = weight[order[k]];
    size_t next_leaf = 0, next_inner = used, made = used;
    auto take = [&]() {
      if (next_leaf < used && (next_inner == made || node_weight[next_leaf] <= node_weight[next_inner])) return next_leaf++;
      return next_inner++;
    };
    while (made < 2 * used - 1) {
      const size_t a = take(), b = take();
      node_weight[made] = node_weight[a] + node_weight[b];
      parent[a] = parent[b] = made;
      ++made;
    }
    const size_t root = made - 1;
    depth[root] = 0;
    unsigned longest = 0;
    for (size_t k = root; k-- > 0;) {
      depth[k] = depth[parent[k]] + 1;
      if (k < used) longest = std::max(longest, depth[k]);
    }
    if (longest <= max_bits) {
      for (size_t k = 0; k < used; ++k) lengths[symbol[order[k]]] = static_cast<uint8_t>(depth[k]);
      return;
    }
    // Too deep: flatten the distribution (rare symbols gain weight relative to common ones) and
    // build again. Weights stay >= 1; all equal, the depth is ceil(log2(used)), within any limit.
    for (uint32_t& wt : weight) wt = (wt >> 1) | 1;
  }
}

}  // namespace tilecast
