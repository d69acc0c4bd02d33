"""tapegrad.nn.utils: gradient clipping, parameter/vector conversion, weight_norm, fusion, skip_init."""
from . import clip_grad, convert_parameters, fusion  # noqa: F401
from . import rnn  # noqa: F401
from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,  # noqa: F401
                        get_total_norm)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,  # noqa: F401
                     fuse_linear_bn_weights)
from .init import skip_init  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    from ... import _NotImplementedAttribute

    # spectral_norm, parametrize, parametrizations, stateless, prune, ... are not implemented
    raise _NotImplementedAttribute(f"tapegrad does not implement torch.nn.utils.{name}")
