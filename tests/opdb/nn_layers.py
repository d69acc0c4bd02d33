"""Registry entries for tapegrad/_ops/layers.py through nn.functional, beyond the plain calls in
nn_functional.py: the dropout family in its deterministic forms (p=0, training=False), one_hot,
upsample*, and edge sizes and options of linear, bilinear, embedding, pad, interpolate, normalize,
cosine_similarity and pairwise_distance.
"""
import numpy as np

from opinfo import OpInfo, Sample, rand


def _F(m):
    return m.nn.functional


def _f(name):
    return lambda m, *a, **k: getattr(_F(m), name)(*a, **k)


def _split(name, op, gen, **kw):
    """Smooth samples (gradcheck'd) and samples named 'kink: ...' (gradients compared with PyTorch's only)."""
    return [OpInfo(name, op, lambda r, d: [s for s in gen(r, d) if not s.name.startswith("kink")], **kw),
            OpInfo(name + "_kinks", op, lambda r, d: [s for s in gen(r, d) if s.name.startswith("kink")],
                   **dict(kw, gradcheck=False))]


def _idx(rng, shape, n):
    return rng.integers(0, n, size=shape).astype(np.int64)


# ---------------------------------------------------------------- dropout family (deterministic forms only)
def dropout_samples(rng, dt, shapes):
    out = []
    for s in shapes:
        out.append(Sample([rand(rng, dt, s)], {"p": 0.0, "training": True}, name=f"{s} p=0 training"))
        out.append(Sample([rand(rng, dt, s)], {"p": 0.5, "training": False}, name=f"{s} eval"))
    return out


def _dropout(name, shapes, inplace=False):
    if inplace:
        call = lambda m, x, **k: getattr(_F(m), name)(x.clone(), inplace=True, **k)  # noqa: E731
    else:
        call = _f(name)
    suffix = "_inplace" if inplace else ""
    return OpInfo(f"F_{name}{suffix}", call, lambda r, d: dropout_samples(r, d, shapes))


DROPOUT_OPS = [
    _dropout("dropout", [(2, 3), (), (0, 3), (1,)]), _dropout("dropout", [(2, 3), (1,)], inplace=True),
    _dropout("alpha_dropout", [(2, 3), (0, 2), (1,)]), _dropout("alpha_dropout", [(2, 3)], inplace=True),
    _dropout("feature_alpha_dropout", [(2, 3, 2), (0, 2, 2), (1, 1, 1)]),
    _dropout("dropout1d", [(2, 3, 2), (3, 2), (0, 2, 2), (1, 1, 1)]),
    _dropout("dropout1d", [(2, 2, 2), (3, 2)], inplace=True),
    _dropout("dropout2d", [(2, 2, 2, 2), (1, 2, 2), (0, 2, 1, 1)]),
    _dropout("dropout3d", [(1, 2, 2, 1, 2), (2, 2, 1, 2), (0, 1, 1, 1, 1)]),
    _dropout("dropout3d", [(2, 2, 1, 2)], inplace=True),
]


# ---------------------------------------------------------------- one_hot
def one_hot_samples(rng, dt):
    return [Sample([_idx(rng, (5,), 4)], name="(5,) inferred"),
            Sample([_idx(rng, (2, 3), 3)], {"num_classes": 5}, name="(2, 3) num_classes=5"),
            Sample([np.array(2, np.int64)], {"num_classes": 3}, name="0-d"),
            Sample([np.array([0], np.int64)], name="1-size"),
            Sample([np.zeros((0, 2), np.int64)], {"num_classes": 3}, name="0-size")]


# ---------------------------------------------------------------- linear / bilinear / embedding
def linear_samples(rng, dt):
    return [Sample([rand(rng, dt, (1, 1)), rand(rng, dt, (1, 1)), rand(rng, dt, (1,))], name="1-size"),
            Sample([rand(rng, dt, (2, 0)), rand(rng, dt, (3, 0)), rand(rng, dt, (3,))], name="in_features=0"),
            Sample([rand(rng, dt, (2, 3)), rand(rng, dt, (0, 3)), rand(rng, dt, (0,))], name="out_features=0"),
            Sample([rand(rng, dt, (2, 0, 3)), rand(rng, dt, (2, 3)), None], name="0-size batch 3-d"),
            Sample([rand(rng, dt, (2, 3)), rand(rng, dt, (3,)), None], name="1-d weight"),
            Sample([rand(rng, dt, (3,)), rand(rng, dt, (2, 3)), rand(rng, dt, (1,))], name="broadcast bias")]


