"""Linear algebra: matmul and its special forms (mm, bmm, mv, dot, outer, addmm, ...), einsum,
tensordot, tril/triu, diag, kron, cross, cdist, block_diag, and the decompositions behind
`tapegrad.linalg` (solve, inv, det, slogdet, lstsq, cholesky, qr, svd, eigh, pinv, norms).

Decompositions run batched in NumPy's LAPACK; their backward passes are written with tapegrad
operators on the saved inputs and outputs, so gradients of gradients work.
"""
import numpy as np

from .. import _dtype, _threads
from .._tensor import Tensor, _type_name, _wrap_dim, tensor_method
from ..autograd.function import Function
from .reduce import _return_type
from .. import amp as _amp

_AUTOCAST = _amp.AUTOCAST

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "addbmm",
           "baddbmm", "addr", "tril", "triu", "einsum", "tensordot", "kron", "trace", "diag", "diag_embed",
           "diagflat", "cross", "cdist", "chain_matmul", "block_diag", "det", "logdet", "slogdet", "inverse",
           "pinverse", "matrix_power", "matrix_exp", "svd", "qr", "cholesky", "cholesky_solve", "cholesky_inverse",
           "vander"]


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: the input is singular or not positive-definite."""


def _fmt(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


# ---------------------------------------------------------------- matmul family
def _check_matmul(a, b, op):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        bad = b if isinstance(a, Tensor) else a
        raise TypeError(f"{op}(): argument '{'other' if isinstance(a, Tensor) else 'input'}' must be Tensor, not "
                        f"{type(bad).__name__}")
    da, db = a._data, b._data
    sa, sb = da.shape, db.shape
    if (len(sa) == 0 or len(sb) == 0 or da.dtype != db.dtype or da.dtype.kind == "b"
            or sa[-1] != (sb[-2] if len(sb) >= 2 else sb[0])):
        return _matmul_failure(a, b, op)
    if len(sa) > 2 and len(sb) > 2 and sa[:-2] != sb[:-2]:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            _matmul_failure(a, b, op)


# ---------------------------------------------------------------- PyTorch's errors, on the error path only
# What PyTorch raises for an invalid product depends on the kernel its call dispatches to (matmul folds into
# mm or mv, or broadcasts into bmm; mv is addmv into a new tensor; small and large bmm differ ...): the
# functions below follow that dispatch (aten/src/ATen/native/LinearAlgebra.cpp, Blas.cpp) on shapes and dtypes
# alone, raising PyTorch's exception, or return when PyTorch computes a result.
_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                 "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
_CPP_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "int16": "short int",
              "int8": "signed char", "uint8": "unsigned char", "bool": "bool", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}
_MKL_DTYPES = ("float32", "float64", "complex64", "complex128")


def _sn(d):
    return _SCALAR_NAMES.get(d.name, d.name)


def _cn(d):
    return _CPP_NAMES.get(d.name, d.name)


def _size(shape, dim):
    """shape[dim] with Tensor.size's IndexError."""
    n = len(shape)
    if n == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return shape[dim]


def _lst(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _torch_expand(shape, dtype, sizes):
    """PyTorch's expand_size(t, sizes): its errors (checked from the last dimension)."""
    shape, sizes = tuple(shape), tuple(sizes)
    if shape == sizes:
        return
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand(torch.{_sn(dtype)}Tensor{{{_lst(shape)}}}, size={_lst(sizes)}): the number of "
                           f"sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions in "
                           f"the tensor ({len(shape)})")
    for i in range(len(sizes) - 1, -1, -1):
        d = len(shape) - len(sizes) + i
        have = shape[d] if d >= 0 else 1
        if have != sizes[i] and have != 1:
            raise RuntimeError(f"The expanded size of the tensor ({sizes[i]}) must match the existing size ({have}) "
                               f"at non-singleton dimension {i}.  Target sizes: {_lst(sizes)}.  Tensor sizes: "
                               f"{_lst(shape)}")


def _torch_broadcast(a, b):
    """PyTorch's infer_size(a, b) (batch dimensions of matmul)."""
    n = max(len(a), len(b))
    out = [0] * n
    for i in range(n - 1, -1, -1):
        da, db = len(a) - n + i, len(b) - n + i
        x, y = (a[da] if da >= 0 else 1), (b[db] if db >= 0 else 1)
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                               f"dimension {i}")
        out[i] = y if x == 1 else x
    return tuple(out)


def _torch_dot(sa, da, sb, db):
    if len(sa) != 1 or len(sb) != 1:
        raise RuntimeError(f"1D tensors expected, but got {len(sa)}D and {len(sb)}D tensors")
    if da != db:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_sn(da)} and {_sn(db)}")
    if sa[0] != sb[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same "
                           f"number of elements, but got {sa[0]} and {sb[0]} elements respectively")
    if da.kind == "b":
        raise NotImplementedError("\"dot\" not implemented for 'Bool'")


def _torch_addmv(si, di, sm, dm, sv, dv):
    if not (len(sm) == 2 and len(sv) == 1 and len(si) <= 1):
        raise RuntimeError(f"vector + matrix @ vector expected, got {len(si)}, {len(sm)}, {len(sv)}")
    numel = int(np.prod(si))
    if sm[1] != sv[0] or (sm[0] != numel and numel != 1):
        raise RuntimeError(f"size mismatch, got input ({_size(si, 0)}), mat ({sm[0]}x{sm[1]}), vec ({sv[0]})")
    if not di == dm == dv:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_sn(di)}, {_sn(dm)}, and "
                           f"{_sn(dv)}")
    if dm.kind == "b" and sm[0] != 0 and sm[1] != 0:
        raise NotImplementedError("\"addmv_impl_cpu\" not implemented for 'Bool'")


def _torch_mv(sm, dm, sv, dv):
    _torch_addmv((_size(sm, 0),), dv, sm, dm, sv, dv)  # mv(mat, vec) is addmv_ into empty(mat.size(0), vec's dtype)


def _torch_addmm_impl(sa, da, sb, db):
    if da != db:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_cn(da)} != {_cn(db)}")
    if da.kind == "b" and sa[0] * sb[1] != 0 and sa[1] != 0:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


def _torch_mm(sa, da, sb, db):
    if len(sa) != 2:
        raise RuntimeError("self must be a matrix")
    if len(sb) != 2:
        raise RuntimeError("mat2 must be a matrix")
    if sa[1] != sb[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa[0]}x{sa[1]} and {sb[0]}x{sb[1]})")
    _torch_addmm_impl(sa, da, sb, db)


def _torch_bmm_checks(s1, s2):
    if len(s1) != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if len(s2) != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if s2[0] != s1[0] or s2[1] != s1[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{s1[0]}, {s1[2]}] but "
                           f"got: [{s2[0]}, {s2[1]}].")


def _torch_bmm_kernel(s1, d1, s2, d2, name):
    """bmm_out_or_baddbmm_: nothing for empty products; small ones in a kernel dispatched on batch1's dtype,
    large ones in MKL (float and complex results) or one addmm per matrix."""
    bs, rows, k, cols = s1[0], s1[1], s1[2], s2[2]
    if bs * rows * cols == 0 or k == 0:
        return
    if k * rows * cols < 400:
        if d1.kind == "b":
            raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")
        if d1 != d2:
            raise RuntimeError(f"expected scalar type {_sn(d1)} but found {_sn(d2)}")
    elif d2.name in _MKL_DTYPES:
        if d1 != d2:
            raise RuntimeError(f"expected scalar type {_sn(d2)} but found {_sn(d1)}")
    else:
        _torch_addmm_impl(s1[1:], d1, s2[1:], d2)


def _torch_bmm(s1, d1, s2, d2):
    _torch_bmm_checks(s1, s2)
    _torch_bmm_kernel(s1, d1, s2, d2, "bmm")


