"""nn.utils.parametrizations: orthogonal, weight_norm and spectral_norm as parametrizations
(nn.utils.parametrize), PyTorch's current forms of these constraints.

orthogonal keeps a weight orthogonal (or with orthonormal columns/rows) through one of
three maps from unconstrained matrices: the matrix exponential or the Cayley transform of
a skew-symmetric matrix, or a product of Householder reflections. The Householder pieces
(PyTorch's geqrf and linalg.householder_product) are written here with norch ops, so the
product is differentiable; the QR factorization behind right_inverse runs without grad.
"""
from enum import Enum, auto

from ... import _C
from ... import allclose, finfo, inverse, matrix_exp, vdot  # Python-level ops of the package
from ...autograd import no_grad
from .. import functional as F
from ..modules.module import Module
from . import parametrize
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _householder_product(A, tau):
    """H_1 H_2 ... H_k applied to the first k columns of the identity, H_i = I - tau_i v_i v_i^T,
    v_i the i-th column of A below the diagonal with a 1 on it (LAPACK's orgqr)."""
    n, k = A.shape[-2], A.shape[-1]
    eye = _C.eye(n, k, dtype=A.dtype, device=A.device)
    V = A.tril(-1) + eye
    Q = eye.expand(*A.shape).clone() if A.dim() > 2 else eye
    for i in range(k - 1, -1, -1):
        v = V.narrow(-1, i, 1)                                  # (..., n, 1)
        t = tau.narrow(-1, i, 1).unsqueeze(-1)                  # (..., 1, 1)
        Q = Q - (t * v) @ (v.mT @ Q)
    return Q


def _geqrf(A):
    """LAPACK's geqrf: R on and above the diagonal of the result, the Householder vectors below
    it, and their coefficients tau (dlarfg's conventions: beta = -sign(alpha) * norm)."""
    with no_grad():
        a = A.clone()
        m, n = a.shape[-2], a.shape[-1]
        taus = []
        for j in range(min(m, n)):
            alpha = a[..., j, j].clone()
            x = a[..., j + 1:, j]
            xnorm = (x * x).sum(-1).sqrt()
            active = xnorm != 0
            norm = (alpha * alpha + xnorm * xnorm).sqrt()
            beta = _C.where(alpha >= 0, -norm, norm)
            beta = _C.where(active, beta, alpha)
            safe = _C.where(active, alpha - beta, _C.ones_like(alpha))
            tau = _C.where(active, (beta - alpha) / _C.where(active, beta, _C.ones_like(beta)),
                           _C.zeros_like(alpha))
            v = x / safe.unsqueeze(-1)
            if j + 1 < n:
                rest_top = a[..., j, j + 1:]
                rest = a[..., j + 1:, j + 1:]
                w = rest_top + (v.unsqueeze(-1) * rest).sum(-2)
                a[..., j, j + 1:] = rest_top - tau.unsqueeze(-1) * w
                a[..., j + 1:, j + 1:] = rest - tau.unsqueeze(-1).unsqueeze(-1) * v.unsqueeze(-1) * w.unsqueeze(-2)
            a[..., j, j] = beta
            a[..., j + 1:, j] = v
            taus.append(tau)
        tau = _C.stack(taus, -1) if taus else _C.zeros(list(a.shape[:-2]) + [0], dtype=a.dtype, device=a.device)
        return a, tau


def _with_diagonal(A, d):
    """A with its main diagonal replaced by d (norch's diagonal() is a copy, not a view to
    write through)."""
    m, n = A.shape[-2], A.shape[-1]
    if d.shape[-1] < n:
        d = _C.cat([d, _C.zeros(list(d.shape[:-1]) + [n - d.shape[-1]], dtype=d.dtype, device=d.device)], -1)
    mask = _C.eye(m, n, dtype=_C.bool, device=A.device)
    return _C.where(mask, d.unsqueeze(-2), A)


def _is_orthogonal(Q, eps=None):
    n, k = Q.size(-2), Q.size(-1)
    Id = _C.eye(k, dtype=Q.dtype, device=Q.device)
    eps = 10.0 * n * finfo(Q.dtype).eps
    return allclose(Q.mH @ Q, Id, atol=eps)


