"""Parameter set-up shared by the layers with a weight and an optional bias (Linear, Bilinear, ConvNd)."""
import math

from ... import _C
from .. import init
from ..parameter import Parameter


def register_weight_and_bias(module, weight_shape, bias_size, bias, device=None, dtype=None):
    """An uninitialised ``weight`` of ``weight_shape`` and, when ``bias``, a ``bias`` of ``bias_size``
    (else ``bias`` is registered as None)."""
    module.weight = Parameter(_C.empty(list(weight_shape), device=device, dtype=dtype))
    if bias:
        module.bias = Parameter(_C.empty([bias_size], device=device, dtype=dtype))
    else:
        module.register_parameter("bias", None)


def reset_kaiming_uniform(module):
    """PyTorch's default for Linear and ConvNd: kaiming_uniform with a=sqrt(5), which gives the weight
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias the same bound (zeros when fan_in is 0)."""
    init.kaiming_uniform_(module.weight, a=math.sqrt(5))
    if module.bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(module.weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(module.bias, -bound, bound)
