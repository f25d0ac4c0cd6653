// A Windows program for the Wine tests (cross-built by test/windows/wine.ts):
//   testapp.exe paint X Y W H SEED DIR   a borderless window painting a known pattern
//   testapp.exe edit  X Y W H 0    DIR   a window with an edit control holding the focus
// It watches DIR\cmd for lines "N move X Y" or "N repaint 0 0" (N increasing; repaint
// paints the pattern with the next seed) and answers in DIR\ack with N once done; in
// paint mode a key press also repaints with the next seed. It logs keys, clicks and wheel turns to DIR\events (one line
// each) and, in edit mode, writes the edit control's text as UTF-8 to DIR\text
// after every change. All files are rewritten whole, so readers see complete lines.
#include <windows.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

std::wstring g_dir;
int g_w = 0, g_h = 0, g_seed = 0;
HWND g_main = nullptr, g_edit = nullptr;
WNDPROC g_edit_proc = nullptr;
long g_last_cmd = 0;
std::string g_events;

void WriteFile(const wchar_t* name, const std::string& data) {
  const std::wstring path = g_dir + L"\\" + name;
  const std::wstring tmp = path + L".tmp";
  FILE* f = _wfopen(tmp.c_str(), L"wb");
  if (!f) return;
  fwrite(data.data(), 1, data.size(), f);
  fclose(f);
  MoveFileExW(tmp.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING);
}

void Log(const char* fmt, long a, long b, long c, long d) {
  char line[128];
  std::snprintf(line, sizeof line, fmt, a, b, c, d);
  g_events += line;
  g_events += '\n';
  WriteFile(L"events", g_events);
}

// The pattern: every pixel differs from its neighbours, so a shifted or stale copy shows.
uint32_t PatternPixel(int x, int y) {
  const uint32_t r = static_cast<uint32_t>(x * 7 + g_seed) & 0xff, g = static_cast<uint32_t>(y * 13 + g_seed * 3) & 0xff;
  const uint32_t b = static_cast<uint32_t>((x ^ y) + g_seed * 5) & 0xff;
  return (r << 16) | (g << 8) | b;
}

void Paint(HWND hwnd) {
  PAINTSTRUCT ps;
  HDC dc = BeginPaint(hwnd, &ps);
  std::vector<uint32_t> px(static_cast<size_t>(g_w) * g_h);
  for (int y = 0; y < g_h; y++) {
    for (int x = 0; x < g_w; x++) px[static_cast<size_t>(y) * g_w + x] = PatternPixel(x, y);
  }
  BITMAPINFO bi{};
  bi.bmiHeader.biSize = sizeof bi.bmiHeader;
  bi.bmiHeader.biWidth = g_w;
  bi.bmiHeader.biHeight = -g_h;
  bi.bmiHeader.biPlanes = 1;
  bi.bmiHeader.biBitCount = 32;
  bi.bmiHeader.biCompression = BI_RGB;
  SetDIBitsToDevice(dc, 0, 0, g_w, g_h, 0, 0, 0, g_h, px.data(), &bi, DIB_RGB_COLORS);
  EndPaint(hwnd, &ps);
}

// Paint mode: the pattern with the next seed, painted now.
void NextPattern() {
  if (g_edit) return;
  g_seed++;
  InvalidateRect(g_main, nullptr, FALSE);
  UpdateWindow(g_main);
}

void LogMouse(UINT msg, WPARAM wp, LPARAM lp, HWND hwnd) {
  POINT pt{static_cast<short>(LOWORD(lp)), static_cast<short>(HIWORD(lp))};
  switch (msg) {
    case WM_LBUTTONDOWN: case WM_RBUTTONDOWN: case WM_MBUTTONDOWN:
      ClientToScreen(hwnd, &pt);
      Log("down %ld %ld %ld", msg == WM_LBUTTONDOWN ? 0 : msg == WM_MBUTTONDOWN ? 1 : 2, pt.x, pt.y, 0);
      break;
    case WM_MOUSEWHEEL: case WM_MOUSEHWHEEL:  // wheel messages carry screen coordinates
      Log("wheel %ld %ld %ld %ld", msg == WM_MOUSEWHEEL ? 0 : 1, static_cast<short>(HIWORD(wp)), pt.x, pt.y);
      break;
    default: break;
  }
}

