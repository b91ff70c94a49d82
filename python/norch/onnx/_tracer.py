"""The op-level tracer: norch's public entry points, wrapped for the length of one run.

Every C++ entry point (``norch._C.*``, ``norch._C._nn.*``, the bound ``Tensor`` methods,
operators and properties) and the few Python composites that have a handler of their own
(``F.linear``, ``RNNBase.forward``, ...) are replaced, wherever a norch module or the
Tensor class holds them, by a wrapper. The outermost wrapped call whose arguments hold a
traced tensor (an input, a parameter or buffer, or the output of a recorded op) or a
SymInt is *recorded*: it runs for real, then its handler (``HANDLERS[key]``) emits ONNX
nodes for it. Calls made inside it run plain, so a composite with a handler is one ONNX
pattern, while a Python composite without one (gelu, silu, MultiheadAttention, ...) is
traced through to the C++ ops it is built of. A C++ op with no handler, a custom
autograd.Function, a random draw, or reading a traced tensor's data in Python (item, bool, numpy) is an
error naming the op and the module path (kept by forward pre/post hooks).

Values are identified by the Python object (``id``), which the tracer keeps alive. The
wrappers are process-wide while an export runs, so exports must not run in two threads
at once.
"""
import sys
import types

from .. import _C
from .._size import Size
from ._symint import SymInt
from .errors import OnnxExporterError, UnsupportedOperatorError

HANDLERS = {}

_ACTIVE = None


def handler(*keys):
    def deco(fn):
        for k in keys:
            HANDLERS[k] = fn
        return fn
    return deco


# Tensor attributes that only read metadata, or only tell the allocator about the
# memory (record_stream): never wrapped.
_METADATA = {"__init__", "__doc__", "__module__", "_pybind11_conduit_v1_", "dim", "ndimension", "ndim", "numel",
             "nelement", "__len__", "dtype", "device", "stride", "storage_offset", "element_size", "itemsize",
             "nbytes", "data_ptr", "_version", "_storage_id", "_is_view", "_is_same", "__hash__", "requires_grad",
             "requires_grad_", "grad", "grad_fn", "retains_grad", "output_nr", "retain_grad", "register_hook",
             "backward", "__array_priority__", "layout", "volatile", "__repr__", "__str__", "__format__",
             "get_device", "__iter__", "__reversed__", "__contains__", "dim_order", "new", "type", "cuda",
             "record_stream"}
# Calls that hand a traced tensor's data to Python: the graph cannot follow them.
_DATA_DEPENDENT = {"Tensor.item", "Tensor.numpy", "Tensor.__bool__", "Tensor.__float__", "Tensor.__int__",
                   "Tensor.__index__", "Tensor.__array__", "Tensor.__setitem__", "Tensor.tolist"}

# Random draws: their result would be frozen into the graph as one constant sample, so
# any call while an export runs is refused, traced arguments or not.
_RANDOM = {"rand", "randn", "randint", "rand_like", "randn_like", "randint_like", "randperm", "bernoulli", "normal",
           "multinomial", "Tensor.uniform_", "Tensor.normal_", "Tensor.exponential_", "Tensor.random_",
           "Tensor.bernoulli_", "Tensor.bernoulli", "Tensor.multinomial", "Tensor.cauchy_", "Tensor.log_normal_",
           "Tensor.geometric_"}

_ORIG_SHAPE = _C.Tensor.__dict__["shape"].__get__


def _display(key):
    if key.startswith("Tensor.") or key.startswith("nn."):
        return key
    if key.startswith("_nn."):
        return "norch.nn.functional." + key[4:]
    if key.startswith("F."):
        return "norch.nn.functional." + key[2:]
    return "norch." + key


def _tensors(obj, acc):
    if isinstance(obj, _C.Tensor):
        acc.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors(o, acc)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors(o, acc)
    return acc


