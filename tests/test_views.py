"""PyTorch's memory-sharing semantics: which operators return views (writes show through both ways,
the version counter is shared), which return copies, and autograd through in-place writes on views.

Every scenario is one function of the module (tapegrad or torch), run on both; the values it returns
must agree."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _np(v):
    if isinstance(v, (tg.Tensor, torch.Tensor)):
        return v.detach().numpy().copy()
    return np.asarray(v)


def both(fn):
    """Run fn(module) with tapegrad and torch; assert the returned values agree; return tapegrad's."""
    got, want = fn(tg), fn(torch)
    got = got if isinstance(got, (tuple, list)) else [got]
    want = want if isinstance(want, (tuple, list)) else [want]
    assert len(got) == len(want)
    for i, (a, b) in enumerate(zip(got, want)):
        a, b = _np(a), _np(b)
        assert a.shape == b.shape, f"value {i}: shape {a.shape} != torch's {b.shape}"
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=f"value {i}")
    return got


def base(m):
    return m.arange(24, dtype=m.float32).reshape(4, 6).clone()


VIEWS = {
    "view": lambda x: x.view(2, 12),
    "view_-1": lambda x: x.view(-1),
    "view_as": lambda x: x.view_as(x.new_zeros(3, 8)),
    "reshape_viewable": lambda x: x.reshape(2, 2, 6),
    "flatten": lambda x: x.unsqueeze(0).flatten(1),
    "unflatten": lambda x: x.unflatten(1, (2, 3)),
    "slice_step": lambda x: x[1::2, ::3],
    "slice_none_ellipsis": lambda x: x[None, ..., 2],
    "int_index": lambda x: x[2],
    "transpose": lambda x: x.transpose(0, 1),
    "t": lambda x: x.t(),
    "T": lambda x: x.T,
    "mT": lambda x: x.mT,
    "permute": lambda x: x.reshape(2, 2, 6).permute(2, 0, 1),
    "movedim": lambda x: x.reshape(2, 2, 6).movedim(0, -1),
    "squeeze": lambda x: x.reshape(4, 1, 6).squeeze(1),
    "squeeze_all": lambda x: x[:1].squeeze(),
    "unsqueeze": lambda x: x.unsqueeze(-1),
    "narrow": lambda x: x.narrow(1, 2, 3),
    "select": lambda x: x.select(1, -2),
    "select_1d": lambda x: x[1].select(0, 3),
    "split": lambda x: x.split(2, 1)[1],
    "split_sizes": lambda x: x.split([1, 3], 0)[1],
    "chunk": lambda x: x.chunk(3, 1)[2],
    "tensor_split": lambda x: x.tensor_split([1, 4], 1)[1],
    "unbind": lambda x: x.unbind(1)[4],
    "diagonal": lambda x: x.diagonal(),
    "diagonal_offset": lambda x: x.diagonal(-1),
    "diagonal_dims": lambda x: x.reshape(2, 2, 6).diagonal(1, 2, 0),
    "expand_same": lambda x: x.expand(4, 6),
    "contiguous_of_contiguous": lambda x: x.contiguous(),
    "chain": lambda x: x.view(6, 4)[1:5].t()[::2],
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_writes_through_views_are_shared(name):
    op = VIEWS[name]

    def run(m):
        x = base(m)
        v = op(x)
        out = [v.clone()]
        v.mul_(-1)  # through the view into the base
        out += [x.clone(), x._version, v._version]
        x.add_(100)  # through the base into the view
        out += [v.clone(), x._version, v._version, v._base is x]
        return out

    both(run)


COPIES = {
    "flip": lambda x: x.flip(0),
    "fliplr": lambda x: x.fliplr(),
    "clone": lambda x: x.clone(),
    "contiguous_of_transposed": lambda x: x.t().contiguous(),
    "reshape_not_viewable": lambda x: x.t().reshape(-1),
    "flatten_not_viewable": lambda x: x[:, ::2].flatten(),
    "advanced_index_list": lambda x: x[[0, 2]],
    "advanced_index_mask": lambda x: x[x > 5],
    "advanced_index_tensor": lambda x: x[:, x.new_tensor([1, 3]).long()],
    "roll": lambda x: x.roll(1, 0),
    "repeat": lambda x: x.repeat(1, 1),
    "repeat_slice": lambda x: x.unsqueeze(0).repeat(2, 1, 1)[0],
    "rot90": lambda x: x.rot90(),
}


@pytest.mark.parametrize("name", list(COPIES))
def test_copies_do_not_share(name):
    op = COPIES[name]

    def run(m):
        x = base(m)
        c = op(x)
        before = c.clone()
        c.mul_(-1)
        out = [x.clone()]  # unchanged
        x.add_(100)
        out += [c.clone(), before, c._base is x, c._version]
        return out

    both(run)


def test_view_of_noncontiguous_raises_like_torch():
    for m in (tg, torch):
        x = base(m)
        with pytest.raises(RuntimeError, match=r"view size is not compatible with input tensor's size and stride "
                                               r".*Use \.reshape\(\.\.\.\) instead\."):
            x.t().view(-1)
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            x[:, :3].view(12)
    # what torch can view without a copy, tapegrad can too
    both(lambda m: [base(m).t().view(6, 4), base(m)[:, 1:3].view(4, 2, 1), base(m)[1:3].view(-1),
                    base(m)[:, ::2].view(12), base(m).t()[::2].view(3, 2, 2)])


def test_detach_data_numpy_from_numpy_share_memory():
    def run(m):
        x = base(m).requires_grad_()
        d = x.detach()
        d[0, 0] = -5.0
        out = [x.detach().clone(), d._version, x._version]
        with m.no_grad():
            x[1, 1] = -7.0
        out += [d.clone(), d.requires_grad, d.is_leaf]
        data = x.data
        data[2, 2] = -9.0  # .data shares memory but not the version counter
        out += [x.detach().clone(), x._version, data._version, data.requires_grad]
        return out

    both(run)
    for m in (tg, torch):
        x = m.zeros(3)
        n = x.numpy()
        n[1] = 4.0
        assert x[1].item() == 4.0
        x.add_(1)
        np.testing.assert_array_equal(n, [1.0, 5.0, 1.0])
        a = np.zeros((2, 3), np.float32)
        t = m.from_numpy(a)
        t[0].fill_(2.0)
        a[1, 2] = 3.0
        np.testing.assert_array_equal(a, t.numpy())
        assert a[0, 0] == 2.0 and t[1, 2].item() == 3.0
        # a view of a from_numpy tensor still reaches the array
        t.t()[2].mul_(10)
        assert a[0, 2] == 20.0 and a[1, 2] == 30.0


def test_version_counter_shared_by_views():
    def run(m):
        x = base(m)
        a, b = x[0], x.t()
        out = [x._version]
        a.add_(1)
        out.append((x._version, a._version, b._version))
        b[1].zero_()
        out.append((x._version, a._version, b._version))
        x.mul_(2)
        out.append((x._version, a._version, b._version))
        c = x.clone()
        out.append(c._version)
        return [np.asarray(o) for o in out]

    both(run)


def test_saved_tensor_modified_through_view_raises():
    for m in (tg, torch):
        x = m.ones(3, 4, requires_grad=True)
        y = x.exp()  # saves its output
        y[0].mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_inplace_on_view_of_leaf_raises():
    for m in (tg, torch):
        x = m.ones(3, 4, requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
            x[0].add_(1)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x.add_(1)
        with m.no_grad():
            x[0].add_(1)  # fine without grad mode
        assert x[0, 0].item() == 2.0


# ---------------------------------------------------------------- autograd through in-place writes on views
def _leaves(m, *shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [m.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


def _weights(m, shape, seed=5):
    return m.tensor(np.random.default_rng(seed).standard_normal(shape))


INPLACE = {
    "select_mul": lambda m, y, z: y[0].mul_(3),
    "view_slice_iadd": lambda m, y, z: y.view(-1).__getitem__(slice(1, 3)).add_(z[0, :2]),
    "view_slice_setitem_iadd": None,  # written out below: `y.view(-1)[1:3] += z`
    "t_row_zero": lambda m, y, z: y.t()[0].zero_(),
    "narrow_add": lambda m, y, z: y.narrow(1, 1, 2).add_(z[:, :2]),
    "narrow_mul_tensor": lambda m, y, z: y.narrow(1, 1, 2).mul_(z[:, 1:3]),
    "tensor_split_piece": lambda m, y, z: y.tensor_split(2, 1)[1].mul_(z[:, :2]),
    "diagonal": lambda m, y, z: y.diagonal().mul_(z[0, :3]),
    "diagonal_offset": lambda m, y, z: y.diagonal(1).copy_(z[1, 1:4]),
    "step_slice": lambda m, y, z: y[::2, 1::2].mul_(z[::2, 1::2]),
    "chained": lambda m, y, z: y.view(4, 3)[1:].t()[::2].sub_(z.view(4, 3)[1:].t()[::2] ** 2),
    "select_of_select": lambda m, y, z: y[1][2].mul_(z[0, 0]),
    "setitem_on_view": lambda m, y, z: y[1].__setitem__(slice(1, None), z[1, 1:]),
    "fill_tensor": lambda m, y, z: y.T[1].fill_(z[0, 3]),
    "two_writes": lambda m, y, z: (y[0].mul_(z[0]), y[:, 1].add_(z[:, 1])),
    "squeeze_unsqueeze": lambda m, y, z: y.unsqueeze(0)[:, 1].squeeze(0).mul_(z[1]),
    "relu_": lambda m, y, z: y[1:].relu_(),
    "exp_": lambda m, y, z: y[:, 1].exp_(),
}


def _iadd_setitem(m, y, z):
    y.view(-1)[1:3] += z[0, :2]


INPLACE["view_slice_setitem_iadd"] = _iadd_setitem


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_through_view_of_nonleaf_gives_torch_gradients(name):
    write = INPLACE[name]

    def run(m):
        x, z = _leaves(m, (3, 4), (3, 4))
        y = x * 2
        write(m, y, z)
        loss = (y * _weights(m, (3, 4))).sum()
        loss.backward()
        return [y, x.grad, z.grad if z.grad is not None else m.zeros(3, 4, dtype=m.float64), y.requires_grad]

    both(run)


@pytest.mark.parametrize("write", [lambda y: y.split(2, 1)[1].mul_(2), lambda y: y.split([1, 2], 0)[0].add_(1),
                                   lambda y: y.chunk(3, 0)[2].zero_(), lambda y: y.unbind(1)[2].exp_(),
                                   lambda y: y.split(2)[1][0].mul_(2)])
def test_inplace_on_multi_output_view_raises(write):
    for m in (tg, torch):
        x = m.ones(3, 4, requires_grad=True)
        with pytest.raises(RuntimeError, match="is a view and is being modified inplace. This view is the output of "
                                               "a function that returns multiple views"):
            write(x * 2)
        with m.no_grad():
            write(x * 2)
        write(m.ones(3, 4))


def test_view_keeps_working_after_write():
    def run(m):
        x, z = _leaves(m, (3, 4), (4,))
        y = x * 2
        v = y[1]
        v.mul_(z)
        w = v * 3 + y[2]  # the written view and another view, used after the write
        (w * _weights(m, (4,))).sum().backward()
        return [w, x.grad, z.grad, v.grad_fn is not None]

    both(run)


def test_write_into_base_without_grad():
    def run(m):
        (z,) = _leaves(m, (4,))
        buf = m.zeros(3, 4, dtype=m.float64)
        buf[1].copy_(z * 2)
        buf.narrow(0, 2, 1).add_(z)
        (buf * _weights(m, (3, 4))).sum().backward()
        return [buf, z.grad, buf.requires_grad]

    both(run)


def test_stale_view_sees_base_write():
    """A view taken before an in-place write on its base (or on another view) reads the new values
    and differentiates through the write."""
    def run(m):
        x, z = _leaves(m, (3, 4), (4,))
        y = x * 2
        flat = y.view(-1)
        y[0].mul_(z)
        (flat * _weights(m, (12,))).sum().backward()
        return [flat, x.grad, z.grad]

    both(run)


def test_base_inplace_then_view():
    def run(m):
        (x,) = _leaves(m, (3, 4))
        y = x * 2
        col = y[:, 1]
        y.sin_()
        (col * _weights(m, (3,))).sum().backward()
        return [col, x.grad]

    both(run)


def test_double_backward_through_write_on_view():
    def run(m):
        x, z = _leaves(m, (3, 4), (4,))
        y = x * 1.5
        y[0].mul_(z * x[1])
        (gx, gz) = m.autograd.grad((y ** 2).sum(), [x, z], create_graph=True)
        ((gx * _weights(m, (3, 4))).sum() + (gz ** 2).sum()).backward()
        return [gx, gz, x.grad, z.grad]

    both(run)


def test_write_through_view_of_fortran_ordered_base():
    """A base whose memory is not C-ordered (NumPy keeps an F-ordered input's layout in x * 2): the
    gradient bookkeeping must address the same elements the view did."""
    def run(m):
        x = m.from_numpy(np.asfortranarray(np.random.default_rng(3).standard_normal((3, 4)))).requires_grad_()
        (z,) = _leaves(m, (2,))
        y = x * 2
        v = y.t().reshape(-1)  # a view here (y.t() is C-ordered), as in torch
        v[1:3].mul_(z)
        (y * _weights(m, (3, 4))).sum().backward()
        return [y, x.grad, z.grad, v._base is y]

    both(run)
