"""The `torchvision` namespace as `tapegrad run` resolves it: datasets and transforms."""
from .. import datasets, transforms  # noqa: F401

__version__ = "0.0-tapegrad"
