"""Operator edge cases against PyTorch: integer division by zero, operators PyTorch has no bool or float
kernel for, shifts, unique/unique_consecutive, legacy .type(), .to() argument parsing, torch.Size."""
import warnings

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

NAN = float("nan")
CASES = [
    "m.tensor([5, 3]) % 0", "m.tensor([5, 3]) % m.tensor([0, 2])", "m.tensor([5, 3]) // 0", "m.tensor([5, 3]).fmod(0)",
    "m.remainder(5, m.tensor([0]))", "m.div(m.tensor([5]), 0, rounding_mode='trunc')", "m.tensor([5., -3.]) % 0",
    "m.tensor([5, -3]) % 2", "m.tensor([True, False]) ** m.tensor([True, True])", "m.tensor([True, False]) ** 2",
    "m.tensor([True]).fmod(m.tensor([True]))", "m.tensor([True]) % m.tensor([True])",
    "m.tensor([True]) // m.tensor([True])", "m.div(m.tensor([True]), m.tensor([True]), rounding_mode='trunc')",
    "m.tensor([1., 2.]) & 1", "m.tensor([1], dtype=m.float64) | m.tensor([1], dtype=m.float64)", "m.tensor([1]) & 1.5",
    "m.tensor([1., 2.]) << 1", "m.tensor([1, 4]) << 1", "m.tensor([1, 4]) >> m.tensor([1, 2])", "1 << m.tensor([1, 2])",
    "2 >> m.tensor([1])", "m.tensor([-8, 8]) >> 70", "m.tensor([1, 3]) << 64", "m.tensor([1, 2], dtype=m.int8) << 7",
    "m.tensor([1]) << -1", "m.tensor([True]) << 1", "m.tensor([1, 2], dtype=m.uint8) >> 9",
    "m.bitwise_left_shift(m.tensor([3]), m.tensor([1], dtype=m.int32))", "m.bitwise_right_shift(m.tensor([-7]), 1)",
    "m.add(m.tensor([1, 2]), m.tensor([1, 2]), alpha=0.5)", "m.sub(m.tensor([1, 2]), 1, alpha=0.5)",
    "m.add(m.tensor([1., 2.]), m.tensor([1, 2]), alpha=0.5)", "m.tensor([True, False]).median()",
    "m.tensor([True, False]).median(0)", "m.Size([2, 3]) + [4]", "m.Size([2, 3]) + (4,)", "(4,) + m.Size([2])",
    "m.tensor([1.]).to('float64')", "m.tensor([1.]).to('cpu')", "m.tensor([1.]).to('cpu', m.float64)",
    "m.tensor([1.]).type(m.DoubleTensor)", "m.tensor([1.]).type('torch.IntTensor')", "m.tensor([1.]).type(m.int64)",
    "m.tensor([1., 2.], requires_grad=True).to(m.float32, copy=True).grad_fn.name()",
    "m.tensor([1., 2.], requires_grad=True).to(m.float64, copy=True).grad_fn.name()",
    "m.unique(m.tensor([NAN, 1., NAN]))", "m.unique(m.tensor([NAN, 1., NAN]), return_counts=True)",
    "m.unique(m.tensor([[3, 1], [2, 3]]), return_inverse=True)", "m.tensor([3, 1, 3, 2]).unique(sorted=False)",
    "m.unique(m.tensor([True, False, True]))", "m.unique(m.tensor([], dtype=m.int64), return_counts=True)",
    "m.unique(m.tensor(5))", "m.unique(m.tensor(5), return_inverse=True)",
    "m.unique(m.tensor([[1, 2], [1, 2], [0, 1]]), dim=0, return_inverse=True, return_counts=True)",
    "m.unique(m.tensor([[1, 2], [1, 2], [0, 1]]), dim=1, return_inverse=True, return_counts=True)",
    "m.unique_consecutive(m.tensor([1, 1, 2, 2, 3, 1]), return_counts=True, return_inverse=True)",
    "m.unique_consecutive(m.tensor([[1, 2], [1, 2], [3, 4]]), dim=0, return_inverse=True, return_counts=True)",
    "m.unique_consecutive(m.tensor([[1, 2], [1, 2], [0, 1]]), dim=1, return_counts=True)",
    "m.unique(m.tensor([1., 2., 1.], requires_grad=True)).grad_fn.name()",
    "m.unique(m.tensor([[1., 2.]], requires_grad=True), dim=0).sum().backward()",
    "m.unique(m.tensor([1., 2.], requires_grad=True)).sum().backward()",
    "m.unique_consecutive(m.tensor([1., 1.], requires_grad=True)).grad_fn.name()",
]


def _outcome(expr, m):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", str(eval(expr, {"m": m, "NAN": NAN}))
    except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
        return type(exc).__name__, str(exc).split("\n")[0]


@pytest.mark.parametrize("expr", CASES)
def test_like_torch(expr):
    want, got = _outcome(expr, torch), _outcome(expr, tg)
    assert got[0] == want[0], (want, got)
    assert got[1] == want[1] if want[0] == "ok" else want[1] in got[1], (want, got)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("call", [("lerp", 0.3), ("lerp", 0.7), ("lerp", "tensor"), ("addcmul", 0.37), ("addcmul", 1),
                                  ("addcdiv", 0.37), ("addcdiv", 1)])
def test_fused_pointwise_like_torch(call, dtype):
    """lerp/addcmul/addcdiv round as PyTorch's kernels do (one fused multiply-add): bit for bit in float32."""
    import numpy as np

    name, extra = call
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal((30, 20)).astype(dtype) for _ in range(3))
    w = rng.uniform(-0.2, 1.2, (30, 20)).astype(dtype)
    weights = rng.standard_normal((30, 20)).astype(dtype)
    out = []
    for m in (torch, tg):
        ts = [m.tensor(x, requires_grad=True) for x in (a, b, c, w)]
        if name == "lerp":
            y = m.lerp(ts[0], ts[1], ts[3] if extra == "tensor" else extra)
        else:
            y = getattr(m, name)(ts[0], ts[1], ts[2], value=extra)
        (y * m.tensor(weights)).sum().backward()
        out.append((y.detach().numpy(), y.grad_fn.name(), [t.grad.numpy() if t.grad is not None else None for t in ts]))
    (want, want_name, want_g), (got, got_name, got_g) = out
    assert got_name == want_name
    if dtype == "float32":
        np.testing.assert_array_equal(got, want)
    else:  # float64 rounds twice where PyTorch fuses: within an ulp
        np.testing.assert_allclose(got, want, rtol=4e-16, atol=4e-16)
    for g, t in zip(got_g, want_g):
        assert (g is None) == (t is None)
        if t is not None:
            np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("expr", ["m.ones(5, 5).expand(2, 2)", "m.ones(3, 1).expand(-1, 2, 4)",
                                  "m.ones(3, 1).expand(2, 3, 4)", "m.ones(2, 3).expand(4, 2, 2)"])
def test_expand_reports_the_dimension_torch_does(expr):
    want, got = _outcome(expr, torch), _outcome(expr, tg)
    assert got[0] == want[0] and want[1] in got[1], (want, got)
