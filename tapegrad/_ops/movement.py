"""Shape and movement operators: views (view, reshape, transpose, permute, squeeze, expand, ...),
copies (flip, roll, repeat, cat, stack), and the autograd bookkeeping of in-place writes through views.

What PyTorch returns as a view shares memory here too: the output array is a NumPy view of the
input's, the output remembers its base and how to re-derive itself from it (`_view_fn`), and it
shares the base's version counter.
"""
import numpy as np

from .. import _dtype
from .._tensor import Size, Tensor, _wrap_dim, tensor_method
from ..autograd.function import Function

__all__ = ["reshape", "flatten", "unflatten", "narrow", "split", "chunk", "unbind", "transpose", "swapaxes",
           "swapdims", "t", "permute", "squeeze", "unsqueeze", "cat", "concat", "concatenate", "stack", "hstack",
           "vstack", "dstack", "column_stack", "flip", "fliplr", "flipud", "roll", "movedim", "moveaxis",
           "clone", "broadcast_to", "broadcast_tensors", "broadcast_shapes", "tile", "diagonal", "select",
           "tensor_split", "atleast_1d", "atleast_2d", "atleast_3d", "rot90", "ravel"]


def _view_of(out, inp, fn):
    """Record that `out` is a view of `inp` obtained by array function `fn`."""
    base = inp._base
    if base is None:
        out._base, out._view_fn = inp, fn
    else:
        prev = inp._view_fn
        out._base, out._view_fn = base, (lambda a: fn(prev(a)))
    out._version_ctr = inp._version_ctr
    return out


def _shape_arg(shape, op):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element of type "
                        f"{type(next(s for s in shape if not isinstance(s, int))).__name__}") from None


def _infer_shape(shape, numel, op, in_shape):
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    if neg:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        n *= s
    if n != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


# ---------------------------------------------------------------- reshape family
class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape, must_view):
        ctx.in_shape = x.shape
        try:
            return np.reshape(x, shape, copy=False)
        except ValueError:
            if must_view:
                raise RuntimeError(
                    "view size is not compatible with input tensor's size and stride (at least one dimension "
                    "spans across two contiguous subspaces). Use .reshape(...) instead.") from None
            return np.reshape(x, shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None, None


def _reshape(input, shape, must_view, op):
    shape = _infer_shape(shape, input._data.size, op, input._data.shape)
    if shape == input._data.shape and not must_view:
        return _view_of(Reshape.apply(input, shape, False), input, lambda a: a)
    out = Reshape.apply(input, shape, must_view)
    if np.may_share_memory(out._data, input._data):
        _view_of(out, input, lambda a: np.reshape(a, shape))
    return out


@tensor_method
def view(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], (_dtype.dtype, type)) and not isinstance(shape[0], tuple):
        dt = _dtype.to_dtype(shape[0])
        if dt.itemsize != self._data.itemsize:
            raise NotImplementedError("tapegrad does not implement torch.Tensor.view(dtype) between dtypes of "
                                      "different sizes")
        return Tensor._make(self._data.view(dt.np))
    return _reshape(self, _shape_arg(shape, "view"), True, "view")


@tensor_method
def reshape(input, *shape):
    return _reshape(input, _shape_arg(shape, "reshape"), False, "reshape")


@tensor_method
def view_as(self, other):
    return _reshape(self, tuple(other.shape), True, "view_as")


@tensor_method
def reshape_as(self, other):
    return _reshape(self, tuple(other.shape), False, "reshape_as")


@tensor_method
def flatten(input, start_dim=0, end_dim=-1):
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, (1,))
    s, e = _wrap_dim(start_dim, nd, "flatten"), _wrap_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input._data.shape
    mid = 1
    for d in shape[s:e + 1]:
        mid *= d
    return reshape(input, shape[:s] + (mid,) + shape[e + 1:])


@tensor_method
def ravel(input):
    return reshape(input, (-1,))


