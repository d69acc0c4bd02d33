"""tapegrad.autograd: the tape, the engine and PyTorch's public autograd API."""
from . import function as _function
from .engine import run_backward
from .function import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled)

__all__ = ["Function", "backward", "grad", "gradcheck", "gradgradcheck", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "detect_anomaly", "set_detect_anomaly"]


class Function(_function.Function):
    """torch.autograd.Function: forward(ctx, *tensors) and backward(ctx, *grads) on Tensors."""

    _raw = False


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def _root_grads(outputs, grad_outputs):
    from .._tensor import Tensor
    import numpy as np

    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if not out._rg:
                raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.is_floating_point() and not out.is_complex():
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            xp = np if out.is_cpu else out._data.__array_namespace__()
            g = Tensor._make(xp.ones(out._data.shape, dtype=out._data.dtype))
        else:
            if not isinstance(g, Tensor):
                g = Tensor._make(np.asarray(g, dtype=out._data.dtype))
            if g._data.shape != out._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                                   f"has a shape of {out.shape}.")
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """torch.autograd.backward: accumulate gradients of `tensors` into the leaves' .grad."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables)
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_grads(tensors, grad_tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        got = run_backward(tensors, roots, retain_graph, create_graph, inputs=inputs)
        for t in inputs:
            entry = got.get(id(t))
            if entry is not None:
                g = entry[1] if create_graph else entry[1].detach()
                t.grad = g if t.grad is None else t.grad + g
        return
    run_backward(tensors, roots, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """torch.autograd.grad: gradients of `outputs` with respect to `inputs`, without touching .grad."""
    from .._tensor import Tensor

    single = isinstance(inputs, Tensor)
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got {type(t).__name__}")
        if not t._rg:
            raise RuntimeError(f"One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_grads(outputs, _as_tuple(grad_outputs))
    got = run_backward(outputs, roots, retain_graph, create_graph, inputs=inputs)
    result = []
    for i, t in enumerate(inputs):
        entry = got.get(id(t))
        if entry is None:
            if not (allow_unused or materialize_grads):
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
            result.append(t.new_zeros(t.shape) if materialize_grads else None)
        else:
            g = entry[1]
            result.append(g if create_graph else g.detach())
    return tuple(result)


def __getattr__(name):
    if name in ("gradcheck", "gradgradcheck"):
        from . import _gradcheck

        return getattr(_gradcheck, name)
    if name in ("functional", "graph"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")  # `from . import` would ask this hook again
    raise AttributeError(f"module 'tapegrad.autograd' has no attribute '{name}'")
