"""Run one call in tapegrad and in torch on the same NumPy inputs; compare outputs and gradients."""
import numpy as np

import tapegrad as tg
import tapegrad.nn.functional as TF

TOL = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def to_pair(a, grad, torch):
    if isinstance(a, np.ndarray):
        t1, t2 = tg.tensor(a.copy()), torch.tensor(a.copy())
        if grad and a.dtype.kind == "f":
            t1.requires_grad_(True)
            t2.requires_grad_(True)
        return t1, t2
    return a, a


def compare(call, args, torch, grad=True, no_grad=(), rtol=None, atol=None, seed=0):
    """call(F, lib, *args): the call written once. Float arrays in args require grad unless their index is in
    no_grad. Compares the forward value, then gradients of a random weighted sum of the output."""
    pairs = [to_pair(a, grad and i not in no_grad, torch) for i, a in enumerate(args)]
    a1 = [p[0] for p in pairs]
    a2 = [p[1] for p in pairs]
    import torch.nn.functional as F

    o1 = call(TF, tg, *a1)
    o2 = call(F, torch, *a2)
    dt = o2.dtype
    tol = dict(TOL["float64" if dt == torch.float64 else "float32"])
    if rtol is not None:
        tol["rtol"] = rtol
    if atol is not None:
        tol["atol"] = atol
    assert tuple(o1.shape) == tuple(o2.shape), (o1.shape, o2.shape)
    assert str(o1.dtype) == str(o2.dtype), (o1.dtype, o2.dtype)
    np.testing.assert_allclose(o1.detach().numpy(), o2.detach().numpy(), equal_nan=True, **tol)
    if grad and o2.requires_grad:
        w = np.random.default_rng(seed).standard_normal(tuple(o2.shape)).astype(o1.detach().numpy().dtype)
        (o1 * tg.tensor(w)).sum().backward()
        (o2 * torch.tensor(w)).sum().backward()
        for i, (x1, x2) in enumerate(zip(a1, a2)):
            if isinstance(x2, torch.Tensor) and x2.requires_grad:
                assert x1.grad is not None, f"no gradient for argument {i}"
                np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), err_msg=f"gradient of argument {i}",
                                           equal_nan=True, **tol)
    return o1, o2
