// Persistent raw-deflate streams (RFC 1951, no zlib header), one per connection
// direction. The encoder ends every update with Z_SYNC_FLUSH so the decoder can
// decode it completely while the LZ77 window (the "dictionary") carries on into
// the next update. Reset() starts a fresh stream: that is the keyframe path, used
// for a new viewer or to recover after an error.
//
// zlib comes from Node itself: node ships zlib.h among its headers and the node
// binary exports the zlib symbols, so the addon links against nothing else.
#pragma once
#include <zlib.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "../util/status.h"
#include "coding_scratch.h"
#include "lz_blocks.h"

namespace tilecast {

// Op bytes per piece of WriteFreshLz: large enough that a piece's start (32 KiB of history to hash,
// an end marker) costs little, small enough that a 1080p keyframe (~1-6 MB) splits for two cores.
constexpr size_t kLzPieceBytes = 512 * 1024;

class DeflateStream {
 public:
  explicit DeflateStream(int level);
  ~DeflateStream();
  DeflateStream(const DeflateStream&) = delete;
  DeflateStream& operator=(const DeflateStream&) = delete;

  bool ok() const { return init_ok_; }
  Status Reset();
  // Switches the compression level for what is written next (at an update's
  // start: nothing is pending then, so nothing is emitted).
  Status SetLevel(int level, std::vector<uint8_t>* out);
  // Compresses `len` bytes, appending output to `out`. Call Finish() once per update.
  Status Write(const uint8_t* data, size_t len, std::vector<uint8_t>* out);
  // Appends `len` bytes as literal-only blocks (literal_blocks.h), not through zlib's match
  // search: for data LZ77 finds nothing in (prediction residuals), at a tenth of the time.
  // zlib's window takes them in too, as the decoder's does, so later matches stay right.
  Status WriteLiterals(const uint8_t* data, size_t len, std::vector<uint8_t>* out);
  // Codes a whole update's op bytes with our own LZ coder (lz_blocks.h) instead of zlib: for large
  // keyframes, at about half zlib's time. Only right after Reset() (matches reach back no further
  // than these bytes). `literal_only` ranges (PREDICTED residuals) are coded without a match
  // search. The bytes are cut into pieces of kLzPieceBytes, coded on up to max_threads threads,
  // each piece's matches reaching back into the one before, so the output does not depend on the
  // number of threads. zlib's window takes the bytes in too, so the next update's matches stay right.
  // The coders and pieces' buffers are `scratch`'s (leased from CodingScratchPool by the caller).
  Status WriteFreshLz(const uint8_t* data, size_t len, const std::vector<ByteRange>& literal_only, unsigned max_threads,
                      LzScratch* scratch, std::vector<uint8_t>* out);
  // Sync-flushes, so everything written so far can be decoded from `out`. The update then ends
  // in the marker (00 00 FF FF), even with nothing written (or literal blocks last, which end in it).
  Status Finish(std::vector<uint8_t>* out);

 private:
  Status Run(const uint8_t* data, size_t len, int flush, std::vector<uint8_t>* out);
  // Blocks written outside zlib end in the marker; zlib's window must then end with their bytes.
  Status AfterOwnBlocks(const uint8_t* data, size_t len);
  z_stream zs_{};
  bool fresh_ = true;          // nothing written since Reset()
  bool init_ok_ = false;
  int level_;
  bool zlib_pending_ = false;  // zlib took input since its last sync flush
  bool literal_tail_ = false;  // the last thing written was literal blocks (they end in the marker)
};

// Pulls exactly the bytes an update's ops ask for out of one update's deflate data.
// Output is bounded by what callers request, so a "zip bomb" costs no memory.
class InflateStream {
 public:
  InflateStream();
  ~InflateStream();
  InflateStream(const InflateStream&) = delete;
  InflateStream& operator=(const InflateStream&) = delete;

  bool ok() const { return init_ok_; }
  Status Reset();
  // Starts decoding one update's compressed bytes (borrowed until End()).
  void Begin(const uint8_t* data, size_t len);
  // Reads exactly n bytes of decompressed data.
  Status Read(uint8_t* dst, size_t n);
  // Checks that the update's data is fully consumed and holds no extra bytes.
  Status End();

 private:
  Status Fill();
  z_stream zs_{};
  bool init_ok_ = false;
  std::vector<uint8_t> staging_;
  size_t staged_begin_ = 0, staged_end_ = 0;
};

}  // namespace tilecast
