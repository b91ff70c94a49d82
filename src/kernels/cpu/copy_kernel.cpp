// CPU copy/cast kernel: every (source, destination) dtype pair.
#include "kernels/copy.h"
#include "kernels/cpu/loops.h"

namespace norch::cpu {
namespace {

void copy_kernel(TensorIterator& iter) {
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(iter.output_dtype(), "copy_", [&] {
    using dst_t = scalar_t;
    NORCH_DISPATCH_ALL_TYPES_AND_HALF(iter.common_dtype(), "copy_", [&] {
      unary_loop<dst_t, scalar_t>(iter, [](scalar_t v) { return cast<dst_t>(v); });
    });
  });
}

}  // namespace
NORCH_REGISTER_KERNEL(copy_stub, CPU, copy_kernel);
}  // namespace norch::cpu
