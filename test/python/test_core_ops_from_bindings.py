"""Behaviour of the ops that used to be composed in the bindings and now live in
the core: bernoulli(input, p), the normal overloads, norm's p='fro' and dtype,
out-of-place index_put, detach_, and hook removal through RemovableHandle."""
import numpy as np
import pytest

import norch


def _np(t):
    t = t.detach()
    return (t.float() if t.dtype == norch.bfloat16 else t).numpy()  # NumPy has no bfloat16


# ---- random ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [norch.float32, norch.float64, norch.float16, norch.bfloat16])
def test_bernoulli_with_float_p_matches_bernoulli_in_place(dtype):
    x = norch.zeros(3, 5, dtype=dtype)
    norch.manual_seed(7)
    out = norch.bernoulli(x, p=0.3)
    norch.manual_seed(7)
    ref = norch.empty(3, 5, dtype=dtype).bernoulli_(0.3)
    assert out.shape == (3, 5) and out.dtype == dtype and not out.requires_grad
    np.testing.assert_array_equal(_np(out), _np(ref))
    assert set(np.unique(_np(out))) <= {0.0, 1.0}


def test_bernoulli_with_float_p_checks_p():
    with pytest.raises(RuntimeError, match="bernoulli_ expects p to be in"):
        norch.bernoulli(norch.zeros(3), p=1.5)


def test_bernoulli_with_float_p_on_empty_and_0d():
    assert norch.bernoulli(norch.zeros(0, 4), p=0.5).shape == (0, 4)
    assert norch.bernoulli(norch.zeros(()), p=1.0).item() == 1.0


@pytest.mark.parametrize("mean_is_tensor", [True, False])
def test_normal_with_one_number_is_normal_with_a_full_tensor(mean_is_tensor):
    t = norch.tensor([[0.0], [10.0]], dtype=norch.float64)  # broadcasts against itself only
    gen = norch.Generator()
    gen.manual_seed(3)
    out = norch.normal(t, 2.0, generator=gen) if mean_is_tensor else norch.normal(2.0, t.abs() + 1, generator=gen)
    gen.manual_seed(3)
    full = norch.full((2, 1), 2.0, dtype=norch.float64)
    ref = norch.normal(t, full, generator=gen) if mean_is_tensor else norch.normal(full, t.abs() + 1, generator=gen)
    assert out.shape == (2, 1) and out.dtype == norch.float64
    np.testing.assert_array_equal(_np(out), _np(ref))


def test_normal_with_numbers_and_size_is_a_fresh_leaf():
    norch.manual_seed(11)
    out = norch.normal(1.0, 2.0, (4, 3), dtype=norch.float64, requires_grad=True)
    norch.manual_seed(11)
    ref = norch.empty(4, 3, dtype=norch.float64).normal_(1.0, 2.0)
    assert out.is_leaf and out.requires_grad and out.dtype == norch.float64
    np.testing.assert_array_equal(_np(out), _np(ref))
    assert norch.normal(0.0, 1.0, (0,)).shape == (0,)


def test_normal_bad_inputs():
    with pytest.raises(TypeError, match="size is only accepted"):
        norch.normal(norch.zeros(2), 1.0, (2,))
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        norch.normal(norch.zeros(2), -1.0)
    with pytest.raises(TypeError):
        norch.normal(norch.zeros(2), "a")


# ---- norm --------------------------------------------------------------------------

def test_norm_fro_is_the_two_norm_over_any_dims():
    a = np.random.default_rng(0).standard_normal((3, 4, 5))
    x = norch.tensor(a)
    for dim in (None, 1, (0, 2)):
        expected = np.sqrt((a * a).sum(axis=dim))
        np.testing.assert_allclose(_np(norch.norm(x, p="fro", dim=dim)), expected, rtol=1e-12)
        np.testing.assert_allclose(_np(x.norm("fro", dim)), _np(x.norm(2, dim)))


def test_norm_casts_to_dtype_first_and_refuses_other_strings():
    x = norch.tensor([3.0, 4.0])
    out = norch.norm(x, p="fro", dtype=norch.float64)
    assert out.dtype == norch.float64 and out.item() == 5.0
    assert norch.norm(x, p=1, dtype=norch.float64).dtype == norch.float64
    with pytest.raises(RuntimeError, match="norm: p='nuc' is not supported"):
        norch.norm(x, p="nuc")


# ---- index_put -----------------------------------------------------------------------

def test_index_put_out_of_place_leaves_input_and_records_history():
    x = norch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    out = norch.index_put(y, (norch.tensor([0, 2]),), norch.tensor([9.0, 8.0]))
    assert _np(y).tolist() == [1.0, 2.0, 3.0]
    assert _np(out).tolist() == [9.0, 2.0, 8.0]
    out.sum().backward()
    assert _np(x.grad).tolist() == [0.0, 1.0, 0.0]
    assert _np(y.index_put((norch.tensor([1, 1]),), norch.tensor(1.0), accumulate=True)).tolist() == [1.0, 4.0, 3.0]


# ---- detach_ ------------------------------------------------------------------------

def test_detach_in_place_cuts_the_graph():
    x = norch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None and y.output_nr == 0
    v = (x * 2)[0:1]
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        v.detach_()


# ---- RemovableHandle ----------------------------------------------------------------

def test_one_handle_type_for_module_tensor_and_node_hooks():
    x = norch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    handles = [x.register_hook(lambda g: g), y.register_hook(lambda g: g),
               y.grad_fn.register_hook(lambda gi, go: None), y.grad_fn.register_prehook(lambda go: None),
               norch.nn.Linear(2, 2).register_forward_hook(lambda m, i, o: None)]
    assert len({type(h) for h in handles}) == 1
    ids = [h.id for h in handles]
    assert len(set(ids)) == len(ids)


def test_removed_hooks_no_longer_run_and_others_keep_running():
    calls = []
    x = norch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    h_leaf = x.register_hook(lambda g: calls.append("leaf1"))
    x.register_hook(lambda g: calls.append("leaf2"))
    h_mid = y.register_hook(lambda g: calls.append("mid") or g * 10)
    h_pre = y.grad_fn.register_prehook(lambda go: calls.append("pre"))
    h_post = y.grad_fn.register_hook(lambda gi, go: calls.append("post"))
    for h in (h_leaf, h_mid, h_pre, h_post):
        h.remove()
        h.remove()  # a second removal does nothing
    y.sum().backward()
    assert calls == ["leaf2"]
    assert _np(x.grad).tolist() == [3.0, 3.0]


def test_handle_outlives_its_graph_and_works_as_a_context_manager():
    x = norch.tensor([1.0], requires_grad=True)
    y = x * 2
    h = y.register_hook(lambda g: g * 100)
    del y
    h.remove()  # the node is gone: nothing to remove, no error
    seen = []
    m = norch.nn.Linear(1, 1)
    with m.register_forward_hook(lambda mod, i, o: seen.append(1)):
        m(norch.ones(1, 1))
    m(norch.ones(1, 1))
    assert seen == [1]
