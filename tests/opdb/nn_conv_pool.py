"""Registry entries for tapegrad/_ops/conv.py and pool.py through nn.functional: convolutions and their
transposes (stride, padding incl. 'same'/'valid', dilation, groups, bias, unbatched, 0-size batch),
unfold/fold, max/avg/adaptive/lp pooling and max-unpooling. Samples are small: gradcheck runs on every
sample of at most 60 input elements.
"""
import numpy as np

from opinfo import OpInfo, Sample, rand


def _F(m):
    return m.nn.functional


def _f(name):
    return lambda m, *a, **k: getattr(_F(m), name)(*a, **k)


def _s(rng, dt, shapes, name="", **kw):
    return Sample([None if s is None else rand(rng, dt, s) for s in shapes], kw,
                  name=name or " ".join(str(s) for s in shapes))


# ---------------------------------------------------------------- convolution
def conv1d_samples(rng, dt):
    return [_s(rng, dt, [(2, 2, 4), (3, 2, 2), (3,)], "tiny"),
            _s(rng, dt, [(1, 2, 7), (2, 2, 3), (2,)], stride=2, padding=1, dilation=2, name="stride pad dil"),
            _s(rng, dt, [(1, 4, 5), (2, 2, 2), None], groups=2, name="groups nobias"),
            _s(rng, dt, [(1, 2, 5), (2, 2, 4), (2,)], padding="same", name="same even k"),
            _s(rng, dt, [(1, 2, 5), (2, 2, 3), None], padding="same", dilation=2, name="same dil"),
            _s(rng, dt, [(1, 2, 4), (1, 2, 2), (1,)], padding="valid", name="valid"),
            _s(rng, dt, [(2, 5), (3, 2, 2), (3,)], padding=(1,), name="unbatched"),
            _s(rng, dt, [(0, 2, 4), (3, 2, 2), (3,)], name="0-size batch"),
            _s(rng, dt, [(1, 1, 1), (1, 1, 1), (1,)], name="1-size")]


def conv2d_samples(rng, dt):
    return [_s(rng, dt, [(1, 2, 3, 3), (2, 2, 2, 2), (2,)], "tiny"),
            _s(rng, dt, [(1, 1, 5, 4), (2, 1, 3, 2), (2,)], stride=(2, 1), padding=(1, 0), dilation=(1, 2),
               name="stride pad dil"),
            _s(rng, dt, [(1, 4, 3, 3), (4, 1, 2, 2), None], groups=4, padding=1, name="depthwise nobias"),
            _s(rng, dt, [(1, 4, 3, 4), (2, 2, 2, 1), (2,)], groups=2, stride=2, name="groups stride"),
            _s(rng, dt, [(1, 2, 4, 3), (2, 2, 2, 3), (2,)], padding="same", name="same even k"),
            _s(rng, dt, [(2, 1, 3, 3), (2, 1, 3, 1), None], padding="valid", name="valid"),
            _s(rng, dt, [(2, 3, 3), (2, 2, 2, 2), (2,)], name="unbatched"),
            _s(rng, dt, [(0, 2, 3, 3), (2, 2, 2, 2), (2,)], name="0-size batch"),
            _s(rng, dt, [(1, 1, 1, 1), (1, 1, 1, 1), (1,)], name="1-size"),
            _s(rng, dt, [(1, 8, 3, 3), (16, 8, 2, 2), (16,)], name="many channels")]


def conv_t1d_samples(rng, dt):
    return [_s(rng, dt, [(2, 2, 3), (2, 3, 2), (3,)], "tiny"),
            _s(rng, dt, [(1, 2, 4), (2, 2, 3), (2,)], stride=2, padding=1, output_padding=1, name="stride outpad"),
            _s(rng, dt, [(1, 4, 3), (4, 1, 2), None], groups=2, dilation=2, name="groups dil"),
            _s(rng, dt, [(2, 3), (2, 3, 2), (3,)], name="unbatched"),
            _s(rng, dt, [(0, 2, 3), (2, 2, 2), (2,)], name="0-size batch"),
            _s(rng, dt, [(1, 1, 1), (1, 1, 1), (1,)], name="1-size")]


def conv_t2d_samples(rng, dt):
    return [_s(rng, dt, [(1, 2, 2, 2), (2, 2, 2, 2), (2,)], "tiny"),
            _s(rng, dt, [(1, 2, 3, 2), (2, 2, 3, 2), (2,)], stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
               name="stride outpad"),
            _s(rng, dt, [(1, 4, 2, 3), (4, 1, 2, 2), None], groups=2, dilation=(2, 1), name="groups dil"),
            _s(rng, dt, [(2, 2, 2), (2, 2, 2, 2), (2,)], name="unbatched"),
            _s(rng, dt, [(0, 2, 2, 2), (2, 2, 2, 2), (2,)], name="0-size batch"),
            _s(rng, dt, [(1, 1, 1, 1), (1, 1, 1, 1), (1,)], name="1-size")]


