// Joining, splitting and rearranging: cat/stack/split/chunk/unbind/flip/roll/
// repeat/tile/tril/triu. Only cat has a kernel of its own (copies into slices of
// the output); the rest are composites of views, cat, index_select and where,
// so their gradients (and double gradients) come from those ops.
#include <algorithm>

#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/select.h"
#include "norch/ops/shape.h"
#include "norch/ops/unary.h"
#include "norch/tensor/iterator.h"
#include "norch/tensor/size_math.h"

namespace norch {

namespace {
// PyTorch still skips 1-d empty tensors in cat whatever the other shapes are.
bool legacy_empty(const Tensor& t) { return t.dim() == 1 && t.sizes()[0] == 0; }
}  // namespace

Tensor cat(const TensorList& tensors, int64_t dim) {
  NORCH_CHECK(!tensors.empty(), "torch.cat(): expected a non-empty list of Tensors");
  const Tensor* ref = nullptr;
  for (size_t i = 0; i < tensors.size(); ++i) {
    NORCH_CHECK(tensors[i].dim() > 0, "zero-dimensional tensor (at position ", i, ") cannot be concatenated");
    if (!ref && !legacy_empty(tensors[i])) ref = &tensors[i];
  }
  check_same_device("cat", tensors);
  const ScalarType dtype = result_type(tensors);
  if (!ref) return empty({0}, TensorOptions(dtype, tensors[0].device()));
  const int64_t d = wrap_dim(dim, ref->dim());
  Shape shape = ref->sizes();
  shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (legacy_empty(t)) continue;
    NORCH_CHECK(t.dim() == ref->dim(), "Tensors must have same number of dimensions: got ", ref->dim(), " and ",
                t.dim());
    for (int64_t k = 0; k < t.dim(); ++k)
      NORCH_CHECK(k == d || t.sizes()[k] == ref->sizes()[k], "Sizes of tensors must match except in dimension ", d,
                  ". Expected size ", ref->sizes()[k], " but got size ", t.sizes()[k], " for tensor number ", i,
                  " in the list.");
    shape[d] = checked_add(shape[d], t.sizes()[d], "cat");
  }
  Tensor out = empty(shape, TensorOptions(dtype, ref->device()));
  std::vector<int64_t> offsets(tensors.size(), 0), lengths(tensors.size(), -1);
  int64_t off = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (legacy_empty(tensors[i])) continue;
    offsets[i] = off;
    lengths[i] = tensors[i].sizes()[d];
    copy_data(narrow(out, d, off, lengths[i]), tensors[i]);
    off += lengths[i];
  }
  if (autograd::needs_grad(tensors))
    autograd::record("CatBackward0", tensors, {out}, {},
                     [d, offsets, lengths](autograd::BackwardContext& ctx, const TensorList& g) -> TensorList {
                       TensorList grads(offsets.size());
                       for (size_t i = 0; i < offsets.size(); ++i)
                         if (lengths[i] >= 0 && ctx.needs_input_grad(i)) grads[i] = narrow(g[0], d, offsets[i], lengths[i]);
                       return grads;
                     });
  return out;
}

Tensor stack(const TensorList& tensors, int64_t dim) {
  NORCH_CHECK(!tensors.empty(), "stack expects a non-empty TensorList");
  const int64_t d = wrap_dim(dim, tensors[0].dim() + 1);
  TensorList parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    NORCH_CHECK(tensors[i].sizes() == tensors[0].sizes(), "stack expects each tensor to be equal size, but got ",
                tensors[0].sizes(), " at entry 0 and ", tensors[i].sizes(), " at entry ", i);
    parts.push_back(unsqueeze(tensors[i], d));
  }
  // unsqueeze keeps a (0,) tensor from being skipped as a legacy empty by cat.
  return cat(parts, d);
}

TensorList split_with_sizes(const Tensor& a, const Shape& split_sizes, int64_t dim) {
  NORCH_CHECK(a.dim() > 0, "split expects at least a 1-dimensional tensor");
  const int64_t d = wrap_dim(dim, a.dim());
  int64_t total = 0;
  for (auto s : split_sizes) {
    NORCH_CHECK(s >= 0, "split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes=",
                split_sizes);
    total += s;
  }
  NORCH_CHECK(total == a.sizes()[d], "split_with_sizes expects split_sizes to sum exactly to ", a.sizes()[d],
              " (input tensor's size at dimension ", d, "), but got split_sizes=", split_sizes);
  TensorList out;
  int64_t off = 0;
  for (auto s : split_sizes) {
    out.push_back(narrow(a, d, off, s));
    off += s;
  }
  return out;
}

TensorList split(const Tensor& a, int64_t split_size, int64_t dim) {
  NORCH_CHECK(a.dim() > 0, "split expects at least a 1-dimensional tensor");
  NORCH_CHECK(split_size >= 0, "split expects split_size be non-negative, but got split_size=", split_size);
  const int64_t d = wrap_dim(dim, a.dim());
  const int64_t n = a.sizes()[d];
  NORCH_CHECK(split_size > 0 || n == 0, "split_size can only be 0 if dimension size is 0, but got dimension size of ",
              n);
  if (split_size == 0) return {narrow(a, d, 0, 0)};
  Shape sizes;
  for (int64_t off = 0; off < n; off += split_size) sizes.push_back(std::min(split_size, n - off));
  if (sizes.empty()) sizes.push_back(0);
  return split_with_sizes(a, sizes, d);
}

