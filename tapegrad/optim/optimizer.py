"""optim.Optimizer: parameter groups, per-parameter state, state_dict, zero_grad and step hooks.

Subclasses implement `step` by updating `p._data` (the backend array) in place
with ufuncs, so no graph is recorded and float32 stays float32. State lives in
`self.state[p]` as tapegrad Tensors with PyTorch's key names, which makes
`state_dict()` the same layout as PyTorch's.
"""
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain

import numpy as np

from .._blas import _axpy_fn
from .._tensor import Tensor
from ..autograd import grad_mode

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Singleton class representing a required parameter for an Optimizer."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class RemovableHandle:
    """A handle that removes a hook from the OrderedDict it was registered in."""

    _next_id = 0

    def __init__(self, hooks_dict):
        self._dict = hooks_dict
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _hooked_step(step):
    """Wrap a subclass's `step` with the global and per-optimizer pre/post hooks."""
    if getattr(step, "hooked", False):
        return step

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        own_pre = self.__dict__.get("_optimizer_step_pre_hooks", {})
        for pre_hook in chain(_global_optimizer_pre_hooks.values(), own_pre.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                                       f"{result}.")
        out = step(self, *args, **kwargs)
        self._opt_called = True  # read by lr_scheduler's "step order" warning
        own_post = self.__dict__.get("_optimizer_step_post_hooks", {})
        for post_hook in chain(own_post.values(), _global_optimizer_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


# ---- helpers shared by the optimizers ---------------------------------------------------------
def _to_scalar(x):
    """A hyperparameter as a Python number (a 1-element Tensor lr is allowed, as in PyTorch)."""
    if isinstance(x, Tensor):
        return x.item()
    return float(x) if isinstance(x, np.generic) else x


def _hyper(x):
    """A hyperparameter as PyTorch's single-tensor code computes with it: a Python float, or, for a
    Tensor (lr, betas), a NumPy scalar of the tensor's dtype, so that `lr / bias_correction` and the like
    round in that dtype as PyTorch's 0-d tensor arithmetic does (a float32 lr on float64 parameters
    gives a float32 step size there)."""
    if isinstance(x, Tensor):
        return np.asarray(x._data).reshape(())[()]
    return float(x)


def _scalar_np_dtype():
    """The dtype of state['step']: float64 when the default dtype is float64, else float32."""
    from .._dtype import get_default_dtype

    return np.float64 if get_default_dtype().np == np.float64 else np.float32


def _step_tensor(value=0.0):
    return Tensor._make(np.array(value, dtype=_scalar_np_dtype()))


def _zeros_like(p):
    return Tensor._make(np.zeros_like(p._data))


def _prepared(optimizer, group, buffers, scalars=(), weight_decay=0.0, lr=0.0, decoupled=False):
    """The single-tensor prologue of PyTorch's optimizers, for each parameter of `group` that has a
    gradient: yields (p, state, x, g, step) with the state created on first use (a step counter, then
    `scalars` as (name, value) 0-d tensors, then zeroed `buffers`), the step counter advanced, x the
    parameter's array, and g its gradient (negated for maximize) with weight decay applied, coupled
    (g + wd * x, fused as PyTorch's grad.add(param, alpha=wd)) or decoupled (x *= 1 - lr * wd)."""
    maximize = group["maximize"]
    states = optimizer.state
    for p in group["params"]:
        if p.grad is None:
            continue
        state = states[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            for name, value in scalars:
                state[name] = _step_tensor(value)
            for name in buffers:
                state[name] = _zeros_like(p)
        x = _real(p._data)
        g = _grad(p, maximize)
        step_t = state["step"]
        step_t._data += 1
        if weight_decay != 0:
            if decoupled:
                x *= 1 - lr * weight_decay
            else:
                g = _add_scaled(g, weight_decay, x)
        yield p, state, x, g, float(step_t._data)


def _real(a):
    """A complex array as a real view (..., 2), like torch.view_as_real; a 0-d array as a 1-element
    view (so that ufuncs on it give arrays, not NumPy scalars); other arrays unchanged."""
    if a.dtype.kind == "c":
        return a[..., None].view(a.real.dtype)
    return a.reshape(1) if a.ndim == 0 else a


def _grad(p, maximize):
    g = _real(p.grad._data)
    return np.negative(g) if maximize else g


def _axpy(y, alpha, x):
    """y += alpha * x in place with one rounding per element, as PyTorch's CPU kernels do (fused
    multiply-add) for add_(x, alpha=), lerp_ and addcmul_: BLAS axpy at every size (`_blas.axpy_` keeps
    NumPy's two roundings below 4096 elements), NumPy where axpy cannot take the arrays."""
    if (y.__class__ is np.ndarray and x.__class__ is np.ndarray and y.dtype == x.dtype and y.shape == x.shape
            and y.flags.c_contiguous and x.flags.c_contiguous and y.flags.writeable):
        fn = _axpy_fn(y.dtype)
        if fn is not None and not np.may_share_memory(x, y):
            # one call: chunking it (to keep OpenBLAS's axpy on one thread) cost a ctypes call per chunk,
            # 40 us per step on the MLP benchmark's 200k-weight layer
            fn(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
            return
    y += x * alpha


def _add_scaled(g, alpha, x):
    """g + alpha * x as a new array, fused as PyTorch's g.add(x, alpha=alpha)."""
    out = np.array(g, copy=True, order="C")
    _axpy(out, alpha, x)
    return out


def _lerp_(a, b, w):
    """a.lerp_(b, w) as PyTorch's vectorized kernel: fma(w, b - a, a) for |w| < 0.5, else
    fma(w - 1, b - a, b), w rounded to a's dtype first."""
    w = a.dtype.type(w)
    diff = b - a
    if abs(w) < 0.5:
        _axpy(a, w, diff)
    else:
        np.copyto(a, b)
        _axpy(a, w - a.dtype.type(1), diff)


def _addcmul_(a, t1, t2, value):
    """a += value * t1 * t2, evaluated as PyTorch's kernel does ((value * t1) * t2, then + a) but with two
    roundings where PyTorch's fuses the last multiply-add. Exact emulation (float32 through float64) was
    measured bit-identical but costs about 1.5 ms per million elements (Adam's step 2.2 -> 3.8 ms), and buys
    nothing observable: every optimizer that uses addcmul also takes a sqrt, and PyTorch's CPU sqrt (MKL
    VML) is not correctly rounded (1 ulp off NumPy's IEEE sqrt on about 1 element in 6), so those
    optimizers cannot be bit-identical to PyTorch either way."""
    tmp = t1 * value if value != 1 else t1 * t2
    if value != 1:
        tmp *= t2
    a += tmp


def _addcdiv_(a, t1, t2, value):
    """a += value * t1 / t2 (evaluated left to right like PyTorch's kernel)."""
    tmp = t1 * value
    tmp /= t2
    a += tmp


def _check_differentiable(differentiable):
    if differentiable:
        raise NotImplementedError("tapegrad optimizers do not implement differentiable=True "
                                  "(their updates are in place on arrays and record no graph)")


class Optimizer:
    """Base class for all optimizers.

    Args:
        params: an iterable of Tensors, of (name, Tensor) pairs, or of dicts defining parameter groups.
        defaults: a dict of default values of optimization options, used by groups that do not set them.
    """

    # group options a state dict saved by an older version may lack, and the values they take then
    _group_compat = {}
    # whether state['step'] is a Tensor (older checkpoints saved it as a number)
    _tensor_step = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _hooked_step(cls.__dict__["step"])

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()

        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + params.type())

        self.state = defaultdict(dict)
        self.param_groups = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ---- pickling / representation ------------------------------------------------------------
    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                     "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for k, v in self._group_compat.items():
                group.setdefault(k, v)
            if self._tensor_step:
                for p in group["params"]:
                    st = self.state.get(p)
                    if st and "step" in st and not isinstance(st["step"], Tensor):
                        st["step"] = _step_tensor(float(st["step"]))

    def __repr__(self):
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    # ---- hooks ----------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs), called before step()."""
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None, called after step()."""
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    def _register(self, hooks, hook, prepend):
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ---- state dict -------------------------------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}, PyTorch's layout.

        Like PyTorch, the state tensors are the optimizer's own (not copies).
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)

        param_mappings = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update({id(p): i for i, p in enumerate(group["params"], start_index)
                                   if id(p) not in param_mappings})
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}

        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param, value, param_id, param_groups, key=None):
        fused = capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            if capturable or fused:
                return _cast_tensor(value, np.float32)
            return value
        if param.is_floating_point():
            return _cast_tensor(value, param._data.dtype)
        return value

    def load_state_dict(self, state_dict):
        """Load a state dict made by `state_dict()` (of this or an identically built optimizer)."""
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result

        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")

        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def _cast(param, value, param_id=None, param_groups=None, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(param, value, param_id, param_groups, key)
            if isinstance(value, dict):
                return {k: _cast(param, v, param_id=param_id, param_groups=param_groups, key=k)
                        for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
                return type(value)(_cast(param, v, param_id=param_id, param_groups=param_groups) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, param_id=k, param_groups=state_dict["param_groups"])
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})

        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # ---- gradients and steps --------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Set the gradients of all optimized tensors to None (default) or, in place, to zero."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g._rg = False
                if g._data.flags.writeable:
                    g._data[...] = 0
                    g._version_ctr.v += 1
                else:
                    p.grad = Tensor._make(np.zeros_like(g._data))

    def step(self, closure=None):
        """Perform a single optimization step; return the closure's loss if one is given."""
        raise NotImplementedError

    @staticmethod
    def _eval_closure(closure):
        if closure is None:
            return None
        with grad_mode.enable_grad():
            return closure()

    def add_param_group(self, param_group):
        """Add a parameter group (a dict with 'params' and, optionally, its own options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")

        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) == len(tensors):
                param_group["param_names"] = names
            else:
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + (type(param).__module__ + "." + type(param).__name__
                                   if type(param).__module__ != "builtins" else type(param).__name__))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len({id(p) for p in params}):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        param_set = set()
        for group in self.param_groups:
            param_set.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                current = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {current} to the optimizer")
        if not param_set.isdisjoint(id(p) for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")

        self.param_groups.append(param_group)


def _cast_tensor(value, np_dtype):
    """value.to(dtype): the same tensor when the dtype already matches, as in PyTorch."""
    if value._data.dtype == np_dtype:
        return value
    return Tensor._make(value._data.astype(np_dtype))


_HYPER_NAMES = {"lr": "learning rate", "eps": "epsilon value"}


def _check_hyperparameters(lr, betas=None, **nonnegative):
    """PyTorch's argument checks, in its words: lr a number or 1-element tensor, the named
    hyperparameters non-negative, betas in [0, 1)."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    for name, value in (("lr", lr),) + tuple(nonnegative.items()):
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_HYPER_NAMES.get(name, name + ' value')}: {value}")
    for i, b in enumerate(betas or ()):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")
