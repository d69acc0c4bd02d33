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


@pytest.mark.parametrize("options", [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True},
                                     {"momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-4},
                                     {"weight_decay": 1e-3}])
def test_sgd_steps_are_bit_identical_to_torch(options):
    torch = pytest.importorskip("torch")
    import tapegrad as tg

    rng = np.random.default_rng(2)
    w0 = rng.standard_normal((256, 784)).astype(np.float32)
    grads = [rng.standard_normal((256, 784)).astype(np.float32) for _ in range(4)]
    results = []
    for m in (torch, tg):
        w = m.nn.Parameter(m.tensor(w0.copy()))
        opt = m.optim.SGD([w], lr=0.01, **options)
        for g in grads:
            w.grad = m.tensor(g.copy())
            opt.step()
        results.append(w.detach().numpy().copy())
    np.testing.assert_array_equal(results[1], results[0])
