"""The Tensor object against torch: Size, device, conversions (to/float/long/cpu/numpy/item/tolist),
repr strings, in-place operations (the lectures' sub_(mu).div_(std), +=), .data and .detach()."""
import copy
import pickle
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def both(fn):
    """fn(torch) and fn(tapegrad), each as ('ok', value) or (exception type name, message)."""
    out = []
    for m in (torch, tg):
        try:
            out.append(("ok", fn(m)))
        except Exception as e:  # noqa: BLE001 - compared below
            out.append((type(e).__name__, str(e)))
    return out


def same(fn):
    t, g = both(fn)
    assert g == t, f"torch: {t}\ntapegrad: {g}"


# ---------------------------------------------------------------- Size
@pytest.mark.parametrize("expr", [
    lambda m: repr(m.ones(2, 3).shape), lambda m: repr(m.ones(2, 3).size()), lambda m: str(m.ones(2, 3).shape),
    lambda m: m.ones(2, 3).shape == (2, 3), lambda m: m.ones(2, 3).shape == [2, 3],
    lambda m: (m.ones(2, 3).shape[1], m.ones(2, 3).shape[-1], m.ones(2, 3).size(-1), m.ones(2, 3).size(0)),
    lambda m: repr(m.ones(2, 3, 4).shape[1:]), lambda m: m.ones(2, 3).shape.numel(), lambda m: repr(m.Size([2, 3])),
    lambda m: repr(m.Size([])), lambda m: repr(m.Size([2]) + m.Size([3])), lambda m: repr(m.Size([2]) + (3,)),
    lambda m: repr((3,) + m.Size([2])), lambda m: repr(m.Size([2]) * 2), lambda m: isinstance(m.ones(2).shape, tuple),
    lambda m: hash(m.Size([2, 3])) == hash((2, 3)), lambda m: (lambda a, b: a * b)(*m.ones(2, 3).shape),
    lambda m: repr(m.Size([np.int64(2), m.tensor(3)])), lambda m: m.Size([2.5]), lambda m: repr(m.Size((4,))),
    lambda m: m.tensor(1.).shape == (), lambda m: pickle.loads(pickle.dumps(m.Size([1, 2]))) == (1, 2),
])
def test_size(expr):
    same(expr)


def test_size_dim_out_of_range():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        tg.ones(2, 3).size(2)


# ---------------------------------------------------------------- device
@pytest.mark.parametrize("expr", [
    lambda m: repr(m.device("cpu")), lambda m: str(m.device("cpu")), lambda m: (m.device("cpu").type, m.device("cpu").index),
    lambda m: repr(m.device("cpu", 0)), lambda m: str(m.device("cpu:0")), lambda m: repr(m.ones(2).device),
    lambda m: m.ones(2).device == m.device("cpu"), lambda m: m.device("cpu") == m.device("cpu", 0),
    lambda m: m.ones(2).is_cuda, lambda m: repr(m.ones(2, device="cpu")), lambda m: repr(m.zeros(2, device=m.device("cpu"))),
    lambda m: m.ones(2).get_device(),
    lambda m: m.device("cpu") == "cpu", lambda m: m.ones(2).device != "cpu", lambda m: m.ones(2).device.type == "cpu",
    lambda m: {m.device("cpu"): 1}.get(m.device("cpu")),
])
def test_device(expr):
    same(expr)


def test_bad_device_string():
    with pytest.raises(RuntimeError, match="device type at start of device string: gpu"):
        tg.device("gpu")


