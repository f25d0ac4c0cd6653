// WASAPI endpoints (Windows): COM on the calling thread, listing the active
// render and capture endpoints with their friendly names, finding one by what
// a user would type, and readable AUDCLNT_E_* text.
#pragma once
#if !defined(_WIN32)
#error "Windows only"
#endif
#include <windows.h>
#include <mmdeviceapi.h>

#include <string>
#include <vector>

#include "../util/com_ptr.h"
#include "../util/status.h"

namespace tilecast {
namespace wasapi {

struct Endpoint {
  std::string id;    // IMMDevice::GetId, stable across reboots
  std::string name;  // PKEY_Device_FriendlyName, e.g. "Speakers (Realtek(R) Audio)"
  bool render = false;
  bool is_default = false;  // the default endpoint of its direction (eConsole role)
};

// COM (multithreaded apartment) for the lifetime of the object, on the thread that made it.
class ComApartment {
 public:
  ComApartment();
  ~ComApartment();
  ComApartment(const ComApartment&) = delete;
  ComApartment& operator=(const ComApartment&) = delete;
  Status status() const;

 private:
  HRESULT hr_;
};

// Every active endpoint, render first. COM must be initialised on the calling thread.
Status ListEndpoints(std::vector<Endpoint>* out);

enum class Want { kRender, kCapture, kAny };

// The endpoint a user named: its id, else its exact friendly name, else the
// one friendly name containing `query` (case-insensitive); an empty query is
// the default render endpoint. Several matches or none: ERR_UNAVAILABLE
// listing the candidates, so the message says what to type instead.
Status FindEndpoint(const std::string& query, Want want, Com<IMMDevice>* device, Endpoint* found);

std::string Utf8(const wchar_t* s);
std::wstring Wide(const std::string& s);

// "AUDCLNT_E_DEVICE_INVALIDATED (0x88890004)" for the codes WASAPI returns, else the hex.
std::string AudioHresultText(HRESULT hr);
Status AudioError(const char* what, HRESULT hr);

}  // namespace wasapi
}  // namespace tilecast
