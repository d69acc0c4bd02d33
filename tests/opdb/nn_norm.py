"""Registry entries for tapegrad/_ops/norm.py through nn.functional: batch_norm (training, with the
running statistics it updates returned as extra outputs, and eval), layer_norm, group_norm,
instance_norm, local_response_norm and rms_norm, with and without affine parameters, on 2-d to 4-d
inputs, 1-size and 0-size batches.

Running statistics are built inside the op from constants: PyTorch does not differentiate them.
"""
import numpy as np

from opinfo import OpInfo, Sample, rand


def _F(m):
    return m.nn.functional


def _stats(m, x, C):
    """Running mean and variance of C channels, in x's dtype."""
    mean = m.tensor(np.linspace(-0.5, 0.5, C).tolist(), dtype=x.dtype)
    var = m.tensor(np.linspace(0.5, 2.0, C).tolist(), dtype=x.dtype)
    return mean, var


def _s(rng, dt, shapes, name, **kw):
    return Sample([None if s is None else rand(rng, dt, s) for s in shapes], kw, name=name)


# ---------------------------------------------------------------- batch_norm
def batch_norm_train(m, x, w, b, stats=True, **kw):
    """The output and the running statistics after the update (None-free: PyTorch accepts them missing)."""
    if not stats:
        return _F(m).batch_norm(x, None, None, w, b, training=True, **kw)
    rm, rv = _stats(m, x, x.shape[1])
    y = _F(m).batch_norm(x, rm, rv, w, b, training=True, **kw)
    return y, rm, rv


def batch_norm_eval(m, x, w, b, **kw):
    rm, rv = _stats(m, x, x.shape[1])
    return _F(m).batch_norm(x, rm, rv, w, b, training=False, **kw)


def bn_samples(rng, dt, train=True):
    out = [_s(rng, dt, [(3, 2), (2,), (2,)], "tiny 2-d"),
           _s(rng, dt, [(2, 3, 4), (3,), (3,)], "3-d", momentum=0.3),
           _s(rng, dt, [(2, 2, 2, 3), None, (2,)], "4-d bias only", eps=1e-3),
           _s(rng, dt, [(2, 2, 3), (2,), None], "weight only"),
           _s(rng, dt, [(4, 1), None, None], "no affine, 1 channel"),
           _s(rng, dt, [(2, 2, 1, 1), (2,), (2,)], "1x1 spatial")]
    if train:
        out.append(_s(rng, dt, [(3, 2), (2,), (2,)], "no running stats", stats=False))
        out.append(_s(rng, dt, [(1, 2, 3), (2,), (2,)], "batch of 1"))
        out.append(_s(rng, dt, [(0, 2, 3), (2,), (2,)], "0-size batch"))
    else:
        out.append(_s(rng, dt, [(1, 2), (2,), (2,)], "batch of 1"))
        out.append(_s(rng, dt, [(0, 2, 3), (2,), (2,)], "0-size batch"))
    return out


# ---------------------------------------------------------------- layer_norm / group_norm / instance_norm
def layer_norm(m, x, w, b, shape, **kw):
    return _F(m).layer_norm(x, shape, w, b, **kw)


def ln_samples(rng, dt):
    return [Sample([rand(rng, dt, (3, 4)), rand(rng, dt, (4,)), rand(rng, dt, (4,)), (4,)], name="tiny"),
            Sample([rand(rng, dt, (2, 2, 3)), rand(rng, dt, (2, 3)), rand(rng, dt, (2, 3)), (2, 3)], {"eps": 1e-2},
                   name="two dims"),
            Sample([rand(rng, dt, (2, 3, 4)), None, None, [4]], name="no affine"),
            Sample([rand(rng, dt, (2, 3)), rand(rng, dt, (3,)), None, (3,)], name="weight only"),
            Sample([rand(rng, dt, (2, 3)), None, rand(rng, dt, (3,)), (3,)], name="bias only"),
            Sample([rand(rng, dt, (0, 3)), rand(rng, dt, (3,)), rand(rng, dt, (3,)), (3,)], name="0-size batch"),
            Sample([rand(rng, dt, (4,)), rand(rng, dt, (4,)), rand(rng, dt, (4,)), (4,)], name="1-d input")] + (
        # one element: the gradient of x is 0; PyTorch's float32 one is rounding noise (1e-5)
        [Sample([rand(rng, dt, (2, 1)), rand(rng, dt, (1,)), rand(rng, dt, (1,)), (1,)], name="1 element")]
        if dt == np.float64 else [])


