"""Measures norch's public surface against PyTorch's, area by area.

    python scripts/compat.py              # writes docs/compat.md (needs torch)
    python scripts/compat.py --names      # also writes test/python/compat_names.json
    python scripts/compat.py --check      # exits 1 when docs/compat.md is out of date

For each area the script lists PyTorch's public names, then sorts each one into present
(norch has it), deliberately different (a row of REASONS below matches it: the one place
where a difference is explained) or missing. test/python/test_compat.py keeps the present
names present: a name that disappears fails the suite, without torch at test time.
"""
import argparse
import inspect
import json
import os
import re
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "compat.md")
NAMES = os.path.join(ROOT, "test", "python", "compat_names.json")

# Why norch deliberately lacks a name. (area or "*", regex on the name, reason); the first
# matching row wins, and a row applies only to names norch does not have.
_COMPLEX = "norch has no complex dtypes"
_SPARSE = "norch has no sparse layouts"
_QUANT = "norch has no quantized tensors"
_HALF = "norch's dtypes are float32/float64/int32/int64/uint8/bool (DESIGN.md); float16/bfloat16 may follow"
_DEVICE = "norch runs on cpu and cuda only"
_STORAGE = "norch exposes no Storage objects (tensors share a C++ Storage; see DESIGN.md)"
_COMPILER = "norch has no graph compiler, tracer or JIT (norch.compile returns its argument)"
_NAMED = "norch has no named tensors"
_DIST = "distributed and multiprocessing come with their own issue"
_CUDA_INTERNAL = "CUDA streams, graphs, events, NVTX and memory pools are not exposed by norch's CUDA runtime yet"
_INTERNAL = "PyTorch-internal machinery (dispatch, __torch_function__, C++ extension plumbing), not user API"
_NESTED = "norch has no nested (jagged) tensors"
_FFT = "norch has no FFT, special-function or signal-processing kernels yet"
_ATEN = "an ATen kernel PyTorch exposes at top level; the user API is the nn.functional / nn form"
_REMOVED = "removed from PyTorch (calling it raises there)"
_DATAPIPE = "DataPipes are deprecated in PyTorch (torchdata); norch keeps Dataset/DataLoader"
REASONS = [
    ("Tensor", r"^(eig|symeig|lstsq|solve|reinforce)$", _REMOVED),
    ("top-level", r"^cudnn_|^miopen_|^native_|_copy$|^batch_norm_|^rnn_(relu|tanh)|^(lstm|gru)(_cell)?$|^conv_tbc$|"
                  r"^convolution$|^constant_pad_nd$|^grid_sampler|affine_grid_generator|^embedding_renorm_$|"
                  r"^feature_dropout_?$|^alpha_dropout_$|^feature_alpha_dropout_$|^dropout_$|^norm_except_dim$|"
                  r"^frobenius_norm$|^nuclear_norm$|^choose_qparams|^dsmm$|^hsmm$|^spmm$|^bit$|^SUM$|^AVG$|"
                  r"^ArgumentSpec$|^CompleteArgumentSpec$|^DeepCopyMemoTable$|^JITException$|^OperatorInfo$|"
                  r"^thread_safe_generator$|^cond$|^embedding$|^embedding_bag$|^batch_norm$|^instance_norm$",
     _ATEN + " (the ATen argument order differs from nn.functional's)"),
    ("optim", r"^(SparseAdam|Muon|swap_in_optimizer_params_and_state)$",
     "left out on purpose: see norch.optim._DELIBERATELY_ABSENT (no sparse gradients, no bfloat16, no torch.func state)"),
    ("utils.data", r"DataPipe|datapipe|^DataChunk$|validation|^non_deterministic$|determinism", _DATAPIPE),
    ("*", r"complex|cfloat|cdouble|chalf|conj|(^|_)imag$|(^|_)real$|^angle|^polar|view_as_real|"
          r"view_as_complex|^sgn_?$|^isreal$|^is_neg$|resolve_neg|^adjoint$|^H$|^mH$", _COMPLEX),
    ("*", r"sparse|coalesce|indices$|^crow|^ccol|^col_indices|^row_indices|^values$|to_dense|^smm$|"
          r"sspaddmm|dense_dim|^hspmm$|^saddmm$|_csr|_csc|_bsr|_bsc|^is_sparse", _SPARSE),
    ("*", r"^q_|quantiz|int_repr|qscheme|^quint|^qint|per_channel|per_tensor|fake_quant|^dequantize", _QUANT),
    ("*", r"half|bfloat16|float8|float4|^bits|uint16|uint32|uint64|^int1$|^int2$|^int[3-7]$|^uint[1-7]$|"
          r"^int8$|^int16$|^short$|^char$|^cdouble$|^float16$|^e8m0|^CharTensor$|^ShortTensor$|^HalfTensor$|"
          r"^BFloat16Tensor$", _HALF),
    ("*", r"xpu|mps|ipu|mtia|maia|xla|vulkan|mkldnn|hpu|privateuse|^is_mkldnn$|^to_mkldnn$|metal", _DEVICE),
    ("*", r"[Ss]torage|^set_$|share_memory|is_shared|^is_set_to$|^pin_memory$|^is_pinned$|"
          r"^module_load$|^data_ptr$|const_data_ptr|resize_as_sparse", _STORAGE),
    ("*", r"^names$|refine_names|align_to|align_as|^rename_?$|^has_names$", _NAMED),
    ("*", r"nested|to_padded_tensor|jagged", _NESTED),
    ("*", r"^jit$|^fx$|^compiler$|^export$|^onnx$|^script|^trace|^dynamo|^_dynamo|^inductor|^compiled_with_cxx11_abi$|"
          r"^Graph$|^graphs$|^CUDAGraph$|^graph$|^make_graphed_callables$|^is_current_stream_capturing$|^graph_pool",
     _COMPILER),
    ("*", r"distributed|multiprocessing|^is_distributed$|^DistributedSampler$|ipc", _DIST),
    ("*", r"^stft$|^istft$|^fft|^ifft|^rfft|^irfft|^hfft|^ihfft|^special_|^i0_?$|igamma|^mvlgamma|polygamma|"
          r"^lgamma|^digamma|^erfinv|^erfc|^sinc|kaiser|hann|hamming|bartlett|blackman", _FFT),
    ("cuda", r"^ExternalStream$|nvtx|[Gg]raph|MemPool|memory_snapshot|_record_memory|"
             r"caching_allocator|CUDAPluggableAllocator|jiterator|tunable|gds|^cudart$|^nccl|^sparse|"
             r"^comm$|^profiler$|^random$|^graphs$|^green_contexts", _CUDA_INTERNAL),
    ("*", r"torch_function|^has_torch_function|^handle_torch_function|boolean_dispatch|^DisableTorchFunction|"
          r"^overrides$|^library$|^Library$|^ops$|^classes$|^utils_|^DispatchKey|^Tag$|^SymInt|^SymFloat|^SymBool|"
          r"^sym_|^Sym$|^unify_type_list$|^wait$|^fork$|^Future$|^ScriptObject|^set_vital|^vitals_enabled|"
          r"^lobpcg$|^is_vulkan|^AVG$|^typename$|^fbgemm|^wrap_torch_function|^enable_grad_hooks|^hash_tensor|"
          r"^import_ir_module|^merge_type_from_type_comment|^parse_|^set_anomaly_enabled|^ExcludeDispatchKeyGuard|"
          r"^Type$|^TypedStorage$|^Stream$|^Event$|^StreamObjType|^AggregationType|^ConcreteModule|^Use$|^Value$|"
          r"^Block$|^Node$|^Argument$|^AliasDb|^ThroughputBenchmark|^Code$|^FunctionSchema|^DeserializationStorageContext|"
          r"^PyTorchFileReader|^PyTorchFileWriter|^ErrorReport|^CompilationUnit|^IODescriptor|^LiteScriptModule|"
          r"^LockingLogger|^LoggerBase|^NoopLogger|^FileCheck|^BenchmarkConfig|^BenchmarkExecutionStats|^InferredType|"
          r"^CallStack|^Gradient$|^FatalError|^ClassType|^ConcreteModuleType|^ScriptClass|^ScriptDict|^ScriptList|"
          r"^ScriptMethod|^ScriptFunction|^ScriptModule|^TupleType|^UnionType|^ListType|^DictType|^OptionalType|"
          r"^FutureType|^AwaitType|^RRefType|^InterfaceType|^EnumType|^TensorType|^NumberType|^IntType|^FloatType|"
          r"^ComplexType|^StringType|^BoolType|^NoneType|^AnyType|^DeviceObjType|^PyObjectType|^SymIntType|"
          r"^SymBoolType|^Await$|^Capsule$|^StaticModule|^TracingState|^GraphExecutorState|"
          r"^ExecutionPlan|^CallbackHandle|^PyTorchFile|^autocast_|^get_autocast|^set_autocast|^is_autocast|"
          r"^clear_autocast|^chunk_", _INTERNAL),
]