def bilinear_samples(rng, dt):
    return [Sample([rand(rng, dt, (0, 2)), rand(rng, dt, (0, 3)), rand(rng, dt, (2, 2, 3)), rand(rng, dt, (2,))],
                   name="0-size batch"),
            Sample([rand(rng, dt, (1, 1)), rand(rng, dt, (1, 1)), rand(rng, dt, (1, 1, 1)), None], name="1-size"),
            Sample([rand(rng, dt, (2, 1, 2)), rand(rng, dt, (2, 1, 2)), rand(rng, dt, (3, 2, 2)),
                    rand(rng, dt, (3,))], name="3-d")]


def embedding_samples(rng, dt):
    return [Sample([_idx(rng, (2, 3), 4), rand(rng, dt, (4, 2))], name="(2, 3)"),
            Sample([np.array(1, np.int64), rand(rng, dt, (3, 2))], name="0-d index"),
            Sample([np.zeros((0,), np.int64), rand(rng, dt, (3, 2))], name="0-size index"),
            Sample([np.zeros((1, 1), np.int64), rand(rng, dt, (1, 1))], name="1-size"),
            Sample([_idx(rng, (5,), 3), rand(rng, dt, (3, 0))], name="0-size embedding dim")]
    # sparse=True: PyTorch's gradient is a sparse tensor, tapegrad's a dense one (tested in test_nn_layers.py)


def embedding_grad_option_samples(rng, dt):
    return [Sample([np.array([0, 2, 2, 1], np.int64), rand(rng, dt, (3, 2))], {"padding_idx": -1},
                   name="padding_idx=-1"),
            Sample([np.array([[0, 2], [2, 2]], np.int64), rand(rng, dt, (3, 2))], {"scale_grad_by_freq": True},
                   name="scale_grad_by_freq"),
            Sample([np.array([[0, 2], [2, 2]], np.int64), rand(rng, dt, (3, 2))],
                   {"scale_grad_by_freq": True, "padding_idx": 0}, name="both")]


def embedding_max_norm_samples(rng, dt):
    w = rand(rng, dt, (4, 3), -2, 2)
    w[1] *= 0.05  # a row under max_norm stays as it is
    return [Sample([np.array([[0, 1], [3, 3]], np.int64), w], {"max_norm": 1.0}, name="max_norm=1"),
            Sample([np.array([2, 0], np.int64), w.copy()], {"max_norm": 0.5, "norm_type": 1.0}, name="norm_type=1")]


# ---------------------------------------------------------------- pad
def pad_samples(rng, dt, mode):
    out = [Sample([rand(rng, dt, (0, 2, 3))], {"pad": (1, 1)}, name="0-size batch"),
           Sample([rand(rng, dt, (1, 1, 2, 2, 2))], {"pad": (1, 0, 0, 1, 1, 1)}, name="3-d pad"),
           Sample([rand(rng, dt, (2, 3))], {"pad": (1, 2)}, name="2-d input"),
           Sample([rand(rng, dt, (1, 2, 3))], {"pad": (0, 0, 1, 1)}, name="(1, 2, 3) last two dims")]
    if mode == "constant":
        out += [Sample([rand(rng, dt, (3, 4))], {"pad": (-2, -2)}, name="crop to 0"),
                Sample([rand(rng, dt, (2, 0))], {"pad": (1, 1), "value": -1.0}, name="0-size dim"),
                Sample([rand(rng, dt, (2,))], {"pad": ()}, name="no pad"),
                Sample([rand(rng, dt, (1, 2))], {"pad": (1, 0, 1, 1)}, name="1-size")]
    if mode == "reflect":
        out[1] = Sample([rand(rng, dt, (1, 1, 2, 3, 2))], {"pad": (1, 0, 0, 2, 1, 1)}, name="3-d pad")
    return out


def _pad(mode):
    return OpInfo(f"F_pad_{mode}_edges", lambda m, x, **k: _F(m).pad(x, mode=mode, **k),
                  lambda r, d: pad_samples(r, d, mode))


