"""DataParallel: one process, the batch split across the GPUs of this machine.

As torch.nn.parallel.DataParallel: each forward scatters the inputs along `dim` over
device_ids, runs a replica of the module on each chunk (in threads), and gathers the outputs
on output_device. Replicas hold differentiable copies of the module's parameters, so the
gradients of every chunk sum into the original parameters. With one device the module runs
there directly; on a machine without a GPU there is nothing to split and the module runs
as it is (PyTorch does the same), so scripts that wrap their model still work on a CPU.
"""
import threading
import warnings
from collections import OrderedDict

from ... import _C
from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel", "scatter", "gather", "replicate", "parallel_apply"]


def _device(d):
    if isinstance(d, _C.device):
        return d
    if isinstance(d, int):
        return _C.device("cuda", d)
    return _C.device(d)


def _scatter_one(obj, devices, dim):
    if isinstance(obj, _C.Tensor):
        return [chunk.to(device) for chunk, device in zip(obj.chunk(len(devices), dim), devices)]
    if isinstance(obj, tuple) and len(obj) > 0:
        return [type(obj)(*args) if hasattr(obj, "_fields") else tuple(args)
                for args in zip(*(_scatter_one(o, devices, dim) for o in obj))]
    if isinstance(obj, list) and len(obj) > 0:
        return [list(args) for args in zip(*(_scatter_one(o, devices, dim) for o in obj))]
    if isinstance(obj, dict) and len(obj) > 0:
        return [type(obj)(items) for items in zip(*(
            [(k, v) for v in _scatter_one(value, devices, dim)] for k, value in obj.items()))]
    return [obj for _ in devices]


def scatter(inputs, target_gpus, dim=0):
    """Splits the tensors in `inputs` (through tuples, lists and dicts) into chunks along dim,
    one per device; other objects are repeated for every device."""
    devices = [_device(d) for d in target_gpus]
    return _scatter_one(inputs, devices, dim)


def _scatter_kwargs(inputs, kwargs, devices, dim):
    inputs = scatter(inputs, devices, dim) if inputs else []
    kwargs = scatter(kwargs, devices, dim) if kwargs else []
    if len(inputs) < len(kwargs):
        inputs.extend(() for _ in range(len(kwargs) - len(inputs)))
    elif len(kwargs) < len(inputs):
        kwargs.extend({} for _ in range(len(inputs) - len(kwargs)))
    return tuple(inputs), tuple(kwargs)


def gather(outputs, target_device, dim=0):
    """Concatenates the per-device outputs (tensors, through tuples, lists and dicts) along dim
    on target_device (-1 or "cpu": the CPU)."""
    device = _C.device("cpu") if target_device in (-1, "cpu") else _device(target_device)
    first = outputs[0]
    if isinstance(first, _C.Tensor):
        if all(o.dim() == 0 for o in outputs) and dim == 0:
            warnings.warn("Was asked to gather along dimension 0, but all input tensors were scalars; will instead "
                          "unsqueeze and return a vector.", stacklevel=2)
            outputs = [o.unsqueeze(0) for o in outputs]
        return _C.cat([o.to(device) for o in outputs], dim)
    if first is None:
        return None
    if isinstance(first, dict):
        if not all(len(first) == len(d) for d in outputs):
            raise ValueError("All dicts must have the same number of keys")
        return type(first)((k, gather([d[k] for d in outputs], target_device, dim)) for k in first)
    if isinstance(first, (list, tuple)):
        parts = [gather(list(items), target_device, dim) for items in zip(*outputs)]
        if hasattr(first, "_fields"):
            return type(first)(*parts)
        return type(first)(parts)
    return first


def replicate(network, devices, detach=False):
    """Copies of `network`, one per device, whose parameters and buffers are copies (.to, so
    differentiable unless detach) of the original's: backward through a replica reaches the
    original parameters."""
    devices = [_device(d) for d in devices]
    return [_replicate_module(network, device, detach, {}) for device in devices]


def _replicate_module(module, device, detach, memo):
    if id(module) in memo:
        return memo[id(module)]
    replica = module.__new__(type(module))
    replica.__dict__.update(module.__dict__)
    memo[id(module)] = replica
    params = OrderedDict()
    for name, p in module._parameters.items():
        if p is None:
            params[name] = None
        else:
            # a replica's parameter is a computed tensor, not a leaf: its gradient goes to p
            if detach:
                params[name] = p.detach().to(device)
            else:
                params[name] = p.to(device) if p.device != device else p.view_as(p)
    replica.__dict__["_parameters"] = params
    replica.__dict__["_buffers"] = OrderedDict(
        (name, None if b is None else b.to(device)) for name, b in module._buffers.items())
    replica.__dict__["_modules"] = OrderedDict(
        (name, None if m is None else _replicate_module(m, device, detach, memo))
        for name, m in module._modules.items())
    replica.__dict__["_is_replica"] = True
    return replica


