"""Pooling: max, average, adaptive, lp pooling and max-unpooling, 1-D and 2-D.

Windows are strided views of the (padded) input reduced one kernel offset at a
time, separably: first along the width (one long strided loop per offset),
then along the height, so no Python loop runs over pixels or the batch.

Max-pooling picks, in each window, the FIRST maximum in PyTorch's scan order
(row-major within the window), and its backward sends the window's gradient to
that position only: images with flat backgrounds have ties in most windows,
and spreading the gradient over tied positions would not match PyTorch.
A NaN in a window wins (the last NaN, as PyTorch's `val > max || isnan(val)`).
1-D pooling is 2-D pooling with a height of 1 (views, no copies). Max-pooling's
forward splits the batch over the intra-op threads like convolution (conv._batch_parallel).
"""
import math

import numpy as np

from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.function import Function
from .conv import _batch_parallel, _blocks, _ntuple, _shape_str

__all__ = ["max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices", "avg_pool1d",
           "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "max_unpool1d", "max_unpool2d",
           "lp_pool1d", "lp_pool2d"]


class _PoolGeom:
    """Windows along one axis: output i covers start[i] + t*dil for t < k (clipped to the input for
    adaptive pooling). `regular` windows are a slice pattern: start = i*stride - pad."""

    __slots__ = ("n", "k", "s", "p", "d", "out", "regular", "starts", "ends")

    def __init__(self, n, k, s, p, d, out, starts=None, ends=None):
        self.n, self.k, self.s, self.p, self.d, self.out = n, k, s, p, d, out
        self.regular = starts is None
        self.starts, self.ends = starts, ends

    @property
    def key(self):
        return (self.n, self.k, self.s, self.p, self.d, self.out,
                None if self.regular else tuple(self.starts.tolist()))

    @property
    def overlap(self):
        if self.regular:
            return self.s < self.d * (self.k - 1) + 1
        return bool(np.any(self.ends[:-1] > self.starts[1:]))

    def padded(self):
        """(pad before, pad after) so that every regular window lies inside the canvas."""
        if not self.regular:
            return 0, 0
        need = (self.out - 1) * self.s + self.d * (self.k - 1) + 1
        return self.p, max(0, need - self.n - self.p)

    def take(self, a, t, axis):
        """The t-th element of every window along `axis` of the canvas `a`."""
        if self.regular:
            sl = [slice(None)] * a.ndim
            start = t * self.d
            sl[axis] = slice(start, start + self.s * (self.out - 1) + 1, self.s)
            return a[tuple(sl)]
        idx = np.minimum(self.starts + t, self.ends - 1)
        return np.take(a, idx, axis=axis)

    def base(self):
        """Input coordinate of each window's first element."""
        if self.regular:
            return np.arange(self.out, dtype=np.int64) * self.s - self.p
        return self.starts.astype(np.int64)


def _pool_out_size(n, k, s, p, d, ceil_mode):
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _first_true_count(arrays, ref):
    """Number of leading arrays a_t with a_t != ref, elementwise (= index of the first a_t == ref)."""
    if len(arrays) == 1:
        return None
    nf = arrays[0] != ref
    idx = nf.view(np.uint8).copy() if len(arrays) < 256 else nf.astype(np.int32)
    for a in arrays[1:-1]:
        nf &= a != ref
        idx += nf
    return idx


def _max_windows(xp, gh, gw):
    """Max over the windows of the canvas xp (N, C, Hc, Wc): the values M (N, C, OH, OW) and k, the
    row-major position i*kw + j in its window of each window's FIRST maximum (uint8, or int32 for
    windows of 256 elements or more). Separable: along the width, then along the height."""
    cols = [gw.take(xp, j, 3) for j in range(gw.k)]
    if len(cols) == 1:
        rm = cols[0]
    else:
        rm = np.maximum(cols[0], cols[1])
        for c in cols[2:]:
            np.maximum(rm, c, out=rm)
    ra = _first_true_count(cols, rm)                      # first column of each row maximum (N, C, Hc, OW)
    rows = [gh.take(rm, i, 2) for i in range(gh.k)]
    if len(rows) == 1:
        M = np.array(rows[0], copy=True)
    else:
        M = np.maximum(rows[0], rows[1])
        for r in rows[2:]:
            np.maximum(M, r, out=M)
    ri = _first_true_count(rows, M)                       # first row holding the maximum (N, C, OH, OW)
    kdt = np.uint8 if gh.k * gw.k < 256 else np.int32
    if ri is None:
        k = np.zeros(M.shape, kdt) if ra is None else gh.take(ra, 0, 2).astype(kdt)
    else:
        k = ri.astype(kdt, copy=False) * kdt(gw.k)
        if ra is not None:                                # plus the column found in the chosen row
            for i in range(gh.k):
                k += (ri == i) * gh.take(ra, i, 2)
    if M.dtype.kind == "f" and np.isnan(M).any():
        k = _nan_windows(xp, gh, gw, M, k)
    return M, k


