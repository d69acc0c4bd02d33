"""nn layers against PyTorch: both frameworks start from the same state_dict, then forward values,
input gradients and every parameter gradient are compared (train and eval mode where it matters).
Dropout is random in both, so it is checked by its statistics and mask consistency."""
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy()


def pair(make, dtype="float32"):
    """The same module in both frameworks, tapegrad's loaded from torch's state_dict (as NumPy arrays)."""
    tm = make(torch.nn)
    gm = make(tg.nn)
    if dtype == "float64":
        tm, gm = tm.double(), gm.double()
    res = gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    assert res.missing_keys == [] and res.unexpected_keys == []
    return tm, gm


def run_both(tm, gm, inputs, train=True, rtol=1e-5, atol=1e-6, grad_inputs=True):
    tm.train(train)
    gm.train(train)
    tin = [torch.tensor(x, requires_grad=grad_inputs and x.dtype.kind == "f") if isinstance(x, np.ndarray) else x
           for x in inputs]
    gin = [tg.tensor(x, requires_grad=grad_inputs and x.dtype.kind == "f") if isinstance(x, np.ndarray) else x
           for x in inputs]
    to, go = tm(*tin), gm(*gin)
    assert isinstance(go, tg.Tensor)
    assert tuple(go.shape) == tuple(to.shape)
    assert go.dtype.name == str(to.dtype).replace("torch.", "")
    np.testing.assert_allclose(_np(go), _np(to), rtol=rtol, atol=atol, err_msg="forward")
    if not to.requires_grad:
        return to, go
    w = np.random.default_rng(7).standard_normal(tuple(to.shape)).astype(_np(to).dtype)
    (to * torch.from_numpy(w)).sum().backward()
    (go * tg.from_numpy(w)).sum().backward()
    for i, (a, b) in enumerate(zip(gin, tin)):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            assert a.grad is not None, f"input {i} got no gradient"
            np.testing.assert_allclose(_np(a.grad), _np(b.grad), rtol=rtol, atol=atol, err_msg=f"grad input {i}")
    tp = dict(tm.named_parameters())
    gp = dict(gm.named_parameters())
    assert tp.keys() == gp.keys()
    for k in tp:
        if tp[k].grad is None:
            assert gp[k].grad is None or not gp[k].grad.numpy().any(), k
            continue
        assert gp[k].grad is not None, f"parameter {k} got no gradient"
        assert gp[k].grad.shape == gp[k].shape
        np.testing.assert_allclose(_np(gp[k].grad), _np(tp[k].grad), rtol=rtol, atol=atol, err_msg=f"grad {k}")
    return to, go


R = np.random.default_rng(0)


def x(*shape, low=-3.0, high=3.0, dtype="float32"):
    return R.uniform(low, high, size=shape).astype(dtype)


