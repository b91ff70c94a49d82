"""Tensor methods (see _tensor_compat.py): small dense linear algebra written with core ops,
so autograd differentiates it: Cholesky, triangular solves, LU with partial pivoting
(LAPACK's getrf layout), det/slogdet/logdet/inverse, Householder QR and matrix_exp.

These are the textbook algorithms, one Python step per column: right for the small
matrices training scripts factor (covariances, Gram matrices, 2x2/3x3 geometry), not a
replacement for LAPACK/cuSOLVER kernels on large ones, which belong in the C++ core.
"""
import builtins
import math

from . import _C
from ._tensor_compat import _method, _named

_slogdet_t = _named("slogdet", ["sign", "logabsdet"])
_triangular_t = _named("triangular_solve", ["solution", "cloned_coefficient"])
_qr_t = _named("qr", ["Q", "R"])
_lu_t = _named("lu", ["LU", "pivots"])


_LOW_PRECISION = {"norch.float16": "Half", "norch.bfloat16": "BFloat16"}


def _refuse_low_precision(t, kernel=None, op=None):
    """PyTorch's CPU linear algebra has no float16/bfloat16 kernels: the same refusal, by kernel or op name."""
    name = _LOW_PRECISION.get(str(t.dtype))
    if name is None:
        return
    if kernel:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")
    raise RuntimeError(f"{op}: Low precision dtypes not supported. Got {name}")


def _square(self, name):
    if self.dim() < 2 or self.shape[-1] != self.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{self.shape[-2] if self.dim() >= 2 else 1} by {self.shape[-1] if self.dim() else 1} "
                           f"matrices")
    if not self.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{name}: Expected a floating point tensor as input. Got {self.dtype}")


@_method()
def cholesky(self, upper=False):
    _refuse_low_precision(self, kernel="cholesky_cpu")
    _square(self, "cholesky")
    n = self.shape[-1]
    cols = []  # column j of L, shape (..., n)
    for j in range(n):
        a = self[..., :, j]
        if j:
            prev = _C.stack(cols, -1)  # (..., n, j)
            a = a - prev.matmul(prev[..., j, :].unsqueeze(-1)).squeeze(-1)
        d = a[..., j]
        if builtins.bool((d <= 0).any().item()) or builtins.bool(d.isnan().any().item()):
            raise RuntimeError(f"linalg.cholesky: The factorization could not be completed because the input is not "
                               f"positive-definite (the leading minor of order {j + 1} is not positive-definite).")
        mask = (_C.arange(n, device=self.device) >= j).to(self.dtype)
        cols.append(a / d.sqrt().unsqueeze(-1) * mask)
    L = _C.stack(cols, -1)
    return L.mT if upper else L


def _solve_triangular(A, b, upper, unitriangular):
    """x with A x = b, A (..., n, n) triangular, b (..., n, k), by substitution row by row."""
    n = A.shape[-1]
    rows = [None] * n
    order = range(n - 1, -1, -1) if upper else range(n)
    done = []
    for i in order:
        r = b[..., i, :]
        for j in done:
            r = r - A[..., i, j].unsqueeze(-1) * rows[j]
        rows[i] = r if unitriangular else r / A[..., i, i].unsqueeze(-1)
        done.append(i)
    return _C.stack(rows, -2)


@_method()
def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):
    """PyTorch's b.triangular_solve(A): solves A x = b (or A^T x = b), returning (x, A.clone())."""
    _refuse_low_precision(self, kernel="triangular_solve_cpu")
    M = A.mT if transpose else A
    x = _solve_triangular(M, self, upper != transpose, unitriangular)
    return _triangular_t(x, A.clone())


@_method()
def cholesky_solve(self, input2, upper=False):
    """b.cholesky_solve(L): x with (L L^T) x = b (or U^T U with upper=True)."""
    _refuse_low_precision(self, kernel="cholesky_solve_cpu")
    L = input2.mT if upper else input2
    y = _solve_triangular(L, self, False, False)
    return _solve_triangular(L.mT, y, True, False)