def _nan_windows(xp, gh, gw, M, k):
    """Windows holding a NaN: PyTorch keeps the last NaN (its update is `val > max || isnan(val)`)."""
    cand = np.stack([gh.take(gw.take(xp, j, 3), i, 2) for i in range(gh.k) for j in range(gw.k)], -1)
    last = cand.shape[-1] - 1 - np.argmax(np.isnan(cand)[..., ::-1], axis=-1)
    bad = np.isnan(M)
    k = k.astype(np.int32)
    k[bad] = last[bad]
    return k


def _neg_inf_windows(gh, gw, M, k, x4shape):
    """Windows whose maximum is -inf may have found it in the -inf padding: PyTorch never visits
    padding, so its index is the first element inside the input."""
    H, W = x4shape[2:]
    i, j = np.divmod(np.arange(gh.k * gw.k), gw.k)
    h = gh.base()[:, None, None] + i * gh.d                     # (OH, 1, K)
    w = gw.base()[None, :, None] + j * gw.d                     # (1, OW, K)
    first_inside = np.argmax((h >= 0) & (h < H) & (w >= 0) & (w < W), axis=-1)
    bad = np.isneginf(M)
    k = k.astype(np.int32)
    k[bad] = np.broadcast_to(first_inside, M.shape)[bad]
    return k


def _offset_table(gh, gw, W):
    """Offset in the input plane of each window position k = i*kw + j."""
    i, j = np.divmod(np.arange(gh.k * gw.k, dtype=np.int64), gw.k)
    return i * (gh.d * W) + j * gw.d


def _plane_indices(gh, gw, k, x4shape):
    """Flat index h*W + w, in its (N, C) input plane, of each window's maximum (return_indices)."""
    W = x4shape[3]
    base = gh.base()[:, None] * W + gw.base()[None, :]
    return _offset_table(gh, gw, W)[k] + base


_BASE_CACHE = {}


def _global_base(gh, gw, x4shape):
    """Index into the flattened input (N*C*H*W) of each window's first element. It depends only
    on the shapes, so it is cached: a training loop reuses it every step."""
    N, C, H, W = x4shape
    key = (x4shape, gh.key, gw.key)
    base = _BASE_CACHE.get(key)
    if base is None:
        plane = (np.arange(N * C, dtype=np.int64) * (H * W)).reshape(N, C, 1, 1)
        base = plane + (gh.base()[:, None] * W + gw.base()[None, :])
        if base.nbytes <= 1 << 23:                # keep at most 8 small tables (8 MiB each)
            if len(_BASE_CACHE) >= 8:
                _BASE_CACHE.pop(next(iter(_BASE_CACHE)))
            _BASE_CACHE[key] = base
    return base


def _global_indices(gh, gw, k, x4shape):
    """Index into the flattened input (N*C*H*W) of each window's maximum."""
    flat = np.take(_offset_table(gh, gw, x4shape[3]), k.astype(np.intp))  # (np.take is slow with uint8 indices)
    flat += _global_base(gh, gw, x4shape)
    return flat


def _max_pool_grad(gd, gh, gw, k, x4shape, overlap):
    """The input gradient of max-pooling as an array: each window's gradient added at its maximum,
    split over the batch (a sample's windows only reach its own plane, so the chunks are disjoint
    and every number is as in the serial path)."""
    N, C, H, W = x4shape
    plane = C * H * W
    out = np.empty(N * plane, dtype=gd.dtype)
    g4 = gd.reshape(k.shape)
    offsets, base = _offset_table(gh, gw, W), _global_base(gh, gw, x4shape)

    def work(lo, hi):
        flat = np.take(offsets, k[lo:hi].astype(np.intp))
        flat += base[lo:hi]
        flat = flat.reshape(-1)
        gv = g4[lo:hi].reshape(-1)
        if overlap:   # windows share inputs: sum per input, in the order of the windows
            out[lo * plane:hi * plane] = np.bincount(flat - lo * plane, weights=gv, minlength=(hi - lo) * plane)
        else:
            out[lo * plane:hi * plane] = 0
            out[flat] = gv

    _batch_parallel(work, _blocks(N), out.size)
    return out


