"""norch.einsum: Einstein summation written with permute, reshape, multiply, sum and bmm.

Operands are contracted left to right, two at a time; each pair becomes one batched
matmul (batch letters, left-only letters, summed letters, right-only letters), so memory
stays that of the inputs and the result, and autograd flows through the core ops.
"""
import builtins
import string

from ._C import Tensor


def _parse(equation, operands):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum(): more operands were provided than specified in the equation"
                         if len(operands) > len(terms) else
                         f"einsum(): fewer operands were provided than specified in the equation")
    used = set(c for c in eq if c.isalpha())
    spare = [c for c in string.ascii_letters if c not in used]
    ell_dims = 0
    for t, op in zip(terms, operands):
        if "..." in t:
            ell_dims = builtins.max(ell_dims, op.dim() - (len(t) - 3))
    ell = "".join(spare[:ell_dims])
    out_terms = []
    for t, op in zip(terms, operands):
        if "..." in t:
            k = op.dim() - (len(t) - 3)
            t = t.replace("...", ell[ell_dims - k:])
        if len(t) != op.dim():
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) does not match the "
                               f"number of dimensions ({op.dim()}) for operand {len(out_terms)}"
                               + ("" if "..." in equation else " and no ellipsis was given"))
        out_terms.append(t)
    if rhs is None:
        counts = {}
        for t in out_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        rhs = rhs.replace("...", ell)
    return out_terms, rhs


def _diagonalize(op, term):
    """Takes the diagonal over repeated letters in one operand ('ii' -> 'i')."""
    while True:
        seen = {}
        for i, c in enumerate(term):
            if c in seen:
                break
            seen[c] = i
        else:
            return op, term
        j = seen[c]
        op = op.diagonal(0, j, i)  # the diagonal goes last
        term = "".join(ch for k, ch in enumerate(term) if k not in (i, j)) + c


def _sum_out(op, term, keep):
    drop = [i for i, c in enumerate(term) if c not in keep]
    if drop:
        op = op.sum(drop)
        term = "".join(c for i, c in enumerate(term) if i not in drop)
    return op, term


def _size(ops_terms, c):
    for op, t in ops_terms:
        if c in t and op.shape[t.index(c)] != 1:
            return op.shape[t.index(c)]
    return 1


def _contract(a, ta, b, tb, keep):
    """a (letters ta) times b (letters tb), summing letters not in keep."""
    batch = [c for c in ta if c in tb and c in keep]
    summed = [c for c in ta if c in tb and c not in keep]
    left = [c for c in ta if c not in tb]
    right = [c for c in tb if c not in ta]
    sizes = {c: _size([(a, ta), (b, tb)], c) for c in set(ta) | set(tb)}

    def arrange(x, t, order):
        x = x.permute([t.index(c) for c in order])
        return x.expand([sizes[c] for c in order])
    a2 = arrange(a, ta, batch + left + summed)
    b2 = arrange(b, tb, batch + summed + right)
    nb = 1
    for c in batch:
        nb *= sizes[c]
    nl, ns, nr = (builtins.int(_prod(sizes[c] for c in g)) for g in (left, summed, right))
    out = a2.reshape(nb, nl, ns).bmm(b2.reshape(nb, ns, nr))
    return out.reshape([sizes[c] for c in batch + left + right]), "".join(batch + left + right)


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def einsum(equation, *operands):
    """Einstein summation: ``einsum("bij,bjk->bik", a, b)``; ellipses and repeated (diagonal) letters work."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not all(isinstance(o, Tensor) for o in operands):
        raise TypeError("einsum(): operands must be tensors")
    terms, rhs = _parse(equation, operands)
    if len(set(rhs)) != len(rhs):
        raise RuntimeError(f"einsum(): output subscript {rhs} appears more than once in the output")
    for c in rhs:
        if not any(c in t for t in terms):
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input operand")
    ops = []
    for i, (op, t) in enumerate(zip(operands, terms)):
        op, t = _diagonalize(op, t)
        later = rhs + "".join(terms[i + 1:]) + "".join(x for _, x in ops)
        op, t = _sum_out(op, t, later)
        ops.append((op, t))
    acc, tacc = ops[0]
    for i in range(1, len(ops)):
        b, tb = ops[i]
        keep = rhs + "".join(t for _, t in ops[i + 1:])
        acc, tacc = _contract(acc, tacc, b, tb, keep)
    acc, tacc = _sum_out(acc, tacc, rhs)
    if tacc != rhs:
        acc = acc.permute([tacc.index(c) for c in rhs])
    return acc
