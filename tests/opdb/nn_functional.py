"""Registry entries for torch.nn.functional: activations and layer functions (linear, embedding,
pad, interpolate, normalize, distances). Random ones (dropout) are tested in test_nn_layers.py."""
import numpy as np

from opinfo import OpInfo, Sample, rand

ACT_SHAPES = [(3, 4), (2, 3, 5), (), (0, 3), (7,)]


def act(rng, dt, low=-3.0, high=3.0):
    return [Sample([rand(rng, dt, s, low, high)], name=str(s)) for s in ACT_SHAPES]


def _a(name, call=None, low=-3.0, high=3.0, **kw):
    call = call or (lambda m, x, _n=name: getattr(m.nn.functional, _n)(x))
    return OpInfo("nnF_" + name, call, lambda r, d: act(r, d, low, high), **kw)


def _F(m):
    return m.nn.functional


def linear_samples(rng, dt):
    return [
        Sample([rand(rng, dt, (4, 5)), rand(rng, dt, (3, 5)), rand(rng, dt, (3,))], name="2d"),
        Sample([rand(rng, dt, (2, 3, 5)), rand(rng, dt, (3, 5)), rand(rng, dt, (3,))], name="3d"),
        Sample([rand(rng, dt, (5,)), rand(rng, dt, (3, 5)), rand(rng, dt, (3,))], name="1d"),
        Sample([rand(rng, dt, (4, 5)), rand(rng, dt, (3, 5)), None], name="nobias"),
        Sample([rand(rng, dt, (0, 5)), rand(rng, dt, (3, 5)), rand(rng, dt, (3,))], name="empty"),
        Sample([rand(rng, dt, (3, 70)), rand(rng, dt, (130, 70)), rand(rng, dt, (130,))], name="wide"),
    ]


def bilinear_samples(rng, dt):
    return [
        Sample([rand(rng, dt, (3, 2)), rand(rng, dt, (3, 4)), rand(rng, dt, (5, 2, 4)), rand(rng, dt, (5,))]),
        Sample([rand(rng, dt, (2, 2, 2)), rand(rng, dt, (2, 2, 3)), rand(rng, dt, (2, 2, 3)), None]),
    ]


def pad_samples(rng, dt):
    x3, x4 = rand(rng, dt, (2, 2, 5)), rand(rng, dt, (1, 2, 4, 5))
    return [Sample([x3], {"pad": (1, 2)}), Sample([x4], {"pad": (1, 2, 2, 1)}), Sample([x4], {"pad": (2, 0, 0, 3)}),
            Sample([x4], {"pad": (-1, 2, 1, -2)})]


def pad_constant(rng, dt):
    return pad_samples(rng, dt) + [
        Sample([rand(rng, dt, (3, 4))], {"pad": (1, 1, 2, 0), "value": 1.5}),
        Sample([rand(rng, dt, (2, 3, 4))], {"pad": (-1, -1, 0, 0, 1, 1)}),
        Sample([rand(rng, dt, (4,))], {"pad": (0, 3)}),
    ]


def interp_samples(rng, dt, mode):
    if mode == "linear":
        x = rand(rng, dt, (1, 2, 5))
        return [Sample([x], {"size": 8}), Sample([x], {"scale_factor": 1.7}), Sample([x], {"size": 3})]
    if mode == "trilinear":
        return [Sample([rand(rng, dt, (1, 1, 2, 3, 2))], {"scale_factor": 2})]
    x = rand(rng, dt, (1, 2, 3, 4))
    return [Sample([x], {"size": (5, 7)}), Sample([x], {"scale_factor": 2}), Sample([x], {"scale_factor": (1.5, 0.5)}),
            Sample([x], {"size": (2, 3)}), Sample([x], {"scale_factor": 2.5, "recompute_scale_factor": True})]


def _interp(mode, align=None):
    def call(m, x, **kw):
        return m.nn.functional.interpolate(x, mode=mode, align_corners=align, **kw)

    base = "bilinear" if mode in ("bilinear", "nearest", "nearest-exact") else mode
    return OpInfo(f"nnF_interpolate_{mode}_{align}", call, lambda r, d: interp_samples(r, d, base))


def glu_samples(rng, dt):
    return [Sample([rand(rng, dt, (3, 4))], {"dim": -1}), Sample([rand(rng, dt, (4, 3))], {"dim": 0})]


def prelu_samples(rng, dt):
    return [Sample([rand(rng, dt, (2, 3, 4)), rand(rng, dt, (3,))], name="channels"),
            Sample([rand(rng, dt, (2, 3)), rand(rng, dt, (1,))], name="shared"),
            Sample([rand(rng, dt, (5,)), rand(rng, dt, (1,))], name="1d")]


def dim_samples(rng, dt):
    return [Sample([rand(rng, dt, (3, 4))], {"dim": 1}), Sample([rand(rng, dt, (2, 3, 4))], {"dim": 0}),
            Sample([rand(rng, dt, (2, 3, 4))], {"dim": -1})]


def two(rng, dt, shape_a, shape_b, **kw):
    return Sample([rand(rng, dt, shape_a), rand(rng, dt, shape_b)], kw)


