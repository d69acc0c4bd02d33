"""tapegrad.nn: Module, Parameter, layers, losses, init and utils, with PyTorch's names."""
from . import functional, init, utils  # noqa: F401
from . import parallel  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter, UninitializedParameter  # noqa: F401


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    from .. import _NotImplementedAttribute

    raise _NotImplementedAttribute(f"tapegrad does not implement torch.nn.{name}")
