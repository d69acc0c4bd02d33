"""The OpenBLAS that NumPy's wheels bundle, reached through ctypes: its thread controls (used by
_threads.py) and the level-1 update `y += alpha * x` that NumPy does not expose.

NumPy writes `y -= lr * g` as two passes and a temporary; BLAS's axpy is one pass, and with the fused
multiply-add it uses gives PyTorch's `y.add_(x, alpha=...)` bit for bit (measured: NumPy's two-pass form
differs from it in the last bit for about 2% of the elements). Anything axpy cannot take (other dtypes,
non-contiguous or overlapping arrays, CuPy, no bundled OpenBLAS) falls back to NumPy.
"""
import ctypes
import os

import numpy as np

_LIB = []  # [(CDLL, prefix, suffix, cblas prefix)] or [None], resolved once
_AXPY = {}  # numpy dtype -> axpy function, or None
_AXPY_MIN = 4096  # elements: below this the ctypes call costs more than NumPy's two passes


def lib():
    """(CDLL, symbol prefix, symbol suffix) for NumPy's bundled OpenBLAS, or None."""
    if not _LIB:
        found = None
        try:
            import glob

            libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
            for path in glob.glob(os.path.join(libdir, "*openblas*")):
                cdll = ctypes.CDLL(path)
                for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"),
                                       ("openblas", "")):
                    if getattr(cdll, f"{prefix}_set_num_threads{suffix}", None) is not None:
                        found = (cdll, prefix, suffix)
                        break
                if found:
                    break
        except OSError:
            found = None
        _LIB.append(found)
    return _LIB[0]


def _axpy_fn(dtype):
    if dtype not in _AXPY:
        fn = None
        found = lib()
        if found is not None and dtype in (np.float32, np.float64):
            cdll, prefix, suffix = found
            letter = "s" if dtype == np.float32 else "d"
            cblas = "scipy_cblas" if prefix.startswith("scipy") else "cblas"
            fn = getattr(cdll, f"{cblas}_{letter}axpy{suffix}", None)
            if fn is not None:
                idx = ctypes.c_int64 if suffix == "64_" else ctypes.c_int
                scalar = ctypes.c_float if letter == "s" else ctypes.c_double
                fn.restype = None
                fn.argtypes = [idx, scalar, ctypes.c_void_p, idx, ctypes.c_void_p, idx]
        _AXPY[dtype] = fn
    return _AXPY[dtype]


def axpy_(y, alpha, x):
    """y += alpha * x in place (alpha a Python number)."""
    if (y.__class__ is np.ndarray and x.__class__ is np.ndarray and y.size >= _AXPY_MIN and y.dtype == x.dtype
            and y.shape == x.shape and y.flags.c_contiguous and x.flags.c_contiguous and y.flags.writeable
            and not np.shares_memory(x, y)):
        fn = _axpy_fn(y.dtype)
        if fn is not None:
            fn(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
            return
    y += x * alpha
