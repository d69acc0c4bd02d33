"""Normalisation functions and modules against PyTorch: values, gradients, running statistics, errors."""
import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as tnn
import tapegrad.nn.functional as TF

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-9, atol=1e-11)}
DTYPES = ["float32", "float64"]


def _pair(a, grad):
    if isinstance(a, np.ndarray):
        t1, t2 = tg.tensor(a.copy()), torch.tensor(a.copy())
        if grad and a.dtype.kind == "f":
            t1.requires_grad_(True)
            t2.requires_grad_(True)
        return t1, t2
    return a, a


def _close(a, b, dtype, what=""):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(a, b, err_msg=what, **TOL[str(np.dtype(dtype))])


def compare(call, args, no_grad=(), seed=0):
    """call(F, lib, *args), written once for both frameworks; float arrays require grad except at the indices in
    no_grad. Compares the value, then the gradients of a random weighted sum of it. Returns both argument lists."""
    pairs = [_pair(a, i not in no_grad) for i, a in enumerate(args)]
    a1, a2 = [p[0] for p in pairs], [p[1] for p in pairs]
    o1, o2 = call(TF, tg, *a1), call(F, torch, *a2)
    assert tuple(o1.shape) == tuple(o2.shape) and str(o1.dtype) == str(o2.dtype)
    dt = str(o2.dtype).replace("torch.", "")
    _close(o1, o2, dt, "output")
    if o2.requires_grad:
        w = np.random.default_rng(seed).standard_normal(tuple(o2.shape)).astype(dt)
        (o1 * tg.tensor(w)).sum().backward()
        (o2 * torch.tensor(w)).sum().backward()
        for i, (x1, x2) in enumerate(zip(a1, a2)):
            if isinstance(x2, torch.Tensor) and x2.requires_grad:
                assert x1.grad is not None, f"no gradient for argument {i}"
                _close(x1.grad, x2.grad, dt, f"gradient of argument {i}")
    return a1, a2


@pytest.fixture
def rng():
    return np.random.default_rng(4321)


# ---------------------------------------------------------------- batch_norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", ["both", "none", "weight"])
def test_batch_norm_functional(rng, dtype, shape, training, affine):
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    w, b = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)
    rm, rv = rng.standard_normal(3).astype(dtype), rng.uniform(0.5, 2, 3).astype(dtype)
    extra = {"both": [w, b], "none": [], "weight": [w]}[affine]
    a1, a2 = compare(lambda F, L, x, rm, rv, *wb: F.batch_norm(x, rm, rv, *wb, training=training, momentum=0.3,
                                                               eps=1e-3), [x, rm, rv] + extra, no_grad=(1, 2))
    _close(a1[1], a2[1], dtype, "running_mean")  # updated in place in training, unchanged in eval
    _close(a1[2], a2[2], dtype, "running_var")


def test_batch_norm_without_running_stats(rng):
    x = rng.standard_normal((5, 4, 3)).astype("float32")
    compare(lambda F, L, x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, np.ones(4, "float32"),
                                                                                    np.zeros(4, "float32")])


def test_batch_norm_empty_batch_keeps_running_stats():
    m1, m2 = tnn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    x = tg.zeros(0, 3, requires_grad=True)
    y = m1(x)
    y.sum().backward()
    m2(torch.zeros(0, 3))
    assert tuple(y.shape) == (0, 3) and tuple(x.grad.shape) == (0, 3)
    assert m1.running_mean.tolist() == m2.running_mean.tolist() == [0.0] * 3
    assert m1.running_var.tolist() == m2.running_var.tolist() == [1.0] * 3


def test_norm_outputs_may_be_modified_in_place(rng):
    x = rng.standard_normal((4, 3, 2))
    w = rng.standard_normal(3)

    def call(F, L, x, w):
        y = F.batch_norm(x, None, None, w, None, training=True)
        y.add_(2)  # as an in-place activation after the layer would
        z = F.layer_norm(x, (3, 2))
        z.add_(1)
        return y * z

    compare(call, [x, w])


