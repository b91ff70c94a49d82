"""SymInt: an int that remembers which tensor dimension it came from.

During an export with dynamic_axes, ``Tensor.shape`` and ``Tensor.size()`` of a traced
tensor return SymInts. They behave as the ints they equal (the model runs on real
numbers), and integer arithmetic on them builds an expression, so that a size that
feeds reshape, expand, zeros, slicing, ... can be emitted as Shape/Gather arithmetic
instead of being frozen at the export batch's value. ``static`` is True for a dimension
that kept its size when the model was traced a second time with the dynamic axes
changed; such a size is written as a plain constant.
"""
import operator


class SymInt(int):
    def __new__(cls, value, expr, static):
        obj = int.__new__(cls, int(value))
        obj.expr = expr
        obj.static = static
        return obj

    def _bin(self, other, kind, fn, reverse=False):
        if not isinstance(other, int) or isinstance(other, bool):
            return NotImplemented
        a, b = (other, self) if reverse else (self, other)
        static = getattr(a, "static", True) and getattr(b, "static", True)
        value = fn(int(a), int(b))
        return SymInt(value, (kind, a, b), static)

    def __add__(self, o):
        return self._bin(o, "add", operator.add)

    def __radd__(self, o):
        return self._bin(o, "add", operator.add, True)

    def __sub__(self, o):
        return self._bin(o, "sub", operator.sub)

    def __rsub__(self, o):
        return self._bin(o, "sub", operator.sub, True)

    def __mul__(self, o):
        return self._bin(o, "mul", operator.mul)

    def __rmul__(self, o):
        return self._bin(o, "mul", operator.mul, True)

    def __floordiv__(self, o):
        return self._bin(o, "floordiv", operator.floordiv)

    def __rfloordiv__(self, o):
        return self._bin(o, "floordiv", operator.floordiv, True)

    def __mod__(self, o):
        return self._bin(o, "mod", operator.mod)

    def __neg__(self):
        return SymInt(-int(self), ("neg", self), self.static)

    def __pos__(self):
        return self

    def __hash__(self):
        return int.__hash__(self)

    def __eq__(self, other):
        return int(self) == other

    def __ne__(self, other):
        return int(self) != other
