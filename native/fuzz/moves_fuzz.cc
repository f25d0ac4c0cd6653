// libFuzzer target: move/copy ordering end to end. Fuzzed frame edits (fills,
// window drags, scrolls, photo-like and text-like content) and damage go
// through the ViewerEncoder a live session uses (native/codec/viewer_encoder.h:
// FindMoves against the SentFrame -> ApplyCopies -> Residual -> TileEncoder ->
// Commit), and the update is applied with TileDecoder. Invariants (abort = a finding):
//   - every step encodes and decodes without error;
//   - copies lie inside the frame;
//   - the decoder's framebuffer equals the frame exactly (B, G, R; alpha 255)
//     in every tile the SentFrame does not flag lossy, and everywhere when
//     the lossy path is off (the encoder's guarantee);
//   - the SentFrame's pixels equal the frame (B, G, R) after each commit.
//
// Input (little-endian; missing bytes read as zero):
//   u8  config    bits 0-1 tile size 16/32/64/64, bit 2 lossy path on (JPEG for
//                 photo-like tiles), bits 3-4 extra stride (pixels), bit 5 garbage alpha,
//                 bit 6 share screens through a ScreenStore (every step's damage is complete)
//   u16 width, u16 height (folded into 1..kMaxSide)
//   u32 seed      initial content
//   then (after a first keyframe of that content) up to kMaxSteps-1 steps: u8 step (bit 0 keyframe, bits 1-3 edits-1),
//   and per edit: u8 kind, rect (4 x u16, folded into the frame), u32 param
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../codec/jpeg_codec.h"
#include "../codec/tile_decoder.h"
#include "../codec/viewer_encoder.h"
#include "fuzz_util.h"

using namespace tilecast;

