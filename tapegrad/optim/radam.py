"""optim.RAdam (rectified Adam), PyTorch's single-tensor update."""
import numpy as np

from .optimizer import (Optimizer, _addcmul_, _check_differentiable, _check_hyperparameters, _lerp_, _hyper, _prepared,
                        _real)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    _group_compat = {"foreach": None, "maximize": False, "differentiable": False, "decoupled_weight_decay": False,
                     "capturable": False}
    _tensor_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_hyperparameters(lr, betas, eps=eps, weight_decay=weight_decay)
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _hyper(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            eps, wd = float(group["eps"]), float(group["weight_decay"])
            decoupled = group["decoupled_weight_decay"]
            for p, state, x, g, step in _prepared(self, group, ("exp_avg", "exp_avg_sq"), (), wd, lr, decoupled):
                m, v = _real(state["exp_avg"]._data), _real(state["exp_avg_sq"]._data)
                _lerp_(m, g, 1 - beta1)
                v *= beta2
                _addcmul_(v, g, g, 1 - beta2)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                update = m / bias_correction1
                update *= lr
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
                if rho_t > 5.0:
                    adaptive = np.sqrt(v)
                    adaptive += eps
                    # PyTorch's `bias_correction2 ** 0.5 / t` is Tensor.__rtruediv__: t.reciprocal() * scalar
                    np.reciprocal(adaptive, out=adaptive)
                    adaptive *= bias_correction2 ** 0.5
                    update *= adaptive
                    update *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                x -= update
                p._version_ctr.v += 1
        return loss
