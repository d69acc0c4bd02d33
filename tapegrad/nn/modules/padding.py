"""Padding modules: constant / zero, reflection, replication and circular, in 1, 2 and 3 dimensions."""
from ..._ops.layers import pad
from .module import Module

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d"]


def _ntuple(n, x):
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,) * n


class _PadNd(Module):
    __constants__ = ["padding"]
    _n = 2  # entries in padding
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(self._n, padding)

    def _check_input_dim(self, input):
        pass

    def forward(self, input):
        self._check_input_dim(input)
        return pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


def _circular_check(lo, hi):
    def check(self, input):
        if input.dim() != lo and input.dim() != hi:
            raise ValueError(f"expected {lo}D or {hi}D input (got {input.dim()}D input)")
    return check


class CircularPad1d(_PadNd):
    _n, _mode = 2, "circular"
    _check_input_dim = _circular_check(2, 3)


class CircularPad2d(_PadNd):
    _n, _mode = 4, "circular"
    _check_input_dim = _circular_check(3, 4)


class CircularPad3d(_PadNd):
    _n, _mode = 6, "circular"
    _check_input_dim = _circular_check(4, 5)


class ReflectionPad1d(_PadNd):
    _n, _mode = 2, "reflect"


class ReflectionPad2d(_PadNd):
    _n, _mode = 4, "reflect"


class ReflectionPad3d(_PadNd):
    _n, _mode = 6, "reflect"


class ReplicationPad1d(_PadNd):
    _n, _mode = 2, "replicate"


class ReplicationPad2d(_PadNd):
    _n, _mode = 4, "replicate"


class ReplicationPad3d(_PadNd):
    _n, _mode = 6, "replicate"


class _ConstantPadNd(Module):
    __constants__ = ["padding", "value"]
    _n = 2

    def __init__(self, padding, value):
        super().__init__()
        self.value = value
        self.padding = _ntuple(self._n, padding)

    def forward(self, input):
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    _n = 2


class ConstantPad2d(_ConstantPadNd):
    _n = 4


class ConstantPad3d(_ConstantPadNd):
    _n = 6


class ZeroPad1d(ConstantPad1d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"
