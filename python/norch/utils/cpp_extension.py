"""norch.utils.cpp_extension: C++ (and CUDA) extensions of norch, built at run time
(`load`, `load_inline`) or by a user's own setup.py (`CppExtension`, `BuildExtension`),
with PyTorch's names and signatures. docs/extending.md is the recipe.

Note [Extension builds]
The build calls the compiler directly, one process per source (in parallel, up to
MAX_JOBS), then links; no build tool is needed beyond the C++ compiler norch itself
needs. Whether to rebuild is decided by content, not by timestamps: a key hashes the
sources, every flag, the compiler, the interpreter and libnorch, and each build
records the headers the compiler read (its -MMD depfiles) with their hashes. The
key or any header changing rebuilds the whole extension; otherwise the library on
disk is imported as it is. A process cannot load two different libraries under one
module name, so each rebuild after the first gets a new name (`name_v1`, ...), as
PyTorch does; NORCH_EXTENSION_NAME carries it into the sources. An exclusive file
lock (fcntl.flock, released by the kernel even if a builder dies) serialises two
processes or threads building the same folder: the second waits and then reuses.
"""
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from concurrent.futures import ThreadPoolExecutor

__all__ = ["load", "load_inline", "include_paths", "library_paths", "CppExtension", "CUDAExtension",
           "BuildExtension", "get_default_build_root", "verify_ninja_availability"]

_SETUPTOOLS_NAMES = ("CppExtension", "CUDAExtension", "BuildExtension")


def __getattr__(name):
    # setuptools is imported only by a setup.py that asks for these.
    if name in _SETUPTOOLS_NAMES:
        from . import _cpp_setuptools
        return getattr(_cpp_setuptools, name)
    raise AttributeError(f"module 'norch.utils.cpp_extension' has no attribute '{name}'")


_NORCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../norch
_CUDA_SUFFIXES = (".cu", ".cuh")
_STATE_FILE = "build.json"


def _norch_include_dir():
    shipped = os.path.join(_NORCH_DIR, "include")  # an installed norch (CMake install rules)
    if os.path.isfile(os.path.join(shipped, "norch", "extension.h")):
        return shipped
    source_tree = os.path.normpath(os.path.join(_NORCH_DIR, "..", "..", "include"))  # PYTHONPATH=python
    if os.path.isfile(os.path.join(source_tree, "norch", "extension.h")):
        return source_tree
    raise RuntimeError(f"norch's C++ headers were not found (looked in {shipped} and {source_tree})")


def _pybind11_include_dir():
    # The pybind11 that built _C ships with norch; its ABI is what shares the Tensor class.
    shipped = os.path.join(_NORCH_DIR, "include")
    if os.path.isfile(os.path.join(shipped, "pybind11", "pybind11.h")):
        return shipped
    try:
        import pybind11
    except ImportError:
        raise RuntimeError("building a norch extension needs pybind11's headers: pip install pybind11") from None
    return pybind11.get_include()


def _cuda_home():
    for var in ("CUDA_HOME", "CUDA_PATH"):
        if os.environ.get(var):
            return os.environ[var]
    if os.path.isfile("/usr/local/cuda/bin/nvcc"):
        return "/usr/local/cuda"
    nvcc = shutil.which("nvcc")
    return os.path.dirname(os.path.dirname(os.path.realpath(nvcc))) if nvcc else None


def _nvcc():
    home = _cuda_home()
    nvcc = os.path.join(home, "bin", "nvcc") if home else None
    if nvcc and os.path.isfile(nvcc):
        return nvcc
    found = shutil.which("nvcc")
    if found:
        return found
    raise RuntimeError("CUDA sources need nvcc, which was not found: install the CUDA toolkit or set CUDA_HOME")


def _wants_cuda(device_type):
    # PyTorch's device_type="cuda"; its older spelling was a bool `cuda`.
    if device_type not in ("cpu", "cuda", True, False):
        raise ValueError(f"device_type must be 'cpu' or 'cuda', got {device_type!r}")
    return device_type in ("cuda", True)


def include_paths(device_type="cpu"):
    """The include folders a norch extension compiles with: norch's headers, pybind11,
    Python's, and for device_type="cuda" the CUDA toolkit's."""
    cuda = _wants_cuda(device_type)
    paths = [_norch_include_dir()]
    for p in (_pybind11_include_dir(), sysconfig.get_paths()["include"], sysconfig.get_paths()["platinclude"]):
        if p not in paths:
            paths.append(p)
    if cuda:
        paths.append(os.path.join(_cuda_home() or os.path.dirname(os.path.dirname(_nvcc())), "include"))
    return paths


