"""Special functions: lgamma, digamma, polygamma, mvlgamma, i0, logit (torch's top level) and the
functions of torch.special, each with forward and backward side by side.

Their values come from SciPy's `scipy.special` (the optional extra `special`), imported on first use;
without SciPy they raise NotImplementedError saying so (the orthogonal polynomials are NumPy
recurrences). Gradients are tapegrad formulas, PyTorch's:
where PyTorch has no derivative, backward raises its NotImplementedError, and the Bessel functions and
orthogonal polynomials give results that do not require grad, as in PyTorch.
"""
import math

import numpy as np

from .._tensor import Tensor, tensor_method
from ..autograd.function import Function
from .elementwise import _floatify, _promote, _unary, exp, log, log1p, sign, where

__all__ = ["lgamma", "digamma", "polygamma", "mvlgamma", "i0", "logit"]

_SQRT_2PI = math.sqrt(2 * math.pi)
_SCIPY = []


def _scipy_special(name):
    """scipy.special, imported on first use, with a clear error where SciPy is not installed."""
    if not _SCIPY:
        try:
            import scipy.special
        except ImportError:
            raise NotImplementedError(f"tapegrad computes torch.special.{name} with SciPy: install it "
                                      "(pip install 'tapegrad[special]' or pip install scipy)") from None
        _SCIPY.append(scipy.special)
    return _SCIPY[0]


def _sp(name, fn_name=None, fix=None):
    """A forward computing scipy.special.<fn_name> in the input's dtype (then `fix`, for the values where
    PyTorch's differ from SciPy's)."""
    def forward(x):
        with np.errstate(all="ignore"):
            y = getattr(_scipy_special(name), fn_name or name)(x).astype(x.dtype, copy=False)
        return y if fix is None else fix(x, y)

    return forward


def _lgamma_fix(x, y):
    y[np.isneginf(x)] = np.inf  # lgamma(-inf) is +inf in PyTorch (SciPy: -inf)
    return y


# ---------------------------------------------------------------- unary, differentiable
lgamma = _unary("lgamma", _sp("lgamma", "gammaln", _lgamma_fix), lambda g, x, y: g * digamma(x))
digamma = _unary("digamma", _sp("digamma", "psi"), lambda g, x, y: g * polygamma(1, x))
i0 = _unary("i0", _sp("i0"), lambda g, x, y: g * i1(x))
i0e = _unary("i0e", _sp("i0e"), lambda g, x, y: g * (i1e(x) - sign(x) * y), save="xy", method=False)
# i1'(x) = i0(x) - i1(x) / x, which is 1/2 at 0
i1 = _unary("i1", _sp("i1"), lambda g, x, y: g * where(x == 0, 0.5, i0(x) - y / x), save="xy", method=False)
i1e = _unary("i1e", _sp("i1e"),
             lambda g, x, y: g * where(x == 0, 0.5, i0e(x) - y * (sign(x) + 1 / x)), save="xy", method=False)
ndtr = _unary("ndtr", _sp("ndtr"), lambda g, x, y: g * exp(x * x * -0.5) / _SQRT_2PI, method=False)
log_ndtr = _unary("log_ndtr", _sp("log_ndtr"), lambda g, x, y: g * exp(-(y + x * x * 0.5)) / _SQRT_2PI,
                  save="xy", method=False)
ndtri = _unary("ndtri", _sp("ndtri"), lambda g, x, y: g * _SQRT_2PI * exp(y * y * 0.5), save="y", method=False)
erfcx = _unary("erfcx", _sp("erfcx"), lambda g, x, y: g * (2 * x * y - 2 / math.sqrt(math.pi)), save="xy",
               method=False)


def _entr(x):
    with np.errstate(all="ignore"):
        y = -x * np.log(x)
    y[x == 0] = 0
    y[x < 0] = -np.inf
    return y


entr = _unary("entr", _entr, lambda g, x, y: g * -(1 + log(x)), method=False)


