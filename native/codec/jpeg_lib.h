// JpegLib: libjpeg-turbo's TurboJPEG 3 API, loaded at run time (dlopen; LoadLibrary on Windows).
//
// tilecast's prebuilt binaries ship libturbojpeg.so.0 (libjpeg-turbo 3 with its
// SIMD kernels) beside the addon (scripts/prebuild.js), so `npm install` alone
// provides it; the JS side (src/native/binding.ts) passes the files to try
// before first use. The system's libturbojpeg.so.0 is tried last (distributions
// with libjpeg-turbo 3); without any, JPEG is off and everything goes lossless.
// Only the functions and constants below are used; their values are those of
// turbojpeg.h 3.x, and Load() checks them with a round trip before any use.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace tilecast {
namespace jpeg {

using Handle = void*;

// turbojpeg.h enums (TurboJPEG 3.x), values as in the header.
enum InitType { kInitCompress = 0, kInitDecompress = 1 };
enum Param {
  kStopOnWarning = 0,
  kQuality = 3,
  kSubsamp = 4,
  kJpegWidth = 5,
  kJpegHeight = 6,
  kPrecision = 7,
  kColorspace = 8,
  kFastUpsample = 9,
  kFastDct = 10,
  kOptimize = 11,
  kProgressive = 12,
  kScanLimit = 13,
  kArithmetic = 14,
  kLossless = 15,
  kMaxMemory = 23,
  kMaxPixels = 24,
};
enum PixelFormat { kPfBgrx = 3 };
enum Subsamp { kSamp444 = 0, kSamp422 = 1, kSamp420 = 2, kSampGray = 3 };
enum Colorspace { kCsRgb = 0, kCsYCbCr = 1, kCsGray = 2 };

struct Lib {
  Handle (*tj3Init)(int init_type);
  void (*tj3Destroy)(Handle);
  int (*tj3Set)(Handle, int param, int value);
  int (*tj3Get)(Handle, int param);
  int (*tj3Compress8)(Handle, const unsigned char* src, int width, int pitch, int height, int pixel_format,
                      unsigned char** jpeg, size_t* jpeg_size);
  int (*tj3DecompressHeader)(Handle, const unsigned char* jpeg, size_t jpeg_size);
  int (*tj3Decompress8)(Handle, const unsigned char* jpeg, size_t jpeg_size, unsigned char* dst, int pitch,
                        int pixel_format);
  void (*tj3Free)(void* ptr);
  char* (*tj3GetErrorStr)(Handle);
};

// Sets the files to try, in order, before the system's libturbojpeg.so.0
// (before the first Get(); ignored once loaded). A file built for another libc
// simply fails to load and the next is tried.
void SetLibraryPaths(const std::vector<std::string>& paths);

// The loaded library, or nullptr with *error saying why (missing file, missing
// symbols, or a round-trip self-check that failed).
const Lib* Get(std::string* error);

}  // namespace jpeg
}  // namespace tilecast