def _elem_strides(x):
    return tuple(s // x.itemsize for s in x.strides) if x.itemsize else x.strides


def _torch_matmul(a, b):
    """at::matmul(a, b) for tapegrad tensors a and b: raises PyTorch's error, if any."""
    xa, xb = a._data, b._data
    sa, sb, da, db = xa.shape, xb.shape, xa.dtype, xb.dtype
    na, nb = len(sa), len(sb)
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    if na == 1 and nb == 1:
        return _torch_dot(sa, da, sb, db)
    if na == 2 and nb == 1:
        return _torch_mv(sa, da, sb, db)
    if na == 1 and nb == 2:
        return _torch_mm((1,) + sa, da, sb, db)
    if na == 2 and nb == 2:
        return _torch_mm(sa, da, sb, db)
    big_a = na >= nb
    if (na if big_a else nb) >= 3 and (nb if big_a else na) <= 2:  # should_fold
        fold = (b if big_a else a).requires_grad
        if not fold and na != 2:
            t1, shape = (xa, sa) if big_a else (xb, sb[:-2] + (sb[-1], sb[-2]))
            st = _elem_strides(t1)
            if not big_a:
                st = st[:-2] + (st[-1], st[-2])
            fold = t1.size == 0 or all(st[i] == st[i + 1] * shape[i + 1] for i in range(len(shape) - 2))
        if fold:
            if big_a:
                s1, d1, s2, d2 = sa, da, sb, db
            else:
                s1, d1, d2 = sb[:-2] + (sb[-1], sb[-2]), db, da
                s2 = (sa[1], sa[0]) if na == 2 else sa
            folded = (int(np.prod(s1[:-1])), s1[-1])
            return _torch_mm(folded, d1, s2, d2) if len(s2) == 2 else _torch_mv(folded, d1, s2, d2)
    if na == 3 and nb == 3 and sa[0] != sb[0]:  # PyTorch squeezes a batch of one that needs a gradient
        if sa[0] == 1 and a.requires_grad:
            return _torch_matmul(a[0], b)
        if sb[0] == 1 and b.requires_grad:
            return _torch_matmul(a, b[0])
    batch = _torch_broadcast(sa[:-2], sb[:-2])
    B = int(np.prod(batch))
    n, m1 = (sa[-2] if na > 1 else 1), sa[-1]
    m2, p = (sb[-2], sb[-1]) if nb > 1 else (sb[0], 1)
    return _torch_bmm((B, n, m1), da, (B, m2, p), db)


def _matmul_failure(a, b, op):
    """The error path of matmul's checks: PyTorch's error, or none where PyTorch computes the product (bool
    products with no terms). PyTorch's message names the kernel matmul reached (mm, mv, dot, bmm): tapegrad's
    names the operator in front and the operands after it."""
    sa, sb = a._data.shape, b._data.shape
    about = f" (operands of shapes {_fmt(sa)} and {_fmt(sb)}, dtypes {a.dtype.name} and {b.dtype.name})"
    try:
        _torch_matmul(a, b)
    except (RuntimeError, NotImplementedError, IndexError) as e:
        raise type(e)(f"{op}: {e}{about}") from None
    if a._data.dtype != b._data.dtype:  # PyTorch returns empty products of mixed dtypes; tapegrad does not
        raise RuntimeError(f"{op}: expected both operands to have the same dtype{about}")


# Large products split over tapegrad's intra-op threads (once engaged: see tapegrad/_threads.py),
# 2-D ones by rows of the output, batched ones over the batch. Every output element is computed by
# the same BLAS call pattern as in the whole product, so the numbers do not change: batched products
# are one GEMM per matrix anyway; row chunks start at multiples of _SPLIT_ROWS (a multiple of the
# BLAS kernels' row unroll: OpenBLAS's double-precision kernel on AVX-512 computes a ragged last
# tile of rows differently) and hold at least _SPLIT_MIN_PIECE multiply-adds (OpenBLAS's
# small-matrix kernels, used below about 1M, sum in another order).
_SPLIT_MIN_WORK = 1 << 23          # multiply-adds: below this a hand-off (20-40 us) costs more than it saves
_SPLIT_ROWS = 48
_SPLIT_MIN_PIECE = 3 << 19
_SPLIT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ENGAGED = _threads._ENGAGED       # products alone never engage the pool; before that, no check at all


def _matmul_arrays(a, b):
    """np.matmul(a, b) on arrays, split over the intra-op threads when it is large."""
    if (_ENGAGED[0] and a.__class__ is np.ndarray and b.__class__ is np.ndarray and a.ndim >= 2 and b.ndim >= 2
            and a.dtype in _SPLIT_DTYPES and b.dtype == a.dtype):
        M, K = a.shape[-2:]
        N = b.shape[-1]
        mnk = M * N * K
        if mnk * max(a.size // max(1, M * K), b.size // max(1, K * N)) >= _SPLIT_MIN_WORK:
            t = _threads.intraop_threads()
            if t > 1:
                out = _split_matmul(a, b, t, M, N, K)
                if out is not None:
                    return out
    return np.matmul(a, b)


def _split_matmul(a, b, t, M, N, K):
    if a.ndim == 2 and b.ndim == 2:
        if N < 8 or K < 8:   # products with a vector side are GEMV calls: leave them whole
            return None
        t = min(t, M // _SPLIT_ROWS, (M * N * K) // _SPLIT_MIN_PIECE)
        if t < 2:
            return None
        rows = -(-M // _SPLIT_ROWS)
        bounds = [0] + [min(M, (rows * j + t // 2) // t * _SPLIT_ROWS) for j in range(1, t)] + [M]
        if any(hi - lo < _SPLIT_ROWS or (hi - lo) * N * K < _SPLIT_MIN_PIECE for lo, hi in zip(bounds, bounds[1:])):
            return None
        out = np.empty((M, N), dtype=a.dtype)
        _threads.parallel_for(lambda lo, hi: np.matmul(a[lo:hi], b, out=out[lo:hi]), bounds)
        return out
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    B = batch[0] if batch else 1
    t = min(t, B)
    if t < 2:
        return None
    nd = len(batch) + 2
    sa = a.ndim == nd and a.shape[0] == B    # operands that broadcast along the first batch axis are whole
    sb = b.ndim == nd and b.shape[0] == B
    out = np.empty(batch + (M, N), dtype=a.dtype)

    def work(lo, hi):
        np.matmul(a[lo:hi] if sa else a, b[lo:hi] if sb else b, out=out[lo:hi])

    _threads.parallel_for(work, [B * j // t for j in range(t + 1)])
    return out


def _matmul_name(sa, sb, needs_a):
    """PyTorch's grad_fn name for matmul(a, b), a and b of shapes `sa` and `sb`: that of the last operator
    matmul dispatches to (aten/src/ATen/native/LinearAlgebra.cpp, _matmul_impl)."""
    na, nb = len(sa), len(sb)
    if na == 3 and nb == 3 and sa[0] == 1 != sb[0] and needs_a:  # a's batch of one broadcast: a[0] @ b
        sa, na = sa[1:], 2
    if na <= 2 and nb <= 2:
        return (("DotBackward0", "SqueezeBackward4"), ("MvBackward0", "MmBackward0"))[na - 1][nb - 1]
    if na == 2 and needs_a:
        # the batch of b folded into one mm, then transposed back: a copy unless the transpose is contiguous
        m, n = sa[0], sb[-1]
        return "TransposeBackward0" if m <= 1 or n <= 1 or 0 in sb[:-2] else "CloneBackward0"
    return "UnsafeViewBackward0"  # batched or folded products, viewed into the result's shape


class Matmul(Function):
    def name(self):  # PyTorch's node is that of mm, mv, dot, bmm, ..., as matmul dispatches
        d = self.__dict__
        shapes = d.get("shapes")
        if shapes is None:
            return "MatmulBackward0"
        return d.get("op_name") or _matmul_name(shapes[0], shapes[1], d.get("needs_input_grad", (True,))[0])

    @staticmethod
    def forward(ctx, a, b, op_name=None):
        ctx.save_for_backward(a, b)
        ctx.shapes = a.shape, b.shape
        if op_name is not None:  # bmm, vdot: named by the call, not by the shapes
            ctx.op_name = op_name
        return _matmul_arrays(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = a._data.ndim, b._data.ndim
        if na == 1 and nb == 1:
            return g * b, g * a
        A = a.unsqueeze(0) if na == 1 else a
        B = b.unsqueeze(-1) if nb == 1 else b
        G = g.unsqueeze(-2) if na == 1 else g
        G = G.unsqueeze(-1) if nb == 1 else G
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = matmul(G, B.mT)
            if na == 1:
                ga = ga.squeeze(-2)
        if ctx.needs_input_grad[1]:
            if nb <= 2 and A.dim() > 2:  # reduce the batch inside the product, not after it
                k, m = A.shape[-1], G.shape[-1]
                gb = matmul(A.reshape(-1, k).mT, G.reshape(-1, m))
            else:
                gb = matmul(A.mT, G)
            if nb == 1:
                gb = gb.squeeze(-1)
        return ga, gb


@tensor_method("matmul", "__matmul__")
def matmul(input, other, *, out=None):
    return _matmul(input, other, out)


def _matmul(input, other, out, op_name=None):
    if _AUTOCAST[0] is not None:  # inside torch.autocast: computed in the autocast dtype (tapegrad/amp.py)
        input, other = _amp._cast(input, other)
    _check_matmul(input, other, "matmul")
    r = Matmul.apply(input, other) if op_name is None else Matmul.apply(input, other, op_name=op_name)
    if out is not None:
        from .elementwise import _out

        return _out(r, out)
    return r


@tensor_method("__rmatmul__")
def _rmatmul(self, other):
    if not isinstance(other, Tensor):  # as PyTorch: Python's "unsupported operand type(s) for @"
        return NotImplemented
    return matmul(other, self)


def _need_tensor(x, op, arg):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


@tensor_method
def mm(input, mat2, *, out=None):
    _need_tensor(input, "mm", "input")
    _need_tensor(mat2, "mm", "mat2")
    a, b = input._data, mat2._data
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0] or a.dtype != b.dtype or a.dtype.kind == "b":
        _torch_mm(a.shape, a.dtype, b.shape, b.dtype)
    return matmul(input, mat2, out=out)


@tensor_method
def bmm(input, mat2, *, out=None):
    _need_tensor(input, "bmm", "input")
    _need_tensor(mat2, "bmm", "mat2")
    a, b = input._data, mat2._data
    if (a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1] or a.dtype != b.dtype
            or a.dtype.kind == "b"):
        _torch_bmm(a.shape, a.dtype, b.shape, b.dtype)
    _check_matmul(input, mat2, "bmm")
    return _matmul(input, mat2, out, "BmmBackward0")


@tensor_method
def mv(input, vec, *, out=None):
    _need_tensor(input, "mv", "input")
    _need_tensor(vec, "mv", "vec")
    a, b = input._data, vec._data
    if a.ndim != 2 or b.ndim != 1 or a.shape[1] != b.shape[0] or a.dtype != b.dtype or a.dtype.kind == "b":
        _torch_mv(a.shape, a.dtype, b.shape, b.dtype)
    return matmul(input, vec, out=out)


@tensor_method
def dot(input, tensor, *, out=None):
    _check_dot(input, tensor, "dot")
    return matmul(input, tensor, out=out)


def _check_dot(input, tensor, op):
    _need_tensor(input, op, "input")
    _need_tensor(tensor, op, "tensor" if op == "dot" else "other")
    a, b = input._data, tensor._data
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape or a.dtype != b.dtype or a.dtype.kind == "b":
        _torch_dot(a.shape, a.dtype, b.shape, b.dtype)


@tensor_method
def vdot(input, other):
    from .elementwise import conj

    _check_dot(input, other, "vdot")
    return _matmul(conj(input), other, None, "VdotBackward0")


@tensor_method
def inner(input, other):
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, dims=([-1], [-1]))


@tensor_method("outer", "ger")
def outer(input, vec2):
    for name, t in (("self", input), ("vec2", vec2)):
        if t.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.dim()}-D")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


def _scaled_sum(input, prod, beta, alpha):
    """beta * input + alpha * prod, with PyTorch's rule that beta=0 ignores input (even NaN)."""
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        shape = np.broadcast_shapes(input._data.shape, prod._data.shape)
        return prod if prod._data.shape == shape else prod.expand(shape)
    return prod + (input * beta if beta != 1 else input)


class Addmm(Function):
    """beta * input + alpha * (mat1 @ mat2), one node as in PyTorch (AddmmBackward0); beta=0 ignores input (even
    NaN) but still gives it a zero gradient (maybe_multiply(grad, beta)). The engine sums input's gradient down to
    its broadcast shape."""

    @staticmethod
    def forward(ctx, c, a, b, beta, alpha):
        need = ctx.needs_input_grad
        ctx.save_for_backward(a if need[2] else None, b if need[1] else None)
        ctx.beta, ctx.alpha = beta, alpha
        p = _matmul_arrays(a, b)
        if alpha != 1:
            p = p * p.dtype.type(alpha)
        if beta == 0:
            return np.array(np.broadcast_to(p, p.shape))
        return p + (c * c.dtype.type(beta) if beta != 1 else c)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need, beta, alpha = ctx.needs_input_grad, ctx.beta, ctx.alpha
        gc = (g if beta == 1 else g * beta) if need[0] else None
        ga = gb = None
        if need[1]:
            ga = matmul(g, b.mT)
            ga = ga if alpha == 1 else ga * alpha
        if need[2]:
            gb = matmul(a.mT, g)
            gb = gb if alpha == 1 else gb * alpha
        return gc, ga, gb, None, None


def _check_addmm(input, mat1, mat2):
    for name, t in (("input", input), ("mat1", mat1), ("mat2", mat2)):
        _need_tensor(t, "addmm", name)
    dc, d1, d2 = input._data.dtype, mat1._data.dtype, mat2._data.dtype
    if dc != d2:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_sn(dc)} and {_sn(d2)}")
    if d1 != d2:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_sn(d1)} and {_sn(d2)}")
    for name, t in (("mat1", mat1), ("mat2", mat2)):
        if t._data.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {t._data.ndim}-D tensor")
    (n, k), (k2, m) = mat1._data.shape, mat2._data.shape
    if k != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    shape = input._data.shape
    if shape != (n, m):
        _torch_expand(shape, dc, (n, m))
    if d1.kind == "b":
        _torch_addmm_impl((n, k), d1, (k2, m), d2)


@tensor_method
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    from .elementwise import _out

    if _AUTOCAST[0] is not None:  # inside torch.autocast: computed in the autocast dtype (tapegrad/amp.py)
        input, mat1, mat2 = _amp._cast(input, mat1, mat2)
    _check_addmm(input, mat1, mat2)
    if input._data.dtype.kind in "iu":  # PyTorch casts the scalars to the integer dtype (0.5 -> 0)
        beta, alpha = int(beta), int(alpha)
    return _out(Addmm.apply(input, mat1, mat2, beta, alpha), out)


@tensor_method
def addmm_(input, mat1, mat2, *, beta=1, alpha=1):
    return input._inplace(addmm(input, mat1, mat2, beta=beta, alpha=alpha), "addmm_")


@tensor_method
def addmv(input, mat, vec, *, beta=1, alpha=1):
    for name, t in (("input", input), ("mat", mat), ("vec", vec)):
        _need_tensor(t, "addmv", name)
    c, a, b = input._data, mat._data, vec._data
    if (c.ndim > 1 or a.ndim != 2 or b.ndim != 1 or a.shape[1] != b.shape[0] or c.size not in (1, a.shape[0])
            or not c.dtype == a.dtype == b.dtype or a.dtype.kind == "b"):
        _torch_addmv(c.shape, c.dtype, a.shape, a.dtype, b.shape, b.dtype)
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def _check_baddbmm(input, batch1, batch2):
    for name, t in (("input", input), ("batch1", batch1), ("batch2", batch2)):
        _need_tensor(t, "baddbmm", name)
    c, a, b = input._data, batch1._data, batch2._data
    s1, s2 = a.shape, b.shape
    if (a.ndim == 3 and b.ndim == 3 and s1[0] == s2[0] and s1[2] == s2[1] and c.shape == (s1[0], s1[1], s2[2])
            and c.dtype == a.dtype == b.dtype and a.dtype.kind != "b"):
        return
    _torch_expand(c.shape, c.dtype, (_size(s1, 0), _size(s1, 1), _size(s2, 2)))
    if c.dtype != a.dtype:
        raise RuntimeError(f"Input dtypes must be the same, got: input {_cn(c.dtype)}, batch1: {_cn(a.dtype)}, "
                           f"batch2: {_cn(b.dtype)}")
    _torch_bmm_checks(s1, s2)
    _torch_bmm_kernel(s1, a.dtype, s2, b.dtype, "baddbmm")


@tensor_method
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    _check_baddbmm(input, batch1, batch2)
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


@tensor_method
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    c, a, b = input._data, batch1._data, batch2._data
    s1, s2 = a.shape, b.shape
    if not (a.ndim == 3 and b.ndim == 3 and s1[0] == s2[0] and s1[2] == s2[1] and c.shape == (s1[1], s2[2])
            and c.dtype == a.dtype == b.dtype and a.dtype.kind != "b"):
        _torch_expand(c.shape, c.dtype, (_size(s1, 1), _size(s2, 2)))
        for name, s in (("batch1", s1), ("batch2", s2)):
            if len(s) != 3:
                raise RuntimeError(f"{name} must be a 3D tensor")
        if s1[0] != s2[0]:
            raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {s1[0]} and {s2[0]}")
        if s1[2] != s2[1]:
            raise RuntimeError(f"Incompatible matrix sizes for bmm ({s1[1]}x{s1[2]} and {s2[1]}x{s2[2]})")
        if s1[0] != 0:  # one addmm_ per matrix
            if c.dtype != b.dtype:
                raise RuntimeError(f"self and mat2 must have the same dtype, but got {_sn(c.dtype)} and {_sn(b.dtype)}")
            if a.dtype != b.dtype:
                raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_sn(a.dtype)} and "
                                   f"{_sn(b.dtype)}")
            _torch_addmm_impl(s1[1:], a.dtype, s2[1:], b.dtype)
    return _scaled_sum(input, bmm(batch1, batch2).sum(0), beta, alpha)


@tensor_method
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    for name, t in (("vec1", vec1), ("vec2", vec2)):
        if t.dim() != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {t.dim()}-D")
    _torch_expand(input._data.shape, input._data.dtype, (vec1._data.shape[0], vec2._data.shape[0]))
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha)


def chain_matmul(*matrices):
    return multi_dot(matrices)


def multi_dot(tensors):
    """linalg.multi_dot: the product of a chain of matrices, in the cheapest order."""
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    first, last = tensors[0].dim() == 1, tensors[-1].dim() == 1
    ts = list(tensors)
    if first:
        ts[0] = ts[0].unsqueeze(0)
    if last:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i, t in enumerate(ts):
        if t.dim() != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.dim()}D")
    for i in range(n - 1):
        if ts[i].shape[1] != ts[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {_fmt(ts[i].shape)} and "
                               f"{_fmt(ts[i + 1].shape)} cannot be multiplied")
    dims = [t.shape[0] for t in ts] + [ts[-1].shape[1]]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):  # matrix-chain order, as numpy.linalg.multi_dot
        for i in range(n - length):
            j = i + length
            cost[i][j] = float("inf")
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def chain(i, j):
        return ts[i] if i == j else mm(chain(i, split[i][j]), chain(split[i][j] + 1, j))

    r = chain(0, n - 1)
    if first:
        r = r.squeeze(0)
    if last:
        r = r.squeeze(-1)
    return r


