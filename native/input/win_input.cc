#include "win_input.h"

#include <algorithm>

#include "../capture/win_screen.h"

namespace tilecast {
namespace {

// Japanese IME keys (ime.h, which the SDK keeps out of windows.h). On a JIS layout
// 半角/全角 alternates between VK_OEM_AUTO and VK_OEM_ENLW, the values of the two SBCS/DBCS keys.
constexpr uint16_t VK_DBE_ALPHANUMERIC = 0xf0, VK_DBE_KATAKANA = 0xf1, VK_DBE_HIRAGANA = 0xf2,
                   VK_DBE_SBCSCHAR = 0xf3, VK_DBE_DBCSCHAR = 0xf4, VK_DBE_ROMAN = 0xf5;

struct NamedKeyDef {
  uint32_t keysym;
  uint16_t vk;
  uint16_t scan;      // set-1 scan code; 0: none (sent by virtual key)
  bool extended;      // the E0 prefix
  uint16_t alt_vk;    // another virtual key the scan code may give on some layouts (JIS)
};

// X keysym -> Windows virtual key and scan code, for keys that are not characters.
constexpr NamedKeyDef kNamedKeys[] = {
    {0xff08, VK_BACK, 0x0e, false, 0}, {0xff09, VK_TAB, 0x0f, false, 0}, {0xff0d, VK_RETURN, 0x1c, false, 0},
    {0xff1b, VK_ESCAPE, 0x01, false, 0}, {0xffff, VK_DELETE, 0x53, true, 0}, {0xff63, VK_INSERT, 0x52, true, 0},
    {0xff50, VK_HOME, 0x47, true, 0}, {0xff57, VK_END, 0x4f, true, 0}, {0xff55, VK_PRIOR, 0x49, true, 0},
    {0xff56, VK_NEXT, 0x51, true, 0}, {0xff51, VK_LEFT, 0x4b, true, 0}, {0xff52, VK_UP, 0x48, true, 0},
    {0xff53, VK_RIGHT, 0x4d, true, 0}, {0xff54, VK_DOWN, 0x50, true, 0}, {0xff13, VK_PAUSE, 0, false, 0},
    {0xff14, VK_SCROLL, 0x46, false, 0}, {0xff61, VK_SNAPSHOT, 0x37, true, 0}, {0xff67, VK_APPS, 0x5d, true, 0},
    {0xff6a, VK_HELP, 0, false, 0}, {0xff0b, VK_CLEAR, 0x4c, false, 0}, {0xffe5, VK_CAPITAL, 0x3a, false, VK_DBE_ALPHANUMERIC},
    {0xff7f, VK_NUMLOCK, 0x45, true, 0}, {0xfe03, VK_RMENU, 0x38, true, 0},
    // Modifiers (Meta and Super both become the Windows key).
    {0xffe1, VK_LSHIFT, 0x2a, false, 0}, {0xffe2, VK_RSHIFT, 0x36, false, 0}, {0xffe3, VK_LCONTROL, 0x1d, false, 0},
    {0xffe4, VK_RCONTROL, 0x1d, true, 0}, {0xffe9, VK_LMENU, 0x38, false, 0}, {0xffea, VK_RMENU, 0x38, true, 0},
    {0xffe7, VK_LWIN, 0x5b, true, 0}, {0xffe8, VK_RWIN, 0x5c, true, 0}, {0xffeb, VK_LWIN, 0x5b, true, 0},
    {0xffec, VK_RWIN, 0x5c, true, 0},
    // Function keys.
    {0xffbe, VK_F1, 0x3b, false, 0}, {0xffbf, VK_F2, 0x3c, false, 0}, {0xffc0, VK_F3, 0x3d, false, 0},
    {0xffc1, VK_F4, 0x3e, false, 0}, {0xffc2, VK_F5, 0x3f, false, 0}, {0xffc3, VK_F6, 0x40, false, 0},
    {0xffc4, VK_F7, 0x41, false, 0}, {0xffc5, VK_F8, 0x42, false, 0}, {0xffc6, VK_F9, 0x43, false, 0},
    {0xffc7, VK_F10, 0x44, false, 0}, {0xffc8, VK_F11, 0x57, false, 0}, {0xffc9, VK_F12, 0x58, false, 0},
    {0xffca, VK_F13, 0x64, false, 0}, {0xffcb, VK_F14, 0x65, false, 0}, {0xffcc, VK_F15, 0x66, false, 0},
    {0xffcd, VK_F16, 0x67, false, 0}, {0xffce, VK_F17, 0x68, false, 0}, {0xffcf, VK_F18, 0x69, false, 0},
    {0xffd0, VK_F19, 0x6a, false, 0}, {0xffd1, VK_F20, 0x6b, false, 0}, {0xffd2, VK_F21, 0x6c, false, 0},
    {0xffd3, VK_F22, 0x6d, false, 0}, {0xffd4, VK_F23, 0x6e, false, 0}, {0xffd5, VK_F24, 0x76, false, 0},
    // Keypad.
    {0xff8d, VK_RETURN, 0x1c, true, 0}, {0xffaa, VK_MULTIPLY, 0x37, false, 0}, {0xffab, VK_ADD, 0x4e, false, 0},
    {0xffad, VK_SUBTRACT, 0x4a, false, 0}, {0xffae, VK_DECIMAL, 0x53, false, 0}, {0xffaf, VK_DIVIDE, 0x35, true, 0},
    {0xffac, VK_SEPARATOR, 0x7e, false, 0}, {0xffb0, VK_NUMPAD0, 0x52, false, 0}, {0xffb1, VK_NUMPAD1, 0x4f, false, 0},
    {0xffb2, VK_NUMPAD2, 0x50, false, 0}, {0xffb3, VK_NUMPAD3, 0x51, false, 0}, {0xffb4, VK_NUMPAD4, 0x4b, false, 0},
    {0xffb5, VK_NUMPAD5, 0x4c, false, 0}, {0xffb6, VK_NUMPAD6, 0x4d, false, 0}, {0xffb7, VK_NUMPAD7, 0x47, false, 0},
    {0xffb8, VK_NUMPAD8, 0x48, false, 0}, {0xffb9, VK_NUMPAD9, 0x49, false, 0},
    // Japanese keys: 変換, 無変換, カタカナ/ひらがな, 半角/全角 (the Backquote position on JIS),
    // and the Mac JIS かな/英数 keys (Lang1/Lang2).
    {0xff23, VK_CONVERT, 0x79, false, 0}, {0xff22, VK_NONCONVERT, 0x7b, false, 0},
    {0xff27, VK_KANA, 0x70, false, VK_DBE_HIRAGANA}, {0xff25, VK_DBE_HIRAGANA, 0x70, false, VK_KANA},
    {0xff26, VK_DBE_KATAKANA, 0x70, false, VK_KANA}, {0xff2a, VK_KANJI, 0x29, false, VK_DBE_SBCSCHAR},
    {0xff21, VK_KANJI, 0, false, 0}, {0xff30, VK_DBE_ALPHANUMERIC, 0x3a, false, 0}, {0xff24, VK_DBE_ROMAN, 0, false, 0},
    {0xff2e, VK_KANA, 0x72, false, 0}, {0xff2f, VK_DBE_ALPHANUMERIC, 0x71, false, 0},
    // Media and browser keys (XF86 keysyms).
    {0x1008ff12, VK_VOLUME_MUTE, 0x20, true, 0}, {0x1008ff11, VK_VOLUME_DOWN, 0x2e, true, 0},
    {0x1008ff13, VK_VOLUME_UP, 0x30, true, 0}, {0x1008ff14, VK_MEDIA_PLAY_PAUSE, 0x22, true, 0},
    {0x1008ff15, VK_MEDIA_STOP, 0x24, true, 0}, {0x1008ff16, VK_MEDIA_PREV_TRACK, 0x10, true, 0},
    {0x1008ff17, VK_MEDIA_NEXT_TRACK, 0x19, true, 0}, {0x1008ff26, VK_BROWSER_BACK, 0x6a, true, 0},
    {0x1008ff27, VK_BROWSER_FORWARD, 0x69, true, 0}, {0x1008ff29, VK_BROWSER_REFRESH, 0x67, true, 0},
    {0x1008ff18, VK_BROWSER_HOME, 0x32, true, 0},
};

// JIS keyboards' ¥ key, for a ¥ typed onto a Japanese layout (which has no key producing U+00A5).
constexpr uint16_t kJisYenScan = 0x7d;

INPUT KeyInput(uint16_t vk, uint16_t scan, DWORD flags) {
  INPUT in{};
  in.type = INPUT_KEYBOARD;
  in.ki.wVk = vk;
  in.ki.wScan = scan;
  in.ki.dwFlags = flags;
  return in;
}

INPUT MouseInput(DWORD flags, LONG dx, LONG dy, DWORD data) {
  INPUT in{};
  in.type = INPUT_MOUSE;
  in.mi.dx = dx;
  in.mi.dy = dy;
  in.mi.mouseData = data;
  in.mi.dwFlags = flags;
  return in;
}

HKL ForegroundLayout() {
  // The layout of the window that will receive the keys, not of this thread.
  const HWND fg = GetForegroundWindow();
  return GetKeyboardLayout(fg ? GetWindowThreadProcessId(fg, nullptr) : 0);
}

// Keysym -> Unicode code point, for character keysyms (Latin-1 and 0x01000000 + cp);
// 0 for everything else (legacy non-Latin-1 keysym blocks are not characters here).
uint32_t CodePoint(uint32_t keysym) {
  if ((keysym >= 0x20 && keysym <= 0x7e) || (keysym >= 0xa0 && keysym <= 0xff)) return keysym;
  if (keysym >= 0x01000100 && keysym <= 0x0110ffff) {
    const uint32_t cp = keysym - 0x01000000;
    return cp >= 0xd800 && cp <= 0xdfff ? 0 : cp;
  }
  return 0;
}

}  // namespace

Status WinInput::Open(int32_t monitor, std::unique_ptr<WinInput>* out) {
  win::Monitor m;
  TC_RETURN_IF_ERROR(win::FindMonitor(monitor, &m));
  std::unique_ptr<WinInput> in(new WinInput());
  in->monitor_ = m.rect;
  *out = std::move(in);
  return Status::Ok();
}

WinInput::~WinInput() {
  // Leave no key held down by us (a viewer that vanished mid-press).
  std::vector<INPUT> ups;
  for (const auto& [keysym, pressed] : down_) {
    for (INPUT in : pressed.down) {
      in.ki.dwFlags |= KEYEVENTF_KEYUP;
      ups.push_back(in);
    }
  }
  if (!ups.empty()) SendInput(static_cast<UINT>(ups.size()), ups.data(), sizeof(INPUT));
}

Status WinInput::Send(std::vector<INPUT> inputs) {
  if (inputs.empty()) return Status::Ok();
  const UINT sent = SendInput(static_cast<UINT>(inputs.size()), inputs.data(), sizeof(INPUT));
  // SendInput is blocked by UIPI (an elevated window has the focus) and on the secure desktop.
  if (sent != inputs.size()) {
    return Status::Error(ErrorCode::kUnavailable, "SendInput was refused (Windows error " + std::to_string(GetLastError()) +
                                                      "): an elevated window or the secure desktop has the input");
  }
  return Status::Ok();
}

Status WinInput::Move(int32_t x, int32_t y) {
  // Normalised 0..65535 over the virtual desktop; Windows maps n to pixel (n * size) >> 16,
  // so rounding up lands exactly on the pixel.
  const int64_t vx = GetSystemMetrics(SM_XVIRTUALSCREEN), vy = GetSystemMetrics(SM_YVIRTUALSCREEN);
  const int64_t vw = std::max(1, GetSystemMetrics(SM_CXVIRTUALSCREEN)), vh = std::max(1, GetSystemMetrics(SM_CYVIRTUALSCREEN));
  const int64_t px = std::clamp<int64_t>(monitor_.left + int64_t{x}, monitor_.left, monitor_.right - 1) - vx;
  const int64_t py = std::clamp<int64_t>(monitor_.top + int64_t{y}, monitor_.top, monitor_.bottom - 1) - vy;
  const LONG nx = static_cast<LONG>(std::clamp<int64_t>((px * 65536 + vw - 1) / vw, 0, 65535));
  const LONG ny = static_cast<LONG>(std::clamp<int64_t>((py * 65536 + vh - 1) / vh, 0, 65535));
  return Send({MouseInput(MOUSEEVENTF_MOVE | MOUSEEVENTF_ABSOLUTE | MOUSEEVENTF_VIRTUALDESK, nx, ny, 0)});
}

Status WinInput::Button(uint32_t button, bool down) {
  switch (button) {
    case 1: return Send({MouseInput(down ? MOUSEEVENTF_LEFTDOWN : MOUSEEVENTF_LEFTUP, 0, 0, 0)});
    case 2: return Send({MouseInput(down ? MOUSEEVENTF_MIDDLEDOWN : MOUSEEVENTF_MIDDLEUP, 0, 0, 0)});
    case 3: return Send({MouseInput(down ? MOUSEEVENTF_RIGHTDOWN : MOUSEEVENTF_RIGHTUP, 0, 0, 0)});
    // The wheel: one notch per press, as X's wheel buttons.
    case 4: case 5: case 6: case 7: {
      if (!down) return Status::Ok();
      const DWORD flags = button <= 5 ? MOUSEEVENTF_WHEEL : MOUSEEVENTF_HWHEEL;
      const LONG delta = (button == 4 || button == 7) ? WHEEL_DELTA : -WHEEL_DELTA;
      return Send({MouseInput(flags, 0, 0, static_cast<DWORD>(delta))});
    }
    case 8: case 9:
      return Send({MouseInput(down ? MOUSEEVENTF_XDOWN : MOUSEEVENTF_XUP, 0, 0, button == 8 ? XBUTTON1 : XBUTTON2)});
    default: return Status::Error(ErrorCode::kInvalidArgument, "button must be 1..9");
  }
}

bool WinInput::ShiftHeld() const { return down_.count(0xffe1) > 0 || down_.count(0xffe2) > 0; }

std::vector<INPUT> WinInput::NamedKey(uint32_t keysym, bool* found) const {
  *found = false;
  for (const NamedKeyDef& k : kNamedKeys) {
    if (k.keysym != keysym) continue;
    *found = true;
    const DWORD ext = k.extended ? KEYEVENTF_EXTENDEDKEY : 0;
    if (k.scan != 0) {
      // By scan code when the host's layout gives that key the expected virtual key.
      const UINT vk = MapVirtualKeyExW(k.scan | (k.extended ? 0xe000u : 0u), MAPVK_VSC_TO_VK_EX, ForegroundLayout());
      const UINT generic = MapVirtualKeyExW(k.scan, MAPVK_VSC_TO_VK, ForegroundLayout());
      const bool alt = k.alt_vk != 0 && (vk == k.alt_vk || (k.alt_vk == VK_DBE_SBCSCHAR && vk == VK_DBE_DBCSCHAR));
      if (vk == k.vk || alt || (vk == 0 && generic == k.vk)) {
        return {KeyInput(k.vk, k.scan, KEYEVENTF_SCANCODE | ext)};
      }
    }
    return {KeyInput(k.vk, k.scan, ext)};
  }
  return {};
}

// The key events typing `cp` with the host layout's key, or KEYEVENTF_UNICODE;
// `before`/`after` get the Shift changes to wrap around the press.
std::vector<INPUT> WinInput::CharacterKey(uint32_t cp, std::vector<INPUT>* before, std::vector<INPUT>* after) const {
  const HKL layout = ForegroundLayout();
  const SHORT vks = cp <= 0xffff ? VkKeyScanExW(static_cast<WCHAR>(cp), layout) : -1;
  const bool japanese = PRIMARYLANGID(LOWORD(reinterpret_cast<uintptr_t>(layout))) == LANG_JAPANESE;
  if (vks == -1 && cp == 0xa5 && japanese) {
    // A JIS keyboard's ¥ key types the layout's backslash, which Japanese fonts show as ¥.
    return {KeyInput(static_cast<uint16_t>(MapVirtualKeyExW(kJisYenScan, MAPVK_VSC_TO_VK, layout)), kJisYenScan, KEYEVENTF_SCANCODE)};
  }
  const int mods = vks == -1 ? -1 : (vks >> 8) & 0xff;
  if (mods == 0 || mods == 1) {
    const uint16_t vk = static_cast<uint16_t>(vks & 0xff);
    const uint16_t scan = static_cast<uint16_t>(MapVirtualKeyExW(vk, MAPVK_VK_TO_VSC, layout));
    const bool need_shift = mods == 1, held = ShiftHeld();
    if (need_shift && !held) {
      before->push_back(KeyInput(VK_LSHIFT, 0x2a, KEYEVENTF_SCANCODE));
      after->push_back(KeyInput(VK_LSHIFT, 0x2a, KEYEVENTF_SCANCODE | KEYEVENTF_KEYUP));
    } else if (!need_shift && held) {
      for (uint32_t ks : {0xffe1u, 0xffe2u}) {
        auto it = down_.find(ks);
        if (it == down_.end()) continue;
        INPUT up = it->second.down.front();
        up.ki.dwFlags |= KEYEVENTF_KEYUP;
        before->push_back(up);
        after->push_back(it->second.down.front());
      }
    }
    if (scan != 0) return {KeyInput(vk, scan, KEYEVENTF_SCANCODE)};
    return {KeyInput(vk, 0, 0)};
  }
  // No key on this layout (or one needing Ctrl/Alt, i.e. AltGr): the character itself, as UTF-16.
  if (cp <= 0xffff) return {KeyInput(0, static_cast<uint16_t>(cp), KEYEVENTF_UNICODE)};
  const uint32_t v = cp - 0x10000;
  return {KeyInput(0, static_cast<uint16_t>(0xd800 + (v >> 10)), KEYEVENTF_UNICODE),
          KeyInput(0, static_cast<uint16_t>(0xdc00 + (v & 0x3ff)), KEYEVENTF_UNICODE)};
}

Status WinInput::Key(uint32_t keysym, bool down, bool* mapped) {
  *mapped = true;
  if (!down) {
    auto it = down_.find(keysym);
    if (it == down_.end()) return Status::Ok();  // never pressed (or already released)
    std::vector<INPUT> ups;
    for (INPUT in : it->second.down) {
      in.ki.dwFlags |= KEYEVENTF_KEYUP;
      ups.push_back(in);
    }
    down_.erase(it);
    return Send(std::move(ups));
  }
  auto held = down_.find(keysym);
  if (held != down_.end()) return Send(held->second.down);  // auto-repeat: press again, no release
  bool found = false;
  std::vector<INPUT> press = NamedKey(keysym, &found), before, after;
  if (!found) {
    const uint32_t cp = CodePoint(keysym);
    if (cp == 0) {
      *mapped = false;
      return Status::Ok();
    }
    press = CharacterKey(cp, &before, &after);
  }
  std::vector<INPUT> all = before;
  all.insert(all.end(), press.begin(), press.end());
  all.insert(all.end(), after.begin(), after.end());
  TC_RETURN_IF_ERROR(Send(std::move(all)));
  down_[keysym] = Pressed{press};
  return Status::Ok();
}

}  // namespace tilecast