def _flat(obj, acc):
    if isinstance(obj, (list, tuple)):
        for o in obj:
            _flat(o, acc)
    else:
        acc.append(obj)
    return acc


class Tracer:
    def __init__(self, mode, model, symbolic, export_params=True, reference=None):
        from ._graph import Graph
        self.mode = mode                      # "pre" (shapes and op order only) or "main"
        self.symbolic = symbolic
        self.export_params = export_params
        self.reference = reference            # the "pre" tracer, compared against op by op
        self.values = {}                      # id(tensor) -> (onnx name, creation index)
        self.keep = []
        self.shapes = []
        self.signature = []
        self.const_shapes = []
        self.depth = 0
        self.stack = []
        self.params = {}
        for name, p in list(model.named_parameters()) + list(model.named_buffers()):
            self.params.setdefault(id(p), name)
            self.keep.append(p)
        self.graph = Graph(self) if mode == "main" else None

    # ---- values ----------------------------------------------------------------------
    def bind(self, t, name):
        self.values[id(t)] = (name, len(self.shapes))
        self.keep.append(t)
        self.shapes.append(tuple(_ORIG_SHAPE(t)))

    def is_traced(self, t):
        return id(t) in self.values or id(t) in self.params

    def name_of(self, t):
        e = self.values.get(id(t))
        if e is not None:
            return e[0]
        k = self.params.get(id(t))
        if k is not None:
            return self.graph.initializer(k, t)
        return None

    def sizes(self, t):
        sizes = _ORIG_SHAPE(t)
        e = self.values.get(id(t))
        if e is None:
            return sizes
        name, idx = e
        if self.mode == "pre":
            return Size(SymInt(s, None, False) for s in sizes)
        ref = self.reference.shapes[idx] if self.reference is not None else None
        return Size(SymInt(s, ("dim", name, d), ref is not None and ref[d] == s) for d, s in enumerate(sizes))

    def any_traced(self, obj):
        if isinstance(obj, _C.Tensor):
            return self.is_traced(obj)
        if isinstance(obj, SymInt):
            return True
        if isinstance(obj, (list, tuple)):
            return any(self.any_traced(o) for o in obj)
        if isinstance(obj, dict):
            return any(self.any_traced(o) for o in obj.values())
        return False

    def where(self):
        return f"module '{self.stack[-1][0]}' ({self.stack[-1][1]})" if self.stack else "the top-level model"

    def _check_unaliased(self, key, target):
        # The graph gives an in-place op a new value; a view sharing the target's memory
        # (or the target being a view) would see the write eagerly but not in the graph.
        sid = target._storage_id()
        for t in self.keep:
            if id(t) in self.values and t._storage_id() == sid and not t._is_same(target):
                raise UnsupportedOperatorError(
                    f"{_display(key)} writes in place into a tensor that shares memory with another traced "
                    f"tensor (a view) in {self.where()}; the write cannot be followed in an ONNX graph. Write "
                    "out of place (y = x.relu() rather than x.relu_()) or clone() first")

    def _frozen(self, obj, acc):
        """What a call takes that the graph will hold fixed: untraced tensors' shapes, plain ints."""
        if isinstance(obj, _C.Tensor):
            if not self.is_traced(obj):
                acc.append(tuple(_ORIG_SHAPE(obj)))
        elif isinstance(obj, int) and not isinstance(obj, (bool, SymInt)):
            acc.append(int(obj))
        elif isinstance(obj, (list, tuple)):
            for o in obj:
                self._frozen(o, acc)
        elif isinstance(obj, slice):
            self._frozen((obj.start, obj.stop, obj.step), acc)
        elif isinstance(obj, dict):
            for o in obj.values():
                self._frozen(o, acc)
        return acc

    # ---- recording -------------------------------------------------------------------
    def record(self, key, args, kwargs, out):
        outs = _tensors(out, [])
        if key == "Tensor.__setitem__":
            raise UnsupportedOperatorError(
                f"Tensor.__setitem__ (in-place assignment into a traced tensor) in {self.where()} has no ONNX "
                "mapping; build the value with cat/where instead")
        if key in _DATA_DEPENDENT:
            raise OnnxExporterError(
                f"{_display(key)} reads the data of a traced tensor into Python in {self.where()}; the result "
                "(and any control flow that depends on it) cannot be expressed in an ONNX graph")
        if not outs:
            return out
        fn = HANDLERS.get(key)
        if fn is None:
            raise UnsupportedOperatorError(
                f"{_display(key)} has no ONNX mapping at opset 17 (in {self.where()}); it cannot be exported")
        here = self.stack[-1][0] if self.stack else ""
        step = len(self.signature)
        # the shapes of the constant (untraced) tensor arguments: one that changes with the
        # dynamic axes was computed outside the traced ops and would be frozen in the graph
        consts = self._frozen((args, kwargs), [])
        self.signature.append((key, here))
        self.const_shapes.append(consts)
        if self.reference is not None:
            ref = self.reference.signature
            if step >= len(ref) or ref[step] != (key, here):
                got = f"{ref[step][0]} in '{ref[step][1]}'" if step < len(ref) else "the end of the model"
                raise OnnxExporterError(
                    f"the model ran different ops for different input sizes: {_display(key)} in {self.where()} "
                    f"on the export inputs, {got} with the dynamic axes changed; data-dependent Python control "
                    "flow cannot be exported as one graph")
            if self.reference.const_shapes[step] != consts:
                raise OnnxExporterError(
                    f"{_display(key)} in {self.where()} takes a constant tensor or a plain int that changes "
                    "with the dynamic axes: it was computed outside the traced ops (with len(), int(), math, "
                    "numpy, ...) and would be frozen in the graph; use x.shape/x.size() and norch ops")
        inplace = _is_inplace(key)
        if inplace and isinstance(args[0], _C.Tensor):
            self._check_unaliased(key, args[0])
        if self.mode == "pre":
            for t in outs:
                self.bind(t, None)
            if inplace and isinstance(args[0], _C.Tensor):
                self.values[id(args[0])] = self.values[id(outs[0])]
            return out
        from ._graph import Unsupported
        g = self.graph
        g.scope = "/" + here.replace(".", "/") if here else ""
        g.out = out
        self.depth += 1
        try:
            names = fn(g, *args, **kwargs)
        except Unsupported as e:
            raise UnsupportedOperatorError(f"{_display(key)}: {e} (in {self.where()}); it cannot be exported "
                                           "at opset 17") from None
        finally:
            self.depth -= 1
        names = _flat(names, [])
        if len(names) != len(outs):
            raise OnnxExporterError(f"internal: the handler of {key} gave {len(names)} outputs for {len(outs)}")
        for t, n in zip(outs, names):
            self.bind(t, n)
        if inplace and isinstance(args[0], _C.Tensor) and args[0] is not outs[0]:
            self.bind(args[0], names[0])
        return out


