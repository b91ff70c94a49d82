// norch/debug.h — NORCH_DEBUG=1 prints each dispatched kernel (and, for
// elementwise ops, shapes and dtype); NORCH_DEBUG=2 also prints autograd nodes
// as the engine runs them. Read once from the environment.
#pragma once

namespace norch {

int debug_level();
void debug_print(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace norch
