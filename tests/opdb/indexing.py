"""Registry entries for indexing: __getitem__ (basic, advanced, masks, mixed), gather/scatter, index_*,
masked_*, nonzero, take, index_put."""
import numpy as np

from opinfo import OpInfo, Sample, rand


def I(*v):  # noqa: E743  an int64 index array
    return np.array(v, dtype=np.int64)


def _x(*shape):
    """Samples: one random array of `shape` followed by fixed extra arguments."""
    def make(*extra):
        return lambda r, d: [Sample([rand(r, d, shape)] + [e() if callable(e) else e for e in extra],
                                    name=str(shape))]
    return make


def _gi(name, index, shape=(3, 4, 5), **kw):
    """x[index] where index is built from the module (so tensors in it are of the right framework)."""
    return OpInfo("getitem_" + name, lambda m, x: x[index(m)], _x(*shape)(), **kw)


def _mask(shape, seed=3):
    m = np.random.default_rng(seed).random(shape) > 0.5
    m.flat[0] = True
    return m


T = lambda m, *v: m.tensor(list(v))  # noqa: E731


OPS = [
    _gi("int", lambda m: 1), _gi("neg_int", lambda m: -1), _gi("ints", lambda m: (1, -2)),
    _gi("int_0d_tensor", lambda m: m.tensor(2)),
    _gi("slice", lambda m: slice(1, 3)), _gi("slice_steps", lambda m: (slice(None, None, 2), slice(1, None, 2))),
    _gi("slice_neg", lambda m: (slice(None), slice(-3, -1))), _gi("slice_empty", lambda m: slice(2, 1)),
    _gi("none_ellipsis", lambda m: (None, Ellipsis, 1)), _gi("ellipsis_none", lambda m: (Ellipsis, None, slice(0, 2))),
    _gi("tensor_1d_repeated", lambda m: T(m, 2, 0, 2)), _gi("tensor_2d", lambda m: m.tensor([[0, 1], [1, 1]])),
    _gi("tensor_neg", lambda m: T(m, -1, 0)), _gi("tensor_empty", lambda m: m.tensor([], dtype=m.int64)),
    _gi("list", lambda m: [0, 2, 2]), _gi("lists", lambda m: ([0, 1, 1], [1, 3, 3])),
    _gi("int32_tensor", lambda m: m.tensor([1, 0], dtype=m.int32)),
    _gi("mask_full", lambda m: m.from_numpy(_mask((3, 4, 5)))),
    _gi("mask_partial", lambda m: m.from_numpy(_mask((3, 4)))),
    _gi("mask_dim1", lambda m: (slice(None), m.from_numpy(_mask((4,))))),
    _gi("mask_and_tensor", lambda m: (m.from_numpy(_mask((3,))), slice(None), T(m, 1, 4))),
    _gi("bool_scalar", lambda m: (True, 0)),
    _gi("separated_advanced", lambda m: (T(m, 0, 2, 2), slice(None), T(m, 1, 4, 4))),
    _gi("adjacent_advanced", lambda m: (slice(None), T(m, 0, 3), T(m, 1, 4))),
    _gi("int_then_advanced", lambda m: (0, slice(None), T(m, 0, 2))),
    _gi("advanced_then_int", lambda m: (T(m, 0, 2), slice(None), 1)),
    _gi("advanced_slice", lambda m: (T(m, 2, 1), slice(1, 3))),
    _gi("ellipsis_advanced", lambda m: (Ellipsis, T(m, 4, 4, 0))),
    _gi("none_advanced", lambda m: (None, T(m, 2, 0))),
    _gi("broadcast_advanced", lambda m: (m.tensor([[0], [2]]), slice(None), T(m, 1, 3))),
    _gi("vector", lambda m: T(m, 3, 3, 0), shape=(5,)),
    OpInfo("gather", lambda m, x, i: m.gather(x, 1, i), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I([0, 0], [3, 1], [2, 2])], name="dim1_repeats"),
        Sample([rand(r, d, (3, 4)), I([2, 1, 0, 0])], name="dim1_smaller")]),
    OpInfo("gather_dim0", lambda m, x, i: x.gather(-2, i), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I([0, 2, 2, 1], [1, 1, 0, 2])])]),
    OpInfo("scatter_src", lambda m, x, i, s: m.scatter(x, 1, i, s), lambda r, d: [
        Sample([rand(r, d, (3, 5)), I([0, 4], [3, 1], [2, 0]), rand(r, d, (3, 2))]),
        Sample([rand(r, d, (3, 5)), I([1, 3]), rand(r, d, (2, 3))], name="src_larger", grad=False)]),
    OpInfo("scatter_dim0", lambda m, x, i, s: x.scatter(0, i, s), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I([2, 0, 1, 1]), rand(r, d, (1, 4))])]),
    OpInfo("scatter_value", lambda m, x, i: x.scatter(1, i, 2.5), lambda r, d: [
        Sample([rand(r, d, (3, 5)), I([0, 4], [3, 1], [2, 0])])]),
    OpInfo("scatter_add", lambda m, x, i, s: m.scatter_add(x, 1, i, s), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I([0, 0, 0], [3, 1, 3], [2, 2, 2]), rand(r, d, (3, 3))])]),
    *[OpInfo(f"scatter_reduce_{red}{'' if inc else '_exclude_self'}",
             lambda m, x, i, s, _r=red, _i=inc: x.scatter_reduce(1, i, s, _r, include_self=_i),
             lambda r, d, _red=red: [Sample([rand(r, d, (3, 4), 0.5, 2) if _red == "prod" else rand(r, d, (3, 4)),
                                             I([0, 0, 2], [3, 1, 3], [2, 2, 2]),
                                             rand(r, d, (3, 3), 0.5, 2) if _red == "prod" else rand(r, d, (3, 3))])])
      for red in ("sum", "mean", "amax", "amin", "prod") for inc in (True, False)],
    OpInfo("index_select", lambda m, x, i: m.index_select(x, 0, i), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I(2, 0, 2)]), Sample([rand(r, d, (3,)), I(1, 1)])]),
    OpInfo("index_select_dim1", lambda m, x, i: x.index_select(-1, i), lambda r, d: [
        Sample([rand(r, d, (2, 4, 3)), I(2, 0, 2, 1)])]),
    OpInfo("index_add", lambda m, x, i, s: m.index_add(x, 0, i, s), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I(2, 0, 2), rand(r, d, (3, 4))])]),
    OpInfo("index_add_alpha_dim1", lambda m, x, i, s: x.index_add(1, i, s, alpha=-1.5), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I(1, 1), rand(r, d, (3, 2))])]),
    OpInfo("index_copy", lambda m, x, i, s: m.index_copy(x, 1, i, s), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I(3, 0), rand(r, d, (3, 2))])]),
    OpInfo("index_fill", lambda m, x, i: x.index_fill(1, i, -1.0), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I(3, 0, 3)])]),
    OpInfo("index_fill_tensor_value", lambda m, x, i, v: x.index_fill(0, i, v), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I(2), rand(r, d, ())])]),
    OpInfo("masked_fill", lambda m, x, k: x.masked_fill(k, 0.5), lambda r, d: [
        Sample([rand(r, d, (3, 4)), _mask((3, 4))]), Sample([rand(r, d, (3, 4)), _mask((4,))], name="broadcast")]),
    OpInfo("masked_fill_tensor_value", lambda m, x, k, v: m.masked_fill(x, k, v), lambda r, d: [
        Sample([rand(r, d, (3, 4)), _mask((3, 4)), rand(r, d, ())])]),
    OpInfo("masked_select", lambda m, x, k: m.masked_select(x, k), lambda r, d: [
        Sample([rand(r, d, (3, 4)), _mask((3, 4))]), Sample([rand(r, d, (3, 4)), _mask((4,))], name="broadcast"),
        Sample([rand(r, d, (4,)), _mask((3, 4))], name="broadcast_input")]),
    OpInfo("masked_scatter", lambda m, x, k, s: x.masked_scatter(k, s), lambda r, d: [
        Sample([rand(r, d, (3, 4)), _mask((3, 4)), rand(r, d, (13,))]),
        Sample([rand(r, d, (3, 4)), _mask((4,)), rand(r, d, (3, 4))], name="broadcast_mask")]),
    OpInfo("nonzero", lambda m, x: m.nonzero(x > 0), lambda r, d: [
        Sample([rand(r, d, s)], name=str(s)) for s in [(3, 4), (5,), (), (0, 2)]], grad=False),
    OpInfo("nonzero_as_tuple", lambda m, x: m.nonzero(x > 0, as_tuple=True), lambda r, d: [
        Sample([rand(r, d, s)], name=str(s)) for s in [(3, 4), (2, 3, 2)]], grad=False),
    OpInfo("argwhere", lambda m, x: m.argwhere(x > 0), _x(3, 4)(), grad=False),
    OpInfo("take", lambda m, x, i: m.take(x, i), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I([0, 11], [5, 5])]), Sample([rand(r, d, (3, 4)), I(-1, 2)])]),
    OpInfo("take_along_dim", lambda m, x, i: m.take_along_dim(x, i, 1), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I([0, 3], [1, 1], [2, 0])]),
        Sample([rand(r, d, (3, 4)), I([0, 3])], name="broadcast_index"),
        Sample([rand(r, d, (1, 4)), I([0, 3], [1, 1], [2, 0])], name="broadcast_input")]),
    OpInfo("take_along_dim_none", lambda m, x, i: m.take_along_dim(x, i), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I(0, 11, 5, 5)])]),
    OpInfo("index_put_accumulate", lambda m, x, i, j, v: m.index_put(x, (i, j), v, accumulate=True),
           lambda r, d: [Sample([rand(r, d, (3, 4)), I(0, 2, 0), I(1, 3, 1), rand(r, d, (3,))]),
                         Sample([rand(r, d, (3, 4)), I(0, 2, 0), I(1, 3, 1), rand(r, d, ())], name="scalar")]),
    OpInfo("index_put", lambda m, x, i, v: x.index_put((i,), v), lambda r, d: [
        Sample([rand(r, d, (3, 4)), I(2, 0), rand(r, d, (2, 4))]),
        Sample([rand(r, d, (3, 4)), I(1), rand(r, d, (4,))])]),
]