# ---------------------------------------------------------------- tril / triu / diag / trace
class TriMask(Function):
    @staticmethod
    def forward(ctx, x, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        return np.triu(x, diagonal) if upper else np.tril(x, diagonal)

    @staticmethod
    def backward(ctx, g):
        return TriMask.apply(g, ctx.diagonal, ctx.upper), None, None


@tensor_method
def tril(input, diagonal=0, *, out=None):
    if input.dim() < 2:
        raise RuntimeError(f"tril: input tensor must have at least 2 dimensions, got shape {_fmt(input.shape)}")
    return TriMask.apply(input, int(diagonal), False)


@tensor_method
def triu(input, diagonal=0, *, out=None):
    if input.dim() < 2:
        raise RuntimeError(f"triu: input tensor must have at least 2 dimensions, got shape {_fmt(input.shape)}")
    return TriMask.apply(input, int(diagonal), True)


@tensor_method
def trace(input):
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return input.diagonal().sum()


class DiagEmbed(Function):
    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        from .movement import _diag_view

        ctx.args = (offset, d1, d2)
        n = x.shape[-1] + abs(offset)
        shape = list(x.shape[:-1])
        for d in sorted((d1, d2)):
            shape.insert(d, n)
        z = np.zeros(shape, dtype=x.dtype)
        _diag_view(z, offset, d1, d2)[...] = x
        return z

    @staticmethod
    def backward(ctx, g):
        from .movement import diagonal

        return diagonal(g, *ctx.args), None, None, None


@tensor_method
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    nd = input.dim() + 1
    d1, d2 = _wrap_dim(dim1, nd, "diag_embed"), _wrap_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    return DiagEmbed.apply(input, int(offset), d1, d2)


@tensor_method
def diag(input, diagonal=0):
    if input.dim() == 1:
        return DiagEmbed.apply(input, int(diagonal), 0, 1)
    if input.dim() == 2:
        return input.diagonal(diagonal).clone()  # a copy, as in PyTorch
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")


@tensor_method
def diagflat(input, offset=0):
    return DiagEmbed.apply(input.reshape(-1), int(offset), 0, 1)


# ---------------------------------------------------------------- einsum / tensordot / kron
def _contract(eq, arrays):
    """np.einsum, with two-operand contractions as one batched matrix product (BLAS)."""
    if len(arrays) == 2:
        lhs, out = eq.split("->")
        ta, tb = lhs.split(",")
        if len(set(ta)) == len(ta) and len(set(tb)) == len(tb):
            return _einsum2(ta, tb, out, *arrays)
    return np.einsum(eq, *arrays, optimize=len(arrays) > 2)


def _einsum2(ta, tb, out, a, b):
    lone_a = [i for i, c in enumerate(ta) if c not in tb and c not in out]
    lone_b = [i for i, c in enumerate(tb) if c not in ta and c not in out]
    if lone_a:
        a, ta = a.sum(axis=tuple(lone_a)), "".join(c for i, c in enumerate(ta) if i not in lone_a)
    if lone_b:
        b, tb = b.sum(axis=tuple(lone_b)), "".join(c for i, c in enumerate(tb) if i not in lone_b)
    batch = [c for c in ta if c in tb and c in out]
    con = [c for c in ta if c in tb and c not in out]
    left = [c for c in ta if c not in tb]
    right = [c for c in tb if c not in ta]
    size = {**{c: a.shape[i] for i, c in enumerate(ta)}, **{c: b.shape[i] for i, c in enumerate(tb)}}
    prod = lambda cs: int(np.prod([size[c] for c in cs], dtype=np.int64))  # noqa: E731
    a2 = a.transpose([ta.index(c) for c in batch + left + con]).reshape(prod(batch), prod(left), prod(con))
    b2 = b.transpose([tb.index(c) for c in batch + con + right]).reshape(prod(batch), prod(con), prod(right))
    r = np.matmul(a2, b2).reshape([size[c] for c in batch + left + right])
    order = batch + left + right
    return r.transpose([order.index(c) for c in out]) if order != list(out) else r


class Einsum(Function):
    def name(self):
        """PyTorch's name: that of the last operator its einsum composes (aten/src/ATen/native/Linear.cpp): the
        permute (one operand) or the product (more) when no subscript is summed, else the sum (one operand)
        or the view of the last pairwise product (more)."""
        eq = self.__dict__.get("equation")
        if eq is None:
            return "EinsumBackward0"
        lhs, out = eq.split("->")
        summed = any(c not in out for c in lhs if c != ",")
        if "," not in lhs:
            return "SumBackward1" if summed else "PermuteBackward0"
        return "ViewBackward0" if summed else "MulBackward0"

    @staticmethod
    def forward(ctx, equation, *arrays):
        ctx.equation = equation
        ctx.save_for_backward(*arrays)
        return _contract(equation, arrays)

    @staticmethod
    def backward(ctx, g):
        ins = ctx.saved_tensors
        lhs, out = ctx.equation.split("->")
        terms = lhs.split(",")
        grads = [None]
        for i, term in enumerate(terms):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(terms) if j != i]
            uniq = "".join(dict.fromkeys(term))
            avail = set(out).union(*others)
            target = "".join(c for c in uniq if c in avail)
            gi = Einsum.apply(",".join([out] + others) + "->" + target, g, *[x for j, x in enumerate(ins) if j != i])
            shape = ins[i].shape
            if target != uniq:  # letters summed away in forward: the gradient is a broadcast
                size = {c: shape[term.index(c)] for c in uniq}
                gi = gi.reshape([size[c] if c in target else 1 for c in uniq]).expand([size[c] for c in uniq])
            if uniq != term:  # a letter repeated within the operand ("ii->i"): write onto its diagonal
                gi = _EinsumDiag.apply(gi, term, uniq, tuple(shape))
            grads.append(gi)
        return tuple(grads)


