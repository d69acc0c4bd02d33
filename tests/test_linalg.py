"""torch.linalg beyond the registry: lstsq's named tuple and drivers, return types, LinAlgError and the
*_ex functions, error messages, gauge-invariant gradients of decompositions, Tensor methods."""
import warnings

import numpy as np
import pytest

import tapegrad as tg
from torch_errors import assert_raises_like_torch

torch = pytest.importorskip("torch")


def _t(m, arr, requires_grad=False):
    return m.tensor(arr, requires_grad=requires_grad)


def _close(a, b, rtol=1e-6, atol=1e-8):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _same_error(fn, exc_type=RuntimeError):
    with pytest.raises(exc_type) as e_torch, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn(torch)
    with pytest.raises(exc_type) as e_tg:
        fn(tg)
    assert str(e_tg.value) == str(e_torch.value)
    return e_tg.value


# ---------------------------------------------------------------- lstsq
@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
@pytest.mark.parametrize("shapes", [((6, 3), (6, 2)), ((6, 3), (6,)), ((2, 5, 3), (2, 5, 1)), ((3, 5), (3, 2))])
def test_lstsq_named_tuple_matches_torch(driver, shapes):
    if driver == "gels" and shapes[0][-2] < shapes[0][-1]:
        shapes = ((5, 3), (5, 2))
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    r_tg = tg.linalg.lstsq(_t(tg, A), _t(tg, B), driver=driver)
    r_torch = torch.linalg.lstsq(_t(torch, A), _t(torch, B), driver=driver)
    fields = ("solution", "residuals", "rank", "singular_values")
    assert type(r_tg).__name__ == type(r_torch).__name__ == "linalg_lstsq" and r_tg._fields == fields
    for name in fields:
        _close(getattr(r_tg, name), getattr(r_torch, name), rtol=1e-7, atol=1e-10)
    assert r_tg.solution is r_tg[0]


def test_lstsq_polynomial_fit_float32_and_rank_deficient():
    x = np.linspace(-1, 1, 20, dtype=np.float32)
    y = (0.5 - 2 * x + 3 * x ** 3 + np.sin(5 * x) * 0.1).astype(np.float32)
    X = _t(tg, x).unsqueeze(1) ** _t(tg, np.arange(4, dtype=np.float32))
    s_tg = tg.linalg.lstsq(X, _t(tg, y).unsqueeze(1)).solution
    assert s_tg.dtype == tg.float32
    # against torch's float64 fit: torch's own float32 fit varies from run to run in its last bits
    # (four different results in 300 calls), so it cannot be the reference at float32 accuracy
    X64 = _t(torch, x.astype(np.float64)).unsqueeze(1) ** _t(torch, np.arange(4, dtype=np.float64))
    s_ref = torch.linalg.lstsq(X64, _t(torch, y.astype(np.float64)).unsqueeze(1)).solution
    _close(s_tg.double(), s_ref, rtol=1e-4, atol=1e-5)
    # rank-deficient: a repeated column; gelsy's minimum-norm solution and rank
    A = np.random.default_rng(1).standard_normal((6, 2))
    A = np.concatenate([A, A[:, :1]], 1)
    b = np.arange(6.0)
    r_tg, r_torch = tg.linalg.lstsq(_t(tg, A), _t(tg, b)), torch.linalg.lstsq(_t(torch, A), _t(torch, b))
    assert r_tg.rank.item() == r_torch.rank.item() == 2
    _close(r_tg.solution, r_torch.solution, rtol=1e-6, atol=1e-9)


def test_lstsq_gradients_full_rank_tall():
    rng = np.random.default_rng(2)
    A, B, W = rng.standard_normal((7, 3)), rng.standard_normal((7, 2)), rng.standard_normal((3, 2))
    grads = []
    for m in (tg, torch):
        a, b = _t(m, A, True), _t(m, B, True)
        (m.linalg.lstsq(a, b).solution * _t(m, W)).sum().backward()
        grads.append((a.grad, b.grad))
    for g_tg, g_torch in zip(*grads):
        _close(g_tg, g_torch, rtol=1e-7, atol=1e-10)


