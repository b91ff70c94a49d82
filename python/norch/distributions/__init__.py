"""norch.distributions: probability distributions with PyTorch's API (sample, rsample,
log_prob, entropy, mean, variance, batch_shape / event_shape, expand), argument and
sample validation through constraints, and kl_divergence with its registry.

Gamma, Beta and Dirichlet draw samples without a reparameterized gradient (has_rsample is
False for them, where PyTorch differentiates through its gamma sampler)."""
from . import constraints  # noqa: F401
from .continuous import Beta, Dirichlet, Exponential, Gamma, Laplace, Normal, Uniform  # noqa: F401
from .discrete import Bernoulli, Categorical, OneHotCategorical  # noqa: F401
from .distribution import Distribution  # noqa: F401
from .kl import kl_divergence, register_kl  # noqa: F401
from .multivariate import Independent, MultivariateNormal  # noqa: F401

__all__ = ["Bernoulli", "Beta", "Categorical", "Dirichlet", "Distribution", "Exponential", "Gamma", "Independent",
           "Laplace", "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform", "constraints", "kl_divergence",
           "register_kl"]
