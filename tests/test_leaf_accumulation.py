"""How gradients reach leaves: summed before hooks, never aliased, accumulated like PyTorch's AccumulateGrad."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import engine as _engine

torch = pytest.importorskip("torch")


def _both(fn):
    return fn(torch), fn(tg)


def test_leaf_hook_runs_once_on_the_summed_gradient():
    def run(m):
        seen = []
        a = m.ones(2, requires_grad=True)
        b = m.ones(2) * 3
        a.register_hook(lambda g: seen.append(g.tolist()))
        ((a * b) + a).sum().backward()
        return seen

    t, g = _both(run)
    assert g == t == [[4.0, 4.0]]


def test_hook_result_replaces_the_leaf_gradient_once():
    def run(m):
        a = m.ones(3, requires_grad=True)
        a.register_hook(lambda g: g * 10)
        (a * 2 + a * 3).sum().backward()
        return a.grad.tolist()

    t, g = _both(run)
    assert g == t == [50.0] * 3


def test_grad_does_not_alias_the_gradient_passed_to_backward():
    def run(m):
        a = m.ones(2, requires_grad=True)
        b = m.ones(2, requires_grad=True)
        G = m.tensor([1.0, 2.0])
        (a + b).backward(G)
        G.mul_(10)
        a.grad.mul_(3)
        return a.grad.tolist(), b.grad.tolist(), G.tolist()

    t, g = _both(run)
    assert g == t


@pytest.mark.parametrize("order", [0, 1])
def test_gradient_shared_with_a_pending_node_is_not_modified(order):
    # Add's backward hands the same gradient to a leaf and to a node that runs later; accumulating into
    # the leaf in place must not change what that node receives.
    def run(m):
        a = m.ones(2, requires_grad=True)
        if order:
            c, d = a * 2, a * 3
        else:
            d, c = a * 3, a * 2
        z = (a + c) + d
        (z * 1.0).sum().backward()
        return a.grad.tolist()

    t, g = _both(run)
    assert g == t == [6.0, 6.0]


def test_accumulation_across_backward_calls_keeps_the_grad_tensor():
    a = tg.randn(3, requires_grad=True)
    (a * 2).sum().backward()
    first = a.grad
    (a * 3).sum().backward()
    assert a.grad is first  # accumulated in place, as PyTorch does when nothing else holds the gradient
    np.testing.assert_allclose(a.grad.numpy(), np.full(3, 5.0))


def test_two_leaves_fed_by_one_gradient_do_not_share_memory():
    a = tg.zeros(2, requires_grad=True)
    b = tg.zeros(2, requires_grad=True)
    (a + b).sum().backward()
    a.grad.add_(1)
    assert b.grad.tolist() == [1.0, 1.0]


def test_post_accumulate_hook_sees_the_full_gradient_during_backward():
    def run(m):
        seen = []
        w = m.ones(2, requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
        x = w * 2
        (x * w + w).sum().backward()
        return seen, w.grad.tolist()

    t, g = _both(run)
    assert g == t


@pytest.mark.skipif(not _engine._STEALS,
                    reason="this interpreter's reference counts are not the ones the steal counts")
def test_fresh_gradients_become_grad_without_a_copy():
    # a copy per leaf per step costs as much as a product at these sizes (bench_matmul); .grad should take
    # the array the backward formula made whenever nothing else holds it
    import tracemalloc

    a = tg.randn(128, 128, requires_grad=True)
    b = tg.randn(128, 128, requires_grad=True)
    (a @ b).sum().backward()
    a.grad = b.grad = None
    tracemalloc.start()
    try:
        (a @ b).backward(tg.ones(128, 128))
        snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, _engine.__file__)])
    finally:
        tracemalloc.stop()
    copied = sum(s.size for s in snap.statistics("filename"))
    assert copied < 128 * 128 * 4, f"the engine copied {copied} bytes of gradients"
    assert a.grad is not None and b.grad is not None


def test_accumulating_into_an_expanded_grad_raises_like_torch():
    """.grad set to an expanded view: PyTorch's in-place accumulation refuses it, and so does tapegrad's."""
    def run(m):
        x = m.ones(2, requires_grad=True)
        x.grad = m.ones(1).expand(2)
        (x * 2).sum().backward()

    with pytest.raises(RuntimeError) as want:
        run(torch)
    with pytest.raises(RuntimeError) as got:
        run(tg)
    assert str(want.value).split("\n")[0] == str(got.value)
