"""Single process: norch imports and says what to install when mpi4py cannot be imported."""
import sys

sys.modules["mpi4py"] = None         # what a machine without mpi4py looks like to `import mpi4py`

import norch  # noqa: E402
import norch.distributed as dist  # noqa: E402
from norch.nn.parallel import DistributedDataParallel  # noqa: E402,F401

assert not dist.is_available()
try:
    dist.init_process_group()
except RuntimeError as e:
    print(e)
else:
    sys.exit("init_process_group did not raise")
assert not dist.is_initialized()