# ---------------------------------------------------------------- return types, errors
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_return_types():
    x = np.random.default_rng(3).standard_normal((3, 3))
    for fn, fields in [(lambda m, a: m.linalg.svd(a), ("U", "S", "Vh")), (lambda m, a: m.svd(a), ("U", "S", "V")),
                       (lambda m, a: m.linalg.eigh(a), ("eigenvalues", "eigenvectors")),
                       (lambda m, a: m.linalg.qr(a), ("Q", "R")), (lambda m, a: m.qr(a), ("Q", "R")),
                       (lambda m, a: m.linalg.slogdet(a), ("sign", "logabsdet")),
                       (lambda m, a: m.slogdet(a), ("sign", "logabsdet")),
                       (lambda m, a: m.linalg.inv_ex(a), ("inverse", "info"))]:
        r_tg, r_torch = fn(tg, _t(tg, x)), fn(torch, _t(torch, x))
        assert r_tg._fields == fields and all(hasattr(r_torch, f) for f in fields)
        assert type(r_tg).__name__ == type(r_torch).__name__ and len(r_tg) == len(r_torch)
        assert repr(r_tg).startswith(f"torch.return_types.{type(r_torch).__name__}(")


def test_linalg_error_is_runtime_error_with_torch_messages():
    assert issubclass(tg.linalg.LinAlgError, RuntimeError)
    singular = [[1.0, 2.0], [2.0, 4.0]]
    batch = [[[1.0, 0.0], [0.0, 1.0]], singular]
    not_pd = [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]
    cases = [lambda m: m.linalg.inv(m.tensor(singular)), lambda m: m.linalg.inv(m.tensor(batch)),
             lambda m: m.inverse(m.tensor([[1.0, 2, 3], [2, 4, 6], [0, 0, 0]])),
             lambda m: m.linalg.solve(m.tensor(singular), m.ones(2)),
             lambda m: m.linalg.solve(m.tensor(batch), m.ones(2, 2, 1)),
             lambda m: m.linalg.cholesky(m.tensor(not_pd[1])), lambda m: m.linalg.cholesky(m.tensor(not_pd))]
    for fn in cases:
        err = _same_error(fn)
        assert isinstance(err, tg.linalg.LinAlgError)


def test_ex_functions_report_info():
    A = [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]]
    P = [[[4.0, 1.0], [1.0, 3.0]], [[1.0, 2.0], [2.0, 1.0]]]
    for fn, arr in [(lambda m, a: m.linalg.inv_ex(a), A), (lambda m, a: m.linalg.solve_ex(a, m.ones(2, 2)), A),
                    (lambda m, a: m.linalg.cholesky_ex(a), P)]:
        r_tg, r_torch = fn(tg, tg.tensor(arr)), fn(torch, torch.tensor(arr))
        assert r_tg.info.tolist() == r_torch.info.tolist() and r_tg.info.dtype == tg.int32
        _close(r_tg[0][0], r_torch[0][0])  # the matrix that succeeded
    with pytest.raises(tg.linalg.LinAlgError):
        tg.linalg.inv_ex(tg.tensor(A), check_errors=True)


def test_shape_and_dtype_errors():
    for fn in [lambda m: m.linalg.inv(m.ones(3, 4)), lambda m: m.linalg.inv(m.ones(3)),
               lambda m: m.linalg.inv(m.ones(3, 3, dtype=m.long)), lambda m: m.linalg.det(m.ones(2, 3)),
               lambda m: m.linalg.cholesky(m.ones(2, 3)), lambda m: m.linalg.solve(m.eye(3), m.ones(4)),
               lambda m: m.linalg.norm(m.ones(2, 2, 2), 2), lambda m: m.linalg.matrix_norm(m.ones(2, 2), 3),
               lambda m: m.linalg.cross(m.ones(3), m.ones(2, 3)),
               lambda m: m.linalg.solve(m.eye(3), m.ones(3), left=False)]:
        _same_error(fn)
    assert_raises_like_torch(lambda m: m.linalg.lstsq(m.ones(3, 2), m.ones(4, 2)), torch, tg, "lstsq")
    assert_raises_like_torch(lambda m: m.linalg.vander(m.ones(3), N=1), torch, tg, "vander")


def _ones(m, *shape, dtype="float32", requires_grad=False):
    return m.ones(*shape, dtype=getattr(m, dtype), requires_grad=requires_grad)


