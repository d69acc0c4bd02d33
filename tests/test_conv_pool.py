"""Convolution and pooling against PyTorch: forward values, gradients (input, weight, bias),
gradcheck/gradgradcheck in float64, max-pool tie handling, modules and error messages."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import tapegrad  # noqa: E402
import tapegrad.nn.functional as F  # noqa: E402

TF = torch.nn.functional
RNG = np.random.default_rng(1234)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")


def _rand(shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


def _close(a, b, tol, what):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch's {b.shape}"
    special = ~np.isfinite(b)
    if special.any():    # NaN and inf must sit at the same places
        assert ((a == b) | (np.isnan(a) & np.isnan(b)))[special].all(), f"{what}: NaN/inf differ"
        assert np.isfinite(a[~special]).all(), f"{what}: NaN/inf where torch has none"
        a, b = a[~special], b[~special]
    err = np.abs(a - b).max() if a.size else 0.0
    assert err <= tol * (1 + np.abs(b).max(initial=0.0)), f"{what}: max abs error {err:.3g}"


def run_both(fn, arrays, grad=None, tol=None, check_grad=True):
    """Call fn(lib, *tensors) in both frameworks; compare outputs, dtypes and gradients of a random
    weighted sum. `grad` says which arrays require grad (default: the float ones)."""
    grad = [a.dtype.kind == "f" for a in arrays] if grad is None else grad
    tg_in = [tapegrad.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]
    t_in = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]
    out_tg, out_t = fn(tapegrad, *tg_in), fn(torch, *t_in)
    if isinstance(out_t, tuple):
        assert isinstance(out_tg, tuple) and len(out_tg) == len(out_t)
        for o1, o2 in zip(out_tg[1:], out_t[1:]):          # indices: exactly equal
            assert o1.dtype == tapegrad.int64 and o2.dtype == torch.int64
            np.testing.assert_array_equal(o1.numpy(), o2.numpy())
        out_tg, out_t = out_tg[0], out_t[0]
    dt = arrays[0].dtype
    tol = tol if tol is not None else (2e-5 if dt == np.float32 else 1e-10)
    assert str(out_tg.dtype).split(".")[-1] == str(out_t.dtype).split(".")[-1]
    _close(out_tg.detach().numpy(), out_t.detach().numpy(), tol, "forward")
    if not check_grad or not any(grad):
        return out_tg, out_t
    w = _rand(tuple(out_t.shape), dt)
    (out_tg * tapegrad.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    for i, (a, b) in enumerate(zip(tg_in, t_in)):
        if grad[i]:
            assert a.grad is not None, f"no gradient for input {i}"
            assert a.grad.dtype == a.dtype
            _close(a.grad.numpy(), b.grad.numpy(), tol, f"gradient of input {i}")
    return out_tg, out_t


# ---------------------------------------------------------------- convolution
CONV2D = [
    # x shape, w shape, kwargs
    ((2, 3, 9, 8), (4, 3, 3, 2), {}),
    ((1, 3, 7, 7), (5, 3, 3, 3), dict(stride=2, padding=1)),
    ((2, 4, 10, 9), (6, 4, 3, 3), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1))),
    ((2, 4, 6, 6), (4, 1, 3, 3), dict(padding=1, groups=4)),                # depthwise
    ((2, 6, 7, 5), (9, 2, 2, 3), dict(groups=3, stride=(1, 2))),
    ((2, 16, 5, 5), (8, 16, 3, 3), dict(padding=1)),                         # channels-last ("rows") path
    ((2, 32, 8, 8), (64, 32, 5, 5), {}),                                      # the convnet's conv2
    ((3, 1, 28, 28), (8, 1, 5, 5), {}),                                       # the convnet's conv1
    ((2, 5, 6, 7), (3, 5, 1, 1), {}),                                         # 1x1 kernel
    ((2, 5, 6, 7), (3, 5, 1, 1), dict(stride=2)),
    ((2, 3, 8, 8), (4, 3, 2, 2), dict(stride=3)),                            # stride > kernel
    ((2, 3, 8, 9), (4, 3, 4, 2), dict(padding="same")),                       # even kernel: asymmetric pad
    ((2, 3, 8, 9), (4, 3, 3, 3), dict(padding="same", dilation=2)),
    ((2, 3, 8, 9), (4, 3, 3, 3), dict(padding="valid")),
    ((2, 8, 6, 6), (8, 8, 3, 3), dict(padding=2, dilation=2, stride=2)),
    ((1, 2, 5, 5), (3, 2, 5, 5), {}),                                         # kernel == input: 1x1 output
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xs,ws,kw", CONV2D, ids=[f"{x}-{w}-{k}" for x, w, k in CONV2D])
def test_conv2d(xs, ws, kw, dtype):
    bias = _rand(ws[0], dtype)
    run_both(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, **kw), [_rand(xs, dtype), _rand(ws, dtype), bias])


def test_conv2d_no_bias_and_input_grad_only():
    x, w = _rand((2, 3, 6, 6)), _rand((4, 3, 3, 3))
    run_both(lambda L, x, w: L.nn.functional.conv2d(x, w, padding=1), [x, w])
    run_both(lambda L, x, w: L.nn.functional.conv2d(x, w, stride=2), [x, w], grad=[True, False])
    run_both(lambda L, x, w: L.nn.functional.conv2d(x, w, stride=2), [x, w], grad=[False, True])


def test_conv2d_unbatched_and_noncontiguous():
    run_both(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, padding=1),
             [_rand((3, 6, 5)), _rand((4, 3, 3, 3)), _rand(4)])
    x = _rand((2, 6, 7, 3))
    run_both(lambda L, x, w: L.nn.functional.conv2d(x.permute(0, 3, 1, 2)[:, :, ::2], w),
             [x, _rand((4, 3, 2, 2))])


CONV1D = [
    ((2, 3, 11), (4, 3, 3), {}),
    ((1, 4, 12), (6, 2, 3), dict(groups=2, padding=2, stride=2)),
    ((2, 3, 10), (5, 3, 4), dict(padding="same", dilation=2)),
    ((2, 16, 9), (8, 16, 3), dict(stride=2, padding=1)),
    ((2, 3, 7), (2, 3, 1), {}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xs,ws,kw", CONV1D, ids=[f"{x}-{w}-{k}" for x, w, k in CONV1D])
def test_conv1d(xs, ws, kw, dtype):
    run_both(lambda L, x, w, b: L.nn.functional.conv1d(x, w, b, **kw),
             [_rand(xs, dtype), _rand(ws, dtype), _rand(ws[0], dtype)])


def test_conv1d_unbatched():
    run_both(lambda L, x, w: L.nn.functional.conv1d(x, w, padding=1), [_rand((3, 8)), _rand((2, 3, 3))])


CONVT = [
    ((2, 3, 5, 4), (3, 4, 3, 3), {}),
    ((2, 4, 4, 5), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    ((1, 6, 4, 4), (6, 2, 3, 3), dict(stride=(2, 3), groups=3, dilation=(1, 2), output_padding=(1, 0))),
    ((2, 4, 3, 3), (4, 1, 2, 2), dict(stride=2, groups=4)),
    ((2, 3, 4, 4), (3, 2, 1, 1), {}),
    ((2, 3, 5, 5), (3, 2, 3, 3), dict(dilation=2, padding=2, output_padding=1, stride=1)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xs,ws,kw", CONVT, ids=[f"{x}-{w}-{k}" for x, w, k in CONVT])
def test_conv_transpose2d(xs, ws, kw, dtype):
    out_c = ws[1] * kw.get("groups", 1)
    run_both(lambda L, x, w, b: L.nn.functional.conv_transpose2d(x, w, b, **kw),
             [_rand(xs, dtype), _rand(ws, dtype), _rand(out_c, dtype)])


@pytest.mark.parametrize("kw", [{}, dict(stride=3, padding=1, dilation=2), dict(stride=2, output_padding=1, groups=2)])
def test_conv_transpose1d(kw):
    out_c = 3 * kw.get("groups", 1)
    run_both(lambda L, x, w, b: L.nn.functional.conv_transpose1d(x, w, b, **kw),
             [_rand((2, 4, 7)), _rand((4, 3, 3)), _rand(out_c)])
    run_both(lambda L, x, w: L.nn.functional.conv_transpose1d(x, w, **kw), [_rand((4, 7)), _rand((4, 3, 3))])


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), padding=1, stride=2),
                                dict(kernel_size=3, dilation=2, padding=(0, 1))])
def test_unfold_fold(kw):
    out, _ = run_both(lambda L, x: L.nn.functional.unfold(x, **kw), [_rand((2, 3, 7, 8))])
    run_both(lambda L, c: L.nn.functional.fold(c, (7, 8), **kw), [_rand(tuple(out.shape))])
    run_both(lambda L, x: L.nn.functional.unfold(x, **kw), [_rand((3, 7, 8))])


def test_conv_gradcheck_float64():
    gc = tapegrad.autograd.gradcheck
    x = tapegrad.tensor(_rand((2, 4, 5, 4), "float64"), requires_grad=True)
    w = tapegrad.tensor(_rand((4, 2, 3, 2), "float64"), requires_grad=True)
    b = tapegrad.tensor(_rand(4, "float64"), requires_grad=True)
    assert gc(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2), (x, w, b))
    assert gc(lambda x, w, b: F.conv2d(x, w, b, padding="same"), (x, w[:, :, :2].repeat(1, 2, 1, 1), b))
    wt = tapegrad.tensor(_rand((4, 3, 2, 3), "float64"), requires_grad=True)
    bt = tapegrad.tensor(_rand(6, "float64"), requires_grad=True)
    assert gc(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2),
              (x, wt, bt))
    x1 = tapegrad.tensor(_rand((2, 3, 7), "float64"), requires_grad=True)
    w1 = tapegrad.tensor(_rand((2, 3, 3), "float64"), requires_grad=True)
    assert gc(lambda x, w: F.conv1d(x, w, stride=2, padding=1), (x1, w1))
    assert gc(lambda x: F.fold(F.unfold(x, 2, stride=1) * 2, (5, 4), 2), (x,))


def test_conv_double_backward():
    ggc = tapegrad.autograd.gradgradcheck
    x = tapegrad.tensor(_rand((1, 2, 5, 4), "float64"), requires_grad=True)
    w = tapegrad.tensor(_rand((3, 2, 2, 2), "float64"), requires_grad=True)
    b = tapegrad.tensor(_rand(3, "float64"), requires_grad=True)
    assert ggc(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), (x, w, b))
    wt = tapegrad.tensor(_rand((2, 3, 2, 2), "float64"), requires_grad=True)
    assert ggc(lambda x, w: F.conv_transpose2d(x, w, stride=2), (x, wt))

    # a gradient penalty, against torch
    def penalty(L, x, w):
        y = L.nn.functional.conv2d(x, w, padding=1).tanh().sum()
        (gx,) = L.autograd.grad(y, [x], create_graph=True)
        return (gx * gx).sum()

    run_both(penalty, [_rand((2, 3, 5, 5), "float64"), _rand((4, 3, 3, 3), "float64")])


def test_conv_keeps_float32_and_names_its_node():
    x = tapegrad.tensor(_rand((2, 3, 6, 6)), requires_grad=True)
    w = tapegrad.tensor(_rand((4, 3, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w)
    assert y.dtype == tapegrad.float32 and y.is_contiguous()
    assert y.grad_fn.name() == "ConvolutionBackward0"
    y.sum().backward()
    assert x.grad.dtype == tapegrad.float32 and w.grad.dtype == tapegrad.float32
    with tapegrad.no_grad():
        assert F.conv2d(x, w).grad_fn is None


# ---------------------------------------------------------------- max pooling
MAXPOOL2D = [
    dict(kernel_size=2),
    dict(kernel_size=3),
    dict(kernel_size=3, stride=2),                              # overlapping windows
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=2),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=2, ceil_mode=True),
    dict(kernel_size=1),
    dict(kernel_size=(1, 3), stride=(2, 1)),
]


def _blocky(shape, dtype="float32"):
    """Small integers: many ties inside windows."""
    return RNG.integers(0, 3, size=shape).astype(dtype)


@pytest.mark.parametrize("data", ["random", "ties", "constant"])
@pytest.mark.parametrize("kw", MAXPOOL2D, ids=[str(k) for k in MAXPOOL2D])
def test_max_pool2d(kw, data):
    shape = (2, 3, 9, 8)
    x = {"random": _rand(shape), "ties": _blocky(shape), "constant": np.full(shape, 0.25, np.float32)}[data]
    run_both(lambda L, x: L.nn.functional.max_pool2d(x, return_indices=True, **kw), [x])
    run_both(lambda L, x: L.nn.functional.max_pool2d(x, **kw), [x])


def test_max_pool2d_ties_go_to_first_maximum():
    # every window is flat: the whole gradient of a window lands on its top-left element
    x = tapegrad.zeros(1, 1, 6, 6, requires_grad=True)
    F.max_pool2d(x, 3).sum().backward()
    expected = np.zeros((6, 6), np.float32)
    expected[0, 0] = expected[0, 3] = expected[3, 0] = expected[3, 3] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)
    # overlapping windows accumulate on shared first maxima, as in torch
    run_both(lambda L, x: L.nn.functional.max_pool2d(x, 3, 1), [np.ones((2, 2, 6, 7), np.float32)])
    run_both(lambda L, x: L.nn.functional.max_pool2d(x, 2, 1, return_indices=True), [_blocky((2, 2, 7, 7))])


def test_max_pool_mnist_like_flat_background():
    # a flat background with a bright blob: the background windows are all ties
    img = np.full((4, 2, 24, 24), -0.4242, np.float32)
    img[:, :, 8:15, 6:19] = _rand((4, 2, 7, 13))
    img[:, :, 10, 10] = img[:, :, 10, 11]
    run_both(lambda L, x: L.nn.functional.relu(L.nn.functional.max_pool2d(x, kernel_size=3)), [img])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=2, stride=1, padding=1),
                                dict(kernel_size=3, stride=2, dilation=2, ceil_mode=True)])
def test_max_pool1d(kw, dtype):
    run_both(lambda L, x: L.nn.functional.max_pool1d(x, return_indices=True, **kw), [_rand((2, 3, 11), dtype)])
    run_both(lambda L, x: L.nn.functional.max_pool1d(x, **kw), [_blocky((2, 3, 11), dtype)])
    run_both(lambda L, x: L.nn.functional.max_pool1d(x, **kw), [_rand((3, 11), dtype)])


def test_max_pool_unbatched_float64_and_nan():
    run_both(lambda L, x: L.nn.functional.max_pool2d(x, 2, return_indices=True), [_rand((3, 6, 5), "float64")])
    x = _rand((1, 2, 6, 6))
    x[0, 0, 1, 1] = np.nan
    x[0, 1, 0, 0] = x[0, 1, 1, 1] = np.nan
    x[0, 1, 4, 4] = np.inf
    tg_out, t_out = run_both(lambda L, x: L.nn.functional.max_pool2d(x, 2), [x], check_grad=False)
    o1, i1 = F.max_pool2d(tapegrad.tensor(x), 2, return_indices=True)
    o2, i2 = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(np.isnan(o1.numpy()), np.isnan(o2.numpy()))
    np.testing.assert_array_equal(i1.numpy(), i2.numpy())


@pytest.mark.parametrize("kw", [dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=3, padding=1, ceil_mode=True)])
@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_max_pool_minus_inf_input_never_picks_padding(kw):
    x = np.full((1, 2, 5, 5), -np.inf, np.float32)
    x[0, 0, 2, 2] = 1.0
    run_both(lambda L, x: L.nn.functional.max_pool2d(x, return_indices=True, **kw), [x])


def test_max_pool_gradcheck_and_double_backward():
    x = tapegrad.tensor(RNG.permutation(2 * 2 * 7 * 6).reshape(2, 2, 7, 6).astype(np.float64) / 10,
                        requires_grad=True)   # distinct values: no ties within eps
    assert tapegrad.autograd.gradcheck(lambda x: F.max_pool2d(x, 3, 2, padding=1), (x,))
    assert tapegrad.autograd.gradgradcheck(lambda x: F.max_pool2d(x, 2, 1) ** 2, (x,))
    assert tapegrad.autograd.gradcheck(lambda x: F.adaptive_max_pool2d(x, (3, 4)), (x,))


def test_max_pool_node_name_and_dtype():
    x = tapegrad.tensor(_rand((1, 2, 4, 4)), requires_grad=True)
    y = F.max_pool2d(x, 2)
    assert y.grad_fn.name() == "MaxPool2DWithIndicesBackward0" and y.dtype == tapegrad.float32
    assert F.avg_pool2d(x, 2).grad_fn.name() == "AvgPool2DBackward0"


def test_max_unpool():
    x = _rand((2, 3, 6, 8))
    out, idx = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    run_both(lambda L, o, i: L.nn.functional.max_unpool2d(o, i, 2), [out.numpy(), idx.numpy()])
    run_both(lambda L, o, i: L.nn.functional.max_unpool2d(o, i, 2, output_size=(7, 9)), [out.numpy(), idx.numpy()])
    out1, idx1 = TF.max_pool1d(torch.tensor(x[:, :, 0]), 2, return_indices=True)
    run_both(lambda L, o, i: L.nn.functional.max_unpool1d(o, i, 2), [out1.numpy(), idx1.numpy()])


# ---------------------------------------------------------------- average, adaptive and lp pooling
AVGPOOL2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)),
    dict(kernel_size=2, divisor_override=3),
    dict(kernel_size=3, stride=1),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", AVGPOOL2D, ids=[str(k) for k in AVGPOOL2D])
def test_avg_pool2d(kw, dtype):
    run_both(lambda L, x: L.nn.functional.avg_pool2d(x, **kw), [_rand((2, 3, 9, 8), dtype)])


@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=4, stride=3, padding=2),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)])
def test_avg_pool1d(kw):
    run_both(lambda L, x: L.nn.functional.avg_pool1d(x, **kw), [_rand((2, 3, 11))])
    run_both(lambda L, x: L.nn.functional.avg_pool1d(x, **kw), [_rand((3, 11))])


@pytest.mark.parametrize("size", [1, 3, (4, 3), (2, 8), (5, None), (9, 8), (10, 12)])
def test_adaptive_pool2d(size):
    x = _rand((2, 3, 9, 8))
    run_both(lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, size), [x])
    run_both(lambda L, x: L.nn.functional.adaptive_max_pool2d(x, size, return_indices=True), [x])
    run_both(lambda L, x: L.nn.functional.adaptive_max_pool2d(x, size), [_blocky((2, 3, 9, 8))])


@pytest.mark.parametrize("size", [1, 3, 4, 7])
def test_adaptive_pool1d(size):
    run_both(lambda L, x: L.nn.functional.adaptive_avg_pool1d(x, size), [_rand((2, 3, 10))])
    run_both(lambda L, x: L.nn.functional.adaptive_max_pool1d(x, size, return_indices=True), [_rand((2, 3, 10))])


def test_pool_gradcheck_float64():
    x = tapegrad.tensor(_rand((2, 2, 7, 6), "float64"), requires_grad=True)
    gc, ggc = tapegrad.autograd.gradcheck, tapegrad.autograd.gradgradcheck
    assert gc(lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), (x,))
    assert ggc(lambda x: F.avg_pool2d(x, 2, 1) ** 2, (x,))
    assert gc(lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (x,))
    assert gc(lambda x: F.avg_pool1d(x[:, :, 0], 3, 2, 1), (x,))


def test_lp_pool():
    x = np.abs(_rand((2, 3, 8, 7))) + 0.1
    run_both(lambda L, x: L.nn.functional.lp_pool2d(x, 2, 2), [x])
    run_both(lambda L, x: L.nn.functional.lp_pool1d(x, 3, 3, 2), [x[:, :, 0]])


# ---------------------------------------------------------------- modules
MODULES = [
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, groups=2)),
    ("Conv2d", (1, 32, 5), {}),
    ("Conv2d", (4, 8, (3, 2)), dict(stride=(2, 1), padding="same" if False else 1, dilation=2, bias=False)),
    ("Conv2d", (4, 8, 3), dict(padding="same")),
    ("Conv2d", (4, 4, 3), dict(padding=1, padding_mode="reflect")),
    ("Conv2d", (4, 4, 3), dict(padding=(1, 2), padding_mode="replicate")),
    ("Conv2d", (4, 4, 3), dict(padding=1, padding_mode="circular")),
    ("Conv1d", (4, 4, 3), dict(padding=2, padding_mode="reflect")),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ("MaxPool1d", (3,), dict(stride=2)),
    ("MaxPool2d", (3,), {}),
    ("MaxPool2d", (2,), dict(stride=1, padding=1, ceil_mode=True)),
    ("AvgPool1d", (3,), {}),
    ("AvgPool2d", (2,), dict(count_include_pad=False)),
    ("AvgPool2d", ((3, 2),), dict(stride=(2, 1), padding=1, divisor_override=2)),
    ("AdaptiveAvgPool1d", (3,), {}),
    ("AdaptiveAvgPool2d", ((3, None),), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveMaxPool1d", (4,), {}),
    ("AdaptiveMaxPool2d", ((2, 3),), {}),
    ("LPPool2d", (2, 2), {}),
]


@pytest.mark.parametrize("name,args,kw", MODULES, ids=[f"{n}{a}{k}" for n, a, k in MODULES])
def test_module_matches_torch(name, args, kw):
    torch.manual_seed(0)
    t_mod = getattr(torch.nn, name)(*args, **kw)
    tg_mod = getattr(tapegrad.nn, name)(*args, **kw)
    assert repr(tg_mod) == repr(t_mod)
    t_state = t_mod.state_dict()
    assert list(tg_mod.state_dict().keys()) == list(t_state.keys())
    for k, v in tg_mod.state_dict().items():
        assert tuple(v.shape) == tuple(t_state[k].shape) and v.dtype == tapegrad.float32
    tg_mod.load_state_dict({k: tapegrad.tensor(v.numpy()) for k, v in t_state.items()})
    nd = 1 if "1d" in name else 2
    channels = args[0] if name.startswith("Conv") else 4
    shape = (2, channels) + ((10,) if nd == 1 else (9, 8))
    x = np.abs(_rand(shape)) + 0.1 if name.startswith("LP") else _rand(shape)
    tg_x, t_x = tapegrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_tg, y_t = tg_mod(tg_x), t_mod(t_x)
    _close(y_tg.detach().numpy(), y_t.detach().numpy(), 2e-5, "module output")
    y_tg.sum().backward()
    y_t.sum().backward()
    _close(tg_x.grad.numpy(), t_x.grad.numpy(), 2e-5, "input gradient")
    for (k, p), (_, q) in zip(tg_mod.named_parameters(), t_mod.named_parameters()):
        _close(p.grad.numpy(), q.grad.numpy(), 2e-5, f"gradient of {k}")


@pytest.mark.parametrize("cls,args", [("Conv2d", (6, 12, 3)), ("Conv1d", (5, 4, 4)), ("ConvTranspose2d", (6, 4, 3)),
                                      ("Conv2d", (4, 8, (5, 3)))])
def test_conv_module_default_init(cls, args):
    mod = getattr(tapegrad.nn, cls)(*args)
    w, b = mod.weight.detach().numpy(), mod.bias.detach().numpy()
    fan_in = w.shape[1] * int(np.prod(w.shape[2:]))
    bound = 1 / math.sqrt(fan_in)       # kaiming_uniform_(a=sqrt(5)) and the bias both give U(-1/sqrt(fan_in), ..)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.8 * bound and w.std() > 0.4 * bound
    assert mod.weight.requires_grad and isinstance(mod.weight, tapegrad.nn.Parameter)
    assert [n for n, _ in mod.named_parameters()] == ["weight", "bias"]
    assert getattr(tapegrad.nn, cls)(*args, bias=False).bias is None


def test_conv_transpose_module_output_size():
    torch.manual_seed(0)
    t_mod = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    tg_mod = tapegrad.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    tg_mod.load_state_dict({k: tapegrad.tensor(v.numpy()) for k, v in t_mod.state_dict().items()})
    x = _rand((1, 3, 4, 4))
    for size in [(7, 7), (8, 8), (1, 2, 8, 7)]:
        _close(tg_mod(tapegrad.tensor(x), output_size=size).detach().numpy(),
               t_mod(torch.tensor(x), output_size=size).detach().numpy(), 2e-5, f"output_size={size}")
    with pytest.raises(ValueError, match="requested an output size"):
        tg_mod(tapegrad.tensor(x), output_size=(10, 10))


def test_pool_module_return_indices():
    x = _blocky((2, 3, 6, 6))
    o1, i1 = tapegrad.nn.MaxPool2d(2, return_indices=True)(tapegrad.tensor(x))
    o2, i2 = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(i1.numpy(), i2.numpy())
    y1 = tapegrad.nn.MaxUnpool2d(2)(o1, i1)
    y2 = torch.nn.MaxUnpool2d(2)(o2, i2)
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    o1, i1 = tapegrad.nn.AdaptiveMaxPool2d(4, return_indices=True)(tapegrad.tensor(x))
    o2, i2 = torch.nn.AdaptiveMaxPool2d(4, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(i1.numpy(), i2.numpy())


# ---------------------------------------------------------------- errors
def _raises(exc, fn, *parts):
    with pytest.raises(exc) as info:
        fn()
    msg = str(info.value)
    for p in parts:
        assert p in msg, f"{p!r} not in {msg!r}"
    return msg


def test_conv_errors():
    x = tapegrad.randn(100, 3, 28, 28)
    conv = tapegrad.nn.Conv2d(1, 32, 5)
    _raises(RuntimeError, lambda: conv(x), "Conv2d(in_channels=1): expected input with 1 channels",
            "(100, 3, 28, 28)")
    _raises(RuntimeError, lambda: F.conv2d(x, tapegrad.randn(32, 1, 5, 5)), "expected input[100, 3, 28, 28] to have 1 "
            "channels", "weight of size [32, 1, 5, 5]")
    _raises(RuntimeError, lambda: F.conv2d(tapegrad.randn(1, 1, 4, 4), tapegrad.randn(2, 1, 5, 5)),
            "Kernel size can't be greater than actual input size", "(4 x 4)", "(5 x 5)")
    _raises(RuntimeError, lambda: F.conv2d(tapegrad.randn(1, 1, 4, 4), tapegrad.randn(2, 1, 3, 3), dilation=2),
            "(5 x 5)")
    _raises(RuntimeError, lambda: F.conv2d(tapegrad.randn(28, 28), tapegrad.randn(2, 1, 3, 3)),
            "Expected 3D (unbatched) or 4D (batched) input to conv2d", "[28, 28]")
    _raises(RuntimeError, lambda: F.conv2d(x, tapegrad.randn(4, 3, 3, 3, dtype=tapegrad.float64)),
            "Input type (float) and weight type (double) should be the same")
    _raises(RuntimeError, lambda: F.conv2d(x, tapegrad.randn(4, 3, 3, 3), tapegrad.randn(5)), "bias of shape (4,)")
    _raises(RuntimeError, lambda: F.conv2d(x, tapegrad.randn(4, 3, 3, 3), stride=2, padding="same"),
            "padding='same' is not supported for strided convolutions")
    _raises(RuntimeError, lambda: F.conv1d(tapegrad.randn(2, 4, 9), tapegrad.randn(3, 2, 3), groups=2),
            "out_channels (3) must be divisible by groups (2)")
    _raises(ValueError, lambda: tapegrad.nn.Conv2d(3, 4, 3, groups=2), "in_channels (3) must be divisible by groups")
    _raises(ValueError, lambda: tapegrad.nn.Conv2d(4, 4, 3, padding_mode="mirror"), "padding_mode must be one of")
    _raises(ValueError, lambda: tapegrad.nn.Conv2d(4, 4, 3, stride=2, padding="same"), "strided convolutions")
    _raises(RuntimeError, lambda: F.conv_transpose2d(tapegrad.randn(1, 2, 3, 3), tapegrad.randn(2, 2, 3, 3),
                                                     stride=2, output_padding=2),
            "output padding must be smaller than either stride or dilation")


def test_pool_errors():
    x = tapegrad.randn(2, 32, 2, 2)
    _raises(RuntimeError, lambda: F.max_pool2d(x, 3), "Given input size: (32x2x2)", "Calculated output size: "
            "(32x0x0)", "Output size is too small")
    _raises(RuntimeError, lambda: F.max_pool2d(x, 2, padding=2), "pad should be at most half of effective kernel size")
    _raises(RuntimeError, lambda: F.avg_pool2d(x, 2, padding=2), "pad should be at most half of kernel size")
    _raises(RuntimeError, lambda: F.max_pool2d(tapegrad.randn(5), 2), "Expected 3D or 4D (batch mode) tensor",
            "(5,)")
    _raises(RuntimeError, lambda: F.max_pool2d(tapegrad.tensor([[[1, 2], [3, 4]]]), 2), "floating point")
    _raises(RuntimeError, lambda: F.max_unpool2d(x, tapegrad.zeros(2, 32, 2, 2, dtype=tapegrad.int64) + 99, 2),
            "Found an invalid max index")


# ---------------------------------------------------------------- intra-op threads
@pytest.mark.parametrize("case", ["sample", "rows", "groups", "pool", "pool_pad", "pool_overlap"])
def test_batch_split_over_threads_matches_torch(monkeypatch, case):
    """With set_num_threads(n) and a single-threaded BLAS, conv and pool split the batch over
    threads; the chunks must give PyTorch's numbers (uneven chunks: batch 5 over 2 and 3 threads)."""
    from tapegrad._ops import conv as conv_ops

    calls = []
    real = conv_ops._batch_parallel

    def spy(fn, bounds, work):
        calls.append(bounds[-1])
        real(fn, bounds, work)

    for threads in (2, 3):
        monkeypatch.setattr(conv_ops, "_intraop_threads", lambda: threads)
        monkeypatch.setattr(conv_ops, "_MIN_WORK", 0)
        monkeypatch.setattr(conv_ops, "_GEMM_MIN_PIECE", 0)    # split even these small products
        monkeypatch.setattr(conv_ops, "_GEMM_ROWS", 1)
        monkeypatch.setattr(conv_ops, "_MAX_BLOCKS", 16)
        monkeypatch.setattr(conv_ops, "_batch_parallel", spy)
        import tapegrad._ops.pool as pool_ops
        monkeypatch.setattr(pool_ops, "_batch_parallel", spy)
        if case == "sample":
            run_both(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, padding=1),
                     [_rand((5, 2, 9, 9)), _rand((3, 2, 3, 3)), _rand(3)])
        elif case == "rows":
            run_both(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, stride=2, padding=1),
                     [_rand((5, 16, 6, 6)), _rand((8, 16, 3, 3)), _rand(8)])
        elif case == "groups":
            run_both(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, groups=2),
                     [_rand((5, 4, 7, 7)), _rand((6, 2, 3, 3)), _rand(6)])
        elif case == "pool":
            run_both(lambda L, x: L.nn.functional.max_pool2d(x, 3, return_indices=True), [_blocky((5, 3, 9, 9))])
        elif case == "pool_pad":
            run_both(lambda L, x: L.nn.functional.max_pool2d(x, 3, 2, 1, return_indices=True), [_rand((5, 3, 9, 8))])
        else:
            run_both(lambda L, x: L.nn.functional.max_pool2d(x, 2, 1), [_blocky((5, 3, 6, 6))])
    assert calls and all(n == 5 for n in calls)
