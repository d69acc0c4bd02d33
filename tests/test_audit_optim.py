"""Differential audit of tapegrad.optim against torch.optim (single-tensor, foreach=False).

SGD and Adamax reproduce PyTorch's CPU arithmetic bit for bit (every add_(x, alpha=) and lerp_ is the fused
multiply-add PyTorch's kernels compute, through BLAS axpy at every size). The optimizers that take a sqrt
cannot: PyTorch's CPU sqrt (MKL VML) is not correctly rounded, NumPy's is; they are compared to a few ulps.
"""
import io
import math
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.optim.optimizer import _axpy, _lerp_

torch = pytest.importorskip("torch")

from torch_errors import assert_raises_like_torch  # noqa: E402

# (3, 4) and (37,) exercise the SIMD body and scalar tail, 20000 the chunked axpy, () a 0-d parameter
SHAPES = [(3, 4), (37,), (20000,), ()]


def _run(name, kwargs, dtype, groups=None, tensor_lr=False, steps=20, exact=True, tol=None):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    tp = [tg.tensor(a.copy(), requires_grad=True) for a in arrays]
    pp = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]

    def make(mod, ps):
        kw = dict(kwargs, foreach=False) if name != "LBFGS" else dict(kwargs)
        if tensor_lr:
            kw["lr"] = mod.tensor(kw.get("lr", 0.01))  # float32 0-d lr, also on float64 parameters
        if groups is not None:
            return getattr(mod.optim, name)([{"params": ps[:2]}, {"params": ps[2:], **groups}], **kw)
        return getattr(mod.optim, name)(ps, **kw)

    to, po = make(tg, tp), make(torch, pp)
    grng = np.random.default_rng(1)
    for k in range(steps):
        for i, (a, b) in enumerate(zip(tp, pp)):
            if (k + i) % 3 == 0 and i != 2:  # .grad None at some steps: skipped, state untouched
                a.grad = b.grad = None
                continue
            g = (0.7 * b.detach().numpy().astype(np.float64) + grng.standard_normal(b.shape)).astype(dtype)
            a.grad, b.grad = tg.tensor(g.copy()), torch.tensor(g.copy())
        to.step()
        po.step()
        for i, (a, b) in enumerate(zip(tp, pp)):
            assert a.shape == tuple(b.shape) and a._data.dtype == b.detach().numpy().dtype
            msg = f"{name}{kwargs} groups={groups} tensor_lr={tensor_lr} {dtype} step {k} param {i}"
            if exact:
                np.testing.assert_array_equal(a._data, b.detach().numpy(), err_msg=msg)
            else:
                np.testing.assert_allclose(a._data, b.detach().numpy(), err_msg=msg, **tol)
    return to, po


EXACT = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.3, 0.99), weight_decay=0.1, maximize=True)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", EXACT)
def test_bit_identical(name, kwargs, dtype):
    _run(name, kwargs, dtype)
    _run(name, kwargs, dtype, tensor_lr=True)


def test_bit_identical_param_groups():
    _run("SGD", dict(lr=0.1, momentum=0.9), "float32", groups=dict(lr=0.03, nesterov=True, weight_decay=0.01))
    _run("Adamax", dict(lr=0.01), "float64", groups=dict(lr=0.02, betas=(0.8, 0.9), weight_decay=0.1))