_F, _D, _L, _B = "float32", "float64", "int64", "bool"
# invalid products of the matmul family; PyTorch's error depends on the kernel each call reaches (matmul folds
# into mm or mv, or broadcasts into bmm; small and large bmm differ), so the cases cover each path
MATMUL_ERRORS = {
    # matmul / @: 1-D and 2-D operands, dot, mv, mm
    "matmul 0-D": lambda m: m.matmul(_ones(m, ()), _ones(m, 3)),
    "matmul 1-D 0-D": lambda m: m.matmul(_ones(m, 3), _ones(m, ())),
    "matmul 1-D 1-D": lambda m: _ones(m, 3) @ _ones(m, 4),
    "matmul 2-D 1-D": lambda m: _ones(m, 3, 4) @ _ones(m, 5),
    "matmul 1-D 2-D": lambda m: _ones(m, 3) @ _ones(m, 4, 2),
    "matmul 2-D 2-D": lambda m: m.matmul(_ones(m, 3, 4), _ones(m, 5, 2)),
    "matmul long 2-D": lambda m: m.matmul(_ones(m, 3, 4, dtype=_L), _ones(m, 5, 2, dtype=_L)),
    "matmul dtype 1-D": lambda m: m.matmul(_ones(m, 2), _ones(m, 2, dtype=_D)),
    "matmul dtype 2-D 1-D": lambda m: m.matmul(_ones(m, 2, 2), _ones(m, 2, dtype=_D)),
    "matmul dtype 2-D": lambda m: m.matmul(_ones(m, 2, 2), _ones(m, 2, 2, dtype=_D)),
    "matmul long float": lambda m: m.matmul(_ones(m, 2, 2, dtype=_L), _ones(m, 2, 2)),
    "matmul half float": lambda m: m.matmul(_ones(m, 2, 3, 4, dtype="float16"), _ones(m, 4, 2)),
    "matmul bool 1-D": lambda m: m.matmul(_ones(m, 2, dtype=_B), _ones(m, 2, dtype=_B)),
    "matmul bool 2-D 1-D": lambda m: m.matmul(_ones(m, 2, 2, dtype=_B), _ones(m, 2, dtype=_B)),
    "matmul bool 2-D": lambda m: m.matmul(_ones(m, 2, 2, dtype=_B), _ones(m, 2, 2, dtype=_B)),
    # matmul folded into mm or mv
    "matmul fold mm": lambda m: m.matmul(_ones(m, 2, 3, 4), _ones(m, 5, 2)),
    "matmul fold mv": lambda m: _ones(m, 2, 3, 4) @ _ones(m, 5),
    "matmul fold dtype": lambda m: m.matmul(_ones(m, 2, 3, 4), _ones(m, 4, 2, dtype=_D)),
    "matmul fold mv dtype": lambda m: m.matmul(_ones(m, 2, 3, 4), _ones(m, 4, dtype=_D)),
    "matmul fold empty": lambda m: m.matmul(_ones(m, 0, 3, 4), _ones(m, 5, 2)),
    "matmul fold grad": lambda m: m.matmul(_ones(m, 2, 3, 4), _ones(m, 5, 2, requires_grad=True)),
    "matmul fold 1-D 3-D": lambda m: m.matmul(_ones(m, 3), _ones(m, 2, 1, 3)),
    "matmul fold 2-D 3-D grad": lambda m: m.matmul(_ones(m, 4, 2, requires_grad=True), _ones(m, 2, 5, 3)),
    "matmul fold bool mm": lambda m: m.matmul(_ones(m, 2, 3, 4, dtype=_B), _ones(m, 4, 2, dtype=_B)),
    "matmul fold bool mv": lambda m: m.matmul(_ones(m, 2, 3, 4, dtype=_B), _ones(m, 4, dtype=_B)),
    # matmul broadcast into bmm
    "matmul no fold strided": lambda m: m.matmul(_ones(m, 2, 3, 4).transpose(0, 1), _ones(m, 5, 2)),
    "matmul no fold mT": lambda m: m.matmul(_ones(m, 3, 4, 2).mT, _ones(m, 5, 2)),
    "matmul 2-D 3-D": lambda m: m.matmul(_ones(m, 4, 2), _ones(m, 2, 5, 3)),
    "matmul 1-D 3-D": lambda m: _ones(m, 3) @ _ones(m, 2, 4, 5),
    "matmul 3-D 3-D": lambda m: _ones(m, 2, 3, 4) @ _ones(m, 2, 5, 4),
    "matmul batch broadcast": lambda m: _ones(m, 2, 3, 4) @ _ones(m, 3, 4, 5),
    "matmul batch broadcast 4-D": lambda m: _ones(m, 2, 2, 3, 4) @ _ones(m, 3, 1, 4, 5),
    "matmul batch of one grad": lambda m: m.matmul(_ones(m, 1, 3, 4, requires_grad=True), _ones(m, 2, 5, 3)),
    "matmul batch of one": lambda m: m.matmul(_ones(m, 1, 3, 4), _ones(m, 2, 5, 3)),
    "matmul batch of one grad b": lambda m: m.matmul(_ones(m, 2, 3, 4), _ones(m, 1, 5, 3, requires_grad=True)),
    "matmul dtype 3-D": lambda m: m.matmul(_ones(m, 2, 2, 2), _ones(m, 2, 2, 2, dtype=_D)),
    "matmul dtype 4-D 3-D": lambda m: m.matmul(_ones(m, 2, 2, 3, 4), _ones(m, 2, 4, 2, dtype=_D)),
    "matmul dtype 1-D 3-D": lambda m: m.matmul(_ones(m, 4), _ones(m, 2, 4, 3, dtype=_D)),
    "matmul dtype 2-D 3-D": lambda m: m.matmul(_ones(m, 3, 4, dtype=_D), _ones(m, 2, 4, 2)),
    "matmul long 3-D": lambda m: m.matmul(_ones(m, 2, 3, 4), _ones(m, 2, 4, 2, dtype=_L)),
    "matmul bool 3-D": lambda m: m.matmul(_ones(m, 2, 2, 2, dtype=_B), _ones(m, 2, 2, 2, dtype=_B)),
    "matmul bool 3-D large": lambda m: m.matmul(_ones(m, 2, 30, 40, dtype=_B), _ones(m, 2, 40, 20, dtype=_B)),
    "rmatmul list": lambda m: [[1.0, 2.0], [3.0, 4.0]] @ _ones(m, 2, 2),
    # mm
    "mm shapes": lambda m: m.mm(_ones(m, 3, 4), _ones(m, 5, 2)),
    "mm 1-D": lambda m: m.mm(_ones(m, 3), _ones(m, 3, 3)),
    "mm 3-D": lambda m: _ones(m, 3, 3).mm(_ones(m, 3, 3, 1)),
    "mm shapes before dtype": lambda m: m.mm(_ones(m, 2, 3), _ones(m, 4, 2, dtype=_D)),
    "mm dtype": lambda m: m.mm(_ones(m, 2, 2), _ones(m, 2, 2, dtype=_D)),
    "mm dtype empty": lambda m: m.mm(_ones(m, 0, 3), _ones(m, 3, 2, dtype=_D)),
    "mm int uint8": lambda m: m.mm(_ones(m, 2, 3, dtype="int32"), _ones(m, 3, 2, dtype="uint8")),
    "mm complex": lambda m: m.mm(_ones(m, 2, 3, dtype="complex64"), _ones(m, 3, 2)),
    "mm bool": lambda m: m.mm(_ones(m, 2, 2, dtype=_B), _ones(m, 2, 2, dtype=_B)),
    # bmm, small and large products
    "bmm 2-D": lambda m: m.bmm(_ones(m, 2, 3, 4), _ones(m, 3, 4)),
    "bmm 2-D first": lambda m: m.bmm(_ones(m, 3, 4), _ones(m, 2, 4, 3)),
    "bmm batch": lambda m: m.bmm(_ones(m, 2, 3, 4), _ones(m, 3, 4, 5)),
    "bmm inner": lambda m: m.bmm(_ones(m, 2, 3, 4), _ones(m, 2, 5, 4)),
    "bmm dtype": lambda m: m.bmm(_ones(m, 2, 2, 2), _ones(m, 2, 2, 2, dtype=_D)),
    "bmm dtype large": lambda m: m.bmm(_ones(m, 2, 30, 40), _ones(m, 2, 40, 20, dtype=_D)),
    "bmm long float large": lambda m: m.bmm(_ones(m, 2, 30, 40, dtype=_L), _ones(m, 2, 40, 20)),
    "bmm float long large": lambda m: m.bmm(_ones(m, 2, 30, 40), _ones(m, 2, 40, 20, dtype=_L)),
    "bmm bool": lambda m: m.bmm(_ones(m, 2, 2, 2, dtype=_B), _ones(m, 2, 2, 2, dtype=_B)),
    "bmm bool large": lambda m: m.bmm(_ones(m, 2, 30, 40, dtype=_B), _ones(m, 2, 40, 20, dtype=_B)),
    "bmm double bool": lambda m: m.bmm(_ones(m, 2, 3, 4, dtype=_D), _ones(m, 2, 4, 2, dtype=_B)),
    # mv
    "mv size": lambda m: m.mv(_ones(m, 2, 3), _ones(m, 4)),
    "mv 2-D vec": lambda m: m.mv(_ones(m, 2, 3), _ones(m, 3, 1)),
    "mv 1-D mat": lambda m: m.mv(_ones(m, 3), _ones(m, 3)),
    "mv 0-D mat": lambda m: m.mv(_ones(m, ()), _ones(m, 3)),
    "mv dtype": lambda m: m.mv(_ones(m, 2, 3), _ones(m, 3, dtype=_D)),
    "mv bool": lambda m: m.mv(_ones(m, 2, 3, dtype=_B), _ones(m, 3, dtype=_B)),
    # dot, vdot, outer
    "dot size": lambda m: m.dot(_ones(m, 2), _ones(m, 3)),
    "dot rank": lambda m: m.dot(_ones(m, 2, 2), _ones(m, 2)),
    "dot dtype": lambda m: m.dot(_ones(m, 2), _ones(m, 2, dtype=_D)),
    "dot bool": lambda m: m.dot(_ones(m, 2, dtype=_B), _ones(m, 2, dtype=_B)),
    "dot bool empty": lambda m: m.dot(_ones(m, 0, dtype=_B), _ones(m, 0, dtype=_B)),
    "vdot size": lambda m: m.vdot(_ones(m, 2), _ones(m, 3)),
    "vdot rank": lambda m: m.vdot(_ones(m, 2, 2), _ones(m, 2)),
    "vdot dtype": lambda m: m.vdot(_ones(m, 2, dtype="complex64"), _ones(m, 2, dtype=_D)),
    "vdot bool": lambda m: m.vdot(_ones(m, 2, dtype=_B), _ones(m, 2, dtype=_B)),
    "outer 2-D": lambda m: m.outer(_ones(m, 2, 2), _ones(m, 2)),
    "outer 2-D vec2": lambda m: m.outer(_ones(m, 2), _ones(m, 2, 2)),
    "outer 0-D": lambda m: m.outer(_ones(m, ()), _ones(m, 2)),
    # addmm
    "addmm shapes": lambda m: m.addmm(_ones(m, 3, 2), _ones(m, 3, 4), _ones(m, 5, 2)),
    "addmm 1-D mat1": lambda m: m.addmm(_ones(m, 3, 3), _ones(m, 3), _ones(m, 3, 3)),
    "addmm 0-D mat1": lambda m: m.addmm(_ones(m, 2, 2), _ones(m, ()), _ones(m, 4)),
    "addmm 3-D mat2": lambda m: m.addmm(_ones(m, 3, 3), _ones(m, 3, 3), _ones(m, 3, 3, 1)),
    "addmm input": lambda m: m.addmm(_ones(m, 4, 2), _ones(m, 3, 4), _ones(m, 4, 2)),
    "addmm input both dims": lambda m: m.addmm(_ones(m, 5, 5), _ones(m, 2, 3), _ones(m, 3, 2)),
    "addmm input 3-D": lambda m: m.addmm(_ones(m, 1, 3, 2), _ones(m, 3, 4), _ones(m, 4, 2)),
    "addmm dtype input": lambda m: m.addmm(_ones(m, 3, 2, dtype=_D), _ones(m, 3, 4), _ones(m, 4, 2)),
    "addmm dtype mat1": lambda m: m.addmm(_ones(m, 3, 2), _ones(m, 3, 4, dtype=_D), _ones(m, 4, 2)),
    "addmm dtype before rank": lambda m: m.addmm(_ones(m, 2, 2), _ones(m, 2, 3, dtype=_D), _ones(m, 4)),
    "addmm bool": lambda m: m.addmm(_ones(m, 3, 2, dtype=_B), _ones(m, 3, 4, dtype=_B), _ones(m, 4, 2, dtype=_B)),
    # baddbmm
    "baddbmm inner": lambda m: m.baddbmm(_ones(m, 2, 3, 2), _ones(m, 2, 3, 4), _ones(m, 2, 5, 2)),
    "baddbmm batch": lambda m: m.baddbmm(_ones(m, 2, 3, 2), _ones(m, 2, 3, 4), _ones(m, 3, 4, 2)),
    "baddbmm 2-D batch2": lambda m: m.baddbmm(_ones(m, 3, 2), _ones(m, 3, 4), _ones(m, 4, 2)),
    "baddbmm 1-D batch1": lambda m: m.baddbmm(_ones(m, 2, 3, 2), _ones(m, 4), _ones(m, 2, 4, 2)),
    "baddbmm 4-D batch1": lambda m: m.baddbmm(_ones(m, 2, 3, 2), _ones(m, 2, 3, 4, 2), _ones(m, 2, 4, 2)),
    "baddbmm 4-D batch2": lambda m: m.baddbmm(_ones(m, 2, 3, 2), _ones(m, 2, 3, 4), _ones(m, 2, 4, 2, 1)),
    "baddbmm input": lambda m: m.baddbmm(_ones(m, 2, 4, 2), _ones(m, 2, 3, 4), _ones(m, 2, 4, 2)),
    "baddbmm input 4-D": lambda m: m.baddbmm(_ones(m, 1, 2, 3, 2), _ones(m, 2, 3, 4), _ones(m, 2, 4, 2)),
    "baddbmm dtype": lambda m: m.baddbmm(_ones(m, 2, 3, 2), _ones(m, 2, 3, 4), _ones(m, 2, 4, 2, dtype=_D)),
    "baddbmm dtype 0-D input": lambda m: m.baddbmm(_ones(m, ()), _ones(m, 2, 3, 4), _ones(m, 2, 4, 2, dtype=_D)),
    "baddbmm dtype input": lambda m: m.baddbmm(_ones(m, 2, 3, 2, dtype=_D), _ones(m, 2, 3, 4), _ones(m, 2, 4, 2)),
    "baddbmm dtype large": lambda m: m.baddbmm(_ones(m, 2, 30, 20, dtype=_L), _ones(m, 2, 30, 40, dtype=_L),
                                              _ones(m, 2, 40, 20)),
    "baddbmm bool": lambda m: m.baddbmm(_ones(m, 2, 3, 2, dtype=_B), _ones(m, 2, 3, 4, dtype=_B),
                                       _ones(m, 2, 4, 2, dtype=_B)),
    # addmv
    "addmv size": lambda m: m.addmv(_ones(m, 2), _ones(m, 2, 3), _ones(m, 4)),
    "addmv 0-D input size": lambda m: m.addmv(_ones(m, ()), _ones(m, 2, 3), _ones(m, 4)),
    "addmv rank": lambda m: m.addmv(_ones(m, 2), _ones(m, 3), _ones(m, 3)),
    "addmv 2-D input": lambda m: m.addmv(_ones(m, 2, 2), _ones(m, 2, 3), _ones(m, 3)),
    "addmv input": lambda m: m.addmv(_ones(m, 3), _ones(m, 2, 3), _ones(m, 3)),
    "addmv dtype": lambda m: m.addmv(_ones(m, 2), _ones(m, 2, 3), _ones(m, 3, dtype=_D)),
    "addmv dtype input": lambda m: m.addmv(_ones(m, 2, dtype=_D), _ones(m, 2, 3), _ones(m, 3)),
    "addmv bool": lambda m: m.addmv(_ones(m, 2, dtype=_B), _ones(m, 2, 3, dtype=_B), _ones(m, 3, dtype=_B)),
    # addbmm, addr
    "addbmm inner": lambda m: m.addbmm(_ones(m, 3, 2), _ones(m, 2, 3, 4), _ones(m, 2, 5, 2)),
    "addbmm batches": lambda m: m.addbmm(_ones(m, 3, 2), _ones(m, 2, 3, 4), _ones(m, 3, 4, 2)),
    "addbmm 2-D": lambda m: m.addbmm(_ones(m, 3, 2), _ones(m, 3, 4), _ones(m, 4, 2)),
    "addbmm dtype": lambda m: m.addbmm(_ones(m, 3, 2), _ones(m, 2, 3, 4), _ones(m, 2, 4, 2, dtype=_D)),
    "addr rank": lambda m: m.addr(_ones(m, 2, 2), _ones(m, 2, 2), _ones(m, 2)),
    "addr rank vec2": lambda m: m.addr(_ones(m, 2, 2), _ones(m, 2), _ones(m, 2, 2)),
    "addr input": lambda m: m.addr(_ones(m, 3, 2), _ones(m, 2), _ones(m, 2)),
}


