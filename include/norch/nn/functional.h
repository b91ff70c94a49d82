// norch/nn/functional.h — convolution, pooling, padding and interpolation ops
// (PyTorch's torch.nn.functional names and defaults). Each is one op with its
// own forward kernel and a backward written with other differentiable ops, so
// gradients of any order work.
//
// Size arguments (stride, padding, ...) take one value for every spatial dim
// or one per dim, as PyTorch's int-or-tuple parameters do.
#pragma once
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "norch/tensor/tensor.h"

namespace norch {

// input [N, C, H, W] or [C, H, W]; weight [OC, C / groups, kh, kw]; bias [OC] or undefined.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), Shape stride = {1},
              Shape padding = {0}, Shape dilation = {1}, int64_t groups = 1);
// padding "same" (stride 1 only) or "valid".
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Shape stride, const std::string& padding,
              Shape dilation = {1}, int64_t groups = 1);
// input [N, C, L] or [C, L]; weight [OC, C / groups, k].
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), Shape stride = {1},
              Shape padding = {0}, Shape dilation = {1}, int64_t groups = 1);
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, Shape stride, const std::string& padding,
              Shape dilation = {1}, int64_t groups = 1);
// input [N, C, H, W] or [C, H, W]; weight [C, OC / groups, kh, kw].
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), Shape stride = {1},
                        Shape padding = {0}, Shape output_padding = {0}, int64_t groups = 1, Shape dilation = {1});

// im2col: [N, C, H, W] -> [N, C * kh * kw, L] (torch.nn.functional.unfold), and its adjoint.
Tensor unfold(const Tensor& input, Shape kernel_size, Shape dilation = {1}, Shape padding = {0}, Shape stride = {1});
Tensor fold(const Tensor& input, Shape output_size, Shape kernel_size, Shape dilation = {1}, Shape padding = {0},
            Shape stride = {1});

// stride empty = kernel_size. Returns (output, int64 indices into each input plane).
std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Shape kernel_size, Shape stride = {},
                                                   Shape padding = {0}, Shape dilation = {1}, bool ceil_mode = false);
Tensor max_pool2d(const Tensor& input, Shape kernel_size, Shape stride = {}, Shape padding = {0}, Shape dilation = {1},
                  bool ceil_mode = false);
std::tuple<Tensor, Tensor> max_pool1d_with_indices(const Tensor& input, Shape kernel_size, Shape stride = {},
                                                   Shape padding = {0}, Shape dilation = {1}, bool ceil_mode = false);
Tensor max_pool1d(const Tensor& input, Shape kernel_size, Shape stride = {}, Shape padding = {0}, Shape dilation = {1},
                  bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& input, Shape kernel_size, Shape stride = {}, Shape padding = {0},
                  bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = std::nullopt);
Tensor avg_pool1d(const Tensor& input, Shape kernel_size, Shape stride = {}, Shape padding = {0},
                  bool ceil_mode = false, bool count_include_pad = true);
// output_size entries of -1 keep the input's size (PyTorch's None).
Tensor adaptive_avg_pool2d(const Tensor& input, Shape output_size);
Tensor adaptive_avg_pool1d(const Tensor& input, Shape output_size);

// pad = (left, right[, top, bottom, ...]) from the last dim backwards; mode
// "constant" (any dims, negative pads crop), "reflect", "replicate" or "circular"
// (last 1 or 2 dims). value is for "constant" only (0 when not given).
Tensor pad(const Tensor& input, const Shape& pad, const std::string& mode = "constant",
           std::optional<double> value = std::nullopt);

// 3-d input [N, C, L] or 4-d [N, C, H, W]; mode "nearest", "linear" (3-d), "bilinear" (4-d)
// or "area" (adaptive average pooling).
Tensor interpolate(const Tensor& input, std::optional<Shape> size = std::nullopt,
                   std::optional<std::vector<double>> scale_factor = std::nullopt, const std::string& mode = "nearest",
                   std::optional<bool> align_corners = std::nullopt,
                   std::optional<bool> recompute_scale_factor = std::nullopt);

}  // namespace norch