class _EinsumDiag(Function):
    """The adjoint of taking a generalised diagonal (term "iij" read as uniq "ij"): zeros elsewhere."""

    @staticmethod
    def forward(ctx, g, term, uniq, shape):
        ctx.eq = term + "->" + uniq
        z = np.zeros(shape, dtype=g.dtype)
        strides = [sum(z.strides[k] for k, c in enumerate(term) if c == u) for u in uniq]
        np.lib.stride_tricks.as_strided(z, g.shape, strides, writeable=True)[...] = g
        return z

    @staticmethod
    def backward(ctx, gg):
        return Einsum.apply(ctx.eq, gg), None, None, None


def _sublist_equation(args):
    """einsum(op0, [0, 1], op1, [1, 2], [0, 2]): the sublist format."""
    def letters(sub):
        return "".join("..." if s is Ellipsis else "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[s]
                       for s in sub)

    n = len(args) // 2
    eq = ",".join(letters(s) for s in args[1:2 * n:2])
    if len(args) % 2:
        eq += "->" + letters(args[-1])
    return eq, list(args[0:2 * n:2])


def _normalise_equation(equation, operands):
    """Explicit output, ellipses as letters, broadcast operands: (equation, operands)."""
    eq = equation.replace(" ", "")
    for i, c in enumerate(equation):
        if not (c.isascii() and c.isalpha() or c in " ,.->"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, subscripts "
                               "must be in [a-zA-Z]")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError("einsum(): " + ("fewer" if len(operands) < len(terms) else "more") +
                           " operands were provided than specified in the equation (equation "
                           f"'{equation}' has {len(terms)}, got {len(operands)})")
    for i, (t, op) in enumerate(zip(terms, operands)):
        n = len(t) - 3 if "..." in t else len(t)
        if ("..." in t and op.dim() < n) or ("..." not in t and op.dim() != n):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) does not match the number "
                               f"of dimensions ({op.dim()}) for operand {i}" +
                               ("" if "..." in t else " and no ellipsis was given"))
    ell = ""
    if "..." in eq:
        nd = max(op.dim() - (len(t) - 3) for t, op in zip(terms, operands) if "..." in t)
        ell = "".join([c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq][:nd])
        terms = [t.replace("...", ell[nd - (op.dim() - len(t) + 3):] if nd > op.dim() - len(t) + 3 else ell)
                 if "..." in t else t for t, op in zip(terms, operands)]
        if arrow:
            rhs = rhs.replace("...", ell)
    letters = "".join(terms)
    if not arrow:
        rhs = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    for c in rhs:
        if rhs.count(c) > 1:
            raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
        if c not in letters:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                               "operand")
    size = {}
    for i, (t, op) in enumerate(zip(terms, operands)):
        seen = {}
        for c, s in zip(t, op.shape):
            if c in seen:  # a repeated subscript: a diagonal, of equal sizes
                if s != seen[c]:
                    raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but the sizes don't "
                                       f"match, {s} != {seen[c]}")
                continue
            seen[c] = s
            if size.get(c, 1) == 1:
                size[c] = s
            elif s not in (1, size[c]):
                raise RuntimeError(f"einsum(): subscript {c} has size {s} for operand {i} which does not broadcast "
                                   f"with previously seen size {size[c]} (subscript '{c}' has size {s} for an operand "
                                   f"but {size[c]} for another in equation '{equation}')")
    operands = [op if all(s == size[c] for c, s in zip(t, op.shape)) else op.expand([size[c] for c in t])
                for t, op in zip(terms, operands)]
    return ",".join(terms) + "->" + rhs, operands


