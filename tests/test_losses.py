"""Loss functions and modules against PyTorch: values, gradients, every option, errors."""
import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as tnn
import tapegrad.nn.functional as TF

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

TOL = {"float32": dict(rtol=3e-5, atol=3e-6), "float64": dict(rtol=1e-9, atol=1e-11)}
REDUCTIONS = ["mean", "sum", "none"]


def _pair(a, grad):
    if isinstance(a, np.ndarray):
        t1, t2 = tg.tensor(a.copy()), torch.tensor(a.copy())
        if grad and a.dtype.kind == "f":
            t1.requires_grad_(True)
            t2.requires_grad_(True)
        return t1, t2
    return a, a


def compare(call, args, grad=True, no_grad=(), rtol=None, atol=None, seed=0):
    """call(F, lib, *args), written once for both frameworks. Float arrays in args require grad (except the
    indices in no_grad); compares the value, dtype and shape, then the gradients of a random weighted sum."""
    pairs = [_pair(a, grad and i not in no_grad) for i, a in enumerate(args)]
    a1, a2 = [p[0] for p in pairs], [p[1] for p in pairs]
    o1, o2 = call(TF, tg, *a1), call(F, torch, *a2)
    tol = dict(TOL["float64" if o2.dtype == torch.float64 else "float32"])
    tol.update({k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None})
    assert tuple(o1.shape) == tuple(o2.shape)
    assert str(o1.dtype) == str(o2.dtype)
    np.testing.assert_allclose(o1.detach().numpy(), o2.detach().numpy(), equal_nan=True, **tol)
    if grad and o2.requires_grad:
        w = np.random.default_rng(seed).standard_normal(tuple(o2.shape)).astype(o1.detach().numpy().dtype)
        (o1 * tg.tensor(w)).sum().backward()
        (o2 * torch.tensor(w)).sum().backward()
        for i, (x1, x2) in enumerate(zip(a1, a2)):
            if isinstance(x2, torch.Tensor) and x2.requires_grad:
                assert x1.grad is not None, f"no gradient for argument {i}"
                np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), equal_nan=True,
                                           err_msg=f"gradient of argument {i}", **tol)
    return o1, o2


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ---------------------------------------------------------------- cross_entropy, class indices
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_index(rng, dtype, reduction, use_weight, smoothing, ignore):
    x = (rng.standard_normal((7, 5)) * 3).astype(dtype)
    t = rng.integers(0, 5, 7)
    if ignore:
        t[[1, 4]] = 3  # ignore_index=3 below
    w = rng.uniform(0.2, 2.0, 5).astype(dtype)
    args = [x, t] + ([w] if use_weight else [])
    compare(lambda F, L, x, t, *w: F.cross_entropy(x, t, *w, ignore_index=3 if ignore else -100,
                                                   reduction=reduction, label_smoothing=smoothing),
            args, no_grad=(2,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_kdim(rng, reduction, use_weight, smoothing):
    x = rng.standard_normal((3, 4, 2, 5)).astype("float32")
    t = rng.integers(0, 4, (3, 2, 5))
    t[0, 1, :2] = -100
    w = rng.uniform(0.2, 2.0, 4).astype("float32")
    compare(lambda F, L, x, t, *w: F.cross_entropy(x, t, *w, reduction=reduction, label_smoothing=smoothing),
            [x, t] + ([w] if use_weight else []), no_grad=(2,))
    compare(lambda F, L, x, t: F.cross_entropy(x, t, reduction=reduction), [x[:, :, 0], t[:, 0]])  # (N, C, d1)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_unbatched(rng, reduction):
    x = rng.standard_normal(6).astype("float32")
    compare(lambda F, L, x, t: F.cross_entropy(x, t, reduction=reduction, label_smoothing=0.1),
            [x, np.array(2)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probabilities(rng, reduction, use_weight, smoothing):
    x = rng.standard_normal((6, 4)).astype("float64")
    p = rng.random((6, 4))
    p /= p.sum(1, keepdims=True)
    w = rng.uniform(0.5, 2.0, 4)
    compare(lambda F, L, x, p, *w: F.cross_entropy(x, p, *w, reduction=reduction, label_smoothing=smoothing),
            [x, p] + ([w] if use_weight else []), no_grad=(2,))
    x4 = rng.standard_normal((2, 4, 3)).astype("float32")
    p4 = rng.random((2, 4, 3)).astype("float32")
    compare(lambda F, L, x, p: F.cross_entropy(x, p, reduction=reduction), [x4, p4])


def test_cross_entropy_all_ignored(rng):
    x = rng.standard_normal((4, 3)).astype("float32")
    t = np.full(4, -100)
    o1, _ = compare(lambda F, L, x, t: F.cross_entropy(x, t), [x, t])
    assert np.isnan(o1.item())
    o1, _ = compare(lambda F, L, x, t: F.cross_entropy(x, t, reduction="sum"), [x, t])
    assert o1.item() == 0.0
    w = np.array([1.0, 2.0, 3.0], "float32")
    compare(lambda F, L, x, t, w: F.cross_entropy(x, t, w, label_smoothing=0.1), [x, t, w], no_grad=(2,))


def test_cross_entropy_extreme_logits_and_empty_batch(rng):
    x = np.array([[1000.0, -1000.0, 0.0], [-50.0, 60.0, 1e4]], "float32")
    compare(lambda F, L, x, t: F.cross_entropy(x, t), [x, np.array([1, 0])])
    for reduction in REDUCTIONS:
        compare(lambda F, L, x, t: F.cross_entropy(x, t, reduction=reduction),
                [np.zeros((0, 3), "float32"), np.zeros(0, np.int64)])


def test_cross_entropy_uint8_target_and_dtype_kept(rng):
    x = rng.standard_normal((5, 3)).astype("float32")
    compare(lambda F, L, x, t: F.cross_entropy(x, t), [x, np.array([0, 1, 2, 1, 0], np.uint8)])


def test_cross_entropy_gradcheck(rng):
    x = tg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    x3 = tg.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
    t = tg.tensor([0, 2, 1, -100])
    t3 = tg.tensor([[0, 2], [1, 1]])
    w = tg.tensor([0.5, 2.0, 1.0], dtype=tg.float64)
    for red in REDUCTIONS:
        assert tg.autograd.gradcheck(lambda x: TF.cross_entropy(x, t, w, reduction=red, label_smoothing=0.2), (x,))
        assert tg.autograd.gradcheck(lambda x: TF.cross_entropy(x, t3, reduction=red), (x3,))
        assert tg.autograd.gradgradcheck(lambda x: TF.cross_entropy(x, t, w, reduction=red, label_smoothing=0.2),
                                         (x,))
        assert tg.autograd.gradcheck(lambda x: TF.nll_loss(x, t, w, reduction=red), (x,))
        assert tg.autograd.gradgradcheck(lambda x: TF.nll_loss(x, t3, reduction=red), (x3,))


def test_cross_entropy_double_backward_matches_torch(rng):
    x = rng.standard_normal((3, 4))
    t = np.array([1, 0, 3])

    def call(F, L, x, t):
        loss = F.cross_entropy(x, t, label_smoothing=0.1)
        (g,) = L.autograd.grad(loss, x, create_graph=True)
        return (g * g).sum()

    compare(call, [x, t])


def test_cross_entropy_no_graph_without_grad(rng):
    x = tg.tensor(rng.standard_normal((3, 4)).astype("float32"))
    out = TF.cross_entropy(x, tg.tensor([0, 1, 2]))
    assert out.grad_fn is None and out.dtype == tg.float32


# ---------------------------------------------------------------- nll_loss
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
def test_nll_loss(rng, dtype, reduction, use_weight):
    x = rng.standard_normal((6, 4)).astype(dtype)
    t = np.array([0, 3, 2, 1, 2, 3])
    w = rng.uniform(0.5, 2.0, 4).astype(dtype)
    extra = [w] if use_weight else []
    compare(lambda F, L, x, t, *w: F.nll_loss(x, t, *w, reduction=reduction, ignore_index=2), [x, t] + extra,
            no_grad=(2,))
    x4 = rng.standard_normal((2, 4, 3, 2)).astype(dtype)
    t4 = rng.integers(0, 4, (2, 3, 2))
    compare(lambda F, L, x, t, *w: F.nll_loss(x, t, *w, reduction=reduction), [x4, t4] + extra, no_grad=(2,))
    compare(lambda F, L, x, t: F.nll_loss(x, t, reduction=reduction), [x[0], np.array(3)])


# ---------------------------------------------------------------- class-index errors
def test_class_target_errors():
    x = tg.randn(3, 5)
    with pytest.raises(IndexError, match=r"Target 5 is out of bounds"):
        TF.cross_entropy(x, tg.tensor([0, 1, 5]))
    with pytest.raises(IndexError, match=r"Target -3 is out of bounds"):
        TF.nll_loss(x, tg.tensor([0, 1, -3]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(4\)"):
        TF.cross_entropy(x, tg.tensor([0, 1, 2, 3]))
    with pytest.raises(RuntimeError, match=r"Float.*\[3, 5\].*\[3\]"):  # float target of the wrong shape
        TF.cross_entropy(x, tg.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="Long or Byte"):
        TF.cross_entropy(x, tg.tensor([0, 1, 2], dtype=tg.int32))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        TF.cross_entropy(x, tg.tensor([[0, 1, 2]] * 3))
    with pytest.raises(RuntimeError, match=r"Expected target size \[3, 2\], got \[3\]"):
        TF.cross_entropy(tg.randn(3, 5, 2), tg.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match=r"all 5 classes.*shape: \[4\]"):
        TF.cross_entropy(x, tg.tensor([0, 1, 2]), weight=tg.ones(4))
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        TF.cross_entropy(x, tg.tensor([0, 1, 2]), reduction="foo")
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        TF.cross_entropy(x, tg.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        TF.cross_entropy(x, tg.rand(3, 5), ignore_index=1)


def test_legacy_size_average_reduce(rng):
    x = rng.standard_normal((4, 3)).astype("float32")
    t = np.array([0, 1, 2, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sa, rd in [(False, None), (None, False), (True, True)]:
            compare(lambda F, L, x, t: F.nll_loss(x, t, size_average=sa, reduce=rd), [x, t])
            compare(lambda F, L, x, t: F.mse_loss(x, t, size_average=sa, reduce=rd), [x, x[::-1].copy()])
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        TF.nll_loss(tg.tensor(x), tg.tensor(t), size_average=False)


# ---------------------------------------------------------------- regression losses
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(rng, dtype, reduction):
    x = rng.standard_normal((4, 5)).astype(dtype)
    y = rng.standard_normal((4, 5)).astype(dtype)
    y[0, 0] = x[0, 0]  # a zero difference: the subgradient PyTorch uses
    w = rng.uniform(0.5, 2, (4, 5)).astype(dtype)
    compare(lambda F, L, x, y: F.mse_loss(x, y, reduction=reduction), [x, y])
    compare(lambda F, L, x, y: F.l1_loss(x, y, reduction=reduction), [x, y])
    compare(lambda F, L, x, y, w: F.mse_loss(x, y, reduction=reduction, weight=w), [x, y, w])
    compare(lambda F, L, x, y, w: F.l1_loss(x, y, reduction=reduction, weight=w), [x, y, w])
    for beta in [0.0, 0.5, 1.0, 2.0]:
        compare(lambda F, L, x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=beta), [x, y])
    for delta in [0.3, 1.0, 2.5]:
        compare(lambda F, L, x, y: F.huber_loss(x, y, reduction=reduction, delta=delta), [x, y])
        compare(lambda F, L, x, y, w: F.huber_loss(x, y, reduction=reduction, delta=delta, weight=w), [x, y, w])


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_size_mismatch_warns_and_broadcasts(rng, name):
    x = rng.standard_normal((3, 1)).astype("float32")
    y = rng.standard_normal(4).astype("float32")
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[4\]\)\) that is different to the "
                                         r"input size \(torch.Size\(\[3, 1\]\)\)"):
        o1 = getattr(TF, name)(tg.tensor(x), tg.tensor(y), reduction="none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(lambda F, L, x, y: getattr(F, name)(x, y), [x, y])
    assert tuple(o1.shape) == (3, 4)


def test_regression_errors():
    x = tg.randn(3, 4)
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta"):
        TF.smooth_l1_loss(x, x, beta=-1)
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta"):
        TF.huber_loss(x, x, delta=0)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        TF.mse_loss(x, x, weight=tg.ones(4))


# ---------------------------------------------------------------- binary cross entropy
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(rng, dtype, reduction):
    x = rng.uniform(0.02, 0.98, (4, 3)).astype(dtype)
    y = rng.random((4, 3)).astype(dtype)
    w = rng.uniform(0.5, 2, (4, 3)).astype(dtype)
    compare(lambda F, L, x, y: F.binary_cross_entropy(x, y, reduction=reduction), [x, y])
    compare(lambda F, L, x, y, w: F.binary_cross_entropy(x, y, w, reduction=reduction), [x, y, w], no_grad=(2,))
    compare(lambda F, L, x, y, w: F.binary_cross_entropy(x, y, w, reduction=reduction), [x, y, w[0]],
            no_grad=(2,))  # weight broadcast


def test_binary_cross_entropy_clamps_log(rng):
    x = np.array([0.0, 1.0, 1e-30, 0.5, 1.0 - 1e-7], "float32")
    y = np.array([1.0, 0.0, 1.0, 0.5, 1.0], "float32")
    compare(lambda F, L, x, y: F.binary_cross_entropy(x, y, reduction="none"), [x, y], rtol=1e-5)
    out = TF.binary_cross_entropy(tg.tensor([0.0]), tg.tensor([1.0]))
    assert out.item() == 100.0


def test_binary_cross_entropy_errors():
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        TF.binary_cross_entropy(tg.tensor([1.5]), tg.tensor([1.0]))
    with pytest.raises(ValueError, match=r"target size \(torch.Size\(\[3, 1\]\)\).*input size"):
        TF.binary_cross_entropy(tg.rand(3), tg.rand(3, 1))
    with pytest.raises(ValueError, match=r"Target size \(torch.Size\(\[3, 1\]\)\) must be the same as input size"):
        TF.binary_cross_entropy_with_logits(tg.rand(3), tg.rand(3, 1))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(rng, dtype, reduction):
    x = (rng.standard_normal((4, 3)) * 4).astype(dtype)
    x[0, :] = [0.0, 200.0, -200.0]  # x = 0 exactly, and far beyond exp's range
    y = rng.random((4, 3)).astype(dtype)
    w = rng.uniform(0.5, 2, (4, 3)).astype(dtype)
    pw = rng.uniform(0.5, 3, 3).astype(dtype)
    compare(lambda F, L, x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction), [x, y])
    compare(lambda F, L, x, y, w, pw: F.binary_cross_entropy_with_logits(x, y, w, reduction=reduction,
                                                                         pos_weight=pw), [x, y, w, pw], no_grad=(2, 3))
    compare(lambda F, L, x, y, pw: F.binary_cross_entropy_with_logits(x, y, reduction=reduction, pos_weight=pw),
            [x, y, pw], no_grad=(2,))


def test_bce_gradcheck(rng):
    x = tg.tensor(rng.uniform(0.1, 0.9, (3, 2)), requires_grad=True)
    y = tg.tensor(rng.random((3, 2)), requires_grad=True)
    w = tg.tensor(rng.uniform(0.5, 2, (3, 2)), requires_grad=True)
    pw = tg.tensor(rng.uniform(0.5, 2, 2), requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, y, w: TF.binary_cross_entropy(x, y, w), (x, y, w))
    assert tg.autograd.gradcheck(lambda x, y, w, pw: TF.binary_cross_entropy_with_logits(x, y, w, pos_weight=pw),
                                 (x, y, w, pw))
    assert tg.autograd.gradgradcheck(lambda x: TF.binary_cross_entropy_with_logits(x, y.detach(), pos_weight=pw),
                                     (x,))


# ---------------------------------------------------------------- distribution losses
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(rng, reduction, log_target):
    x = np.log(rng.dirichlet(np.ones(4), 3)).astype("float32")
    y = rng.dirichlet(np.ones(4), 3).astype("float32")
    y[0, 1] = 0.0
    if log_target:
        y = np.log(y + 0.1).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(lambda F, L, x, y: F.kl_div(x, y, reduction=reduction, log_target=log_target), [x, y], no_grad=(1,))


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        TF.kl_div(tg.randn(2, 3), tg.rand(2, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_nll_loss(rng, reduction):
    x = rng.uniform(0.1, 2, (3, 4)).astype("float64")
    y = rng.integers(0, 5, (3, 4)).astype("float64")
    for log_input in [True, False]:
        for full in [False, True]:
            compare(lambda F, L, x, y: F.poisson_nll_loss(x, y, log_input=log_input, full=full, reduction=reduction),
                    [x, y], no_grad=(1,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_loss(rng, reduction):
    x = rng.standard_normal((3, 4)).astype("float32")
    y = rng.standard_normal((3, 4)).astype("float32")
    for var in [rng.uniform(0.1, 2, (3, 4)), rng.uniform(0.1, 2, 3), rng.uniform(0.1, 2, (3, 1)),
                np.array([[1e-9, 1.0, 2.0, 0.5]] * 3)]:
        for full in [False, True]:
            compare(lambda F, L, x, y, v: F.gaussian_nll_loss(x, y, v, full=full, reduction=reduction),
                    [x, y, var.astype("float32")])
    compare(lambda F, L, x, y: F.gaussian_nll_loss(x, y, 0.7, reduction=reduction), [x, y])


def test_gaussian_nll_loss_errors():
    x = tg.randn(3, 5)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        TF.gaussian_nll_loss(x, x, tg.ones(3, 2))
    with pytest.raises(ValueError, match="var has negative entry"):
        TF.gaussian_nll_loss(x, x, -tg.ones(3, 5))


# ---------------------------------------------------------------- margin and embedding losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(rng, reduction):
    a = rng.standard_normal((5, 4)).astype("float64")
    b = rng.standard_normal((5, 4)).astype("float64")
    c = rng.standard_normal((5, 4)).astype("float64")
    sign = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
    for margin in [0.0, 0.3]:
        compare(lambda F, L, a, b, y: F.cosine_embedding_loss(a, b, y, margin=margin, reduction=reduction),
                [a, b, sign], no_grad=(2,))
        compare(lambda F, L, a, b, y: F.margin_ranking_loss(a, b, y, margin=margin, reduction=reduction),
                [a[:, 0].copy(), b[:, 0].copy(), sign])
    compare(lambda F, L, a, b, y: F.cosine_embedding_loss(a, b, y, reduction=reduction), [a[0], b[0], np.array(-1.0)],
            no_grad=(2,))
    signs = np.where(rng.random((5, 4)) > 0.5, 1.0, -1.0)
    for margin in [1.0, 0.5]:
        compare(lambda F, L, a, y: F.hinge_embedding_loss(a, y, margin=margin, reduction=reduction), [a, signs],
                no_grad=(1,))
    compare(lambda F, L, a, y: F.soft_margin_loss(a, y, reduction=reduction), [a, signs], no_grad=(1,))
    yl = (rng.random((5, 4)) > 0.5).astype("float64")
    w = rng.uniform(0.5, 2, 4)
    compare(lambda F, L, a, y: F.multilabel_soft_margin_loss(a, y, reduction=reduction), [a, yl])
    compare(lambda F, L, a, y, w: F.multilabel_soft_margin_loss(a, y, w, reduction=reduction), [a, yl, w],
            no_grad=(2,))
    t = np.array([0, 3, 1, 1, 2])
    for p in [1, 2]:
        for margin in [1.0, 0.4]:
            compare(lambda F, L, a, t: F.multi_margin_loss(a, t, p=p, margin=margin, reduction=reduction), [a, t])
        compare(lambda F, L, a, t, w: F.multi_margin_loss(a, t, p=p, weight=w, reduction=reduction), [a, t, w],
                no_grad=(2,))
    mt = np.array([[3, 0, -1, 1], [1, 2, 3, -1], [0, 1, 2, 3], [-1, 0, 0, 0], [2, 2, -1, 0]])
    compare(lambda F, L, a, t: F.multilabel_margin_loss(a, t, reduction=reduction), [a, mt])
    for p in [1, 2, 3]:
        for swap in [False, True]:
            compare(lambda F, L, a, b, c: F.triplet_margin_loss(a, b, c, margin=0.7, p=p, swap=swap,
                                                                reduction=reduction), [a, b, c])
    compare(lambda F, L, a, b, c: F.triplet_margin_with_distance_loss(a, b, c, reduction=reduction, swap=True),
            [a, b, c])
    compare(lambda F, L, a, b, c: F.triplet_margin_with_distance_loss(
        a, b, c, distance_function=lambda u, v: 1.0 - F.cosine_similarity(u, v) if L is torch else
        1.0 - (u * v).sum(-1) / (u.norm(dim=-1) * v.norm(dim=-1)), reduction=reduction), [a, b, c])


def test_margin_errors():
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        TF.multi_margin_loss(tg.randn(3, 4), tg.tensor([0, 1, 2]), p=3)
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        TF.margin_ranking_loss(tg.randn(3), tg.randn(3, 1), tg.ones(3))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        TF.triplet_margin_loss(tg.randn(3, 2), tg.randn(3, 2), tg.randn(2))


def test_ctc_loss_not_implemented():
    with pytest.raises(NotImplementedError, match="ctc_loss"):
        TF.ctc_loss(tg.randn(5, 2, 3), tg.tensor([[1, 2], [1, 1]]), tg.tensor([5, 5]), tg.tensor([2, 2]))
    with pytest.raises(NotImplementedError, match="ctc_loss"):
        tnn.CTCLoss()(tg.randn(5, 2, 3), tg.tensor([[1, 2], [1, 1]]), tg.tensor([5, 5]), tg.tensor([2, 2]))


# ---------------------------------------------------------------- modules
def _module_case(name, rng):
    """(constructor kwargs as (numpy-free) lambdas per library, input arrays) for each loss module."""
    x = rng.standard_normal((4, 3)).astype("float32")
    y = rng.standard_normal((4, 3)).astype("float32")
    p = rng.uniform(0.05, 0.95, (4, 3)).astype("float32")
    t = np.array([0, 2, 1, 2])
    w = np.array([0.5, 1.0, 2.0], "float32")
    s = np.array([1.0, -1.0, -1.0, 1.0], "float32")
    cases = {
        "CrossEntropyLoss": (lambda L: dict(weight=L.tensor(w), ignore_index=1, label_smoothing=0.1), [x, t]),
        "NLLLoss": (lambda L: dict(weight=L.tensor(w), reduction="sum"), [x, t]),
        "MSELoss": (lambda L: dict(reduction="sum"), [x, y]),
        "L1Loss": (lambda L: dict(), [x, y]),
        "SmoothL1Loss": (lambda L: dict(beta=0.5), [x, y]),
        "HuberLoss": (lambda L: dict(delta=0.5, reduction="none"), [x, y]),
        "BCELoss": (lambda L: dict(weight=L.tensor(w)), [p, p[::-1].copy()]),
        "BCEWithLogitsLoss": (lambda L: dict(weight=L.tensor(w), pos_weight=L.tensor(w[::-1].copy())), [x, p]),
        "KLDivLoss": (lambda L: dict(reduction="batchmean", log_target=True), [x, y]),
        "PoissonNLLLoss": (lambda L: dict(full=True), [x, np.abs(y) * 3]),
        "GaussianNLLLoss": (lambda L: dict(full=True), [x, y, p]),
        "HingeEmbeddingLoss": (lambda L: dict(margin=0.5), [x, np.sign(y)]),
        "SoftMarginLoss": (lambda L: dict(), [x, np.sign(y)]),
        "MultiLabelSoftMarginLoss": (lambda L: dict(weight=L.tensor(w)), [x, (y > 0).astype("float32")]),
        "CosineEmbeddingLoss": (lambda L: dict(margin=0.2), [x, y, s]),
        "MarginRankingLoss": (lambda L: dict(margin=0.2), [x[:, 0].copy(), y[:, 0].copy(), s]),
        "MultiMarginLoss": (lambda L: dict(p=2, margin=0.5, weight=L.tensor(w)), [x, t]),
        "MultiLabelMarginLoss": (lambda L: dict(), [x, np.array([[0, -1, 1]] * 4)]),
        "TripletMarginLoss": (lambda L: dict(margin=0.5, p=1.0, swap=True), [x, y, p]),
        "TripletMarginWithDistanceLoss": (lambda L: dict(margin=0.5), [x, y, p]),
    }
    return cases[name]


@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
                                  "BCELoss", "BCEWithLogitsLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss",
                                  "HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
                                  "CosineEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss",
                                  "MultiLabelMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss"])
def test_loss_modules(rng, name):
    kwargs, arrays = _module_case(name, rng)
    m1, m2 = getattr(tnn, name)(**kwargs(tg)), getattr(torch.nn, name)(**kwargs(torch))
    assert repr(m1) == repr(m2)
    assert list(m1.state_dict().keys()) == list(m2.state_dict().keys())
    assert m1.reduction == m2.reduction
    labels = {"HingeEmbeddingLoss": (1,), "SoftMarginLoss": (1,), "CosineEmbeddingLoss": (2,)}
    compare(lambda F, L, *a: (m1 if L is tg else m2)(*a), arrays, no_grad=labels.get(name, ()))


def test_weighted_loss_module_keeps_weight_buffer():
    m = tnn.CrossEntropyLoss(weight=tg.tensor([1.0, 2.0]))
    assert "weight" in dict(m.named_buffers())
    m2 = tnn.CrossEntropyLoss()
    assert m2.weight is None and list(m2.state_dict()) == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tnn.MSELoss(size_average=False).reduction == "sum"
        assert tnn.NLLLoss(reduce=False).reduction == "none"
