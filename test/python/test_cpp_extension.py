"""norch.utils.cpp_extension: C++ ops built at run time. One pybind11 module (load_inline)
is shared by the tests of the Tensor casters and of autograd through C++ ops; the build
machinery (cache, rebuild, errors, the lock) is tested on tiny C-API sources that compile
in well under a second. docs/extending.md's C++ extension is built by test_extending.py."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import norch
from norch.autograd import Function, gradcheck, gradgradcheck
from norch.utils import cpp_extension

FAST = ["-O0"]  # these tests check behaviour, not speed; -O0 compiles quicker

CPP = r"""
using namespace norch;

// A composite of library ops: autograd comes from the ops themselves.
Tensor mul_add(const Tensor& a, const Tensor& b, double alpha) { return add(mul(a, b), a, alpha); }

Tensor same(Tensor t) { return t; }
TensorList split_sum(const Tensor& a, const Tensor& b) { return {add(a, b), sub(a, b)}; }
ScalarType dtype_of(const Tensor& t) { return t.dtype(); }
Tensor zeros_of(ScalarType t) { return zeros({2}, TensorOptions(t)); }
Scalar twice(Scalar s) { return s.is_floating_point() ? Scalar(2 * s.to_double()) : Scalar(2 * s.to_int()); }
Device device_of(const Tensor& t) { return t.device(); }
bool is_defined(std::optional<Tensor> t) { return t.has_value() && t->defined(); }
Tensor needs_2d(const Tensor& t) {
  NORCH_CHECK_TYPE(t.dim() == 2, "needs_2d(): expected a 2-d tensor, got shape ", t.sizes());
  return t;
}

// A raw kernel over the data: no autograd of its own.
template <typename T>
void square_kernel(const T* x, const T* g, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = g ? 2 * x[i] * g[i] : x[i] * x[i];
}
Tensor raw_square(const Tensor& x_, const std::optional<Tensor>& grad) {
  Tensor x = x_.contiguous();
  Tensor g = grad ? grad->contiguous() : Tensor();
  Tensor out = empty(x.sizes(), TensorOptions(x.dtype()));
  NORCH_CHECK(x.dtype() == ScalarType::Float32 || x.dtype() == ScalarType::Float64,
              "raw_square(): float32 or float64 only, got ", x.dtype());
  if (x.dtype() == ScalarType::Float32)
    square_kernel(x.data<float>(), g.defined() ? g.data<float>() : nullptr, out.data<float>(), x.numel());
  else
    square_kernel(x.data<double>(), g.defined() ? g.data<double>() : nullptr, out.data<double>(), x.numel());
  return out;
}

