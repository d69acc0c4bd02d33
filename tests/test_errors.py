"""The common mistakes raise PyTorch's exception type with a message that names the operator and the shapes
or dtypes involved; nothing is silently broadcast that PyTorch rejects, and no raw NumPy error leaks out."""
import re

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def outcome(fn, m):
    try:
        fn(m)
    except Exception as e:  # noqa: BLE001 - compared below
        return type(e), str(e)
    return None, None


def check(fn, must_contain=(), torch_text=True):
    """Same exception type as torch; tapegrad's message contains torch's (if torch_text) and each fragment."""
    t_type, t_msg = outcome(fn, torch)
    g_type, g_msg = outcome(fn, tg)
    assert t_type is not None, "torch accepted this"
    assert g_type is t_type, f"torch raised {t_type.__name__}: {t_msg}\ntapegrad raised {g_type}: {g_msg}"
    assert not isinstance(g_msg, str) or "operands could not be broadcast" not in g_msg  # NumPy's wording
    if torch_text:
        assert t_msg in g_msg, f"torch: {t_msg}\ntapegrad: {g_msg}"
    for frag in must_contain:
        assert frag in g_msg, f"{frag!r} not in {g_msg!r}"
    return g_msg


# ---------------------------------------------------------------- broadcasting
BINARY = {
    "add": lambda m, a, b: a + b, "sub": lambda m, a, b: a - b, "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b, "pow": lambda m, a, b: a ** b, "eq": lambda m, a, b: a == b,
    "lt": lambda m, a, b: a < b, "maximum": lambda m, a, b: m.maximum(a, b), "where": lambda m, a, b: m.where(a > 0, a, b),
    "remainder": lambda m, a, b: a % b, "floor_divide": lambda m, a, b: a // b, "atan2": lambda m, a, b: m.atan2(a, b),
    "add_": lambda m, a, b: a.add_(b), "mul_": lambda m, a, b: a.mul_(b), "copy_": lambda m, a, b: a.copy_(b),
    "radd": lambda m, a, b: m.add(a, b, alpha=2),
}
SHAPES = [((2, 3), (2, 4)), ((3,), (4,)), ((5, 1, 3), (4, 2, 1)), ((2, 3), (3, 3)), ((4,), (2, 3))]


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("sa, sb", SHAPES)
def test_broadcasting_failure_message(op, sa, sb):
    fn = lambda m: BINARY[op](m, m.ones(*sa), m.ones(*sb))  # noqa: E731
    msg = check(fn, torch_text=not op.endswith("_"))
    assert re.search(r"The size of tensor a \(\d+\) must match the size of tensor b \(\d+\) at non-singleton "
                     r"dimension \d+", msg) or "doesn't match the broadcast shape" in msg
    if "must match" in msg:  # the operator and both shapes, as the issue asks
        assert str(list(sa)) in msg and str(list(sb)) in msg


def test_broadcasting_failure_exact_torch_example():
    msg = check(lambda m: m.ones(2, 3) + m.ones(2, 4))
    assert msg.startswith("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1")
    assert "add" in msg


def test_valid_broadcasts_still_work():
    for sa, sb in (((2, 3), (3,)), ((2, 1), (1, 4)), ((5, 1, 3), (4, 1)), ((), (2,))):
        g = (tg.ones(*sa) + tg.ones(*sb)).shape
        assert g == torch.broadcast_shapes(sa, sb)


def test_inplace_cannot_grow_the_output():
    msg = check(lambda m: m.ones(3).add_(m.ones(2, 3)), torch_text=False)
    assert "output with shape [3] doesn't match the broadcast shape [2, 3]" in msg


# ---------------------------------------------------------------- matmul and friends
@pytest.mark.parametrize("fn, frags", [
    (lambda m: m.ones(2, 3) @ m.ones(2, 4), ["(2, 3)", "(2, 4)"]),
    (lambda m: m.mm(m.ones(2, 3), m.ones(2, 3)), ["2x3 and 2x3"]),
    (lambda m: m.matmul(m.ones(5, 2, 3), m.ones(4, 5)), []),
    (lambda m: m.ones(3) @ m.ones(4), []),
    (lambda m: m.matmul(m.ones(2, 3), m.ones(3, 2, dtype=m.float64)), ["float32", "float64"]),
])
def test_matmul_mistakes(fn, frags):
    msg = check(fn, torch_text=False)
    low = msg.lower()
    for f in frags:
        assert f.lower() in low, msg


def test_matmul_message_names_operator_and_shapes():
    msg = check(lambda m: m.ones(2, 3) @ m.ones(2, 4), torch_text=False)
    assert "cannot be multiplied" in msg and re.match(r"(matmul|mm)\b", msg)


