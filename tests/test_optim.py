"""tapegrad.optim against torch.optim: identical parameters and gradients, parameters compared after every step."""
import copy
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4,), (2, 2, 3), ()]
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def _arrays(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _params(mod, arrays):
    return [mod.nn.Parameter(mod.tensor(a.copy())) for a in arrays]


def _np(t):
    return t._data if isinstance(t, tg.Tensor) else t.detach().numpy()


class _Grads:
    """Gradients of a fixed function of the parameters plus a fixed noise sequence: g = 0.7 * p + noise_k."""

    def __init__(self, dtype, seed=1):
        self.rng = np.random.default_rng(seed)
        self.dtype = dtype
        self.noise = {}

    def __call__(self, mod, params, k, skip_last=True):
        for i, p in enumerate(params):
            if skip_last and i == len(params) - 1:
                continue  # the last parameter never gets a gradient: it must be skipped
            key = (k, i)
            if key not in self.noise:
                self.noise[key] = self.rng.standard_normal(p.shape).astype(self.dtype)
            g = (0.7 * _np(p).astype(np.float64) + self.noise[key]).astype(self.dtype)
            p.grad = mod.tensor(g)


def _compare(tp, pp, dtype, what=""):
    for i, (a, b) in enumerate(zip(tp, pp)):
        assert a.dtype == getattr(tg, dtype), f"{what} param {i} dtype {a.dtype}"
        np.testing.assert_allclose(_np(a), _np(b), err_msg=f"{what} param {i}", **TOL[dtype])


def _run(name, kwargs, dtype="float32", steps=20):
    arrays = _arrays(dtype)
    tp, pp = _params(tg, arrays), _params(torch, arrays)
    to = getattr(tg.optim, name)(tp, **kwargs)
    po = getattr(torch.optim, name)(pp, **kwargs)
    grads = _Grads(dtype)
    for k in range(steps):
        grads(tg, tp, k)
        grads(torch, pp, k)
        to.step()
        po.step()
        _compare(tp, pp, dtype, f"{name}{kwargs} step {k}")
    np.testing.assert_array_equal(_np(tp[-1]), arrays[-1])  # no gradient, no update
    return to, po


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True, maximize=True)),
    ("SGD", dict(lr=0.05, maximize=True, foreach=False, fused=None)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.01, foreach=False, fused=None, capturable=False, differentiable=False)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, maximize=True, betas=(0.5, 0.9))),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, maximize=True, eps=1e-4)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True, eps=1e-6)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, maximize=True, betas=(0.8, 0.99))),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_against_torch_float32(name, kwargs):
    _run(name, kwargs, "float32")


@pytest.mark.parametrize("name,kwargs", CASES[::3], ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES[::3])])
def test_against_torch_float64(name, kwargs):
    _run(name, kwargs, "float64")


def _state_np(state):
    return {k: (_np(v).copy() if hasattr(v, "shape") else v) for k, v in state.items()}


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)), ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("NAdam", dict(lr=0.01)), ("RAdam", dict(lr=0.01)), ("Adadelta", dict()), ("Adamax", dict())])
def test_state_dict_layout_matches_torch(name, kwargs):
    to, po = _run(name, kwargs, steps=3)
    ts, ps = to.state_dict(), po.state_dict()
    assert list(ts["state"].keys()) == list(ps["state"].keys())
    for i in ps["state"]:
        assert list(ts["state"][i].keys()) == list(ps["state"][i].keys())
        for k, v in ps["state"][i].items():
            tv = ts["state"][i][k]
            assert isinstance(tv, tg.Tensor)
            assert str(tv.dtype) == str(v.dtype) and tuple(tv.shape) == tuple(v.shape), (k, tv.dtype, v.dtype)
            np.testing.assert_allclose(_np(tv), v.numpy(), rtol=1e-5, atol=1e-6)
    assert len(ts["param_groups"]) == len(ps["param_groups"])
    for tgp, pgp in zip(ts["param_groups"], ps["param_groups"]):
        assert list(tgp.keys()) == list(pgp.keys())
        assert tgp == pgp


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)), ("NAdam", dict(lr=0.01)), ("RAdam", dict(lr=0.01)),
    ("Adadelta", dict()), ("Adamax", dict())])