def test_batch_norm_gradcheck(rng):
    x = tg.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    w = tg.tensor(rng.standard_normal(2), requires_grad=True)
    b = tg.tensor(rng.standard_normal(2), requires_grad=True)
    rm, rv = tg.zeros(2, dtype=tg.float64), tg.ones(2, dtype=tg.float64)
    for training in [True, False]:
        fn = lambda x, w, b: TF.batch_norm(x, rm, rv, w, b, training=training)  # noqa: E731
        assert tg.autograd.gradcheck(fn, (x, w, b))
        assert tg.autograd.gradgradcheck(fn, (x, w, b))
    assert tg.autograd.gradgradcheck(lambda x: TF.batch_norm(x, None, None, training=True), (x,))


def test_batch_norm_errors():
    x = tg.randn(3, 5)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size "
                                         r"torch.Size\(\[1, 5\]\)"):
        TF.batch_norm(x[:1], tg.zeros(5), tg.ones(5), training=True)
    with pytest.raises(RuntimeError, match="running_mean should contain 5 elements not 4"):
        TF.batch_norm(x, tg.zeros(4), tg.ones(4), training=True)
    with pytest.raises(RuntimeError, match="weight should contain 5 elements not 4"):
        TF.batch_norm(x, tg.zeros(5), tg.ones(5), weight=tg.ones(4), training=True)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        TF.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size "
                                         r"torch.Size\(\[1, 5\]\)"):
        tnn.BatchNorm1d(5)(x[:1])
    with pytest.raises(RuntimeError, match="running_mean should contain 4 elements not 5"):
        tnn.BatchNorm1d(5)(tg.randn(3, 4))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 1D input\)"):
        tnn.BatchNorm1d(5)(tg.randn(5))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        tnn.BatchNorm2d(5)(x)
    with pytest.raises(ValueError, match=r"expected 5D input \(got 4D input\)"):
        tnn.BatchNorm3d(5)(tg.randn(2, 5, 2, 2))
    assert tuple(tnn.BatchNorm1d(5).eval()(x[:1]).shape) == (1, 5)  # eval mode accepts a batch of one


# ---------------------------------------------------------------- BatchNorm modules
def _copy_state(m1, m2):
    m1.load_state_dict({k: tg.tensor(v.detach().numpy().copy()) for k, v in m2.state_dict().items()})


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 4)), ("BatchNorm1d", (5, 4, 3)),
                                       ("BatchNorm2d", (3, 4, 5, 2)), ("BatchNorm3d", (2, 4, 3, 2, 2))])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False},
                                    {"momentum": 0.5, "eps": 1e-2, "bias": False}])
@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_modules_over_steps(rng, cls, shape, kwargs, dtype):
    m1, m2 = getattr(tnn, cls)(4, **kwargs), getattr(torch.nn, cls)(4, **kwargs)
    if dtype == "float64":
        m1, m2 = m1.double(), m2.double()
    assert repr(m1) == repr(m2)
    assert list(m1.state_dict()) == list(m2.state_dict())
    if m2.weight is not None:
        with torch.no_grad():
            m2.weight.copy_(torch.tensor(rng.uniform(0.5, 2, 4)))
            if m2.bias is not None:
                m2.bias.copy_(torch.tensor(rng.standard_normal(4)))
    _copy_state(m1, m2)
    for step in range(4):
        train = step < 3
        m1.train(train)
        m2.train(train)
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(dtype)
        compare(lambda F, L, x: (m1 if L is tg else m2)(x), [x], seed=step)
        for k, v in m2.state_dict().items():
            got = m1.state_dict()[k]
            assert str(got.dtype) == str(v.dtype)
            _close(got, v, dtype, k)
        for name, p in m2.named_parameters():
            _close(dict(m1.named_parameters())[name].grad, p.grad, dtype, name + ".grad")
        m1.zero_grad()
        m2.zero_grad()
    if m2.num_batches_tracked is not None:
        assert m1.num_batches_tracked.item() == m2.num_batches_tracked.item() == 3


