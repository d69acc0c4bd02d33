"""Gradient clipping: clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_."""
import math

import numpy as np

from ..._tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _norm_of(arr, norm_type):
    """The norm of one array, accumulated in float64, returned in the array's dtype (0-d)."""
    a = np.abs(arr.astype(np.float64, copy=False)) if arr.dtype != np.float64 else np.abs(arr)
    if a.size == 0:
        v = 0.0
    elif norm_type == math.inf:
        v = a.max()
    elif norm_type == -math.inf:
        v = a.min()
    elif norm_type == 0:
        v = float((a != 0).sum())
    elif norm_type == 1:
        v = a.sum()
    elif norm_type == 2:
        v = math.sqrt(float(np.dot(a.ravel(), a.ravel())))
    else:
        v = float((a ** norm_type).sum()) ** (1.0 / norm_type)
    return np.asarray(v, dtype=arr.dtype)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of `tensors` (as if they were one vector); a 0-d tensor."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return Tensor._make(np.asarray(0.0, dtype=np.float32))
    norms = [_norm_of(t._data, norm_type) for t in tensors]
    dt = np.result_type(*[n.dtype for n in norms])
    total = _norm_of(np.stack([n.astype(dt) for n in norms]), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`")
    return Tensor._make(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients in place by min(1, max_norm / (total_norm + 1e-6))."""
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    tn = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm, dtype=np.float32)
    coef = np.asarray(max_norm, dtype=tn.dtype) / (tn + np.asarray(1e-6, dtype=tn.dtype))
    coef = np.minimum(coef, np.asarray(1.0, dtype=tn.dtype))
    for g in grads:
        d = g._data
        np.multiply(d, coef.astype(d.dtype), out=d)
        g._version_ctr.v += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Clip the gradients' total norm to max_norm in place; return the total norm before clipping."""
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    import warnings

    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        g = p.grad
        if g is None:
            continue
        d = g._data
        np.clip(d, -clip_value, clip_value, out=d)
        g._version_ctr.v += 1
