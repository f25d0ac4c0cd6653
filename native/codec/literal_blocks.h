// Literal blocks: codes bytes as raw-deflate blocks (RFC 1951) of literals only, each with its
// own dynamic Huffman code, and no LZ77 matches.
//
// Why: prediction residuals of photographic tiles (PREDICTED ops) are noise to LZ77; zlib spends
// most of a keyframe's time searching them for matches it rarely finds (level 6: ~20 ns a byte).
// A per-block Huffman code gets the same size at ~2 ns a byte. The output is ordinary deflate, so
// every inflater (zlib, pako, the browser's) reads it inside the connection's stream unchanged.
//
// Thread: pure functions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "deflate_bits.h"  // HuffmanCodeLengths, which the tests reach through this header

namespace tilecast {

// Input bytes per block: each block's code fits its own statistics; its header costs ~60-90 bytes.
constexpr size_t kLiteralBlockBytes = 64 * 1024;

// Appends `len` bytes (len > 0) as non-final literal blocks, then an empty stored block. Starts
// on a byte boundary of the stream and ends on one, with the sync-flush marker (00 00 FF FF) last,
// so it may follow a zlib sync flush and be followed by one of zlib's blocks.
void AppendLiteralBlocks(const uint8_t* data, size_t len, std::vector<uint8_t>* out);

// Writes `len` bytes (at most kLiteralBlockBytes) as one non-final literal-only block wherever the
// writer is (no alignment, no marker): for coders that mix these blocks with their own.
void PutLiteralBlock(const uint8_t* data, size_t len, deflate_bits::BitWriter* w);

}  // namespace tilecast
