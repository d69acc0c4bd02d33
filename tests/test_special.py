"""torch.special and the special functions at torch's top level (lgamma, digamma, polygamma, mvlgamma, i0,
logit), against PyTorch: values, dtypes, gradients (and gradcheck), the functions PyTorch does not
differentiate, and its errors."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")
pytest.importorskip("scipy")

# name -> (function of the module m, the interval inputs are drawn from)
UNARY = {
    "lgamma": (lambda m: m.lgamma, (-4.5, 6)), "digamma": (lambda m: m.digamma, (0.2, 6)),
    "special.gammaln": (lambda m: m.special.gammaln, (0.1, 6)), "special.psi": (lambda m: m.special.psi, (0.2, 6)),
    "polygamma1": (lambda m: lambda x: m.polygamma(1, x), (0.2, 6)),
    "polygamma3": (lambda m: lambda x: m.special.polygamma(3, x), (0.5, 6)),
    "polygamma0": (lambda m: lambda x: m.polygamma(0, x), (0.5, 6)),
    "method.polygamma": (lambda m: lambda x: x.polygamma(2), (0.5, 6)),
    "mvlgamma": (lambda m: lambda x: m.mvlgamma(x, 3), (1.1, 6)),
    "special.multigammaln": (lambda m: lambda x: m.special.multigammaln(x, 2), (0.6, 6)),
    "i0": (lambda m: m.i0, (-5, 5)), "special.i0e": (lambda m: m.special.i0e, (-5, 5)),
    "special.i1": (lambda m: m.special.i1, (-5, 5)), "special.i1e": (lambda m: m.special.i1e, (-5, 5)),
    "logit": (lambda m: m.logit, (0.01, 0.99)), "logit_eps": (lambda m: lambda x: m.logit(x, eps=0.2), (0.01, 0.99)),
    "special.logit": (lambda m: m.special.logit, (0.01, 0.99)),
    "special.ndtr": (lambda m: m.special.ndtr, (-4, 4)), "special.log_ndtr": (lambda m: m.special.log_ndtr, (-6, 4)),
    "special.ndtri": (lambda m: m.special.ndtri, (0.01, 0.99)), "special.erfcx": (lambda m: m.special.erfcx, (-2, 5)),
    "special.entr": (lambda m: m.special.entr, (0.01, 3)), "special.expit": (lambda m: m.special.expit, (-5, 5)),
    "special.erf": (lambda m: m.special.erf, (-3, 3)), "special.log1p": (lambda m: m.special.log1p, (-0.5, 3)),
    "special.xlog1py": (lambda m: lambda x: m.special.xlog1py(x, x * 0.5 + 1), (-0.5, 3)),
    "special.zeta_q": (lambda m: lambda x: m.special.zeta(3.0, x), (0.5, 4)),
    "special.gammainc_x": (lambda m: lambda x: m.special.gammainc(m.full_like(x, 2.5), x), (0.1, 6)),
    "special.gammaincc_x": (lambda m: lambda x: m.special.gammaincc(m.full_like(x, 1.5), x), (0.1, 6)),
}


def _sample(lo, hi, shape, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(UNARY))
def test_values_and_gradients_match_torch(name, dtype):
    make, (lo, hi) = UNARY[name]
    x = _sample(lo, hi, (3, 4)).astype(dtype)
    w = np.random.default_rng(1).standard_normal((3, 4)).astype(dtype)
    results = []
    for m in (torch, tg):
        t = m.tensor(x, requires_grad=True)
        y = make(m)(t.t()).t()  # a transposed (non-contiguous) input
        (y * m.tensor(w)).sum().backward()
        results.append((y.detach().numpy(), str(y.dtype), t.grad.numpy()))
    (want, want_dt, want_g), (got, got_dt, got_g) = results
    assert got_dt == want_dt
    # float64: 1e-8, as PyTorch's own trigamma is good to about 4e-10 (SciPy's, used here, to 1e-16)
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == "float32" else dict(rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got, want, **tol)
    np.testing.assert_allclose(got_g, want_g, **{k: v * 20 for k, v in tol.items()})


@pytest.mark.parametrize("name", ["lgamma", "digamma", "polygamma1", "i0", "special.i1e", "special.log_ndtr",
                                  "special.ndtri", "special.erfcx", "logit_eps", "special.zeta_q", "mvlgamma"])
def test_gradcheck(name):
    make, (lo, hi) = UNARY[name]
    x = tg.tensor(_sample(lo, hi, (5,), seed=3), requires_grad=True)
    assert tg.autograd.gradcheck(make(tg), (x,))


def test_integer_inputs_and_empty():
    for name in ("lgamma", "digamma", "i0", "logit"):
        for arg in ([1, 2, 3], []):
            want = getattr(torch, name)(torch.tensor(arg))
            got = getattr(tg, name)(tg.tensor(arg))
            assert str(got.dtype) == str(want.dtype) and tuple(got.shape) == tuple(want.shape)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_edges_match_torch():
    x = [0.0, -1.0, -0.5, 1.0, float("inf"), -float("inf"), float("nan")]
    for fn in ("lgamma", "digamma"):
        np.testing.assert_allclose(getattr(tg, fn)(tg.tensor(x)).numpy(), getattr(torch, fn)(torch.tensor(x)).numpy(),
                                   rtol=1e-5)
    y = [0.0, 0.3, -1.0]
    np.testing.assert_allclose(tg.special.entr(tg.tensor(y)).numpy(), torch.special.entr(torch.tensor(y)).numpy())
    np.testing.assert_allclose(tg.special.xlog1py(tg.tensor([0., 2., 0.]), tg.tensor([-1., 3., float("nan")])).numpy(),
                               torch.special.xlog1py(torch.tensor([0., 2., 0.]),
                                                     torch.tensor([-1., 3., float("nan")])).numpy())


NO_GRAD = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "spherical_bessel_j0", "airy_ai"]


@pytest.mark.parametrize("name", NO_GRAD)
def test_functions_without_gradient_match_torch(name):
    x = _sample(0.2, 8, (6,))
    want = getattr(torch.special, name)(torch.tensor(x, requires_grad=True))
    got = getattr(tg.special, name)(tg.tensor(x, requires_grad=True))
    assert got.requires_grad == want.requires_grad
    # PyTorch's float64 Bessel functions of the first and second kind drift by up to 3e-7 past x = 5
    # (SciPy's, used here, agree with mpmath to 1e-16)
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-6, atol=1e-6)


POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
               "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
               "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
               "laguerre_polynomial_l", "legendre_polynomial_p"]


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_match_torch(name):
    x = np.linspace(-0.9, 0.9, 7) if "shifted" not in name else np.linspace(0.05, 0.95, 7)
    n = np.array([0, 1, 2, 3, 5, 6, -1])
    for deg in (n, 4, 3.0):
        want = getattr(torch.special, name)(torch.tensor(x), torch.tensor(deg) if isinstance(deg, np.ndarray) else deg)
        got = getattr(tg.special, name)(tg.tensor(x), tg.tensor(deg) if isinstance(deg, np.ndarray) else deg)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("case", [
    lambda m: m.polygamma(-1, m.ones(2)),
    lambda m: m.special.zeta(m.ones(2, requires_grad=True) + 1, m.ones(2)).sum().backward(),
    lambda m: m.special.gammainc(m.ones(2, requires_grad=True), m.ones(2)).sum().backward(),
])
def test_errors_like_torch(case):
    with pytest.raises(Exception) as want:
        case(torch)
    with pytest.raises(type(want.value), match=str(want.value).replace("(", r"\(").replace(")", r"\)")):
        case(tg)


def test_every_torch_special_name_exists():
    names = {n for n in dir(torch.special) if not n.startswith("_") and callable(getattr(torch.special, n))}
    names -= {"Tensor", "multi_dim_common", "common_args"}
    assert not sorted(n for n in names if not hasattr(tg.special, n))
