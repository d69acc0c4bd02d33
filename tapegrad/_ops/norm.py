"""Normalisation operators: batch_norm and layer_norm (fused, hand-written backward; group_norm and
instance_norm reuse them), local_response_norm and rms_norm (composites).

The fused backward runs on raw arrays when no graph of the gradient is wanted; under
create_graph it is written with tapegrad operations from the saved input, so gradients of
gradients are correct.
"""
import numbers

import numpy as np

from .. import _backend
from .._tensor import Size, Tensor
from ..autograd import grad_mode
from ..autograd.function import Function

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm", "rms_norm"]


# ---------------------------------------------------------------- per-channel reductions on (N, C[, L]) arrays
def _as3(a):
    """(N, C, *) -> (N, C, L); (N, C) stays as it is."""
    return a if a.ndim == 2 else a.reshape(a.shape[0], a.shape[1], int(np.prod(a.shape[2:])))  # N may be 0


def _csum(a):
    """Sum over every axis but the channel axis 1 of a (N, C) or (N, C, L) array."""
    if a.ndim == 2:
        return a.sum(0)
    return a.sum(2).sum(0)  # the inner sum runs along contiguous memory (pairwise, accurate)


def _vecdot(a, b):
    """Dot products along the last axis (no full-size temporary where the backend allows)."""
    xp = _backend.array_module(a)
    vd = getattr(xp, "vecdot", None)
    if vd is not None:
        return vd(a, b)
    return xp.einsum("...i,...i->...", a, b)


def _cdot(a, b):
    """Per-channel sum of a * b."""
    if a.ndim == 2:
        return _backend.array_module(a).einsum("nc,nc->c", a, b)
    return _vecdot(a, b).sum(0)


def _bc(v, ndim):
    """A per-channel vector shaped to broadcast against (N, C) or (N, C, L)."""
    return v if ndim == 2 else v[:, None]


