"""Shape and movement operators: views (view, reshape, transpose, permute, squeeze, expand, narrow,
select, split, diagonal, ...), copies (flip, roll, repeat, cat, stack), and the autograd bookkeeping
of in-place writes through views.

What PyTorch returns as a view shares memory here too: the output array is a NumPy view of the
input's, the output remembers its base and how to re-derive itself from it (`_view_fn`), and it
shares the base's version counter.
"""
import weakref

import numpy as np

from .. import _dtype
from .._tensor import Size, Tensor, _wrap_dim, tensor_method
from ..autograd.function import Function

__all__ = ["reshape", "flatten", "unflatten", "narrow", "split", "chunk", "unbind", "transpose", "swapaxes",
           "swapdims", "t", "permute", "squeeze", "unsqueeze", "cat", "concat", "concatenate", "stack", "hstack",
           "vstack", "dstack", "column_stack", "flip", "fliplr", "flipud", "roll", "movedim", "moveaxis",
           "clone", "broadcast_to", "broadcast_tensors", "broadcast_shapes", "tile", "diagonal", "select",
           "tensor_split", "atleast_1d", "atleast_2d", "atleast_3d", "rot90", "ravel", "pixel_shuffle",
           "pixel_unshuffle", "adjoint"]


def _view_of(out, inp, fn):
    """Record that `out` is a view of `inp` obtained by array function `fn`. A differentiable view of a
    non-leaf is also remembered (weakly) by its base, so an in-place write can update its history."""
    base = inp._base
    if base is None:
        base = out._base = inp
        out._view_fn = fn
    else:
        prev = inp._view_fn
        out._base, out._view_fn = base, (lambda a: fn(prev(a)))
    out._version_ctr = inp._version_ctr
    if out._rg:
        err = inp.__dict__.get("_inplace_error")
        if err is not None:
            out.__dict__["_inplace_error"] = err
        if base.grad_fn is not None:
            refs = base.__dict__.get("_views")
            if refs is None:
                refs = base.__dict__["_views"] = []
            refs.append(weakref.ref(out))
            n = len(refs)
            if n >= 32 and not n & (n - 1):  # now and then, forget the views that are gone
                refs[:] = [r for r in refs if r() is not None]
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
    infer, known = None, 1
    for i, s in enumerate(shape):  # PyTorch's infer_size: checked left to right
        if s == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s >= 0:
            known *= s
        else:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
    if numel == known or (infer is not None and known > 0 and numel % known == 0):
        if infer is not None:
            if known == 0:
                raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                                   "unspecified dimension size -1 can be any value and is ambiguous")
            shape = shape[:infer] + (numel // known,) + shape[infer + 1:]
        return shape
    raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")


# ---------------------------------------------------------------- views by an array function
class AsView(Function):
    """The view `fn` takes of its input (a slice, an element, a diagonal, a view re-derived from its
    base after an in-place write); the gradient goes back through the adjoint, ViewScatter."""

    @staticmethod
    def forward(ctx, x, fn):
        ctx.fn, ctx.like = fn, x
        return fn(x)

    @staticmethod
    def backward(ctx, g):
        return ViewScatter.apply(g, ctx.fn, ctx.like), None


class Slice(AsView):
    pass


class Select(AsView):
    pass


class Diagonal(AsView):
    pass


class ViewScatter(Function):
    """Zeros shaped like the base, with `g` written where the view `fn` looks (AsView's adjoint)."""

    @staticmethod
    def forward(ctx, g, fn, like):
        ctx.fn = fn
        z = np.zeros_like(like, dtype=g.dtype)  # keeps `like`'s memory layout, so `fn` gives a view of it
        fn(z)[...] = g
        return z

    @staticmethod
    def backward(ctx, g):
        return AsView.apply(g, ctx.fn), None, None


def _as_view(cls, input, fn):
    return _view_of(cls.apply(input, fn), input, fn)


# ---------------------------------------------------------------- reshape family
class View(Function):
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


# The same node under PyTorch's names for the calls that make it: reshape of a non-contiguous input is
# _reshape_alias when a view can do it and _unsafe_view of a copy when not (of a contiguous one, view).
class Squeeze(View):  # squeeze(): SqueezeBackward0; squeeze(int) and squeeze(dims): the subclasses below
    pass


class _SqueezeDim(Squeeze):
    pass


class _SqueezeDims(Squeeze):
    pass


class Unsqueeze(View):
    pass


class ReshapeAlias(View):
    pass


class UnsafeView(View):
    pass


_SqueezeDim._backward_name, _SqueezeDims._backward_name = "SqueezeBackward1", "SqueezeBackward2"


def _reshape(input, shape, must_view, op, cls=None):
    shape = _infer_shape(shape, input._data.size, op, input._data.shape)
    if cls is None:
        cls = View
        if not must_view and not input._data.flags.c_contiguous:
            try:
                np.reshape(input._data, shape, copy=False)
                cls = ReshapeAlias
            except ValueError:
                cls = UnsafeView
    out = cls.apply(input, shape, must_view)
    if must_view or not out._data.size or np.may_share_memory(out._data, input._data):
        _view_of(out, input, lambda a: np.reshape(a, shape))
    return out


@tensor_method
def view(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], (_dtype.dtype, type)) and not isinstance(shape[0], tuple):
        dt = _dtype.to_dtype(shape[0])
        if dt.itemsize != self._data.itemsize:
            raise NotImplementedError("tapegrad does not implement torch.Tensor.view(dtype) between dtypes of "
                                      "different sizes")
        return Tensor._make(self._data.view(dt.np), version=self._version_ctr)
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
    if s == e:  # PyTorch returns the input itself here; tapegrad a view of it
        return _reshape(input, shape, False, "flatten", View)
    mid = 1
    for d in shape[s:e + 1]:
        mid *= d
    return reshape(input, shape[:s] + (mid,) + shape[e + 1:])


