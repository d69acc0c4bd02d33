"""optim.Adagrad (lr_decay, initial_accumulator_value), PyTorch's single-tensor update."""
import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _add_scaled, _addcdiv_, _addcmul_, _check_differentiable, _check_hyperparameters,
                        _grad, _hyper, _real, _step_tensor)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    _group_compat = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}
    _tensor_step = True

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_hyperparameters(lr, lr_decay=lr_decay, weight_decay=weight_decay,
                               initial_accumulator_value=initial_accumulator_value, eps=eps)
        if fused and differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        _check_differentiable(differentiable)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p):
        state = self.state[p]
        state["step"] = _step_tensor()
        init = self.defaults["initial_accumulator_value"]
        if p.is_complex():
            init = complex(init, init)
        state["sum"] = Tensor._make(np.full_like(p._data, init))

    def share_memory(self):
        pass

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _hyper(group["lr"])
            wd, lr_decay, eps = float(group["weight_decay"]), float(group["lr_decay"]), float(group["eps"])
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    self._init_state(p)
                x = _real(p._data)
                g = _grad(p, maximize)
                step_t = state["step"]
                step_t._data += 1
                step = float(step_t._data)
                if wd != 0:
                    g = _add_scaled(g, wd, x)
                clr = lr / (1 + (step - 1) * lr_decay)
                s = _real(state["sum"]._data)
                _addcmul_(s, g, g, 1)
                std = np.sqrt(s)
                std += eps
                _addcdiv_(x, g, std, -clr)
                p._version_ctr.v += 1
        return loss
