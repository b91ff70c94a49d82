// NORCH_DEBUG tracing (include/norch/debug.h).
#include "norch/debug.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace norch {

int debug_level() {
  static const int level = [] {
    const char* v = std::getenv("NORCH_DEBUG");
    return v ? std::atoi(v) : 0;
  }();
  return level;
}

void debug_print(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::fputs("[norch] ", stderr);
  std::vfprintf(stderr, fmt, args);
  std::fputc('\n', stderr);
  va_end(args);
}

}  // namespace norch
