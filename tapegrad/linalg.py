"""torch.linalg: the operators live in tapegrad/_ops/linalg.py (forward and backward together);
this module gives them their torch.linalg names and signatures."""
from ._ops.linalg import (LinAlgError, cond, eigh, eigvalsh, inv, lstsq, matmul, matrix_norm,
                          matrix_exp, matrix_power, matrix_rank, multi_dot, pinv, solve, solve_triangular, svdvals)
from ._ops.linalg import det as _det, linalg_cholesky as cholesky, linalg_cross as cross, linalg_norm as norm
from ._ops.linalg import linalg_qr as qr, linalg_slogdet as slogdet, linalg_svd as svd, linalg_vander as vander
from ._ops.reduce import vector_norm

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv",
           "inv_ex", "lstsq", "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot",
           "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals", "vander",
           "vecdot", "vector_norm"]


def det(A, *, out=None):
    return _det(A)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


def vecdot(x, y, *, dim=-1):
    return (x.conj() * y).sum(dim) if x.is_complex() else (x * y).sum(dim)


def _with_info(name, field, fn, A, like, check_errors):
    """(result, info) for the *_ex functions: info holds LAPACK's code per matrix (0 when it succeeded);
    matrices that failed give NaN results instead of raising unless check_errors."""
    import numpy as np

    from ._ops.reduce import _return_type
    from ._tensor import Tensor

    info = np.zeros(A.shape[:-2], np.int32)
    try:
        r = fn(A)
    except LinAlgError:
        if check_errors:
            raise
        from ._ops.linalg import _chol_fail, _zero_pivot

        flat = info.reshape(-1)
        mats = A._data.reshape((-1,) + A._data.shape[-2:])
        for k, m in enumerate(mats):
            flat[k] = _chol_fail(m)[1] if name == "linalg_cholesky_ex" else _zero_pivot(m)
        eye = np.eye(A.shape[-1], dtype=mats.dtype)
        fixed = np.where((flat != 0)[:, None, None], eye, mats).reshape(A._data.shape)
        r = fn(Tensor._make(fixed)).detach()
        bad = (info != 0).reshape(info.shape + (1,) * (r.dim() - info.ndim))
        r = Tensor._make(np.where(bad, np.nan, r._data).astype(r._data.dtype, copy=False))
    return _return_type(name, (field, "info"))(r, Tensor._make(info))


def inv_ex(A, *, check_errors=False, out=None):
    return _with_info("linalg_inv_ex", "inverse", inv, A, A, check_errors)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    return _with_info("linalg_solve_ex", "result", lambda a: solve(a, B, left=left), A, B, check_errors)


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    return _with_info("linalg_cholesky_ex", "L", lambda a: cholesky(a, upper=upper), A, A, check_errors)


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    from . import _NotImplementedAttribute

    raise _NotImplementedAttribute(f"tapegrad does not implement torch.linalg.{name}")
