// Grad mode is per thread, as in PyTorch: a DataLoader worker thread or a
// no_grad block in one thread never changes what another thread records.
#include "norch/autograd/grad_mode.h"

#include <atomic>
#include <mutex>

namespace norch::autograd {

namespace {
thread_local bool t_grad_enabled = true;
std::atomic<bool> g_anomaly{false};
std::mutex g_trace_mutex;
std::function<std::string()> g_trace_provider;
}  // namespace

bool GradMode::is_enabled() { return t_grad_enabled; }
void GradMode::set_enabled(bool enabled) { t_grad_enabled = enabled; }

bool AnomalyMode::is_enabled() { return g_anomaly.load(); }
void AnomalyMode::set_enabled(bool enabled) { g_anomaly.store(enabled); }
void AnomalyMode::set_trace_provider(std::function<std::string()> provider) {
  std::lock_guard<std::mutex> lock(g_trace_mutex);
  g_trace_provider = std::move(provider);
}
std::string AnomalyMode::current_trace() {
  std::function<std::string()> p;
  {
    std::lock_guard<std::mutex> lock(g_trace_mutex);
    p = g_trace_provider;
  }
  return p ? p() : std::string();
}

}  // namespace norch::autograd
