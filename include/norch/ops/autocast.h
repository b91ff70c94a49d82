// norch/ops/autocast.h — automatic mixed precision, per thread, as in PyTorch.
//
// Inside `norch.autocast(device_type, dtype)`, ops on PyTorch's lower-precision
// list (matmul, linear, conv, bmm, addmm, baddbmm, ...) cast their floating
// inputs to the autocast dtype, and ops on the float32 list (losses, norms, and
// on CUDA softmax and reductions) cast theirs up to float32. The casts are
// ordinary differentiable ops, so float32 weights receive float32 gradients.
// float64 inputs are never cast. While an autocast op runs its body, autocast
// is excluded so the ops it is built from do not cast again; the backward pass
// runs with autocast off, as gradients take their forward values' dtypes.
#pragma once
#include <vector>

#include "norch/tensor/tensor.h"

namespace norch::autocast {

// Autocast keeps one state per device type, as torch.autocast does.
bool is_enabled(DeviceType device_type);
void set_enabled(DeviceType device_type, bool enabled);
ScalarType get_dtype(DeviceType device_type);
void set_dtype(DeviceType device_type, ScalarType dtype);
bool is_cache_enabled();
void set_cache_enabled(bool enabled);
// Nesting depth of autocast regions; leaving the outermost one clears the cache.
int increment_nesting();
int decrement_nesting();
void clear_cache();

// Float32OnCuda: the ops PyTorch keeps in float32 only on CUDA (softmax, norms,
// reductions, pointwise exp/log/pow); on the CPU they run in their inputs' dtype.
enum class CastPolicy { LowerPrecision, Float32, Float32OnCuda };

// True when the current thread is inside an enabled autocast region and not
// inside an autocast op's body: the one check each listed op makes.
bool active();

// Suspends autocast on this thread for a scope (an autocast op's body, backward).
class ExcludeGuard {
 public:
  ExcludeGuard();
  ~ExcludeGuard();
  ExcludeGuard(const ExcludeGuard&) = delete;
  ExcludeGuard& operator=(const ExcludeGuard&) = delete;

 private:
  bool prev_;
};

// `t` cast for `policy` if it is eligible (defined, floating, not float64, on a
// device whose autocast is enabled); float32 leaves that require grad are cast
// once per autocast region when the cache is on (weights reused across calls).
Tensor cast(const Tensor& t, CastPolicy policy);
inline Tensor lower(const Tensor& t) { return cast(t, CastPolicy::LowerPrecision); }
inline Tensor fp32(const Tensor& t) { return cast(t, CastPolicy::Float32); }
inline Tensor fp32_on_cuda(const Tensor& t) { return cast(t, CastPolicy::Float32OnCuda); }

}  // namespace norch::autocast

// The prologue of a listed op: when autocast is active, return the op called again
// with autocast excluded; `...` is that call, its tensors wrapped in lower/fp32.
#define NORCH_AUTOCAST(...)                                    \
  do {                                                         \
    if (::norch::autocast::active()) {                         \
      ::norch::autocast::ExcludeGuard norch_autocast_exclude_; \
      return __VA_ARGS__;                                      \
    }                                                          \
  } while (0)
