"""Elementwise operators: arithmetic, comparisons, unary math, activations, dtype/device conversion.

Each operator is a Function with forward (on arrays) and backward (on Tensors)
side by side. Operands are promoted to PyTorch's result dtype before NumPy
sees them (`_promote`); gradients are reduced to each input's shape and dtype
by the engine, so backward formulas here are written as for equal shapes.
"""
import builtins
import math

import numpy as np

from .. import _backend, _dtype
from .._tensor import Tensor, _type_name, tensor_method
from ..autograd import grad_mode
from ..autograd.function import Function, _named

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide", "remainder",
    "fmod", "pow", "neg", "negative", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt",
    "square", "abs", "absolute", "sign", "sgn", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos",
    "arctan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "atan2",
    "arctan2", "sigmoid", "relu", "reciprocal", "erf", "erfc", "erfinv", "floor", "ceil", "round", "trunc",
    "frac", "fix", "clamp", "clip", "clamp_min", "clamp_max", "where", "maximum", "minimum", "fmax", "fmin",
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_left_shift", "bitwise_right_shift",
    "bitwise_not", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isclose", "allclose", "nan_to_num",
    "lerp", "addcmul", "addcdiv", "hypot", "logaddexp", "xlogy", "signbit", "copysign", "positive", "deg2rad",
    "rad2deg", "sinc", "heaviside", "float_power", "real", "imag", "conj", "angle",
]

_FLOAT = frozenset("fc")


def _is_float_arr(a):
    return a.dtype.kind in _FLOAT or a.dtype.name == "bfloat16"


def _default_np():
    return _dtype.get_default_dtype().np


def _as_operand(x, op):
    """Python numbers stay Python numbers (weak in promotion); NumPy scalars become Python numbers."""
    if isinstance(x, np.generic):  # before the Python types: np.float64 subclasses float
        return x.item()
    if isinstance(x, (Tensor, bool, int, float, complex)):
        return x
    if isinstance(x, np.ndarray):
        return x.item() if x.ndim == 0 else Tensor._make(x)
    raise TypeError(f"{op}(): argument 'other' must be Tensor or Number, not {type(x).__name__}")


def _promote(a, b, op, float_result=False):
    """Cast a pair of operands to PyTorch's result dtype (see _dtype.result_type)."""
    if a.__class__ is not Tensor and not isinstance(a, Tensor):
        a = _as_operand(a, op)
    if b.__class__ is not Tensor and not isinstance(b, Tensor):
        b = _as_operand(b, op)
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        da, db = a._data.dtype, b._data.dtype
        if da == db and (not float_result or da.kind in _FLOAT):
            return a, b
    elif ta:
        da = a._data.dtype
        if da.kind == "f" and not isinstance(b, complex):
            return a, b
        if b.__class__ is int and da.kind in "iu" and not float_result:  # int tensor, int scalar: tensor's dtype
            return a, _wrap_int(b, da)
    elif tb:
        db = b._data.dtype
        if db.kind == "f" and not isinstance(a, complex):
            return a, b
        if a.__class__ is int and db.kind in "iu" and not float_result:
            return _wrap_int(a, db), b
    rt = _dtype.result_type(a, b)
    if float_result and not (rt.is_floating_point or rt.is_complex):
        rt = _dtype.get_default_dtype()
    if ta and a._data.dtype != rt.np:
        a = a.to(rt)
    if tb and b._data.dtype != rt.np:
        b = b.to(rt)
    if not ta and rt.is_floating_point and not isinstance(a, float):
        a = float(a)
    if not tb and rt.is_floating_point and not isinstance(b, float):
        b = float(b)
    if rt._cat == 1:  # a Python int out of the tensor's range wraps, as in PyTorch (NumPy 2 raises)
        if a.__class__ is int:
            a = _wrap_int(a, rt.np)
        if b.__class__ is int:
            b = _wrap_int(b, rt.np)
    return a, b


_INT_RANGE = {np.dtype(t): (int(np.iinfo(t).min), int(np.iinfo(t).max))
              for t in (np.int8, np.int16, np.int32, np.int64, np.uint8)}


def _wrap_int(v, np_dtype):
    lo, hi = _INT_RANGE[np_dtype]
    if lo <= v <= hi:
        return v
    return np.array(v, dtype=np.int64).astype(np_dtype)[()]


def _floatify(x):
    """Unary float functions of integer tensors compute in the default float dtype, as PyTorch does."""
    if not isinstance(x, Tensor):
        x = Tensor._make(np.asarray(x))
    if x._data.dtype.kind in "biu":
        return x.to(_dtype.get_default_dtype())
    return x


def _arr(x):
    return np.asarray(x) if x.__class__ is not np.ndarray and not hasattr(x, "__cuda_array_interface__") else x


def _broadcast_error(op, exc, *operands):
    """PyTorch's RuntimeError for operands that do not broadcast, in place of NumPy's ValueError `exc`.

    Called only once NumPy has failed, so the fast path pays nothing. Other ValueErrors come back unchanged.
    """
    shapes = [tuple(o.shape) for o in operands if hasattr(o, "shape")]
    shape = ()
    for s in shapes:
        n = max(len(shape), len(s))
        a, b = (1,) * (n - len(shape)) + shape, (1,) * (n - len(s)) + s
        for i in range(n - 1, -1, -1):
            if a[i] != b[i] and a[i] != 1 and b[i] != 1:
                listed = " and ".join(str(list(x)) for x in shapes)
                return RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at "
                                    f"non-singleton dimension {i} ({op}: operands of shapes {listed} do not "
                                    "broadcast)")
        shape = tuple(y if x == 1 else x for x, y in zip(a, b))
    return exc


def _guard_broadcast(cls, op):
    """Wrap cls.forward so NumPy's broadcast ValueError becomes PyTorch's RuntimeError."""
    fwd = cls.forward

    def forward(ctx, *args):
        try:
            return fwd(ctx, *args)
        except ValueError as exc:
            raise _broadcast_error(op, exc, *args) from None

    cls.forward = staticmethod(forward)
    return cls


# ---------------------------------------------------------------- arithmetic
# Hot operators take a raw-array path in backward when no graph of the backward is wanted
# (grad mode off, i.e. create_graph=False); the Tensor formulas below it serve double backward.
_GRAD = grad_mode.GRAD
_T = Tensor._make
_new = object.__new__


