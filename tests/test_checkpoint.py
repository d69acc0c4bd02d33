"""torch.utils.checkpoint: gradients equal to the un-checkpointed ones (parameters inside included), the
recomputation under the forward's random state (dropout), and PyTorch's warnings and errors."""
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.utils.checkpoint import checkpoint, checkpoint_sequential

torch = pytest.importorskip("torch")


def _model(m, seed):
    m.manual_seed(seed)
    return m.nn.Sequential(m.nn.Linear(4, 8), m.nn.Tanh(), m.nn.Linear(8, 8), m.nn.ReLU(), m.nn.Linear(8, 3))


def _grads(model, x, out):
    out.pow(2).sum().backward()
    return [p.grad.numpy().copy() for p in model.parameters()] + ([x.grad.numpy().copy()] if x.grad is not None else [])


@pytest.mark.parametrize("reentrant", [True, False])
@pytest.mark.parametrize("input_grad", [True, False])
def test_gradients_equal_plain_backward(reentrant, input_grad):
    x0 = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    model = _model(tg, 1)
    x = tg.tensor(x0, requires_grad=input_grad)
    plain = _grads(model, x, model(x))
    model.zero_grad()
    x = tg.tensor(x0, requires_grad=input_grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = checkpoint(model, x, use_reentrant=reentrant)
    if reentrant and not input_grad:  # PyTorch's reentrant variant: no input needs grad, no gradients
        assert not out.requires_grad
        return
    for a, b in zip(_grads(model, x, out), plain):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_dropout_inside_draws_the_same_mask_in_the_recomputation():
    lin = tg.nn.Linear(6, 6)
    drop = tg.nn.Dropout(0.5)
    x = tg.randn(4, 6, requires_grad=True)

    def segment(t):
        return drop(lin(t)).tanh()

    tg.manual_seed(3)
    plain = segment(x)
    plain.sum().backward()
    want = x.grad.numpy().copy()
    x.grad = None
    tg.manual_seed(3)
    out = checkpoint(segment, x, use_reentrant=False)
    np.testing.assert_array_equal(out.detach().numpy(), plain.detach().numpy())
    after_forward = tg.rand(1).item()  # the caller's random stream goes on as without checkpointing
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-6)
    tg.manual_seed(3)
    segment(x)
    assert tg.rand(1).item() == after_forward


def test_checkpoint_sequential_matches_torch():
    x0 = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    got = []
    for m in (torch, tg):
        model = _model(m, 0)
        for p in model.parameters():  # the same weights in both
            p.data = m.tensor(np.random.default_rng(p.numel()).standard_normal(tuple(p.shape)).astype(np.float32))
        x = m.tensor(x0, requires_grad=True)
        out = checkpoint_sequential(model, 2, x, use_reentrant=False) if m is tg else \
            torch.utils.checkpoint.checkpoint_sequential(model, 2, x, use_reentrant=False)
        got.append([out.detach().numpy().copy()] + _grads(model, x, out))
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_keyword_arguments_and_tuple_outputs():
    def f(a, b, *, scale):
        return a * scale, (a * b).sum(), (a > 0)

    got = []
    for m in (torch, tg):
        a = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        b = m.tensor([0.5, 0.5, 2.0], requires_grad=True)
        check = m.utils.checkpoint.checkpoint
        y, s, mask = check(f, a, b, scale=3.0, use_reentrant=False)
        (y.sum() + s).backward()
        got.append((a.grad.numpy().copy(), b.grad.numpy().copy(), mask.requires_grad, str(mask.dtype)))
        with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
            check(f, a, b, scale=3.0, use_reentrant=True)
    np.testing.assert_allclose(got[1][0], got[0][0])
    np.testing.assert_allclose(got[1][1], got[0][1])
    assert got[1][2:] == got[0][2:]


def test_warnings_like_torch():
    for m in (torch, tg):
        lin = m.nn.Linear(2, 2)
        with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
            m.utils.checkpoint.checkpoint(lin, m.ones(1, 2, requires_grad=True))
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
            m.utils.checkpoint.checkpoint(lin, m.ones(1, 2), use_reentrant=True)
