"""optim.Adadelta, PyTorch's single-tensor update."""
import numpy as np

from .optimizer import (Optimizer, _addcmul_, _axpy, _check_differentiable, _check_hyperparameters, _hyper, _prepared,
                        _real)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    _group_compat = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _tensor_step = True

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_hyperparameters(lr, eps=eps, weight_decay=weight_decay)
        if not rho <= 1.0 or not 0.0 <= rho:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _hyper(group["lr"])
            rho, eps, wd = float(group["rho"]), float(group["eps"]), float(group["weight_decay"])
            for p, state, x, g, _ in _prepared(self, group, ("square_avg", "acc_delta"), (), wd):
                sq, acc = _real(state["square_avg"]._data), _real(state["acc_delta"]._data)
                sq *= rho
                _addcmul_(sq, g, g, 1 - rho)
                std = sq + eps
                np.sqrt(std, out=std)
                delta = acc + eps
                np.sqrt(delta, out=delta)
                delta /= std
                delta *= g
                acc *= rho
                _addcmul_(acc, delta, delta, 1 - rho)
                _axpy(x, -lr, delta)  # PyTorch's param.add_(delta, alpha=-lr)
                p._version_ctr.v += 1
        return loss