# ---------------------------------------------------------------- conversions
@pytest.mark.parametrize("expr", [
    lambda m: repr(m.ones(2).to(m.float64)), lambda m: repr(m.ones(2).to("cpu")), lambda m: repr(m.ones(2).to(m.device("cpu"))),
    lambda m: repr(m.ones(2).to("cpu", m.int64)), lambda m: repr(m.ones(2).to(device="cpu", dtype=m.float16)),
    lambda m: repr(m.ones(2).to(m.ones(1, dtype=m.int32))), lambda m: repr(m.ones(2).to(float)),
    lambda m: (lambda x: x.to(m.float32) is x)(m.ones(2)), lambda m: (lambda x: x.to(m.float32, copy=True) is x)(m.ones(2)),
    lambda m: (lambda x: x.cpu() is x)(m.ones(2)),
    lambda m: repr(m.tensor([1, 2]).float()), lambda m: repr(m.tensor([1.7, -1.7]).long()),
    lambda m: repr(m.tensor([1.7, -1.7]).int()), lambda m: repr(m.tensor([1, 2]).double()),
    lambda m: repr(m.tensor([1, 2]).half()), lambda m: repr(m.tensor([0, 2]).bool()), lambda m: repr(m.tensor([3, 2]).byte()),
    lambda m: repr(m.tensor([1.5]).type(m.int32)), lambda m: (m.ones(2).type(), m.ones(2, dtype=m.int64).type()),
    lambda m: repr(m.ones(2).type("torch.DoubleTensor")), lambda m: repr(m.ones(2).type_as(m.ones(1, dtype=m.int64))),
    lambda m: str(m.ones(2, dtype=m.int32).numpy().dtype), lambda m: m.ones(2, requires_grad=True).numpy(force=True).tolist(),
    lambda m: (m.tensor(2.5).item(), type(m.tensor(2.5).item()).__name__, m.tensor([3]).item(),
               type(m.tensor([3]).item()).__name__, m.tensor(True).item()),
    lambda m: m.tensor(0.1).item(), lambda m: m.tensor(0.1, dtype=m.float64).item(),
    lambda m: (m.tensor([[1, 2], [3, 4]]).tolist(), m.tensor(2.5).tolist(), m.tensor([0.1]).tolist(), m.tensor([True]).tolist()),
    lambda m: [type(v).__name__ for v in m.tensor([1, 2]).tolist()], lambda m: m.tensor([[1.5]], dtype=m.float16).tolist(),
    lambda m: float(m.tensor([2.5])), lambda m: int(m.tensor(2.7)), lambda m: int(m.tensor(-2.7)), lambda m: bool(m.tensor([0.])),
    lambda m: len(m.ones(3, 2)), lambda m: [repr(v) for v in m.tensor([[1, 2], [3, 4]])], lambda m: [10, 20, 30][m.tensor(1)],
    lambda m: f"{m.tensor(2.5):.2f}", lambda m: f"{m.tensor([2.5])}", lambda m: str(m.tensor([1.5])),
    lambda m: (m.ones(2, 3).dim(), m.ones(2, 3).ndim, m.ones(2, 3).numel(), m.ones(2, 3).nelement(), m.ones(2, 3).element_size()),
    lambda m: (m.ones(2).is_floating_point(), m.ones(2, dtype=m.int64).is_floating_point(), m.is_tensor(m.ones(1))),
    lambda m: (m.ones(2, 3).stride(), m.ones(2, 3).t().stride(), m.ones(2, 3).t().is_contiguous()),
    lambda m: np.asarray(m.ones(2)).tolist(), lambda m: repr(np.float32(2) * m.ones(2)),
    lambda m: repr(m.ones(2) + np.ones(2, dtype=np.float32)), lambda m: repr(copy.deepcopy(m.ones(2, requires_grad=True))),
    lambda m: repr(pickle.loads(pickle.dumps(m.tensor([1.5, 2.])))), lambda m: isinstance(m.ones(2), m.Tensor),
])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's own __array_wrap__ under NumPy 2
def test_conversions(expr):
    same(expr)


@pytest.mark.parametrize("expr, exc", [
    (lambda m: m.ones(2, requires_grad=True).numpy(), RuntimeError),
    (lambda m: m.ones(2).item(), RuntimeError), (lambda m: m.ones(0).item(), RuntimeError),
    (lambda m: int(m.ones(2)), ValueError), (lambda m: float(m.ones(3)), ValueError),
    (lambda m: bool(m.ones(2)), RuntimeError), (lambda m: bool(m.ones(0)), RuntimeError),
    (lambda m: len(m.tensor(1.)), TypeError), (lambda m: list(m.tensor(1.)), TypeError),
    (lambda m: [1, 2][m.tensor(1.)], TypeError),
])
def test_conversion_errors(expr, exc):
    t, g = both(expr)
    assert t[0] == exc.__name__, t
    assert g[0] == t[0], g
    if exc is not TypeError:  # TypeErrors' wording comes from Python itself
        assert g[1] == t[1]


