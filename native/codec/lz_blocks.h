// LZ blocks: our own deflate (RFC 1951) compressor for the op bytes of large updates (keyframes):
// a hash-chain match finder tuned for tile op streams, and dynamic-Huffman blocks.
//
// Why: zlib's lazy match search (levels 4-6) is most of a 1080p keyframe's time (the desktop scene:
// ~15 of ~28 ms on one core); its level 1 is faster but ~30 % larger on screens. Screen op streams
// repeat at short distances (the row above in a tile, the previous glyph), so a short hash chain
// with lazy evaluation of short matches finds nearly what zlib's 32-candidate search does, in about
// half the time. The output is ordinary deflate, read unchanged by every inflater (zlib, pako, the
// browser's), so no decoder changes.
//
// Thread: an LzCoder belongs to one caller (it keeps its tables between calls).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tilecast {

struct ByteRange {
  size_t begin, end;  // [begin, end)
};

class LzCoder {
 public:
  LzCoder();
  ~LzCoder();
  LzCoder(const LzCoder&) = delete;
  LzCoder& operator=(const LzCoder&) = delete;

  // Codes buf[history, history + len) (len > 0) as non-final blocks, then an empty stored block,
  // like AppendLiteralBlocks: it starts and ends on a byte boundary of the stream, with the
  // sync-flush marker last. Matches may reach back into buf[0, history), which must be the last
  // `history` bytes (at most 32 KiB) the decoder has already produced in this stream.
  // `literal_only` ranges (offsets from buf[history], ascending, not overlapping) are coded without
  // a match search: prediction residuals, where LZ77 finds nothing worth the time.
  // history + len must stay below 2^31 (positions are kept as int32); callers pass pieces of at most
  // kLzPieceBytes (deflate_stream.h) after 32 KiB of history.
  void Append(const uint8_t* buf, size_t history, size_t len, const std::vector<ByteRange>& literal_only,
              std::vector<uint8_t>* out);

  // Bytes its tables and staging buffer hold between calls.
  size_t RetainedBytes() const;

 private:
  struct Tables;
  std::unique_ptr<Tables> t_;
};

}  // namespace tilecast