def _make_orthogonal(A):
    """The Q of A's QR factorization with R's diagonal made positive (PyTorch's choice)."""
    X, tau = _geqrf(A)
    Q = _householder_product(X, tau)
    return Q * X.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        # X is tall: n >= k
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                # embed into a square matrix
                X = _C.cat([X, _C.zeros([n, n - k], dtype=X.dtype, device=X.device).expand(*X.shape[:-2], -1, -1)],
                           -1)
            A = X - X.mH                                        # skew-symmetric
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = matrix_exp(A)
            else:
                # the Cayley retraction (I + A/2)(I - A/2)^{-1}, as (I - A/2)^{-1}(I + A/2): they commute
                Id = _C.eye(n, dtype=A.dtype, device=A.device)
                Q = inverse(Id - 0.5 * A) @ (Id + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            # X's diagonal holds the signs; not differentiated (hence the cast), as PyTorch
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if self._buffers.get("base") is not None:
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        with no_grad():
            if tuple(Q.shape) != tuple(self.shape):
                raise ValueError(f"Expected a matrix or batch of matrices of shape {tuple(self.shape)}. "
                                 f"Got a tensor of shape {tuple(Q.shape)}.")
            Q_init = Q
            n, k = Q.size(-2), Q.size(-1)
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                    raise NotImplementedError("It is not possible to assign to the matrix exponential or the "
                                              "Cayley parametrizations when use_trivialization=False.")
                A, tau = _geqrf(Q)
                diag = A.diagonal(dim1=-2, dim2=-1)
                # the signs on the diagonal, flipped where the reflection is the identity
                A = _with_diagonal(A, _C.where(tau == 0.0, -diag.sign(), diag.sign()))
                return A.mT if transpose else A
            if n == k:
                Q = _make_orthogonal(Q) if not _is_orthogonal(Q) else Q.clone()
            else:
                # complete Q to a full n x n orthogonal matrix
                N = _C.randn(*(list(Q.shape[:-2]) + [n, n - k]), dtype=Q.dtype, device=Q.device)
                Q = _make_orthogonal(_C.cat([Q, N], -1))
            self.base = Q
            # -Id, so that the Householder map of zeros gives the identity
            eye = _C.eye(Q_init.shape[-2], Q_init.shape[-1], dtype=Q_init.dtype, device=Q_init.device)
            return -eye.expand(*Q_init.shape).clone()


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Parametrizes module.<name> (a matrix or batch of matrices) to be orthogonal: square
    matrices orthogonal, tall ones with orthonormal columns, wide ones with orthonormal rows.
    orthogonal_map: "matrix_exp", "cayley" or "householder" (default: matrix_exp for square
    matrices, householder otherwise). With use_trivialization the map is taken around a
    stored base (an orthogonal matrix), so assigning to the weight works for every map."""
    weight = getattr(module, name, None)
    if not isinstance(weight, _C.Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.dim() < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.dim()} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.size(-2) == weight.size(-1) else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Parametrizes module.<name> as g * v / ||v||, stored as
    parametrizations.<name>.original0 (g) and original1 (v). A state_dict of the hook-based
    nn.utils.weight_norm (name_g, name_v) still loads into the module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                 error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)
    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            # start from reasonable vectors: 15 steps of the power method
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        # u and v are updated in place, so the estimate carries over between calls
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(_C.mv(weight_mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(_C.mv(weight_mat.mH, self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.dim() == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = vdot(u, _C.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value):
        # any value is its own preimage: the parametrization only rescales
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Parametrizes module.<name> as weight / sigma(weight), sigma the largest singular value
    of the weight seen as a matrix along `dim` (default: 1 for ConvTranspose, else 0),
    estimated by n_power_iterations steps of the power method per training-mode access."""
    weight = getattr(module, name, None)
    if not isinstance(weight, _C.Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from .spectral_norm import _default_dim
        dim = _default_dim(module)
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
