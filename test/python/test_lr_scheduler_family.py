"""Every scheduler of torch.optim.lr_scheduler against PyTorch's: lr (and cycled momentum) sequences
over many epochs, schedulers built with last_epoch >= 0 to resume, state-dict round trips, the
composites, and PyTorch's errors. test_lr_scheduler.py covers the older basics."""
import warnings

import numpy as np
import pytest

import norch
from norch.optim import lr_scheduler as ls

import torch  # the oracle: required, never skipped
tls = torch.optim.lr_scheduler


def _optimizer(lib, name="SGD"):
    p1, p2 = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    extra = dict(momentum=0.9) if name == "SGD" else {}
    return getattr(lib.optim, name)([{"params": [p1]}, {"params": [p2], "lr": 0.5}], lr=0.1, **extra)


class Halve:
    """A callable object: its attributes travel in the scheduler's state dict, unlike a function's."""

    def __init__(self):
        self.factor = 0.5

    def __call__(self, x):
        return self.factor ** x


SCHEDULERS = {
    "MultiplicativeLR": lambda m, o, **k: m.MultiplicativeLR(o, lambda e: 0.95, **k),
    "MultiplicativeLR-list": lambda m, o, **k: m.MultiplicativeLR(o, [lambda e: 0.9, lambda e: 1 + 0.01 * e], **k),
    "CyclicLR": lambda m, o, **k: m.CyclicLR(o, 0.01, 0.1, step_size_up=4, **k),
    "CyclicLR-triangular2": lambda m, o, **k: m.CyclicLR(o, [0.01, 0.02], [0.1, 0.3], step_size_up=3,
                                                         step_size_down=5, mode="triangular2", **k),
    "CyclicLR-exp_range": lambda m, o, **k: m.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="exp_range",
                                                       gamma=0.97, base_momentum=0.7, max_momentum=0.95, **k),
    "CyclicLR-scale_fn": lambda m, o, **k: m.CyclicLR(o, 0.01, 0.1, step_size_up=3, scale_fn=lambda x: 1 / (1 + x),
                                                      scale_mode="iterations", **k),
    "CyclicLR-no-momentum": lambda m, o, **k: m.CyclicLR(o, 0.01, 0.1, step_size_up=2, cycle_momentum=False, **k),
    "StepLR": lambda m, o, **k: m.StepLR(o, 3, 0.5, **k),
    "MultiStepLR": lambda m, o, **k: m.MultiStepLR(o, [2, 5, 5, 9], 0.3, **k),
    "ExponentialLR": lambda m, o, **k: m.ExponentialLR(o, 0.9, **k),
    "CosineAnnealingLR": lambda m, o, **k: m.CosineAnnealingLR(o, 5, 0.01, **k),
    "LambdaLR": lambda m, o, **k: m.LambdaLR(o, lambda e: 1 / (e + 1), **k),
    "LinearLR": lambda m, o, **k: m.LinearLR(o, 0.25, 1.0, 4, **k),
    "ConstantLR": lambda m, o, **k: m.ConstantLR(o, 0.5, 3, **k),
    "PolynomialLR": lambda m, o, **k: m.PolynomialLR(o, 8, 2.0, **k),
    "CosineAnnealingWarmRestarts": lambda m, o, **k: m.CosineAnnealingWarmRestarts(o, 3, 2, 0.001, **k),
    "OneCycleLR": lambda m, o, **k: m.OneCycleLR(o, 1.0, total_steps=45, **k),
}
RESUMABLE = sorted(SCHEDULERS)


def _record(lib, sched, opt, steps):
    rows = [sched.get_last_lr() + [g.get("momentum") or 0.0 for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        rows.append(sched.get_last_lr() + [g.get("momentum") or 0.0 for g in opt.param_groups])
    return np.array(rows, dtype=float)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_sequence_matches_torch(name):
    opt, topt = _optimizer(norch), _optimizer(torch)
    ours = _record(norch, SCHEDULERS[name](ls, opt), opt, 40)
    ref = _record(torch, SCHEDULERS[name](tls, topt), topt, 40)
    np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-15)


def _resumable_optimizer(lib):
    # What a checkpoint restores: the groups carry initial_lr (and OneCycleLR's own keys).
    opt = _optimizer(lib)
    for g in opt.param_groups:
        g.update(initial_lr=g["lr"], max_lr=1.0, min_lr=1e-5, max_momentum=0.95, base_momentum=0.85)
    return opt


@pytest.mark.parametrize("name", RESUMABLE)
def test_built_with_last_epoch_matches_torch(name):
    # PyTorch 2.13 takes the constructor's step in "initial" mode: the restored lr is kept, not
    # stepped once more.
    opt, topt = _resumable_optimizer(norch), _resumable_optimizer(torch)
    ours = _record(norch, SCHEDULERS[name](ls, opt, last_epoch=5), opt, 30)
    ref = _record(torch, SCHEDULERS[name](tls, topt, last_epoch=5), topt, 30)
    np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_state_dict_round_trip_resumes_identically(name):
    opt = _optimizer(norch)
    straight = _record(norch, SCHEDULERS[name](ls, opt), opt, 20)

    opt = _optimizer(norch)
    sched = SCHEDULERS[name](ls, opt)
    _record(norch, sched, opt, 8)
    sd, opt_sd = sched.state_dict(), opt.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 8
    # Same entries as PyTorch's state dict after the same steps (the private PyTorch-only flags aside).
    topt = _optimizer(torch)
    tsched = SCHEDULERS[name](tls, topt)
    _record(torch, tsched, topt, 8)
    tsd = tsched.state_dict()
    assert set(sd) == set(tsd)
    for key in ("last_epoch", "base_lrs", "_last_lr"):
        np.testing.assert_allclose(sd[key], tsd[key], rtol=1e-13)

    opt2 = _optimizer(norch)
    sched2 = SCHEDULERS[name](ls, opt2)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sd)
    resumed = _record(norch, sched2, opt2, 12)
    np.testing.assert_array_equal(resumed, straight[8:])


