"""Differential audit of reductions, elementwise math and linear algebra against PyTorch: the edge cases an audit
found diverging (NaN and tie gradients, zeros, degrees of freedom, dtypes of mixed or bool operands, PyTorch's
errors). Every expected value comes from torch: each case runs in both frameworks and is compared."""
import warnings

import numpy as np
import pytest

import tapegrad as tg
from torch_errors import assert_raises_like_torch

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")


def _run(m, case, arrays, dtype):
    ts = [m.tensor(np.asarray(a, dtype=dtype) if np.asarray(a).dtype.kind == "f" else np.asarray(a),
                   requires_grad=np.asarray(a).dtype.kind == "f") for a in arrays]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = case(m, *ts)
    outs = list(out) if isinstance(out, tuple) else [out]
    grads = None
    diff = [o for o in outs if o.grad_fn is not None]
    leaves = [t for t in ts if t.requires_grad]
    if diff and leaves:
        rng = np.random.default_rng(0)
        loss = sum((o * m.tensor(rng.standard_normal(tuple(o.shape)).astype(str(o.dtype).split(".")[-1]))).sum()
                   for o in diff)
        grads = m.autograd.grad(loss, leaves, allow_unused=True)
    return outs, grads, [str(w.message).split(" (Triggered")[0] for w in caught]


def _close(w, g, exact):
    assert g.shape == tuple(w.shape) and str(g.dtype) == str(w.dtype), (g.shape, g.dtype, w.shape, w.dtype)
    w, g = w.detach().numpy(), g.detach().numpy()
    if exact or w.dtype.kind not in "fc":
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, equal_nan=True)


def check(case, *arrays, dtype="float32", exact=False):
    want = _run(torch, case, arrays, dtype)
    got = _run(tg, case, arrays, dtype)
    assert len(got[0]) == len(want[0])
    for w, g in zip(want[0], got[0]):
        _close(w, g, exact)
    assert (got[1] is None) == (want[1] is None)
    for w, g in zip(want[1] or (), got[1] or ()):
        if w is None or g is None:
            assert (w if g is None else g) is None or not (w if g is None else g).numpy().any()
        else:
            _close(w, g, exact)
    assert [m for m in got[2] if "degrees of freedom" in m] == [m for m in want[2] if "degrees of freedom" in m]


DTYPES = ["float32", "float64"]
X = np.array([[0.3, -1.2, 2.0, 0.7], [1.1, 0.4, -0.5, -2.2], [0.9, 1.5, -0.1, 0.2]])
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
NANS = np.array([[1.0, NAN, 3.0, NAN], [2.0, 2.0, 1.0, 2.0], [NAN, 0.0, 0.0, NAN]])
ZEROS = np.array([[0.0, 1.0, 0.0, -2.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 4.0, 0.0]])
SPECIAL = np.array([-2.0, -1.5, -0.0, 0.0, 0.5, 1.0, INF, -INF, NAN])