# ---------------------------------------------------------------- views and shapes
@pytest.mark.parametrize("fn", [
    lambda m: m.ones(2, 3, 4).transpose(0, 1).view(-1),
    lambda m: m.ones(3, 4).t().view(12),
])
def test_view_of_non_contiguous(fn):
    msg = check(fn)
    assert "Use .reshape(...) instead" in msg
    # and reshape is the way out
    assert tg.ones(3, 4).t().reshape(12).shape == (12,)


@pytest.mark.parametrize("fn", [
    lambda m: m.ones(6).view(4, 2), lambda m: m.ones(2, 3).reshape(4, 2), lambda m: m.ones(6).view(-1, -1),
    lambda m: m.ones(2, 3).expand(3, 3), lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)]),
    lambda m: m.stack([m.ones(2), m.ones(3)]), lambda m: m.ones(3, 4).sum(2), lambda m: m.ones(3, 4).transpose(0, 2),
    lambda m: m.ones(3, 4)[5], lambda m: m.ones(3, 4)[:, 9], lambda m: m.ones(3, 4).squeeze(3),
    lambda m: m.ones(3, 4).permute(0, 0), lambda m: m.ones(3, 4).unsqueeze(4), lambda m: m.ones(3).softmax(1),
])
def test_shape_mistakes_match_torch(fn):
    check(fn, torch_text=False)


# ---------------------------------------------------------------- dtypes and arguments
@pytest.mark.parametrize("fn", [
    lambda m: m.ones(2, dtype=m.int64).requires_grad_(),
    lambda m: m.tensor([1, 2], requires_grad=True),
    lambda m: m.ones(2, dtype=m.bool) - m.ones(2, dtype=m.bool),
    lambda m: -m.ones(2, dtype=m.bool),
    lambda m: m.tensor([1, 2]) ** -1,
    lambda m: m.tensor([1, 2]).add_(1.5),
    lambda m: m.ones(2).item(),
    lambda m: m.multinomial(m.tensor([0.2, 0.8]), 3),
    lambda m: m.randint(5, 5, (2,)),
    lambda m: m.zeros(2, dtype=m.int64).normal_(),
    lambda m: m.arange(0, 10, -1),
    lambda m: m.where(m.ones(2), m.ones(2), m.zeros(2)),
])
def test_dtype_and_argument_mistakes(fn):
    check(fn)


@pytest.mark.parametrize("fn", [
    lambda m: m.ones(2) + "a", lambda m: m.ones(2) + [1, 2], lambda m: m.zeros(2.5), lambda m: m.Size([2.5]),
    lambda m: m.tensor([[1, 2], 3]), lambda m: m.from_numpy([1, 2]), lambda m: m.exp([1.0]),
])
def test_type_errors(fn):
    check(fn, torch_text=False)


def test_ragged_data_message_is_torchs():
    check(lambda m: m.tensor([[1, 2], [3]]))


# ---------------------------------------------------------------- autograd mistakes
def test_in_place_on_leaf():
    msg = check(lambda m: m.ones(2, requires_grad=True).add_(1))
    assert "leaf Variable that requires grad" in msg


def test_in_place_on_a_tensor_saved_for_backward():
    def f(m):
        x = m.tensor([1., 2.], requires_grad=True)
        y = x.sigmoid()
        y.mul_(2)
        y.sum().backward()
    msg = check(f, torch_text=False)
    assert msg.startswith("one of the variables needed for gradient computation has been modified by an inplace "
                          "operation: [torch.FloatTensor [2]]")
    assert "is at version 1; expected version 0 instead" in msg


def test_backward_twice():
    def f(m):
        x = m.tensor([1., 2.], requires_grad=True)
        loss = (x * x).sum()
        loss.backward()
        loss.backward()
    msg = check(f)
    assert "Specify retain_graph=True" in msg


@pytest.mark.parametrize("fn", [
    lambda m: (m.ones(2, requires_grad=True) * 2).backward(),
    lambda m: m.ones(2).sum().backward(),
    lambda m: m.ones(2, requires_grad=True).numpy(),
    lambda m: m.autograd.grad((m.ones(2, requires_grad=True) * 2).sum(), m.ones(2)),
])
def test_other_autograd_mistakes(fn):
    check(fn)


def test_no_numpy_error_types_leak():
    # exceptions NumPy would raise (ValueError, AxisError, OverflowError) come out as PyTorch's types
    for fn in (lambda m: m.ones(2, 3) * m.ones(3, 2), lambda m: m.ones(2, 3).sum(5),
               lambda m: m.tensor([1], dtype=m.uint8) + 1000, lambda m: m.ones(2, 3).mean((0, 7))):
        t_type, _ = outcome(fn, torch)
        g_type, g_msg = outcome(fn, tg)
        assert g_type is t_type, (fn, t_type, g_type, g_msg)
        assert g_type is None or not issubclass(g_type, np.exceptions.AxisError)
