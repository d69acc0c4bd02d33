"""Recurrent layers as fused operators: one Function runs the whole time loop of one layer-direction.

Layout. A sequence is packed time-major, as PyTorch's `PackedSequence.data`: an (N, features) array
whose rows `off_t : off_t + bs_t` hold step t for the first `bs_t` sequences, with `batch_sizes`
non-increasing. A padded (T, B, features) batch is the special case `batch_sizes = (B,) * T`, a free
reshape. Running state lives in (B, hidden) buffers of which step t reads and writes rows `:bs_t`: a
sequence that has ended keeps its final state there (the forward direction's h_n), and one that has
not started yet still holds h0 (the reverse direction starts each sequence at its own last step).

Forward. The input projection of every step is one matrix product `x @ W_ih.T + b` before the loop;
each step then costs one `h @ W_hh.T` product and a handful of in-place NumPy calls. Gates use
PyTorch's order (LSTM i, f, g, o; GRU r, z, n). The weights of sigmoid gates are pre-scaled by 0.5
(exact in floating point) so that one tanh over all gates serves both nonlinearities:
sigmoid(x) = 0.5 * tanh(x / 2) + 0.5.

Backward through time is hand-written on raw arrays: the step loop only propagates dh (and dc)
with one `dG @ W_hh` product per step; the weight gradients are single matrix products over the
stacked gate gradients and hidden states after the loop. Double backward (create_graph=True)
raises NotImplementedError.
"""
import functools

from .._backend import array_module
from ..autograd import grad_mode
from ..autograd.function import Function

__all__ = ["lstm_layer", "gru_layer", "rnn_layer", "lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell",
           "pack_rows", "pad_rows"]

_GRAD = grad_mode.GRAD


@functools.lru_cache(maxsize=256)
def _plan(batch_sizes, reverse):
    """(start, stop, batch) row ranges of the packed sequence, in processing order."""
    steps, a = [], 0
    for bs in batch_sizes:
        steps.append((a, a + bs, bs))
        a += bs
    if reverse:
        steps.reverse()
    return tuple(steps)


def _input_projection(x, w, scale):
    """x @ (w * scale[:, None]).T, scaling whichever of the weight and the result is smaller."""
    if x.shape[0] > w.shape[1]:
        return x @ (w * scale[:, None]).T
    out = x @ w.T
    out *= scale
    return out


def _hidden_product(matmul, w, hp, buf, bs):
    """hp @ w.T, as the transpose of the contiguous (rows, bs) product w @ hp.T: with a small batch,
    OpenBLAS is markedly faster reading the weight as stored than as the transposed operand."""
    rows = w.shape[0]
    return matmul(w, hp.T, out=buf[:rows * bs].reshape(rows, bs)).T


def _gate_scale(xp, dt, n_gates, hidden, tanh_block):
    """Per-column factors: 0.5 on sigmoid gates, 1 on the tanh gate."""
    s = xp.full(n_gates * hidden, 0.5, dtype=dt)
    s[tanh_block * hidden:(tanh_block + 1) * hidden] = 1
    return s


def _state(xp, h0, batch, size, dt):
    if h0 is None:
        return xp.zeros((batch, size), dtype=dt)
    return xp.array(h0, dtype=dt, copy=True, order="C")


def _second(gb, shared):
    """The bias gradient for b_hh: a copy when b_ih already received the same array."""
    return gb.copy() if shared else gb


def _no_double_backward(who):
    raise NotImplementedError(
        f"tapegrad does not implement double backward (backward with create_graph=True) through {who}: its "
        "backward through time is computed on raw arrays.")


