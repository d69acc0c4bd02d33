"""Differential audit of creation, conversion of Python numbers, dtypes and random-function argument checks
against torch: every case runs the same expression under torch and tapegrad and compares the dtype, shape
and values, or the exception type and (the gist of) its message."""
import random
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _outcome(src, m):
    """(dtype, shape, values) of the expression's tensor, or (exception type, first line of the message)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = eval(src, {"torch": m, "np": np})  # noqa: S307 - the cases below are literals
    except Exception as e:  # noqa: BLE001 - compared below
        return type(e).__name__, str(e).split("\n")[0]
    if isinstance(r, (torch.Tensor, tg.Tensor)):
        return repr(r.dtype), tuple(r.shape), r.detach().tolist(), r.requires_grad
    return repr(r)


def _check(src, gist=None):
    want, got = _outcome(src, torch), _outcome(src, tg)
    if gist is not None:  # an error whose message tapegrad words differently: type and the given gist
        assert want[0] == got[0] and gist in want[1] and gist in got[1], f"{src}: torch {want}, tapegrad {got}"
        return
    if isinstance(want, tuple) and len(want) == 2 and isinstance(got, tuple) and len(got) == 2:
        assert want[0] == got[0] and want[1] in got[1], f"{src}: torch {want}, tapegrad {got}"
        return
    assert repr(want).replace("nan", "N") == repr(got).replace("nan", "N"), f"{src}: torch {want}, tapegrad {got}"


# torch.tensor from Python numbers: PyTorch's store_scalar, element by element
VALUES = ["-1", "-255", "-256", "255", "256", "-128", "-129", "127.9", "-128.9", "-0.5", "255.5", "2**31",
          "2**63", "-2**63-1", "2.0**63", "-2.0**63", "1e10", "float('nan')", "float('inf')", "True", "1.7"]
INT_DTYPES = ["uint8", "int8", "int16", "int32", "int64", "bool"]


@pytest.mark.parametrize("dt", INT_DTYPES)
def test_tensor_from_python_number_into_integer_dtype(dt):
    # e.g. torch.tensor([-1], dtype=torch.uint8) wraps to 255, [-0.5] and [127.9] (int8) overflow, 2.0**63
    # becomes INT64_MIN, 2**63 is "Overflow when unpacking long long" (ValueError), NaN a RuntimeError
    for v in VALUES:
        _check(f"torch.tensor([{v}], dtype=torch.{dt})")
        _check(f"torch.tensor({v}, dtype=torch.{dt})")
        _check(f"torch.tensor([[{v}, 1.5], [0, True]], dtype=torch.{dt})")


@pytest.mark.parametrize("src", [
    # leaves PyTorch refuses to store into an integer dtype (no __index__), or into a float dtype
    "torch.tensor([np.float32(1.5)], dtype=torch.int32)", "torch.tensor([np.float16(1), 2], dtype=torch.int8)",
    "torch.tensor(np.bool_(True), dtype=torch.int32)", "torch.tensor([np.bool_(True), 2])",
    "torch.tensor([np.int64(300)], dtype=torch.uint8)", "torch.tensor([np.float64(300.5)], dtype=torch.uint8)",
    "torch.tensor([np.float64(2.0**63)], dtype=torch.int64)", "torch.tensor([np.uint64(3)], dtype=torch.int8)",
    "torch.tensor([1, 2**63])", "torch.tensor([2**1000])", "torch.tensor([2**1000], dtype=torch.float32)",
    "torch.tensor([2**1100], dtype=torch.float64)", "torch.tensor([1e300], dtype=torch.float16)",
    "torch.tensor([None], dtype=torch.float64)", "torch.tensor([None], dtype=torch.int32)",
    "torch.tensor([1, 'a'], dtype=torch.float32)", "torch.tensor([1+2j], dtype=torch.int64)",
    "torch.tensor(1+2j, dtype=torch.float32)", "torch.tensor([1, [2, 3]], dtype=torch.float64)",
    # multi-element tensors are not sequences to torch.tensor; float tensors have no __index__
    "torch.tensor([torch.tensor([1., 2.]), torch.tensor([3., 4.])])",
    "torch.tensor([torch.tensor([1, 2]), torch.tensor([3, 4])])",
    "torch.tensor([torch.tensor(1.5)], dtype=torch.int64)", "torch.tensor([torch.tensor(-1)], dtype=torch.uint8)",
    "torch.tensor([torch.tensor([1.]), 2.])", "torch.tensor([torch.tensor(1, dtype=torch.int8), 1])",
    # sizes follow the first elements; strings are endless sequences; 0-d arrays have no len()
    "torch.tensor(['a'])", "torch.tensor('a', dtype=torch.float32)", "torch.tensor([1, 'a'])",
    "torch.tensor([np.array(1.5)])", "torch.tensor([[1, 2], [3]])", "torch.tensor([[1, 2], 3])",
    "torch.tensor([1, [2, 3]])", "torch.tensor([[[1]], [[1, 2]]])", "torch.tensor([np.array([1., 2]), [3., 4]])",
    "torch.tensor([[], []])", "torch.tensor([object()])",
])
def test_tensor_from_mixed_python_data(src):
    _check(src)


def test_unsupported_numpy_array_named_like_torch():
    # tapegrad lists the (fewer) types it supports; the start of the message is PyTorch's
    for src in ["torch.tensor(np.array(['a']), dtype=torch.float64)", "torch.as_tensor(np.array(['a']))",
                "torch.tensor(np.array([1, 2], dtype=object))"]:
        want = _outcome(src, torch)
        _check(src, gist=want[1].split(". The only")[0])


def test_float64_to_float16_rounds_through_float32_like_torch():
    # c10::Half is built from a float: 1 + 2**-11 + 2**-40 rounds to 1 + 2**-11 in float32, a tie that
    # goes to even (1.0) in half; NumPy's direct double -> half conversion gives 1 + 2**-10
    x = repr(1 + 2 ** -11 + 2 ** -40)
    for src in [f"torch.tensor([{x}], dtype=torch.float16)", f"torch.tensor({x}, dtype=torch.float16)",
                f"torch.full((2,), {x}, dtype=torch.float16)", f"torch.tensor(np.array([{x}]), dtype=torch.float16)",
                f"torch.as_tensor(np.array([{x}]), dtype=torch.float16)",
                f"torch.ones(2, dtype=torch.float64).new_full((2,), {x}, dtype=torch.float16)"]:
        _check(src)


FILL = ["-1", "256", "-256", "2**31", "2**63", "2**64", "-2**63-1", "-0.5", "127.9", "255.5", "1e5", "65519.99",
        "3.4028235e38", "1e300", "2.0**63", "float('nan')", "float('inf')", "True", "2.5"]


@pytest.mark.parametrize("dt", ["uint8", "int8", "int16", "int32", "int64", "bool", "float16", "float32",
                                "float64"])
def test_full_checks_the_fill_value_like_torch(dt):
    # the fill path's checked_convert names the C++ type: "value cannot be converted to type int8_t ..."
    for v in FILL:
        _check(f"torch.full((2,), {v}, dtype=torch.{dt})")
        _check(f"torch.full_like(torch.ones(2, dtype=torch.{dt}), {v})")


@pytest.mark.parametrize("src", [
    "torch.full((2,), 3)", "torch.full((2,), 3.)", "torch.full((2,), True)", "torch.full((2,), np.int32(1))",
    "torch.full((2,), np.float64(1.5))", "torch.full((2,), np.float16(1.5))", "torch.full((2,), np.bool_(True))",
    "torch.full((2,), torch.tensor(3.))", "torch.full((2,), torch.tensor([3.]))", "torch.full(2, 3)",
    "torch.full((2,), None)", "torch.full((2,), 'a')", "torch.full((2,), 2**63)", "torch.full((2,), 2**64)",
    "torch.scalar_tensor(1e10, dtype=torch.int32)",
    "torch.zeros(size=(2, 3))", "torch.ones(size=(2,))", "torch.empty(size=(0, 2)).shape", "torch.rand(size=(2,)).shape",
    "torch.randn(size=(1, 2)).shape", "torch.zeros(size=2)", "torch.zeros((2,), 3)", "torch.zeros(2.0)",
    "torch.zeros((2.0,))", "torch.zeros(torch.tensor(3.))", "torch.zeros(torch.tensor(3))", "torch.zeros(2, -1)",
    "torch.ones(-1)", "torch.zeros((2, (3,)))", "torch.rand(2.0)",
    "torch.ones(2, 3).new_tensor(np.array([1, 2]))", "torch.ones(2, dtype=torch.int32).new_tensor(np.array([1., 2.]))",
    "torch.ones(2, dtype=torch.int32).new_tensor([1.7])", "torch.ones(2).new_tensor([1, 2], requires_grad=True)",
    "torch.eye(-1)", "torch.eye(3, -1)", "torch.eye(2.0)", "torch.eye(torch.tensor(3))",
])
def test_factories_arguments_like_torch(src):
    _check(src)


def test_linspace_and_logspace_like_torch():
    # integer endpoints are held in the dtype (-5 as uint8 is 251); float16 works in c10::Half arithmetic;
    # logspace raises std::pow (glibc), not NumPy's power
    for src in ["torch.linspace(-5, 5, 7, dtype=torch.uint8)", "torch.logspace(-5, 5, 7, dtype=torch.uint8)",
                "torch.linspace(0, 1000, 5, dtype=torch.uint8)", "torch.linspace(0, 1e300, 3)",
                "torch.linspace(-0.5, 5, 5, dtype=torch.uint8)", "torch.linspace(0, 1, 5, dtype=torch.bool)",
                "torch.logspace(0, 1, 5, dtype=torch.bool)", "torch.linspace(0, 1, torch.tensor(5))",
                "torch.logspace(50, 1, 1)", "torch.logspace(50, 1, 1, dtype=torch.int32)",
                "torch.logspace(2, 1, 1, dtype=torch.int32)", "torch.logspace(0, 3, 4, base=-2)",
                "torch.logspace(0, 1, 5, dtype=torch.float64)", "torch.logspace(0.1, 0.9, 9)",
                "torch.logspace(1e-3, 1e3, 33)", "torch.linspace(2.0, 5.0, 12, dtype=torch.float16)"]:
        _check(src)
    _check("torch.linspace(0, 1, 5.0)", gist="invalid combination of arguments")
    rng = random.Random(0)
    for _ in range(40):
        a, b = round(rng.uniform(-5, 5), rng.randint(0, 3)), round(rng.uniform(-3000, 3000), rng.randint(0, 3))
        n = rng.choice([0, 1, 2, rng.randint(3, 60), rng.randint(2000, 5000)])
        for dt in ["float32", "float64", "float16", "int64", "int32"]:
            _check(f"torch.linspace({a}, {b}, {n}, dtype=torch.{dt})")
            _check(f"torch.logspace({a / 1000}, {b / 1000}, {min(n, 60)}, dtype=torch.{dt})")


def _meta(src, m):
    """dtype, shape and requires_grad of a random result (random streams differ), or the exception."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = eval(src, {"torch": m, "np": np})  # noqa: S307
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e).split("\n")[0]
    return (repr(r.dtype), tuple(r.shape), r.requires_grad) if hasattr(r, "dtype") else repr(r)


