"""Loss functions, with PyTorch's names, arguments, reductions and error messages.

cross_entropy (class-index targets) and nll_loss are fused Functions with hand-written backward
(raw arrays, or tapegrad operations under create_graph); binary_cross_entropy and its logits form
are Functions whose backward matches PyTorch's at the edges (clamped logs, x = 0). The rarely
used losses are composites of tapegrad operations, correct by construction.
"""
import math
import warnings

import numpy as np

from .. import _backend
from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.function import Function
from .. import amp as _amp

_AUTOCAST = _amp.AUTOCAST

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "poisson_nll_loss",
           "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss",
           "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss", "ctc_loss"]


# ---------------------------------------------------------------- reductions
def _legacy_reduction(size_average, reduce, emit_warning=True):
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    ret = "mean" if size_average and reduce else ("sum" if reduce else "none")
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                      stacklevel=3)
    return ret


def _reduction(size_average, reduce, reduction, extra=()):
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    if reduction not in ("mean", "sum", "none") and reduction not in extra:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _t(x):
    return x if isinstance(x, Tensor) else Tensor._make(np.asarray(x))


def _size_warning(input, target):
    if input._data.shape != target._data.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def _shape_str(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


# ---------------------------------------------------------------- class-index targets: checks shared by CE and NLL
_INDEX_DTYPES = ("int64", "uint8")
_INDEX_NP_DTYPES = frozenset(np.dtype(n) for n in _INDEX_DTYPES)  # the fast check; dtype.name is Python-level


def _class_target(op, input, target, weight, ignore_index):
    """Validate (input, class-index target); return them as (N, C, *) and (N, *) arrays, the unbatched flag and
    whether any target may equal ignore_index."""
    x, t = input._data, target._data
    if x.ndim < 1:
        raise ValueError(f"{op}: expected input of at least 1 dimension (C), (N, C) or (N, C, d1, ...), "
                         f"got a 0-d input")
    if t.dtype not in _INDEX_NP_DTYPES and t.dtype.name not in _INDEX_DTYPES:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype.name.capitalize()} "
                           f"({op}: class-index targets must be int64 (torch.long); input has size "
                           f"{_shape_str(x.shape)}, target has size {_shape_str(t.shape)})")
    unbatched = x.ndim == 1
    if unbatched:
        if t.ndim != 0:
            raise RuntimeError(f"{op}: 1D input of size {_shape_str(x.shape)} (unbatched, C classes) expects a 0D "
                               f"target, got target of size {_shape_str(t.shape)}")
        x, t = x[None], t[None]
    elif x.ndim == 2:
        if t.ndim != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported "
                               f"({op}: input of size {_shape_str(x.shape)}, target of size {_shape_str(t.shape)})")
    if not unbatched and t.shape[:1] != x.shape[:1]:
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
                         f"({t.shape[0] if t.ndim else 0}).")
    if x.ndim > 2 and t.shape != x.shape[:1] + x.shape[2:]:
        raise RuntimeError(f"Expected target size {_shape_str(x.shape[:1] + x.shape[2:])}, got {_shape_str(t.shape)} "
                           f"({op}: input of size {_shape_str(x.shape)})")
    C = x.shape[1]
    if weight is not None and (weight._data.ndim != 1 or weight._data.shape[0] != C):
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no classes but got "
                           f"weight tensor of shape: {_shape_str(weight._data.shape)}")
    may_ignore = False
    if t.size:
        tmin, tmax = int(t.min()), int(t.max())
        if tmin < 0 or tmax >= C:
            t64 = t.astype(np.int64, copy=False)
            bad = ((t64 < 0) | (t64 >= C)) & (t64 != ignore_index)
            if bool(bad.any()):
                v = int(t64[bad].reshape(-1)[0])
                raise IndexError(f"Target {v} is out of bounds. ({op}: class-index targets must lie in [0, {C}) for "
                                 f"input of size {_shape_str(input._data.shape)}, or equal "
                                 f"ignore_index={ignore_index})")
        may_ignore = tmin <= ignore_index <= tmax
    return x, t, unbatched, may_ignore


