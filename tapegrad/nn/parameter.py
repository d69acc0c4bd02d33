"""nn.Parameter: a leaf Tensor that a Module registers as one of its parameters."""
from .._tensor import Tensor, _rebuild

__all__ = ["Parameter", "Buffer", "UninitializedParameter"]


class Parameter(Tensor):
    """A Tensor that, assigned as a Module attribute, is registered as a parameter.

    It shares memory with the tensor it wraps, and requires grad by default.
    """

    def __new__(cls, data=None, requires_grad=True):
        import numpy as np

        if data is None:
            arr = np.empty(0, dtype=np.float32)
        else:
            if not isinstance(data, Tensor):
                data = data.detach()  # PyTorch's path for tensor-likes: AttributeError for a list, etc.
                if not isinstance(data, Tensor):
                    raise TypeError(f"Parameter(): expected a Tensor, got {type(data).__name__}")
            arr = data._data
        if requires_grad and arr.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t = object.__new__(cls)
        Tensor._copy_into(t, arr, False)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __reduce_ex__(self, proto):
        from .._backend import to_numpy_array

        return (_rebuild, (to_numpy_array(self._data), self._rg, Parameter))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        # like PyTorch's: the data is cloned, the gradient is not copied
        p = type(self)(Tensor._make(self._data.copy()), self._rg)
        memo[id(self)] = p
        return p


class Buffer(Tensor):
    """nn.Buffer: marks a tensor to be registered as a buffer when assigned to a Module."""

    def __new__(cls, data=None, *, persistent=True):
        import numpy as np

        arr = data._data if isinstance(data, Tensor) else np.empty(0, dtype=np.float32)
        t = object.__new__(cls)
        Tensor._copy_into(t, arr, False)
        t.persistent = persistent
        return t

    def __init__(self, data=None, *, persistent=True):
        pass


class UninitializedParameter(Parameter):
    def __new__(cls, requires_grad=True, device=None, dtype=None):
        raise NotImplementedError("tapegrad does not implement torch.nn.parameter.UninitializedParameter "
                                  "(lazy modules)")
