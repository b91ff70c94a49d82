"""Tensor methods (see _tensor_compat.py): elementwise math, comparisons and fused multiply-adds."""
import builtins
import math

from . import _C
from ._C import Tensor
from ._tensor_compat import (  # noqa: F401
    _method, _methods, _named, _values_indices, _aminmax_t, _histogram_t, broadcast_shapes, _float_dtype, _as_tensor,
)
from .amp import autocast_mode as _autocast


# --- elementwise -------------------------------------------------------------------

@_method()
def acosh(self):
    return (self + (self * self - 1).sqrt()).log()


@_method()
def asinh(self):
    # Odd extension of log1p(a + a^2 / (1 + sqrt(1 + a^2))) (no cancellation near 0); the magnitude is
    # taken with where, not abs, so the gradient at 0 is 1 rather than abs's subgradient 0.
    neg = self < 0
    a = _C.where(neg, -self, self)
    f = (a + a * a / (1 + (a * a + 1).sqrt())).log1p()
    return _C.where(neg, -f, f)


@_method()
def atanh(self):
    return 0.5 * (self.log1p() - (-self).log1p())


@_method()
def deg2rad(self):
    return self * (math.pi / 180.0)


@_method()
def rad2deg(self):
    return self * (180.0 / math.pi)


@_method()
def signbit(self):
    if self.dtype.is_floating_point:
        return (self < 0) | ((self == 0) & ((1.0 / self) < 0))
    return self < 0


@_method()
def copysign(self, other):
    other = _as_tensor(other, self)
    mag = self.abs() if self.dtype.is_floating_point else self.abs().to(_C.get_default_dtype())
    sb = other.signbit() if other.dtype.is_floating_point else other < 0
    return _C.where(sb, -mag, mag)


def _logaddexp(self, other, exp, log):
    # The shift m is detached, so the gradient is exactly the softmax weights (1/2 each at a tie);
    # an infinite m is replaced by 0 so inf - inf never appears.
    m = _C.maximum(self, other).detach()
    m = _C.where(m.isinf(), _C.zeros_like(m), m)
    return m + log(exp(self - m) + exp(other - m))


@_method()
def logaddexp(self, other):
    return _logaddexp(self, other, lambda t: t.exp(), lambda t: t.log())


@_method()
def logaddexp2(self, other):
    return _logaddexp(self, other, lambda t: t.exp2(), lambda t: t.log2())


@_method()
def xlogy(self, other):
    other = _as_tensor(other, self)
    out = self * other.log()
    return _C.where((self == 0) & ~other.isnan(), _C.zeros_like(out), out)


@_method()
def logit(self, eps=None):
    x = self if eps is None else self.clamp(eps, 1.0 - eps)
    return (x / (1 - x)).log()


@_method()
def float_power(self, exponent):
    e = exponent.double() if isinstance(exponent, Tensor) else builtins.float(exponent)
    return self.double().pow(e)


@_method()
def ldexp(self, other):
    return self * _C.pow(2.0, _as_tensor(other, self).to(_float_dtype(self)))


@_method()
def fmax(self, other):
    return _C.where(self.isnan(), other, _C.where(other.isnan(), self, _C.maximum(self, other)))


@_method()
def fmin(self, other):
    return _C.where(self.isnan(), other, _C.where(other.isnan(), self, _C.minimum(self, other)))


@_method()
def heaviside(self, values):
    pos = (self > 0).to(self.dtype)
    return _C.where(self == 0, values.to(self.dtype) if isinstance(values, Tensor) else values, pos)


@_method()
def hardshrink(self, lambd=0.5):
    return _C.where(self.abs() > lambd, self, _C.zeros_like(self))


@_method()
def sgn(self):
    return self.sign()


@_method()
def angle(self):
    out = _C.where(self < 0, _C.full_like(self, math.pi, dtype=_float_dtype(self)),
                   _C.zeros_like(self, dtype=_float_dtype(self)))
    return _C.where(self.isnan(), self.to(out.dtype), out) if self.dtype.is_floating_point else out