@tensor_method
def ravel(input):
    return _reshape(input, (-1,), False, "ravel", View)  # PyTorch's contiguous().view(-1)


@tensor_method
def unflatten(input, dim, sizes):
    d = _wrap_dim(dim, input._data.ndim, "unflatten")
    shape = input._data.shape
    given = tuple(int(s) for s in sizes)
    if not given:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n, known = shape[d], 1
    for s in given:
        if s != -1:
            known *= s
    infer = given.count(-1)
    if infer > 1:
        raise RuntimeError("unflatten got an unexpected error:\nonly one dimension can be inferred")
    if infer and known == 0 and n == 0:
        raise RuntimeError(f"unflatten got an unexpected error:\ncannot reshape tensor of 0 elements into shape "
                           f"{list(given)} because the unspecified dimension size -1 can be any value and is "
                           "ambiguous")
    if (n % known if infer and known else n != known) or (infer and not known):
        raise RuntimeError(f"unflatten: Provided sizes {list(given)} don't multiply up to the size of dim {d} "
                           f"({n}) in the input tensor")
    sizes = tuple(n // known if s == -1 else s for s in given)
    return _reshape(input, shape[:d] + sizes + shape[d + 1:], False, "unflatten", View)  # always a view


@tensor_method
def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        new, cls = tuple(s for s in shape if s != 1), Squeeze
    else:
        multi = isinstance(dim, (tuple, list))
        dims = dim if multi else (dim,)
        axes = {_wrap_dim(d, len(shape), "squeeze") for d in dims} if shape else set()
        new = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
        cls = _SqueezeDims if multi else _SqueezeDim
    return _reshape(input, new, False, "squeeze", cls)


@tensor_method
def unsqueeze(input, dim):
    d = _wrap_dim(dim, input._data.ndim + 1, "unsqueeze")
    shape = input._data.shape
    return _reshape(input, shape[:d] + (1,) + shape[d:], False, "unsqueeze", Unsqueeze)


# ---------------------------------------------------------------- transpose / permute
class Permute(Function):
    @staticmethod
    def forward(ctx, x, perm):
        ctx.perm = perm
        return np.transpose(x, perm)

    @staticmethod
    def backward(ctx, g):
        return g.permute(tuple(np.argsort(ctx.perm))), None


class Transpose(Permute):
    pass


class T(Transpose):  # t(): PyTorch's TBackward0
    pass


def _permute(input, perm, cls=Permute):
    return _view_of(cls.apply(input, perm), input, lambda a: np.transpose(a, perm))


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
    return _permute(input, perm)


@tensor_method("transpose", "swapaxes", "swapdims")
def transpose(input, dim0, dim1):
    nd = input._data.ndim
    perm = list(range(nd))
    if nd:
        d0, d1 = _wrap_dim(dim0, nd, "transpose"), _wrap_dim(dim1, nd, "transpose")
        perm[d0], perm[d1] = perm[d1], perm[d0]
    else:
        _wrap_dim(dim0, nd, "transpose"), _wrap_dim(dim1, nd, "transpose")
    return _permute(input, tuple(perm), Transpose)


swapaxes = swapdims = transpose


def _t(input, cls):
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return _permute(input, tuple(range(nd - 1, -1, -1)), cls)


@tensor_method
def t(input):
    return _t(input, T)


def _matrix_transpose(self, what):
    if self._data.ndim < 2:
        raise RuntimeError(f"{what} is only supported on matrices or batches of matrices. Got "
                           f"{self._data.ndim}-D tensor.")
    return transpose(self, -2, -1)


def _H(self):
    if self._data.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self._data.ndim}-D tensor."
                           f"{' For batches of matrices, consider using tensor.mH' if self._data.ndim > 2 else ''}")
    return _t(self, Transpose)  # PyTorch's H is transpose(0, 1): TransposeBackward0


