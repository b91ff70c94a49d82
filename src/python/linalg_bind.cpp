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
  // cpu::gemm_table: input [M, K] @ B, B's rows (or columns) windows into the 1-D `buffer`
  // at `offsets`; `n` is N for rows (columns take N from the offsets).
  m.def(
      "_gemm_table",
      [](const Tensor& input, const Tensor& buffer, const Tensor& offsets, int64_t n, bool columns, int threads) {
        NORCH_CHECK(input.dim() == 2 && buffer.dim() == 1 && offsets.dim() == 1 && !input.is_cuda() &&
                        !buffer.is_cuda() && input.dtype() == buffer.dtype() &&
                        (input.dtype() == ScalarType::Float32 || input.dtype() == ScalarType::Float64) &&
                        offsets.dtype() == ScalarType::Int64,
                    "_gemm_table: expected a 2-D input, a 1-D buffer of its dtype (float32 or float64) and 1-D "
                    "int64 offsets on the CPU");
        const int64_t M = input.sizes()[0], K = input.sizes()[1], N = columns ? offsets.numel() : n;
        NORCH_CHECK(columns || offsets.numel() == K, "_gemm_table: ", offsets.numel(), " row offsets for K = ", K);
        const Tensor a = contiguous(input), b = contiguous(buffer), off = contiguous(offsets);
        const int64_t span = columns ? K : N;  // each window's length
        for (int64_t i = 0; i < off.numel(); ++i) {
          const int64_t o = off.data<int64_t>()[i];
          NORCH_CHECK(o >= 0 && o + span <= b.numel(), "_gemm_table: window ", i, " at ", o, " of length ", span,
                      " leaves the buffer of ", b.numel());
        }
        Tensor c = empty({M, N}, TensorOptions(input.dtype()));
        GilRelease release(M * N * K);
        NORCH_CHECK(cpu::gemm_table(input.dtype() == ScalarType::Float64, M, N, K, a.data_ptr(), b.data_ptr(),
                                    reinterpret_cast<const long long*>(off.data<int64_t>()), columns,
                                    c.data_ptr(), threads),
                    "_gemm_table: could not allocate the packing buffer");
        return c;
      },
      py::arg("input"), py::arg("buffer"), py::arg("offsets"), py::arg("n"), py::arg("columns"), py::arg("threads"));
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
