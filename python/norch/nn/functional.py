"""norch.nn.functional: stateless ops behind the layers.

The heavy ops (convolution, pooling, softmax, losses, norms) are fused C++ ops in
norch._C._nn; the modules below wrap them with PyTorch's signatures. Each family
lives in its own file under nn/_functional/.
"""
from ._functional.activation import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.loss import *  # noqa: F401,F403
from ._functional.dropout import *  # noqa: F401,F403
from ._functional.loss_composite import *  # noqa: F401,F403
from ._functional.ctc import *  # noqa: F401,F403
from ._functional.pooling import *  # noqa: F401,F403
from ._functional.shape import *  # noqa: F401,F403
from ._functional.norm import *  # noqa: F401,F403
from ._functional.conv3d import *  # noqa: F401,F403
from ._functional.grid import *  # noqa: F401,F403
from ._functional.mha import *  # noqa: F401,F403