CASES = {
    # reductions
    "std of a constant: gradient 0": (lambda m, a: (a.std(), a.std(1)), np.ones((2, 4))),
    "var/std of one element warns": (lambda m, a: (a.var(), a.std(0), m.var_mean(a, 1)), np.ones((1, 1))),
    "var with correction > n, dim": (lambda m, a: a.var(1, correction=5), X),
    "var with correction >= n, no dim": (lambda m, a: (a.var(correction=15), a.var(correction=12)), X),
    "std correction tuple dims": (lambda m, a: a.std((0, 1), correction=0, keepdim=True), X),
    "var of empty": (lambda m, a: (a.var(0), a.var()), np.ones((0, 3))),
    "var of 0-d": (lambda m, a: a.var(0), np.array(2.0)),
    "nansum of ints": (lambda m, a: (a.nansum(), a.nansum(0, dtype=m.int32)), np.array([1, 2, 3], np.int32)),
    "nansum of bools": (lambda m, a: a.nansum(), np.array([True, True])),
    "nansum gradient at NaN": (lambda m, a: (a.nansum(), a.nansum(0, keepdim=True)), NANS),
    "amax/amin NaN: NaN gradient": (lambda m, a: (a.amax(1), a.amin(0)), NANS),
    "max()/median(): NaN takes the gradient": (lambda m, a: (a.max(), a.median()), NANS),
    "aminmax NaN": (lambda m, a: tuple(a.aminmax(dim=1)), NANS),
    "amax ties split, max(dim) picks one": (lambda m, a: (a.amax(1), a.max(1)[0], a.amin((0, 1))), TIES),
    "argmax ties and NaN": (lambda m, a: (a.argmax(1), a.argmin(0), a.argmax()), NANS),
    "argmax of bools raises": (lambda m, a: a.argmax(0), np.array([True, False])),
    "max of bools": (lambda m, a: (a.max(), a.min(0)[0], a.amax()), np.array([True, False])),
    "logsumexp -inf rows": (lambda m, a: a.logsumexp(1), np.array([[-INF, -INF], [0.0, 1.0], [INF, 1.0]])),
    "prod with zeros": (lambda m, a: (a.prod(), a.prod(1)), ZEROS),
    # norms
    "norm p < 1 and negative p at zeros": (
        lambda m, a: tuple(a.norm(p, 1) for p in (0.5, -1, -2)) + tuple(a.norm(p) for p in (0.5, -1)), ZEROS),
    "norm p=2, 3, 1.5 at a zero row": (lambda m, a: (a.norm(dim=1), a.norm(3, 1), a.norm(1.5, 1)), ZEROS),
    "inf-norm with NaN": (lambda m, a: a.norm(INF, 1), np.array([[NAN, 1.0], [INF, 1.0]])),
    "inf-norm of empty": (lambda m, a: m.linalg.vector_norm(a, INF), np.ones((0, 3))),
    "inf-norm over an empty dim": (lambda m, a: m.linalg.vector_norm(a, -INF, dim=0), np.ones((0, 3))),
    # elementwise
    "2 / a, 2.5 / int": (lambda m, a, i: (2 / a, 2.5 / a, 3 / i), X, np.array([1, 2, 0])),
    "a / b gradient": (lambda m, a, b: a / b, X, X[::-1] + 3.0),
    "maximum/minimum NaN and ties": (lambda m, a, b: (m.maximum(a, b), m.minimum(a, b)),
                                     np.array([NAN, 1.0, 2.0, NAN]), np.array([1.0, NAN, 2.0, NAN])),
    "fmax/fmin NaN and ties": (lambda m, a, b: (m.fmax(a, b), m.fmin(a, b)),
                               np.array([NAN, 1.0, 2.0, NAN]), np.array([1.0, NAN, 2.0, NAN])),
    "clamp tensor bounds, min > max": (lambda m, a, lo, hi: (a.clamp(lo, hi), a.clamp(hi, lo), a.clamp(max=hi)),
                                       X, X[0] - 0.2, X[1] + 0.1),
    "clamp of bools with int bounds": (lambda m, a: a.clamp(0, 1), np.array([True, False])),
    "where of two numbers": (lambda m, a: (m.where(a > 0, 1.0, 0.0), m.where(a > 0, 1, 2.5), m.where(a > 0, 1, 0)), X),
    "where condition dtype error": (lambda m, a: m.where(a, a, a), X),
    "sign of NaN and -0.0": (lambda m, a: (m.sign(a), m.sign(a).signbit(), m.sgn(a)), SPECIAL),
    "sign of bools": (lambda m, a: m.sign(a), np.array([True, False])),
    "abs of bools": (lambda m, a: m.abs(a), np.array([True, False])),
    "floor of bools": (lambda m, a: m.floor(a), np.array([True, False])),
    "frac of ints": (lambda m, a: m.frac(a), np.array([1, 2])),
    "square of bools": (lambda m, a: m.square(a), np.array([True, False])),
    "sinc gradient": (lambda m, a: m.sinc(a), X),
    "pow special exponents": (lambda m, a: tuple(a ** e for e in (2, 3, -1, -2, 0.5, -0.5, 0, 1.5)), SPECIAL),
    "pow signs at -0.0": (lambda m, a: ((a ** 0.5).signbit(), (a ** -0.5).signbit()), np.array([-0.0, 0.0, 4.0])),
    "0 ** x and (-2) ** x gradients": (lambda m, a: (0.0 ** a, (-2.0) ** a, 2 ** a), np.array([0.0, 1.0, 2.0, -1.0])),
    "pow tensor exponent at 0": (lambda m, a, b: a ** b, np.array([0.0, 0.0, -2.0, -2.0, 2.0, 0.0]),
                                 np.array([0.0, 2.0, 2.0, 3.0, 0.5, -1.0])),
    "int ** negative int tensor": (lambda m, a, b: (a ** b, 2 ** b), np.array([0, 2, -1, 1, -2]),
                                   np.array([-1, -1, -3, -5, 0])),
    "int ** negative number raises": (lambda m, a: a ** -1, np.array([2])),
    # linear algebra
    "addmm": (lambda m, c, a, b: (m.addmm(c, a, b), c.addmm(a, b, beta=0.5, alpha=-2)), X[:2], X[:2, :3], X[:3]),
    "addmm beta=0 ignores NaN, zero gradient": (lambda m, c, a, b: m.addmm(c, a, b, beta=0), np.full((2, 4), NAN),
                                                X[:2, :3], X[:3]),
    "addmm broadcast input": (lambda m, c, a, b: m.addmm(c, a, b), X[0], X[:2, :3], X[:3]),
    "addmm int scalars truncate": (lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2),
                                   np.ones((2, 4), np.int64), np.ones((2, 3), np.int64), np.ones((3, 4), np.int64)),
    "addmm dtype error": (lambda m, c, a, b: m.addmm(c, a, b), np.ones((2, 4), np.int64), X[:2, :3], X[:3]),
    "addmm shape error": (lambda m, c, a, b: m.addmm(c, a, b), X[:3], X[:2, :3], X[:3]),
    "addmm matrix error": (lambda m, c, a, b: m.addmm(c, a, b), X[:2], X[0, :3], X[:3]),
    "addmm_": (lambda m, c, a, b: c.clone().addmm_(a, b), X[:2], X[:2, :3], X[:3]),
    "matmul of bools": (lambda m, a, b: a @ b, np.ones((2, 3), bool), np.ones((3, 2), bool)),
    "dot of bools": (lambda m, a: m.dot(a, a), np.ones(3, bool)),
    "mv of bools": (lambda m, a, b: m.mv(a, b), np.ones((2, 3), bool), np.ones(3, bool)),
    "einsum of bools contracting": (lambda m, a, b: m.einsum("ij,jk->ik", a, b), np.ones((2, 3), bool),
                                    np.ones((3, 2), bool)),
    "einsum one operand summed: int64": (lambda m, a, b: (m.einsum("i->", a), m.einsum("ij->j", b)),
                                         np.ones(3, bool), np.ones((2, 3), np.int32)),
    "einsum mixed dtypes contracting": (lambda m, a, b: m.einsum("i,i->", a, b), X[0], np.ones(4, np.int64)),
    "einsum mixed dtypes, no contraction": (lambda m, a, b: m.einsum("i,j->ij", a, b), X[0], np.ones(3, np.int64)),
    "einsum invalid subscript": (lambda m, a: m.einsum("i1->i", a), X),
    "einsum repeated subscript sizes": (lambda m, a: m.einsum("ii->i", a), X),
    "einsum sizes do not broadcast": (lambda m, a, b: m.einsum("ij,jk->ik", a, b), X, X),
    "lstsq batch of B, not A": (lambda m, a, b: m.linalg.lstsq(a, b).solution, X[:3, :3] + 3 * np.eye(3),
                                np.ones((2, 3, 1))),
    "lstsq of ints": (lambda m, a, b: m.linalg.lstsq(a, b).solution, np.eye(2, dtype=np.int64),
                      np.ones((2, 1), np.int64)),
    "lstsq of a vector": (lambda m, a, b: m.linalg.lstsq(a, b).solution, X[0], X[0]),
    "solve batched, vector rhs": (lambda m, a, b: m.linalg.solve(a, b), np.stack([X[:3, :3] + 3 * np.eye(3)] * 2),
                                  X[:2, :3]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name, dtype):
    case, *arrays = CASES[name]
    try:
        _run(torch, case, [np.asarray(a, dtype=dtype) if np.asarray(a).dtype.kind == "f" else a for a in arrays],
             dtype)
    except Exception:
        assert_raises_like_torch(lambda m: _run(m, case, arrays, dtype), torch, tg, name)
        return
    check(case, *arrays, dtype=dtype)


