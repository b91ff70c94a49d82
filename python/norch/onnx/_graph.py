"""The ONNX graph under construction: nodes, constants, initializers and symbolic sizes.

Op handlers (_ops_*.py) talk only to this class; it turns norch tensors, Python
scalars and SymInts into ONNX value names and emits nodes named after the module
path they ran in (``/encoder/fc/Gemm``), as PyTorch's exporter names them. It
imports ``onnx`` and is itself imported only inside an export.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .. import _C
from ._symint import SymInt


class Unsupported(Exception):
    """Raised by a handler for an op (or an argument of it) that ONNX cannot express;
    the tracer adds the op's and the module's names."""


_NP = {"norch.float32": np.float32, "norch.float64": np.float64, "norch.int32": np.int32,
       "norch.int64": np.int64, "norch.uint8": np.uint8, "norch.bool": np.bool_, "norch.float16": np.float16}


def np_dtype(dtype):
    if str(dtype) == "norch.bfloat16":
        # NumPy has no bfloat16; a bfloat16 value an op handler needs as NumPy is
        # taken in float32 (constants in the graph keep their bfloat16 bits, below).
        return np.float32
    return _NP[str(dtype)]


def onnx_dtype(dtype):
    if str(dtype) == "norch.bfloat16":
        return TensorProto.BFLOAT16
    return helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype(dtype)))


def to_numpy(t):
    t = t.detach().cpu()
    if str(t.dtype) == "norch.bfloat16":
        t = t.float()
    return np.ascontiguousarray(t.numpy())


def tensor_proto(t, name=None):
    """A norch tensor as an ONNX TensorProto; bfloat16 keeps its exact bits (raw data)."""
    t = t.detach().cpu().contiguous()
    if str(t.dtype) == "norch.bfloat16":
        bits = np.ascontiguousarray(t.view(_C.float16).numpy()).view(np.uint16)
        return helper.make_tensor(name or "", TensorProto.BFLOAT16, list(t.shape), bits.tobytes(), raw=True)
    return numpy_helper.from_array(np.ascontiguousarray(t.numpy()), name)


class Graph:
    def __init__(self, tracer):
        self.tracer = tracer
        self.nodes = []
        self.initializers = {}      # name -> TensorProto
        self.extra_inputs = []      # ValueInfos of parameters when export_params=False
        self.scope = ""
        self.out = None             # the real output of the op being translated
        self._used = set()
        self._sym_cache = {}
        self._const_cache = {}

    # ---- naming and nodes -------------------------------------------------------------
    def _unique(self, base):
        name, i = base, 1
        while name in self._used:
            name = f"{base}_{i}"
            i += 1
        self._used.add(name)
        return name

    def op(self, op_type, *inputs, outputs=1, **attrs):
        """Emit one node; returns its output name (or a list when outputs > 1)."""
        node_name = self._unique(f"{self.scope}/{op_type}")
        outs = [self._unique(f"{node_name}_output_{i}") for i in range(outputs)]
        ins = ["" if i is None else i for i in inputs]
        while ins and ins[-1] == "":
            ins.pop()
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, ins, outs, name=node_name, **attrs))
        return outs[0] if outputs == 1 else outs

    def const(self, value, dtype=None):
        """A Constant node holding a NumPy array (or a Python number, as a 0-d tensor)."""
        arr = np.asarray(value, dtype=dtype)
        key = None
        if arr.size <= 16:  # small constants (axes, shapes, scalars) are shared, not repeated
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            if key in self._const_cache:
                return self._const_cache[key]
        name = self._unique(f"{self.scope}/Constant_output_0" if self.scope else "onnx::Constant")
        self.nodes.append(helper.make_node("Constant", [], [name], name=self._unique(name + "_node"),
                                           value=numpy_helper.from_array(arr)))
        if key is not None:
            self._const_cache[key] = name
        return name

    def const_tensor(self, t):
        """A Constant node holding a norch tensor, in its own dtype (bfloat16 included)."""
        if str(t.dtype) != "norch.bfloat16":
            return self.const(to_numpy(t))
        name = self._unique(f"{self.scope}/Constant_output_0" if self.scope else "onnx::Constant")
        self.nodes.append(helper.make_node("Constant", [], [name], name=self._unique(name + "_node"),
                                           value=tensor_proto(t)))
        return name

    def i64(self, values):
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1))

    def scalar(self, value, dtype):
        return self.const(np.asarray(value, dtype=np_dtype(dtype)))

    # ---- tensors ---------------------------------------------------------------------
    def initializer(self, name, tensor):
        if name not in self.initializers:
            if self.tracer.export_params:
                self.initializers[name] = tensor_proto(tensor, name)
            else:
                self.extra_inputs.append(helper.make_tensor_value_info(
                    name, onnx_dtype(tensor.dtype), list(tensor.shape)))
                self.initializers[name] = None
            self._used.add(name)
        return name

    def v(self, t, dtype=None):
        """The ONNX name of a tensor argument (a traced value, a parameter or a constant),
        cast to ``dtype`` when given and different."""
        if not isinstance(t, _C.Tensor):
            if dtype is None:
                raise Unsupported(f"expected a tensor, got {type(t).__name__}")
            return self.scalar(t, dtype)
        name = self.tracer.name_of(t)
        if name is None:
            name = self.const_tensor(t)
        if dtype is not None and str(t.dtype) != str(dtype):
            name = self.op("Cast", name, to=onnx_dtype(dtype))
        return name

    def cast(self, name, dtype):
        return self.op("Cast", name, to=onnx_dtype(dtype))

    def sizes(self, t):
        """t's sizes, with SymInts for the dynamic ones during a dynamic-axes export."""
        return self.tracer.sizes(t) if self.tracer.symbolic else tuple(t.shape)

    # ---- symbolic sizes --------------------------------------------------------------
    def sym(self, s):
        """A size (int or SymInt) as a 1-element int64 tensor."""
        if not isinstance(s, SymInt) or s.static:
            return self.i64([int(s)])
        key = s.expr
        # dims are cached by (name, axis); derived sizes by identity, because SymInts
        # compare by value and two different dims of equal size must stay apart
        ck = key if key[0] == "dim" else id(s)
        if ck in self._sym_cache:
            return self._sym_cache[ck][0]
        kind = key[0]
        if kind == "dim":
            name = self.op("Shape", key[1], start=key[2], end=key[2] + 1)
        elif kind == "neg":
            name = self.op("Neg", self.sym(key[1]))
        else:
            a, b = self.sym(key[1]), self.sym(key[2])
            name = self.op({"add": "Add", "sub": "Sub", "mul": "Mul", "floordiv": "Div", "mod": "Mod"}[kind], a, b)
        self._sym_cache[ck] = (name, s)
        return name

    def index(self, i):
        """An int (or SymInt) as a 0-d int64 tensor, for Gather."""
        if isinstance(i, SymInt) and not i.static:
            return self.op("Squeeze", self.sym(i), self.i64([0]))
        return self.const(int(i), "int64")

    def shape(self, sizes):
        """A list of sizes (ints or SymInts) as a 1-D int64 tensor."""
        sizes = [s for s in sizes]
        if all(not isinstance(s, SymInt) or s.static for s in sizes):
            return self.i64([int(s) for s in sizes])
        if not sizes:
            return self.i64([])
        return self.op("Concat", *[self.sym(s) for s in sizes], axis=0)

    # ---- finishing -------------------------------------------------------------------
    def prune(self, outputs):
        """Drop nodes that no graph output depends on (unused max-pool indices, ...)."""
        needed = set(outputs)
        kept = []
        for node in reversed(self.nodes):
            if any(o in needed for o in node.output):
                kept.append(node)
                needed.update(i for i in node.input if i)
        self.nodes = kept[::-1]
        return needed

    def make_model(self, inputs, outputs, opset, producer, initializers_as_inputs=False):
        needed = self.prune([o.name for o in outputs])
        inits = [t for n, t in self.initializers.items() if t is not None and n in needed]
        extra = [vi for vi in self.extra_inputs if vi.name in needed]
        if initializers_as_inputs:
            extra += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits]
        graph = helper.make_graph(self.nodes, "main_graph", list(inputs) + extra, list(outputs), inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                 producer_name="norch", producer_version=producer,
                                 ir_version=min(onnx.IR_VERSION, 8))