// The same kernel with its backward recorded in C++.
Tensor recorded_square(const Tensor& x) {
  Tensor out = raw_square(x, std::nullopt);
  if (autograd::needs_grad(x)) {
    autograd::record("RecordedSquareBackward0", {x}, {out}, {x},
                     [](autograd::BackwardContext& ctx, const TensorList& grads) -> TensorList {
                       return {mul(grads[0], mul(ctx.saved(0), Scalar(2.0)))};
                     });
  }
  return out;
}
"""
FUNCTIONS = {"mul_add": "a * b + alpha * a, from norch ops", "same": None, "split_sum": None, "dtype_of": None,
             "zeros_of": None, "twice": None, "device_of": None, "is_defined": None, "needs_2d": None,
             "raw_square": None, "recorded_square": None}
FUNCTIONS = {k: (v or k) for k, v in FUNCTIONS.items()}


@pytest.fixture(scope="module")
def ext_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("ops"))


@pytest.fixture(scope="module")
def ext(ext_dir):
    return cpp_extension.load_inline("norch_test_ops", CPP, functions=FUNCTIONS, extra_cflags=FAST,
                                     build_directory=ext_dir)


def f64(*shape, rg=True):
    return norch.tensor(np.random.default_rng(0).standard_normal(shape), dtype=norch.float64, requires_grad=rg)


# -- the casters: the very norch.Tensor class of norch._C --

def test_tensor_round_trip_aliases_the_same_tensor(ext):
    x = f64(3)
    y = ext.same(x)
    assert type(y) is norch.Tensor
    assert y._storage_id() == x._storage_id() and y.data_ptr() == x.data_ptr()
    assert y.requires_grad and y.is_leaf
    y.sum().backward()                  # the gradient lands on the caller's leaf
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3))
    with norch.no_grad():
        y.mul_(2)
    assert x._version == y._version     # one version counter, one tensor


def test_lists_optional_dtype_scalar_device(ext):
    a, b = norch.tensor([1.0, 2.0]), norch.tensor([3.0, 5.0])
    s, d = ext.split_sum(a, b)
    np.testing.assert_array_equal(s.numpy(), [4, 7])
    np.testing.assert_array_equal(d.numpy(), [-2, -3])
    assert ext.dtype_of(norch.zeros(1, dtype=norch.int32)) == norch.int32
    assert ext.zeros_of(norch.float64).dtype == norch.float64
    assert ext.twice(3) == 6 and isinstance(ext.twice(3), int)
    assert ext.twice(1.25) == 2.5
    assert ext.device_of(a) == norch.device("cpu")
    assert ext.is_defined(a) and not ext.is_defined(None)
    assert ext.mul_add.__doc__.strip().endswith("a * b + alpha * a, from norch ops")


def test_errors_map_to_pytorch_exception_types(ext):
    with pytest.raises(TypeError, match=r"needs_2d\(\): expected a 2-d tensor, got shape \(3,\)"):
        ext.needs_2d(norch.zeros(3))
    with pytest.raises(RuntimeError, match=r"raw_square\(\): float32 or float64 only, got norch.int64"):
        ext.raw_square(norch.zeros(2, dtype=norch.int64), None)
    with pytest.raises(TypeError, match="incompatible function arguments"):
        ext.same([1.0])


ABI_WORKER = """
import json, sys
import norch
from norch.utils import cpp_extension
norch._C._pybind11_internals_id = "__pybind11_internals_v0_other__"   # as a norch built with another pybind11
m = cpp_extension.load_inline("norch_test_ops", sys.argv[2], functions=json.loads(sys.argv[3]),
                              extra_cflags=["-O0"], build_directory=sys.argv[1], verbose=True)
try:
    m.same(norch.ones(1))
except RuntimeError as e:
    print(e)