# ---------------------------------------------------------------- scatter / gather by flat index
class _ScatterFlat(Function):
    """values g -> zeros(out_shape) with g[i] added at flat index flat[i] (flat.shape == g.shape)."""

    @staticmethod
    def forward(ctx, g, flat, out_shape, overlap):
        ctx.flat = flat
        size = int(np.prod(out_shape))
        gv = g.reshape(-1)
        if overlap:
            out = np.bincount(flat.reshape(-1), weights=gv, minlength=size).astype(g.dtype, copy=False)
        else:
            out = np.zeros(size, dtype=g.dtype)
            out[flat.reshape(-1)] = gv
        return out.reshape(out_shape)

    @staticmethod
    def backward(ctx, grad):
        return _GatherFlat.apply(grad, ctx.flat), None, None, None


class _GatherFlat(Function):
    """x -> x.flatten()[flat] (shaped like flat)."""

    @staticmethod
    def forward(ctx, x, flat):
        ctx.flat, ctx.shape = flat, x.shape
        return np.ascontiguousarray(x).reshape(-1)[flat]

    @staticmethod
    def backward(ctx, grad):
        return _ScatterFlat.apply(grad, ctx.flat, ctx.shape, True), None


# ---------------------------------------------------------------- max pooling
def _max_pool_chunk(x4, gh, gw):
    """Values and window positions k of the maxima for a slice of the batch."""
    ph, pw = gh.padded(), gw.padded()
    if ph != (0, 0) or pw != (0, 0):
        N, C, H, W = x4.shape
        xp = np.full((N, C, H + ph[0] + ph[1], W + pw[0] + pw[1]), -np.inf, dtype=x4.dtype)
        xp[:, :, ph[0]:ph[0] + H, pw[0]:pw[0] + W] = x4
    else:
        xp = x4
    M, k = _max_windows(xp, gh, gw)
    if xp is not x4 and np.isneginf(M).any():
        k = _neg_inf_windows(gh, gw, M, k, x4.shape)
    return M, k


class MaxPool2DWithIndices(Function):
    @staticmethod
    def forward(ctx, x, gh, gw, x4shape, out_shape, return_indices):
        x4 = x.reshape(x4shape)
        N = x4shape[0]
        bounds = _blocks(N)
        if len(bounds) > 2:   # may split: the chunks write their part of the outputs
            M = np.empty((N, x4shape[1], gh.out, gw.out), dtype=x.dtype)
            k = np.empty(M.shape, dtype=np.uint8 if gh.k * gw.k < 256 else np.int32)
            wide = {}         # chunks whose positions came back as int32 (NaN or -inf windows)

            def work(lo, hi):
                M[lo:hi], kc = _max_pool_chunk(x4[lo:hi], gh, gw)
                if kc.dtype == k.dtype:
                    k[lo:hi] = kc
                else:
                    wide[lo] = (hi, kc)

            _batch_parallel(work, bounds, x.size)
            if wide:
                k = k.astype(np.int32)
                for lo, (hi, kc) in wide.items():
                    k[lo:hi] = kc
        else:
            M, k = _max_pool_chunk(x4, gh, gw)
        ctx.gh, ctx.gw, ctx.k, ctx.x4shape, ctx.in_shape = gh, gw, k, x4shape, x.shape
        out = M.reshape(out_shape)
        if return_indices:
            return out, _plane_indices(gh, gw, k, x4shape).reshape(out_shape)
        return out

    @staticmethod
    def backward(ctx, grad, *rest):
        overlap = ctx.gh.overlap or ctx.gw.overlap
        if not grad_mode.GRAD[0]:
            gx = _max_pool_grad(grad._data, ctx.gh, ctx.gw, ctx.k, ctx.x4shape, overlap)
            return Tensor._make(gx.reshape(ctx.in_shape)), None, None, None, None, None
        flat = _global_indices(ctx.gh, ctx.gw, ctx.k, ctx.x4shape)
        if grad.shape != flat.shape:
            grad = grad.reshape(flat.shape)
        return _ScatterFlat.apply(grad, flat, ctx.in_shape, overlap), None, None, None, None, None