def test_batchnorm_state_dict_roundtrip_and_old_checkpoint():
    m2 = torch.nn.BatchNorm2d(3)
    m2(torch.randn(4, 3, 2, 2))
    m1 = tnn.BatchNorm2d(3)
    sd = {k: tg.tensor(v.numpy().copy()) for k, v in m2.state_dict().items()}
    m1.load_state_dict(sd)
    assert m1.num_batches_tracked.item() == 1
    del sd["num_batches_tracked"]  # a pre-0.4 checkpoint: no metadata, no counter
    m1 = tnn.BatchNorm2d(3)
    m1.load_state_dict(sd)
    assert m1.num_batches_tracked.item() == 0
    m1.reset_running_stats()
    assert m1.running_var.tolist() == [1.0, 1.0, 1.0]


# ---------------------------------------------------------------- layer_norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,ns", [((4, 6), (6,)), ((2, 3, 4), (3, 4)), ((2, 3, 4), [4]), ((5,), (5,))])
@pytest.mark.parametrize("affine", ["both", "none", "weight", "bias"])
def test_layer_norm_functional(rng, dtype, shape, ns, affine):
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    nshape = tuple(ns)
    w, b = rng.standard_normal(nshape).astype(dtype), rng.standard_normal(nshape).astype(dtype)
    if affine == "both":
        compare(lambda F, L, x, w, b: F.layer_norm(x, ns, w, b, eps=1e-3), [x, w, b])
    elif affine == "weight":
        compare(lambda F, L, x, w: F.layer_norm(x, ns, w), [x, w])
    elif affine == "bias":
        compare(lambda F, L, x, b: F.layer_norm(x, ns, bias=b), [x, b])
    else:
        compare(lambda F, L, x: F.layer_norm(x, ns), [x])


def test_layer_norm_gradcheck(rng):
    x = tg.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    w = tg.tensor(rng.standard_normal(4), requires_grad=True)
    b = tg.tensor(rng.standard_normal(4), requires_grad=True)
    fn = lambda x, w, b: TF.layer_norm(x, (4,), w, b)  # noqa: E731
    assert tg.autograd.gradcheck(fn, (x, w, b))
    assert tg.autograd.gradgradcheck(fn, (x, w, b))
    assert tg.autograd.gradgradcheck(lambda x: TF.layer_norm(x, (2, 4)), (x,))


def test_layer_norm_errors():
    x = tg.randn(3, 5)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], "
                                           r"but got input of size\[3, 5\]"):
        TF.layer_norm(x, (4,))
    with pytest.raises(RuntimeError, match=r"Expected weight to be of same shape as normalized_shape, but got weight "
                                           r"of shape \[4\] and normalized_shape = \[5\]"):
        TF.layer_norm(x, (5,), weight=tg.ones(4))
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\]"):
        tnn.LayerNorm(4)(x)


@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-2}])
def test_layernorm_module(rng, kwargs):
    m1, m2 = tnn.LayerNorm((3, 4), **kwargs), torch.nn.LayerNorm((3, 4), **kwargs)
    assert repr(m1) == repr(m2) and list(m1.state_dict()) == list(m2.state_dict())
    if m2.weight is not None:
        with torch.no_grad():
            m2.weight.copy_(torch.tensor(rng.standard_normal((3, 4))))
    _copy_state(m1, m2)
    compare(lambda F, L, x: (m1 if L is tg else m2)(x), [rng.standard_normal((2, 3, 4)).astype("float32")])
    for name, p in m2.named_parameters():
        _close(dict(m1.named_parameters())[name].grad, p.grad, "float32", name)