def unfold_samples(rng, dt):
    return [_s(rng, dt, [(1, 2, 3, 3)], kernel_size=2, name="tiny"),
            _s(rng, dt, [(1, 2, 4, 5)], kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1), name="opts"),
            _s(rng, dt, [(2, 3, 3)], kernel_size=2, stride=2, padding=1, name="unbatched"),
            _s(rng, dt, [(0, 2, 3, 3)], kernel_size=2, name="0-size batch"),
            _s(rng, dt, [(1, 1, 1, 1)], kernel_size=1, name="1-size")]


def fold_samples(rng, dt):
    return [_s(rng, dt, [(1, 8, 4)], output_size=3, kernel_size=2, name="tiny"),
            _s(rng, dt, [(1, 6, 9)], output_size=(4, 5), kernel_size=(2, 3), dilation=(1, 2), padding=1,
               stride=(2, 1), name="opts"),
            _s(rng, dt, [(8, 4)], output_size=(3, 3), kernel_size=2, stride=2, padding=1, name="unbatched"),
            _s(rng, dt, [(0, 4, 4)], output_size=3, kernel_size=2, name="0-size batch"),
            _s(rng, dt, [(1, 1, 1)], output_size=1, kernel_size=1, name="1-size")]


# ---------------------------------------------------------------- pooling
def distinct(rng, dt, shape):
    """Values with no ties (max pooling's gradient is unique), well spread for finite differences."""
    n = int(np.prod(shape))
    return (rng.permutation(n).astype(dt) * 0.1 - 0.05 * n + rng.uniform(-0.02, 0.02, n).astype(dt)).reshape(shape)


def ties(rng, dt, shape):
    return rng.integers(-1, 2, size=shape).astype(dt)


def _p(rng, dt, shape, name="", tie=False, **kw):
    x = ties(rng, dt, shape) if tie else distinct(rng, dt, shape)
    return Sample([x], kw, name=("kink: " if tie else "") + (name or str(shape)))


def max_pool1d_samples(rng, dt):
    return [_p(rng, dt, (1, 2, 5), kernel_size=2, name="tiny"),
            _p(rng, dt, (2, 2, 7), kernel_size=3, stride=2, padding=1, name="pad"),
            _p(rng, dt, (1, 2, 8), kernel_size=2, stride=2, dilation=2, ceil_mode=True, name="dil ceil"),
            _p(rng, dt, (1, 2, 6), kernel_size=3, stride=1, name="overlap"),
            _p(rng, dt, (2, 5), kernel_size=2, name="unbatched"),
            _p(rng, dt, (0, 2, 4), kernel_size=2, name="0-size batch"),
            _p(rng, dt, (1, 1, 1), kernel_size=1, name="1-size"),
            _p(rng, dt, (2, 2, 8), kernel_size=3, stride=1, tie=True, name="ties")]


def max_pool2d_samples(rng, dt):
    return [_p(rng, dt, (1, 2, 3, 4), kernel_size=2, name="tiny"),
            _p(rng, dt, (1, 2, 5, 5), kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), name="pad"),
            _p(rng, dt, (1, 2, 5, 6), kernel_size=2, stride=2, dilation=(2, 1), ceil_mode=True, name="dil ceil"),
            _p(rng, dt, (1, 1, 4, 4), kernel_size=2, stride=1, name="overlap"),
            _p(rng, dt, (2, 3, 4), kernel_size=2, name="unbatched"),
            _p(rng, dt, (0, 2, 2, 2), kernel_size=2, name="0-size batch"),
            _p(rng, dt, (1, 1, 1, 1), kernel_size=1, name="1-size"),
            _p(rng, dt, (2, 2, 4, 5), kernel_size=3, stride=1, padding=1, tie=True, name="ties")]


def avg_pool1d_samples(rng, dt):
    return [_s(rng, dt, [(1, 2, 5)], kernel_size=2, name="tiny"),
            _s(rng, dt, [(2, 2, 7)], kernel_size=3, stride=2, padding=1, name="pad"),
            _s(rng, dt, [(2, 2, 7)], kernel_size=3, stride=2, padding=1, count_include_pad=False, name="no count pad"),
            _s(rng, dt, [(1, 2, 8)], kernel_size=3, stride=2, ceil_mode=True, name="ceil"),
            _s(rng, dt, [(1, 2, 6)], kernel_size=4, stride=1, padding=2, ceil_mode=True, count_include_pad=False,
               name="ceil pad no count"),
            _s(rng, dt, [(2, 5)], kernel_size=2, name="unbatched"),
            _s(rng, dt, [(0, 2, 4)], kernel_size=2, name="0-size batch"),
            _s(rng, dt, [(1, 1, 1)], kernel_size=1, name="1-size")]


