"""Registry entries for reductions, scans, norms and softmax (tapegrad/_ops/reduce.py)."""
import numpy as np
import pytest

from opinfo import OpInfo, Sample
from opinfo import rand as _rand


def rand(rng, dt, shape, low=-2.0, high=2.0):
    return np.asarray(_rand(rng, dt, shape, low, high))  # an array even for 0-d bools

# shapes a reduction over `dim` is tried on: (shape, dim); includes 0-d, 1-size and 0-size dimensions
DIM_CASES = [((3, 4), None), ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 0)), ((2, 3), [1]),
             ((), None), ((), 0), ((1,), 0), ((2, 1, 3), 1), ((0, 3), 0), ((0, 3), None), ((2, 0), 1), ((5,), 0)]


def dim_samples(rng, dt, keepdim=True, cases=DIM_CASES, low=-2.0, high=2.0, nonempty=False, **kw):
    out = []
    for shape, dim in cases:
        if nonempty and 0 in shape:
            continue
        for kd in ((False, True) if keepdim else (False,)):
            args = dict(kw, keepdim=kd) if keepdim else dict(kw)
            out.append(Sample([rand(rng, dt, shape, low, high)], dict(args, dim=dim),
                              name=f"{shape} dim={dim} keepdim={kd}"))
    return out


def ties(rng, dt, shape, low=-2, high=2):
    """Integer-valued data: extreme values repeat, so tie-breaking is tested."""
    return rng.integers(low, high + 1, size=shape).astype(dt)


def with_zeros(rng, dt, shape, k):
    x = rand(rng, dt, shape, 0.5, 2.0) * np.where(rng.random(shape) < 0.5, -1, 1).astype(dt)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, k, replace=False)] = 0
    return x


def scan_samples(rng, dt):
    return [Sample([rand(rng, dt, s)], {"dim": d}, name=f"{s} dim={d}")
            for s, d in [((3, 4), 0), ((3, 4), 1), ((2, 3, 4), -1), ((), 0), ((1,), 0), ((0, 3), 1), ((5,), -1)]]


def cumprod_samples(rng, dt):
    out = scan_samples(rng, dt)
    for shape, dim, k in [((6,), 0, 1), ((3, 5), 1, 2), ((3, 5), 1, 4), ((4, 3), 0, 3), ((2, 3, 4), 2, 6)]:
        out.append(Sample([with_zeros(rng, dt, shape, k)], {"dim": dim}, name=f"{shape} {k} zeros"))
    return out


def var_samples(rng, dt):
    out = []
    for shape, dim in [((3, 4), None), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), (0, 2)), ((5,), 0), ((2, 1, 3), 2)]:
        for extra in ({}, {"unbiased": False}, {"correction": 0}, {"correction": 2}, {"keepdim": True}):
            out.append(Sample([rand(rng, dt, shape)], dict(extra, dim=dim), name=f"{shape} dim={dim} {extra}"))
    out.append(Sample([rand(rng, dt, (3, 4))], {}, name="default"))
    return out


def minmax_dim_samples(rng, dt):
    """max/min/median/... along a dim: values and indices, with and without ties."""
    out = []
    for shape, dim in [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((1,), 0), ((), 0), ((2, 1, 3), 1), ((0, 3), 1)]:
        for kd in (False, True):
            out.append(Sample([rand(rng, dt, shape)], {"dim": dim, "keepdim": kd}, name=f"{shape} dim={dim} kd={kd}"))
    for shape, dim in [((4, 6), 1), ((5, 3), 0)]:
        out.append(Sample([ties(rng, dt, shape)], {"dim": dim}, name=f"kink: ties {shape} dim={dim}"))
    return out


