"""tapegrad.nn.functional: PyTorch's stateless layer functions.

Thin by design: every function is defined once beside its operator in tapegrad/_ops/ and
re-exported here under PyTorch's name.
"""
from .._ops.activation import *  # noqa: F401,F403
from .._ops.attention import *  # noqa: F401,F403
from .._ops.bag import *  # noqa: F401,F403
from .._ops.conv import *  # noqa: F401,F403
from .._ops.layers import *  # noqa: F401,F403
from .._ops.loss import *  # noqa: F401,F403
from .._ops.norm import *  # noqa: F401,F403
from .._ops.pool import *  # noqa: F401,F403
from .._ops.sampling import *  # noqa: F401,F403  (sampled softmax, NCE: not in PyTorch)
# (relu, sigmoid, tanh, softmax, log_softmax: in _ops/activation.py, with F's signatures)