void PollCommands() {
  FILE* f = _wfopen((g_dir + L"\\cmd").c_str(), L"rb");
  if (!f) return;
  long n = 0, x = 0, y = 0;
  char verb[16] = {0};
  const int got = std::fscanf(f, "%ld %15s %ld %ld", &n, verb, &x, &y);
  fclose(f);
  if (got != 4 || n <= g_last_cmd) return;
  g_last_cmd = n;
  if (std::string(verb) == "move") {
    SetWindowPos(g_main, HWND_TOPMOST, static_cast<int>(x), static_cast<int>(y), 0, 0, SWP_NOSIZE | SWP_NOACTIVATE);
    UpdateWindow(g_main);
  } else if (std::string(verb) == "repaint") {
    NextPattern();
  }
  GdiFlush();
  WriteFile(L"ack", std::to_string(n) + "\n");
}

LRESULT CALLBACK EditProc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp) {
  if (msg == WM_KEYDOWN || msg == WM_SYSKEYDOWN) {
    Log("key %ld %ld %ld", static_cast<long>(wp), static_cast<long>((lp >> 16) & 0xff), static_cast<long>((lp >> 24) & 1), 0);
  }
  LogMouse(msg, wp, lp, hwnd);
  return CallWindowProcW(g_edit_proc, hwnd, msg, wp, lp);
}

LRESULT CALLBACK MainProc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp) {
  switch (msg) {
    case WM_PAINT:
      if (!g_edit) {
        Paint(hwnd);
        return 0;
      }
      break;
    case WM_TIMER:
      PollCommands();
      return 0;
    case WM_KEYDOWN:
      NextPattern();
      GdiFlush();
      return 0;
    case WM_COMMAND:
      if (HIWORD(wp) == EN_CHANGE && g_edit) {
        const int n = GetWindowTextLengthW(g_edit);
        std::wstring text(static_cast<size_t>(n) + 1, L'\0');
        GetWindowTextW(g_edit, text.data(), n + 1);
        text.resize(static_cast<size_t>(n));
        const int bytes = WideCharToMultiByte(CP_UTF8, 0, text.c_str(), n, nullptr, 0, nullptr, nullptr);
        std::string utf8(static_cast<size_t>(bytes), '\0');
        WideCharToMultiByte(CP_UTF8, 0, text.c_str(), n, utf8.data(), bytes, nullptr, nullptr);
        WriteFile(L"text", utf8);
      }
      return 0;
    case WM_DESTROY:
      PostQuitMessage(0);
      return 0;
    default: break;
  }
  LogMouse(msg, wp, lp, hwnd);
  return DefWindowProcW(hwnd, msg, wp, lp);
}

}  // namespace

int WINAPI wWinMain(HINSTANCE inst, HINSTANCE, PWSTR, int) {
  int argc = 0;
  wchar_t** argv = CommandLineToArgvW(GetCommandLineW(), &argc);
  if (argc != 8) return 2;
  const std::wstring mode = argv[1];
  const int x = _wtoi(argv[2]), y = _wtoi(argv[3]);
  g_w = _wtoi(argv[4]);
  g_h = _wtoi(argv[5]);
  g_seed = _wtoi(argv[6]);
  g_dir = argv[7];
  if (g_w <= 0 || g_h <= 0 || g_w > 4096 || g_h > 4096) return 2;
  WNDCLASSW wc{};
  wc.lpfnWndProc = MainProc;
  wc.hInstance = inst;
  wc.lpszClassName = L"TilecastTestApp";
  wc.hCursor = LoadCursor(nullptr, IDC_ARROW);
  wc.hbrBackground = reinterpret_cast<HBRUSH>(COLOR_WINDOW + 1);
  RegisterClassW(&wc);
  g_main = CreateWindowExW(WS_EX_TOPMOST, wc.lpszClassName, L"tilecast test", WS_POPUP | WS_VISIBLE, x, y, g_w, g_h, nullptr, nullptr,
                           inst, nullptr);
  if (!g_main) return 3;
  if (mode == L"edit") {
    g_edit = CreateWindowExW(0, L"EDIT", L"", WS_CHILD | WS_VISIBLE | ES_MULTILINE | ES_AUTOVSCROLL | WS_VSCROLL, 0, 0, g_w, g_h,
                             g_main, nullptr, inst, nullptr);
    g_edit_proc = reinterpret_cast<WNDPROC>(SetWindowLongPtrW(g_edit, GWLP_WNDPROC, reinterpret_cast<LONG_PTR>(EditProc)));
  }
  ShowWindow(g_main, SW_SHOW);
  UpdateWindow(g_main);
  SetForegroundWindow(g_main);
  if (g_edit) SetFocus(g_edit);
  SetTimer(g_main, 1, 30, nullptr);
  GdiFlush();
  WriteFile(L"ack", "0\n");  // shown and painted
  MSG m;
  while (GetMessageW(&m, nullptr, 0, 0) > 0) {
    TranslateMessage(&m);
    DispatchMessageW(&m);
  }
  return 0;
}
