"""Convolution: conv1d/2d, conv_transpose1d/2d, unfold/fold.

Every convolution is sliding windows (an `as_strided` view, copied once into
columns) plus one matrix product; its backward is the transposed products plus
col2im, a loop over the kh*kw kernel offsets, never over pixels or the batch.
1-D convolutions are 2-D ones with a height of 1 (views, no copies).

Two column layouts, picked per call by which one gives NumPy long inner loops:
- "sample": columns (N, C*kh*kw, OH*OW), batched `W @ cols` gives NCHW directly;
  good when the output rows are long and channels few (a first layer).
- "rows": channels-last columns (N*OH*OW, kh*kw*C), one GEMM `cols @ W.T`;
  good when channels are many and the image small (deeper layers).

The raw-array backward serves ordinary training; with create_graph=True the
backward is written with differentiable tapegrad operations (unfold/fold are
each other's adjoint), so gradients of gradients work too.

With more than one intra-op thread, the batch is split over tapegrad's own threads
(NumPy releases the GIL in its loops and BLAS calls), and the first such split makes
the BLAS single-threaded for good (tapegrad/_threads.py); see _batch_parallel. The
split never changes a number (see Convolution).
"""
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _threads
from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.function import Function

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold"]


# ---------------------------------------------------------------- argument helpers
def _ntuple(value, n, name, op):
    """An int or a sequence of ints as an n-tuple (PyTorch's _single/_pair)."""
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if len(value) == 1 and n > 1:
            value = tuple(value) * n
        if len(value) != n:
            raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of {n} values "
                               f"to match the convolution dimensions, but got {name}={list(value)}")
        try:
            return tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise TypeError(f"{op}: {name} must be ints, got {value!r}") from None
    if isinstance(value, (bool, float)) or not hasattr(value, "__index__"):
        raise TypeError(f"{op}: {name} must be an int or a tuple of ints, got {type(value).__name__}")
    return (int(value),) * n


def _shape_str(shape):
    return str(tuple(int(s) for s in shape))


def _dtype_name(a):
    return {"float32": "float", "float64": "double", "float16": "c10::Half"}.get(a.dtype.name, a.dtype.name)


class _Geom:
    """Window geometry of one 2-D convolution: input size, kernel, stride, dilation,
    padding (top, bottom, left, right) and number of windows."""

    __slots__ = ("H", "W", "kh", "kw", "sh", "sw", "dh", "dw", "pt", "pb", "pl", "pr", "OH", "OW")

    def __init__(self, H, W, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, OH=None, OW=None):
        self.H, self.W, self.kh, self.kw = H, W, kh, kw
        self.sh, self.sw, self.dh, self.dw = sh, sw, dh, dw
        self.pt, self.pb, self.pl, self.pr = pt, pb, pl, pr
        self.OH = (H + pt + pb - dh * (kh - 1) - 1) // sh + 1 if OH is None else OH
        self.OW = (W + pl + pr - dw * (kw - 1) - 1) // sw + 1 if OW is None else OW

    @property
    def Hp(self):
        return self.H + self.pt + self.pb

    @property
    def Wp(self):
        return self.W + self.pl + self.pr


# ---------------------------------------------------------------- intra-op parallelism over the batch
_MIN_WORK = 1 << 17           # elements: below this a thread hand-off costs more than it saves
_GEMM_ROWS = 48               # chunks of a product's rows start at multiples of every BLAS kernel's row unroll
_GEMM_MIN_PIECE = 3 << 19     # multiply-adds: OpenBLAS's small-matrix kernels (below ~1M) sum in another order
_MAX_BLOCKS = min(16, max(2, _threads.usable_cores()))   # blocks of a reduction over the batch


def _intraop_threads():
    """Threads for splitting conv/pool work over the batch (engages tapegrad's own pool: the BLAS
    then runs single-threaded, see tapegrad/_threads.py). OpenBLAS's own workers spin between calls;
    next to tapegrad's threads the two pools fight for the cores (measured: 13.5 ms/step quiet and
    over 500 ms/step with one core busy elsewhere, against 10.4 and 16 ms/step with one pool)."""
    return _threads.intraop_threads(engage=True)


