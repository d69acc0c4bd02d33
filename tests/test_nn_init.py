"""nn.init against PyTorch: gains and fans exactly, distributions statistically (tapegrad's random
stream differs from PyTorch's), deterministic initialisers exactly, errors by type and message."""
import math
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.nn import init

torch = pytest.importorskip("torch")

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


@pytest.mark.parametrize("nl", NONLINEARITIES)
def test_calculate_gain_matches_torch(nl):
    assert init.calculate_gain(nl) == torch.nn.init.calculate_gain(nl)
    if nl == "leaky_relu":
        for p in (0, 0.2, 1, math.sqrt(5)):
            assert init.calculate_gain(nl, p) == torch.nn.init.calculate_gain(nl, p)


def test_calculate_gain_errors():
    for args in (("foo",), ("leaky_relu", True), ("leaky_relu", "x")):
        with pytest.raises(ValueError) as a:
            init.calculate_gain(*args)
        with pytest.raises(ValueError) as b:
            torch.nn.init.calculate_gain(*args)
        assert str(a.value) == str(b.value)


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5), (6, 2, 3, 3), (2, 3, 1, 2, 2), (0, 4)])
def test_fan_in_and_fan_out(shape):
    assert init._calculate_fan_in_and_fan_out(tg.empty(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    for mode in ("fan_in", "fan_out"):
        assert init._calculate_correct_fan(tg.empty(shape), mode) == \
            torch.nn.init._calculate_correct_fan(torch.empty(shape), mode)


def test_fan_errors():
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2 dim"):
        init.xavier_uniform_(tg.empty(3))
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of \['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(tg.empty(3, 3), mode="fan_avg")


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.min(), a.max(), a.mean(), a.std()


BIG = (500, 400)


@pytest.mark.parametrize("name,kwargs,expect", [
    ("uniform_", {"a": -2.0, "b": 3.0}, ("uniform", -2.0, 3.0)),
    ("normal_", {"mean": 1.5, "std": 0.5}, ("normal", 1.5, 0.5)),
    ("xavier_uniform_", {"gain": 2.0}, ("uniform_std", 2.0 * math.sqrt(2 / 900))),
    ("xavier_normal_", {}, ("normal", 0.0, math.sqrt(2 / 900))),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, ("uniform_std", math.sqrt(2 / 6) / math.sqrt(400))),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, ("uniform_std", math.sqrt(2 / 500))),
    ("kaiming_normal_", {"nonlinearity": "relu"}, ("normal", 0.0, math.sqrt(2 / 400))),
    ("kaiming_normal_", {"mode": "fan_out", "a": 0.1}, ("normal", 0.0, math.sqrt(2 / 1.01) / math.sqrt(500))),
    ("trunc_normal_", {"mean": 0.5, "std": 1.0, "a": -1.0, "b": 2.0}, ("trunc", 0.5, 1.0, -1.0, 2.0)),
])
def test_random_initialisers_follow_the_distribution(name, kwargs, expect):
    tg.manual_seed(0)
    t = tg.empty(BIG, requires_grad=True)
    out = getattr(init, name)(t, **kwargs)
    assert out is t and t.requires_grad and t.is_leaf and t.grad_fn is None and t.dtype == tg.float32
    lo, hi, mean, std = _stats(t)
    # the same initialiser in torch, for the statistics to compare against
    ref = getattr(torch.nn.init, name)(torch.empty(BIG), **kwargs)
    rlo, rhi, rmean, rstd = _stats(ref)
    assert abs(mean - rmean) < 0.02 * max(rstd, 1e-3) * 10 and abs(std - rstd) < 0.01 * rstd + 1e-4
    kind = expect[0]
    if kind == "uniform":
        assert expect[1] <= lo and hi <= expect[2] and lo < expect[1] + 0.01 and hi > expect[2] - 0.01
    elif kind == "uniform_std":
        bound = math.sqrt(3) * expect[1]
        assert -bound <= lo and hi <= bound and abs(std - expect[1]) < 0.01 * expect[1]
    elif kind == "normal":
        assert abs(mean - expect[1]) < 0.01 * expect[2] * 5 and abs(std - expect[2]) < 0.01 * expect[2]
    else:
        _, m, s, a, b = expect
        assert a <= lo and hi <= b and abs(lo - rlo) < 0.01 and abs(hi - rhi) < 0.01


def test_generator_reproducible_and_separate():
    g1, g2 = tg.Generator().manual_seed(7), tg.Generator().manual_seed(7)
    a = init.normal_(tg.empty(5, 5), generator=g1)
    b = init.normal_(tg.empty(5, 5), generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    for fn in (init.uniform_, init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_,
               init.trunc_normal_, init.orthogonal_):
        x1 = fn(tg.empty(4, 6), generator=tg.Generator().manual_seed(3))
        x2 = fn(tg.empty(4, 6), generator=tg.Generator().manual_seed(3))
        np.testing.assert_array_equal(x1.numpy(), x2.numpy())
    s1 = init.sparse_(tg.empty(6, 4), 0.5, generator=tg.Generator().manual_seed(1))
    s2 = init.sparse_(tg.empty(6, 4), 0.5, generator=tg.Generator().manual_seed(1))
    np.testing.assert_array_equal(s1.numpy(), s2.numpy())
    tg.manual_seed(11)
    c = init.normal_(tg.empty(3))
    tg.manual_seed(11)
    np.testing.assert_array_equal(init.normal_(tg.empty(3)).numpy(), c.numpy())


def test_deterministic_initialisers_match_torch():
    for fn, shape, args in ((init.constant_, (3, 4), (0.3,)), (init.ones_, (2, 5), ()), (init.zeros_, (4,), ()),
                            (init.eye_, (3, 5), ()), (init.eye_, (4, 2), ()), (init.dirac_, (4, 3, 3), ()),
                            (init.dirac_, (6, 2, 3, 3), (2,)), (init.dirac_, (2, 4, 1, 3, 3), ())):
        t = tg.full(shape, 9.0, requires_grad=True)
        r = getattr(torch.nn.init, fn.__name__)(torch.full(shape, 9.0), *args)
        assert fn(t, *args) is t
        np.testing.assert_array_equal(t.detach().numpy(), r.numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(tg.empty(2, 2, 2))
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions are supported"):
        init.dirac_(tg.empty(2, 2))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(tg.empty(3, 2, 2), groups=2)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 3, 2), (8, 8)])
