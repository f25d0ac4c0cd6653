#include "win_screen.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

namespace tilecast {
namespace win {
namespace {

struct EnumState {
  std::vector<Monitor> monitors;
};

BOOL CALLBACK AddMonitor(HMONITOR handle, HDC, LPRECT, LPARAM param) {
  auto* state = reinterpret_cast<EnumState*>(param);
  if (state->monitors.size() >= 64) return FALSE;  // more than any desk has; bounds the list
  MONITORINFOEXW info{};
  info.cbSize = sizeof info;
  if (!GetMonitorInfoW(handle, &info)) return TRUE;
  Monitor m;
  m.rect = info.rcMonitor;
  m.device = info.szDevice;
  m.primary = (info.dwFlags & MONITORINFOF_PRIMARY) != 0;
  m.index = static_cast<int32_t>(state->monitors.size());
  state->monitors.push_back(m);
  return TRUE;
}

// A 32-bit top-down DIB section of w x h filled with `fill`, selected into `dc`.
struct DibCanvas {
  HDC dc = nullptr;
  HBITMAP bitmap = nullptr;
  HGDIOBJ old = nullptr;
  uint32_t* bits = nullptr;
  DibCanvas(HDC screen, int w, int h, uint32_t fill) {
    BITMAPINFO bi{};
    bi.bmiHeader.biSize = sizeof bi.bmiHeader;
    bi.bmiHeader.biWidth = w;
    bi.bmiHeader.biHeight = -h;
    bi.bmiHeader.biPlanes = 1;
    bi.bmiHeader.biBitCount = 32;
    bi.bmiHeader.biCompression = BI_RGB;
    void* p = nullptr;
    dc = CreateCompatibleDC(screen);
    bitmap = dc ? CreateDIBSection(dc, &bi, DIB_RGB_COLORS, &p, nullptr, 0) : nullptr;
    if (!bitmap) return;
    bits = static_cast<uint32_t*>(p);
    old = SelectObject(dc, bitmap);
    std::fill(bits, bits + static_cast<size_t>(w) * h, fill);
  }
  ~DibCanvas() {
    if (old) SelectObject(dc, old);
    if (bitmap) DeleteObject(bitmap);
    if (dc) DeleteDC(dc);
  }
  DibCanvas(const DibCanvas&) = delete;
  DibCanvas& operator=(const DibCanvas&) = delete;
};

}  // namespace

Status FindMonitor(int32_t index, Monitor* out) {
  EnumState state;
  EnumDisplayMonitors(nullptr, nullptr, AddMonitor, reinterpret_cast<LPARAM>(&state));
  if (state.monitors.empty()) return Status::Error(ErrorCode::kUnavailable, "Windows reports no monitor (no interactive desktop?)");
  if (index < 0) {
    for (const Monitor& m : state.monitors) {
      if (m.primary) {
        *out = m;
        return Status::Ok();
      }
    }
    *out = state.monitors.front();
    return Status::Ok();
  }
  if (static_cast<size_t>(index) >= state.monitors.size()) {
    return Status::Error(ErrorCode::kInvalidArgument, "monitor " + std::to_string(index) + " does not exist (there are " +
                                                          std::to_string(state.monitors.size()) + ")");
  }
  *out = state.monitors[static_cast<size_t>(index)];
  return Status::Ok();
}

std::string HresultText(long hr) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08lX", static_cast<unsigned long>(hr));
  return buf;
}

Status LastError(const char* what) {
  return Status::Error(ErrorCode::kUnavailable, std::string(what) + " failed (Windows error " + std::to_string(GetLastError()) + ")");
}

Status CursorShape(HCURSOR cursor, CursorImage* out) {
  ICONINFO info{};
  if (!cursor || !GetIconInfo(cursor, &info)) return LastError("GetIconInfo");
  BITMAP mask{};
  const bool have_mask = info.hbmMask && GetObject(info.hbmMask, sizeof mask, &mask) == sizeof mask;
  // A monochrome cursor's mask holds the AND and XOR halves stacked.
  const int w = have_mask ? mask.bmWidth : 0;
  const int h = have_mask ? (info.hbmColor ? mask.bmHeight : mask.bmHeight / 2) : 0;
  const uint32_t hot_x = info.xHotspot, hot_y = info.yHotspot;
  if (info.hbmMask) DeleteObject(info.hbmMask);
  if (info.hbmColor) DeleteObject(info.hbmColor);
  if (w <= 0 || h <= 0) return Status::Error(ErrorCode::kUnavailable, "the cursor has no bitmap");
  const int cw = std::min<int>(w, kMaxCursorDimension), ch = std::min<int>(h, kMaxCursorDimension);

  HDC screen = GetDC(nullptr);
  DibCanvas black(screen, cw, ch, 0xff000000u), white(screen, cw, ch, 0xffffffffu);
  ReleaseDC(nullptr, screen);
  if (!black.bits || !white.bits) return Status::Error(ErrorCode::kUnavailable, "cannot create a bitmap for the cursor");
  if (!DrawIconEx(black.dc, 0, 0, cursor, w, h, 0, nullptr, DI_NORMAL) ||
      !DrawIconEx(white.dc, 0, 0, cursor, w, h, 0, nullptr, DI_NORMAL)) {
    return LastError("DrawIconEx");
  }
  GdiFlush();
  out->width = static_cast<uint32_t>(cw);
  out->height = static_cast<uint32_t>(ch);
  out->hot_x = std::min<uint32_t>(hot_x, static_cast<uint32_t>(cw - 1));
  out->hot_y = std::min<uint32_t>(hot_y, static_cast<uint32_t>(ch - 1));
  out->bgra.assign(static_cast<size_t>(cw) * ch * 4, 0);
  for (size_t i = 0; i < static_cast<size_t>(cw) * ch; i++) {
    const uint32_t b = black.bits[i], wt = white.bits[i];
    uint8_t* p = &out->bgra[i * 4];
    // Over black a pixel shows c*a, over white c*a + (1-a): the difference is 1-a.
    int alpha = 255;
    bool inverts = false;
    for (int c = 0; c < 3; c++) {
      const int vb = (b >> (8 * c)) & 0xff, vw = (wt >> (8 * c)) & 0xff;
      alpha = std::min(alpha, 255 - std::max(0, vw - vb));
      inverts = inverts || vw < vb;
    }
    if (inverts) {  // an XOR pixel (the I-beam): opaque black, visible on the usual light windows
      p[3] = 255;
      continue;
    }
    for (int c = 0; c < 3; c++) {
      const int vb = (b >> (8 * c)) & 0xff;
      p[c] = alpha == 0 ? 0 : static_cast<uint8_t>(std::min(255, (vb * 255 + alpha / 2) / alpha));
    }
    p[3] = static_cast<uint8_t>(alpha);
  }
  return Status::Ok();
}

}  // namespace win
}  // namespace tilecast
