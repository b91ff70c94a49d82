// View ops: each rewrites sizes, strides and offset only (needle's habit).
#include "norch/ops/shape.h"

#include <algorithm>
#include <numeric>

#include "norch/autograd/function.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/reduce.h"
#include "norch/tensor/size_math.h"

namespace norch {

using autograd::BackwardContext;

namespace {

// PyTorch's computeStride: strides for viewing (sizes, strides) as `shape`
// without copying, or nullopt when some new dim would span non-uniform memory.
std::optional<Shape> compute_view_strides(const Shape& old_sizes, const Shape& old_strides, const Shape& shape) {
  if (old_sizes.empty()) return contiguous_strides(shape);
  int64_t numel = 1;
  for (auto s : old_sizes) numel *= s;
  if (numel == 0) {
    if (old_sizes == shape) return old_strides;
    return contiguous_strides(shape);
  }
  Shape new_strides(shape.size());
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t tensor_d = static_cast<int64_t>(old_sizes.size()) - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= old_sizes[tensor_d];
    if (tensor_d == 0 ||
        (old_sizes[tensor_d - 1] != 1 && old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        new_strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (tensor_d > 0) {
        chunk_base_stride = old_strides[tensor_d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

// Records a view's backward: the formula maps the view's gradient to the input's.
// `replay` re-applies the same view to another tensor of the input's shape; the
// view remembers it, composed from its base, for Note [In-place on views].
template <typename F, typename R>
Tensor record_view(const char* name, const Tensor& input, Tensor out, F formula, R replay) {
  if (autograd::needs_grad(input)) {
    autograd::record(name, {input}, {out}, {}, [formula](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {formula(g[0], ctx.input(0).shape)};
    });
    autograd::set_view_info(out, input, replay);
  }
  return out;
}

}  // namespace

Shape infer_size(const Shape& shape, int64_t numel) {
  int64_t known = 1;
  int64_t infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      NORCH_CHECK(infer < 0, "only one dimension can be inferred");
      infer = static_cast<int64_t>(i);
    } else {
      NORCH_CHECK(shape[i] >= 0, "invalid shape dimension ", shape[i]);
      // A wrapped product could divide numel and pass the checks below.
      NORCH_CHECK(!mul_overflows(known, shape[i], &known), "shape '", bracket_list(shape),
                  "' is invalid for input of size ", numel);
    }
  }
  Shape out = shape;
  if (infer >= 0) {
    NORCH_CHECK(known != 0 && numel % known == 0, "shape '", shape_str(shape), "' is invalid for input of size ", numel);
    out[infer] = numel / known;
  } else {
    NORCH_CHECK(known == numel, "shape '", shape_str(shape), "' is invalid for input of size ", numel);
  }
  return out;
}

Tensor view(const Tensor& a, Shape shape) {
  shape = infer_size(shape, a.numel());
  auto strides = compute_view_strides(a.sizes(), a.strides(), shape);
  NORCH_CHECK(strides.has_value(), "view size is not compatible with input tensor's size and stride (at least one "
              "dimension spans across two contiguous subspaces). Use .reshape(...) instead. (view of shape ",
              a.sizes(), " with strides ", a.strides(), " as ", shape, ")");
  Tensor out = make_view(a, shape, *strides, a.storage_offset());
  return record_view("ViewBackward0", a, out, [](const Tensor& g, const Shape& in) { return reshape(g, in); },
                     [shape](const Tensor& t) { return view(t, shape); });
}

Tensor reshape(const Tensor& a, Shape shape) {
  shape = infer_size(shape, a.numel());
  if (compute_view_strides(a.sizes(), a.strides(), shape)) return view(a, shape);
  Tensor c = clone(a);
  return view(c, shape);
}

Tensor flatten(const Tensor& a, int64_t start_dim, int64_t end_dim) {
  if (a.dim() == 0) return reshape(a, {1});
  int64_t s = wrap_dim(start_dim, a.dim()), e = wrap_dim(end_dim, a.dim());
  NORCH_CHECK(s <= e, "flatten() has invalid args: start_dim cannot come after end_dim");
  if (s == e) return a;
  Shape shape(a.sizes().begin(), a.sizes().begin() + s);
  int64_t n = 1;
  for (int64_t i = s; i <= e; ++i) n *= a.sizes()[i];
  shape.push_back(n);
  shape.insert(shape.end(), a.sizes().begin() + e + 1, a.sizes().end());
  return reshape(a, shape);
}

Tensor unflatten(const Tensor& a, int64_t dim, Shape sizes) {
  // A 0-d tensor has no dim to split (wrap_dim's scalar allowance would index an
  // empty shape); PyTorch raises RuntimeError here.
  NORCH_CHECK(a.dim() > 0, "unflatten: Dimension specified as ", dim, " but tensor has no dimensions");
  int64_t d = wrap_dim(dim, a.dim());
  NORCH_CHECK(!sizes.empty(), "unflatten: sizes must be non-empty");
  bool inferred = false, negative = false, overflow = false;
  int64_t product = 1;
  for (auto s : sizes) {
    if (s == -1) inferred = true;
    else if (s < 0) negative = true;
    else overflow |= mul_overflows(product, s, &product);
  }
  // Negative sizes and a second -1 get infer_size's messages, as in PyTorch.
  NORCH_CHECK(inferred || negative || (!overflow && product == a.sizes()[d]), "unflatten: Provided sizes ",
              bracket_list(sizes), " don't multiply up to the size of dim ", dim, " (", a.sizes()[d],
              ") in the input tensor");
  sizes = infer_size(sizes, a.sizes()[d]);
  Shape shape(a.sizes().begin(), a.sizes().begin() + d);
  shape.insert(shape.end(), sizes.begin(), sizes.end());
  shape.insert(shape.end(), a.sizes().begin() + d + 1, a.sizes().end());
  return view(a, shape);
}

Tensor expand(const Tensor& a, const Shape& shape) {
  NORCH_CHECK(static_cast<int64_t>(shape.size()) >= a.dim(), "expand: the number of sizes provided (", shape.size(),
              ") must be greater or equal to the number of dimensions in the tensor (", a.dim(), ")");
  const int64_t n = static_cast<int64_t>(shape.size()), off = n - a.dim();
  Shape sizes(n), strides(n);
  for (int64_t i = n - 1; i >= 0; --i) {
    int64_t target = shape[i];
    if (i >= off) {
      int64_t cur = a.sizes()[i - off];
      if (target == -1) target = cur;
      NORCH_CHECK(cur == target || cur == 1, "The expanded size of the tensor (", target,
                  ") must match the existing size (", cur, ") at non-singleton dimension ", i, ".  Target sizes: ",
                  shape, ".  Tensor sizes: ", a.sizes());
      sizes[i] = target;
      strides[i] = cur == target ? a.strides()[i - off] : 0;
    } else {
      NORCH_CHECK(target >= 0, "The expanded size of the tensor (", target,
                  ") isn't allowed in a leading, non-existing dimension ", i);
      sizes[i] = target;
      strides[i] = 0;
    }
  }
  if (sizes == a.sizes()) return a;
  Tensor out = make_view(a, sizes, strides, a.storage_offset());
  return record_view("ExpandBackward0", a, out, [](const Tensor& g, const Shape& in) { return sum_to(g, in); },
                     [sizes](const Tensor& t) { return expand(t, sizes); });
}

Tensor expand_as(const Tensor& a, const Tensor& other) { return expand(a, other.sizes()); }

Tensor permute(const Tensor& a, const Shape& dims) {
  NORCH_CHECK(static_cast<int64_t>(dims.size()) == a.dim(), "permute(sparse_coo): number of dimensions in the tensor "
              "input does not match the length of the desired ordering of dimensions i.e. input.dim() = ", a.dim(),
              " is not equal to len(dims) = ", dims.size());
  Shape sizes(a.dim()), strides(a.dim()), wrapped(a.dim());
  std::vector<bool> seen(a.dim(), false);
  for (int64_t i = 0; i < a.dim(); ++i) {
    int64_t d = wrap_dim(dims[i], a.dim());
    NORCH_CHECK(!seen[d], "permute(): duplicate dims are not allowed.");
    seen[d] = true;
    wrapped[i] = d;
    sizes[i] = a.sizes()[d];
    strides[i] = a.strides()[d];
  }
  Tensor out = make_view(a, sizes, strides, a.storage_offset());
  return record_view("PermuteBackward0", a, out, [wrapped](const Tensor& g, const Shape&) {
    Shape inverse(wrapped.size());
    for (size_t i = 0; i < wrapped.size(); ++i) inverse[wrapped[i]] = static_cast<int64_t>(i);
    return permute(g, inverse);
  }, [wrapped](const Tensor& t) { return permute(t, wrapped); });
}

Tensor transpose(const Tensor& a, int64_t dim0, int64_t dim1) {
  int64_t d0 = wrap_dim(dim0, a.dim()), d1 = wrap_dim(dim1, a.dim());
  if (a.dim() == 0) return a;
  Shape sizes = a.sizes(), strides = a.strides();
  std::swap(sizes[d0], sizes[d1]);
  std::swap(strides[d0], strides[d1]);
  Tensor out = make_view(a, sizes, strides, a.storage_offset());
  return record_view("TransposeBackward0", a, out,
                     [d0, d1](const Tensor& g, const Shape&) { return transpose(g, d0, d1); },
                     [d0, d1](const Tensor& t) { return transpose(t, d0, d1); });
}

Tensor t(const Tensor& a) {
  NORCH_CHECK(a.dim() <= 2, "t() expects a tensor with <= 2 dimensions, but self is ", a.dim(), "D");
  return a.dim() < 2 ? a : transpose(a, 0, 1);
}

Tensor mT(const Tensor& a) {
  NORCH_CHECK(a.dim() >= 2, "tensor.mT is only supported on matrices or batches of matrices. Got ", a.dim(), "-D tensor.");
  return transpose(a, -2, -1);
}

Tensor squeeze(const Tensor& a) {
  Shape dims;
  for (int64_t i = 0; i < a.dim(); ++i)
    if (a.sizes()[i] == 1) dims.push_back(i);
  return squeeze(a, dims);
}

Tensor squeeze(const Tensor& a, const Shape& dims) {
  std::vector<bool> drop(a.dim(), false);
  for (auto d : dims) {
    int64_t w = wrap_dim(d, a.dim());
    if (a.dim() > 0 && a.sizes()[w] == 1) drop[w] = true;
  }
  Shape sizes, strides;
  for (int64_t i = 0; i < a.dim(); ++i) {
    if (drop[i]) continue;
    sizes.push_back(a.sizes()[i]);
    strides.push_back(a.strides()[i]);
  }
  Tensor out = make_view(a, sizes, strides, a.storage_offset());
  return record_view("SqueezeBackward0", a, out, [](const Tensor& g, const Shape& in) { return reshape(g, in); },
                     [sizes](const Tensor& t) { return view(t, sizes); });
}

Tensor unsqueeze(const Tensor& a, int64_t dim) {
  int64_t d = wrap_dim(dim, a.dim() + 1);
  Shape sizes = a.sizes(), strides = a.strides();
  // The stride of a size-1 dim is never stepped; an as_strided stride on a
  // size-1 dim may be huge, so the product must not be allowed to overflow.
  int64_t st = 1;
  if (d < a.dim() && mul_overflows(a.sizes()[d], a.strides()[d], &st)) st = a.strides()[d];
  sizes.insert(sizes.begin() + d, 1);
  strides.insert(strides.begin() + d, st);
  Tensor out = make_view(a, sizes, strides, a.storage_offset());
  return record_view("UnsqueezeBackward0", a, out, [](const Tensor& g, const Shape& in) { return reshape(g, in); },
                     [d](const Tensor& t) { return unsqueeze(t, d); });
}

Tensor slice(const Tensor& a, int64_t dim, std::optional<int64_t> start_opt, std::optional<int64_t> end_opt,
             int64_t step) {
  NORCH_CHECK(a.dim() > 0, "slice() cannot be applied to a 0-dim tensor.");
  NORCH_CHECK_VALUE(step > 0, "slice step must be positive, got ", step);
  int64_t d = wrap_dim(dim, a.dim());
  const int64_t n = a.sizes()[d];
  int64_t start = start_opt.value_or(0), end = end_opt.value_or(n);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape sizes = a.sizes(), strides = a.strides();
  sizes[d] = (end - start) / step + ((end - start) % step != 0);  // ceil without overflow for huge steps
  // A step larger than the dim leaves at most one element, whose stride is never
  // stepped: keep the old stride where the product would overflow.
  if (mul_overflows(strides[d], step, &strides[d])) strides[d] = a.strides()[d];
  // start * stride is bounded by the storage when the slice is non-empty; an
  // empty slice of a huge-strided view may overflow, and then its offset is moot.
  int64_t offset = a.storage_offset(), shift;
  if (!mul_overflows(start, a.strides()[d], &shift) && !add_overflows(offset, shift, &shift)) offset = shift;
  Tensor out = make_view(a, sizes, strides, offset);
  return record_view("SliceBackward0", a, out, [d, start, end, step](const Tensor& g, const Shape& in) {
    return slice_backward(g, in, d, start, end, step);
  }, [d, start, end, step](const Tensor& t) { return slice(t, d, start, end, step); });
}

Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length) {
  NORCH_CHECK(a.dim() > 0, "narrow() cannot be applied to a 0-dim tensor.");
  int64_t d = wrap_dim(dim, a.dim());
  const int64_t n = a.sizes()[d];
  if (start < 0) start += n;
  NORCH_CHECK_INDEX(start >= 0 && start <= n, "start out of range (expected to be in range of [", -n, ", ", n,
                    "], but got ", start, ")");
  NORCH_CHECK(length >= 0 && start + length <= n, "start (", start, ") + length (", length,
              ") exceeds dimension size (", n, ").");
  return slice(a, d, start, start + length, 1);
}

Tensor select(const Tensor& a, int64_t dim, int64_t index) {
  NORCH_CHECK_INDEX(a.dim() > 0, "select() cannot be applied to a 0-dim tensor.");
  int64_t d = wrap_dim(dim, a.dim());
  const int64_t n = a.sizes()[d];
  NORCH_CHECK_INDEX(index >= -n && index < n, "index ", index, " is out of bounds for dimension ", d, " with size ", n);
  if (index < 0) index += n;
  Shape sizes = a.sizes(), strides = a.strides();
  int64_t offset = a.storage_offset() + index * strides[d];
  sizes.erase(sizes.begin() + d);
  strides.erase(strides.begin() + d);
  Tensor out = make_view(a, sizes, strides, offset);
  return record_view("SelectBackward0", a, out,
                     [d, index](const Tensor& g, const Shape& in) { return select_backward(g, in, d, index); },
                     [d, index](const Tensor& t) { return select(t, d, index); });
}

Tensor as_strided(const Tensor& a, const Shape& sizes, const Shape& strides, std::optional<int64_t> offset) {
  NORCH_CHECK(sizes.size() == strides.size(), "mismatch in length of strides and shape");
  const int64_t off = offset.value_or(a.storage_offset());
  NORCH_CHECK(off >= 0, "Tensor: invalid storage offset ", off);
  check_shape(sizes);
  for (auto st : strides)
    NORCH_CHECK(st >= 0, "as_strided: Negative strides are not supported at the moment, got strides: ",
                bracket_list(strides));
  // Checked arithmetic: a wrapped extent would pass the bounds check (Note [Size invariant]).
  const int64_t needed = storage_nbytes(sizes, strides, a.element_size(), off);
  const size_t have = a.impl()->storage->nbytes;
  NORCH_CHECK(static_cast<size_t>(needed) <= have, "setStorage: sizes ", bracket_list(sizes), ", strides ",
              bracket_list(strides), ", storage offset ", off, ", and itemsize ", a.element_size(),
              " requiring a storage size of ", needed, " are out of bounds for storage of size ", have);
  NORCH_CHECK(!autograd::needs_grad(a), "as_strided: not differentiable in norch; use view ops instead");
  return make_view(a, sizes, strides, off);
}

Tensor movedim(const Tensor& a, int64_t source, int64_t destination) {
  int64_t s = wrap_dim(source, a.dim()), d = wrap_dim(destination, a.dim());
  Shape order;
  for (int64_t i = 0; i < a.dim(); ++i)
    if (i != s) order.push_back(i);
  order.insert(order.begin() + d, s);
  return permute(a, order);
}

namespace {
template <typename MakeView, typename Formula>
Tensor scatter_into_zeros(const char* name, const Tensor& g, const Shape& sizes, MakeView view_of, Formula formula) {
  Tensor z = zeros(sizes, TensorOptions(g.dtype(), g.device()));
  copy_data(view_of(z.detach()), g);
  if (autograd::needs_grad(g))
    autograd::record(name, {g}, {z}, {}, [formula](BackwardContext&, const TensorList& gg) -> TensorList {
      return {formula(gg[0])};
    });
  return z;
}
}  // namespace

Tensor select_backward(const Tensor& g, const Shape& sizes, int64_t dim, int64_t index) {
  auto pick = [dim, index](const Tensor& t) { return select(t, dim, index); };
  return scatter_into_zeros("SelectBackwardBackward0", g, sizes, pick, pick);
}

Tensor slice_backward(const Tensor& g, const Shape& sizes, int64_t dim, int64_t start, int64_t end, int64_t step) {
  auto pick = [=](const Tensor& t) { return slice(t, dim, start, end, step); };
  return scatter_into_zeros("SliceBackwardBackward0", g, sizes, pick, pick);
}

}  // namespace norch
