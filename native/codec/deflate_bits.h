// Pieces of an RFC 1951 encoder shared by the block writers that bypass zlib (literal_blocks.h,
// lz_blocks.h): LSB-first bit packing, canonical Huffman codes, and the dynamic block header.
//
// Thread: pure functions; a BitWriter belongs to one caller.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace tilecast {
namespace deflate_bits {

constexpr unsigned kMaxCodeBits = 15;        // RFC 1951's limit for the literal/length and distance codes
constexpr unsigned kMaxCodeLengthBits = 7;   // and for the code-length code
constexpr uint32_t kEndOfBlock = 256;

// LSB-first bit packing into a buffer sized in advance (the caller's worst case). Hot loops work on
// a local copy (`BitWriter bw = *w; ... *w = bw;`): the compiler then keeps acc, n and p in
// registers, which it cannot for a writer reached through a pointer that the output bytes may alias.
struct BitWriter {
  uint8_t* p;
  uint64_t acc = 0;
  unsigned n = 0;  // bits in acc; below 32 between calls

  void Put(uint32_t bits, unsigned count) {
    acc |= static_cast<uint64_t>(bits) << n;
    n += count;
    if (n >= 32) Spill();
  }
  void Spill() {
    // One 4-byte store, least significant byte first (a byte at a time, each store through p
    // could alias acc and n, so the compiler reloaded them after every byte).
    const uint32_t v = static_cast<uint32_t>(acc);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    const uint8_t bytes[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                              static_cast<uint8_t>(v >> 24)};
    std::memcpy(p, bytes, 4);
#else
    std::memcpy(p, &v, 4);
#endif
    p += 4;
    acc >>= 32;
    n -= 32;
  }
  // For loops of many writes: after Settle() fewer than 8 bits wait in acc, and PutSettled then
  // writes up to 49 bits with one 8-byte store and no branch, leaving fewer than 8 again. The
  // buffer needs 8 bytes of room past the last byte written. Put and PutSettled mix freely.
  void Settle() {
    while (n >= 8) {
      *p++ = static_cast<uint8_t>(acc);
      acc >>= 8;
      n -= 8;
    }
  }
  void PutSettled(uint64_t bits, unsigned count) {
    acc |= bits << n;
    n += count;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    const uint64_t v = __builtin_bswap64(acc);
#else
    const uint64_t v = acc;
#endif
    std::memcpy(p, &v, 8);
    p += n >> 3;
    acc >>= n & ~7u;
    n &= 7;
  }
  // Pads with zero bits to a byte boundary and writes out what is left.
  void Align() {
    while (n > 0) {
      *p++ = static_cast<uint8_t>(acc);
      acc >>= 8;
      n = n > 8 ? n - 8 : 0;
    }
    acc = 0;
  }
};

// Canonical codes for `lengths` (RFC 1951 3.2.2), bit-reversed because deflate sends a Huffman
// code's first bit first while BitWriter packs from the low bit.
void CanonicalCodes(const uint8_t* lengths, size_t n, uint16_t* codes);

// Writes a non-final dynamic-Huffman block header (BFINAL 0, BTYPE 2) for the literal/length code
// `lit_lengths` (257..286 entries) and the distance code `dist_lengths` (1..30 entries).
void PutDynamicHeader(const uint8_t* lit_lengths, size_t hlit, const uint8_t* dist_lengths, size_t hdist, BitWriter* w);

// Ends a run of blocks: an empty stored block (BFINAL 0, BTYPE 0, pad to the byte, LEN 0, NLEN
// 0xFFFF), so the stream is back on a byte boundary and ends in the sync-flush marker an update
// must end in.
void PutSyncMarker(BitWriter* w);

}  // namespace deflate_bits

// Code lengths of a Huffman code for `freq` (n symbols) with no length above `max_bits`: 0 for an
// unused symbol. The code is always complete (Kraft sum exactly 1): a single used symbol gets
// length 1 and so does one unused one (n >= 2). Exposed for the tests.
void HuffmanCodeLengths(const uint32_t* freq, size_t n, unsigned max_bits, uint8_t* lengths);

}  // namespace tilecast