def test_numpy_and_from_numpy_share_memory():
    x = tg.ones(3)
    a = x.numpy()
    a[0] = 7
    assert x.tolist() == [7.0, 1.0, 1.0]
    x.add_(1)
    assert a.tolist() == [8.0, 2.0, 2.0]


# ---------------------------------------------------------------- repr
REPRS = [
    "m.tensor([1, 2, 3])", "m.tensor([-5, 100, 7])", "m.tensor([1.5, 2.25, -3.125])", "m.tensor([1., 2., 3.])",
    "m.tensor([1.0, 2.0, 3.0]) / 3", "m.tensor([1e-5, 1., 1000.])", "m.tensor([1e10, 1.])", "m.tensor([123456789.0, 1.0])",
    "m.tensor([0.1, 100000.0])", "m.tensor([1e-10, 1e-12])", "m.tensor([1e20, -1e20])", "m.tensor([1.123456789e-3, 5.])",
    "m.tensor([1234.5678, 0.0001])", "m.tensor([12345.678])", "m.tensor([True, False])",
    "m.tensor([1.5, 2.], dtype=m.float64)", "m.tensor([1, 2], dtype=m.int32)", "m.tensor([1, 2], dtype=m.uint8)",
    "m.tensor([1.5, 2.], dtype=m.float16)", "m.tensor([1.5, 2.], requires_grad=True)",
    "m.tensor([1.5, 2.], dtype=m.float64, requires_grad=True)", "m.tensor([], dtype=m.float64)",
    "m.tensor([])", "m.zeros(0, 3)", "m.zeros(2, 0, dtype=m.int64)", "m.tensor([], dtype=m.bool)",
    "m.tensor(3.5)", "m.tensor(3)", "m.tensor(3.5, dtype=m.float64)", "m.tensor(True)", "m.tensor(-0.0)",
    "m.tensor(1e-7)", "m.arange(2000)", "m.arange(2000.).reshape(40, 50)", "m.arange(24.).reshape(2, 3, 4) / 7",
    "m.arange(12).reshape(3, 4)", "m.tensor([float('nan'), float('inf'), -float('inf'), 1.5])",
    "m.tensor([float('nan'), 1.])", "m.tensor([0., 0.])", "m.tensor([[1., -1.], [10., 100.]])", "m.linspace(0, 1, 5)",
    "m.arange(30.).reshape(3, 10) * 1.1111", "m.arange(100.).reshape(2, 50) / 3", "m.arange(1100.) * 1e-3",
    "m.arange(10 ** 4).reshape(10, 10, 100)", "m.tensor([[True, False], [False, True]])",
    "m.tensor([1e-3, 2.], dtype=m.float64, requires_grad=True)",
]


@pytest.mark.parametrize("expr", REPRS)
def test_repr_matches_torch(expr):
    t = eval(expr, {"m": torch})
    g = eval(expr, {"m": tg})
    assert repr(g) == repr(t)
    assert str(g) == str(t)


def test_repr_random_values_and_printoptions():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((5, 7)).astype(np.float32), rng.standard_normal(100).astype(np.float32) * 1e5,
              rng.standard_normal((3, 4, 5)), rng.integers(-1000, 1000, (30, 40)), rng.standard_normal(50).astype(np.float16),
              np.array([1e-5, np.nan, 3.0], dtype=np.float32), rng.standard_normal((11, 11, 11)).astype(np.float32)]
    options = [{}, dict(precision=2), dict(sci_mode=False), dict(sci_mode=True), dict(threshold=5, edgeitems=1),
               dict(linewidth=40), dict(profile="short")]
    try:
        for opts in options:
            torch.set_printoptions(**opts)
            tg.set_printoptions(**opts)
            for a in arrays:
                assert repr(tg.from_numpy(a.copy())) == repr(torch.from_numpy(a.copy())), opts
    finally:
        torch.set_printoptions(profile="default", sci_mode=None)
        tg.set_printoptions(profile="default", sci_mode=None)