# ---------------------------------------------------------------- interpolate / upsample
def interp_samples(rng, dt, mode):
    if mode in ("nearest", "nearest-exact"):
        return [Sample([rand(rng, dt, (1, 2, 5))], {"size": 3}, name="1-d size=3"),
                Sample([rand(rng, dt, (1, 1, 3))], {"scale_factor": 2.0}, name="1-d scale 2"),
                Sample([rand(rng, dt, (1, 1, 2, 2, 3))], {"scale_factor": (1.0, 2.0, 0.7)}, name="3-d"),
                Sample([rand(rng, dt, (0, 2, 2, 2))], {"size": 3}, name="0-size batch"),
                Sample([rand(rng, dt, (1, 1, 1, 1))], {"size": (2, 3)}, name="1-size input"),
                Sample([rand(rng, dt, (1, 1, 3, 4))], {"size": (3, 4)}, name="same size"),
                Sample([rand(rng, dt, (1, 1, 3, 5))], {"size": (1, 1)}, name="to 1x1")]
    if mode == "linear":
        return [Sample([rand(rng, dt, (2, 1, 1))], {"size": 3}, name="1-size input"),
                Sample([rand(rng, dt, (1, 1, 4))], {"size": 1}, name="to 1"),
                Sample([rand(rng, dt, (0, 2, 3))], {"scale_factor": 2}, name="0-size batch"),
                Sample([rand(rng, dt, (1, 2, 4))], {"scale_factor": 0.5}, name="downscale")]
    if mode == "bilinear":
        return [Sample([rand(rng, dt, (1, 1, 1, 1))], {"size": (2, 3)}, name="1-size input"),
                Sample([rand(rng, dt, (1, 1, 3, 4))], {"size": (1, 1)}, name="to 1x1"),
                Sample([rand(rng, dt, (0, 1, 2, 2))], {"size": 3}, name="0-size batch"),
                Sample([rand(rng, dt, (1, 1, 3, 3))], {"size": 3}, name="same size"),
                Sample([rand(rng, dt, (1, 2, 4, 5))], {"scale_factor": (0.5, 0.6)}, name="downscale")]
    if mode in ("bicubic", "area"):
        return [Sample([rand(rng, dt, (1, 1, 2, 3))], {"size": (3, 5)}, name="up"),
                Sample([rand(rng, dt, (1, 2, 5, 4))], {"size": (2, 3)}, name="down"),
                Sample([rand(rng, dt, (1, 1, 4, 4))], {"scale_factor": (0.6, 1.7)}, name="scale_factor"),
                Sample([rand(rng, dt, (1, 1, 1, 1))], {"size": (3, 2)}, name="1-size input"),
                Sample([rand(rng, dt, (2, 1, 3, 3))], {"size": 1}, name="to 1x1"),
                Sample([rand(rng, dt, (0, 1, 2, 2))], {"size": 3}, name="0-size batch")] + (
            [Sample([rand(rng, dt, (1, 2, 5))], {"size": 3}, name="1-d")] if mode == "area" else [])
    # trilinear
    return [Sample([rand(rng, dt, (1, 1, 2, 2, 2))], {"size": (3, 1, 2)}, name="sizes"),
            Sample([rand(rng, dt, (0, 1, 2, 2, 2))], {"size": 3}, name="0-size batch")]


def _interp(mode, align=None):
    def call(m, x, **kw):
        return _F(m).interpolate(x, mode=mode, align_corners=align, **kw)

    base = mode if mode in ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "area") else "trilinear"
    return OpInfo(f"F_interpolate_{mode}_{align}_edges", call, lambda r, d: interp_samples(r, d, base))


def upsample_samples(rng, dt):
    x = rand(rng, dt, (1, 2, 2, 3))
    return [Sample([x], {"scale_factor": 2}), Sample([x], {"size": (3, 4)}), Sample([rand(rng, dt, (1, 1, 1, 2))],
                                                                                    {"size": 3}, name="1-size")]


def _upsample(m, x, **k):
    return _F(m).upsample(x, mode="bilinear", align_corners=False, **k)


