// Helpers for native tests: deterministic random frames and screen-like content.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "../util/frame_view.h"

struct TestFrame {
  uint32_t width, height;
  size_t stride;
  std::vector<uint8_t> bytes;
  tilecast::FrameView view() const { return {bytes.data(), width, height, stride}; }
  uint8_t* px(uint32_t x, uint32_t y) { return &bytes[y * stride + x * 4]; }
};

inline TestFrame MakeFrame(uint32_t w, uint32_t h, size_t extra_stride = 0) {
  TestFrame f{w, h, static_cast<size_t>(w) * 4 + extra_stride, {}};
  f.bytes.assign(f.stride * h, 0);
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) f.px(x, y)[3] = 0xFF;
  return f;
}

// Random pixels drawn from `colors` distinct colours (0 = fully random).
inline void FillRandom(TestFrame& f, std::mt19937& rng, uint32_t colors) {
  std::vector<uint32_t> pal(colors);
  for (auto& c : pal) c = rng() & 0xFFFFFF;
  for (uint32_t y = 0; y < f.height; ++y) {
    for (uint32_t x = 0; x < f.width; ++x) {
      uint32_t c = colors ? pal[rng() % colors] : (rng() & 0xFFFFFF);
      uint8_t* p = f.px(x, y);
      p[0] = c & 0xFF;
      p[1] = (c >> 8) & 0xFF;
      p[2] = (c >> 16) & 0xFF;
      p[3] = 0xFF;
    }
  }
}

// Text-like content: light background with dark glyph-ish strokes and antialiasing.
inline void FillScreenLike(TestFrame& f, std::mt19937& rng) {
  for (uint32_t y = 0; y < f.height; ++y) {
    for (uint32_t x = 0; x < f.width; ++x) {
      uint8_t* p = f.px(x, y);
      bool toolbar = y < 24;
      uint8_t bg = toolbar ? 0xE0 : 0xFF;
      p[0] = p[1] = p[2] = bg;
      p[3] = 0xFF;
      if (!toolbar && (y % 16) > 3 && (y % 16) < 13 && (x % 9) < 6 && (rng() % 3 == 0)) {
        uint8_t v = static_cast<uint8_t>(rng() % 4 * 40);
        p[0] = p[1] = p[2] = v;
      }
    }
  }
}

// The framebuffer the decoder should hold for frame f: same BGR, alpha 255, packed.
inline std::vector<uint8_t> Packed(const TestFrame& f) {
  std::vector<uint8_t> out(static_cast<size_t>(f.width) * f.height * 4);
  for (uint32_t y = 0; y < f.height; ++y)
    for (uint32_t x = 0; x < f.width; ++x) {
      const uint8_t* s = &f.bytes[y * f.stride + x * 4];
      uint8_t* d = &out[(static_cast<size_t>(y) * f.width + x) * 4];
      d[0] = s[0]; d[1] = s[1]; d[2] = s[2]; d[3] = 0xFF;
    }
  return out;
}