"""


def test_pybind11_abi_mismatch_is_named(ext, ext_dir):
    # A fresh process reuses the build (no compile) and meets a _C of another ABI.
    r = subprocess.run([sys.executable, "-c", ABI_WORKER, ext_dir, CPP, json.dumps(FUNCTIONS)], capture_output=True,
                       text=True, env=_env())
    assert r.returncode == 0, r.stderr
    assert "No modifications detected" in r.stdout
    assert "built with pybind11 ABI '__pybind11_internals_v" in r.stdout
    assert "but norch._C uses '__pybind11_internals_v0_other__'" in r.stdout


# -- autograd through C++ ops --

def test_op_composed_of_norch_ops_records_autograd(ext):
    import torch
    a, b = f64(2, 3), f64(3)
    y = ext.mul_add(a, b, 0.5)            # broadcast b over a's rows
    assert y.grad_fn is not None and y.grad_fn.name() == "AddBackward0"
    ta, tb = (torch.tensor(t.detach().numpy(), requires_grad=True) for t in (a, b))
    (ta * tb + 0.5 * ta).sum().backward()
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)
    assert gradcheck(lambda p, q: ext.mul_add(p, q, 0.5), (f64(2, 3), f64(3)))
    assert gradgradcheck(lambda p, q: ext.mul_add(p, q, 0.5), (f64(2, 3), f64(3)))


def test_raw_kernel_paired_with_python_function(ext):
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return ext.raw_square(x, None)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return ext.raw_square(x, grad)  # the kernel's gradient mode: 2 * x * grad

    x = f64(2, 2)
    y = Square.apply(x.t())                  # a non-contiguous input
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy().T ** 2)
    assert gradcheck(Square.apply, (f64(4),))
    assert ext.raw_square(norch.zeros(2), None).grad_fn is None


def test_raw_kernel_with_autograd_record_in_cpp(ext):
    x = f64(3)
    y = ext.recorded_square(x)
    assert y.grad_fn.name() == "RecordedSquareBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())
    assert gradcheck(ext.recorded_square, (f64(3),))
    assert gradgradcheck(ext.recorded_square, (f64(3),))  # the backward is made of norch ops
    assert ext.recorded_square(f64(2, rg=False)).grad_fn is None


# -- the build machinery, on C-API sources that compile fast --

TINY = textwrap.dedent("""\
    #include <Python.h>
    {extra}
    #define CAT2(a, b) a##b
    #define CAT(a, b) CAT2(a, b)
    #define STR2(a) #a
    #define STR(a) STR2(a)
    static struct PyModuleDef def = {{PyModuleDef_HEAD_INIT, STR(NORCH_EXTENSION_NAME), NULL, -1, NULL}};
    PyMODINIT_FUNC CAT(PyInit_, NORCH_EXTENSION_NAME)(void) {{
      PyObject* m = PyModule_Create(&def);
      PyModule_AddIntConstant(m, "value", VALUE);
      return m;
    }}
    """)


def tiny(path, value=None, extra=""):
    src = TINY.format(extra=extra)
    if value is not None:
        src = f"#define VALUE {value}\n" + src
    path.write_text(src)
    return str(path)


def test_paths():
    inc = cpp_extension.include_paths()
    assert os.path.isfile(os.path.join(inc[0], "norch", "extension.h"))
    assert any(os.path.isfile(os.path.join(p, "pybind11", "pybind11.h")) for p in inc)
    assert any(os.path.isfile(os.path.join(p, "Python.h")) for p in inc)
    (lib,) = cpp_extension.library_paths()
    assert any(f.startswith("libnorch") for f in os.listdir(lib))
    assert cpp_extension.get_default_build_root().endswith("norch_extensions")


# Parameters of PyTorch's functions that name torch itself or a cross-compiling target.
TORCH_ONLY = {"include_paths": {"torch_include_dirs"}, "library_paths": {"torch_include_dirs", "cross_target_platform"}}


@pytest.mark.parametrize("fn", ["load", "load_inline", "include_paths", "library_paths"])
def test_signatures_are_pytorchs(fn):
    import inspect
    import torch.utils.cpp_extension as tce
    theirs = [(p.name, p.default) for p in inspect.signature(getattr(tce, fn)).parameters.values()
              if p.name not in TORCH_ONLY.get(fn, ())]
    ours = [(p.name, p.default) for p in inspect.signature(getattr(cpp_extension, fn)).parameters.values()]
    assert ours == theirs


def test_device_type_and_sycl(tmp_path):
    with pytest.raises(ValueError, match="device_type must be 'cpu' or 'cuda', got 'xpu'"):
        cpp_extension.include_paths("xpu")
    with pytest.raises(NotImplementedError, match="SYCL"):
        cpp_extension.load_inline("t", "", sycl_sources="x", build_directory=str(tmp_path))
    assert cpp_extension.library_paths("cpu") == cpp_extension.library_paths()
    import shutil
    if shutil.which("nvcc") or os.path.isfile("/usr/local/cuda/bin/nvcc"):
        assert any(os.path.isfile(os.path.join(p, "cuda_runtime.h")) for p in cpp_extension.include_paths("cuda"))
        assert any(f.startswith("libcudart") for p in cpp_extension.library_paths("cuda")[1:] for f in os.listdir(p))


def test_default_build_root_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NORCH_EXTENSIONS_DIR", str(tmp_path / "exts"))
    assert cpp_extension.get_default_build_root() == str(tmp_path / "exts")


def test_cache_reused_then_rebuilt_on_source_flag_and_header_change(tmp_path, capfd):
    build = tmp_path / "build"
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "value.h").write_text("#define VALUE 1\n")
    src = tiny(tmp_path / "tiny.c", extra='#include "value.h"')
    kw = dict(build_directory=str(build), extra_include_paths=[str(tmp_path / "inc")], verbose=True)
    m = cpp_extension.load("tiny_cache", [src], **kw)
    assert m.value == 1 and m.__name__ == "tiny_cache"
    lib = m.__file__
    stamp = os.stat(lib).st_mtime_ns
    assert "Building extension module tiny_cache" in capfd.readouterr().out

    # Reused: in this process, and in a fresh one, with no compiler run.
    assert cpp_extension.load("tiny_cache", [src], **kw) is m
    code = ("import norch.utils.cpp_extension as ce; "
            f"m = ce.load('tiny_cache', [{src!r}], build_directory={str(build)!r}, "
            f"extra_include_paths=[{str(tmp_path / 'inc')!r}], verbose=True); print('value', m.value)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True).stdout
    assert "value 1" in out and "No modifications detected" in out and "Building" not in out
    assert os.stat(lib).st_mtime_ns == stamp
    capfd.readouterr()

    (tmp_path / "inc" / "value.h").write_text("#define VALUE 2\n")   # a header the source includes
    m2 = cpp_extension.load("tiny_cache", [src], **kw)
    assert m2.value == 2 and m2.__name__ == "tiny_cache_v1"  # a new name: the old library stays loaded
    assert not os.path.exists(lib)
    assert "Building extension module tiny_cache_v1" in capfd.readouterr().out

    m3 = cpp_extension.load("tiny_cache", [src], **dict(kw, extra_cflags=["-DVALUE_UNUSED=1"]))  # a flag
    assert m3.__name__ == "tiny_cache_v2" and m3.value == 2
    src2 = tiny(tmp_path / "tiny.c", value=3)                         # the source itself
    m4 = cpp_extension.load("tiny_cache", [src2], **dict(kw, extra_cflags=["-DVALUE_UNUSED=1"]))
    assert m4.__name__ == "tiny_cache_v3" and m4.value == 3


def test_compile_error_carries_the_compiler_message(tmp_path):
    src = tmp_path / "broken.c"
    src.write_text("int f(void) { return undeclared_thing_42; }\n")
    with pytest.raises(RuntimeError, match="Error building extension 'broken'") as e:
        cpp_extension.load("broken", [str(src)], build_directory=str(tmp_path / "b"))
    assert "undeclared_thing_42" in str(e.value) and "error" in str(e.value)
    # The failed build leaves nothing stale behind: fixing the source builds and loads.
    tiny(src, value=7)
    assert cpp_extension.load("broken", [str(src)], build_directory=str(tmp_path / "b")).value == 7


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="valid Python identifier"):
        cpp_extension.load("no-dash", [tiny(tmp_path / "t.c", value=1)], build_directory=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="missing.cpp"):
        cpp_extension.load("t", [str(tmp_path / "missing.cpp")], build_directory=str(tmp_path))
    with pytest.raises(ValueError, match="not a C\\+\\+ identifier"):
        cpp_extension.load_inline("t", "", functions=["a b"], build_directory=str(tmp_path))


def test_not_a_python_module_is_loaded_as_a_library(tmp_path):
    src = tmp_path / "lib.cpp"
    # Builds use hidden visibility (as pybind11 wants); what a library exports is marked.
    src.write_text('extern "C" __attribute__((visibility("default"))) int norch_test_answer() { return 42; }\n')
    path = cpp_extension.load("plain_lib", [str(src)], build_directory=str(tmp_path / "b"), is_python_module=False)
    import ctypes
    assert ctypes.CDLL(path).norch_test_answer() == 42


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(norch.__file__))] +
                                        ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


LOCK_WORKER = """
import os, sys, time
import norch.utils.cpp_extension as ce
src, build, ready, go = sys.argv[1:5]
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
m = ce.load("raced", [src], build_directory=build, verbose=True)
print("value", m.value)
"""


def test_two_processes_building_one_name_build_once(tmp_path):
    src = tiny(tmp_path / "raced.c", value=5)
    build, go = tmp_path / "build", tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", LOCK_WORKER, src, str(build), str(tmp_path / f"ready{i}"),
                               str(go)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env())
             for i in range(2)]
    import time
    while not all((tmp_path / f"ready{i}").exists() for i in range(2)):
        assert all(p.poll() is None for p in procs), [p.communicate()[0] for p in procs]
        time.sleep(0.01)
    go.touch()  # both start their load() at once
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert all("value 5" in o for o in outs), outs
    assert sum("Building extension module raced" in o for o in outs) == 1, outs  # the other waited and reused
    assert sum("No modifications detected" in o for o in outs) == 1, outs


# -- CUDA sources (a C-API module around them: the test is about nvcc, not pybind11) --

CUDA_SRC = r"""
#include <cuda_runtime.h>
__global__ void scale_kernel(float* p, int n, float s) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] *= s;
}
int device_count() { int n = 0; return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0; }
int runtime_version() { int v = 0; cudaRuntimeGetVersion(&v); return v; }
float scaled_sum(float s) {  // 1+2+3+4, each scaled on the device
  float host[4] = {1, 2, 3, 4}, *dev = nullptr;
  cudaMalloc(&dev, sizeof host);
  cudaMemcpy(dev, host, sizeof host, cudaMemcpyHostToDevice);
  scale_kernel<<<1, 32>>>(dev, 4, s);
  cudaMemcpy(host, dev, sizeof host, cudaMemcpyDeviceToHost);
  cudaFree(dev);
  return host[0] + host[1] + host[2] + host[3];
}
"""
CUDA_MODULE = r"""
#include <Python.h>
int device_count();
int runtime_version();
float scaled_sum(float s);
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define STR2(a) #a
#define STR(a) STR2(a)
static PyObject* py_count(PyObject*, PyObject*) { return PyLong_FromLong(device_count()); }
static PyObject* py_version(PyObject*, PyObject*) { return PyLong_FromLong(runtime_version()); }
static PyObject* py_sum(PyObject*, PyObject* s) { return PyFloat_FromDouble(scaled_sum(PyFloat_AsDouble(s))); }
static PyMethodDef methods[] = {{"device_count", py_count, METH_NOARGS, nullptr},
                                {"runtime_version", py_version, METH_NOARGS, nullptr},
                                {"scaled_sum", py_sum, METH_O, nullptr}, {nullptr, nullptr, 0, nullptr}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, STR(NORCH_EXTENSION_NAME), nullptr, -1, methods};
