"""LBFGS against torch.optim.LBFGS: Rosenbrock and least-squares trajectories with and without the
strong-Wolfe line search, the evaluation counters, state-dict resume, and PyTorch's errors."""
import numpy as np
import pytest

import norch
import norch.optim as optim

import torch  # the oracle: required, never skipped

rng = np.random.default_rng(2)
M = rng.standard_normal((12, 4))
Y = rng.standard_normal(12)
ROSEN_X0 = np.array([-1.2, 1.0, -1.2, 1.0])  # the classic start, twice; from it both reach (1, 1, 1, 1)


def _rosenbrock(lib, x, dtype):
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


def _least_squares(lib, x, dtype):
    return ((lib.tensor(M.astype(dtype)) @ x - lib.tensor(Y.astype(dtype))) ** 2).sum()


PROBLEMS = {"rosenbrock": (_rosenbrock, ROSEN_X0), "least_squares": (_least_squares, np.zeros(4))}
CONFIGS = [
    dict(),
    dict(line_search_fn="strong_wolfe"),
    dict(lr=0.5, max_iter=5, history_size=3),
    dict(max_iter=7, history_size=3, line_search_fn="strong_wolfe"),
    dict(max_iter=4, max_eval=6, tolerance_grad=1e-5, tolerance_change=1e-7),
]


def _run(lib, fn, x0, kwargs, steps, dtype=np.float64, opt=None, x=None):
    if x is None:
        x = lib.tensor(x0.astype(dtype), requires_grad=True)
    if opt is None:
        opt = (optim if lib is norch else torch.optim).LBFGS([x], **kwargs)
    losses, points = [], []

    def closure():
        opt.zero_grad()
        loss = fn(lib, x, dtype)
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
        points.append(x.detach().numpy().copy())
    return points, losses, opt, x


@pytest.mark.parametrize("kwargs", CONFIGS, ids=[str(i) for i in range(len(CONFIGS))])
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_trajectory_matches_torch_float64(problem, kwargs):
    fn, x0 = PROBLEMS[problem]
    ours, our_losses, opt, x = _run(norch, fn, x0, kwargs, 12)
    ref, ref_losses, topt, tx = _run(torch, fn, x0, kwargs, 12)
    # Dot products sum in a different order than PyTorch's BLAS; over the ~100 iterations of twelve
    # steps, Rosenbrock's curved valley grows that 1e-16 noise to about 1e-8.
    tol = dict(rtol=1e-6, atol=1e-8) if problem == "rosenbrock" else dict(rtol=1e-10, atol=1e-12)
    for step, (a, b) in enumerate(zip(ours, ref)):
        np.testing.assert_allclose(a, b, err_msg=f"step {step + 1}", **tol)
    np.testing.assert_allclose(our_losses, ref_losses, rtol=tol["rtol"], atol=1e-9)
    # Same number of iterations and function evaluations: the same decisions were taken.
    assert opt.state[x]["n_iter"] == topt.state[tx]["n_iter"]
    assert opt.state[x]["func_evals"] == topt.state[tx]["func_evals"]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_rosenbrock_converges_to_the_minimum(line_search_fn):
    ours, _, _, _ = _run(norch, _rosenbrock, ROSEN_X0, dict(line_search_fn=line_search_fn, max_iter=50), 10)
    ref, _, _, _ = _run(torch, _rosenbrock, ROSEN_X0, dict(line_search_fn=line_search_fn, max_iter=50), 10)
    np.testing.assert_allclose(ours[-1], np.ones(4), atol=1e-4)  # tolerance_change stops it about here
    np.testing.assert_allclose(ours[-1], ref[-1], atol=1e-9)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_least_squares_float32_matches_torch(line_search_fn):
    # Well conditioned, so float32 noise stays at float32 size until the solution is reached.
    kwargs = dict(line_search_fn=line_search_fn)
    ours, _, _, x = _run(norch, _least_squares, np.zeros(4), kwargs, 6, np.float32)
    ref, _, _, _ = _run(torch, _least_squares, np.zeros(4), kwargs, 6, np.float32)
    assert x.dtype == norch.float32
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    solution = np.linalg.lstsq(M, Y, rcond=None)[0]
    np.testing.assert_allclose(ours[-1], solution, atol=1e-4)


