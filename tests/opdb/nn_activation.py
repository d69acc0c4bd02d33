"""Registry entries for tapegrad/_ops/activation.py through nn.functional, beyond the plain calls in
nn_functional.py: kinks (inputs exactly at the corners, where the gradient is a convention), in-place
forms (`F.relu_`, `inplace=True`) on 1-size and 0-size inputs, the softmax family's dtype and edge
sizes, glu and prelu edge shapes.

gumbel_softmax draws Gumbel noise, which cannot match PyTorch's stream: only its sums along dim are
compared. Not registered: rrelu in training mode (random slopes).
"""
import numpy as np

from opinfo import OpInfo, Sample, rand


def _F(m):
    return m.nn.functional


# the corners of every piecewise activation (0, +-0.5, +-1, +-3, 6, ...) and a point past each
KINKS = np.array([-7.0, -6.0, -3.0, -2.0, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 6.0, 7.0, 30.0])


def kink_samples(rng, dt):
    return [Sample([KINKS.astype(dt).reshape(4, 4)], name="kink: corners")]


# (shape, low, high): 1-size, 0-size, 0-d; one tiny shape for gradcheck
EDGE_SHAPES = [(2, 1, 3), (1, 1), (1,), (), (0, 3), (2, 0, 1)]


def edge_samples(rng, dt, low=-3.0, high=3.0):
    return [Sample([rand(rng, dt, s, low, high)], name=str(s)) for s in EDGE_SHAPES]


def _act(name, *args, **kw):
    """F.name(x, *args, **kw) on x itself; the kinks are what is tested."""
    return lambda m, x: getattr(_F(m), name)(x, *args, **kw)


def _inplace(name, *args, trailing_=False, **kw):
    """F.name(x.clone(), ..., inplace=True), or F.name_(x.clone(), ...) with trailing_: an in-place op
    on a non-leaf, so that the gradient reaches x through the clone."""
    if trailing_:
        return lambda m, x: getattr(_F(m), name + "_")(x.clone(), *args, **kw)
    return lambda m, x: getattr(_F(m), name)(x.clone(), *args, inplace=True, **kw)


def _prelu_kink(m, x):
    return _F(m).prelu(x, m.tensor([0.25], dtype=x.dtype))


KINK_OPS = [
    ("relu", _act("relu")), ("relu6", _act("relu6")), ("leaky_relu", _act("leaky_relu", 0.1)),
    ("elu", _act("elu", alpha=0.5)), ("celu", _act("celu", alpha=2.0)), ("selu", _act("selu")),
    ("hardtanh", _act("hardtanh", -1.0, 2.0)), ("threshold", _act("threshold", 0.5, -1.0)),
    ("hardswish", _act("hardswish")), ("hardsigmoid", _act("hardsigmoid")),
    ("hardshrink", _act("hardshrink", 0.5)), ("softshrink", _act("softshrink", 1.0)),
    ("softplus", _act("softplus", beta=1.0, threshold=2.0)), ("prelu", _prelu_kink),
    ("rrelu_eval", _act("rrelu", 0.1, 0.3, training=False)), ("gelu", _act("gelu")),
    ("gelu_tanh", _act("gelu", approximate="tanh")), ("silu", _act("silu")), ("mish", _act("mish")),
    ("logsigmoid", _act("logsigmoid")), ("softsign", _act("softsign")), ("tanhshrink", _act("tanhshrink")),
    ("sigmoid", _act("sigmoid")), ("tanh", _act("tanh")),
]

INPLACE_OPS = [
    ("relu_", _inplace("relu", trailing_=True)), ("relu_inplace", _inplace("relu")),
    ("relu6_inplace", _inplace("relu6")),
    ("leaky_relu_", _inplace("leaky_relu", 0.2, trailing_=True)), ("leaky_relu_inplace", _inplace("leaky_relu", 0.2)),
    ("elu_", _inplace("elu", 0.7, trailing_=True)), ("elu_inplace", _inplace("elu")),
    ("selu_", _inplace("selu", trailing_=True)), ("selu_inplace", _inplace("selu")),
    ("celu_", _inplace("celu", 1.5, trailing_=True)), ("celu_inplace", _inplace("celu", 0.5)),
    ("hardtanh_", _inplace("hardtanh", -0.5, 1.5, trailing_=True)), ("hardtanh_inplace", _inplace("hardtanh")),
    ("threshold_", _inplace("threshold", 0.2, 5.0, trailing_=True)),
    ("threshold_inplace", _inplace("threshold", -0.2, 1.0)),
    ("rrelu_", _inplace("rrelu", 0.1, 0.3, training=False, trailing_=True)),
    ("rrelu_inplace", _inplace("rrelu", 0.2, 0.4, training=False)),
    ("silu_inplace", _inplace("silu")), ("mish_inplace", _inplace("mish")),
    ("hardswish_inplace", _inplace("hardswish")), ("hardsigmoid_inplace", _inplace("hardsigmoid")),
]