def amax_samples(rng, dt):
    cases = [((3, 4), None), ((3, 4), 1), ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 0, 1)), ((), None), ((1,), 0),
             ((2, 1, 3), 1), ((0, 3), 1)]
    out = dim_samples(rng, dt, cases=cases)
    for s in out:
        if s.kwargs["dim"] is None:
            s.kwargs["dim"] = ()
    for shape, dim in [((4, 6), 1), ((4, 6), (0, 1)), ((3, 4), ())]:
        out.append(Sample([ties(rng, dt, shape, -1, 1)], {"dim": dim}, name=f"kink: ties {shape} dim={dim}"))
    return out


def max_all_samples(rng, dt):
    return [Sample([rand(rng, dt, s)], name=str(s)) for s in [(3, 4), (), (1,), (2, 3, 4)]] + [
        Sample([ties(rng, dt, (4, 5), -1, 1)], name="kink: ties")]


def norm_samples(rng, dt):
    out = []
    x = rand(rng, dt, (3, 4))
    x[1] = 0  # a zero row: the gradient there is 0 in PyTorch, not NaN
    for p in (2, 1, float("inf"), "fro", 0, 3, -float("inf"), 0.5):
        if p in (0.5, -float("inf")):
            out.append(Sample([rand(rng, dt, (3, 4), 0.5, 2.0)], {"p": p, "dim": 1}, name=f"p={p} dim=1"))
            continue
        out.append(Sample([rand(rng, dt, (3, 4))], {"p": p}, name=f"p={p}"))
        out.append(Sample([x.copy()], {"p": p, "dim": 1}, name=f"kink: p={p} dim=1 zero row"))
        out.append(Sample([rand(rng, dt, (2, 3, 4))], {"p": p, "dim": (0, 2), "keepdim": True}, name=f"p={p} dims"))
    out.append(Sample([rand(rng, dt, ())], {"p": 2}, name="0-d"))
    out.append(Sample([rand(rng, dt, (0, 3))], {"p": 2, "dim": 1}, name="0-size"))
    out.append(Sample([ties(rng, dt, (4, 5), -1, 1)], {"p": float("inf"), "dim": 1}, name="kink: inf ties"))
    return out


def vector_norm_samples(rng, dt):
    out = []
    for ord_ in (2, 1, float("inf"), 0, 3):
        out.append(Sample([rand(rng, dt, (3, 4))], {"ord": ord_}, name=f"ord={ord_}"))
        out.append(Sample([rand(rng, dt, (2, 3, 4))], {"ord": ord_, "dim": (0, -1), "keepdim": True},
                          name=f"ord={ord_} dims"))
    out.append(Sample([rand(rng, dt, (3, 4))], {"ord": 2, "dim": 0, "dtype": "float64"}, name="dtype"))
    return out


def softmax_samples(rng, dt):
    out = [Sample([rand(rng, dt, s, -4, 4)], {"dim": d}, name=f"{s} dim={d}")
           for s, d in [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -2), ((2, 3, 4), 2), ((5,), 0), ((), 0), ((1,), 0),
                        ((0, 3), 1), ((2, 1, 3), 1)]]
    out.append(Sample([rand(rng, dt, (3, 4), -4, 4)], {"dim": 1, "dtype": "float64"}, name="dtype=float64"))
    out.append(Sample([np.array([[1000.0, 0.0, -1000.0], [3.0, 3.0, 3.0]], dt)], {"dim": 1}, name="large"))
    return out


def _dt(m, kw):
    """Turn a dtype name in kwargs into the module's dtype object."""
    if isinstance(kw.get("dtype"), str):
        kw = dict(kw, dtype=getattr(m, kw["dtype"]))
    return kw


def _linalg(m):
    if not hasattr(m.linalg, "vector_norm") if hasattr(m, "linalg") else True:
        pytest.skip("tapegrad.linalg.vector_norm is not there yet")
    return m.linalg


