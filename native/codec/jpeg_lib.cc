#include "jpeg_lib.h"

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#include <cstring>
#include <mutex>
#include <vector>

namespace tilecast {
namespace jpeg {
namespace {

std::mutex g_mu;
std::vector<std::string> g_paths;
bool g_tried = false;
Lib g_lib{};
const Lib* g_loaded = nullptr;
std::string g_error;

#if defined(_WIN32)
// libjpeg-turbo's Windows builds name the TurboJPEG DLL turbojpeg.dll; the npm
// package links it statically into its own addon, so it is found only when the
// user put the DLL beside tilecast.node (binding.ts passes that full path) or,
// by name, in node.exe's folder or System32: LOAD_LIBRARY_SEARCH_DEFAULT_DIRS
// never searches PATH or the current directory, on purpose (DLL planting: a
// DLL from there would run inside the host). docs/capture-backends.md.
constexpr const char* kSystemLibrary = "turbojpeg.dll";

void* OpenLibrary(const std::string& utf8) {
  std::wstring wide(utf8.size() + 1, L'\0');
  const int n = MultiByteToWideChar(CP_UTF8, 0, utf8.c_str(), -1, wide.data(), static_cast<int>(wide.size()));
  if (n <= 0) return nullptr;
  return reinterpret_cast<void*>(LoadLibraryExW(wide.c_str(), nullptr, LOAD_LIBRARY_SEARCH_DEFAULT_DIRS));
}

void* Symbol(void* h, const char* name) {
  return reinterpret_cast<void*>(GetProcAddress(static_cast<HMODULE>(h), name));
}
#else
constexpr const char* kSystemLibrary = "libturbojpeg.so.0";

void* OpenLibrary(const std::string& name) { return dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL); }

void* Symbol(void* h, const char* name) { return dlsym(h, name); }
#endif

template <typename Fn>
bool Bind(void* h, const char* name, Fn& slot) {
  slot = reinterpret_cast<Fn>(Symbol(h, name));
  return slot != nullptr;
}

// Encodes a small gradient and reads the header back: proves the enum values
// we hard-code mean what we think in the library we loaded.
bool SelfCheck(const Lib& l, std::string* why) {
  const int w = 24, h = 16;
  std::vector<unsigned char> px(w * h * 4);
  for (int i = 0; i < w * h; ++i) {
    px[i * 4] = static_cast<unsigned char>(i * 7);
    px[i * 4 + 1] = static_cast<unsigned char>(i * 3);
    px[i * 4 + 2] = static_cast<unsigned char>(255 - i);
  }
  Handle c = l.tj3Init(kInitCompress);
  Handle d = l.tj3Init(kInitDecompress);
  unsigned char* jpeg = nullptr;
  size_t size = 0;
  bool ok = c && d && l.tj3Set(c, kQuality, 75) == 0 && l.tj3Set(c, kSubsamp, kSamp420) == 0 &&
            l.tj3Compress8(c, px.data(), w, w * 4, h, kPfBgrx, &jpeg, &size) == 0 &&
            l.tj3DecompressHeader(d, jpeg, size) == 0 && l.tj3Get(d, kJpegWidth) == w &&
            l.tj3Get(d, kJpegHeight) == h && l.tj3Get(d, kSubsamp) == kSamp420 && l.tj3Get(d, kPrecision) == 8 &&
            l.tj3Get(d, kColorspace) == kCsYCbCr && l.tj3Get(d, kProgressive) == 0;
  if (!ok) *why = "libturbojpeg failed its self-check (not a TurboJPEG 3 library?)";
  if (jpeg) l.tj3Free(jpeg);
  if (c) l.tj3Destroy(c);
  if (d) l.tj3Destroy(d);
  return ok;
}

}  // namespace

void SetLibraryPaths(const std::vector<std::string>& paths) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_loaded) {
    g_paths = paths;
    g_tried = false;
  }
}

const Lib* Get(std::string* error) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_loaded || g_tried) {
    if (!g_loaded && error) *error = g_error;
    return g_loaded;
  }
  g_tried = true;
  std::vector<std::string> names = g_paths;
  names.push_back(kSystemLibrary);
  void* h = nullptr;
  for (const std::string& n : names) {
    if ((h = OpenLibrary(n))) break;
  }
  if (!h) {
#if defined(_WIN32)
    g_error = "JPEG unavailable, lossless only: turbojpeg.dll not found (copy libjpeg-turbo 3's turbojpeg.dll "
              "beside tilecast.node; PATH is not searched)";
#else
    std::string tried;
    for (const std::string& n : names) tried += (tried.empty() ? "" : ", ") + n;
    g_error = "JPEG unavailable, lossless only: no libturbojpeg (libjpeg-turbo 3) could be loaded (tried " + tried +
              "). tilecast's prebuilt binaries ship it; for a build from source install libjpeg-turbo 3.0 or later";
#endif
    if (error) *error = g_error;
    return nullptr;
  }
  Lib& l = g_lib;
  const bool bound = Bind(h, "tj3Init", l.tj3Init) && Bind(h, "tj3Destroy", l.tj3Destroy) &&
                     Bind(h, "tj3Set", l.tj3Set) && Bind(h, "tj3Get", l.tj3Get) &&
                     Bind(h, "tj3Compress8", l.tj3Compress8) && Bind(h, "tj3DecompressHeader", l.tj3DecompressHeader) &&
                     Bind(h, "tj3Decompress8", l.tj3Decompress8) && Bind(h, "tj3Free", l.tj3Free) &&
                     Bind(h, "tj3GetErrorStr", l.tj3GetErrorStr);
  if (!bound) {
    g_error = "JPEG unavailable, lossless only: the libturbojpeg found lacks the TurboJPEG 3 API (libjpeg-turbo 3.0 or later is needed)";
  } else if (SelfCheck(l, &g_error)) {
    g_loaded = &g_lib;
    return g_loaded;
  }
  // The handle stays open: dlclose of a library whose self-check ran is not worth the risk.
  if (error) *error = g_error;
  return nullptr;
}

}  // namespace jpeg
}  // namespace tilecast
