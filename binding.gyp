{
  "targets": [
    {
      "target_name": "tilecast",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/detector_binding.cc",
        "native/addon/encoder_binding.cc",
        "native/addon/viewer_encoder_binding.cc",
        "native/addon/screen_store_binding.cc",
        "native/addon/decoder_binding.cc",
        "native/addon/capture_binding.cc",
        "native/addon/input_binding.cc",
        "native/util/cpu_features.cc",
        "native/util/thread_pool.cc",
        "native/util/page_buffer.cc",
        "native/util/allocator_tuning.cc",
        "native/detect/row_diff.cc",
        "native/detect/change_detector.cc",
        "native/codec/tile_analyzer.cc",
        "native/codec/deflate_stream.cc",
        "native/codec/deflate_bits.cc",
        "native/codec/literal_blocks.cc",
        "native/codec/lz_blocks.cc",
        "native/codec/tile_encoder.cc",
        "native/codec/viewer_encoder.cc",
        "native/codec/tile_decoder.cc",
        "native/codec/content_cache.cc",
        "native/codec/cache_slab.cc",
        "native/codec/coding_scratch.cc",
        "native/codec/jpeg_lib.cc",
        "native/codec/jpeg_codec.cc",
        "native/detect/move_detector.cc",
        "native/detect/sent_frame.cc",
        "native/detect/screen_store.cc",
        "native/capture/capture_thread.cc"
      ],
      "conditions": [
        ["OS=='win'", {
          "sources": [
            "native/capture/win_screen.cc",
            "native/capture/win_gdi_backend.cc",
            "native/capture/win_dxgi_backend.cc",
            "native/capture/win_backend.cc",
            "native/input/win_input.cc",
            "native/audio/wasapi_device.cc",
            "native/audio/wasapi_capture.cc",
            "native/audio/wasapi_render.cc",
            "native/audio/pcm_ring.cc",
            "native/addon/audio_binding.cc"
          ],
          "defines": ["WIN32_LEAN_AND_MEAN", "NOMINMAX", "_WIN32_WINNT=0x0A00"],
          "libraries": ["d3d11.lib", "dxgi.lib", "gdi32.lib", "user32.lib", "ole32.lib", "avrt.lib"]
        }, {
          "sources": [
            "native/capture/x11_lib.cc",
            "native/capture/x11_backend.cc",
            "native/input/x11_input.cc"
          ],
          "libraries": ["-ldl", "-lpthread"]
        }]
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-Wextra", "-fexceptions"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
    }
  ]
}