def median_samples(rng, dt):
    out = []
    for shape, dim in [((3, 5), 1), ((3, 4), 1), ((4, 3), 0), ((2, 3, 4), -1), ((1,), 0), ((), 0), ((2, 1, 3), 1)]:
        for kd in (False, True):
            out.append(Sample([rand(rng, dt, shape)], {"dim": dim, "keepdim": kd}, name=f"{shape} dim={dim} kd={kd}"))
    for shape, dim in [((4, 7), 1), ((6, 3), 0), ((3, 10), 1)]:
        out.append(Sample([ties(rng, dt, shape, 0, 3)], {"dim": dim}, name=f"kink: ties {shape} dim={dim}"))
    return out


def mode_samples(rng, dt):
    out = [Sample([ties(rng, dt, shape, 0, 3)], {"dim": dim, "keepdim": kd}, name=f"{shape} dim={dim} kd={kd}")
           for shape, dim in [((4, 7), 1), ((6, 3), 0), ((2, 3, 5), -1), ((1,), 0), ((), 0), ((3, 1), 1)]
           for kd in (False, True)]
    out.append(Sample([rand(rng, dt, (3, 4))], {"dim": 1}, name="all distinct"))
    out.append(Sample([ties(rng, dt, (3, 5), 0, 3)], {}, name="default dim"))
    return out


def cummax_samples(rng, dt):
    return scan_samples(rng, dt) + [Sample([ties(rng, dt, (4, 6), -1, 1)], {"dim": d}, name=f"kink: ties dim={d}")
                                    for d in (0, 1)]


def logical_samples(rng, dt):
    out = []
    for shape, dim in [((3, 4), None), ((3, 4), 1), ((2, 3, 4), (0, 2)), ((), None), ((0, 3), 1), ((0, 3), None)]:
        x = rand(rng, dt, shape)
        if x.dtype.kind != "b":
            x[rng.random(shape) < 0.4] = 0
        for kd in (False, True):
            out.append(Sample([x], {"dim": dim, "keepdim": kd} if dim is not None or kd else {},
                              name=f"{shape} {dim} {kd}"))
    out.append(Sample([np.ones((2, 3), dt)], {"dim": 0}, name="all true"))
    return out


def nan_samples(rng, dt):
    out = []
    for shape, dim in [((3, 4), None), ((3, 4), 1), ((2, 3, 4), (0, 2)), ((3, 4), 0)]:
        x = rand(rng, dt, shape)
        x[rng.random(shape) < 0.3] = np.nan
        out.append(Sample([x], {"dim": dim}, name=f"{shape} dim={dim}"))
        out.append(Sample([x], {"dim": dim, "keepdim": True}, name=f"{shape} dim={dim} keepdim"))
    return out


def _split(name, op, gen, **kw):
    """Two entries: samples where the op is smooth (gradcheck'd), and samples at ties or kinks, named
    'kink: ...', where gradients are compared with PyTorch's but finite differences cannot check them."""
    return [OpInfo(name, op, lambda r, d: [s for s in gen(r, d) if not s.name.startswith("kink")], **kw),
            OpInfo(name + "_kinks", op, lambda r, d: [s for s in gen(r, d) if s.name.startswith("kink")],
                   **dict(kw, gradcheck=False))]


INT_DTYPES = ("int64", "int32", "uint8", "bool")