# ---------------------------------------------------------------- LSTM
class LSTMLayer(Function):
    """One LSTM layer-direction over a packed sequence: (x, h0, c0, weights) -> (output, h_n, c_n)."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes, reverse, who):
        xp = array_module(x)
        dt = w_ih.dtype
        H = w_hh.shape[0] // 4
        P = w_hh.shape[1]  # proj_size, or H
        N, B = x.shape[0], batch_sizes[0]
        plan = _plan(batch_sizes, reverse)
        s = _gate_scale(xp, dt, 4, H, 2)
        A = _input_projection(x, w_ih, s)  # (N, 4H): pre-activations, then the gates in place
        if b_ih is not None:
            A += (b_ih + b_hh) * s
        pre = N > P  # scale W_hh once, or else each step's (smaller) product
        whh_s = w_hh * s[:, None] if pre else w_hh
        alpha = s  # sigmoid = 0.5 * tanh + 0.5 on i, f, o; g = tanh unchanged
        beta = xp.full(4 * H, 0.5, dtype=dt)
        beta[2 * H:3 * H] = 0
        hbuf = _state(xp, h0, B, P, dt)
        cbuf = _state(xp, c0, B, H, dt)
        out = xp.empty((N, P), dtype=dt)
        HP = xp.empty((N, P), dtype=dt)   # h_{t-1} of every step
        CP = xp.empty((N, H), dtype=dt)   # c_{t-1}
        TC = xp.empty((N, H), dtype=dt)   # tanh(c_t)
        M = xp.empty((N, H), dtype=dt) if w_hr is not None else out  # o * tanh(c_t), before projection
        tmp = xp.empty(4 * H * B, dtype=dt)
        ig = xp.empty((B, H), dtype=dt)
        mul, add, tanh, matmul, copyto = xp.multiply, xp.add, xp.tanh, xp.matmul, xp.copyto
        H2, H3 = 2 * H, 3 * H
        for a, b, bs in plan:
            hp = HP[a:b]
            copyto(hp, hbuf[:bs])
            g = A[a:b]
            hprod = _hidden_product(matmul, whh_s, hp, tmp, bs)
            if not pre:
                mul(hprod, s, out=hprod)
            add(g, hprod, out=g)
            tanh(g, out=g)
            mul(g, alpha, out=g)
            add(g, beta, out=g)
            cp = cbuf[:bs]
            copyto(CP[a:b], cp)
            mul(g[:, H:H2], cp, out=cp)                  # f * c_{t-1}
            add(cp, mul(g[:, :H], g[:, H2:H3], out=ig[:bs]), out=cp)  # + i * g
            tc = TC[a:b]
            tanh(cp, out=tc)
            m = M[a:b]
            mul(g[:, H3:], tc, out=m)                    # o * tanh(c_t)
            if w_hr is not None:
                matmul(m, w_hr.T, out=out[a:b])
            copyto(hbuf[:bs], out[a:b])
        ctx.save_for_backward(x, w_ih, w_hh, w_hr, A, TC, CP, HP, M if w_hr is not None else None)
        ctx.plan, ctx.who = plan, who
        return out, hbuf, cbuf

    @staticmethod
    def backward(ctx, gout, ghn, gcn):
        if _GRAD[0]:
            _no_double_backward(ctx.who)
        x, w_ih, w_hh, w_hr, A, TC, CP, HP, M = ctx.saved_arrays
        need = ctx.needs_input_grad
        xp = array_module(A)
        gout, dh_rec, dc_rec = gout._data, ghn._data.copy(), gcn._data.copy()
        N, H = TC.shape
        H2, H3 = 2 * H, 3 * H
        i, f, g, o = A[:, :H], A[:, H:H2], A[:, H2:H3], A[:, H3:]
        Do = TC * o * (1 - o)                   # dG_o = dm * Do
        Dc = o * (1 - TC * TC)                  # dc += dm * Dc
        K = xp.empty((N, 3, H), dtype=A.dtype)  # dG_{i,f,g} = dc * K
        xp.multiply(g, i * (1 - i), out=K[:, 0])
        xp.multiply(CP, f * (1 - f), out=K[:, 1])
        xp.multiply(i, 1 - g * g, out=K[:, 2])
        F = xp.ascontiguousarray(f)
        dG = xp.empty((N, 4 * H), dtype=A.dtype)
        dG3 = dG.reshape(N, 4, H)
        dHt = xp.empty_like(gout) if w_hr is not None else None
        mul, add, matmul = xp.multiply, xp.add, xp.matmul
        for a, b, bs in reversed(ctx.plan):
            dh = add(gout[a:b], dh_rec[:bs])
            if w_hr is not None:
                dHt[a:b] = dh
                dh = dh @ w_hr
            mul(dh, Do[a:b], out=dG3[a:b, 3])
            dc = mul(dh, Dc[a:b])
            add(dc, dc_rec[:bs], out=dc)
            mul(dc[:, None, :], K[a:b], out=dG3[a:b, :3])
            mul(dc, F[a:b], out=dc_rec[:bs])
            matmul(dG[a:b], w_hh, out=dh_rec[:bs])
        gx = dG @ w_ih if need[0] else None
        gw_ih = dG.T @ x if need[3] else None
        gw_hh = dG.T @ HP if need[4] else None
        gb = dG.sum(0) if need[5] or need[6] else None
        gw_hr = dHt.T @ M if w_hr is not None and need[7] else None
        return (gx, dh_rec if need[1] else None, dc_rec if need[2] else None, gw_ih, gw_hh,
                gb if need[5] else None, _second(gb, need[5]) if need[6] else None, gw_hr, None, None, None)


# ---------------------------------------------------------------- GRU
class GRULayer(Function):
    """One GRU layer-direction: r, z = sigmoid(..), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (1 - z) * n + z * h."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, who):
        xp = array_module(x)
        dt = w_ih.dtype
        H = w_hh.shape[1]
        N, B = x.shape[0], batch_sizes[0]
        plan = _plan(batch_sizes, reverse)
        H2 = 2 * H
        s = _gate_scale(xp, dt, 3, H, 2)
        A = _input_projection(x, w_ih, s)  # (N, 3H)
        bhn = None
        if b_ih is not None:
            bx = b_ih * s
            bx[:H2] += b_hh[:H2] * 0.5
            A += bx
            bhn = b_hh[H2:]
        pre = N > H  # scale W_hh once, or else each step's (smaller) product
        whh_s = w_hh * s[:, None] if pre else w_hh
        hbuf = _state(xp, h0, B, H, dt)
        out = xp.empty((N, H), dtype=dt)
        HP = xp.empty((N, H), dtype=dt)
        HN = xp.empty((N, H), dtype=dt)  # W_hn h + b_hn
        tmp = xp.empty(3 * H * B, dtype=dt)
        mul, add, sub, tanh, matmul, copyto = xp.multiply, xp.add, xp.subtract, xp.tanh, xp.matmul, xp.copyto
        for a, b, bs in plan:
            hp = HP[a:b]
            copyto(hp, hbuf[:bs])
            gh = _hidden_product(matmul, whh_s, hp, tmp, bs)
            if not pre:
                mul(gh[:, :H2], 0.5, out=gh[:, :H2])
            rz = A[a:b, :H2]
            add(rz, gh[:, :H2], out=rz)
            tanh(rz, out=rz)
            mul(rz, 0.5, out=rz)
            add(rz, 0.5, out=rz)
            hn = HN[a:b]
            if bhn is not None:
                add(gh[:, H2:], bhn, out=hn)
            else:
                copyto(hn, gh[:, H2:])
            n = A[a:b, H2:]
            add(n, mul(rz[:, :H], hn, out=gh[:, :H]), out=n)
            tanh(n, out=n)
            h = out[a:b]
            sub(hp, n, out=h)
            mul(h, rz[:, H:], out=h)
            add(h, n, out=h)
            copyto(hbuf[:bs], h)
        ctx.save_for_backward(x, w_ih, w_hh, A, HP, HN)
        ctx.plan, ctx.who = plan, who
        return out, hbuf

    @staticmethod
    def backward(ctx, gout, ghn):
        if _GRAD[0]:
            _no_double_backward(ctx.who)
        x, w_ih, w_hh, A, HP, HN = ctx.saved_arrays
        need = ctx.needs_input_grad
        xp = array_module(A)
        gout, dh_rec = gout._data, ghn._data.copy()
        N, H = HP.shape
        H2 = 2 * H
        r, z, n = A[:, :H], A[:, H:H2], A[:, H2:]
        Kz = (HP - n) * (z * (1 - z))
        Kn = (1 - z) * (1 - n * n)
        Kr = HN * (r * (1 - r))
        R, Z = xp.ascontiguousarray(r), xp.ascontiguousarray(z)
        dG = xp.empty((N, 3 * H), dtype=A.dtype)  # hidden side: [dr, dz, dn * r]
        DN = xp.empty((N, H), dtype=A.dtype)      # dn (pre-activation)
        mul, add, matmul = xp.multiply, xp.add, xp.matmul
        for a, b, bs in reversed(ctx.plan):
            dh = add(gout[a:b], dh_rec[:bs])
            dn = DN[a:b]
            mul(dh, Kz[a:b], out=dG[a:b, H:H2])
            mul(dh, Kn[a:b], out=dn)
            mul(dn, Kr[a:b], out=dG[a:b, :H])
            mul(dn, R[a:b], out=dG[a:b, H2:])
            mul(dh, Z[a:b], out=dh)
            add(matmul(dG[a:b], w_hh, out=dh_rec[:bs]), dh, out=dh_rec[:bs])
        gw_hh = dG.T @ HP if need[3] else None
        gb_hh = dG.sum(0) if need[5] else None
        dG[:, H2:] = DN  # now the input side's gradient: [dr, dz, dn]
        gx = dG @ w_ih if need[0] else None
        gw_ih = dG.T @ x if need[2] else None
        gb_ih = dG.sum(0) if need[4] else None
        return gx, dh_rec if need[1] else None, gw_ih, gw_hh, gb_ih, gb_hh, None, None, None


