// X11Input: injects pointer and keyboard events into an X server through XTEST,
// on its own Display connection (capture has another, on its own thread).
//
// Keys are injected by keysym, the way VNC servers do it: the keysym is looked
// up in the server's keyboard map; a keysym the map lacks (a JIS key on a US
// map, a CJK character) is bound to a spare keycode first. For characters the
// Shift state is adjusted around the press so the server produces exactly the
// keysym the viewer asked for, whatever the two keyboard layouts are.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../capture/x11_lib.h"
#include "../util/status.h"
#include "input_injector.h"

namespace tilecast {

class X11Input final : public InputInjector {
 public:
  static Status Open(const std::string& display_name, std::unique_ptr<X11Input>* out);
  ~X11Input() override;
  X11Input(const X11Input&) = delete;
  X11Input& operator=(const X11Input&) = delete;

  Status Move(int32_t x, int32_t y) override;
  Status Button(uint32_t button, bool down) override;
  // *mapped is false when the keysym has no keycode and none could be bound.
  Status Key(uint32_t keysym, bool down, bool* mapped) override;
  uint32_t width() const override { return width_; }
  uint32_t height() const override { return height_; }

 private:
  X11Input() = default;
  Status LoadKeymap();
  void DrainEvents();
  // Keycode and shift level (0 or 1) producing `keysym`, or keycode 0.
  std::pair<x11::KeyCode, int> Lookup(x11::KeySym keysym) const;
  x11::KeyCode BindSpare(x11::KeySym keysym);
  x11::KeySym SymAt(x11::KeyCode kc, int level) const;
  bool ShiftHeld() const;
  Status Check();

  const x11::Lib* lib_ = nullptr;
  x11::Display* dpy_ = nullptr;
  uint32_t width_ = 0, height_ = 0;
  int min_keycode_ = 8, max_keycode_ = 255, syms_per_code_ = 0;
  std::vector<x11::KeySym> keymap_;
  std::vector<x11::KeyCode> spare_;  // keycodes with no symbols: ours to bind
  size_t next_spare_ = 0;
  std::map<uint32_t, x11::KeyCode> down_;  // keysym -> keycode pressed for it
};

}  // namespace tilecast