def test_several_parameters_and_a_missing_gradient():
    # The flat vector spans every parameter; one without a gradient counts as zeros and stays put.
    def run(lib):
        w = lib.tensor(np.zeros((2, 2)), requires_grad=True)
        b = lib.tensor(np.zeros(2), requires_grad=True)
        idle = lib.tensor(np.ones(3), requires_grad=True)
        opt = (optim if lib is norch else torch.optim).LBFGS([w, idle, b], line_search_fn="strong_wolfe")
        a_m, t_m = lib.tensor(M[:6, :2]), lib.tensor(Y[:6])

        def closure():
            opt.zero_grad()
            loss = ((a_m @ w + b - t_m.reshape(6, 1)) ** 2).sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        return w.detach().numpy(), b.detach().numpy(), idle.detach().numpy()

    for a, b in zip(run(norch), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_dict_resume_equals_uninterrupted(line_search_fn):
    kwargs = dict(line_search_fn=line_search_fn, max_iter=3, history_size=4)
    straight, _, _, _ = _run(norch, _rosenbrock, ROSEN_X0, kwargs, 8)
    _, _, opt, x = _run(norch, _rosenbrock, ROSEN_X0, kwargs, 4)
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0] and sd["state"][0]["n_iter"] == opt.state[x]["n_iter"] > 4
    x2 = x.detach().clone().requires_grad_(True)
    opt2 = optim.LBFGS([x2], **kwargs)
    opt2.load_state_dict(sd)
    resumed, _, _, _ = _run(norch, _rosenbrock, None, kwargs, 4, opt=opt2, x=x2)
    for a, b in zip(resumed, straight[4:]):
        np.testing.assert_array_equal(a, b)


def test_state_keys_match_torch():
    kwargs = dict(line_search_fn="strong_wolfe")
    _, _, opt, x = _run(norch, _rosenbrock, ROSEN_X0, kwargs, 2)
    _, _, topt, tx = _run(torch, _rosenbrock, ROSEN_X0, kwargs, 2)
    assert set(opt.state[x]) == set(topt.state[tx])
    assert len(opt.state[x]["old_dirs"]) == len(topt.state[tx]["old_dirs"])
    assert opt.param_groups[0]["max_eval"] == topt.param_groups[0]["max_eval"] == 25


def test_errors_match_torch():
    x, tx = norch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    y, ty = norch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    for lib_optim, a, b in ((optim, x, y), (torch.optim, tx, ty)):
        with pytest.raises(ValueError, match=r"^LBFGS doesn't support per-parameter options \(parameter groups\)$"):
            lib_optim.LBFGS([{"params": [a]}, {"params": [b]}])
        with pytest.raises(ValueError, match=r"^Invalid learning rate: -1$"):
            lib_optim.LBFGS([a], lr=-1)
    opt = optim.LBFGS([x], line_search_fn="wolfe")

    def closure():
        opt.zero_grad()
        loss = ((x - 1.0) ** 2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


def test_already_optimal_returns_after_one_evaluation():
    x = norch.tensor([1.0, 1.0, 1.0, 1.0], dtype=norch.float64, requires_grad=True)
    opt = optim.LBFGS([x])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = _rosenbrock(norch, x, np.float64)
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 0.0
    assert len(calls) == 1 and opt.state[x]["func_evals"] == 1


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_least_squares_on_device_matches_torch_cpu(line_search_fn, device):
    m, y = norch.tensor(M.astype(np.float32), device=device), norch.tensor(Y.astype(np.float32), device=device)
    x = norch.zeros(4, device=device, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn=line_search_fn)

    def closure():
        opt.zero_grad()
        loss = ((m @ x - y) ** 2).sum()
        loss.backward()
        return loss

    ref, _, _, _ = _run(torch, _least_squares, np.zeros(4), dict(line_search_fn=line_search_fn), 3, np.float32)
    for step in range(3):
        opt.step(closure)
        np.testing.assert_allclose(x.detach().cpu().numpy(), ref[step], rtol=1e-5, atol=1e-6)
