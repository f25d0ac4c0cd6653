// libFuzzer target: the native op-stream decoder (codec/tile_decoder.*),
// deflate, every op kind, JPEG ops and the image section, over a sequence of
// updates applied to one decoder (so the desync/keyframe rules are exercised).
//
// Input (little-endian; anything missing at the end reads as zero):
//   u16 width, u16 height          framebuffer size; 0 or > kMaxSide is folded into 1..64
//   then up to kMaxUpdates times, while input remains:
//     u8  flags                    bit 0: keyframe
//     u32 op_count                 passed as is (the decoder checks it against its limit)
//     u32 stream_len, stream bytes (clamped to what is left)
//     u32 images_len, image bytes  (clamped to what is left)
// make-corpus.js writes real encoder output in this layout.
//
// Invariants checked (abort = a finding), beyond "no crash, no sanitizer report":
//   - every pixel stays opaque (alpha 255), whatever the update did;
//   - the content cache (kCacheBudget, as make-corpus.js's sessions have)
//     never holds more than its budget, and is empty after a failed update;
//   - an accepted update counted exactly op_count ops;
//   - after any failed update, the next non-keyframe update is refused with
//     ERR_STREAM_DESYNC and leaves the framebuffer untouched (tile_decoder.h:
//     "After any error ... refuses further updates until one arrives with the
//     keyframe flag"). TILECAST_FUZZ_NO_DESYNC_CHECK=1 turns this one off, for
//     exploring past a known violation.
#include <cstdint>
#include <vector>

#include "../codec/jpeg_codec.h"
#include "../codec/tile_decoder.h"
#include "fuzz_util.h"

using namespace tilecast;

namespace {
constexpr uint32_t kMaxSide = 512;     // framebuffer at most 512x512 (1 MiB)
constexpr uint32_t kMaxUpdates = 16;
constexpr uint64_t kCacheBudget = 1 << 20;  // make-corpus.js CACHE_BYTES
bool g_desync_check = true;

// Sizes past the cap fold to small ones (fast runs); the seeds use exact sizes up to the cap.
uint32_t Side(uint32_t v) { return v == 0 || v > kMaxSide ? 1 + v % 64 : v; }

void CheckOpaque(const std::vector<uint8_t>& fb, uint32_t update) {
  for (size_t i = 3; i < fb.size(); i += 4) {
    FUZZ_CHECK(fb[i] == 0xFF, "update " + std::to_string(update) + ": pixel " + std::to_string(i / 4) +
                                  " has alpha " + std::to_string(fb[i]));
  }
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tcfuzz::InitJpeg();
  std::string why;
  if (!JpegAvailable(&why)) std::fprintf(stderr, "decoder_fuzz: JPEG ops cannot decode (%s)\n", why.c_str());
  g_desync_check = !tcfuzz::EnvFlag("TILECAST_FUZZ_NO_DESYNC_CHECK");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tcfuzz::Input in(data, size);
  const uint32_t w = Side(in.u16()), h = Side(in.u16());
  std::vector<uint8_t> pixels(static_cast<size_t>(w) * h * 4);
  const Framebuffer fb{pixels.data(), w, h};
  ClearFramebuffer(fb);
  TileDecoder dec;
  dec.SetCacheBudget(kCacheBudget);
  bool failed_before = false;
  std::vector<uint8_t> before;
  for (uint32_t u = 0; u < kMaxUpdates && !in.empty(); ++u) {
    const bool keyframe = (in.u8() & 1) != 0;
    const uint32_t op_count = in.u32();
    size_t stream_len = 0, images_len = 0;
    const uint8_t* stream = in.bytes(in.u32(), &stream_len);
    const uint8_t* images = in.bytes(in.u32(), &images_len);
    const bool expect_desync = g_desync_check && failed_before && !keyframe;
    if (expect_desync) before = pixels;
    DecodeStats stats;
    const Status s = dec.Apply(fb, stream, stream_len, op_count, keyframe, &stats, images_len ? images : nullptr, images_len);
    if (expect_desync) {
      FUZZ_CHECK(s.code() == ErrorCode::kDesync,
                 "update " + std::to_string(u) + " after a failed update, without keyframe: got " +
                     ErrorCodeName(s.code()) + " (" + s.message() + "), want ERR_STREAM_DESYNC");
      FUZZ_CHECK(pixels == before, "a refused update changed the framebuffer");
    }
    if (s.ok()) {
      uint64_t counted = 0;
      for (uint32_t c : stats.ops_by_code) counted += c;
      FUZZ_CHECK(counted == op_count, "accepted update counted " + std::to_string(counted) + " ops of " +
                                          std::to_string(op_count));
      failed_before = false;
    } else {
      FUZZ_CHECK(s.code() != ErrorCode::kOk && s.code() != ErrorCode::kInternal,
                 std::string("unexpected error code ") + ErrorCodeName(s.code()) + ": " + s.message());
      failed_before = true;
    }
    FUZZ_CHECK(dec.cache().used_bytes() <= kCacheBudget, "content cache over its budget");
    FUZZ_CHECK(s.ok() || dec.cache().size() == 0, "content cache not emptied after a failed update");
    if (!s.ok()) CheckOpaque(pixels, u);  // a failed update may have written part of its ops
  }
  CheckOpaque(pixels, kMaxUpdates);
  return 0;
}
