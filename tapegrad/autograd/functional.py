"""torch.autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp of a Python function, built on
autograd.grad (reverse mode; a jvp is the vjp of a vjp, as PyTorch computes it).

Inputs and the vector `v` may be a Tensor or a tuple of Tensors; results mirror that structure. Without
create_graph the results are detached; in strict mode an output independent of an input is an error,
otherwise its gradient is zeros.
"""
from .. import _tensor
from . import grad as _grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(x, what, fn):
    """(tuple of Tensors, whether `x` was a tuple), with PyTorch's message for anything else."""
    was_tuple = isinstance(x, tuple)
    items = x if was_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, _tensor.Tensor):
            if was_tuple:
                raise TypeError(f"The {what} given to {fn} must be either a Tensor or a tuple of Tensors but the "
                                f"value at index {i} has type {type(t)}.")
            raise TypeError(f"The {what} given to {fn} must be either a Tensor or a tuple of Tensors but the "
                            f"given {what} has type {type(t)}.")
    return items, was_tuple


def _prepare(inputs, create_graph):
    """Inputs to differentiate with respect to: fresh views that require grad (kept in the caller's graph
    only for create_graph)."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(True)
                 for t in inputs)


def _finish(items, create_graph, was_tuple):
    out = tuple(t if t is None or create_graph else t.detach() for t in items)
    return out if was_tuple else out[0]


def _vector(v, other, was_tuple, fn, what):
    """The vector of a vector product as a tuple matching `other` (outputs or inputs); None means ones,
    allowed only for a single one-element tensor."""
    if v is None:
        if len(other) != 1 or other[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if {what} a single Tensor with a single element.")
        return (other[0].new_ones(other[0].shape),)
    v, _ = _as_tuple(v, "v", fn)
    _check_v(v, other, was_tuple)
    return v


def _check_v(v, other, was_tuple):
    if len(v) != len(other):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a.shape != b.shape:
            prefix = f"Entry {i} in " if was_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.shape} but got {a.shape}.")


def _raw_grads(outputs, inputs, grad_outputs, create_graph):
    """autograd.grad of those `outputs` that require grad; None for an input they do not depend on."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=True, create_graph=create_graph,
                 allow_unused=True)


def _grads(outputs, inputs, grad_outputs, create_graph, strict):
    """_raw_grads, then PyTorch's strict-mode error for an unused input, or zeros for it."""
    result = []
    for i, (g, x) in enumerate(zip(_raw_grads(outputs, inputs, grad_outputs, create_graph), inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is "
                                   "not allowed in strict mode.")
            g = x.new_zeros(x.shape)
        result.append(g)
    return tuple(result)


def _call(func, inputs, fn):
    outputs, was_tuple = _as_tuple(func(*inputs), "outputs of the user-provided function", fn)
    return outputs, was_tuple


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at `inputs`."""
    inputs, in_tuple = _as_tuple(inputs, "inputs", "vjp")
    with enable_grad():
        x = _prepare(inputs, create_graph)
        outputs, out_tuple = _call(func, x, "vjp")
        v = _vector(v, outputs, out_tuple, "vjp", "the user-provided function returns")
        g = _grads(outputs, x, v, create_graph, strict)
    return _finish(outputs, create_graph, out_tuple), _finish(g, create_graph, in_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, as the vjp of a vjp (the double-backward trick)."""
    inputs, in_tuple = _as_tuple(inputs, "inputs", "jvp")
    v = _vector(v, inputs, in_tuple, "jvp", "the input to the user-provided function is")
    with enable_grad():
        x = _prepare(inputs, create_graph)
        outputs, out_tuple = _call(func, x, "jvp")
        # u^T J as a function of a dummy u; its gradient with respect to u, applied to v, is J v
        u = tuple(o.new_zeros(o.shape).requires_grad_(True) for o in outputs)
        ut_j = _grads(outputs, x, u, True, strict)
        used = [(g, w) for g, w in zip(ut_j, v) if g.requires_grad]
        if used:
            jv = _grad([g for g, _ in used], u, [w for _, w in used], create_graph=create_graph, allow_unused=True)
        else:
            jv = (None,) * len(u)
        jv = tuple(o.new_zeros(o.shape) if g is None else g for g, o in zip(jv, outputs))
        if strict and not used:
            raise RuntimeError("The output of the user-provided function is independent of input 0. This is not "
                               "allowed in strict mode.")
    return _finish(outputs, create_graph, out_tuple), _finish(jv, create_graph, out_tuple)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of `func` at `inputs`: one row of vector-Jacobian products per output element (a Tensor
    of shape output.shape + input.shape; tuples of them for tuple outputs or inputs)."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')  # PyTorch's type: an assert
    if strategy == "forward-mode":
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is only "
                                      "implemented for `vectorize=True`.")
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` and "
                                      "`strategy=\"forward-mode\"` are not supported together (yet). Please either "
                                      "set `create_graph=False` or `strategy=\"reverse-mode\"`.")
    # vectorize and forward-mode change how PyTorch computes the same matrix; here it is built row by row
    inputs, in_tuple = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        x = _prepare(inputs, create_graph)
        outputs, out_tuple = _call(func, x, "jacobian")
        blocks = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in x]
            flat = out.reshape(-1)
            for j in range(flat.numel()):
                g = _raw_grads((flat[j],), x, (flat.new_ones(()),), create_graph)
                for k, gk in enumerate(g):
                    if gk is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of input "
                                               f"{k}. This is not allowed in strict mode.")
                        gk = x[k].new_zeros(x[k].shape)
                    rows[k].append(gk)
            blocks.append(tuple(_stack_rows(r, out, t) for r, t in zip(rows, x)))
    blocks = [tuple(b if create_graph else b.detach() for b in row) for row in blocks]
    if out_tuple and in_tuple:
        return tuple(blocks)
    if out_tuple:
        return tuple(row[0] for row in blocks)
    return blocks[0] if in_tuple else blocks[0][0]


def _stack_rows(rows, out, x):
    from .._ops.movement import stack

    if rows:
        return stack(rows).reshape(tuple(out.shape) + tuple(x.shape))
    return x.new_zeros(tuple(out.shape) + tuple(x.shape))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    inputs, in_tuple = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def gradient(*x):
        out = func(*x)
        outs, was_tuple = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if was_tuple or len(outs) != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        g = _grads((out,), x, (out.new_ones(out.shape),), True, strict)
        return g if in_tuple else g[0]

    return jacobian(gradient, inputs if in_tuple else inputs[0], create_graph=create_graph, strict=strict,
                    vectorize=vectorize, strategy=outer_jacobian_strategy)


def _second_order(func, inputs, v, create_graph, strict, fn):
    inputs, in_tuple = _as_tuple(inputs, "inputs", fn)
    v = _vector(v, inputs, in_tuple, fn, "the input to the user-provided function is")
    with enable_grad():
        x = _prepare(inputs, create_graph)
        outputs, out_tuple = _call(func, x, fn)
        if out_tuple or len(outputs) != 1:
            raise RuntimeError(f"The function given to {fn} should return a single Tensor")
        out = outputs[0]
        if out.numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {fn} should contain a single element")
        g = _grads((out,), x, (out.new_ones(out.shape),), True, strict)
        # v^T H; H is symmetric for the twice-differentiable functions these are meant for, so it is H v too
        result = _grads(g, x, v, create_graph, strict)
    return _finish(outputs, create_graph, False), _finish(result, create_graph, in_tuple)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): the vector-Hessian product of a scalar function."""
    return _second_order(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian-vector product of a scalar function."""
    return _second_order(func, inputs, v, create_graph, strict, "hvp")
