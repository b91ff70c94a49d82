"""Learning-rate schedulers: lr sequences against torch.optim.lr_scheduler."""
import math

import pytest
import torch  # the oracle for these tests

import norch
import norch.optim as optim
from norch.optim import lr_scheduler as ls
tls = torch.optim.lr_scheduler


def _optimizers(cls_name="SGD", groups=2, **kw):
    kw.setdefault("lr", 0.1)
    ours = getattr(optim, cls_name)([{"params": [norch.zeros(1, requires_grad=True)], "lr": 0.1 * (i + 1)}
                                     for i in range(groups)], **kw)
    theirs = getattr(torch.optim, cls_name)([{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1 * (i + 1)}
                                             for i in range(groups)], **kw)
    return ours, theirs


def _flat(seq):
    return [x for row in seq for x in row]


def _sequence(opt, sched, steps, metrics=None):
    out = [[g["lr"] for g in opt.param_groups]]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        out.append([g["lr"] for g in opt.param_groups])
    return out


CASES = [
    ("StepLR", lambda m, o: m.StepLR(o, step_size=3, gamma=0.5)),
    ("MultiStepLR", lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", lambda m, o: m.ExponentialLR(o, gamma=0.9)),
    ("CosineAnnealingLR", lambda m, o: m.CosineAnnealingLR(o, T_max=5, eta_min=0.01)),
    ("LambdaLR", lambda m, o: m.LambdaLR(o, lr_lambda=lambda e: 1.0 / (e + 1))),
    ("LambdaLR-list", lambda m, o: m.LambdaLR(o, lr_lambda=[lambda e: 0.9 ** e, lambda e: e + 1])),
    ("LinearLR", lambda m, o: m.LinearLR(o, start_factor=0.25, total_iters=4)),
    ("LinearLR-down", lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=6)),
    ("OneCycleLR", lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=14)),
    ("OneCycleLR-3phase-linear", lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 2.0], epochs=2, steps_per_epoch=7,
                                                           anneal_strategy="linear", three_phase=True)),
    ("SequentialLR", lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=3),
                                                     m.CosineAnnealingLR(o, T_max=6)], milestones=[3])),
    ("ConstantLR", lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=3)),
    ("PolynomialLR", lambda m, o: m.PolynomialLR(o, total_iters=8, power=2.0)),
    ("CosineAnnealingWarmRestarts", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01)),
    ("ChainedScheduler", lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.1, total_iters=2),
                                                          m.ExponentialLR(o, gamma=0.9)])),
    ("SequentialLR-poly", lambda m, o: m.SequentialLR(o, [m.ConstantLR(o, 0.2, 2), m.PolynomialLR(o, 6)],
                                                      milestones=[4])),
    ("SequentialLR-3", lambda m, o: m.SequentialLR(o, [m.ExponentialLR(o, 0.5),
                                                       m.StepLR(o, 2, 0.1), m.ExponentialLR(o, 0.8)],
                                                   milestones=[2, 6])),
]


@pytest.mark.parametrize("name,make", CASES, ids=[c[0] for c in CASES])
def test_sequence_matches_torch(name, make):
    opt, topt = _optimizers(momentum=0.9)
    ours = _sequence(opt, make(ls, opt), 14)
    theirs = _sequence(topt, make(tls, topt), 14)
    assert _flat(ours) == pytest.approx(_flat(theirs), rel=1e-12, abs=1e-15)


def test_onecycle_cycles_momentum_and_betas():
    opt, topt = _optimizers(momentum=0.9)
    s, ts = ls.OneCycleLR(opt, max_lr=1.0, total_steps=10), tls.OneCycleLR(topt, max_lr=1.0, total_steps=10)
    aopt, atopt = _optimizers("Adam", groups=1)
    a, at = ls.OneCycleLR(aopt, max_lr=0.5, total_steps=10), tls.OneCycleLR(atopt, max_lr=0.5, total_steps=10)
    for _ in range(9):
        for o, sc in ((opt, s), (topt, ts), (aopt, a), (atopt, at)):
            o.step()
            sc.step()
        assert opt.param_groups[0]["momentum"] == pytest.approx(topt.param_groups[0]["momentum"], rel=1e-12)
        assert aopt.param_groups[0]["betas"][0] == pytest.approx(atopt.param_groups[0]["betas"][0], rel=1e-12)
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        s.step()
        s.step()


def test_reduce_lr_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.79, 0.8, 0.8, 0.8]
    for kw in (dict(patience=2), dict(mode="max", factor=0.5, patience=1, cooldown=2, threshold_mode="abs",
                                      threshold=0.01, min_lr=[0.02, 0.05])):
        opt, topt = _optimizers()
        ours = _sequence(opt, ls.ReduceLROnPlateau(opt, **kw), len(metrics), metrics)
        theirs = _sequence(topt, tls.ReduceLROnPlateau(topt, **kw), len(metrics), metrics)
        assert _flat(ours[1:]) == pytest.approx(_flat(theirs[1:]), rel=1e-12)