def group_norm(m, x, w, b, groups, **kw):
    return _F(m).group_norm(x, groups, w, b, **kw)


def gn_samples(rng, dt):
    return [Sample([rand(rng, dt, (2, 4, 3)), rand(rng, dt, (4,)), rand(rng, dt, (4,)), 2], name="tiny"),
            Sample([rand(rng, dt, (2, 4, 2, 2)), rand(rng, dt, (4,)), rand(rng, dt, (4,)), 4], name="groups=C"),
            Sample([rand(rng, dt, (2, 4, 2)), None, None, 1], {"eps": 1e-3}, name="groups=1 no affine"),
            Sample([rand(rng, dt, (2, 4)), rand(rng, dt, (4,)), rand(rng, dt, (4,)), 1], name="2-d"),
            Sample([rand(rng, dt, (0, 4, 2)), rand(rng, dt, (4,)), rand(rng, dt, (4,)), 2], name="0-size batch"),
            Sample([rand(rng, dt, (1, 2, 3)), rand(rng, dt, (2,)), None, 2], name="batch of 1")]


def instance_norm(m, x, w, b, stats=False, **kw):
    if not stats:
        return _F(m).instance_norm(x, weight=w, bias=b, **kw)
    rm, rv = _stats(m, x, x.shape[1])
    y = _F(m).instance_norm(x, rm, rv, weight=w, bias=b, **kw)
    return y, rm, rv


def in_samples(rng, dt):
    return [_s(rng, dt, [(2, 2, 3), (2,), (2,)], "tiny"),
            _s(rng, dt, [(2, 3, 2, 2), None, None], "4-d no affine", eps=1e-3),
            _s(rng, dt, [(2, 2, 4), (2,), (2,)], "running stats", stats=True, momentum=0.2),
            _s(rng, dt, [(2, 2, 3), (2,), (2,)], "use_input_stats=False", stats=True, use_input_stats=False),
            _s(rng, dt, [(1, 2, 3), None, (2,)], "batch of 1")]
    # a 0-size batch: PyTorch fails (select(): index 0 out of range), tapegrad returns the empty result


# ---------------------------------------------------------------- local_response_norm / rms_norm
def lrn_samples(rng, dt):
    return [Sample([rand(rng, dt, (1, 4, 3)), 3], name="tiny"),
            Sample([rand(rng, dt, (2, 5, 2, 2)), 2], {"alpha": 0.1, "beta": 0.5, "k": 2.0}, name="even size"),
            Sample([rand(rng, dt, (2, 3, 2)), 5], {"alpha": 1.0}, name="size > C"),
            Sample([rand(rng, dt, (1, 2, 2, 1, 2)), 1], {"alpha": 0.5}, name="5-d size 1"),
            Sample([rand(rng, dt, (0, 3, 2)), 2], name="0-size batch")]


def rms_norm(m, x, w, shape, **kw):
    return _F(m).rms_norm(x, shape, w, **kw)


def rms_samples(rng, dt):
    return [Sample([rand(rng, dt, (3, 4)), rand(rng, dt, (4,)), (4,)], name="tiny"),
            Sample([rand(rng, dt, (2, 2, 3)), rand(rng, dt, (2, 3)), [2, 3]], {"eps": 1e-3}, name="two dims"),
            Sample([rand(rng, dt, (2, 3)), None, [3]], name="no weight"),
            Sample([rand(rng, dt, (0, 3)), rand(rng, dt, (3,)), (3,)], name="0-size batch"),
            Sample([rand(rng, dt, (2, 1)), None, (1,)], name="1 element"),
            Sample([rand(rng, dt, (4,)), rand(rng, dt, (4,)), (4,)], name="1-d input")]


OPS = [
    OpInfo("F_batch_norm_train", batch_norm_train, bn_samples),
    OpInfo("F_batch_norm_eval", batch_norm_eval, lambda r, d: bn_samples(r, d, train=False)),
    OpInfo("F_layer_norm", layer_norm, ln_samples),
    OpInfo("F_group_norm", group_norm, gn_samples),
    OpInfo("F_instance_norm", instance_norm, in_samples),
    OpInfo("F_local_response_norm", lambda m, x, size, **k: _F(m).local_response_norm(x, size, **k), lrn_samples),
    OpInfo("F_rms_norm", rms_norm, rms_samples),
]