OPS = [
    OpInfo("sum", lambda m, x, **k: m.sum(x, **k), dim_samples),
    OpInfo("sum_method", lambda m, x, **k: x.sum(**k), lambda r, d: dim_samples(r, d, cases=DIM_CASES[:4])),
    OpInfo("sum_dtype", lambda m, x, **k: m.sum(x, dtype=m.float64, **k),
           lambda r, d: dim_samples(r, d, cases=[((3, 4), None), ((3, 4), 1)]), gradgrad=False),
    OpInfo("sum_int", lambda m, x, **k: m.sum(x, **k), dim_samples, dtypes=INT_DTYPES, grad=False),
    OpInfo("sum_int_dtype", lambda m, x, **k: m.sum(x, dtype=m.int32, **k),
           lambda r, d: dim_samples(r, d, cases=[((3, 4), None), ((3, 4), 1)]), dtypes=("int64", "bool"), grad=False),
    OpInfo("mean", lambda m, x, **k: m.mean(x, **k), dim_samples),
    OpInfo("mean_dtype", lambda m, x, **k: x.mean(dtype=m.float64, **k),
           lambda r, d: dim_samples(r, d, cases=[((3, 4), None), ((3, 4), 1)]), dtypes=("float32",)),
    OpInfo("nansum", lambda m, x, **k: m.nansum(x, **k), nan_samples),
    OpInfo("nansum_int", lambda m, x, **k: m.nansum(x, **k), lambda r, d: dim_samples(r, d, cases=DIM_CASES[:4]),
           dtypes=INT_DTYPES, grad=False),
    OpInfo("nanmean", lambda m, x, **k: m.nanmean(x, **k), nan_samples),
    OpInfo("prod", lambda m, x: m.prod(x), lambda r, d: [
        Sample([rand(r, d, s)], name=str(s)) for s in [(3, 4), (), (1,), (0, 3), (2, 3)]] + [
        Sample([with_zeros(r, d, (3, 4), k)], name=f"{k} zeros") for k in (1, 2)]),
    OpInfo("prod_dim", lambda m, x, **k: m.prod(x, **k), lambda r, d: [
        Sample([rand(r, d, s)], {"dim": dim, "keepdim": kd}, name=f"{s} {dim} {kd}")
        for s, dim in [((3, 4), 1), ((3, 4), -2), ((2, 3, 4), 1), ((), 0), ((1,), 0), ((0, 3), 1), ((3, 0), 1)]
        for kd in (False, True)] + [
        Sample([with_zeros(r, d, s, k)], {"dim": dim}, name=f"{s} {k} zeros") for s, dim, k in
        [((3, 4), 1, 1), ((3, 4), 1, 3), ((4, 3), 0, 5), ((2, 3, 4), 2, 8)]]),
    OpInfo("prod_int", lambda m, x: m.prod(x, 1), lambda r, d: [Sample([rand(r, d, (3, 4))])], dtypes=INT_DTYPES,
           grad=False),
    OpInfo("var", lambda m, x, **k: m.var(x, **k), var_samples),
    OpInfo("std", lambda m, x, **k: x.std(**k), var_samples),
    OpInfo("var_unbiased_positional", lambda m, x: (m.var(x, False), m.std(x, True)),
           lambda r, d: [Sample([rand(r, d, (3, 4))])]),
    OpInfo("var_mean", lambda m, x, **k: m.var_mean(x, **k), lambda r, d: var_samples(r, d)[::3]),
    OpInfo("std_mean", lambda m, x, **k: m.std_mean(x, **k), lambda r, d: var_samples(r, d)[1::3]),
    *_split("max_all", lambda m, x: m.max(x), max_all_samples),
    *_split("min_all", lambda m, x: x.min(), max_all_samples),
    *_split("max_dim", lambda m, x, **k: m.max(x, **k), minmax_dim_samples),
    *_split("min_dim", lambda m, x, **k: x.min(**k), minmax_dim_samples),
    OpInfo("max_binary", lambda m, x, y: m.max(x, y), lambda r, d: [Sample([rand(r, d, (3, 4)), rand(r, d, (4,))])]),
    *_split("amax", lambda m, x, **k: m.amax(x, **k), amax_samples),
    *_split("amin", lambda m, x, **k: x.amin(**k), amax_samples),
    OpInfo("argmax", lambda m, x, **k: m.argmax(x, **k), minmax_dim_samples, grad=False),
    OpInfo("argmin", lambda m, x, **k: x.argmin(**k), minmax_dim_samples, grad=False),
    OpInfo("argmax_all", lambda m, x: (m.argmax(x), m.argmin(x), m.argmax(x, keepdim=True)), max_all_samples,
           grad=False),
    *_split("aminmax", lambda m, x, **k: m.aminmax(x, **k), lambda r, d: [
        Sample([rand(r, d, (3, 4))]), Sample([rand(r, d, (3, 4))], {"dim": 1}),
        Sample([rand(r, d, (2, 3, 4))], {"dim": -1, "keepdim": True}), Sample([rand(r, d, ())]),
        Sample([ties(r, d, (3, 4), -1, 1)], {"dim": 0}, name="kink: ties")]),
    OpInfo("logsumexp", lambda m, x, **k: m.logsumexp(x, **k), lambda r, d: dim_samples(
        r, d, cases=[c for c in DIM_CASES if c[1] is not None], low=-5, high=5) + [
        Sample([np.array([[1000.0, 999.0], [-np.inf, 0.0]], d)], {"dim": 1}, name="large and -inf")]),
    OpInfo("cumsum", lambda m, x, **k: m.cumsum(x, **k), scan_samples),
    OpInfo("cumsum_dtype", lambda m, x, **k: x.cumsum(dtype=m.float64, **k), scan_samples, dtypes=("float32",)),
    OpInfo("cumsum_int", lambda m, x, **k: m.cumsum(x, **k), scan_samples, dtypes=INT_DTYPES, grad=False),
    OpInfo("cumprod", lambda m, x, **k: m.cumprod(x, **k), cumprod_samples),
    *_split("cummax", lambda m, x, **k: m.cummax(x, **k), cummax_samples),
    *_split("cummin", lambda m, x, **k: x.cummin(**k), cummax_samples),
    OpInfo("logcumsumexp", lambda m, x, **k: m.logcumsumexp(x, **k), lambda r, d: scan_samples(r, d) + [
        Sample([np.array([-1000.0, 0.0, 1000.0, -np.inf, 3.0], d)], {"dim": 0}, name="wide range", grad=False),
        Sample([np.array([[-800.0, 1.0, 2.0], [30.0, -30.0, 0.0]], d)], {"dim": 1}, name="wide finite")]),
    *_split("norm", lambda m, x, **k: m.norm(x, **k), norm_samples),
    OpInfo("norm_method", lambda m, x, **k: x.norm(**k), lambda r, d: [
        Sample([rand(r, d, (3, 4))]), Sample([rand(r, d, (3, 4))], {"p": 1, "dim": 0})]),
    OpInfo("linalg.vector_norm", lambda m, x, **k: _linalg(m).vector_norm(x, **_dt(m, k)), vector_norm_samples),
    OpInfo("softmax", lambda m, x, **k: m.softmax(x, **_dt(m, k)), softmax_samples),
    OpInfo("log_softmax", lambda m, x, **k: m.log_softmax(x, **_dt(m, k)), softmax_samples),
    OpInfo("softmax_method", lambda m, x, **k: (x.softmax(**k), x.log_softmax(**k)),
           lambda r, d: [Sample([rand(r, d, (3, 4))], {"dim": -1})]),
    OpInfo("all", lambda m, x, **k: m.all(x, **k), logical_samples, dtypes=("float32", "int64", "bool", "uint8"),
           grad=False),
    OpInfo("any", lambda m, x, **k: x.any(**k), logical_samples, dtypes=("float32", "int64", "bool", "uint8"),
           grad=False),
    OpInfo("count_nonzero", lambda m, x, **k: m.count_nonzero(x, **{a: b for a, b in k.items() if a == "dim"}),
           logical_samples, dtypes=("float32", "int64", "bool"), grad=False),
    *_split("median_all", lambda m, x: m.median(x), lambda r, d: [
        Sample([rand(r, d, s)], name=str(s)) for s in [(3, 5), (3, 4), (), (1,)]] + [
        Sample([ties(r, d, (4, 5), 0, 3)], name="kink: ties")]),
    *_split("median", lambda m, x, **k: m.median(x, **k), median_samples),
    OpInfo("mode", lambda m, x, **k: m.mode(x, **k), mode_samples, gradcheck=False),
    OpInfo("mode_int", lambda m, x, **k: m.mode(x, **k), mode_samples, dtypes=("int64",), grad=False),
]
