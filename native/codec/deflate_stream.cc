#include "deflate_stream.h"

#include "literal_blocks.h"
#include "../util/thread_pool.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace tilecast {
namespace {
constexpr size_t kStagingBytes = 64 * 1024;
constexpr size_t kOutChunk = 64 * 1024;
}  // namespace

DeflateStream::DeflateStream(int level) : level_(level) {
  init_ok_ = deflateInit2(&zs_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

DeflateStream::~DeflateStream() {
  if (init_ok_) deflateEnd(&zs_);
}

Status DeflateStream::Reset() {
  zlib_pending_ = literal_tail_ = false;
  fresh_ = true;
  if (!init_ok_ || deflateReset(&zs_) != Z_OK) return Status::Error(ErrorCode::kInternal, "deflateReset failed");
  return Status::Ok();
}

Status DeflateStream::Run(const uint8_t* data, size_t len, int flush, std::vector<uint8_t>* out) {
  if (!init_ok_) return Status::Error(ErrorCode::kInternal, "deflate stream failed to initialise");
  // zlib counts in uInt; feed very large inputs in pieces.
  do {
    const size_t piece = std::min<size_t>(len, std::numeric_limits<uInt>::max());
    zs_.next_in = const_cast<Bytef*>(data);
    zs_.avail_in = static_cast<uInt>(piece);
    const int piece_flush = piece == len ? flush : Z_NO_FLUSH;
    for (;;) {
      const size_t used = out->size();
      const size_t room = std::max<size_t>(kOutChunk, deflateBound(&zs_, zs_.avail_in) + 16);
      out->resize(used + room);
      zs_.next_out = out->data() + used;
      zs_.avail_out = static_cast<uInt>(room);
      const int rc = deflate(&zs_, piece_flush);
      out->resize(used + (room - zs_.avail_out));
      if (rc != Z_OK && rc != Z_BUF_ERROR) return Status::Error(ErrorCode::kInternal, "deflate failed");
      // Done when input is consumed and deflate did not fill the buffer (no pending output).
      if (zs_.avail_in == 0 && zs_.avail_out != 0) break;
    }
    data += piece;
    len -= piece;
  } while (len > 0);
  return Status::Ok();
}

Status DeflateStream::SetLevel(int level, std::vector<uint8_t>* out) {
  if (!init_ok_) return Status::Error(ErrorCode::kInternal, "deflate stream failed to initialise");
  if (level == level_) return Status::Ok();
  // deflateParams may flush pending input as a block: give it room, keep what it writes.
  const size_t used = out->size();
  out->resize(used + 64);
  zs_.next_in = nullptr;
  zs_.avail_in = 0;
  zs_.next_out = out->data() + used;
  zs_.avail_out = 64;
  const int rc = deflateParams(&zs_, level, Z_DEFAULT_STRATEGY);
  out->resize(used + (64 - zs_.avail_out));
  if (out->size() > used) zlib_pending_ = true;  // a block ended mid-byte: flush before literal blocks
  if (rc != Z_OK) return Status::Error(ErrorCode::kInternal, "deflateParams failed");
  level_ = level;
  return Status::Ok();
}

Status DeflateStream::Write(const uint8_t* data, size_t len, std::vector<uint8_t>* out) {
  if (len == 0) return Status::Ok();
  zlib_pending_ = true;
  literal_tail_ = false;
  fresh_ = false;
  return Run(data, len, Z_NO_FLUSH, out);
}

Status DeflateStream::WriteLiterals(const uint8_t* data, size_t len, std::vector<uint8_t>* out) {
  if (len == 0) return Status::Ok();
  if (!init_ok_) return Status::Error(ErrorCode::kInternal, "deflate stream failed to initialise");
  // Literal blocks start on a byte boundary: what zlib holds goes out first with a sync flush.
  if (zlib_pending_) TC_RETURN_IF_ERROR(Run(nullptr, 0, Z_SYNC_FLUSH, out));
  zlib_pending_ = false;
  AppendLiteralBlocks(data, len, out);
  return AfterOwnBlocks(data, len);
}

Status DeflateStream::WriteFreshLz(const uint8_t* data, size_t len, const std::vector<ByteRange>& literal_only,
                                   unsigned max_threads, LzScratch* scratch, std::vector<uint8_t>* out) {
  if (len == 0) return Status::Ok();
  if (!init_ok_) return Status::Error(ErrorCode::kInternal, "deflate stream failed to initialise");
  if (!fresh_) return Status::Error(ErrorCode::kInternal, "LZ blocks only start a stream");
  const size_t pieces = (len + kLzPieceBytes - 1) / kLzPieceBytes;
  // One coder a thread (each ~1.5 MB of tables and staging, kept in the scratch for the next
  // keyframe): worker w codes pieces w, w + workers, ... A piece's bytes do not depend on which coder
  // codes it. The pieces' buffers are kept too: fresh ones this size come from mmap and fault every
  // page in again (~1 ms of a photographic keyframe).
  const size_t workers = std::max<size_t>(1, std::min<size_t>(pieces, max_threads));
  std::vector<std::unique_ptr<LzCoder>>& coders = scratch->coders;
  while (coders.size() < workers) coders.push_back(std::make_unique<LzCoder>());
  std::vector<std::vector<uint8_t>>& coded = scratch->coded;
  if (coded.size() < pieces) coded.resize(pieces);
  ThreadPool::Shared().ParallelFor(workers, max_threads, [&](size_t w) {
    for (size_t k = w; k < pieces; k += workers) {
      const size_t begin = k * kLzPieceBytes, end = std::min(len, begin + kLzPieceBytes);
      const size_t history = std::min<size_t>(begin, 32 * 1024);
      std::vector<ByteRange> ranges;  // this piece's part of the literal-only ranges, from its start
      for (const ByteRange& r : literal_only) {
        if (r.end > begin && r.begin < end) ranges.push_back(ByteRange{std::max(r.begin, begin) - begin, std::min(r.end, end) - begin});
      }
      coded[k].clear();
      coders[w]->Append(data + begin - history, history, end - begin, ranges, &coded[k]);
    }
  });
  for (size_t k = 0; k < pieces; ++k) out->insert(out->end(), coded[k].begin(), coded[k].end());
  return AfterOwnBlocks(data, len);
}

Status DeflateStream::AfterOwnBlocks(const uint8_t* data, size_t len) {
  literal_tail_ = true;
  fresh_ = false;
  // The decoder's window now ends with these bytes; zlib's must too, or the distances of its next
  // matches would point at the wrong bytes. Raw deflate allows this after a completed flush.
  const size_t keep = std::min<size_t>(len, 32 * 1024);
  if (deflateSetDictionary(&zs_, data + len - keep, static_cast<uInt>(keep)) != Z_OK) {
    return Status::Error(ErrorCode::kInternal, "deflateSetDictionary failed after our own blocks");
  }
  return Status::Ok();
}

Status DeflateStream::Finish(std::vector<uint8_t>* out) {
  const bool literal_tail = literal_tail_;
  literal_tail_ = false;
  // Literal blocks written last in this update already end in the marker, and zlib has nothing.
  if (literal_tail && !zlib_pending_) return Status::Ok();
  const size_t before = out->size();
  TC_RETURN_IF_ERROR(Run(nullptr, 0, Z_SYNC_FLUSH, out));
  zlib_pending_ = false;
  // With nothing written since the last sync flush, zlib emits nothing (no progress possible), but
  // every update must end in the sync-flush marker (an update whose tiles all match what the viewer
  // has carries no ops). The stream is byte-aligned after that flush, so an empty stored block
  // (header byte, LEN 0, NLEN 0xFFFF) is the same marker zlib would have written.
  if (out->size() == before) {
    static constexpr uint8_t kEmptyStoredBlock[] = {0x00, 0x00, 0x00, 0xFF, 0xFF};
    out->insert(out->end(), std::begin(kEmptyStoredBlock), std::end(kEmptyStoredBlock));
  }
  return Status::Ok();
}

InflateStream::InflateStream() : staging_(kStagingBytes) {
  init_ok_ = inflateInit2(&zs_, -15) == Z_OK;
}

InflateStream::~InflateStream() {
  if (init_ok_) inflateEnd(&zs_);
}

Status InflateStream::Reset() {
  staged_begin_ = staged_end_ = 0;
  if (!init_ok_ || inflateReset(&zs_) != Z_OK) return Status::Error(ErrorCode::kInternal, "inflateReset failed");
  return Status::Ok();
}

void InflateStream::Begin(const uint8_t* data, size_t len) {
  zs_.next_in = const_cast<Bytef*>(data);
  zs_.avail_in = static_cast<uInt>(len);  // caller bounds len (messages are far below 4 GiB)
  staged_begin_ = staged_end_ = 0;
}

Status InflateStream::Fill() {
  zs_.next_out = staging_.data();
  zs_.avail_out = static_cast<uInt>(staging_.size());
  const int rc = inflate(&zs_, Z_SYNC_FLUSH);
  staged_begin_ = 0;
  staged_end_ = staging_.size() - zs_.avail_out;
  if (rc == Z_STREAM_END) return Status::Error(ErrorCode::kCorruptStream, "deflate stream ended (final block) mid-session");
  if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
    return Status::Error(ErrorCode::kCorruptStream, std::string("corrupt deflate data: ") + (zs_.msg ? zs_.msg : "?"));
  }
  if (rc == Z_MEM_ERROR) return Status::Error(ErrorCode::kInternal, "inflate out of memory");
  if (staged_end_ == 0) return Status::Error(ErrorCode::kTruncated, "update data ended before its ops were complete");
  return Status::Ok();
}

Status InflateStream::Read(uint8_t* dst, size_t n) {
  while (n > 0) {
    if (staged_begin_ == staged_end_) TC_RETURN_IF_ERROR(Fill());
    const size_t take = std::min(n, staged_end_ - staged_begin_);
    std::memcpy(dst, staging_.data() + staged_begin_, take);
    staged_begin_ += take;
    dst += take;
    n -= take;
  }
  return Status::Ok();
}

Status InflateStream::End() {
  if (staged_begin_ != staged_end_) return Status::Error(ErrorCode::kProtocol, "update holds more data than its ops use");
  // Let inflate consume what is left (the sync-flush marker): it must yield nothing.
  uint8_t probe;
  zs_.next_out = &probe;
  zs_.avail_out = 1;
  const int rc = inflate(&zs_, Z_SYNC_FLUSH);
  if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_END) {
    return Status::Error(ErrorCode::kCorruptStream, "corrupt deflate data at the end of an update");
  }
  if (zs_.avail_out == 0) return Status::Error(ErrorCode::kProtocol, "update holds more data than its ops use");
  if (zs_.avail_in != 0) return Status::Error(ErrorCode::kProtocol, "update has trailing compressed bytes");
  return Status::Ok();
}

}  // namespace tilecast
