// Windows screen helpers shared by the capture backends and input injection:
// which monitor is captured (so capture and input agree on the coordinates),
// readable HRESULT / GetLastError text, and the cursor shape as straight-alpha BGRA.
#pragma once
#if !defined(_WIN32)
#error "Windows only"
#endif
#include <windows.h>

#include <cstdint>
#include <string>

#include "../util/status.h"
#include "screen_backend.h"

namespace tilecast {
namespace win {

struct Monitor {
  RECT rect{};           // in virtual-desktop coordinates
  std::wstring device;   // \\.\DISPLAY1, matches DXGI_OUTPUT_DESC::DeviceName
  bool primary = false;
  int32_t index = 0;     // position in EnumDisplayMonitors order
};

// Monitor `index` in EnumDisplayMonitors order; -1 picks the primary one.
Status FindMonitor(int32_t index, Monitor* out);

std::string HresultText(long hr);
Status LastError(const char* what);

// The shape of `cursor` (any kind: colour with alpha, colour with mask, or
// monochrome) drawn with DrawIconEx on black and on white, which gives
// straight-alpha BGRA; inverting (XOR) pixels become opaque black.
Status CursorShape(HCURSOR cursor, CursorImage* out);

}  // namespace win
}  // namespace tilecast
