"""nn.functional.affine_grid and grid_sample (spatial transformers), composed from norch
ops: the grid is a matmul of a base grid with theta; sampling gathers the 2^n corner
values of each sampling point from the flattened input and blends them with weights
that are differentiable in the grid coordinates (the corner indices, from floor, are
not), so autograd gives the gradients for both the input and the grid. 2-D (4-D input)
and 3-D (5-D input) grids, modes bilinear and nearest, padding zeros/border/reflection,
with PyTorch's coordinate conventions for align_corners."""
import itertools

from ... import _C

__all__ = ["affine_grid", "grid_sample"]


def _base_coords(n, align_corners, like):
    c = _C.linspace(-1.0, 1.0, n, dtype=like.dtype, device=like.device) if n > 1 else \
        _C.zeros([1], dtype=like.dtype, device=like.device)
    return c if align_corners else c * ((n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    align_corners = False if align_corners is None else align_corners
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                             f"{list(theta.shape)}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got "
                             f"{list(theta.shape)}.")
        spatial = size[2:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    N = size[0]
    n = len(spatial)
    # Base grid (*spatial, n + 1): the last spatial dim is x, then y (then z), then 1.
    coords = [_base_coords(s, align_corners, theta) for s in spatial]  # (D,) (H,) (W,)
    cols = []
    for k in range(n):  # x uses the last spatial dim
        axis = n - 1 - k
        shape = [1] * n
        shape[axis] = spatial[axis]
        cols.append(coords[axis].reshape(*shape).expand(*spatial))
    cols.append(_C.ones(spatial, dtype=theta.dtype, device=theta.device))
    base = _C.stack(cols, -1).reshape(1, -1, n + 1)
    grid = _C.matmul(base, theta.transpose(1, 2))  # (N, prod(spatial), n)
    return grid.reshape(N, *spatial, n)


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(x, twice_low, twice_high):
    if twice_low == twice_high:
        return _C.zeros_like(x)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    x = _C.abs(x - low)
    extra = _C.fmod(x, span)
    flips = _C.floor(x.detach() / span)
    even = _C.remainder(flips, 2) == 0
    return _C.where(even, extra + low, span - extra + low)


def _source_coord(coord, size, padding_mode, align_corners):
    x = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        x = _C.clamp(x, 0.0, float(size - 1))
    elif padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        x = _C.clamp(x, 0.0, float(size - 1))
    return x


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    align_corners = False if align_corners is None else align_corners
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not implemented by norch")
    if input.dim() not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    n = input.dim() - 2
    if grid.dim() != input.dim() or grid.shape[-1] != n or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {n} in last dimension and the same batch "
                           f"size as input, but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    N, C = input.shape[:2]
    spatial = list(input.shape[2:])  # (H, W) or (D, H, W)
    out_spatial = list(grid.shape[1:-1])
    M = 1
    for s in out_spatial:
        M *= s
    g = grid.reshape(N, M, n)
    # grid[..., 0] is x (the last spatial dim), [..., 1] is y, [..., 2] is z
    src = [_source_coord(g.select(2, k), spatial[n - 1 - k], padding_mode, align_corners) for k in range(n)]
    src = src[::-1]  # now in spatial-dim order: (z,) y, x
    flat_in = input.reshape(N, C, -1)
    strides = [1] * n
    for i in range(n - 2, -1, -1):
        strides[i] = strides[i + 1] * spatial[i + 1]

    def gather(idx_per_dim):
        valid = None
        flat = None
        for i, (ix, L) in enumerate(zip(idx_per_dim, spatial)):
            ok = (ix >= 0).logical_and(ix <= L - 1)
            valid = ok if valid is None else valid.logical_and(ok)
            term = _C.clamp(ix, 0, L - 1).long() * strides[i]
            flat = term if flat is None else flat + term
        vals = _C.gather(flat_in, 2, flat.unsqueeze(1).expand(N, C, M))
        return vals, valid.unsqueeze(1).to(input.dtype)

    if mode == "nearest":
        idx = [_C.round(s.detach()) for s in src]
        vals, valid = gather(idx)
        out = vals * valid
    else:
        lo = [_C.floor(s.detach()) for s in src]
        out = None
        for corner in itertools.product((0, 1), repeat=n):
            idx, w = [], None
            for s, l0, c in zip(src, lo, corner):
                idx.append(l0 + c)
                wi = (s - l0) if c else (l0 + 1 - s)
                w = wi if w is None else w * wi
            vals, valid = gather(idx)
            term = vals * (valid * w.unsqueeze(1))
            out = term if out is None else out + term
    return out.reshape(N, C, *out_spatial)