@tensor_method
def unflatten(input, dim, sizes):
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "unflatten")
    shape = input._data.shape
    sizes = tuple(sizes)
    if -1 in sizes:
        known = int(np.prod([s for s in sizes if s != -1]))
        sizes = tuple(shape[d] // known if s == -1 else s for s in sizes)
    if int(np.prod(sizes)) != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({shape[d]}) in the input tensor")
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


@tensor_method
def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = {_wrap_dim(d, len(shape), "squeeze") for d in dims} if shape else set()
        new = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
    return _reshape(input, new, False, "squeeze")


@tensor_method
def unsqueeze(input, dim):
    nd = input._data.ndim
    d = _wrap_dim(dim, nd + 1, "unsqueeze")
    shape = input._data.shape
    return _reshape(input, shape[:d] + (1,) + shape[d:], False, "unsqueeze")


# ---------------------------------------------------------------- transpose / permute
class Permute(Function):
    @staticmethod
    def forward(ctx, x, perm):
        ctx.perm = perm
        return np.transpose(x, perm)

    @staticmethod
    def backward(ctx, g):
        return g.permute(tuple(np.argsort(ctx.perm))), None


@tensor_method
def permute(input, *dims):
    dims = _shape_arg(dims, "permute")
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to "
                           f"len(dims) = {len(dims)}")
    perm = tuple(_wrap_dim(d, nd, "permute") for d in dims)
    if len(set(perm)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _view_of(Permute.apply(input, perm), input, lambda a: np.transpose(a, perm))


@tensor_method("transpose", "swapaxes", "swapdims")
def transpose(input, dim0, dim1):
    nd = input._data.ndim
    if nd == 0:
        return _view_of(Permute.apply(input, ()), input, lambda a: a)
    d0, d1 = _wrap_dim(dim0, nd, "transpose"), _wrap_dim(dim1, nd, "transpose")
    perm = list(range(nd))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    perm = tuple(perm)
    return _view_of(Permute.apply(input, perm), input, lambda a: np.transpose(a, perm))


swapaxes = swapdims = transpose


@tensor_method
def t(input):
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return transpose(input, 0, 1) if nd == 2 else input


Tensor.T = property(lambda self: permute(self, tuple(range(self._data.ndim - 1, -1, -1))))
Tensor.mT = property(lambda self: transpose(self, -2, -1))
Tensor.H = property(lambda self: t(self))
Tensor.mH = Tensor.mT


@tensor_method("movedim", "moveaxis")
def movedim(input, source, destination):
    nd = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_wrap_dim(s, nd, "movedim") for s in src]
    dst = [_wrap_dim(d, nd, "movedim") for d in dst]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, tuple(order))


moveaxis = movedim


# ---------------------------------------------------------------- expand / broadcast
class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        from .reduce import sum_to_shape

        return sum_to_shape(g, ctx.in_shape), None


