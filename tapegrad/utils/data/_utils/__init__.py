"""Compatibility paths for programs importing torch.utils.data._utils.{collate,worker}."""
from . import collate, worker  # noqa: F401
