"""In-place variants (`add_`, `mul_`, `clamp_`, `zero_`, `copy_`, ...).

Each one computes its out-of-place operator and hands the result to `Tensor._inplace`, which
writes it into the tensor's memory (visible through every view), bumps the shared version
counter (so backward refuses stale saved values), and makes the tensor the result's node in
the graph. With no graph involved, the common arithmetic ones write straight into the array.
"""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, tensor_method
from ..autograd import grad_mode
from ..autograd.function import _named
from . import elementwise as E
from . import indexing as I
from . import linalg as L
from . import movement as M

_OUT_OF_PLACE = {
    "add_": E.add, "sub_": E.sub, "subtract_": E.sub, "mul_": E.mul, "multiply_": E.mul, "div_": E.div,
    "divide_": E.div, "true_divide_": E.div, "floor_divide_": E.floor_divide, "remainder_": E.remainder,
    "fmod_": E.fmod, "pow_": E.pow, "neg_": E.neg, "negative_": E.neg, "abs_": E.abs, "absolute_": E.abs,
    "exp_": E.exp, "exp2_": E.exp2, "expm1_": E.expm1, "log_": E.log, "log2_": E.log2, "log10_": E.log10,
    "log1p_": E.log1p, "sqrt_": E.sqrt, "rsqrt_": E.rsqrt, "square_": E.square, "sin_": E.sin, "cos_": E.cos,
    "tan_": E.tan, "asin_": E.asin, "acos_": E.acos, "atan_": E.atan, "sinh_": E.sinh, "cosh_": E.cosh,
    "tanh_": E.tanh, "asinh_": E.asinh, "acosh_": E.acosh, "atanh_": E.atanh, "sigmoid_": E.sigmoid,
    "reciprocal_": E.reciprocal, "erf_": E.erf, "erfinv_": E.erfinv, "floor_": E.floor,
    "ceil_": E.ceil, "round_": E.round, "trunc_": E.trunc, "frac_": E.frac, "sign_": E.sign, "clamp_": E.clamp,
    "clip_": E.clamp, "clamp_min_": E.clamp_min, "clamp_max_": E.clamp_max, "lerp_": E.lerp,
    "addcmul_": E.addcmul, "addcdiv_": E.addcdiv, "atan2_": E.atan2, "nan_to_num_": E.nan_to_num,
    "logical_not_": E.logical_not, "logical_and_": E.logical_and, "logical_or_": E.logical_or,
    "maximum_": E.maximum, "minimum_": E.minimum, "hypot_": E.hypot,
    "masked_fill_": I.masked_fill, "scatter_": I.scatter_inplace_form, "scatter_add_": I.scatter_add,
    "scatter_reduce_": I.scatter_reduce, "index_add_": I.index_add, "index_fill_": I.index_fill,
    "index_copy_": I.index_copy, "masked_scatter_": I.masked_scatter, "tril_": L.tril, "triu_": L.triu,
    "eq_": E.eq, "ne_": E.ne, "lt_": E.lt, "le_": E.le, "gt_": E.gt, "ge_": E.ge,
}


_OVERLAP = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
            "memory location. Please clone() the tensor before performing the operation.")


def _dense(a):
    """PyTorch's is_non_overlapping_and_dense: the elements fill their memory range exactly, in some order."""
    expect = a.itemsize
    for st, n in sorted((st, n) for st, n in zip(a.strides, a.shape) if n != 1):
        if st != expect:
            return False
        expect *= n
    return True


def _check_overlap(out, inp):
    """PyTorch's assert_no_partial_overlap between the written-to array and an input: inputs that share some,
    but not exactly all, of the output's memory are refused (what overlaps in a way too hard to tell passes)."""
    if out is inp or out.base is None and inp.base is None:  # one array, or two that own their memory
        return
    if out.__class__ is not np.ndarray or inp.__class__ is not np.ndarray or not out.size \
            or not inp.size or not np.may_share_memory(out, inp) or not (_dense(out) and _dense(inp)):
        return
    a, b = out.__array_interface__["data"][0], inp.__array_interface__["data"][0]
    if a == b and out.nbytes == inp.nbytes and out.strides == inp.strides:
        return  # the same memory, addressed the same way
    raise RuntimeError(_OVERLAP)


def _check_args_overlap(self, args, kwargs):
    d = self._data
    for v in args:
        if isinstance(v, Tensor):
            _check_overlap(d, v._data)
    for v in kwargs.values():
        if isinstance(v, Tensor):
            _check_overlap(d, v._data)


