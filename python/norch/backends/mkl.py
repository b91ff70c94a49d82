"""norch.backends.mkl: norch does not link MKL."""


def is_available():
    return False