def _target_info(t, weight, ignore_index, dt, may_ignore=True):
    """Targets with ignored entries replaced by 0, the valid mask (None when all are valid), the per-target
    weights (None without weight) and the 'mean' denominator."""
    xp = _backend.array_module(t)
    t = t.astype(np.int64, copy=False)
    valid = (t != ignore_index) if may_ignore else None
    if valid is not None and bool(valid.all()):
        valid = None
    elif valid is not None:
        t = xp.where(valid, t, 0)
    w_t = None
    if weight is not None:
        w_t = weight.astype(dt, copy=False)[t]
        if valid is not None:
            w_t = w_t * valid
        denom = w_t.sum(dtype=dt)
    else:
        denom = dt.type(t.size if valid is None else int(valid.sum()))
    return t, valid, w_t, denom


def _take_class(a, t):
    """a[n, t[n, ...], ...] for a (N, C, *) and t (N, *)."""
    xp = _backend.array_module(a)
    if a.ndim == 2:
        return a[xp.arange(a.shape[0]), t]
    return xp.take_along_axis(a, t[:, None], axis=1)[:, 0]


def _sub_at_class(a, t, v):
    """a[n, t[n, ...], ...] -= v[n, ...] in place (v broadcastable to t's shape)."""
    if a.ndim == 2:
        a[_backend.array_module(a).arange(a.shape[0]), t] -= v
    else:
        idx = t[:, None]
        np.put_along_axis(a, idx, np.take_along_axis(a, idx, axis=1) - np.broadcast_to(v, t.shape)[:, None], axis=1)


def _finish(per, reduction, denom, dt):
    if reduction == "none":
        return per
    total = per.sum(dtype=dt)
    if reduction == "sum":
        return np.asarray(total, dtype=dt)
    if denom:
        return np.asarray(total / denom, dtype=dt)
    with np.errstate(invalid="ignore", divide="ignore"):  # nothing counted (all ignored): nan, as in PyTorch
        return np.asarray(total / denom, dtype=dt)


def _scale(g, reduction, denom, dt):
    """d(output)/d(per-sample loss), times the incoming gradient: an array broadcastable to the target's shape."""
    gd = g._data.astype(dt, copy=False)
    if reduction == "mean":
        if denom:
            return gd / denom
        with np.errstate(invalid="ignore", divide="ignore"):
            return gd / denom
    return gd


# ---------------------------------------------------------------- cross_entropy (fused)
class CrossEntropy(Function):
    """log_softmax over axis 1 and the weighted, label-smoothed negative log-likelihood of class indices."""

    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction, smoothing, need_grad, may_ignore):
        xp = _backend.array_module(x)
        dt = x.dtype
        C = x.shape[1]
        t, valid, w_t, denom = _target_info(t, weight, ignore_index, dt, may_ignore)
        shifted = x - x.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        logs = xp.log(s)
        nll = logs[:, 0] - _take_class(shifted, t)  # -log p[target]
        if w_t is not None:
            nll *= w_t
        if smoothing:
            # smooth_i = -sum_c w_c log p_ic = W log s_i - sum_c w_c shifted_ic
            if weight is None:
                smooth = C * logs[:, 0] - shifted.sum(axis=1)
            else:
                w = weight.astype(dt, copy=False)
                smooth = w.sum() * logs[:, 0] - xp.tensordot(shifted, w, axes=([1], [0]))
            per = (1.0 - smoothing) * nll + (smoothing / C) * smooth
        else:
            per = nll
        if valid is not None:
            per = xp.where(valid, per, 0)
        out = _finish(per.astype(dt, copy=False), reduction, denom, dt)
        if need_grad:
            e /= s  # softmax
            ctx.t, ctx.valid, ctx.w_t, ctx.denom, ctx.weight = t, valid, w_t, denom, weight
            ctx.reduction, ctx.smoothing = reduction, smoothing
            ctx.save_for_backward(x, e)
        return out

    @staticmethod
    def backward(ctx, g):
        x, p = ctx.saved_tensors
        dt = p._data.dtype
        pd = p._data
        nd = pd.ndim
        C = pd.shape[1]
        t, valid, w_t, eps, weight = ctx.t, ctx.valid, ctx.w_t, ctx.smoothing, ctx.weight
        if grad_mode.GRAD[0]:
            return _ce_backward_graph(ctx, g, x) + (None,) * 7
        s = _scale(g, ctx.reduction, ctx.denom, dt)  # () or the target's shape
        s_valid = s if valid is None else np.where(valid, s, 0)  # d(output)/d(per-sample loss), 0 where ignored
        c_t = s_valid if w_t is None else s_valid * w_t  # coefficient of the target class
        if eps:
            W = C if weight is None else weight.astype(dt, copy=False).sum()
            coef_p = (1.0 - eps) * c_t + (eps / C) * W * s_valid
            c_t = (1.0 - eps) * c_t
        else:
            coef_p = c_t
        coef_p = np.asarray(coef_p, dtype=dt)
        gx = pd * (coef_p if coef_p.ndim == 0 else np.expand_dims(coef_p, 1))
        _sub_at_class(gx, t, np.asarray(c_t, dtype=dt))
        if eps:
            sv = np.asarray(s_valid, dtype=dt)
            sv = sv if sv.ndim == 0 else np.expand_dims(sv, 1)
            wb = dt.type(1.0) if weight is None else weight.astype(dt, copy=False).reshape((1, C) + (1,) * (nd - 2))
            gx -= (eps / C) * sv * wb
        return Tensor._make(gx.reshape(x._data.shape)), None, None, None, None, None, None, None


