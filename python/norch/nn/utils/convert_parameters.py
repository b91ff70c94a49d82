"""nn.utils: parameters_to_vector and vector_to_parameters."""
from ... import _C

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_same_device(param, old_device):
    if old_device is not None and param.device != old_device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return param.device


def parameters_to_vector(parameters):
    device = None
    vec = []
    for param in parameters:
        device = _check_same_device(param, device)
        vec.append(param.reshape(-1))
    return _C.cat(vec)


def vector_to_parameters(vec, parameters):
    if not isinstance(vec, _C.Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    device = None
    pointer = 0
    from ...autograd import no_grad
    with no_grad():
        for param in parameters:
            device = _check_same_device(param, device)
            n = param.numel()
            param.copy_(vec.narrow(0, pointer, n).view_as(param))
            pointer += n
