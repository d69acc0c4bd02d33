"""Linear algebra: matmul and its special forms (mm, bmm, mv, dot, outer, addmm), einsum,
tril/triu, and torch.linalg (solve, inv, lstsq, det, norms, ...)."""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim, tensor_method
from ..autograd.function import Function

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "addbmm",
           "baddbmm", "tril", "triu", "einsum", "tensordot", "kron", "trace", "diag", "diag_embed", "cross",
           "cdist", "chain_matmul", "block_diag"]


def _fmt(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _check_matmul(a, b, op):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        bad = b if isinstance(a, Tensor) else a
        raise TypeError(f"{op}(): argument 'other' must be Tensor, not {type(bad).__name__}")
    sa, sb = a._data.shape, b._data.shape
    if len(sa) == 0 or len(sb) == 0:
        raise RuntimeError(f"{op}: both arguments to matmul need to be at least 1D, but they are "
                           f"{len(sa)}D and {len(sb)}D")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}: expected both operands to have the same dtype, but got "
                           f"{a.dtype.name} and {b.dtype.name} (shapes {_fmt(sa)} and {_fmt(sb)})")
    k_a = sa[-1]
    k_b = sb[-2] if len(sb) >= 2 else sb[0]
    if k_a != k_b:
        raise RuntimeError(f"{op}: shapes {_fmt(sa)} and {_fmt(sb)} cannot be multiplied ({k_a} != {k_b})")
    if len(sa) > 2 or len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise RuntimeError(f"{op}: batch dimensions of shapes {_fmt(sa)} and {_fmt(sb)} cannot be broadcast "
                               f"({_fmt(sa[:-2])} vs {_fmt(sb[:-2])})") from None


class Matmul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

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
            gb = matmul(A.mT, G)
            if nb == 1:
                gb = gb.squeeze(-1)
        return ga, gb


@tensor_method("matmul", "__matmul__")
def matmul(input, other, *, out=None):
    _check_matmul(input, other, "matmul")
    r = Matmul.apply(input, other)
    if out is not None:
        from .elementwise import _out

        return _out(r, out)
    return r


@tensor_method("__rmatmul__")
def _rmatmul(self, other):
    return matmul(other, self)


@tensor_method
def mm(input, mat2, *, out=None):
    if input.dim() != 2 or mat2.dim() != 2:
        bad = input if input.dim() != 2 else mat2
        raise RuntimeError(f"mm: expected 2D tensors, got {bad.dim()}D (shapes {_fmt(input.shape)} and "
                           f"{_fmt(mat2.shape)})")
    _check_matmul(input, mat2, "mm")
    return matmul(input, mat2, out=out)


@tensor_method
def bmm(input, mat2, *, out=None):
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError(f"bmm: expected 3D tensors, got shapes {_fmt(input.shape)} and {_fmt(mat2.shape)}")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: shapes {_fmt(input.shape)} and {_fmt(mat2.shape)}")
    _check_matmul(input, mat2, "bmm")
    return matmul(input, mat2, out=out)


@tensor_method
def mv(input, vec, *, out=None):
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"mv: expected a 2D matrix and a 1D vector, got shapes {_fmt(input.shape)} and "
                           f"{_fmt(vec.shape)}")
    _check_matmul(input, vec, "mv")
    return matmul(input, vec, out=out)


@tensor_method
def dot(input, tensor, *, out=None):
    if input.dim() != 1 or tensor.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {tensor.dim()}D tensors")
    if input.shape[0] != tensor.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                           f"[{tensor.shape[0]}] to have the same number of elements, but got {input.shape[0]} "
                           f"and {tensor.shape[0]} elements respectively")
    _check_matmul(input, tensor, "dot")
    return matmul(input, tensor, out=out)


@tensor_method
def vdot(input, other):
    from .elementwise import conj

    return dot(conj(input), other)


@tensor_method
def inner(input, other):
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    return matmul(input, other.transpose(-1, -2) if other.dim() > 1 else other)


@tensor_method("outer", "ger")
def outer(input, vec2):
    if input.dim() != 1 or vec2.dim() != 1:
        raise RuntimeError(f"outer: expected 1D tensors, got shapes {_fmt(input.shape)} and {_fmt(vec2.shape)}")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


@tensor_method
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    prod = mm(mat1, mat2)
    return _scaled_sum(input, prod, beta, alpha)


@tensor_method
def addmv(input, mat, vec, *, beta=1, alpha=1):
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


@tensor_method
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


@tensor_method
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _scaled_sum(input, bmm(batch1, batch2).sum(0), beta, alpha)


def _scaled_sum(input, prod, beta, alpha):
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod + input * 0 if False else prod + 0 * input.detach()
    return prod + (input * beta if beta != 1 else input)


def chain_matmul(*matrices):
    out = matrices[0]
    for m in matrices[1:]:
        out = mm(out, m)
    return out


# ---------------------------------------------------------------- tril / triu
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
    return TriMask.apply(input, diagonal, False)


@tensor_method
def triu(input, diagonal=0, *, out=None):
    if input.dim() < 2:
        raise RuntimeError(f"triu: input tensor must have at least 2 dimensions, got shape {_fmt(input.shape)}")
    return TriMask.apply(input, diagonal, True)


