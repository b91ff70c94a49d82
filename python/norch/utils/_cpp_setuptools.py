"""setuptools integration of norch.utils.cpp_extension: CppExtension, CUDAExtension and
BuildExtension for a user's own setup.py, as in PyTorch:

    from setuptools import setup
    from norch.utils.cpp_extension import BuildExtension, CppExtension
    setup(name="my_ops", ext_modules=[CppExtension("my_ops", ["my_ops.cpp"])],
          cmdclass={"build_ext": BuildExtension})

Imported only when one of the three is used, so `load` does not pay for setuptools.
"""
import copy
import os

import setuptools
from setuptools.command.build_ext import build_ext

from . import cpp_extension as _ce


def _extend(kwargs, key, values):
    kwargs[key] = list(kwargs.get(key) or []) + [v for v in values if v not in (kwargs.get(key) or [])]


def CppExtension(name, sources, *args, **kwargs):
    """A setuptools.Extension for C++ sources against norch: its headers, pybind11's,
    libnorch (with an rpath to it, so the module imports before norch does)."""
    _extend(kwargs, "include_dirs", _ce.include_paths())
    _extend(kwargs, "library_dirs", _ce.library_paths())
    _extend(kwargs, "runtime_library_dirs", _ce.library_paths())
    _extend(kwargs, "libraries", ["norch"])
    kwargs["language"] = "c++"
    return setuptools.Extension(name, sources, *args, **kwargs)


def CUDAExtension(name, sources, *args, **kwargs):
    """CppExtension plus the CUDA toolkit's headers and cudart; .cu sources are compiled with nvcc."""
    _extend(kwargs, "include_dirs", _ce.include_paths("cuda"))
    _extend(kwargs, "library_dirs", _ce.library_paths("cuda"))
    _extend(kwargs, "runtime_library_dirs", _ce.library_paths("cuda"))
    _extend(kwargs, "libraries", ["cudart"])
    return CppExtension(name, sources, *args, **kwargs)


class BuildExtension(build_ext):
    """build_ext that compiles C++ as norch's extensions need (C++17, hidden
    visibility, NORCH_EXTENSION_NAME), sends .cu files to nvcc, and reads
    extra_compile_args either as a list (C++ only) or as {"cxx": [...], "nvcc": [...]}."""

    @classmethod
    def with_options(cls, **options):
        class WithOptions(cls):
            def __init__(self, *args, **kwargs):
                kwargs.update(options)
                super().__init__(*args, **kwargs)
        return WithOptions

    def __init__(self, *args, **kwargs):
        self.no_python_abi_suffix = kwargs.pop("no_python_abi_suffix", False)
        kwargs.pop("use_ninja", None)  # accepted for PyTorch compatibility; builds call the compilers directly
        super().__init__(*args, **kwargs)

    def build_extensions(self):
        for ext in self.extensions:
            extra = ext.extra_compile_args
            args = dict(extra) if isinstance(extra, dict) else {"cxx": list(extra or [])}
            define = f"-DNORCH_EXTENSION_NAME={ext.name.split('.')[-1]}"
            args["cxx"] = ["-std=c++17", "-fvisibility=hidden", define] + list(args.get("cxx", []))
            args["nvcc"] = (["-std=c++17", "-Xcompiler", "-fPIC", "-Xcompiler", "-fvisibility=hidden",
                             "--expt-relaxed-constexpr", define] + _ce._cuda_arch_flags() + list(args.get("nvcc", [])))
            ext.extra_compile_args = args
        self.compiler.src_extensions += [".cu"]
        original_compile = self.compiler._compile
        compiler = self.compiler

        def compile_one(obj, src, ext, cc_args, extra_postargs, pp_opts):
            args = extra_postargs if isinstance(extra_postargs, dict) else {"cxx": list(extra_postargs or [])}
            if not src.endswith(".cu"):
                return original_compile(obj, src, ext, cc_args, args.get("cxx", []), pp_opts)
            # distutils compiles with compiler_so; for a .cu file that becomes nvcc alone
            # (the C compiler's own flags mean nothing to nvcc).
            saved = copy.copy(compiler.compiler_so)
            compiler.set_executable("compiler_so", [_ce._nvcc()])
            try:
                return original_compile(obj, src, ext, cc_args, args.get("nvcc", []), pp_opts)
            finally:
                compiler.set_executable("compiler_so", saved)

        self.compiler._compile = compile_one
        super().build_extensions()

    def get_ext_filename(self, ext_name):
        name = super().get_ext_filename(ext_name)
        if self.no_python_abi_suffix:
            base, ext = os.path.splitext(name)
            name = base.split(".")[0] + ext
        return name