CLOSE = [
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("AdamW", dict(lr=0.01, betas=(0.3, 0.99))),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(weight_decay=0.1)),
    ("RAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
]
ULPS = {"float32": dict(rtol=2e-6, atol=1e-6), "float64": dict(rtol=1e-13, atol=1e-14)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", CLOSE)
def test_few_ulps(name, kwargs, dtype):
    """0-d parameters (once a crash in Adadelta/NAdam/RAdam), a float32 Tensor lr on float64 parameters
    (PyTorch's step size is then float32 arithmetic), parameter groups with their own options."""
    _run(name, kwargs, dtype, exact=False, tol=ULPS[dtype], tensor_lr=True, steps=12)
    _run(name, kwargs, dtype, exact=False, tol=ULPS[dtype], groups=dict(lr=0.003, weight_decay=0.0), steps=12)


@pytest.mark.parametrize("n", [1, 5, 17, 37, 100, 9000, 20000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_kernels_bit_identical(n, dtype):
    """add_(x, alpha=) and lerp_ (both weight branches) are PyTorch's fused multiply-adds at every size."""
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    y = a.copy()
    _axpy(y, -0.0123456789, b)
    np.testing.assert_array_equal(y, torch.tensor(a).add_(torch.tensor(b), alpha=-0.0123456789).numpy())
    for w in (0.1, 0.001, 0.7):
        y = a.copy()
        _lerp_(y, b, w)
        np.testing.assert_array_equal(y, torch.tensor(a).lerp_(torch.tensor(b), w).numpy(), err_msg=f"w={w}")


def test_zero_dim_maximize_weight_decay():
    """A 0-d parameter with maximize and weight decay: the decay used to be lost (NumPy scalar, not array)."""
    for mod in (tg, torch):
        p = mod.tensor(1.5, requires_grad=True)
        opt = mod.optim.SGD([p], lr=0.1, weight_decay=0.5, maximize=True)
        p.grad = mod.tensor(0.25)
        opt.step()
        if mod is tg:
            got = p.item()
        else:
            assert got == p.item()


def test_param_groups_and_defaults_match_torch():
    for name in ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS"]:
        a = getattr(torch.optim, name)([torch.zeros(3, requires_grad=True)], lr=0.1)
        b = getattr(tg.optim, name)([tg.zeros(3, requires_grad=True)], lr=0.1)
        ga = {k: v for k, v in a.param_groups[0].items() if k != "params"}
        gb = {k: v for k, v in b.param_groups[0].items() if k != "params"}
        assert list(ga) == list(gb) and ga == gb, name
        assert a.defaults == b.defaults, name


BAD = {
    "SGD": [dict(lr=-1), dict(lr=0.1, momentum=-1), dict(lr=0.1, weight_decay=-1), dict(lr=0.1, nesterov=True),
            dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), dict(lr=0.1, fused=True, foreach=True),
            dict(lr=0.1, differentiable=True, fused=True)],
    "Adam": [dict(lr=-1), dict(betas=(1.0, 0.9)), dict(betas=(0.9, -0.1)), dict(eps=-1), dict(weight_decay=-1),
             dict(fused=True, foreach=True), dict(fused=True, differentiable=True)],
    "AdamW": [dict(lr=-1), dict(betas=(1.0, 0.9)), dict(eps=-1), dict(weight_decay=-1)],
    "RMSprop": [dict(lr=-1), dict(eps=-1), dict(momentum=-1), dict(weight_decay=-1), dict(alpha=-1)],
    "Adagrad": [dict(lr=-1), dict(lr_decay=-1), dict(weight_decay=-1), dict(initial_accumulator_value=-1),
                dict(eps=-1), dict(fused=True, differentiable=True)],
    "Adadelta": [dict(lr=-1), dict(rho=1.1), dict(rho=-0.1), dict(eps=-1), dict(weight_decay=-1)],
    "Adamax": [dict(lr=-1), dict(betas=(1.0, 0.9)), dict(betas=(0.9, 1.0)), dict(eps=-1), dict(weight_decay=-1)],
    "NAdam": [dict(lr=-1), dict(betas=(1.0, 0.9)), dict(eps=-1), dict(weight_decay=-1), dict(momentum_decay=-1)],
    "RAdam": [dict(lr=-1), dict(betas=(1.0, 0.9)), dict(eps=-1), dict(weight_decay=-1)],
    "LBFGS": [dict(lr=-1)],
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_hyperparameters_like_torch(name):
    for kw in BAD[name]:
        assert_raises_like_torch(lambda m: getattr(m.optim, name)([m.zeros(2, requires_grad=True)], **kw), torch, tg,
                                 f"{name}{kw}")
    assert_raises_like_torch(lambda m: getattr(m.optim, name)([m.zeros(2, requires_grad=True)],
                                                              lr=m.tensor([0.1, 0.2])), torch, tg, f"{name} lr")


def test_bad_params_like_torch():
    assert_raises_like_torch(lambda m: m.optim.SGD([m.zeros(2, requires_grad=True) * 2], lr=0.1), torch, tg,
                             "non-leaf")
    assert_raises_like_torch(lambda m: m.optim.SGD(m.zeros(2, requires_grad=True), lr=0.1), torch, tg, "tensor")
    assert_raises_like_torch(lambda m: m.optim.SGD([], lr=0.1), torch, tg, "empty")

    def twice(m):
        p = m.zeros(2, requires_grad=True)
        m.optim.Adam([{"params": [p]}, {"params": [p]}])

    assert_raises_like_torch(twice, torch, tg, "two groups")
    msgs = []
    for m in (torch, tg):
        p = m.zeros(2, requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m.optim.SGD([p, p], lr=0.1)
        msgs.append([str(x.message) for x in w])
    assert msgs[0] == msgs[1] and len(msgs[0]) == 1


def test_missing_optimizers_named():
    for name in ["ASGD", "Rprop", "SparseAdam", "Adafactor"]:
        assert hasattr(torch.optim, name)
        with pytest.raises(NotImplementedError, match=name):
            getattr(tg.optim, name)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_like_torch(set_to_none):
    out = []
    for m in (torch, tg):
        p, q = m.ones(3, requires_grad=True), m.ones(2, requires_grad=True)
        opt = m.optim.SGD([p, q], lr=0.1)
        p.grad = m.ones(3)
        opt.zero_grad(set_to_none=set_to_none)
        out.append((None if p.grad is None else p.grad.tolist(), q.grad))
    assert out[0] == out[1]


@pytest.mark.parametrize("name,kwargs", [("Adam", dict(lr=0.01, amsgrad=True)), ("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("NAdam", dict()), ("Adagrad", dict(lr=0.1))])
def test_state_dict_round_trip_through_files(name, kwargs, tmp_path):
    """torch's state_dict -> tapegrad's optimizer; tapegrad.save -> torch.load -> torch's optimizer: both
    continue on the trajectory of an optimizer never saved (SGD: bit for bit)."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(4, 3), (5,)]]
    ref = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    ref_opt = getattr(torch.optim, name)(ref, **kwargs)
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in arrays] for _ in range(9)]

    def step(opt, ps, mod, k):
        for p, g in zip(ps, grads[k]):
            p.grad = mod.tensor(g.copy())
        opt.step()

    for k in range(3):
        step(ref_opt, ref, torch, k)
    buf = io.BytesIO()
    torch.save(ref_opt.state_dict(), buf)
    buf.seek(0)
    sd = tg.load(buf)
    tp = [tg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ref]
    topt = getattr(tg.optim, name)(tp, **kwargs)
    topt.load_state_dict(sd)
    for k in range(3, 6):
        step(ref_opt, ref, torch, k)
        step(topt, tp, tg, k)
    path = tmp_path / "opt.pt"
    tg.save(topt.state_dict(), str(path))
    sd2 = torch.load(str(path), weights_only=True)
    tsd = ref_opt.state_dict()
    assert sd2["param_groups"] == tsd["param_groups"]
    assert sd2["state"].keys() == tsd["state"].keys()
    for i in tsd["state"]:
        assert sd2["state"][i].keys() == tsd["state"][i].keys()
        for key, v in tsd["state"][i].items():
            assert sd2["state"][i][key].dtype == v.dtype and sd2["state"][i][key].shape == v.shape, key
    back = [torch.tensor(p._data.copy(), requires_grad=True) for p in tp]
    back_opt = getattr(torch.optim, name)(back, **kwargs)
    back_opt.load_state_dict(sd2)
    for k in range(6, 9):
        step(ref_opt, ref, torch, k)
        step(back_opt, back, torch, k)
    for a, b in zip(back, ref):
        if name == "SGD":
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        else:
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


# ---- lr_scheduler --------------------------------------------------------------------------------------------
def _sched_opt(m, **kw):
    p, q = m.zeros(2, requires_grad=True), m.zeros(2, requires_grad=True)
    return m.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.05}], lr=0.1, **kw)


def _L(m):
    return m.optim.lr_scheduler


SCHEDULERS = {
    "LambdaLR": lambda m, o: _L(m).LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1 / (e + 1)]),
    "MultiplicativeLR": lambda m, o: _L(m).MultiplicativeLR(o, lambda e: 0.97),
    "StepLR": lambda m, o: _L(m).StepLR(o, 7, gamma=0.3),
    "MultiStepLR": lambda m, o: _L(m).MultiStepLR(o, [3, 10, 10, 30], gamma=0.5),
    "ConstantLR": lambda m, o: _L(m).ConstantLR(o, factor=0.3, total_iters=9),
    "LinearLR": lambda m, o: _L(m).LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=17),
    "ExponentialLR": lambda m, o: _L(m).ExponentialLR(o, 0.93),
    "PolynomialLR": lambda m, o: _L(m).PolynomialLR(o, total_iters=33, power=1.7),
    "CosineAnnealingLR": lambda m, o: _L(m).CosineAnnealingLR(o, T_max=13, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda m, o: _L(m).CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.01),
    "OneCycleLR-cos-3phase": lambda m, o: _L(m).OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=60, pct_start=0.3,
                                                           three_phase=True),
    "OneCycleLR-linear": lambda m, o: _L(m).OneCycleLR(o, max_lr=1.0, epochs=6, steps_per_epoch=10,
                                                       anneal_strategy="linear"),
    "CyclicLR-triangular": lambda m, o: _L(m).CyclicLR(o, 0.01, 0.1, step_size_up=4, step_size_down=7),
    "CyclicLR-triangular2": lambda m, o: _L(m).CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: _L(m).CyclicLR(o, [0.01, 0.02], [0.1, 0.3], step_size_up=5, mode="exp_range",
                                                      gamma=0.97),
    "CyclicLR-scale_fn": lambda m, o: _L(m).CyclicLR(o, 0.01, 0.1, step_size_up=3, scale_fn=lambda x: 0.5 ** x,
                                                     scale_mode="iterations"),
    "SequentialLR": lambda m, o: _L(m).SequentialLR(o, [_L(m).LinearLR(o, 0.1, total_iters=5),
                                                        _L(m).ExponentialLR(o, 0.9), _L(m).StepLR(o, 3)],
                                                    milestones=[5, 20]),
    "ChainedScheduler": lambda m, o: _L(m).ChainedScheduler([_L(m).ConstantLR(o, 0.5, total_iters=4),
                                                             _L(m).ExponentialLR(o, 0.9)]),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_sequences_exact(name):
    """50 steps: get_last_lr, the groups' lr and momentum (cycled by CyclicLR/OneCycleLR), last_epoch and the
    state_dict keys, equal to torch's (floats compared exactly)."""
    out = []
    for m in (torch, tg):
        o = _sched_opt(m, momentum=0.9)
        s = SCHEDULERS[name](m, o)
        seq = [tuple(s.get_last_lr())]
        for _ in range(50):
            o.step()
            s.step()
            seq.append((tuple(s.get_last_lr()), tuple(g["lr"] for g in o.param_groups),
                        tuple(g["momentum"] for g in o.param_groups), getattr(s, "last_epoch", None)))
        out.append((seq, sorted(s.state_dict())))
    assert out[0] == out[1]


def test_cosine_warm_restarts_fractional_epochs():
    out = []
    for m in (torch, tg):
        o = _sched_opt(m)
        s = _L(m).CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001)
        seq = []
        for i in range(40):
            o.step()
            s.step(i / 7 + 0.3 * (i % 3))
            seq.append(tuple(s.get_last_lr()) + (s.T_cur, s.T_i, s.last_epoch))
        out.append(seq)
    assert out[0] == out[1]


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("threshold_mode", ["rel", "abs"])
@pytest.mark.parametrize("cooldown", [0, 2])
def test_reduce_lr_on_plateau_modes(mode, threshold_mode, cooldown):
    out = []
    for m in (torch, tg):
        o = _sched_opt(m)
        s = _L(m).ReduceLROnPlateau(o, mode=mode, factor=0.5, patience=2, threshold=0.01,
                                    threshold_mode=threshold_mode, cooldown=cooldown, min_lr=[0.001, 0.002],
                                    eps=1e-4)
        seq = []
        for i in range(50):
            o.step()
            s.step(math.sin(i / 3) + (0.01 if mode == "max" else -0.01) * i)
            seq.append((tuple(s.get_last_lr()), s.num_bad_epochs, s.cooldown_counter, s.best, s.last_epoch))
        out.append((seq, sorted(s.state_dict())))
    assert out[0] == out[1]


def test_scheduler_step_order_warnings():
    got = []
    for m in (torch, tg):
        o = _sched_opt(m)
        s = _L(m).StepLR(o, 3)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            s.step()
        got.append([str(x.message) for x in w])
    assert got[0] == got[1] and len(got[0]) == 1
