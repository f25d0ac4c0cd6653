#include "wasapi_capture.h"

#include "loopback_timeline.h"

#include <audioclient.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace tilecast {
namespace wasapi {
namespace {

// The engine's buffer: the thread drains it at least every kWakeMs, so 50 ms leaves room for a late wake.
constexpr REFERENCE_TIME kBufferDuration = 500000;  // 100 ns units
constexpr DWORD kWakeMs = 10;
constexpr int64_t kUnitsPerSecond = LoopbackTimeline::kUnitsPerSecond;  // 100 ns: WASAPI's and its QPC stamps' unit

int64_t QpcNow() {
  LARGE_INTEGER c, f;
  QueryPerformanceCounter(&c);
  QueryPerformanceFrequency(&f);
  return c.QuadPart / f.QuadPart * kUnitsPerSecond + c.QuadPart % f.QuadPart * kUnitsPerSecond / f.QuadPart;
}

// Signals `event` when the default output (console role) changes. COM calls it on its own threads.
class DefaultOutputWatch final : public IMMNotificationClient {
 public:
  explicit DefaultOutputWatch(HANDLE event) : event_(event) {}
  ULONG STDMETHODCALLTYPE AddRef() override { return ++refs_; }
  ULONG STDMETHODCALLTYPE Release() override { return --refs_; }  // lives on the capture thread's stack
  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID iid, void** out) override {
    if (iid == __uuidof(IUnknown) || iid == __uuidof(IMMNotificationClient)) {
      *out = static_cast<IMMNotificationClient*>(this);
      AddRef();
      return S_OK;
    }
    *out = nullptr;
    return E_NOINTERFACE;
  }
  HRESULT STDMETHODCALLTYPE OnDefaultDeviceChanged(EDataFlow flow, ERole role, LPCWSTR) override {
    if (flow == eRender && role == eConsole) SetEvent(event_);
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE OnDeviceStateChanged(LPCWSTR, DWORD) override { return S_OK; }
  HRESULT STDMETHODCALLTYPE OnDeviceAdded(LPCWSTR) override { return S_OK; }
  HRESULT STDMETHODCALLTYPE OnDeviceRemoved(LPCWSTR) override { return S_OK; }
  HRESULT STDMETHODCALLTYPE OnPropertyValueChanged(LPCWSTR, const PROPERTYKEY) override { return S_OK; }

 private:
  HANDLE event_;
  std::atomic<ULONG> refs_{1};
};

struct Stream {
  Com<IAudioClient> client;
  Com<IAudioCaptureClient> capture;
  CaptureOpened opened;
  ~Stream() {
    if (client) client->Stop();
  }
};

Status OpenStream(const std::string& device, int channels, HANDLE ready, Stream* s) {
  Com<IMMDevice> endpoint;
  TC_RETURN_IF_ERROR(FindEndpoint(device, Want::kAny, &endpoint, &s->opened.endpoint));
  s->opened.loopback = s->opened.endpoint.render;
  HRESULT hr = endpoint->Activate(__uuidof(IAudioClient), CLSCTX_ALL, nullptr, s->client.put_void());
  if (FAILED(hr)) return AudioError("activating the sound device", hr);
  WAVEFORMATEX format{};
  format.wFormatTag = WAVE_FORMAT_PCM;
  format.nChannels = static_cast<WORD>(channels);
  format.nSamplesPerSec = kSampleRate;
  format.wBitsPerSample = 16;
  format.nBlockAlign = static_cast<WORD>(2 * channels);
  format.nAvgBytesPerSec = kSampleRate * format.nBlockAlign;
  DWORD flags = AUDCLNT_STREAMFLAGS_EVENTCALLBACK | AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM | AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY;
  if (s->opened.loopback) flags |= AUDCLNT_STREAMFLAGS_LOOPBACK;
  hr = s->client->Initialize(AUDCLNT_SHAREMODE_SHARED, flags, kBufferDuration, 0, &format, nullptr);
  if (FAILED(hr)) return AudioError("opening a 48 kHz 16-bit shared stream", hr);
  hr = s->client->SetEventHandle(ready);
  if (FAILED(hr)) return AudioError("SetEventHandle", hr);
  hr = s->client->GetService(__uuidof(IAudioCaptureClient), s->capture.put_void());
  if (FAILED(hr)) return AudioError(s->opened.loopback ? "loopback recording of the sound output" : "recording the sound input", hr);
  hr = s->client->Start();
  if (FAILED(hr)) return AudioError("starting the sound stream", hr);
  return Status::Ok();
}

}  // namespace

Status WasapiCapture::Start(const std::string& device, int channels, OnChunk on_chunk, OnReopened on_reopened, OnEnd on_end,
                            CaptureOpened* opened) {
  if (channels != 1 && channels != 2) return Status::Error(ErrorCode::kInvalidArgument, "channels must be 1 or 2");
  if (thread_.running()) return Status::Error(ErrorCode::kBusy, "the sound capture is already running");
  on_chunk_ = std::move(on_chunk);
  on_reopened_ = std::move(on_reopened);
  on_end_ = std::move(on_end);
  return thread_.Start([=](HANDLE stop, std::promise<Status>& started) { Run(stop, device, channels, started, opened); });
}

void WasapiCapture::Run(HANDLE stop, const std::string& device, int channels, std::promise<Status>& started, CaptureOpened* opened) {
  HANDLE ready = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  HANDLE default_changed = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  DefaultOutputWatch watch(default_changed);
  Com<IMMDeviceEnumerator> notifier;
  const bool follow_default = device.empty();
  if (follow_default && SUCCEEDED(CoCreateInstance(__uuidof(MMDeviceEnumerator), nullptr, CLSCTX_ALL, __uuidof(IMMDeviceEnumerator), notifier.put_void()))) {
    if (FAILED(notifier->RegisterEndpointNotificationCallback(&watch))) notifier.reset();
  }
  auto stream = std::make_unique<Stream>();
  Status status = ready && default_changed ? OpenStream(device, channels, ready, stream.get()) : Status::Error(ErrorCode::kUnavailable, "CreateEvent failed");
  if (status.ok()) *opened = stream->opened;
  started.set_value(status);  // `started` and `opened` are gone after this
  Status ended;
  LoopbackTimeline timeline(QpcNow(), kSampleRate);
  while (status.ok()) {
    const HANDLE waits[3] = {stop, ready, default_changed};
    const DWORD woke = WaitForMultipleObjects(3, waits, FALSE, kWakeMs);
    if (woke == WAIT_OBJECT_0) break;
    if (woke == WAIT_OBJECT_0 + 2) {
      stream.reset();
      stream = std::make_unique<Stream>();
      Status s = OpenStream("", channels, ready, stream.get());
      if (!s.ok()) {
        ended = s;
        break;
      }
      if (on_reopened_) on_reopened_(stream->opened);
      continue;
    }
    PcmChunk chunk;
    int64_t packet_end = 0;
    UINT32 pending = 0;
    HRESULT hr = stream->capture->GetNextPacketSize(&pending);
    while (SUCCEEDED(hr) && pending > 0) {
      BYTE* data = nullptr;
      UINT32 frames = 0;
      DWORD flags = 0;
      UINT64 position = 0, qpc = 0;
      hr = stream->capture->GetBuffer(&data, &frames, &flags, &position, &qpc);
      if (FAILED(hr)) break;
      const size_t at = chunk.samples.size(), n = static_cast<size_t>(frames) * channels;
      if (chunk.samples.size() + n > kSampleRate * 2) {  // never more than a second in one chunk
        stream->capture->ReleaseBuffer(frames);
        break;
      }
      chunk.samples.resize(at + n);
      if (!(flags & AUDCLNT_BUFFERFLAGS_SILENT) && data) std::memcpy(&chunk.samples[at], data, n * sizeof(int16_t));
      const bool stamped = qpc != 0 && !(flags & AUDCLNT_BUFFERFLAGS_TIMESTAMP_ERROR);
      packet_end = stamped ? static_cast<int64_t>(qpc) + static_cast<int64_t>(frames) * kUnitsPerSecond / kSampleRate : QpcNow();
      hr = stream->capture->ReleaseBuffer(frames);
      if (SUCCEEDED(hr)) hr = stream->capture->GetNextPacketSize(&pending);
    }
    if (FAILED(hr)) {
      // A removed or reconfigured device: the default output is reopened, a named one ends the stream.
      if (hr == AUDCLNT_E_DEVICE_INVALIDATED && follow_default) {
        SetEvent(default_changed);
        continue;
      }
      ended = AudioError("reading sound", hr);
      break;
    }
    const int64_t now = QpcNow();
    if (!chunk.samples.empty()) {
      packet_end = std::min(packet_end, now);
      timeline.Delivered(packet_end);
      chunk.end_age_ms = static_cast<double>(now - packet_end) / 10000.0;
      on_chunk_(std::move(chunk));
    } else if (stream->opened.loopback) {
      const int64_t frames = timeline.SilenceDue(now);
      if (frames > 0) {
        chunk.samples.assign(static_cast<size_t>(frames) * channels, 0);
        chunk.end_age_ms = static_cast<double>(now - timeline.covered_until()) / 10000.0;
        on_chunk_(std::move(chunk));
      }
    }
  }
  stream.reset();
  if (notifier) notifier->UnregisterEndpointNotificationCallback(&watch);
  if (ready) CloseHandle(ready);
  if (default_changed) CloseHandle(default_changed);
  if (!ended.ok() && on_end_) on_end_(ended);
}

}  // namespace wasapi
}  // namespace tilecast
