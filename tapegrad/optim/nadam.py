"""optim.NAdam (Adam with Nesterov momentum), PyTorch's single-tensor update."""
import numpy as np

from .optimizer import (Optimizer, _addcdiv_, _addcmul_, _check_differentiable, _check_hyperparameters, _lerp_,
                        _hyper, _prepared, _real)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    _group_compat = {"maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                     "decoupled_weight_decay": False}
    _tensor_step = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_hyperparameters(lr, betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _hyper(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            eps, wd = float(group["eps"]), float(group["weight_decay"])
            momentum_decay = float(group["momentum_decay"])
            decoupled = group["decoupled_weight_decay"]
            for p, state, x, g, step in _prepared(self, group, ("exp_avg", "exp_avg_sq"), (("mu_product", 1.0),),
                                                  wd, lr, decoupled):
                mu_product = state["mu_product"]
                bias_correction2 = 1 - beta2 ** step
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
                mu_product._data *= mu
                m, v = _real(state["exp_avg"]._data), _real(state["exp_avg_sq"]._data)
                _lerp_(m, g, 1 - beta1)
                v *= beta2
                _addcmul_(v, g, g, 1 - beta2)
                denom = v / bias_correction2
                np.sqrt(denom, out=denom)
                mp = float(mu_product._data)
                mu_product_next = mp * mu_next
                denom += eps
                _addcdiv_(x, g, denom, -lr * (1.0 - mu) / (1.0 - mp))
                _addcdiv_(x, m, denom, -lr * mu_next / (1.0 - mu_product_next))
                p._version_ctr.v += 1
        return loss
