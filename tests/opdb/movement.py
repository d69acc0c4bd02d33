"""Registry entries for shape and movement operators (tapegrad/_ops/movement.py)."""
import numpy as np

from opinfo import OpInfo, Sample
from opinfo import rand as _rand


def rand(rng, dt, shape, low=-2.0, high=2.0):
    return np.asarray(_rand(rng, dt, shape, low, high))


def one(shape_and_kwargs):
    """Samples of one random input: [(shape, kwargs), ...]."""
    return lambda rng, dt: [Sample([rand(rng, dt, s)], dict(kw), name=f"{s} {kw}") for s, kw in shape_and_kwargs]


def many(cases):
    """Samples of a list of inputs: [([shape, ...], kwargs), ...]; a shape may be (shape, dtype)."""
    def gen(rng, dt):
        out = []
        for shapes, kw in cases:
            arrays = [rand(rng, s[1], s[0]) if isinstance(s, tuple) and len(s) == 2 and isinstance(s[1], str)
                      else rand(rng, dt, s) for s in shapes]
            out.append(Sample([arrays], dict(kw), name=f"{shapes} {kw}"))
        return out
    return gen


def pos(*cases):
    """Samples of positional arguments: each case is (shape, *more args[, kwargs dict]); a list of shapes
    gives several inputs."""
    def gen(rng, dt):
        out = []
        for shape, *more in cases:
            kw = more.pop() if more and isinstance(more[-1], dict) else {}
            xs = [rand(rng, dt, s) for s in shape] if isinstance(shape, list) else [rand(rng, dt, shape)]
            out.append(Sample(xs + more, kw, name=f"{shape} {more} {kw}"))
        return out
    return gen


def flat(*outs):
    """One flat tuple of the tensors in nested tuples and lists (the registry compares a flat tuple)."""
    r = []
    for o in outs:
        r.extend(flat(*o) if isinstance(o, (tuple, list)) else [o])
    return tuple(r)


RESHAPES = [((3, 4), {"shape": (4, 3)}), ((3, 4), {"shape": (-1,)}), ((2, 3, 4), {"shape": (6, -1)}),
            ((2, 3, 4), {"shape": (2, 1, 12)}), ((), {"shape": (1, 1)}), ((1,), {"shape": ()}),
            ((0, 3), {"shape": (3, 0, 2)}), ((0, 3), {"shape": (-1, 3)}), ((4,), {"shape": (2, -1, 1)})]


# repeat_interleave samples: (shape, repeats, kwargs); repeats an int or an int64 array (a tensor of counts)
def _counts(*counts):
    return np.array(counts, dtype=np.int64)


REPEAT_INTERLEAVE = [
    ((2, 3), 2, {}), ((2, 3), 2, {"dim": 1}), ((2, 3, 4), 3, {"dim": -2}), ((2, 3), 0, {"dim": 1}), ((), 3, {}),
    ((0, 3), 2, {"dim": 0}), ((0, 3), 2, {"dim": 1}), ((2, 3), _counts(1, 0, 2), {"dim": 1}),
    ((2, 3, 4), _counts(2, 1), {"dim": -3}), ((2, 3), _counts(2), {"dim": 1}), ((2, 3), np.array(3), {"dim": 0}),
    ((2, 3), _counts(1, 2, 0, 3, 1, 1), {}), ((3, 2, 2), _counts(0, 0, 0), {"dim": 0}), ((4,), _counts(0, 0, 0, 5), {"dim": 0}),
    ((0, 3), _counts(), {"dim": 0}), ((0, 3), _counts(2), {"dim": 0}), ((2, 0), _counts(1, 2), {"dim": 0}),
    ((2, 3), _counts(1, 0, 2), {"dim": 1, "output_size": 3}), ((2, 3), 2, {"dim": 0, "output_size": 4}),
    ((2, 3, 4), _counts(3, 1, 0, 2), {"dim": -1}), ((), _counts(4), {}),
]

