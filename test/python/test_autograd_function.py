"""norch.autograd.Function (a Python backward run by the C++ engine), anomaly mode,
graph export, and the examples of docs/extending.md."""
import gc
import os

import numpy as np
import pytest

import norch
from norch.autograd import Function, gradcheck, gradgradcheck

from _oracle import leaf, to_np


# ---------------------------------------------------------------- custom Functions

class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class ScaleAdd(Function):
    """out = a * scale + b, with a non-tensor argument in the middle."""

    @staticmethod
    def forward(ctx, a, scale, b):
        ctx.scale = scale
        ctx.seen_needs = ctx.needs_input_grad
        return a * scale + b

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.scale if ctx.needs_input_grad[0] else None, None,
                g if ctx.needs_input_grad[2] else None)


def test_function_forward_backward_and_name():
    x = leaf([1.0, -2.0, 0.5])
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    assert "CubeBackward" in repr(y.grad_fn)
    assert y.grad_fn.next_functions[0][0].variable._is_same(x)
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), 3 * np.array([1.0, 4.0, 0.25]))
    assert gradcheck(Cube.apply, (leaf([0.3, -1.2]),))
    assert gradgradcheck(Cube.apply, (leaf([0.3, -1.2]),))


def test_function_double_backward():
    x = leaf([1.0, 2.0])
    (g,) = norch.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    assert g.grad_fn is not None
    (gg,) = norch.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [6, 12])


def test_function_needs_input_grad_and_non_tensor_args():
    a, b = leaf([1.0, 2.0]), norch.tensor([5.0, 5.0], dtype=norch.float64)
    out = ScaleAdd.apply(a, 3.0, b)
    assert out.grad_fn.seen_needs == (True, False, False)
    assert out.grad_fn.scale == 3.0  # ctx attributes are visible through grad_fn
    out.sum().backward()
    np.testing.assert_allclose(to_np(a.grad), [3, 3])
    with norch.no_grad():
        assert ScaleAdd.apply(a, 3.0, b).grad_fn is None
    assert ScaleAdd.apply(b, 2.0, b).grad_fn is None  # no input requires grad