def _is_inplace(key):
    name = key.rsplit(".", 1)[-1]
    return (name.endswith("_") and not name.endswith("__")) or (name.startswith("__i") and name not in
                                                                   ("__index__", "__init__", "__invert__"))


def _wrap(key, orig):
    if key in _RANDOM:
        return _wrap_random(key, orig)

    def wrapper(*args, **kwargs):
        tr = _ACTIVE
        if tr is None or tr.depth or not (tr.any_traced(args) or tr.any_traced(kwargs)):
            return orig(*args, **kwargs)
        tr.depth += 1
        try:
            out = orig(*args, **kwargs)
        finally:
            tr.depth -= 1
        return tr.record(key, args, kwargs, out)
    wrapper.__wrapped__ = orig
    return wrapper


def _wrap_random(key, orig):
    def wrapper(*args, **kwargs):
        tr = _ACTIVE
        if tr is not None and not tr.depth:
            raise UnsupportedOperatorError(
                f"{_display(key)} draws random numbers in {tr.where()}; an ONNX graph would hold one fixed draw "
                "(export in eval mode, or pass the random values as an input)")
        return orig(*args, **kwargs)
    wrapper.__wrapped__ = orig
    return wrapper


def _shape_getter(self):
    tr = _ACTIVE
    if tr is None or not tr.symbolic or tr.depth:
        return _ORIG_SHAPE(self)
    return tr.sizes(self)


