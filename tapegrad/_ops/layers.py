"""Layer operators of torch.nn.functional: linear, bilinear, embedding, dropout, one_hot, pad,
normalize, interpolate, cosine_similarity, pairwise_distance.

linear, embedding and dropout are fused Functions with hand-written backward (raw arrays
when no graph of the gradient is wanted); the rest are composites of tapegrad operators,
so their gradients come from the operators they are made of.
"""
import math
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _type_name
from ..autograd import grad_mode
from ..autograd.function import Function
from . import elementwise as E
from .linalg import _matmul_arrays  # large products split over the intra-op threads
from .. import amp as _amp

_AUTOCAST = _amp.AUTOCAST

__all__ = [
    "linear", "bilinear", "embedding", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "feature_alpha_dropout", "one_hot", "pad", "normalize", "interpolate", "upsample", "upsample_nearest",
    "upsample_bilinear", "cosine_similarity", "pairwise_distance",
]


def _tensor_arg(x, fn, name, pos):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not {type(x).__name__}")


_T = Tensor._make


# ---------------------------------------------------------------- linear
class Linear(Function):
    """y = x @ W.T + b in one node; backward is two matrix products and a sum."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        x2 = x if x.ndim == 2 else _rows(x)
        rows, out_f = x2.shape[0], w.shape[0]
        if 0 < rows <= 64 and out_f >= 128 and x2.shape[1] >= 64 and x2.__class__ is np.ndarray:
            # few rows, a big weight: OpenBLAS is faster on W @ x.T than on x @ W.T; the transposing
            # copy back to row-major order adds the bias in the same pass
            t = _matmul_arrays(w, x2.T)
            y = np.empty((rows, out_f), dtype=t.dtype)
            if b is not None:
                np.add(t.T, b, out=y)
            else:
                np.copyto(y, t.T)
        else:
            y = _matmul_arrays(x2, w.T)
            if b is not None:
                y += b
        return y if x.ndim == 2 else y.reshape(x.shape[:-1] + (out_f,))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if not grad_mode.GRAD[0]:
            gd, xd, wd = g._data, x._data, w._data
            g2 = _rows(gd) if gd.ndim != 2 else gd
            if need[0]:
                gx = _matmul_arrays(g2, wd).reshape(xd.shape)
            if need[1]:
                gw = _matmul_arrays(g2.T, _rows(xd) if xd.ndim != 2 else xd)
            if need[2]:
                gb = g2.sum(0)
            return (None if gx is None else _T(gx)), (None if gw is None else _T(gw)), (None if gb is None else _T(gb))
        out_f, in_f = w.shape
        n = math.prod(x.shape[:-1])  # not -1: a dimension may be 0
        g2 = g.reshape(n, out_f)
        if need[0]:
            gx = (g2 @ w).reshape(x.shape)
        if need[1]:
            gw = g2.t() @ x.reshape(n, in_f)
        if need[2]:
            gb = g2.sum(0)
        return gx, gw, gb


def _rows(a):
    """a (..., k) as a matrix (rows, k); reshape(-1, k) fails when k or the rows are 0."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


Linear._backward_name = "AddmmBackward0"  # PyTorch's grad_fn name for 2-d linear


