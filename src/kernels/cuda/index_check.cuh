// A device-side bounds flag for kernels that read indices: the kernel records
// the first bad index it meets (and skips that access), and the host raises a
// RuntimeError naming the op after the kernel, instead of the GPU faulting.
#pragma once
#include <cstdint>

#include "kernels/cuda/common.cuh"

namespace norch::cuda_kernels {

struct BoundsFlag {
  unsigned long long bad;  // 1 once an index was out of range
  long long value;         // the first out-of-range index seen
};

__device__ inline bool index_ok(BoundsFlag* flag, int64_t ix, int64_t size) {
  if (ix >= 0 && ix < size) return true;
  if (atomicCAS(&flag->bad, 0ull, 1ull) == 0ull) flag->value = ix;
  return false;
}

// Workspace for one flag, cleared on the current stream.
class BoundsCheck {
 public:
  explicit BoundsCheck(const char* op) : op_(op) {
    flag_ = static_cast<BoundsFlag*>(cuda::allocate_workspace(sizeof(BoundsFlag)));
    check(cudaMemsetAsync(flag_, 0, sizeof(BoundsFlag), cuda::current_stream()), op_);
  }
  ~BoundsCheck() { cuda::release_workspace(flag_); }
  BoundsCheck(const BoundsCheck&) = delete;
  BoundsCheck& operator=(const BoundsCheck&) = delete;
  BoundsFlag* get() const { return flag_; }
  // Waits for the kernel and raises when it met an index outside [0, size).
  void raise_if_bad(int64_t dim, int64_t size) const {
    BoundsFlag host{};
    check(cudaMemcpyAsync(&host, flag_, sizeof(host), cudaMemcpyDeviceToHost, cuda::current_stream()), op_);
    check(cudaStreamSynchronize(cuda::current_stream()), op_);
    NORCH_CHECK(host.bad == 0, op_, "(): index ", static_cast<int64_t>(host.value),
                      " is out of bounds for dimension ", dim, " with size ", size);
  }

 private:
  const char* op_;
  BoundsFlag* flag_;
};

}  // namespace norch::cuda_kernels