def test_function_errors_surface_as_python_exceptions():
    class Boom(Exception):
        pass

    class Raising(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise Boom("backward failed on purpose")

    class WrongCount(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    class GradForNonTensor(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    class BadType(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return 3

    x = leaf([1.0])
    with pytest.raises(Boom, match="on purpose"):
        Raising.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 2, got 1\)"):
        WrongCount.apply(x, x).sum().backward()
    with pytest.raises(RuntimeError, match="forward input was not a Variable"):
        GradForNonTensor.apply(x, 2.0).sum().backward()
    with pytest.raises(TypeError, match="expected a Tensor or None"):
        BadType.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match="apply"):
        Cube()


def test_function_saved_tensor_version_check_and_release():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = Cube.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    y = Cube.apply(x)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.grad_fn.saved_tensors


def test_function_saving_its_output():
    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    x = leaf([0.0, 1.0])
    assert gradcheck(Exp.apply, (x,))
    assert gradgradcheck(Exp.apply, (x,))


def test_mark_non_differentiable_and_materialize_grads():
    class SplitSign(Function):
        @staticmethod
        def forward(ctx, x):
            pos = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(pos)
            ctx.set_materialize_grads(False)
            return x * 2, pos, x * 3

        @staticmethod
        def backward(ctx, g_double, g_pos, g_triple):
            ctx.received = (g_double is None, g_pos is None, g_triple is None)
            grads = []
            if g_double is not None:
                grads.append(g_double * 2)
            if g_triple is not None:
                grads.append(g_triple * 3)
            total = grads[0]
            for extra in grads[1:]:
                total = total + extra
            return total

    x = leaf([1.0, -1.0])
    doubled, pos, tripled = SplitSign.apply(x)
    assert not pos.requires_grad and doubled.requires_grad
    doubled.sum().backward()
    assert doubled.grad_fn.received == (False, True, True)
    np.testing.assert_allclose(to_np(x.grad), [2, 2])

    # With materialized grads (the default) absent gradients arrive as zeros.
    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1, x * 1

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.g2 = g2
            return g1 + g2

    a, b = Two.apply(x)
    a.sum().backward()
    np.testing.assert_allclose(a.grad_fn.g2.numpy(), [0, 0])


def test_mark_dirty_inplace_function():
    class Double_(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a = leaf([1.0, 3.0])
    h = a * 1
    out = Double_.apply(h)
    assert out is h or out._is_same(h)
    assert h.grad_fn.name() == "Double_Backward"
    np.testing.assert_allclose(h.detach().numpy(), [2, 6])
    (h * 1).sum().backward()
    np.testing.assert_allclose(to_np(a.grad), [2, 2])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        Double_.apply(leaf([1.0]))


def test_returning_an_input_gives_a_new_node_output():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = leaf([1.0])
    y = Identity.apply(x)
    assert x.is_leaf and x.grad_fn is None
    assert y.grad_fn.name() == "IdentityBackward"
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [5])


def test_setup_context_style_and_once_differentiable():
    class Square(Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        @norch.autograd.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = leaf([3.0])
    (g,) = norch.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), [6])
    assert g.grad_fn is None  # once_differentiable: backward ran without recording


# ---------------------------------------------------------------- anomaly mode

def forward_that_makes_nan(x):
    return x.sqrt() * 0


def test_detect_anomaly_reports_nan_with_forward_stack():
    x = leaf([0.0, 1.0])
    forward_that_makes_nan(x).sum().backward()  # no anomaly mode: NaN passes silently
    assert np.isnan(to_np(x.grad)[0])
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = norch.autograd.detect_anomaly()
    with mode:
        assert norch.autograd.is_anomaly_enabled()
        y = forward_that_makes_nan(x).sum()
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values in its 0th output") as e:
            y.backward()
    assert not norch.autograd.is_anomaly_enabled()
    msg = str(e.value)
    assert "forward_that_makes_nan" in msg and "x.sqrt() * 0" in msg
    assert "test_detect_anomaly_reports_nan_with_forward_stack" in msg


def test_set_detect_anomaly_and_custom_function_nan():
    class NanGrad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = leaf([1.0])
    with norch.autograd.set_detect_anomaly(True):
        y = NanGrad.apply(x)
        with pytest.raises(RuntimeError, match="Function 'NanGradBackward' returned nan") as e:
            y.sum().backward()
        assert "NanGrad.apply(x)" in str(e.value)
    assert not norch.autograd.is_anomaly_enabled()


# ---------------------------------------------------------------- graph export

def test_to_dot_lists_nodes_leaves_and_edges():
    w = norch.ones(2, 3, requires_grad=True)
    x = norch.ones(3, requires_grad=True)
    loss = (w * x).tanh().sum()
    dot = norch.autograd.graph.to_dot(loss)
    assert dot.startswith("digraph")
    for name in ("SumBackward", "TanhBackward0", "MulBackward0"):
        assert name in dot
    assert "AccumulateGrad\\n(2, 3) float32" in dot and "AccumulateGrad\\n(3,) float32" in dot
    # output->sum, sum->tanh, tanh->mul, mul->two leaves
    assert dot.count("->") == 5
    leaf_dot = norch.autograd.graph.to_dot(norch.ones(2))
    assert "->" not in leaf_dot


def test_render_with_graphviz(tmp_path):
    # Needs the graphviz Python package and its `dot` program (scripts/run_tests.sh installs both).
    x = norch.ones(2, requires_grad=True)
    path = norch.autograd.graph.render((x * 2).sum(), str(tmp_path / "g"), format="svg")
    assert os.path.exists(path) and "MulBackward0" in open(path).read()


def test_anomaly_mode_names_the_failing_node_and_its_forward(capfd):
    x = leaf([1.0, 2.0])
    with norch.autograd.set_detect_anomaly(True):
        h = x * 1
        y = h * h  # saves h
        h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as e:
            y.sum().backward()
    msg = str(e.value)
    assert "Error detected in MulBackward0" in msg and "y = h * h" in msg

    class Fails(Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            raise KeyError("from backward")

    with norch.autograd.set_detect_anomaly(True):
        out = Fails.apply(x)
        with pytest.raises(KeyError, match="from backward"):
            out.sum().backward()
    err = capfd.readouterr().err
    assert "Error detected in FailsBackward" in err and "out = Fails.apply(x)" in err


def test_function_ctx_is_freed_with_its_graph():
    import weakref
    refs = []

    class Track(Function):
        @staticmethod
        def forward(ctx, x):
            refs.append(weakref.ref(ctx))
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = leaf([1.0])
    y = Track.apply(x)
    assert refs[0]() is not None
    del y
    assert refs[0]() is None  # node -> ctx only; ctx refers back weakly, so no cycle
    y = Track.apply(x)
    y.sum().backward()
    del y
    gc.collect()
    assert refs[1]() is None

def test_extending_doc_python_example_runs(capsys):
    import re
    path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "extending.md")
    blocks = re.findall(r"```python\n(.*?)```", open(path).read(), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/extending.md", "exec"), {})
    out = capsys.readouterr().out
    assert "MySoftplusBackward" in out


def test_extra_trailing_none_gradients_are_accepted():
    class Extra(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, None, None

    class ExtraTensor(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, g

    x = leaf([1.0])
    Extra.apply(x).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [2])
    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 1, got 2\)"):
        ExtraTensor.apply(x).sum().backward()