def _bias_expands(bshape, oshape):
    try:
        return np.broadcast_shapes(bshape, oshape) == oshape
    except ValueError:
        return False


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias (torch.nn.functional.linear)."""
    if _AUTOCAST[0] is not None:  # inside torch.autocast: computed in the autocast dtype (tapegrad/amp.py)
        input, weight, bias = _amp._cast(input, weight, bias)
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        _tensor_arg(input, "linear", "input", 1)
    if weight.__class__ is not Tensor and not isinstance(weight, Tensor):
        _tensor_arg(weight, "linear", "weight", 2)
    xd, wd = input._data, weight._data
    if xd.ndim == 0 or wd.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {xd.ndim}D and "
                           f"{wd.ndim}D")
    if wd.ndim != 2:
        out = E.mul(input, weight).sum(-1) if wd.ndim == 1 else input.matmul(weight.t())
        return out if bias is None else out + bias
    if xd.shape[-1] != wd.shape[1]:
        raise RuntimeError(f"Linear(in_features={wd.shape[1]}): input has {xd.shape[-1]} features "
                           f"(shape {tuple(xd.shape)})")
    if xd.dtype != wd.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_type_name(xd.dtype).lower()} != "
                           f"{_type_name(wd.dtype).lower()}")
    if bias is not None:
        bd = bias._data
        if bd.dtype != xd.dtype:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_type_name(bd.dtype).lower()} "
                               f"!= {_type_name(xd.dtype).lower()}")
        if bd.shape != (wd.shape[0],) and not _bias_expands(bd.shape, xd.shape[:-1] + (wd.shape[0],)):
            # PyTorch expands the bias to (rows, out_features) for its addmm
            raise RuntimeError(f"The expanded size of the tensor ({wd.shape[0]}) must match the existing size "
                               f"({bd.shape[-1] if bd.ndim else 1}) at non-singleton dimension 1.  Target sizes: "
                               f"[{math.prod(xd.shape[:-1])}, {wd.shape[0]}].  Tensor sizes: {list(bd.shape)}")
        if bd.shape != (wd.shape[0],):       # a bias of another broadcastable shape: added after the product
            return Linear.apply(input, weight, None) + bias
    return Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be 3D, but got {weight.dim()}D")
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    for i in range(input1.dim() - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got "
                               f"{input1.shape[i]} and {input2.shape[i]}")
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {in1}")
    if input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {in2}")
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    t = x1.matmul(weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    y = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out_f,))


# ---------------------------------------------------------------- embedding
class Embedding(Function):
    @staticmethod
    def forward(ctx, weight, idx, padding_idx, scale_grad_by_freq):
        ctx.idx, ctx.padding_idx, ctx.scale = idx, padding_idx, scale_grad_by_freq
        ctx.wshape = weight.shape
        return weight[idx]

    @staticmethod
    def backward(ctx, g):
        idx, n = ctx.idx.reshape(-1), ctx.wshape[0]
        dim = ctx.wshape[1]
        keep = None if ctx.padding_idx < 0 else idx != ctx.padding_idx
        counts = np.bincount(idx, minlength=n) if ctx.scale else None
        if not grad_mode.GRAD[0]:
            g2 = g._data.reshape(idx.shape[0], dim)
            if counts is not None:
                g2 = g2 / counts[idx][:, None].astype(g2.dtype)
            if keep is not None:
                g2, idx = g2[keep], idx[keep]
            gw = np.zeros(ctx.wshape, dtype=g2.dtype)
            np.add.at(gw, idx, g2)
            return gw, None, None, None
        g2 = g.reshape(idx.shape[0], dim)
        if counts is not None:
            g2 = g2 / Tensor._make(counts[idx][:, None].astype(g2._data.dtype))
        if keep is not None:
            g2 = g2 * Tensor._make(keep[:, None].astype(g2._data.dtype))
        from .indexing import index_add

        zeros = Tensor._make(np.zeros(ctx.wshape, dtype=g2._data.dtype))
        return index_add(zeros, 0, Tensor._make(idx), g2), None, None, None


def _embedding_renorm_(weight, idx, max_norm, norm_type):
    """Rows of `weight` used by `idx` with norm above max_norm are scaled down in place (no grad)."""
    w = weight._data
    rows = np.unique(idx)
    sub = w[rows].astype(np.float64)
    if norm_type == math.inf:
        norms = np.abs(sub).max(axis=1)
    else:
        norms = (np.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    big = norms > max_norm
    if big.any():
        scale = max_norm / (norms[big] + 1e-7)
        w[rows[big]] = (sub[big] * scale[:, None]).astype(w.dtype)
        weight._version_ctr.v += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of `weight` picked by the integer `input` (sparse=True gives a dense gradient)."""
    _tensor_arg(input, "embedding", "input", 1)
    _tensor_arg(weight, "embedding", "weight", 2)
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.size(0) + padding_idx
    else:
        padding_idx = -1
    idx = input._data
    if idx.dtype.kind not in "iu" or idx.dtype.itemsize not in (4, 8):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for embedding)")
    if weight.dim() != 2:
        raise RuntimeError(f"'weight' must be 2-D, but got {weight.dim()}-D")
    if idx.size and (idx.min() < 0 or idx.max() >= weight._data.shape[0]):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm_(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, idx, padding_idx, scale_grad_by_freq)


# ---------------------------------------------------------------- dropout
class _MaskMul(Function):
    """y = x * mask + shift, with a mask drawn outside (dropout's scaled Bernoulli mask)."""

    @staticmethod
    def forward(ctx, x, mask, shift):
        ctx.mask = mask
        y = x * mask
        if shift is not None:
            y += shift
        return y

    @staticmethod
    def backward(ctx, g):
        if not grad_mode.GRAD[0]:
            return g._data * ctx.mask, None, None
        return g * Tensor._make(ctx.mask), None, None


