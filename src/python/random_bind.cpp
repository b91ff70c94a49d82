// Random numbers: norch.Generator, manual_seed, rand/randn/randint/randperm,
// bernoulli, multinomial, *_like, and the in-place Tensor fills.
#include "convert.h"
#include "norch/ops/random.h"

namespace norch::python {

namespace {

Generator* to_generator(py::handle obj) {
  if (obj.is_none()) return nullptr;
  NORCH_CHECK_TYPE(py::isinstance<Generator>(obj), "generator must be a norch.Generator, got ",
                   std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
  return obj.cast<Generator*>();
}

// Python ints of any sign become a 64-bit seed (negative seeds wrap, as in PyTorch).
uint64_t to_seed(py::handle obj) {
  NORCH_CHECK_TYPE(py::isinstance<py::int_>(obj), "manual_seed expected an int, got ",
                   std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
  py::int_ wrapped = obj.attr("__and__")(py::int_(py::module_::import("builtins").attr("int")("0xFFFFFFFFFFFFFFFF", 16)));
  return wrapped.cast<uint64_t>();
}

TensorOptions options(py::object dtype, py::object device, bool rg, ScalarType fallback) {
  return TensorOptions(dtype.is_none() ? fallback : to_scalar_type(dtype), to_device(device), rg);
}
TensorOptions like_options(const Tensor& t, py::object dtype, py::object device, bool rg) {
  return TensorOptions(dtype.is_none() ? t.dtype() : to_scalar_type(dtype),
                       device.is_none() ? t.device() : to_device(device), rg);
}

py::object state_tensor(const Generator& g) {
  auto bytes = g.get_state();
  Tensor t = empty({16}, TensorOptions(ScalarType::UInt8));
  std::copy(bytes.begin(), bytes.end(), t.data<uint8_t>());
  return py::cast(t);
}

void set_state(Generator& g, py::object state) {
  if (py::isinstance<py::bytes>(state)) {
    std::string s = state.cast<std::string>();
    g.set_state(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    return;
  }
  NORCH_CHECK_TYPE(py::isinstance<Tensor>(state), "set_state expects a norch.ByteTensor or bytes");
  Tensor t = state.cast<Tensor>();
  NORCH_CHECK_TYPE(t.dtype() == ScalarType::UInt8, "set_state expects a uint8 tensor, got ", dtype_name(t.dtype()));
  Tensor c = contiguous(to_device(t, Device()));
  g.set_state(c.data<uint8_t>(), static_cast<size_t>(c.numel()));
}

// randint(high, size) or randint(low, high, size), as PyTorch's overloads.
void split_randint_args(const py::args& args, py::object low_kw, py::object high_kw, py::object size_kw,
                        int64_t& low, int64_t& high, Shape& size) {
  std::vector<py::object> pos;
  for (auto a : args) pos.push_back(py::reinterpret_borrow<py::object>(a));
  if (!size_kw.is_none()) pos.push_back(size_kw);
  if (!high_kw.is_none()) pos.insert(pos.end() - (size_kw.is_none() ? 0 : 1), high_kw);
  if (!low_kw.is_none()) pos.insert(pos.begin(), low_kw);
  NORCH_CHECK_TYPE(pos.size() == 2 || pos.size() == 3,
                   "randint() expects (high, size) or (low, high, size), got ", pos.size(), " arguments");
  low = pos.size() == 3 ? pos[0].cast<int64_t>() : 0;
  high = pos[pos.size() - 2].cast<int64_t>();
  size = to_shape(pos.back());
}

}  // namespace

void init_random(py::module_& m, TensorClass& cls) {
  py::class_<Generator, std::shared_ptr<Generator>>(m, "Generator")
      .def(py::init([](py::object device) {
        NORCH_CHECK(to_device(device).is_cpu(), "Generator: only cpu generators are supported (random values are "
                    "computed on the CPU and copied to the device)");
        return std::make_shared<Generator>();
      }), py::arg("device") = "cpu")
      .def("manual_seed", [](std::shared_ptr<Generator> g, py::object seed) { g->manual_seed(to_seed(seed)); return g; },
           py::arg("seed"))
      .def("initial_seed", &Generator::initial_seed)
      .def("seed", &Generator::seed)
      .def("get_state", [](const Generator& g) { return state_tensor(g); })
      .def("set_state", [](std::shared_ptr<Generator> g, py::object s) { set_state(*g, s); return g; },
           py::arg("new_state"))
      .def_property_readonly("device", [](const Generator&) { return py::module_::import("norch").attr("device")("cpu"); });
  m.attr("default_generator") = default_generator();
  m.def("manual_seed", [](py::object seed) {
    default_generator()->manual_seed(to_seed(seed));
    return default_generator();
  }, py::arg("seed"));
  m.def("initial_seed", [] { return default_generator()->initial_seed(); });
  m.def("seed", [] { return default_generator()->seed(); });
  m.def("get_rng_state", [] { return state_tensor(*default_generator()); });
  m.def("set_rng_state", [](py::object s) { set_state(*default_generator(), s); }, py::arg("new_state"));

  m.def("rand", [](py::args sizes, py::object gen, py::object dtype, py::object device, bool rg) {
    return rand(shape_from_args(sizes), options(dtype, device, rg, default_dtype()), to_generator(gen));
  }, py::kw_only(), py::arg("generator") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false);
  m.def("randn", [](py::args sizes, py::object gen, py::object dtype, py::object device, bool rg) {
    return randn(shape_from_args(sizes), options(dtype, device, rg, default_dtype()), to_generator(gen));
  }, py::kw_only(), py::arg("generator") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false);
  m.def("randint", [](py::args args, py::object low, py::object high, py::object size, py::object gen,
                      py::object dtype, py::object device, bool rg) {
    int64_t lo, hi;
    Shape shape;
    split_randint_args(args, low, high, size, lo, hi, shape);
    return randint(lo, hi, shape, options(dtype, device, rg, ScalarType::Int64), to_generator(gen));
  }, py::kw_only(), py::arg("low") = py::none(), py::arg("high") = py::none(), py::arg("size") = py::none(),
        py::arg("generator") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false);
  m.def("randperm", [](int64_t n, py::object gen, py::object dtype, py::object device, bool rg) {
    return randperm(n, options(dtype, device, rg, ScalarType::Int64), to_generator(gen));
  }, py::arg("n"), py::kw_only(), py::arg("generator") = py::none(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("rand_like", [](const Tensor& t, py::object dtype, py::object device, bool rg) {
    return rand(t.sizes(), like_options(t, dtype, device, rg));
  }, py::arg("input"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false);
  m.def("randn_like", [](const Tensor& t, py::object dtype, py::object device, bool rg) {
    return randn(t.sizes(), like_options(t, dtype, device, rg));
  }, py::arg("input"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false);
  m.def("randint_like", [](const Tensor& t, int64_t a, py::object b, py::object dtype, py::object device, bool rg) {
    const int64_t low = b.is_none() ? 0 : a, high = b.is_none() ? a : b.cast<int64_t>();
    return randint(low, high, t.sizes(), like_options(t, dtype, device, rg));
  }, py::arg("input"), py::arg("low"), py::arg("high") = py::none(), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("bernoulli", [](const Tensor& p, py::object p_arg, py::object gen) {
    if (p_arg.is_none()) return bernoulli(p, to_generator(gen));
    return bernoulli(p, p_arg.cast<double>(), to_generator(gen));
  }, py::arg("input"), py::arg("p") = py::none(), py::kw_only(), py::arg("generator") = py::none());
  m.def("multinomial", [](const Tensor& p, int64_t n, bool replacement, py::object gen) {
    return multinomial(p, n, replacement, to_generator(gen));
  }, py::arg("input"), py::arg("num_samples"), py::arg("replacement") = false, py::kw_only(),
        py::arg("generator") = py::none());
  m.def("normal", [](py::object mean, py::object std, py::object size, py::object gen, py::object dtype,
                     py::object device, bool rg) {
    // normal(mean, std, size) with numbers, or normal(mean, std) with tensors (broadcast).
    const bool mean_t = py::isinstance<Tensor>(mean), std_t = py::isinstance<Tensor>(std);
    if (mean_t || std_t) {
      NORCH_CHECK_TYPE(size.is_none(), "normal: size is only accepted with float mean and std");
      Tensor out = mean_t && std_t ? normal(mean.cast<Tensor>(), std.cast<Tensor>(), to_generator(gen))
                   : mean_t        ? normal(mean.cast<Tensor>(), to_scalar(std), to_generator(gen))
                                   : normal(to_scalar(mean), std.cast<Tensor>(), to_generator(gen));
      if (rg) out.set_requires_grad(true);
      return out;
    }
    NORCH_CHECK_TYPE(!size.is_none(), "normal() with float mean and std needs a size");
    return normal(mean.cast<double>(), std.cast<double>(), to_shape(size), options(dtype, device, rg, default_dtype()),
                  to_generator(gen));
  }, py::arg("mean"), py::arg("std") = 1.0, py::arg("size") = py::none(), py::kw_only(),
        py::arg("generator") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false);

  cls.def("uniform_", [](Tensor& t, double from, double to, py::object gen) -> Tensor& {
        return uniform_(t, from, to, to_generator(gen));
      }, py::arg("from") = 0.0, py::arg("to") = 1.0, py::kw_only(), py::arg("generator") = py::none())
      .def("normal_", [](Tensor& t, double mean, double std, py::object gen) -> Tensor& {
        return normal_(t, mean, std, to_generator(gen));
      }, py::arg("mean") = 0.0, py::arg("std") = 1.0, py::kw_only(), py::arg("generator") = py::none())
      .def("random_", [](Tensor& t, py::args args, py::object gen) -> Tensor& {
        // random_(), random_(to), random_(from, to): PyTorch's overloads.
        NORCH_CHECK_TYPE(args.size() <= 2, "random_() takes at most 2 positional arguments");
        if (args.size() == 0) return random_(t, 0, std::nullopt, to_generator(gen));
        if (args.size() == 1) return random_(t, 0, args[0].cast<int64_t>(), to_generator(gen));
        std::optional<int64_t> to;
        if (!args[1].is_none()) to = args[1].cast<int64_t>();
        return random_(t, args[0].cast<int64_t>(), to, to_generator(gen));
      }, py::kw_only(), py::arg("generator") = py::none())
      .def("bernoulli_", [](Tensor& t, py::object p, py::object gen) -> Tensor& {
        if (py::isinstance<Tensor>(p)) return bernoulli_(t, p.cast<Tensor>(), to_generator(gen));
        return bernoulli_(t, p.cast<double>(), to_generator(gen));
      }, py::arg("p") = 0.5, py::kw_only(), py::arg("generator") = py::none())
      .def("exponential_", [](Tensor& t, double lambd, py::object gen) -> Tensor& {
        return exponential_(t, lambd, to_generator(gen));
      }, py::arg("lambd") = 1.0, py::kw_only(), py::arg("generator") = py::none())
      .def("bernoulli", [](const Tensor& p, py::object gen) { return bernoulli(p, to_generator(gen)); },
           py::kw_only(), py::arg("generator") = py::none())
      .def("multinomial", [](const Tensor& p, int64_t n, bool replacement, py::object gen) {
        return multinomial(p, n, replacement, to_generator(gen));
      }, py::arg("num_samples"), py::arg("replacement") = false, py::kw_only(), py::arg("generator") = py::none());
}

}  // namespace norch::python
