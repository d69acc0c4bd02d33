"""gradcheck and gradgradcheck: analytical gradients against central finite differences."""
import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _outputs(fn, inputs, keep=None):
    """The floating-point outputs of fn(*inputs); with `keep` (a mask over them), only those it marks."""
    from .._tensor import Tensor

    outs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.is_floating_point()]
    return outs if keep is None else [o for o, k in zip(outs, keep) if k]


def _flat_outputs(fn, inputs, keep):
    return np.concatenate([o._data.reshape(-1).astype(np.float64) for o in _outputs(fn, inputs, keep)] or
                          [np.zeros(0)])


def _numerical_jacobians(fn, inputs, diff_idx, eps, keep=None):
    """Per differentiable input: a (n_in, n_out_total) matrix of d(outputs)/d(input)."""
    jacs = []
    if True:  # the function may differentiate internally (gradgradcheck), so grad mode stays on
        for i in diff_idx:
            x = inputs[i]._data
            flat = x.reshape(-1)  # a view when x is contiguous; copy otherwise and write back
            cols = []
            for k in range(x.size):
                orig = flat[k]
                flat[k] = orig + eps
                inputs[i]._data = flat.reshape(x.shape)
                plus = _flat_outputs(fn, inputs, keep)
                flat[k] = orig - eps
                inputs[i]._data = flat.reshape(x.shape)
                minus = _flat_outputs(fn, inputs, keep)
                flat[k] = orig
                inputs[i]._data = flat.reshape(x.shape)
                cols.append((plus - minus) / (2 * eps))
            inputs[i]._data = x
            n_out = cols[0].size if cols else 0
            jacs.append(np.stack(cols) if cols else np.zeros((0, n_out)))
    return jacs


def _analytical_jacobians(fn, inputs, diff_idx, keep=None):
    from . import grad as autograd_grad
    from .._tensor import Tensor

    outs = _outputs(fn, inputs, keep)
    sizes = [o._data.size for o in outs]
    total = sum(sizes)
    jacs = [np.zeros((inputs[i]._data.size, total)) for i in diff_idx]
    col = 0
    for o, n in zip(outs, sizes):
        for k in range(n):
            g = np.zeros(n, dtype=o._data.dtype)
            g[k] = 1
            grads = autograd_grad(o, [inputs[i] for i in diff_idx], Tensor._make(g.reshape(o._data.shape)),
                                  retain_graph=True, allow_unused=True) if o._rg else [None] * len(diff_idx)
            for j, gi in enumerate(grads):
                if gi is not None:
                    jacs[j][:, col] = gi._data.reshape(-1)
            col += 1
    return jacs


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """torch.autograd.gradcheck: compare analytical and numerical Jacobians of `func` at `inputs`."""
    from .._tensor import Tensor

    inputs = list(_as_tuple(inputs))
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them "
                         "have requires_grad=True.")
    for i in diff_idx:
        if inputs[i].dtype.name != "float64":
            import warnings

            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. This check "
                          "will likely fail if all the inputs are not of double precision floating point.")
    # as PyTorch: outputs that do not require grad (running statistics, ...) are left out, unless none does
    # (then every numerical Jacobian must be zero)
    keep = [o.requires_grad for o in _outputs(func, inputs)]
    keep = keep if any(keep) else None
    analytical = _analytical_jacobians(func, inputs, diff_idx, keep)
    numerical = _numerical_jacobians(func, inputs, diff_idx, eps, keep)
    for j, (a, n) in enumerate(zip(analytical, numerical)):
        if a.size == 0 and n.size == 0:
            continue
        if a.shape != n.shape or not np.allclose(a, n, rtol=rtol, atol=atol):
            msg = (f"Jacobian mismatch for output 0 with respect to input {diff_idx[j]},\n"
                   f"numerical:{n}\nanalytical:{a}\n")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """torch.autograd.gradgradcheck: gradcheck of the gradient of `func` (built with create_graph=True)."""
    from . import grad as autograd_grad
    from .._tensor import Tensor

    inputs = list(_as_tuple(inputs))
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._make(rng.standard_normal(o._data.shape)).requires_grad_() for o in outs]
    grad_outputs = list(_as_tuple(grad_outputs))
    n_in = len(inputs)

    def first_grad(*args):
        ins, gos = list(args[:n_in]), list(args[n_in:])
        outs = _outputs(func, ins)
        pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
        if not pairs:
            return ()
        d = [x for x in ins if isinstance(x, Tensor) and x.requires_grad]
        grads = autograd_grad([o for o, _ in pairs], d, [g for _, g in pairs], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_grad, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
