"""Registry entries for elementwise operators."""
import numpy as np

from opinfo import BINARY_SHAPES, UNARY_SHAPES, OpInfo, Sample, positive, rand, shapes_sample


def unary(rng, dt, low=-2.0, high=2.0):
    return [Sample([rand(rng, dt, s, low, high)], name=str(s)) for s in UNARY_SHAPES]


def binary(rng, dt, low=-2.0, high=2.0):
    return [Sample([rand(rng, dt, a, low, high), rand(rng, dt, b, low, high)], name=f"{a}x{b}")
            for a, b in BINARY_SHAPES]


def _u(name, low=-2.0, high=2.0, **kw):
    return OpInfo(name, lambda m, x, _n=name: getattr(m, _n)(x), lambda r, d: unary(r, d, low, high), **kw)


def _b(name, low=-2.0, high=2.0, **kw):
    return OpInfo(name, lambda m, a, b, _n=name: getattr(m, _n)(a, b), lambda r, d: binary(r, d, low, high), **kw)


OPS = [
    _b("add"), _b("sub"), _b("mul"), _b("div", 0.5, 2.0),
    OpInfo("add_alpha", lambda m, a, b: m.add(a, b, alpha=0.5), binary),
    OpInfo("pow_tensor", lambda m, a, b: m.pow(a, b), lambda r, d: [
        Sample([positive(r, d, (3, 4)), rand(r, d, (3, 4))]), Sample([positive(r, d, (2, 3)), rand(r, d, (3,))])]),
    OpInfo("pow_scalar", lambda m, a: a ** 3, unary), OpInfo("pow_half", lambda m, a: a ** 0.5, lambda r, d: unary(r, d, 0.5, 2)),
    OpInfo("rpow", lambda m, a: 2.0 ** a, unary),
    OpInfo("radd_scalar", lambda m, a: 2.5 + a, unary), OpInfo("rsub_scalar", lambda m, a: 2.5 - a, unary),
    OpInfo("rdiv_scalar", lambda m, a: 2.5 / a, lambda r, d: unary(r, d, 0.5, 2)),
    OpInfo("mul_scalar", lambda m, a: a * 3, unary), OpInfo("neg", lambda m, a: -a, unary),
    _u("exp"), _u("log", 0.5, 3), _u("log1p", 0.0, 2), _u("expm1"), _u("sqrt", 0.5, 3), _u("rsqrt", 0.5, 3),
    _u("abs", 0.1, 2), _u("sin"), _u("cos"), _u("tan", -1, 1), _u("asin", -0.9, 0.9), _u("acos", -0.9, 0.9),
    _u("atan"), _u("sinh"), _u("cosh"), _u("tanh"), _u("asinh"), _u("acosh", 1.2, 3), _u("atanh", -0.9, 0.9),
    _u("sigmoid"), _u("relu", 0.1, 2), _u("reciprocal", 0.5, 2), _u("square"), _u("log2", 0.5, 3),
    _u("log10", 0.5, 3), _u("exp2"), _u("erf"),
    _u("sign", gradcheck=False), _u("floor", gradcheck=False), _u("ceil", gradcheck=False),
    OpInfo("clamp", lambda m, x: m.clamp(x, -0.5, 0.7), unary, gradcheck=False),
    OpInfo("clamp_min", lambda m, x: m.clamp(x, min=-0.5), unary, gradcheck=False),
    OpInfo("clamp_tensor_bounds", lambda m, x, lo, hi: (m.clamp(x, lo, hi), m.clamp(x, hi, lo)), lambda r, d: [
        Sample([rand(r, d, (3, 4)), rand(r, d, (4,)), rand(r, d, (3, 1))])], gradcheck=False),
    OpInfo("where", lambda m, c, a, b: m.where(c > 0, a, b), lambda r, d: [
        Sample([rand(r, d, (3, 4)), rand(r, d, (3, 4)), rand(r, d, (4,))])]),
    _b("maximum"), _b("minimum"),
    _b("eq", grad=False), _b("lt", grad=False), _b("ge", grad=False),
    OpInfo("atan2", lambda m, a, b: m.atan2(a, b), lambda r, d: binary(r, d, 0.5, 2)),
]
