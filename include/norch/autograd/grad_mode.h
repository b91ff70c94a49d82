// norch/autograd/grad_mode.h — thread-local grad mode and anomaly mode.
#pragma once
#include <functional>
#include <string>

namespace norch::autograd {

struct GradMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// RAII: sets grad mode for a scope and restores the previous value.
class AutoGradMode {
 public:
  explicit AutoGradMode(bool enabled) : prev_(GradMode::is_enabled()) { GradMode::set_enabled(enabled); }
  ~AutoGradMode() { GradMode::set_enabled(prev_); }
  AutoGradMode(const AutoGradMode&) = delete;
  AutoGradMode& operator=(const AutoGradMode&) = delete;

 private:
  bool prev_;
};
struct NoGradGuard : AutoGradMode {
  NoGradGuard() : AutoGradMode(false) {}
};

// detect_anomaly: nodes remember where they were created, and the engine checks
// every backward output for NaN. The binding layer installs a provider that
// returns the Python stack; C++ users get an empty trace unless they set one.
struct AnomalyMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
  static void set_trace_provider(std::function<std::string()> provider);
  static std::string current_trace();
};

}  // namespace norch::autograd
