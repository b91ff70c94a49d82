"""Tensor printing: repr/str as PyTorch 2.13 prints them (torch/_tensor_str.py).

The same decisions in the same order, so the text is equal character for character:
one formatter per tensor, fed with the values that will be shown (the edges when the
tensor is summarized), chooses integer mode (every finite nonzero value is whole: print
"3." style), scientific mode (max/min > 1000, max > 1e8 or min < 1e-4, unless
set_printoptions(sci_mode=...) decides) and one width that right-aligns every element;
rows wrap at linewidth; suffixes (device=, size=, dtype=, grad_fn=/requires_grad=) follow
the data and wrap the same way. The values are formatted from Python floats widened
exactly from the tensor's dtype, as PyTorch's .tolist()/.item() give them.

NumPy does the value work (finite/nonzero masks, min/max); the tensor itself is cut down
to its shown edges in norch first, so printing a large tensor never copies it whole.
"""
import contextlib
import math

import numpy as np

from . import _C

_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}


class _PrinterOptions:
    def __init__(self):
        self.precision, self.threshold, self.edgeitems, self.linewidth = 4, 1000, 3, 80
        self.sci_mode = None


PRINT_OPTS = _PrinterOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """PyTorch's torch.set_printoptions: digits of precision, the element count above which a
    tensor is summarized, the edge items a summary keeps per dimension, the line width, a
    profile ("default", "short", "full"; others are ignored, as PyTorch ignores them) and
    sci_mode (True/False forces scientific notation on or off; None lets each tensor decide).
    Like PyTorch's, every call resets sci_mode to its argument."""
    if profile in _PROFILES:
        for k, v in _PROFILES[profile].items():
            setattr(PRINT_OPTS, k, v)
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            setattr(PRINT_OPTS, k, v)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current options as a dict that set_printoptions(**options) takes back."""
    o = PRINT_OPTS
    return dict(precision=o.precision, threshold=o.threshold, edgeitems=o.edgeitems, linewidth=o.linewidth,
                sci_mode=o.sci_mode)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Sets print options for the duration of a with block (torch._tensor_str.printoptions)."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


def _to_numpy(t):
    """The values as NumPy: half types widened to float32 (exact), as PyTorch formats them."""
    t = t.detach().cpu()
    if t.dtype in (_C.float16, _C.bfloat16):
        t = t.float()
    return t.numpy()


def _shown_part(t):
    """The elements a summary shows: the first and last edgeitems along every dimension
    longer than twice that (PyTorch's get_summarized_data)."""
    e = PRINT_OPTS.edgeitems
    for d, n in enumerate(t.shape):
        if n > 2 * e:
            keep = _C.tensor(list(range(e)) + list(range(n - e, n)), dtype=_C.int64, device=t.device)
            t = t.index_select(d, keep)
    return t


class _Formatter:
    """One width and one notation for every element of a tensor (PyTorch's _Formatter)."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            if flat.size:
                self.max_width = max(self.max_width, max(len(str(v)) for v in flat.tolist()))
            return
        wide = flat.astype(np.float64)
        shown = wide[np.isfinite(wide) & (wide != 0)]
        if shown.size == 0:
            return
        absolute = np.abs(shown)
        lo, hi = float(absolute.min()), float(absolute.max())
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        p = PRINT_OPTS.precision
        vals = shown.tolist()
        if self.sci_mode:
            width = max(len(f"{v:.{p}e}") for v in vals)
        elif self.int_mode:
            width = max(len(f"{v:.0f}") for v in vals) + 1  # the "." that marks a float
        else:
            width = max(len(f"{v:.{p}f}") for v in vals)
        self.max_width = max(self.max_width, width)

    def format(self, value):
        if self.floating:
            p = PRINT_OPTS.precision
            if self.sci_mode:
                text = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{p}f}"
        else:
            text = f"{value}"
        return (self.max_width - len(text)) * " " + text


def _vector_str(values, n, indent, summarize, fmt):
    e = PRINT_OPTS.edgeitems
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.max_width + 2)))
    items = values.tolist()
    if summarize and n > 2 * e:
        data = [fmt.format(v) for v in items[:e]] + [" ..."] + [fmt.format(v) for v in items[e:]]
    else:
        data = [fmt.format(v) for v in items]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nd_str(values, shape, indent, summarize, fmt):
    """values holds the shown part of a tensor of `shape` (the edges of summarized dims)."""
    dim = len(shape)
    if dim == 0:
        return fmt.format(values.item())
    if dim == 1:
        return _vector_str(values, shape[0], indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    rows = [_nd_str(values[i], shape[1:], indent + 1, summarize, fmt) for i in range(values.shape[0])]
    if summarize and shape[0] > 2 * e:
        rows = rows[:e] + ["..."] + rows[e:]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(rows) + "]"


def _tensor_str(t, indent):
    if t.numel() == 0:
        return "[]"
    t = t.detach()
    summarize = t.numel() > PRINT_OPTS.threshold
    if summarize and not PRINT_OPTS.edgeitems:
        return "[...]"  # every dimension collapses to its ellipsis
    shown = _to_numpy(_shown_part(t) if summarize else t)
    fmt = _Formatter(shown, t.dtype.is_floating_point)
    return _nd_str(shown, tuple(t.shape), indent, summarize, fmt)


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


_DEFAULT_DTYPES = (_C.float32, _C.int64, _C.bool)


def tensor_repr(t):
    """repr(t) and str(t) for a Tensor, PyTorch's text with norch's dtype names."""
    from .nn.parameter import Parameter
    plain = type(t) is _C.Tensor or type(t) is Parameter
    prefix = "tensor(" if plain else f"{type(t).__name__}("
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if t.numel() == 0:
        if t.dim() != 1:
            suffixes.append(f"size={tuple(t.shape)}")
        # nothing shown to tell an empty tensor's dtype by, so anything but the default says it
        if t.dtype != _C.float32:
            suffixes.append(f"dtype={t.dtype}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(t.shape)}")
        if t.dtype not in _DEFAULT_DTYPES:
            suffixes.append(f"dtype={t.dtype}")
        body = _tensor_str(t, indent)
    fn = t.grad_fn
    if fn is not None:
        suffixes.append(f"grad_fn=<{fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    text = _add_suffixes(prefix + body, suffixes, indent)
    if isinstance(t, Parameter) and not plain:
        text = f"Parameter({text})"
    return text