def test_orthogonal(shape):
    t = init.orthogonal_(tg.empty(shape), gain=2.0)
    a = t.numpy().reshape(shape[0], -1)
    rows, cols = a.shape
    gram = a @ a.T if rows < cols else a.T @ a
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(tg.empty(3))


def test_sparse():
    t = init.sparse_(tg.empty(10, 30), sparsity=0.3, std=0.02)
    a = t.numpy()
    assert ((a == 0).sum(0) == 3).all()  # ceil(0.3 * 10) zeros in every column
    assert abs(a[a != 0].std() - 0.02) < 0.004
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.sparse_(tg.empty(3, 3, 3), 0.1)


def test_runs_without_grad_and_bumps_version():
    p = tg.nn.Parameter(tg.zeros(3, 3))
    v = p._version
    init.kaiming_uniform_(p)  # a leaf that requires grad: allowed, because init runs under no_grad
    assert p._version > v and p.grad_fn is None and p.requires_grad
    assert tg.is_grad_enabled()
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_normal_(tg.empty(0, 3))


def test_float64_tensors_stay_float64():
    for fn in (init.uniform_, init.normal_, init.xavier_normal_, init.kaiming_uniform_, init.orthogonal_,
               init.trunc_normal_):
        t = fn(tg.empty(4, 4, dtype=tg.float64))
        assert t.dtype == tg.float64


def test_deprecated_aliases_warn():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        init.normal(tg.empty(2, 2))
        init.xavier_uniform(tg.empty(2, 2))
    assert any("deprecated" in str(x.message) for x in w)


@pytest.mark.parametrize("name", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "kaiming_normal_",
                                  "orthogonal_", "sparse_"])
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_random_initialisers_refuse_integer_tensors_like_torch(name, dtype):
    from torch_errors import assert_raises_like_torch

    def case(m):
        t = m.empty(3, 3, dtype=getattr(m, dtype))
        getattr(m.nn.init, name)(t, *((0.1,) if name == "sparse_" else ()))

    assert_raises_like_torch(case, torch, tg, name)
