"""Differential audit of views, movement, indexing and in-place operations against PyTorch: each case runs the
same expression under torch and tapegrad and compares values, dtypes, shapes, gradients, or the error raised."""
import warnings

import numpy as np
import pytest

import tapegrad as tg

from torch_errors import assert_raises_like_torch

torch = pytest.importorskip("torch")


def _np(v):
    return v.detach().numpy().copy() if isinstance(v, (tg.Tensor, torch.Tensor)) else np.asarray(v)


def _run(m, fn, arrays, seed=3):
    ins = [m.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(m, *ins)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    rng, loss = np.random.default_rng(seed), None
    for o in outs:
        if isinstance(o, (tg.Tensor, torch.Tensor)) and o.requires_grad:
            term = (o * m.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype)).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    vals = [(_np(o), str(o.dtype).split(".")[-1]) if isinstance(o, (tg.Tensor, torch.Tensor)) else (o, None)
            for o in outs]
    return vals, [None if i.grad is None else _np(i.grad) for i in ins if i.requires_grad]


def same(fn, *arrays):
    """fn(module, *tensors) agrees under torch and tapegrad: values, dtypes, shapes and input gradients."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _run(torch, fn, arrays)
    got = _run(tg, fn, arrays)
    for (g, gd), (w, wd) in zip(got[0], want[0]):
        assert gd == wd
        if wd is None:
            assert g == w
        else:
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
    assert len(got[1]) == len(want[1])
    for g, w in zip(*[r[1] for r in (got, want)]):
        assert (g is None) == (w is None)
        if w is not None:
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def raises(case, label=""):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_raises_like_torch(case, torch, tg, label)


def _a(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def L(m, a):
    return m.tensor(np.asarray(a, dtype=np.int64))


X = _a(3, 4)


# ---------------------------------------------------------------- movement
@pytest.mark.parametrize("case", [
    lambda m: m.zeros(2, 3, 4).view(-2, 12),              # invalid dimension: where, and in which shape
    lambda m: m.zeros(0, 3).view(-1, 0),                  # an inferred size over 0 elements is ambiguous
    lambda m: m.zeros(0, 3).reshape(0, -1),
    lambda m: m.zeros(2, 3, 4).unflatten(-1, (3, 2)),     # the wrapped dim in the message
    lambda m: m.zeros(2, 3, 4).unflatten(-1, (-1, -1)),
    lambda m: m.zeros(0, 4).unflatten(0, (0, -1)),
    lambda m: m.zeros(3, 2).expand(2, -1, 3, 2),          # -1 in a new leading dimension, named by its index
    lambda m: m.zeros(3).repeat(),
    lambda m: m.stack([]),
    lambda m: m.zeros(3).adjoint(),
    lambda m: m.zeros(3).mH,
    lambda m: m.zeros(2, 3, 4).H,
])
def test_movement_errors(case):
    raises(case)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.cat([x, x.new_zeros(0)]),              # the skipped legacy empty tensor still gets a gradient
    lambda m, x: m.cat([x.new_zeros(0), x, x.new_zeros(0)], 1),
    lambda m, x: m.concatenate([x, x], axis=1),
    lambda m, x: m.cat([x, x], axis=-1),
    lambda m, x: x.adjoint(),
    lambda m, x: x[None].mH,
    lambda m, x: x.unflatten(1, (-1, 2)),
    lambda m, x: x.float().view(0, -1) if x.numel() == 0 else x.view(2, -1),
])
def test_movement_values_and_grads(fn):
    same(fn, X)


def test_expand_to_same_shape_is_a_writable_view_with_gradient():
    def fn(m, x):
        y = x * 1
        y.expand(3, 4)[1].mul_(3)  # a view of y: the write shows in y and differentiates through
        return y

    same(fn, X)


# ---------------------------------------------------------------- indexing
@pytest.mark.parametrize("case", [
    lambda m: m.tensor(3.0)[0],
    lambda m: m.tensor(3.0)[1:],
    lambda m: m.tensor(3.0).__setitem__(0, 1.0),
    lambda m: m.zeros(3)[::0],
    lambda m: m.zeros(3, 4)[1, ::0],
    lambda m: m.zeros(3, 4)[[0], ::0],
    lambda m: m.zeros(3, 4)[[1, "a"]],
    lambda m: m.zeros(3, 4)["a"],
    lambda m: m.zeros(3, 4).__setitem__(slice(None), m.ones(2, 3, 4)),           # more dims than the target
    lambda m: m.zeros(3, 4).__setitem__((slice(None), 1), m.ones(4)),            # the mismatching dimension
    lambda m: m.zeros(3, 4).__setitem__(1, [1.0, 2.0, 3.0, 4.0]),
    lambda m: m.zeros(3, 4).__setitem__(L(m, [0]), m.ones(4, dtype=m.float64)),  # index_put_ wants one dtype
    lambda m: m.zeros(3, 4).__setitem__(L(m, [0]), m.ones((), dtype=m.int64)),
    lambda m: m.zeros(3, 4).__setitem__(m.tensor([True, False, True]), m.ones(2, 4, dtype=m.float64)),
    lambda m: m.zeros(3, 4).index_put_((L(m, [0]),), m.ones(4, dtype=m.float64)),
    lambda m: m.zeros(3, 4).index_put((L(m, [0]),), m.ones(4, dtype=m.float64)),
    lambda m: m.zeros(3, 4).index_put_((m.tensor([True, False, True]),), m.tensor(1.0, dtype=m.float64),
                                       accumulate=True),
    lambda m: m.zeros(3, 4).index_put_((None,), m.ones(4)),
    lambda m: m.zeros(3, 4).index_put_(L(m, [0]), m.ones(4)),
    lambda m: m.zeros(3, 4).index_put_((L(m, [0]),), 1.0),
    lambda m: (lambda y: y.__setitem__(slice(1, None), y[:-1]))(m.arange(6.0)),  # partial overlap
])
def test_index_errors(case):
    raises(case)


def test_index_float_list_and_uint8_mask():
    same(lambda m, x: x[[1.7, 0.0]], X)  # a list of floats is truncated to a long index
    same(lambda m, x: x[m.tensor([1, 0, 1], dtype=m.uint8)], X)  # a uint8 tensor is a mask, not an index


@pytest.mark.parametrize("fn", [
    # a value with extra leading 1-dims, written with gradient
    lambda m, x, v: (lambda y: (y.__setitem__(1, v), y)[1])(x * 1),
    lambda m, x, v: (lambda y: (y.__setitem__(L(m, [2, 0]), v.expand(1, 2, 4)), y)[1])(x * 1),
    # dtypes may differ where index_put_ becomes masked_fill_, or for a basic index (a copy)
    lambda m, x, v: (lambda y: (y.__setitem__(y > 0, v.sum().float()), y)[1])(x * 1),
    lambda m, x, v: (lambda y: (y.__setitem__(0, v[0, 0].float()), y)[1])(x * 1),
    lambda m, x, v: (lambda y: (y.__setitem__(0, m.tensor([1, 2, 3, 4])), y)[1])(x * 1),
    lambda m, x, v: x.index_put((m.tensor([True, False, True]),), v.sum().float()),
])
def test_setitem_with_gradient(fn):
    same(fn, X, _a(1, 1, 4, seed=1))


@pytest.mark.parametrize("case", [
    lambda m: m.zeros(3, 4).gather(1, L(m, [[-1]])),  # gather and scatter take no negative index
    lambda m: m.zeros(3, 4).scatter(1, L(m, [[-1]]), 1.0),
    lambda m: m.zeros(3, 4).scatter_add(0, L(m, [[-1]]), m.ones(1, 1)),
    lambda m: m.zeros(3, 4).gather(1, L(m, [[0]] * 4)),
    lambda m: m.zeros(3, 4).scatter(1, L(m, [[0] * 5]), m.ones(3, 4)),
    lambda m: m.zeros(3, 4).scatter(1, L(m, [[0, 1]]), m.tensor(1.0)),
    lambda m: m.zeros(3, 4).scatter(1, L(m, [[0, 1]]), m.ones(1, 2), reduce="sum"),
    lambda m: m.zeros(3, 4).index_select(0, L(m, [-1])),
    lambda m: m.zeros(3, 4).index_select(0, L(m, [3])),
    lambda m: m.tensor(1.0).index_select(0, L(m, [0, 0])),
    lambda m: m.zeros(3, 4).index_select(0, [0]),
    lambda m: m.zeros(3, 4).index_select(0, m.tensor([0.0])),
    lambda m: m.zeros(3, 4).index_select(0, L(m, [[0]])),
    lambda m: m.zeros(3, 4).index_add(0, L(m, [-1]), m.ones(1, 4)),
    lambda m: m.zeros(3, 4).index_add(0, L(m, [5]), m.ones(1, 4)),
    lambda m: m.zeros(3, 4).index_add(1, L(m, [3, 0]), m.ones(3, 4)),
    lambda m: m.zeros(3, 4).index_add(0, L(m, [0]), m.ones(1, 3)),
    lambda m: m.zeros(3, 4).index_add(0, L(m, [0]), m.ones(1, 4, dtype=m.float64)),
    lambda m: m.zeros(3, 4).index_add(0, m.tensor([0.0]), m.ones(1, 4)),
    lambda m: m.zeros(3, 4).index_add(0, L(m, [[0]]), m.ones(1, 4)),
    lambda m: m.zeros(3, 4).index_copy(0, L(m, [-1]), m.ones(1, 4)),
    lambda m: m.zeros(3, 4).index_copy(0, L(m, [0, 1]), m.ones(1, 4)),
    lambda m: m.zeros(3, 4).index_copy(0, L(m, [0]), m.ones(1, 3)),
    lambda m: m.zeros(3, 4).index_copy(0, L(m, [0]), m.ones(4)),
    lambda m: m.zeros(3, 4).index_copy(0, L(m, [0]), m.ones(1, 4, dtype=m.float64)),
    lambda m: m.zeros(3, 4).index_copy(0, m.tensor([0], dtype=m.int32), m.ones(1, 4)),
    lambda m: m.zeros(3, 4).index_fill(0, L(m, [3]), 1.0),
    lambda m: m.zeros(3, 4).index_fill(0, m.tensor([0], dtype=m.int32), 1.0),
    lambda m: m.zeros(3, 4).masked_fill(m.ones(3, 4, dtype=m.uint8), 1.0),
    lambda m: m.zeros(3, 4).masked_fill(m.ones(3, 4, dtype=m.int64), 1.0),
    lambda m: m.zeros(3, 4).masked_fill(m.ones(2, dtype=m.bool), 1.0),
    lambda m: m.zeros(3, 4).masked_fill_(m.ones(2, 3, 4, dtype=m.bool), 1.0),
    lambda m: m.zeros(3, 4).masked_select(m.ones(3, 4, dtype=m.uint8)),
    lambda m: m.zeros(3, 4).masked_select(m.ones(2, dtype=m.bool)),
    lambda m: m.zeros(3, 4).masked_scatter(m.ones(3, 4, dtype=m.int64), m.ones(12)),
    lambda m: m.zeros(3, 4).masked_scatter(m.ones(4, dtype=m.bool), m.ones(3)),
    lambda m: m.zeros(3, 4).masked_scatter(m.ones(4, dtype=m.bool), m.ones(12, dtype=m.float64)),
])
def test_indexing_op_errors(case):
    raises(case)


def _scatter_add_backward(m, reduce, inplace):
    x = m.ones(3, 4, requires_grad=True) * 1
    y = x.scatter_(1, L(m, [[0]]), 2.0, reduce=reduce) if inplace else x.scatter(1, L(m, [[0]]), 2.0, reduce=reduce)
    y.sum().backward()


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_with_reduce_has_no_derivative(reduce, inplace):
    raises(lambda m: _scatter_add_backward(m, reduce, inplace))


@pytest.mark.parametrize("fn", [
    lambda m, x: x.masked_fill(m.ones(2, 3, 4, dtype=m.bool), 1.5),  # a larger mask broadcasts the input
    lambda m, x: x.masked_scatter(m.ones(2, 3, 4, dtype=m.bool), x.new_ones(30)),
    lambda m, x: x.index_fill(0, L(m, [-1]), -2.0),  # index_fill wraps a negative index
    lambda m, x: x.index_select(0, L(m, 1)),
    lambda m, x: m.take_along_dim(x, L(m, [[-1], [0], [-2]]), 1),
    lambda m, x: x.index_copy(1, L(m, [3, 0]), x[:, :2] * 2),
    lambda m, x: x.index_add(0, L(m, [2, 2]), x[:2], alpha=0.5),
])
def test_indexing_ops_values_and_grads(fn):
    same(fn, X)


@pytest.mark.parametrize("expr", [
    "b.index_select(0, i)", "b.masked_select(b > 0)", "b.take(i)", "b.masked_fill(b > 0, 1.0)",
    "b.masked_fill(b > 0, s)", "b.index_add(0, i, b[:1])", "b.index_copy(0, i, b[:1])", "b.index_fill(0, i, 1.0)",
    "b.index_fill(0, i, s)", "b.masked_scatter(b > 0, b)", "b.index_put((i,), b[0])", "(b * 1).zero_()",
    "(b * 1).fill_(2.0)", "(b * 1).fill_(s)", "(b * 1).copy_(b)", "(lambda y: y.__setitem__(0, s) or y)(b * 1)",
    "(lambda y: y.__setitem__(i, s) or y)(b * 1)", "(lambda y: (y.index_put_((i,), s), y)[1])(b * 1)",
    "(lambda y: (y[0].mul_(2), y)[1])(b * 1)",
])
def test_node_names(expr):
    names = []
    for m in (torch, tg):
        env = {"m": m, "b": m.tensor([[1.5, -2.0], [0.5, 3.0]], requires_grad=True), "i": m.tensor([1]),
               "s": m.tensor(2.5, requires_grad=True)}
        names.append(type(eval(expr, env).grad_fn).__name__ if m is torch else eval(expr, env).grad_fn.name())
    assert names[1] == names[0]


# ---------------------------------------------------------------- in-place
@pytest.mark.parametrize("case", [
    lambda m: (lambda y: y.add_(y.t()))(m.ones(3, 3)),           # inputs partially overlapping the output
    lambda m: (lambda y: y.mul_(y.view(4, 3).t()))(m.ones(3, 4)),
    lambda m: (lambda y: y.add_(y[0]))(m.ones(3, 4)),
    lambda m: (lambda y: y[1:].copy_(y[:-1]))(m.arange(5.0)),
    lambda m: (lambda y: y.clamp_(min=y[0]))(m.ones(3, 4)),
    lambda m: m.ones(1, 4).expand(3, 4).add_(1),                 # writing through an expanded tensor
    lambda m: m.ones(1, 4).expand(3, 4).mul_(m.ones(3, 4)),
    lambda m: m.ones(1, 4).expand(3, 4).copy_(m.ones(3, 4)),
    lambda m: m.ones(1, 4).expand(3, 4).clamp_(0, 1),
    lambda m: m.ones(2, dtype=m.int64).add_(m.ones(2, dtype=m.int64), alpha=0.5),
    lambda m: m.ones(2, dtype=m.int64).add_(1, alpha=0.5),
    lambda m: m.ones(2, dtype=m.bool).sub_(m.ones(2, dtype=m.bool)),
    lambda m: m.ones(3, dtype=m.int64).fill_(float("nan")),
    lambda m: m.ones(3, dtype=m.int8).fill_(300),
    lambda m: m.ones(3, 4)[0].copy_(m.ones(3, 4)),
    lambda m: m.ones(3, 4).copy_([1.0, 2.0, 3.0, 4.0]),
])
def test_inplace_errors(case):
    raises(case)


def test_overlap_that_torch_allows():
    def run(m):
        x = m.arange(12.0).reshape(3, 4)
        x.add_(x)  # the same memory, addressed the same way
        x[:, :3].add_(x[:, 1:])  # not dense: too hard to tell, allowed
        x[0].add_(x[0:1].expand(1, 4)[0])
        x.copy_(x.view(12).view(3, 4))
        y = m.zeros(1, 4)
        y.expand(3, 4).fill_(2.0)  # fill_, zero_ and index writes into an expanded tensor are allowed
        y.expand(3, 4)[1] = 5.0
        y.expand(2, 4)[m.tensor([0])] = 7.0
        z = m.ones(2, 3)
        z.expand(4, 2, 3).zero_()
        return [x, y, z]

    for a, b in zip(run(tg), run(torch)):
        np.testing.assert_array_equal(_np(a), _np(b))


@pytest.mark.parametrize("write", [
    lambda m, a: a.t_(), lambda m, a: a.unsqueeze_(0), lambda m, a: a.squeeze_(), lambda m, a: a.transpose_(0, 1),
])
def test_inplace_metadata_change_bumps_version(write):
    for m in (torch, tg):
        x = m.ones(3, 4, requires_grad=True)
        a = x * 1
        v0 = a._version
        out = a * a  # saves a
        write(m, a)
        assert a._version == v0 + 1
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_gather_saves_its_input_for_the_version_check():
    def case(m):
        a = m.ones(3, 4, requires_grad=True) * 1
        out = a.gather(1, L(m, [[0], [1], [2]]))
        a.zero_()
        out.sum().backward()

    raises(case)