# (id, constructor, inputs) — every layer with parameters or arguments worth checking
LAYERS = [
    ("Linear", lambda nn: nn.Linear(5, 3), lambda: [x(4, 5)]),
    ("Linear-nobias", lambda nn: nn.Linear(5, 3, bias=False), lambda: [x(4, 5)]),
    ("Linear-3d", lambda nn: nn.Linear(5, 3), lambda: [x(2, 4, 5)]),
    ("Linear-1d", lambda nn: nn.Linear(5, 3), lambda: [x(5)]),
    # few rows and a wide weight take Linear's transposed-product path
    ("Linear-wide", lambda nn: nn.Linear(70, 130), lambda: [x(6, 70)]),
    ("Linear-wide-nobias-3d", lambda nn: nn.Linear(70, 130, bias=False), lambda: [x(2, 3, 70)]),
    ("Linear-wide-1d", lambda nn: nn.Linear(70, 130), lambda: [x(70)]),
    ("Linear-wide-manyrows", lambda nn: nn.Linear(70, 130), lambda: [x(65, 70)]),
    ("Bilinear", lambda nn: nn.Bilinear(3, 4, 2), lambda: [x(5, 3), x(5, 4)]),
    ("Bilinear-nobias", lambda nn: nn.Bilinear(3, 4, 2, bias=False), lambda: [x(2, 5, 3), x(2, 5, 4)]),
    ("Identity", lambda nn: nn.Identity(3, foo=1), lambda: [x(2, 3)]),
    ("Flatten", lambda nn: nn.Flatten(), lambda: [x(2, 3, 4, 5)]),
    ("Flatten-range", lambda nn: nn.Flatten(0, 2), lambda: [x(2, 3, 4, 5)]),
    ("Unflatten", lambda nn: nn.Unflatten(1, (2, 3)), lambda: [x(4, 6)]),
    ("ReLU", lambda nn: nn.ReLU(), lambda: [x(3, 4)]),
    ("ReLU6", lambda nn: nn.ReLU6(), lambda: [x(3, 4, low=-8, high=8)]),
    ("LeakyReLU", lambda nn: nn.LeakyReLU(0.1), lambda: [x(3, 4)]),
    ("ELU", lambda nn: nn.ELU(alpha=0.7), lambda: [x(3, 4)]),
    ("CELU", lambda nn: nn.CELU(alpha=1.5), lambda: [x(3, 4)]),
    ("SELU", lambda nn: nn.SELU(), lambda: [x(3, 4)]),
    ("GELU", lambda nn: nn.GELU(), lambda: [x(3, 4)]),
    ("GELU-tanh", lambda nn: nn.GELU(approximate="tanh"), lambda: [x(3, 4)]),
    ("SiLU", lambda nn: nn.SiLU(), lambda: [x(3, 4)]),
    ("Mish", lambda nn: nn.Mish(), lambda: [x(3, 4)]),
    ("Sigmoid", lambda nn: nn.Sigmoid(), lambda: [x(3, 4)]),
    ("Tanh", lambda nn: nn.Tanh(), lambda: [x(3, 4)]),
    ("Softplus", lambda nn: nn.Softplus(beta=2, threshold=4), lambda: [x(3, 4)]),
    ("Hardtanh", lambda nn: nn.Hardtanh(-2.0, 1.5), lambda: [x(3, 4)]),
    ("Hardswish", lambda nn: nn.Hardswish(), lambda: [x(3, 4, low=-5, high=5)]),
    ("Hardsigmoid", lambda nn: nn.Hardsigmoid(), lambda: [x(3, 4, low=-5, high=5)]),
    ("Softsign", lambda nn: nn.Softsign(), lambda: [x(3, 4)]),
    ("Tanhshrink", lambda nn: nn.Tanhshrink(), lambda: [x(3, 4)]),
    ("Threshold", lambda nn: nn.Threshold(0.5, -1.0), lambda: [x(3, 4)]),
    ("GLU", lambda nn: nn.GLU(dim=1), lambda: [x(3, 4)]),
    ("LogSigmoid", lambda nn: nn.LogSigmoid(), lambda: [x(3, 4, low=-30, high=30)]),
    ("Hardshrink", lambda nn: nn.Hardshrink(0.7), lambda: [x(3, 4)]),
    ("Softshrink", lambda nn: nn.Softshrink(0.7), lambda: [x(3, 4)]),
    ("RReLU", lambda nn: nn.RReLU(0.1, 0.3), lambda: [x(3, 4)]),  # eval mode only: deterministic slope
    ("PReLU", lambda nn: nn.PReLU(), lambda: [x(2, 3, 4)]),
    ("PReLU-channels", lambda nn: nn.PReLU(3, init=0.1), lambda: [x(2, 3, 4)]),
    ("Softmax", lambda nn: nn.Softmax(dim=1), lambda: [x(3, 4)]),
    ("LogSoftmax", lambda nn: nn.LogSoftmax(dim=-1), lambda: [x(2, 3, 4)]),
    ("Softmin", lambda nn: nn.Softmin(dim=0), lambda: [x(3, 4)]),
    ("Softmax2d", lambda nn: nn.Softmax2d(), lambda: [x(2, 3, 4, 5)]),
    ("Embedding", lambda nn: nn.Embedding(10, 4), lambda: [np.array([[1, 2, 9], [9, 0, 1]])]),
    ("Embedding-pad", lambda nn: nn.Embedding(10, 4, padding_idx=1), lambda: [np.array([[1, 2, 9], [9, 1, 1]])]),
    ("Embedding-freq", lambda nn: nn.Embedding(10, 4, scale_grad_by_freq=True), lambda: [np.array([1, 2, 2, 2, 9])]),
    ("ZeroPad2d", lambda nn: nn.ZeroPad2d((1, 2, 0, 1)), lambda: [x(1, 2, 3, 4)]),
    ("ZeroPad1d", lambda nn: nn.ZeroPad1d(2), lambda: [x(2, 3, 4)]),
    ("ConstantPad1d", lambda nn: nn.ConstantPad1d((2, 1), 3.5), lambda: [x(2, 3, 4)]),
    ("ConstantPad2d", lambda nn: nn.ConstantPad2d(1, -1.0), lambda: [x(2, 3, 4)]),
    ("ConstantPad2d-crop", lambda nn: nn.ConstantPad2d((-1, 1, 2, -1), 0.5), lambda: [x(1, 2, 3, 4)]),
    ("ConstantPad3d", lambda nn: nn.ConstantPad3d(1, 2.0), lambda: [x(1, 1, 2, 3, 2)]),
    ("ReflectionPad1d", lambda nn: nn.ReflectionPad1d((3, 1)), lambda: [x(2, 3, 5)]),
    ("ReflectionPad2d", lambda nn: nn.ReflectionPad2d(2), lambda: [x(1, 2, 3, 4)]),
    ("ReflectionPad2d-3d-input", lambda nn: nn.ReflectionPad2d((1, 0, 2, 1)), lambda: [x(2, 3, 4)]),
    ("ReflectionPad3d", lambda nn: nn.ReflectionPad3d(1), lambda: [x(1, 1, 2, 3, 4)]),
    ("ReplicationPad1d", lambda nn: nn.ReplicationPad1d((0, 3)), lambda: [x(2, 3, 4)]),
    ("ReplicationPad2d", lambda nn: nn.ReplicationPad2d((1, 2, 3, 0)), lambda: [x(1, 2, 3, 4)]),
    ("ReplicationPad3d", lambda nn: nn.ReplicationPad3d((1, 0, 0, 1, 1, 1)), lambda: [x(1, 1, 2, 3, 4)]),
    ("CircularPad2d", lambda nn: nn.CircularPad2d((1, 2, 2, 0)), lambda: [x(1, 2, 3, 4)]),
    ("Upsample-nearest", lambda nn: nn.Upsample(scale_factor=2), lambda: [x(1, 2, 3, 4)]),
    ("Upsample-nearest-size", lambda nn: nn.Upsample(size=(5, 7)), lambda: [x(1, 2, 3, 4)]),
    ("Upsample-nearest-1d", lambda nn: nn.Upsample(scale_factor=3), lambda: [x(2, 2, 3)]),
    ("Upsample-bilinear", lambda nn: nn.Upsample(scale_factor=2, mode="bilinear"), lambda: [x(1, 2, 3, 4)]),
    ("Upsample-bilinear-ac", lambda nn: nn.Upsample(size=(5, 6), mode="bilinear", align_corners=True),
     lambda: [x(1, 2, 3, 4)]),
    ("Upsample-bilinear-down", lambda nn: nn.Upsample(scale_factor=0.6, mode="bilinear"), lambda: [x(1, 2, 5, 6)]),
    ("UpsamplingNearest2d", lambda nn: nn.UpsamplingNearest2d(scale_factor=3), lambda: [x(1, 1, 2, 3)]),
    ("UpsamplingBilinear2d", lambda nn: nn.UpsamplingBilinear2d(size=(4, 7)), lambda: [x(1, 1, 2, 3)]),
    ("Dropout-eval", lambda nn: nn.Dropout(0.3), lambda: [x(3, 4)]),
    ("CosineSimilarity", lambda nn: nn.CosineSimilarity(dim=0), lambda: [x(4, 3), x(4, 3)]),
    ("PairwiseDistance", lambda nn: nn.PairwiseDistance(p=1.5, keepdim=True), lambda: [x(4, 3), x(4, 3)]),
]