# Names norch has whose behaviour differs from PyTorch's in a way a user can notice, with why.
BEHAVIOUR = {
    ("Tensor", "diagonal"): "returns a copy gathered with index_select (differentiable), not a view: writes into "
                            "it do not reach the input (the core's as_strided is not differentiable)",
    ("Tensor", "unfold"): "returns a copy (index_select), not a strided view, for the same reason",
    ("top-level", "compile"): "returns its argument unchanged: norch has no compiler",
    ("top-level", "set_float32_matmul_precision"): "recorded and reported; float32 matmuls stay float32",
    ("top-level", "use_deterministic_algorithms"): "recorded and reported; it selects no kernel",
    ("autograd", "inference_mode"): "disables grad like no_grad; norch has no separate inference tensors",
    ("backends", "cudnn.benchmark"): "flags under backends are kept with PyTorch's defaults and select nothing",
    ("Tensor", "cholesky"): "the linear algebra methods (cholesky, lu, qr, det, inverse, matrix_exp, ...) are "
                            "textbook algorithms over core ops, one Python step per column: for small matrices",
}


def _reason(area, name):
    for a, pattern, why in REASONS:
        if a in ("*", area) and re.search(pattern, name):
            return why
    return None


def _public(obj, exclude_modules=True):
    out = []
    for n in dir(obj):
        if n.startswith("_"):
            continue
        try:
            v = getattr(obj, n)
        except Exception:
            continue
        if exclude_modules and isinstance(v, types.ModuleType):
            continue
        mod = getattr(v, "__module__", "") or ""
        if mod in ("typing", "builtins", "collections", "abc", "collections.abc", "enum", "functools") and \
                not isinstance(v, (types.BuiltinFunctionType,)):
            if not mod == "builtins" or isinstance(v, type):
                continue
        out.append(n)
    return out