def test_state_dict_resume():
    opt, _ = _optimizers(momentum=0.9)
    s = ls.CosineAnnealingLR(opt, T_max=8)
    for _ in range(3):
        s.step()
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 3
    expected = []
    for _ in range(3):
        s.step()
        expected.append(s.get_last_lr())
    opt2, _ = _optimizers(momentum=0.9)
    s2 = ls.CosineAnnealingLR(opt2, T_max=8)
    s2.load_state_dict(sd)
    for group, lr in zip(opt2.param_groups, sd["_last_lr"]):
        group["lr"] = lr
    got = []
    for _ in range(3):
        s2.step()
        got.append(s2.get_last_lr())
    assert _flat(got) == pytest.approx(_flat(expected))


def test_lambda_state_dict_skips_functions_keeps_objects():
    class Scale:
        def __init__(self):
            self.factor = 2.0

        def __call__(self, epoch):
            return self.factor * epoch

    opt, _ = _optimizers()
    obj = Scale()
    s = ls.LambdaLR(opt, [lambda e: 1.0, obj])
    obj.factor = 3.0
    sd = s.state_dict()
    assert sd["lr_lambdas"][0] is None and sd["lr_lambdas"][1] == {"factor": 3.0}
    obj2 = Scale()
    s2 = ls.LambdaLR(opt, [lambda e: 1.0, obj2])
    s2.load_state_dict(sd)
    assert obj2.factor == 3.0


def test_step_with_epoch_uses_closed_form():
    opt, topt = _optimizers()
    s, ts = ls.StepLR(opt, 2, 0.5), tls.StepLR(topt, 2, 0.5)
    with pytest.warns(UserWarning):
        s.step(5)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts.step(5)
    assert s.get_last_lr() == pytest.approx(ts.get_last_lr())
    assert s.get_last_lr()[0] == pytest.approx(0.1 * 0.25)


def test_initial_lr_and_resume_errors():
    opt, _ = _optimizers()
    s = ls.ExponentialLR(opt, 0.5)
    assert opt.param_groups[0]["initial_lr"] == 0.1 and s.base_lrs == [0.1, pytest.approx(0.2)]
    opt2, _ = _optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        ls.StepLR(opt2, 2, last_epoch=3)


@pytest.mark.parametrize("make,exc,match", [
    (lambda o: ls.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda o: ls.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor"),
    (lambda o: ls.LinearLR(o, end_factor=2), ValueError, "Ending multiplicative factor"),
    (lambda o: ls.OneCycleLR(o, max_lr=1.0), ValueError, "You must define either total_steps"),
    (lambda o: ls.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError, "positive integer total_steps"),
    (lambda o: ls.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=2.0), ValueError, "pct_start"),
    (lambda o: ls.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="x"), ValueError, "anneal_strategy"),
    (lambda o: ls.OneCycleLR(o, max_lr=[1.0], total_steps=5), ValueError, "same length"),
    (lambda o: ls.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda o: ls.ReduceLROnPlateau(o, mode="median"), ValueError, "mode median is unknown"),
    (lambda o: ls.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode x is unknown"),
    (lambda o: ls.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
    (lambda o: ls.SequentialLR(o, [ls.StepLR(o, 2)], milestones=[3]), ValueError, "one more than the number"),
    (lambda o: ls.SequentialLR(o, [], milestones=[]), ValueError, "at least one scheduler"),
    (lambda o: ls.StepLR(object(), 2), TypeError, "is not an Optimizer"),
    (lambda o: ls.ConstantLR(o, factor=1.5), ValueError, "Constant multiplicative factor"),
    (lambda o: ls.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "positive integer T_0"),
    (lambda o: ls.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError, "T_mult >= 1"),
    (lambda o: ls.ChainedScheduler([]), ValueError, "at least one scheduler to be chained"),
])
def test_bad_arguments(make, exc, match):
    opt, _ = _optimizers()
    with pytest.raises(exc, match=match):
        make(opt)


def test_onecycle_needs_momentum():
    o = optim.Adagrad([norch.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="must support momentum"):
        ls.OneCycleLR(o, max_lr=1.0, total_steps=4)
    assert math.isclose(ls.OneCycleLR(o, max_lr=1.0, total_steps=4, cycle_momentum=False).get_last_lr()[0], 0.04)


def test_warm_restarts_fractional_epochs_match_torch():
    opt, topt = _optimizers()
    s = ls.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    ts = tls.CosineAnnealingWarmRestarts(topt, T_0=2, T_mult=2)
    for epoch in (0.5, 1.25, 2.0, 3.5, 6.1, 9.0):
        s.step(epoch)
        ts.step(epoch)
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
