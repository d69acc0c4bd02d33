"""embedding_bag: sums, means or maxima of bags of embedding rows without materialising the rows'
(bags, length, dim) tensor; PyTorch's torch.nn.functional.embedding_bag.

One fused node: forward and backward on raw arrays (np.add.at / reduceat over the bag ids); the
backward under create_graph is written with tapegrad operators (index_add, gather), so it is
differentiable again.
"""
import warnings

import numpy as np

from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.function import Function

__all__ = ["embedding_bag"]

_MODES = {"sum": 0, "mean": 1, "max": 2}


class EmbeddingBag(Function):
    """out[b] = reduce_{j in bag b} weight[idx[j]] * psw[j]; entries equal to padding_idx are left out."""

    @staticmethod
    def forward(ctx, weight, psw, idx, bag, n_bags, mode, padding_idx, scale_grad_by_freq):
        D = weight.shape[1]
        keep = None if padding_idx is None else idx != padding_idx
        kidx, kbag = (idx, bag) if keep is None else (idx[keep], bag[keep])
        rows = weight[kidx]
        kpsw = None
        if psw is not None:
            kpsw = psw if keep is None else psw[keep]
            rows = rows * kpsw[:, None]
        counts = np.bincount(kbag, minlength=n_bags)
        argmax = None
        if mode == 2:
            out = np.full((n_bags, D), -np.inf, dtype=weight.dtype)
            np.maximum.at(out, kbag, rows)
            out[counts == 0] = 0
            # the first entry of each bag holding the maximum, per dimension (where the gradient goes)
            pos = np.where(rows == out[kbag], np.arange(len(kbag))[:, None], len(kbag))
            argmax = np.full((n_bags, D), len(kbag), dtype=np.int64)
            np.minimum.at(argmax, kbag, pos)
        else:
            out = np.zeros((n_bags, D), dtype=weight.dtype)
            np.add.at(out, kbag, rows)
            if mode == 1:
                out /= np.maximum(counts, 1).astype(weight.dtype)[:, None]
        ctx.kidx, ctx.kbag, ctx.keep, ctx.kpsw, ctx.counts = kidx, kbag, keep, kpsw, counts
        ctx.mode, ctx.argmax, ctx.wshape, ctx.scale = mode, argmax, weight.shape, scale_grad_by_freq
        ctx.n = len(idx)
        ctx.idx = idx if scale_grad_by_freq else None
        ctx.save_for_backward(weight)
        return out

    @staticmethod
    def backward(ctx, g):
        (weight,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        kidx, kbag, mode = ctx.kidx, ctx.kbag, ctx.mode
        freq = _torch_freq(ctx.idx, ctx.wshape[0]) if ctx.scale else None
        if grad_mode.GRAD[0]:
            return _bag_backward_graph(ctx, weight, g, freq)
        gd = g._data
        gw = gpsw = None
        if mode == 2:
            valid = ctx.argmax < len(kbag)
            b, d = np.nonzero(valid)
            src = ctx.argmax[b, d]
            if need[0]:
                gw = np.zeros(ctx.wshape, gd.dtype)
                vals = gd[b, d]
                if freq is not None:
                    vals = vals / freq[kidx[src]]
                np.add.at(gw, (kidx[src], d), vals)
            return gw, None, None, None, None, None, None, None
        per = gd[kbag]
        if mode == 1:
            per = per / np.maximum(ctx.counts, 1).astype(gd.dtype)[kbag][:, None]
        if need[1] and ctx.kpsw is not None:
            gk = np.einsum("ij,ij->i", per, weight._data[kidx])
            gpsw = np.zeros(ctx.n, gd.dtype)
            if ctx.keep is None:
                gpsw = gk
            else:
                gpsw[ctx.keep] = gk
        if need[0]:
            if ctx.kpsw is not None:
                per = per * ctx.kpsw[:, None]
            if freq is not None:
                per = per / freq[kidx][:, None].astype(gd.dtype)
            gw = np.zeros(ctx.wshape, gd.dtype)
            np.add.at(gw, kidx, per)
        return gw, gpsw, None, None, None, None, None, None


def _torch_freq(idx, num_weights):
    """The count that PyTorch's CPU backward divides row v's gradient by under scale_grad_by_freq.
    Its loop over the groups of equal sorted indices reads counts[sorted[i]] (i: the group's number)
    instead of counts[sorted[start of group i]] (aten/src/ATen/native/EmbeddingBag.cpp), so a row is
    divided by the count of the index at the group's number in the sorted list, not by its own;
    the true frequency only when no index repeats before it. Reproduced for the same numbers."""
    counts = np.bincount(idx, minlength=num_weights)
    srt = np.sort(idx, kind="stable")
    uniq = np.unique(srt)
    freq = np.ones(num_weights, dtype=np.int64)
    freq[uniq] = counts[srt[:len(uniq)]]
    return freq


def _bag_backward_graph(ctx, weight, g, freq):
    from .indexing import index_add

    need = ctx.needs_input_grad
    kidx, kbag, mode = ctx.kidx, ctx.kbag, ctx.mode
    T = Tensor._make
    dt = g._data.dtype
    zeros = T(np.zeros(ctx.wshape, dt))
    if mode == 2:
        valid = ctx.argmax < len(kbag)
        b, d = np.nonzero(valid)
        src = ctx.argmax[b, d]
        vals = g[T(b), T(d)]
        if freq is not None:
            vals = vals / T(freq[kidx[src]].astype(dt))
        flat = index_add(zeros.reshape(-1), 0, T(kidx[src] * ctx.wshape[1] + d), vals)
        return flat.reshape(ctx.wshape), None, None, None, None, None, None, None
    per = g[T(kbag)]
    if mode == 1:
        per = per / T(np.maximum(ctx.counts, 1).astype(dt)[kbag][:, None])
    gpsw = None
    if need[1] and ctx.kpsw is not None:
        gk = (per * weight[T(kidx)]).sum(-1)
        if ctx.keep is None:
            gpsw = gk
        else:
            gpsw = index_add(T(np.zeros(ctx.n, dt)), 0, T(np.nonzero(ctx.keep)[0]), gk)
    gw = None
    if need[0]:
        if ctx.kpsw is not None:
            per = per * T(ctx.kpsw[:, None])
        if freq is not None:
            per = per / T(freq[kidx][:, None].astype(dt))
        gw = index_add(zeros, 0, T(kidx), per)
    return gw, gpsw, None, None, None, None, None, None


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Reduce (sum / mean / max) bags of rows of `weight`: `input` (B, N) holds B bags of N indices, or a
    1-D `input` is cut into bags at `offsets` (starts; with include_last_offset, the last offset is the
    end). `per_sample_weights` (input's shape, mode='sum' only) scales each row. Empty bags give zeros."""
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"embedding_bag(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if weight.dtype.name == "int64" and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, "
                      "input, ...)` is deprecated, and should now be `embedding_bag(input, weight, ...)`.",
                      stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"embedding_bag: expected input of an integer dtype (Long or Int), but got {input.dtype} "
                           f"of shape {list(idx.shape)}")
    psw = None if per_sample_weights is None else per_sample_weights
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        n_bags, L = idx.shape
        bag = np.repeat(np.arange(n_bags), L)
        idx = idx.reshape(-1)
        if psw is not None:
            psw = psw.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError(f"offsets has to be a 1D Tensor (got shape {list(offsets.shape)})")
        off = offsets._data.astype(np.int64)
        if off.size and off[0] != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                               f"position 0. However, got {int(off[0])}")
        if off.size and off[-1] > idx.size:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {idx.size} but got offsets[-1] "
                               f"of {int(off[-1])}")
        if off.size and (np.diff(off) < 0).any():
            raise RuntimeError(f"embedding_bag: offsets must be non-decreasing and at most the input's length "
                               f"({idx.size}); got {off.tolist()}")
        if include_last_offset:
            if off.size == 0:
                raise RuntimeError("embedding_bag: include_last_offset=True needs at least one offset")
            n_bags = off.size - 1
            starts = off[:-1]
        else:
            n_bags = off.size
            starts = off
        bag = np.searchsorted(starts, np.arange(idx.size), side="right") - 1
        if include_last_offset:
            inside = np.arange(idx.size) < off[-1]
            idx, bag = idx[inside], bag[inside]
            if psw is not None:
                psw = psw[Tensor._make(np.nonzero(inside)[0])]
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    nw = weight._data.shape[0]
    if idx.size and (idx.min() < -nw or idx.max() >= nw or idx.min() < 0):
        j = int(np.flatnonzero((idx < 0) | (idx >= nw))[0])
        raise RuntimeError(f"Index {j} of input takes value {int(idx[j])} which is not in the valid range [0, {nw}) "
                           f"(embedding_bag: index out of range in self)")
    if max_norm is not None:
        from .layers import _embedding_renorm_

        _embedding_renorm_(weight, idx, max_norm, norm_type)
    if psw is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    if padding_idx is not None:
        if not -nw <= padding_idx < nw:
            raise AssertionError(f"padding_idx must be within the number of embeddings, -{nw} through {nw - 1}, but "
                                 f"got {padding_idx}")
        padding_idx = padding_idx % nw
    return EmbeddingBag.apply(weight, psw, idx.astype(np.int64, copy=False), bag.astype(np.int64, copy=False),
                              int(n_bags), _MODES[mode], padding_idx, bool(scale_grad_by_freq))