def library_paths(device_type="cpu"):
    """The folders to link from: the one holding libnorch, and for device_type="cuda" CUDA's lib64."""
    cuda = _wants_cuda(device_type)
    paths = [_NORCH_DIR]
    if cuda:
        home = _cuda_home() or os.path.dirname(os.path.dirname(_nvcc()))
        paths.append(os.path.join(home, "lib64"))
    return paths


def get_default_build_root():
    """NORCH_EXTENSIONS_DIR, else ~/.cache/norch_extensions (under XDG_CACHE_HOME when set)."""
    if os.environ.get("NORCH_EXTENSIONS_DIR"):
        return os.path.abspath(os.path.expanduser(os.environ["NORCH_EXTENSIONS_DIR"]))
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "norch_extensions")


def verify_ninja_availability():
    """PyTorch raises when ninja is missing; norch's builds do not use it (Note [Extension builds])."""
    return None


def _cxx():
    cxx = os.environ.get("CXX", "c++")
    if shutil.which(shlex.split(cxx)[0]) is None:
        raise RuntimeError(f"no C++ compiler: '{cxx}' was not found (set CXX)")
    return shlex.split(cxx)


def _sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _libnorch():
    for f in os.listdir(_NORCH_DIR):
        if f.startswith("libnorch") and ".so" in f:
            return os.path.join(_NORCH_DIR, f)
    raise RuntimeError(f"libnorch was not found next to norch._C in {_NORCH_DIR}")