def _gcd(a, b):
    a, b = a.abs(), b.abs()
    a, b = a + _C.zeros_like(b), b + _C.zeros_like(a)  # broadcast both
    while bool((b != 0).any().item()):
        nz = b != 0
        r = _C.where(nz, a.remainder(_C.where(nz, b, _C.ones_like(b))), a)
        a, b = _C.where(nz, b, a), _C.where(nz, r, b)
    return a


@_method()
def gcd(self, other):
    if self.dtype.is_floating_point or other.dtype.is_floating_point:
        raise RuntimeError(f"gcd is not implemented for dtype {self.dtype} and {other.dtype}: it takes integers")
    return _gcd(self, other)


@_method()
def lcm(self, other):
    g = _gcd(self, other)
    return _C.where(g == 0, _C.zeros_like(g), (self // _C.where(g == 0, _C.ones_like(g), g) * other).abs())


@_method()
def erfc(self):
    return 1 - self.erf()


@_method()
def frexp(self):
    """(mantissa, exponent) with self = mantissa * 2**exponent and 0.5 <= |mantissa| < 1."""
    if not self.dtype.is_floating_point:
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, got {self.dtype}")
    x = self.detach()
    finite = x.isfinite() & (x != 0)
    safe = _C.where(finite, x.abs(), _C.ones_like(x))
    e = safe.log2().floor() + 1
    m = safe / _C.pow(2.0, e)
    fix = m >= 1  # log2 rounding at exact powers of two
    e, m = _C.where(fix, e + 1, e), _C.where(fix, m / 2, m)
    fix = m < 0.5
    e, m = _C.where(fix, e - 1, e), _C.where(fix, m * 2, m)
    mant = _C.where(finite, m * x.sign(), x)
    return _named("frexp", ["mantissa", "exponent"])(mant, _C.where(finite, e, _C.zeros_like(e)).int())


def _cum_extreme(self, dim, better, name):
    d = dim % builtins.max(self.dim(), 1)
    if self.dim() == 0:
        return _values_indices[name](self.clone(), _C.zeros((), dtype=_C.int64, device=self.device))
    n = self.shape[d]
    vals, idxs = [], []
    run_v = run_i = None
    for i in range(n):
        x = self.select(d, i)
        if run_v is None:
            run_v, run_i = x, _C.zeros_like(x, dtype=_C.int64)
        else:
            take = better(x, run_v) | (x == run_v) | x.isnan() if self.dtype.is_floating_point else \
                better(x, run_v) | (x == run_v)
            run_v = _C.where(take, x, run_v)
            run_i = _C.where(take, _C.full_like(run_i, i), run_i)
        vals.append(run_v)
        idxs.append(run_i)
    if n == 0:
        return _values_indices[name](self.clone(), _C.zeros(self.shape, dtype=_C.int64, device=self.device))
    return _values_indices[name](_C.stack(vals, d), _C.stack(idxs, d))


@_method()
def cummax(self, dim):
    return _cum_extreme(self, dim, lambda a, b: a > b, "cummax")


@_method()
def cummin(self, dim):
    return _cum_extreme(self, dim, lambda a, b: a < b, "cummin")


@_method()
def isneginf(self):
    return self.isinf() & (self < 0)


@_method()
def isposinf(self):
    return self.isinf() & (self > 0)


@_method()
def isreal(self):
    return _C.ones_like(self, dtype=_C.bool)


@_method()
def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    other = _as_tensor(other, self)
    if self.dtype != other.dtype:
        raise RuntimeError(f"isclose: {self.dtype} did not match {other.dtype}")
    if not self.dtype.is_floating_point:
        a, b = self.double(), other.double()
    else:
        a, b = self, other
    close = (a == b) | ((a - b).abs() <= atol + rtol * b.abs())  # infinities are close only when equal
    if equal_nan:
        close = close | (a.isnan() & b.isnan())
    return close


@_method()
def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(self.isclose(other, rtol, atol, equal_nan).all().item())


@_method()
def equal(self, other):
    return tuple(self.shape) == tuple(other.shape) and builtins.bool((self == other).all().item())


@_method()
def clamp_min(self, min):
    return self.clamp(min=min)


@_method()
def clamp_max(self, max):
    return self.clamp(max=max)


# --- fused multiply-adds ---------------------------------------------------------------

def _scaled(x, beta, base, alpha):
    out = x if alpha == 1 else x * alpha
    if beta == 0:  # PyTorch ignores the input entirely (NaN included) when beta is 0
        return out + _C.zeros_like(base)
    return out + (base if beta == 1 else base * beta)


@_method()
def addcmul(self, tensor1, tensor2, *, value=1):
    return self + tensor1 * tensor2 * value if value != 1 else self + tensor1 * tensor2


@_method()
def addcdiv(self, tensor1, tensor2, *, value=1):
    return self + tensor1 / tensor2 * value if value != 1 else self + tensor1 / tensor2


@_method()
def addmv(self, mat, vec, *, beta=1, alpha=1):
    return _scaled(mat.mv(vec), beta, self, alpha)


@_method()
def addr(self, vec1, vec2, *, beta=1, alpha=1):
    return _scaled(vec1.outer(vec2), beta, self, alpha)


@_method()
def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
    if _autocast.active():
        self, batch1, batch2 = _autocast.cast_args("lower", self, batch1, batch2)
    return _scaled(batch1.bmm(batch2), beta, self, alpha)


@_method()
def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
    if _autocast.active():
        self, batch1, batch2 = _autocast.cast_args("lower", self, batch1, batch2)
    return _scaled(batch1.bmm(batch2).sum(0), beta, self, alpha)


@_method()
def inner(self, other):
    if self.dim() == 0 or other.dim() == 0:
        return self * other
    a = self.reshape(-1, self.shape[-1])
    b = other.reshape(-1, other.shape[-1])
    return a.mm(b.t()).reshape(tuple(self.shape[:-1]) + tuple(other.shape[:-1]))


@_method()
def vdot(self, other):
    return self.dot(other)


@_method()
def ger(self, vec2):
    return self.outer(vec2)


@_method()
def kron(self, other):
    n = builtins.max(self.dim(), other.dim())
    a = self.reshape((1,) * (n - self.dim()) + tuple(self.shape))
    b = other.reshape((1,) * (n - other.dim()) + tuple(other.shape))
    a_shape, b_shape = [], []
    for i in range(n):
        a_shape += [a.shape[i], 1]
        b_shape += [1, b.shape[i]]
    out = a.reshape(a_shape) * b.reshape(b_shape)
    return out.reshape([a.shape[i] * b.shape[i] for i in range(n)])


@_method()
def matrix_power(self, n):
    if n < 0:
        raise RuntimeError("matrix_power: negative powers need a matrix inverse, which norch does not have yet")
    if self.dim() < 2 or self.shape[-1] != self.shape[-2]:
        raise RuntimeError(f"matrix_power: expected a batch of square matrices, got shape {tuple(self.shape)}")
    out = _C.zeros_like(self) + _C.eye(self.shape[-1], dtype=self.dtype, device=self.device)
    base = self
    while n:
        if n & 1:
            out = out.matmul(base)
        n >>= 1
        if n:
            base = base.matmul(base)
    return out


@_method()
def dist(self, other, p=2):
    return (self - other).norm(p)


@_method()
def cross(self, other, dim=None):
    if dim is None:
        dim = next(i for i, s in enumerate(broadcast_shapes(self.shape, other.shape)) if s == 3)
    if self.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {self.shape[dim]} and "
                           f"{other.shape[dim]}")
    a = [self.narrow(dim, i, 1) for i in range(3)]
    b = [other.narrow(dim, i, 1) for i in range(3)]
    return _C.cat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], dim)