def torch_areas():
    """PyTorch's names per area, as {area: sorted list}."""
    import torch
    import torch.nn.functional as F
    import torch.utils.data

    def classes(mod, base):
        return [n for n in _public(mod) if isinstance(getattr(mod, n), type) and issubclass(getattr(mod, n), base)]

    areas = {}
    areas["top-level"] = [n for n in torch.__all__ if not n.startswith("_")
                          and not isinstance(getattr(torch, n, None), types.ModuleType)]
    areas["Tensor"] = _public(torch.Tensor)
    areas["nn"] = [n for n in torch.nn.modules.__all__] + [n for n in ("Parameter", "Buffer", "UninitializedParameter",
                                                                       "UninitializedBuffer") if hasattr(torch.nn, n)]
    areas["nn.functional"] = [n for n in _public(F) if callable(getattr(F, n))
                              and getattr(getattr(F, n), "__module__", "").startswith("torch")
                              and not isinstance(getattr(F, n), type)]
    areas["nn.init"] = [n for n in torch.nn.init.__all__] if hasattr(torch.nn.init, "__all__") else \
        [n for n in _public(torch.nn.init) if inspect.isfunction(getattr(torch.nn.init, n))]
    areas["nn.init"] = [n for n in _public(torch.nn.init) if inspect.isfunction(getattr(torch.nn.init, n))
                        and getattr(torch.nn.init, n).__module__ == "torch.nn.init"]
    utils = [n for n in _public(torch.nn.utils) if callable(getattr(torch.nn.utils, n))]
    utils += ["rnn." + n for n in torch.nn.utils.rnn.__all__]
    areas["nn.utils"] = utils
    areas["optim"] = classes(torch.optim, torch.optim.Optimizer)
    areas["optim.lr_scheduler"] = list(torch.optim.lr_scheduler.__all__)
    areas["utils.data"] = [n for n in torch.utils.data.__all__]
    areas["autograd"] = [n for n in torch.autograd.__all__ if not isinstance(getattr(torch.autograd, n), types.ModuleType)]
    areas["autograd"] += ["functional." + n for n in ("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp")]
    areas["autograd"] += ["graph." + n for n in ("Node", "saved_tensors_hooks", "save_on_cpu", "register_multi_grad_hook",
                                                 "increment_version")]
    backends = []
    for sub in ("cpu", "cuda", "cudnn", "mps", "mkl", "mkldnn", "openmp"):
        mod = getattr(torch.backends, sub)
        names = set(_public(mod)) | {n for n in dir(type(mod)) if not n.startswith("_") and n != "m"}
        names -= {"torch", "sys", "warnings", "contextlib", "os", "types", "ContextProp", "PropModule", "flags",
                  "set_flags", "cuFFTPlanCache", "cuFFTPlanCacheAttrContextProp", "cuFFTPlanCacheManager",
                  "cuBLASModule", "CudnnModule", "Optional", "Union", "Callable", "deprecated", "m"}
        backends += [f"{sub}.{n}" for n in names]
    backends += ["cuda.matmul.allow_tf32", "cuda.matmul.allow_fp16_reduced_precision_reduction",
                 "cuda.matmul.allow_bf16_reduced_precision_reduction"]
    areas["backends"] = [n for n in backends if n != "cuda.matmul"]
    areas["cuda"] = [n for n in torch.cuda.__all__ if not isinstance(getattr(torch.cuda, n, None), types.ModuleType)]
    areas["accelerator"] = [n for n in _public(torch.accelerator) if callable(getattr(torch.accelerator, n))
                            and getattr(getattr(torch.accelerator, n), "__module__", "").startswith("torch")]
    areas["amp"] = list(torch.amp.__all__)
    return {k: sorted(set(v)) for k, v in areas.items()}