def avg_pool2d_samples(rng, dt):
    return [_s(rng, dt, [(1, 2, 3, 4)], kernel_size=2, name="tiny"),
            _s(rng, dt, [(1, 2, 5, 5)], kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), name="pad"),
            _s(rng, dt, [(1, 2, 5, 5)], kernel_size=3, stride=2, padding=1, count_include_pad=False,
               name="no count pad"),
            _s(rng, dt, [(1, 2, 5, 6)], kernel_size=2, stride=2, ceil_mode=True, name="ceil"),
            _s(rng, dt, [(1, 2, 5, 6)], kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False,
               name="ceil pad no count"),
            _s(rng, dt, [(1, 2, 4, 4)], kernel_size=2, stride=1, divisor_override=3, name="divisor_override"),
            _s(rng, dt, [(2, 3, 4)], kernel_size=2, name="unbatched"),
            _s(rng, dt, [(0, 2, 2, 2)], kernel_size=2, name="0-size batch"),
            _s(rng, dt, [(1, 1, 1, 1)], kernel_size=1, name="1-size")]


def adaptive1d_samples(rng, dt, maxpool=False):
    p = (lambda shape, name, **kw: _p(rng, dt, shape, name, **kw)) if maxpool else \
        (lambda shape, name, **kw: _s(rng, dt, [shape], name, **kw))
    return [p((1, 2, 5), "tiny", output_size=3), p((2, 2, 6), "divisible", output_size=3),
            p((1, 2, 3), "upsample", output_size=5), p((2, 7), "unbatched", output_size=(2,)),
            p((0, 2, 4), "0-size batch", output_size=2), p((1, 1, 1), "1-size", output_size=1)]


def adaptive2d_samples(rng, dt, maxpool=False):
    p = (lambda shape, name, **kw: _p(rng, dt, shape, name, **kw)) if maxpool else \
        (lambda shape, name, **kw: _s(rng, dt, [shape], name, **kw))
    return [p((1, 2, 3, 5), "tiny", output_size=(2, 3)), p((1, 2, 4, 6), "divisible", output_size=2),
            p((1, 1, 5, 7), "None entry", output_size=(3, None)), p((1, 2, 2, 3), "upsample", output_size=(3, 4)),
            p((2, 5, 4), "unbatched", output_size=(1, 3)), p((0, 2, 3, 3), "0-size batch", output_size=2),
            p((1, 1, 1, 1), "1-size", output_size=1)]


def lp1d_samples(rng, dt):
    return [Sample([rand(rng, dt, (1, 2, 6), 0.5, 2.0), 2.0, 2], name="tiny p=2"),
            Sample([rand(rng, dt, (2, 2, 7), 0.5, 2.0), 3.0, 3], {"stride": 2}, name="p=3 stride"),
            Sample([rand(rng, dt, (1, 2, 7), 0.5, 2.0), 1.0, 2], {"ceil_mode": True}, name="p=1 ceil"),
            Sample([rand(rng, dt, (2, 5), 0.5, 2.0), 2, 2], name="unbatched"),
            Sample([rand(rng, dt, (1, 1, 1), 0.5, 2.0), 2, 1], name="1-size")]


def lp2d_samples(rng, dt):
    return [Sample([rand(rng, dt, (1, 2, 4, 4), 0.5, 2.0), 2.0, 2], name="tiny p=2"),
            Sample([rand(rng, dt, (1, 2, 5, 4), 0.5, 2.0), 3.0, (2, 3)], {"stride": (1, 1)}, name="p=3 stride"),
            Sample([rand(rng, dt, (1, 1, 5, 5), 0.5, 2.0), 1.5, 2], {"ceil_mode": True}, name="p=1.5 ceil"),
            Sample([rand(rng, dt, (2, 3, 4), 0.5, 2.0), 2, 2], name="unbatched"),
            Sample([rand(rng, dt, (1, 1, 1, 1), 0.5, 2.0), 2, 1], name="1-size")]


def _with_indices(name):
    """The (values, indices) pair: both are compared with PyTorch's."""
    return _f(name)


def unpool1d(m, x, kernel_size, stride=None, padding=0, output_size=None):
    y, idx = _F(m).max_pool1d(x, kernel_size, stride, padding, return_indices=True)
    return _F(m).max_unpool1d(y, idx, kernel_size, stride, padding, output_size)