def _check_einsum_contraction(eq, operands):
    """PyTorch contracts a subscript that two operands share, and that is summed, by bmm: no bool kernel and no
    type promotion there (products without a shared summed subscript promote)."""
    lhs, out = eq.split("->")
    terms = lhs.split(",")
    shared = [c for c in set(lhs) - set(out) - {","}
              if sum(1 for t, o in zip(terms, operands) if c in t and o.shape[t.index(c)] != 1) >= 2]
    if not shared:
        return
    dts = [o._data.dtype for o in operands]
    for d in dts[1:]:
        if d != dts[0]:
            raise RuntimeError(f"expected scalar type {_type_name(dts[0])} but found {_type_name(d)}")
    if dts[0].kind == "b":
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")


def einsum(*args):
    if args and not isinstance(args[0], str):
        equation, operands = _sublist_equation(args)
    else:
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    eq, operands = _normalise_equation(equation, operands)
    if len(operands) > 1:
        _check_einsum_contraction(eq, operands)
    rt = _dtype.result_type(*[o.dtype for o in operands]) if len(operands) > 1 else operands[0].dtype
    lhs, out = eq.split("->")
    if len(operands) == 1 and rt._cat <= 1 and set(lhs) - set(out):  # one operand summed: sum's int64
        rt = _dtype.int64
    operands = [o if o.dtype is rt else o.to(rt) for o in operands]
    return Einsum.apply(eq, *operands)


def tensordot(a, b, dims=2, out=None):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.dim() - dims, a.dim())), list(range(dims))
    else:
        da, db = [list(d) if isinstance(d, (list, tuple)) else [d] for d in dims]
    da, db = [d % max(a.dim(), 1) for d in da], [d % max(b.dim(), 1) for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[i]} in dim {i} "
                               f"and second has size {b.shape[j]} in dim {j}")
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    ta, tb = list(letters[:a.dim()]), list(letters[a.dim():a.dim() + b.dim()])
    for i, j in zip(da, db):
        tb[j] = ta[i]
    res = [c for i, c in enumerate(ta) if i not in da] + [c for j, c in enumerate(tb) if j not in db]
    return einsum("".join(ta) + "," + "".join(tb) + "->" + "".join(res), a, b)


@tensor_method
def kron(input, other):
    nd = max(input.dim(), other.dim())
    a = input.reshape((1,) * (nd - input.dim()) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.dim()) + tuple(other.shape))
    prod = a.reshape([s for d in a.shape for s in (d, 1)]) * b.reshape([s for d in b.shape for s in (1, d)])
    return prod.reshape([x * y for x, y in zip(a.shape, b.shape)])


