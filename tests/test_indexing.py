"""Indexing beyond the registry: __setitem__ inside a graph, in-place index ops, views, and PyTorch's errors."""
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _pair(arr, requires_grad=False):
    a, b = tg.tensor(arr, requires_grad=requires_grad), torch.tensor(arr, requires_grad=requires_grad)
    return a, b


def _close(a, b, **kw):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-7, **kw)


def _same_error(fn_tg, fn_torch, exc_type):
    """Both frameworks raise `exc_type` with the same message."""
    with pytest.raises(exc_type) as e_torch, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn_torch()
    with pytest.raises(exc_type) as e_tg:
        fn_tg()
    assert str(e_tg.value) == str(e_torch.value)


def test_setitem_in_graph_gradients():
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(s) for s in [(5, 3), (2, 3), (3,), (4, 3)]]
    mask = np.array([True, False, False, True, False])

    def run(m):
        a, b, c, w = [m.tensor(x, requires_grad=True) for x in arrs[:3]] + [m.tensor(arrs[3])]
        x = a * 1
        x[1:3] = b
        x[m.tensor(mask)] = 0
        x[m.tensor([4, 0])] = c * 2  # broadcast over the indexed rows
        x[-1, 1] = c[0]
        y = (x * x).sum() + x[:, 0].sum()
        y.backward()
        return x, a.grad, b.grad, c.grad

    for t, p in zip(run(tg), run(torch)):
        _close(t, p)


def test_setitem_on_view_and_accumulated_values():
    rng = np.random.default_rng(1)
    base, val = rng.standard_normal((3, 4)), rng.standard_normal(())

    def run(m):
        a, v = m.tensor(base, requires_grad=True), m.tensor(val, requires_grad=True)
        x = a * 2
        row = x[1]  # a view: writing into it changes x
        row[2:] = v
        x[m.tensor([0, 0, 2])] += 1.0  # getitem then setitem: a repeated index is written once
        (x.sin() * m.arange(12.0, dtype=m.float64).reshape(3, 4)).sum().backward()
        return x, a.grad, v.grad

    for t, p in zip(run(tg), run(torch)):
        _close(t, p)


def test_setitem_without_grad_writes_in_place_and_bumps_version():
    a, b = _pair(np.zeros((3, 4)))
    view_a, view_b = a[1], b[1]
    va = a._version
    for x in (a, b):
        x[1, 1:3] = 5.0
        x[x > 4] = 7.0
        x[[0, 2], [3, 3]] = -1.0
    _close(a, b)
    _close(view_a, view_b)
    assert a._version > va


def test_setitem_dtype_cast_and_list_value():
    a, b = _pair(np.zeros((2, 3), dtype=np.float32))
    for x, m in ((a, tg), (b, torch)):
        x[0] = m.tensor([1, 2, 3])  # int64 value into float32
        x[1] = np.float64(4.5)
    _close(a, b)
    assert a.dtype == tg.float32


def test_setitem_on_leaf_requiring_grad_raises_torch_errors():
    for index in (slice(1, 3), 0):
        _same_error(lambda: tg.zeros(4, requires_grad=True).__setitem__(index, 1.0),
                    lambda: torch.zeros(4, requires_grad=True).__setitem__(index, 1.0), RuntimeError)
    _same_error(lambda: tg.zeros(4, requires_grad=True).__setitem__(tg.tensor([0]), 1.0),
                lambda: torch.zeros(4, requires_grad=True).__setitem__(torch.tensor([0]), 1.0), RuntimeError)
    a = tg.zeros(4, requires_grad=True)
    with tg.no_grad():
        a[1] = 3.0  # allowed without grad mode, as in PyTorch
    assert a.tolist() == [0.0, 3.0, 0.0, 0.0] and a.requires_grad


@pytest.mark.parametrize("index", [
    lambda m: 5, lambda m: -4, lambda m: (0, 9), lambda m: (slice(None), 7), lambda m: (0, slice(None), 9),
    lambda m: (Ellipsis, 9), lambda m: (None, 4), lambda m: m.tensor([0, 5]),
    lambda m: (slice(None), m.tensor([0, -7])),
    lambda m: ([0, 1], [7]), lambda m: m.tensor(5), lambda m: m.tensor([[0, 1], [2, 3]]),
    lambda m: (m.tensor([0]), m.tensor([9])), lambda m: (slice(None), slice(None), m.tensor([9])),
    lambda m: (1, 2, 3, 4), lambda m: m.ones(3, 5, dtype=m.bool), lambda m: (slice(None), m.ones(4, 6, dtype=m.bool)),
    lambda m: ([0, 1], [0, 1, 2]), lambda m: m.tensor([0.0]), lambda m: 0.5, lambda m: (0, m.tensor(1.5)),
])
def test_index_errors_match_torch(index):
    x_tg, x_torch = tg.zeros(3, 4, 5), torch.zeros(3, 4, 5)
    _same_error(lambda: x_tg[index(tg)], lambda: x_torch[index(torch)], IndexError)
    _same_error(lambda: x_tg.__setitem__(index(tg), 1.0), lambda: x_torch.__setitem__(index(torch), 1.0), IndexError)


