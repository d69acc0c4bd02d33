"""torch.testing: assert_close (with PyTorch's default tolerances per dtype and its messages), make_tensor,
and the deprecated assert_allclose."""
import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from . import _dtype
from ._tensor import Tensor

__all__ = ["assert_close", "make_tensor", "assert_allclose"]

# (rtol, atol) by dtype, PyTorch's; other dtypes compare exactly
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


class _Failure(Exception):
    """A mismatch found somewhere inside the inputs: the exception type to raise and its message."""

    def __init__(self, kind, text):
        super().__init__(text)
        self.kind, self.text = kind, text


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless `actual` and `expected` (tensors, Python scalars, or sequences and
    mappings of them) are close: |actual - expected| <= atol + rtol * |expected| elementwise."""
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'atol' if atol is None else 'rtol'}.")
    options = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, check_stride=check_stride)
    try:
        _compare(actual, expected, "", options)
    except _Failure as failure:
        text = failure.text
        if msg is not None:
            text = msg(text) if callable(msg) else msg
        raise failure.kind(text) from None


def _compare(actual, expected, path, options):
    if actual is None and expected is None:
        return
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        return _at(path, _compare_tensors, actual, expected, options)
    if _is_scalar(actual) and _is_scalar(expected):
        return _at(path, _compare_scalars, actual, expected, options)
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            raise _Failure(AssertionError, "The keys of the mappings do not match:\n"
                                           f"Missing keys in the actual mapping: {sorted(set(expected) - set(actual))}\n"
                                           f"Additional keys in the actual mapping: {sorted(set(actual) - set(expected))}")
        for key in expected:
            _compare(actual[key], expected[key], f"{path}[{key!r}]", options)
        return
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, f"{path}[{i}]", options)
        return
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                              f"{type(expected)}.")


def _at(path, compare, actual, expected, options):
    """Run one comparison; a mismatch inside a sequence or mapping names the item where it happened."""
    try:
        compare(actual, expected, options)
    except _Failure as failure:
        if path:
            raise _Failure(failure.kind, f"{failure.text}\n\nThe failure occurred for item {path}") from None
        raise


def _is_scalar(x):
    return isinstance(x, (bool, int, float, complex, np.generic))


def _is_sequence(x):
    return isinstance(x, Sequence) and not isinstance(x, (str, bytes))


def _tolerances(options, *dtypes):
    if options["rtol"] is not None:
        return options["rtol"], options["atol"]
    pairs = [_TOLERANCES.get(np.dtype(d).name if d.name != "bfloat16" else "bfloat16", (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _compare_tensors(actual, expected, options):
    if actual.shape != expected.shape:
        raise _Failure(AssertionError,
                       f"The values for attribute 'shape' do not match: {actual.shape} != {expected.shape}.")
    if options["check_dtype"] and actual.dtype != expected.dtype:
        raise _Failure(AssertionError,
                       f"The values for attribute 'dtype' do not match: {actual.dtype} != {expected.dtype}.")
    if options["check_stride"] and actual.stride() != expected.stride():
        raise _Failure(AssertionError, "The values for attribute 'stride()' do not match: "
                                       f"{actual.stride()} != {expected.stride()}.")
    a, e = actual.detach().cpu().numpy(), expected.detach().cpu().numpy()
    rtol, atol = _tolerances(options, a.dtype, e.dtype)
    if a.dtype != e.dtype:
        common = np.result_type(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    close = _isclose(a, e, rtol, atol, options["equal_nan"])
    if close.all():
        return
    if a.ndim == 0:
        _scalar_failure(a.item(), e.item(), a, e, rtol, atol)
    _tensor_failure(a, e, close, rtol, atol)


def _compare_scalars(actual, expected, options):
    if type(actual) is not type(expected):
        raise _Failure(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.")
    if isinstance(actual, bool):
        if actual is not expected:
            raise _Failure(AssertionError, f"Booleans mismatch: {actual} is not {expected}")
        return
    a, e = np.asarray(actual), np.asarray(expected)
    if isinstance(actual, float):
        a, e = a.astype(np.float64), e.astype(np.float64)
    rtol, atol = _tolerances(options, a.dtype)
    if not _isclose(a, e, rtol, atol, options["equal_nan"]):
        _scalar_failure(actual, expected, a, e, rtol, atol)


def _isclose(a, e, rtol, atol, equal_nan):
    if a.dtype.kind not in "fc":
        if rtol == 0 and atol == 0:
            return a == e
        a, e = a.astype(np.float64), e.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        close = (a == e) | (np.isfinite(a) & np.isfinite(e) & (np.abs(a - e) <= atol + rtol * np.abs(e)))
    if equal_nan:
        close |= np.isnan(a) & np.isnan(e)
    return close


def _differences(a, e):
    """|a - e| (integers stay integers, as PyTorch prints them) and |a - e| / |e| (floating, float32 for
    integers, as PyTorch's true division gives)."""
    if a.dtype.kind in "biu":
        abs_diff = np.abs(a.astype(np.int64) - e.astype(np.int64))
        floating = np.float32
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            abs_diff = np.abs(a - e)
        floating = abs_diff.dtype if abs_diff.dtype.kind == "f" else np.float64
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_diff = abs_diff.astype(floating) / np.abs(e).astype(floating)
    return abs_diff, rel_diff


def _allowed(tol, exact):
    return "" if exact else f" (up to {tol} allowed)"


def _scalar_failure(actual, expected, a, e, rtol, atol):
    abs_diff, rel_diff = _differences(np.asarray(a), np.asarray(e))
    exact = rtol == 0 and atol == 0
    if isinstance(actual, float) and isinstance(expected, float):  # Python floats: Python's arithmetic
        abs_value = abs(actual - expected)
        rel_value = abs_value / abs(expected) if expected else (math.nan if abs_value == 0 else math.inf)
    else:
        abs_value, rel_value = abs_diff.item(), rel_diff.item()
    raise _Failure(AssertionError,
                   f"Scalars are not {'equal' if exact else 'close'}!\n\nExpected {expected} but got {actual}.\n"
                   f"Absolute difference: {abs_value}{_allowed(atol, exact)}\n"
                   f"Relative difference: {rel_value}{_allowed(rtol, exact)}")


def _tensor_failure(a, e, close, rtol, atol):
    abs_diff, rel_diff = _differences(a, e)
    abs_diff, rel_diff = abs_diff.reshape(-1), rel_diff.reshape(-1)
    matched = close.reshape(-1)
    abs_diff[matched] = 0  # the greatest differences are looked for among the mismatches only
    rel_diff[matched] = 0
    mismatches, total = int((~matched).sum()), matched.size
    exact = rtol == 0 and atol == 0
    i, j = _argmax(abs_diff), _argmax(rel_diff)
    raise _Failure(AssertionError,
                   f"Tensor-likes are not {'equal' if exact else 'close'}!\n\n"
                   f"Mismatched elements: {mismatches} / {total} ({100 * mismatches / total:.1f}%)\n"
                   f"Greatest absolute difference: {abs_diff[i].item()} at index {_index(i, a.shape)}"
                   f"{_allowed(atol, exact)}\n"
                   f"Greatest relative difference: {rel_diff[j].item()} at index {_index(j, a.shape)}"
                   f"{_allowed(rtol, exact)}")


def _argmax(x):
    """The index of the greatest value, a NaN counting as the greatest (as torch.max has it)."""
    if x.dtype.kind == "f":
        nan = np.flatnonzero(np.isnan(x))
        if nan.size:
            return int(nan[0])
    return int(np.argmax(x))


def _index(flat, shape):
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated in PyTorch in favour of assert_close; compares with dtypes promoted and NaNs equal."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                  "release. Please use `torch.testing.assert_close()` instead.", FutureWarning, stacklevel=2)
    from ._ops.creation import as_tensor

    actual, expected = as_tensor(actual), as_tensor(expected)
    if rtol is None and atol is None:
        rtol, atol = _tolerances(dict(rtol=None), actual._data.dtype, expected._data.dtype)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False, msg=msg or None)


