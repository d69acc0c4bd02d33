"""Differential audit of convolution, pooling, normalisation and the other layers against PyTorch:
the divergences found (error messages for wrong channels, ranks, kernel sizes and too-small inputs;
lp_pool with p=inf; circular padding with negative pads; embedding_bag's scale_grad_by_freq; batch
norm's mixed dtypes; linear with a broadcast bias; ...) each checked against torch at run time."""
import numpy as np
import pytest

import tapegrad as tg
from torch_errors import assert_raises_like_torch

torch = pytest.importorskip("torch")


def _F(m):
    return m.nn.functional


def _both(fn, arrays, grad=True, wseed=0):
    """fn(m, *tensors) in torch and tapegrad from the same arrays: values, dtypes, shapes and the gradients
    of a random weighted sum of the (first) output with respect to every floating input."""
    res = []
    for m in (torch, tg):
        ins = [m.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        y = fn(m, *ins)
        w = np.random.default_rng(wseed).standard_normal(tuple(y.shape)).astype(y.detach().numpy().dtype)
        gs = []
        if grad:
            gs = m.autograd.grad((y * m.tensor(w)).sum(), [t for t in ins if t.requires_grad])
        res.append((y.detach().numpy(), str(y.dtype), [g.numpy() for g in gs]))
    (yt, dt_t, gt), (yg, dt_g, gg) = res
    assert dt_t == dt_g and yt.shape == yg.shape
    np.testing.assert_allclose(yg, yt, rtol=1e-5, atol=1e-6)
    for a, b in zip(gt, gg):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def Z(m, *s, **k):
    return m.zeros(*s, **k)


CONV_ERRORS = {
    "conv1d kernel 0": lambda m: _F(m).conv1d(Z(m, 1, 3, 5), Z(m, 2, 3, 0)),
    "conv2d kernel 0": lambda m: _F(m).conv2d(Z(m, 1, 3, 5, 5), Z(m, 2, 3, 3, 0)),
    "convT2d kernel 0": lambda m: _F(m).conv_transpose2d(Z(m, 1, 3, 5, 5), Z(m, 3, 3, 0, 2)),
    "convT1d wrong channels": lambda m: _F(m).conv_transpose1d(Z(m, 1, 3, 5), Z(m, 2, 3, 3)),
    "convT2d unbatched wrong channels": lambda m: _F(m).conv_transpose2d(Z(m, 3, 5, 5), Z(m, 2, 3, 3, 3)),
    "conv2d unbatched wrong channels": lambda m: _F(m).conv2d(Z(m, 3, 5, 5), Z(m, 2, 2, 3, 3)),
    "conv2d 3-d input read as unbatched": lambda m: _F(m).conv2d(Z(m, 1, 4, 5), Z(m, 4, 4, 3, 3)),
    "convT1d output padding": lambda m: _F(m).conv_transpose1d(Z(m, 1, 2, 5), Z(m, 2, 3, 3), stride=2,
                                                               output_padding=2),
    "convT2d output padding": lambda m: _F(m).conv_transpose2d(Z(m, 1, 2, 5, 5), Z(m, 2, 3, 3, 3), stride=2,
                                                               output_padding=2),
    "convT2d negative output padding": lambda m: _F(m).conv_transpose2d(Z(m, 1, 4, 5, 5), Z(m, 4, 2, 3, 3),
                                                                        output_padding=-1),
    "convT1d too small": lambda m: _F(m).conv_transpose1d(Z(m, 1, 2, 1), Z(m, 2, 3, 1), padding=1),
    "convT2d too small": lambda m: _F(m).conv_transpose2d(Z(m, 1, 2, 1, 3), Z(m, 2, 3, 1, 1), padding=1),
    "conv1d too small": lambda m: _F(m).conv1d(Z(m, 1, 4, 2), Z(m, 4, 4, 3)),
    "convT2d groups": lambda m: _F(m).conv_transpose2d(Z(m, 1, 4, 5, 5), Z(m, 4, 3, 3, 3), groups=3),
    "conv2d groups": lambda m: _F(m).conv2d(Z(m, 1, 4, 5, 5), Z(m, 3, 2, 3, 3), groups=2),
    "conv2d weight below groups": lambda m: _F(m).conv2d(Z(m, 1, 4, 5, 5), Z(m, 1, 4, 3, 3), groups=2),
    "conv2d stride 0": lambda m: _F(m).conv2d(Z(m, 1, 4, 5, 5), Z(m, 4, 4, 3, 3), stride=0),
    "conv2d dilation 0": lambda m: _F(m).conv2d(Z(m, 1, 4, 5, 5), Z(m, 4, 4, 3, 3), dilation=0),
    "conv1d dilation 0": lambda m: _F(m).conv1d(Z(m, 1, 4, 5), Z(m, 4, 4, 3), dilation=0),
    "convT2d dilation 0": lambda m: _F(m).conv_transpose2d(Z(m, 1, 4, 5, 5), Z(m, 4, 2, 3, 3), dilation=0),
    "conv2d negative padding": lambda m: _F(m).conv2d(Z(m, 1, 4, 5, 5), Z(m, 4, 4, 3, 3), padding=-1),
    "conv2d bias shape": lambda m: _F(m).conv2d(Z(m, 1, 4, 5, 5), Z(m, 2, 4, 3, 3), Z(m, 3)),
    "convT2d bias shape": lambda m: _F(m).conv_transpose2d(Z(m, 1, 4, 5, 5), Z(m, 4, 2, 3, 3), Z(m, 3)),
    "conv2d weight dtype": lambda m: _F(m).conv2d(Z(m, 1, 4, 5, 5), Z(m, 4, 4, 3, 3, dtype=m.float64)),
    "conv2d bias dtype": lambda m: _F(m).conv2d(Z(m, 1, 4, 5, 5), Z(m, 4, 4, 3, 3), Z(m, 4, dtype=m.float64)),
    "conv2d 3-d weight": lambda m: _F(m).conv2d(Z(m, 1, 4, 5, 5), Z(m, 4, 4, 3)),
    "conv1d 4-d weight": lambda m: _F(m).conv1d(Z(m, 1, 4, 5), Z(m, 4, 4, 3, 3)),
    "conv2d padding string": lambda m: _F(m).conv2d(Z(m, 1, 2, 3, 3), Z(m, 2, 2, 1, 1), padding="foo"),
    "Conv2d wrong channels": lambda m: m.nn.Conv2d(3, 4, 3)(Z(m, 1, 2, 5, 5)),
    "Conv1d unbatched wrong channels": lambda m: m.nn.Conv1d(3, 4, 3)(Z(m, 2, 5)),
    "ConvTranspose2d wrong channels": lambda m: m.nn.ConvTranspose2d(3, 4, 3)(Z(m, 1, 2, 5, 5)),
    "Conv2d reflect wrong channels": lambda m: m.nn.Conv2d(3, 4, 3, padding_mode="reflect", padding=1)(
        Z(m, 1, 2, 5, 5)),
    "Conv2d circular wrong channels": lambda m: m.nn.Conv2d(3, 4, 3, padding_mode="circular", padding=1)(
        Z(m, 1, 2, 5, 5)),
    "Conv2d groups in": lambda m: m.nn.Conv2d(3, 4, 3, groups=2),
    "ConvTranspose2d groups out": lambda m: m.nn.ConvTranspose2d(4, 3, 3, groups=2),
    "Conv2d kernel 0": lambda m: m.nn.Conv2d(3, 4, 0)(Z(m, 1, 3, 5, 5)),
    "ConvTranspose2d output_size": lambda m: m.nn.ConvTranspose2d(3, 4, 3, stride=2)(Z(m, 1, 3, 5, 5),
                                                                                    output_size=[20, 20]),
    "ConvTranspose1d output_size": lambda m: m.nn.ConvTranspose1d(3, 4, 3, stride=2)(Z(m, 1, 3, 5),
                                                                                    output_size=[20]),
}

POOL_ERRORS = {
    "max_pool2d pad": lambda m: _F(m).max_pool2d(Z(m, 2, 3, 5, 5), 2, padding=2),
    "max_pool2d pad width": lambda m: _F(m).max_pool2d(Z(m, 1, 2, 5, 5), (2, 3), 1, (0, 2)),
    "max_pool2d negative pad": lambda m: _F(m).max_pool2d(Z(m, 1, 2, 5, 5), (3, 2), 1, (0, -1)),
    "max_pool2d rank 2": lambda m: _F(m).max_pool2d(Z(m, 5, 5), 2),
    "max_pool2d rank 5": lambda m: _F(m).max_pool2d(Z(m, 1, 2, 3, 5, 5), 2),
    "max_pool2d kernel 0": lambda m: _F(m).max_pool2d(Z(m, 1, 2, 5, 5), 0),
    "max_pool2d kernel 0 stride 1": lambda m: _F(m).max_pool2d(Z(m, 1, 2, 5, 5), (2, 0), 1),
    "max_pool2d stride 0": lambda m: _F(m).max_pool2d(Z(m, 1, 2, 5, 5), 2, (1, 0)),
    "max_pool2d dilation 0": lambda m: _F(m).max_pool2d(Z(m, 1, 2, 5, 5), 2, 1, 0, (1, 0)),
    "max_pool2d kernel of 3": lambda m: _F(m).max_pool2d(Z(m, 1, 2, 5, 5), (2, 2, 2)),
    "max_pool2d empty plane": lambda m: _F(m).max_pool2d(Z(m, 1, 2, 0, 4), 2),
    "max_pool2d too small": lambda m: _F(m).max_pool2d(Z(m, 2, 3, 2, 2), 3),
    "max_pool1d too small": lambda m: _F(m).max_pool1d(Z(m, 2, 3, 2), 3),
    "max_pool1d indices too small": lambda m: _F(m).max_pool1d(Z(m, 1, 2, 2), 3, return_indices=True),
    "max_pool1d pad": lambda m: _F(m).max_pool1d(Z(m, 2, 3, 5), 2, padding=2),
    "max_pool1d rank": lambda m: _F(m).max_pool1d(Z(m, 5), 2),
    "max_pool1d kernel 0": lambda m: _F(m).max_pool1d(Z(m, 1, 2, 5), 0),
    "max_pool1d dilation 0": lambda m: _F(m).max_pool1d(Z(m, 1, 2, 5), 2, 1, 0, 0),
    "avg_pool2d pad": lambda m: _F(m).avg_pool2d(Z(m, 2, 3, 5, 5), 2, padding=2),
    "avg_pool2d stride 0": lambda m: _F(m).avg_pool2d(Z(m, 1, 2, 5, 5), 2, 0),
    "avg_pool2d rank 5": lambda m: _F(m).avg_pool2d(Z(m, 1, 1, 2, 5, 5), 2),
    "avg_pool2d divisor 0": lambda m: _F(m).avg_pool2d(Z(m, 1, 2, 5, 5), 2, divisor_override=0),
    "avg_pool1d too small": lambda m: _F(m).avg_pool1d(Z(m, 2, 3, 2), 3),
    "avg_pool1d rank": lambda m: _F(m).avg_pool1d(Z(m, 5), 2),
    "avg_pool1d empty": lambda m: _F(m).avg_pool1d(Z(m, 1, 2, 0), 1),
    "lp_pool2d too small": lambda m: _F(m).lp_pool2d(Z(m, 1, 2, 1, 1), 2, 2),
    "adaptive_avg_pool2d rank": lambda m: _F(m).adaptive_avg_pool2d(Z(m, 5, 5), 2),
    "adaptive_max_pool2d rank": lambda m: _F(m).adaptive_max_pool2d(Z(m, 5, 5), 2),
    "adaptive_avg_pool2d empty": lambda m: _F(m).adaptive_avg_pool2d(Z(m, 1, 2, 0, 4), 2),
    "adaptive_max_pool2d empty": lambda m: _F(m).adaptive_max_pool2d(Z(m, 1, 2, 0, 4), 2),
    "adaptive_avg_pool1d rank": lambda m: _F(m).adaptive_avg_pool1d(Z(m, 5), 2),
    "adaptive_max_pool1d output_size": lambda m: _F(m).adaptive_max_pool1d(Z(m, 1, 2, 5), (2, 2)),
    "adaptive_max_pool1d empty": lambda m: _F(m).adaptive_max_pool1d(Z(m, 1, 2, 0), 2),
    "max_unpool2d output_size": lambda m: _F(m).max_unpool2d(Z(m, 1, 2, 3, 3), Z(m, 1, 2, 3, 3, dtype=m.long), 2,
                                                             output_size=(8, 8)),
    "max_unpool2d output_size 4": lambda m: _F(m).max_unpool2d(Z(m, 1, 2, 3, 3), Z(m, 1, 2, 3, 3, dtype=m.long),
                                                               3, 2, 1, output_size=[1, 2, 13, 13]),
    "max_unpool1d invalid index": lambda m: _F(m).max_unpool1d(Z(m, 1, 1, 2), Z(m, 1, 1, 2, dtype=m.long) + 9, 2),
}

LAYER_ERRORS = {
    "pad replicate empty": lambda m: _F(m).pad(Z(m, 1, 2, 0), (1, 1), mode="replicate"),
    "pad reflect empty": lambda m: _F(m).pad(Z(m, 2, 0), (0, 0), mode="reflect"),
    "interpolate size 0": lambda m: _F(m).interpolate(Z(m, 1, 2, 3, 3), size=0),
    "interpolate 1-d size 0": lambda m: _F(m).interpolate(Z(m, 1, 2, 3), size=0, mode="linear"),
    "unfold too small": lambda m: _F(m).unfold(Z(m, 1, 2, 3, 3), 4),
    "fold channels": lambda m: _F(m).fold(Z(m, 1, 5, 4), (3, 3), 2),
    "fold blocks": lambda m: _F(m).fold(Z(m, 1, 8, 5), (3, 3), 2),
    "batch_norm double input": lambda m: m.nn.BatchNorm1d(3)(Z(m, 2, 3, dtype=m.float64)),
    "batch_norm double parameters": lambda m: _F(m).batch_norm(Z(m, 2, 3), Z(m, 3, dtype=m.float64),
                                                               Z(m, 3, dtype=m.float64)),
    "batch_norm long": lambda m: m.nn.BatchNorm1d(3)(Z(m, 2, 3, dtype=m.long)),
    "batch_norm 1-d training": lambda m: _F(m).batch_norm(Z(m, 3), None, None, training=True),
    "linear bias": lambda m: _F(m).linear(Z(m, 2, 3), Z(m, 4, 3), Z(m, 5)),
    "dropout int": lambda m: _F(m).dropout(Z(m, 10, dtype=m.int32), 0.5),
    "embedding_bag offsets past the end": lambda m: _F(m).embedding_bag(m.tensor([1, 2]), Z(m, 5, 2),
                                                                        m.tensor([0, 3])),
    "embedding_bag index": lambda m: _F(m).embedding_bag(m.tensor([1, 7]), Z(m, 5, 2), m.tensor([0])),
}


@pytest.mark.parametrize("label", list(CONV_ERRORS) + list(POOL_ERRORS) + list(LAYER_ERRORS))
def test_errors_like_torch(label):
    case = {**CONV_ERRORS, **POOL_ERRORS, **LAYER_ERRORS}[label]
    assert_raises_like_torch(case, torch, tg, label)


def test_conv_errors_keep_tapegrad_detail():
    """PyTorch's message comes first; tapegrad's plainer statement stays after it."""
    with pytest.raises(RuntimeError) as e:
        tg.nn.Conv2d(1, 4, 3)(tg.zeros(2, 3, 8, 8))
    assert str(e.value).startswith("Given groups=1, weight of size [4, 1, 3, 3], expected input[2, 3, 8, 8]")
    assert "Conv2d(in_channels=1): expected input with 1 channels" in str(e.value)


@pytest.mark.parametrize("p", [float("inf"), -float("inf")])
@pytest.mark.parametrize("nd", [1, 2])
def test_lp_pool_infinite_norm_is_max_pool(p, nd):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 7))
    if nd == 1:
        _both(lambda m, t: _F(m).lp_pool1d(t[:, :, 0], p, 3, 2), [x])
    else:
        _both(lambda m, t: _F(m).lp_pool2d(t, p, (2, 3), None, True), [x])