# ---------------------------------------------------------------- polygamma, mvlgamma, logit
class Polygamma(Function):
    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return _polygamma_array(n, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * polygamma(ctx.n + 1, x), None


def _polygamma_array(n, x):
    special = _scipy_special("polygamma")
    with np.errstate(all="ignore"):
        y = special.psi(x) if n == 0 else special.polygamma(n, x.astype(np.float64))
    return np.asarray(y).astype(x.dtype, copy=False)


@tensor_method
def polygamma(n, input):
    """torch.polygamma(n, input): the n-th derivative of digamma (Tensor.polygamma(n) puts n first too)."""
    if isinstance(n, Tensor):  # called as a method: input.polygamma(n)
        n, input = input, n
    if int(n) < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return Polygamma.apply(_floatify(input), int(n))


@tensor_method
def mvlgamma(input, p):
    """The multivariate log-gamma of dimension p: sum over j < p of lgamma(x - j/2), plus p(p-1)/4 log(pi)."""
    x = _floatify(input)
    shifts = Tensor._make(-np.arange(p, dtype=x._data.dtype) / 2)
    return lgamma(x.unsqueeze(-1) + shifts).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


class Logit(Function):
    @staticmethod
    def forward(ctx, x, eps):
        ctx.save_for_backward(x)
        ctx.eps = eps
        z = x if eps is None else np.clip(x, eps, 1 - eps)
        with np.errstate(all="ignore"):
            return np.log(z / (1 - z))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = g / (x * (1 - x))
        if ctx.eps is None:
            return d, None
        return where((x < ctx.eps) | (x > 1 - ctx.eps), 0.0, d), None  # flat where clamped


@tensor_method
def logit(input, eps=None):
    return Logit.apply(_floatify(input), None if eps is None else float(eps))


# ---------------------------------------------------------------- binary
def xlog1py(input, other):
    """x * log1p(y), 0 where x is 0 (unless y is NaN), as PyTorch's."""
    x, y = _promote(input, other, "xlog1py", float_result=True)
    x = x if isinstance(x, Tensor) else Tensor._make(np.asarray(x, dtype=y._data.dtype))
    return where((x == 0) & ~(y != y), 0.0, x * log1p(y))


class _Incomplete(Function):
    """The regularised incomplete gamma functions; PyTorch differentiates them in x only."""

    @staticmethod
    def forward(ctx, a, x, upper):
        ctx.save_for_backward(a, x)
        ctx.upper = upper
        fn = _scipy_special("gammainc").gammaincc if upper else _scipy_special("gammainc").gammainc
        with np.errstate(all="ignore"):
            return fn(a, x).astype(np.result_type(a, x), copy=False)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative for '{'igammac' if ctx.upper else 'igamma'}: input' is not "
                                      "implemented.")
        d = g * exp((a - 1) * log(x) - x - lgamma(a))
        return None, -d if ctx.upper else d, None


def gammainc(input, other):
    a, x = _promote(input, other, "gammainc", float_result=True)
    return _Incomplete.apply(_as_tensor(a, x), _as_tensor(x, a), False)


def gammaincc(input, other):
    a, x = _promote(input, other, "gammaincc", float_result=True)
    return _Incomplete.apply(_as_tensor(a, x), _as_tensor(x, a), True)


class Zeta(Function):
    """The Hurwitz zeta function zeta(x, q); PyTorch differentiates it in q only."""

    @staticmethod
    def forward(ctx, x, q):
        ctx.save_for_backward(x, q)
        with np.errstate(all="ignore"):
            return _scipy_special("zeta").zeta(x, q).astype(np.result_type(x, q), copy=False)

    @staticmethod
    def backward(ctx, g):
        x, q = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        return None, g * -x * zeta(x + 1, q)


def zeta(input, other):
    x, q = _promote(input, other, "zeta", float_result=True)
    return Zeta.apply(_as_tensor(x, q), _as_tensor(q, x))


def _as_tensor(v, like):
    return v if isinstance(v, Tensor) else Tensor._make(np.asarray(v, dtype=like._data.dtype))


# ---------------------------------------------------------------- without gradient (as in PyTorch)
def _no_grad_unary(name, fn):
    def op(input):  # nothing recorded: the result does not require grad
        return Tensor._make(fn(_floatify(input)._data))

    op.__name__ = op.__qualname__ = name
    return op