@_method()
def cholesky_inverse(self, upper=False):
    _refuse_low_precision(self, kernel="cholesky_inverse_out_cpu")
    n = self.shape[-1]
    eye = _C.eye(n, dtype=self.dtype, device=self.device) + _C.zeros_like(self)
    return eye.cholesky_solve(self, upper)


def _lu_one(A):
    """LU with partial pivoting of one (n, n) matrix: rows of U and L's multipliers, LAPACK pivots, sign."""
    n = A.shape[-1]
    rows = [A[i] for i in range(n)]
    mult = [[None] * n for _ in range(n)]
    pivots, sign = [], 1.0
    for k in range(n):
        col = _C.stack([rows[i][k] for i in range(k, n)]).abs()
        p = k + builtins.int(col.argmax().item())
        pivots.append(p + 1)
        if p != k:
            rows[k], rows[p] = rows[p], rows[k]
            mult[k], mult[p] = mult[p], mult[k]
            sign = -sign
        piv = rows[k][k]
        if piv.item() == 0:
            for i in range(k + 1, n):
                mult[i][k] = _C.zeros_like(piv)
            continue
        for i in range(k + 1, n):
            f = rows[i][k] / piv
            mult[i][k] = f
            rows[i] = rows[i] - f * rows[k]
    return rows, mult, pivots, sign


def _batched(self, fn):
    flat = self.reshape(-1, self.shape[-2], self.shape[-1])
    outs = [fn(flat[b]) for b in range(flat.shape[0])]
    return outs


@_method()
def lu(self, pivot=True, get_infos=False):
    _refuse_low_precision(self, kernel="lu_cpu")
    if not pivot:
        raise RuntimeError("lu without pivoting is not implemented on the CPU in PyTorch either")
    _square(self, "lu_factor")
    n = self.shape[-1]

    def one(A):
        rows, mult, pivots, _ = _lu_one(A)
        packed = []
        for i in range(n):
            lower = [mult[i][j] for j in range(i)]
            r = rows[i]
            packed.append(_C.cat([_C.stack(lower), r[i:]]) if lower else r)
        return _C.stack(packed), _C.tensor(pivots, dtype=_C.int32, device=A.device)
    outs = _batched(self, one)
    LU = _C.stack([o[0] for o in outs]).reshape(self.shape)
    piv = _C.stack([o[1] for o in outs]).reshape(tuple(self.shape[:-2]) + (n,))
    if get_infos:
        return LU, piv, _C.zeros(tuple(self.shape[:-2]), dtype=_C.int32, device=self.device)
    return _lu_t(LU, piv)


@_method()
def lu_solve(self, LU_data, LU_pivots):
    """b.lu_solve(LU, pivots): x with A x = b for the A that lu() factored."""
    _refuse_low_precision(self, kernel="linalg.lu_solve_cpu")
    n = LU_data.shape[-1]
    perm = list(range(n))
    piv = LU_pivots.reshape(-1, n)
    if piv.shape[0] != 1:
        return _C.stack([self[b].lu_solve(LU_data[b], LU_pivots[b]) for b in range(self.shape[0])])
    for k, p in enumerate(piv[0].tolist()):
        perm[k], perm[p - 1] = perm[p - 1], perm[k]
    pb = self.index_select(-2, _C.tensor(perm, device=self.device))
    y = _solve_triangular(LU_data, pb, False, True)
    return _solve_triangular(LU_data, y, True, False)


def _det_one(A):
    rows, _, _, sign = _lu_one(A)
    out = _C.full((), sign, dtype=A.dtype, device=A.device)
    for k in range(A.shape[-1]):
        out = out * rows[k][k]
    return out


@_method()
def det(self):
    _refuse_low_precision(self, kernel="lu_cpu")
    _square(self, "det")
    if self.shape[-1] == 0:
        return _C.ones(tuple(self.shape[:-2]), dtype=self.dtype, device=self.device)
    return _C.stack(_batched(self, _det_one)).reshape(tuple(self.shape[:-2]))


@_method()
def slogdet(self):
    _refuse_low_precision(self, op="linalg.slogdet")
    d = self.det()
    return _slogdet_t(d.sign(), d.abs().log())


