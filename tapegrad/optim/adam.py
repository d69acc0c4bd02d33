"""optim.Adam (with amsgrad and the decoupled weight decay AdamW uses), PyTorch's single-tensor update."""
import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _addcdiv_, _addcmul_, _check_differentiable, _check_hyperparameters, _lerp_,
                        _hyper, _prepared, _real)

__all__ = ["Adam"]


class Adam(Optimizer):
    _group_compat = {"amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                     "differentiable": False, "decoupled_weight_decay": False, "fused": None}
    _tensor_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_hyperparameters(lr, betas, eps=eps, weight_decay=weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas):
            if isinstance(b, Tensor) and b.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        if fused and differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        _check_differentiable(differentiable)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _hyper(group["lr"])
            beta1, beta2 = (_hyper(b) for b in group["betas"])
            eps = float(group["eps"])
            wd = _hyper(group["weight_decay"])
            amsgrad = group["amsgrad"]
            decoupled = group.get("decoupled_weight_decay", False)
            buffers = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())
            for p, state, x, g, step in _prepared(self, group, buffers, (), wd, lr, decoupled):
                m, v = _real(state["exp_avg"]._data), _real(state["exp_avg_sq"]._data)
                # a Tensor beta1 is cast to the parameter's dtype before `1 - beta1`, as PyTorch does
                _lerp_(m, g, 1 - (x.dtype.type(beta1) if isinstance(beta1, np.generic) else beta1))
                v *= beta2
                _addcmul_(v, g, g, 1 - beta2)

                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2 ** 0.5
                if amsgrad:
                    vmax = _real(state["max_exp_avg_sq"]._data)
                    np.maximum(vmax, v, out=vmax)
                    denom = np.sqrt(vmax)
                else:
                    denom = np.sqrt(v)
                denom /= bias_correction2_sqrt
                denom += eps
                _addcdiv_(x, m, denom, -step_size)
                p._version_ctr.v += 1
        return loss