# ---------------------------------------------------------------- cross / cdist / block_diag / vander
@tensor_method
def cross(input, other, dim=None):
    if dim is None:
        shape = np.broadcast_shapes(input._data.shape, other._data.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input (shapes {list(input.shape)} and "
                               f"{list(other.shape)})")
    return linalg_cross(input, other, dim=dim)


def linalg_cross(input, other, *, dim=-1):
    from .movement import broadcast_tensors, stack

    if input.dim() != other.dim():
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = _wrap_dim(dim, input.dim(), "linalg.cross")
    sa, sb = tuple(input.shape), tuple(other.shape)
    if sa[d] != 3 or sb[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {sa[d]} and {sb[d]}")
    try:
        a, b = broadcast_tensors(input, other) if sa != sb else (input, other)
    except RuntimeError:
        raise RuntimeError(f"linalg.cross: inputs of shapes {list(input.shape)} and {list(other.shape)} cannot be "
                           "broadcast") from None
    a0, a1, a2 = a.unbind(d)
    b0, b1, b2 = b.unbind(d)
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    from .reduce import vector_norm

    if x1.dim() < 2 or x2.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.dim()}D, X2 got: {x2.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: "
                           f"{x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    r1, r2 = x1.shape[-2], x2.shape[-2]
    mm_mode = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or
                          (compute_mode == "use_mm_for_euclid_dist_if_necessary" and (r1 > 25 or r2 > 25)))
    if mm_mode:  # PyTorch's _euclidean_dist: |x|^2 + |y|^2 - 2 x.y through one matrix product
        from .movement import cat

        n1, n2 = (x1 * x1).sum(-1, keepdim=True), (x2 * x2).sum(-1, keepdim=True)
        a = cat([x1 * -2, n1, n1.new_ones(n1.shape)], -1)
        b = cat([x2, n2.new_ones(n2.shape), n2], -1)
        return matmul(a, b.mT).clamp_min(0).sqrt()
    return vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, dim=-1)


class BlockDiag(Function):
    @staticmethod
    def forward(ctx, *mats):
        ctx.shapes = [m.shape for m in mats]
        rt = np.result_type(*mats) if mats else np.float32
        out = np.zeros((sum(m.shape[0] for m in mats), sum(m.shape[1] for m in mats)), dtype=rt)
        r = c = 0
        for m in mats:
            out[r:r + m.shape[0], c:c + m.shape[1]] = m
            r, c = r + m.shape[0], c + m.shape[1]
        return out

    @staticmethod
    def backward(ctx, g):
        grads, r, c = [], 0, 0
        for h, w in ctx.shapes:
            grads.append(g[r:r + h, c:c + w])
            r, c = r + h, c + w
        return tuple(grads)


def block_diag(*tensors):
    mats = []
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.dim()} dimensions")
        mats.append(t.reshape(1, -1) if t.dim() < 2 else t)
    if not mats:
        return Tensor._make(np.zeros((1, 0), dtype=_dtype.get_default_dtype().np))
    rt = _dtype.result_type(*[m.dtype for m in mats]) if len(mats) > 1 else mats[0].dtype
    return BlockDiag.apply(*[m if m.dtype is rt else m.to(rt) for m in mats])


def linalg_vander(x, *, N=None):
    from .movement import cat

    if x.dim() < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    cols = cat([x.new_ones(tuple(x.shape) + (1,)), x.unsqueeze(-1).expand(tuple(x.shape) + (n - 1,))], -1)
    return cols.cumprod(-1)


def vander(x, N=None, increasing=False):
    v = linalg_vander(x, N=N)
    return v if increasing else v.flip(-1)


# ---------------------------------------------------------------- decompositions: helpers
def _check_float(A, op):
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument 'A' must be Tensor, not {type(A).__name__}")
    if A._data.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_type_name(A._data.dtype)}")


def _check_matrix(A, op, square=False):
    _check_float(A, op)
    if A._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if square and A._data.shape[-1] != A._data.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are {A._data.shape[-2]} by "
                           f"{A._data.shape[-1]} matrices")


def _batch(a, k):
    return f"(Batch element {k}): " if a.ndim > 2 else ""


def _zero_pivot(m):
    """1-based index of the first zero pivot of LU with partial pivoting (LAPACK getrf's info), or 0."""
    a = np.array(m, dtype=np.float64)
    n = a.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0:
            return k + 1
        a[[k, p]] = a[[p, k]]
        a[k + 1:, k] /= a[k, k]
        a[k + 1:, k + 1:] -= np.outer(a[k + 1:, k], a[k, k + 1:])
    return 0


def _singular_info(a):
    """(batch index, zero pivot) of the first singular matrix in a batch."""
    for k, m in enumerate(a.reshape((-1,) + a.shape[-2:])):
        piv = _zero_pivot(m)
        if piv:
            return k, piv
    return 0, a.shape[-1]


def _raise_singular(a, op):
    k, piv = _singular_info(a)
    raise LinAlgError(f"{op}: {_batch(a, k)}The diagonal element {piv} is zero, the inversion could not be completed "
                      "because the input matrix is singular.")


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _eps(x):
    return float(np.finfo(x.dtype).eps)


# ---------------------------------------------------------------- solve / inv / det / slogdet
class Inv(Function):
    @staticmethod
    def forward(ctx, a):
        try:
            y = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            _raise_singular(a, "linalg.inv")
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        yt = y.mT
        return -matmul(matmul(yt, g), yt)


def inv(A, *, out=None):
    _check_matrix(A, "linalg.inv", square=True)
    return Inv.apply(A)


@tensor_method
def inverse(input, *, out=None):
    return inv(input)