@pytest.mark.parametrize("name,make,inputs", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(name, make, inputs):
    tm, gm = pair(make)
    assert repr(gm) == repr(tm)
    ins = inputs()
    train_modes = [False] if name in ("RReLU", "Dropout-eval") else [True, False]
    for train in train_modes:
        tm.zero_grad()
        gm.zero_grad()
        run_both(tm, gm, ins, train=train)


@pytest.mark.parametrize("name,make,inputs", [c for c in LAYERS if c[0] in (
    "Linear", "Linear-3d", "Bilinear", "GELU", "SiLU", "ELU", "Mish", "Softplus", "Embedding-pad", "PReLU-channels",
    "Upsample-bilinear", "ReflectionPad2d")], ids=lambda c: c if isinstance(c, str) else "")
def test_layer_matches_torch_float64(name, make, inputs):
    tm, gm = pair(make, "float64")
    ins = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in inputs()]
    run_both(tm, gm, ins, rtol=1e-10, atol=1e-12)


def test_default_initialisation_distributions():
    tg.manual_seed(0)
    lin = tg.nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives the same bound as the bias
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert w.dtype == np.float32 and w.shape == (300, 400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound
    assert np.abs(b).max() <= bound
    emb = tg.nn.Embedding(1000, 50, padding_idx=3)
    e = emb.weight.detach().numpy()
    assert (e[3] == 0).all() and abs(e.std() - 1) < 0.02 and abs(e.mean()) < 0.02
    bil = tg.nn.Bilinear(16, 5, 8)
    assert np.abs(bil.weight.detach().numpy()).max() <= 0.25 and np.abs(bil.bias.detach().numpy()).max() <= 0.25
    assert (tg.nn.PReLU(4).weight.detach().numpy() == 0.25).all()
    assert lin.weight.requires_grad and lin.weight.is_leaf and isinstance(lin.weight, tg.nn.Parameter)
    assert tg.nn.Linear(3, 2, dtype=tg.float64).weight.dtype == tg.float64


def test_linear_errors():
    lin = tg.nn.Linear(256, 128)
    with pytest.raises(RuntimeError) as e:
        lin(tg.randn(100, 320))
    assert str(e.value) == "Linear(in_features=256): input has 320 features (shape (100, 320))"
    with pytest.raises(RuntimeError, match="same dtype"):
        lin(tg.randn(2, 256, dtype=tg.float64))
    with pytest.raises(RuntimeError, match="at least 1D"):
        tg.nn.functional.linear(tg.tensor(1.0), lin.weight)


def test_linear_no_graph_without_grad():
    lin = tg.nn.Linear(4, 2)
    with tg.no_grad():
        y = lin(tg.randn(3, 4))
    assert y.grad_fn is None and not y.requires_grad
    lin.requires_grad_(False)
    y = lin(tg.randn(3, 4))
    assert y.grad_fn is None


def test_linear_double_backward_matches_torch():
    xs, ws = x(3, 4, dtype="float64"), x(2, 4, dtype="float64")
    out = []
    for m in (tg, torch):
        xi = m.tensor(xs, requires_grad=True)
        wi = m.tensor(ws, requires_grad=True)
        y = m.nn.functional.linear(xi, wi).tanh().sum()
        (gx,) = m.autograd.grad(y, xi, create_graph=True)
        (gx * gx).sum().backward()
        out.append((_np(wi.grad), _np(xi.grad)))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- in-place activations
INPLACE = [("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {}), ("selu", {}),
           ("celu", {}), ("silu", {}), ("mish", {}), ("hardswish", {}), ("hardsigmoid", {}), ("hardtanh", {}),
           ("threshold", {"threshold": 0.1, "value": 2.0}), ("rrelu", {})]


@pytest.mark.parametrize("name,kw", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_activation(name, kw):
    data = x(3, 4)
    ref = getattr(torch.nn.functional, name)(torch.tensor(data), **kw)
    t = tg.tensor(data)
    out = getattr(tg.nn.functional, name)(t, inplace=True, **kw)
    assert out is t
    np.testing.assert_allclose(t.numpy(), ref.numpy(), rtol=1e-6, atol=1e-7)
    # through a graph: in-place on a non-leaf keeps gradients right
    for m in (tg, torch):
        a = m.tensor(data, requires_grad=True)
        b = a * 2
        getattr(m.nn.functional, name)(b, inplace=True, **kw)
        b.sum().backward()
        if m is tg:
            ga = _np(a.grad)
        else:
            np.testing.assert_allclose(ga, _np(a.grad), rtol=1e-5, atol=1e-6)
    # on a leaf that requires grad it is refused, as in PyTorch
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(tg.nn.functional, name)(tg.tensor(data, requires_grad=True), inplace=True, **kw)


def test_inplace_modules_and_repr():
    for make in (lambda nn: nn.ReLU(inplace=True), lambda nn: nn.LeakyReLU(0.2, inplace=True),
                 lambda nn: nn.ELU(inplace=True), lambda nn: nn.Hardtanh(inplace=True), lambda nn: nn.SiLU(True),
                 lambda nn: nn.ReLU6(inplace=True), lambda nn: nn.Threshold(0.1, 20, inplace=True),
                 lambda nn: nn.RReLU(inplace=True), lambda nn: nn.SELU(True), lambda nn: nn.Mish(True),
                 lambda nn: nn.Dropout(0.2, inplace=True)):
        tm, gm = make(torch.nn), make(tg.nn)
        assert repr(gm) == repr(tm)
        gm.eval()
        t = tg.tensor(x(2, 3))
        y = gm(t)
        assert y is t


def test_activation_dtype_errors():
    F = tg.nn.functional
    with pytest.raises(NotImplementedError, match="GeluKernelImpl"):
        F.gelu(tg.tensor([1]))
    with pytest.raises(NotImplementedError, match='"silu_cpu" not implemented for \'Long\''):
        F.silu(tg.tensor([1]))
    assert F.relu(tg.tensor([-1, 2])).tolist() == [0, 2]
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(tg.randn(2), approximate="foo")
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 5"):
        F.glu(tg.randn(3, 5), 1)
    with pytest.raises(RuntimeError, match="parameter numbers = 3 and channel size = 5"):
        F.prelu(tg.randn(3, 5), tg.randn(3))
    with pytest.raises(AssertionError):
        tg.nn.Hardtanh(1.0, -1.0)


def test_softmax_implicit_dim_warns_like_torch():
    data = x(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        a = tg.nn.functional.softmax(tg.tensor(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = torch.nn.functional.softmax(torch.tensor(data))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    np.testing.assert_allclose(tg.nn.Softmax(dim=1)(tg.tensor(data)).numpy(), b.numpy(), rtol=1e-6)
    assert tg.nn.functional.log_softmax(tg.tensor(data), 1, dtype=tg.float64).dtype == tg.float64


# ---------------------------------------------------------------- dropout
def test_dropout_statistics_and_mask():
    tg.manual_seed(0)
    p = 0.3
    data = np.random.default_rng(1).uniform(1, 2, size=(200, 500)).astype(np.float32)
    a = tg.tensor(data, requires_grad=True)
    y = tg.nn.functional.dropout(a, p)
    out = y.detach().numpy()
    kept = out != 0
    assert abs(1 - kept.mean() - p) < 0.01
    np.testing.assert_allclose(out[kept], data[kept] / (1 - p), rtol=1e-6)
    y.sum().backward()
    g = a.grad.numpy()
    assert ((g != 0) == kept).all()
    np.testing.assert_allclose(g[kept], 1 / (1 - p), rtol=1e-6)
    assert y.dtype == tg.float32 and a.grad.dtype == tg.float32
    # module: train vs eval, and reproducibility from the seed
    d = tg.nn.Dropout(p)
    tg.manual_seed(5)
    y1 = d(tg.tensor(data)).numpy()
    tg.manual_seed(5)
    y2 = d(tg.tensor(data)).numpy()
    np.testing.assert_array_equal(y1, y2)
    d.eval()
    t = tg.tensor(data)
    assert d(t) is t
    assert tg.nn.functional.dropout(t, 0.5, training=False) is t
    assert tg.nn.functional.dropout(t, 0.0) is t
    assert (tg.nn.functional.dropout(t, 1.0).numpy() == 0).all()
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        tg.nn.functional.dropout(t, 1.5)
    with pytest.raises(ValueError, match="dropout probability"):
        tg.nn.Dropout(-0.1)


def test_dropout_inplace():
    tg.manual_seed(3)
    data = np.ones((50, 40), np.float32)
    t = tg.tensor(data)
    out = tg.nn.functional.dropout(t, 0.5, inplace=True)
    assert out is t
    vals = set(np.unique(t.numpy()).tolist())
    assert vals == {0.0, 2.0}


@pytest.mark.parametrize("fn,shape,channel_axes", [
    ("dropout2d", (8, 16, 5, 6), 2), ("dropout1d", (8, 16, 7), 2), ("dropout1d", (16, 7), 1),
    ("dropout3d", (4, 8, 2, 3, 4), 2), ("dropout3d", (8, 2, 3, 4), 1)])
def test_feature_dropout_is_channelwise(fn, shape, channel_axes):
    tg.manual_seed(0)
    p = 0.4
    data = np.random.default_rng(0).uniform(1, 2, size=shape).astype(np.float32)
    a = tg.tensor(data, requires_grad=True)
    y = getattr(tg.nn.functional, fn)(a, p)
    out = y.detach().numpy().reshape(int(np.prod(shape[:channel_axes])), -1)
    zero = (out == 0)
    assert (zero.all(1) | (~zero).all(1)).all(), "a channel is either dropped or kept whole"
    kept = ~zero[:, 0]
    np.testing.assert_allclose(out[kept], data.reshape(out.shape)[kept] / (1 - p), rtol=1e-6)
    assert 0.1 < zero[:, 0].mean() < 0.8
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy().reshape(out.shape) != 0, ~zero)


def test_dropout2d_module_and_warnings():
    tg.manual_seed(1)
    m = tg.nn.Dropout2d(0.5)
    assert repr(m) == repr(torch.nn.Dropout2d(0.5))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        m(tg.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D input"):
        tg.nn.Dropout1d()(tg.randn(1, 2, 3, 4))
    m.eval()
    t = tg.randn(2, 3, 4, 4)
    assert m(t) is t


def test_alpha_dropout_keeps_mean_and_variance():
    tg.manual_seed(0)
    data = np.random.default_rng(0).standard_normal((400, 500)).astype(np.float32)
    m = tg.nn.AlphaDropout(0.2)
    assert repr(m) == repr(torch.nn.AlphaDropout(0.2))
    a = tg.tensor(data, requires_grad=True)
    y = m(a)
    out = y.detach().numpy()
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02
    # torch's statistics for the same input, for comparison
    ref = torch.nn.AlphaDropout(0.2)(torch.tensor(data)).numpy()
    assert abs(out.std() - ref.std()) < 0.02
    y.sum().backward()
    g = a.grad.numpy()
    a_scale = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8)
    assert np.unique(g).size == 2 and g.min() == 0
    np.testing.assert_allclose(g.max(), a_scale, rtol=1e-6)
    dropped = 1.7580993408473766 * a_scale * (0.2 - 1)  # every dropped unit takes this value
    np.testing.assert_array_equal(g == 0, np.isclose(out, dropped, rtol=0, atol=1e-6))
    kept = g != 0
    np.testing.assert_allclose(out[kept], data[kept] * a_scale + 1.7580993408473766 * a_scale * 0.2, rtol=1e-5,
                               atol=1e-6)
    m.eval()
    assert m(a) is a
    assert tg.nn.functional.alpha_dropout(a, 0.5) is a  # training=False by default, as in PyTorch


# ---------------------------------------------------------------- embedding
def test_embedding_padding_idx_and_from_pretrained():
    tm, gm = pair(lambda nn: nn.Embedding(6, 3, padding_idx=-1))
    assert gm.padding_idx == 5 and repr(gm) == repr(tm)
    idx = np.array([[5, 1], [1, 5]])
    run_both(tm, gm, [idx])
    assert not gm.weight.grad.numpy()[5].any()
    w = tg.randn(4, 2)
    e = tg.nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad and e.weight.shape == (4, 2)
    np.testing.assert_array_equal(e(tg.tensor([3, 0])).numpy(), w.numpy()[[3, 0]])
    e2 = tg.nn.Embedding.from_pretrained(w, freeze=False, padding_idx=0)
    assert e2.weight.requires_grad
    assert repr(e2) == repr(torch.nn.Embedding.from_pretrained(torch.randn(4, 2), freeze=False, padding_idx=0))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        tg.nn.Embedding(3, 2, padding_idx=3)


def test_embedding_max_norm_renormalises_like_torch():
    for norm_type in (2.0, 1.0):
        tm, gm = pair(lambda nn: nn.Embedding(8, 4, max_norm=1.0, norm_type=norm_type))
        with torch.no_grad():
            tm.weight.mul_(3)
        gm.load_state_dict(tm.state_dict())
        idx = np.array([[0, 2, 2], [7, 0, 1]])
        assert repr(gm) == repr(tm)
        run_both(tm, gm, [idx])
        np.testing.assert_allclose(gm.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-6)
        assert gm.weight._version > 0


def test_embedding_errors_and_dtypes():
    e = tg.nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        e(tg.tensor([5]))
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices' to have one of the following"):
        e(tg.tensor([1.0]))
    assert e(tg.tensor([1, 2], dtype=tg.int32)).shape == (2, 2)
    assert e(tg.tensor(3)).shape == (2,)


# ---------------------------------------------------------------- one_hot, pad, interpolate, utilities
def test_one_hot():
    F = tg.nn.functional
    idx = np.array([[0, 2], [1, 4]])
    for nc in (-1, 6):
        a = F.one_hot(tg.tensor(idx), nc)
        b = torch.nn.functional.one_hot(torch.tensor(idx), nc)
        assert a.dtype == tg.int64 and a.shape == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert F.one_hot(tg.tensor(2), 3).tolist() == [0, 0, 1]
    for bad, msg in [((tg.tensor([1.0]),), "one_hot is only applicable to index tensor of type LongTensor."),
                     ((tg.tensor([1, -1]),), "Class values must be non-negative."),
                     ((tg.tensor([1, 5]), 3), "Class values must be smaller than num_classes."),
                     ((tg.tensor([], dtype=tg.int64),), "Can not infer total number of classes from empty tensor.")]:
        with pytest.raises(RuntimeError) as e:
            F.one_hot(*bad)
        assert str(e.value) == msg
    assert F.one_hot(tg.tensor([], dtype=tg.int64), 3).shape == (0, 3)


def test_pad_errors_like_torch():
    F = tg.nn.functional
    cases = [((tg.randn(2, 3), (1,)), {}, RuntimeError, "Padding length must be divisible by 2"),
             ((tg.randn(2, 3), (1, 1, 1, 1, 1, 1)), {}, RuntimeError, "Padding length should be less than or equal"),
             ((tg.randn(5), (1, 1)), {"mode": "reflect"}, NotImplementedError, "Padding size 2 is not supported for 1D"),
             ((tg.randn(1, 2, 3), (3, 3)), {"mode": "reflect"}, RuntimeError, "Padding size should be less than"),
             ((tg.randn(1, 2, 3), (4, 4)), {"mode": "circular"}, RuntimeError, "wrapping around more than once"),
             ((tg.randn(1, 2, 3), (1, 1)), {"mode": "foo"}, NotImplementedError, "Unrecognised padding mode foo"),
             ((tg.randn(1, 2, 3), (1, 1)), {"mode": "reflect", "value": 1.0}, RuntimeError, "doesn't take in value")]
    for args, kw, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            F.pad(*args, **kw)
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        tg.nn.CircularPad2d(1)(tg.randn(2, 3))


def test_interpolate_errors_like_torch():
    F = tg.nn.functional
    x4 = tg.randn(1, 1, 4, 4)
    with pytest.raises(NotImplementedError, match="Got 3D input, but bilinear mode needs 4D input"):
        F.interpolate(tg.randn(1, 1, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(x4, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x4, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(x4)
    with pytest.raises(ValueError, match="Input and output must have the same number of spatial dimensions"):
        F.interpolate(x4, size=(2, 3, 4))


def test_upsample_repr():
    for make in (lambda nn: nn.Upsample(scale_factor=2), lambda nn: nn.Upsample(size=(3, 4), mode="bilinear"),
                 lambda nn: nn.Upsample(scale_factor=(2, 3), mode="nearest"), lambda nn: nn.UpsamplingNearest2d(size=4),
                 lambda nn: nn.UpsamplingBilinear2d(scale_factor=2)):
        assert repr(make(tg.nn)) == repr(make(torch.nn))


def test_interpolate_odd_scale_matches_torch():
    data = x(2, 3, 5, 7)
    for kw in ({"scale_factor": 1.3}, {"scale_factor": 0.7}, {"size": (9, 4)}, {"scale_factor": (2.4, 1.9)}):
        for mode, ac in (("nearest", None), ("bilinear", False), ("bilinear", True), ("nearest-exact", None)):
            a = tg.nn.functional.interpolate(tg.tensor(data), mode=mode, align_corners=ac, **kw)
            b = torch.nn.functional.interpolate(torch.tensor(data), mode=mode, align_corners=ac, **kw)
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=f"{mode} {kw}")


def test_normalize_and_distances_match_torch():
    a, b = x(4, 5), x(4, 5)
    a[0] = 0  # a zero row: eps keeps it finite in both
    for fn, args, kw in (("normalize", (a,), {}), ("normalize", (a,), {"p": 1, "dim": 0}),
                         ("cosine_similarity", (a, b), {}), ("cosine_similarity", (a, b), {"dim": 0}),
                         ("pairwise_distance", (a, b), {"p": 3.0}), ("pairwise_distance", (a, a), {})):
        outs = []
        for m in (tg, torch):
            ins = [m.tensor(v, requires_grad=True) for v in args]
            y = getattr(m.nn.functional, fn)(*ins, **kw)
            y.sum().backward()
            outs.append([_np(y)] + [_np(i.grad) for i in ins])
        for u, v in zip(*outs):
            np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6, err_msg=f"{fn} {kw}")


def test_gumbel_softmax():
    tg.manual_seed(0)
    logits = np.log(np.array([[0.1, 0.2, 0.7]], np.float32))
    big = tg.tensor(np.repeat(logits, 20000, 0), requires_grad=True)
    soft = tg.nn.functional.gumbel_softmax(big, tau=0.5)
    np.testing.assert_allclose(soft.detach().numpy().sum(1), 1, rtol=1e-5)
    hard = tg.nn.functional.gumbel_softmax(big, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h).tolist()) == {0.0, 1.0} and (h.sum(1) == 1).all()
    np.testing.assert_allclose(h.mean(0), [0.1, 0.2, 0.7], atol=0.015)  # argmax of Gumbel-perturbed logits
    (hard * tg.arange(3.0)).sum().backward()
    assert big.grad is not None and np.abs(big.grad.numpy()).sum() > 0  # straight-through gradient


def test_numpy_erf_fallback(monkeypatch):
    """gelu's erf without SciPy: the NumPy implementation matches math.erf, and gelu still matches torch."""
    import math

    from tapegrad._ops import activation as A
    from tapegrad._ops import elementwise as E

    xs = np.concatenate([np.linspace(-7, 7, 4001), np.logspace(-12, 1, 200), -np.logspace(-12, 1, 200), [0.0]])
    ref = np.array([math.erf(v) for v in xs])
    got = E._erf_numpy(xs)
    np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-15)
    assert E._erf_numpy(xs.astype(np.float32)).dtype == np.float32
    monkeypatch.setattr(A, "_erf", E._erf_numpy)
    data = x(5, 7)
    for m in (tg, torch):
        t = m.tensor(data, requires_grad=True)
        y = m.nn.functional.gelu(t)
        y.sum().backward()
        if m is tg:
            mine = (_np(y), _np(t.grad))
        else:
            # torch's float32 erf is a few ulp off near erf = -1, where 1 + erf cancels: hence atol
            np.testing.assert_allclose(mine[0], _np(y), rtol=1e-5, atol=2e-6)
            np.testing.assert_allclose(mine[1], _np(t.grad), rtol=1e-5, atol=2e-6)