@_method()
def logdet(self):
    _refuse_low_precision(self, op="logdet")
    d = self.det()
    return _C.where(d < 0, _C.full_like(d, math.nan), d.abs().log())


@_method()
def inverse(self):
    _refuse_low_precision(self, op="linalg.inv")
    _square(self, "inv")
    n = self.shape[-1]

    def one(A):
        rows, mult, pivots, _ = _lu_one(A)
        if any(rows[k][k].item() == 0 for k in range(n)):
            raise RuntimeError("linalg.inv: The diagonal element " f"{next(k for k in range(n) if rows[k][k].item() == 0) + 1}"
                               " is zero, the inversion could not be completed because the input matrix is singular.")
        perm = list(range(n))
        for k, p in enumerate(pivots):
            perm[k], perm[p - 1] = perm[p - 1], perm[k]
        eye = _C.eye(n, dtype=A.dtype, device=A.device).index_select(0, _C.tensor(perm, device=A.device))
        L = _C.stack([_C.cat([_C.stack(mult[i][:i]), _C.ones(1, dtype=A.dtype, device=A.device),
                              _C.zeros(n - i - 1, dtype=A.dtype, device=A.device)]) if i else
                      _C.cat([_C.ones(1, dtype=A.dtype, device=A.device),
                              _C.zeros(n - 1, dtype=A.dtype, device=A.device)]) for i in range(n)])
        U = _C.stack(rows).triu()
        return _solve_triangular(U, _solve_triangular(L, eye, False, True), True, False)
    if n == 0:
        return self.clone()
    return _C.stack(_batched(self, one)).reshape(self.shape)


@_method()
def qr(self, some=True):
    """Householder QR with LAPACK's signs (R's diagonal is -sign(pivot) * column norm)."""
    _refuse_low_precision(self, kernel="geqrf_cpu")
    if self.dim() < 2:
        raise RuntimeError(f"linalg.qr: The input tensor A must have at least 2 dimensions.")
    m, n = self.shape[-2], self.shape[-1]
    k = builtins.min(m, n)

    def one(A):
        R = A
        Q = _C.eye(m, dtype=A.dtype, device=A.device)
        for j in range(k):
            x = R[j:, j]
            alpha = x[0]
            if m - j == 1 or x[1:].norm().item() == 0:
                continue  # as LAPACK's dlarfg: nothing below the pivot, no reflection
            norm = x.norm()
            beta = -norm if alpha.item() >= 0 else norm
            e1 = (_C.arange(m - j, device=A.device) == 0).to(A.dtype)
            v = x - beta * e1
            vv = (v * v).sum()
            if vv.item() == 0:
                continue
            sub = R[j:] - 2 * v.unsqueeze(1) * (v.unsqueeze(0).matmul(R[j:])) / vv
            R = _C.cat([R[:j], sub]) if j else sub
            qs = Q[:, j:] - 2 * Q[:, j:].matmul(v.unsqueeze(1)) * v.unsqueeze(0) / vv
            Q = _C.cat([Q[:, :j], qs], 1) if j else qs
        R = R.triu()
        return (Q[:, :k], R[:k]) if some else (Q, R)
    outs = _batched(self, one)
    batch = tuple(self.shape[:-2])
    Q = _C.stack([o[0] for o in outs])
    R = _C.stack([o[1] for o in outs])
    return _qr_t(Q.reshape(batch + tuple(Q.shape[1:])), R.reshape(batch + tuple(R.shape[1:])))


@_method()
def matrix_exp(self):
    _square(self, "matrix_exp")
    n = self.shape[-1]
    norm = self.detach().abs().sum(-2).amax().item() if self.numel() else 0.0
    s = builtins.max(0, builtins.int(math.ceil(math.log2(norm))) + 1) if norm > 0 else 0
    X = self / (2.0 ** s)
    eye = _C.eye(n, dtype=self.dtype, device=self.device) + _C.zeros_like(self)
    out, term = eye, eye
    for i in range(1, 19):
        term = term.matmul(X) / i
        out = out + term
    for _ in range(s):
        out = out.matmul(out)
    return out
