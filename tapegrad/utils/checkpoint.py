"""torch.utils.checkpoint: trade compute for memory. A checkpointed segment keeps no intermediate
values for backward; its backward runs the segment again (with the random state it had, so dropout
draws the same masks) and differentiates that.

Both of PyTorch's variants: use_reentrant=True (gradients reach what needs them only when some input
requires grad; keyword arguments refused) and use_reentrant=False (the segment's output requires grad
exactly when it would without checkpointing, e.g. through a module's parameters; keyword arguments
passed on). Leaving use_reentrant out warns and means True, as in PyTorch 2.13.
"""
import contextlib
import warnings

import numpy as np

from .. import autograd
from .._ops.random import get_rng_state, set_rng_state
from .._tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Recompute(autograd.Function):
    """forward: the segment's outputs, with no graph behind them (computed here without grad, or given,
    already computed). backward: run the segment again with grad and send the incoming gradients
    through that fresh graph (parameters inside accumulate their .grad there)."""

    @staticmethod
    def forward(ctx, run, rng_state, computed, anchor, *args):
        ctx.run, ctx.rng = run, rng_state
        ctx.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*(a for a in args if isinstance(a, Tensor)))
        outputs = run(*args) if computed is None else computed
        single = not isinstance(outputs, tuple)
        outputs = tuple(o.detach() if isinstance(o, Tensor) else o for o in ((outputs,) if single else outputs))
        ctx.mark_non_differentiable(*(o for o in outputs if isinstance(o, Tensor) and not o.is_floating_point()))
        return outputs[0] if single else outputs

    @staticmethod
    def backward(ctx, *grads):
        args = list(ctx.others)
        for i, t in zip(ctx.tensor_positions, ctx.saved_tensors):
            args[i] = t.detach().requires_grad_(t.requires_grad)
        with _rng_restored(ctx.rng), autograd.enable_grad():
            outputs = ctx.run(*args)
        outputs = (outputs,) if not isinstance(outputs, tuple) else outputs
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if pairs:
            autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None, None, None) + tuple(a.grad if isinstance(a, Tensor) else None for a in args)


@contextlib.contextmanager
def _rng_restored(state):
    """Run with the random state the forward had (so a dropout inside draws the same mask), then give
    back the state the caller had."""
    if state is None:
        yield
        return
    current = get_rng_state()
    set_rng_state(state)
    try:
        yield
    finally:
        set_rng_state(current)


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               early_stop=True, preserve_rng_state=True, **kwargs):
    """`function(*args, **kwargs)`, computed without keeping its intermediate values for backward."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default "
                      "behavior, you can pass use_reentrant=True.", UserWarning, stacklevel=2)
        use_reentrant = True
    if context_fn is not None:
        raise NotImplementedError("tapegrad does not implement torch.utils.checkpoint.checkpoint's context_fn")
    rng_state = get_rng_state() if preserve_rng_state else None
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if autograd.is_grad_enabled() and not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                          stacklevel=2)
        return _Recompute.apply(function, rng_state, None, None, *args)
    run = function if not kwargs else (lambda *a: function(*a, **kwargs))
    if not autograd.is_grad_enabled():
        return run(*args)
    # Whether the output needs a gradient (parameters inside count) is known only by running the segment
    # with grad; its graph is dropped once the outputs are detached. A leaf that requires grad, passed
    # along, puts the recomputing node in the graph whenever the output should be.
    outputs = run(*args)
    listed = outputs if isinstance(outputs, tuple) else (outputs,)
    if not any(isinstance(o, Tensor) and o.requires_grad for o in listed):
        return outputs
    anchor = Tensor._make(np.zeros((), np.float32)).requires_grad_()
    computed = tuple(o.detach() if isinstance(o, Tensor) else o for o in listed)  # no edge into that graph
    return _Recompute.apply(run, rng_state, computed if isinstance(outputs, tuple) else computed[0], anchor, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run `functions` (a Sequential or a list of modules) in `segments` checkpointed pieces; the last
    piece runs normally, as in PyTorch."""
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = len(functions) // segments
    end = -1

    def run_range(start, stop):
        def forward(x):
            for f in functions[start:stop + 1]:
                x = f(x)
            return x

        return forward

    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run_range(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run_range(end + 1, len(functions) - 1)(input)
