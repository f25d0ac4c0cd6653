// InputInjector: what a platform's input injection provides to the binding.
// X11 (XTEST, x11_input.*) and Windows (SendInput, win_input.*) implement it.
// Coordinates are in the captured screen's pixels; buttons use X numbering on
// every platform (1 left, 2 middle, 3 right, 4/5 wheel up/down, 6/7 wheel
// left/right, 8/9 back/forward), keys are X keysyms (src/input/keysyms.ts).
// Destroying an injector releases every key it still holds down.
#pragma once
#include <cstdint>

#include "../util/status.h"

namespace tilecast {

class InputInjector {
 public:
  virtual ~InputInjector() = default;
  virtual Status Move(int32_t x, int32_t y) = 0;
  virtual Status Button(uint32_t button, bool down) = 0;
  // *mapped is false when the keysym cannot be typed here.
  virtual Status Key(uint32_t keysym, bool down, bool* mapped) = 0;
  virtual uint32_t width() const = 0;
  virtual uint32_t height() const = 0;
};

}  // namespace tilecast
