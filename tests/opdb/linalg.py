"""Registry entries for linear algebra: matmul and friends, einsum, tensordot, tril/triu, diag, kron,
cross, cdist, block_diag, and torch.linalg (solve, inv, det, lstsq, decompositions, norms).

Eigenvectors and singular vectors are fixed only up to sign, so their entries compare through
gauge-invariant functions (squares, reconstructions with a changed spectrum)."""
import numpy as np

from opinfo import OpInfo, Sample, rand


def _s(*shapes, low=-2.0, high=2.0):
    return lambda r, d: [Sample([rand(r, d, s, low, high) for s in ss], name="x".join(map(str, ss)))
                         for ss in shapes]


def well(r, d, shape):
    """A well-conditioned (diagonally dominant) square matrix or batch of them."""
    a = rand(r, d, shape, -1, 1)
    return (a + 2.0 * shape[-1] * np.eye(shape[-1], dtype=d)).astype(d)


def _sq(*shapes):
    return lambda r, d: [Sample([well(r, d, s)], name=str(s)) for s in shapes]


MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (2, 3, 4)),
                 ((2, 2, 3), (3, 4)), ((3, 1, 2, 3), (2, 3, 2)), ((3,), (2, 3, 2)), ((2, 2, 3), (3,)),
                 ((2, 3), (2, 3, 4)), ((0, 3), (3, 2)), ((2, 0), (0, 3))]

EINSUM = [("ij,jk->ik", (2, 3), (3, 4)), ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)), ("ii->i", (3, 3)),
          ("ii", (3, 3)), ("ij->", (2, 3)), ("i,j->ij", (3,), (4,)), ("...ij,...jk->...ik", (2, 2, 3), (3, 2)),
          ("ij,jk", (2, 3), (3, 4)), ("ba", (2, 3)), ("ij,ij->i", (2, 3), (2, 3)), ("iij->j", (2, 2, 3)),
          ("ij,jk,kl->il", (2, 3), (3, 2), (2, 2)), ("bhqd,bhkd->bhqk", (1, 2, 3, 2), (1, 2, 2, 2)),
          ("ik,k->i", (2, 3), (3,)), ("i,i->", (3,), (3,)), ("ij->ji", (2, 3)), ("ijk->ikj", (2, 2, 3)),
          ("ij,kj->ikj", (2, 3), (2, 3)), ("...i,...i->...", (2, 3), (1, 3)), ("i...->...", (2, 3, 2)),
          ("ii,ij->j", (3, 3), (3, 2)), ("a b, b c -> a c", (2, 3), (3, 2))]


def _einsum_samples(r, d):
    return [Sample([eq] + [rand(r, d, s) for s in shapes], name=eq) for eq, *shapes in EINSUM]


def _cholesky(m, x, upper=False):
    a = x @ x.mT + m.eye(x.shape[-1], dtype=x.dtype) * x.shape[-1]
    return m.linalg.cholesky(a, upper=upper)


def _svd_invariants(m, x, full_matrices=False):
    U, S, Vh = m.linalg.svd(x, full_matrices=full_matrices)
    k = S.shape[-1]
    return U[..., :k] ** 2, S, Vh[..., :k, :] ** 2, (U[..., :k] * S.unsqueeze(-2) ** 2) @ Vh[..., :k, :]


def _eigh_invariants(m, x, uplo="L"):
    w, V = m.linalg.eigh(x + x.mT, UPLO=uplo)
    return w, V ** 2, (V * w.unsqueeze(-2).exp()) @ V.mT


def _qr(m, x, mode="reduced"):
    Q, R = m.linalg.qr(x, mode=mode)
    return Q, R


NORMS = [(None, None), (2, None), (1, None), (float("inf"), None), (-float("inf"), None), (0, 1), (3, -1),
         ("fro", None), ("nuc", None), (1, (0, 1)), (-1, None), (2, (1, 0)), (-2, None), (float("inf"), (-2, -1)),
         (None, 1), (0.5, 0)]
MATRIX_ORDS = ["fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")]

