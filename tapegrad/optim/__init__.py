"""tapegrad.optim: PyTorch's optimizers and learning-rate schedulers over NumPy arrays.

Each optimizer updates `p._data` in place with PyTorch's single-tensor formulas,
keeps its state as Tensors under PyTorch's names (so `state_dict()` has PyTorch's
layout) and records no graph.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "LBFGS", "lr_scheduler", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "SGD"]

_MISSING = {"ASGD", "Rprop", "SparseAdam", "Adafactor", "Muon", "swa_utils"}


class _NotImplementedAttribute(NotImplementedError, AttributeError):
    """A PyTorch name tapegrad lacks; an AttributeError too, so hasattr() answers False."""


def __getattr__(name):
    if name in _MISSING:
        raise _NotImplementedAttribute(f"tapegrad does not implement torch.optim.{name}")
    raise AttributeError(f"module 'tapegrad.optim' has no attribute '{name}'")
