"""Shared fixtures: every test starts from the same random streams (norch's and the
NumPy one of _oracle.arr), so results never depend on test order or on chance;
`device` runs a test on the CPU and, where a GPU is present, on CUDA too (the CPU
result is the reference)."""
import pytest

import norch

import _oracle


@pytest.fixture(autouse=True)
def _fixed_random_stream():
    norch.manual_seed(0)
    _oracle.restart_stream(0)


_DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(
        not norch.cuda.is_available(), reason="no CUDA device")),
]


@pytest.fixture(params=_DEVICES)
def device(request):
    return request.param
