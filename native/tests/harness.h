// A minimal test harness for the native core (no N-API), so the same code can be
// built standalone under AddressSanitizer/UBSan. Prints one line per test and a
// closing "N passed, N failed".
#pragma once
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace tctest {

struct Case {
  const char* name;
  std::function<void()> fn;
};
inline std::vector<Case>& Registry() {
  static std::vector<Case> cases;
  return cases;
}
inline int& Failures() {
  static int failures = 0;
  return failures;
}
struct Register {
  Register(const char* name, std::function<void()> fn) { Registry().push_back({name, std::move(fn)}); }
};

}  // namespace tctest

#define TC_CAT2(a, b) a##b
#define TC_CAT(a, b) TC_CAT2(a, b)
#define TEST(name)                                                          \
  static void name();                                                       \
  static ::tctest::Register TC_CAT(reg_, name)(#name, name);                \
  static void name()

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      ++::tctest::Failures();                                                        \
      return;                                                                        \
    }                                                                                \
  } while (0)

// A Status (anything with ok() and message()) is ok; otherwise its message is printed,
// so a failure on a machine we cannot log into still says why.
#define CHECK_OK(expr)                                                                                 \
  do {                                                                                                 \
    const auto& _st = (expr);                                                                          \
    if (!_st.ok()) {                                                                                   \
      std::fprintf(stderr, "  %s:%d: CHECK_OK(%s) failed: %s\n", __FILE__, __LINE__, #expr,            \
                   _st.message().c_str());                                                             \
      ++::tctest::Failures();                                                                          \
      return;                                                                                          \
    }                                                                                                  \
  } while (0)

#define CHECK_EQ(a, b)                                                                                     \
  do {                                                                                                     \
    auto _va = (a);                                                                                        \
    auto _vb = (b);                                                                                        \
    if (!(_va == _vb)) {                                                                                   \
      std::fprintf(stderr, "  %s:%d: CHECK_EQ(%s, %s) failed: %s vs %s\n", __FILE__, __LINE__, #a, #b,    \
                   std::to_string(_va).c_str(), std::to_string(_vb).c_str());                             \
      ++::tctest::Failures();                                                                              \
      return;                                                                                              \
    }                                                                                                      \
  } while (0)