def test_state_dict_resume_same_trajectory(name, kwargs):
    arrays = _arrays("float32")
    cls = getattr(tg.optim, name)
    # 20 straight steps
    straight = _params(tg, arrays)
    opt = cls(straight, **kwargs)
    grads = _Grads("float32")
    for k in range(20):
        grads(tg, straight, k)
        opt.step()
    # 10 steps, save, a fresh optimizer loads the state, 10 more
    resumed = _params(tg, arrays)
    opt = cls(resumed, **kwargs)
    grads2 = _Grads("float32")
    for k in range(10):
        grads2(tg, resumed, k)
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    opt2 = cls(resumed, **kwargs)
    opt2.load_state_dict(saved)
    for k in range(10, 20):
        grads2(tg, resumed, k)
        opt2.step()
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(_np(a), _np(b))


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)),
                                         ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True))])
def test_load_torch_state_dict(name, kwargs):
    """A state dict torch wrote (tensors converted) resumes in tapegrad on torch's trajectory."""
    arrays = _arrays("float32")
    pp = _params(torch, arrays)
    po = getattr(torch.optim, name)(pp, **kwargs)
    grads = _Grads("float32")
    for k in range(10):
        grads(torch, pp, k)
        po.step()
    sd = po.state_dict()
    conv = {"state": {i: {k: tg.tensor(v.numpy()) for k, v in s.items()} for i, s in sd["state"].items()},
            "param_groups": copy.deepcopy(sd["param_groups"])}
    tp = _params(tg, [_np(p).copy() for p in pp])
    to = getattr(tg.optim, name)(tp, **kwargs)
    to.load_state_dict(conv)
    for k in range(10, 20):
        grads(torch, pp, k)
        grads(tg, tp, k)
        po.step()
        to.step()
        _compare(tp, pp, "float32", f"{name} step {k}")


def test_load_state_dict_casts_to_param_dtype_but_not_step():
    arrays = _arrays("float32")
    tp = _params(tg, arrays)
    opt = tg.optim.Adam(tp, lr=0.01)
    _Grads("float32")(tg, tp, 0)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    for s in sd["state"].values():
        s["exp_avg"] = s["exp_avg"].double()
        s["step"] = s["step"].double()
    opt.load_state_dict(sd)
    st = opt.state[tp[0]]
    assert st["exp_avg"].dtype == tg.float32 and st["step"].dtype == tg.float64


