"""nn layers: the Lazy* modules, whose input size is read from the first input.

A lazy module holds UninitializedParameter / UninitializedBuffer placeholders and a
forward pre-hook; the first call creates the real tensors with the shapes the input
implies, runs the module's usual reset_parameters (so the initial values follow the
same distributions as the eager module), drops the hook and turns the object into
its eager class (LazyLinear -> Linear), as PyTorch does. Loading a state_dict into a
module that is still lazy takes the shapes from the checkpoint.
"""
from ... import _C
from ..parameter import UninitializedBuffer, UninitializedParameter
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d

__all__ = ["LazyModuleMixin", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


def _is_lazy(t):
    return isinstance(t, (UninitializedParameter, UninitializedBuffer))


class LazyModuleMixin:
    cls_to_become = None

    def _start_lazy(self):
        self._initialize_hook = self.register_forward_pre_hook(LazyModuleMixin._infer_parameters)

    def has_uninitialized_params(self):
        return any(_is_lazy(t) for t in list(self._parameters.values()) + list(self._buffers.values()))

    def _materialize(self, name, shape):
        old = getattr(self, name)
        if isinstance(old, UninitializedParameter):
            self._parameters[name] = old.materialize(shape)
        elif isinstance(old, UninitializedBuffer):
            self._buffers[name] = old.materialize(shape)

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def _infer_parameters(module, args):
        module.initialize_parameters(*args)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        for name, t in list(self._parameters.items()) + list(self._buffers.items()):
            key = prefix + name
            if _is_lazy(t) and key in state_dict:
                self._materialize(name, state_dict[key].shape)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        if not self.has_uninitialized_params() and hasattr(self, "_initialize_hook"):
            self._initialize_hook.remove()
            del self._initialize_hook
            if self.cls_to_become is not None:
                self.__class__ = self.cls_to_become


class LazyLinear(LazyModuleMixin, Linear):
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(1, out_features, bias, device, dtype)
        self.in_features = 0
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._start_lazy()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args):
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            self._materialize("weight", (self.out_features, self.in_features))
            if self.bias is not None:
                self._materialize("bias", (self.out_features,))
            self.reset_parameters()


class _LazyConvXdMixin(LazyModuleMixin):
    _n = 1

    def _lazy_init(self, bias, device, dtype):
        self.in_channels = 0
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._start_lazy()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args):
        if self.has_uninitialized_params():
            batched = input.dim() == self._n + 2
            self.in_channels = input.shape[1] if batched else input.shape[0]
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
            else:
                shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
            self._materialize("weight", shape)
            if self.bias is not None:
                self._materialize("bias", (self.out_channels,))
            self.reset_parameters()


def _lazy_conv(base, n):
    class _Lazy(_LazyConvXdMixin, base):
        cls_to_become = base
        _n = n

        def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                     padding_mode="zeros", device=None, dtype=None):
            base.__init__(self, groups, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                          padding_mode, device, dtype)
            self._lazy_init(bias, device, dtype)
    return _Lazy


def _lazy_conv_transpose(base, n):
    class _Lazy(_LazyConvXdMixin, base):
        cls_to_become = base
        _n = n

        def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                     dilation=1, padding_mode="zeros", device=None, dtype=None):
            base.__init__(self, groups, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
                          dilation, padding_mode, device, dtype)
            self._lazy_init(bias, device, dtype)
    return _Lazy


def _named(cls, name):
    cls.__name__ = cls.__qualname__ = name
    return cls


LazyConv1d = _named(_lazy_conv(Conv1d, 1), "LazyConv1d")
LazyConv2d = _named(_lazy_conv(Conv2d, 2), "LazyConv2d")
LazyConv3d = _named(_lazy_conv(Conv3d, 3), "LazyConv3d")
LazyConvTranspose1d = _named(_lazy_conv_transpose(ConvTranspose1d, 1), "LazyConvTranspose1d")
LazyConvTranspose2d = _named(_lazy_conv_transpose(ConvTranspose2d, 2), "LazyConvTranspose2d")
LazyConvTranspose3d = _named(_lazy_conv_transpose(ConvTranspose3d, 3), "LazyConvTranspose3d")


class _LazyNormBase(LazyModuleMixin):
    def _lazy_init(self, affine, track_running_stats, device, dtype):
        self.num_features = 0
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if self.bias is not None:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = _C.tensor(0, dtype=_C.int64, device=device)
        self._start_lazy()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _feature_dim(self, input):
        return 1

    def initialize_parameters(self, input, *args):
        if self.has_uninitialized_params():
            self.num_features = input.shape[self._feature_dim(input)]
            for name in ("weight", "bias", "running_mean", "running_var"):
                if getattr(self, name) is not None:
                    self._materialize(name, (self.num_features,))
            self.reset_parameters()


def _lazy_norm(base, name, instance):
    class _Lazy(_LazyNormBase, base):
        cls_to_become = base

        def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                     dtype=None, *, bias=True):
            if instance:
                base.__init__(self, 1, eps, momentum, affine, track_running_stats, device, dtype)
            else:
                base.__init__(self, 1, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
            self._lazy_init(affine, track_running_stats, device, dtype)

        if instance:
            def _feature_dim(self, input):
                return input.dim() - self._no_batch_dim
    return _named(_Lazy, name)


LazyBatchNorm1d = _lazy_norm(BatchNorm1d, "LazyBatchNorm1d", False)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d, "LazyBatchNorm2d", False)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d, "LazyBatchNorm3d", False)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d, "LazyInstanceNorm1d", True)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d, "LazyInstanceNorm2d", True)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d, "LazyInstanceNorm3d", True)
