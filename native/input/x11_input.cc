#include "x11_input.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace tilecast {
namespace {

using namespace x11;

constexpr KeySym kShiftL = 0xffe1, kShiftR = 0xffe2;

// Characters: Latin-1 and the legacy keysym blocks below 0xfe00, and Unicode
// keysyms (0x01000000 | code point). Everything else is a function/modifier key.
bool IsCharacter(KeySym ks) { return ks < 0xfe00 || (ks >= 0x01000000 && ks <= 0x0110ffff); }

}  // namespace

Status X11Input::Open(const std::string& display_name, std::unique_ptr<X11Input>* out) {
  std::string error;
  const Lib* lib = LoadLib(&error);
  if (!lib) return Status::Error(ErrorCode::kUnavailable, error);
  if (!lib->has_xtest()) return Status::Error(ErrorCode::kUnavailable, "libXtst.so.6 not found: input injection needs XTEST");
  Display* dpy = lib->XOpenDisplay(display_name.empty() ? nullptr : display_name.c_str());
  if (!dpy) return Status::Error(ErrorCode::kUnavailable, "cannot open X display '" + display_name + "' for input");
  InstallErrorHandlers(*lib, dpy);
  std::unique_ptr<X11Input> in(new X11Input());
  in->lib_ = lib;
  in->dpy_ = dpy;
  int ev = 0, err = 0, major = 0, minor = 0;
  if (!lib->XTestQueryExtension(dpy, &ev, &err, &major, &minor)) {
    return Status::Error(ErrorCode::kUnavailable, "the X server has no XTEST extension: input injection is not possible");
  }
  Window root = lib->XRootWindow(dpy, lib->XDefaultScreen(dpy)), root_ret = 0;
  int x = 0, y = 0;
  unsigned int w = 0, h = 0, border = 0, depth = 0;
  lib->XGetGeometry(dpy, root, &root_ret, &x, &y, &w, &h, &border, &depth);
  in->width_ = w;
  in->height_ = h;
  TC_RETURN_IF_ERROR(in->LoadKeymap());
  *out = std::move(in);
  return Status::Ok();
}

X11Input::~X11Input() {
  if (!dpy_) return;
  if (!DisplayIsDead(dpy_)) {
    // Leave no key held down by us, then give the spare keycodes back.
    for (const auto& [keysym, kc] : down_) lib_->XTestFakeKeyEvent(dpy_, kc, 0, 0);
    std::vector<KeySym> none(static_cast<size_t>(std::max(1, syms_per_code_)), 0);
    for (KeyCode kc : spare_) {
      if (SymAt(kc, 0) != 0) lib_->XChangeKeyboardMapping(dpy_, kc, syms_per_code_, none.data(), 1);
    }
    lib_->XSync(dpy_, 0);
    lib_->XCloseDisplay(dpy_);
  }
  ForgetDisplay(dpy_);
}

Status X11Input::Check() {
  if (DisplayIsDead(dpy_)) return Status::Error(ErrorCode::kUnavailable, "the connection to the X server was lost");
  return Status::Ok();
}

Status X11Input::LoadKeymap() {
  lib_->XDisplayKeycodes(dpy_, &min_keycode_, &max_keycode_);
  const int count = max_keycode_ - min_keycode_ + 1;
  if (min_keycode_ < 8 || max_keycode_ > 255 || count <= 0) return Status::Error(ErrorCode::kUnavailable, "X keycode range is invalid");
  int per = 0;
  KeySym* map = lib_->XGetKeyboardMapping(dpy_, static_cast<KeyCode>(min_keycode_), count, &per);
  if (!map || per <= 0 || per > 64) {
    if (map) lib_->XFree(map);
    TC_RETURN_IF_ERROR(Check());
    return Status::Error(ErrorCode::kUnavailable, "cannot read the X keyboard map");
  }
  syms_per_code_ = per;
  keymap_.assign(map, map + static_cast<size_t>(count) * per);
  lib_->XFree(map);
  // Spare keycodes are found once; later reloads keep the ones we bound.
  if (spare_.empty()) {
    for (int kc = max_keycode_; kc >= min_keycode_; kc--) {
      bool empty = true;
      for (int l = 0; l < per; l++) empty = empty && SymAt(static_cast<KeyCode>(kc), l) == 0;
      if (empty) spare_.push_back(static_cast<KeyCode>(kc));
    }
  }
  return Status::Ok();
}

KeySym X11Input::SymAt(KeyCode kc, int level) const {
  if (kc < min_keycode_ || kc > max_keycode_ || level >= syms_per_code_) return 0;
  return keymap_[static_cast<size_t>(kc - min_keycode_) * syms_per_code_ + level];
}

