#include <cstdio>

#include "harness.h"

int main() {
  int passed = 0, failed = 0;
  for (auto& c : tctest::Registry()) {
    const int before = tctest::Failures();
    c.fn();
    if (tctest::Failures() == before) {
      ++passed;
      std::printf("ok - native: %s\n", c.name);
    } else {
      ++failed;
      std::printf("not ok - native: %s\n", c.name);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
