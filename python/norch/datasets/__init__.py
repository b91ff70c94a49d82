"""norch.datasets: MNIST / Fashion-MNIST (IDX), CIFAR-10 (binary) and the offline SyntheticDigits."""
from .mnist import MNIST, FashionMNIST  # noqa: F401
from .cifar import CIFAR10, read_cifar_batch  # noqa: F401
from .synthetic import SyntheticDigits, make_digits  # noqa: F401
from ._utils import read_idx, default_root  # noqa: F401