def _shape_str(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


# ---------------------------------------------------------------- batch_norm
class BatchNorm(Function):
    """Batch normalisation over every axis but 1. In training, normalises with the batch statistics
    and updates the running statistics in place (unbiased variance); otherwise uses them."""

    @staticmethod
    def forward(ctx, x, weight, bias, rmean, rvar, training, momentum, eps):
        shape = x.shape
        x3 = _as3(x)
        nd = x3.ndim
        C = shape[1]
        M = x3.size // C if C else 0
        dt = x.dtype
        if training and M == 0:  # an empty batch: nothing to normalise, running statistics stay as they are
            mean, invstd = np.zeros(C, dt), np.ones(C, dt)
            xc = _as3(x).copy()
        elif training:
            mean = (_csum(x3) / M).astype(dt, copy=False)
            xc = x3 - _bc(mean, nd)
            var = (_cdot(xc, xc) / M).astype(dt, copy=False)
            invstd = 1.0 / np.sqrt(var + eps)
            if rmean is not None:
                rmean[...] = momentum * mean + (1.0 - momentum) * rmean
            if rvar is not None:
                unbiased = var * (M / (M - 1)) if M > 1 else var * float("nan")
                rvar[...] = momentum * unbiased + (1.0 - momentum) * rvar
        else:
            mean = rmean.astype(dt, copy=True)
            invstd = (1.0 / np.sqrt(rvar + eps)).astype(dt, copy=False)
            xc = None
        alpha = invstd if weight is None else invstd * weight
        if training:
            y = xc * _bc(alpha, nd)
            if bias is not None:
                y += _bc(bias, nd)
        else:
            beta = -mean * alpha if bias is None else bias - mean * alpha
            y = x3 * _bc(alpha, nd)
            y += _bc(beta, nd)
        ctx.training, ctx.eps, ctx.M, ctx.invstd, ctx.mean = training, eps, M, invstd, mean
        ctx.save_for_backward(x, weight, xc)
        return y.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        x, weight, xc = ctx.saved_tensors
        need = ctx.needs_input_grad
        if grad_mode.GRAD[0]:
            return _bn_backward_graph(ctx, g, x, weight) + (None,) * 5
        invstd, M = ctx.invstd, max(ctx.M, 1)
        gd = g._data
        if gd.dtype != x._data.dtype:
            gd = gd.astype(x._data.dtype)
        g3 = _as3(gd)
        nd = g3.ndim
        gx = gw = gb = None
        sum_g = _csum(g3)
        if ctx.training:
            xcd = xc._data
            dotp = _cdot(g3, xcd)
            if need[0]:
                scale = invstd if weight is None else invstd * weight._data
                gx = xcd * _bc(dotp * (invstd * invstd / M), nd)
                np.subtract(g3, gx, out=gx)
                gx -= _bc(sum_g / M, nd)
                gx *= _bc(scale, nd)
            if need[1]:
                gw = dotp * invstd
        else:
            if need[0]:
                gx = g3 * _bc(invstd if weight is None else invstd * weight._data, nd)
            if need[1]:
                gw = _cdot(g3, _as3(x._data) - _bc(ctx.mean, nd)) * invstd
        if need[2]:
            gb = sum_g
        return (None if gx is None else Tensor._make(gx.reshape(x._data.shape)),
                None if gw is None else Tensor._make(gw), None if gb is None else Tensor._make(gb),
                None, None, None, None, None)


def _bn_backward_graph(ctx, g, x, weight):
    """batch_norm's backward written with tapegrad operations (differentiable again)."""
    need = ctx.needs_input_grad
    nd = x.dim()
    C = x.shape[1]
    axes = (0,) + tuple(range(2, nd))
    bshape = (1, C) + (1,) * (nd - 2)
    if ctx.training:
        mean = x.mean(axes, keepdim=True)
        xc = x - mean
        invstd = ((xc * xc).mean(axes, keepdim=True) + ctx.eps).rsqrt()
    else:
        xc = x - Tensor._make(ctx.mean.reshape(bshape))
        invstd = Tensor._make(ctx.invstd.reshape(bshape))
    xhat = xc * invstd
    gx = gw = gb = None
    if need[0]:
        gxh = g if weight is None else g * weight.reshape(bshape)
        if ctx.training:
            gx = (gxh - gxh.mean(axes, keepdim=True) - xhat * (gxh * xhat).mean(axes, keepdim=True)) * invstd
        else:
            gx = gxh * invstd
    if need[1]:
        gw = (g * xhat).sum(axes)
    if need[2]:
        gb = g.sum(axes)
    return gx, gw, gb


def _check_per_channel(t, name, C):
    if t is not None and t._data.size != C:
        raise RuntimeError(f"{name} should contain {C} elements not {t._data.size}")


def _verify_batch_size(shape):
    n = shape[0]
    for s in shape[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {Size(shape)}")


def _mixed_dtype_error(input, t):
    """PyTorch's CPU batch norm takes parameters of the input's dtype only (float32 ones with a half or
    bfloat16 input aside, which tapegrad leaves to its usual promotion)."""
    from .. import _dtype
    if input.dtype in (_dtype.float16, _dtype.bfloat16) and t.dtype == _dtype.float32:
        return
    if input.dtype == _dtype.float32:
        raise RuntimeError(f"mixed dtype (CPU): expect parameter to have scalar type of Float (batch_norm: input "
                           f"{input.dtype}, parameter {t.dtype})")
    raise RuntimeError(f"mixed dtype (CPU): all inputs must share same datatype. (batch_norm: input {input.dtype}, "
                       f"parameter {t.dtype})")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-05):
    """Normalise each channel (axis 1) of `input` (N, C, *) over the batch and any spatial axes.

    training=True uses the batch's statistics and, when given, updates running_mean and
    running_var in place: new = (1 - momentum) * old + momentum * batch statistic (the variance
    unbiased). training=False normalises with running_mean and running_var.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._data.ndim < 2:
        if training and input._data.ndim == 1:        # PyTorch's _verify_batch_size reads size(1)
            raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got 1) (batch_norm: "
                             f"expected an input of at least 2 dimensions (N, C, *), got input of size "
                             f"{input.shape})")
        raise ValueError(f"batch_norm: expected an input of at least 2 dimensions (N, C, *), got input of size "
                         f"{input.shape}")
    if momentum is None:
        raise TypeError("batch_norm(): argument 'momentum' (position 7) must be float, not NoneType")
    C = input._data.shape[1]
    _check_per_channel(running_mean, "running_mean", C)
    _check_per_channel(running_var, "running_var", C)
    _check_per_channel(weight, "weight", C)
    _check_per_channel(bias, "bias", C)
    if training:
        _verify_batch_size(input._data.shape)
    elif running_mean is None or running_var is None:
        raise RuntimeError(f"running_{'mean' if running_mean is None else 'var'} must be defined in evaluation mode")
    if not input.is_floating_point():
        from .conv import _scalar_name
        raise NotImplementedError(f'"batch_norm" not implemented for \'{_scalar_name(input)}\' (batch_norm: '
                                  f'expected a floating point input, got {input.dtype})')
    dt = input.dtype
    for t in (weight, bias, running_mean, running_var):
        if t is not None and t.dtype != dt:
            _mixed_dtype_error(input, t)
    rm = None if running_mean is None else running_mean._data
    rv = None if running_var is None else running_var._data
    out = BatchNorm.apply(input, weight, bias, rm, rv, bool(training), float(momentum), float(eps))
    if training:
        for t in (running_mean, running_var):
            if t is not None:
                t._version_ctr.v += 1
    return out


# ---------------------------------------------------------------- layer_norm
class LayerNorm(Function):
    """Normalise over the last `nd` axes; weight and bias (optional) have those axes' shape."""

    @staticmethod
    def forward(ctx, x, weight, bias, nd, eps):
        shape = x.shape
        D = 1
        for s in shape[len(shape) - nd:]:
            D *= s
        x2 = x.reshape(-1, D)
        mean = x2.mean(axis=1, keepdims=True, dtype=x.dtype)
        xhat = x2 - mean
        var = _vecdot(xhat, xhat) / D if D else np.zeros(x2.shape[0], x.dtype)
        invstd = (1.0 / np.sqrt(var.astype(x.dtype, copy=False) + eps))[:, None]
        xhat *= invstd
        if weight is None and bias is None:
            # the output is xhat itself: the caller may modify it in place, so backward recomputes xhat
            y, saved, ctx.mean = xhat, None, mean
        else:
            y = xhat * weight.reshape(-1) if weight is not None else xhat + bias.reshape(-1)
            if bias is not None and weight is not None:
                y += bias.reshape(-1)
            saved = xhat
        ctx.eps, ctx.nd, ctx.D, ctx.invstd = eps, nd, D, invstd
        ctx.save_for_backward(x, weight, saved)
        return y.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        x, weight, xhat = ctx.saved_tensors
        need = ctx.needs_input_grad
        if grad_mode.GRAD[0]:
            return _ln_backward_graph(ctx, g, x, weight) + (None, None)
        D = ctx.D
        if xhat is None:
            xh = x._data.reshape(-1, D) - ctx.mean
            xh *= ctx.invstd
        else:
            xh = xhat._data.reshape(-1, D)
        gd = g._data
        if gd.dtype != xh.dtype:
            gd = gd.astype(xh.dtype)
        g2 = gd.reshape(-1, D)
        gx = gw = gb = None
        if need[0]:
            gxh = g2 * weight._data.reshape(-1) if weight is not None else g2
            a = gxh.mean(axis=1, keepdims=True, dtype=gxh.dtype)
            b = (_vecdot(gxh, xh) / D)[:, None]
            gx = xh * b
            np.subtract(gxh, gx, out=gx)
            gx -= a
            gx *= ctx.invstd
            gx = Tensor._make(gx.reshape(x._data.shape))
        if need[1]:
            gw = Tensor._make(_backend.array_module(g2).einsum("rd,rd->d", g2, xh).reshape(weight._data.shape))
        if need[2]:
            gb = Tensor._make(g2.sum(0).reshape(x._data.shape[x._data.ndim - ctx.nd:]))
        return gx, gw, gb, None, None


def _ln_backward_graph(ctx, g, x, weight):
    need = ctx.needs_input_grad
    nd = x.dim()
    axes = tuple(range(nd - ctx.nd, nd))
    mean = x.mean(axes, keepdim=True)
    xc = x - mean
    invstd = ((xc * xc).mean(axes, keepdim=True) + ctx.eps).rsqrt()
    xhat = xc * invstd
    lead = tuple(range(nd - ctx.nd))
    gx = gw = gb = None
    if need[0]:
        gxh = g if weight is None else g * weight
        gx = (gxh - gxh.mean(axes, keepdim=True) - xhat * (gxh * xhat).mean(axes, keepdim=True)) * invstd
    if need[1]:
        gw = (g * xhat).sum(lead) if lead else g * xhat
    if need[2]:
        gb = g.sum(lead) if lead else g
    return gx, gw, gb


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    if isinstance(normalized_shape, Tensor):
        return tuple(int(s) for s in normalized_shape.tolist())
    return tuple(int(s) for s in normalized_shape)


def _check_normalized(input, shape, weight, bias, sep=", "):
    nd = len(shape)
    if nd == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    ishape = input._data.shape
    if len(ishape) < nd or tuple(ishape[len(ishape) - nd:]) != shape:
        raise RuntimeError(f"Given normalized_shape={_shape_str(shape)}, expected input with shape "
                           f"[*{sep}{', '.join(str(s) for s in shape)}], but got input of size{_shape_str(ishape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t._data.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{_shape_str(t._data.shape)} and normalized_shape = {_shape_str(shape)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalise over the trailing dimensions `normalized_shape`, then scale by weight and add bias."""
    shape = _normalized_shape(normalized_shape)
    _check_normalized(input, shape, weight, bias)
    if not input.is_floating_point():
        raise RuntimeError(f"layer_norm: expected a floating point input, got {input.dtype}")
    return LayerNorm.apply(input, weight, bias, len(shape), float(eps))


# ---------------------------------------------------------------- group_norm / instance_norm
def _affine_per_channel(y, weight, bias):
    """y * weight + bias with weight and bias of shape (C,) broadcast along axis 1 of y."""
    if weight is None and bias is None:
        return y
    bshape = (1, y.shape[1]) + (1,) * (y.dim() - 2)
    if weight is not None:
        y = y * weight.reshape(bshape)
    if bias is not None:
        y = y + bias.reshape(bshape)
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Split the channels into `num_groups` groups and normalise each group of each sample."""
    shape = input._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {len(shape)}")
    N, C = shape[0], shape[1]
    if num_groups <= 0 or C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {_shape_str(shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t._data.ndim != 1 or t._data.shape[0] != C):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {_shape_str(t._data.shape)} and input of shape "
                               f"{_shape_str(shape)}")
    per_group = C // num_groups * int(np.prod(shape[2:]))  # not -1: N may be 0
    y = LayerNorm.apply(input.reshape(N, num_groups, per_group), None, None, 1, float(eps)).reshape(shape)
    return _affine_per_channel(y, weight, bias)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-05):
    """Normalise each channel of each sample over its spatial dimensions (N, C, *)."""
    shape = input._data.shape
    if len(shape) < 2:
        raise ValueError(f"instance_norm: expected an input of at least 2 dimensions (N, C, *), got input of size "
                         f"{input.shape}")
    C = shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_per_channel(t, name, C)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    n = 1
    for s in shape[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    N = shape[0]
    y = LayerNorm.apply(input.reshape(N, C, n), None, None, 1, float(eps)).reshape(shape)  # not -1: N may be 0
    if running_mean is not None or running_var is not None:
        x3 = input._data.reshape(N, C, n)
        m = x3.mean(axis=2, dtype=x3.dtype)
        if running_mean is not None:
            rm = running_mean._data
            rm[...] = momentum * m.mean(0) + (1.0 - momentum) * rm
            running_mean._version_ctr.v += 1
        if running_var is not None:
            xc = x3 - m[:, :, None]
            v = _vecdot(xc, xc) / (n - 1)
            rv = running_var._data
            rv[...] = momentum * v.mean(0) + (1.0 - momentum) * rv
            running_var._version_ctr.v += 1
    return _affine_per_channel(y, weight, bias)


# ---------------------------------------------------------------- local_response_norm / rms_norm
def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha / size * sum of x**2 over `size` neighbouring channels) ** beta (zero-padded)."""
    from .movement import cat

    nd = input.dim()
    if nd < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {nd} dimensions)")
    if input.numel() == 0:
        return input
    C = input.shape[1]
    sq = input * input
    front, back = size // 2, (size - 1) // 2
    parts = []
    if front:
        parts.append(sq.new_zeros((sq.shape[0], front) + tuple(sq.shape[2:])))
    parts.append(sq)
    if back:
        parts.append(sq.new_zeros((sq.shape[0], back) + tuple(sq.shape[2:])))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    acc = padded.narrow(1, 0, C)
    for i in range(1, size):  # the window sum over channels; `size` is small
        acc = acc + padded.narrow(1, i, C)
    div = (acc * (alpha / size) + k) ** beta
    return input / div


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x**2 over the trailing `normalized_shape`) + eps) * weight."""
    shape = _normalized_shape(normalized_shape)
    _check_normalized(input, shape, weight, None, sep="")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    nd = input.dim()
    dims = tuple(range(nd - len(shape), nd))
    y = input * (((input * input).mean(dims, keepdim=True)) + eps).rsqrt()
    if weight is not None:
        y = y * weight
    return y
