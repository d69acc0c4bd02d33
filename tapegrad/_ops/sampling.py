"""Sampled softmax and noise-contrastive estimation (NCE): training losses for large vocabularies
that score the target class against a few sampled classes instead of all of them.

PyTorch has no such functions; these follow TensorFlow's tf.nn.sampled_softmax_loss and
tf.nn.nce_loss (Jean et al., 2015; Mnih and Teh, 2012) with PyTorch's conventions (input first,
weight (num_classes, dim) as nn.Linear / nn.Embedding store it, `reduction`, `generator`). Both
are composites of tapegrad operators, so their gradients come from the operators they are made of.

Worked example: a language model's last hidden states h (N, D), an output embedding W (V, D) and
bias b (V,) as an nn.Linear(D, V) holds them, and the next tokens y (N,):

    import tapegrad as torch
    import tapegrad.nn.functional as F

    V, D, N = 50000, 256, 512
    head = torch.nn.Linear(D, V)
    h = torch.randn(N, D, requires_grad=True)
    y = torch.randint(0, V, (N,))            # token ids sorted by frequency (0 = most frequent)

    # training: 64 sampled negatives instead of a 50000-way softmax
    loss = F.sampled_softmax_loss(h, head.weight, head.bias, y, num_sampled=64, num_classes=V)
    loss.backward()                          # gradients reach only the rows of head.weight used

    # or NCE's logistic loss with the same samples
    loss = F.nce_loss(h, head.weight, head.bias, y, num_sampled=64, num_classes=V)

    # evaluation: the full softmax, as usual
    full = F.cross_entropy(head(h), y)

The sampler draws `num_sampled` classes once per call, shared by the batch, from a log-uniform
(Zipfian) distribution P(c) = log((c + 2) / (c + 1)) / log(V + 1) by default, which suits word ids
sorted by decreasing frequency; "uniform" or a tensor of unnormalised class weights (e.g. unigram
counts ** 0.75) are the alternatives. Logits are corrected by subtracting log of each class's
expected count under the sampler, so the loss is a consistent estimate of the full softmax's.
Pass `sampled=(ids, true_expected_count, sampled_expected_count)` from `candidate_sampler` to reuse
or fix the samples (tests do this to compare against a direct computation).
"""
import math

import numpy as np

from .._tensor import Tensor

__all__ = ["candidate_sampler", "sampled_softmax_loss", "nce_loss"]


def _class_probs(sampler, num_classes):
    if isinstance(sampler, str):
        if sampler == "log_uniform":
            c = np.arange(num_classes, dtype=np.float64)
            return np.log((c + 2.0) / (c + 1.0)) / math.log(num_classes + 1.0)
        if sampler == "uniform":
            return np.full(num_classes, 1.0 / num_classes)
        raise ValueError(f"sampler must be 'log_uniform', 'uniform' or a tensor of class weights, got '{sampler}'")
    w = np.asarray(sampler._data if isinstance(sampler, Tensor) else sampler, dtype=np.float64).reshape(-1)
    if w.shape[0] != num_classes:
        raise ValueError(f"sampler weights must have one entry per class: got {w.shape[0]} for num_classes="
                         f"{num_classes}")
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("sampler weights must be non-negative with a positive sum")
    return w / w.sum()


def candidate_sampler(target, num_sampled, num_classes, sampler="log_uniform", unique=True, generator=None):
    """Draw `num_sampled` class ids shared by the batch. Returns (sampled ids (S,) int64, expected count of each
    target (target's shape), expected count of each sampled id (S,)), the counts as float64 NumPy-backed
    tensors. unique=True samples without replacement (expected count 1 - (1 - p)^tries, tries being the
    number of draws it took, as TensorFlow estimates it); unique=False with replacement (S * p)."""
    from .random import _rng

    if num_sampled <= 0:
        raise ValueError(f"num_sampled must be positive, got {num_sampled}")
    if unique and num_sampled > num_classes:
        raise ValueError(f"cannot sample {num_sampled} unique classes out of num_classes={num_classes}")
    p = _class_probs(sampler, num_classes)
    rng = _rng(generator)
    if unique:
        # draw with replacement until num_sampled distinct ids appear; count the draws
        seen, order, tries = set(), [], 0
        while len(order) < num_sampled:
            batch = rng.choice(num_classes, size=max(2 * (num_sampled - len(order)), 16), p=p)
            for c in batch.tolist():
                tries += 1
                if c not in seen:
                    seen.add(c)
                    order.append(c)
                    if len(order) == num_sampled:
                        break
        ids = np.asarray(order, dtype=np.int64)

        def expected(q):
            return -np.expm1(tries * np.log1p(-np.minimum(q, 1 - 1e-12)))
    else:
        ids = rng.choice(num_classes, size=num_sampled, p=p).astype(np.int64)

        def expected(q):
            return num_sampled * q
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    return Tensor._make(ids), Tensor._make(expected(p[t])), Tensor._make(expected(p[ids]))