GRAD_FNS = [
    ("a * 2", "MulBackward0"), ("a + 1", "AddBackward0"), ("a - 1", "SubBackward0"), ("a / 2", "DivBackward0"),
    ("a.exp()", "ExpBackward0"), ("a.sum()", "SumBackward0"), ("a.mean()", "MeanBackward0"), ("a ** 2", "PowBackward0"),
    ("-a", "NegBackward0"), ("a.relu()", "ReluBackward0"), ("a.sigmoid()", "SigmoidBackward0"),
    ("a.tanh()", "TanhBackward0"), ("a.log()", "LogBackward0"), ("a.sqrt()", "SqrtBackward0"), ("a.abs()", "AbsBackward0"),
    ("a.double()", "ToCopyBackward0"), ("a.expand(3, 2)", "ExpandBackward0"), ("m.stack([a, a])", "StackBackward0"),
    ("m.cat([a, a])", "CatBackward0"), ("a.var()", "VarBackward0"), ("a.softmax(0)", "SoftmaxBackward0"),
    ("a.clone()", "CloneBackward0"), ("a.cumsum(0)", "CumsumBackward0"), ("a.prod()", "ProdBackward0"),
    ("a.view(2, 1)", "ViewBackward0"), ("a[0]", "SelectBackward0"), ("a[1:]", "SliceBackward0"),
    ("a.max()", "MaxBackward1"), ("a.unsqueeze(0)", "UnsqueezeBackward0"), ("a.unsqueeze(0).t()", "TBackward0"),
    ("a.unsqueeze(0) @ m.ones(2, 2)", "MmBackward0"), ("a @ a", "DotBackward0"), ("a.max(0)[0]", "MaxBackward0"),
]


@pytest.mark.parametrize("expr, name", GRAD_FNS)
def test_grad_fn_names_and_repr(expr, name):
    a_t = torch.tensor([1.5, 2.0], requires_grad=True)
    a_g = tg.tensor([1.5, 2.0], requires_grad=True)
    t = eval(expr, {"m": torch, "a": a_t})
    assert t.grad_fn.name() == name  # the table above is torch's own answer
    g = eval(expr, {"m": tg, "a": a_g})
    assert g.grad_fn.name() == name
    assert repr(g) == repr(t)