PyMODINIT_FUNC CAT(PyInit_, NORCH_EXTENSION_NAME)(void) { return PyModule_Create(&def); }
"""


def test_cuda_sources_compile_with_nvcc(tmp_path):
    import shutil
    (tmp_path / "kernels.cu").write_text(CUDA_SRC)
    (tmp_path / "module.cpp").write_text(CUDA_MODULE)
    sources = [str(tmp_path / "module.cpp"), str(tmp_path / "kernels.cu")]
    have_nvcc = shutil.which("nvcc") or os.path.isfile("/usr/local/cuda/bin/nvcc") or os.environ.get("CUDA_HOME")
    if not have_nvcc:
        with pytest.raises(RuntimeError, match="CUDA sources need nvcc"):
            cpp_extension.load("norch_test_cuda", sources, build_directory=str(tmp_path / "b"))
        return
    m = cpp_extension.load("norch_test_cuda", sources, build_directory=str(tmp_path / "b"))
    assert m.runtime_version() >= 12000  # cudart answers without a GPU
    if m.device_count() == 0:
        pytest.skip("no GPU: the kernel was compiled and linked, not run")
    assert m.scaled_sum(3.0) == 30.0


CUDA_SETUP_PY = """
from setuptools import setup
from norch.utils.cpp_extension import BuildExtension, CUDAExtension
setup(name="norch_setup_cuda", ext_modules=[CUDAExtension("norch_setup_cuda", ["module.cpp", "kernels.cu"],
      extra_compile_args={"cxx": ["-O0"], "nvcc": ["-O0"]})], cmdclass={"build_ext": BuildExtension})