# ---------------------------------------------------------------- group_norm / instance_norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((3, 4, 2, 3), 2), ((3, 8), 2), ((2, 6, 2, 2), 1)])
def test_group_norm(rng, dtype, shape, groups):
    x = (rng.standard_normal(shape) * 2 - 1).astype(dtype)
    C = shape[1]
    w, b = rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype)
    compare(lambda F, L, x, w, b: F.group_norm(x, groups, w, b, eps=1e-3), [x, w, b])
    compare(lambda F, L, x: F.group_norm(x, groups), [x])
    m1, m2 = tnn.GroupNorm(groups, C), torch.nn.GroupNorm(groups, C)
    if dtype == "float64":
        m1, m2 = m1.double(), m2.double()
    assert repr(m1) == repr(m2) and list(m1.state_dict()) == list(m2.state_dict())
    compare(lambda F, L, x: (m1 if L is tg else m2)(x), [x])
    _close(m1.weight.grad, m2.weight.grad, dtype)
    _close(m1.bias.grad, m2.bias.grad, dtype)


def test_group_norm_errors():
    with pytest.raises(RuntimeError, match=r"divisible by num_groups, but got input of shape \[2, 5, 3\] and "
                                           r"num_groups=2"):
        TF.group_norm(tg.randn(2, 5, 3), 2)
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups \(2\)"):
        tnn.GroupNorm(2, 5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 5), (3, 3, 2, 4)])
def test_instance_norm_functional(rng, dtype, shape):
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    w, b = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)
    rm, rv = rng.standard_normal(3).astype(dtype), rng.uniform(0.5, 2, 3).astype(dtype)
    compare(lambda F, L, x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-3), [x, w, b])
    a1, a2 = compare(lambda F, L, x, rm, rv: F.instance_norm(x, rm, rv, momentum=0.4), [x, rm, rv], no_grad=(1, 2))
    _close(a1[1], a2[1], dtype, "running_mean")
    _close(a1[2], a2[2], dtype, "running_var")
    compare(lambda F, L, x, rm, rv, w: F.instance_norm(x, rm, rv, w, use_input_stats=False), [x, rm, rv, w],
            no_grad=(1, 2))
    with pytest.raises(ValueError, match=r"Expected more than 1 spatial element when training, got input size "
                                         r"torch.Size\(\[2, 3, 1\]\)"):
        TF.instance_norm(tg.randn(2, 3, 1))


@pytest.mark.parametrize("cls,shape", [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm1d", (3, 5)),
                                       ("InstanceNorm2d", (2, 3, 4, 2)), ("InstanceNorm3d", (2, 3, 2, 2, 2))])
@pytest.mark.parametrize("kwargs", [{}, {"affine": True}, {"track_running_stats": True, "momentum": 0.3}])
def test_instancenorm_modules(rng, cls, shape, kwargs):
    m1, m2 = getattr(tnn, cls)(3, **kwargs), getattr(torch.nn, cls)(3, **kwargs)
    assert repr(m1) == repr(m2) and list(m1.state_dict()) == list(m2.state_dict())
    for train in [True, True, False]:
        m1.train(train)
        m2.train(train)
        compare(lambda F, L, x: (m1 if L is tg else m2)(x), [rng.standard_normal(shape).astype("float32")])
        for k, v in m2.state_dict().items():
            _close(m1.state_dict()[k], v, "float32", k)