@pytest.mark.parametrize("expr", ["2 / a", "2.5 / a", "a ** 3", "a ** 2", "a ** -1", "a.reciprocal()",
                                  "a / a.flip(0)", "a ** 2.0 + 1 / a"])
def test_values_and_gradients_are_bitwise_torch(expr):
    """Where PyTorch's formula is plain elementwise arithmetic, tapegrad rounds the same way."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0.1, 3.0, (64,)).astype(np.float32)
    res = []
    for m in (torch, tg):
        a = m.tensor(x, requires_grad=True)
        y = eval(expr, {"m": m, "a": a})
        (g,) = m.autograd.grad(y.sum(), a)
        res.append((y.detach().numpy(), g.numpy()))
    np.testing.assert_array_equal(res[1][0], res[0][0])
    np.testing.assert_array_equal(res[1][1], res[0][1])


@pytest.mark.parametrize("expr", ["a.std(1)", "a.nansum(1)", "m.einsum('ij,jk->ik', a, a.mT)", "2 / a",
                                  "m.addmm(a[:, 0], a, a.mT, beta=0.5, alpha=2)", "m.maximum(a, a.flip(0))",
                                  "a.clamp(a[0], a[1])", "a.norm(0.5, 1)", "a ** a"])
def test_double_backward(expr):
    """Second derivatives (create_graph) of the rewritten operators agree with torch's."""
    rng = np.random.default_rng(2)
    x = rng.uniform(0.5, 2.0, (3, 3))
    res = []
    for m in (torch, tg):
        a = m.tensor(x, requires_grad=True)
        y = eval(expr, {"m": m, "a": a})
        (g,) = m.autograd.grad((y * y).sum(), a, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), a)
        res.append(gg.numpy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-7, atol=1e-9)
