// norch/nn/optim.h — fused optimizer updates for norch.optim: each updates a list
// of parameters (and its state) in place in one call, records no graph, and bumps
// the versions of what it writes. Formulas follow torch/optim's single-tensor code.
#pragma once
#include <vector>

#include "norch/tensor/tensor.h"

namespace norch::optim {

// momentum_buffers: one per param; an undefined entry (PyTorch's None) is created
// on this step as a copy of the gradient, as in torch.optim.SGD.
void sgd_step_(const TensorList& params, const TensorList& grads, TensorList& momentum_buffers, double lr,
               double momentum, double dampening, bool nesterov, double weight_decay, bool maximize);
// steps: the step count of each param, already incremented for this step.
// max_exp_avg_sqs is used (and must be defined) only with amsgrad. decoupled_weight_decay
// gives AdamW.
void adam_step_(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, const std::vector<int64_t>& steps,
                double lr, double beta1, double beta2, double eps, double weight_decay, bool amsgrad, bool maximize,
                bool decoupled_weight_decay);
// grad_avgs are used only when centered, momentum_buffers only when momentum > 0.
void rmsprop_step_(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                   const TensorList& grad_avgs, const TensorList& momentum_buffers, double lr, double alpha,
                   double eps, double weight_decay, double momentum, bool centered, bool maximize);
void adagrad_step_(const TensorList& params, const TensorList& grads, const TensorList& state_sums,
                   const std::vector<int64_t>& steps, double lr, double lr_decay, double weight_decay, double eps,
                   bool maximize);

}  // namespace norch::optim
