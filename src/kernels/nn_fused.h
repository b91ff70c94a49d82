// Kernel signatures for softmax, losses, norms, embedding and optimizer
// steps (private to the core). Ops hand kernels contiguous tensors of one
// floating dtype; index tensors are contiguous int64. Shapes are in comments.
#pragma once
#include <vector>

#include "norch/dispatch.h"
#include "norch/tensor/tensor.h"

namespace norch {

// in/out [outer, dim, inner]; log selects log_softmax.
using SoftmaxKernel = void (*)(const Tensor& in, const Tensor& out, int64_t outer, int64_t dim, int64_t inner,
                               bool log);
// grad/out/grad_in [outer, dim, inner]
using SoftmaxBackwardKernel = void (*)(const Tensor& grad, const Tensor& out, const Tensor& grad_in, int64_t outer,
                                       int64_t dim, int64_t inner, bool log);
extern DispatchStub<SoftmaxKernel> softmax_stub;
extern DispatchStub<SoftmaxBackwardKernel> softmax_backward_stub;

// x [N, C, S], target [N, S] -> out [N, S]; ignored targets give 0.
using ClassGatherKernel = void (*)(const Tensor& x, const Tensor& target, int64_t ignore_index, const Tensor& out);
// v [N, S], target [N, S] -> out [N, C, S] (the kernel zero-fills out).
using ClassScatterKernel = void (*)(const Tensor& v, const Tensor& target, int64_t ignore_index, const Tensor& out);
// target [N, S], weight [C] or undefined -> out [N, S] = weight[target] (0 where
// ignored). Raises IndexError for a target outside [0, C) (checked before any work).
using ClassWeightKernel = void (*)(const Tensor& target, const Tensor& weight, int64_t num_classes,
                                   int64_t ignore_index, const Tensor& out);
// Raises RuntimeError unless lo <= x <= hi everywhere (binary_cross_entropy's check).
using RangeCheckKernel = void (*)(const Tensor& x, double lo, double hi, const char* msg);
extern DispatchStub<ClassGatherKernel> class_gather_stub;
extern DispatchStub<ClassScatterKernel> class_scatter_stub;
extern DispatchStub<ClassWeightKernel> class_weight_stub;
extern DispatchStub<RangeCheckKernel> range_check_stub;

// x/y [R, K]; statistics per row; the affine channel of (r, k) is
// (r % G) * (K / S) + k / S (layer norm: G = 1, S = 1; group norm: S = spatial size).
using RowNormKernel = void (*)(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t G, int64_t S,
                               double eps, const Tensor& y, const Tensor& mean, const Tensor& rstd);
// g/x/gx [R, K], mean/rstd [R]; gw/gb [channels] (any may be undefined: not needed).
using RowNormBackwardKernel = void (*)(const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                       const Tensor& weight, int64_t G, int64_t S, const Tensor& gx,
                                       const Tensor& gw, const Tensor& gb);
// x [N, C, S] -> mean [C], biased var [C]
using ChannelStatsKernel = void (*)(const Tensor& x, const Tensor& mean, const Tensor& var);
// y[n, c, s] = x[n, c, s] * scale[c] + shift[c]
using ChannelAffineKernel = void (*)(const Tensor& x, const Tensor& scale, const Tensor& shift, const Tensor& y);
// Training batch-norm gradient: g/x/gx [N, C, S], mean/rstd/weight [C] (weight may
// be undefined), gw/gb [C] (may be undefined).
using BatchNormBackwardKernel = void (*)(const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                         const Tensor& weight, const Tensor& gx, const Tensor& gw,
                                         const Tensor& gb);
extern DispatchStub<RowNormKernel> row_norm_stub;
extern DispatchStub<RowNormBackwardKernel> row_norm_backward_stub;
extern DispatchStub<ChannelStatsKernel> channel_stats_stub;
extern DispatchStub<ChannelAffineKernel> channel_affine_stub;
extern DispatchStub<BatchNormBackwardKernel> batch_norm_backward_stub;

// weight [V, D], indices [L] -> out [L, D]; raises IndexError for an index outside [0, V).
using EmbeddingKernel = void (*)(const Tensor& weight, const Tensor& indices, const Tensor& out);
// grad [L, D], indices [L] -> out [V, D] (zero-filled by the kernel); rows at padding_idx (>= 0) stay 0.
using EmbeddingBackwardKernel = void (*)(const Tensor& grad, const Tensor& indices, int64_t padding_idx,
                                         const Tensor& out);
extern DispatchStub<EmbeddingKernel> embedding_stub;
extern DispatchStub<EmbeddingBackwardKernel> embedding_backward_stub;

// Optimizer updates over a list of contiguous parameters, all on one device; entry i
// of each list belongs to parameter i (see norch/nn/optim.h). One call per step lets a
// device update every parameter in a few launches (Note [Multi-tensor apply] in
// src/kernels/cuda/optim.cu). The state tensors of OptimTensors, by optimizer:
//   SGD: s0 = momentum buffer (undefined without momentum)
//   Adam: s0 = exp_avg, s1 = exp_avg_sq, s2 = max_exp_avg_sq (undefined without amsgrad)
//   RMSprop: s0 = square_avg, s1 = grad_avg (centered), s2 = momentum buffer (momentum > 0)
//   Adagrad: s0 = state_sum
struct SgdArgs { double lr, momentum, dampening, weight_decay; bool nesterov, maximize, init_buffer; };
struct AdamArgs { double lr, beta1, beta2, eps, weight_decay; int64_t step; bool amsgrad, maximize, decoupled; };
struct RmspropArgs { double lr, alpha, eps, weight_decay, momentum; bool centered, maximize; };
struct AdagradArgs { double lr, lr_decay, weight_decay, eps; int64_t step; bool maximize; };
struct OptimTensors { Tensor p, g, s0, s1, s2; };
using SgdKernel = void (*)(const std::vector<OptimTensors>& t, const std::vector<SgdArgs>& a);
using AdamKernel = void (*)(const std::vector<OptimTensors>& t, const std::vector<AdamArgs>& a);
using RmspropKernel = void (*)(const std::vector<OptimTensors>& t, const std::vector<RmspropArgs>& a);
using AdagradKernel = void (*)(const std::vector<OptimTensors>& t, const std::vector<AdagradArgs>& a);
extern DispatchStub<SgdKernel> sgd_stub;
extern DispatchStub<AdamKernel> adam_stub;
extern DispatchStub<RmspropKernel> rmsprop_stub;
extern DispatchStub<AdagradKernel> adagrad_stub;

}  // namespace norch