def test_multiplicative_lr_keeps_callable_object_state():
    opt = _optimizer(norch)
    fn = Halve()
    s = ls.MultiplicativeLR(opt, [lambda e: 1.0, fn])
    fn.factor = 0.8
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [None, {"factor": 0.8}]
    fn2 = Halve()
    s2 = ls.MultiplicativeLR(_optimizer(norch), [lambda e: 1.0, fn2])
    s2.load_state_dict(sd)
    assert fn2.factor == 0.8


def test_cyclic_lr_cycles_adam_betas_and_saves_scale_fn_object():
    opt, topt = _optimizer(norch, "Adam"), _optimizer(torch, "Adam")
    s = ls.CyclicLR(opt, 0.001, 0.01, step_size_up=3, scale_fn=Halve(), scale_mode="cycle")
    ts = tls.CyclicLR(topt, 0.001, 0.01, step_size_up=3, scale_fn=Halve(), scale_mode="cycle")
    for _ in range(15):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-13)
        for g, tg in zip(opt.param_groups, topt.param_groups):
            assert g["betas"] == pytest.approx(tg["betas"], rel=1e-13)
    sd = s.state_dict()
    assert sd["_scale_fn_custom"] == {"factor": 0.5} and "_scale_fn_ref" not in sd
    plain = ls.CyclicLR(_optimizer(norch), 0.001, 0.01, scale_fn=lambda x: 1.0)
    assert plain.state_dict()["_scale_fn_custom"] is None


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")  # PyTorch's, nested case
def test_sequential_lr_nested_and_starting_past_a_zero_milestone():
    def build(m, o):
        # A nested SequentialLR can lead (PyTorch cannot restart one at a later milestone).
        inner = m.SequentialLR(o, [m.ConstantLR(o, 0.5, 2), m.ExponentialLR(o, 0.9)], milestones=[3])
        return m.SequentialLR(o, [inner, m.LinearLR(o, 0.2, total_iters=4)], milestones=[6])

    opt, topt = _optimizer(norch), _optimizer(torch)
    np.testing.assert_allclose(_record(norch, build(ls, opt), opt, 25), _record(torch, build(tls, topt), topt, 25),
                               rtol=1e-13)

    def zero_milestone(m, o):
        return m.SequentialLR(o, [m.ExponentialLR(o, 0.5), m.StepLR(o, 2, 0.1)], milestones=[0])

    opt, topt = _optimizer(norch), _optimizer(torch)
    np.testing.assert_allclose(_record(norch, zero_milestone(ls, opt), opt, 10),
                               _record(torch, zero_milestone(tls, topt), topt, 10), rtol=1e-13)


def test_chained_scheduler_with_a_sequential_one_and_state_dict():
    def build(m, o):
        seq = m.SequentialLR(o, [m.ConstantLR(o, 0.5, 2), m.CosineAnnealingLR(o, 6)], milestones=[3])
        return m.ChainedScheduler([seq, m.MultiplicativeLR(o, lambda e: 0.97)], optimizer=o)

    opt, topt = _optimizer(norch), _optimizer(torch)
    s = build(ls, opt)
    np.testing.assert_allclose(_record(norch, s, opt, 20), _record(torch, build(tls, topt), topt, 20), rtol=1e-13)
    sd = s.state_dict()
    assert len(sd["_schedulers"]) == 2 and sd["_schedulers"][0]["last_epoch"] == 20


