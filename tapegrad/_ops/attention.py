"""Attention operators: scaled_dot_product_attention (one fused node) and multi_head_attention_forward.

`_Attention` computes softmax(q k^T * scale + mask) [dropout] v in one node on raw arrays, with
batched matrix products; its backward is hand-written on raw arrays when no graph of the gradient
is wanted (the FlashAttention identity sum_j P_ij dP_ij = g_i . out_i saves a pass over the
scores), and written with tapegrad operators from the saved q, k, v otherwise (create_graph), so
gradients of gradients work. `_attention_reference` is the same computation as a composite of
tapegrad operators: the graph-mode backward and a test oracle.

Masks follow PyTorch: a boolean `attn_mask` is True where attention is allowed, a float one is
added to the scores; `is_causal` allows key j for query i when j <= i (top-left aligned). Rows with
nothing allowed give zeros in scaled_dot_product_attention (as PyTorch's CPU kernels do) and NaN in
the need_weights path of multi_head_attention_forward (a plain softmax, as PyTorch's).
"""
import math
import warnings

import numpy as np

from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.function import Function
from .. import amp as _amp

_AUTOCAST = _amp.AUTOCAST

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward", "_canonical_mask", "_none_or_dtype",
           "_mha_shape_check", "_in_projection_packed", "_in_projection"]

_CNAME = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
          "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
          "bool": "bool"}


def _cname(arr):
    return _CNAME.get(arr.dtype.name, arr.dtype.name)