bessel_j0 = _no_grad_unary("bessel_j0", _sp("bessel_j0", "j0"))
bessel_j1 = _no_grad_unary("bessel_j1", _sp("bessel_j1", "j1"))
bessel_y0 = _no_grad_unary("bessel_y0", _sp("bessel_y0", "y0"))
bessel_y1 = _no_grad_unary("bessel_y1", _sp("bessel_y1", "y1"))
modified_bessel_i0 = _no_grad_unary("modified_bessel_i0", _sp("modified_bessel_i0", "i0"))
modified_bessel_i1 = _no_grad_unary("modified_bessel_i1", _sp("modified_bessel_i1", "i1"))
modified_bessel_k0 = _no_grad_unary("modified_bessel_k0", _sp("modified_bessel_k0", "k0"))
modified_bessel_k1 = _no_grad_unary("modified_bessel_k1", _sp("modified_bessel_k1", "k1"))
scaled_modified_bessel_k0 = _no_grad_unary("scaled_modified_bessel_k0", _sp("scaled_modified_bessel_k0", "k0e"))
scaled_modified_bessel_k1 = _no_grad_unary("scaled_modified_bessel_k1", _sp("scaled_modified_bessel_k1", "k1e"))
spherical_bessel_j0 = _no_grad_unary(
    "spherical_bessel_j0", lambda x: _scipy_special("spherical_bessel_j0").spherical_jn(0, x).astype(x.dtype, copy=False))
airy_ai = _no_grad_unary("airy_ai", lambda x: _scipy_special("airy_ai").airy(x)[0].astype(x.dtype, copy=False))


# ---------------------------------------------------------------- orthogonal polynomials (no gradient)
def _polynomial_values(x, n, first, step):
    """P_n(x) elementwise for integer n (an array or a number; 0 where n < 0), from P_0 = 1, P_1 = first(x)
    and the three-term recurrence P_{k+1} = step(k, x, P_k, P_{k-1})."""
    x, n = np.broadcast_arrays(x, np.asarray(n))
    n = n.astype(np.int64)
    out = np.zeros(x.shape, x.dtype)
    prev, cur = np.ones_like(x), first(x)
    out[n == 0] = 1
    out[n == 1] = cur[n == 1]
    with np.errstate(all="ignore"):
        for k in range(1, int(n.max(initial=0))):
            prev, cur = cur, step(k, x, cur, prev)
            out[n == k + 1] = cur[n == k + 1]
    return out


def _polynomial(name, first, step, shifted=False):
    def op(input, n, *, out=None):  # nothing recorded: the result does not require grad
        x = _floatify(input)._data
        if shifted:  # the shifted polynomials are the plain ones at 2x - 1
            x = x * 2 - 1
        return Tensor._make(_polynomial_values(x, n._data if isinstance(n, Tensor) else n, first, step))

    op.__name__ = op.__qualname__ = name
    return op


def _chebyshev_step(k, x, cur, prev):
    return 2 * x * cur - prev


chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t", lambda x: x.copy(), _chebyshev_step)
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u", lambda x: 2 * x, _chebyshev_step)
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v", lambda x: 2 * x - 1, _chebyshev_step)
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w", lambda x: 2 * x + 1, _chebyshev_step)
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t", lambda x: x.copy(), _chebyshev_step,
                                             shifted=True)
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u", lambda x: 2 * x, _chebyshev_step,
                                             shifted=True)
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v", lambda x: 2 * x - 1,
                                             _chebyshev_step, shifted=True)
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w", lambda x: 2 * x + 1,
                                             _chebyshev_step, shifted=True)
hermite_polynomial_h = _polynomial("hermite_polynomial_h", lambda x: 2 * x,
                                   lambda k, x, cur, prev: 2 * x * cur - 2 * k * prev)
hermite_polynomial_he = _polynomial("hermite_polynomial_he", lambda x: x.copy(),
                                    lambda k, x, cur, prev: x * cur - k * prev)
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", lambda x: 1 - x,
                                    lambda k, x, cur, prev: ((2 * k + 1 - x) * cur - k * prev) / (k + 1))
legendre_polynomial_p = _polynomial("legendre_polynomial_p", lambda x: x.copy(),
                                    lambda k, x, cur, prev: ((2 * k + 1) * x * cur - k * prev) / (k + 1))