@pytest.mark.parametrize("name", list(MATMUL_ERRORS))
def test_matmul_family_errors_like_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_raises_like_torch(MATMUL_ERRORS[name], torch, tg, name)


@pytest.mark.parametrize("case", [
    lambda m: m.mm(_ones(m, 2, 0, dtype=_B), _ones(m, 0, 2, dtype=_B)),
    lambda m: m.mm(_ones(m, 0, 3, dtype=_B), _ones(m, 3, 2, dtype=_B)),
    lambda m: m.mv(_ones(m, 2, 0, dtype=_B), _ones(m, 0, dtype=_B)),
    lambda m: m.bmm(_ones(m, 2, 3, 0, dtype=_B), _ones(m, 2, 0, 2, dtype=_B)),
    lambda m: m.addmv(_ones(m, 1), _ones(m, 2, 3), _ones(m, 3)),
])
def test_matmul_family_products_torch_computes(case):
    """Where PyTorch has no error (empty bool products, an input of one element), tapegrad computes too."""
    want, got = case(torch), case(tg)
    assert want.tolist() == got.tolist() and str(want.dtype) == str(got.dtype)


@pytest.mark.parametrize("case", [
    lambda m: m.einsum("ij,jk->ik", m.ones(2, 2)),
    lambda m: m.einsum("ij,jk->ik", m.ones(2, 2), m.ones(2, 2), m.ones(2, 2)),
    lambda m: m.einsum("ij->ij", m.ones(2, 2, 2)),
    lambda m: m.einsum("ij,jk->ik", m.ones(2, 3), m.ones(4, 2)),
    lambda m: m.einsum("ij->ii", m.ones(2, 2)),
    lambda m: m.einsum("ij->ik", m.ones(2, 2)),
])
def test_einsum_errors(case):
    assert_raises_like_torch(case, torch, tg, "einsum")


