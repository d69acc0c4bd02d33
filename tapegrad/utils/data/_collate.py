"""default_collate and default_convert: PyTorch's rules for turning a list of samples into a batch.

Tensors are stacked, NumPy arrays become tensors and are stacked, Python floats become a float64
tensor, ints int64, bools bool, strings and bytes stay a list; Mappings, namedtuples and sequences
are collated field by field (a batch of tuples becomes a list, as in PyTorch).

Where PyTorch says only "stack expects each tensor to be equal size", a batch whose samples
disagree raises BatchMismatchError (a RuntimeError) naming the sample's position in the batch, its
dataset index (filled in by the DataLoader), the field it was found in, and both shapes.
"""
import collections
import copy
import re

import numpy as np

from ... import _dtype
from ..._tensor import Tensor

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map", "BatchMismatchError"]

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}")


class BatchMismatchError(RuntimeError):
    """Samples of one batch that cannot be collated together.

    Fields: `sample` (position in the batch), `path` (keys/positions of the field inside the sample),
    `indices` (the batch's dataset indices, when the DataLoader knows them), `detail` and `ref_detail`
    (what was found at `sample` and at sample 0).
    """

    def __init__(self, message=None, *, sample=None, detail=None, ref_detail=None, path=()):
        super().__init__(message)
        self.sample, self.detail, self.ref_detail = sample, detail, ref_detail
        self.path, self.indices = list(path), None

    def __str__(self):
        if self.sample is None:
            return super().__str__()
        where = "".join(f"[{k!r}]" for k in self.path)
        where = f" in field {where}" if where else ""
        idx = ""
        ref_idx = ""
        if self.indices is not None:
            try:
                idx = f" (dataset index {self.indices[self.sample]!r})"
                ref_idx = f" (dataset index {self.indices[0]!r})"
            except (IndexError, TypeError, KeyError):
                pass
        return (f"default_collate: sample {self.sample} of the batch{idx} has {self.detail}{where}, but sample 0"
                f"{ref_idx} has {self.ref_detail}; every sample in a batch must match to be stacked "
                "(resize or pad the samples, or pass a collate_fn to the DataLoader)")

    def __reduce__(self):  # crosses process boundaries as its formatted message
        return (BatchMismatchError, (str(self),))


def _annotate(exc, key):
    if isinstance(exc, BatchMismatchError) and exc.sample is not None:
        exc.path.insert(0, key)


def default_convert(data):
    """Convert NumPy arrays (also inside sequences and mappings) to tensors; leave the rest unchanged."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return _as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def _as_tensor(arr):
    arr = np.asarray(arr)
    _dtype.from_numpy_dtype(arr.dtype)  # TypeError for dtypes PyTorch lacks
    return Tensor._make(arr)


def collate(batch, *, collate_fn_map=None):
    """Collate a batch by the type of its first element, looking types up in `collate_fn_map`."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        def field(key):
            try:
                return collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
            except BatchMismatchError as e:
                _annotate(e, key)
                raise

        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: field(key) for key in elem})
                return clone
            return elem_type({key: field(key) for key in elem})
        except TypeError:
            return {key: field(key) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        out = []
        for name, samples in zip(elem._fields, zip(*batch)):
            try:
                out.append(collate(samples, collate_fn_map=collate_fn_map))
            except BatchMismatchError as e:
                _annotate(e, name)
                raise
        return elem_type(*out)
    if isinstance(elem, collections.abc.Sequence):
        elem_size = len(elem)
        for i, other in enumerate(batch):
            if len(other) != elem_size:
                raise BatchMismatchError(
                    "each element in list of batch should be of equal size", sample=i,
                    detail=f"a {type(other).__name__} of {len(other)} elements",
                    ref_detail=f"a {elem_type.__name__} of {elem_size} elements")
        transposed = list(zip(*batch))

        def fields():
            out = []
            for i, samples in enumerate(transposed):
                try:
                    out.append(collate(samples, collate_fn_map=collate_fn_map))
                except BatchMismatchError as e:
                    _annotate(e, i)
                    raise
            return out

        if isinstance(elem, tuple):
            return fields()  # a list, for backwards compatibility (as in PyTorch)
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, v in enumerate(fields()):
                    clone[i] = v
                return clone
            return elem_type(fields())
        except TypeError:
            return fields()
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def _shape(x):
    return list(x.shape)


def collate_tensor_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    shape, dt = elem._data.shape, elem._data.dtype
    same_dtype, grad, cls = True, False, elem._data.__class__
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor):
            raise BatchMismatchError(f"expected a Tensor, got {type(t).__name__}", sample=i,
                                     detail=f"a {type(t).__name__}", ref_detail="a Tensor")
        d = t._data
        if d.shape != shape:
            raise BatchMismatchError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(d.shape)} at entry {i}", sample=i, detail=f"a tensor of shape {list(d.shape)}",
                ref_detail=f"shape {list(shape)}")
        if d.dtype != dt:
            same_dtype = False
        if t._rg or d.__class__ is not cls:
            grad = True
    if same_dtype and not grad and cls is np.ndarray:
        return Tensor._make(np.stack([t._data for t in batch]))
    from ..._ops.movement import stack

    return stack(list(batch), 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([_as_tensor(b) if isinstance(b, np.ndarray) else b for b in batch],
                   collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return _as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    from ..._ops.creation import tensor

    return tensor(batch, dtype=_dtype.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    from ..._ops.creation import tensor

    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Stack a list of samples into a batch with PyTorch's rules (see the module docstring).

    >>> default_collate([(1, 2.0), (3, 4.0)])   # [tensor([1, 3]), tensor([2., 4.], dtype=torch.float64)]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
