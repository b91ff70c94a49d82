"""nn.DataParallel and nn.parallel.data_parallel: on a machine without a GPU the module runs
as it is (as in PyTorch), the wrapper's state_dict carries the "module." prefix; the
scatter / replicate / parallel_apply / gather path is checked on CPU devices, where it must
give the outputs and gradients of the unsplit module."""
import numpy as np
import pytest

import norch
from norch.nn.parallel import _data_parallel as dp

import torch  # the oracle: required, never skipped

rng = np.random.default_rng(3)


class Net:
    @staticmethod
    def make(lib):
        class TwoHeads(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.body = lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.Tanh())
                self.bn = lib.nn.BatchNorm1d(6)
                self.head = lib.nn.Linear(6, 3)

            def forward(self, x, scale=1.0, extra=None):
                h = self.bn(self.body(x))
                out = self.head(h) * scale
                return {"out": out, "pair": (h.sum(1), out.mean())} if extra else out
        return TwoHeads()


def _same_weights(n, t):
    n.load_state_dict({k: norch.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})


def test_data_parallel_without_gpu_runs_the_module_like_torch(monkeypatch):
    # as on a machine without a GPU (the oracle is a CPU build of PyTorch)
    monkeypatch.setattr(dp, "_cuda_devices", lambda: [])
    tn, nn_ = Net.make(torch).double(), Net.make(norch).double()
    _same_weights(nn_, tn)
    t_dp, n_dp = torch.nn.DataParallel(tn), norch.nn.DataParallel(nn_)
    assert n_dp.module is nn_ and n_dp.device_ids == t_dp.device_ids == []
    assert list(n_dp.state_dict()) == list(t_dp.state_dict())
    assert all(k.startswith("module.") for k in n_dp.state_dict())
    x = rng.standard_normal((8, 4))
    n_out, t_out = n_dp(norch.tensor(x), scale=2.0), t_dp(torch.tensor(x), scale=2.0)
    np.testing.assert_allclose(n_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12)
    (n_out * n_out).sum().backward()
    (t_out * t_out).sum().backward()
    for (name, p), (_, q) in zip(n_dp.named_parameters(), t_dp.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)
    # the functional form needs a device, in both; a DataParallel checkpoint loads into a wrapped model
    for lib, model in ((norch, nn_), (torch, tn)):
        with pytest.raises(RuntimeError, match="device type could not be determined"):
            lib.nn.parallel.data_parallel(model, lib.zeros(2, 4))
    fresh = norch.nn.DataParallel(Net.make(norch).double())
    fresh.load_state_dict(n_dp.state_dict())
    assert "DataParallel(" in repr(n_dp) and "(module): TwoHeads(" in repr(n_dp)


def test_scatter_and_gather_on_cpu_devices():
    cpu = ["cpu", "cpu", "cpu"]
    x = norch.tensor(rng.standard_normal((7, 2)))
    chunks = dp.scatter((x, "tag", {"k": x * 2}), cpu)
    assert len(chunks) == 3 and [c[0].shape[0] for c in chunks] == [3, 3, 1]
    assert all(c[1] == "tag" for c in chunks)
    np.testing.assert_array_equal(chunks[2][2]["k"].numpy(), (x * 2)[6:].numpy())
    back = dp.gather([c[0] for c in chunks], "cpu")
    np.testing.assert_array_equal(back.numpy(), x.numpy())
    with pytest.warns(UserWarning, match="all input tensors were scalars"):
        scalars = dp.gather([norch.tensor(1.0), norch.tensor(2.0)], "cpu")
    assert scalars.tolist() == [1.0, 2.0]


def test_replicas_on_cpu_devices_match_the_unsplit_module():
    # The multi-device path (scatter, replicate, threads, gather) on two CPU "devices": the
    # outputs are the unsplit module's; the gradients sum into the original parameters.
    model = Net.make(norch).double().eval()         # eval: BatchNorm's statistics do not depend on the split
    wrapper = norch.nn.DataParallel(model)
    wrapper.dim = 0
    x = norch.tensor(rng.standard_normal((6, 4)))
    with pytest.warns(UserWarning, match="all input tensors were scalars"):
        out = wrapper._run_on((x,), {"scale": 3.0, "extra": True}, [norch.device("cpu")] * 2, norch.device("cpu"))
    direct = model(x, scale=3.0, extra=True)
    np.testing.assert_allclose(out["out"].detach().numpy(), direct["out"].detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(out["pair"][0].detach().numpy(), direct["pair"][0].detach().numpy(), rtol=1e-12)
    assert tuple(out["pair"][1].shape) == (2,)        # one scalar per replica, as PyTorch gathers them
    out["out"].pow(2).sum().backward()
    grads = {k: p.grad.clone() for k, p in model.named_parameters()}
    model.zero_grad()
    direct["out"].pow(2).sum().backward()
    for k, p in model.named_parameters():
        np.testing.assert_allclose(grads[k].numpy(), p.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=k)
    # replicas share nothing that backward or a forward could change in the original
    replicas = dp.replicate(model, ["cpu", "cpu"])
    assert replicas[0] is not model and replicas[0].head is not model.head
    assert not replicas[0].head.weight.is_leaf and model.head.weight.is_leaf


def test_parallel_apply_raises_the_worker_exception():
    class Boom(norch.nn.Module):
        def forward(self, x):
            raise ValueError("boom in a replica")
    with pytest.raises(ValueError, match="boom in a replica"):
        dp.parallel_apply([Boom(), Boom()], [(norch.ones(1),), (norch.ones(1),)])


@pytest.mark.skipif(not norch.cuda.is_available(), reason="no CUDA device")
def test_data_parallel_cuda():
    model = Net.make(norch).double()
    x = norch.tensor(rng.standard_normal((8, 4)))
    expected = model(x, scale=2.0).detach().numpy()
    wrapper = norch.nn.DataParallel(model)
    assert wrapper.device_ids == list(range(norch.cuda.device_count())) and wrapper.output_device == 0
    if len(wrapper.device_ids) == 1:
        assert model.head.weight.device == norch.device("cuda", 0)   # moved there at construction
    else:
        model.to("cuda:0")
    out = wrapper(x, scale=2.0)                                         # a CPU input is scattered to the GPUs
    assert out.device == norch.device("cuda", 0)
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected, rtol=1e-10)
    out.sum().backward()
    assert model.head.weight.grad.device == norch.device("cuda", 0)
    model.to("cpu")
    with pytest.raises(RuntimeError, match="module must have its parameters and buffers on device cuda:0"):
        wrapper(x)