def _as_list(v, n):
    if isinstance(v, Tensor):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return [int(a) for a in v]
    return [int(v)] * n


def _torch_pool_message(op, nd, is_max, xs, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    """PyTorch's message for invalid pooling arguments, following its order of checks (max_pool1d's own
    kernel for 1-D max pooling without indices; otherwise the 2-D kernels' pooling_output_shape and
    pool2d_shape_check, 1-D pooling seen as 2-D with a height of 1). None where its checks would pass.
    Only ever called on the error path."""
    try:
        k = _as_list(kernel_size, nd)
        st = [] if stride is None else _as_list(stride, nd)
        pd, dl = _as_list(padding, nd), _as_list(dilation, nd)
    except (TypeError, ValueError):
        return None
    if nd == 1 and is_max and not return_indices:
        if len(xs) not in (2, 3) or 0 in xs[-2:]:
            return f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, " \
                   f"but got:{list(xs)}"
        for name, v in (("kernel_size", k), ("padding", pd), ("dilation", dl)):
            if len(v) != 1:
                return f"max_pool1d() {name} must be an int, list of ints or tuple of ints of size 1 but got size " \
                       f"{len(v)}"
        if len(st) > 1:
            return f"max_pool1d() stride must be None, an int, list of ints, or tuple of ints of size 1 but got " \
                   f"size {len(st)}"
        (kk,), (pp,), (dd,) = k, pd, dl
        ss = st[0] if st else kk
        if kk <= 0:
            return f"max_pool1d() kernel_size must be greater than zero, but got {kk}"
        if ss <= 0:
            return f"max_pool1d() stride must be greater than zero, but got {ss}"
        if pp < 0:
            return f"max_pool1d() padding must be non-negative, but got {pp}"
        if pp > kk // 2:
            return f"max_pool1d() padding should be at most half of kernel size, but got padding={pp} and " \
                   f"kernel_size={kk}"
        if dd <= 0:
            return f"max_pool1d() dilation must be greater than zero, but got {dd}"
        out = _pool_out_size(xs[-1], kk, ss, pp, dd, ceil_mode)
        return None if out > 0 else f"max_pool1d() Invalid computed output size: {out}"
    name = "max_pool2d" if is_max else "avg_pool2d"
    if nd == 1:
        if not is_max and len(xs) not in (2, 3):
            return f"Expected 2 to 3 dimensions, but got {len(xs)}-dimensional tensor for argument #1 'self' " \
                   f"(while checking arguments for avg_pool1d)"
        if is_max and (len(xs) not in (2, 3) or 0 in xs[-2:]):
            return f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, " \
                   f"but got:{list(xs)}"
        xs = tuple(xs[:-1]) + (1, xs[-1])
        k, st, pd, dl = [1] + k, ([1] + st) if st else [], [0] + pd, [1] + dl
    else:
        if len(k) not in (1, 2):
            return f"{name}: kernel_size must either be a single int, or a tuple of two ints"
        if len(st) not in (0, 1, 2):
            return f"{name}: stride must either be omitted, a single int, or a tuple of two ints"
        if len(pd) not in (1, 2):
            return f"{name}: padding must either be a single int, or a tuple of two ints"
        if is_max and len(dl) not in (1, 2):
            return f"{name}: dilation must be either a single int, or a tuple of two ints"
        k, pd, dl = k * (3 - len(k)), pd * (3 - len(pd)), dl * (3 - len(dl))
        st = st * (3 - len(st)) if st else []
        if is_max and len(xs) not in (3, 4):
            return "non-empty 3D or 4D (batch mode) tensor expected for input"
        if not is_max and len(xs) < 3:
            return None
    st = st or k
    if not is_max:
        dl = [1, 1]
    for kk, ss, pp, dd in zip(k, st, pd, dl):
        if ss == 0:
            return "stride should not be zero"
        if pp < 0:
            return f"pad must be non-negative, but got pad: {pp}"
        if pp > int(((kk - 1) * dd + 1) / 2):
            return f"pad should be at most half of effective kernel size, but got pad={pp}, kernel_size={kk} and " \
                   f"dilation={dd}"
    if min(k) <= 0:
        return f"kernel size should be greater than zero, but got kH: {k[0]} kW: {k[1]}"
    if min(st) < 0:
        return f"stride should be greater than zero, but got dH: {st[0]} dW: {st[1]}"
    if min(dl) <= 0:
        return f"dilation should be greater than zero, but got dilationH: {dl[0]} dilationW: {dl[1]}"
    if len(xs) not in (3, 4) or 0 in xs[-3:]:
        return f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:{list(xs)}"
    if pd[0] > k[0] // 2 or pd[1] > k[1] // 2:
        return f"pad should be smaller than or equal to half of kernel size, but got padW = {pd[1]}, padH = " \
               f"{pd[0]}, kW = {k[1]}, kH = {k[0]}"
    C, H, W = xs[-3:]
    oh, ow = (_pool_out_size(n, kk, ss, pp, dd, ceil_mode) for n, kk, ss, pp, dd in zip((H, W), k, st, pd, dl))
    if oh < 1 or ow < 1:
        return f"Given input size: ({C}x{H}x{W}). Calculated output size: ({C}x{oh}x{ow}). Output size is too small"
    return None


def _pool_error(e, op, nd, is_max, input, *args):
    """Re-raise tapegrad's pooling error `e` with PyTorch's message in front (where PyTorch has one)."""
    msg = _torch_pool_message(op, nd, is_max, tuple(input.shape), *args) if isinstance(input, Tensor) else None
    if msg is None or str(e).startswith(msg):
        raise e
    raise RuntimeError(f"{msg} ({e})") from None


def _input4(op, input, nd):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    xs = tuple(input.shape)
    if len(xs) not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor for input, but got input of "
                           f"shape {_shape_str(xs)}")
    if any(s == 0 for s in xs[-nd - 1:]):
        raise RuntimeError(f"{op}: Expected input's non-batch dimensions to have positive length, but input has "
                           f"shape {_shape_str(xs)}")
    batched = len(xs) == nd + 2
    N = xs[0] if batched else 1
    C = xs[-nd - 1]
    H, W = (1, xs[-1]) if nd == 1 else xs[-2:]
    return xs, batched, (N, C, H, W)


