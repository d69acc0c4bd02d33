"""torch.repeat_interleave / Tensor.repeat_interleave beyond the registry (tests/opdb/movement.py): tensor
repeats, the one-argument form, output_size, gradients over empty groups, and PyTorch's errors."""
import numpy as np
import pytest

import tapegrad as tg
from torch_errors import assert_raises_like_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- without torch
def test_exported_from_namespace():
    import tapegrad._ops.movement as movement

    assert "repeat_interleave" in movement.__all__
    assert tg.repeat_interleave is movement.repeat_interleave
    assert hasattr(tg.Tensor, "repeat_interleave")


def test_values():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert tg.repeat_interleave(x, 2).tolist() == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]
    assert x.repeat_interleave(2, dim=1).tolist() == [[1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0]]
    assert x.repeat_interleave(tg.tensor([1, 2]), dim=0).tolist() == [[1.0, 2.0], [3.0, 4.0], [3.0, 4.0]]
    assert x.repeat_interleave(tg.tensor([0, 3]), -1).tolist() == [[2.0, 2.0, 2.0], [4.0, 4.0, 4.0]]
    assert tg.repeat_interleave(tg.tensor(5), 3).tolist() == [5, 5, 5]


def test_one_argument_form_gives_indices():
    r = tg.repeat_interleave(tg.tensor([1, 0, 3]))
    assert r.dtype == tg.int64 and r.tolist() == [0, 2, 2, 2]
    r = tg.repeat_interleave(tg.tensor([2, 1], dtype=tg.int32))
    assert r.dtype == tg.int32 and r.tolist() == [0, 0, 1]
    assert tg.repeat_interleave(repeats=tg.tensor([2])).tolist() == [0, 0]
    assert tg.repeat_interleave(tg.tensor([], dtype=tg.int64)).shape == (0,)
    assert tg.repeat_interleave(tg.tensor([1, 2]), output_size=3).tolist() == [0, 1, 1]


def test_gradient_sums_each_group_and_zero_for_empty_groups():
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x.repeat_interleave(tg.tensor([0, 3, 2]), dim=1)
    assert y.shape == (2, 5)
    (y * tg.arange(10.0).reshape(2, 5)).sum().backward()
    assert x.grad.tolist() == [[0.0, 0 + 1 + 2, 3 + 4], [0.0, 5 + 6 + 7, 8 + 9]]
    x.grad = None
    x.repeat_interleave(0, dim=0).sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2


def test_double_backward():
    x = tg.randn(2, 3, dtype=tg.float64, requires_grad=True)
    reps = tg.tensor([2, 0, 1])
    assert tg.autograd.gradgradcheck(lambda a: a.repeat_interleave(reps, dim=1), (x,))
    assert tg.autograd.gradgradcheck(lambda a: tg.repeat_interleave(a, 3), (x,))


# ---------------------------------------------------------------- against torch
def _both(fn, torch, requires_grad=False):
    """fn(m, x) for tapegrad and torch on the same input; outputs and input gradients as arrays."""
    x = np.random.default_rng(0).standard_normal((3, 4))
    out = []
    for m in (tg, torch):
        xt = m.tensor(x, requires_grad=requires_grad)
        y = fn(m, xt)
        grad = None
        if requires_grad:
            (y * m.tensor(np.arange(y.numel(), dtype=np.float64).reshape(tuple(y.shape)))).sum().backward()
            grad = xt.grad.numpy()
        out.append((y.detach().numpy(), str(y.dtype).replace("torch.", ""), grad))
    return out


@pytest.mark.parametrize("case", [
    lambda m, x: m.repeat_interleave(x, m.tensor([2, 0, 1]), dim=0),
    lambda m, x: m.repeat_interleave(x, m.tensor([1, 0, 0, 4]), dim=-1),
    lambda m, x: m.repeat_interleave(x, m.tensor([3]), dim=1),
    lambda m, x: m.repeat_interleave(x, m.tensor(2)),
    lambda m, x: m.repeat_interleave(x, m.tensor([0] * 12)),
    lambda m, x: m.repeat_interleave(x, m.tensor([1, 2, 3], dtype=m.int32), dim=0, output_size=6),
    lambda m, x: x.t().repeat_interleave(m.tensor([1, 0, 2, 1]), 0),
    lambda m, x: x[:, ::2].repeat_interleave(2, dim=1, output_size=4),
])
def test_matches_torch_with_gradients(case, torch):
    (a, adt, ga), (b, bdt, gb) = _both(case, torch, requires_grad=True)
    assert adt == bdt and a.shape == b.shape
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(ga, gb)