class Solve(Function):
    """X with A X = B, for B of shape (..., n, k); batch dimensions broadcast."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            x = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            k, _ = _singular_info(a)
            raise LinAlgError(f"torch.linalg.solve: {_batch(a, k)}The solver failed because the input matrix is "
                              "singular.") from None
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = Solve.apply(a.mT, g)
        return (-matmul(gb, x.mT) if ctx.needs_input_grad[0] else None), gb


def solve(A, B, *, left=True, out=None):
    _check_matrix(A, "linalg.solve", square=True)
    _check_float(B, "linalg.solve")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_type_name(A._data.dtype)} and B of type {_type_name(B._data.dtype)} instead")
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if not left:  # X A = B; like PyTorch, B must be a matrix (or batch of them) here
        if vector:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation XA = B "
                               f"({A.shape[-2]}x{A.shape[-1]} and {B.shape[-1]}x1)")
        return solve(A.mT, B.mT).mT
    n = A.shape[-1]
    if (B.shape[-1] if vector else B.shape[-2]) != n:
        rows, cols = (B.shape[-1], 1) if vector else tuple(B.shape[-2:])
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({A.shape[-2]}x{A.shape[-1]} and {rows}x{cols})")
    if vector:
        return Solve.apply(A, B.unsqueeze(-1)).squeeze(-1)
    return Solve.apply(A, B)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    _check_matrix(A, "linalg.solve_triangular", square=True)
    if not left:
        return solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    T = triu(A, 1 if unitriangular else 0) if upper else tril(A, -1 if unitriangular else 0)
    if unitriangular:
        from .creation import eye

        T = T + eye(A.shape[-1], dtype=A.dtype)
    return Solve.apply(T, B)


class Det(Function):
    @staticmethod
    def forward(ctx, a):
        d = np.asarray(np.linalg.det(a), dtype=a.dtype)
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, g):
        # g det(A) A^-T; like PyTorch, an exactly singular matrix (det == 0) gets a zero gradient
        a, d = ctx.saved_tensors
        singular = d._data == 0
        if singular.any():
            from .elementwise import where

            eye = Tensor._make(np.eye(a.shape[-1], dtype=a._data.dtype))
            a = where(Tensor._make(singular[..., None, None]), eye, a)
        return (g * d).unsqueeze(-1).unsqueeze(-1) * Inv.apply(a).mT


def det(A):
    _check_matrix(A, "linalg.det", square=True)
    return Det.apply(A)


Tensor.det = det


class Slogdet(Function):
    @staticmethod
    def forward(ctx, a):
        sign, logabs = np.linalg.slogdet(a)
        sign, logabs = np.asarray(sign, dtype=a.dtype), np.asarray(logabs, dtype=a.dtype)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(a)
        return sign, logabs

    @staticmethod
    def backward(ctx, g_sign, g_logabs):
        (a,) = ctx.saved_tensors
        if g_logabs is None:
            return None
        return g_logabs.unsqueeze(-1).unsqueeze(-1) * Inv.apply(a).mT


_SlogdetResult = _return_type("slogdet", ("sign", "logabsdet"))
_LinalgSlogdetResult = _return_type("linalg_slogdet", ("sign", "logabsdet"))


def linalg_slogdet(A):
    _check_matrix(A, "linalg.slogdet", square=True)
    return _LinalgSlogdetResult(*Slogdet.apply(A))


@tensor_method
def slogdet(input):
    _check_matrix(input, "slogdet", square=True)
    return _SlogdetResult(*Slogdet.apply(input))


@tensor_method
def logdet(input):
    from .elementwise import where

    sign, logabs = Slogdet.apply(input)
    return where(sign < 0, float("nan"), logabs)


# ---------------------------------------------------------------- cholesky / qr
def _chol_fail(a):
    for k, m in enumerate(a.reshape((-1,) + a.shape[-2:])):
        for order in range(1, m.shape[-1] + 1):
            try:
                np.linalg.cholesky(m[:order, :order])
            except np.linalg.LinAlgError:
                return k, order
    return 0, 0


class Cholesky(Function):
    @staticmethod
    def forward(ctx, a, op):
        try:
            L = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            k, order = _chol_fail(a)
            raise LinAlgError(f"{op}: {_batch(a, k)}The factorization could not be completed because the input is "
                              f"not positive-definite (the leading minor of order {order} is not "
                              "positive-definite).") from None
        ctx.save_for_backward(L)
        return L

    @staticmethod
    def backward(ctx, g):
        # Murray (2016): gA = L^-T Phi(L^T gL) L^-1, symmetrised
        (L,) = ctx.saved_tensors
        P = tril(matmul(L.mT, g))
        P = (P + tril(P, -1).mT) * 0.5
        gA = solve_triangular(L.mT, P, upper=True)
        return solve_triangular(L, gA, upper=False, left=False), None


def linalg_cholesky(A, *, upper=False, out=None):
    _check_matrix(A, "linalg.cholesky", square=True)
    L = Cholesky.apply(A, "linalg.cholesky")
    return L.mT if upper else L


@tensor_method
def cholesky(input, upper=False, *, out=None):
    return linalg_cholesky(input, upper=upper)


@tensor_method
def cholesky_solve(B, L, upper=False):
    if upper:
        return solve_triangular(L, solve_triangular(L.mT, B, upper=False), upper=True)
    return solve_triangular(L.mT, solve_triangular(L, B, upper=False), upper=True)


@tensor_method
def cholesky_inverse(L, upper=False):
    from .creation import eye

    return cholesky_solve(eye(L.shape[-1], dtype=L.dtype), L, upper)


def _copyltu(M):
    return tril(M) + tril(M, -1).mT


def _qr_grad_square(q, r, gq, gr):
    """A = QR with R square (m >= n): gA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q."""
    M = matmul(r, gr.mT) - matmul(gq.mT, q)
    b = gq + matmul(q, _copyltu(M))
    return Solve.apply(r, b.mT).mT


class QR(Function):
    @staticmethod
    def forward(ctx, a, mode):
        ctx.mode = mode
        ctx.set_materialize_grads(False)
        if mode == "r":
            r = np.linalg.qr(a, mode="r")
            return np.zeros((0,), dtype=a.dtype), r
        q, r = np.linalg.qr(a, mode=mode)
        ctx.save_for_backward(a, q, r)
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        m, n = ctx.saved_tensors[0].shape[-2:]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        a, q, r = ctx.saved_tensors
        gq = q.new_zeros(q.shape) if gq is None else gq
        gr = r.new_zeros(r.shape) if gr is None else gr
        if m >= n:
            return _qr_grad_square(q, r, gq, gr), None
        from .movement import cat

        y, u, gu, gv = a[..., m:], r[..., :m], gr[..., :m], gr[..., m:]
        gx = _qr_grad_square(q, u, gq + matmul(y, gv.mT), gu)
        return cat([gx, matmul(q, gv)], -1), None


_QRResult = _return_type("qr", ("Q", "R"))
_LinalgQRResult = _return_type("linalg_qr", ("Q", "R"))


def linalg_qr(A, mode="reduced", *, out=None):
    _check_matrix(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    return _LinalgQRResult(*QR.apply(A, mode))


@tensor_method
def qr(input, some=True, *, out=None):
    return _QRResult(*linalg_qr(input, "reduced" if some else "complete"))


# ---------------------------------------------------------------- svd / eigh
class SVD(Function):
    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(u, s, vh)
        ctx.shape = a.shape
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        m, n = ctx.shape[-2:]
        k = min(m, n)
        if u.shape[-1] != k:
            u, gu = u[..., :k], (gu[..., :k] if gu is not None else None)
        if vh.shape[-2] != k:
            vh, gvh = vh[..., :k, :], (gvh[..., :k, :] if gvh is not None else None)
        if gu is None and gvh is None:
            return (matmul(u * gs.unsqueeze(-2), vh) if gs is not None else None), None
        # gA = U [(skew(U^T gU) / E) S + S (skew(V^T gV) / E) + diag(gS)] V^T
        #      + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T),   E_ij = s_j^2 - s_i^2
        s2 = s * s
        E = s2.unsqueeze(-2) - s2.unsqueeze(-1)
        E = E + Tensor._make(np.eye(k, dtype=E._data.dtype))
        inner = 0
        if gu is not None:
            UtgU = matmul(u.mT, gu)
            inner = (UtgU - UtgU.mT) * s.unsqueeze(-2) / E
        if gvh is not None:
            VtgV = matmul(vh, gvh.mT)
            inner = inner + s.unsqueeze(-1) * (VtgV - VtgV.mT) / E
        if gs is not None:
            inner = inner + diag_embed(gs)
        ga = matmul(matmul(u, inner), vh)
        if gu is not None and m > k:
            proj = gu - matmul(u, matmul(u.mT, gu))
            ga = ga + matmul(proj / s.unsqueeze(-2), vh)
        if gvh is not None and n > k:
            proj = gvh - matmul(matmul(gvh, vh.mT), vh)
            ga = ga + matmul(u / s.unsqueeze(-2), proj)
        return ga, None


_LinalgSVDResult = _return_type("linalg_svd", ("U", "S", "Vh"))
_SVDResult = _return_type("svd", ("U", "S", "V"))


def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    _check_matrix(A, "linalg.svd")
    return _LinalgSVDResult(*SVD.apply(A, full_matrices))


def svdvals(A, *, driver=None, out=None):
    _check_matrix(A, "linalg.svdvals")
    return SVD.apply(A, False)[1]


@tensor_method
def svd(input, some=True, compute_uv=True, *, out=None):
    U, S, Vh = linalg_svd(input, full_matrices=not some)
    if not compute_uv:
        return _SVDResult(U.new_zeros(U.shape).detach(), S, Vh.new_zeros(Vh.shape).detach())
    return _SVDResult(U, S, Vh.mT)


class Eigh(Function):
    @staticmethod
    def forward(ctx, a, uplo):
        w, v = np.linalg.eigh(a, UPLO=uplo)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        # gA = V (diag(gw) + F o sym-projection(V^T gV)) V^T, F_ij = 1 / (w_j - w_i)
        w, v = ctx.saved_tensors
        if gv is None:
            return matmul(v * gw.unsqueeze(-2), v.mT), None
        VtgV = matmul(v.mT, gv)
        E = w.unsqueeze(-2) - w.unsqueeze(-1)
        E = E + Tensor._make(np.eye(w.shape[-1], dtype=E._data.dtype))
        inner = (VtgV - VtgV.mT) * 0.5 / E
        if gw is not None:
            inner = inner + diag_embed(gw)
        return matmul(matmul(v, inner), v.mT), None


_EighResult = _return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))


def eigh(A, UPLO="L", *, out=None):
    _check_matrix(A, "linalg.eigh", square=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return _EighResult(*Eigh.apply(A, UPLO))


def eigvalsh(A, UPLO="L", *, out=None):
    return eigh(A, UPLO)[0]


# ---------------------------------------------------------------- pinv / lstsq / rank / power
def _tol(s, atol, rtol, m, n):
    """PyTorch's cutoff for small singular values: max(atol, rtol * s_max), per matrix of the batch."""
    if rtol is None:
        rtol = _eps(s) * max(m, n) if atol is None or not np.any(np.asarray(atol) > 0) else 0.0
    smax = np.abs(s).max(-1) if s.shape[-1] else np.zeros(s.shape[:-1], s.dtype)
    tol = np.maximum(0.0 if atol is None else np.asarray(atol), np.asarray(rtol) * smax)
    return np.asarray(tol, dtype=s.dtype)[..., None]


