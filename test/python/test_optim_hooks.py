"""Optimizer base-class behaviour against PyTorch's: hooks (step pre/post, global step hooks,
state-dict and load hooks) and their call sequences, the schedulers' call-order warning, restored
state, dtype casting of list state, and named parameters."""
import warnings

import numpy as np
import pytest

import norch
import norch.optim as optim
from norch.optim import optimizer as optimizer_module

import torch  # the oracle: required, never skipped


def _setup(lib, cls="Adam"):
    p = lib.tensor([1.0, -2.0], requires_grad=True)
    opt = getattr(lib.optim, cls)([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    return p, opt, closure


def _record_hooks(lib, opt, log):
    handles = [
        opt.register_step_pre_hook(lambda o, a, k: log.append(("pre", len(a), sorted(k)))),
        opt.register_step_post_hook(lambda o, a, k: log.append(("post", len(a), sorted(k)))),
        opt.register_state_dict_pre_hook(lambda o: log.append(("sd-pre",))),
        opt.register_state_dict_pre_hook(lambda o: log.append(("sd-pre-first",)), prepend=True),
        opt.register_state_dict_post_hook(lambda o, sd: log.append(("sd-post", sorted(sd)))),
        opt.register_load_state_dict_pre_hook(lambda o, sd: log.append(("load-pre", sorted(sd)))),
        opt.register_load_state_dict_post_hook(lambda o: log.append(("load-post",))),
    ]
    return handles


def test_hook_sequence_matches_torch():
    logs = []
    for lib in (norch, torch):
        p, opt, closure = _setup(lib)
        log = []
        handles = _record_hooks(lib, opt, log)
        opt.step(closure)
        opt.step(closure=closure)
        opt.load_state_dict(opt.state_dict())
        for h in handles:
            h.remove()
        opt.step(closure)
        opt.load_state_dict(opt.state_dict())
        logs.append(log)
    assert logs[0] == logs[1]
    assert logs[0][0] == ("pre", 2, []) and logs[0][2] == ("pre", 1, ["closure"])  # args start with the optimizer


def test_pre_hook_can_replace_arguments_and_must_return_a_pair():
    for lib in (norch, torch):
        p, opt, closure = _setup(lib, "SGD")
        calls = []

        def counting():
            calls.append(1)
            return closure()

        handle = opt.register_step_pre_hook(lambda o, a, k: ((o, counting), {}))
        opt.step()
        assert len(calls) == 1
        handle.remove()
        opt.register_step_pre_hook(lambda o, a, k: "nope")
        with pytest.raises(RuntimeError, match="must return None or a tuple of \\(new_args, new_kwargs\\)"):
            opt.step(closure)


def test_state_dict_hooks_can_replace_the_dict():
    for lib in (norch, torch):
        p, opt, closure = _setup(lib)
        opt.step(closure)
        opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 7})
        sd = opt.state_dict()
        assert sd["extra"] == 7
        seen = []
        opt.register_load_state_dict_pre_hook(lambda o, sd: {k: v for k, v in sd.items() if k != "extra"})
        opt.register_load_state_dict_post_hook(lambda o: seen.append(o.param_groups[0]["lr"]))
        sd["param_groups"][0]["lr"] = 0.25
        opt.load_state_dict(sd)
        assert seen == [0.25]


def test_global_step_hooks_run_for_every_optimizer():
    order = []
    pre = optimizer_module.register_optimizer_step_pre_hook(lambda o, a, k: order.append(("pre", type(o).__name__)))
    post = optimizer_module.register_optimizer_step_post_hook(lambda o, a, k: order.append(("post", type(o).__name__)))
    try:
        for cls in ("SGD", "RAdam", "LBFGS"):
            _, opt, closure = _setup(norch, cls)
            opt.step(closure)
    finally:
        pre.remove()
        post.remove()
    _, opt, closure = _setup(norch, "SGD")
    opt.step(closure)
    assert order == [("pre", "SGD"), ("post", "SGD"), ("pre", "RAdam"), ("post", "RAdam"), ("pre", "LBFGS"),
                     ("post", "LBFGS")]


@pytest.mark.parametrize("optimizer_first", [True, False])
def test_scheduler_order_warning_matches_torch(optimizer_first):
    results = []
    for lib in (norch, torch):
        p, opt, closure = _setup(lib, "SGD")
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if optimizer_first:
                opt.step(closure)
            sched.step()
            opt.step(closure)
            sched.step()
        results.append([str(w.message)[:60] for w in caught if "lr_scheduler.step()" in str(w.message)])
    assert results[0] == results[1]
    assert bool(results[0]) != optimizer_first


def test_restored_state_gets_hook_tables_back():
    # What unpickling does: __setstate__ from __getstate__'s dict, which carries no hooks.
    p, opt, closure = _setup(norch, "NAdam")
    opt.step(closure)
    opt.register_step_pre_hook(lambda o, a, k: None)
    state = opt.__getstate__()
    assert not any(k.startswith("_optimizer_") for k in state)
    clone = optim.NAdam.__new__(optim.NAdam)
    clone.__setstate__(state)
    assert len(clone._optimizer_step_pre_hooks) == 0
    clone.step(closure)
    assert int(clone.state[p]["step"].item()) == 2


def test_lbfgs_history_lists_are_cast_on_load():
    # PyTorch casts tensors inside list state (LBFGS's old_dirs, ro, ...) to the parameter's dtype.
    for lib in (norch, torch):
        x = lib.tensor(np.array([-1.2, 1.0]), requires_grad=True)
        opt = lib.optim.LBFGS([x], max_iter=4)

        def closure():
            opt.zero_grad()
            loss = ((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)
            loss.backward()
            return loss

        opt.step(closure)
        y = lib.tensor([-1.2, 1.0], dtype=lib.float32, requires_grad=True)
        opt32 = lib.optim.LBFGS([y], max_iter=4)
        opt32.load_state_dict(opt.state_dict())
        state = opt32.state[y]
        assert len(state["old_dirs"]) > 0
        assert all(t.dtype == lib.float32 for t in state["old_dirs"] + state["old_stps"] + state["ro"])
        assert state["d"].dtype == lib.float32


def _named_model(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Linear(2, 1))


def test_named_parameters_keep_their_names_like_torch():
    results = []
    for lib in (norch, torch):
        model = _named_model(lib)
        opt = lib.optim.AdamW(model.named_parameters(), lr=0.01)
        group = opt.param_groups[0]
        assert all(isinstance(p, lib.Tensor) for p in group["params"])
        sd = opt.state_dict()
        fresh = lib.optim.AdamW(_named_model(lib).parameters(), lr=0.01)
        fresh.load_state_dict(sd)
        with pytest.raises(ValueError) as mixed:
            lib.optim.SGD([("w", lib.zeros(1, requires_grad=True)), lib.zeros(1, requires_grad=True)], lr=0.1)
        with pytest.raises(ValueError) as groups:
            opt.add_param_group({"params": [lib.zeros(1, requires_grad=True)]})
        results.append((group["param_names"], sd["param_groups"][0]["param_names"],
                        fresh.param_groups[0].get("param_names"), str(mixed.value), str(groups.value)))
    assert results[0] == results[1]
    assert results[0][0] == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_non_leaf_that_retains_grad_is_accepted():
    for lib in (norch, torch):
        x = lib.ones(2, requires_grad=True) * 2
        with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
            lib.optim.SGD([x], lr=0.1)
        x.retain_grad()
        lib.optim.SGD([x], lr=0.1)