TensorList chunk(const Tensor& a, int64_t chunks, int64_t dim) {
  NORCH_CHECK(a.dim() > 0, "chunk expects at least a 1-dimensional tensor");
  NORCH_CHECK(chunks > 0, "chunk expects `chunks` to be greater than 0, got: ", chunks);
  const int64_t d = wrap_dim(dim, a.dim());
  const int64_t n = a.sizes()[d];
  const int64_t size = (n + chunks - 1) / chunks;
  if (size == 0) return split_with_sizes(a, Shape(chunks, 0), d);
  return split(a, size, d);
}

TensorList unbind(const Tensor& a, int64_t dim) {
  const int64_t d = wrap_dim(dim, a.dim(), /*scalar_ok=*/false);
  TensorList out;
  for (int64_t i = 0; i < a.sizes()[d]; ++i) out.push_back(select(a, d, i));
  return out;
}

Tensor flip(const Tensor& a, const Shape& dims) {
  std::vector<bool> seen(std::max<int64_t>(a.dim(), 1), false);
  Tensor r = a;
  for (auto dim : dims) {
    const int64_t d = wrap_dim(dim, a.dim());
    NORCH_CHECK(!seen[d], "dims has duplicates, original flip dims size=", dims.size(), ", but unique flip dims size=",
                dims.size() - 1);
    seen[d] = true;
    if (a.dim() == 0) continue;
    const int64_t n = a.sizes()[d];
    Tensor rev = n == 0 ? empty({0}, TensorOptions(ScalarType::Int64, a.device()))
                        : arange(Scalar(n - 1), Scalar(int64_t(-1)), Scalar(int64_t(-1)),
                                 TensorOptions(ScalarType::Int64, a.device()));
    r = index_select(r, d, rev);
  }
  return r.is_same(a) ? clone(a) : r;
}

Tensor roll(const Tensor& a, const Shape& shifts, const Shape& dims) {
  if (dims.empty()) {
    NORCH_CHECK(shifts.size() == 1, "shifts and dimensions must align. shifts: ", shifts.size(), ", dims:0");
    return view(roll(flatten(a), shifts, {0}), a.sizes());
  }
  NORCH_CHECK(shifts.size() == dims.size(), "shifts and dimensions must align. shifts: ", shifts.size(), ", dims:",
              dims.size());
  Tensor r = a;
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim(dims[i], a.dim(), /*scalar_ok=*/false);
    const int64_t n = a.sizes()[d];
    if (n == 0) continue;
    const int64_t s = ((shifts[i] % n) + n) % n;
    r = cat({narrow(r, d, n - s, s), narrow(r, d, 0, n - s)}, d);
  }
  return r.is_same(a) ? clone(a) : r;
}

Tensor repeat(const Tensor& a, const Shape& repeats) {
  NORCH_CHECK(static_cast<int64_t>(repeats.size()) >= a.dim(), "Number of dimensions of repeat dims can not be "
              "smaller than number of dimensions of tensor");
  for (auto r : repeats)
    NORCH_CHECK(r >= 0, "Trying to create tensor with negative dimension ", r, ": ", repeats);
  const size_t n = repeats.size(), lead = n - a.dim();
  // a viewed as (1, s0, 1, s1, ...), expanded to (r0, s0, r1, s1, ...), then
  // copied and merged pairwise: the gradient is expand's (a sum) for free.
  Shape pairs, expanded, result;
  for (size_t i = 0; i < n; ++i) {
    const int64_t s = i < lead ? 1 : a.sizes()[i - lead];
    pairs.insert(pairs.end(), {1, s});
    expanded.insert(expanded.end(), {repeats[i], s});
    result.push_back(checked_mul(repeats[i], s, "repeat"));
  }
  storage_nbytes(result, a.element_size());  // PyTorch's message before any view is built
  return view(clone(expand(reshape(a, pairs), expanded)), result);
}

Tensor tile(const Tensor& a, const Shape& dims) {
  Shape reps = dims;
  while (static_cast<int64_t>(reps.size()) < a.dim()) reps.insert(reps.begin(), 1);
  return repeat(a, reps);
}

namespace {
// Keeps the entries with (col - row) compared to diagonal as `keep` says, zeros the rest.
template <typename Keep>
Tensor triangle(const char* name, const Tensor& a, int64_t diagonal, Keep keep) {
  NORCH_CHECK(a.dim() >= 2, name, ": input tensor must have at least 2 dimensions");
  const int64_t rows = a.sizes()[a.dim() - 2], cols = a.sizes()[a.dim() - 1];
  TensorOptions idx(ScalarType::Int64, a.device());
  Tensor r = view(arange(Scalar(int64_t(0)), Scalar(rows), Scalar(int64_t(1)), idx), {rows, 1});
  Tensor c = view(arange(Scalar(int64_t(0)), Scalar(cols), Scalar(int64_t(1)), idx), {1, cols});
  Tensor mask = keep(sub(c, r), scalar_to_tensor(Scalar(diagonal), a.device()));
  return where(mask, a, zeros({}, TensorOptions(a.dtype(), a.device())));
}
}  // namespace

Tensor tril(const Tensor& a, int64_t diagonal) {
  return triangle("tril", a, diagonal, [](const Tensor& d, const Tensor& k) { return le(d, k); });
}

Tensor triu(const Tensor& a, int64_t diagonal) {
  return triangle("triu", a, diagonal, [](const Tensor& d, const Tensor& k) { return ge(d, k); });
}

}  // namespace norch
