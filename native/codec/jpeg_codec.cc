#include "jpeg_codec.h"

#include <string>

#include "jpeg_lib.h"

namespace tilecast {
namespace {

// One compressor and one decompressor per thread, made on first use.
//
// A handle is dropped (destroyed, re-made on next use) after any failure: when
// TurboJPEG bails out of a header or scan it leaves the libjpeg state machine
// mid-stream (global_state past DSTATE_START, marker reader and Huffman state
// half-filled), and the next image on that handle is then read as a
// continuation of the bad one ("Bogus DQT index 15"). Since the handle is per
// thread, not per decoder, one hostile JPEG op would break JPEG decoding for
// every viewer whose work lands on that thread.
struct ThreadHandles {
  const jpeg::Lib* lib = nullptr;
  jpeg::Handle compress = nullptr;
  jpeg::Handle decompress = nullptr;
  std::vector<uint8_t> scratch;  // tj3Compress8 output (reused)
  void Drop(jpeg::Handle* h) {
    if (lib && *h) lib->tj3Destroy(*h);
    *h = nullptr;
  }
  ~ThreadHandles() {
    Drop(&compress);
    Drop(&decompress);
  }
};

thread_local ThreadHandles t_handles;

Status Unavailable(const std::string& why) { return Status::Error(ErrorCode::kUnavailable, "JPEG codec unavailable: " + why); }

}  // namespace

bool JpegAvailable(std::string* why) { return jpeg::Get(why) != nullptr; }

Status EncodeJpeg(const FrameView& frame, const Rect& r, const JpegParams& params, std::vector<uint8_t>* out) {
  std::string why;
  const jpeg::Lib* l = jpeg::Get(&why);
  if (!l) return Unavailable(why);
  if (params.quality < 1 || params.quality > 100) return Status::Error(ErrorCode::kInvalidArgument, "JPEG quality must be 1..100");
  ThreadHandles& t = t_handles;
  t.lib = l;
  if (!t.compress && !(t.compress = l->tj3Init(jpeg::kInitCompress))) return Unavailable("tj3Init failed");
  const int samp = params.subsampling == ChromaSubsampling::k444 ? jpeg::kSamp444 : jpeg::kSamp420;
  if (l->tj3Set(t.compress, jpeg::kQuality, params.quality) != 0 || l->tj3Set(t.compress, jpeg::kSubsamp, samp) != 0 ||
      l->tj3Set(t.compress, jpeg::kOptimize, params.optimize_huffman ? 1 : 0) != 0) {
    Status s = Status::Error(ErrorCode::kInternal, std::string("JPEG parameters refused: ") + l->tj3GetErrorStr(t.compress));
    t.Drop(&t.compress);
    return s;
  }
  unsigned char* buf = nullptr;  // TurboJPEG allocates; freed below
  size_t size = 0;
  const int rc = l->tj3Compress8(t.compress, frame.pixel(r.x, r.y), static_cast<int>(r.w), static_cast<int>(frame.stride),
                                 static_cast<int>(r.h), jpeg::kPfBgrx, &buf, &size);
  if (rc != 0) {
    if (buf) l->tj3Free(buf);
    Status s = Status::Error(ErrorCode::kInternal, std::string("JPEG encode failed: ") + l->tj3GetErrorStr(t.compress));
    t.Drop(&t.compress);
    return s;
  }
  out->insert(out->end(), buf, buf + size);
  l->tj3Free(buf);
  return Status::Ok();
}

namespace {

Status DecodeWith(const jpeg::Lib* l, jpeg::Handle d, const uint8_t* data, size_t len, uint8_t* dst, size_t pitch,
                  uint32_t w, uint32_t h) {
  if (len < 4 || data[0] != 0xFF || data[1] != 0xD8) return Status::Error(ErrorCode::kProtocol, "JPEG op: not a JPEG image");
  if (l->tj3DecompressHeader(d, data, len) != 0) {
    return Status::Error(ErrorCode::kProtocol, std::string("JPEG op: bad header: ") + l->tj3GetErrorStr(d));
  }
  const int jw = l->tj3Get(d, jpeg::kJpegWidth), jh = l->tj3Get(d, jpeg::kJpegHeight);
  if (jw != static_cast<int>(w) || jh != static_cast<int>(h)) {
    return Status::Error(ErrorCode::kProtocol, "JPEG op: image is " + std::to_string(jw) + "x" + std::to_string(jh) +
                                                   ", rect is " + std::to_string(w) + "x" + std::to_string(h));
  }
  const int cs = l->tj3Get(d, jpeg::kColorspace);
  if (l->tj3Get(d, jpeg::kPrecision) != 8 || l->tj3Get(d, jpeg::kProgressive) != 0 ||
      l->tj3Get(d, jpeg::kArithmetic) != 0 || l->tj3Get(d, jpeg::kLossless) != 0 ||
      (cs != jpeg::kCsYCbCr && cs != jpeg::kCsGray)) {
    return Status::Error(ErrorCode::kProtocol, "JPEG op: only baseline 8-bit YCbCr/grey JPEG is allowed");
  }
  if (l->tj3Decompress8(d, data, len, dst, static_cast<int>(pitch), jpeg::kPfBgrx) != 0) {
    return Status::Error(ErrorCode::kProtocol, std::string("JPEG op: ") + l->tj3GetErrorStr(d));
  }
  return Status::Ok();
}

}  // namespace

Status DecodeJpeg(const uint8_t* data, size_t len, uint8_t* dst, size_t pitch, uint32_t w, uint32_t h) {
  std::string why;
  const jpeg::Lib* l = jpeg::Get(&why);
  if (!l) return Unavailable(why);
  ThreadHandles& t = t_handles;
  t.lib = l;
  if (!t.decompress) {
    if (!(t.decompress = l->tj3Init(jpeg::kInitDecompress))) return Unavailable("tj3Init failed");
    // Hostile data: stop at the first warning, never buffer a whole image in memory.
    if (l->tj3Set(t.decompress, jpeg::kStopOnWarning, 1) != 0 || l->tj3Set(t.decompress, jpeg::kScanLimit, 1) != 0 ||
        l->tj3Set(t.decompress, jpeg::kMaxMemory, 64) != 0) {
      t.Drop(&t.decompress);
      return Status::Error(ErrorCode::kInternal, "JPEG decoder limits refused");
    }
  }
  Status s = DecodeWith(l, t.decompress, data, len, dst, pitch, w, h);
  // Whatever failed, the handle's state is suspect: start the next image on a fresh one.
  if (!s.ok()) t.Drop(&t.decompress);
  return s;
}

}  // namespace tilecast