@tensor_method
def adjoint(input):
    if input._data.ndim == 0:
        return input  # PyTorch returns the 0-d tensor itself (with a deprecation warning)
    return _matrix_transpose(input, "tensor.adjoint()")


Tensor.T = property(lambda self: _permute(self, tuple(range(self._data.ndim - 1, -1, -1))))
Tensor.mT = property(lambda self: _matrix_transpose(self, "tensor.mT"))
Tensor.H = property(_H)
Tensor.mH = property(lambda self: _matrix_transpose(self, "tensor.mH"))


@tensor_method("movedim", "moveaxis")
def movedim(input, source, destination):
    nd = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    src = [_wrap_dim(s, nd, "movedim") for s in src]
    dst = [_wrap_dim(d, nd, "movedim") for d in dst]
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({ds})")
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _permute(input, tuple(order))


moveaxis = movedim


# ---------------------------------------------------------------- expand / broadcast
class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.view() if shape == x.shape else np.broadcast_to(x, shape)  # a real expansion is read-only

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
    for i in range(len(sizes) - 1, -1, -1):  # from the last dimension, as PyTorch checks (and reports) them
        s = sizes[i]
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   f"non-existing dimension {i}")
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
    new = tuple(reversed(new))
    if new == shape:  # a writable alias, re-derived as one (np.broadcast_to would make it read-only)
        return _view_of(Expand.apply(self, new), self, lambda a: a.view())
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
    shape = ()
    for i, t in enumerate(tensors):
        s = t._data.shape
        try:
            shape = np.broadcast_shapes(shape, s)
        except ValueError:
            d = next(d for d in range(1, min(len(s), len(shape)) + 1) if 1 != s[-d] != shape[-d] != 1)
            raise RuntimeError(f"The size of tensor a ({shape[-d]}) must match the size of tensor b ({s[-d]}) at "
                               f"non-singleton dimension {max(len(s), len(shape)) - d}") from None
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


Contiguous._backward_name = "CloneBackward0"  # PyTorch's contiguous() is a clone


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
        return Flip.apply(g, ctx.axes), None


@tensor_method
def flip(input, *dims):
    dims = _shape_arg(dims, "flip")
    axes = tuple(_wrap_dim(d, input._data.ndim, "flip") for d in dims) if input._data.ndim else ()
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {next(d for d in axes if axes.count(d) > 1)} appears multiple times in the list "
                           "of dims")
    return Flip.apply(input, axes)


@tensor_method
def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@tensor_method
def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
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
        if isinstance(shifts, (list, tuple)):
            if len(shifts) != 1:
                raise RuntimeError(f"roll: shifts must have one element when dims is not given, got {len(shifts)}")
            shifts = shifts[0]
        return Roll.apply(input, int(shifts), None)  # NumPy rolls the flattened array and keeps the shape
    shifts = tuple(int(s) for s in shifts) if isinstance(shifts, (list, tuple)) else (int(shifts),)
    dims = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    axes = tuple(_wrap_dim(d, input._data.ndim, "roll") for d in dims)
    return Roll.apply(input, shifts, axes)


@tensor_method
def rot90(input, k=1, dims=(0, 1)):
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = _wrap_dim(dims[0], nd, "rot90"), _wrap_dim(dims[1], nd, "rot90")
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return flip(input, (d1,)).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(input, (d0,)).transpose(d0, d1)
    return input.clone()