@contextlib.contextmanager
def _file_lock(build_dir):
    with open(os.path.join(build_dir, ".lock"), "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _run(cmd, name, verbose):
    if verbose:
        print(" ".join(shlex.quote(c) for c in cmd), flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if verbose and proc.stdout:
        print(proc.stdout, end="", flush=True)
    if proc.returncode != 0:
        raise RuntimeError(f"Error building extension '{name}':\n{' '.join(shlex.quote(c) for c in cmd)}\n"
                           f"{proc.stdout}")


def _parse_depfile(path):
    """The prerequisites listed by a make-style depfile (g++ -MMD, nvcc -MD)."""
    with open(path) as f:
        text = f.read().replace("\\\n", " ")
    _, _, deps = text.partition(": ")
    # Spaces in a path are escaped with a backslash.
    return [d.replace("\\ ", " ") for d in re.split(r"(?<!\\)\s+", deps.strip()) if d]


class _Build:
    """One extension's commands, key and folder."""

    def __init__(self, name, sources, extra_cflags, extra_cuda_cflags, extra_ldflags, extra_include_paths,
                 build_directory, verbose, with_cuda, is_python_module):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"extension name '{name}' must be a valid Python identifier")
        if isinstance(sources, str):
            sources = [sources]
        self.name = name
        self.sources = [os.path.abspath(s) for s in sources]
        if not self.sources:
            raise ValueError(f"extension '{name}': no sources given")
        for s in self.sources:
            if not os.path.isfile(s):
                raise FileNotFoundError(f"extension '{name}': source {s} does not exist")
        self.with_cuda = any(s.endswith(_CUDA_SUFFIXES) for s in self.sources) if with_cuda is None else with_cuda
        self.cflags = list(extra_cflags or [])
        self.cuda_cflags = list(extra_cuda_cflags or [])
        self.ldflags = list(extra_ldflags or [])
        self.device_type = "cuda" if self.with_cuda else "cpu"
        self.includes = [os.path.abspath(p) for p in (extra_include_paths or [])] + include_paths(self.device_type)
        self.dir = os.path.abspath(build_directory or os.path.join(get_default_build_root(), name))
        self.verbose = verbose
        self.is_python_module = is_python_module
        self.cxx = _cxx()
        self.nvcc = _nvcc() if any(s.endswith(".cu") for s in self.sources) else None

    def key(self):
        """Everything a build depends on except the headers (checked from the depfiles)."""
        parts = {
            "sources": [(s, _sha256_file(s)) for s in self.sources],
            "cflags": self.cflags, "cuda_cflags": self.cuda_cflags, "ldflags": self.ldflags,
            "includes": self.includes, "with_cuda": self.with_cuda, "cxx": self.cxx, "nvcc": self.nvcc,
            "python": sys.version, "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
            "is_python_module": self.is_python_module, "arch": os.environ.get("NORCH_CUDA_ARCH_LIST"),
        }
        lib = os.stat(_libnorch())
        parts["libnorch"] = (lib.st_size, lib.st_mtime_ns)
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def output(self, module_name):
        suffix = sysconfig.get_config_var("EXT_SUFFIX") if self.is_python_module else ".so"
        return os.path.join(self.dir, module_name + suffix)

    def _object(self, i, src):
        return os.path.join(self.dir, f"{i}_{os.path.splitext(os.path.basename(src))[0]}.o")

    def _compile_cmd(self, src, obj, module_name):
        define = f"-DNORCH_EXTENSION_NAME={module_name}"
        # norch's and the user's headers with -I, so the depfile lists them; the rest as system headers.
        n_user = len(self.includes) - len(include_paths(self.device_type)) + 1
        includes = [f for i, p in enumerate(self.includes) for f in (("-I", p) if i < n_user else ("-isystem", p))]
        if src.endswith(".cu"):
            return ([self.nvcc, "-c", src, "-o", obj, "-MD", "-MF", obj + ".d", "-std=c++17", "-O2",
                     "-Xcompiler", "-fPIC", "-Xcompiler", "-fvisibility=hidden", "--expt-relaxed-constexpr",
                     define] + _cuda_arch_flags() + includes + self.cuda_cflags)
        return (self.cxx + ["-c", src, "-o", obj, "-MMD", "-MF", obj + ".d", "-std=c++17", "-O2", "-fPIC",
                            "-fvisibility=hidden", define] + includes + self.cflags)

    def _link_cmd(self, objects, out):
        dirs = library_paths(self.device_type)
        libs = [f"-L{p}" for p in dirs] + [f"-Wl,-rpath,{p}" for p in dirs]
        libs += ["-lnorch"] + (["-lcudart"] if self.with_cuda else [])
        return self.cxx + ["-shared", "-o", out] + objects + libs + self.ldflags

    def run(self, module_name):
        """Compiles every source (in parallel) and links `module_name`'s library."""
        if self.verbose:
            print(f"Building extension module {module_name} in {self.dir}...", flush=True)
        objects = [self._object(i, s) for i, s in enumerate(self.sources)]
        jobs = [(s, o) for s, o in zip(self.sources, objects) if not s.endswith(".cuh")]
        workers = max(1, min(len(jobs), int(os.environ.get("MAX_JOBS") or os.cpu_count() or 1)))
        with ThreadPoolExecutor(workers) as pool:
            for f in [pool.submit(_run, self._compile_cmd(s, o, module_name), self.name, self.verbose)
                      for s, o in jobs]:
                f.result()
        out = self.output(module_name)
        tmp = out + ".tmp"
        _run(self._link_cmd([o for _, o in jobs], tmp), self.name, self.verbose)
        os.replace(tmp, out)  # atomic: a reader never sees a half-written library
        deps = set()
        for _, o in jobs:
            deps.update(os.path.abspath(d) for d in _parse_depfile(o + ".d"))
        deps.difference_update(self.sources)
        return {d: _sha256_file(d) for d in sorted(deps) if os.path.isfile(d)}


def _cuda_arch_flags():
    """NORCH_CUDA_ARCH_LIST as PyTorch's TORCH_CUDA_ARCH_LIST ("8.0;9.0+PTX"); else sm_80, sm_90 and PTX 9.0."""
    spec = os.environ.get("NORCH_CUDA_ARCH_LIST", "8.0;9.0+PTX")
    flags = []
    for arch in re.split(r"[;\s]+", spec.strip()):
        if not arch:
            continue
        ptx = arch.endswith("+PTX")
        num = arch.replace("+PTX", "").replace(".", "")
        flags.append(f"-gencode=arch=compute_{num},code=sm_{num}")
        if ptx:
            flags.append(f"-gencode=arch=compute_{num},code=compute_{num}")
    return flags


def _up_to_date(state, key, build):
    if not state or state.get("key") != key or not os.path.isfile(build.output(state["module"])):
        return False
    for dep, digest in state.get("deps", {}).items():
        if not os.path.isfile(dep) or _sha256_file(dep) != digest:
            return False
    return True


def _build(build):
    """Builds (or finds up to date) under the lock; returns the module name and the library path."""
    os.makedirs(build.dir, exist_ok=True)
    state_path = os.path.join(build.dir, _STATE_FILE)
    with _file_lock(build.dir):
        key = build.key()
        state = None
        if os.path.isfile(state_path):
            try:
                with open(state_path) as f:
                    state = json.load(f)
            except (OSError, ValueError):
                state = None
        if _up_to_date(state, key, build):
            if build.verbose:
                print(f"No modifications detected for extension {state['module']}: reusing {build.dir}", flush=True)
            return state["module"], build.output(state["module"])
        version = state["version"] + 1 if state else 0
        module_name = build.name if version == 0 else f"{build.name}_v{version}"
        deps = build.run(module_name)
        if state and state["module"] != module_name:
            with contextlib.suppress(OSError):
                os.remove(build.output(state["module"]))  # a process that has it mapped keeps its copy
        new_state = {"key": key, "version": version, "module": module_name, "deps": deps}
        with open(state_path + ".tmp", "w") as f:
            json.dump(new_state, f, indent=1)
        os.replace(state_path + ".tmp", state_path)
        return module_name, build.output(module_name)


def _import(module_name, path, is_python_module, verbose):
    if verbose:
        print(f"Loading extension module {module_name}...", flush=True)
    if not is_python_module:
        import ctypes
        ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        return path
    existing = sys.modules.get(module_name)
    if existing is not None and getattr(existing, "__file__", None) == path:
        return existing
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[module_name] = module
    return module


def _no_sycl(*given):
    if any(g for g in given):
        raise NotImplementedError("cpp_extension: SYCL sources are not supported by norch")


def load(name, sources, extra_cflags=None, extra_cuda_cflags=None, extra_sycl_cflags=None, extra_ldflags=None,
         extra_include_paths=None, build_directory=None, verbose=False, with_cuda=None, with_sycl=None,
         is_python_module=True, is_standalone=False, keep_intermediates=True):
    """Compiles `sources` (C++ files, and .cu files with nvcc) into a Python module
    named `name`, linked to libnorch, and imports it. The build folder is reused
    while nothing changed (Note [Extension builds]). With is_python_module=False
    the library is loaded into the process (for its static registrations) and its
    path is returned. A compiler error raises RuntimeError("Error building extension
    'name': ...") carrying the compiler's output."""
    _no_sycl(extra_sycl_cflags, with_sycl)
    if is_standalone:
        raise NotImplementedError("cpp_extension.load: is_standalone=True (an executable) is not supported")
    build = _Build(name, sources, extra_cflags, extra_cuda_cflags, extra_ldflags, extra_include_paths,
                   build_directory, verbose, with_cuda, is_python_module)
    module_name, path = _build(build)
    return _import(module_name, path, is_python_module, verbose)


def _bindings(functions):
    if isinstance(functions, str):
        functions = [functions]
    if isinstance(functions, dict):
        items = list(functions.items())
    else:
        items = [(f, None) for f in functions]
    lines = ["", "PYBIND11_MODULE(NORCH_EXTENSION_NAME, m) {"]
    for fname, doc in items:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", fname):
            raise ValueError(f"load_inline: '{fname}' in functions is not a C++ identifier")
        doc = fname if doc is None else doc
        lines.append(f'  m.def("{fname}", &{fname}, R"norchdoc({doc})norchdoc");')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _write_if_changed(path, text):
    if os.path.isfile(path):
        with open(path) as f:
            if f.read() == text:
                return
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def load_inline(name, cpp_sources, cuda_sources=None, sycl_sources=None, functions=None, extra_cflags=None,
                extra_cuda_cflags=None, extra_sycl_cflags=None, extra_ldflags=None, extra_include_paths=None,
                build_directory=None, verbose=False, with_cuda=None, with_sycl=None, is_python_module=True,
                with_pytorch_error_handling=True, keep_intermediates=True, use_pch=False, no_implicit_headers=False):
    """`load` from source strings: cpp_sources (a string or a list) become main.cpp,
    after `#include <norch/extension.h>`; cuda_sources become cuda.cu. For each name
    in `functions` (a list, or a dict name -> docstring) a pybind11 binding is
    written; without `functions` the sources hold their own
    PYBIND11_MODULE(NORCH_EXTENSION_NAME, m). no_implicit_headers=True leaves the
    includes to the sources. use_pch is accepted for PyTorch's signature; builds do
    not use a precompiled header."""
    _no_sycl(sycl_sources, extra_sycl_cflags, with_sycl)
    build_directory = os.path.abspath(build_directory or os.path.join(get_default_build_root(), name))
    os.makedirs(build_directory, exist_ok=True)
    cpp_sources = [cpp_sources] if isinstance(cpp_sources, str) else list(cpp_sources)
    cpp = ("" if no_implicit_headers else "#include <norch/extension.h>\n\n") + "\n".join(cpp_sources) + "\n"
    if functions is not None:
        cpp += _bindings(functions)
    sources = [os.path.join(build_directory, "main.cpp")]
    with _file_lock(build_directory):
        _write_if_changed(sources[0], cpp)
        if cuda_sources:
            cuda_sources = [cuda_sources] if isinstance(cuda_sources, str) else list(cuda_sources)
            cu = ("" if no_implicit_headers else "#include <cuda_runtime.h>\n#include <norch/norch.h>\n\n") + \
                "\n".join(cuda_sources) + "\n"
            sources.append(os.path.join(build_directory, "cuda.cu"))
            _write_if_changed(sources[1], cu)
    return load(name, sources, extra_cflags=extra_cflags, extra_cuda_cflags=extra_cuda_cflags,
                extra_ldflags=extra_ldflags, extra_include_paths=extra_include_paths,
                build_directory=build_directory, verbose=verbose,
                with_cuda=bool(cuda_sources) if with_cuda is None else with_cuda, is_python_module=is_python_module)