def _pool_geoms(op, nd, x4shape, xs, kernel_size, stride, padding, dilation, ceil_mode, max_pool):
    k = _ntuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _ntuple(stride, nd, "stride", op)
    p = _ntuple(padding, nd, "padding", op)
    d = _ntuple(dilation, nd, "dilation", op)
    if min(k) < 1:
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got kernel_size={k}")
    if min(s) < 1:
        raise RuntimeError(f"{op}: stride must be greater than zero, but got stride={s}")
    if min(d) < 1:
        raise RuntimeError(f"{op}: dilation must be greater than zero, but got dilation={d}")
    for kk, pp, dd in zip(k, p, d):
        limit = ((kk - 1) * dd + 1) // 2 if max_pool else kk // 2
        if pp < 0 or pp > limit:
            what = "effective kernel size" if max_pool else "kernel size"
            raise RuntimeError(f"{op}: pad should be at most half of {what}, but got pad={p}, kernel_size={k}"
                               + (f" and dilation={d}" if max_pool else ""))
    sizes = x4shape[4 - nd:]
    outs = tuple(_pool_out_size(n, kk, ss, pp, dd, ceil_mode) for n, kk, ss, pp, dd in zip(sizes, k, s, p, d))
    if min(outs) < 1:
        C = x4shape[1]
        raise RuntimeError(f"{op}: Given input size: ({'x'.join(map(str, (C,) + tuple(sizes)))}). Calculated "
                           f"output size: ({'x'.join(map(str, (C,) + outs))}). Output size is too small "
                           f"(input of shape {_shape_str(xs)}, kernel_size={k}, stride={s}, padding={p}, "
                           f"dilation={d})")
    if nd == 1:
        gh = _PoolGeom(1, 1, 1, 0, 1, 1)
        gw = _PoolGeom(sizes[0], k[0], s[0], p[0], d[0], outs[0])
    else:
        gh = _PoolGeom(sizes[0], k[0], s[0], p[0], d[0], outs[0])
        gw = _PoolGeom(sizes[1], k[1], s[1], p[1], d[1], outs[1])
    return gh, gw, k, s, p