# Node names PyTorch gives by the call or the overload (views, reductions, the products matmul dispatches to),
# checked against torch itself; a: 1-d, b: 2-d, c: 3-d, s: 0-d, all requiring grad.
@pytest.mark.parametrize("expr", [
    "a.unsqueeze(-1)", "s.unsqueeze(0)", "b.t()", "a.t()", "s.t()", "b.H", "b.mT", "b.T", "b.transpose(0, 1)",
    "b.permute(1, 0)", "b.squeeze()", "b.squeeze(0)", "b.squeeze((0, 1))", "b.unsqueeze(0).squeeze(0)",
    "b.view(4)", "b.reshape(4)", "b.t().reshape(4)", "b.t().reshape(2, 2)", "b.t().reshape_as(b)", "b.t().view(2, 2)",
    "b.flatten()", "b.t().flatten()", "c.flatten(1)", "b.t().ravel()", "b.t().unflatten(1, (2, 1))",
    "m.atleast_2d(a)", "m.atleast_3d(a)", "m.atleast_3d(b)", "m.atleast_2d(s)", "b.t().contiguous()",
    "a.expand(3, 2)", "b[0]", "b[:, 1]", "b.select(1, 0)", "b[None]", "b.narrow(0, 0, 1)",
    "m.cat([a, a])", "m.stack([a, a])", "b.split(1)[0]", "b.split([1, 1], 1)[1]", "b.chunk(2)[1]", "b.unbind()[0]",
    "b.tensor_split(2)[0]", "b.tensor_split([1], 1)[1]",
    "a.max()", "a.min()", "b.max(0)[0]", "b.min(1, keepdim=True)[0]", "s.max(0)[0]", "b.amax()", "b.amin(1)",
    "b.aminmax()[0]", "b.aminmax(dim=0)[1]", "b.median()", "b.median(0)[0]", "b.mode(0)[0]", "b.kthvalue(1)[0]",
    "b.sort(0)[0]", "b.topk(1)[0]", "b.cummax(0)[0]", "b.cummin(1)[0]", "s.sort()[0]", "b.prod()", "b.prod(0)",
    "b.logsumexp(0)", "b.logcumsumexp(1)", "b.norm()", "b.norm(dim=1)",
    "b @ b", "b.mm(b)", "a @ a", "a.dot(a)", "m.vdot(a, a)", "b @ a", "b.mv(a)", "a @ b", "c @ b", "c @ a",
    "c @ c.mT", "m.bmm(c, c.mT)", "b @ c.mT", "m.ones(2, 2) @ c.mT", "b[:1] @ c.mT", "c[:1] @ c.mT",
    "2 - a", "a - a", "a.clamp(0, 1)", "a.clamp(min=0)", "a.clamp(a, a + 1)", "a.clamp_min(0)", "a.clamp_max(1)",
    "a.pow(a)", "2 ** a", "a ** 2", "m.pow(2, a)",
])
def test_grad_fn_names_match_torch(expr):
    names = []
    for mod in (torch, tg):
        env = {"m": mod, "a": mod.tensor([1.5, 2.0], requires_grad=True), "s": mod.tensor(2.5, requires_grad=True),
               "b": mod.tensor([[1.5, -2.0], [0.5, 3.0]], requires_grad=True),
               "c": mod.arange(12.).reshape(3, 2, 2).requires_grad_()}
        names.append(eval(expr, env).grad_fn.name())
    assert names[1] == names[0]


# Formerly known differences, now one node each as in PyTorch: 2 / a is a reciprocal times 2 (MulBackward0 over
# ReciprocalBackward0), std, nansum and addmm are single nodes, einsum is named after the last operator PyTorch's
# einsum composes (a product, a permute, a sum or a view).
@pytest.mark.parametrize("expr", ["2 / a", "2.5 / a", "a.std()", "a.std(0)", "m.std(a, correction=0)", "a.nansum()",
                                  "a.nansum(0)", "m.addmm(m.ones(2, 2), a.unsqueeze(1), a.unsqueeze(0))",
                                  "m.ones(2, 2).addmm(a.unsqueeze(1), a.unsqueeze(0), beta=0.5, alpha=2)",
                                  "m.einsum('i,j->ij', a, a)", "m.einsum('i,i->', a, a)", "m.einsum('i->', a)",
                                  "m.einsum('i->i', a)", "m.einsum('ij,jk->ik', a[None], a[:, None])",
                                  "m.einsum('ii->i', a.expand(2, 2))", "m.einsum('ii', a.expand(2, 2))",
                                  "m.einsum('i,j,k->ijk', a, a, a)", "m.einsum('...,...->...', a, a)"])
def test_grad_fn_names_known_differences(expr):
    t = eval(expr, {"m": torch, "a": torch.tensor([1.5, 2.0], requires_grad=True)})
    g = eval(expr, {"m": tg, "a": tg.tensor([1.5, 2.0], requires_grad=True)})
    assert g.grad_fn.name() == t.grad_fn.name()
    assert [type(f).__name__ if f is None else f.name() for f, _ in g.grad_fn.next_functions][:1] == \
        [type(f).__name__ if f is None else f.name() for f, _ in t.grad_fn.next_functions][:1] or "einsum" in expr


