"""torch.testing: assert_close's verdicts and messages against PyTorch's, make_tensor's ranges and layouts."""
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")
CASES = [
    lambda m: m.testing.assert_close(m.tensor([1., 2., 3.]), m.tensor([1., 2.5, 3.])),
    lambda m: m.testing.assert_close(m.tensor([[1., 2.], [3., 4.]]), m.tensor([[1., 2.], [3., 4.1]])),
    lambda m: m.testing.assert_close(m.tensor([[1., 2.], [3., 4.]]), m.tensor([[1., 2.5], [3.5, 4.]])),
    lambda m: m.testing.assert_close(m.tensor([1., 2.]), m.tensor([1., 2.], dtype=m.float64)),
    lambda m: m.testing.assert_close(m.tensor([1., 2.]), m.tensor([1., 2., 3.])),
    lambda m: m.testing.assert_close(m.tensor([1, 2]), m.tensor([1, 3])),
    lambda m: m.testing.assert_close(m.tensor([3]), m.tensor([0])),
    lambda m: m.testing.assert_close(m.tensor(1), m.tensor(2)),
    lambda m: m.testing.assert_close(m.tensor(True), m.tensor(False)),
    lambda m: m.testing.assert_close(m.tensor([1., NAN]), m.tensor([1., NAN])),
    lambda m: m.testing.assert_close(m.tensor([1., NAN]), m.tensor([1., NAN]), equal_nan=True),
    lambda m: m.testing.assert_close(m.tensor([1., INF]), m.tensor([1., INF])),
    lambda m: m.testing.assert_close(m.tensor([1., INF]), m.tensor([1., -INF])),
    lambda m: m.testing.assert_close(m.tensor([1., 0.]), m.tensor([1., 0.1])),
    lambda m: m.testing.assert_close(m.tensor([0., 1.]), m.tensor([1e-9, 1.])),
    lambda m: m.testing.assert_close(m.tensor(2.), m.tensor(3.)),
    lambda m: m.testing.assert_close(m.tensor([1.], dtype=m.float16), m.tensor([1.001], dtype=m.float16)),
    lambda m: m.testing.assert_close(m.tensor([1., 2.], dtype=m.float16), m.tensor([1., 2.01], dtype=m.float16)),
    lambda m: m.testing.assert_close(m.tensor([1.]), m.tensor([1.1]), rtol=0.2, atol=0.),
    lambda m: m.testing.assert_close(m.tensor([1.]), m.tensor([1.1]), rtol=0.2),
    lambda m: m.testing.assert_close(m.tensor([1., 2.]), m.tensor([1., 2.1]), rtol=0, atol=0),
    lambda m: m.testing.assert_close(m.tensor([1.]), m.tensor([1.1]), msg="custom"),
    lambda m: m.testing.assert_close(m.tensor([1.]), m.tensor([1.1]), msg=lambda text: "X" + text[:12]),
    lambda m: m.testing.assert_close(m.tensor([1., 2.]), m.tensor([1., 2.], dtype=m.float64), check_dtype=False),
    lambda m: m.testing.assert_close(m.tensor([1., 2.]), m.tensor([1., 2.1], dtype=m.float64), check_dtype=False),
    lambda m: m.testing.assert_close(m.ones(2, 2), m.ones(2, 2).t().contiguous().t(), check_stride=True),
    lambda m: m.testing.assert_close(m.tensor([1., 2.], requires_grad=True), m.tensor([1., 2.])),
    lambda m: m.testing.assert_close(m.tensor([]), m.tensor([])),
    lambda m: m.testing.assert_close(1, 1.0),
    lambda m: m.testing.assert_close(1.0, 1.1),
    lambda m: m.testing.assert_close(3, 3),
    lambda m: m.testing.assert_close(True, False),
    lambda m: m.testing.assert_close(1 + 2j, 1 + 2j),
    lambda m: m.testing.assert_close(None, None),
    lambda m: m.testing.assert_close([m.tensor(1.), m.tensor(2.)], [m.tensor(1.), m.tensor(2.1)]),
    lambda m: m.testing.assert_close([[m.tensor([1., 2.])]], [[m.tensor([1., 3.])]]),
    lambda m: m.testing.assert_close({"a": m.tensor(1.)}, {"a": m.tensor(1.5)}),
    lambda m: m.testing.assert_close({"a": 1, "b": 2}, {"a": 1, "c": 2}),
    lambda m: m.testing.assert_close([1, 2], [1, 2, 3]),
    lambda m: m.testing.assert_close((1.0, [2.0]), (1.0, [2.0])),
    lambda m: m.testing.assert_close("a", "a"),
    lambda m: m.testing.assert_close(m.tensor([1.]), m.tensor([1.1]), rtol=0.1),
]


def _outcome(case, m):
    try:
        case(m)
    except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
        return type(exc).__name__, str(exc).replace("tapegrad._tensor.Tensor", "torch.Tensor")
    return "passed"


@pytest.mark.parametrize("case", CASES)
def test_assert_close_like_torch(case):
    assert _outcome(case, tg) == _outcome(case, torch)


def test_assert_allclose_promotes_and_equates_nans():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in (torch, tg):
            m.testing.assert_allclose(m.tensor([1., NAN]), m.tensor([1., NAN], dtype=m.float64))
            with pytest.raises(AssertionError):
                m.testing.assert_allclose(m.tensor([1., 2.]), m.tensor([1., 2.5]))


@pytest.mark.parametrize("dtype,kw", [("float32", {}), ("float64", {"low": -1, "high": 2}), ("int64", {}),
                                      ("int64", {"low": 0, "high": 5}), ("uint8", {}), ("int8", {"low": -3}),
                                      ("bool", {}), ("float32", {"low": 2, "high": 2})])
def test_make_tensor_ranges_like_torch(dtype, kw):
    def draw(m):
        t = m.testing.make_tensor(4000, dtype=getattr(m, dtype), device="cpu", **kw)
        return t.dtype, tuple(t.shape), t.numpy().min().item(), t.numpy().max().item()

    tg.manual_seed(0)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (dt, shape, lo, hi), (tdt, tshape, tlo, thi) = draw(tg), draw(torch)
    assert str(dt) == str(tdt) and shape == tshape
    np.testing.assert_allclose([lo, hi], [tlo, thi], atol=0.05)  # 4000 uniform draws reach both ends


def test_make_tensor_options():
    for m in (torch, tg):
        t = m.testing.make_tensor(3, 4, dtype=m.float64, device="cpu", noncontiguous=True, requires_grad=True)
        assert tuple(t.shape) == (3, 4) and not t.is_contiguous() and t.requires_grad and t.is_leaf
        z = m.testing.make_tensor((200,), dtype=m.int8, device="cpu", low=-1, high=2, exclude_zero=True)
        assert (z != 0).all()
        with pytest.raises(ValueError, match="`low` must be less than `high`"):
            m.testing.make_tensor(2, dtype=m.int64, device="cpu", low=3, high=1)