# ---------------------------------------------------------------- normalize / distances
def normalize_samples(rng, dt):
    z = rand(rng, dt, (3, 4))
    z[1] = 0  # a zero row: clamped at eps
    return [Sample([z], {"dim": 1}, name="kink: zero row"),
            Sample([rand(rng, dt, (0, 3))], {"dim": 1}, name="0-size"),
            Sample([rand(rng, dt, (5,))], {"dim": 0}, name="1-d"),
            Sample([rand(rng, dt, (1, 1))], {}, name="1-size"),
            Sample([rand(rng, dt, (2, 3))], {"p": float("inf"), "dim": 1}, name="p=inf"),
            Sample([rand(rng, dt, (2, 3))], {"p": 2.0, "dim": 1, "eps": 10.0}, name="large eps"),
            Sample([rand(rng, dt, (2, 3, 2))], {"dim": -2}, name="dim=-2")]


def cosine_samples(rng, dt):
    z = rand(rng, dt, (3, 4))
    z[0] = 0
    return [Sample([z, rand(rng, dt, (3, 4))], name="kink: zero row"),
            Sample([rand(rng, dt, (0, 4)), rand(rng, dt, (0, 4))], name="0-size batch"),
            Sample([rand(rng, dt, (5,)), rand(rng, dt, (5,))], {"dim": 0}, name="1-d"),
            Sample([rand(rng, dt, (1, 4)), rand(rng, dt, (3, 4))], name="broadcast"),
            Sample([rand(rng, dt, (2, 1)), rand(rng, dt, (2, 1))], {"dim": 1}, name="1-size dim"),
            Sample([rand(rng, dt, (2, 3)), rand(rng, dt, (2, 3))], {"dim": -1, "eps": 100.0}, name="large eps")]


def pdist_samples(rng, dt):
    return [Sample([rand(rng, dt, (3, 4)), rand(rng, dt, (3, 4))], {"p": float("inf")}, name="p=inf"),
            Sample([rand(rng, dt, (3, 4)), rand(rng, dt, (3, 4))], {"p": 3.0, "eps": 1e-3}, name="p=3"),
            Sample([rand(rng, dt, (0, 4)), rand(rng, dt, (0, 4))], name="0-size batch"),
            Sample([rand(rng, dt, (1, 1)), rand(rng, dt, (1, 1))], {"keepdim": True}, name="1-size keepdim"),
            Sample([rand(rng, dt, (5,)), rand(rng, dt, (5,))], {"keepdim": True}, name="1-d keepdim"),
            Sample([rand(rng, dt, (2, 3, 4)), rand(rng, dt, (4,))], name="3-d broadcast")]


def pdist_p0_samples(rng, dt):
    return [Sample([rand(rng, dt, (3, 4)), rand(rng, dt, (3, 4))], {"p": 0.0}, name="p=0")]


OPS = DROPOUT_OPS + [
    OpInfo("F_one_hot", _f("one_hot"), one_hot_samples, dtypes=("int64",), grad=False),
    OpInfo("F_linear_edges", _f("linear"), linear_samples),
    OpInfo("F_bilinear_edges", _f("bilinear"), bilinear_samples),
    OpInfo("F_embedding_edges", _f("embedding"), embedding_samples),
    # padding_idx and scale_grad_by_freq change the gradient on purpose: no gradcheck (as in PyTorch)
    OpInfo("F_embedding_grad_options", _f("embedding"), embedding_grad_option_samples, gradcheck=False),
    # max_norm renormalises the weight in place on every call: finite differences cannot check that
    OpInfo("F_embedding_max_norm", _f("embedding"), embedding_max_norm_samples, gradcheck=False),
    _pad("constant"), _pad("reflect"), _pad("replicate"), _pad("circular"),
    _interp("nearest"), _interp("nearest-exact"), _interp("linear", False), _interp("linear", True),
    _interp("bilinear", False), _interp("bilinear", True), _interp("trilinear", True),
    _interp("bicubic", False), _interp("bicubic", True), _interp("area"),
    OpInfo("F_upsample", _upsample, upsample_samples),
    OpInfo("F_upsample_nearest", _f("upsample_nearest"), upsample_samples),
    OpInfo("F_upsample_bilinear", _f("upsample_bilinear"), upsample_samples),
    *_split("F_normalize_edges", _f("normalize"), normalize_samples),
    *_split("F_cosine_similarity_edges", _f("cosine_similarity"), cosine_samples),
    OpInfo("F_pairwise_distance_edges", _f("pairwise_distance"), pdist_samples),
    OpInfo("F_pairwise_distance_p0", _f("pairwise_distance"), pdist_p0_samples),
]