def test_instancenorm_feature_mismatch():
    with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match num_features \(4\), but got: 3"):
        tnn.InstanceNorm1d(4, affine=True)(tg.randn(2, 3, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        tnn.InstanceNorm1d(4)(tg.randn(2, 3, 5))


# ---------------------------------------------------------------- local_response_norm / rms_norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 6, 4), (2, 5, 3, 3), (1, 4, 2, 2, 2)])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_local_response_norm(rng, dtype, shape, size):
    x = rng.standard_normal(shape).astype(dtype)
    compare(lambda F, L, x: F.local_response_norm(x, size, alpha=0.1, beta=0.6, k=2.0), [x])


def test_local_response_norm_module_and_errors(rng):
    m1, m2 = tnn.LocalResponseNorm(3), torch.nn.LocalResponseNorm(3)
    assert repr(m1) == repr(m2)
    compare(lambda F, L, x: (m1 if L is tg else m2)(x), [rng.standard_normal((2, 4, 3, 3)).astype("float32")])
    with pytest.raises(ValueError, match=r"Expected 3D or higher dimensionality input \(got 2 dimensions\)"):
        TF.local_response_norm(tg.randn(3, 4), 2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm(rng, dtype, eps):
    x = rng.standard_normal((3, 2, 4)).astype(dtype)
    w = rng.standard_normal((2, 4)).astype(dtype)
    compare(lambda F, L, x, w: F.rms_norm(x, (2, 4), w, eps=eps), [x, w])
    compare(lambda F, L, x: F.rms_norm(x, (4,), eps=eps), [x])
    for kwargs in [{}, {"elementwise_affine": False}, {"eps": 1e-2}]:
        m1, m2 = tnn.RMSNorm(4, **kwargs), torch.nn.RMSNorm(4, **kwargs)
        if dtype == "float64":
            m1, m2 = m1.double(), m2.double()
        assert repr(m1) == repr(m2) and list(m1.state_dict()) == list(m2.state_dict())
        compare(lambda F, L, x: (m1 if L is tg else m2)(x), [x])
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*4\]"):
        TF.rms_norm(tg.randn(3, 5), (4,))


def test_norms_keep_float32(rng):
    x = tg.tensor(rng.standard_normal((4, 3, 2, 2)).astype("float32"), requires_grad=True)
    outs = [TF.batch_norm(x, tg.zeros(3), tg.ones(3), tg.ones(3, requires_grad=True), tg.zeros(3), training=True),
            TF.layer_norm(x, (2, 2)), TF.group_norm(x, 3), TF.instance_norm(x), TF.rms_norm(x, (2,))]
    for o in outs:
        assert o.dtype == tg.float32
        o.sum().backward()
        assert x.grad.dtype == tg.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TF.batch_norm(x, None, None, training=True).sum().backward()


def test_training_loop_with_batchnorm_and_cross_entropy_matches_torch(rng):
    """A few SGD steps of x -> matmul -> BatchNorm1d -> relu -> matmul -> CrossEntropyLoss, in both frameworks."""
    W1 = (rng.standard_normal((12, 8)) * 0.3).astype("float32")
    W2 = (rng.standard_normal((8, 4)) * 0.3).astype("float32")
    X = rng.standard_normal((32, 12)).astype("float32")
    Y = rng.integers(0, 4, 32)

    def run(L, nn):
        w1, w2 = L.tensor(W1.copy(), requires_grad=True), L.tensor(W2.copy(), requires_grad=True)
        bn, ce = nn.BatchNorm1d(8), nn.CrossEntropyLoss(label_smoothing=0.1)
        params = [w1, w2, bn.weight, bn.bias]
        x, y = L.tensor(X), L.tensor(Y)
        losses = []
        for _ in range(5):
            loss = ce(bn(x @ w1).relu() @ w2, y)
            for p in params:
                p.grad = None
            loss.backward()
            with L.no_grad():
                for p in params:
                    p -= 0.1 * p.grad
            losses.append(loss.item())
        bn.eval()
        return losses, bn(x @ w1).detach().numpy(), bn.running_var.numpy().copy()

    (l1, e1, v1), (l2, e2, v2) = run(tg, tnn), run(torch, torch.nn)
    np.testing.assert_allclose(l1, l2, rtol=1e-5)
    np.testing.assert_allclose(e1, e2, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(v1, v2, rtol=1e-5)