def test_index_out_of_bounds_message():
    with pytest.raises(IndexError, match=r"^index 5 is out of bounds for dimension 0 with size 3$"):
        tg.zeros(3)[5]
    with pytest.raises(IndexError, match=r"^index 5 is out of bounds for dimension 0 with size 3$"):
        tg.zeros(3)[tg.tensor([1, 5])]


def test_negative_step_and_value_shape_errors():
    with pytest.raises(ValueError, match="step must be greater than zero"):
        tg.zeros(3)[::-1]
    _same_error(lambda: tg.zeros(3).__setitem__(tg.tensor([0, 1]), tg.ones(3)),
                lambda: torch.zeros(3).__setitem__(torch.tensor([0, 1]), torch.ones(3)), RuntimeError)
    _same_error(lambda: tg.zeros(3).__setitem__(slice(0, 2), tg.ones(3)),
                lambda: torch.zeros(3).__setitem__(slice(0, 2), torch.ones(3)), RuntimeError)


def test_basic_index_is_a_view_advanced_is_a_copy():
    x = tg.zeros(3, 4)
    v, c = x[1, 1:], x[tg.tensor([1])]
    x[1, 2] = 9.0
    assert v[1].item() == 9.0 and c[0, 2].item() == 0.0
    v[0] = 4.0
    assert x[1, 1].item() == 4.0
    assert v._version == x._version


def test_index_placement_differs_from_numpy_like_torch():
    x = tg.arange(60).reshape(3, 4, 5)
    assert tuple(x[0, :, tg.tensor([0, 2])].shape) == (4, 2)  # NumPy would give (2, 4)
    assert tuple(x[tg.tensor([0, 2]), 1, tg.tensor([0, 2])].shape) == (2,)
    assert tuple(x[True].shape) == (1, 3, 4, 5) and tuple(x[False].shape) == (0, 3, 4, 5)


def test_inplace_index_ops_match_torch():
    rng = np.random.default_rng(2)
    base, src = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    mask = rng.random((3, 4)) > 0.5

    def run(m):
        s = m.tensor(src, requires_grad=True)
        x = m.tensor(base, requires_grad=True) * 1
        x.index_put_((m.tensor([0, 0]), m.tensor([1, 1])), s[0, :2], accumulate=True)
        x.masked_fill_(m.tensor(mask), 0.25)
        x.scatter_(1, m.tensor([[3], [0], [1]]), s[:, :1])
        x.index_add_(0, m.tensor([2, 2]), s[:2])
        x.scatter_add_(0, m.tensor([[0, 1, 1, 2]]), s[:1])
        x.index_fill_(1, m.tensor([2]), -1.0)
        x.index_copy_(0, m.tensor([1]), s[2:])
        x.masked_scatter_(m.tensor(mask), s * 3)
        (x ** 2).sum().backward()
        return x, s.grad

    for t, p in zip(run(tg), run(torch)):
        _close(t, p)


def test_nonzero_0d_and_empty():
    for v in (0.0, 2.0):
        a, b = _pair(np.array(v))
        assert tuple(tg.nonzero(a).shape) == tuple(torch.nonzero(b).shape)
        assert [t.tolist() for t in tg.nonzero(a, as_tuple=True)] == [t.tolist() for t in
                                                                     torch.nonzero(b, as_tuple=True)]
    assert tg.nonzero(tg.zeros(0, 3)).shape == (0, 2)
    assert tg.nonzero(tg.tensor([0, 1, 1])).dtype == tg.int64


def test_gather_scatter_errors():
    x = tg.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match=r"gather\(\): index 5 is out of bounds for dimension 1 with size 3"):
        x.gather(1, tg.tensor([[0, 5]]))
    with pytest.raises(RuntimeError, match="int32/int64"):
        x.gather(1, tg.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.scatter(1, tg.tensor([[0, 5]]), 1.0)
    with pytest.raises(IndexError, match="out of bounds"):
        x.index_select(1, tg.tensor([0, 5]))
    with pytest.raises(IndexError, match="tried to access index 7 on a tensor of 6 elements"):
        tg.take(x, tg.tensor([7]))
    with pytest.raises(RuntimeError, match="only supports boolean masks"):
        x.masked_fill(tg.tensor([1, 0, 1]), 0.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        x.masked_fill(x > 1, tg.ones(3))


def test_double_backward_through_indexing():
    rng = np.random.default_rng(3)
    arr = rng.standard_normal((4, 3))

    def run(m):
        x = m.tensor(arr, requires_grad=True)
        y = (x[m.tensor([0, 0, 3])] ** 3).sum() + (x[:, 1:] ** 3).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (g[m.tensor([0, 2])] ** 2).sum().backward()
        return g, x.grad

    for t, p in zip(run(tg), run(torch)):
        _close(t, p)


def test_writing_steps_into_a_preallocated_buffer():
    rng = np.random.default_rng(4)
    w0, h0 = rng.standard_normal((3, 3)), rng.standard_normal((2, 3))

    def run(m):
        w, h = m.tensor(w0, requires_grad=True), m.tensor(h0)
        out = m.zeros(4, 2, 3, dtype=m.float64)  # does not require grad until written
        for t in range(4):
            h = (h @ w).tanh()
            out[t] = h
        out[1:3, :, 0] = out[0, :, 1:2] * 2  # overlapping read and write of the same buffer
        (out ** 2).sum().backward()
        return out, w.grad

    for t, p in zip(run(tg), run(torch)):
        _close(t, p)
