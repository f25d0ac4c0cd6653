// A tiny N-API module for the memory benchmarks: glibc's allocator statistics
// (mallinfo2) and malloc_trim(0), so a benchmark can tell memory the process
// uses from free memory glibc keeps, and V8's count of externally reported
// memory. Built on demand by mallocProbe.js.
#include <malloc.h>
#include <node_api.h>

static void set(napi_env env, napi_value obj, const char* name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

static napi_value Info(napi_env env, napi_callback_info cb) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, cb, &argc, argv, NULL, NULL);
  bool trim = false;
  if (argc > 0) napi_get_value_bool(env, argv[0], &trim);
  int trimmed = -1;
  if (trim) trimmed = malloc_trim(0);
  struct mallinfo2 mi = mallinfo2();
  napi_value obj;
  napi_create_object(env, &obj);
  set(env, obj, "arena", (double)mi.arena);        // bytes from brk/arena heaps (main + thread arenas)
  set(env, obj, "mmapped", (double)mi.hblkhd);     // bytes in mmap'd chunks (large allocations)
  set(env, obj, "inUse", (double)mi.uordblks);     // allocated from the arenas
  set(env, obj, "free", (double)mi.fordblks);      // free but kept in the arenas
  set(env, obj, "topPad", (double)mi.keepcost);    // releasable from the top of the main heap
  set(env, obj, "trimmed", (double)trimmed);
  return obj;
}

// V8's count of external memory reported by native code (napi_adjust_external_memory,
// Napi::MemoryManagement::AdjustExternalMemory), read by adjusting it by 0. On
// Node 20 this count is not part of process.memoryUsage().external.
static napi_value V8External(napi_env env, napi_callback_info cb) {
  int64_t total = 0;
  napi_adjust_external_memory(env, 0, &total);
  napi_value n;
  napi_create_double(env, (double)total, &n);
  return n;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "info", NAPI_AUTO_LENGTH, Info, NULL, &fn);
  napi_set_named_property(env, exports, "info", fn);
  napi_create_function(env, "v8External", NAPI_AUTO_LENGTH, V8External, NULL, &fn);
  napi_set_named_property(env, exports, "v8External", fn);
  return exports;
}
