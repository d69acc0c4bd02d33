"""Activation operators (torch.nn.functional's activations), forward and backward side by side.

Hot ones (relu, leaky_relu, hardtanh, gelu, silu) are fused Functions whose backward runs
on raw arrays when no graph of the gradient is wanted (create_graph off) and on tapegrad
Tensors otherwise, so double backward still works. The rest are small Functions or
composites of tapegrad operators.
"""
import math
import warnings

import numpy as np

from .._tensor import Tensor, _wrap_dim
from ..autograd import grad_mode
from ..autograd.function import Function
from . import elementwise as E
from . import reduce as R
from .elementwise import ReLU, _erf_array as _erf, relu, relu_  # noqa: F401  (defined once there)

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_", "celu", "celu_",
    "gelu", "silu", "mish", "hardswish", "hardsigmoid", "hardtanh", "hardtanh_", "softplus", "softsign",
    "tanhshrink", "threshold", "threshold_", "glu", "logsigmoid", "sigmoid", "tanh", "softmax", "log_softmax",
    "softmin", "prelu", "rrelu", "rrelu_", "hardshrink", "softshrink", "gumbel_softmax",
]

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


_TYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _check(input, name, float_only=True):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if float_only and not input.is_floating_point():
        kernel = name if name[0].isupper() else name + "_cpu"
        type_name = _TYPE_NAMES.get(input.dtype.name, input.dtype.name)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{type_name}\'')


def _finish(input, op, inplace, name):
    """op(input), or written into input when inplace. A recorded in-place op computes from a clone, so
    the values its backward saved are not the ones it overwrites (PyTorch saves the original too)."""
    if not inplace:
        return op(input)
    if grad_mode.GRAD[0] and input._rg:
        return input._inplace(op(input.clone()), name)
    return input._inplace(op(input), name)


class Hardtanh(Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(x)
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if not grad_mode.GRAD[0]:
            xd = x._data
            return np.multiply(g._data, (xd > ctx.lo) & (xd < ctx.hi), dtype=g._data.dtype), None, None
        return g * ((x > ctx.lo) & (x < ctx.hi)), None, None


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    _check(input, "hardtanh", float_only=False)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _finish(input, lambda t: Hardtanh.apply(t, min_val, max_val), inplace, "hardtanh_")


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


class LeakyReLU(Function):
    @staticmethod
    def forward(ctx, x, slope):
        ctx.slope = slope
        ctx.save_for_backward(x)
        return np.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if not grad_mode.GRAD[0]:
            gd = g._data
            return np.where(x._data > 0, gd, gd * ctx.slope), None
        return E.where(x > 0, g, g * ctx.slope), None


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check(input, "leaky_relu")
    return _finish(input, lambda t: LeakyReLU.apply(t, negative_slope), inplace, "leaky_relu_")


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


class Threshold(Function):
    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.threshold = threshold
        ctx.save_for_backward(x)
        return np.where(x > threshold, x, np.asarray(value, dtype=x.dtype))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x > ctx.threshold), None, None


def threshold(input, threshold, value, inplace=False):
    _check(input, "threshold", float_only=False)
    return _finish(input, lambda t: Threshold.apply(t, threshold, value), inplace, "threshold_")


