"""torch.distributions: probability distributions with sampling (reparameterised where PyTorch has rsample),
log densities, moments, and KL divergences, written with tapegrad's differentiable operators.

Samples come from tapegrad's generator (reproducible under tapegrad.manual_seed), not PyTorch's random stream.
Names of PyTorch's package that tapegrad lacks raise NotImplementedError."""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .uniform import Uniform
from .utils import missing_names_getattr

__all__ = ["Bernoulli", "Categorical", "Distribution", "ExponentialFamily", "Exponential", "Independent", "Laplace",
           "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform", "constraints", "kl_divergence",
           "register_kl"]

__getattr__ = missing_names_getattr("torch.distributions")
