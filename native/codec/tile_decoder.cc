#include "tile_decoder.h"

#include <cstring>
#include <string>

#include "../util/frame_view.h"
#include "jpeg_codec.h"
#include "predictor.h"

namespace tilecast {

void ClearFramebuffer(const Framebuffer& fb) {
  const size_t n = static_cast<size_t>(fb.width) * fb.height * 4;
  std::memset(fb.data, 0, n);
  for (size_t i = 3; i < n; i += 4) fb.data[i] = 0xFF;
}

uint32_t TileDecoder::MaxOps(uint32_t width, uint32_t height) {
  // Four ops per 16x16 block of screen is far beyond what any encoder emits.
  const uint64_t blocks = (static_cast<uint64_t>(width + 15) / 16) * ((height + 15) / 16);
  return static_cast<uint32_t>(blocks * 4 + 64);
}

uint64_t TileDecoder::MaxAreaPerUpdate(uint32_t width, uint32_t height) {
  // Copies plus a full repaint plus slack; bounds the work one update can cause.
  return static_cast<uint64_t>(width) * height * 4;
}

Status TileDecoder::Apply(const Framebuffer& fb, const uint8_t* data, size_t len, uint32_t op_count, bool keyframe,
                          DecodeStats* stats, const uint8_t* images, size_t images_len) {
  if (!keyframe && desynced_) {
    return Status::Error(ErrorCode::kDesync, "decoder lost its stream state; waiting for a keyframe");
  }
  // Every rejection, including the limits checked before any data is read,
  // leaves the decoder waiting for a keyframe: the update's deflate bytes were
  // not consumed, so the next delta could not be decoded against the window
  // the host has (docs/protocol.md, "Limits checked by every decoder").
  Status s = ApplyUpdate(fb, data, len, op_count, keyframe, stats, images, images_len);
  desynced_ = !s.ok();
  // The host's mirror took the whole update in; this cache may hold only part
  // of it. Empty, it can only miss (a clear error), never draw stale content.
  if (!s.ok()) {
    cache_.Clear();
    keep_cache_at_keyframe_ = false;
  }
  return s;
}

Status TileDecoder::ApplyUpdate(const Framebuffer& fb, const uint8_t* data, size_t len, uint32_t op_count,
                                bool keyframe, DecodeStats* stats, const uint8_t* images, size_t images_len) {
  if (keyframe) {
    TC_RETURN_IF_ERROR(inflate_.Reset());
    if (!keep_cache_at_keyframe_) cache_.Clear();  // the first keyframe after a CACHE_KEEP keeps it
    keep_cache_at_keyframe_ = false;
  }
  if (op_count > MaxOps(fb.width, fb.height)) {
    return Status::Error(ErrorCode::kTooLarge, "update declares " + std::to_string(op_count) + " ops, limit " +
                                                   std::to_string(MaxOps(fb.width, fb.height)));
  }
  if (len > 0xFFFFFFFFu) return Status::Error(ErrorCode::kTooLarge, "update data over 4 GiB");
  if (row_.size() < static_cast<size_t>(fb.width) * 3) row_.resize(static_cast<size_t>(fb.width) * 3);
  inflate_.Begin(data, len);
  TC_RETURN_IF_ERROR(ApplyOps(fb, op_count, stats, images, images_len));
  return inflate_.End();
}

Status TileDecoder::ApplyOps(const Framebuffer& fb, uint32_t op_count, DecodeStats* stats, const uint8_t* images,
                             size_t images_len) {
  uint64_t area = 0;
  size_t images_used = 0;
  bool pixels_seen = false;  // COPY ops must all come before any pixel op
  const uint64_t max_area = MaxAreaPerUpdate(fb.width, fb.height);
  for (uint32_t i = 0; i < op_count; ++i) {
    uint8_t h9[kOpHeaderBytes];
    TC_RETURN_IF_ERROR(inflate_.Read(h9, sizeof h9));
    const uint8_t code = h9[0];
    const uint32_t x = GetU16(h9 + 1), y = GetU16(h9 + 3), w = GetU16(h9 + 5), h = GetU16(h9 + 7);
    const std::string where = "op " + std::to_string(i);
    if (code >= kOpCodeCount) return Status::Error(ErrorCode::kProtocol, where + ": unknown op code " + std::to_string(code));
    if (w == 0 || h == 0 || x >= fb.width || y >= fb.height || w > fb.width - x || h > fb.height - y) {
      return Status::Error(ErrorCode::kProtocol, where + ": rect " + std::to_string(w) + "x" + std::to_string(h) + "+" +
                                                     std::to_string(x) + "+" + std::to_string(y) +
                                                     " is outside the framebuffer");
    }
    area += static_cast<uint64_t>(w) * h;
    if (area > max_area) return Status::Error(ErrorCode::kTooLarge, where + ": update covers more area than allowed");
    switch (static_cast<OpCode>(code)) {
      case OpCode::kSolid: TC_RETURN_IF_ERROR(DecodeSolid(fb, x, y, w, h)); break;
      case OpCode::kPalette: TC_RETURN_IF_ERROR(DecodePalette(fb, x, y, w, h, false)); break;
      case OpCode::kPaletteDiff: TC_RETURN_IF_ERROR(DecodePalette(fb, x, y, w, h, true)); break;
      case OpCode::kTruecolor: TC_RETURN_IF_ERROR(DecodeTruecolor(fb, x, y, w, h)); break;
      case OpCode::kPredicted: TC_RETURN_IF_ERROR(DecodePredicted(fb, x, y, w, h)); break;
      case OpCode::kCopy:
        if (pixels_seen) return Status::Error(ErrorCode::kProtocol, where + ": COPY after a pixel op");
        TC_RETURN_IF_ERROR(DecodeCopy(fb, x, y, w, h));
        break;
      case OpCode::kJpeg: TC_RETURN_IF_ERROR(DecodeJpegOp(fb, x, y, w, h, images, images_len, &images_used)); break;
      case OpCode::kCacheRef: {
        Status s = DecodeCacheRef(fb, x, y, w, h);
        if (!s.ok()) return Status::Error(s.code(), where + ": " + s.message());
        break;
      }
      case OpCode::kCacheRun: {
        uint32_t tiles = 0;
        Status s = DecodeCacheRun(fb, x, y, w, h, &tiles);
        if (!s.ok()) return Status::Error(s.code(), where + ": " + s.message());
        if (stats) stats->ops_by_code[static_cast<uint8_t>(OpCode::kCacheRef)] += tiles - 1;  // + 1 below
        break;
      }
    }
    // The insertion rule of content_cache.h, applied as the host's mirror does.
    if (ContentCache::Inserts(static_cast<OpCode>(code)) && ContentCache::Eligible(w, h)) {
      cache_.Insert(FrameView{fb.data, fb.width, fb.height, static_cast<size_t>(fb.width) * 4}, Rect{x, y, w, h}, 0);
    }
    if (code != static_cast<uint8_t>(OpCode::kCopy)) pixels_seen = true;
    if (stats) stats->ops_by_code[static_cast<uint8_t>(CountedAs(static_cast<OpCode>(code)))]++;
  }
  if (images_used != images_len) {
    return Status::Error(ErrorCode::kProtocol, "image section has " + std::to_string(images_len - images_used) +
                                                   " bytes no op uses");
  }
  return Status::Ok();
}

Status TileDecoder::DecodeSolid(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
  uint8_t bgr[3];
  TC_RETURN_IF_ERROR(inflate_.Read(bgr, 3));
  const uint8_t px[4] = {bgr[0], bgr[1], bgr[2], 0xFF};
  for (uint32_t r = 0; r < h; ++r) {
    uint8_t* dst = fb.pixel(x, y + r);
    for (uint32_t c = 0; c < w; ++c, dst += 4) std::memcpy(dst, px, 4);
  }
  return Status::Ok();
}

Status TileDecoder::DecodePalette(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h, bool diff) {
  uint8_t n_minus_1;
  TC_RETURN_IF_ERROR(inflate_.Read(&n_minus_1, 1));
  const uint32_t n = static_cast<uint32_t>(n_minus_1) + 1;
  if (n < 2) return Status::Error(ErrorCode::kProtocol, "palette op with fewer than 2 colours");
  uint8_t raw[kMaxPaletteColors * 3];
  TC_RETURN_IF_ERROR(inflate_.Read(raw, n * 3));
  if (diff) {
    uint8_t coded[kMaxPaletteColors * 3];
    std::memcpy(coded, raw, n * 3);
    GetPaletteDiff(coded, n, raw);
  }
  uint8_t palette[kMaxPaletteColors][4];
  for (uint32_t i = 0; i < n; ++i) {
    palette[i][0] = raw[i * 3];
    palette[i][1] = raw[i * 3 + 1];
    palette[i][2] = raw[i * 3 + 2];
    palette[i][3] = 0xFF;
  }
  const uint32_t bits = PaletteIndexBits(n);
  const uint32_t per_byte = 8 / bits;
  const uint32_t mask = (1u << bits) - 1;
  const size_t row_bytes = PaletteRowBytes(w, bits);
  for (uint32_t r = 0; r < h; ++r) {
    TC_RETURN_IF_ERROR(inflate_.Read(row_.data(), row_bytes));
    uint8_t* dst = fb.pixel(x, y + r);
    for (uint32_t c = 0; c < w; ++c, dst += 4) {
      const uint32_t shift = 8 - bits * (c % per_byte + 1);
      const uint32_t index = (row_[c / per_byte] >> shift) & mask;
      if (index >= n) return Status::Error(ErrorCode::kProtocol, "palette index beyond the palette");
      std::memcpy(dst, palette[index], 4);
    }
  }
  return Status::Ok();
}

Status TileDecoder::DecodeTruecolor(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
  for (uint32_t r = 0; r < h; ++r) {
    TC_RETURN_IF_ERROR(inflate_.Read(row_.data(), static_cast<size_t>(w) * 3));
    uint8_t* dst = fb.pixel(x, y + r);
    const uint8_t* src = row_.data();
    for (uint32_t c = 0; c < w; ++c, dst += 4, src += 3) {
      dst[0] = src[0];
      dst[1] = src[1];
      dst[2] = src[2];
      dst[3] = 0xFF;
    }
  }
  return Status::Ok();
}

Status TileDecoder::DecodePredicted(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
  for (uint32_t r = 0; r < h; ++r) {
    TC_RETURN_IF_ERROR(inflate_.Read(row_.data(), static_cast<size_t>(w) * 3));
    UnpredictRow(row_.data(), r > 0 ? fb.pixel(x, y + r - 1) : nullptr, w, fb.pixel(x, y + r));
  }
  return Status::Ok();
}

Status TileDecoder::DecodeCopy(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
  uint8_t src[4];
  TC_RETURN_IF_ERROR(inflate_.Read(src, 4));
  const uint32_t sx = GetU16(src), sy = GetU16(src + 2);
  if (sx >= fb.width || sy >= fb.height || w > fb.width - sx || h > fb.height - sy) {
    return Status::Error(ErrorCode::kProtocol, "copy source is outside the framebuffer");
  }
  const size_t row_bytes = static_cast<size_t>(w) * 4;
  // Walk rows away from the overlap so each source row is read before it is overwritten.
  if (sy < y) {
    for (uint32_t r = h; r-- > 0;) std::memmove(fb.pixel(x, y + r), fb.pixel(sx, sy + r), row_bytes);
  } else {
    for (uint32_t r = 0; r < h; ++r) std::memmove(fb.pixel(x, y + r), fb.pixel(sx, sy + r), row_bytes);
  }
  return Status::Ok();
}

Status TileDecoder::DecodeCacheRef(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
  uint8_t id_bytes[4];
  TC_RETURN_IF_ERROR(inflate_.Read(id_bytes, 4));
  const uint32_t id = GetU32(id_bytes);
  if (cache_.budget() == 0) return Status::Error(ErrorCode::kProtocol, "CACHE_REF without a content cache (none was negotiated)");
  const ContentCache::Entry* e = cache_.Use(id);
  if (!e) {
    return Status::Error(ErrorCode::kProtocol, "CACHE_REF to cache entry " + std::to_string(id) +
                                                   ", which the cache does not hold (next id " +
                                                   std::to_string(cache_.next_id()) + ")");
  }
  if (e->w != w || e->h != h) {
    return Status::Error(ErrorCode::kProtocol, "CACHE_REF to cache entry " + std::to_string(id) + " of " +
                                                   std::to_string(e->w) + "x" + std::to_string(e->h) + " for a " +
                                                   std::to_string(w) + "x" + std::to_string(h) + " rect");
  }
  const size_t row_bytes = static_cast<size_t>(w) * 4;
  for (uint32_t r = 0; r < h; ++r) std::memcpy(fb.pixel(x, y + r), e->data() + r * row_bytes, row_bytes);
  return Status::Ok();
}

Status TileDecoder::DecodeCacheRun(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                                   uint32_t* tiles) {
  uint8_t body[6];
  TC_RETURN_IF_ERROR(inflate_.Read(body, 6));
  const uint32_t first = GetU32(body), count = GetU16(body + 4);
  if (cache_.budget() == 0) return Status::Error(ErrorCode::kProtocol, "CACHE_RUN without a content cache (none was negotiated)");
  if (count == 0) return Status::Error(ErrorCode::kProtocol, "CACHE_RUN of 0 entries");
  // Entries are drawn as they are checked; a bad one fails the update (the viewer then waits for a keyframe).
  uint32_t at = x;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t id = first + i;  // u32, wrapping as ids do
    const ContentCache::Entry* e = cache_.Use(id);
    if (!e) {
      return Status::Error(ErrorCode::kProtocol, "CACHE_RUN entry " + std::to_string(id) +
                                                     ", which the cache does not hold (next id " +
                                                     std::to_string(cache_.next_id()) + ")");
    }
    if (e->h != h || e->w > x + w - at) {
      return Status::Error(ErrorCode::kProtocol, "CACHE_RUN entry " + std::to_string(id) + " of " + std::to_string(e->w) +
                                                     "x" + std::to_string(e->h) + " does not fit the " + std::to_string(w) +
                                                     "x" + std::to_string(h) + " rect at x " + std::to_string(at));
    }
    const size_t row_bytes = static_cast<size_t>(e->w) * 4;
    for (uint32_t r = 0; r < h; ++r) std::memcpy(fb.pixel(at, y + r), e->data() + r * row_bytes, row_bytes);
    at += e->w;
  }
  if (at != x + w) {
    return Status::Error(ErrorCode::kProtocol, "CACHE_RUN of " + std::to_string(count) + " entries covers " +
                                                   std::to_string(at - x) + " of its " + std::to_string(w) + " columns");
  }
  *tiles = count;
  return Status::Ok();
}

Status TileDecoder::DecodeJpegOp(const Framebuffer& fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                                 const uint8_t* images, size_t images_len, size_t* images_used) {
  uint8_t len_bytes[4];
  TC_RETURN_IF_ERROR(inflate_.Read(len_bytes, 4));
  const uint32_t len = GetU32(len_bytes);
  if (len > images_len - *images_used) {
    return Status::Error(ErrorCode::kProtocol, "JPEG op wants " + std::to_string(len) + " bytes, the image section has " +
                                                   std::to_string(images_len - *images_used) + " left");
  }
  const uint8_t* jpeg = images + *images_used;
  *images_used += len;
  return DecodeJpeg(jpeg, len, fb.pixel(x, y), static_cast<size_t>(fb.width) * 4, w, h);
}

}  // namespace tilecast