def test_einsum_broadcasts_size_one_subscripts_and_orders_implicit_output():
    rng = np.random.default_rng(10)
    a, b = rng.standard_normal((2, 1)), rng.standard_normal((2, 3))
    _grads(lambda m, x, y: (m.einsum("ij,ij->ij", x, y) ** 2).sum(), a, b)
    _grads(lambda m, x, y: (m.einsum("bA,Ab", x, y.mT) + m.einsum("bA", x).sum()), b, b)


def test_diag_of_a_matrix_is_a_copy():
    x = tg.ones(3, 3)
    d = tg.diag(x)
    d[0] = 5.0
    assert x[0, 0].item() == 1.0


def test_einsum_matmul_path_matches_numpy_einsum():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3, 4, 5)).astype(np.float32), rng.standard_normal((2, 5, 3, 6)).astype(np.float32)
    for eq in ["bhij,bjhk->bhik", "bhij,bjhk->ki", "bhij,bjhk->", "bhij,bjhk->bhijk"]:
        out = tg.einsum(eq, tg.from_numpy(a), tg.from_numpy(b))
        assert out.dtype == tg.float32
        np.testing.assert_allclose(out.numpy(), np.einsum(eq, a.astype(np.float64), b.astype(np.float64)),
                                   rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- decompositions: gauge-invariant gradients
def _grads(fn, *arrays):
    out = []
    for m in (tg, torch):
        xs = [_t(m, a, True) for a in arrays]
        fn(m, *xs).backward()
        out.append([x.grad for x in xs])
    for g_tg, g_torch in zip(*out):
        _close(g_tg, g_torch, rtol=1e-6, atol=1e-9)


def test_svd_gradients_through_invariant_losses():
    rng = np.random.default_rng(5)
    for shape in [(4, 3), (3, 5), (2, 3, 3)]:
        A = rng.standard_normal(shape)
        w = rng.standard_normal(shape)

        def loss(m, a, _w=w):
            U, S, Vh = m.linalg.svd(a, full_matrices=False)
            recon = U @ m.diag_embed(S.sqrt()) @ Vh  # gauge invariant: signs of u_i, v_i cancel
            return (recon * m.tensor(_w)).sum() + (U ** 2 * S.unsqueeze(-2)).sum() + (Vh ** 2).sum(-2).prod()
        _grads(loss, A)


def test_eigh_gradients_through_invariant_losses():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((2, 4, 4))

    def loss(m, x):
        w, V = m.linalg.eigh(x @ x.mT)
        f = (V * w.unsqueeze(-2).sin()) @ V.mT  # a matrix function: invariant
        return f.sum() + (V[..., :2] ** 2 * m.arange(4.0, dtype=m.float64).unsqueeze(-1)).sum() + w.exp().sum()
    _grads(loss, X)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_qr_and_cholesky_values_and_gradients():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((5, 3))
    _grads(lambda m, a: (m.linalg.qr(a).Q.sin().sum() + m.linalg.qr(a).R.cos().sum()), A)
    _grads(lambda m, a: m.linalg.cholesky(a.mT @ a).sum() + m.cholesky(a.mT @ a, upper=True).exp().sum(), A)
    _grads(lambda m, a: m.linalg.pinv(a).sin().sum() + m.linalg.matrix_norm(a, "nuc"), A)


def test_matrix_rank_and_norms_match_torch():
    rng = np.random.default_rng(8)
    A = rng.standard_normal((4, 3)) @ rng.standard_normal((3, 5))
    assert tg.linalg.matrix_rank(tg.tensor(A)).item() == torch.linalg.matrix_rank(torch.tensor(A)).item() == 3
    assert tg.linalg.matrix_rank(tg.tensor(A)).dtype == tg.int64
    for ord_ in ["fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")]:
        _close(tg.linalg.matrix_norm(tg.tensor(A), ord_), torch.linalg.matrix_norm(torch.tensor(A), ord_))
        _close(tg.linalg.norm(tg.tensor(A), ord_), torch.linalg.norm(torch.tensor(A), ord_))
    _close(tg.norm(tg.tensor(A), "nuc"), torch.norm(torch.tensor(A), "nuc"))