def _blocks(n, step=1, min_block=1, reduce=False):
    """Boundaries of blocks over the batch [0, n), from the shapes alone (never the thread count):
    each starts at a multiple of `step` samples and holds at least `min_block`. Threads take runs of
    whole blocks, so a product's row chunks stay aligned; a reduction over the batch (reduce=True,
    at most _MAX_BLOCKS blocks) sums one partial per block in block order, serial or split alike."""
    unit = -(-max(min_block, 1) // step)          # steps per block, at least
    units = n // step
    nb = min(units // unit, _MAX_BLOCKS if reduce else 256)   # (without a reduction: fine enough to balance)
    if nb < 2:
        return [0, n]
    return [(units * i + nb // 2) // nb * step for i in range(nb)] + [n]


def _gemm_block(step_rows, *piece):
    """(step, min_block) in samples for row chunks of products whose rows per sample are `step_rows`
    and whose other two sizes are each pair in `piece`: chunks start at multiples of _GEMM_ROWS rows
    and stay above OpenBLAS's small-matrix sizes, so that every chunk is computed as in the whole."""
    step = _GEMM_ROWS // math.gcd(step_rows, _GEMM_ROWS)
    smallest = min(a * b for a, b in piece) if piece else 1
    return step, -(-_GEMM_MIN_PIECE // max(1, step_rows * smallest))


def _batch_parallel(fn, bounds, work):
    """Run fn(lo, hi) over the batch [bounds[0], bounds[-1]), split across the intra-op threads at
    block boundaries (see _blocks) when `work` (elements touched) is large enough. NumPy releases
    the GIL inside its loops and BLAS calls, so the chunks of pooling, im2col/col2im and the products
    really run side by side, as PyTorch's kernels do over their threads."""
    nb = len(bounds) - 1
    t = min(_intraop_threads(), nb) if work >= _MIN_WORK and nb > 1 else 1
    if t < 2:
        fn(bounds[0], bounds[-1])
        return
    _threads.parallel_for(fn, [bounds[(nb * j + t // 2) // t] for j in range(t)] + [bounds[-1]])


def _block_range(bounds, lo, hi):
    """Indices of the blocks that make up the chunk [lo, hi) (one empty block when the batch is empty)."""
    i0 = bounds.index(lo)
    return range(i0, bounds.index(hi, i0 + 1) if hi > lo else i0 + 1)


def _sum_blocks(parts):
    """Partials of a reduction over the batch, added in block order."""
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


# ---------------------------------------------------------------- sliding windows on arrays
def _pad_nchw(x, g):
    if not (g.pt or g.pb or g.pl or g.pr):
        return x
    N, C = x.shape[:2]
    xp = np.zeros((N, C, g.Hp, g.Wp), dtype=x.dtype)
    xp[:, :, g.pt:g.pt + g.H, g.pl:g.pl + g.W] = x
    return xp


def _pad_nhwc(x, g):
    """x (N, C, H, W) -> channels-last padded copy (N, Hp, Wp, C)."""
    N, C = x.shape[:2]
    xp = np.zeros((N, g.Hp, g.Wp, C), dtype=x.dtype)
    xp[:, g.pt:g.pt + g.H, g.pl:g.pl + g.W, :] = x.transpose(0, 2, 3, 1)
    return xp


def _windows(x, g):
    """Strided view (N, C, kh, kw, OH, OW) of the (padded) x (N, C, H, W)."""
    xp = _pad_nchw(x, g)
    N, C = xp.shape[:2]
    sN, sC, sH, sW = xp.strides
    return as_strided(xp, (N, C, g.kh, g.kw, g.OH, g.OW),
                      (sN, sC, sH * g.dh, sW * g.dw, sH * g.sh, sW * g.sw), writeable=False)


def _im2col(x, g, out=None):
    """x (N, C, H, W) -> columns (N, C*kh*kw, OH*OW), one strided copy (into `out` if given)."""
    win = _windows(x, g)
    N, C = win.shape[:2]
    if out is None:
        return win.reshape(N, C * g.kh * g.kw, g.OH * g.OW)
    np.reshape(out, win.shape, copy=False)[...] = win
    return out


def _col2im(cols, g, out=None):
    """Adjoint of _im2col: columns (N, C*kh*kw, OH*OW) -> (N, C, H, W), summing overlaps."""
    N = cols.shape[0]
    C = cols.shape[1] // (g.kh * g.kw)
    c6 = cols.reshape(N, C, g.kh, g.kw, g.OH, g.OW)
    padded = g.pt or g.pb or g.pl or g.pr
    if out is None or padded:
        xp = np.zeros((N, C, g.Hp, g.Wp), dtype=cols.dtype)
    else:
        xp = out
        xp[...] = 0
    he, we = g.sh * (g.OH - 1) + 1, g.sw * (g.OW - 1) + 1
    for i in range(g.kh):
        for j in range(g.kw):
            h0, w0 = i * g.dh, j * g.dw
            xp[:, :, h0:h0 + he:g.sh, w0:w0 + we:g.sw] += c6[:, :, i, j]
    if padded:
        crop = xp[:, :, g.pt:g.pt + g.H, g.pl:g.pl + g.W]
        if out is None:
            return np.ascontiguousarray(crop)
        out[...] = crop
    return xp if out is None else out


def _im2col_rows(x, g, out):
    """x (N, C, H, W) -> channels-last columns (N*OH*OW, kh*kw*C), written into `out`."""
    xp = _pad_nhwc(x, g)
    N, _, _, C = xp.shape
    sN, sH, sW, sC = xp.strides
    win = as_strided(xp, (N, g.OH, g.OW, g.kh, g.kw, C),
                     (sN, sH * g.sh, sW * g.sw, sH * g.dh, sW * g.dw, sC), writeable=False)
    np.reshape(out, win.shape, copy=False)[...] = win
    return out


def _col2im_rows(cols, N, C, g, out):
    """Adjoint of _im2col_rows, from offset-major columns (kh*kw, N*OH*OW, C) into out (N, C, H, W)."""
    c6 = cols.reshape(g.kh, g.kw, N, g.OH, g.OW, C)
    xp = np.zeros((N, g.Hp, g.Wp, C), dtype=cols.dtype)
    he, we = g.sh * (g.OH - 1) + 1, g.sw * (g.OW - 1) + 1
    for i in range(g.kh):
        for j in range(g.kw):
            h0, w0 = i * g.dh, j * g.dw
            xp[:, h0:h0 + he:g.sh, w0:w0 + we:g.sw, :] += c6[i, j]
    out[...] = xp[:, g.pt:g.pt + g.H, g.pl:g.pl + g.W, :].transpose(0, 3, 1, 2)
    return out


def _use_rows(C, groups, g):
    # channels-last columns copy runs of kw*C contiguous numbers, NCHW columns runs of OW
    return groups == 1 and C * g.kw > g.OW


# ---------------------------------------------------------------- unfold / fold (adjoint pair)
class Im2Col(Function):
    """(N, C, H, W) -> (N, C*kh*kw, L)."""

    @staticmethod
    def forward(ctx, x, g):
        ctx.g = g
        return _im2col(x, g)

    @staticmethod
    def backward(ctx, grad):
        return Col2Im.apply(grad, ctx.g), None


class Col2Im(Function):
    """(N, C*kh*kw, L) -> (N, C, H, W), summing overlapping windows."""

    @staticmethod
    def forward(ctx, cols, g):
        ctx.g = g
        return _col2im(np.ascontiguousarray(cols), g)

    @staticmethod
    def backward(ctx, grad):
        return Im2Col.apply(grad, ctx.g), None


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """F.unfold: sliding local blocks (N, C, H, W) -> (N, C*kh*kw, L)."""
    op = "unfold"
    k, d, p, s = (_ntuple(v, 2, n, op) for v, n in
                  ((kernel_size, "kernel_size"), (dilation, "dilation"), (padding, "padding"), (stride, "stride")))
    shape = tuple(input.shape)
    if len(shape) not in (3, 4):
        raise RuntimeError(f"{op}: expected 3D (unbatched) or 4D (batched) input, but got input of shape "
                           f"{_shape_str(shape)}")
    x = input if len(shape) == 4 else input.unsqueeze(0)
    H, W = shape[-2:]
    g = _Geom(H, W, k[0], k[1], s[0], s[1], d[0], d[1], p[0], p[0], p[1], p[1])
    _check_positive(op, k, s, d, p)
    if g.OH < 1 or g.OW < 1:
        raise RuntimeError(f"Given input with spatial size ({H}, {W}), kernel_size={k}, dilation={d}, padding={p}, "
                           f"calculated shape of the array of sliding blocks as ({g.OH}, {g.OW}), but its components "
                           f"must be at least one. ({op}: input of shape {_shape_str(shape)})")
    out = Im2Col.apply(x, g)
    return out if len(shape) == 4 else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """F.fold: the adjoint of unfold, (N, C*kh*kw, L) -> (N, C, H, W) summing overlaps."""
    op = "fold"
    o, k, d, p, s = (_ntuple(v, 2, n, op) for v, n in
                     ((output_size, "output_size"), (kernel_size, "kernel_size"), (dilation, "dilation"),
                      (padding, "padding"), (stride, "stride")))
    _check_positive(op, k, s, d, p)
    shape = tuple(input.shape)
    if len(shape) not in (2, 3):
        raise RuntimeError(f"{op}: expected 2D (unbatched) or 3D (batched) input, but got input of shape "
                           f"{_shape_str(shape)}")
    x = input if len(shape) == 3 else input.unsqueeze(0)
    g = _Geom(o[0], o[1], k[0], k[1], s[0], s[1], d[0], d[1], p[0], p[0], p[1], p[1])
    K = k[0] * k[1]
    if x.shape[1] % K:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, "
                           f"but got input.size(1)={x.shape[1]} and kernel_size={k}. ({op})")
    if g.OH < 1 or g.OW < 1 or g.OH * g.OW != x.shape[2]:
        raise RuntimeError(f"Given output_size={o}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
                           f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{g.OH} * {g.OW} = {g.OH * g.OW}, but got input.size(2)={x.shape[2]}. ({op})")
    out = Col2Im.apply(x, g)
    return out if len(shape) == 3 else out.squeeze(0)


def _check_positive(op, k, s, d, p):
    if min(k) < 1:
        raise RuntimeError(f"{op}: kernel_size should be greater than zero, but got kernel_size={k}")
    if min(s) < 1:
        raise RuntimeError(f"{op}: stride should be greater than zero, but got stride={s}")
    if min(d) < 1:
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got dilation={d}")
    if min(p) < 0:
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={p}")


# ---------------------------------------------------------------- convolution
class Convolution(Function):
    """y = conv(x, w) + b on (N, C, H, W) arrays (or (N, C, L) for 1-D: H = 1).

    Without groups the bias is one more column of the weight matrix against a row of ones in the
    columns, so the forward adds it and the backward gets its gradient inside the same products.
    Split over threads, every number comes out as in the serial path: the products are per sample,
    or row chunks of one product aligned as _gemm_block says, and the weight gradient (a sum over
    the batch) is one partial per block of _blocks(..., reduce=True), added in block order."""

    @staticmethod
    def forward(ctx, x, w, b, g, groups, x4shape):
        x4 = x.reshape(x4shape)
        w4 = w.reshape(w.shape[:2] + (g.kh, g.kw))
        N, C = x4shape[:2]
        O = w4.shape[0]
        K, L = g.kh * g.kw, g.OH * g.OW
        fused = b is not None and groups == 1
        dt = x.dtype
        if _use_rows(C, groups, g):
            KC = K * C + fused
            cols = np.empty((N * L, KC), dtype=dt)                      # (N*L, K*C [+1])
            if fused:
                cols[:, K * C] = 1
            wrT = w4.transpose(2, 3, 1, 0).reshape(K * C, O)            # (K*C [+1], O)
            if fused:
                wrT = np.concatenate([wrT, b.reshape(1, O)])
            out = np.empty((N, O, g.OH, g.OW), dtype=dt)

            def work(lo, hi):
                _im2col_rows(x4[lo:hi], g, cols[lo * L:hi * L, :K * C])
                y = cols[lo * L:hi * L] @ wrT                           # (n*L, O): a row chunk of one product
                out[lo:hi] = y.reshape(hi - lo, g.OH, g.OW, O).transpose(0, 3, 1, 2)

            _batch_parallel(work, _blocks(N, *_gemm_block(L, (KC, O))), cols.size + out.size)
            ctx.rows = True
        else:
            CK = C * K
            cols = np.empty((N, CK + fused, L), dtype=dt)               # (N, C*K [+1], L)
            if fused:
                cols[:, CK] = 1
            if groups == 1:
                wr = w4.reshape(O, -1)
                if fused:
                    wr = np.concatenate([wr, b.reshape(O, 1)], axis=1)
                out = np.empty((N, O, L), dtype=dt)

                def work(lo, hi):
                    _im2col(x4[lo:hi], g, cols[lo:hi, :CK])
                    np.matmul(wr, cols[lo:hi], out=out[lo:hi])          # one product per sample
            else:
                wr = w4.reshape(groups, O // groups, -1)
                out = np.empty((N, groups, O // groups, L), dtype=dt)

                def work(lo, hi):
                    _im2col(x4[lo:hi], g, cols[lo:hi])
                    np.matmul(wr, cols[lo:hi].reshape(hi - lo, groups, CK // groups, L), out=out[lo:hi])
            _batch_parallel(work, _blocks(N), cols.size + out.size)
            out = out.reshape(N, O, g.OH, g.OW)
            if b is not None and not fused:
                out += b.reshape(O, 1, 1)
            ctx.rows = False
        ctx.save_for_backward(x, w, cols)
        ctx.g, ctx.groups, ctx.x4shape, ctx.fused = g, groups, x4shape, fused
        if x.ndim != 4:
            out = out.reshape(_out_shape(x.shape, O, g))
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w, cols = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g, groups = ctx.g, ctx.groups
        if grad_mode.GRAD[0]:
            return _conv_backward_graph(grad, x, w, g, groups, ctx.x4shape, need_x, need_w, need_b) + (None,) * 3
        N, C = ctx.x4shape[:2]
        wd = w._data
        O = wd.shape[0]
        K = g.kh * g.kw
        L = g.OH * g.OW
        gd = grad._data.reshape(N, O, L)
        cols = cols._data
        dt = cols.dtype
        want_wb = need_w or (need_b and ctx.fused)
        gx = gw = gb = None
        if need_x:
            gx = np.empty(ctx.x4shape, dtype=dt)
        if ctx.rows:
            wk = np.ascontiguousarray(wd.reshape(O, C, K).transpose(2, 0, 1)) if need_x else None
            sizes = ((O, C),) if need_x else ()
            bounds = _blocks(N, *_gemm_block(L, *sizes), reduce=True)
            parts = [None] * (len(bounds) - 1)

            def work(lo, hi):
                gr = np.ascontiguousarray(gd[lo:hi].transpose(0, 2, 1)).reshape((hi - lo) * L, O)
                if want_wb:   # (rows: groups == 1, so a bias that needs a gradient is fused)
                    for i in _block_range(bounds, lo, hi):
                        b0, b1 = bounds[i], bounds[i + 1]
                        parts[i] = gr[(b0 - lo) * L:(b1 - lo) * L].T @ cols[b0 * L:b1 * L]  # (O, K*C [+1])
                if need_x:   # one product per kernel offset (row chunks), so that col2im adds contiguous blocks
                    _col2im_rows(np.matmul(gr, wk), hi - lo, C, g, gx[lo:hi])

            _batch_parallel(work, bounds, cols.size + (gx.size if need_x else 0))
            if want_wb:
                total = _sum_blocks(parts)
                gw = total[:, :K * C].reshape(O, g.kh, g.kw, C).transpose(0, 3, 1, 2)
                gb = total[:, K * C] if ctx.fused else None
        else:
            gd = np.ascontiguousarray(gd)
            G = groups
            g4 = gd.reshape(N, G, O // G, L)
            c4 = cols.reshape(N, G, cols.shape[1] // G, L)  # not -1: N may be 0
            wg = wd.reshape(G, O // G, C // G * K)
            bounds = _blocks(N, reduce=True)
            parts = [None] * (len(bounds) - 1)

            def work(lo, hi):
                if want_wb:
                    for i in _block_range(bounds, lo, hi):
                        b0, b1 = bounds[i], bounds[i + 1]
                        parts[i] = np.matmul(g4[b0:b1], c4[b0:b1].transpose(0, 1, 3, 2)).sum(0)
                if need_x:
                    gcols = np.matmul(wg.transpose(0, 2, 1), g4[lo:hi])  # (n, G, Cg*K, L), per sample
                    _col2im(gcols.reshape(hi - lo, C * K, L), g, gx[lo:hi])

            _batch_parallel(work, bounds, cols.size + (gx.size if need_x else 0))
            if want_wb:
                gwb = _sum_blocks(parts)                                   # (G, O/G, Cg*K [+1])
                gw = gwb[..., :C // G * K]
                gb = gwb[0, :, -1] if ctx.fused else None
            if need_b and gb is None:
                gb = gd.sum((0, 2))
        return (None if gx is None else Tensor._make(gx.reshape(x._data.shape)),
                None if gw is None or not need_w else Tensor._make(np.ascontiguousarray(gw).reshape(wd.shape)),
                None if gb is None or not need_b else Tensor._make(np.ascontiguousarray(gb)), None, None, None)


def _out_shape(xshape, O, g):
    if len(xshape) == 3:      # (N, C, L): 1-D
        return (xshape[0], O, g.OW)
    return (xshape[0], O, g.OH, g.OW)


def _conv_backward_graph(grad, x, w, g, groups, x4shape, need_x, need_w, need_b):
    """Convolution's backward with differentiable operations (create_graph=True)."""
    N, C = x4shape[:2]
    O = w.shape[0]
    G = groups
    L = g.OH * g.OW
    g4 = grad.reshape(N, G, O // G, L)
    gx = gw = gb = None
    if need_w:
        cols = Im2Col.apply(x.reshape(x4shape), g).reshape(N, G, C // G * g.kh * g.kw, L)  # not -1: N may be 0
        gw = g4.matmul(cols.transpose(-1, -2)).sum(0).reshape(w.shape)
    if need_x:
        wg = w.reshape(G, O // G, -1)
        gcols = wg.transpose(-1, -2).matmul(g4).reshape(N, C * g.kh * g.kw, L)
        gx = Col2Im.apply(gcols, g).reshape(x.shape)
    if need_b:
        gb = grad.reshape(N, O, L).sum((0, 2))
    return gx, gw, gb


class ConvTranspose(Function):
    """y = conv_transpose(x, w) + b: the adjoint of Convolution with respect to its input."""

    @staticmethod
    def forward(ctx, x, w, b, g, groups, x4shape):
        # g describes the *forward* convolution whose input is the output here:
        # g.H, g.W = output size, g.OH, g.OW = x's spatial size.
        x4 = x.reshape(x4shape)
        N, Cin = x4shape[:2]
        G = groups
        Coutg = w.shape[1]
        L = g.OH * g.OW
        wg = w.reshape(G, Cin // G, -1)                                 # (G, Cin/G, Cout/G*K)
        cols = np.matmul(wg.transpose(0, 2, 1), x4.reshape(N, G, Cin // G, L))
        out = _col2im(cols.reshape(N, G * Coutg * g.kh * g.kw, L), g)   # (N, Cout, H, W)
        if b is not None:
            out += b.reshape(-1, 1, 1)
        ctx.save_for_backward(x, w)
        ctx.g, ctx.groups, ctx.x4shape = g, groups, x4shape
        if x.ndim == 3:
            out = out.reshape(N, G * Coutg, g.W)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g, G, x4shape = ctx.g, ctx.groups, ctx.x4shape
        N, Cin = x4shape[:2]
        L = g.OH * g.OW
        if grad_mode.GRAD[0]:
            gx = gw = gb = None
            g4 = grad.reshape(N, G * w.shape[1], g.H, g.W)  # not -1: N may be 0
            if need_x:
                w4 = w.reshape(w.shape[:2] + (g.kh, g.kw))
                gx = Convolution.apply(g4, w4, None, g, G, tuple(g4.shape)).reshape(x.shape)
            if need_w:
                cols = Im2Col.apply(g4, g).reshape(N, G, w.shape[1] * g.kh * g.kw, L)  # (N, G, Cout/G*K, L)
                xg = x.reshape(N, G, Cin // G, L)
                gw = xg.matmul(cols.transpose(-1, -2)).sum(0).reshape(w.shape)
            if need_b:
                gb = g4.sum((0, 2, 3))
            return gx, gw, gb, None, None, None
        Coutg = w._data.shape[1]
        gd = np.ascontiguousarray(grad._data).reshape(N, G * Coutg, g.H, g.W)
        cols = _im2col(gd, g).reshape(N, G, Coutg * g.kh * g.kw, L)     # (N, G, Cout/G*K, L)
        wd = w._data
        gx = gw = gb = None
        if need_x:
            wg = wd.reshape(G, Cin // G, -1)
            gx = Tensor._make(np.matmul(wg, cols).reshape(x._data.shape))
        if need_w:
            xg = np.ascontiguousarray(x._data).reshape(N, G, Cin // G, L)
            gw = Tensor._make(np.matmul(xg, cols.transpose(0, 1, 3, 2)).sum(0).reshape(wd.shape))
        if need_b:
            gb = Tensor._make(gd.sum((0, 2, 3)))
        return gx, gw, gb, None, None, None


ConvTranspose._backward_name = Convolution._backward_name  # PyTorch names both ConvolutionBackward0


# ---------------------------------------------------------------- checks and public functions
_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                 "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _scalar_name(t):
    return _SCALAR_NAMES.get(str(t.dtype).split(".")[-1], str(t.dtype))


def _hw(v, nd):
    """PyTorch's 2-D view of a 1-D parameter (height 1 prepended), as its messages print it."""
    return (1,) + tuple(v) if nd == 1 else tuple(v)


def _check_conv_args(op, input, weight, bias, nd, groups, s, p, d, op_=None):
    """PyTorch's checks of a convolution's arguments, in its order and with its messages (at::_convolution's
    check_shape_forward, then the CPU kernel's shape checks); tapegrad's details follow in parentheses.
    `p` is the per-side padding (a pair per dimension); op_ the output padding of a transposed one."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}(): argument 'weight' (position 2) must be Tensor, not {type(weight).__name__}")
    xs, ws = tuple(input.shape), tuple(weight.shape)
    if len(xs) not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got input "
                           f"of size: {list(xs)}")
    xb = xs if len(xs) == nd + 2 else (1,) + xs          # PyTorch's messages show the batched shape
    transposed = op_ is not None
    if len(ws) != nd + 2:
        if len(ws) < 3:
            raise RuntimeError(f"weight should have at least three dimensions ({op}: weight of shape "
                               f"{_shape_str(ws)})")
        if nd > 1:
            raise RuntimeError(f"expected stride to be a single integer value or a list of {len(ws) - 2} values to "
                               f"match the convolution dimensions, but got stride={list(s)} ({op}: weight of "
                               f"shape {_shape_str(ws)})")
        raise RuntimeError(f"Expected {len(ws)}-dimensional input for {len(ws)}-dimensional weight {list(ws)}, but "
                           f"got {len(xb)}-dimensional input of size {list(xb)} instead")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise RuntimeError(f"non-positive groups is not supported ({op}: groups={groups})")
    if bias is not None:
        if not isinstance(bias, Tensor):
            raise TypeError(f"{op}(): argument 'bias' (position 3) must be Tensor, not {type(bias).__name__}")
        if bias.dtype != input.dtype and not transposed:
            raise RuntimeError(f"Input type ({_dtype_name(input._data)}) and bias type ({_dtype_name(bias._data)}) "
                               f"should be the same ({op})")
    if min(p)[0] < 0 or min(b for _, b in p) < 0:
        raise RuntimeError(f"negative padding is not supported ({op}: padding={tuple(a for a, _ in p)})")
    if transposed and min(op_) < 0:
        raise RuntimeError(f"negative output_padding is not supported ({op}: output_padding={op_})")
    if min(s) < 1:
        raise RuntimeError(f"non-positive stride is not supported ({op}: stride={s})")
    if min(d) < 0:
        raise RuntimeError(f"dilation should be greater than zero ({op}: dilation={d})")
    if ws[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {list(ws)} instead")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{list(ws)}] instead ({op}: out_channels ({ws[0]}) must be "
                           f"divisible by groups ({groups}))")
    C = xs[-nd - 1]
    k = ws[2:]
    if transposed:
        if ws[0] != C:
            raise RuntimeError(f"Given transposed=1, weight of size {list(ws)}, expected input{list(xb)} to have "
                               f"{ws[0]} channels, but got {C} channels instead")
        out_c = ws[1] * groups
        if bias is not None and tuple(bias.shape) != (out_c,):
            raise RuntimeError(f"Given transposed=1, weight of size {list(ws)}, expected bias to be 1-dimensional "
                               f"with {out_c} elements, but got bias of size {list(bias.shape)} instead")
    else:
        if ws[1] * groups != C:
            raise RuntimeError(f"Given groups={groups}, weight of size {list(ws)}, expected input{list(xb)} to have "
                               f"{ws[1] * groups} channels, but got {C} channels instead ({op}: input of shape "
                               f"{_shape_str(xs)}, weight of shape {_shape_str(ws)})")
        out_c = ws[0]
        if bias is not None and tuple(bias.shape) != (out_c,):
            raise RuntimeError(f"Given weight of size {list(ws)}, expected bias to be 1-dimensional with {out_c} "
                               f"elements, but got bias of size {list(bias.shape)} instead ({op}: expected bias of "
                               f"shape ({out_c},), one per output channel)")
        if nd == 2:
            small = (xs[-2] + p[0][0] + p[0][1] < d[0] * (k[0] - 1) + 1
                     or xs[-1] + p[1][0] + p[1][1] < d[1] * (k[1] - 1) + 1)
        else:
            small = xs[-1] + p[0][0] + p[0][1] < d[0] * (k[0] - 1) + 1
        if small:
            padded = tuple(n + a + b for n, (a, b) in zip(xs[-nd:], p))
            eff = tuple(dd * (kk - 1) + 1 for kk, dd in zip(k, d))
            raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                               f"Kernel size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than "
                               f"actual input size ({op}: input of shape {_shape_str(xs)}, weight of shape "
                               f"{_shape_str(ws)}, padding={tuple(p)}, dilation={d})")
    if min(k) < 1:
        kh, kw = _hw(k, nd)
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {kh} kernel_width: {kw}")
    if min(d) < 1:
        if transposed:
            dh, dw = _hw(d, nd)
            raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {dh}, "
                               f"dilation_width: {dw}")
        raise RuntimeError(f"dilation should be greater than zero, but got {list(_hw(d, nd))}")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(input)} but found {_scalar_name(weight)} ({op}: "
                           f"Input type ({_dtype_name(input._data)}) and weight type ({_dtype_name(weight._data)}) "
                           f"should be the same (input {_shape_str(xs)}, weight {_shape_str(ws)}))")
    if not input.is_floating_point():
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")
    return xs, ws


def _conv_nd(op, nd, input, weight, bias, stride, padding, dilation, groups):
    s = _ntuple(stride, nd, "stride", op)
    d = _ntuple(dilation, nd, "dilation", op)
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * nd
        elif padding == "same":
            if max(s) != 1:
                raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions "
                                   f"(stride={s})")
            pads = []
            ks = weight.shape[2:] if isinstance(weight, Tensor) and weight.dim() == nd + 2 else (1,) * nd
            for kk, dd in zip(ks, d):
                total = dd * (kk - 1)
                pads.append((total // 2, total - total // 2))
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pads = [(pp, pp) for pp in _ntuple(padding, nd, "padding", op)]
    xs, ws = _check_conv_args(op, input, weight, bias, nd, groups, s, pads, d)
    k = ws[2:]
    batched = len(xs) == nd + 2
    sp = xs[-nd:]
    if nd == 1:
        g = _Geom(1, sp[0], 1, k[0], 1, s[0], 1, d[0], 0, 0, pads[0][0], pads[0][1])
    else:
        g = _Geom(sp[0], sp[1], k[0], k[1], s[0], s[1], d[0], d[1], pads[0][0], pads[0][1], pads[1][0], pads[1][1])
    x4shape = ((xs[0],) if batched else (1,)) + (xs[-nd - 1], g.H, g.W)
    if batched:
        return Convolution.apply(input, weight, bias, g, groups, x4shape)
    out = Convolution.apply(input.unsqueeze(0), weight, bias, g, groups, x4shape)
    return out.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """F.conv1d: input (N, C, L) or (C, L), weight (O, C/groups, k)."""
    return _conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """F.conv2d: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kh, kw)."""
    return _conv_nd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose_nd(op, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    s = _ntuple(stride, nd, "stride", op)
    d = _ntuple(dilation, nd, "dilation", op)
    p = _ntuple(padding, nd, "padding", op)
    op_ = _ntuple(output_padding, nd, "output_padding", op)
    xs, ws = _check_conv_args(op, input, weight, bias, nd, groups, s, [(pp, pp) for pp in p], d, op_)
    if bias is not None and bias.dtype != input.dtype:
        bias = bias.to(input.dtype)                 # PyTorch's transposed convolutions cast the bias
    k = ws[2:]
    for o, ss, dd in zip(op_, s, d):
        if o >= ss and o >= dd:
            (oh, ow), (sh, sw), (dh, dw) = ((0,) + op_)[-2:], _hw(s, nd), _hw(d, nd)
            raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got "
                               f"output_padding_height: {oh} output_padding_width: {ow} stride_height: {sh} "
                               f"stride_width: {sw} dilation_height: {dh} dilation_width: {dw}")
    batched = len(xs) == nd + 2
    sp = xs[-nd:]
    outs = tuple((n - 1) * ss - 2 * pp + dd * (kk - 1) + o + 1 for n, ss, pp, dd, kk, o in zip(sp, s, p, d, k, op_))
    if min(outs) < 1:
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, _hw(sp, nd)))}). Calculated output "
                           f"size per channel: ({' x '.join(map(str, _hw(outs, nd)))}). Output size is too small "
                           f"({op}: input of shape {_shape_str(xs)}, weight of shape {_shape_str(ws)}, stride={s}, "
                           f"padding={p}, dilation={d}, output_padding={op_})")
    if nd == 1:
        g = _Geom(1, outs[0], 1, k[0], 1, s[0], 1, d[0], 0, 0, p[0], p[0], 1, sp[0])
    else:
        g = _Geom(outs[0], outs[1], k[0], k[1], s[0], s[1], d[0], d[1], p[0], p[0], p[1], p[1], sp[0], sp[1])
    x4shape = ((xs[0],) if batched else (1,)) + (xs[-nd - 1], g.OH, g.OW)
    if batched:
        return ConvTranspose.apply(input, weight, bias, g, groups, x4shape)
    return ConvTranspose.apply(input.unsqueeze(0), weight, bias, g, groups, x4shape).squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """F.conv_transpose1d: input (N, C_in, L), weight (C_in, C_out/groups, k)."""
    return _conv_transpose_nd("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """F.conv_transpose2d: input (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw)."""
    return _conv_transpose_nd("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                              dilation)