def _shuffle(x, r):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r) on an array."""
    *b, c, h, w = x.shape
    x = x.reshape(*b, c // (r * r), r, r, h, w)
    n = len(b)
    return x.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2).reshape(*b, c // (r * r), h * r, w * r)


def _unshuffle(x, r):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W) on an array."""
    *b, c, h, w = x.shape
    x = x.reshape(*b, c, h // r, r, w // r, r)
    n = len(b)
    return x.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3).reshape(*b, c * r * r, h // r, w // r)


class PixelShuffle(Function):
    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        return _shuffle(x, r)

    @staticmethod
    def backward(ctx, g):
        return PixelUnshuffle.apply(g, ctx.r), None


class PixelUnshuffle(Function):
    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        return _unshuffle(x, r)

    @staticmethod
    def backward(ctx, g):
        return PixelShuffle.apply(g, ctx.r), None


def _check_factor(input, r, op, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not isinstance(r, int) or isinstance(r, bool):
        raise TypeError(f"{op}(): argument '{name}' (position 2) must be int, not {type(r).__name__}")
    if input._data.ndim < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input with "
                           f"{input._data.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"{op} expects a positive {name}, but got {r}")


def pixel_shuffle(input, upscale_factor):
    """Rearrange (*, C*r*r, H, W) into (*, C, H*r, W*r), r = upscale_factor (sub-pixel convolution)."""
    _check_factor(input, upscale_factor, "pixel_shuffle", "upscale_factor")
    c = input._data.shape[-3]
    if c % (upscale_factor * upscale_factor):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by "
                           f"{upscale_factor * upscale_factor}")
    return PixelShuffle.apply(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    """The inverse of pixel_shuffle: (*, C, H*r, W*r) into (*, C*r*r, H, W), r = downscale_factor."""
    _check_factor(input, downscale_factor, "pixel_unshuffle", "downscale_factor")
    for side, d in (("height", -2), ("width", -1)):
        if input._data.shape[d] % downscale_factor:
            raise RuntimeError(f"pixel_unshuffle expects {side} to be divisible by downscale_factor, but "
                               f"input.size({d})={input._data.shape[d]} is not divisible by {downscale_factor}")
    return PixelUnshuffle.apply(input, downscale_factor)


class Repeat(Function):
    @staticmethod
    def forward(ctx, x, reps):
        ctx.in_shape, ctx.reps = x.shape, reps
        return np.tile(x.reshape((1,) * (len(reps) - x.ndim) + x.shape), reps)

    @staticmethod
    def backward(ctx, g):
        reps = ctx.reps
        shape = (1,) * (len(reps) - len(ctx.in_shape)) + tuple(ctx.in_shape)
        split = []
        for r, s in zip(reps, shape):
            split += [r, s]
        return g.reshape(split).sum(tuple(range(0, 2 * len(reps), 2))).reshape(ctx.in_shape), None


@tensor_method
def repeat(self, *sizes):
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    reps = _shape_arg(sizes, "repeat")
    if len(reps) < self._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(reps)}: {list(reps)}")
    return Repeat.apply(self, reps)


@tensor_method
def tile(input, dims):
    dims = tuple(int(d) for d in dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


# ---------------------------------------------------------------- cat / stack
class Cat(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        # PyTorch's legacy rule: 1-d empty tensors are skipped (they still get an empty gradient)
        skip = [a.ndim == 1 and a.shape[0] == 0 for a in arrays]
        if all(skip) or not any(skip):
            skip = [False] * len(arrays)
        ctx.axis, ctx.skip = axis, skip
        ctx.sizes = [a.shape[axis] for a, s in zip(arrays, skip) if not s]
        return np.concatenate([a for a, s in zip(arrays, skip) if not s], axis=axis)

    @staticmethod
    def backward(ctx, g):
        pieces = iter(g.split(ctx.sizes, ctx.axis))
        return (None,) + tuple(g.new_zeros((0,)) if s else next(pieces) for s in ctx.skip)


def _check_cat(tensors, op):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        if op == "stack":
            raise RuntimeError("stack expects a non-empty TensorList")
        raise ValueError(f"torch.{op}(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return tensors


def _promoted(tensors, among=None):
    rt = _dtype.result_type(*[_dtype._BY_NP[t._data.dtype] for t in (among or tensors)])
    return [t if t._data.dtype == rt.np else t.to(rt) for t in tensors]


def _out(result, out):
    if out is None:
        return result
    from .elementwise import _out as out_

    return out_(result, out)


def cat(tensors, dim=0, *, out=None, axis=None):
    if axis is not None:  # PyTorch's argument parser takes NumPy's name for dim too
        dim = axis
    tensors = _check_cat(tensors, "cat")
    # legacy behaviour kept by PyTorch: 1-d empty tensors are skipped (but take part in type promotion)
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
    return _out(Cat.apply(axis, *_promoted(tensors)), out)


concat = cat


def concatenate(tensors, axis=0, out=None, *, dim=None):
    return cat(tensors, axis if dim is None else dim, out=out)


class Stack(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return (None,) + unbind(g, ctx.axis)


def stack(tensors, dim=0, *, out=None):
    tensors = _check_cat(tensors, "stack")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    return _out(Stack.apply(_wrap_dim(dim, len(shape) + 1, "stack"), *_promoted(tensors)), out)


def _atleast(tensors, f):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    r = tuple(f(t) for t in tensors)
    return r[0] if single else r


def atleast_1d(*tensors):
    return _atleast(tensors, lambda t: t.reshape(1) if t.dim() == 0 else t)


def atleast_2d(*tensors):  # PyTorch unsqueezes a 1-d tensor, reshapes a 0-d one
    return _atleast(tensors, lambda t: t.reshape(1, 1) if t.dim() == 0 else unsqueeze(t, 0) if t.dim() == 1 else t)


def atleast_3d(*tensors):
    grow = {0: lambda t: t.reshape(1, 1, 1), 1: lambda t: unsqueeze(unsqueeze(t, 0), -1),
            2: lambda t: unsqueeze(t, -1)}
    return _atleast(tensors, lambda t: grow[t.dim()](t) if t.dim() < 3 else t)


def hstack(tensors, *, out=None):
    tensors = atleast_1d(tuple(tensors))
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    return cat(atleast_2d(tuple(tensors)), 0, out=out)


def dstack(tensors, *, out=None):
    return cat(atleast_3d(tuple(tensors)), 2, out=out)


def column_stack(tensors, *, out=None):
    return hstack([t.reshape(-1, 1) if t.dim() <= 1 else t for t in tensors], out=out)


# ---------------------------------------------------------------- narrow / split / unbind / select
def _slicer(axis, lo, hi):
    idx = (slice(None),) * axis + (slice(lo, hi),)
    return lambda a: a[idx]


class Split(Function):
    """Views of consecutive (or, for tensor_split, any) ranges along one axis at once."""

    @staticmethod
    def forward(ctx, x, axis, bounds):
        ctx.axis, ctx.bounds, ctx.like = axis, bounds, x
        return tuple(_slicer(axis, lo, hi)(x) for lo, hi in bounds)

    @staticmethod
    def backward(ctx, *grads):
        bounds, axis = ctx.bounds, ctx.axis
        tiled = bounds[0][0] == 0 and bounds[-1][1] == ctx.like.shape[axis] and all(
            a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
        if tiled:
            return cat(list(grads), axis), None, None
        total = None  # overlapping or gapped ranges: add each piece where it came from
        for g, (lo, hi) in zip(grads, bounds):
            piece = ViewScatter.apply(g, _slicer(axis, lo, hi), ctx.like)
            total = piece if total is None else total + piece
        return total, None, None


class SplitWithSizes(Split):
    pass


class _TensorSplit(Split):
    pass


_TensorSplit._backward_name = "SliceBackward0"  # PyTorch's tensor_split slices each piece


_MULTI_VIEW = ("Output {} of {} is a view and is being modified inplace. This view is the output of a function "
               "that returns multiple views. Such functions do not allow the output views to be modified inplace. "
               "You should replace the inplace operation by an out-of-place one.")


def _multi_views(outs, input, fns, name):
    """Register the outputs of split/unbind as views; like PyTorch, refuse in-place writes on them
    (and their views) when they require grad (Tensor._check_inplace asks _inplace_error)."""
    for i, (o, fn) in enumerate(zip(outs, fns)):
        _view_of(o, input, fn)
        if name and o._rg:
            o.__dict__["_inplace_error"] = (i, name)
    return outs


def _inplace_error(view):
    return RuntimeError(_MULTI_VIEW.format(*view.__dict__["_inplace_error"]))


def _split_at(input, axis, bounds, cls=Split, name=None):
    outs = cls.apply(input, axis, bounds)
    fns = [_slicer(axis, lo, hi) for lo, hi in bounds]
    return _multi_views(outs, input, fns, cls.__name__ if name is None else name)


def _bounds(sizes):
    out, lo = [], 0
    for s in sizes:
        out.append((lo, lo + s))
        lo += s
    return tuple(out)


@tensor_method
def split(tensor, split_size_or_sections, dim=0):
    nd = tensor._data.ndim
    if nd == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    axis = _wrap_dim(dim, nd, "split")
    n = tensor._data.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step < 0 or step == 0 and n > 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        return _split_at(tensor, axis, tuple((i, min(i + step, n)) for i in range(0, n, step or 1)) or ((0, 0),))
    sizes = [int(s) for s in split_size_or_sections]
    if sum(sizes) != n or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                           f"dimension {axis}), but got split_sizes={sizes}")
    return _split_at(tensor, axis, _bounds(sizes), SplitWithSizes)



@tensor_method
def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    axis = _wrap_dim(dim, input._data.ndim, "chunk")
    n = input._data.shape[axis]
    if n == 0:  # PyTorch keeps the number of chunks here
        return _split_at(input, axis, ((0, 0),) * chunks, SplitWithSizes)
    return split(input, -(-n // chunks), axis)


@tensor_method
def tensor_split(input, indices_or_sections, dim=0):
    if input._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    axis = _wrap_dim(dim, input._data.ndim, "tensor_split")
    n = input._data.shape[axis]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        ios = ios.item() if ios._data.ndim == 0 else ios.tolist()
    if isinstance(ios, (int, np.integer)):
        k = int(ios)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        return _split_at(input, axis, _bounds([q + 1] * r + [q] * (k - r)), _TensorSplit, name="")
    cuts = [0] + [min(max(int(i) + n if int(i) < 0 else int(i), 0), n) for i in ios] + [n]
    return _split_at(input, axis, tuple((cuts[i], max(cuts[i], cuts[i + 1])) for i in range(len(cuts) - 1)),
                     _TensorSplit, name="")


@tensor_method
def narrow(input, dim, start, length):
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    axis = _wrap_dim(dim, nd, "narrow")
    n = input._data.shape[axis]
    start, length = int(start), int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start < -n or start > n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _as_view(Slice, input, _slicer(axis, start, start + length))


@tensor_method
def select(input, dim, index):
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    axis = _wrap_dim(dim, nd, "select")
    n = input._data.shape[axis]
    index = int(index)
    if index < -n or index >= n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {axis}")
    idx = (slice(None),) * axis + (index, Ellipsis)  # Ellipsis: a 0-d view, not a NumPy scalar
    return _as_view(Select, input, lambda a: a[idx])


class Unbind(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        moved = np.moveaxis(x, axis, 0)
        return tuple(moved[i, ...] for i in range(moved.shape[0]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(list(grads), ctx.axis), None


@tensor_method
def unbind(input, dim=0):
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    axis = _wrap_dim(dim, nd, "unbind")
    outs = Unbind.apply(input, axis)
    idx = [(slice(None),) * axis + (i, Ellipsis) for i in range(len(outs))]
    return _multi_views(outs, input, [lambda a, ix=ix: a[ix] for ix in idx], "Unbind")


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
    return _as_view(Diagonal, input, lambda a: _diag_view(a, offset, d1, d2))


# ---------------------------------------------------------------- in-place writes through views
class MaskView(Function):
    """`g` with the region a view `fn` covers set to zero; its own adjoint."""

    @staticmethod
    def forward(ctx, g, fn, like):
        ctx.fn, ctx.like = fn, like
        out = np.empty_like(like, dtype=g.dtype)  # `like`'s layout, as in ViewScatter
        out[...] = g
        fn(out)[...] = 0
        return out

    @staticmethod
    def backward(ctx, g):
        return MaskView.apply(g, ctx.fn, ctx.like), None, None


class CopySlices(Function):
    """The base after a view of it was overwritten in place: the gradient flows to the new values
    inside the view's region and to the old base elsewhere."""

    @staticmethod
    def forward(ctx, base, value, fn):
        ctx.fn, ctx.like = fn, base
        return base  # the data is already in place: the view shares the base's memory

    @staticmethod
    def backward(ctx, g):
        return MaskView.apply(g, ctx.fn, ctx.like), AsView.apply(g, ctx.fn), None


CopySlices._backward_name = "CopySlices"  # PyTorch's node has no BackwardN suffix (grad_fn=<CopySlices>)


class AsStrided(AsView):
    """A view re-derived from its base after an in-place write through it."""


def _rebase_view(view, value):
    """`view` was overwritten in place with `value`: its base's history becomes CopySlices, and the
    view's own history (and that of every other view of the base) a fresh view of the new base."""
    base, fn = view._base, view._view_fn
    new_base = CopySlices.apply(base, value, fn)
    if new_base.grad_fn is not None:
        base.grad_fn, base._output_nr, base._rg = new_base.grad_fn, 0, True
        _rederive(view)
        _refresh_views(base, view)


def _rederive(view):
    v = AsStrided.apply(view._base, view._view_fn)
    view.grad_fn, view._output_nr, view._rg = v.grad_fn, 0, True


def _refresh_views(base, skip=None):
    """After an in-place write on `base` (or through one of its views), its other views read the new
    values: as PyTorch does, they get their history re-derived from the base's new one."""
    for r in base.__dict__.get("_views", ()):
        v = r()
        if v is not None and v is not skip and v._base is base:
            _rederive(v)


# ---------------------------------------------------------------- repeat_interleave
class RepeatInterleave(Function):
    """Each slice along `axis` repeated `reps` times in a row (an int, or one count per slice); the
    gradient sums each slice's copies (RepeatInterleaveSum, whose adjoint this is)."""

    @staticmethod
    def forward(ctx, x, reps, axis):
        ctx.reps, ctx.axis, ctx.n = reps, axis, x.shape[axis]
        return np.repeat(x, reps, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return RepeatInterleaveSum.apply(g, ctx.reps, ctx.axis, ctx.n), None, None


class RepeatInterleaveSum(Function):
    """The sum of each group of consecutive slices along `axis` (group i has reps[i] slices; an empty group
    sums to zero): the `n` slices RepeatInterleave repeated get their copies' gradients added up."""

    @staticmethod
    def forward(ctx, g, reps, axis, n):
        ctx.reps, ctx.axis = reps, axis
        shape = g.shape[:axis] + (n,) + g.shape[axis + 1:]
        if isinstance(reps, int):
            return g.reshape(g.shape[:axis] + (n, reps) + g.shape[axis + 1:]).sum(axis + 1)
        out = np.zeros(shape, dtype=g.dtype)
        full = reps > 0  # reduceat would give an empty group its next slice, not zero
        if g.shape[axis] and g.size:
            starts = (np.cumsum(reps) - reps)[full]
            out[(slice(None),) * axis + (full,)] = np.add.reduceat(g, starts, axis=axis)
        return out

    @staticmethod
    def backward(ctx, g):
        return RepeatInterleave.apply(g, ctx.reps, ctx.axis), None, None, None


_RI_FN_SIGNATURES = ("(Tensor input, Tensor repeats, int dim = None, *, int output_size = None)",
                     "(Tensor repeats, *, int output_size = None)",
                     "(Tensor input, int repeats, int dim = None, *, int output_size = None)")
_RI_METHOD_SIGNATURES = ("(Tensor repeats, int dim = None, *, int output_size = None)",
                         "(int repeats, int dim = None, *, int output_size = None)")


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _ri_type_error(positional, keywords, signatures):
    got = [type(a).__name__ for a in positional] + [f"{k}={type(v).__name__}" for k, v in keywords.items()
                                                   if v is not None]
    return TypeError(f"repeat_interleave() received an invalid combination of arguments - got ({', '.join(got)}), "
                     "but expected one of:\n" + "".join(f" * {s}\n" for s in signatures))


def _ri_dim_size(x, dim):
    """input.size(dim), with PyTorch's errors (a 0-d tensor has no dimension to repeat along)."""
    if x._data.ndim == 0:
        raise IndexError(f"repeat_interleave: Dimension specified as {dim} but tensor has no dimensions")
    axis = _wrap_dim(dim, x._data.ndim, "repeat_interleave")
    return axis, x._data.shape[axis]


_RI_TYPE_NAMES = {"complex64": "ComplexFloat", "complex128": "ComplexDouble", "bfloat16": "BFloat16"}


def _ri_counts(reps, output_size):
    """Check a 1-D int32/int64 array of repeat counts as PyTorch's repeat_interleave(repeats) does."""
    if reps.dtype not in (np.int32, np.int64):
        from .._tensor import _type_name

        name = _RI_TYPE_NAMES.get(reps.dtype.name) or _type_name(reps.dtype)
        raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{name}'")
    if reps.ndim != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    if reps.size == 0:
        return reps
    total = int(reps.sum(dtype=np.int64))
    if output_size is not None:
        output_size = int(output_size)
        if output_size < 0:
            raise RuntimeError(f"repeat_interleave: Trying to create tensor with negative dimension {output_size}: "
                               f"[{output_size}]")
        if output_size != total:
            raise RuntimeError("repeat_interleave: allocated size does not match required size")
    if (reps < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    return reps


def _repeat_interleave(input, repeats, dim, output_size):
    x, axis_dim = (input, int(dim)) if dim is not None else (reshape(input, (-1,)), 0)
    if isinstance(repeats, Tensor):
        reps = repeats._data
        if reps.ndim > 1:
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor")
        axis, n = _ri_dim_size(x, axis_dim)
        if reps.ndim == 1 and reps.shape[0] != 1 and reps.shape[0] != n:
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {reps.shape[0]} and input.size({axis_dim}) = {n}")
        counts = _ri_counts(np.broadcast_to(reps.reshape(-1), (n,)), output_size)
        if counts.size and reps.size == 1:
            counts = int(counts[0])  # one count for every slice: the cheaper path with a reshape-sum backward
        else:
            counts = counts.astype(np.int64)
        return RepeatInterleave.apply(x, counts, axis)
    repeats = int(repeats)
    axis = _wrap_dim(axis_dim, input._data.ndim, "repeat_interleave")
    if repeats < 0:
        raise RuntimeError("repeat_interleave: Repeats must be non-negative")
    if x._data.ndim == 0:  # PyTorch unsqueezes the input at dim + 1 (a 0-d tensor allows [-1, 0])
        raise IndexError(f"repeat_interleave: Dimension out of range (expected to be in range of [-1, 0], but got "
                         f"{axis + 1})")
    n = x._data.shape[axis]
    if output_size is not None and int(output_size) != repeats * n:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {repeats * n} but got {output_size}")
    return RepeatInterleave.apply(x, repeats, axis)


class _NoArgument:
    def __repr__(self):
        return "None"


_NO_ARG = _NoArgument()  # tells repeat_interleave(t) (repeats are t) from repeat_interleave(t, None) (an error)


def repeat_interleave(input=_NO_ARG, repeats=_NO_ARG, dim=None, *, output_size=None):
    """torch.repeat_interleave: each element (dim=None: of the flattened input) or each slice along `dim`
    repeated `repeats` times in a row, `repeats` an int or a tensor of counts (one per slice, or a single one).
    With one tensor argument, repeat_interleave(repeats) gives the indices 0, 1, ... each repeated its count."""
    if repeats is _NO_ARG and dim is None and isinstance(input, Tensor):
        input, repeats = _NO_ARG, input
    positional = [a for a in (input, repeats) if a is not _NO_ARG]
    if (input is _NO_ARG and isinstance(repeats, Tensor) and dim is None
            and (output_size is None or _is_int(output_size))):
        reps = _ri_counts(repeats._data, output_size)
        idx = np.repeat(np.arange(reps.size, dtype=reps.dtype), reps) if reps.size else reps.copy()
        return Tensor._make(idx)
    if (not isinstance(input, Tensor) or not (isinstance(repeats, Tensor) or _is_int(repeats))
            or not (dim is None or _is_int(dim)) or not (output_size is None or _is_int(output_size))):
        raise _ri_type_error(positional, {"dim": dim, "output_size": output_size}, _RI_FN_SIGNATURES)
    return _repeat_interleave(input, repeats, dim, output_size)


@tensor_method("repeat_interleave")
def _tensor_repeat_interleave(self, repeats=_NO_ARG, dim=None, *, output_size=None):
    if (not (isinstance(repeats, Tensor) or _is_int(repeats)) or not (dim is None or _is_int(dim))
            or not (output_size is None or _is_int(output_size))):
        raise _ri_type_error([repeats] if repeats is not _NO_ARG else [], {"dim": dim, "output_size": output_size},
                             _RI_METHOD_SIGNATURES)
    return _repeat_interleave(self, repeats, dim, output_size)


__all__ += ["repeat_interleave"]