def softmax_samples(rng, dt):
    out = [Sample([rand(rng, dt, s, -3, 3)], {"dim": d}, name=f"{s} dim={d}")
           for s, d in [((2, 3), 1), ((2, 1, 3), 1), ((1, 1), 0), ((), 0), ((), -1), ((0, 3), 1), ((3, 0), 0),
                        ((2, 0, 2), 2)]]
    out.append(Sample([rand(rng, dt, (2, 3), -3, 3)], {"dim": -1, "dtype": "float64"}, name="dtype=float64"))
    return out


def _softmax(name):
    def call(m, x, dim, dtype=None):
        return getattr(_F(m), name)(x, dim=dim, dtype=None if dtype is None else getattr(m, dtype))

    return call


def glu_samples(rng, dt):
    return [Sample([rand(rng, dt, (2, 4, 1))], {"dim": 1}, name="dim=1"),
            Sample([rand(rng, dt, (2,))], {"dim": 0}, name="1-d"),
            Sample([rand(rng, dt, (0, 4))], {"dim": -1}, name="0-size batch"),
            Sample([rand(rng, dt, (3, 0))], {"dim": -1}, name="0-size halved dim"),
            Sample([rand(rng, dt, (1, 2, 2))], {}, name="default dim")]


def prelu_samples(rng, dt):
    return [Sample([rand(rng, dt, (2, 3, 2, 2)), rand(rng, dt, (3,))], name="4-d channels"),
            Sample([rand(rng, dt, (1, 1)), rand(rng, dt, (1,))], name="1-size"),
            Sample([rand(rng, dt, (0, 3)), rand(rng, dt, (3,))], name="0-size batch"),
            Sample([rand(rng, dt, ()), rand(rng, dt, (1,))], name="0-d input"),
            Sample([rand(rng, dt, (2, 3)), rand(rng, dt, ())], name="0-d weight")]


def gumbel_samples(rng, dt):
    return [Sample([rand(rng, dt, (2, 3))], {}, name="soft"),
            Sample([rand(rng, dt, (2, 3))], {"tau": 0.5, "hard": True}, name="hard"),
            Sample([rand(rng, dt, (3, 2))], {"hard": True, "dim": 0}, name="hard dim=0"),
            Sample([rand(rng, dt, (1, 1))], {"tau": 2.0}, name="1-size")]


def gumbel_sums(m, x, dim=-1, **kw):
    """The noise cannot match PyTorch's; the sums along dim (1, with a zero gradient) and the shape can."""
    return _F(m).gumbel_softmax(x, dim=dim, **kw).sum(dim)


OPS = (
    # at the corners finite differences cannot check the gradient: compared with PyTorch's only
    [OpInfo(f"F_{name}_kinks", call, kink_samples, gradcheck=False) for name, call in KINK_OPS]
    + [OpInfo("F_" + name, call, edge_samples) for name, call in INPLACE_OPS]
    + [OpInfo("F_softmax_edges", _softmax("softmax"), softmax_samples),
       OpInfo("F_log_softmax_edges", _softmax("log_softmax"), softmax_samples),
       OpInfo("F_softmin_edges", _softmax("softmin"), softmax_samples),
       OpInfo("F_glu_edges", lambda m, x, **k: _F(m).glu(x, **k), glu_samples),
       OpInfo("F_prelu_edges", lambda m, x, w: _F(m).prelu(x, w), prelu_samples),
       OpInfo("F_gumbel_softmax_sums", gumbel_sums, gumbel_samples)]
)
