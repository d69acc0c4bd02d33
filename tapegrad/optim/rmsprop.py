"""optim.RMSprop (centered, momentum), PyTorch's single-tensor update."""
import numpy as np

from .optimizer import (Optimizer, _add_scaled, _addcdiv_, _addcmul_, _axpy, _check_differentiable,
                        _check_hyperparameters, _grad, _hyper, _lerp_, _real, _step_tensor, _zeros_like)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    _group_compat = {"momentum": 0, "centered": False, "foreach": None, "maximize": False, "differentiable": False,
                     "capturable": False}
    _tensor_step = True

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_hyperparameters(lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _hyper(group["lr"])
            alpha, eps = float(group["alpha"]), float(group["eps"])
            wd, momentum = float(group["weight_decay"]), float(group["momentum"])
            centered, maximize = group["centered"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                x = _real(p._data)
                g = _grad(p, maximize)
                state["step"]._data += 1
                if wd != 0:
                    g = _add_scaled(g, wd, x)
                sq = _real(state["square_avg"]._data)
                sq *= alpha
                _addcmul_(sq, g, g, 1 - alpha)
                if centered:
                    ga = _real(state["grad_avg"]._data)
                    _lerp_(ga, g, 1 - alpha)
                    avg = sq.copy()
                    _addcmul_(avg, ga, ga, -1)
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(sq)
                avg += eps
                if momentum > 0:
                    buf = _real(state["momentum_buffer"]._data)
                    buf *= momentum
                    _addcdiv_(buf, g, avg, 1)
                    _axpy(x, -lr, buf)  # PyTorch's param.add_(buf, alpha=-lr)
                else:
                    _addcdiv_(x, g, avg, -lr)
                p._version_ctr.v += 1
        return loss
