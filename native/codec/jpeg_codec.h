// JPEG coding of screen rects for the lossy path (op JPEG in wire_format.h).
//
// Encoding reads BGRX pixels straight from the frame (no copy) and writes a
// baseline JPEG, with the standard Huffman tables (speed first) or optimised
// ones (bytes first, when the link is the bottleneck). Decoding accepts only what the encoder produces: baseline, 8-bit,
// YCbCr or grey, exactly the size of the target rect; anything else is a
// protocol error, never a crash or an unbounded allocation (the decoded area is
// the op's rect, already checked against the framebuffer).
//
// Thread: any thread; each thread keeps its own TurboJPEG handles.
#pragma once
#include <cstdint>
#include <vector>

#include "../util/frame_view.h"
#include "../util/status.h"

namespace tilecast {

enum class ChromaSubsampling : uint8_t { k420 = 0, k444 = 1 };

struct JpegParams {
  int quality = 80;  // 1..100
  ChromaSubsampling subsampling = ChromaSubsampling::k420;
  // Optimal Huffman tables: 15-35% fewer bytes for about twice the encode time.
  bool optimize_huffman = false;
};

// Is the library there (and sane)? *why says what is missing.
bool JpegAvailable(std::string* why);

// Appends the JPEG of rect r of frame to *out.
Status EncodeJpeg(const FrameView& frame, const Rect& r, const JpegParams& params, std::vector<uint8_t>* out);

// Decodes `jpeg` into the w x h area at dst (BGRA rows `pitch` bytes apart);
// alpha bytes are set to 255.
Status DecodeJpeg(const uint8_t* jpeg, size_t len, uint8_t* dst, size_t pitch, uint32_t w, uint32_t h);

}  // namespace tilecast
