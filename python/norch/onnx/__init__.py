"""norch.onnx: export a model to an ONNX file (opset 17), as torch.onnx.export does.

Design. ``export`` runs the model once under an op-level tracer (_tracer.py): for the
length of the run norch's public entry points -- the C++ ops of ``norch._C`` and
``norch._C._nn``, the bound Tensor methods, operators and properties, and a few Python
composites with a direct ONNX form (``F.linear``, the recurrent layers' forward) -- are
replaced by wrappers. The outermost call that touches a traced value is recorded and its
handler (_ops_*.py) writes ONNX nodes; Python composites without a handler are traced
through to the ops they are made of, so new layers written with norch ops export with no
extra code. Parameters and buffers are recognised by identity with
``model.named_parameters()``/``named_buffers()`` and become initializers named by their
``state_dict()`` keys; any other tensor the model uses (a mask built from constants, a
Python-created table) becomes a Constant node. Subgraphs of constants are computed while
tracing, so they are folded whatever ``do_constant_folding`` says.

Dynamic axes. With ``dynamic_axes`` the model is traced twice: first with every dynamic
axis changed (grown by one), recording only the op sequence and every value's shape, then
on the given inputs. A dimension whose size differs between the two runs is dynamic:
``Tensor.shape``/``size()`` return it as a SymInt (_symint.py), and sizes computed from it
that feed reshape, expand, slicing or a factory become Shape/Gather arithmetic in the
graph. A different op sequence between the two runs is data-dependent control flow, and
a constant tensor or plain int argument that differs is a size taken where the tracer
cannot follow it (``len(x)``); both are errors. Everything is checked with ``onnx.checker`` and serialised in memory before one
write, so a failed export never leaves a partial file. ``onnx`` is imported here only,
when an export runs.
"""
import enum
import inspect
import os

from .errors import OnnxExporterError, UnsupportedOperatorError  # noqa: F401

__all__ = ["export", "is_in_onnx_export", "TrainingMode", "OnnxExporterError", "UnsupportedOperatorError"]

SUPPORTED_OPSET = 17


