// Fused optimizer steps (see norch/nn/optim.h): checks, then one kernel call per
// device for all the parameters (Note [Multi-tensor apply]); no graph is recorded
// and each written tensor's version is bumped.
#include "kernels/nn_fused.h"
#include "norch/autograd/grad_mode.h"
#include "norch/nn/optim.h"
#include "norch/ops/copy.h"

namespace norch {

DispatchStub<SgdKernel> sgd_stub("sgd_step_");
DispatchStub<AdamKernel> adam_stub("adam_step_");
DispatchStub<RmspropKernel> rmsprop_stub("rmsprop_step_");
DispatchStub<AdagradKernel> adagrad_stub("adagrad_step_");

namespace optim {
namespace {

void check_list(const TensorList& params, const TensorList& other, const char* op, const char* what, bool required) {
  if (!required && other.empty()) return;
  NORCH_CHECK(other.size() == params.size(), op, ": expected ", params.size(), " ", what, ", got ", other.size());
  for (size_t i = 0; i < params.size(); ++i) {
    NORCH_CHECK(params[i].defined(), op, ": param ", i, " is None");
    NORCH_CHECK(params[i].is_floating_point(), op, ": param ", i, " must be floating point, got ",
                dtype_name(params[i].dtype()));
    if (!required && !other[i].defined()) continue;
    NORCH_CHECK(other[i].defined(), op, ": ", what, " ", i, " is None");
    NORCH_CHECK(other[i].sizes() == params[i].sizes(), op, ": ", what, " ", i, " has shape ", other[i].sizes(),
                " but the param has shape ", params[i].sizes());
    NORCH_CHECK(other[i].device() == params[i].device(), op, ": ", what, " ", i, " is on another device than its param");
  }
}

// Runs `body` on contiguous versions of state tensors and writes them back
// (a no-op copy when they already are contiguous), then bumps versions.
struct Scratch {
  std::vector<std::pair<Tensor, Tensor>> pairs;  // (original, working copy)
  Tensor use(const Tensor& t, ScalarType dt) {
    if (!t.defined()) return t;
    if (t.is_contiguous() && t.dtype() == dt) {
      pairs.push_back({t, t});
      return t;
    }
    Tensor w = contiguous(to_dtype(t, dt, true));
    if (w.is_same(t)) w = clone(t);
    pairs.push_back({t, w});
    return w;
  }
  void finish() {
    for (auto& [orig, work] : pairs) {
      if (!work.is_same(orig)) copy_data(orig, work);
      orig.bump_version();
    }
  }
};

Tensor read(const Tensor& g, ScalarType dt) { return contiguous(g.dtype() == dt ? g : to_dtype(g, dt)); }

// The collected work of one step: each parameter's tensors and arguments. run() hands
// every run of parameters on one device to that device's kernel in one call, then
// writes the working copies back.
template <typename Args>
struct Step {
  std::vector<OptimTensors> tensors;
  std::vector<Args> args;
  std::vector<Scratch> scratch;

  void add(OptimTensors t, const Args& a, Scratch&& sc) {
    tensors.push_back(std::move(t));
    args.push_back(a);
    scratch.push_back(std::move(sc));
  }