_ORIG_SIZE = _C.Tensor.__dict__["size"]


def _size(self, dim=None):
    tr = _ACTIVE
    if tr is None or not tr.symbolic or tr.depth:
        return _ORIG_SIZE(self) if dim is None else _ORIG_SIZE(self, dim)
    s = tr.sizes(self)
    return s if dim is None else s[dim]


def _apply_guard(orig):
    def apply(cls, *args, **kwargs):
        tr = _ACTIVE
        if tr is not None and not tr.depth and tr.any_traced(args):
            raise UnsupportedOperatorError(
                f"custom autograd.Function {cls.__qualname__}.apply has no ONNX mapping (in {tr.where()}); "
                "it cannot be exported")
        return orig.__func__(cls, *args, **kwargs)
    return classmethod(apply)


class Patches:
    """Installs the wrappers and puts every original back on exit."""

    def __init__(self, python_targets):
        self.python_targets = python_targets
        self.undo = []

    def _set(self, owner, attr, value):
        self.undo.append((owner, attr, owner.__dict__[attr] if isinstance(owner, type) else getattr(owner, attr)))
        setattr(owner, attr, value)

    def __enter__(self):
        try:
            self._install()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _install(self):
        replace = {}
        for ns, prefix in ((_C, ""), (_C._nn, "_nn.")):
            for name, obj in vars(ns).items():
                if not name.startswith("_") and isinstance(obj, types.BuiltinFunctionType):
                    replace[id(obj)] = (obj, _wrap(prefix + name, obj))
        for key, (owner, attr) in self.python_targets.items():
            obj = owner.__dict__[attr] if isinstance(owner, type) else getattr(owner, attr)
            if isinstance(owner, type):
                self._set(owner, attr, _wrap(key, obj))
            else:
                replace[id(obj)] = (obj, _wrap(key, obj))
        # Every loaded module, not only norch's: a user's ``from norch import cat`` holds the
        # op under another module's name, and an unwrapped op would be baked in as a constant.
        mods = [_C, _C._nn] + [m for n, m in list(sys.modules.items())
                               if m is not None and not n.startswith("norch.onnx")]
        for m in mods:
            try:
                items = list(vars(m).items())
            except TypeError:
                continue
            for attr, val in items:
                hit = replace.get(id(val))
                if hit is not None and hit[0] is val:
                    self._set(m, attr, hit[1])
        T = _C.Tensor
        for name, val in list(T.__dict__.items()):
            key = "Tensor." + name
            if name in ("shape", "size"):
                continue
            if name in _METADATA or name.startswith("is_"):
                continue
            if isinstance(val, property):
                if key in HANDLERS:
                    self._set(T, name, property(_wrap(key, val.__get__)))
            elif isinstance(val, types.FunctionType):
                if key in HANDLERS or key in _DATA_DEPENDENT:
                    self._set(T, name, _wrap(key, val))
            elif callable(val):
                self._set(T, name, _wrap(key, val))
        self._set(T, "shape", property(_shape_getter))
        self._set(T, "size", _size)
        from ..autograd.function import Function
        self._set(Function, "apply", _apply_guard(Function.__dict__["apply"]))

    def __exit__(self, *exc):
        for owner, attr, orig in reversed(self.undo):
            setattr(owner, attr, orig)
        self.undo.clear()


def activate(tracer):
    global _ACTIVE
    prev, _ACTIVE = _ACTIVE, tracer
    return prev


def deactivate(prev):
    global _ACTIVE
    _ACTIVE = prev