_ROOTS = {"top-level": "", "Tensor": "Tensor", "nn": "nn", "nn.functional": "nn.functional", "nn.init": "nn.init",
          "nn.utils": "nn.utils", "optim": "optim", "optim.lr_scheduler": "optim.lr_scheduler",
          "utils.data": "utils.data", "autograd": "autograd", "backends": "backends", "cuda": "cuda",
          "accelerator": "accelerator", "amp": "amp"}


def norch_has(area, name):
    """True when norch.<area>.<name> resolves (importing submodules as needed)."""
    import importlib
    import norch
    path = [p for p in (_ROOTS[area] + "." + name).split(".") if p]
    obj, dotted = norch, "norch"
    for part in path:
        dotted += "." + part
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        if isinstance(obj, types.ModuleType):
            try:
                obj = importlib.import_module(dotted)
                continue
            except ImportError:
                return False
        return False
    return True


def classify(areas):
    table = {}
    for area, names in areas.items():
        rows = []
        for n in names:
            if norch_has(area, n):
                rows.append((n, "present", ""))
            else:
                why = _reason(area, n)
                rows.append((n, "different", why) if why else (n, "missing", ""))
        table[area] = rows
    return table


# The Tensor target counts methods that need none of these.
_OUT_OF_SCOPE = (_COMPLEX, _SPARSE, _QUANT, _NESTED)