def _writable_alias(arr):
    """A writable array over the same memory as `arr`, a read-only expanded view (np.broadcast_to) of a
    writable array; None where there is none. PyTorch lets fill_, zero_ and index writes into an expanded
    tensor (every alias of an element gets the same value)."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    if arr.__class__ is not np.ndarray or not root.flags.writeable or not root.flags.c_contiguous:
        return None
    off = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return np.ndarray(arr.shape, arr.dtype, buffer=root, offset=off, strides=arr.strides)


def _check_writable(self):
    """PyTorch's refusal to write into an expanded tensor (tapegrad's expand views are read-only arrays),
    after the autograd checks PyTorch makes first."""
    if not self._data.flags.writeable:
        self._check_inplace()
        raise RuntimeError(I._INTERNAL_OVERLAP)


def _make_inplace(name, op):
    def method(self, *args, **kwargs):
        if not self._data.flags.writeable:
            _check_writable(self)
        if args or kwargs:
            _check_args_overlap(self, args, kwargs)
        return self._inplace(op(self, *args, **kwargs), name)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place version of {op.__name__}."
    return method


for _name, _op in _OUT_OF_PLACE.items():
    setattr(Tensor, _name, _make_inplace(_name, _op))

_FAST = {"add_": np.add, "sub_": np.subtract, "mul_": np.multiply}


_INT_RANGE = {np.dtype(t): (int(np.iinfo(t).min), int(np.iinfo(t).max))
              for t in (np.int8, np.int16, np.int32, np.int64, np.uint8)}


def _fast_arith(name, ufunc, slow):
    """add_/sub_/mul_ without a graph: one ufunc call writing into the tensor's own memory."""

    def method(self, other, *, alpha=1):
        if isinstance(other, Tensor):
            _check_overlap(self._data, other._data)
        if alpha.__class__ is float and self._data.dtype.kind in "iub" and (
                other._data.dtype.kind in "iub" if isinstance(other, Tensor) else isinstance(other, int)):
            raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
        if grad_mode.GRAD[0] and (self._rg or (isinstance(other, Tensor) and other._rg)):
            return slow(self, other, alpha=alpha) if name != "mul_" else slow(self, other)
        d = self._data
        if name == "sub_" and d.dtype.kind == "b":  # the slow path raises PyTorch's error for bool subtraction
            return slow(self, other, alpha=alpha)
        if isinstance(other, Tensor):
            o = other._data
            if o.dtype != d.dtype and not _dtype.can_cast(_dtype._BY_NP[o.dtype], _dtype._BY_NP[d.dtype]):
                return slow(self, other, alpha=alpha) if name != "mul_" else slow(self, other)
        elif isinstance(other, (int, float)) and not isinstance(other, bool):
            if isinstance(other, float) and d.dtype.kind not in "fc":
                return slow(self, other, alpha=alpha) if name != "mul_" else slow(self, other)
            if d.dtype.kind in "iu" and not (_INT_RANGE[d.dtype][0] <= other * alpha <= _INT_RANGE[d.dtype][1]):
                # out of the dtype's range: PyTorch wraps around, NumPy 2 would raise; the slow path wraps
                return slow(self, other, alpha=alpha) if name != "mul_" else slow(self, other)
            o = other
        else:
            return slow(self, other, alpha=alpha) if name != "mul_" else slow(self, other)
        if o.__class__ not in (int, float) and o.shape != d.shape:  # a number broadcasts to any shape
            try:
                if np.broadcast_shapes(o.shape, d.shape) != d.shape:
                    raise ValueError
            except ValueError:
                return slow(self, other, alpha=alpha) if name != "mul_" else slow(self, other)
        if not d.flags.writeable:
            _check_writable(self)
        if alpha != 1:
            o = o * alpha
        ufunc(d, o, out=d, casting="unsafe")
        self._version_ctr.v += 1
        return self

    method.__name__ = name
    return method


for _name, _uf in _FAST.items():
    _slow = getattr(Tensor, _name)
    if _name == "mul_":
        setattr(Tensor, _name, _fast_arith(_name, _uf, lambda self, other, _s=_slow: _s(self, other)))
    else:
        setattr(Tensor, _name, _fast_arith(_name, _uf, _slow))

# Python's augmented assignment: x += y is in place, as in PyTorch
Tensor.__iadd__ = lambda self, other: self.add_(other)
Tensor.__isub__ = lambda self, other: self.sub_(other)
Tensor.__imul__ = lambda self, other: self.mul_(other)
Tensor.__itruediv__ = lambda self, other: self.div_(other)
Tensor.__ifloordiv__ = lambda self, other: self.floor_divide_(other)
Tensor.__imod__ = lambda self, other: self.remainder_(other)
Tensor.__ipow__ = lambda self, other: self.pow_(other)
Tensor.__iand__ = lambda self, other: self._inplace(E.bitwise_and(self, other), "__iand__")
Tensor.__ior__ = lambda self, other: self._inplace(E.bitwise_or(self, other), "__ior__")
Tensor.__ixor__ = lambda self, other: self._inplace(E.bitwise_xor(self, other), "__ixor__")
Tensor.__imatmul__ = lambda self, other: self._inplace(L.matmul(self, other), "__imatmul__")