def threshold_(input, threshold, value):
    return _finish(input, lambda t: Threshold.apply(t, threshold, value), True, "threshold_")


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomised leaky ReLU: a random slope per element in training, (lower+upper)/2 in eval."""
    _check(input, "rrelu")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from .random import default_generator

    slope = default_generator._rng.uniform(lower, upper, input._data.shape).astype(input._data.dtype)
    slope = Tensor._make(np.where(input._data >= 0, np.ones((), input._data.dtype), slope))
    return _finish(input, lambda t: t * slope, inplace, "rrelu_")


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


# ---------------------------------------------------------------- exponential family
class ELU(Function):
    """elu / celu / selu: scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1))."""

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.params = (alpha, scale, input_scale)
        ctx.save_for_backward(x)
        neg = np.expm1(np.minimum(x, 0) * input_scale) * (alpha * scale)
        return np.where(x > 0, x * scale, neg).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.params
        if not grad_mode.GRAD[0]:
            xd, gd = x._data, g._data
            d = np.where(xd > 0, scale, np.exp(np.minimum(xd, 0) * input_scale) * (alpha * scale * input_scale))
            return (gd * d).astype(gd.dtype, copy=False), None, None, None
        d = E.where(x > 0, scale, E.exp(E.clamp(x, max=0) * input_scale) * (alpha * scale * input_scale))
        return g * d, None, None, None


def elu(input, alpha=1.0, inplace=False):
    _check(input, "elu")
    return _finish(input, lambda t: ELU.apply(t, alpha, 1.0, 1.0), inplace, "elu_")


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def celu(input, alpha=1.0, inplace=False):
    _check(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _finish(input, lambda t: ELU.apply(t, alpha, 1.0, 1.0 / alpha), inplace, "celu_")


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def selu(input, inplace=False):
    _check(input, "selu")
    return _finish(input, lambda t: ELU.apply(t, _SELU_ALPHA, _SELU_SCALE, 1.0), inplace, "selu_")


def selu_(input):
    return selu(input, True)


# ---------------------------------------------------------------- gelu / silu / mish
class GELU(Function):
    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        if approximate == "tanh":
            inner = (x + 0.044715 * x * x * x) * _SQRT_2_OVER_PI
            return 0.5 * x * (1.0 + np.tanh(inner))
        cdf = _erf(x * _SQRT1_2)
        cdf += 1.0
        cdf *= 0.5
        ctx.cdf = cdf  # Phi(x), kept for the backward: one erf per GELU instead of two
        return x * cdf

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if not grad_mode.GRAD[0]:
            xd, gd = x._data, g._data
            if ctx.approximate == "tanh":
                x2 = xd * xd
                t = np.tanh((xd + 0.044715 * x2 * xd) * _SQRT_2_OVER_PI)
                d = 0.5 * (1.0 + t) + 0.5 * xd * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x2)
            else:  # Phi(x) + x phi(x), in place
                d = np.asarray(xd * xd)
                d *= -0.5
                np.exp(d, out=d)
                d *= xd
                d *= d.dtype.type(_INV_SQRT_2PI)
                d += ctx.cdf
                d *= gd
                return d, None
            return gd * d, None
        if ctx.approximate == "tanh":
            x2 = x * x
            t = E.tanh((x + 0.044715 * x2 * x) * _SQRT_2_OVER_PI)
            d = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x2)
        else:
            d = 0.5 * (1.0 + E.erf(x * _SQRT1_2)) + x * E.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return g * d, None


def gelu(input, approximate="none"):
    _check(input, "GeluKernelImpl")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return GELU.apply(input, approximate)


class SiLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * E._sigmoid(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if not grad_mode.GRAD[0]:
            xd = x._data
            s = E._sigmoid(xd)
            return g._data * (s * (1 + xd * (1 - s)))
        s = E.sigmoid(x)
        return g * (s * (1 + x * (1 - s)))


def silu(input, inplace=False):
    _check(input, "silu")
    return _finish(input, lambda t: SiLU.apply(t), inplace, "silu_")


def _softplus_arr(x):
    return np.logaddexp(x, 0).astype(x.dtype, copy=False)


class Mish(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.tanh(_softplus_arr(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        t = E.tanh(softplus(x))
        return g * (t + x * E.sigmoid(x) * (1 - t * t))


def mish(input, inplace=False):
    _check(input, "mish")
    return _finish(input, lambda t: Mish.apply(t), inplace, "mish_")


# ---------------------------------------------------------------- hard functions
class Hardswish(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = E.where(x <= -3, 0.0, E.where(x < 3, x / 3 + 0.5, 1.0))  # PyTorch: 0 at -3, 1 at 3
        return g * d


def hardswish(input, inplace=False):
    _check(input, "hardswish")
    return _finish(input, lambda t: Hardswish.apply(t), inplace, "hardswish_")


class Hardsigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x > -3) & (x < 3)) * (1.0 / 6)


def hardsigmoid(input, inplace=False):
    _check(input, "hardsigmoid")
    return _finish(input, lambda t: Hardsigmoid.apply(t), inplace, "hardsigmoid_")


class _Shrink(Function):
    @staticmethod
    def forward(ctx, x, lambd, soft):
        keep = np.abs(x) > lambd
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        if soft:
            return np.where(keep, x - np.sign(x) * lambd, 0).astype(x.dtype, copy=False)
        return np.where(keep, x, 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (E.abs(x) > ctx.lambd), None, None


def hardshrink(input, lambd=0.5):
    _check(input, "hardshrink")
    return _Shrink.apply(input, lambd, False)


def softshrink(input, lambd=0.5):
    _check(input, "softshrink")
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _Shrink.apply(input, lambd, True)


# ---------------------------------------------------------------- softplus / logsigmoid / softsign
class Softplus(Function):
    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(x)
        bx = x * beta
        return np.where(bx > threshold, x, np.log1p(np.exp(np.minimum(bx, threshold))) / beta).astype(
            x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        return E.where(bx > ctx.threshold, g, g * E.sigmoid(bx)), None, None


def softplus(input, beta=1.0, threshold=20.0):
    _check(input, "softplus")
    return Softplus.apply(input, beta, threshold)


class LogSigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * E.sigmoid(-x)


def logsigmoid(input):
    _check(input, "log_sigmoid_forward")
    return LogSigmoid.apply(input)


def softsign(input):
    _check(input, "softsign")
    return input / (E.abs(input) + 1)


def tanhshrink(input):
    _check(input, "tanhshrink")
    return input - E.tanh(input)


def sigmoid(input):
    return E.sigmoid(input)


def tanh(input):
    return E.tanh(input)


# ---------------------------------------------------------------- glu / prelu
def glu(input, dim=-1):
    _check(input, "glu")
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _wrap_dim(dim, input.dim(), "glu")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.narrow(d, 0, n // 2), input.narrow(d, n // 2, n // 2)  # (split gives one piece when n = 0)
    return a * E.sigmoid(b)


def prelu(input, weight):
    _check(input, "prelu")
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu(): argument 'weight' (position 2) must be Tensor, not {type(weight).__name__}")
    n = weight.numel()
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    if n != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.dim() >= 2 else 1
        if n != channels:
            raise RuntimeError("Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{n} and channel size = {channels}.")
        w = weight.reshape((-1,) + (1,) * (input.dim() - 2)) if input.dim() >= 2 else weight
    else:
        w = weight.reshape(())
    return E.where(input > 0, input, w * input)


# ---------------------------------------------------------------- softmax family
def _implicit_dim(name, ndim):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_dim("softmax", input.dim())
    return R.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_dim("log_softmax", input.dim())
    return R.log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_dim("softmin", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return R.softmax(-input, dim)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Softmax of (logits + Gumbel noise) / tau; hard=True: one-hot forward, soft gradient."""
    from .random import default_generator

    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    d = logits._data
    noise = -np.log(default_generator._rng.exponential(1.0, d.shape)).astype(d.dtype)
    y_soft = R.softmax((logits + Tensor._make(noise)) / tau, dim)
    if not hard:
        return y_soft
    axis = _wrap_dim(dim, y_soft.dim(), "gumbel_softmax")
    idx = np.expand_dims(np.argmax(y_soft._data, axis=axis), axis)
    y_hard = np.zeros_like(y_soft._data)
    np.put_along_axis(y_hard, idx, 1.0, axis=axis)
    return Tensor._make(y_hard) - y_soft.detach() + y_soft


# grad_fn names as PyTorch prints them
for _cls, _name in ((ReLU, "Relu"), (Hardtanh, "Hardtanh"), (LeakyReLU, "LeakyRelu"), (Threshold, "Threshold"),
                    (ELU, "Elu"), (GELU, "Gelu"), (SiLU, "Silu"), (Mish, "Mish"), (Hardswish, "Hardswish"),
                    (Hardsigmoid, "Hardsigmoid"), (Softplus, "Softplus"), (LogSigmoid, "LogSigmoid")):
    _cls._backward_name = _name + "Backward0"