# ---------------------------------------------------------------- make_tensor
def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of `shape` and `dtype` with values drawn uniformly from [low, high) (PyTorch's defaults:
    [-9, 9] for floating point, [-9, 10) for integers, [0, 10) for uint8), from tapegrad's generator
    (so not PyTorch's numbers)."""
    from . import _ops

    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    dtype = _dtype.to_dtype(dtype)
    floating = dtype.is_floating_point or dtype.is_complex
    if low is not None and high is not None and (low > high or low == high and not floating):
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    if noncontiguous and shape and shape[-1] > 1:
        wide = make_tensor(*shape[:-1], shape[-1] * 2, dtype=dtype, device=device, low=low, high=high,
                           exclude_zero=exclude_zero)
        out = wide[..., ::2]
        return out.requires_grad_() if requires_grad else out
    if dtype is _dtype.bool:
        out = _ops.random.randint(0, 2, shape).to(_dtype.bool)
    elif not dtype.is_floating_point and not dtype.is_complex:
        lo = (0 if dtype is _dtype.uint8 else -9) if low is None else math.ceil(low)
        out = _ops.random.randint(lo, 10 if high is None else math.ceil(high), shape, dtype=dtype)
    else:
        lo, hi = -9.0 if low is None else low, 9.0 if high is None else high
        real = _dtype.float64 if dtype.is_complex else dtype
        out = _ops.random.rand(*shape, dtype=real) * (hi - lo) + lo
        if dtype.is_complex:
            out = (out + 1j * (_ops.random.rand(*shape, dtype=real) * (hi - lo) + lo)).to(dtype)
    if exclude_zero:
        tiny = _dtype.finfo(dtype).tiny if floating else 1
        out = out.masked_fill(out == 0, tiny)
    if requires_grad:
        out.requires_grad_()
    return out
