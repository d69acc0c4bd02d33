"""torch.distributions.utils: parameter broadcasting, probs <-> logits, lazily computed parameters."""
import tapegrad as torch

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits", "lazy_property", "euler_constant"]

# PyTorch's _Number: the Python scalars broadcast_all turns into tensors (a distribution given only these has
# batch_shape ())
_NUMBER_TYPES = (bool, int, float)


def broadcast_all(*values):
    """Broadcasts tensors and Python numbers together; numbers take the dtype of the first tensor given,
    or the default dtype (float32) when all are numbers."""
    if not all(isinstance(v, (torch.Tensor,) + _NUMBER_TYPES) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    like = next((v for v in values if isinstance(v, torch.Tensor)), None)
    dtype = torch.get_default_dtype() if like is None else like.dtype
    tensors = [v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=dtype) for v in values]
    return torch.broadcast_tensors(*tensors)


def _standard_normal(shape, dtype):
    return torch.randn(shape, dtype=dtype)


def _sum_rightmost(value, dim):
    """Sums the `dim` rightmost dimensions of `value` (turning batch dimensions into event dimensions)."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:-dim] + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    return torch.sigmoid(logits) if is_binary else logits.softmax(-1)


def clamp_probs(probs):
    eps = torch.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Logits from probabilities, clamped away from 0 and 1 so that the logits stay finite."""
    clamped = clamp_probs(probs)
    if is_binary:
        return torch.log(clamped) - torch.log1p(-clamped)
    return torch.log(clamped)


class lazy_property:
    """A parameter computed from another on first use, then cached on the instance (e.g. Bernoulli's logits
    from its probs). Computed under enable_grad, so that the cached value keeps its graph even when first
    used inside no_grad (by sample)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__name__, self.__doc__ = wrapped.__name__, wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with torch.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What a lazy_property looks like on the class: a property too, for documentation tools."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)
        lazy_property.__init__(self, wrapped)


def missing_names_getattr(module_name):
    """A module __getattr__ that answers PyTorch names tapegrad lacks with NotImplementedError
    (an AttributeError too, so hasattr() answers False)."""
    from tapegrad import _NotImplementedAttribute

    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise _NotImplementedAttribute(f"tapegrad does not implement {module_name}.{name}")

    return __getattr__


__getattr__ = missing_names_getattr("torch.distributions.utils")
