"""Every test starts from the same random stream, so results never depend on
test order or on chance."""
import pytest

import norch


@pytest.fixture(autouse=True)
def _fixed_random_stream():
    norch.manual_seed(0)