class TrainingMode(enum.IntEnum):
    """PyTorch's torch.onnx.TrainingMode: EVAL exports in eval mode (the default), PRESERVE keeps
    each module's mode, TRAINING exports in training mode (refused by dropout and batch norm)."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def is_in_onnx_export():
    from . import _tracer
    return _tracer._ACTIVE is not None


def _import_onnx():
    try:
        import onnx  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("norch.onnx.export needs the 'onnx' package: pip install onnx") from e
    return onnx


def _split_args(args, kwargs):
    from .. import _C
    if isinstance(args, _C.Tensor):
        args = (args,)
    args = tuple(args)
    kw = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        kw.update(args[-1])
        args = args[:-1]
    return args, kw


def _input_names(model, args, input_names):
    from .. import _C
    n = sum(isinstance(a, _C.Tensor) for a in args)
    names = list(input_names or [])
    if len(names) > n:
        raise ValueError(f"export: {len(names)} input_names given for {n} tensor inputs")
    try:
        params = [p for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    k = 0
    for i, a in enumerate(args):
        if isinstance(a, _C.Tensor):
            if k >= len(names):
                names.append(params[i].name if i < len(params) else f"input_{k}")
            k += 1
    return names


def _dynamic_map(dynamic_axes, names):
    dyn = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in names:
            raise ValueError(f"export: dynamic_axes names '{name}', which is neither an input nor an output name "
                             f"(inputs and outputs: {names})")
        if isinstance(axes, dict):
            dyn[name] = {int(a): str(n) for a, n in axes.items()}
        else:
            dyn[name] = {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
    return dyn


def _grow(t, axes):
    # The same data tiled along each dynamic axis to one more element: indices stay in range.
    # norch ops, not NumPy, so every dtype (bfloat16 too) grows the same way.
    from .. import _C
    out = t.detach()
    for ax in axes:
        ax = ax % out.dim()
        n = out.shape[ax]
        out = out.index_select(ax, _C.arange(n + 1, device=t.device) % max(n, 1))
    return out.contiguous()


def _run(model, tracer, args, kwargs, names):
    from .. import _C
    from . import _tracer
    modules = {id(m): (p, type(m).__name__) for p, m in model.named_modules()}
    handles = []

    def pre(mod, inp):
        tracer.stack.append(modules.get(id(mod), ("?", type(mod).__name__)))

    def post(mod, inp, out):
        tracer.stack.pop()

    for _, m in model.named_modules():
        if m is not model:
            handles.append(m.register_forward_pre_hook(pre))
            handles.append(m.register_forward_hook(post))
    k = 0
    for a in args:
        if isinstance(a, _C.Tensor):
            tracer.bind(a, names[k])
            k += 1
    prev = _tracer.activate(tracer)
    try:
        return model(*args, **kwargs)
    finally:
        _tracer.deactivate(prev)
        for h in handles:
            h.remove()


def export(model, args=(), f=None, *, kwargs=None, export_params=True, verbose=False, training=None,
           input_names=None, output_names=None, operator_export_type=None, opset_version=None,
           do_constant_folding=True, dynamic_axes=None, keep_initializers_as_inputs=None, custom_opsets=None,
           export_modules_as_functions=False, autograd_inlining=True, dynamo=False, **unused):
    """Trace ``model(*args)`` and write it as an ONNX model to ``f`` (a path or a binary file object)."""
    onnx = _import_onnx()
    from onnx import helper
    from .. import _C, nn
    from ..autograd import no_grad
    from . import _tracer, _ops_tensor, _ops_nn  # noqa: F401  (register the handlers)
    from ._graph import onnx_dtype

    if f is None:
        raise ValueError("export: f (a path or a binary file object) is required")
    if opset_version is None:
        opset_version = SUPPORTED_OPSET
    if opset_version != SUPPORTED_OPSET:
        raise ValueError(f"export: norch writes ONNX opset {SUPPORTED_OPSET}; opset_version={opset_version} "
                         "is not supported")
    unknown = set(unused) - _TORCH_ONLY
    if unknown:
        raise TypeError(f"export() got an unexpected keyword argument '{sorted(unknown)[0]}'")
    if export_modules_as_functions or custom_opsets or unused.get("dynamic_shapes") is not None:
        raise ValueError("export: export_modules_as_functions, custom_opsets and dynamic_shapes are not "
                         "supported by norch.onnx")
    if not isinstance(model, nn.Module):
        raise TypeError(f"export: model must be a norch.nn.Module, got {type(model).__name__}")
    args, kw = _split_args(args, kwargs)
    names = _input_names(model, args, input_names)
    dyn_names = list(names) + list(output_names or [])
    dyn = _dynamic_map(dynamic_axes, dyn_names) if dynamic_axes else {}
    dyn_inputs = {n: a for n, a in dyn.items() if n in names}
    training_modes = [(m, m.training) for m in model.modules()]
    if training is None or training == TrainingMode.EVAL or training is False:
        model.eval()
    elif training == TrainingMode.TRAINING or training is True:
        model.train()
    elif training != TrainingMode.PRESERVE:
        raise ValueError(f"export: training must be a norch.onnx.TrainingMode, got {training!r}")
    targets = _ops_nn.python_targets()
    try:
        with no_grad(), _tracer.Patches(targets):
            reference = None
            if dyn_inputs:
                reference = _tracer.Tracer("pre", model, True, export_params)
                grown, k = [], 0
                for a in args:
                    if isinstance(a, _C.Tensor):
                        a = _grow(a, dyn_inputs.get(names[k], {}).keys())
                        k += 1
                    grown.append(a)
                try:
                    _run(model, reference, grown, kw, names)
                except OnnxExporterError:
                    raise
                except Exception as e:
                    raise OnnxExporterError(
                        f"export: the model fails when the dynamic axes {dyn_inputs} change size ({type(e).__name__}: "
                        f"{e}); only axes the model accepts at any size can be dynamic") from e
            tracer = _tracer.Tracer("main", model, bool(dyn_inputs), export_params, reference)
            g = tracer.graph
            g._used.update(names)
            out = _run(model, tracer, args, kw, names)
            if reference is not None and len(reference.signature) != len(tracer.signature):
                raise OnnxExporterError(
                    f"the model ran {len(tracer.signature)} ops on the export inputs and "
                    f"{len(reference.signature)} with the dynamic axes changed; data-dependent Python control "
                    "flow cannot be exported as one graph")
            flat = _tracer._flat(out, [])
            if any(not isinstance(t, _C.Tensor) for t in flat if t is not None):
                raise OnnxExporterError("export: the model must return tensors (or tuples/lists of them)")
            flat = [t for t in flat if t is not None]
            onames = list(output_names or [])
            for i in range(len(onames), len(flat)):
                onames.append(f"output_{i}" if len(flat) > 1 else "output")
            if len(onames) > len(flat):
                raise ValueError(f"export: {len(onames)} output_names given for {len(flat)} outputs")
            g.scope = ""
            outputs = []
            for t, oname in zip(flat, onames):
                src = g.v(t)
                g.nodes.append(helper.make_node("Identity", [src], [oname], name=g._unique(f"/Identity_{oname}")))
                g._used.add(oname)
                outputs.append(_value_info(oname, t, tracer, dyn.get(oname, {}), helper, onnx_dtype))
            inputs = []
            k = 0
            for a in args:
                if isinstance(a, _C.Tensor):
                    inputs.append(_value_info(names[k], a, tracer, dyn.get(names[k], {}), helper, onnx_dtype))
                    k += 1
            proto = g.make_model(inputs, outputs, SUPPORTED_OPSET, _version(), bool(keep_initializers_as_inputs))
    finally:
        for m, mode in training_modes:
            m.training = mode
    _simplify_identities(proto)
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as e:  # pragma: no cover - a handler bug, never a user error
        raise OnnxExporterError(f"export produced an invalid ONNX model: {e}") from None
    data = proto.SerializeToString()
    if verbose:
        print(onnx.printer.to_text(proto.graph))
    if isinstance(f, (str, os.PathLike)):
        tmp = os.fspath(f) + ".tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, f)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
    else:
        f.write(data)
    return None


# torch.onnx.export's arguments for its dynamo exporter: accepted, and without effect here.
_TORCH_ONLY = {"dynamic_shapes", "external_data", "report", "optimize", "verify", "profile", "dump_exported_program",
               "artifacts_dir", "custom_translation_table", "fallback"}


def _version():
    from .. import __version__
    return __version__


def _value_info(name, t, tracer, axes, helper, onnx_dtype):
    shape = list(tracer.sizes(t)) if tracer.symbolic else list(t.shape)
    dims = []
    for d, s in enumerate(shape):
        if d in axes:
            dims.append(axes[d])
        elif getattr(s, "static", True):
            dims.append(int(s))
        else:
            dims.append(None)
    return helper.make_tensor_value_info(name, onnx_dtype(t.dtype), dims)


def _simplify_identities(proto):
    # An output's Identity may be folded into the node that made the value, when the value has no other use.
    g = proto.graph
    outputs = {o.name for o in g.output}
    producers = {o: n for n in g.node for o in n.output}
    uses = {}
    for n in g.node:
        for i in n.input:
            uses[i] = uses.get(i, 0) + 1
    for o in g.output:
        uses[o.name] = uses.get(o.name, 0) + 1
    keep = []
    for n in g.node:
        if n.op_type == "Identity" and n.output[0] in outputs and n.input[0] in producers and \
                uses.get(n.input[0], 0) == 1 and n.input[0] not in outputs:
            src = producers[n.input[0]]
            src.output[list(src.output).index(n.input[0])] = n.output[0]
            continue
        keep.append(n)
    del g.node[:]
    g.node.extend(keep)