@pytest.mark.parametrize("pads", [(-1, -1, 2, -2), (2, -1), (-2, 1, 1, -1), (1, 2, -1, 0)])
def test_circular_pad_with_negative_pads(pads):
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    _both(lambda m, t: _F(m).pad(t if len(pads) == 4 else t[0], pads, mode="circular"), [x])


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("padding_idx", [None, 2, 7])
def test_embedding_bag_scale_grad_by_freq(mode, padding_idx):
    """PyTorch's CPU backward divides each row by the count found at the row's group number in the
    sorted indices (see bag._torch_freq); tapegrad gives the same gradients."""
    w = np.random.default_rng(2).standard_normal((10, 4))
    for flat, offs in [([1, 2, 4, 5, 4, 3, 2, 9], [0, 2, 2, 5]), ([7, 7, 7, 1, 1, 0, 3, 3, 3, 3], [0, 4])]:
        _both(lambda m, t: _F(m).embedding_bag(m.tensor(flat), t, m.tensor(offs), mode=mode,
                                               scale_grad_by_freq=True, padding_idx=padding_idx), [w])
    psw = np.random.default_rng(3).standard_normal(8)
    if mode == "sum":
        _both(lambda m, t, q: _F(m).embedding_bag(m.tensor([1, 2, 4, 5, 4, 3, 2, 9]), t, m.tensor([0, 2, 2, 5]),
                                                  mode="sum", scale_grad_by_freq=True, per_sample_weights=q,
                                                  padding_idx=padding_idx), [w, psw])


@pytest.mark.parametrize("bshape", [(2, 4), (1, 4), (1,)])
def test_linear_broadcast_bias(bshape):
    rng = np.random.default_rng(4)
    _both(lambda m, x, w, b: _F(m).linear(x, w, b), [rng.standard_normal((2, 3)), rng.standard_normal((4, 3)),
                                                     rng.standard_normal(bshape)])


def test_conv_transpose_casts_a_bias_of_another_dtype():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((1, 2, 3, 3)).astype(np.float32), \
        rng.standard_normal((2, 3, 2, 2)).astype(np.float32), rng.standard_normal(3)
    _both(lambda m, x, w, b: _F(m).conv_transpose2d(x, w, b, stride=2), [x, w, b])


def test_adaptive_pool_error_keeps_tapegrad_detail():
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool2d\(\): Expected 3D or 4D tensor, but got \[5, 5\] "
                                           r"\(adaptive_avg_pool2d: Expected 3D or 4D"):
        _F(tg).adaptive_avg_pool2d(tg.zeros(5, 5), 2)
