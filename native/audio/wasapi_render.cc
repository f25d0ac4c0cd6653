#include "wasapi_render.h"

#include <audioclient.h>

#include <algorithm>
#include <cstring>

namespace tilecast {
namespace wasapi {
namespace {

constexpr REFERENCE_TIME kBufferDuration = 400000;  // 40 ms, 100 ns units
constexpr DWORD kWakeMs = 10;

}  // namespace

Status WasapiRender::Start(const std::string& device, OnEnd on_end, Endpoint* opened) {
  if (thread_.running()) return Status::Error(ErrorCode::kBusy, "the sound output is already running");
  on_end_ = std::move(on_end);
  return thread_.Start([=](HANDLE stop, std::promise<Status>& started) { Run(stop, device, started, opened); });
}

size_t WasapiRender::Write(const int16_t* samples, size_t count) {
  std::lock_guard<std::mutex> lock(mu_);
  return ring_.Write(samples, count);
}

size_t WasapiRender::Queued() {
  std::lock_guard<std::mutex> lock(mu_);
  return ring_.size();
}

void WasapiRender::Run(HANDLE stop, const std::string& device, std::promise<Status>& started, Endpoint* opened) {
  HANDLE ready = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  Com<IMMDevice> endpoint;
  Com<IAudioClient> client;
  Com<IAudioRenderClient> render;
  UINT32 buffer_frames = 0;
  auto open = [&]() -> Status {
    if (!ready) return Status::Error(ErrorCode::kUnavailable, "CreateEvent failed");
    TC_RETURN_IF_ERROR(FindEndpoint(device, Want::kRender, &endpoint, opened));
    HRESULT hr = endpoint->Activate(__uuidof(IAudioClient), CLSCTX_ALL, nullptr, client.put_void());
    if (FAILED(hr)) return AudioError("activating the sound output", hr);
    WAVEFORMATEX format{};
    format.wFormatTag = WAVE_FORMAT_PCM;
    format.nChannels = 1;
    format.nSamplesPerSec = kRenderRate;
    format.wBitsPerSample = 16;
    format.nBlockAlign = 2;
    format.nAvgBytesPerSec = kRenderRate * 2;
    hr = client->Initialize(AUDCLNT_SHAREMODE_SHARED, AUDCLNT_STREAMFLAGS_EVENTCALLBACK | AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM | AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY,
                            kBufferDuration, 0, &format, nullptr);
    if (FAILED(hr)) return AudioError("opening a 48 kHz 16-bit mono output stream", hr);
    if (FAILED(hr = client->SetEventHandle(ready))) return AudioError("SetEventHandle", hr);
    if (FAILED(hr = client->GetBufferSize(&buffer_frames))) return AudioError("GetBufferSize", hr);
    if (FAILED(hr = client->GetService(__uuidof(IAudioRenderClient), render.put_void()))) return AudioError("GetService(IAudioRenderClient)", hr);
    if (FAILED(hr = client->Start())) return AudioError("starting the output stream", hr);
    return Status::Ok();
  };
  Status status = open();
  started.set_value(status);  // `started` and `opened` are gone after this
  Status ended;
  std::vector<int16_t> scratch(status.ok() ? buffer_frames : 0);
  while (status.ok()) {
    const HANDLE waits[2] = {stop, ready};
    if (WaitForMultipleObjects(2, waits, FALSE, kWakeMs) == WAIT_OBJECT_0) break;
    UINT32 padding = 0;
    HRESULT hr = client->GetCurrentPadding(&padding);
    if (SUCCEEDED(hr) && padding < buffer_frames) {
      size_t n;
      {
        std::lock_guard<std::mutex> lock(mu_);
        n = ring_.Take(scratch.data(), buffer_frames - padding);
      }
      BYTE* data = nullptr;
      if (n > 0 && SUCCEEDED(hr = render->GetBuffer(static_cast<UINT32>(n), &data))) {
        std::memcpy(data, scratch.data(), n * sizeof(int16_t));
        hr = render->ReleaseBuffer(static_cast<UINT32>(n), 0);
      }
    }
    if (FAILED(hr)) {
      ended = AudioError("playing into the sound output", hr);
      break;
    }
  }
  if (client) client->Stop();
  render.reset();
  client.reset();
  endpoint.reset();
  if (ready) CloseHandle(ready);
  if (!ended.ok() && on_end_) on_end_(ended);
}

}  // namespace wasapi
}  // namespace tilecast