def test_det_gradient_of_exactly_singular_matrices_is_zero_like_torch():
    A = np.array([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[2.0, 0, 0], [0, 3, 0], [1, 0, 1]]])
    _grads(lambda m, a: (m.linalg.det(a) * m.tensor([2.0, -1.0], dtype=m.float64)).sum(), A)
    _grads(lambda m, a: m.linalg.det(a).exp().sum(), np.zeros((2, 2, 2)))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_tensor_methods_and_top_level_aliases():
    rng = np.random.default_rng(9)
    A = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    S = A @ A.T
    for fn in [lambda m, a: a.det(), lambda m, a: a.inverse(), lambda m, a: a.pinverse(), lambda m, a: a.logdet(),
               lambda m, a: a.matrix_power(3), lambda m, a: a.slogdet()[1], lambda m, a: a.trace(),
               lambda m, a: a.diag(), lambda m, a: a.tril(-1), lambda m, a: a.triu(1), lambda m, a: a.kron(a),
               lambda m, a: a.svd()[1], lambda m, a: a.qr()[1], lambda m, a: (a @ a.mT).cholesky(),
               lambda m, a: a.cholesky_solve((a @ a.mT).cholesky()), lambda m, a: a[0].outer(a[1]),
               lambda m, a: a.addmm(a, a, beta=2), lambda m, a: a.diag_embed(), lambda m, a: a.matrix_exp(),
               lambda m, a: m.linalg.det(a), lambda m, a: m.linalg.multi_dot([a, a, a]),
               lambda m, a: m.linalg.eigvalsh(a @ a.mT), lambda m, a: m.linalg.svdvals(a),
               lambda m, a: m.linalg.solve(a, a[:2], left=False)]:
        _close(fn(tg, tg.tensor(A)), fn(torch, torch.tensor(A)), rtol=1e-7, atol=1e-9)
    _close(tg.linalg.cholesky(tg.tensor(S)), torch.linalg.cholesky(torch.tensor(S)))


def test_import_as_torch_and_missing_names():
    import importlib

    t = importlib.import_module("tapegrad")
    x = t.linalg.solve(t.eye(2) * 2, t.ones(2))
    assert x.tolist() == [0.5, 0.5]
    assert not hasattr(t.linalg, "no_such_function")
    with pytest.raises(NotImplementedError, match="torch.linalg.no_such_function"):
        t.linalg.no_such_function


def test_float32_stays_float32():
    A = tg.randn(3, 3, dtype=tg.float32) + 3 * tg.eye(3)
    for r in [tg.linalg.inv(A), tg.linalg.det(A), tg.linalg.slogdet(A)[1], tg.linalg.svd(A)[1], tg.linalg.pinv(A),
              tg.linalg.eigh(A)[0], tg.linalg.qr(A)[0], tg.linalg.lstsq(A, A).solution, tg.linalg.solve(A, A),
              tg.linalg.matrix_norm(A, "nuc"), tg.einsum("ij,jk->ik", A, A), tg.cdist(A, A)]:
        assert r.dtype == tg.float32