# ---------------------------------------------------------------- in-place
@pytest.mark.parametrize("expr", [
    lambda m: (lambda x: repr(x.sub_(x.mean()).div_(x.std())))(m.tensor([[1., 2.], [3., 5.]])),
    lambda m: (lambda x: repr(x.sub_(x.mean(0)).div_(x.std(0))))(m.tensor([[1., 2.], [3., 5.], [0., -1.]])),
    lambda m: repr(m.ones(2).zero_()), lambda m: repr(m.ones(2).fill_(3.5)), lambda m: repr(m.ones(2, dtype=m.int64).fill_(3.7)),
    lambda m: repr(m.ones(2).fill_(m.tensor(2.))), lambda m: repr(m.ones(2, 3).copy_(m.tensor([1, 2, 3]))),
    lambda m: repr(m.ones(2, dtype=m.int64).copy_(m.tensor([1.7, 2.2]))), lambda m: repr(m.tensor([-1., 0.5, 2.]).clamp_(0, 1)),
    lambda m: repr(m.tensor([-1., 0.5, 2.]).clamp_(min=0)), lambda m: repr(m.tensor([-1., 0.5, 2.]).clamp_(max=0.25)),
    lambda m: repr(m.ones(2).add_(m.ones(2), alpha=3)), lambda m: repr(m.ones(2).sub_(m.ones(2), alpha=0.5)),
    lambda m: repr(m.ones(2).mul_(m.tensor([2., 3.]))), lambda m: repr(m.ones(2).div_(m.tensor([2., 4.]))),
    lambda m: repr(m.ones(2, 3).add_(m.ones(3))), lambda m: repr(m.ones(2, 3).add_(2)),
    lambda m: repr(m.tensor([1, 2], dtype=m.uint8).add_(-1)), lambda m: repr(m.tensor([1, 2], dtype=m.uint8) + 300),
    lambda m: repr(m.tensor([100, 2], dtype=m.int8).mul_(3)), lambda m: repr(m.tensor([1., 4.]).sqrt_().exp_().neg_()),
    lambda m: repr(m.tensor([1., -4.]).abs_().pow_(2).relu_().sigmoid_()),
    lambda m: (lambda x: x.add_(1) is x and x.mul_(2) is x and x.zero_() is x and x.clamp_(0, 1) is x)(m.ones(2)),
    lambda m: (lambda x: (x[0].add_(5), x.tolist())[1])(m.ones(2, 2)),
    lambda m: (lambda x: (x[:, 1].mul_(3), x.tolist())[1])(m.ones(2, 2)),
    lambda m: (lambda x: (x.view(4).fill_(2.), x.tolist())[1])(m.ones(2, 2)),
    lambda m: (lambda x: (x.t().sub_(m.tensor([1., 2.])), x.tolist())[1])(m.zeros(2, 2)),
    lambda m: (lambda x: (x.add_(1), x.mul_(2), x[0].zero_(), x._version)[3])(m.ones(2)),
])
def test_inplace_values(expr):
    same(expr)


def test_augmented_assignment_is_in_place():
    for m in (torch, tg):
        x = m.ones(3)
        alias, ident = x, id(x)
        x += 2
        x *= m.tensor([1., 2., 3.])
        x -= 1
        x /= 2
        assert id(x) == ident and alias.tolist() == [1.0, 2.5, 4.0]
        i = m.tensor([5, 7])
        i //= 2
        i %= 2
        assert i.tolist() == [0, 1]


@pytest.mark.parametrize("expr", [
    lambda m: m.tensor([1, 2]).add_(1.5), lambda m: m.tensor([1, 2]).div_(2), lambda m: m.tensor([1, 2]).mul_(1.5),
    lambda m: m.ones(3).add_(m.ones(2, 3)), lambda m: m.ones(3).mul_(m.ones(2, 3)),
])
def test_inplace_cast_and_shape_errors(expr):
    t, g = both(expr)
    assert t[0] == "RuntimeError" and g[0] == "RuntimeError", (t, g)
    assert t[1] in g[1], (t, g)  # tapegrad may prefix the operator's name


def test_inplace_on_expanded_view_refused():
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single memory"):
        tg.ones(1).expand(3).add_(1)


