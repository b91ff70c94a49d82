// Autocast's per-thread state and its cast (include/norch/ops/autocast.h).
//
// The state is thread-local because PyTorch's is: a DataLoader worker or a
// DataParallel replica thread has its own autocast regions. The weight cache
// keys on the source tensor's impl and holds the impl alive, so a cached cast
// can never be mistaken for a freed tensor's whose address was reused.
#include "norch/ops/autocast.h"

#include <unordered_map>

#include "norch/ops/copy.h"

namespace norch::autocast {

namespace {

struct State {
  bool enabled[kNumDeviceTypes] = {};
  ScalarType dtype[kNumDeviceTypes];
  bool excluded = false;
  bool cache_enabled = true;
  int nesting = 0;
  std::unordered_map<const void*, std::pair<Tensor, Tensor>> cache;  // impl -> (source, cast)

  State() {
    // PyTorch's defaults: bfloat16 on the CPU, float16 on CUDA.
    dtype[static_cast<int>(DeviceType::CPU)] = ScalarType::BFloat16;
    dtype[static_cast<int>(DeviceType::CUDA)] = ScalarType::Float16;
  }
  bool any_enabled() const {
    for (bool e : enabled)
      if (e) return true;
    return false;
  }
};

State& state() {
  thread_local State s;
  return s;
}

}  // namespace

bool is_enabled(DeviceType d) { return state().enabled[static_cast<int>(d)]; }
void set_enabled(DeviceType d, bool enabled) { state().enabled[static_cast<int>(d)] = enabled; }
ScalarType get_dtype(DeviceType d) { return state().dtype[static_cast<int>(d)]; }
void set_dtype(DeviceType d, ScalarType dtype) { state().dtype[static_cast<int>(d)] = dtype; }
bool is_cache_enabled() { return state().cache_enabled; }
void set_cache_enabled(bool enabled) { state().cache_enabled = enabled; }
int increment_nesting() { return ++state().nesting; }
int decrement_nesting() {
  State& s = state();
  if (s.nesting > 0) --s.nesting;
  if (s.nesting == 0) s.cache.clear();
  return s.nesting;
}
void clear_cache() { state().cache.clear(); }

bool active() {
  const State& s = state();
  return !s.excluded && s.any_enabled();
}

ExcludeGuard::ExcludeGuard() : prev_(state().excluded) { state().excluded = true; }
ExcludeGuard::~ExcludeGuard() { state().excluded = prev_; }

Tensor cast(const Tensor& t, CastPolicy policy) {
  State& s = state();
  if (!t.defined() || !is_floating_point(t.dtype()) || t.dtype() == ScalarType::Float64) return t;
  const int d = static_cast<int>(t.device().type);
  if (!s.enabled[d]) return t;
  if (policy == CastPolicy::Float32OnCuda && t.device().type != DeviceType::CUDA) return t;
  const ScalarType target = policy == CastPolicy::LowerPrecision ? s.dtype[d] : ScalarType::Float32;
  if (t.dtype() == target) return t;
  // Weights: cast once per region, so a layer called many times reuses one copy.
  const bool cacheable = policy == CastPolicy::LowerPrecision && s.cache_enabled && t.is_leaf() &&
                         t.requires_grad() && t.dtype() == ScalarType::Float32;
  if (cacheable) {
    auto it = s.cache.find(t.impl());
    if (it != s.cache.end()) return it->second.second;
  }
  Tensor out = to_dtype(t, target);
  if (cacheable) s.cache.emplace(t.impl(), std::make_pair(t, out));
  return out;
}

}  // namespace norch::autocast