def _sh(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


_CAUSAL_DROP = {}


def _causal_drop(L, S):
    """(L, S) bool, True above the diagonal: the keys query i may not see (cached, read-only)."""
    key = (L, S)
    m = _CAUSAL_DROP.get(key)
    if m is None:
        m = ~np.tri(L, S, 0, dtype=bool)
        m.flags.writeable = False
        if len(_CAUSAL_DROP) > 64:
            _CAUSAL_DROP.clear()
        _CAUSAL_DROP[key] = m
    return m


def _swap(a):
    return np.swapaxes(a, -1, -2)


def _probs(q, k, mask, scale, causal, safe):
    """softmax(q k^T * scale + mask) on raw arrays (a fresh array, computed in place)."""
    s = np.matmul(q, _swap(k))
    s *= s.dtype.type(scale)
    if mask is not None:
        if mask.dtype == np.bool_:
            if s.shape != np.broadcast_shapes(s.shape, mask.shape):
                s = np.broadcast_to(s, np.broadcast_shapes(s.shape, mask.shape)).copy()
            np.copyto(s, -np.inf, where=~mask)
        elif s.shape == np.broadcast_shapes(s.shape, mask.shape):
            s += mask
        else:
            s = s + mask
    if causal:
        np.copyto(s, -np.inf, where=_causal_drop(s.shape[-2], s.shape[-1]))
    if s.size == 0:
        return s
    m = s.max(axis=-1, keepdims=True)
    if safe:
        m[np.isneginf(m)] = 0  # a row with every key masked: exp gives zeros, not NaN
        s -= m
    else:
        with np.errstate(invalid="ignore"):  # such a row gives NaN, silently (a plain softmax, as PyTorch)
            s -= m
    np.exp(s, out=s)
    z = s.sum(axis=-1, keepdims=True)
    if safe:
        z[z == 0] = np.inf  # 0 / inf = 0: the row's probabilities (and output) are zeros
    s /= z
    return s


class _Attention(Function):
    """out = dropout(softmax(q k^T * scale + mask)) v; optionally also returns the (dropped-out) weights."""

    @staticmethod
    def forward(ctx, q, k, v, mask, drop, scale, causal, safe, with_weights):
        p = _probs(q, k, mask, scale, causal, safe)
        pd = p * drop if drop is not None else p
        out = np.matmul(pd, v)
        ctx.drop, ctx.scale, ctx.causal, ctx.safe = drop, scale, causal, safe
        ctx.set_materialize_grads(False)
        # p is saved like the tensors (version-checked): it is the weights output when there is no dropout
        ctx.save_for_backward(q, k, v, out, mask, p)
        if with_weights:
            return out, pd
        return out

    @staticmethod
    def backward(ctx, g, gw=None):
        q, k, v, out, mask, p = ctx.saved_tensors
        need = ctx.needs_input_grad
        if g is None and gw is None:
            return (None,) * 9
        if grad_mode.GRAD[0]:
            return _attention_backward_graph(ctx, q, k, v, mask, g, gw) + (None,) * 5
        p, drop = p._data, ctx.drop
        qd, kd, vd = q._data, k._data, v._data
        pd = p * drop if drop is not None else p
        gq = gk = gv = gm = None
        if g is not None:
            gd = g._data
            if need[2]:
                gv = np.matmul(_swap(pd), gd)
            dp = np.matmul(gd, _swap(vd))
            # sum_j P_ij dP_ij = g_i . out_i (FlashAttention's identity; exact with dropout too)
            r = np.einsum("...i,...i->...", gd, out._data)[..., None] if gd.size else np.zeros(dp.shape[:-1] + (1,),
                                                                                                 dp.dtype)
            if gw is not None:
                gwd = gw._data
                dp = dp + gwd
                r = r + (pd * gwd).sum(-1, keepdims=True)
        else:
            dp = gw._data.copy()
            r = (pd * dp).sum(-1, keepdims=True)
        if need[0] or need[1] or need[3]:
            if drop is not None:
                dp *= drop
            dp -= r
            dp *= p  # dS = P * (dP - r)
            sc = dp.dtype.type(ctx.scale)
            if need[0]:
                gq = np.matmul(dp, kd)
                gq *= sc
            if need[1]:
                gk = np.matmul(_swap(dp), qd)
                gk *= sc
            if need[3]:
                gm = dp
        return gq, gk, gv, gm, None, None, None, None, None


_Attention._backward_name = "ScaledDotProductFlashAttentionForCpuBackward0"


def _masked_scores(q, k, mask, scale, causal):
    """q k^T * scale with the mask applied, as tapegrad operators (mask: None, a bool array, or a float
    Tensor or array); and the rows with no key allowed (a bool array)."""
    from .linalg import matmul

    s = matmul(q, k.mT) * scale
    if mask is not None:
        if isinstance(mask, Tensor):
            s = s + mask
        elif mask.dtype == np.bool_:
            s = s.masked_fill(Tensor._make(~mask), -math.inf)
        else:
            s = s + Tensor._make(mask)
    if causal:
        s = s.masked_fill(Tensor._make(_causal_drop(s.shape[-2], s.shape[-1])), -math.inf)
    return s, np.isneginf(s._data).all(-1, keepdims=True)


def _attention_reference(q, k, v, mask=None, drop=None, scale=1.0, causal=False, safe=True):
    """_Attention from tapegrad operators: (out, weights). `mask`: None, a bool array (True = may attend), or a
    float Tensor or array (added); `drop`: None or the scaled keep-mask array."""
    from .linalg import matmul
    from .reduce import softmax

    s, dead = _masked_scores(q, k, mask, scale, causal)
    if safe and dead.any():
        dt = Tensor._make(dead)
        p = softmax(s.masked_fill(dt, 0.0), -1).masked_fill(dt, 0.0)
    else:
        p = softmax(s, -1)
    pd = p * Tensor._make(drop) if drop is not None else p
    return matmul(pd, v), pd, p


def _attention_backward_graph(ctx, q, k, v, mask, g, gw):
    """The backward of _Attention written with tapegrad operators (differentiable again)."""
    from .linalg import matmul

    need = ctx.needs_input_grad
    if mask is not None and mask._data.dtype == np.bool_:
        mask = mask._data
    drop = None if ctx.drop is None else Tensor._make(ctx.drop)
    _, pd, p = _attention_reference(q, k, v, mask, ctx.drop, ctx.scale, ctx.causal, ctx.safe)
    gv = dpd = None
    if g is not None:
        if need[2]:
            gv = matmul(pd.mT, g)
        dpd = matmul(g, v.mT)
    if gw is not None:
        dpd = gw if dpd is None else dpd + gw
    dp = dpd * drop if drop is not None else dpd
    ds = p * (dp - (dp * p).sum(-1, keepdim=True))
    gq = matmul(ds, k) * ctx.scale if need[0] else None
    gk = matmul(ds.mT, q) * ctx.scale if need[1] else None
    return gq, gk, gv, ds if need[3] else None


# ---------------------------------------------------------------- scaled_dot_product_attention
def _check_qkv(query, key, value, op):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    qd, kd, vd = query._data, key._data, value._data
    if qd.ndim < 2 or kd.ndim < 2 or vd.ndim < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{qd.ndim} key.dim: {kd.ndim} and value.dim: {vd.ndim} instead.")
    if not (qd.dtype == kd.dtype == vd.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: {_cname(qd)} "
                           f"key.dtype: {_cname(kd)} and value.dtype: {_cname(vd)} instead.")
    if qd.dtype.kind != "f" and qd.dtype.name != "bfloat16":
        raise RuntimeError(f"{op}: expected query, key and value of a floating point dtype, but got {_cname(qd)}")
    where = f"query {_sh(qd.shape)}, key {_sh(kd.shape)}, value {_sh(vd.shape)}"
    if qd.shape[-1] != kd.shape[-1]:
        raise RuntimeError(f"Expected query and key to have the same embedding size, but got query.size(-1): "
                           f"{qd.shape[-1]} and key.size(-1): {kd.shape[-1]} ({op}: {where})")
    if kd.shape[-2] != vd.shape[-2]:
        raise RuntimeError(f"Expected key and value to have the same sequence length, but got key.size(-2): "
                           f"{kd.shape[-2]} and value.size(-2): {vd.shape[-2]} ({op}: {where})")
    return where


def _broadcast_or_raise(shapes, what):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        a, b = shapes[0], shapes[1]
        n = max(len(a), len(b))
        a1, b1 = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        for i in range(n - 1, -1, -1):
            if a1[i] != b1[i] and a1[i] != 1 and b1[i] != 1:
                raise RuntimeError(f"The size of tensor a ({a1[i]}) must match the size of tensor b ({b1[i]}) at "
                                   f"non-singleton dimension {i} ({what})") from None
        raise


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, PyTorch's torch.nn.functional.scaled_dot_product_attention.

    query (N..., L, E), key (N..., S, E), value (N..., S, Ev) -> (N..., L, Ev). `attn_mask`: bool (True =
    may attend) or float (added to the scores), broadcastable to (N..., L, S). `is_causal`: key j is
    visible to query i when j <= i. `dropout_p`: dropout on the attention weights (always applied when
    > 0, as in PyTorch: pass 0 in eval). `scale` defaults to 1/sqrt(E). `enable_gqa`: key and value may
    have fewer heads (dim -3) than query, each shared by a group of query heads.
    """
    op = "scaled_dot_product_attention"
    if _AUTOCAST[0] is not None:  # inside torch.autocast: computed in the autocast dtype (tapegrad/amp.py)
        query, key, value = _amp._cast(query, key, value)
        if attn_mask is not None and isinstance(attn_mask, Tensor) and attn_mask.dtype.name != "bool":
            attn_mask = _amp._cast(attn_mask)[0]
    where = _check_qkv(query, key, value, op)
    qd, kd = query._data, key._data
    if enable_gqa and qd.ndim >= 3 and kd.shape[-3] != qd.shape[-3]:
        hq, hk, hv = qd.shape[-3], kd.shape[-3], value._data.shape[-3]
        if hq % hk or hk != hv:
            raise RuntimeError(f"{op}: with enable_gqa=True, the number of query heads ({hq}) must be a multiple of "
                               f"the number of key heads ({hk}) and key and value must have the same number of "
                               f"heads ({hv}); {where}")
        key, value = _repeat_heads(key, hq // hk), _repeat_heads(value, hq // hk)
        kd = key._data
    sshape = _broadcast_or_raise([qd.shape[:-2], kd.shape[:-2], value._data.shape[:-2]],
                                 f"{op}: batch dimensions of query, key and value do not broadcast; {where}")
    sshape = tuple(sshape) + (qd.shape[-2], kd.shape[-2])
    mask = None
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"{op}(): argument 'attn_mask' must be Tensor, not {type(attn_mask).__name__}")
        md = attn_mask._data
        if md.dtype != np.bool_ and md.dtype != qd.dtype:
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                               f"attn_mask.dtype: {_cname(md)} and  query.dtype: {_cname(qd)} instead.")
        full = _broadcast_or_raise([sshape, md.shape], f"{op}: attn_mask of shape {_sh(md.shape)} must broadcast "
                                   f"to the attention scores' shape {_sh(sshape)} = (N..., L, S); {where}")
        if tuple(full) != sshape:
            raise RuntimeError(f"{op}: attn_mask of shape {_sh(md.shape)} broadcasts to {_sh(full)}, larger than the "
                               f"attention scores' shape {_sh(sshape)} = (N..., L, S); {where}")
        mask = attn_mask
    if scale is None:
        scale = 1.0 / math.sqrt(qd.shape[-1]) if qd.shape[-1] else 1.0
    drop = None
    if dropout_p > 0.0:
        if dropout_p >= 1.0:
            drop = np.zeros((), qd.dtype)
        else:
            from .layers import _keep_mask

            drop = _keep_mask(query, dropout_p, sshape).astype(qd.dtype)
            drop *= drop.dtype.type(1.0 / (1.0 - dropout_p))
    if mask is not None and mask._data.dtype != np.bool_ and mask._rg:
        return _Attention.apply(query, key, value, mask, drop, float(scale), bool(is_causal), True, False)
    return _Attention.apply(query, key, value, None if mask is None else mask._data, drop, float(scale),
                            bool(is_causal), True, False)


def _repeat_heads(t, n):
    """(..., H, S, E) -> (..., H * n, S, E), each head repeated n times in a row (repeat_interleave)."""
    shape = tuple(t.shape)
    return t.unsqueeze(-3).expand(shape[:-2] + (n,) + shape[-2:]).reshape(shape[:-3] + (shape[-3] * n,) +
                                                                            shape[-2:])


# ---------------------------------------------------------------- multi-head attention
def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask (True = masked out) becomes a float one with -inf; a float mask is returned as it is."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{mask_name} must be a Tensor, not {type(mask).__name__}")
    is_float = mask.is_floating_point()
    if mask.dtype.name != "bool" and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported (got {mask.dtype} of "
                             f"shape {_sh(mask.shape)})")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    if not is_float:
        arr = np.zeros(mask._data.shape, dtype=target_type.np)
        arr[mask._data] = -np.inf
        return Tensor._make(arr)
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead (shape "
                                 f"{_sh(key_padding_mask.shape)})")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.dim()}-D tensor instead (shape {_sh(attn_mask.shape)})")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead (shape "
                                 f"{_sh(key_padding_mask.shape)})")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.dim()}-D tensor instead (shape {_sh(attn_mask.shape)})")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                         f"tensor (shape {_sh(query.shape)})")


def _in_projection_packed(q, k, v, w, b=None):
    from .layers import linear

    E = q.size(-1)
    if k is v:
        if q is k:
            proj = linear(q, w, b)
            return tuple(proj.chunk(3, -1))
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        kv = linear(k, w_kv, b_kv).chunk(2, -1)
        return linear(q, w_q, b_q), kv[0], kv[1]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    from .layers import linear

    Eq, Ek, Ev = q.size(-1), k.size(-1), v.size(-1)
    if tuple(w_q.shape) != (Eq, Eq):
        raise AssertionError(f"expecting query weights shape of {(Eq, Eq)}, but got {w_q.shape}")
    if tuple(w_k.shape) != (Eq, Ek):
        raise AssertionError(f"expecting key weights shape of {(Eq, Ek)}, but got {w_k.shape}")
    if tuple(w_v.shape) != (Eq, Ev):
        raise AssertionError(f"expecting value weights shape of {(Eq, Ev)}, but got {w_v.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """PyTorch's F.multi_head_attention_forward: inputs (L, N, E) (or unbatched (L, E)), masks as in
    nn.MultiheadAttention (bool True = masked out, or float added)."""
    from .creation import zeros
    from .layers import linear, pad
    from .movement import cat

    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask",
                                       query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention builds the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim} "
                             f"(query of shape {_sh(query.shape)})")
    where = (f"(MultiheadAttention: target length L={tgt_len}, source length S={src_len}, batch N={bsz}, "
             f"num_heads={num_heads}; masks are (L, S) or (N * num_heads, L, S), key_padding_mask (N, S))")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but q_proj_weight, k_proj_weight or v_proj_weight "
                                 "is None")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, b_q, b_k, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}. {where}")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}. {where}")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k is set but bias_v is None" if bias_k is not None else
                             "bias_v is set but bias_k is None")

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    if static_k is None:
        k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if static_k.size(0) != bsz * num_heads or static_k.size(2) != head_dim:
            raise AssertionError(f"expecting static_k of shape ({bsz * num_heads}, S, {head_dim}), but got "
                                 f"{_sh(static_k.shape)}")
        k = static_k
    if static_v is None:
        v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if static_v.size(0) != bsz * num_heads or static_v.size(2) != head_dim:
            raise AssertionError(f"expecting static_v of shape ({bsz * num_heads}, S, {head_dim}), but got "
                                 f"{_sh(static_v.shape)}")
        v = static_v
    if add_zero_attn:
        shape = (bsz * num_heads, 1, head_dim)
        k = cat([k, zeros(shape, dtype=k.dtype)], 1)
        v = cat([v, zeros(shape, dtype=v.dtype)], 1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.size(1)
    if key_padding_mask is not None:
        for i, want in enumerate((bsz, src_len)):
            if key_padding_mask.shape[i] != want:
                raise AssertionError(f"Expected key_padded_mask.shape[{i}] to be {want}, but got "
                                     f"{key_padding_mask.shape[i]} (key_padding_mask of shape "
                                     f"{_sh(key_padding_mask.shape)}) {where}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1).reshape(
            bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    drop = None
    if dropout_p > 0.0:
        from .layers import _keep_mask

        shape = (bsz * num_heads, tgt_len, src_len)
        drop = _keep_mask(q, dropout_p, shape).astype(q._data.dtype) if dropout_p < 1 else np.zeros((), q._data.dtype)
        if dropout_p < 1:
            drop *= drop.dtype.type(1.0 / (1.0 - dropout_p))
    if need_weights:
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        m = attn_mask if attn_mask is not None and attn_mask._rg else (None if attn_mask is None else attn_mask._data)
        out, weights = _Attention.apply(q, k, v, m, drop, 1.0 / math.sqrt(head_dim) if head_dim else 1.0, False,
                                        False, True)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    if drop is not None and drop.ndim:
        drop = drop.reshape(bsz, num_heads, tgt_len, src_len)
    m = attn_mask if attn_mask is not None and attn_mask._rg else (None if attn_mask is None else attn_mask._data)
    out = _Attention.apply(q, k, v, m, drop, 1.0 / math.sqrt(head_dim) if head_dim else 1.0, bool(is_causal), True,
                           False)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not is_batched:
        out = out.squeeze(1)
    return out, None