def unpool2d(m, x, kernel_size, stride=None, padding=0, output_size=None):
    y, idx = _F(m).max_pool2d(x, kernel_size, stride, padding, return_indices=True)
    return _F(m).max_unpool2d(y, idx, kernel_size, stride, padding, output_size)


def unpool1d_samples(rng, dt):
    return [_p(rng, dt, (1, 2, 4), kernel_size=2, name="tiny"),
            _p(rng, dt, (1, 2, 6), kernel_size=2, stride=2, padding=1, name="pad"),
            _p(rng, dt, (2, 2, 7), kernel_size=3, stride=2, padding=1, name="kink: overlapping windows"),
            _p(rng, dt, (1, 2, 5), kernel_size=2, output_size=(5,), name="output_size"),
            _p(rng, dt, (2, 6), kernel_size=2, name="unbatched"),
            _p(rng, dt, (0, 2, 4), kernel_size=2, name="0-size batch")]


def unpool2d_samples(rng, dt):
    return [_p(rng, dt, (1, 2, 2, 4), kernel_size=2, name="tiny"),
            _p(rng, dt, (1, 1, 4, 2), kernel_size=2, stride=2, padding=1, name="pad"),
            _p(rng, dt, (2, 1, 5, 5), kernel_size=3, stride=2, padding=1, name="kink: overlapping windows"),
            _p(rng, dt, (1, 2, 5, 5), kernel_size=2, output_size=(1, 2, 5, 5), name="output_size"),
            _p(rng, dt, (2, 4, 4), kernel_size=2, name="unbatched"),
            _p(rng, dt, (0, 2, 2, 2), kernel_size=2, name="0-size batch")]


def _split(name, op, gen, **kw):
    """Smooth samples (gradcheck'd) and samples named 'kink: ...' (gradients compared with PyTorch's only)."""
    return [OpInfo(name, op, lambda r, d: [s for s in gen(r, d) if not s.name.startswith("kink")], **kw),
            OpInfo(name + "_kinks", op, lambda r, d: [s for s in gen(r, d) if s.name.startswith("kink")],
                   **dict(kw, gradcheck=False))]


OPS = [
    OpInfo("F_conv1d", _f("conv1d"), conv1d_samples),
    OpInfo("F_conv2d", _f("conv2d"), conv2d_samples),
    OpInfo("F_conv_transpose1d", _f("conv_transpose1d"), conv_t1d_samples),
    OpInfo("F_conv_transpose2d", _f("conv_transpose2d"), conv_t2d_samples),
    OpInfo("F_unfold", _f("unfold"), unfold_samples),
    OpInfo("F_fold", _f("fold"), fold_samples),
    *_split("F_max_pool1d", _f("max_pool1d"), max_pool1d_samples),
    *_split("F_max_pool2d", _f("max_pool2d"), max_pool2d_samples),
    *_split("F_max_pool1d_with_indices", _with_indices("max_pool1d_with_indices"), max_pool1d_samples),
    *_split("F_max_pool2d_with_indices", _with_indices("max_pool2d_with_indices"), max_pool2d_samples),
    OpInfo("F_avg_pool1d", _f("avg_pool1d"), avg_pool1d_samples),
    OpInfo("F_avg_pool2d", _f("avg_pool2d"), avg_pool2d_samples),
    OpInfo("F_adaptive_avg_pool1d", _f("adaptive_avg_pool1d"), adaptive1d_samples),
    OpInfo("F_adaptive_avg_pool2d", _f("adaptive_avg_pool2d"), adaptive2d_samples),
    OpInfo("F_adaptive_max_pool1d", _f("adaptive_max_pool1d"), lambda r, d: adaptive1d_samples(r, d, True)),
    OpInfo("F_adaptive_max_pool2d", _f("adaptive_max_pool2d"), lambda r, d: adaptive2d_samples(r, d, True)),
    OpInfo("F_adaptive_max_pool1d_with_indices", _with_indices("adaptive_max_pool1d_with_indices"),
           lambda r, d: adaptive1d_samples(r, d, True)),
    OpInfo("F_adaptive_max_pool2d_with_indices", _with_indices("adaptive_max_pool2d_with_indices"),
           lambda r, d: adaptive2d_samples(r, d, True)),
    # overlapping windows can pick one maximum twice: PyTorch writes it once but sends the gradient of both
    *_split("F_max_unpool1d", unpool1d, unpool1d_samples),
    *_split("F_max_unpool2d", unpool2d, unpool2d_samples),
    OpInfo("F_lp_pool1d", _f("lp_pool1d"), lp1d_samples),
    OpInfo("F_lp_pool2d", _f("lp_pool2d"), lp2d_samples),
]