def embed(m, w, idx=None, **kw):
    i = (m.tensor([[0, 2, 4], [4, 3, 0]]) if idx is None else m.tensor(idx))
    return m.nn.functional.embedding(i, w, **kw)


OPS = [
    _a("relu"), _a("relu6", low=-8, high=8), _a("elu"), _a("selu"), _a("celu"), _a("gelu"), _a("silu"), _a("mish"),
    _a("hardswish", low=-5, high=5), _a("hardsigmoid", low=-5, high=5), _a("hardtanh"), _a("softplus"),
    _a("softsign"), _a("tanhshrink"), _a("logsigmoid"), _a("sigmoid"), _a("tanh"), _a("leaky_relu"),
    _a("hardshrink"), _a("softshrink"),
    _a("gelu_tanh", lambda m, x: _F(m).gelu(x, approximate="tanh")),
    _a("elu_alpha", lambda m, x: _F(m).elu(x, alpha=0.5)),
    _a("celu_alpha", lambda m, x: _F(m).celu(x, alpha=2.0)),
    _a("leaky_relu_slope", lambda m, x: _F(m).leaky_relu(x, 0.2)),
    _a("hardtanh_range", lambda m, x: _F(m).hardtanh(x, -0.5, 2.0)),
    _a("softplus_beta", lambda m, x: _F(m).softplus(x, beta=2.0, threshold=3.0)),
    _a("threshold", lambda m, x: _F(m).threshold(x, 0.3, -2.0)),
    _a("rrelu_eval", lambda m, x: _F(m).rrelu(x, 0.1, 0.3, training=False)),
    _a("softshrink_lambd", lambda m, x: _F(m).softshrink(x, 1.0)),
    OpInfo("nnF_glu", lambda m, x, **k: _F(m).glu(x, **k), glu_samples),
    OpInfo("nnF_prelu", lambda m, x, w: _F(m).prelu(x, w), prelu_samples),
    OpInfo("nnF_softmax", lambda m, x, dim: _F(m).softmax(x, dim), dim_samples),
    OpInfo("nnF_log_softmax", lambda m, x, dim: _F(m).log_softmax(x, dim=dim), dim_samples),
    OpInfo("nnF_softmin", lambda m, x, dim: _F(m).softmin(x, dim=dim), dim_samples),
    OpInfo("nnF_linear", lambda m, x, w, b: _F(m).linear(x, w, b), linear_samples),
    OpInfo("nnF_bilinear", lambda m, a, b, w, bias: _F(m).bilinear(a, b, w, bias), bilinear_samples),
    OpInfo("nnF_embedding", lambda m, w: embed(m, w), lambda r, d: [Sample([rand(r, d, (5, 3))])], noncontiguous=False),
    # padding_idx and scale_grad_by_freq change the gradient on purpose: no gradcheck (as in PyTorch)
    OpInfo("nnF_embedding_padding_idx", lambda m, w: embed(m, w, padding_idx=4),
           lambda r, d: [Sample([rand(r, d, (5, 3))])], noncontiguous=False, gradcheck=False),
    OpInfo("nnF_embedding_scale_grad", lambda m, w: embed(m, w, scale_grad_by_freq=True),
           lambda r, d: [Sample([rand(r, d, (5, 3))])], noncontiguous=False, gradcheck=False),
    OpInfo("nnF_pad_constant", lambda m, x, **k: _F(m).pad(x, **k), pad_constant),
    OpInfo("nnF_pad_reflect", lambda m, x, **k: _F(m).pad(x, mode="reflect", **k), pad_samples),
    OpInfo("nnF_pad_replicate", lambda m, x, **k: _F(m).pad(x, mode="replicate", **k), pad_samples),
    OpInfo("nnF_pad_circular", lambda m, x, **k: _F(m).pad(x, mode="circular", **k),
           lambda r, d: pad_samples(r, d)[:3]),
    _interp("nearest"), _interp("nearest-exact"), _interp("bilinear", False), _interp("bilinear", True),
    _interp("linear", False), _interp("linear", True), _interp("trilinear", False),
    OpInfo("nnF_normalize", lambda m, x, **k: _F(m).normalize(x, **k), lambda r, d: [
        Sample([rand(r, d, (3, 4))]), Sample([rand(r, d, (2, 3, 4))], {"p": 1.0, "dim": -1}),
        Sample([rand(r, d, (3, 4))], {"p": 3.0, "dim": 0})]),
    OpInfo("nnF_cosine_similarity", lambda m, a, b, **k: _F(m).cosine_similarity(a, b, **k), lambda r, d: [
        two(r, d, (3, 4), (3, 4)), two(r, d, (2, 3, 4), (3, 4), dim=-1), two(r, d, (4, 3), (4, 1), dim=0)]),
    OpInfo("nnF_pairwise_distance", lambda m, a, b, **k: _F(m).pairwise_distance(a, b, **k), lambda r, d: [
        two(r, d, (3, 4), (3, 4)), two(r, d, (3, 4), (4,), p=1.0), two(r, d, (2, 4), (2, 4), keepdim=True),
        two(r, d, (5,), (5,))]),
]
