// Helpers for native codec tests: the JPEG library as the npm package ships
// it, photo-like content, a decoding viewer, and PSNR.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../codec/jpeg_codec.h"
#include "../codec/jpeg_lib.h"
#include "../codec/tile_decoder.h"
#include "../codec/tile_encoder.h"
#include "test_util.h"

namespace tilecast {

// The library ships in the npm package; the Makefile points TILECAST_TURBOJPEG at it.
inline bool HaveJpeg() {
  if (const char* p = std::getenv("TILECAST_TURBOJPEG")) jpeg::SetLibraryPaths({p});
  std::string why;
  if (JpegAvailable(&why)) return true;
  std::fprintf(stderr, "  JPEG codec unavailable: %s\n", why.c_str());
  return false;
}

// A smooth colour field with gentle noise: what a photo or a video frame looks like to the classifier.
inline void FillPhoto(TestFrame& f, Rect r, std::mt19937& rng) {
  for (uint32_t y = r.y; y < r.y + r.h; ++y) {
    for (uint32_t x = r.x; x < r.x + r.w; ++x) {
      uint8_t* p = f.px(x, y);
      p[0] = static_cast<uint8_t>(128 + 100 * std::sin(x * 0.05) + rng() % 5);
      p[1] = static_cast<uint8_t>(128 + 100 * std::cos(y * 0.04) + rng() % 5);
      p[2] = static_cast<uint8_t>((x + y) / 4 + rng() % 5);
    }
  }
}

struct Viewer {
  Viewer(uint32_t w, uint32_t h) : pixels(static_cast<size_t>(w) * h * 4), fb{nullptr, w, h} {
    fb.data = pixels.data();
    ClearFramebuffer(fb);
  }
  Status Apply(const EncodedUpdate& u, bool key) {
    return decoder.Apply(fb, u.stream.data(), u.stream.size(), u.op_count, key, nullptr, u.images.data(), u.images.size());
  }
  std::vector<uint8_t> pixels;
  Framebuffer fb;
  TileDecoder decoder;
};

inline double Psnr(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double se = 0;
  size_t n = 0;
  for (size_t i = 0; i < a.size(); i += 4) {
    for (int c = 0; c < 3; ++c, ++n) se += (a[i + c] - b[i + c]) * (a[i + c] - b[i + c]);
  }
  return se == 0 ? 99 : 10 * std::log10(255.0 * 255.0 * n / se);
}

}  // namespace tilecast