def _out_shape(xs, batched, nd, gh, gw):
    sp = (gw.out,) if nd == 1 else (gh.out, gw.out)
    return xs[:-nd] + sp


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    try:
        xs, batched, x4shape = _input4(op, input, nd)
        if not input.is_floating_point():
            raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype} (input of shape "
                               f"{_shape_str(xs)})")
        gh, gw, *_ = _pool_geoms(op, nd, x4shape, xs, kernel_size, stride, padding, dilation, ceil_mode, True)
    except RuntimeError as e:
        _pool_error(e, op, nd, True, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    return MaxPool2DWithIndices.apply(input, gh, gw, x4shape, _out_shape(xs, batched, nd, gh, gw),
                                      bool(return_indices))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """F.max_pool1d: input (N, C, L) or (C, L)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """F.max_pool2d: input (N, C, H, W) or (C, H, W); return_indices gives flat indices per (N, C) plane."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---------------------------------------------------------------- average pooling
def _window_sum(xp, gh, gw):
    cols = [gw.take(xp, j, 3) for j in range(gw.k)]
    rs = np.array(cols[0], copy=True) if len(cols) == 1 else np.add(cols[0], cols[1])
    for c in cols[2:]:
        np.add(rs, c, out=rs)
    rows = [gh.take(rs, i, 2) for i in range(gh.k)]
    out = np.array(rows[0], copy=True) if len(rows) == 1 else np.add(rows[0], rows[1])
    for r in rows[2:]:
        np.add(out, r, out=out)
    return out


def _window_sum_T(g, gh, gw, Hc, Wc):
    """Adjoint of _window_sum: (N, C, OH, OW) -> canvas (N, C, Hc, Wc)."""
    N, C = g.shape[:2]
    rs = np.zeros((N, C, Hc, gw.out), dtype=g.dtype)
    for i in range(gh.k):
        gh.take(rs, i, 2)[...] += g
    xp = np.zeros((N, C, Hc, Wc), dtype=g.dtype)
    for j in range(gw.k):
        gw.take(xp, j, 3)[...] += rs
    return xp


def _avg_divisor(gh, gw, count_include_pad, divisor_override, dtype):
    if divisor_override:
        return dtype.type(divisor_override)

    def counts(g):
        start = np.arange(g.out) * g.s - g.p
        end = np.minimum(start + g.k, g.n + g.p)
        if count_include_pad:
            return end - start
        return np.minimum(end, g.n) - np.maximum(start, 0)

    return (counts(gh)[:, None] * counts(gw)[None, :]).astype(dtype)


class AvgPool2D(Function):
    @staticmethod
    def forward(ctx, x, gh, gw, x4shape, out_shape, div):
        N, C, H, W = x4shape
        x4 = x.reshape(x4shape)
        ph, pw = gh.padded(), gw.padded()
        if ph != (0, 0) or pw != (0, 0):
            xp = np.zeros((N, C, H + ph[0] + ph[1], W + pw[0] + pw[1]), dtype=x.dtype)
            xp[:, :, ph[0]:ph[0] + H, pw[0]:pw[0] + W] = x4
        else:
            xp = x4
        ctx.args = (gh, gw, x4shape, x.shape, div)
        return (_window_sum(xp, gh, gw) / div).reshape(out_shape)

    @staticmethod
    def backward(ctx, grad):
        gh, gw, x4shape, in_shape, div = ctx.args
        return AvgPool2DBackward.apply(grad, gh, gw, x4shape, in_shape, div), None, None, None, None, None


class AvgPool2DBackward(Function):
    @staticmethod
    def forward(ctx, g, gh, gw, x4shape, in_shape, div):
        N, C, H, W = x4shape
        ph, pw = gh.padded(), gw.padded()
        gs = g.reshape(N, C, gh.out, gw.out) / div
        xp = _window_sum_T(gs, gh, gw, H + ph[0] + ph[1], W + pw[0] + pw[1])
        ctx.args = (gh, gw, x4shape, g.shape, div)
        return np.ascontiguousarray(xp[:, :, ph[0]:ph[0] + H, pw[0]:pw[0] + W]).reshape(in_shape)

    @staticmethod
    def backward(ctx, grad):
        gh, gw, x4shape, out_shape, div = ctx.args
        return AvgPool2D.apply(grad, gh, gw, x4shape, out_shape, div), None, None, None, None, None


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"divisor must be not zero ({op})")
    try:
        xs, batched, x4shape = _input4(op, input, nd)
        if not input.is_floating_point():
            raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")
        gh, gw, *_ = _pool_geoms(op, nd, x4shape, xs, kernel_size, stride, padding, 1, ceil_mode, False)
    except RuntimeError as e:
        _pool_error(e, op, nd, False, input, kernel_size, stride, padding, 1, ceil_mode, False)
    div = _avg_divisor(gh, gw, count_include_pad, divisor_override, input._data.dtype)
    return AvgPool2D.apply(input, gh, gw, x4shape, _out_shape(xs, batched, nd, gh, gw), div)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """F.avg_pool1d: input (N, C, L) or (C, L)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """F.avg_pool2d: input (N, C, H, W) or (C, H, W)."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# ---------------------------------------------------------------- adaptive pooling