"""


def test_setuptools_cuda_extension(tmp_path):
    # BuildExtension sends the .cu file to nvcc and the .cpp file to the C++ compiler.
    import shutil
    (tmp_path / "setup.py").write_text(CUDA_SETUP_PY)
    (tmp_path / "kernels.cu").write_text(CUDA_SRC)
    (tmp_path / "module.cpp").write_text(CUDA_MODULE)
    env = dict(_env(), CFLAGS="-g0")
    r = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tmp_path,
                       capture_output=True, text=True, env=env)
    if not (shutil.which("nvcc") or os.path.isfile("/usr/local/cuda/bin/nvcc") or os.environ.get("CUDA_HOME")):
        assert r.returncode != 0 and "CUDA sources need nvcc" in r.stdout + r.stderr
        return
    assert r.returncode == 0, r.stdout + r.stderr
    code = "import norch_setup_cuda as m; print(m.runtime_version() >= 12000, m.device_count())"
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    ok, count = r.stdout.split()
    assert ok == "True"
    if int(count) == 0:
        pytest.skip("no GPU: the kernel was compiled and linked, not run")
    r = subprocess.run([sys.executable, "-c", "import norch_setup_cuda as m; print(m.scaled_sum(2.0))"],
                       cwd=tmp_path, capture_output=True, text=True, env=env)
    assert r.stdout.strip() == "20.0", r.stderr