namespace {
constexpr uint32_t kMaxSide = 256;
constexpr uint32_t kMaxSteps = 8;

struct Frame {
  uint32_t w = 0, h = 0;
  size_t stride = 0;
  std::vector<uint8_t> bytes;
  uint8_t* px(uint32_t x, uint32_t y) { return &bytes[y * stride + static_cast<size_t>(x) * 4]; }
  const uint8_t* px(uint32_t x, uint32_t y) const { return &bytes[y * stride + static_cast<size_t>(x) * 4]; }
  FrameView view() const { return FrameView{bytes.data(), w, h, stride}; }
};

uint32_t Next(uint32_t* s) {  // xorshift32; never stuck at zero
  uint32_t x = *s ? *s : 0x9E3779B9u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

void Put(Frame& f, uint32_t x, uint32_t y, uint32_t bgr, uint8_t alpha) {
  uint8_t* p = f.px(x, y);
  p[0] = static_cast<uint8_t>(bgr);
  p[1] = static_cast<uint8_t>(bgr >> 8);
  p[2] = static_cast<uint8_t>(bgr >> 16);
  p[3] = alpha;
}

Rect FoldRect(tcfuzz::Input& in, uint32_t w, uint32_t h) {
  const uint32_t x = in.u16() % w, y = in.u16() % h;
  const uint32_t rw = 1 + in.u16() % (w - x), rh = 1 + in.u16() % (h - y);
  return Rect{x, y, rw, rh};
}

// Text-like: light background, dark strokes in 16-pixel lines.
void FillText(Frame& f, const Rect& r, uint32_t seed, bool garbage_alpha) {
  uint32_t s = seed;
  for (uint32_t y = r.y; y < r.y + r.h; ++y) {
    for (uint32_t x = r.x; x < r.x + r.w; ++x) {
      const bool ink = (y % 16) > 3 && (y % 16) < 13 && (x % 9) < 6 && Next(&s) % 3 == 0;
      Put(f, x, y, ink ? (Next(&s) % 4) * 0x282828 : 0xF8F8F8, garbage_alpha ? static_cast<uint8_t>(Next(&s)) : 0xFF);
    }
  }
}

// Photo-like: a smooth field with a little noise (what LooksPhotographic wants).
void FillPhoto(Frame& f, const Rect& r, uint32_t seed, bool garbage_alpha) {
  uint32_t s = seed;
  const uint32_t fx = 1 + seed % 5, fy = 1 + (seed >> 8) % 5;
  for (uint32_t y = r.y; y < r.y + r.h; ++y) {
    for (uint32_t x = r.x; x < r.x + r.w; ++x) {
      const uint32_t n = Next(&s);
      const uint32_t b = (x * fx + (n & 7)) & 0xFF, g = (y * fy + ((n >> 3) & 7)) & 0xFF, rr = ((x + y) / 2 + ((n >> 6) & 7)) & 0xFF;
      Put(f, x, y, b | (g << 8) | (rr << 16), garbage_alpha ? static_cast<uint8_t>(n >> 24) : 0xFF);
    }
  }
}

// Moves the pixels of `src` (clipped so both rects fit) by (dx, dy), as a drag or a scroll.
Rect Move(Frame& f, const Rect& src, int dx, int dy) {
  int64_t x0 = src.x, y0 = src.y, x1 = static_cast<int64_t>(src.x) + src.w, y1 = static_cast<int64_t>(src.y) + src.h;
  // Clip the source so the destination stays inside the frame.
  x0 = std::max<int64_t>(x0, -dx);
  y0 = std::max<int64_t>(y0, -dy);
  x1 = std::min<int64_t>(x1, static_cast<int64_t>(f.w) - dx);
  y1 = std::min<int64_t>(y1, static_cast<int64_t>(f.h) - dy);
  if (x1 <= x0 || y1 <= y0) return Rect{};
  const Frame snap = f;
  for (int64_t y = y0; y < y1; ++y) {
    std::memcpy(f.px(static_cast<uint32_t>(x0 + dx), static_cast<uint32_t>(y + dy)),
                snap.px(static_cast<uint32_t>(x0), static_cast<uint32_t>(y)), static_cast<size_t>(x1 - x0) * 4);
  }
  return Rect{static_cast<uint32_t>(x0 + dx), static_cast<uint32_t>(y0 + dy), static_cast<uint32_t>(x1 - x0),
              static_cast<uint32_t>(y1 - y0)};
}

std::string RectStr(const Rect& r) {
  return std::to_string(r.w) + "x" + std::to_string(r.h) + "+" + std::to_string(r.x) + "+" + std::to_string(r.y);
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tcfuzz::InitJpeg();
  std::string why;
  if (!JpegAvailable(&why)) std::fprintf(stderr, "moves_fuzz: no JPEG codec, the lossy path is off (%s)\n", why.c_str());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool have_jpeg = JpegAvailable(nullptr);
  tcfuzz::Input in(data, size);
  const uint8_t cfg = in.u8();
  static const uint32_t kTiles[4] = {16, 32, 64, 64};
  const uint32_t tile = kTiles[cfg & 3];
  const bool lossy_on = (cfg & 4) != 0 && have_jpeg;
  const uint32_t pad = (cfg >> 3) & 3;
  const bool garbage_alpha = (cfg & 32) != 0;
  Frame f;
  f.w = 1 + in.u16() % kMaxSide;
  f.h = 1 + in.u16() % kMaxSide;
  f.stride = (static_cast<size_t>(f.w) + pad) * 4;
  f.bytes.assign(f.stride * f.h, 0xA5);  // padding past each row stays garbage
  const uint32_t seed = in.u32();
  FillText(f, Rect{0, 0, f.w, f.h}, seed, garbage_alpha);
  if (seed & 1) FillPhoto(f, Rect{f.w / 4, f.h / 4, (f.w + 1) / 2, (f.h + 1) / 2}, seed, garbage_alpha);

  const uint32_t tiles_x = (f.w + tile - 1) / tile, tiles_y = (f.h + tile - 1) / tile;

  const bool share = (cfg & 64) != 0;
  auto store = share ? std::make_shared<ScreenStore>() : nullptr;
  ViewerEncoder enc(tile, 6, 1, store);
  ViewerEncoder other(tile, 6, 1, store);  // a second viewer on the store: screens are shared from two on
  TileDecoder dec;
  std::vector<uint8_t> fb(static_cast<size_t>(f.w) * f.h * 4);
  const Framebuffer out{fb.data(), f.w, f.h};
  ClearFramebuffer(out);

  for (uint32_t step = 0; step < kMaxSteps && (step == 0 || !in.empty()); ++step) {
    const uint8_t sb = step == 0 ? 1 : in.u8();  // step 0 is the first full frame
    bool keyframe = step == 0 || (sb & 1) != 0;
    const uint32_t edits = step == 0 ? 0 : 1 + ((sb >> 1) & 7);
    std::vector<Rect> damage;
    for (uint32_t e = 0; e < edits; ++e) {
      const uint8_t kind = in.u8();
      const Rect r = FoldRect(in, f.w, f.h);
      const uint32_t param = in.u32();
      switch (kind % 6) {
        case 0:  // solid fill
          for (uint32_t y = r.y; y < r.y + r.h; ++y)
            for (uint32_t x = r.x; x < r.x + r.w; ++x) Put(f, x, y, param & 0xFFFFFF, garbage_alpha ? param >> 24 : 0xFF);
          damage.push_back(r);
          break;
        case 1: {  // drag: r moves by (dx, dy), both in -128..127
          const Rect d = Move(f, r, static_cast<int8_t>(param), static_cast<int8_t>(param >> 8));
          if (d.w) damage.push_back(d);
          break;
        }
        case 2: {  // scroll the content of r vertically (or horizontally) by up to 128 px, exposing new content
          const int amount = static_cast<int8_t>(param);
          const bool horizontal = (param >> 8) & 1;
          const uint32_t a = static_cast<uint32_t>(amount < 0 ? -amount : amount);
          const uint32_t extent = horizontal ? r.w : r.h;
          Rect exposed = r;
          if (a < extent) {
            Rect src = r;  // the part of r that stays visible, before the move
            if (horizontal) {
              src.w -= a;
              if (amount < 0) src.x += a;
              exposed = Rect{amount < 0 ? r.x + r.w - a : r.x, r.y, a, r.h};
            } else {
              src.h -= a;
              if (amount < 0) src.y += a;
              exposed = Rect{r.x, amount < 0 ? r.y + r.h - a : r.y, r.w, a};
            }
            Move(f, src, horizontal ? amount : 0, horizontal ? 0 : amount);
          }
          if (exposed.w && exposed.h) FillText(f, exposed, param, garbage_alpha);
          damage.push_back(r);
          break;
        }
        case 3: FillPhoto(f, r, param, garbage_alpha); damage.push_back(r); break;
        case 4: FillText(f, r, param, garbage_alpha); damage.push_back(r); break;
        default: damage.push_back(r); break;  // damage without change
      }
    }

    ViewerEncodeRequest req;
    req.frame = f.view();
    req.damage = damage;
    req.keyframe = keyframe;
    req.detect_moves = true;
    if (lossy_on) req.lossy_mask.assign(static_cast<size_t>(tiles_x) * tiles_y, 1);  // history allows lossy everywhere; content decides
    req.jpeg.quality = 70;
    req.generation = share ? step + 1 : 0;
    req.complete = share;  // all of this step's damage is given
    ViewerUpdate vu;
    Status s = enc.Encode(std::move(req), &vu);
    FUZZ_CHECK(s.ok(), "step " + std::to_string(step) + ": encode failed: " + s.message());
    const std::vector<CopyOp>& copies = vu.copies;
    for (const CopyOp& c : copies) {
      FUZZ_CHECK(c.dst.w && c.dst.h && c.dst.x + c.dst.w <= f.w && c.dst.y + c.dst.h <= f.h &&
                     c.src_x + c.dst.w <= f.w && c.src_y + c.dst.h <= f.h,
                 "copy " + RectStr(c.dst) + " from " + std::to_string(c.src_x) + "," + std::to_string(c.src_y) +
                     " outside the frame");
    }
    const EncodedUpdate& u = vu.update;
    s = dec.Apply(out, u.stream.data(), u.stream.size(), u.op_count, vu.keyframe, nullptr, u.images.data(), u.images.size());
    FUZZ_CHECK(s.ok(), "step " + std::to_string(step) + ": decode failed: " + ErrorCodeName(s.code()) + " " + s.message() +
                           " (" + std::to_string(copies.size()) + " copies)");

    const SentFrame& sent = enc.sent_frame();
    const FrameView sv = sent.view();
    const std::vector<uint8_t>& lossy_tiles = sent.lossy_tiles();
    for (uint32_t y = 0; y < f.h; ++y) {
      for (uint32_t x = 0; x < f.w; ++x) {
        const uint8_t* want = f.px(x, y);
        const uint8_t* got = &fb[(static_cast<size_t>(y) * f.w + x) * 4];
        const uint8_t* kept = sv.pixel(x, y);
        auto where = [&] { return "step " + std::to_string(step) + " pixel " + std::to_string(x) + "," + std::to_string(y); };
        if (got[3] != 0xFF) tcfuzz::Fail(__FILE__, __LINE__, where() + ": alpha " + std::to_string(got[3]));
        if (kept[0] != want[0] || kept[1] != want[1] || kept[2] != want[2]) {
          tcfuzz::Fail(__FILE__, __LINE__, where() + ": the SentFrame differs from the frame");
        }
        if (lossy_tiles[(y / tile) * tiles_x + x / tile]) continue;
        if (got[0] != want[0] || got[1] != want[1] || got[2] != want[2]) {
          tcfuzz::Fail(__FILE__, __LINE__,
                       where() + " (tile not lossy): decoded " + std::to_string(got[0]) + "," + std::to_string(got[1]) +
                           "," + std::to_string(got[2]) + " want " + std::to_string(want[0]) + "," +
                           std::to_string(want[1]) + "," + std::to_string(want[2]) + " (" +
                           std::to_string(copies.size()) + " copies this step)");
        }
      }
    }
  }
  return 0;
}