# ---------------------------------------------------------------- einsum
class Einsum(Function):
    @staticmethod
    def forward(ctx, equation, *arrays):
        ctx.equation = equation
        ctx.save_for_backward(*arrays)
        return np.einsum(equation, *arrays, optimize=len(arrays) > 2)

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
            others_in = [x for j, x in enumerate(ins) if j != i]
            # letters of this operand missing from every other term and the output are summed away in
            # forward: their gradient is a broadcast
            avail = set(out).union(*others) if others else set(out)
            target = "".join(c for c in term if c in avail)
            eq = ",".join([out] + others) + "->" + target
            gi = einsum(eq, g, *others_in)
            if target != term:
                gi = _expand_to_term(gi, target, term, ins[i].shape)
            grads.append(gi)
        return tuple(grads)


def _expand_to_term(gi, target, term, shape):
    # repeated letters (diagonals, "ii->i") and summed-away letters
    if len(set(term)) != len(term):
        raise NotImplementedError("tapegrad does not implement the gradient of einsum with a repeated index "
                                  f"within one operand ('{term}')")
    view = [shape[term.index(c)] if c in target else 1 for c in term]
    order = [c for c in term if c in target]
    perm = [target.index(c) for c in order]
    gi = gi.permute(perm) if perm != list(range(len(perm))) else gi
    return gi.reshape([shape[term.index(c)] if c in target else 1 for c in term]).expand(tuple(shape))


def _normalise_equation(equation, operands):
    eq = equation.replace(" ", "")
    if "..." in eq:
        lhs = eq.split("->")[0].split(",")
        used = set("".join(lhs)) | set(eq.split("->")[1] if "->" in eq else "")
        free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used]
        nd = max(op.dim() - (len(t) - 3) for t, op in zip(lhs, operands) if "..." in t)
        ell = "".join(free[:nd])
        new_lhs = []
        for t, op in zip(lhs, operands):
            if "..." in t:
                k = op.dim() - (len(t) - 3)
                t = t.replace("...", ell[nd - k:])
            new_lhs.append(t)
        if "->" in eq:
            rhs = eq.split("->")[1].replace("...", ell)
        else:
            rest = sorted(c for c in set("".join(new_lhs)) if "".join(new_lhs).count(c) == 1 and c not in ell)
            rhs = ell + "".join(rest)
        return ",".join(new_lhs) + "->" + rhs
    if "->" not in eq:
        letters = "".join(eq.split(","))
        rhs = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
        eq = eq + "->" + rhs
    return eq


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = _normalise_equation(equation, operands)
    terms = eq.split("->")[0].split(",")
    if len(terms) != len(operands):
        raise RuntimeError(f"einsum(): {len(terms)} operands in the equation but {len(operands)} were given")
    for t, op in zip(terms, operands):
        if len(t) != op.dim():
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) does not match the "
                               f"number of dimensions ({op.dim()}) for operand {terms.index(t)}")
    rt = _dtype.result_type(*[o.dtype for o in operands])
    operands = [o if o.dtype is rt else o.to(rt) for o in operands]
    return Einsum.apply(eq, *operands)


def tensordot(a, b, dims=2):
    if isinstance(dims, int):
        da, db = list(range(a.dim() - dims, a.dim())), list(range(dims))
    else:
        da, db = [list(d) if isinstance(d, (list, tuple)) else [d] for d in dims]
    letters = "abcdefghijklmnopqrstuvwxyz"
    ta = list(letters[:a.dim()])
    tb = list(letters[a.dim():a.dim() + b.dim()])
    for i, j in zip(da, db):
        tb[j] = ta[i]
    out = [c for i, c in enumerate(ta) if i not in da] + [c for j, c in enumerate(tb) if j not in db]
    return einsum("".join(ta) + "," + "".join(tb) + "->" + "".join(out), a, b)


def kron(input, other):
    a = input.reshape(input.shape[0], 1, input.shape[1], 1) if input.dim() == 2 else input.reshape(-1, 1)
    if input.dim() == 2:
        prod = a * other.reshape(1, other.shape[0], 1, other.shape[1])
        return prod.reshape(input.shape[0] * other.shape[0], input.shape[1] * other.shape[1])
    return (a * other.reshape(1, -1)).reshape(-1)


@tensor_method
def trace(input):
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return input.diagonal().sum()


@tensor_method
def diag(input, diagonal=0):
    if input.dim() == 1:
        return diag_embed(input, diagonal)
    if input.dim() == 2:
        return input.diagonal(diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    n = input.shape[-1] + abs(offset)
    out = input.new_zeros(tuple(input.shape[:-1]) + (n, n))
    from .movement import _diag_view

    idx_rows = np.arange(input.shape[-1]) + max(-offset, 0)
    idx_cols = np.arange(input.shape[-1]) + max(offset, 0)
    from .indexing import IndexPut

    return IndexPut.apply(out, input, (Ellipsis, idx_rows, idx_cols), False)


def cross(input, other, dim=None):
    if dim is None:
        dim = next(i for i, s in enumerate(input.shape) if s == 3)
    a0, a1, a2 = input.unbind(dim)
    b0, b1, b2 = other.unbind(dim)
    from .movement import stack

    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)


def cdist(x1, x2, p=2.0):
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    from .reduce import vector_norm

    return vector_norm(diff, p, dim=-1)


def block_diag(*tensors):
    mats = [t.reshape(1, -1) if t.dim() < 2 else t for t in tensors]
    rows = sum(m.shape[0] for m in mats)
    cols = sum(m.shape[1] for m in mats)
    rt = _dtype.result_type(*[m.dtype for m in mats])
    out = Tensor._make(np.zeros((rows, cols), dtype=rt.np))
    r = c = 0
    from .indexing import IndexPut

    for m in mats:
        out = IndexPut.apply(out, m.to(rt), (slice(r, r + m.shape[0]), slice(c, c + m.shape[1])), False)
        r += m.shape[0]
        c += m.shape[1]
    return out