_MaskMul._backward_name = "NativeDropoutBackward0"


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, p, shape):
    from .random import default_generator

    dt = input._data.dtype
    rdt = dt if dt in (np.float32, np.float64) else np.float32
    return default_generator._rng.random(shape, dtype=rdt) >= p


def _dropout_impl(input, p, training, inplace, feature, alpha):
    if not training or p == 0:
        return input
    if not input.is_floating_point():
        from .conv import _scalar_name
        raise RuntimeError("result type Float can't be cast to the desired output type " + _scalar_name(input))
    dt = input._data.dtype
    if p == 1:
        return _apply_mask(input, np.zeros((), dtype=dt), None, inplace)
    if feature:
        if input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    else:
        shape = input._data.shape
    keep = _keep_mask(input, p, shape)
    if alpha:
        a_const = 1.7580993408473766
        a = 1.0 / math.sqrt((a_const * a_const * p + 1) * (1 - p))
        mask = keep.astype(dt) * a
        shift = ((keep.astype(dt) - 1) * (a_const * a) + a_const * a * p).astype(dt)
        return _apply_mask(input, mask, shift, inplace)
    mask = keep.astype(dt)
    mask *= 1.0 / (1.0 - p)
    return _apply_mask(input, mask, None, inplace)


def _apply_mask(input, mask, shift, inplace):
    out = _MaskMul.apply(input, mask, shift)
    if inplace:
        return input._inplace(out, "dropout_")
    return out


def dropout(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, False, False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, False, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, True, True)


def dropout1d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    inp_dim = input.dim()
    if inp_dim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {inp_dim}D input. Note that dropout1d "
                           "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    if inp_dim == 3:
        return _dropout_impl(input, p, training, inplace, True, False)
    out = _dropout_impl(input.unsqueeze(0), p, training, False, True, False).squeeze(0)
    return input._inplace(out, "dropout1d_") if inplace and out is not input else out


def dropout2d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    inp_dim = input.dim()
    if inp_dim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {inp_dim}-D input to dropout2d, which is deprecated and will result in "
                      "an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
                      "inputs).", stacklevel=2)
    if inp_dim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                      "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", stacklevel=2)
    return _dropout_impl(input, p, training, inplace, True, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    inp_dim = input.dim()
    if inp_dim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {inp_dim}-D input to dropout3d, which is deprecated and will result in "
                      "an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
                      "inputs).", stacklevel=2)
    if inp_dim == 5:
        return _dropout_impl(input, p, training, inplace, True, False)
    out = _dropout_impl(input.unsqueeze(0), p, training, False, True, False).squeeze(0)
    return input._inplace(out, "dropout3d_") if inplace and out is not input else out


