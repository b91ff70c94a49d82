// Reductions and scans: module functions and Tensor methods with PyTorch's signatures.
#include "convert.h"

#include <cmath>

namespace norch::python {

namespace {
std::optional<int64_t> opt_dim(py::handle d) {
  if (d.is_none()) return std::nullopt;
  return d.cast<int64_t>();
}

// (values, indices) results are named tuples, like torch.return_types.max.
py::object values_indices(const char* name, const std::tuple<Tensor, Tensor>& r) {
  static PyObject* types[2] = {nullptr, nullptr};  // max, min; leaked on purpose (module lifetime)
  PyObject*& type = types[std::string(name) == "max" ? 0 : 1];
  if (!type) {
    py::object t = py::module_::import("collections").attr("namedtuple")(name, py::make_tuple("values", "indices"));
    t.attr("__module__") = "norch.return_types";
    type = t.release().ptr();
  }
  return py::reinterpret_borrow<py::object>(type)(std::get<0>(r), std::get<1>(r));
}

// max(input) / max(input, dim, keepdim=False) / max(input, other).
template <bool IsMax>
py::object extremum(const Tensor& a, py::handle dim, py::handle keepdim) {
  if (py::isinstance<Tensor>(dim)) {
    NORCH_CHECK_TYPE(keepdim.is_none(), IsMax ? "max" : "min", "(): keepdim is not valid with a tensor `other`");
    Tensor b = dim.cast<Tensor>();
    return py::cast(IsMax ? maximum(a, b) : minimum(a, b));
  }
  if (dim.is_none()) {
    NORCH_CHECK_TYPE(keepdim.is_none(), IsMax ? "max" : "min", "(): keepdim needs a dim");
    Tensor r;
    {
      GilRelease release(a.numel());  // Note [GIL release]
      r = IsMax ? max(a) : min(a);
    }
    return py::cast(r);
  }
  const bool kd = keepdim.is_none() ? false : keepdim.cast<bool>();
  const int64_t d = dim.cast<int64_t>();
  std::tuple<Tensor, Tensor> r;
  {
    GilRelease release(a.numel());
    r = IsMax ? max(a, d, kd) : min(a, d, kd);
  }
  return values_indices(IsMax ? "max" : "min", r);
}

// var/std accept PyTorch's current form (dim, *, correction, keepdim) and the
// legacy ones: var(unbiased) and var(dim, unbiased, keepdim).
double correction_of(py::handle& dim, py::handle unbiased, py::handle correction) {
  if (PyBool_Check(dim.ptr())) {  // x.var(False)
    NORCH_CHECK_TYPE(unbiased.is_none(), "var(): unbiased given twice");
    unbiased = dim;
    dim = py::none();
  }
  NORCH_CHECK(unbiased.is_none() || correction.is_none(), "var(): cannot specify both unbiased and correction");
  if (!correction.is_none()) return correction.cast<double>();
  if (!unbiased.is_none()) return unbiased.cast<bool>() ? 1.0 : 0.0;
  return 1.0;
}

template <bool IsStd>
Tensor var_std(const Tensor& a, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction) {
  const double c = correction_of(dim, unbiased, correction);
  const Shape dims = to_dims(dim);
  GilRelease release(a.numel());
  return IsStd ? norch::std(a, dims, c, keepdim) : var(a, dims, c, keepdim);
}

Tensor norm_fn(const Tensor& a, py::handle p, py::handle dim, bool keepdim, py::handle dtype) {
  const Shape dims = to_dims(dim);
  const auto dt = opt_dtype(dtype);
  if (py::isinstance<py::str>(p)) {
    const std::string ps = p.cast<std::string>();
    GilRelease release(a.numel());  // Note [GIL release]
    return norm(a, ps, dims, keepdim, dt);
  }
  const double pv = p.is_none() ? 2.0 : p.cast<double>();
  GilRelease release(a.numel());
  return norm(a, pv, dims, keepdim, dt);
}

}  // namespace

void init_reduce(py::module_& m, TensorClass& cls) {
  // Each reduction is bound twice from one lambda: norch.f(input, ...) and Tensor.f(...).
  auto both = [&](const char* name, auto fn, auto... extra) {
    m.def(name, fn, py::arg("input"), extra...);
    cls.def(name, fn, extra...);
  };
  const auto none = py::none();

  both("sum", [](const Tensor& a, py::handle dim, bool keepdim, py::handle dtype) {
    const Shape dims = to_dims(dim);
    const auto dt = opt_dtype(dtype);
    GilRelease release(a.numel());
    return sum(a, dims, keepdim, dt);
  }, py::arg("dim") = none, py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = none);
  both("mean", [](const Tensor& a, py::handle dim, bool keepdim, py::handle dtype) {
    const Shape dims = to_dims(dim);
    const auto dt = opt_dtype(dtype);
    GilRelease release(a.numel());
    return mean(a, dims, keepdim, dt);
  }, py::arg("dim") = none, py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = none);
  both("prod", [](const Tensor& a, py::handle dim, bool keepdim, py::handle dtype) {
    const Shape dims = to_dims(dim);
    const auto dt = opt_dtype(dtype);
    GilRelease release(a.numel());
    return prod(a, dims, keepdim, dt);
  }, py::arg("dim") = none, py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = none);
  both("max", &extremum<true>, py::arg("dim") = none, py::arg("keepdim") = none);
  both("min", &extremum<false>, py::arg("dim") = none, py::arg("keepdim") = none);
  both("amax", [](const Tensor& a, py::handle dim, bool keepdim) {
    const Shape dims = to_dims(dim);
    GilRelease release(a.numel());
    return amax(a, dims, keepdim);
  },
       py::arg("dim") = py::tuple(), py::arg("keepdim") = false);
  both("amin", [](const Tensor& a, py::handle dim, bool keepdim) {
    const Shape dims = to_dims(dim);
    GilRelease release(a.numel());
    return amin(a, dims, keepdim);
  },
       py::arg("dim") = py::tuple(), py::arg("keepdim") = false);
  both("argmax", [](const Tensor& a, py::handle dim, bool keepdim) {
    const auto d = opt_dim(dim);
    GilRelease release(a.numel());
    return argmax(a, d, keepdim);
  },
       py::arg("dim") = none, py::arg("keepdim") = false);
  both("argmin", [](const Tensor& a, py::handle dim, bool keepdim) {
    const auto d = opt_dim(dim);
    GilRelease release(a.numel());
    return argmin(a, d, keepdim);
  },
       py::arg("dim") = none, py::arg("keepdim") = false);
  both("var", &var_std<false>, py::arg("dim") = none, py::arg("unbiased") = none, py::arg("keepdim") = false,
       py::kw_only(), py::arg("correction") = none);
  both("std", &var_std<true>, py::arg("dim") = none, py::arg("unbiased") = none, py::arg("keepdim") = false,
       py::kw_only(), py::arg("correction") = none);
  both("norm", &norm_fn, py::arg("p") = "fro", py::arg("dim") = none, py::arg("keepdim") = false,
       py::arg("dtype") = none);
  both("all", [](const Tensor& a, py::handle dim, bool keepdim) {
    const Shape dims = to_dims(dim);
    GilRelease release(a.numel());
    return all(a, dims, keepdim);
  },
       py::arg("dim") = none, py::arg("keepdim") = false);
  both("any", [](const Tensor& a, py::handle dim, bool keepdim) {
    const Shape dims = to_dims(dim);
    GilRelease release(a.numel());
    return any(a, dims, keepdim);
  },
       py::arg("dim") = none, py::arg("keepdim") = false);
  both("logsumexp", [](const Tensor& a, py::handle dim, bool keepdim) {
    const Shape dims = to_dims(dim);
    GilRelease release(a.numel());
    return logsumexp(a, dims, keepdim);
  },
       py::arg("dim"), py::arg("keepdim") = false);
  both("cumsum", [](const Tensor& a, int64_t dim, py::handle dtype) {
    const auto dt = opt_dtype(dtype);
    GilRelease release(a.numel());
    return cumsum(a, dim, dt);
  },
       py::arg("dim"), py::kw_only(), py::arg("dtype") = none);
  both("cumprod", [](const Tensor& a, int64_t dim, py::handle dtype) {
    const auto dt = opt_dtype(dtype);
    GilRelease release(a.numel());
    return cumprod(a, dim, dt);
  },
       py::arg("dim"), py::kw_only(), py::arg("dtype") = none);
  m.def("sum_to", [](const Tensor& a, py::handle shape) { return sum_to(a, to_shape(shape)); }, py::arg("input"),
        py::arg("size"));
}

}  // namespace norch::python
