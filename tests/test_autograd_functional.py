"""torch.autograd.functional (vjp, jvp, jacobian, hessian, vhp, hvp), once_differentiable and the
setup_context style of autograd.Function, each against PyTorch."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _np(x):
    if isinstance(x, tuple):
        return tuple(_np(t) for t in x)
    return None if x is None else x.detach().numpy()


def _same(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def _inputs(m, shapes, seed):
    rng = np.random.default_rng(seed)
    return tuple(m.tensor(rng.standard_normal(s)) for s in shapes)


# (function of the module m, input shapes); inputs are float64
FUNCS = {
    "cube": (lambda m: lambda x: x ** 3, [(3,)]),
    "matrix": (lambda m: lambda x: (x @ x.T).tanh(), [(2, 3)]),
    "two_in": (lambda m: lambda x, y: x.exp() * y.sin() + x @ y.new_ones(3, 3), [(2, 3), (2, 3)]),
    "scalar": (lambda m: lambda x: (x * x).sum().reshape(()), [(4,)]),
    "two_out": (lambda m: lambda x: (x.sum(0), (x * 2).cos()), [(2, 2)]),
    "unused": (lambda m: lambda x, y: x * 2, [(2,), (3,)]),
}


def _pack(shapes, t):
    return t if len(shapes) > 1 else t[0]


@pytest.mark.parametrize("name", list(FUNCS))
def test_jacobian_matches_torch(name):
    make, shapes = FUNCS[name]
    want = torch.autograd.functional.jacobian(make(torch), _pack(shapes, _inputs(torch, shapes, 0)))
    got = tg.autograd.functional.jacobian(make(tg), _pack(shapes, _inputs(tg, shapes, 0)))
    _same(_np(got), _np(want))


@pytest.mark.parametrize("name", ["cube", "matrix", "two_in", "two_out", "unused"])
def test_vjp_and_jvp_match_torch(name):
    make, shapes = FUNCS[name]
    rng = np.random.default_rng(1)
    xs_t, xs_g = _inputs(torch, shapes, 0), _inputs(tg, shapes, 0)
    outs = make(torch)(*xs_t)
    outs = outs if isinstance(outs, tuple) else (outs,)
    v_out = [rng.standard_normal(tuple(o.shape)) for o in outs]
    v_in = [rng.standard_normal(s) for s in shapes]
    for fn, v in (("vjp", v_out), ("jvp", v_in)):
        vt = _pack(v, tuple(torch.tensor(a) for a in v))
        vg = _pack(v, tuple(tg.tensor(a) for a in v))
        want = getattr(torch.autograd.functional, fn)(make(torch), _pack(shapes, xs_t), vt)
        got = getattr(tg.autograd.functional, fn)(make(tg), _pack(shapes, xs_g), vg)
        _same(_np(got), _np(want))


@pytest.mark.parametrize("fn", ["hessian", "hvp", "vhp"])
@pytest.mark.parametrize("two", [False, True])
def test_second_order_match_torch(fn, two):
    def f(m):
        if two:
            return lambda x, y: (x.sin() * y).sum() + (x ** 2 * y ** 3).sum()
        return lambda x: (x.sin() * x.exp()).sum() + x.prod()

    shapes = [(3,), (3,)] if two else [(3,)]
    args_t, args_g = [_pack(shapes, _inputs(torch, shapes, 2))], [_pack(shapes, _inputs(tg, shapes, 2))]
    if fn != "hessian":
        v = [np.random.default_rng(3).standard_normal(s) for s in shapes]
        args_t.append(_pack(shapes, tuple(torch.tensor(a) for a in v)))
        args_g.append(_pack(shapes, tuple(tg.tensor(a) for a in v)))
    want = getattr(torch.autograd.functional, fn)(f(torch), *args_t)
    got = getattr(tg.autograd.functional, fn)(f(tg), *args_g)
    _same(_np(got), _np(want))


def test_create_graph_gives_differentiable_results():
    for m in (torch, tg):
        x = m.tensor([0.5, -1.0, 2.0], dtype=m.float64, requires_grad=True)
        jac = m.autograd.functional.jacobian(lambda t: t ** 3, x, create_graph=True)
        jac.trace().backward()
        if m is torch:
            want = x.grad.numpy().copy()
        else:
            np.testing.assert_allclose(x.grad.numpy(), want)  # d/dx sum(3 x^2) = 6 x
            assert tg.autograd.functional.jacobian(lambda t: t ** 3, x).grad_fn is None


@pytest.mark.parametrize("call", [
    lambda m, F: F.vjp(lambda x: x * 2, m.ones(2)),  # v needed for a non-scalar output
    lambda m, F: F.vjp(lambda x: x * 2, m.ones(2), m.ones(3)),  # v of the wrong size
    lambda m, F: F.vjp(lambda x, y: x * 2, (m.ones(2), m.ones(2)), m.ones(2), strict=True),  # y unused
    lambda m, F: F.jacobian(lambda x, y: x * 2, (m.ones(2), m.ones(2)), strict=True),
    lambda m, F: F.hessian(lambda x: x * 2, m.ones(2)),  # not a scalar
    lambda m, F: F.jacobian(lambda x: x, [m.ones(2)]),  # a list, not a tuple
    lambda m, F: F.jacobian(lambda x: x, m.ones(2), strategy="sideways"),
    lambda m, F: F.jacobian(lambda x: x, m.ones(2), strategy="forward-mode"),  # needs vectorize=True
])
def test_errors_like_torch(call):
    with pytest.raises(Exception) as want:
        call(torch, torch.autograd.functional)
    with pytest.raises(type(want.value)) as got:
        call(tg, tg.autograd.functional)
    assert str(got.value).split(":")[0][:40] == str(want.value).split(":")[0][:40]


def test_unused_input_gives_zeros_unless_strict():
    _, g = tg.autograd.functional.vjp(lambda x, y: x * 2, (tg.ones(2), tg.ones(3)), tg.ones(2))
    assert g[1].shape == (3,) and not g[1].numpy().any()


# ---------------------------------------------------------------- autograd.Function extras
def _square_fn(m):
    class Square(m.autograd.Function):  # PyTorch 2's split style: forward without ctx, then setup_context
        @staticmethod
        def forward(x, k):
            return x * x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, k = inputs
            ctx.save_for_backward(x, output)
            ctx.k = k

        @staticmethod
        def backward(ctx, g):
            x, out = ctx.saved_tensors
            return 2 * ctx.k * x * g + 0 * out, None

    return Square


def test_setup_context_style_function():
    grads = []
    for m in (torch, tg):
        x = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = _square_fn(m).apply(x, 1.5)
        y.backward(m.tensor([1.0, 2.0, 3.0]))
        grads.append((y.detach().numpy().copy(), x.grad.numpy().copy(), y.grad_fn.name()))
    np.testing.assert_array_equal(grads[1][0], grads[0][0])
    np.testing.assert_array_equal(grads[1][1], grads[0][1])
    assert grads[1][2] == grads[0][2]


def test_function_without_setup_context_keeps_ctx_forward():
    with pytest.raises(NotImplementedError, match="setup_context is not implemented"):
        tg.autograd.Function.setup_context(None, (), None)


def _once_fn(m):
    class Cube(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @m.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert not m.is_grad_enabled()  # once_differentiable runs backward without recording
            return 3 * x * x * g

    return Cube


def test_once_differentiable():
    seen = []
    for m in (torch, tg):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        _once_fn(m).apply(x).sum().backward()
        v = m.ones(2, requires_grad=True)
        (g,) = m.autograd.grad(_once_fn(m).apply(x), x, grad_outputs=v, create_graph=True)
        with pytest.raises(RuntimeError, match="marked with @once_differentiable") as err:
            g.sum().backward()
        seen.append((x.grad.numpy().copy(), g.detach().numpy().copy(), repr(g).split("grad_fn=")[1], str(err.value)))
    for a, b in zip(seen[1], seen[0]):
        if isinstance(a, str):
            assert a == b
        else:
            np.testing.assert_array_equal(a, b)