@tensor_method
def expand(self, *sizes):
    sizes = _shape_arg(sizes, "expand")
    shape = self._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand({self.type()}{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
                           f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
                           f"tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    new = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: the expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            new.append(s)
            continue
        cur = shape[i - lead]
        if s == -1:
            s = cur
        if cur != s and cur != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(shape)}")
        new.append(s)
    new = tuple(new)
    if new == shape:
        return _view_of(Reshape.apply(self, shape, False), self, lambda a: a)
    return _view_of(Expand.apply(self, new), self, lambda a: np.broadcast_to(a, new))


@tensor_method
def expand_as(self, other):
    return expand(self, tuple(other.shape))


@tensor_method
def broadcast_to(input, size):
    return expand(input, tuple(size))


def broadcast_shapes(*shapes):
    try:
        return Size(np.broadcast_shapes(*[tuple(s) if not isinstance(s, int) else (s,) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: "
                           f"{', '.join(str(list(s)) for s in shapes)}") from None


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


# ---------------------------------------------------------------- copies
class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


@tensor_method
def clone(input, *, memory_format=None):
    return Clone.apply(input)


class Contiguous(Clone):
    @staticmethod
    def forward(ctx, x):
        return np.ascontiguousarray(x)


@tensor_method
def contiguous(self, memory_format=None):
    if self._data.flags.c_contiguous:
        return self
    return Contiguous.apply(self)


class Flip(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.flip(x, axes).copy()

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.axes), None


@tensor_method
def flip(input, *dims):
    dims = _shape_arg(dims, "flip")
    axes = tuple(_wrap_dim(d, input._data.ndim, "flip") for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError("dims has duplicates")
    return Flip.apply(input, axes)


@tensor_method
def fliplr(input):
    return flip(input, (1,))


@tensor_method
def flipud(input):
    return flip(input, (0,))


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return np.roll(x, shifts, axes)

    @staticmethod
    def backward(ctx, g):
        neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return Roll.apply(g, neg, ctx.axes), None, None


@tensor_method
def roll(input, shifts, dims=None):
    if dims is None:
        return Roll.apply(input.flatten(), shifts if isinstance(shifts, int) else shifts[0], None).view(input.shape)
    shifts = tuple(shifts) if isinstance(shifts, (list, tuple)) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    axes = tuple(_wrap_dim(d, input._data.ndim, "roll") for d in dims)
    return Roll.apply(input, shifts, axes)


@tensor_method
def rot90(input, k=1, dims=(0, 1)):
    k %= 4
    d0, d1 = dims
    if k == 0:
        return input.clone()
    if k == 1:
        return flip(input, (d1,)).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    return flip(input, (d0,)).transpose(d0, d1)


class Repeat(Function):
    @staticmethod
    def forward(ctx, x, reps):
        ctx.in_shape, ctx.reps = x.shape, reps
        x = x.reshape((1,) * (len(reps) - x.ndim) + x.shape)
        return np.tile(x, reps)

    @staticmethod
    def backward(ctx, g):
        reps = ctx.reps
        shape = (1,) * (len(reps) - len(ctx.in_shape)) + tuple(ctx.in_shape)
        split = []
        for r, s in zip(reps, shape):
            split += [r, s]
        gs = g.reshape(split).sum(tuple(range(0, 2 * len(reps), 2)))
        return gs.reshape(ctx.in_shape), None


@tensor_method
def repeat(self, *sizes):
    reps = _shape_arg(sizes, "repeat")
    if len(reps) < self._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    return Repeat.apply(self, reps)


@tensor_method
def tile(input, dims):
    dims = tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return Repeat.apply(input, dims)


# ---------------------------------------------------------------- cat / stack
class Cat(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.sizes = [a.shape[axis] for a in arrays]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return (None,) + tuple(g.split(ctx.sizes, ctx.axis))


def _check_cat(tensors, op):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op}(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return tensors


def cat(tensors, dim=0, *, out=None):
    tensors = _check_cat(tensors, "cat")
    # legacy behaviour kept by PyTorch: 1-d empty tensors are skipped
    nonempty = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    ref = nonempty[0]
    nd = ref._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    axis = _wrap_dim(dim, nd, "cat")
    for i, t in enumerate(nonempty):
        s = t._data.shape
        if t._data.ndim != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {t._data.ndim}")
        for d in range(nd):
            if d != axis and s[d] != ref._data.shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. Expected size "
                                   f"{ref._data.shape[d]} but got size {s[d]} for tensor number {i} in the list.")
    rt = _dtype.result_type(*[_dtype._BY_NP[t._data.dtype] for t in nonempty])
    nonempty = [t if t._data.dtype == rt.np else t.to(rt) for t in nonempty]
    result = Cat.apply(axis, *nonempty)
    if out is not None:
        from .elementwise import _out

        return _out(result, out)
    return result


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    tensors = _check_cat(tensors, "stack")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    d = _wrap_dim(dim, len(shape) + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], d, out=out)


def atleast_1d(*tensors):
    r = [t.reshape(1) if t.dim() == 0 else t for t in (tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors)]
    return r[0] if len(r) == 1 else tuple(r)


def atleast_2d(*tensors):
    r = [t.reshape(1, -1) if t.dim() < 2 else t for t in (tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors)]
    return r[0] if len(r) == 1 else tuple(r)


def atleast_3d(*tensors):
    def f(t):
        if t.dim() == 0:
            return t.reshape(1, 1, 1)
        if t.dim() == 1:
            return t.reshape(1, -1, 1)
        if t.dim() == 2:
            return t.unsqueeze(-1)
        return t

    r = [f(t) for t in (tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors)]
    return r[0] if len(r) == 1 else tuple(r)


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


def dstack(tensors):
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    return hstack([t.reshape(-1, 1) if t.dim() <= 1 else t for t in tensors])


# ---------------------------------------------------------------- narrow / split / unbind
class SplitViews(Function):
    """Several views along one axis at once; backward concatenates their gradients."""

    @staticmethod
    def forward(ctx, x, axis, bounds):
        ctx.axis, ctx.bounds, ctx.shape, ctx.dtype = axis, bounds, x.shape, x.dtype
        index = [slice(None)] * x.ndim
        outs = []
        for lo, hi in bounds:
            index[axis] = slice(lo, hi)
            outs.append(x[tuple(index)])
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        return cat(list(grads), ctx.axis), None, None


def _split_at(input, axis, bounds):
    outs = SplitViews.apply(input, axis, bounds)
    nd = input._data.ndim
    for o, (lo, hi) in zip(outs, bounds):
        idx = (slice(None),) * axis + (slice(lo, hi),)
        _view_of(o, input, lambda a, idx=idx: a[idx])
    return outs


@tensor_method
def split(tensor, split_size_or_sections, dim=0):
    nd = tensor._data.ndim
    if nd == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    axis = _wrap_dim(dim, nd, "split")
    n = tensor._data.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and n > 0 or step < 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        bounds = [(i, min(i + step, n)) for i in range(0, n, step)] if n else [(0, 0)]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {axis}), but got split_sizes={sizes}")
        bounds, lo = [], 0
        for s in sizes:
            bounds.append((lo, lo + s))
            lo += s
    return _split_at(tensor, axis, tuple(bounds))


@tensor_method
def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    n = input._data.shape[_wrap_dim(dim, input._data.ndim, "chunk")]
    step = max(1, -(-n // chunks))
    return split(input, step, dim)


@tensor_method
def tensor_split(input, indices_or_sections, dim=0):
    axis = _wrap_dim(dim, input._data.ndim, "tensor_split")
    n = input._data.shape[axis]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        bounds, lo = [], 0
        for s in sizes:
            bounds.append((lo, lo + s))
            lo += s
    else:
        cuts = [0] + [min(max(int(i), 0), n) for i in indices_or_sections] + [n]
        bounds = [(cuts[i], max(cuts[i], cuts[i + 1])) for i in range(len(cuts) - 1)]
    return _split_at(input, axis, tuple(bounds))


@tensor_method
def narrow(input, dim, start, length):
    nd = input._data.ndim
    axis = _wrap_dim(dim, nd, "narrow")
    n = input._data.shape[axis]
    start = int(start)
    if start < 0:
        start += n
    if start < 0 or start > n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return input[(slice(None),) * axis + (slice(start, start + length),)]


@tensor_method
def select(input, dim, index):
    axis = _wrap_dim(dim, input._data.ndim, "select")
    n = input._data.shape[axis]
    if index < -n or index >= n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {axis}")
    return input[(slice(None),) * axis + (index,)]


@tensor_method
def unbind(input, dim=0):
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    axis = _wrap_dim(dim, nd, "unbind")
    n = input._data.shape[axis]
    parts = _split_at(input, axis, tuple((i, i + 1) for i in range(n)))
    return tuple(p.squeeze(axis) for p in parts)


class Diagonal(Function):
    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.shape, ctx.args = x.shape, (offset, d1, d2)
        return _diag_view(x, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        z = np.zeros(ctx.shape, dtype=g._data.dtype)
        _diag_view(z, *ctx.args)[...] = g._data
        return Tensor._make(z), None, None, None


def _diag_view(x, offset, d1, d2):
    """A writable strided view of a diagonal (NumPy's np.diagonal is read-only); the diagonal is the last axis."""
    n1, n2 = x.shape[d1], x.shape[d2]
    start1, start2 = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(n1 - start1, n2 - start2))
    rest = [i for i in range(x.ndim) if i not in (d1, d2)]
    shape = tuple(x.shape[i] for i in rest) + (length,)
    if length == 0:
        return np.zeros(shape, dtype=x.dtype)
    index = [slice(None)] * x.ndim
    index[d1], index[d2] = slice(start1, None), slice(start2, None)
    sub = x[tuple(index)]
    strides = tuple(x.strides[i] for i in rest) + (x.strides[d1] + x.strides[d2],)
    return np.lib.stride_tricks.as_strided(sub, shape=shape, strides=strides, writeable=x.flags.writeable)


@tensor_method
def diagonal(input, offset=0, dim1=0, dim2=1):
    nd = input._data.ndim
    d1, d2 = _wrap_dim(dim1, nd, "diagonal"), _wrap_dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    out = Diagonal.apply(input, offset, d1, d2)
    if np.may_share_memory(out._data, input._data):
        _view_of(out, input, lambda a: _diag_view(a, offset, d1, d2))
    return out


# ---------------------------------------------------------------- in-place writes through views
class CopySlices(Function):
    """The base after a view of it was overwritten: gradient flows to the new values in the
    view's region and to the old base elsewhere."""

    @staticmethod
    def forward(ctx, base, value, view_fn):
        ctx.view_fn = view_fn
        return base  # the data is already in place: the view shares the base's memory

    @staticmethod
    def backward(ctx, g):
        gb = g._data.copy()
        ctx.view_fn(gb)[...] = 0
        gv = np.array(ctx.view_fn(g._data))
        return Tensor._make(gb), Tensor._make(gv), None


class AsView(Function):
    """A view re-derived from its (rebased) base."""

    @staticmethod
    def forward(ctx, base, view_fn):
        ctx.view_fn, ctx.shape = view_fn, base.shape
        return view_fn(base)

    @staticmethod
    def backward(ctx, g):
        z = np.zeros(ctx.shape, dtype=g._data.dtype)
        ctx.view_fn(z)[...] += g._data
        return Tensor._make(z), None


def _rebase_view(view, value):
    base, fn = view._base, view._view_fn
    new_base = CopySlices.apply(base, value.detach() if not value._rg else value, fn)
    if new_base.grad_fn is not None:
        base.grad_fn, base._output_nr, base._rg = new_base.grad_fn, 0, True
        v = AsView.apply(base, fn)
        view.grad_fn, view._output_nr, view._rg = v.grad_fn, 0, True