OPS = [
    OpInfo("matmul", lambda m, a, b: m.matmul(a, b), _s(*MATMUL_SHAPES)),
    OpInfo("matmul_operator", lambda m, a, b: a @ b, _s(((2, 3), (3, 2)))),
    OpInfo("mm", lambda m, a, b: m.mm(a, b), _s(((2, 3), (3, 4)), ((1, 3), (3, 1)))),
    OpInfo("bmm", lambda m, a, b: m.bmm(a, b), _s(((2, 2, 3), (2, 3, 4)))),
    OpInfo("mv", lambda m, a, b: m.mv(a, b), _s(((2, 3), (3,)))),
    OpInfo("dot", lambda m, a, b: m.dot(a, b), _s(((3,), (3,)))),
    OpInfo("inner", lambda m, a, b: m.inner(a, b), _s(((2, 3), (4, 3)), ((3,), (3,)))),
    OpInfo("inner_nd", lambda m, a, b: m.inner(a, b), _s(((2, 1, 3), (2, 2, 3)))),
    OpInfo("outer", lambda m, a, b: m.outer(a, b), _s(((3,), (4,)))),
    OpInfo("addmm", lambda m, c, a, b: m.addmm(c, a, b), _s(((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4)))),
    OpInfo("addmm_beta_alpha", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=-2.0), _s(((2, 4), (2, 3), (3, 4)))),
    OpInfo("addmm_beta0", lambda m, c, a, b: c.addmm(a, b, beta=0, alpha=2), _s(((2, 4), (2, 3), (3, 4)))),
    OpInfo("addmv", lambda m, c, a, b: m.addmv(c, a, b, beta=2.0), _s(((2,), (2, 3), (3,)))),
    OpInfo("addr", lambda m, c, a, b: m.addr(c, a, b, alpha=0.5), _s(((2, 3), (2,), (3,)))),
    OpInfo("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b, beta=0.5, alpha=1.5),
           _s(((2, 2, 4), (2, 2, 3), (2, 3, 4)), ((2, 4), (2, 2, 3), (2, 3, 4)))),
    OpInfo("addbmm", lambda m, c, a, b: m.addbmm(c, a, b), _s(((2, 4), (2, 2, 3), (2, 3, 4)))),
    OpInfo("einsum", lambda m, eq, *ops: m.einsum(eq, *ops), _einsum_samples),
    OpInfo("einsum_list", lambda m, a, b: m.einsum("ij,jk->ik", [a, b]), _s(((2, 3), (3, 2)))),
    OpInfo("einsum_sublist", lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [0, 2]), _s(((2, 3), (3, 2)))),
    OpInfo("tensordot", lambda m, a, b: m.tensordot(a, b, dims=1), _s(((2, 3), (3, 4)))),
    OpInfo("tensordot_pairs", lambda m, a, b: m.tensordot(a, b, dims=([1, 0], [0, 2])), _s(((2, 3, 2), (3, 2, 2)))),
    OpInfo("tensordot_0", lambda m, a, b: m.tensordot(a, b, dims=0), _s(((2,), (3,)))),
    OpInfo("tensordot_2", lambda m, a, b: m.tensordot(a, b), _s(((2, 3, 2), (3, 2)))),
    *[OpInfo(f"{f}_{k}", lambda m, x, _f=f, _k=k: getattr(m, _f)(x, _k), _s(((3, 4),), ((2, 3, 3),), ((4, 2),)))
      for f in ("tril", "triu") for k in (-1, 0, 2)],
    OpInfo("tril_method", lambda m, x: x.tril(), _s(((3, 3),))),
    OpInfo("trace", lambda m, x: m.trace(x), _s(((3, 3),), ((2, 4),))),
    *[OpInfo(f"diag_{k}", lambda m, x, _k=k: m.diag(x, _k), _s(((3,),), ((3, 4),))) for k in (0, 1, -2)],
    OpInfo("diag_embed", lambda m, x: m.diag_embed(x, 1, 0, 2), _s(((2, 3),))),
    OpInfo("diag_embed_default", lambda m, x: m.diag_embed(x), _s(((2, 3),))),
    OpInfo("diagflat", lambda m, x: m.diagflat(x, -1), _s(((2, 2),))),
    OpInfo("kron", lambda m, a, b: m.kron(a, b), _s(((2, 3), (2, 2)), ((3,), (2,)), ((2,), (2, 3)),
                                                    ((2, 1, 2), (2, 2)))),
    OpInfo("cross", lambda m, a, b: m.cross(a, b, dim=1), _s(((2, 3), (2, 3)))),
    OpInfo("linalg_cross", lambda m, a, b: m.linalg.cross(a, b), _s(((2, 3), (2, 3)), ((1, 3), (2, 3)),
                                                                     ((4, 1, 3), (1, 2, 3)))),
    OpInfo("cdist", lambda m, a, b: m.cdist(a, b), _s(((3, 2), (4, 2)), ((2, 3, 2), (2, 2, 2)))),
    OpInfo("cdist_p", lambda m, a, b: (m.cdist(a, b, p=1), m.cdist(a, b, p=float("inf")), m.cdist(a, b, p=3)),
           _s(((3, 2), (2, 2)))),
    OpInfo("cdist_mm", lambda m, a, b: m.cdist(a, b), _s(((30, 3), (4, 3))), rtol=1e-3, atol=1e-4),
    OpInfo("block_diag", lambda m, a, b, c: m.block_diag(a, b, c), _s(((2, 3), (3,), (1, 2)), ((), (2, 2), (1,)))),
    OpInfo("chain_matmul", lambda m, a, b, c: m.chain_matmul(a, b, c), _s(((2, 3), (3, 4), (4, 2)))),
    OpInfo("multi_dot", lambda m, a, b, c, e: m.linalg.multi_dot([a, b, c, e]),
           _s(((3,), (3, 4), (4, 2), (2,)), ((2, 3), (3, 1), (1, 4), (4, 2)))),
    # ---- torch.linalg
    OpInfo("linalg_solve", lambda m, a, b: m.linalg.solve(a, b), lambda r, d: [
        Sample([well(r, d, (3, 3)), rand(r, d, (3, 2))], name="matrix"),
        Sample([well(r, d, (3, 3)), rand(r, d, (3,))], name="vector"),
        Sample([well(r, d, (2, 3, 3)), rand(r, d, (2, 3))], name="batched_vector"),
        Sample([well(r, d, (2, 3, 3)), rand(r, d, (3, 1))], name="broadcast_b"),
        Sample([well(r, d, (3, 3)), rand(r, d, (2, 3, 2))], name="broadcast_a")]),
    OpInfo("linalg_solve_right", lambda m, a, b: m.linalg.solve(a, b, left=False), lambda r, d: [
        Sample([well(r, d, (3, 3)), rand(r, d, (2, 3))])]),
    OpInfo("linalg_solve_triangular", lambda m, a, b: (m.linalg.solve_triangular(a, b, upper=True),
                                                       m.linalg.solve_triangular(a, b.mT, upper=False, left=False),
                                                       m.linalg.solve_triangular(a, b, upper=False,
                                                                                 unitriangular=True)),
           lambda r, d: [Sample([well(r, d, (3, 3)), rand(r, d, (3, 2))])]),
    OpInfo("linalg_inv", lambda m, a: m.linalg.inv(a), _sq((3, 3), (2, 2, 2), (1, 1))),
    OpInfo("inverse", lambda m, a: a.inverse(), _sq((3, 3))),
    OpInfo("linalg_det", lambda m, a: m.linalg.det(a), _s(((3, 3),), ((2, 2, 2),), ((1, 1),))),
    OpInfo("det_singular", lambda m, a: m.det(m.stack([a[0], a[1], a[0] - 2 * a[1]])), _s(((3, 3),)),
           gradgrad=False),
    OpInfo("linalg_slogdet", lambda m, a: m.linalg.slogdet(a), _s(((3, 3),), ((2, 2, 2),))),
    OpInfo("slogdet", lambda m, a: m.slogdet(a), _s(((3, 3),))),
    OpInfo("logdet", lambda m, a: m.logdet(a), _sq((3, 3))),
    OpInfo("linalg_lstsq", lambda m, a, b: m.linalg.lstsq(a, b).solution, lambda r, d: [
        Sample([rand(r, d, (5, 3)), rand(r, d, (5, 2))], name="tall"),
        Sample([rand(r, d, (5, 3)), rand(r, d, (5,))], name="vector"),
        Sample([rand(r, d, (2, 4, 2)), rand(r, d, (2, 4, 1))], name="batched"),
        Sample([rand(r, d, (2, 4)), rand(r, d, (2, 2))], name="wide")], rtol=1e-3, atol=1e-4),
    OpInfo("linalg_cholesky", _cholesky, _s(((3, 3),), ((2, 2, 2),))),
    OpInfo("linalg_cholesky_upper", lambda m, x: _cholesky(m, x, upper=True), _s(((3, 3),))),
    # on a leaf, PyTorch's gradient is the symmetric one although only the lower triangle is read:
    # compared with PyTorch, not with finite differences
    OpInfo("cholesky_leaf", lambda m, a: m.linalg.cholesky(a), _sq((3, 3)), gradcheck=False),
    OpInfo("cholesky_solve", lambda m, b, x: m.cholesky_solve(b, _cholesky(m, x)), _s(((3, 2), (3, 3)))),
    OpInfo("cholesky_inverse", lambda m, x: m.cholesky_inverse(_cholesky(m, x)), _s(((3, 3),))),
    OpInfo("linalg_qr", _qr, _s(((4, 3),), ((3, 3),), ((2, 4),), ((2, 3, 2),))),
    OpInfo("linalg_qr_complete", lambda m, x: _qr(m, x, "complete"), _s(((2, 4),), ((3, 3),))),
    OpInfo("linalg_svd", _svd_invariants, _s(((3, 3),), ((4, 2),), ((2, 4),), ((2, 3, 2),))),
    OpInfo("linalg_svd_full", lambda m, x: _svd_invariants(m, x, True), _s(((4, 2),), ((2, 3),))),
    OpInfo("svd", lambda m, x: (lambda U, S, V: (U ** 2, S, V ** 2))(*m.svd(x)), _s(((4, 3),))),
    OpInfo("linalg_svdvals", lambda m, x: m.linalg.svdvals(x), _s(((3, 3),), ((4, 2),), ((2, 2, 3),))),
    OpInfo("linalg_eigh", _eigh_invariants, _s(((3, 3),), ((2, 2, 2),))),
    OpInfo("linalg_eigh_upper", lambda m, x: _eigh_invariants(m, x, "U"), _s(((3, 3),))),
    OpInfo("linalg_eigvalsh", lambda m, x: m.linalg.eigvalsh(x + x.mT), _s(((3, 3),))),
    OpInfo("linalg_eigvalsh_leaf", lambda m, x: m.linalg.eigvalsh(x), _s(((3, 3),)), gradcheck=False),
    OpInfo("linalg_pinv", lambda m, x: m.linalg.pinv(x), _s(((4, 3),), ((2, 4),), ((3, 3),), ((2, 3, 2),))),
    OpInfo("linalg_pinv_hermitian", lambda m, x: m.linalg.pinv(x + x.mT, hermitian=True), _s(((3, 3),))),
    OpInfo("pinverse", lambda m, x: m.pinverse(x), _s(((4, 3),))),
    OpInfo("linalg_matrix_rank", lambda m, x: (m.linalg.matrix_rank(x),
                                               m.linalg.matrix_rank(x[..., :1] @ x[..., :1, :]),
                                               m.linalg.matrix_rank(x, atol=1.0, rtol=0.1),
                                               m.linalg.matrix_rank(x + x.mT, hermitian=True)),
           _s(((3, 3),), ((2, 3, 3),)), grad=False),
    *[OpInfo(f"linalg_matrix_power_{n}", lambda m, x, _n=n: m.linalg.matrix_power(x, _n), _sq((3, 3), (2, 2, 2)))
      for n in (0, 1, 3, -2)],
    OpInfo("linalg_matrix_exp", lambda m, x: m.linalg.matrix_exp(x), _s(((3, 3),), ((2, 2, 2),), low=-3, high=3)),
    OpInfo("matrix_exp", lambda m, x: m.matrix_exp(x * 0.1), _s(((3, 3),))),
    OpInfo("matrix_power_method", lambda m, x: x.matrix_power(2), _s(((3, 3),))),
    *[OpInfo(f"linalg_norm_{o}_{dim}".replace(" ", ""), lambda m, x, _o=o, _d=dim: m.linalg.norm(x, _o, _d),
             _s(((3, 4),), low=0.1) if isinstance(o, str) or (dim is not None and len(np.atleast_1d(dim)) == 2)
             or (dim is None and o is not None) else _s(((3, 4),), ((2, 3, 2),), low=0.1))
      for o, dim in NORMS],
    OpInfo("linalg_norm_vector", lambda m, x: (m.linalg.norm(x, 3), m.linalg.norm(x, -1), m.linalg.norm(x, 0)),
           _s(((4,),), low=0.1)),
    OpInfo("linalg_norm_keepdim", lambda m, x: (m.linalg.norm(x, 2, (0, 1), True), m.linalg.norm(x, 1, 1, True),
                                                m.linalg.norm(x, keepdim=True)), _s(((3, 4),))),
    *[OpInfo(f"linalg_matrix_norm_{o}", lambda m, x, _o=o: m.linalg.matrix_norm(x, _o), _s(((3, 4),), ((2, 3, 2),)))
      for o in MATRIX_ORDS],
    OpInfo("linalg_matrix_norm_dims_keepdim", lambda m, x: m.linalg.matrix_norm(x, "nuc", (0, 2), keepdim=True),
           _s(((3, 2, 4),))),
    OpInfo("linalg_matrix_norm_inf_dims", lambda m, x: m.linalg.matrix_norm(x, float("inf"), (2, 0)),
           _s(((3, 2, 4),))),
    *[OpInfo(f"linalg_vector_norm_{o}", lambda m, x, _o=o: m.linalg.vector_norm(x, _o, dim=(0, 1)),
             _s(((3, 4),), ((2, 3, 2),), low=0.1)) for o in (2, 1, 0, float("inf"), -float("inf"), 3.5, -2)],
    OpInfo("norm_nuc", lambda m, x: m.norm(x, "nuc"), _s(((3, 4),))),
    OpInfo("linalg_cond", lambda m, x: (m.linalg.cond(x), m.linalg.cond(x, -2)), _sq((3, 3), (2, 2, 2))),
    # PyTorch's own backward fails for these orders (an in-place write in linalg_inv_ex): values only
    OpInfo("linalg_cond_orders", lambda m, x: (m.linalg.cond(x, "fro"), m.linalg.cond(x, 1), m.linalg.cond(x, "nuc"),
                                               m.linalg.cond(x, -float("inf"))), _sq((3, 3)), grad=False),
    OpInfo("linalg_vander", lambda m, x: (m.linalg.vander(x), m.linalg.vander(x, N=2)),
           _s(((3,),), ((2, 3),))),
    # PyTorch's torch.vander fails in its own backward (an in-place write): values only
    OpInfo("vander", lambda m, x: (m.vander(x), m.vander(x, 4, increasing=True)), _s(((3,),)), grad=False),
    OpInfo("linalg_vecdot", lambda m, a, b: m.linalg.vecdot(a, b), _s(((2, 3), (2, 3)), ((3,), (2, 3)))),
    OpInfo("linalg_matmul", lambda m, a, b: m.linalg.matmul(a, b), _s(((2, 3), (3, 2)))),
    OpInfo("linalg_diagonal", lambda m, a: m.linalg.diagonal(a, offset=1), _s(((2, 3, 3),))),
]