# ---------------------------------------------------------------- Elman RNN
class RNNLayer(Function):
    """One Elman RNN layer-direction: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, relu, who):
        xp = array_module(x)
        dt = w_ih.dtype
        H = w_hh.shape[0]
        N, B = x.shape[0], batch_sizes[0]
        plan = _plan(batch_sizes, reverse)
        A = x @ w_ih.T  # (N, H): pre-activations, then the outputs in place
        if b_ih is not None:
            A += b_ih + b_hh
        hbuf = _state(xp, h0, B, H, dt)
        HP = xp.empty((N, H), dtype=dt)
        tmp = xp.empty(H * B, dtype=dt)
        add, matmul, copyto = xp.add, xp.matmul, xp.copyto
        act = xp.tanh if not relu else (lambda v, out: xp.maximum(v, 0, out=out))
        for a, b, bs in plan:
            hp = HP[a:b]
            copyto(hp, hbuf[:bs])
            g = A[a:b]
            add(g, _hidden_product(matmul, w_hh, hp, tmp, bs), out=g)
            act(g, out=g)
            copyto(hbuf[:bs], g)
        ctx.save_for_backward(x, w_ih, w_hh, A, HP)
        ctx.plan, ctx.relu, ctx.who = plan, relu, who
        return A, hbuf

    @staticmethod
    def backward(ctx, gout, ghn):
        if _GRAD[0]:
            _no_double_backward(ctx.who)
        x, w_ih, w_hh, A, HP = ctx.saved_arrays
        need = ctx.needs_input_grad
        xp = array_module(A)
        gout, dh_rec = gout._data, ghn._data.copy()
        D = (A > 0).astype(A.dtype) if ctx.relu else 1 - A * A
        dG = xp.empty_like(A)
        mul, add, matmul = xp.multiply, xp.add, xp.matmul
        for a, b, bs in reversed(ctx.plan):
            dh = add(gout[a:b], dh_rec[:bs])
            mul(dh, D[a:b], out=dG[a:b])
            matmul(dG[a:b], w_hh, out=dh_rec[:bs])
        gx = dG @ w_ih if need[0] else None
        gw_ih = dG.T @ x if need[2] else None
        gw_hh = dG.T @ HP if need[3] else None
        gb = dG.sum(0) if need[4] or need[5] else None
        return (gx, dh_rec if need[1] else None, gw_ih, gw_hh, gb if need[4] else None,
                _second(gb, need[4]) if need[5] else None, None, None, None, None)


# ---------------------------------------------------------------- entry points
def lstm_layer(input, hx, cx, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes, reverse=False, who="nn.LSTM"):
    """(output, h_n, c_n) of one LSTM layer-direction; `input` is packed (N, input_size)."""
    return LSTMLayer.apply(input, hx, cx, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes, reverse, who)


def gru_layer(input, hx, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse=False, who="nn.GRU"):
    return GRULayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, who)


def rnn_layer(input, hx, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse=False, relu=False, who="nn.RNN"):
    return RNNLayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, relu, who)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.lstm_cell: one step on a (B, input_size) batch; returns (h', c')."""
    h, c = hx
    out, _, c1 = LSTMLayer.apply(input, h, c, w_ih, w_hh, b_ih, b_hh, None, (input.shape[0],), False,
                                 "nn.LSTMCell")
    return out, c1


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return GRULayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh, (input.shape[0],), False, "nn.GRUCell")[0]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return RNNLayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh, (input.shape[0],), False, False, "nn.RNNCell")[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return RNNLayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh, (input.shape[0],), False, True, "nn.RNNCell")[0]


