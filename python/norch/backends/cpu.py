"""norch.backends.cpu: the CPU's vector capability, as PyTorch reports it."""


def get_cpu_capability():
    return "DEFAULT"  # norch's CPU kernels rely on the compiler's auto-vectorization, not runtime dispatch
