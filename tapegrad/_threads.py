"""Thread count of the BLAS behind NumPy (torch.get_num_threads / set_num_threads).

threadpoolctl is used when installed; otherwise the OpenBLAS that NumPy's wheels bundle is
called directly through ctypes. Anything else falls back to the environment's thread count.
"""
import ctypes
import glob
import os

_threads = [None]
_OPENBLAS = []  # [(set_fn, get_fn)] or [None], resolved once


def _openblas():
    if not _OPENBLAS:
        found = None
        try:
            import numpy

            libdir = os.path.join(os.path.dirname(numpy.__file__), os.pardir, "numpy.libs")
            for path in glob.glob(os.path.join(libdir, "*openblas*")):
                lib = ctypes.CDLL(path)
                for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"),
                                       ("openblas", "")):
                    setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                    getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                    if setter is not None and getter is not None:
                        setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                        found = (setter, getter)
                        break
                if found:
                    break
        except (ImportError, OSError):
            found = None
        _OPENBLAS.append(found)
    return _OPENBLAS[0]


def get_num_threads():
    try:
        from threadpoolctl import threadpool_info

        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            return blas[0]["num_threads"]
    except ImportError:
        pass
    ob = _openblas()
    if ob is not None:
        return ob[1]()
    if _threads[0] is not None:
        return _threads[0]
    return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))


def set_num_threads(n):
    n = int(n)
    if n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n}")
    _threads[0] = n
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n, user_api="blas")
        return
    except ImportError:
        pass
    ob = _openblas()
    if ob is not None:
        ob[0](n)
