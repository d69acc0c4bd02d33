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
from .._ops.movement import pixel_shuffle, pixel_unshuffle  # noqa: F401
from .._ops.sampling import *  # noqa: F401,F403  (sampled softmax, NCE: not in PyTorch)
# (relu, sigmoid, tanh, softmax, log_softmax: in _ops/activation.py, with F's signatures)


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    from .. import _NotImplementedAttribute

    raise _NotImplementedAttribute(f"tapegrad does not implement torch.nn.functional.{name}")