def _check(input, weight, bias, target, op):
    for name, t in (("input", input), ("weight", weight), ("target", target)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if input.dim() != 2 or weight.dim() != 2 or input.shape[1] != weight.shape[1]:
        raise RuntimeError(f"{op}: expected input (N, D) and weight (num_classes, D), got input "
                           f"{list(input.shape)} and weight {list(weight.shape)}")
    if target.dim() != 1 or target.shape[0] != input.shape[0] or target.dtype.name != "int64":
        raise RuntimeError(f"{op}: expected target (N,) of int64 class ids for input {list(input.shape)}, got "
                           f"{target.dtype} of shape {list(target.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"{op}: bias must have shape ({weight.shape[0]},), got {list(bias.shape)}")


def _logits(input, weight, bias, target, num_sampled, num_classes, sampler, remove_accidental_hits, sampled,
            generator, op):
    """(true logits (N, 1), sampled logits (N, S)), both corrected by log expected counts."""
    _check(input, weight, bias, target, op)
    if num_classes is None:
        num_classes = weight.shape[0]
    t = target._data
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        raise IndexError(f"{op}: target ids must be in [0, {num_classes}), got [{int(t.min())}, {int(t.max())}]")
    if sampled is None:
        sampled = candidate_sampler(target, num_sampled, num_classes, sampler, generator=generator)
    ids, true_count, samp_count = sampled
    dt = input._data.dtype
    true_w = weight[target]                                          # (N, D)
    true_logit = (input * true_w).sum(1, keepdim=True)               # (N, 1)
    samp_w = weight[ids]                                             # (S, D)
    samp_logit = input.matmul(samp_w.t())                           # (N, S)
    if bias is not None:
        true_logit = true_logit + bias[target].unsqueeze(1)
        samp_logit = samp_logit + bias[ids]
    true_logit = true_logit - Tensor._make(np.log(true_count._data).astype(dt)[:, None])
    samp_logit = samp_logit - Tensor._make(np.log(samp_count._data).astype(dt)[None, :])
    if remove_accidental_hits:
        hits = t[:, None] == ids._data[None, :]
        if hits.any():
            samp_logit = samp_logit.masked_fill(Tensor._make(hits), float(np.finfo(dt).min))
    return true_logit, samp_logit


def sampled_softmax_loss(input, weight, bias, target, num_sampled, num_classes=None, *, sampler="log_uniform",
                         remove_accidental_hits=True, reduction="mean", sampled=None, generator=None):
    """Cross entropy of the target against `num_sampled` sampled classes (sampled softmax).

    input (N, D) hidden states; weight (num_classes, D) and bias (num_classes,) or None: the output layer
    (an nn.Linear's); target (N,) int64. Each row's logits are [target, sampled...], each minus the log
    of its expected count under the sampler; sampled ids equal to the row's target are masked out
    (remove_accidental_hits). reduction: 'mean' | 'sum' | 'none'. See the module docstring for an example.
    """
    from .loss import cross_entropy
    from .movement import cat

    true_logit, samp_logit = _logits(input, weight, bias, target, num_sampled, num_classes, sampler,
                                      remove_accidental_hits, sampled, generator, "sampled_softmax_loss")
    logits = cat([true_logit, samp_logit], 1)
    zeros = Tensor._make(np.zeros(input.shape[0], dtype=np.int64))
    return cross_entropy(logits, zeros, reduction=reduction)


def nce_loss(input, weight, bias, target, num_sampled, num_classes=None, *, sampler="log_uniform",
             remove_accidental_hits=False, reduction="mean", sampled=None, generator=None):
    """Noise-contrastive estimation: logistic loss telling the target (label 1) from `num_sampled` noise
    classes (label 0), each logit minus the log of its expected count under the noise sampler.

    Arguments as in sampled_softmax_loss; per row the loss is
    softplus(-true_logit) + sum_s softplus(sampled_logit_s). reduction: 'mean' | 'sum' | 'none'.
    """
    from .activation import softplus

    true_logit, samp_logit = _logits(input, weight, bias, target, num_sampled, num_classes, sampler,
                                      remove_accidental_hits, sampled, generator, "nce_loss")
    per_row = softplus(-true_logit).squeeze(1) + softplus(samp_logit).sum(1)
    if reduction == "mean":
        return per_row.mean()
    if reduction == "sum":
        return per_row.sum()
    if reduction == "none":
        return per_row
    raise ValueError(f"{reduction} is not a valid value for reduction")