  template <typename Kernel>
  void run(const DispatchStub<Kernel>& stub) {
    for (size_t i = 0; i < tensors.size();) {
      const Device d = tensors[i].p.device();
      size_t j = i + 1;
      while (j < tensors.size() && tensors[j].p.device() == d) ++j;
      const std::vector<OptimTensors> t(tensors.begin() + i, tensors.begin() + j);
      const std::vector<Args> a(args.begin() + i, args.begin() + j);
      stub(d)(t, a);
      i = j;
    }
    for (auto& sc : scratch) sc.finish();
  }
};

}  // namespace

void sgd_step_(const TensorList& params, const TensorList& grads, TensorList& momentum_buffers, double lr,
               double momentum, double dampening, bool nesterov, double weight_decay, bool maximize) {
  autograd::NoGradGuard no_grad;
  check_list(params, grads, "sgd_step_", "grads", true);
  if (momentum_buffers.empty()) momentum_buffers.resize(params.size());
  check_list(params, momentum_buffers, "sgd_step_", "momentum_buffers", false);
  NORCH_CHECK(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum requires a momentum and zero dampening");
  Step<SgdArgs> work;
  for (size_t i = 0; i < params.size(); ++i) {
    const ScalarType dt = params[i].dtype();
    SgdArgs a{lr, momentum, dampening, weight_decay, nesterov, maximize, false};
    Scratch sc;
    Tensor p = sc.use(params[i], dt);
    Tensor buf;
    if (momentum != 0) {
      if (!momentum_buffers[i].defined()) {
        momentum_buffers[i] = empty(params[i].sizes(), TensorOptions(dt, params[i].device()));
        a.init_buffer = true;
      }
      buf = sc.use(momentum_buffers[i], dt);
    }
    work.add({p, read(grads[i], dt), buf, Tensor(), Tensor()}, a, std::move(sc));
  }
  work.run(sgd_stub);
}

void adam_step_(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, const std::vector<int64_t>& steps,
                double lr, double beta1, double beta2, double eps, double weight_decay, bool amsgrad, bool maximize,
                bool decoupled_weight_decay) {
  autograd::NoGradGuard no_grad;
  check_list(params, grads, "adam_step_", "grads", true);
  check_list(params, exp_avgs, "adam_step_", "exp_avgs", true);
  check_list(params, exp_avg_sqs, "adam_step_", "exp_avg_sqs", true);
  if (amsgrad) check_list(params, max_exp_avg_sqs, "adam_step_", "max_exp_avg_sqs", true);
  NORCH_CHECK(steps.size() == params.size() || steps.size() == 1, "adam_step_: expected 1 or ", params.size(),
              " steps, got ", steps.size());
  Step<AdamArgs> work;
  for (size_t i = 0; i < params.size(); ++i) {
    const ScalarType dt = params[i].dtype();
    const int64_t step = steps.size() == 1 ? steps[0] : steps[i];
    NORCH_CHECK(step >= 1, "adam_step_: step must be >= 1 (incremented before the update), got ", step);
    Scratch sc;
    Tensor p = sc.use(params[i], dt), m = sc.use(exp_avgs[i], dt), v = sc.use(exp_avg_sqs[i], dt);
    Tensor vmax = amsgrad ? sc.use(max_exp_avg_sqs[i], dt) : Tensor();
    AdamArgs a{lr, beta1, beta2, eps, weight_decay, step, amsgrad, maximize, decoupled_weight_decay};
    work.add({p, read(grads[i], dt), m, v, vmax}, a, std::move(sc));
  }
  work.run(adam_stub);
}

void rmsprop_step_(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                   const TensorList& grad_avgs, const TensorList& momentum_buffers, double lr, double alpha,
                   double eps, double weight_decay, double momentum, bool centered, bool maximize) {
  autograd::NoGradGuard no_grad;
  check_list(params, grads, "rmsprop_step_", "grads", true);
  check_list(params, square_avgs, "rmsprop_step_", "square_avgs", true);
  if (centered) check_list(params, grad_avgs, "rmsprop_step_", "grad_avgs", true);
  if (momentum > 0) check_list(params, momentum_buffers, "rmsprop_step_", "momentum_buffers", true);
  Step<RmspropArgs> work;
  for (size_t i = 0; i < params.size(); ++i) {
    const ScalarType dt = params[i].dtype();
    Scratch sc;
    Tensor p = sc.use(params[i], dt), sq = sc.use(square_avgs[i], dt);
    Tensor ga = centered ? sc.use(grad_avgs[i], dt) : Tensor();
    Tensor buf = momentum > 0 ? sc.use(momentum_buffers[i], dt) : Tensor();
    RmspropArgs a{lr, alpha, eps, weight_decay, momentum, centered, maximize};
    work.add({p, read(grads[i], dt), sq, ga, buf}, a, std::move(sc));
  }
  work.run(rmsprop_stub);
}

void adagrad_step_(const TensorList& params, const TensorList& grads, const TensorList& state_sums,
                   const std::vector<int64_t>& steps, double lr, double lr_decay, double weight_decay, double eps,
                   bool maximize) {
  autograd::NoGradGuard no_grad;
  check_list(params, grads, "adagrad_step_", "grads", true);
  check_list(params, state_sums, "adagrad_step_", "state_sums", true);
  NORCH_CHECK(steps.size() == params.size() || steps.size() == 1, "adagrad_step_: expected 1 or ", params.size(),
              " steps, got ", steps.size());
  Step<AdagradArgs> work;
  for (size_t i = 0; i < params.size(); ++i) {
    const ScalarType dt = params[i].dtype();
    const int64_t step = steps.size() == 1 ? steps[0] : steps[i];
    NORCH_CHECK(step >= 1, "adagrad_step_: step must be >= 1 (incremented before the update), got ", step);
    Scratch sc;
    Tensor p = sc.use(params[i], dt), ss = sc.use(state_sums[i], dt);
    AdagradArgs a{lr, lr_decay, weight_decay, eps, step, maximize};
    work.add({p, read(grads[i], dt), ss, Tensor(), Tensor()}, a, std::move(sc));
  }
  work.run(adagrad_stub);
}

}  // namespace optim
}  // namespace norch