# ---------------------------------------------------------------- one_hot
def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a trailing class dimension."""
    _tensor_arg(tensor, "one_hot", "tensor", 1)
    d = tensor._data
    if d.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if d.size == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return Tensor._make(np.zeros(d.shape + (num_classes,), dtype=np.int64))
    if d.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(d.max()) + 1
    elif d.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(d.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, d[..., None], 1, axis=-1)
    return Tensor._make(out)


# ---------------------------------------------------------------- pad
class ConstantPad(Function):
    """Constant padding; negative amounts crop. pads: per dim, (before, after), first dim first."""

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        crop = tuple(slice(max(-lo, 0), x.shape[i] - max(-hi, 0)) for i, (lo, hi) in enumerate(pads))
        x = x[crop]
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
        if any(lo or hi for lo, hi in widths):
            out = np.full(tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, widths)), value, dtype=x.dtype)
            out[tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape, widths))] = x
            return out
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return ConstantPad.apply(g, tuple((-lo, -hi) for lo, hi in ctx.pads), 0), None, None


def _index_map(n, lo, hi, mode, dim, shape):
    i = np.arange(-lo, n + hi)
    if mode == "reflect":
        if lo >= n or hi >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {dim} of input {list(shape)}")
        i = np.abs(i)
        i = np.where(i >= n, 2 * (n - 1) - i, i)
    elif mode == "replicate":
        i = np.clip(i, 0, n - 1)
    else:
        if lo > n or hi > n:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if lo < 0 or hi < 0:        # PyTorch crops first, then wraps around what is left
            c0 = max(-lo, 0)
            return np.mod(np.arange(-max(lo, 0), n - c0 - max(-hi, 0) + max(hi, 0)), n - c0 - max(-hi, 0)) + c0
        i = np.mod(i, n)
    return i


def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: pad = (last_lo, last_hi, prev_lo, prev_hi, ...)."""
    _tensor_arg(input, "pad", "input", 1)
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = input.dim()
    if len(pad) // 2 > nd:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {nd}")
    k = len(pad) // 2
    pairs = [(pad[2 * j], pad[2 * j + 1]) for j in range(k)]  # last dim first
    if mode == "constant":
        pads = tuple([(0, 0)] * (nd - k) + pairs[::-1])
        return ConstantPad.apply(input, pads, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if not ((k == 1 and nd in (2, 3)) or (k == 2 and nd in (3, 4)) or (k == 3 and nd in (4, 5))):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {nd}D input tensor.\nSupported combinations for "
            "non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last dimension)\n  - 3D or 4D input: "
            "padding size = 4 (pads last 2 dimensions)\n  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode != "circular" and any(n == 0 for n in (input.shape[1:] if nd == k + 2 else input.shape)):
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {list(input.shape)}")
    out = input
    from .indexing import index_select

    for j, (lo, hi) in enumerate(pairs):
        d = nd - 1 - j
        idx = _index_map(input.shape[d], lo, hi, mode, d, input.shape)
        out = index_select(out, d, Tensor._make(idx.astype(np.int64)))
    return out


# ---------------------------------------------------------------- normalize / distances
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    return E.div(input, denom, out=out)


def _clamped_norm(x, dim, eps):
    n = x.norm(2, dim, keepdim=True)
    nd = n.detach()
    return n + (E.clamp_min(nd, eps) - nd)  # value clamped, gradient of the norm itself (as PyTorch)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    _tensor_arg(x1, "cosine_similarity", "x1", 1)
    _tensor_arg(x2, "cosine_similarity", "x2", 2)
    if not x1.is_floating_point():
        x1 = x1.to(_dtype.get_default_dtype())
    if not x2.is_floating_point():
        x2 = x2.to(_dtype.get_default_dtype())
    try:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({x1.shape[dim] if x1.dim() else 1}) must match the size of "
                           f"tensor b ({x2.shape[dim] if x2.dim() else 1}) at non-singleton dimension {dim}") from None
    x1, x2 = x1.expand(shape), x2.expand(shape)
    return ((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps))).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    _tensor_arg(x1, "pairwise_distance", "x1", 1)
    _tensor_arg(x2, "pairwise_distance", "x2", 2)
    out_dim = max(x1.dim(), x2.dim()) - 1
    diff = x1 - x2 + eps
    if out_dim < 0:
        return diff.abs() if p != 0 else (diff != 0).to(diff.dtype)
    return diff.norm(p, out_dim, keepdim=keepdim)


# ---------------------------------------------------------------- interpolate
_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _source_index(out_size, in_size, scale, align_corners, dt):
    """PyTorch's area_pixel_compute_source_index for every output position (in the input's precision)."""
    dst = np.arange(out_size, dtype=dt)
    if align_corners:
        s = dt.type((in_size - 1) / (out_size - 1)) if out_size > 1 else dt.type(0)
        return dst * s
    s = dt.type(1.0 / scale) if scale is not None and scale > 0 else dt.type(in_size / out_size)
    src = s * (dst + dt.type(0.5)) - dt.type(0.5)
    return np.maximum(src, 0)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    _tensor_arg(input, "interpolate", "input", 1)
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    in_sizes = [int(s) for s in input.shape[2:]]
    scales = None
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(input.shape[2:])} and output size of {size}. "
                                 "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 "(o1, o2, ...,oK) format.")
            out_sizes = [int(s) for s in size]
        else:
            out_sizes = [int(size)] * dim
    else:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(input.shape[2:])} and scale_factor of "
                                 f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                                 "format and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        out_sizes = [int(math.floor(float(n) * s)) for n, s in zip(in_sizes, scales)]
        if recompute_scale_factor:
            scales = None
    if antialias:
        raise NotImplementedError("tapegrad does not implement torch.nn.functional.interpolate with antialias=True")
    if min(out_sizes, default=1) <= 0 or min(in_sizes, default=1) <= 0:
        names = "DHW"[3 - len(in_sizes):] if len(in_sizes) <= 3 else [f"d{i}" for i in range(len(in_sizes))]
        raise RuntimeError("Input and output sizes should be greater than 0, but got input ("
                           + ", ".join(f"{a}: {n}" for a, n in zip(names, in_sizes))
                           + (") and output (" if len(in_sizes) == 1 else ") output (")
                           + ", ".join(f"{a}: {n}" for a, n in zip(names, out_sizes)) + ")")
    if scales is None:
        scales = [None] * dim
    if mode in ("nearest", "nearest-exact"):
        if dim not in (1, 2, 3):
            raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) "
                                      f"for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | "
                                      f"area | nearest-exact (got {mode})")
        return _nearest(input, in_sizes, out_sizes, scales, exact=mode == "nearest-exact")
    if mode in _LINEAR_MODES:
        need = _LINEAR_MODES[mode]
        if dim != need:
            raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {need + 2}D input")
        return _linear_interp(input, in_sizes, out_sizes, scales, align_corners)
    if mode == "area":
        from . import pool

        if dim not in (1, 2):
            raise NotImplementedError("tapegrad implements interpolate mode 'area' for 3-D and 4-D inputs only")
        x = input if input.is_floating_point() else input.to(_dtype.get_default_dtype())
        return (pool.adaptive_avg_pool1d if dim == 1 else pool.adaptive_avg_pool2d)(x, out_sizes)
    if mode == "bicubic":
        if dim != 2:
            raise NotImplementedError(f"Got {input.dim()}D input, but bicubic mode needs 4D input")
        return _cubic_interp(input, in_sizes, out_sizes, scales, align_corners)
    raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the "
                              "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                              f"nearest-exact (got {mode})")