def test_reduce_lr_on_plateau_state_dict_and_added_group():
    opt, topt = _optimizer(norch), _optimizer(torch)
    s = ls.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=1, threshold=0.1, threshold_mode="abs",
                             cooldown=1, min_lr=0.01)
    ts = tls.ReduceLROnPlateau(topt, mode="max", factor=0.5, patience=1, threshold=0.1, threshold_mode="abs",
                               cooldown=1, min_lr=0.01)
    metrics = [1.0, 1.05, 1.2, 1.2, 1.21, 1.0, 0.9, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    for i, m in enumerate(metrics):
        if i == 4:
            # A group added later gets the single min_lr too (PyTorch's default_min_lr).
            opt.add_param_group({"params": [norch.zeros(1, requires_grad=True)], "lr": 0.3})
            topt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.3})
        s.step(m)
        ts.step(m)
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-13)
        assert (s.num_bad_epochs, s.cooldown_counter, s.best) == (ts.num_bad_epochs, ts.cooldown_counter, ts.best)
    sd = s.state_dict()
    assert set(sd) == set(ts.state_dict())
    s2 = ls.ReduceLROnPlateau(_optimizer(norch))
    s2.load_state_dict(sd)
    assert (s2.mode, s2.threshold_mode, s2.mode_worse, s2.best) == ("max", "abs", -np.inf, s.best)
    fixed = ls.ReduceLROnPlateau(_optimizer(norch), patience=0, min_lr=[0.0, 0.0])
    fixed.optimizer.add_param_group({"params": [norch.zeros(1, requires_grad=True)]})
    fixed.step(1.0)
    with pytest.raises(RuntimeError, match=r"The number of param groups in the `optimizer` \(3\) differs"):
        fixed.step(2.0)


def test_step_with_epoch_warns_like_torch():
    opt = _optimizer(norch)
    s = ls.ExponentialLR(opt, 0.5)
    opt.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        s.step(3)
    assert s.get_last_lr() == pytest.approx([0.1 * 0.125, 0.5 * 0.125])
    p = ls.ReduceLROnPlateau(_optimizer(norch))
    with pytest.warns(UserWarning, match="The epoch parameter"):
        p.step(1.0, epoch=4)
    assert p.last_epoch == 4


def test_get_lr_outside_step_warns_like_torch():
    for lib, mod in ((norch, ls), (torch, tls)):
        opt = _optimizer(lib)
        s = mod.ExponentialLR(opt, 0.5)
        opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            s.step()
        with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`"):
            assert s.get_lr() == pytest.approx([0.1 * 0.25, 0.5 * 0.25])
        assert s.state_dict()["_get_lr_called_within_step"] is False


def test_legacy_base_class_name():
    assert ls._LRScheduler.__name__ == "_LRScheduler" and issubclass(ls._LRScheduler, ls.LRScheduler)
    assert set(tls.__all__) <= set(ls.__all__)
    for name in tls.__all__:
        assert hasattr(ls, name), name


def _plateau_in(m, o):
    return m.ChainedScheduler([m.ReduceLROnPlateau(o)])


BAD = [
    (lambda m, o: m.MultiplicativeLR(o, 0.5), TypeError),
    (lambda m, o: m.MultiplicativeLR(o, [lambda e: 1.0]), ValueError),
    (lambda m, o: m.CyclicLR(o, 0.01, 0.1, mode="sawtooth"), ValueError),
    (lambda m, o: m.CyclicLR(o, [0.01], 0.1), ValueError),
    (lambda m, o: m.CyclicLR(m.Adagrad_opt, 0.01, 0.1), ValueError),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, 0), ValueError),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, 2, T_mult=0), ValueError),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, 2, eta_min="0"), ValueError),
    (_plateau_in, ValueError),
    (lambda m, o: m.SequentialLR(o, [m.ReduceLROnPlateau(o), m.StepLR(o, 2)], milestones=[2]), ValueError),
    (lambda m, o: m.ChainedScheduler([m.StepLR(o, 2), m.StepLR(m.Adagrad_opt, 2)]), ValueError),
    (lambda m, o: m.ChainedScheduler([object()], optimizer=o), TypeError),
    (lambda m, o: m.ExponentialLR(m.fresh_opt, 0.9, last_epoch=3), KeyError),
    (lambda m, o: m.ReduceLROnPlateau(o, factor=1.0), ValueError),
    (lambda m, o: m.ReduceLROnPlateau(o, mode="up"), ValueError),
    (lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError),
    (lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError),
]


class _Namespace:
    def __init__(self, module, lib):
        self._module = module
        self.Adagrad_opt = lib.optim.Adagrad([lib.zeros(1, requires_grad=True)])
        self.fresh_opt = _optimizer(lib)

    def __getattr__(self, name):
        return getattr(self._module, name)


@pytest.mark.parametrize("make,exc", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments_raise_like_torch(make, exc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc) as expected:
            make(_Namespace(tls, torch), _optimizer(torch))
        with pytest.raises(exc) as got:
            make(_Namespace(ls, norch), _optimizer(norch))
    # Messages name classes and objects: compare them with the two libraries' reprs replaced.
    ours = str(got.value).replace("norch.optim.", "").replace("norch", "torch")
    theirs = str(expected.value).replace("torch.optim.", "")
    if "which is different from" not in theirs:
        assert ours == theirs
