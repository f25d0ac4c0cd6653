// Process-wide tuning of glibc's malloc for a long-running host (see the .cc).
#pragma once

#include <string>

namespace tilecast {

// Applies the tuning once per process; returns what was done ("" when nothing:
// not glibc). `arenas`: the most malloc arenas glibc may create.
std::string TuneAllocator(int arenas);

}  // namespace tilecast