def _nearest(input, in_sizes, out_sizes, scales, exact):
    from .indexing import index_select

    dt = np.dtype(np.float32)  # PyTorch computes nearest source indices in float
    out = input
    for j, (n_in, n_out, sc) in enumerate(zip(in_sizes, out_sizes, scales)):
        if n_in == n_out:
            continue
        s = dt.type(1.0 / sc) if sc is not None and sc > 0 else dt.type(n_in / n_out)
        dst = np.arange(n_out, dtype=dt)
        if exact:
            src = np.floor((dst + dt.type(0.5)) * s)
        elif n_out == 2 * n_in:
            src = np.arange(n_out) >> 1
        else:
            src = np.floor(dst * s)
        idx = np.minimum(src.astype(np.int64), n_in - 1)
        out = index_select(out, j + 2, Tensor._make(idx))
    return out


def _linear_interp(input, in_sizes, out_sizes, scales, align_corners):
    from .indexing import index_select

    x = input if input.is_floating_point() else input.to(_dtype.get_default_dtype())
    dt = x._data.dtype
    out = x
    for j, (n_in, n_out, sc) in enumerate(zip(in_sizes, out_sizes, scales)):
        d = j + 2
        src = _source_index(n_out, n_in, sc, align_corners, dt)
        i0 = src.astype(np.int64)
        i0 = np.minimum(i0, n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        lam1 = np.clip(src - i0, 0, 1).astype(dt)
        shape = [1] * out.dim()
        shape[d] = n_out
        l1 = Tensor._make(lam1.reshape(shape))
        l0 = Tensor._make((1 - lam1).astype(dt).reshape(shape))
        out = index_select(out, d, Tensor._make(i0)) * l0 + index_select(out, d, Tensor._make(i1)) * l1
    return out


def _cubic_interp(input, in_sizes, out_sizes, scales, align_corners):
    """PyTorch's bicubic: 4 taps per output (Keys' kernel, A = -0.75), indices clamped at the borders."""
    from .indexing import index_select

    x = input if input.is_floating_point() else input.to(_dtype.get_default_dtype())
    dt = x._data.dtype
    A = -0.75
    out = x
    for j, (n_in, n_out, sc) in enumerate(zip(in_sizes, out_sizes, scales)):
        d = j + 2
        dst = np.arange(n_out, dtype=dt)
        if align_corners:
            src = dst * (dt.type((n_in - 1) / (n_out - 1)) if n_out > 1 else dt.type(0))
        else:  # not clamped at 0, unlike the linear modes
            s = dt.type(1.0 / sc) if sc is not None and sc > 0 else dt.type(n_in / n_out)
            src = s * (dst + dt.type(0.5)) - dt.type(0.5)
        i0 = np.floor(src)
        t = (src - i0).astype(dt)
        u = 1 - t
        ws = [((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A, ((A + 2) * t - (A + 3)) * t * t + 1,
              ((A + 2) * u - (A + 3)) * u * u + 1, ((A * (u + 1) - 5 * A) * (u + 1) + 8 * A) * (u + 1) - 4 * A]
        shape = [1] * out.dim()
        shape[d] = n_out
        acc = None
        for k, w in enumerate(ws):
            idx = np.clip(i0.astype(np.int64) - 1 + k, 0, n_in - 1)
            term = index_select(out, d, Tensor._make(idx)) * Tensor._make(w.astype(dt).reshape(shape))
            acc = term if acc is None else acc + term
        out = acc
    return out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)

