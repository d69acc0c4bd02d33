from .._collate import *  # noqa: F401,F403
from .._collate import (collate_float_fn, collate_int_fn, collate_numpy_array_fn, collate_numpy_scalar_fn,  # noqa: F401
                        collate_str_fn, collate_tensor_fn, default_collate_err_msg_format, np_str_obj_array_pattern)