@pytest.mark.parametrize("src", [
    "torch.randint(10, (3,), dtype=torch.bool)", "torch.randint(2, (3,), dtype=torch.bool)",
    "torch.randint(300, (3,), dtype=torch.uint8)", "torch.randint(-1, 3, (3,), dtype=torch.uint8)",
    "torch.randint(129, (3,), dtype=torch.int8)", "torch.randint(-129, 0, (3,), dtype=torch.int8)",
    "torch.randint(2**15 + 1, (3,), dtype=torch.int16)", "torch.randint(2**31 + 1, (3,), dtype=torch.int32)",
    "torch.randint(10.5, (3,))", "torch.randint(2**63, (2,))", "torch.randint(10, (-1,))", "torch.randint(10, 3)",
    "torch.randint(5, 3, (3,))", "torch.randint(3, 10, size=(3,))", "torch.randint(high=5, size=(2,))",
    "torch.randint(10, (2,), dtype=torch.float32, requires_grad=True)", "torch.randint(3, (2,), requires_grad=True)",
    "torch.randperm(-1)", "torch.randperm(5, dtype=torch.bool)", "torch.randperm(300, dtype=torch.uint8)",
    "torch.randperm(256, dtype=torch.uint8)", "torch.randperm(129, dtype=torch.int8)", "torch.randperm(5.0)",
    "torch.randperm(3000, dtype=torch.float16)", "torch.randperm(2049, dtype=torch.float16)",
    "torch.randperm(torch.tensor(5))", "torch.randperm(3, requires_grad=True)",
    "torch.normal(0., 1., (2,), dtype=torch.int64)", "torch.normal(torch.zeros(3), 1., (3,))",
    "torch.multinomial(torch.ones(0), 1)", "torch.multinomial(torch.ones(2, 0), 1)",
    "torch.multinomial(torch.ones(4), 2.0)", "torch.multinomial(torch.ones(4), 5)",
    "torch.bernoulli(torch.tensor([2.]))", "torch.bernoulli(torch.tensor([1], dtype=torch.int64))",
    "torch.bernoulli(torch.ones(3, requires_grad=True))", "torch.bernoulli(torch.ones(3), p=2.)",
    "torch.poisson(torch.ones(3, dtype=torch.int64))", "torch.poisson(-torch.ones(3))",
    "torch.poisson(torch.tensor([float('nan')]))",
    "torch.empty(3).random_(5, 2)", "torch.empty(3, dtype=torch.int8).random_(200)",
    "torch.empty(3).bernoulli_(1.5)", "torch.empty(3).exponential_(-1)", "torch.empty(3).exponential_(0)",
    "torch.empty(3, dtype=torch.int64).exponential_()", "torch.empty(3).geometric_(0)",
    "torch.empty(3).geometric_(1.5)", "torch.empty(3).log_normal_(0, -1)", "torch.empty(3).cauchy_(0, -1)",
    "torch.Generator().manual_seed(2**64).initial_seed()", "torch.Generator().manual_seed(-2**63 - 1)",
    "torch.Generator().manual_seed(1.5)", "torch.Generator().manual_seed('1')", "torch.Generator().manual_seed(True)",
    "torch.Generator().manual_seed(-1).initial_seed()", "torch.manual_seed(-2**63).initial_seed()",
    "torch.set_rng_state(5)", "torch.set_rng_state(torch.zeros(3))", "torch.Generator().set_state(torch.ones(3))",
])
def test_random_arguments_like_torch(src):
    want, got = _meta(src, torch), _meta(src, tg)
    if isinstance(want, tuple) and len(want) == 2:
        assert isinstance(got, tuple) and got[0] == want[0] and want[1] in got[1], f"{src}: {want} vs {got}"
    else:
        assert want == got, f"{src}: torch {want}, tapegrad {got}"