def _unrecorded(ufunc, op, x, y):
    """A binary operator on two tensors of one dtype when nothing is recorded (grad mode off, or no
    input requires grad): the ufunc alone, without the tape's machinery (inference's hot path)."""
    try:
        r = ufunc(x, y)
    except ValueError as exc:
        raise _broadcast_error(op, exc, x, y) from None
    if r.__class__ is not np.ndarray:  # 0-d operands give a NumPy scalar (CuPy gives arrays)
        return _T(r)
    t = _new(Tensor)  # Tensor._make(r), inlined
    t._data, t._rg, t.grad_fn, t._vc = r, False, None, None
    return t


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        try:
            return a + b
        except ValueError as exc:
            raise _broadcast_error("add", exc, a, b) from None

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        try:
            return a - b
        except ValueError as exc:
            raise _broadcast_error("sub", exc, a, b) from None

    @staticmethod
    def backward(ctx, g):
        return g, (_T(-g._data) if not _GRAD[0] else -g)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        # keep only what backward will use: x * 2 keeps no reference to x, as in PyTorch
        need = ctx.needs_input_grad
        ctx._to_save = (a if need[1] else None, b if need[0] else None)  # save_for_backward, without the call
        try:
            return a * b
        except ValueError as exc:
            raise _broadcast_error("mul", exc, a, b) from None

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        if not _GRAD[0]:
            a, b = ctx.saved_arrays2
            gd = g._data
            return (_T(gd * b) if need[0] else None), (_T(gd * a) if need[1] else None)
        a, b = ctx.saved_tensors
        return (g * b if need[0] else None), (g * a if need[1] else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        try:
            return a / b
        except ValueError as exc:
            raise _broadcast_error("div", exc, a, b) from None

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -(g * ((a / b) / b)) if ctx.needs_input_grad[1] else None  # PyTorch's div_tensor_other_backward
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


def _pow_arrays(a, b):
    """a ** b as PyTorch computes it: a float tensor to the number 0.5, -0.5, -1, 2, 3 or -2 by sqrt, rsqrt,
    reciprocal or products (pow_tensor_scalar's special cases: the same rounding, and sqrt(-0.0) = -0.0);
    integers to negative integer exponents in a tensor elementwise (1, -1 or 0, as PyTorch's powi)."""
    if b.__class__ in (int, float) and hasattr(a, "dtype") and a.dtype.kind == "f":
        if b == 2:
            return a * a
        if b == 0.5:
            return np.sqrt(a)
        if b == -1:
            return 1 / a
        if b == 3:
            return a * a * a
        if b == -0.5:
            return 1 / np.sqrt(a)
        if b == -2:
            return 1 / (a * a)
    if hasattr(b, "dtype") and b.dtype.kind == "i" and (b < 0).any():
        ai = np.asarray(a)
        if ai.dtype.kind in "iu":
            neg = b < 0
            pos = ai ** np.where(neg, 0, b)
            one = np.ones((), pos.dtype)
            odd = np.where(b % 2 == 1, -one, one) if ai.dtype.kind == "i" else one
            small = np.where(ai == 1, one, np.where(ai == -1, odd, np.zeros((), pos.dtype)))
            return np.where(neg, small, pos).astype(pos.dtype, copy=False)
    return a ** b


def _log_number(a):
    return math.log(a) if a > 0 else (-math.inf if a == 0 else math.nan)


class Pow(Function):
    """pow with PyTorch's gradients (pow_backward, pow_backward_self, pow_backward_exponent)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _pow_arrays(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if not isinstance(b, Tensor):
                ga = g * (b * a ** (b - 1)) if b != 0 else g.new_zeros(g.shape)
            else:
                ga = where(b == 0, 0.0, g * (b * a ** (b - 1)))
        if ctx.needs_input_grad[1]:
            y = a ** b
            if isinstance(a, Tensor):
                gb = g * where((a == 0) & (b >= 0), 0.0, y * log(a))
            elif a == 0:
                gb = g * where(b >= 0, 0.0, y * -math.inf)
            else:
                gb = g * (y * _log_number(a))
        return ga, gb


def _scaled(input, other, alpha):
    """alpha * other for add/sub; PyTorch refuses a float alpha when both operands are integral."""
    if alpha.__class__ is float and _integral(input) and _integral(other):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    return mul(other, alpha)


def _integral(x):
    return x._data.dtype.kind in "biu" if isinstance(x, Tensor) else isinstance(x, int)


@tensor_method("add", "__add__")
def add(input, other, *, alpha=1, out=None):
    if alpha != 1:
        other = _scaled(input, other, alpha)
    if input.__class__ is Tensor and other.__class__ is Tensor and input._data.dtype is other._data.dtype:
        if out is None and not (_GRAD[0] and (input._rg or other._rg)):
            return _unrecorded(np.add, "add", input._data, other._data)
        r = Add.apply(input, other)
        return r if out is None else _out(r, out)
    a, b = _promote(input, other, "add")
    if not isinstance(a, Tensor):
        a, b = b, a
    return _out(Add.apply(a, b), out)


@tensor_method("__radd__")
def _radd(self, other):
    return add(self, other)


@tensor_method("sub", "__sub__")
def sub(input, other, *, alpha=1, out=None):
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        raise TypeError(f"sub(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input._data.dtype.kind == "b" or other.__class__ is bool or (
            isinstance(other, Tensor) and other._data.dtype.kind == "b"):
        _bool_sub_error(input, other)
    if alpha != 1:
        other = _scaled(input, other, alpha)
    if input.__class__ is Tensor and other.__class__ is Tensor and input._data.dtype is other._data.dtype:
        if out is None and not (_GRAD[0] and (input._rg or other._rg)):
            return _unrecorded(np.subtract, "sub", input._data, other._data)
        r = Sub.apply(input, other)
        return r if out is None else _out(r, out)
    a, b = _promote(input, other, "sub")
    return _out(Sub.apply(a, b), out)


subtract = sub


def _bool_sub_error(a, b):
    """PyTorch refuses `-` with bool operands (a Python bool counts as a bool tensor)."""
    if all(x.__class__ is bool or isinstance(x, Tensor) and x._data.dtype.kind == "b" for x in (a, b)):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                       "to invert a mask, use the `~` or `logical_not()` operator instead.")


@tensor_method("__rsub__")
def _rsub(self, other):
    if self._data.dtype.kind == "b" or other.__class__ is bool:
        _bool_sub_error(other, self)
    a, b = _promote(other, self, "sub")
    return _named(Sub.apply(a, b), "RsubBackward1")


@tensor_method("mul", "__mul__", "__rmul__", "multiply")
def mul(input, other, *, out=None):
    if input.__class__ is Tensor and other.__class__ is Tensor and input._data.dtype is other._data.dtype:
        if out is None and not (_GRAD[0] and (input._rg or other._rg)):
            return _unrecorded(np.multiply, "mul", input._data, other._data)
        r = Mul.apply(input, other)
        return r if out is None else _out(r, out)
    a, b = _promote(input, other, "mul")
    if not isinstance(a, Tensor):
        a, b = b, a
    return _out(Mul.apply(a, b), out)


multiply = mul


@tensor_method("div", "__truediv__", "divide", "true_divide")
def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is not None:
        if rounding_mode == "floor":
            return _out(floor_divide(input, other), out)
        if rounding_mode == "trunc":
            return _out(_trunc_divide(input, other), out)
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    a, b = _promote(input, other, "div", float_result=True)
    return _out(Div.apply(a, b), out)


divide = true_divide = div


@tensor_method("__rtruediv__")
def _rdiv(self, other):
    # PyTorch's Tensor.__rtruediv__ is `self.reciprocal() * other`: a MulBackward0 node over a ReciprocalBackward0,
    # and its rounding (2 / x is the reciprocal times 2, not a single division)
    if isinstance(other, Tensor):
        return div(other, self)
    return mul(reciprocal(self), other)


class _NoGradBinary(Function):
    """Piecewise-constant binaries (floor_divide, remainder's quotient): zero gradient like PyTorch's."""

    @staticmethod
    def backward(ctx, g):
        return g * 0, g * 0


class FloorDivide(_NoGradBinary):
    @staticmethod
    def forward(ctx, a, b):
        return np.floor_divide(a, b)


class Remainder(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g, (-g * floor_divide(a, b) if ctx.needs_input_grad[1] else None)


class Fmod(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.fmod(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g, (-g * _trunc_divide(a, b) if ctx.needs_input_grad[1] else None)


class TruncDivide(_NoGradBinary):
    @staticmethod
    def forward(ctx, a, b):
        if _is_float_arr(_arr(a)) or (not hasattr(a, "dtype") and isinstance(a, float)):
            return np.trunc(np.true_divide(a, b))
        q = np.floor_divide(a, b)
        return q + ((np.remainder(a, b) != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0)))


def _no_bool(a, b, kernel):
    """Operands already promoted: bool only when both are; PyTorch has no bool kernel for these."""
    t = a if isinstance(a, Tensor) else b
    if isinstance(t, Tensor) and t._data.dtype.kind == "b":
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _check_int_divisor(a, b):
    """Integer division (//, %, fmod, trunc) by zero is PyTorch's RuntimeError, not NumPy's silent 0."""
    if _is_float_arr(_arr(a._data if isinstance(a, Tensor) else a)):
        return
    if isinstance(b, Tensor) and b._data.dtype.kind in "iu" and (b._data == 0).any():
        raise RuntimeError("ZeroDivisionError")
    if isinstance(b, int) and not isinstance(b, bool) and b == 0:
        raise RuntimeError("ZeroDivisionError")


@tensor_method("floor_divide", "__floordiv__")
def floor_divide(input, other, *, out=None):
    a, b = _promote(input, other, "floor_divide")
    _no_bool(a, b, "div_floor_cpu")
    _check_int_divisor(a, b)
    return _out(FloorDivide.apply(a, b), out)


@tensor_method("__rfloordiv__")
def _rfloordiv(self, other):
    return floor_divide(*_promote(other, self, "floor_divide"))


def _trunc_divide(input, other):
    a, b = _promote(input, other, "div")
    _no_bool(a, b, "div_trunc_cpu")
    _check_int_divisor(a, b)
    return TruncDivide.apply(a, b)


@tensor_method("remainder", "__mod__")
def remainder(input, other, *, out=None):
    a, b = _promote(input, other, "remainder")
    _no_bool(a, b, "remainder_cpu")
    _check_int_divisor(a, b)
    return _out(Remainder.apply(a, b), out)


@tensor_method("__rmod__")
def _rmod(self, other):
    return remainder(*_promote(other, self, "remainder"))


@tensor_method
def fmod(input, other, *, out=None):
    a, b = _promote(input, other, "fmod")
    _no_bool(a, b, "fmod_cpu")
    _check_int_divisor(a, b)
    return _out(Fmod.apply(a, b), out)


@tensor_method("pow", "__pow__")
def pow(input, exponent, *, out=None):
    if not isinstance(input, Tensor):
        a, b = _promote(input, exponent, "pow")
        return _out(_named(Pow.apply(a, b), "PowBackward2"), out)
    if isinstance(exponent, int) and input._data.dtype.kind in "biu" and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    a, b = _promote(input, exponent, "pow")
    if isinstance(b, Tensor) and b._data.dtype.kind == "b" and a._data.dtype.kind == "b":
        raise NotImplementedError('"pow" not implemented for \'Bool\'')
    r = Pow.apply(a, b)
    return _out(_named(r, "PowBackward1") if isinstance(b, Tensor) else r, out)


@tensor_method("__rpow__")
def _rpow(self, other):
    a, b = _promote(other, self, "pow")
    return _named(Pow.apply(a, b), "PowBackward2")


def float_power(input, exponent):
    a = input.double() if isinstance(input, Tensor) else float(input)
    b = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    return pow(a, b) if isinstance(a, Tensor) else pow(Tensor._make(np.asarray(a)), b)


@tensor_method("neg", "__neg__", "negative")
def neg(input):
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return Neg.apply(input)


negative = neg


@tensor_method("positive", "__pos__")
def positive(input):
    return input


def _out(result, out):
    """Honour `out=`: copy into the given tensor (resized like PyTorch when its shape differs)."""
    if out is None:
        return result
    if out._data.shape != result._data.shape:
        out._data = np.empty(result._data.shape, dtype=out._data.dtype)
    return out._inplace(result.detach() if out.grad_fn is None and not out._rg else result, "out=")


# ---------------------------------------------------------------- unary math
def _unary(name, fwd, bwd, save="x", floatify=True, int_ok=False, method=True):
    """Define a unary operator once: forward ufunc, backward formula bwd(g, x, y) on Tensors.

    save: which of input 'x' / output 'y' backward needs ('xy' both, '' none).
    floatify: integer inputs are computed in the default float dtype (exp of an int tensor is float).
    method: also a Tensor method (torch.special's functions are not).
    """

    def forward(ctx, x):
        y = fwd(x)
        ctx.save_for_backward(x if "x" in save else None, y if "y" in save else None)
        return y

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return bwd(g, x, y)

    cls = type(name.capitalize().replace("_", ""), (Function,), {
        "forward": staticmethod(forward), "backward": staticmethod(backward), "__module__": __name__})

    def op(input, *, out=None):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        if floatify and input._data.dtype.kind in "biu":
            input = _floatify(input)
        return _out(cls.apply(input), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name}: elementwise, with gradient."
    if method:
        tensor_method(name)(op)
    return op


def _no_kernel(fn, kernel, kinds="b"):
    """fn, refusing the dtype kinds PyTorch has no `kernel` for, with its NotImplementedError."""
    def forward(x):
        if x.dtype.kind in kinds:
            from .._tensor import _type_name

            raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_name(x.dtype)}\'')
        return fn(x)

    return forward


def _sign(x):
    """PyTorch's sign: 0 for NaN and for -0.0 (+0.0), the input back for bool."""
    if x.dtype.kind == "f":
        return (x > 0).astype(x.dtype) - (x < 0)
    return x.copy() if x.dtype.kind == "b" else np.sign(x)


# ---------------------------------------------------------------- erf on NumPy
# Chebyshev fit of erfc (Numerical Recipes, 3rd ed., 6.2.2): full double precision for z >= 0.
_ERFC_COF = np.array([
    -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3,
    -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6,
    1.303655835580e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10,
    -2.27365122e-10, 9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13,
    3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17])


def _erfc_pos(z):
    t = 2.0 / (2.0 + z)
    ty = 4.0 * t - 2.0
    d = np.zeros_like(z)
    dd = np.zeros_like(z)
    for c in _ERFC_COF[:0:-1]:
        d, dd = ty * d - dd + c, d
    return t * np.exp(-z * z + 0.5 * (_ERFC_COF[0] + ty * d) - dd)


def _erf_numpy(x):
    """erf on a float array with NumPy only (about 1e-16 absolute error; a series near 0)."""
    xd = np.asarray(x, dtype=np.float64)
    z = np.abs(xd)
    out = 1.0 - _erfc_pos(z)
    small = z < 0.5
    if small.any():
        s = xd[small]
        s2 = s * s
        term, acc = s.copy(), s.copy()
        for n in range(1, 14):
            term = term * -s2 / n
            acc = acc + term / (2 * n + 1)
        out[small] = np.abs(acc) * (2.0 / math.sqrt(math.pi))
    return np.copysign(out, xd).astype(x.dtype, copy=False)


_SCIPY_ERF = []


def _erf_array(x):
    """erf of an array: SciPy's when it is installed (faster, imported on first use), else NumPy's."""
    if not _SCIPY_ERF:
        try:
            from scipy.special import erf as f
        except ImportError:  # pragma: no cover - SciPy is optional
            f = None
        _SCIPY_ERF.append(f)
    if x.dtype == np.float32 and x.__class__ is np.ndarray:
        return _erf_float32(x)  # faster than SciPy's, within 2 ulp
    f = _SCIPY_ERF[0]
    if f is not None:
        return f(x).astype(x.dtype, copy=False)
    return _erf_numpy(x)


# erf(x) ~ x P(x^2) / Q(x^2) on [-4, 4] (Eigen's float32 erf), evaluated in float32 with in-place
# ufuncs: within 4 ulp of the exact value and faster than SciPy's erf (GELU calls erf on every activation)
_ERF_P = tuple(np.float32(c) for c in (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                                       -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                                       -1.60960333262415e-02))
_ERF_Q = tuple(np.float32(c) for c in (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
                                       -7.37332916720468e-03, -1.42647390514189e-02))


_BLOCK = 1 << 16  # elements: a block of float32 (256 KB) stays in cache across a formula's many passes


def _blockwise(fn):
    """An elementwise array function made of many NumPy passes, computed block by block on large arrays so
    that each block stays in cache from the first pass to the last (the same values: fn is elementwise).
    GELU's erf on a transformer's activations runs about 3 times faster so."""
    def blocked(x):
        if x.size <= 2 * _BLOCK or x.__class__ is not np.ndarray:
            return fn(x)
        flat = x.reshape(-1)
        first = fn(flat[:_BLOCK])
        out = np.empty(flat.shape, dtype=first.dtype)
        out[:_BLOCK] = first
        for i in range(_BLOCK, flat.size, _BLOCK):
            out[i:i + _BLOCK] = fn(flat[i:i + _BLOCK])
        return out.reshape(x.shape)

    blocked.__name__, blocked.__doc__ = fn.__name__, fn.__doc__
    return blocked


@_blockwise
def _erf_float32(x):
    z = np.clip(x, np.float32(-4.0), np.float32(4.0))  # NaN stays NaN
    z2 = z * z
    p = z2 * _ERF_P[0]
    p += _ERF_P[1]
    for c in _ERF_P[2:]:
        p *= z2
        p += c
    p *= z
    q = z2 * _ERF_Q[0]
    q += _ERF_Q[1]
    for c in _ERF_Q[2:]:
        q *= z2
        q += c
    p /= q
    return p


def _erfinv_array(x):
    try:
        from scipy.special import erfinv as s

        return s(x).astype(x.dtype, copy=False)
    except ImportError:
        raise NotImplementedError("tapegrad implements torch.erfinv only where SciPy is installed")


_SQRT_PI = math.sqrt(math.pi)

exp = _unary("exp", np.exp, lambda g, x, y: g * y, save="y")
exp2 = _unary("exp2", np.exp2, lambda g, x, y: g * y * math.log(2.0), save="y")
log = _unary("log", np.log, lambda g, x, y: g / x)
log2 = _unary("log2", np.log2, lambda g, x, y: g / (x * math.log(2.0)))
log10 = _unary("log10", np.log10, lambda g, x, y: g / (x * math.log(10.0)))
log1p = _unary("log1p", np.log1p, lambda g, x, y: g / (x + 1))
expm1 = _unary("expm1", np.expm1, lambda g, x, y: g * (y + 1), save="y")
sqrt = _unary("sqrt", np.sqrt, lambda g, x, y: g / (y * 2), save="y")
rsqrt = _unary("rsqrt", lambda x: 1 / np.sqrt(x), lambda g, x, y: g * y * y * y * -0.5, save="y")
sin = _unary("sin", np.sin, lambda g, x, y: g * cos(x))
cos = _unary("cos", np.cos, lambda g, x, y: -g * sin(x))
tan = _unary("tan", np.tan, lambda g, x, y: g * (y * y + 1), save="y")
asin = _unary("asin", np.arcsin, lambda g, x, y: g * rsqrt(-x * x + 1))
acos = _unary("acos", np.arccos, lambda g, x, y: -g * rsqrt(-x * x + 1))
atan = _unary("atan", np.arctan, lambda g, x, y: g / (x * x + 1))
sinh = _unary("sinh", np.sinh, lambda g, x, y: g * cosh(x))
cosh = _unary("cosh", np.cosh, lambda g, x, y: g * sinh(x))
tanh = _unary("tanh", np.tanh, lambda g, x, y: g * (1 - y * y), save="y")
asinh = _unary("asinh", np.arcsinh, lambda g, x, y: g * rsqrt(x * x + 1))
acosh = _unary("acosh", np.arccosh, lambda g, x, y: g * rsqrt(x * x - 1))
atanh = _unary("atanh", np.arctanh, lambda g, x, y: g / (1 - x * x))
sigmoid = _unary("sigmoid", lambda x: _sigmoid(x), lambda g, x, y: g * y * (1 - y), save="y")
reciprocal = _unary("reciprocal", lambda x: 1 / x, lambda g, x, y: -g * (y * y), save="y")
erf = _unary("erf", _erf_array, lambda g, x, y: g * (2 / _SQRT_PI) * exp(-x * x))
erfc = _unary("erfc", lambda x: 1 - _erf_array(x), lambda g, x, y: g * (-2 / _SQRT_PI) * exp(-x * x))
erfinv = _unary("erfinv", _erfinv_array, lambda g, x, y: g * (_SQRT_PI / 2) * exp(y * y), save="y")
def _sinc_grad(g, x, y):  # PyTorch's sinc_backward, in its order of operations
    xpi, x2pi = x * math.pi, x * x * math.pi
    return where(x2pi == 0, 0.0, g * (xpi * cos(xpi) - sin(xpi)) / x2pi)


sinc = _unary("sinc", np.sinc, _sinc_grad)
deg2rad = _unary("deg2rad", np.deg2rad, lambda g, x, y: g * (math.pi / 180), save="")
rad2deg = _unary("rad2deg", np.rad2deg, lambda g, x, y: g * (180 / math.pi), save="")
square = _unary("square", lambda x: np.square(x.astype(np.int64) if x.dtype.kind == "b" else x),
                lambda g, x, y: g * 2 * x, floatify=False)  # square of bool: int64, as PyTorch's pow(x, 2)
abs = _unary("abs", _no_kernel(np.abs, "abs_cpu"), lambda g, x, y: g * sign(x), floatify=False)
# ---------------------------------------------------------------- relu (torch.relu and F.relu)
class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        if not grad_mode.GRAD[0]:
            return np.multiply(g._data, y._data > 0, dtype=g._data.dtype)
        return g * (y > 0)


ReLU = Relu  # the name nn.functional's module used


@tensor_method
def relu(input, inplace=False):
    if not isinstance(input, Tensor):
        raise TypeError(f"relu(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if inplace:
        if not (grad_mode.GRAD[0] and input._rg) and input._data.flags.writeable:
            input._check_inplace()
            np.maximum(input._data, 0, out=input._data)
            input._version_ctr.v += 1
            return input
        return input._inplace(Relu.apply(input), "relu_")
    return Relu.apply(input)


@tensor_method
def relu_(input):
    return relu(input, inplace=True)


_zero_grad = lambda g, x, y: g * 0  # noqa: E731  (piecewise-constant functions)


sign = _unary("sign", _sign, _zero_grad, save="", floatify=False)
sgn = sign
floor = _unary("floor", _no_kernel(lambda x: np.floor(x) if x.dtype.kind in "fc" else x.copy(), "floor_vml_cpu"),
               _zero_grad, save="", floatify=False)
ceil = _unary("ceil", _no_kernel(lambda x: np.ceil(x) if x.dtype.kind in "fc" else x.copy(), "ceil_vml_cpu"),
              _zero_grad, save="", floatify=False)
trunc = _unary("trunc", _no_kernel(lambda x: np.trunc(x) if x.dtype.kind in "fc" else x.copy(), "trunc_vml_cpu"),
               _zero_grad, save="", floatify=False)
fix = trunc
frac = _unary("frac", _no_kernel(lambda x: x - np.trunc(x), "frac_cpu", "biu"), lambda g, x, y: g, save="",
              floatify=False)
absolute = abs
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


@_blockwise
def _sigmoid(x):
    # exp of -|x| never overflows; the two branches are the same function
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Round(Function):
    @staticmethod
    def forward(ctx, x, decimals):
        if x.dtype.kind == "b":
            raise NotImplementedError('"round_vml_cpu" not implemented for \'Bool\'')
        return np.round(x, decimals) if x.dtype.kind in "fc" else x.copy()

    @staticmethod
    def backward(ctx, g):
        return g * 0, None


@tensor_method
def round(input, *, decimals=0, out=None):
    return _out(Round.apply(input, decimals), out)


# ---------------------------------------------------------------- binary math
class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        d = a * a + b * b
        return g * b / d, -g * a / d


@tensor_method("atan2", "arctan2")
def atan2(input, other, *, out=None):
    a, b = _promote(input, other, "atan2", float_result=True)
    return _out(Atan2.apply(a, b), out)


arctan2 = atan2


class _Select2(Function):
    """maximum/minimum/fmax/fmin with PyTorch's gradients (derivatives.yaml): `zero_a(a, b)` and `zero_b(a, b)` say
    where an operand gets none. maximum: split evenly on ties, and a NaN comparison (neither smaller) gives the
    gradient to both; fmax: ties go to the first operand, a NaN to the other one."""

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if ctx.split:
            g = where(a == b, g / 2, g)
        ga = where(ctx.zero_a(a, b), 0.0, g) if ctx.needs_input_grad[0] else None
        gb = where(ctx.zero_b(a, b), 0.0, g) if ctx.needs_input_grad[1] else None
        return ga, gb


def _select2(name, fn, zero_a, zero_b, split, doc):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.zero_a, ctx.zero_b, ctx.split = zero_a, zero_b, split
        return fn(a, b)

    cls = _guard_broadcast(type(name.capitalize(), (_Select2,), {"forward": staticmethod(forward),
                                                                 "__module__": __name__}), name)

    def op(input, other, *, out=None):
        if not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
        a, b = _promote(input, other, name)
        return _out(cls.apply(a, b), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    tensor_method(name)(op)
    return op


maximum = _select2("maximum", np.maximum, lambda a, b: a < b, lambda a, b: a > b, True, "torch.maximum (NaN propagates)")
minimum = _select2("minimum", np.minimum, lambda a, b: a > b, lambda a, b: a < b, True, "torch.minimum (NaN propagates)")
fmax = _select2("fmax", np.fmax, lambda a, b: logical_not((a >= b) | isnan(b)), lambda a, b: (a >= b) | isnan(b),
                False, "torch.fmax (NaN ignored)")
fmin = _select2("fmin", np.fmin, lambda a, b: logical_not((a <= b) | isnan(b)), lambda a, b: (a <= b) | isnan(b),
                False, "torch.fmin (NaN ignored)")


def hypot(input, other):
    return sqrt(input * input + other * other)


def logaddexp(input, other):
    m = maximum(input, other).detach()
    return m + log(exp(input - m) + exp(other - m))


def xlogy(input, other):
    x = input if isinstance(input, Tensor) else Tensor._make(np.asarray(input, dtype=_default_np()))
    return where(x == 0, 0.0, x * log(other))


def copysign(input, other):
    return abs(input) * where(signbit(other if isinstance(other, Tensor) else Tensor._make(np.asarray(other))),
                              -1.0, 1.0)


def _fma(x, y, z):
    """x * y + z rounded once, as PyTorch's vectorised kernels compute it (fused multiply-add): exact for
    float32 through float64 (the product of two floats is exact there); other dtypes round twice."""
    if x.dtype == np.float32 and getattr(y, "dtype", np.float32) == np.float32 and z.dtype == np.float32:
        return (np.multiply(x, y, dtype=np.float64) + z).astype(np.float32)
    return x * y + z


class Lerp(Function):
    """input + weight * (end - input), PyTorch's way: fma(w, end - input, input) for w < 0.5, else
    fma(input - end, 1 - w, end), so that lerp(a, b, 1) is exactly b."""

    @staticmethod
    def forward(ctx, a, b, w):
        ctx.save_for_backward(a, b, w)
        d = b - a
        if not hasattr(w, "shape"):  # a number
            return _fma(d, d.dtype.type(w), a) if -0.5 < w < 0.5 else _fma(-d, d.dtype.type(1 - w), b)
        small = np.abs(w) < 0.5
        return np.where(small, _fma(d, w, a), _fma(-d, 1 - w, b)).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, b, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (g * (1 - w) if need[0] else None, g * w if need[1] else None,
                g * (b - a) if len(need) > 2 and need[2] else None)


@tensor_method
def lerp(input, end, weight):
    if end.dtype != input.dtype:
        raise RuntimeError(f"expected dtype {_type_name(input._data.dtype).lower()} for `end` but got dtype "
                           f"{_type_name(end._data.dtype).lower()}")
    r = Lerp.apply(input, end, weight)
    return _named(r, "LerpBackward1") if isinstance(weight, Tensor) else r


class Addcmul(Function):
    """input + value * tensor1 * tensor2 as PyTorch computes it: fma(value * tensor1, tensor2, input)."""

    @staticmethod
    def forward(ctx, x, t1, t2, value):
        ctx.save_for_backward(t1, t2)
        ctx.value = value
        return _fma(t1 * t1.dtype.type(value) if value != 1 else t1, t2, x)

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        need, v = ctx.needs_input_grad, ctx.value
        return (g if need[0] else None, g * t2 * v if need[1] else None, g * t1 * v if need[2] else None, None)


class Addcdiv(Function):
    """input + value * tensor1 / tensor2 as PyTorch computes it: input + (value * tensor1) / tensor2."""

    @staticmethod
    def forward(ctx, x, t1, t2, value):
        ctx.save_for_backward(t1, t2)
        ctx.value = value
        with np.errstate(divide="ignore", invalid="ignore"):
            return x + (t1 * t1.dtype.type(value) if value != 1 else t1) / t2

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        need, v = ctx.needs_input_grad, ctx.value
        return (g if need[0] else None, g * v / t2 if need[1] else None,
                -g * v * t1 / (t2 * t2) if need[2] else None, None)


def _pointwise3(input, tensor1, tensor2, value, fn, op):
    """addcmul/addcdiv: one node when the three are tensors of one floating dtype; otherwise composed,
    which gives PyTorch's type promotion."""
    if all(isinstance(t, Tensor) for t in (input, tensor1, tensor2)) and \
            input._data.dtype == tensor1._data.dtype == tensor2._data.dtype and input._data.dtype.kind == "f":
        return fn.apply(input, tensor1, tensor2, value)
    if op == "addcdiv" and all(isinstance(t, Tensor) and t._data.dtype.kind in "biu" for t in (tensor1, tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
                           "tensor2), for all dtypes.")
    term = value * tensor1 if value != 1 else tensor1
    return input + (term * tensor2 if op == "addcmul" else term / tensor2)


@tensor_method
def addcmul(input, tensor1, tensor2, *, value=1):
    return _pointwise3(input, tensor1, tensor2, value, Addcmul, "addcmul")


@tensor_method
def addcdiv(input, tensor1, tensor2, *, value=1):
    return _pointwise3(input, tensor1, tensor2, value, Addcdiv, "addcdiv")


# ---------------------------------------------------------------- clamp / where
class Clamp(Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        if lo is not None and hi is not None:
            return np.minimum(np.maximum(x, lo), hi)
        return np.maximum(x, lo) if lo is not None else np.minimum(x, hi)

    @staticmethod
    def backward(ctx, g):
        # PyTorch's clamp_backward and clamp_backward_min_max: where(..., grad, 0); with min > max the result is
        # max, so its gradient goes to max
        x, lo, hi = ctx.saved_tensors
        keep = None
        if lo is not None:
            keep = x >= lo
        if hi is not None:
            keep = (x <= hi) if keep is None else keep & (x <= hi)
        gx = where(keep, g, 0.0) if ctx.needs_input_grad[0] else None
        glo = ghi = None
        both = isinstance(lo, Tensor) and isinstance(hi, Tensor)
        if isinstance(lo, Tensor) and ctx.needs_input_grad[1]:
            glo = where((x < lo) & (lo < hi) if both else x < lo, g, 0.0)
        if isinstance(hi, Tensor) and ctx.needs_input_grad[2]:
            ghi = where((x > hi) | (hi < lo) if both else x > hi, g, 0.0)
        return gx, glo, ghi


@tensor_method("clamp", "clip")
def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo, hi = min, max
    if isinstance(lo, Tensor) or isinstance(hi, Tensor):
        rt = _dtype.result_type(*(v for v in (input, lo, hi) if v is not None))
        input = input.to(rt) if input.dtype is not rt else input
        lo = lo.to(rt) if isinstance(lo, Tensor) and lo.dtype is not rt else lo
        hi = hi.to(rt) if isinstance(hi, Tensor) and hi.dtype is not rt else hi
    else:
        if input._data.dtype.kind in "biu":  # an int bound lifts a bool tensor to int64, a float one ints to float
            rt = _dtype.result_type(*(v for v in (input, lo, hi) if v is not None))
            if rt is not input.dtype:
                input = input.to(rt)
        dt = input._data.dtype
        lo = None if lo is None else dt.type(lo)
        hi = None if hi is None else dt.type(hi)
        return _out(_named(Clamp.apply(input, lo, hi), "ClampBackward1"), out)  # number bounds
    return _out(Clamp.apply(input, lo, hi), out)


clip = clamp


@tensor_method
def clamp_min(input, min):
    r = clamp(input, min=min)
    return r if isinstance(min, Tensor) else _named(r, "ClampMinBackward0")


@tensor_method
def clamp_max(input, max):
    r = clamp(input, max=max)
    return r if isinstance(max, Tensor) else _named(r, "ClampMaxBackward0")


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        zero = g.new_zeros(())
        return None, where(cond, g, zero), where(cond, zero, g)


@tensor_method("where")
def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        condition = Tensor._make(np.asarray(condition))
    if condition._data.dtype.kind != "b":
        if condition._data.dtype == np.uint8:
            condition = condition.to(_dtype.bool)
        else:
            from .._tensor import _type_name

            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{_type_name(condition._data.dtype)}")
    a, b = _promote(input, other, "where")
    if not (isinstance(a, Tensor) or isinstance(b, Tensor)):  # two numbers: PyTorch's dtype for them (2.5: float32)
        a = Tensor._make(np.asarray(a, dtype=_dtype.result_type(a, b).np))
    return _out(Where.apply(condition, a, b), out)


# ---------------------------------------------------------------- comparisons and logic (no gradient)
class _NoGrad(Function):
    @staticmethod
    def backward(ctx, *g):
        return (None,) * len(ctx._next)


def _compare(name, fn, dunder=None):
    cls = _guard_broadcast(type(name.capitalize(), (_NoGrad,), {
        "forward": staticmethod(lambda ctx, a, b: fn(a, b)), "__module__": __name__}), name)

    def op(input, other, *, out=None):
        a, b = _promote(input, other, name)
        if not isinstance(a, Tensor):
            a = Tensor._make(np.asarray(a))
        return _out(cls.apply(a, b), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name}: elementwise comparison, bool result."
    tensor_method(name, *(dunder or ()))(op)
    return op


for _cls, _name in ((Pow, "pow"), (FloorDivide, "floor_divide"), (Remainder, "remainder"), (Fmod, "fmod"),
                    (TruncDivide, "div"), (Atan2, "atan2"), (Clamp, "clamp"), (Where, "where")):
    _guard_broadcast(_cls, _name)

eq = _compare("eq", np.equal, ("__eq__",))
ne = _compare("ne", np.not_equal, ("__ne__", "not_equal"))
lt = _compare("lt", np.less, ("__lt__", "less"))
le = _compare("le", np.less_equal, ("__le__", "less_equal"))
gt = _compare("gt", np.greater, ("__gt__", "greater"))
ge = _compare("ge", np.greater_equal, ("__ge__", "greater_equal"))
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge
logical_and = _compare("logical_and", np.logical_and)
logical_or = _compare("logical_or", np.logical_or)
logical_xor = _compare("logical_xor", np.logical_xor)


def _bitwise(name, fn, dunders, kernel=None, reflected=None, commutes=True):
    """An integer-only operator without gradient: PyTorch has no floating-point kernel for it."""
    cls = _guard_broadcast(type(name.title().replace("_", ""), (_NoGrad,), {
        "forward": staticmethod(lambda ctx, a, b: fn(a, b)), "__module__": __name__}), name)

    def op(input, other, *, out=None):
        a, b = _promote(input, other, name)
        t = a if isinstance(a, Tensor) else b
        if t._data.dtype.kind in "fc":
            from .._tensor import _type_name

            raise NotImplementedError(f'"{kernel or name + "_cpu"}" not implemented for '
                                      f"'{_type_name(t._data.dtype)}'")
        if not isinstance(a, Tensor):
            a = Tensor._make(np.asarray(a, dtype=b._data.dtype)) if not commutes else a
            if commutes:
                a, b = b, a
        return _out(cls.apply(a, b), out)

    op.__name__ = op.__qualname__ = name
    tensor_method(name, *dunders)(op)
    if reflected:
        tensor_method(reflected)(lambda self, other: op(other, self))
    return op


def _shift_left(a, b):
    # PyTorch: a shift by the width or more (or by a negative amount) gives 0
    width = np.dtype(a.dtype).itemsize * 8 if hasattr(a, "dtype") else 64
    return np.where((b < 0) | (b >= width), 0, np.left_shift(a, np.clip(b, 0, width - 1))).astype(
        np.result_type(a, b))


def _shift_right(a, b):
    # a shift by the width or more keeps only the sign: 0 or -1
    width = np.dtype(a.dtype).itemsize * 8 if hasattr(a, "dtype") else 64
    return np.right_shift(a, np.clip(b, 0, width - 1)).astype(np.result_type(a, b))


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, ("__and__", "__rand__"))
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, ("__or__", "__ror__"))
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, ("__xor__", "__rxor__"))
bitwise_left_shift = _bitwise("bitwise_left_shift", _shift_left, ("__lshift__",), "lshift_cpu", "__rlshift__",
                              commutes=False)
bitwise_right_shift = _bitwise("bitwise_right_shift", _shift_right, ("__rshift__",), "rshift_cpu", "__rrshift__",
                               commutes=False)


def _unary_nograd(name, fn, dunders=()):
    cls = type(name.capitalize(), (_NoGrad,), {"forward": staticmethod(lambda ctx, x: fn(x)),
                                               "__module__": __name__})

    def op(input):
        return cls.apply(input)

    op.__name__ = op.__qualname__ = name
    tensor_method(name, *dunders)(op)
    return op


def _invert(x):
    if x.dtype.kind == "f":
        raise TypeError("~ (bitwise_not) is only implemented for integer and boolean tensors")
    return np.invert(x)


bitwise_not = _unary_nograd("bitwise_not", _invert, ("__invert__",))
logical_not = _unary_nograd("logical_not", np.logical_not)
isnan = _unary_nograd("isnan", np.isnan)
isinf = _unary_nograd("isinf", np.isinf)
isfinite = _unary_nograd("isfinite", np.isfinite)
isposinf = _unary_nograd("isposinf", np.isposinf)
isneginf = _unary_nograd("isneginf", np.isneginf)
signbit = _unary_nograd("signbit", np.signbit)


@tensor_method
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = _promote(input, other, "isclose")
    bd = b._data if isinstance(b, Tensor) else b
    return Tensor._make(np.asarray(np.isclose(a._data, bd, rtol=rtol, atol=atol, equal_nan=equal_nan)))


@tensor_method
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@tensor_method
def equal(input, other):
    return input.shape == other.shape and bool((input._data == other._data).all())


class NanToNum(Function):
    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * isfinite(x), None, None, None


@tensor_method
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    return NanToNum.apply(input, nan, posinf, neginf)


def heaviside(input, values):
    return where(input == 0, values, (input > 0).to(input.dtype))


# ---------------------------------------------------------------- complex (minimal)
def real(input):
    return input if not input.is_complex() else Tensor._make(input._data.real)


def imag(input):
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Tensor._make(input._data.imag)


def conj(input):
    return input if not input.is_complex() else Tensor._make(np.conj(input._data))


def angle(input):
    return Tensor._make(np.angle(input._data).astype(input._data.real.dtype))


# ---------------------------------------------------------------- dtype and device conversion
class ToCopy(Function):
    @staticmethod
    def forward(ctx, x, np_dtype, dev):
        ctx.src = (x.dtype, _backend.device_of(x))
        if dev is not None and dev != ctx.src[1]:
            if dev.type == "cpu":
                x = x.get()
            else:
                cp = _backend.cupy()
                with cp.cuda.Device(dev.index or 0):
                    x = cp.asarray(x)
        return _dtype.cast_array(x, np_dtype) if np_dtype is not None and np_dtype != x.dtype else x

    @staticmethod
    def backward(ctx, g):
        dt, dev = ctx.src
        return g.to(device=dev, dtype=_dtype.from_numpy_dtype(dt)), None, None


def _parse_to(args, kwargs):
    dt = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, Tensor):
            dt, dev = a.dtype, a.device
        elif isinstance(a, (_dtype.dtype, type)) and not isinstance(a, str):
            dt = a
        elif isinstance(a, str):  # a string is a device, as in PyTorch (not a dtype name)
            try:
                dev = _backend.to_device(a)
            except RuntimeError:
                raise RuntimeError(f"Invalid device string: '{a}'") from None
        elif isinstance(a, (_backend.device, int)) and not isinstance(a, bool):
            dev = a
        elif isinstance(a, bool):
            copy = copy  # non_blocking positional
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments - got {type(a).__name__}")
    return (_dtype.to_dtype(dt) if dt is not None else None), _backend.to_device(dev), copy


@tensor_method
def to(self, *args, **kwargs):
    dt, dev, copy = _parse_to(args, kwargs)
    np_dt = dt.np if dt is not None else None
    same_dt = np_dt is None or np_dt == self._data.dtype
    same_dev = dev is None or dev == self.device
    if same_dt and same_dev:
        return _named(ToCopy.apply(self, None, None), "ToCopyBackward0") if copy else self
    if np_dt is not None and self._rg and not (dt.is_floating_point or dt.is_complex):
        return Tensor._make(self._data.astype(np_dt))  # integer results do not carry gradient
    return ToCopy.apply(self, np_dt, dev if not same_dev else None)


def _caster(name, dt):
    def method(self, memory_format=None):
        return to(self, dt)

    method.__name__ = name
    tensor_method(name)(method)


for _n, _d in (("float", _dtype.float32), ("double", _dtype.float64), ("half", _dtype.float16),
               ("long", _dtype.int64), ("int", _dtype.int32), ("short", _dtype.int16), ("char", _dtype.int8),
               ("byte", _dtype.uint8), ("bool", _dtype.bool)):
    _caster(_n, _d)


@tensor_method
def bfloat16(self):
    return to(self, _dtype.bfloat16)


@tensor_method
def cpu(self, memory_format=None):
    return to(self, "cpu")


@tensor_method
def cuda(self, device=None, non_blocking=False):
    d = "cuda" if device is None else (f"cuda:{device}" if isinstance(device, int) else device)
    return to(self, d)


@tensor_method("type")
def _type(self, dtype=None, non_blocking=False):
    if dtype is None:
        names = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "float16": "torch.HalfTensor",
                 "int64": "torch.LongTensor", "int32": "torch.IntTensor", "int16": "torch.ShortTensor",
                 "int8": "torch.CharTensor", "uint8": "torch.ByteTensor", "bool": "torch.BoolTensor"}
        return names.get(self.dtype.name, "torch.Tensor")
    if getattr(dtype, "_dtype", None) is not None:  # torch.DoubleTensor and the other legacy types
        dtype = dtype._dtype
    if isinstance(dtype, str) and dtype.endswith("Tensor"):
        m = {"FloatTensor": "float32", "DoubleTensor": "float64", "LongTensor": "int64", "IntTensor": "int32",
             "HalfTensor": "float16", "BoolTensor": "bool", "ByteTensor": "uint8", "ShortTensor": "int16",
             "CharTensor": "int8"}
        dtype = m[dtype.split(".")[-1]]
    return to(self, _dtype.to_dtype(dtype))


@tensor_method
def type_as(self, other):
    return to(self, other.dtype)
