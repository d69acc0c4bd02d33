"""optim.Adamax (Adam with the infinity norm), PyTorch's single-tensor update."""
import numpy as np

from .optimizer import (Optimizer, _addcdiv_, _check_differentiable, _check_hyperparameters, _lerp_, _hyper, _prepared,
                        _real)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    _group_compat = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _tensor_step = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_hyperparameters(lr, betas, eps=eps, weight_decay=weight_decay)
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _hyper(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            eps, wd = float(group["eps"]), float(group["weight_decay"])
            for p, state, x, g, step in _prepared(self, group, ("exp_avg", "exp_inf"), (), wd):
                m, u = _real(state["exp_avg"]._data), _real(state["exp_inf"]._data)
                _lerp_(m, g, 1 - beta1)
                u *= beta2
                ga = np.abs(g)
                ga += eps
                np.maximum(u, ga, out=u)
                clr = lr / (1 - beta1 ** step)
                _addcdiv_(x, m, u, -clr)
                p._version_ctr.v += 1
        return loss