OPS = [
    OpInfo("view", lambda m, x, shape: x.view(*shape) if shape else x.view(shape), one(RESHAPES),
           noncontiguous=False),
    OpInfo("view_tuple", lambda m, x, shape: x.view(shape), one(RESHAPES), noncontiguous=False),
    OpInfo("reshape", lambda m, x, shape: m.reshape(x, shape), one(RESHAPES)),
    OpInfo("reshape_method", lambda m, x, shape: x.reshape(*shape) if shape else x.reshape(shape), one(RESHAPES)),
    OpInfo("view_as", lambda m, x, y: x.view_as(y), lambda r, d: [
        Sample([rand(r, d, (3, 4)), rand(r, d, (2, 6))]), Sample([rand(r, d, (6,)), rand(r, d, (1, 6, 1))])],
        noncontiguous=False),
    OpInfo("reshape_as", lambda m, x, y: x.reshape_as(y), pos(([(3, 4), (12,)],))),
    OpInfo("flatten", lambda m, x, **k: m.flatten(x, **k), one([
        ((2, 3, 4), {}), ((2, 3, 4), {"start_dim": 1}), ((2, 3, 4), {"start_dim": 0, "end_dim": 1}),
        ((2, 3, 4, 5), {"start_dim": 1, "end_dim": -2}), ((), {}), ((3,), {}), ((2, 0, 3), {"start_dim": 1}),
        ((2, 3), {"start_dim": -1})])),
    OpInfo("ravel", lambda m, x: m.ravel(x), one([((2, 3, 4), {}), ((), {})])),
    OpInfo("unflatten", lambda m, x, **k: m.unflatten(x, **k), one([
        ((2, 12), {"dim": 1, "sizes": (3, 4)}), ((12,), {"dim": 0, "sizes": (2, -1, 3)}),
        ((6, 2), {"dim": -2, "sizes": (6, 1)}), ((0, 4), {"dim": 1, "sizes": (2, 2)})])),
    OpInfo("squeeze", lambda m, x, **k: m.squeeze(x, **k), one([
        ((1, 3, 1, 4), {}), ((1, 3, 1, 4), {"dim": 0}), ((1, 3, 1, 4), {"dim": 1}), ((1, 3, 1, 4), {"dim": -2}),
        ((1, 3, 1, 4), {"dim": (0, 2)}), ((1, 3, 1, 4), {"dim": (1, -4)}), ((), {}), ((), {"dim": 0}),
        ((1,), {}), ((1, 0, 1), {}), ((1, 1), {"dim": ()})])),
    OpInfo("squeeze_method", lambda m, x, *a: x.squeeze(*a), lambda r, d: [
        Sample([rand(r, d, (1, 3, 1))]), Sample([rand(r, d, (1, 3, 1)), 2])]),
    OpInfo("unsqueeze", lambda m, x, dim: m.unsqueeze(x, dim), one([
        ((3, 4), {"dim": 0}), ((3, 4), {"dim": 1}), ((3, 4), {"dim": 2}), ((3, 4), {"dim": -1}),
        ((3, 4), {"dim": -3}), ((), {"dim": 0}), ((), {"dim": -1}), ((0,), {"dim": 1})])),
    OpInfo("transpose", lambda m, x, **k: m.transpose(x, **k), one([
        ((3, 4), {"dim0": 0, "dim1": 1}), ((2, 3, 4), {"dim0": -1, "dim1": 0}), ((2, 3, 4), {"dim0": 1, "dim1": 1}),
        ((), {"dim0": 0, "dim1": -1}), ((0, 3), {"dim0": 0, "dim1": 1})])),
    OpInfo("swapaxes", lambda m, x: flat(m.swapaxes(x, 0, 2), x.swapdims(1, -1), x.swapaxes(0, 1)),
           one([((2, 3, 4), {})])),
    OpInfo("t", lambda m, x: (m.t(x), x.t()), one([((3, 4), {}), ((3,), {}), ((), {}), ((0, 2), {})])),
    OpInfo("T", lambda m, x: x.T, one([((3, 4), {}), ((1, 0), {})])),
    OpInfo("mT", lambda m, x: x.mT, one([((3, 4), {}), ((2, 3, 4), {}), ((2, 1, 0, 3), {})])),
    OpInfo("permute", lambda m, x, dims: (m.permute(x, dims), x.permute(*dims) if dims else x.permute(dims)), one([
        ((2, 3, 4), {"dims": (2, 0, 1)}), ((2, 3, 4), {"dims": (-1, -3, -2)}), ((2, 3), {"dims": (1, 0)}),
        ((), {"dims": ()}), ((0, 3, 1), {"dims": (1, 2, 0)})])),
    OpInfo("movedim", lambda m, x, **k: m.movedim(x, **k), one([
        ((2, 3, 4), {"source": 0, "destination": 2}), ((2, 3, 4), {"source": -1, "destination": 0}),
        ((2, 3, 4, 5), {"source": (0, 1), "destination": (3, 1)}),
        ((2, 3, 4, 5), {"source": (3, 0), "destination": (0, -1)})])),
    OpInfo("moveaxis", lambda m, x: m.moveaxis(x, 1, 0), one([((2, 3, 4), {})])),
    OpInfo("expand", lambda m, x, size: (x.expand(*size), x.expand(size)), one([
        ((3, 1), {"size": (3, 4)}), ((3, 1), {"size": (2, 3, 5)}), ((1,), {"size": (4,)}), ((), {"size": (2, 3)}),
        ((2, 1, 3), {"size": (-1, 4, -1)}), ((3, 1), {"size": (3, 0)}), ((1, 4), {"size": (3, 1, 4)})])),
    OpInfo("expand_as", lambda m, x, y: x.expand_as(y), pos(([(3, 1), (2, 3, 4)],))),
    OpInfo("broadcast_to", lambda m, x, size: m.broadcast_to(x, size), one([
        ((3, 1), {"size": (3, 4)}), ((4,), {"size": (2, 3, 4)}), ((), {"size": (2,)})])),
    OpInfo("broadcast_tensors", lambda m, *xs: m.broadcast_tensors(*xs), pos(
        ([(3, 1), (4,), ()],), ([(2, 1, 3), (5, 1)],), ([(1,), (0,)],))),
    OpInfo("repeat", lambda m, x, reps: (x.repeat(*reps), x.repeat(reps)), one([
        ((2, 3), {"reps": (2, 2)}), ((2, 3), {"reps": (3, 1, 2)}), ((3,), {"reps": (2,)}), ((), {"reps": (3, 2)}),
        ((2, 3), {"reps": (0, 1)}), ((0, 2), {"reps": (2, 2)})])),
    OpInfo("tile", lambda m, x, reps: m.tile(x, reps), one([
        ((2, 3), {"reps": (2, 2)}), ((2, 3), {"reps": (2,)}), ((2, 3), {"reps": (2, 1, 3)}), ((), {"reps": (2,)})])),
    OpInfo("repeat_interleave", lambda m, x, r, **k: (m.repeat_interleave(x, r, **k), x.repeat_interleave(r, **k)),
           lambda r, d: [Sample([rand(r, d, s), reps], kw, name=f"{s} {reps!r} {kw}") for s, reps, kw in REPEAT_INTERLEAVE]),
    OpInfo("repeat_interleave_int", lambda m, x, r, **k: m.repeat_interleave(x, r, **k),
           lambda r, d: [Sample([rand(r, d, s), reps], kw, name=f"{s} {reps!r} {kw}") for s, reps, kw in
                         REPEAT_INTERLEAVE[:3] + REPEAT_INTERLEAVE[7:9]], dtypes=("int64", "bool"), grad=False),
    OpInfo("repeat_interleave_indices", lambda m, r, **k: m.repeat_interleave(r, **k), lambda r, d: [
        Sample([np.array(c, dtype=d)], kw, name=f"{c} {kw}") for c, kw in (
            ([1, 2, 3], {}), ([0, 2, 0, 1], {}), ([4], {}), ([], {}), ([0, 0], {}), ([2, 0, 3], {"output_size": 5}))],
           dtypes=("int64", "int32"), grad=False),
    OpInfo("contiguous", lambda m, x: (x.contiguous(), x.t().contiguous(), x.T.contiguous().is_contiguous()),
           one([((3, 4), {}), ((1, 3), {})])),
    OpInfo("clone", lambda m, x: (m.clone(x), x.clone()), one([((3, 4), {}), ((), {}), ((0, 2), {})])),
    OpInfo("flip", lambda m, x, dims: (m.flip(x, dims), x.flip(*dims) if dims else x.flip(dims)), one([
        ((3, 4), {"dims": (0,)}), ((3, 4), {"dims": (0, 1)}), ((2, 3, 4), {"dims": (-1, 0)}), ((3, 4), {"dims": ()}),
        ((0, 3), {"dims": (1,)})])),
    OpInfo("fliplr", lambda m, x: (m.fliplr(x), m.flipud(x)), one([((3, 4), {}), ((2, 3, 4), {})])),
    OpInfo("roll", lambda m, x, **k: m.roll(x, **k), one([
        ((3, 4), {"shifts": 1}), ((3, 4), {"shifts": -5}), ((3, 4), {"shifts": 2, "dims": 1}),
        ((3, 4), {"shifts": (1, -2), "dims": (0, 1)}), ((2, 3, 4), {"shifts": (7,), "dims": (-1,)}),
        ((5,), {"shifts": 3, "dims": 0}), ((0, 3), {"shifts": 1, "dims": 1}), ((3, 4), {"shifts": (2,)})])),
    OpInfo("rot90", lambda m, x, **k: m.rot90(x, **k), one([
        ((3, 4), {}), ((3, 4), {"k": 2}), ((3, 4), {"k": 3}), ((3, 4), {"k": -1}), ((3, 4), {"k": 4}),
        ((2, 3, 4), {"k": 1, "dims": (1, 2)}), ((2, 3, 4), {"k": 5, "dims": (2, 0)})])),
    OpInfo("cat", lambda m, xs, **k: m.cat(xs, **k), many([
        ([(2, 3), (4, 3)], {}), ([(2, 3), (2, 1), (2, 4)], {"dim": 1}), ([(2, 3), (2, 5)], {"dim": -1}),
        ([(2, 3, 4), (2, 1, 4)], {"dim": 1}), ([(3,)], {}), ([(2, 3), (0,), (1, 3)], {}), ([(0,), (2,)], {}),
        ([(0, 3), (2, 3)], {}), ([(2, 3), ((1, 3), "int64")], {}), ([((0,), "float64"), (2, 3)], {})])),
    OpInfo("cat_promote", lambda m, xs: m.cat(xs, 1), many([([((2, 2), "float32"), ((2, 3), "float64")], {})]),
           gradcheck=False),  # a float32 input: finite differences too coarse
    OpInfo("concat", lambda m, xs: (m.concat(xs, 1), m.concatenate(xs, 0)), many([([(2, 2), (2, 2)], {})])),
    OpInfo("stack", lambda m, xs, **k: m.stack(xs, **k), many([
        ([(2, 3), (2, 3)], {}), ([(2, 3), (2, 3), (2, 3)], {"dim": 1}), ([(2, 3), (2, 3)], {"dim": -1}),
        ([(), ()], {}), ([(0, 2), (0, 2)], {"dim": 1}), ([(3,)], {"dim": -2})])),
    OpInfo("hstack", lambda m, xs: m.hstack(xs), many([
        ([(2, 3), (2, 1)], {}), ([(3,), (2,)], {}), ([(), (2,)], {}), ([(2, 3, 1), (2, 2, 1)], {})])),
    OpInfo("vstack", lambda m, xs: m.vstack(xs), many([
        ([(2, 3), (1, 3)], {}), ([(3,), (3,)], {}), ([(), ()], {}), ([(2, 2, 3), (1, 2, 3)], {})])),
    OpInfo("dstack", lambda m, xs: m.dstack(xs), many([
        ([(2, 3), (2, 3)], {}), ([(3,), (3,)], {}), ([(), ()], {}), ([(2, 2, 3), (2, 2, 1)], {})])),
    OpInfo("column_stack", lambda m, xs: m.column_stack(xs), many([
        ([(3,), (3, 2)], {}), ([(3,), (3,)], {}), ([(), ()], {}), ([(2, 2), (2, 1)], {})])),
    OpInfo("narrow", lambda m, x, *a: (m.narrow(x, *a), x.narrow(*a)), pos(
        ((4, 5), 0, 1, 2), ((4, 5), 1, 0, 5), ((4, 5), -1, 3, 2), ((4, 5), 1, -2, 2), ((4, 5), 0, 2, 0),
        ((2, 3, 4), 2, 1, 3))),
    OpInfo("split", lambda m, x, *a, **k: m.split(x, *a, **k), lambda r, d: [
        Sample([rand(r, d, (5, 3)), 2]), Sample([rand(r, d, (5, 3)), 5]), Sample([rand(r, d, (5, 3)), 7]),
        Sample([rand(r, d, (5, 3)), 1], {"dim": 1}), Sample([rand(r, d, (5, 3)), [1, 3, 1]]),
        Sample([rand(r, d, (5, 3)), [2, 0, 1]], {"dim": -1}), Sample([rand(r, d, (0, 3)), 2]),
        Sample([rand(r, d, (2, 6, 2)), (4, 2)], {"dim": 1})]),
    OpInfo("split_method", lambda m, x: flat(x.split(2), x.split([1, 2], 1)), one([((3, 3), {})])),
    OpInfo("chunk", lambda m, x, *a: flat(m.chunk(x, *a), x.chunk(*a)), lambda r, d: [
        Sample([rand(r, d, (5, 3)), 2]), Sample([rand(r, d, (6, 3)), 3]), Sample([rand(r, d, (5, 3)), 3, 1]),
        Sample([rand(r, d, (2, 3)), 5]), Sample([rand(r, d, (5, 4)), 3, -1]), Sample([rand(r, d, (0, 2)), 2])]),
    OpInfo("tensor_split", lambda m, x, *a, **k: m.tensor_split(x, *a, **k), pos(
        ((7, 3), 3), ((2, 7), 3, {"dim": 1}), ((7, 3), [1, 5]), ((7, 3), [2, 9]), ((7, 3), [4, 2]), ((2, 3), 5),
        ((3, 4), (1, -1), {"dim": -1}), ((6,), (-3, 9)))),
    OpInfo("unbind", lambda m, x, *a: flat(m.unbind(x, *a), x.unbind(*a)), lambda r, d: [
        Sample([rand(r, d, (3, 4))]), Sample([rand(r, d, (3, 4)), 1]), Sample([rand(r, d, (2, 3, 4)), -1]),
        Sample([rand(r, d, (1,))]), Sample([rand(r, d, (2, 0))])]),
    OpInfo("select", lambda m, x, *a: (m.select(x, *a), x.select(*a)), lambda r, d: [
        Sample([rand(r, d, (3, 4)), 0, 1]), Sample([rand(r, d, (3, 4)), 1, -1]), Sample([rand(r, d, (2, 3, 4)), -2, 2]),
        Sample([rand(r, d, (1,)), 0, 0])]),
    OpInfo("diagonal", lambda m, x, **k: (m.diagonal(x, **k), x.diagonal(**k)), one([
        ((3, 4), {}), ((3, 4), {"offset": 1}), ((3, 4), {"offset": -2}), ((3, 4), {"offset": 5}),
        ((4, 3), {"offset": -4}), ((2, 3, 4), {"dim1": 1, "dim2": 2}),
        ((2, 3, 4), {"offset": 1, "dim1": -1, "dim2": 0}),
        ((3, 2, 3), {"offset": -1, "dim1": 2, "dim2": 0}), ((0, 3), {})])),
    OpInfo("atleast_1d", lambda m, *xs: flat(m.atleast_1d(*xs)), pos(((),), ((3,),), ((2, 3),), ([(), (2,)],))),
    OpInfo("atleast_2d", lambda m, *xs: flat(m.atleast_2d(*xs)),
           pos(((),), ((3,),), ((2, 3),), ((2, 3, 4),), ([(), (2,)],))),
    OpInfo("atleast_3d", lambda m, *xs: flat(m.atleast_3d(*xs)),
           pos(((),), ((3,),), ((2, 3),), ((2, 3, 4),), ([(), (2, 3)],))),
    OpInfo("atleast_list", lambda m, xs: flat(m.atleast_1d(xs), m.atleast_2d(xs), m.atleast_3d(xs)),
           many([([(), (2,)], {})])),
    OpInfo("getitem_basic", lambda m, x: (x[1], x[:, 1:3], x[::2], x[None, ..., 0], x[-1, -2]),
           one([((4, 5), {})])),
]