def _pinv_grad(g, p, a):
    """PyTorch's pinv_backward: the gradient of A -> pinv(A) (valid at any rank)."""
    m, n = a.shape[-2:]
    pt, gt = p.mT, g.mT
    if m <= n:
        K = matmul(gt, p)
        KpT = matmul(K, pt)
        return -matmul(p, K).mT + KpT - matmul(matmul(a, p), KpT) + matmul(matmul(pt, p), gt - matmul(K, a))
    K = matmul(p, gt)
    pTK = matmul(pt, K)
    return -matmul(K, p).mT + matmul(matmul(gt - matmul(a, K), p), pt) + pTK - matmul(matmul(pTK, p), a)


class Pinv(Function):
    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        m, n = a.shape[-2:]
        if hermitian:
            w, v = np.linalg.eigh(a)
            keep = np.abs(w) > _tol(w, atol, rtol, m, n)
            winv = np.where(keep, 1 / np.where(keep, w, 1), 0).astype(a.dtype, copy=False)
            p = (v * winv[..., None, :]) @ _mT(v)
        else:
            u, s, vh = np.linalg.svd(a, full_matrices=False)
            keep = s > _tol(s, atol, rtol, m, n)
            sinv = np.where(keep, 1 / np.where(keep, s, 1), 0).astype(a.dtype, copy=False)
            p = (_mT(vh) * sinv[..., None, :]) @ _mT(u)
        ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, g):
        a, p = ctx.saved_tensors
        return _pinv_grad(g, p, a), None, None, None


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    _check_matrix(A, "linalg.pinv")
    atol = atol._data if isinstance(atol, Tensor) else atol
    rtol = rtol._data if isinstance(rtol, Tensor) else rtol
    return Pinv.apply(A, atol, rtol, hermitian)


@tensor_method
def pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


class Lstsq(Function):
    """The minimum-norm least-squares solution X = pinv(A) B, by SVD."""

    @staticmethod
    def forward(ctx, a, b, rcond):
        m, n = a.shape[-2:]
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        keep = s > (_eps(s) * max(m, n) if rcond is None else rcond) * (s[..., :1] if s.shape[-1] else 0)
        sinv = np.where(keep, 1 / np.where(keep, s, 1), 0).astype(a.dtype, copy=False)
        x = _mT(vh) @ (sinv[..., :, None] * (_mT(u) @ b))
        ctx.mark_non_differentiable(s)
        ctx.save_for_backward(a, b)
        return x, keep.sum(-1).astype(np.int64), s

    @staticmethod
    def backward(ctx, g, _rank, _s):
        a, b = ctx.saved_tensors
        p = Pinv.apply(a, None, None, False)
        ga = _pinv_grad(matmul(g, b.mT), p, a) if ctx.needs_input_grad[0] else None
        return ga, matmul(p.mT, g), None


_LstsqResult = _return_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))


def lstsq(A, B, rcond=None, *, driver=None):
    _need_tensor(A, "linalg_lstsq", "self")
    _need_tensor(B, "linalg_lstsq", "b")
    if A._data.dtype != B._data.dtype:  # PyTorch's checks, in its order
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {_type_name(A._data.dtype)} and other's dtype {_type_name(B._data.dtype)}")
    if A._data.dtype.kind not in "fc":
        raise RuntimeError("This function doesn't handle types other than float and double")
    if A.dim() < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if not (A.dim() >= B.dim() and A.dim() - B.dim() <= 1):
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss), "
                           f"got {driver}")
    driver = driver or "gelsy"
    vector = B.dim() == A.dim() - 1
    Bm = B.unsqueeze(-1) if vector else B
    m, n = A.shape[-2:]
    if Bm.dim() < 2 or Bm.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2), got A of shape "
                           f"{list(A.shape)} and B of shape {list(B.shape)}")
    X, rank, s = Lstsq.apply(A, Bm, rcond)
    empty = A.new_zeros((0,)).detach()
    residuals = empty
    if driver != "gelsy" and m > n and bool((rank._data == n).all()):
        residuals = ((matmul(A, X) - Bm) ** 2).sum(-2)
    rank = rank if driver != "gels" else Tensor._make(np.zeros(0, np.int64))
    sv = s if driver in ("gelsd", "gelss") else empty
    return _LstsqResult(X.squeeze(-1) if vector else X, residuals, rank, sv)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    _check_matrix(A, "linalg.matrix_rank")
    a = A._data
    if tol is not None:
        atol, rtol = tol, 0.0
    atol = atol._data if isinstance(atol, Tensor) else atol
    rtol = rtol._data if isinstance(rtol, Tensor) else rtol
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    return Tensor._make(np.asarray((s > _tol(s, atol, rtol, *a.shape[-2:])).sum(-1), dtype=np.int64))


@tensor_method
def matrix_power(input, n):
    if input.dim() < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{input.shape[-2] if input.dim() > 1 else 1} by {input.shape[-1]} matrices")
    if n == 0:  # the identity, with a zero gradient (PyTorch's result is part of the graph too)
        from .creation import eye

        return input.masked_fill(Tensor._make(np.ones((), bool)), 0) + eye(input.shape[-1], dtype=input.dtype)
    a = inv(input) if n < 0 else input
    n, result = abs(n), None
    while n:
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return result


@tensor_method
def matrix_exp(A):
    """exp(A) by scaling and squaring of a degree-18 Taylor polynomial, all in differentiable operators."""
    _check_matrix(A, "linalg.matrix_exp", square=True)
    from .creation import eye

    n1 = float(np.abs(A._data).sum(-2).max()) if A._data.size else 0.0
    k = max(0, int(np.ceil(np.log2(n1))) + 1) if n1 > 0.5 else 0
    X = A / (2.0 ** k) if k else A
    ident = eye(A.shape[-1], dtype=A.dtype)
    E = ident + X / 18.0
    for j in range(17, 0, -1):  # Horner: I + X/1 (I + X/2 (... (I + X/18)))
        E = ident + matmul(X, E) / float(j)
    for _ in range(k):
        E = matmul(E, E)
    return E


# ---------------------------------------------------------------- norms
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    from .reduce import amax, amin, sum as _sum, vector_norm

    if dtype is not None:
        A = A.to(dtype)
    _check_float(A, "linalg.matrix_norm")
    if A.dim() < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    d0, d1 = (_wrap_dim(d, A.dim(), "linalg.matrix_norm") for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        r = s.sum(-1) if ord == "nuc" else (amax(s, -1) if ord == 2 else amin(s, -1))
        if keepdim:
            for d in sorted((d0, d1)):
                r = r.unsqueeze(d)
        return r
    if ord in (1, -1, float("inf"), -float("inf")):
        inner, outer = (d0, d1) if ord in (1, -1) else (d1, d0)
        r = _sum(A.abs(), inner, keepdim=True)
        r = (amax if ord > 0 else amin)(r, outer, keepdim=True)
        return r if keepdim else r.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    from .reduce import vector_norm

    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is None and ord is not None:
        if A.dim() == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        if A.dim() != 1:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                               f"Got {A.dim()}D.")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: Order {ord} not supported for vectors.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def cond(A, p=None):
    _check_matrix(A, "linalg.cond")
    if p in (None, 2, -2):
        s = svdvals(A)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    return matrix_norm(A, p) * matrix_norm(inv(A), p)