def test_load_state_dict_errors():
    tp = _params(tg, _arrays("float32"))
    opt = tg.optim.SGD(tp, lr=0.1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        tg.optim.SGD([{"params": tp[:2]}, {"params": tp[2:]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="loaded state dict contains a parameter group that doesn't match the size "
                                         "of optimizer's group"):
        tg.optim.SGD(tp[:2], lr=0.1).load_state_dict(sd)


def test_param_groups_different_lrs_and_add_param_group():
    arrays = _arrays("float32")
    tp, pp = _params(tg, arrays), _params(torch, arrays)
    to = tg.optim.SGD([{"params": tp[:1]}, {"params": tp[1:2], "lr": 0.01, "momentum": 0.5}], lr=0.1, momentum=0.9)
    po = torch.optim.SGD([{"params": pp[:1]}, {"params": pp[1:2], "lr": 0.01, "momentum": 0.5}], lr=0.1,
                         momentum=0.9)
    assert [g["lr"] for g in to.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in to.param_groups] == [0.9, 0.5]
    grads = _Grads("float32")
    for k in range(20):
        if k == 5:
            to.add_param_group({"params": tp[2:3], "lr": 0.2, "weight_decay": 0.1})
            po.add_param_group({"params": pp[2:3], "lr": 0.2, "weight_decay": 0.1})
            assert to.param_groups[2].keys() == po.param_groups[2].keys()
        grads(tg, tp, k)
        grads(torch, pp, k)
        to.step()
        po.step()
        _compare(tp, pp, "float32", f"step {k}")
    assert to.state_dict()["param_groups"] == po.state_dict()["param_groups"]


def test_named_parameters():
    arrays = _arrays("float32")
    named = [(f"w{i}", p) for i, p in enumerate(_params(tg, arrays))]
    opt = tg.optim.SGD(named, lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w0", "w1", "w2", "w3"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w0", "w1", "w2", "w3"]


def test_zero_grad():
    tp = _params(tg, _arrays("float32"))
    opt = tg.optim.SGD(tp, lr=0.1)
    _Grads("float32")(tg, tp, 0)
    g0 = tp[0].grad
    opt.zero_grad(set_to_none=False)
    assert tp[0].grad is g0 and not np.any(_np(g0)) and tp[-1].grad is None
    opt.zero_grad()
    assert all(p.grad is None for p in tp)


def test_zero_grad_after_real_backward():
    w = tg.nn.Parameter(tg.tensor([1.0, 2.0, 3.0]))
    opt = tg.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(_np(w.grad), np.zeros(3, np.float32))
    assert not w.grad.requires_grad


def test_errors():
    tp = _params(tg, _arrays("float32"))
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        tg.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        tg.optim.SGD(tp, lr=-0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        tg.optim.Adam(tp, lr=-0.1)
    with pytest.raises(ValueError, match="Invalid momentum value: -1"):
        tg.optim.SGD(tp, lr=0.1, momentum=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        tg.optim.SGD(tp, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        tg.optim.Adam(tp, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        tg.optim.SGD([{"params": tp[:2]}, {"params": tp[1:]}], lr=0.1)
    opt = tg.optim.SGD(tp[:2], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": tp[1]})
    with pytest.raises(TypeError, match="params argument given to the optimizer should be an iterable"):
        tg.optim.SGD(tp[0], lr=0.1)
    with pytest.raises(TypeError, match="optimizer parameters need to be organized in ordered collections"):
        tg.optim.SGD([{"params": set(tp)}], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        tg.optim.SGD([tp[0] * 2], lr=0.1)
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        tg.optim.LBFGS([{"params": tp[:1]}, {"params": tp[1:]}])
    with pytest.raises(NotImplementedError):
        tg.optim.Adam(tp, differentiable=True)


def test_step_closure_returns_loss_with_grad_enabled():
    w = tg.nn.Parameter(tg.tensor([1.0, -2.0]))
    opt = tg.optim.SGD([w], lr=0.1)
    seen = []

    def closure():
        opt.zero_grad()
        seen.append(tg.is_grad_enabled())
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tg.no_grad():
        loss = opt.step(closure)
    assert seen == [True] and float(loss) == 5.0
    np.testing.assert_allclose(_np(w), [0.8, -1.6], rtol=1e-6)


def test_step_updates_in_place_bumps_version_and_records_no_graph():
    w = tg.nn.Parameter(tg.tensor([1.0, -2.0]))
    data, v0 = w._data, w._version
    opt = tg.optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w._data is data and w._version > v0 and w.grad_fn is None and w.requires_grad
    assert w.dtype == tg.float32 and opt.state[w]["exp_avg"].dtype == tg.float32


def test_step_hooks():
    tp = _params(tg, _arrays("float32"))
    opt = tg.optim.SGD(tp, lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt)))
    opt.register_step_post_hook(lambda o, a, k: calls.append(("post", o is opt)))
    opt.step()
    assert calls == [("pre", True), ("post", True)]
    h1.remove()
    opt.step()
    assert calls[2:] == [("post", True)]


def test_custom_optimizer_subclass():
    """A user-written Optimizer (the PyTorch tutorial pattern) works on tapegrad tensors."""

    class PlainSGD(tg.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        @tg.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"])

    w = tg.nn.Parameter(tg.tensor([1.0, -2.0]))
    opt = PlainSGD([w])
    calls = []
    opt.register_step_post_hook(lambda *a: calls.append(1))
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(_np(w), [0.8, -1.6], rtol=1e-6)
    assert calls == [1]
    assert "PlainSGD (" in repr(opt) and "lr: 0.1" in repr(opt)


def test_with_real_model_and_backward():
    """Adam on a small linear regression, gradients from each framework's own autograd."""
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((16, 3)).astype(np.float32), rng.standard_normal((16, 2)).astype(np.float32)
    W0, b0 = rng.standard_normal((3, 2)).astype(np.float32), np.zeros(2, np.float32)
    out = []
    for mod in (tg, torch):
        W, b = mod.nn.Parameter(mod.tensor(W0)), mod.nn.Parameter(mod.tensor(b0))
        x, y = mod.tensor(X), mod.tensor(Y)
        opt = mod.optim.Adam([W, b], lr=0.05)
        for _ in range(20):
            opt.zero_grad()
            loss = ((x @ W + b - y) ** 2).mean()
            loss.backward()
            opt.step()
        out.append((_np(W).copy(), _np(b).copy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_tensor_lr_and_pickle():
    w = tg.nn.Parameter(tg.tensor([1.0, -2.0]))
    opt = tg.optim.SGD([w], lr=tg.tensor(0.1), momentum=0.9)
    w.grad = tg.tensor([1.0, 1.0])
    opt.step()
    np.testing.assert_allclose(_np(w), [0.9, -2.1], rtol=1e-6)
    opt2 = copy.deepcopy(opt)
    assert opt2.param_groups[0]["momentum"] == 0.9 and len(opt2.state) == 1


# ---- LBFGS --------------------------------------------------------------------------------------------------
def _rosenbrock(x):
    x = x.astype(np.float64)
    f = 100.0 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    g = np.array([-400.0 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200.0 * (x[1] - x[0] ** 2)])
    return f, g


def _lstsq_problem():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((20, 5))
    b = rng.standard_normal(20)

    def f(x):  # x = concat(w (5,), bias (1,))
        x = x.astype(np.float64)
        r = A @ x[:5] + x[5] - b
        return 0.5 * r @ r, np.concatenate([A.T @ r, [r.sum()]])
    return f


def _lbfgs_run(mod, fn, x0, dtype, kwargs, steps, split=None):
    if split is None:
        params = [mod.nn.Parameter(mod.tensor(x0.astype(dtype)))]
    else:
        params = [mod.nn.Parameter(mod.tensor(x0[:split].astype(dtype))),
                  mod.nn.Parameter(mod.tensor(x0[split:].astype(dtype)))]
    kwargs = dict(kwargs)
    load = kwargs.pop("_load", None)
    opt = mod.optim.LBFGS(params, **kwargs)
    if load is not None:
        opt.load_state_dict(load)
    evals = []

    def closure():
        opt.zero_grad()
        x = np.concatenate([_np(p).reshape(-1) for p in params])
        f, g = fn(x)
        off = 0
        for p in params:
            n = p.numel()
            p.grad = mod.tensor(g[off:off + n].reshape(tuple(p.shape)).astype(dtype))
            off += n
        evals.append(f)
        return mod.tensor(np.asarray(f, dtype=dtype))

    traj = []
    for _ in range(steps):
        loss = opt.step(closure)
        traj.append((float(loss), np.concatenate([_np(p).reshape(-1).copy() for p in params])))
    return traj, evals, opt


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("problem", ["rosenbrock", "lstsq"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lbfgs_against_torch(problem, line_search_fn, dtype):
    if problem == "rosenbrock":
        fn, x0, split = _rosenbrock, np.array([-1.5, 2.0]), None
        kwargs = dict(lr=1 if line_search_fn else 0.05, max_iter=10, history_size=5, line_search_fn=line_search_fn)
    else:
        fn, x0, split = _lstsq_problem(), np.linspace(-1, 1, 6), 5
        kwargs = dict(lr=0.5 if line_search_fn is None else 1, max_iter=4, history_size=3,
                      line_search_fn=line_search_fn, tolerance_change=1e-12)
    steps = 5
    t_traj, t_evals, t_opt = _lbfgs_run(tg, fn, x0, dtype, kwargs, steps, split)
    p_traj, p_evals, p_opt = _lbfgs_run(torch, fn, x0, dtype, kwargs, steps, split)
    # line searches amplify last-bit differences of the dot products (BLAS order) on Rosenbrock's valley
    tol = dict(rtol=1e-8, atol=1e-10) if dtype == "float64" else dict(rtol=1e-5, atol=1e-5)
    assert len(t_evals) == len(p_evals)
    for (tl, tx), (pl, px) in zip(t_traj, p_traj):
        np.testing.assert_allclose(tl, pl, **tol)
        np.testing.assert_allclose(tx, px, **tol)
    ts = t_opt.state[t_opt.param_groups[0]["params"][0]]
    ps = p_opt.state[p_opt.param_groups[0]["params"][0]]
    assert ts["func_evals"] == ps["func_evals"] and ts["n_iter"] == ps["n_iter"]
    assert len(ts["old_dirs"]) == len(ps["old_dirs"])
    if dtype == "float64":
        assert t_traj[-1][0] < t_traj[0][0]


def test_lbfgs_history_size_and_tolerance_grad():
    fn = _lstsq_problem()
    traj, evals, opt = _lbfgs_run(tg, fn, np.zeros(6), "float64", dict(history_size=2, max_iter=30), 1, 5)
    st = opt.state[opt.param_groups[0]["params"][0]]
    assert len(st["old_dirs"]) <= 2
    # a gradient below tolerance_grad stops the step after one evaluation, parameters untouched
    traj2, evals2, _ = _lbfgs_run(tg, fn, np.zeros(6), "float64", dict(tolerance_grad=1e300), 1, 5)
    assert len(evals2) == 1 and not np.any(traj2[0][1])


# ---- namespace ------------------------------------------------------------------------------------------------
def test_namespace():
    assert tg.optim.lr_scheduler.StepLR is not None
    assert issubclass(tg.optim.AdamW, tg.optim.Adam)
    assert not hasattr(tg.optim, "SparseAdam")
    with pytest.raises(NotImplementedError):
        tg.optim.SparseAdam
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import tapegrad.optim.lr_scheduler as lrs  # noqa: F401


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_state_dict_resume(line_search_fn):
    fn = _lstsq_problem()
    kwargs = dict(lr=0.5, max_iter=3, history_size=4, line_search_fn=line_search_fn)
    straight, _, _ = _lbfgs_run(tg, fn, np.linspace(-1, 1, 6), "float64", kwargs, 4, 5)
    first, _, opt = _lbfgs_run(tg, fn, np.linspace(-1, 1, 6), "float64", kwargs, 2, 5)
    sd = copy.deepcopy(opt.state_dict())
    assert isinstance(sd["state"][0]["d"], tg.Tensor) and isinstance(sd["state"][0]["old_dirs"][0], tg.Tensor)
    rest, _, _ = _lbfgs_run(tg, fn, first[-1][1], "float64", dict(kwargs, _load=sd), 2, 5)
    for (a, x), (b, y) in zip(straight, first + rest):
        assert a == b
        np.testing.assert_array_equal(x, y)


def test_adagrad_state_for_late_param_group():
    tp = _params(tg, _arrays("float32"))
    pp = _params(torch, _arrays("float32"))
    to = tg.optim.Adagrad(tp[:1], lr=0.1, initial_accumulator_value=0.3)
    po = torch.optim.Adagrad(pp[:1], lr=0.1, initial_accumulator_value=0.3)
    to.add_param_group({"params": tp[1:3]})
    po.add_param_group({"params": pp[1:3]})
    assert len(to.state) == len(po.state) == 1
    grads = _Grads("float32")
    for k in range(5):
        grads(tg, tp, k)
        grads(torch, pp, k)
        to.step()
        po.step()
        _compare(tp, pp, "float32")
    assert len(to.state) == len(po.state) == 3


def test_sgd_state_only_for_params_with_grads():
    to, po = _run("SGD", dict(lr=0.1, momentum=0.9), steps=2)
    assert sorted(to.state_dict()["state"]) == sorted(po.state_dict()["state"]) == [0, 1, 2]
    to, po = _run("SGD", dict(lr=0.1), steps=2)
    assert to.state_dict()["state"] == {} == po.state_dict()["state"]


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
                                         ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
                                         ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                         ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.2)),
                                         ("Adamax", dict()), ("NAdam", dict()), ("RAdam", dict()),
                                         ("Adadelta", dict())])
def test_complex_params_as_real_pairs(name, kwargs):
    rng = np.random.default_rng(5)
    arr = (rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))).astype(np.complex64)
    tp, pp = tg.nn.Parameter(tg.tensor(arr)), torch.nn.Parameter(torch.tensor(arr))
    to, po = getattr(tg.optim, name)([tp], **kwargs), getattr(torch.optim, name)([pp], **kwargs)
    for k in range(10):
        g = (0.5 * arr * (k + 1) + 1j).astype(np.complex64)
        tp.grad, pp.grad = tg.tensor(g), torch.tensor(g)
        to.step()
        po.step()
        np.testing.assert_allclose(_np(tp), _np(pp), rtol=1e-5, atol=1e-6)
    assert tp.dtype == tg.complex64


def test_step_dtype_follows_default_dtype():
    prev = tg.get_default_dtype()
    try:
        tg.set_default_dtype(tg.float64)
        w = tg.nn.Parameter(tg.zeros(2))
        w.grad = tg.ones(2)
        opt = tg.optim.Adam([w])
        opt.step()
        assert opt.state[w]["step"].dtype == tg.float64
    finally:
        tg.set_default_dtype(prev)