CrossEntropy._backward_name = "NllLossBackward0"  # PyTorch's grad_fn: cross_entropy is log_softmax + nll_loss


def _class_coefficients(ctx, shape, dt):
    """Constant arrays (a, b) with d(per-sample loss)/dx = p * a - b, masked and scaled for 'mean'."""
    C = shape[1]
    nd = len(shape)
    t, valid, w_t, eps, weight = ctx.t, ctx.valid, ctx.w_t, ctx.smoothing, ctx.weight
    ones = np.ones(t.shape, dt)
    vmask = ones if valid is None else valid.astype(dt)
    wt = vmask if w_t is None else w_t
    onehot = np.zeros(shape, dt)
    _sub_at_class(onehot, t, -np.ones(t.shape, dt))
    wb = np.ones((1, C) + (1,) * (nd - 2), dt) if weight is None else \
        weight.astype(dt, copy=False).reshape((1, C) + (1,) * (nd - 2))
    W = wb.sum()
    a = (1.0 - eps) * wt + (eps / C) * W * vmask
    b = (1.0 - eps) * onehot * np.expand_dims(wt, 1) + (eps / C) * wb * np.expand_dims(vmask, 1)
    if ctx.reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            a, b = a / ctx.denom, b / ctx.denom
        if valid is not None:  # ignored targets get no gradient, even when nothing is left to average
            a, b = np.where(valid, a, 0), np.where(np.expand_dims(valid, 1), b, 0)
    return np.expand_dims(a, 1).astype(dt), b.astype(dt)


def _ce_backward_graph(ctx, g, x):
    from .reduce import softmax

    a, b = _class_coefficients(ctx, x._data.shape, x._data.dtype)
    gs = g.unsqueeze(1) if ctx.reduction == "none" else g
    return ((softmax(x, 1) * Tensor._make(a) - Tensor._make(b)) * gs,)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy between softmax(input) over dim 1 and `target`: class indices (N, *) of int64, or
    class probabilities of input's shape."""
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        bad = "input" if not isinstance(input, Tensor) else "target"
        raise TypeError(f"cross_entropy(): argument '{bad}' must be Tensor, not "
                        f"{type(input if bad == 'input' else target).__name__}")
    if _AUTOCAST[0] is not None:  # an fp32 operator of torch.autocast (tapegrad/amp.py)
        input = _amp._to_float32(input)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"cross_entropy: expected a floating point input (logits), got {input.dtype}")
    if target._data.dtype.kind == "f":
        if target._data.shape != input._data.shape:
            raise RuntimeError(
                f"expected target dtype to be Long or Byte, but got {target.dtype.name.capitalize()} (cross_entropy: "
                f"a floating point target holds class probabilities and must have the input's size "
                f"{_shape_str(input._data.shape)}, got target of size {_shape_str(target._data.shape)}; "
                f"class-index targets must be int64)")
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction, label_smoothing)
    x, t, unbatched, may_ignore = _class_target("cross_entropy", input, target, weight, ignore_index)
    need = grad_mode.GRAD[0] and input._rg
    inp = input.unsqueeze(0) if unbatched else input
    out = CrossEntropy.apply(inp, t, None if weight is None else weight._data, int(ignore_index), reduction,
                             float(label_smoothing), need, may_ignore)
    if unbatched and reduction == "none":
        out = out.squeeze(0)
    return out


