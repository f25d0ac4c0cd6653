#include "wasapi_device.h"

#include <audioclient.h>
// Defines (not just declares) PKEY_Device_FriendlyName in this file.
#include <initguid.h>
#include <functiondiscoverykeys_devpkey.h>

#include <cstdio>

namespace tilecast {
namespace wasapi {

ComApartment::ComApartment() : hr_(CoInitializeEx(nullptr, COINIT_MULTITHREADED)) {}

ComApartment::~ComApartment() {
  if (SUCCEEDED(hr_)) CoUninitialize();
}

Status ComApartment::status() const {
  // RPC_E_CHANGED_MODE: this thread is already in a single-threaded apartment; WASAPI works there too.
  if (SUCCEEDED(hr_) || hr_ == RPC_E_CHANGED_MODE) return Status::Ok();
  return AudioError("CoInitializeEx", hr_);
}

std::string Utf8(const wchar_t* s) {
  if (!s || !*s) return {};
  const int n = WideCharToMultiByte(CP_UTF8, 0, s, -1, nullptr, 0, nullptr, nullptr);
  if (n <= 1) return {};
  std::string out(static_cast<size_t>(n - 1), '\0');
  WideCharToMultiByte(CP_UTF8, 0, s, -1, &out[0], n, nullptr, nullptr);
  return out;
}

std::wstring Wide(const std::string& s) {
  if (s.empty()) return {};
  const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  if (n <= 0) return {};
  std::wstring out(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), &out[0], n);
  return out;
}

std::string AudioHresultText(HRESULT hr) {
  // E_NOTFOUND is not a constant expression with MSVC's headers (HRESULT_FROM_WIN32 is a function there).
  const char* name = hr == E_NOTFOUND ? "E_NOTFOUND: no such endpoint (no sound device?)" : nullptr;
  switch (hr) {
    case AUDCLNT_E_DEVICE_INVALIDATED: name = "AUDCLNT_E_DEVICE_INVALIDATED: the device was removed or reconfigured"; break;
    case AUDCLNT_E_WRONG_ENDPOINT_TYPE: name = "AUDCLNT_E_WRONG_ENDPOINT_TYPE: this system cannot do this on that endpoint (Wine has no loopback capture)"; break;
    case AUDCLNT_E_UNSUPPORTED_FORMAT: name = "AUDCLNT_E_UNSUPPORTED_FORMAT"; break;
    case AUDCLNT_E_DEVICE_IN_USE: name = "AUDCLNT_E_DEVICE_IN_USE: an application holds it in exclusive mode"; break;
    case AUDCLNT_E_SERVICE_NOT_RUNNING: name = "AUDCLNT_E_SERVICE_NOT_RUNNING: the Windows Audio service is stopped"; break;
    case AUDCLNT_E_ENDPOINT_CREATE_FAILED: name = "AUDCLNT_E_ENDPOINT_CREATE_FAILED"; break;
    case AUDCLNT_E_CPUUSAGE_EXCEEDED: name = "AUDCLNT_E_CPUUSAGE_EXCEEDED"; break;
    case E_ACCESSDENIED: name = "E_ACCESSDENIED: microphone/sound access is blocked by privacy settings or policy"; break;
    case E_OUTOFMEMORY: name = "E_OUTOFMEMORY"; break;
    default: break;
  }
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08lX", static_cast<unsigned long>(hr));
  return name ? std::string(name) + " (" + hex + ")" : std::string(hex);
}

Status AudioError(const char* what, HRESULT hr) {
  return Status::Error(ErrorCode::kUnavailable, std::string(what) + " failed: " + AudioHresultText(hr));
}

namespace {

Status Enumerator(Com<IMMDeviceEnumerator>* out) {
  HRESULT hr = CoCreateInstance(__uuidof(MMDeviceEnumerator), nullptr, CLSCTX_ALL, __uuidof(IMMDeviceEnumerator), out->put_void());
  return FAILED(hr) ? AudioError("creating the audio device enumerator", hr) : Status::Ok();
}

std::string DeviceId(IMMDevice* d) {
  LPWSTR id = nullptr;
  if (FAILED(d->GetId(&id)) || !id) return {};
  std::string s = Utf8(id);
  CoTaskMemFree(id);
  return s;
}

std::string FriendlyName(IMMDevice* d) {
  Com<IPropertyStore> props;
  if (FAILED(d->OpenPropertyStore(STGM_READ, props.put()))) return {};
  PROPVARIANT v;
  PropVariantInit(&v);
  std::string name;
  if (SUCCEEDED(props->GetValue(PKEY_Device_FriendlyName, &v)) && v.vt == VT_LPWSTR) name = Utf8(v.pwszVal);
  PropVariantClear(&v);
  return name;
}

std::string DefaultId(IMMDeviceEnumerator* en, EDataFlow flow) {
  Com<IMMDevice> d;
  return SUCCEEDED(en->GetDefaultAudioEndpoint(flow, eConsole, d.put())) ? DeviceId(d.get()) : std::string();
}

std::wstring Lower(std::wstring s) {
  if (!s.empty()) CharLowerBuffW(&s[0], static_cast<DWORD>(s.size()));
  return s;
}

}  // namespace

Status ListEndpoints(std::vector<Endpoint>* out) {
  out->clear();
  Com<IMMDeviceEnumerator> en;
  TC_RETURN_IF_ERROR(Enumerator(&en));
  for (EDataFlow flow : {eRender, eCapture}) {
    Com<IMMDeviceCollection> all;
    HRESULT hr = en->EnumAudioEndpoints(flow, DEVICE_STATE_ACTIVE, all.put());
    if (FAILED(hr)) return AudioError("listing audio endpoints", hr);
    UINT count = 0;
    all->GetCount(&count);
    const std::string default_id = DefaultId(en.get(), flow);
    for (UINT i = 0; i < count; ++i) {
      Com<IMMDevice> d;
      if (FAILED(all->Item(i, d.put()))) continue;
      Endpoint e;
      e.id = DeviceId(d.get());
      e.name = FriendlyName(d.get());
      e.render = flow == eRender;
      e.is_default = !e.id.empty() && e.id == default_id;
      out->push_back(std::move(e));
    }
  }
  return Status::Ok();
}

Status FindEndpoint(const std::string& query, Want want, Com<IMMDevice>* device, Endpoint* found) {
  Com<IMMDeviceEnumerator> en;
  TC_RETURN_IF_ERROR(Enumerator(&en));
  if (query.empty()) {
    if (want == Want::kCapture) return Status::Error(ErrorCode::kInvalidArgument, "a capture endpoint must be named");
    HRESULT hr = en->GetDefaultAudioEndpoint(eRender, eConsole, device->put());
    if (FAILED(hr)) return AudioError("finding the default sound output", hr);
    found->id = DeviceId(device->get());
    found->name = FriendlyName(device->get());
    found->render = true;
    found->is_default = true;
    return Status::Ok();
  }
  std::vector<Endpoint> all;
  TC_RETURN_IF_ERROR(ListEndpoints(&all));
  std::vector<const Endpoint*> usable;
  for (const Endpoint& e : all) {
    if (want == Want::kAny || e.render == (want == Want::kRender)) usable.push_back(&e);
  }
  const Endpoint* pick = nullptr;
  for (const Endpoint* e : usable) {
    if (e->id == query) pick = e;
  }
  if (!pick) {
    std::vector<const Endpoint*> exact;
    for (const Endpoint* e : usable) {
      if (e->name == query) exact.push_back(e);
    }
    if (exact.size() == 1) pick = exact[0];  // several with that name: ambiguous, fall through
  }
  std::vector<const Endpoint*> partial;
  if (!pick) {
    const std::wstring q = Lower(Wide(query));
    for (const Endpoint* e : usable) {
      if (Lower(Wide(e->name)).find(q) != std::wstring::npos) partial.push_back(e);
    }
    if (partial.size() == 1) pick = partial[0];
  }
  if (!pick) {
    const auto& listed = partial.empty() ? usable : partial;
    std::string names;
    for (const Endpoint* e : listed) names += (names.empty() ? "" : ", ") + std::string("\"") + e->name + "\"";
    const char* kind = want == Want::kRender ? "sound output" : want == Want::kCapture ? "sound input" : "sound device";
    return Status::Error(ErrorCode::kUnavailable, std::string(partial.size() > 1 ? "several " : "no ") + kind + "s match \"" + query + "\"" +
                                                      (names.empty() ? " (there are none)" : "; there are: " + names));
  }
  HRESULT hr = en->GetDevice(Wide(pick->id).c_str(), device->put());
  if (FAILED(hr)) return AudioError("opening the sound device", hr);
  *found = *pick;
  return Status::Ok();
}

}  // namespace wasapi
}  // namespace tilecast