def test_random_errors_that_tapegrad_words_differently():
    for src, gist in [("torch.Generator().set_state(torch.ones(3, dtype=torch.uint8))", "RNG state size to be 3"),
                      ("torch.rand(2, generator=5)", "rand() received an invalid combination of arguments"),
                      ("torch.normal(0., 1.)", "normal() received an invalid combination of arguments")]:
        want, got = _meta(src, torch), _meta(src, tg)
        assert want[0] == got[0] and gist in want[1] and gist in got[1], f"{src}: {want} vs {got}"


def test_bernoulli_of_a_tensor_requiring_grad_has_zero_gradient():
    for m in (torch, tg):
        x = m.full((3,), 0.5, requires_grad=True)
        b = m.bernoulli(x)
        assert b.grad_fn.name() == "BernoulliBackward0"
        b.sum().backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("src", [
    "torch.result_type(torch.ones(2), 1+2j)", "torch.result_type(torch.ones(2, dtype=torch.int32), 1+2j)",
    "torch.promote_types(torch.float32, 'int')", "torch.promote_types(3, torch.float32)",
    "torch.promote_types(torch.uint8, torch.int8)", "torch.result_type(torch.ones(2, dtype=torch.float16), 2.5)",
])
def test_promotion_like_torch(src):
    _check(src)