std::pair<KeyCode, int> X11Input::Lookup(KeySym keysym) const {
  for (int level = 0; level < std::min(2, syms_per_code_); level++) {
    for (int kc = min_keycode_; kc <= max_keycode_; kc++) {
      if (SymAt(static_cast<KeyCode>(kc), level) == keysym) return {static_cast<KeyCode>(kc), level};
    }
  }
  return {0, 0};
}

KeyCode X11Input::BindSpare(KeySym keysym) {
  for (size_t tries = 0; tries < spare_.size(); tries++) {
    const KeyCode kc = spare_[next_spare_++ % spare_.size()];
    bool held = false;
    for (const auto& [sym, code] : down_) held = held || code == kc;
    if (held) continue;
    // Same keysym at both levels: the Shift state does not matter for it.
    std::vector<KeySym> syms(static_cast<size_t>(syms_per_code_), 0);
    syms[0] = keysym;
    if (syms_per_code_ > 1) syms[1] = keysym;
    lib_->XChangeKeyboardMapping(dpy_, kc, syms_per_code_, syms.data(), 1);
    std::copy(syms.begin(), syms.end(), keymap_.begin() + static_cast<ptrdiff_t>(kc - min_keycode_) * syms_per_code_);
    // Clients learn the new mapping from MappingNotify and refetch it lazily;
    // one that is busy can still read the key press with its old map and see
    // nothing. Let the change settle first (once per newly bound keysym).
    lib_->XSync(dpy_, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return kc;
  }
  return 0;
}

bool X11Input::ShiftHeld() const {
  for (const auto& [sym, code] : down_) {
    if (sym == kShiftL || sym == kShiftR) return true;
  }
  return false;
}

void X11Input::DrainEvents() {
  // We select no events, but every client gets MappingNotify: reload then.
  bool reload = false;
  while (lib_->XPending(dpy_) > 0) {
    XEvent ev;
    lib_->XNextEvent(dpy_, &ev);
    if (ev.type == kMappingNotify) {
      lib_->XRefreshKeyboardMapping(&ev);
      reload = true;
    }
  }
  if (reload) LoadKeymap();
}

Status X11Input::Move(int32_t x, int32_t y) {
  TC_RETURN_IF_ERROR(Check());
  lib_->XTestFakeMotionEvent(dpy_, -1, x, y, 0);
  lib_->XFlush(dpy_);
  return Check();
}

Status X11Input::Button(uint32_t button, bool down) {
  if (button < 1 || button > 9) return Status::Error(ErrorCode::kInvalidArgument, "X button must be 1..9");
  TC_RETURN_IF_ERROR(Check());
  lib_->XTestFakeButtonEvent(dpy_, button, down ? 1 : 0, 0);
  lib_->XFlush(dpy_);
  return Check();
}

Status X11Input::Key(uint32_t keysym, bool down, bool* mapped) {
  *mapped = true;
  TC_RETURN_IF_ERROR(Check());
  DrainEvents();
  if (!down) {
    auto it = down_.find(keysym);
    if (it == down_.end()) return Status::Ok();  // never pressed (or already released)
    lib_->XTestFakeKeyEvent(dpy_, it->second, 0, 0);
    down_.erase(it);
    lib_->XFlush(dpy_);
    return Check();
  }
  if (down_.count(keysym)) {
    // Auto-repeat: press again without a release, as a real keyboard does.
    lib_->XTestFakeKeyEvent(dpy_, down_[keysym], 1, 0);
    lib_->XFlush(dpy_);
    return Check();
  }
  auto [kc, level] = Lookup(keysym);
  bool bound = false;
  if (kc == 0) {
    kc = BindSpare(keysym);
    bound = true;
    if (kc == 0) {
      *mapped = false;
      return Status::Ok();
    }
  }
  std::vector<KeyCode> shifts;  // Shift keys to release around the press
  KeyCode fake_shift = 0;       // Shift to hold around the press
  if (IsCharacter(keysym) && !bound) {
    const bool held = ShiftHeld();
    if (level == 1 && !held) {
      fake_shift = Lookup(kShiftL).first;
    } else if (level == 0 && held && SymAt(kc, 1) != 0 && SymAt(kc, 1) != keysym) {
      for (const auto& [sym, code] : down_) {
        if (sym == kShiftL || sym == kShiftR) shifts.push_back(code);
      }
    }
  }
  if (fake_shift) lib_->XTestFakeKeyEvent(dpy_, fake_shift, 1, 0);
  for (KeyCode s : shifts) lib_->XTestFakeKeyEvent(dpy_, s, 0, 0);
  lib_->XTestFakeKeyEvent(dpy_, kc, 1, 0);
  for (KeyCode s : shifts) lib_->XTestFakeKeyEvent(dpy_, s, 1, 0);
  if (fake_shift) lib_->XTestFakeKeyEvent(dpy_, fake_shift, 0, 0);
  down_[keysym] = kc;
  lib_->XFlush(dpy_);
  return Check();
}

}  // namespace tilecast
