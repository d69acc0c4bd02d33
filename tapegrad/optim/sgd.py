"""optim.SGD, with PyTorch's single-tensor update (momentum buffer starts as the first gradient)."""
import numpy as np

from .._blas import axpy_
from .._tensor import Tensor
from .optimizer import Optimizer, _check_differentiable, _check_hyperparameters, _to_scalar

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
        _check_differentiable(differentiable)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            wd = float(_to_scalar(group["weight_decay"]))
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            nesterov, maximize = group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                g = p.grad._data  # (linear updates: complex arrays need no real view)
                if maximize:
                    g = np.negative(g)
                if wd != 0:
                    g = g.copy()
                    axpy_(g, wd, x)  # PyTorch's grad.add(param, alpha=weight_decay), fused as there
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        state["momentum_buffer"] = buf = Tensor._make(g.copy())
                    else:
                        b = buf._data
                        b *= momentum
                        axpy_(b, 1 - dampening, g)
                        buf._version_ctr.v += 1
                    if nesterov:
                        g = g.copy()
                        axpy_(g, momentum, buf._data)
                    else:
                        g = buf._data
                axpy_(x, -lr, g)  # x -= lr * g in one pass, as PyTorch's p.add_(g, alpha=-lr)
                p._version_ctr.v += 1
        return loss