def tensor_figure(table):
    rows = [r for r in table["Tensor"] if r[2] not in _OUT_OF_SCOPE]
    p = sum(r[1] == "present" for r in rows)
    return p, len(rows)


def render(table, torch_version):
    out = ["# norch and PyTorch: the public surface, area by area", "",
           f"Generated by `python scripts/compat.py` against PyTorch {torch_version}; do not edit by hand "
           "(`test/python/test_compat.py` checks it is up to date).", "",
           "*present*: norch has the name. *different*: norch deliberately lacks it, for the reason given "
           "(the reasons live in one table, `REASONS` in `scripts/compat.py`). *missing*: not there yet.",
           "Coverage is present / (present + missing): names left out on purpose do not count against it.", "",
           "| area | PyTorch names | present | different | missing | coverage |",
           "|---|---:|---:|---:|---:|---:|"]
    for area, rows in table.items():
        p = sum(r[1] == "present" for r in rows)
        d = sum(r[1] == "different" for r in rows)
        m = sum(r[1] == "missing" for r in rows)
        cov = f"{100.0 * p / (p + m):.1f}%" if p + m else "-"
        out.append(f"| {area} | {len(rows)} | {p} | {d} | {m} | {cov} |")
    out += ["", "Present, but behaving differently:", "", "| area | name | difference |", "|---|---|---|"]
    out += [f"| {a} | `{n}` | {why} |" for (a, n), why in BEHAVIOUR.items()]
    p, n = tensor_figure(table)
    out += ["", f"Tensor methods and properties that need no sparse, quantized, complex or nested tensor: "
                f"{p} of {n} present ({100.0 * p / n:.1f}%), counting every other deliberate difference as absent."]
    for area, rows in table.items():
        out += ["", f"## {area}", ""]
        for status in ("missing", "different", "present"):
            sel = [r for r in rows if r[1] == status]
            if not sel:
                continue
            out.append(f"<details><summary>{status}: {len(sel)}</summary>" if status == "present"
                       else f"**{status}: {len(sel)}**")
            out.append("")
            if status == "different":
                out += ["| name | reason |", "|---|---|"] + [f"| `{n}` | {why} |" for n, _, why in sel]
            else:
                out.append(", ".join(f"`{n}`" for n, _, _ in sel))
            if status == "present":
                out += ["", "</details>"]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def generate():
    import torch
    import glob
    # A developer build (scripts/build.sh) lives in the source tree; otherwise the
    # installed norch is the one measured (the tree's python/norch has no extension).
    if glob.glob(os.path.join(ROOT, "python", "norch", "_C*.so")):
        sys.path.insert(0, os.path.join(ROOT, "python"))
    table = classify(torch_areas())
    version = torch.__version__.split("+")[0]
    return table, render(table, version)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--names", action="store_true", help="also write test/python/compat_names.json")
    ap.add_argument("--check", action="store_true", help="exit 1 when docs/compat.md differs from the output")
    args = ap.parse_args()
    table, text = generate()
    if args.check:
        with open(DOC, encoding="utf-8") as f:
            same = f.read() == text
        print("docs/compat.md is up to date" if same else "docs/compat.md is out of date: run scripts/compat.py")
        return 0 if same else 1
    with open(DOC, "w", encoding="utf-8") as f:
        f.write(text)
    if args.names:
        present = {area: [n for n, s, _ in rows if s == "present"] for area, rows in table.items()}
        with open(NAMES, "w", encoding="utf-8") as f:
            json.dump(present, f, indent=1, sort_keys=True)
            f.write("\n")
    for area, rows in table.items():
        p = sum(r[1] == "present" for r in rows)
        m = sum(r[1] == "missing" for r in rows)
        d = sum(r[1] == "different" for r in rows)
        print(f"{area:20s} present {p:4d}  missing {m:4d}  different {d:4d}  coverage "
              f"{100.0 * p / max(p + m, 1):5.1f}%")
    p, n = tensor_figure(table)
    print(f"Tensor without sparse/quantized/complex/nested: {p}/{n} = {100.0 * p / n:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
