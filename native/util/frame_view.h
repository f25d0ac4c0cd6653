// FrameView: a borrowed BGRA8 frame. Rows are `stride` bytes apart (stride >= width*4).
// Pixels are treated as opaque: the 4th byte is padding and is never transmitted.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tilecast {

struct FrameView {
  const uint8_t* data = nullptr;
  uint32_t width = 0;
  uint32_t height = 0;
  size_t stride = 0;

  const uint8_t* row(uint32_t y) const { return data + static_cast<size_t>(y) * stride; }
  const uint8_t* pixel(uint32_t x, uint32_t y) const { return row(y) + static_cast<size_t>(x) * 4; }
};

// Axis-aligned rectangle in pixels.
struct Rect {
  uint32_t x = 0, y = 0, w = 0, h = 0;
  bool operator==(const Rect& o) const { return x == o.x && y == o.y && w == o.w && h == o.h; }
};

// Hard limits shared by capture, detection, encoding and decoding. A screen larger
// than this is refused up front so no size computed from it can overflow.
constexpr uint32_t kMaxDimension = 16384;
constexpr uint32_t kMinTileSize = 16;
constexpr uint32_t kMaxTileSize = 256;

}  // namespace tilecast
