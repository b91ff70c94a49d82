"""Tensor methods (see _tensor_compat.py): special functions (lgamma, digamma, polygamma, mvlgamma,
i0, erfinv, nextafter) as compositions of core ops, so their gradients come from autograd.

Each uses a textbook method chosen to reach float64 rounding over the range training code
meets: the Lanczos approximation (g=7, 9 terms) for lgamma with the reflection formula below
1/2; the recurrence psi(x) = psi(x+K) - sum 1/(x+k) up to x+K >= 10 and then the asymptotic
series for digamma and polygamma; the power series for i0 (all terms positive, so no
cancellation); Giles' approximation refined by one Newton step for erfinv, the step taken
on a detached start so the gradient is exactly sqrt(pi)/2 * exp(erfinv(x)**2).
"""
import builtins
import math

from . import _C
from ._tensor_compat import _method

_LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7]


def _floating(x):
    return x if x.dtype.is_floating_point else x.to(_C.get_default_dtype())


def _lanczos(x):
    """lgamma for x >= 0.5."""
    z = x - 1
    a = _C.full_like(z, _LANCZOS[0])
    for i in range(1, 9):
        a = a + _LANCZOS[i] / (z + i)
    t = z + 7.5
    return 0.5 * math.log(2 * math.pi) + (z + 0.5) * t.log() - t + a.log()


def _nonpositive_integer(x):
    return (x <= 0) & (x == x.floor())


@_method()
def lgamma(self):
    x = _floating(self)
    small = x < 0.5
    xr = _C.where(small, 1 - x, x)
    base = _lanczos(xr)
    xs = _C.where(small & ~_nonpositive_integer(x), x, _C.full_like(x, 0.25))  # keeps the unused branch finite
    refl = math.log(math.pi) - (math.pi * xs).sin().abs().log() - base
    out = _C.where(small, refl, base)
    return _C.where(_nonpositive_integer(x), _C.full_like(x, math.inf), out)


def _shift(x, target=10.0):
    """K with x + K >= target for every element (at least 6)."""
    lo = x.detach().min().item() if x.numel() else 0.0
    if not math.isfinite(lo):
        lo = 0.0
    return builtins.max(6, builtins.int(math.ceil(target - lo)))


@_method()
def digamma(self):
    x = _floating(self)
    bad = _nonpositive_integer(x)
    xs = _C.where(bad, _C.full_like(x, 1.0), x)
    k = _shift(xs)
    acc = _C.zeros_like(xs)
    for i in range(k):
        acc = acc + 1 / (xs + i)
    z = xs + k
    z2 = 1 / (z * z)
    series = z.log() - 0.5 / z - z2 * (1 / 12 - z2 * (1 / 120 - z2 * (1 / 252 - z2 * (1 / 240 - z2 * (1 / 132)))))
    out = series - acc
    out = _C.where(bad, _C.full_like(x, math.nan), out)
    return _C.where(x == 0, _C.full_like(x, -math.inf), out)


_BERNOULLI = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6]  # B2, B4, ..., B14


@_method()
def polygamma(self, n):
    """polygamma(n, x) (PyTorch's Tensor.polygamma(n) is called on x)."""
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n. Got n={n}")
    if n == 0:
        return self.digamma()
    x = _floating(self)
    bad = _nonpositive_integer(x)
    xs = _C.where(bad, _C.full_like(x, 1.0), x)
    k = _shift(xs, 12.0 + n)
    acc = _C.zeros_like(xs)
    for i in range(k):
        acc = acc + (xs + i) ** (-(n + 1))
    z = xs + k
    tail = math.factorial(n - 1) / z ** n + math.factorial(n) / (2 * z ** (n + 1))
    for j, b in enumerate(_BERNOULLI, start=1):
        tail = tail + b * math.factorial(2 * j + n - 1) / math.factorial(2 * j) / z ** (2 * j + n)
    sign = 1.0 if n % 2 == 1 else -1.0
    out = sign * (math.factorial(n) * acc + tail)
    return _C.where(bad, _C.full_like(x, math.nan if n % 2 == 0 else math.inf), out)


@_method()
def mvlgamma(self, p):
    if p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1, got {p}")
    x = _floating(self)
    if x.numel() and not builtins.bool((x > (p - 1) / 2).all().item()):
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    out = p * (p - 1) / 4 * math.log(math.pi)
    for j in range(p):
        out = out + (x - j / 2).lgamma()
    return out


@_method()
def i0(self):
    x = _floating(self)
    q = x * x / 4
    big = x.detach().abs().max().item() if x.numel() else 0.0
    terms = builtins.int(30 + 1.5 * big) if math.isfinite(big) else 30
    term = _C.ones_like(x)
    out = _C.ones_like(x)
    for k in range(1, terms):
        term = term * q / (k * k)
        out = out + term
    return out


_GILES_SMALL = [2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]
_GILES_LARGE = [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]


@_method()
def erfinv(self):
    x = _floating(self)
    xd = x.detach().clamp(-1, 1)
    w = -((1 - xd) * (1 + xd)).clamp(min=1e-300).log()
    ws = w - 2.5
    wl = w.clamp(min=0).sqrt() - 3
    ps, pl = _C.full_like(w, _GILES_SMALL[0]), _C.full_like(w, _GILES_LARGE[0])
    for cs, cl in zip(_GILES_SMALL[1:], _GILES_LARGE[1:]):
        ps, pl = cs + ps * ws, cl + pl * wl
    r0 = _C.where(w < 5, ps, pl) * xd
    for _ in range(2):  # Newton steps on the detached start: float64 accuracy everywhere but the tails
        r0 = r0 - (r0.erf() - xd) / (2 / math.sqrt(math.pi) * (-r0 * r0).exp())
    r0 = _C.where(xd.abs() < 1, r0, _C.zeros_like(r0))
    out = r0 + (x - r0.erf()) * (math.sqrt(math.pi) / 2 * (r0 * r0).exp())
    out = _C.where(x == 1, _C.full_like(x, math.inf), out)
    out = _C.where(x == -1, _C.full_like(x, -math.inf), out)
    return _C.where((x.abs() > 1) | x.isnan(), _C.full_like(x, math.nan), out)


@_method()
def nextafter(self, other):
    if not self.dtype.is_floating_point:
        raise RuntimeError(f"nextafter is not implemented for dtype {self.dtype}: it takes floating-point tensors")
    x, y = self.detach(), other.detach().to(self.dtype)
    bits, tiny = {_C.float64: (53, 2.0 ** -1074), _C.float16: (11, 2.0 ** -24),
                  _C.bfloat16: (8, 2.0 ** -133)}.get(self.dtype, (24, 2.0 ** -149))
    m, e = x.frexp()
    e = e.to(self.dtype)
    ulp = _C.pow(2.0, e - bits)
    up = y > x
    toward_zero = (up & (x < 0)) | (~up & (x > 0))
    step = _C.where(toward_zero & (m.abs() == 0.5), ulp / 2, ulp)
    step = _C.where(step < tiny, _C.full_like(step, tiny), step)
    out = _C.where(up, x + step, x - step)
    out = _C.where(x == 0, _C.where(up, _C.full_like(x, tiny), _C.full_like(x, -tiny)), out)
    out = _C.where(x == y, y, out)
    return _C.where(x.isnan() | y.isnan(), _C.full_like(x, math.nan), out)

