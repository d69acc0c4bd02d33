"""optim.SGD, with PyTorch's single-tensor update (momentum buffer starts as the first gradient)."""
import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, _add_scaled, _axpy, _check_differentiable, _check_hyperparameters, _hyper

__all__ = ["SGD"]


class SGD(Optimizer):
    _group_compat = {"nesterov": False, "maximize": False, "foreach": None, "differentiable": False, "fused": False}

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_hyperparameters(lr, momentum=momentum, weight_decay=weight_decay)
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
                    "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if fused and differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        _check_differentiable(differentiable)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _hyper(group["lr"])
            wd = _hyper(group["weight_decay"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            nesterov, maximize = group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                g = p.grad._data  # (linear updates: complex arrays need no real view)
                if x.ndim == 0:  # 1-element views, so that ufuncs give arrays (not NumPy scalars) and update x
                    x, g = x.reshape(1), g.reshape(1)
                if maximize:
                    g = np.negative(g)
                if wd != 0:
                    g = _add_scaled(g, wd, x)  # PyTorch's grad.add(param, alpha=weight_decay), fused as there
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        state["momentum_buffer"] = buf = Tensor._make(g.reshape(p._data.shape).copy())
                    else:
                        b = buf._data.reshape(g.shape)
                        b *= momentum
                        _axpy(b, 1 - dampening, g)
                        buf._version_ctr.v += 1
                    if nesterov:
                        g = _add_scaled(g, momentum, buf._data.reshape(g.shape))
                    else:
                        g = buf._data.reshape(g.shape)
                _axpy(x, -lr, g)  # x -= lr * g in one pass, as PyTorch's p.add_(g, alpha=-lr)
                p._version_ctr.v += 1
        return loss