def _cross_entropy_probs(input, target, weight, ignore_index, reduction, label_smoothing):
    from .reduce import log_softmax

    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    class_dim = 0 if input.dim() == 1 else 1
    C = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.shape[0] != C):
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no classes but got "
                           f"weight tensor of shape: {_shape_str(weight.shape)}")
    logp = log_softmax(input, class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / C
    prod = logp * target
    if weight is not None:
        prod = prod * weight.reshape((C,) + (1,) * (input.dim() - class_dim - 1))
    if reduction == "none":
        return -prod.sum(class_dim)
    if reduction == "sum":
        return -prod.sum()
    n = input.numel() // C if C else 0
    return -prod.sum() / n if n else -prod.sum() * float("nan")


# ---------------------------------------------------------------- nll_loss (fused)
class NLLLoss(Function):
    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction, may_ignore):
        dt = x.dtype
        t, valid, w_t, denom = _target_info(t, weight, ignore_index, dt, may_ignore)
        per = -_take_class(x, t)
        if w_t is not None:
            per = per * w_t
        if valid is not None:
            per = np.where(valid, per, 0).astype(dt, copy=False)
        ctx.t, ctx.valid, ctx.w_t, ctx.denom, ctx.reduction = t, valid, w_t, denom, reduction
        ctx.shape = x.shape
        return _finish(per, reduction, denom, dt)

    @staticmethod
    def backward(ctx, g):
        dt = g._data.dtype
        t, valid, w_t = ctx.t, ctx.valid, ctx.w_t
        coef = np.ones(t.shape, dt) if w_t is None else w_t.astype(dt, copy=False)
        if ctx.reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                coef = coef / ctx.denom
        if valid is not None:
            coef = np.where(valid, coef, 0)
        mask = np.zeros(ctx.shape, dt)
        _sub_at_class(mask, t, coef.astype(dt, copy=False))  # mask[n, t] = -coef
        gs = g.unsqueeze(1) if ctx.reduction == "none" else g
        if grad_mode.GRAD[0]:
            return Tensor._make(mask) * gs, None, None, None, None, None
        return Tensor._make(mask * gs._data), None, None, None, None, None


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class-index targets given log-probabilities `input` (N, C, *)."""
    reduction = _reduction(size_average, reduce, reduction)
    if _AUTOCAST[0] is not None and isinstance(input, Tensor):  # an fp32 operator of torch.autocast (amp.py)
        input = _amp._to_float32(input)
    if target.is_floating_point():
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype.name.capitalize()} "
                           f"(nll_loss: targets are class indices of int64; input has size "
                           f"{_shape_str(input._data.shape)}, target has size {_shape_str(target._data.shape)})")
    x, t, unbatched, may_ignore = _class_target("nll_loss", input, target, weight, ignore_index)
    inp = input.unsqueeze(0) if unbatched else input
    out = NLLLoss.apply(inp, t, None if weight is None else weight._data, int(ignore_index), reduction, may_ignore)
    if unbatched and reduction == "none":
        out = out.squeeze(0)
    return out


# ---------------------------------------------------------------- regression losses
def _weighted(loss, weight, input, reduction):
    if weight._data.shape != input._data.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (input and target broadcast, with a warning when their sizes differ)."""
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    d = input - target
    loss = d * d
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error (input and target broadcast, with a warning when their sizes differ)."""
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d**2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (d = input - target)."""
    from .elementwise import where

    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = input - target
    z = d.abs()
    if beta == 0.0:
        return _reduce(z, reduction)
    loss = where(z < beta, d * d * (0.5 / beta), z - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d**2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere (d = input - target)."""
    from .elementwise import where

    _size_warning(input, target)
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = input - target
    z = d.abs()
    loss = where(z < delta, d * d * 0.5, (z - 0.5 * delta) * delta)
    if weight is not None:
        if weight._data.shape != input._data.shape:
            raise ValueError("Weights and input must have the same size.")
        return _reduce(loss * weight, reduction)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- binary cross entropy
class BinaryCrossEntropy(Function):
    """-(t log x + (1 - t) log(1 - x)) * w, each log clamped to >= -100 as PyTorch does."""

    @staticmethod
    def forward(ctx, x, t, w):
        xp = _backend.array_module(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            lx = xp.maximum(xp.log(x), -100)
            l1x = xp.maximum(xp.log1p(-x), -100)
        loss = (t - 1) * l1x - t * lx
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, t, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gw = g if w is None else g * w
        gx = gt = gwt = None
        if need[0]:
            gx = gw * (x - t) / (x * (1 - x)).clamp_min(1e-12)
        if need[1] or need[2]:
            from .elementwise import log, log1p

            with np.errstate(divide="ignore", invalid="ignore"):
                lx, l1x = log(x), log1p(-x)
                if need[1]:  # PyTorch leaves these logs unclamped: +-inf at x = 0 or 1
                    gt = gw * (l1x - lx)
                if need[2]:
                    gwt = g * ((t - 1) * l1x.clamp_min(-100) - t * lx.clamp_min(-100))
        return gx, gt, gwt


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross entropy between probabilities `input` and `target` (same size)."""
    reduction = _reduction(size_average, reduce, reduction)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) "
                         "is deprecated. Please ensure they have the same size.")
    x = input._data
    if x.size and bool(((x < 0) | (x > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1 (binary_cross_entropy: input holds "
                           "probabilities; for logits use binary_cross_entropy_with_logits)")
    if weight is not None:
        weight = weight.expand(np.broadcast_shapes(target._data.shape, weight._data.shape))
    return _reduce(BinaryCrossEntropy.apply(input, target, weight), reduction)


class BCEWithLogits(Function):
    """(1 - t) x + lw * softplus(-x), lw = (pos_weight - 1) t + 1, times weight; stable for any x."""

    @staticmethod
    def forward(ctx, x, t, w, pw):
        xp = _backend.array_module(x)
        sp = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))  # softplus(-x) = -log sigmoid(x)
        if pw is None:
            loss = (1 - t) * x + sp
        else:
            loss = (1 - t) * x + ((pw - 1) * t + 1) * sp
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w, pw)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, t, w, pw = ctx.saved_tensors
        need = ctx.needs_input_grad
        gw = g if w is None else g * w
        gx = gt = gwt = gpw = None
        if need[0]:
            if pw is None:
                gx = gw * (x.sigmoid() - t)
            else:
                gx = gw * (((pw - 1) * t + 1) * x.sigmoid() - pw * t)
        if need[1] or need[2] or (pw is not None and need[3]):
            sp = (-x).relu() + (-x.abs()).exp().log1p()
            if need[1]:
                gt = gw * (-x if pw is None else (pw - 1) * sp - x)
            if need[2]:
                gwt = g * ((1 - t) * x + (sp if pw is None else ((pw - 1) * t + 1) * sp))
            if pw is not None and need[3]:
                gpw = gw * t * sp
        return gx, gt, gwt, gpw


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid and binary cross entropy in one numerically stable step; pos_weight weighs positives."""
    reduction = _reduction(size_average, reduce, reduction)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    return _reduce(BCEWithLogits.apply(input, target, weight, pos_weight), reduction)


# ---------------------------------------------------------------- distribution losses
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence target * (log target - input), input holding log-probabilities."""
    from .elementwise import xlogy

    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        reduction = _reduction(None, None, reduction, extra=("batchmean",))
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = xlogy(target, target) - target * input
    if reduction == "batchmean":
        out = loss.sum()
        return out / input.shape[0] if input.dim() != 0 else out
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log-likelihood of a Poisson target with rate exp(input) (log_input) or input."""
    from .elementwise import where

    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target
        safe = where(t > 1, t, 1.0)  # the term is 0 for t <= 1; keep its logs finite there
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(t > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of `target` under N(input, var) (var homo- or heteroscedastic)."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * input.new_ones(input.shape).detach()
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var._data.shape != input._data.shape:
        ishape, vshape = tuple(input._data.shape), tuple(var._data.shape)
        if ishape[:-1] == vshape:
            var = var.unsqueeze(-1)
        elif len(ishape) == len(vshape) and sum(y for x, y in zip(ishape, vshape) if x != y) == 1:
            pass
        else:
            raise ValueError(f"var is of incorrect size (gaussian_nll_loss: input of size {_shape_str(ishape)}, var "
                             f"of size {_shape_str(vshape)}; var must match the input, drop its last dimension, or "
                             "have size 1 in one dimension)")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with grad_mode.no_grad():
        var.clamp_(min=eps)
    d = input - target
    loss = 0.5 * (var.log() + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- margin and embedding losses
def _log_sigmoid(x):
    return _LogSigmoid.apply(x)


class _LogSigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        xp = _backend.array_module(x)
        ctx.save_for_backward(x)
        return (xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (-x).sigmoid()


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) for target 1; max(0, cos(x1, x2) - margin) for target -1."""
    from .elementwise import where

    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.shape != input2.shape:
        raise RuntimeError(f"cosine_embedding_loss: input1 and input2 must have the same size, got {input1.shape} "
                           f"and {input2.shape}")
    if target.dim() > 1:
        raise RuntimeError("1D target tensor expected, multi-target not supported")
    if target.dim() == 0 and input1.dim() != 1:
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes {input1.shape} "
                           f"and {input2.shape}.")
    if target.dim() == 1 and input1.dim() != 2:
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes {input1.shape} "
                           f"and {input2.shape}.")
    dim = input1.dim() - 1
    EPS = 1e-12
    prod = (input1 * input2).sum(dim)
    m1 = (input1 * input1).sum(dim) + EPS
    m2 = (input2 * input2).sum(dim) + EPS
    cos = prod / (m1 * m2).sqrt()
    zeros = cos.new_zeros(())
    loss = where(target == 1, 1 - cos, zeros) + where(target == -1, (cos - margin).clamp_min(0), zeros)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    if not (input1.dim() == input2.dim() == target.dim()):
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target is 1, max(0, margin - input) where target is -1."""
    from .elementwise import where

    reduction = _reduction(size_average, reduce, reduction)
    zeros = input.new_zeros(())
    loss = where(target != 1, (margin - input).clamp_min(0), zeros) + where(target != -1, input, zeros)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input))."""
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce((-input * target).exp().log1p(), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per-class binary cross entropy on logits, averaged over classes."""
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * _log_sigmoid(input) + (1 - target) * _log_sigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    C = input.shape[class_dim]
    loss = loss.sum(class_dim) / C
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Multi-class hinge: sum over j != y of max(0, margin - x[y] + x[j]) ** p * w[y], divided by C."""
    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    unbatched = input.dim() <= 1
    x = input.reshape(1, -1) if unbatched else input
    if x.dim() != 2:
        raise RuntimeError(f"multi_margin_loss: expected 1D or 2D input (N, C), got input of size {input.shape}")
    N, C = x.shape
    t = target.reshape(-1)
    if t.shape[0] != N:
        raise RuntimeError(f"inconsistent target size, expected {N} but got {list(target.shape)} "
                           f"(multi_margin_loss: input of size {list(input.shape)})")
    td = t._data.astype(np.int64)
    if td.size and (td.min() < 0 or td.max() >= C):
        raise IndexError(f"target out of range (multi_margin_loss: targets must lie in [0, {C}), got "
                         f"{int(td[(td < 0) | (td >= C)][0])})")
    idx = Tensor._make(td[:, None])
    xt = x.gather(1, idx)
    z = (margin - xt + x).clamp_min(0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.index_select(0, Tensor._make(td)).unsqueeze(1)
    mask = np.ones((N, C), dtype=x._data.dtype)
    mask[np.arange(N), td] = 0
    loss = (z * Tensor._make(mask)).sum(1) / C
    if unbatched:
        loss = loss.reshape(target.shape) if reduction == "none" else loss
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge: for each target class j (listed until the first -1) and non-target class i,
    max(0, 1 - (x[j] - x[i])), summed and divided by C."""
    reduction = _reduction(size_average, reduce, reduction)
    unbatched = input.dim() <= 1
    x = input.reshape(1, -1) if unbatched else input
    N, C = x.shape
    td = target._data.reshape(N, C).astype(np.int64)
    counts = np.zeros((N, C), dtype=x._data.dtype)
    for n in range(N):  # targets are a ragged list per sample, read up to the first -1
        row = td[n]
        stop = np.nonzero(row < 0)[0]
        row = row[:stop[0]] if stop.size else row
        np.add.at(counts[n], row, 1)
    is_target = counts > 0
    wmat = counts[:, :, None] * (~is_target)[:, None, :]
    z = (1 - x.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)
    loss = (z * Tensor._make(wmat.astype(x._data.dtype))).sum((1, 2)) / C
    if unbatched and reduction == "none":
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    from .reduce import norm

    dim = max(x1.dim(), x2.dim()) - 1
    return norm(x1 - x2 + eps, p, dim, keepdim)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p == n):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with the p-norm distance."""
    from .elementwise import minimum

    reduction = _reduction(size_average, reduce, reduction)
    _check_triplet_dims(anchor, positive, negative)
    d_pos = _pairwise_distance(anchor, positive, p, eps)
    d_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, _pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """triplet_margin_loss with any distance function (pairwise_distance by default)."""
    from .elementwise import minimum

    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist = distance_function if distance_function is not None else _pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    raise NotImplementedError("tapegrad does not implement ctc_loss (torch.nn.functional.ctc_loss, nn.CTCLoss)")

