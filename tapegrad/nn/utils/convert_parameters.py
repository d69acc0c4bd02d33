"""parameters_to_vector / vector_to_parameters."""
from ..._tensor import Tensor
from ..modules.module import _typename

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """One flat vector of all the parameters (differentiable, like PyTorch's)."""
    from ..._ops.movement import cat

    vec = []
    for param in parameters:
        param.device  # PyTorch checks every parameter's device first (AttributeError for a non-tensor)
        vec.append(param.reshape(-1))
    return cat(vec)


def vector_to_parameters(vec, parameters):
    """Point each parameter's data at its slice of `vec` (sharing memory, like PyTorch's)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