# ---------------------------------------------------------------- packing: row gather and scatter
class PackRows(Function):
    """x[idx] along dim 0 (distinct indices); its backward is PadRows, and PadRows' is PackRows."""

    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx, ctx.n_rows = idx, x.shape[0]
        return x[idx]

    @staticmethod
    def backward(ctx, g):
        if not _GRAD[0]:
            d = g._data
            out = array_module(d).zeros((ctx.n_rows,) + d.shape[1:], dtype=d.dtype)
            out[ctx.idx] = d
            return out, None
        return PadRows.apply(g, ctx.idx, ctx.n_rows, 0.0), None


class PadRows(Function):
    """An (n_rows, ...) array filled with `value`, with x's rows written at rows idx."""

    @staticmethod
    def forward(ctx, x, idx, n_rows, value):
        ctx.idx = idx
        out = array_module(x).full((n_rows,) + x.shape[1:], value, dtype=x.dtype)
        out[idx] = x
        return out

    @staticmethod
    def backward(ctx, g):
        if not _GRAD[0]:
            return g._data[ctx.idx], None, None, None
        return PackRows.apply(g, ctx.idx), None, None, None


def pack_rows(x, idx):
    """Rows idx of x (dim 0), as one node; idx holds distinct row numbers."""
    return PackRows.apply(x, idx)


def pad_rows(x, idx, n_rows, value=0.0):
    """An (n_rows, *x.shape[1:]) tensor of `value` with x's rows at rows idx, as one node."""
    return PadRows.apply(x, idx, n_rows, value)
