// The matmul family.
#include "convert.h"
#include "norch/debug.h"

namespace norch::python {

void init_linalg(py::module_& m, TensorClass& cls) {
  using Fn = Tensor (*)(const Tensor&, const Tensor&);
  for (auto [name, fn] : {std::pair<const char*, Fn>{"matmul", matmul}, {"mm", mm}, {"bmm", bmm}, {"mv", mv},
                          {"dot", dot}, {"outer", outer}}) {
    auto nogil = [fn = fn](const Tensor& a, const Tensor& b) {
      GilRelease release(a.numel() + b.numel());  // Note [GIL release]
      return fn(a, b);
    };
    m.def(name, nogil, py::arg("input"), py::arg("other"));
    cls.def(name, nogil, py::arg("other"));
  }
  auto matmul_nogil = [](const Tensor& a, const Tensor& b) {
    GilRelease release(a.numel() + b.numel());
    return matmul(a, b);
  };
  cls.def("__matmul__", [matmul_nogil](const Tensor& a, py::handle b) -> py::object {
    if (!py::isinstance<Tensor>(b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    return py::cast(matmul_nogil(a, b.cast<Tensor>()));
  });
  cls.def("__rmatmul__", [matmul_nogil](const Tensor& a, py::handle b) -> py::object {
    if (!py::isinstance<Tensor>(b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    return py::cast(matmul_nogil(b.cast<Tensor>(), a));
  });
  auto addmm_fn = [](const Tensor& in, const Tensor& a, const Tensor& b, py::handle beta, py::handle alpha) {
    const Scalar be = to_scalar(beta), al = to_scalar(alpha);
    GilRelease release(a.numel() + b.numel());
    return addmm(in, a, b, be, al);
  };
  m.def("addmm", addmm_fn, py::arg("input"), py::arg("mat1"), py::arg("mat2"), py::kw_only(), py::arg("beta") = 1,
        py::arg("alpha") = 1);
  // For tests and benchmarks: the plain loop the fast kernel is checked against, and
  // which per-ISA copy of the fast kernels this process runs (Note [SIMD dispatch]).
  m.def("_bmm_reference", bmm_reference, py::arg("input"), py::arg("mat2"));
  m.def("_simd_level", [] { return std::string(cpu::simd_level_name()); });
  m.def("_set_gemm_kernel", cpu::set_gemm_kernel, py::arg("version"));
  m.def("_gemm_kernel_latest", cpu::gemm_kernel_latest);
  m.def("_set_gemm_bf16_kernel", cpu::set_gemm_bf16_kernel, py::arg("version"));
  m.def("_gemm_bf16_kernel_latest", cpu::gemm_bf16_kernel_latest);
  cls.def("addmm", addmm_fn, py::arg("mat1"), py::arg("mat2"), py::kw_only(), py::arg("beta") = 1,
          py::arg("alpha") = 1);
  // Note [float32 matmul precision] and Note [CUDA matmul ladder]: process-wide
  // settings read by the CUDA bmm kernel (norch.set_float32_matmul_precision,
  // norch.backends.cuda.matmul.allow_tf32, norch.backends.cuda.set_matmul_kernel).
  m.def("_set_float32_matmul_precision", &set_float32_matmul_precision, py::arg("precision"));
  m.def("_get_float32_matmul_precision", &get_float32_matmul_precision);
  m.def("_set_cuda_matmul_kernel", &set_cuda_matmul_kernel, py::arg("kernel"));
  m.def("_get_cuda_matmul_kernel", &get_cuda_matmul_kernel);
}

}  // namespace norch::python
