"""The operator registry: each operator registers sample inputs and its torch counterpart once;
test_ops.py checks every entry against PyTorch (forward value, dtype and shape; gradients of a
random weighted sum; non-contiguous inputs; gradcheck and gradgradcheck in float64).

A sample is a list of positional arguments and a dict of keyword arguments. NumPy arrays among
them become tensors of both frameworks (float arrays require grad when the op is differentiable);
anything else is passed unchanged to both.
"""
import dataclasses
from typing import Callable, Optional

import numpy as np


@dataclasses.dataclass
class Sample:
    args: list
    kwargs: dict = dataclasses.field(default_factory=dict)
    name: str = ""
    grad: bool = True  # whether to check gradients for this sample


@dataclasses.dataclass
class OpInfo:
    name: str
    op: Callable  # op(module, *args, **kwargs): the call written once for both tapegrad and torch
    samples: Callable  # samples(rng, np_dtype) -> list[Sample]
    dtypes: tuple = ("float32", "float64")
    grad: bool = True
    gradcheck: bool = True
    gradgrad: bool = True
    rtol: Optional[float] = None
    atol: Optional[float] = None
    noncontiguous: bool = True
    output_index: Optional[int] = None  # compare only this element of a tuple output
    compare_indices: bool = True  # compare integer outputs too

    def __repr__(self):
        return self.name


def shapes_sample(rng, dtype, *shapes, low=-2.0, high=2.0, **kwargs):
    """A sample of random arrays of the given shapes."""
    arrays = [rand(rng, dtype, s, low, high) for s in shapes]
    return Sample(arrays, kwargs, name="x".join(str(list(s)) for s in shapes))


def rand(rng, dtype, shape, low=-2.0, high=2.0):
    if np.dtype(dtype).kind == "f":
        return rng.uniform(low, high, size=shape).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return rng.random(size=shape) > 0.5
    return rng.integers(int(low), int(high) + 1, size=shape).astype(dtype)


def positive(rng, dtype, shape, low=0.5, high=2.0):
    return rand(rng, dtype, shape, low, high)


# Shapes every elementwise operator is tried on: broadcasting, 0-d, 1-size and 0-size dimensions.
UNARY_SHAPES = [(3, 4), (), (1,), (2, 1, 3), (0, 3), (5,)]
BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((1,), (0,)), ((5,), ())]