def parallel_apply(modules, inputs, kwargs_tup=None, devices=None):
    """Runs modules[i](*inputs[i], **kwargs_tup[i]) in one thread each; the outputs in order.
    An exception in any of them is raised here."""
    if kwargs_tup is None:
        kwargs_tup = ({},) * len(modules)
    if len(modules) != len(inputs) or len(modules) != len(kwargs_tup):
        raise AssertionError(f"The number of modules {len(modules)} is not equal to the number of inputs "
                             f"{len(inputs)}")
    from ...autograd import is_grad_enabled, set_grad_enabled
    grad_enabled = is_grad_enabled()
    results = [None] * len(modules)

    def worker(i, module, args, kwargs):
        try:
            with set_grad_enabled(grad_enabled):   # grad mode is per thread
                if not isinstance(args, (list, tuple)):
                    args = (args,)
                results[i] = ("ok", module(*args, **kwargs))
        except Exception as e:  # noqa: BLE001  (re-raised in the caller's thread below)
            results[i] = ("error", e)

    if len(modules) == 1:
        worker(0, modules[0], inputs[0], kwargs_tup[0])
    else:
        threads = [threading.Thread(target=worker, args=(i, m, a, k))
                   for i, (m, a, k) in enumerate(zip(modules, inputs, kwargs_tup))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    outputs = []
    for kind, value in results:
        if kind == "error":
            raise value
        outputs.append(value)
    return outputs


def _cuda_devices():
    from ... import cuda
    return list(range(cuda.device_count())) if cuda.is_available() else []


class DataParallel(Module):
    """Splits each input batch along `dim` over device_ids (default: every GPU), runs a
    replica of `module` per chunk and gathers the outputs on output_device (default:
    device_ids[0]). Without a GPU the module runs directly. The wrapped module is
    `self.module`, so a state_dict's keys start with "module."."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        available = _cuda_devices()
        if not available:
            self.module = module
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = available
        if output_device is None:
            output_device = device_ids[0]
        self.dim = dim
        self.module = module
        self.device_ids = [_device(d).index if not isinstance(d, int) else d for d in device_ids]
        self.output_device = output_device if isinstance(output_device, int) else _device(output_device).index
        self.src_device_obj = _C.device("cuda", self.device_ids[0])
        if len(self.device_ids) == 1:
            self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for t in list(self.module.parameters()) + list(self.module.buffers()):
            if t.device != self.src_device_obj:
                raise RuntimeError(f"module must have its parameters and buffers on device {self.src_device_obj} "
                                   f"(device_ids[0]) but found one of them on device: {t.device}")
        return self._run_on(inputs, kwargs, [_C.device("cuda", i) for i in self.device_ids],
                            _C.device("cuda", self.output_device))

    def _run_on(self, inputs, kwargs, devices, output_device):
        inputs, module_kwargs = self.scatter(inputs, kwargs, devices)
        if not inputs and not module_kwargs:
            inputs, module_kwargs = ((),), ({},)
        if len(devices) == 1:
            return self.module(*inputs[0], **module_kwargs[0])
        replicas = self.replicate(self.module, devices[:len(inputs)])
        outputs = self.parallel_apply(replicas, inputs, module_kwargs)
        return self.gather(outputs, output_device)

    def replicate(self, module, device_ids):
        from ...autograd import is_grad_enabled
        return replicate(module, device_ids, not is_grad_enabled())

    def scatter(self, inputs, kwargs, device_ids):
        return _scatter_kwargs(inputs, kwargs, device_ids, dim=self.dim)

    def parallel_apply(self, replicas, inputs, kwargs):
        return parallel_apply(replicas, inputs, kwargs, self.device_ids[:len(replicas)])

    def gather(self, outputs, output_device):
        return gather(outputs, output_device, dim=self.dim)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """The functional form of DataParallel: module(inputs) split over device_ids. Unlike the
    module form it needs a GPU, as PyTorch's."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    available = _cuda_devices()
    if not available:
        raise RuntimeError("device type could not be determined")
    if device_ids is None:
        device_ids = available
    if output_device is None:
        output_device = device_ids[0]
    devices = [_device(d) for d in device_ids]
    inputs, module_kwargs = _scatter_kwargs(inputs, module_kwargs, devices, dim)
    if not inputs and not module_kwargs:
        inputs, module_kwargs = ((),), ({},)
    if len(devices) == 1:
        return module(*inputs[0], **module_kwargs[0])
    replicas = replicate(module, devices[:len(inputs)])
    outputs = parallel_apply(replicas, inputs, module_kwargs, devices[:len(inputs)])
    return gather(outputs, output_device, dim)
