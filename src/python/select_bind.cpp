// Selection and sorting: gather/scatter/index_select/masked_*/nonzero/sort/topk/unique/one_hot.
#include "convert.h"

namespace norch::python {

namespace {

// The 0-d value of masked_fill: a tensor as given, or a number as a wrapped number.
Tensor fill_value(const Tensor& self, py::handle value) {
  Tensor v = to_tensor_arg(value, "value", self.device());
  if (v.impl()->is_wrapped_number) check_scalar_fits(v.item(), self.dtype());
  return v;
}

// scatter's 4th argument is `src` (a tensor) or `value` (a number).
Tensor scatter_any(const Tensor& a, int64_t dim, const Tensor& index, py::handle src, py::handle value, bool inplace) {
  NORCH_CHECK_TYPE(src.is_none() != value.is_none(), "scatter() expects exactly one of src and value");
  py::handle s = src.is_none() ? value : src;
  Tensor self = a;
  if (py::isinstance<Tensor>(s)) {
    Tensor t = s.cast<Tensor>();
    return inplace ? scatter_(self, dim, index, t) : scatter(a, dim, index, t);
  }
  Scalar v = to_scalar(s);
  return inplace ? scatter_(self, dim, index, v) : scatter(a, dim, index, v);
}

// torch.return_types-like named tuples: (values, indices).
py::object values_indices(const char* name) {
  return py::module_::import("collections").attr("namedtuple")(name, py::make_tuple("values", "indices"));
}

}  // namespace

void init_select(py::module_& m, TensorClass& cls) {
  auto gather_fn = [](const Tensor& a, int64_t dim, const Tensor& index, bool) { return gather(a, dim, index); };
  m.def("gather", gather_fn, py::arg("input"), py::arg("dim"), py::arg("index"), py::kw_only(),
        py::arg("sparse_grad") = false);
  cls.def("gather", gather_fn, py::arg("dim"), py::arg("index"), py::kw_only(), py::arg("sparse_grad") = false);

  auto scatter_fn = [](const Tensor& a, int64_t dim, const Tensor& index, py::handle src, py::handle value) {
    return scatter_any(a, dim, index, src, value, false);
  };
  auto scatter_inplace_fn = [](const Tensor& a, int64_t dim, const Tensor& index, py::handle src, py::handle value) {
    return scatter_any(a, dim, index, src, value, true);
  };
  m.def("scatter", scatter_fn, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("src") = py::none(),
        py::kw_only(), py::arg("value") = py::none());
  cls.def("scatter", scatter_fn, py::arg("dim"), py::arg("index"), py::arg("src") = py::none(), py::kw_only(),
          py::arg("value") = py::none());
  cls.def("scatter_", scatter_inplace_fn, py::arg("dim"), py::arg("index"), py::arg("src") = py::none(),
          py::kw_only(), py::arg("value") = py::none());
  auto scatter_add_fn = [](const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src) {
    return scatter_add(a, dim, index, src);
  };
  m.def("scatter_add", scatter_add_fn, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("src"));
  cls.def("scatter_add", scatter_add_fn, py::arg("dim"), py::arg("index"), py::arg("src"));
  cls.def("scatter_add_", [](Tensor& a, int64_t dim, const Tensor& index, const Tensor& src) -> Tensor& {
    return scatter_add_(a, dim, index, src);
  }, py::arg("dim"), py::arg("index"), py::arg("src"));

  auto index_select_fn = [](const Tensor& a, int64_t dim, const Tensor& index) { return index_select(a, dim, index); };
  m.def("index_select", index_select_fn, py::arg("input"), py::arg("dim"), py::arg("index"));
  cls.def("index_select", index_select_fn, py::arg("dim"), py::arg("index"));
  auto index_add_fn = [](const Tensor& a, int64_t dim, const Tensor& index, const Tensor& source, py::handle alpha) {
    return index_add(a, dim, index, source, to_scalar(alpha));
  };
  m.def("index_add", index_add_fn, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("source"),
        py::kw_only(), py::arg("alpha") = 1);
  cls.def("index_add", index_add_fn, py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(),
          py::arg("alpha") = 1);
  cls.def("index_add_", [](Tensor& a, int64_t dim, const Tensor& index, const Tensor& source, py::handle alpha) -> Tensor& {
    return index_add_(a, dim, index, source, to_scalar(alpha));
  }, py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(), py::arg("alpha") = 1);

  auto masked_fill_fn = [](const Tensor& a, const Tensor& mask, py::handle value) {
    return masked_fill(a, mask, fill_value(a, value));
  };
  m.def("masked_fill", masked_fill_fn, py::arg("input"), py::arg("mask"), py::arg("value"));
  cls.def("masked_fill", masked_fill_fn, py::arg("mask"), py::arg("value"));
  cls.def("masked_fill_", [](Tensor& a, const Tensor& mask, py::handle value) -> Tensor& {
    return masked_fill_(a, mask, fill_value(a, value));
  }, py::arg("mask"), py::arg("value"));
  auto masked_select_fn = [](const Tensor& a, const Tensor& mask) { return masked_select(a, mask); };
  m.def("masked_select", masked_select_fn, py::arg("input"), py::arg("mask"));
  cls.def("masked_select", masked_select_fn, py::arg("mask"));

  auto nonzero_fn = [](const Tensor& a, bool as_tuple) -> py::object {
    if (as_tuple) return py::tuple(py::cast(nonzero_tuple(a)));
    return py::cast(nonzero(a));
  };
  m.def("nonzero", nonzero_fn, py::arg("input"), py::kw_only(), py::arg("as_tuple") = false);
  cls.def("nonzero", nonzero_fn, py::kw_only(), py::arg("as_tuple") = false);
  m.def("argwhere", [](const Tensor& a) { return nonzero(a); }, py::arg("input"));
  cls.def("argwhere", [](const Tensor& a) { return nonzero(a); });

  py::object sort_type = values_indices("sort"), topk_type = values_indices("topk");
  auto sort_fn = [sort_type](const Tensor& a, int64_t dim, bool descending, bool stable) {
    auto [v, i] = sort(a, dim, descending, stable);
    return sort_type(v, i);
  };
  m.def("sort", sort_fn, py::arg("input"), py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(),
        py::arg("stable") = false);
  cls.def("sort", sort_fn, py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(),
          py::arg("stable") = false);
  auto argsort_fn = [](const Tensor& a, int64_t dim, bool descending, bool stable) {
    return argsort(a, dim, descending, stable);
  };
  m.def("argsort", argsort_fn, py::arg("input"), py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(),
        py::arg("stable") = false);
  cls.def("argsort", argsort_fn, py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(),
          py::arg("stable") = false);
  auto topk_fn = [topk_type](const Tensor& a, int64_t k, int64_t dim, bool largest, bool sorted) {
    auto [v, i] = topk(a, k, dim, largest, sorted);
    return topk_type(v, i);
  };
  m.def("topk", topk_fn, py::arg("input"), py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true,
        py::arg("sorted") = true);
  cls.def("topk", topk_fn, py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true, py::arg("sorted") = true);

  auto unique_fn = [](const Tensor& a, bool sorted, bool return_inverse, bool return_counts,
                      std::optional<int64_t> dim) -> py::object {
    auto [values, inverse, counts] = unique(a, sorted, dim);
    if (!return_inverse && !return_counts) return py::cast(values);
    py::list out;
    out.append(values);
    if (return_inverse) out.append(inverse);
    if (return_counts) out.append(counts);
    return py::tuple(out);
  };
  m.def("unique", unique_fn, py::arg("input"), py::arg("sorted") = true, py::arg("return_inverse") = false,
        py::arg("return_counts") = false, py::arg("dim") = py::none());
  cls.def("unique", unique_fn, py::arg("sorted") = true, py::arg("return_inverse") = false,
          py::arg("return_counts") = false, py::arg("dim") = py::none());

  m.def("one_hot", [](const Tensor& a, int64_t num_classes) { return one_hot(a, num_classes); }, py::arg("tensor"),
        py::arg("num_classes") = -1);
}

}  // namespace norch::python
