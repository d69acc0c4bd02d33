"""tapegrad._blas.axpy_: y += alpha * x, one pass through BLAS where it can, NumPy otherwise."""
import numpy as np
import pytest

from tapegrad import _blas


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [10, 5000, 200_000])
def test_axpy_matches_numpy_within_one_rounding(dtype, n):
    rng = np.random.default_rng(0)
    y, x = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    want = y.astype(np.float64) + (-0.01) * x.astype(np.float64)
    _blas.axpy_(y, -0.01, x)
    np.testing.assert_allclose(y, want, rtol=2 * np.finfo(dtype).eps, atol=2 * np.finfo(dtype).eps)


@pytest.mark.parametrize("make", [
    lambda y: y[:, ::2],                  # non-contiguous target
    lambda y: y.T,                        # transposed view (not C-contiguous)
])
def test_axpy_falls_back_for_views(make):
    rng = np.random.default_rng(1)
    base = rng.standard_normal((300, 400)).astype(np.float32)
    y = make(base)
    x = rng.standard_normal(y.shape).astype(np.float32)
    want = y + x * 0.5
    _blas.axpy_(y, 0.5, x)
    np.testing.assert_allclose(y, want, rtol=1e-6)


def test_axpy_with_overlapping_operands_is_numpys_answer():
    y = np.arange(10000, dtype=np.float32)
    want = y + y * 2.0
    _blas.axpy_(y, 2.0, y)
    np.testing.assert_array_equal(y, want)


def test_sgd_step_is_bit_identical_to_torch():
    torch = pytest.importorskip("torch")
    import tapegrad as tg

    rng = np.random.default_rng(2)
    w0, g0 = rng.standard_normal((256, 784)).astype(np.float32), rng.standard_normal((256, 784)).astype(np.float32)
    results = []
    for m in (torch, tg):
        w = m.nn.Parameter(m.tensor(w0.copy()))
        w.grad = m.tensor(g0.copy())
        m.optim.SGD([w], lr=0.01).step()
        results.append(w.detach().numpy().copy())
    np.testing.assert_array_equal(results[1], results[0])
