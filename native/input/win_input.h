// WinInput: injects viewer input into the Windows desktop with SendInput.
//
// Pointer: absolute moves over the virtual desktop (MOUSEEVENTF_VIRTUALDESK),
// offset by the captured monitor's origin, so capture and input agree.
// Keys arrive as X keysyms (src/input/keysyms.ts maps browser codes to them,
// JIS keys included). Function, modifier, keypad, media and JIS keys go by
// scan code from a fixed table (win_input.cc); when the host's layout sends
// that scan code to a different virtual key (a JIS key on a US layout), the
// virtual key is sent instead, so 変換/無変換/かな/半角全角 reach the IME on any
// layout. Characters use the host layout's own key (VkKeyScanEx) with Shift
// adjusted around the press, as on X11, and KEYEVENTF_UNICODE where the layout
// has no key for them (CJK, or characters needing AltGr).
#pragma once
#if !defined(_WIN32)
#error "Windows only"
#endif
#include <windows.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "../util/status.h"
#include "input_injector.h"

namespace tilecast {

class WinInput final : public InputInjector {
 public:
  // `monitor`: index in EnumDisplayMonitors order, -1 the primary (as the capture backend).
  static Status Open(int32_t monitor, std::unique_ptr<WinInput>* out);
  ~WinInput() override;
  WinInput(const WinInput&) = delete;
  WinInput& operator=(const WinInput&) = delete;

  Status Move(int32_t x, int32_t y) override;
  Status Button(uint32_t button, bool down) override;
  Status Key(uint32_t keysym, bool down, bool* mapped) override;
  uint32_t width() const override { return static_cast<uint32_t>(monitor_.right - monitor_.left); }
  uint32_t height() const override { return static_cast<uint32_t>(monitor_.bottom - monitor_.top); }

 private:
  // What was pressed for a keysym, so its release sends the matching event.
  struct Pressed {
    std::vector<INPUT> down;  // the key events of the press (one or two for UTF-16 pairs)
  };
  WinInput() = default;
  Status Send(std::vector<INPUT> inputs);
  bool ShiftHeld() const;
  std::vector<INPUT> NamedKey(uint32_t keysym, bool* found) const;
  std::vector<INPUT> CharacterKey(uint32_t cp, std::vector<INPUT>* before, std::vector<INPUT>* after) const;

  RECT monitor_{};
  std::map<uint32_t, Pressed> down_;
};

}  // namespace tilecast