def test_random_fills_in_place():
    tg.manual_seed(0)
    x = tg.empty(2000)
    assert x.normal_(2.0, 0.5) is x and abs(x.mean().item() - 2.0) < 0.05 and abs(x.std().item() - 0.5) < 0.05
    assert x.uniform_(-2, 3) is x and x.min().item() >= -2 and x.max().item() < 3
    assert x._version == 2


# ---------------------------------------------------------------- .data and .detach()
def test_detach_shares_memory_and_version():
    for m in (torch, tg):
        x = m.ones(2, requires_grad=True)
        y = x * 2
        d = y.detach()
        assert not d.requires_grad and d.is_leaf and d.grad_fn is None
        d.mul_(5)
        assert y.tolist() == [10.0, 10.0]
        assert d._version == y._version == 1


def test_setitem_through_detach_and_data():
    same(lambda m: (lambda x: (lambda d: (d.__setitem__(0, 5.), x.tolist(), d._version, x._version))(x.detach()))(
        m.ones(2, requires_grad=True) * 1)[1:])
    same(lambda m: (lambda x: (x.data.__setitem__(1, 7.), x.tolist(), x._version)[1:])(m.ones(2, requires_grad=True)))


def test_data_shares_memory_not_version():
    for m in (torch, tg):
        x = m.ones(2, requires_grad=True)
        d = x.data
        assert not d.requires_grad and x.requires_grad
        d.fill_(3)
        assert x.tolist() == [3.0, 3.0]
        assert x._version == 0 and d._version == 1
        x.data = m.zeros(2)
        assert x.tolist() == [0.0, 0.0] and x.requires_grad


def test_data_update_like_sgd_step():
    # the pattern of hand-written training loops: p.data -= lr * p.grad
    ws = []
    for m in (torch, tg):
        w = m.tensor([1.0, -2.0], requires_grad=True)
        for _ in range(3):
            loss = ((w * m.tensor([3.0, 0.5])).sum() - 1) ** 2
            loss.backward()
            w.data -= 0.1 * w.grad
            w.grad.zero_()
        ws.append(w.detach().numpy().copy())
    np.testing.assert_allclose(ws[1], ws[0], rtol=1e-6)


def test_detach_then_inplace_breaks_backward_like_torch():
    msgs = []
    for m in (torch, tg):
        x = m.ones(2, requires_grad=True)
        y = x.exp()
        y.detach().add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as e:
            y.sum().backward()
        msgs.append(str(e.value))


def test_nonleaf_grad_access_warns_like_torch():
    for m in (torch, tg):
        x = m.ones(2, requires_grad=True)
        y = x * 2
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            assert y.grad is None
            x.grad  # noqa: B018 - a leaf: no warning
        assert len(w) == 1 and issubclass(w[0].category, UserWarning)
        assert "is not a leaf Tensor is being accessed" in str(w[0].message)
        y.retain_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert y.grad is None


def test_grad_assignment_checks():
    for m in (torch, tg):
        x = m.ones(2, requires_grad=True)
        x.grad = m.full((2,), 3.0)
        assert x.grad.tolist() == [3.0, 3.0]
        with pytest.raises(RuntimeError, match="attempting to assign a gradient of size"):
            x.grad = m.ones(3)
        with pytest.raises(RuntimeError, match="attempting to assign a gradient with dtype 'double'"):
            x.grad = m.ones(2, dtype=m.float64)
        with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None"):
            x.grad = [1.0, 2.0]
        x.grad = None
        assert x.grad is None


@pytest.mark.parametrize("op", ["add", "sub", "mul", "sum"])
@pytest.mark.parametrize("grad", [False, True])
def test_zero_d_results_hold_arrays(op, grad):
    """Operators on 0-d tensors give 0-d arrays (NumPy gives scalars), on the recorded and unrecorded paths."""
    a, b = tg.tensor(2.0, requires_grad=grad), tg.tensor(3.0)
    r = a.sum() if op == "sum" else getattr(tg, op)(a, b)
    assert r._data.__class__ is np.ndarray and r._data.shape == ()
    assert r.new_zeros(2).shape == (2,)