@pytest.mark.parametrize("reps,kw", [([1, 2, 3], {}), ([0, 0, 4], {}), ([5], {}), ([], {}), ([2, 0, 1], {"output_size": 3})])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_one_argument_form_matches_torch(reps, kw, dtype, torch):
    a = tg.repeat_interleave(tg.tensor(reps, dtype=getattr(tg, dtype)), **kw)
    b = torch.repeat_interleave(torch.tensor(reps, dtype=getattr(torch, dtype)), **kw)
    assert str(a.dtype) == str(b.dtype) and a.tolist() == b.tolist()


ERRORS = {
    "negative_int": lambda m: m.ones(2, 3).repeat_interleave(-1),
    "negative_int_dim": lambda m: m.repeat_interleave(m.ones(2, 3), -2, dim=1),
    "negative_tensor": lambda m: m.ones(2, 3).repeat_interleave(m.tensor([1, -1, 2]), dim=1),
    "negative_single": lambda m: m.repeat_interleave(m.tensor([2, -1])),
    "length_mismatch": lambda m: m.ones(2, 3).repeat_interleave(m.tensor([1, 2]), dim=1),
    "length_mismatch_flat": lambda m: m.repeat_interleave(m.ones(2, 3), m.tensor([1, 2, 3])),
    "length_mismatch_neg_dim": lambda m: m.ones(2, 3).repeat_interleave(m.tensor([1, 2]), dim=-1),
    "repeats_2d": lambda m: m.ones(2, 3).repeat_interleave(m.tensor([[1, 2]]), dim=0),
    "single_2d": lambda m: m.repeat_interleave(m.tensor([[1, 2]])),
    "single_0d": lambda m: m.repeat_interleave(m.tensor(3)),
    "float_repeats": lambda m: m.ones(2, 3).repeat_interleave(m.tensor([1.0, 2.0]), dim=0),
    "float_repeats_scalar": lambda m: m.ones(2, 3).repeat_interleave(m.tensor(2.0)),
    "int16_repeats": lambda m: m.ones(2, 3).repeat_interleave(m.tensor([1, 2], dtype=m.int16), dim=0),
    "bool_repeats": lambda m: m.ones(2, 3).repeat_interleave(m.tensor([True, False]), dim=0),
    "float_single": lambda m: m.repeat_interleave(m.ones(3)),
    "dim_range": lambda m: m.ones(2, 3).repeat_interleave(2, dim=2),
    "dim_range_neg": lambda m: m.repeat_interleave(m.ones(2, 3), 2, dim=-3),
    "dim_range_tensor": lambda m: m.ones(2, 3).repeat_interleave(m.tensor([1, 2]), dim=5),
    "dim_0d_int": lambda m: m.repeat_interleave(m.tensor(1.0), 2, dim=0),
    "dim_0d_tensor": lambda m: m.repeat_interleave(m.tensor(1.0), m.tensor([2]), dim=0),
    "output_size_int": lambda m: m.ones(2, 3).repeat_interleave(2, dim=1, output_size=5),
    "output_size_tensor": lambda m: m.ones(2, 3).repeat_interleave(m.tensor([1, 2, 0]), dim=1, output_size=4),
    "output_size_negative": lambda m: m.repeat_interleave(m.tensor([1, 2]), output_size=-1),
    "output_size_single": lambda m: m.repeat_interleave(m.tensor([1, 2]), output_size=4),
    "float_int_repeats": lambda m: m.repeat_interleave(m.ones(2, 3), 2.0),
    "bool_int_repeats": lambda m: m.repeat_interleave(m.ones(2, 3), True),
    "none_repeats": lambda m: m.repeat_interleave(m.ones(2, 3), None),
    "list_repeats": lambda m: m.repeat_interleave(m.ones(2, 3), [1, 2], dim=0),
    "float_dim": lambda m: m.ones(2, 3).repeat_interleave(2, dim=1.0),
    "method_no_repeats": lambda m: m.ones(2, 3).repeat_interleave(),
    "single_with_dim": lambda m: m.repeat_interleave(m.tensor([1, 2]), dim=0),
    "no_arguments": lambda m: m.repeat_interleave(),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_matches_torch(name, torch):
    want, got = assert_raises_like_torch(ERRORS[name], torch, tg, name)
    if type(want) is RuntimeError or type(want) is IndexError:
        assert "repeat_interleave" in str(got)  # tapegrad's message names the operator