def _assign(self, value, name, node=None):
    """Overwrite every element of self with `value` (broadcast), keeping autograd right; `node`: PyTorch's
    name for the in-place op's node."""
    nograd = not (grad_mode.GRAD[0] and (self._rg or (isinstance(value, Tensor) and value._rg)))
    dest = self._data
    if not dest.flags.writeable:
        dest = _writable_alias(dest) if nograd and name != "copy_" else None
        if dest is None:
            _check_writable(self)
    if nograd:
        self._check_inplace()
        src = value._data if isinstance(value, Tensor) else value
        if isinstance(value, Tensor) and value._data.__class__ is not self._data.__class__:
            src = value.to(self.device)._data
        try:
            dest[...] = src
        except ValueError:
            raise RuntimeError(f"{name}: the size of the source {list(np.shape(src))} must be broadcastable to "
                               f"the destination {list(self.shape)}") from None
        self._version_ctr.v += 1
        return self
    if not isinstance(value, Tensor):
        value = Tensor._make(np.asarray(value, dtype=self._data.dtype))
    everywhere = Tensor._make(np.ones((), dtype=bool))
    out = E.Where.apply(everywhere, value.to(self.dtype).expand(self.shape), self)
    return self._inplace(_named(out, node) if node else out, name)


@tensor_method
def zero_(self):
    return _assign(self, 0, "zero_", "ZeroBackward0")


_C_INT = {"int64": "int64_t", "int32": "int", "int16": "short", "int8": "int8_t", "uint8": "uint8_t"}


@tensor_method
def fill_(self, value):
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} "
                           "dimensions.")
    dt = self._data.dtype
    if dt.kind in "iu" and not isinstance(value, (Tensor, bool)):
        lo, hi = _INT_RANGE.get(dt, (None, None))
        if isinstance(value, float) and not np.isfinite(value) or lo is not None and not lo <= value <= hi:
            raise RuntimeError(f"value cannot be converted to type {_C_INT.get(dt.name, dt.name)} without overflow")
    return _assign(self, value, "fill_", "FillBackward3" if isinstance(value, Tensor) else "FillBackward2")


@tensor_method
def copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    try:
        shape = np.broadcast_shapes(src._data.shape, self._data.shape)
    except ValueError as exc:
        raise E._broadcast_error("copy_", exc, self._data, src._data) from None
    if shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                           f"{list(shape)}")
    _check_overlap(self._data, src._data)
    return _assign(self, src, "copy_", "CopyBackwards")


@tensor_method
def fill_diagonal_(self, fill_value, wrap=False):
    self._check_inplace()
    np.fill_diagonal(self._data, fill_value, wrap=wrap)
    self._version_ctr.v += 1
    return self


def _view_inplace(name, op):
    """t_, transpose_, squeeze_, unsqueeze_: change self's shape metadata in place."""

    def method(self, *args, **kwargs):
        r = op(self, *args, **kwargs)
        self._data = r._data
        if r.grad_fn is not None:
            self.grad_fn, self._output_nr = r.grad_fn, r._output_nr
        self._version_ctr.v += 1  # PyTorch bumps the version of a tensor whose metadata changed in place
        return self

    method.__name__ = name
    setattr(Tensor, name, method)


for _name, _op in (("t_", M.t), ("transpose_", M.transpose), ("squeeze_", M.squeeze),
                   ("unsqueeze_", M.unsqueeze), ("swapaxes_", M.transpose)):
    _view_inplace(_name, _op)


@tensor_method
def resize_(self, *sizes):
    shape = M._shape_arg(sizes, "resize_")
    n = int(np.prod(shape))
    flat = self._data.reshape(-1)
    new = np.zeros(n, dtype=self._data.dtype)
    new[:min(n, flat.size)] = flat[:min(n, flat.size)]
    self._data = new.reshape(shape)
    self._version_ctr.v += 1
    return self


@tensor_method
def set_(self, source=None):
    self._data = source._data if source is not None else np.zeros(0, self._data.dtype)
    return self


@tensor_method
def share_memory_(self):
    return self


@tensor_method
def pin_memory(self):
    return self


@tensor_method
def is_pinned(self):
    return False


@tensor_method
def record_stream(self, stream):
    return None