def _adaptive_bounds(n, out):
    i = np.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)      # floor(i*n/out), ceil((i+1)*n/out)


def _adaptive_geom(n, out):
    starts, ends = _adaptive_bounds(n, out)
    if n % out == 0:
        return _PoolGeom(n, n // out, n // out, 0, 1, out)
    return _PoolGeom(n, int((ends - starts).max()), 1, 0, 1, out, starts, ends)


def _adaptive_sizes(op, nd, output_size, x4shape):
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != nd and not (nd > 1 and len(output_size) == 1):
            raise RuntimeError(f"{op}: output_size must be {nd} integers, got {list(output_size)}")
        vals = list(output_size) * (nd if len(output_size) == 1 else 1)
    else:
        vals = [output_size] * nd
    sizes = x4shape[4 - nd:]
    outs = tuple(n if v is None else int(v) for v, n in zip(vals, sizes))
    if min(outs) < 1 and min(sizes) > 0:
        raise RuntimeError(f"{op}: output_size must be positive, got {outs}")
    return outs


def _torch_adaptive_message(op, nd, is_max, xs, output_size):
    """PyTorch's message for an adaptive pooling input of the wrong rank or with an empty non-batch
    dimension, or an output_size of the wrong length (error path only)."""
    kind = "max" if is_max else "avg"
    if nd == 1:
        if len(xs) not in (2, 3):
            return f"Expected 2 to 3 dimensions, but got {len(xs)}-dimensional tensor for argument #1 'self' " \
                   f"(while checking arguments for adaptive_{kind}_pool1d)"
        if isinstance(output_size, (list, tuple)) and len(output_size) != 1:
            return f"adaptive_{kind}_pool1d() argument 'output_size' should contain one int (got {len(output_size)})"
        if is_max:
            name, shown = "adaptive_max_pool1d", list(xs)
        else:
            name, shown = "adaptive_avg_pool2d", list(xs[:-1]) + [1, xs[-1]]
    else:
        if len(xs) not in (3, 4):
            return f"adaptive_{kind}_pool2d(): Expected 3D or 4D tensor, but got{':' if is_max else ''} {list(xs)}"
        name, shown = f"adaptive_{kind}_pool2d", list(xs)
    for i in range(len(shown) - (2 if nd == 2 or not is_max else 1), len(shown)):
        if shown[i] == 0:
            return f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes " \
                   f"{shown} with dimension {i} being empty"
    return None


def _adaptive_matrix(n, out, dtype):
    starts, ends = _adaptive_bounds(n, out)
    j = np.arange(n)
    inside = (j[None, :] >= starts[:, None]) & (j[None, :] < ends[:, None])
    return (inside / (ends - starts)[:, None]).astype(dtype)


def _adaptive_checked(op, nd, input, output_size, is_max):
    """The adaptive pools' checks: (xs, batched, x4shape, output sizes), or PyTorch's error message
    (tapegrad's detail after it)."""
    try:
        xs, batched, x4shape = _input4(op, input, nd)
        if not input.is_floating_point():
            raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")
        return xs, batched, x4shape, _adaptive_sizes(op, nd, output_size, x4shape)
    except RuntimeError as e:
        msg = _torch_adaptive_message(op, nd, is_max, tuple(input.shape), output_size) \
            if isinstance(input, Tensor) else None
        if msg is None:
            raise
        raise RuntimeError(f"{msg} ({e})") from None


def _adaptive_avg(op, nd, input, output_size):
    xs, batched, x4shape, outs = _adaptive_checked(op, nd, input, output_size, False)
    sizes = x4shape[4 - nd:]
    if all(n % o == 0 for n, o in zip(sizes, outs)):       # equal windows: an average pool
        k = tuple(n // o for n, o in zip(sizes, outs))
        return _avg_pool(op, nd, input, k, k, 0, False, True, None)
    # windows of unequal sizes: out = A_h @ x @ A_w^T with averaging matrices
    dt = input._data.dtype
    out = input
    if nd == 2:
        Ah = Tensor._make(_adaptive_matrix(sizes[0], outs[0], dt))
        out = Ah.matmul(out)
    Aw = Tensor._make(np.ascontiguousarray(_adaptive_matrix(sizes[-1], outs[-1], dt).T))
    return out.matmul(Aw)


def adaptive_avg_pool1d(input, output_size):
    """F.adaptive_avg_pool1d: windows [floor(i*L/out), ceil((i+1)*L/out))."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """F.adaptive_avg_pool2d; output_size an int, a pair, or None entries to keep a size."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def _adaptive_max(op, nd, input, output_size, return_indices):
    xs, batched, x4shape, outs = _adaptive_checked(op, nd, input, output_size, True)
    sizes = x4shape[4 - nd:]
    if nd == 1:
        gh, gw = _PoolGeom(1, 1, 1, 0, 1, 1), _adaptive_geom(sizes[0], outs[0])
    else:
        gh, gw = _adaptive_geom(sizes[0], outs[0]), _adaptive_geom(sizes[1], outs[1])
    return MaxPool2DWithIndices.apply(input, gh, gw, x4shape, _out_shape(xs, batched, nd, gh, gw),
                                      bool(return_indices))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """F.adaptive_max_pool2d: first maximum of each adaptive window; flat indices per plane."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


# ---------------------------------------------------------------- unpooling and lp pooling
def _max_unpool(op, nd, input, indices, kernel_size, stride, padding, output_size):
    xs, batched, x4shape = _input4(op, input, nd)
    if not isinstance(indices, Tensor) or tuple(indices.shape) != xs:
        raise RuntimeError(f"{op}: Expected shape of indices to be same as that of the input tensor "
                           f"{_shape_str(xs)}, got {None if not isinstance(indices, Tensor) else _shape_str(tuple(indices.shape))}")
    if indices._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: elements in indices should be type int64 but got: {indices.dtype}")
    k = _ntuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None else _ntuple(stride, nd, "stride", op)
    p = _ntuple(padding, nd, "padding", op)
    sizes = x4shape[4 - nd:]
    default = tuple((n - 1) * ss - 2 * pp + kk for n, ss, pp, kk in zip(sizes, s, p, k))
    if output_size is None:
        outs = default
    else:
        given = output_size[2:] if len(output_size) == nd + 2 else output_size
        if len(given) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it "
                             f"has a length of '{len(output_size)}' ({op})")
        outs = tuple(int(o) for o in given)
        for dim, (o, dflt, ss) in enumerate(zip(outs, default, s)):
            if not dflt - ss < o < dflt + ss:
                raise ValueError(f'invalid output_size "{given}" (dim {dim} must be between {dflt - ss} and '
                                 f'{dflt + ss}) ({op})')
    P = int(np.prod(outs))
    idx = indices._data.astype(np.int64, copy=False)
    if idx.size and (idx.min() < 0 or idx.max() >= P):
        flat_idx = idx.ravel()
        bad = flat_idx[np.flatnonzero((flat_idx < 0) | (flat_idx >= P))[-1]]   # PyTorch's scan keeps the last
        shown = outs if nd == 2 else outs + (1,)          # PyTorch unpools 1-D as (L, 1) planes
        raise RuntimeError(f"Found an invalid max index: {int(bad)} (output volumes are of size "
                           f"{'x'.join(map(str, shown))}) ({op})")
    N, C = x4shape[:2]
    flat = idx.reshape(N * C, math.prod(xs[-nd:])) + (np.arange(N * C, dtype=np.int64) * P)[:, None]
    out_shape = xs[:-nd] + tuple(outs)
    # written, not added: windows that share their maximum give one index twice (PyTorch writes too)
    return _ScatterFlat.apply(input, flat.reshape(xs), out_shape, False)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """F.max_unpool2d: place each value at its flat index of the output plane, zeros elsewhere."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    k = _ntuple(kernel_size, nd, "kernel_size", f"lp_pool{nd}d")
    if isinstance(norm_type, (int, float)) and math.isinf(norm_type):      # PyTorch: max pooling of |x|
        mpool = max_pool1d if nd == 1 else max_pool2d
        if norm_type > 0:
            return mpool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        return -mpool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    pool = avg_pool1d if nd == 1 else avg_pool2d
    out = pool(input.pow(norm_type), k, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(math.prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)
