"""tapegrad.optim.lr_scheduler against torch.optim.lr_scheduler: the same lr (and momentum) sequences."""
import copy
import math
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _opt(mod, opt_name="SGD", **kw):
    ps = [mod.nn.Parameter(mod.zeros(2)), mod.nn.Parameter(mod.zeros(3))]
    defaults = dict(SGD=dict(lr=0.1, momentum=0.9), Adam=dict(lr=0.1))[opt_name]
    defaults.update(kw)
    groups = [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}]
    return getattr(mod.optim, opt_name)(groups, **defaults)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _sequence(mod, make, steps, opt_name="SGD", metrics=None):
    opt = _opt(mod, opt_name)
    sched = make(mod.optim.lr_scheduler, opt)
    lrs, moms = [sched.get_last_lr()], [_momenta(opt)]
    for k in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[k])
        lrs.append(sched.get_last_lr())
        moms.append(_momenta(opt))
    assert [g["lr"] for g in opt.param_groups] == lrs[-1]
    return lrs, moms, opt, sched


SCHEDULERS = {
    "StepLR": lambda S, o: S.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda S, o: S.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda S, o: S.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "CosineAnnealingLR-nomin": lambda S, o: S.CosineAnnealingLR(o, T_max=10),
    "LambdaLR": lambda S, o: S.LambdaLR(o, lr_lambda=lambda e: 0.95 ** e),
    "LambdaLR-list": lambda S, o: S.LambdaLR(o, lr_lambda=[lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lr_lambda=lambda e: 0.97),
    "LinearLR": lambda S, o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=8),
    "LinearLR-down": lambda S, o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=12),
    "ConstantLR": lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=4),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, total_iters=15, power=2.0),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=40),
    "OneCycleLR-linear-3phase": lambda S, o: S.OneCycleLR(o, max_lr=[1.0, 0.5], epochs=4, steps_per_epoch=10,
                                                          anneal_strategy="linear", three_phase=True,
                                                          pct_start=0.25),
    "OneCycleLR-nomomentum": lambda S, o: S.OneCycleLR(o, max_lr=0.3, total_steps=40, cycle_momentum=False,
                                                       div_factor=10.0, final_div_factor=100.0),
    "CyclicLR": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR-tri2": lambda S, o: S.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3,
                                             step_size_down=5, mode="triangular2"),
    "CyclicLR-exp": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, mode="exp_range",
                                            gamma=0.95, cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=5, eta_min=0.001),
    "CosineAnnealingWarmRestarts-mult": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "SequentialLR": lambda S, o: S.SequentialLR(o, schedulers=[S.LinearLR(o, start_factor=0.1, total_iters=5),
                                                               S.ExponentialLR(o, gamma=0.9)], milestones=[5]),
    "SequentialLR-3": lambda S, o: S.SequentialLR(o, schedulers=[S.ConstantLR(o, factor=0.5, total_iters=3),
                                                                 S.CosineAnnealingLR(o, T_max=10),
                                                                 S.StepLR(o, step_size=2)], milestones=[4, 12]),
    "ChainedScheduler": lambda S, o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=4),
                                                         S.ExponentialLR(o, gamma=0.9)]),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_sequence_matches_torch(name):
    make = SCHEDULERS[name]
    steps = 40 if name.startswith("OneCycle") else 50
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_lrs, t_moms, _, _ = _sequence(tg, make, steps)
        p_lrs, p_moms, _, _ = _sequence(torch, make, steps)
    assert len(t_lrs) == steps + 1
    np.testing.assert_allclose(np.array(t_lrs), np.array(p_lrs), rtol=0, atol=0)
    np.testing.assert_allclose(np.array(t_moms, dtype=float), np.array(p_moms, dtype=float), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["OneCycleLR", "CyclicLR"])
def test_momentum_cycling_with_adam_betas(name):
    make = SCHEDULERS[name]
    t_lrs, t_moms, t_opt, _ = _sequence(tg, make, 30, "Adam")
    p_lrs, p_moms, p_opt, _ = _sequence(torch, make, 30, "Adam")
    np.testing.assert_allclose(np.array(t_lrs), np.array(p_lrs), rtol=0, atol=0)
    np.testing.assert_allclose(np.array(t_moms), np.array(p_moms), rtol=0, atol=0)
    assert t_opt.param_groups[0]["betas"][1] == 0.999


def test_initial_lr_and_base_lrs():
    opt = _opt(tg)
    sched = tg.optim.lr_scheduler.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
    assert sched.base_lrs == [0.1, 0.05] and sched.last_epoch == 0 and sched.get_last_lr() == [0.1, 0.05]
    assert isinstance(sched, tg.optim.lr_scheduler.LRScheduler)
    assert issubclass(tg.optim.lr_scheduler._LRScheduler, tg.optim.lr_scheduler.LRScheduler)
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        tg.optim.lr_scheduler.StepLR(_opt(tg), step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        tg.optim.lr_scheduler.StepLR([], step_size=2)


def test_step_order_warning():
    opt = _opt(tg)
    sched = tg.optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`"):
        sched.step()
    opt = _opt(tg)
    sched = tg.optim.lr_scheduler.StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


def test_closed_form_with_epoch():
    out = []
    for mod in (tg, torch):
        opt = _opt(mod)
        sched = mod.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        opt.step()
        with pytest.warns(UserWarning, match="The epoch parameter"):
            sched.step(7)
        out.append(sched.get_last_lr())
    assert out[0] == out[1] == [0.1 * 0.25, 0.05 * 0.25]


PLATEAU = [
    dict(),
    dict(mode="max", patience=2),
    dict(mode="min", threshold=0.1, threshold_mode="abs", patience=1),
    dict(mode="max", threshold=0.05, threshold_mode="rel", patience=0, cooldown=2),
    dict(patience=1, cooldown=1, min_lr=0.02, factor=0.5),
    dict(patience=0, min_lr=[0.01, 0.03], factor=0.3, eps=1e-3),
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=[str(i) for i in range(len(PLATEAU))])
def test_reduce_lr_on_plateau(kwargs):
    rng = np.random.default_rng(0)
    metrics = list(np.round(1.0 + 0.3 * rng.standard_normal(40) + np.linspace(0, -0.2, 40), 3))
    metrics[10:20] = [0.5] * 10  # a plateau

    def make(S, o):
        return S.ReduceLROnPlateau(o, **kwargs)

    def feed(mod):  # Python floats and 0-d tensors
        return [mod.tensor(m) if i % 2 else m for i, m in enumerate(metrics)]

    t_lrs, _, _, t_s = _sequence(tg, make, 40, metrics=feed(tg))
    p_lrs, _, _, p_s = _sequence(torch, make, 40, metrics=feed(torch))
    np.testing.assert_allclose(np.array(t_lrs), np.array(p_lrs), rtol=0, atol=0)
    assert t_lrs[-1] != t_lrs[0]  # the schedule did something
    for key in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
        assert getattr(t_s, key) == pytest.approx(getattr(p_s, key)), key


def test_reduce_lr_on_plateau_errors():
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        tg.optim.lr_scheduler.ReduceLROnPlateau(_opt(tg), factor=1.0)
    with pytest.raises(ValueError, match="mode foo is unknown!"):
        tg.optim.lr_scheduler.ReduceLROnPlateau(_opt(tg), mode="foo")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 1"):
        tg.optim.lr_scheduler.ReduceLROnPlateau(_opt(tg), min_lr=[0.1])


RESUMABLE = ["StepLR", "MultiStepLR", "CosineAnnealingLR", "LinearLR", "OneCycleLR", "CyclicLR",
             "CosineAnnealingWarmRestarts-mult", "SequentialLR", "ChainedScheduler", "LambdaLR",
             "PolynomialLR"]


@pytest.mark.parametrize("name", RESUMABLE)
def test_state_dict_resume(name):
    make = SCHEDULERS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        straight, _, _, _ = _sequence(tg, make, 30)
        opt = _opt(tg)
        sched = make(tg.optim.lr_scheduler, opt)
        lrs = [sched.get_last_lr()]
        for _ in range(12):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        sd_sched = copy.deepcopy(sched.state_dict())
        sd_opt = copy.deepcopy(opt.state_dict())
        opt2 = _opt(tg)
        sched2 = make(tg.optim.lr_scheduler, opt2)
        sched2.load_state_dict(sd_sched)
        opt2.load_state_dict(sd_opt)
        for _ in range(18):
            opt2.step()
            sched2.step()
            lrs.append(sched2.get_last_lr())
    assert lrs == straight


@pytest.mark.parametrize("name", ["StepLR", "OneCycleLR", "CyclicLR", "SequentialLR", "LambdaLR"])
def test_state_dict_keys_match_torch(name):
    make = SCHEDULERS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, _, ts = _sequence(tg, make, 5)
        _, _, _, ps = _sequence(torch, make, 5)
    tsd, psd = ts.state_dict(), ps.state_dict()
    assert set(tsd) == set(psd)
    for k in ("last_epoch", "_step_count", "base_lrs", "_last_lr"):
        if k in psd:
            assert tsd[k] == pytest.approx(psd[k], rel=1e-14), k


def test_reduce_lr_on_plateau_state_dict():
    metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8]
    opt = _opt(tg)
    s = tg.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    for m in metrics[:5]:
        s.step(m)
    sd = copy.deepcopy(s.state_dict())
    s2 = tg.optim.lr_scheduler.ReduceLROnPlateau(_opt(tg), patience=1)
    s2.load_state_dict(sd)
    assert s2.num_bad_epochs == s.num_bad_epochs and s2.best == s.best and s2.last_epoch == 5
    p = torch.optim.lr_scheduler.ReduceLROnPlateau(_opt(torch), patience=1)
    for m in metrics[:5]:
        p.step(m)
    assert set(sd) == set(p.state_dict())


def test_errors_match_torch():
    S = tg.optim.lr_scheduler
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between 0 and 1."):
        S.ConstantLR(_opt(tg), factor=2.0)
    with pytest.raises(ValueError, match="Starting multiplicative factor expected to be greater than 0"):
        S.LinearLR(_opt(tg), start_factor=0)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        S.CosineAnnealingWarmRestarts(_opt(tg), T_0=0)
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        S.OneCycleLR(_opt(tg), max_lr=0.1)
    opt = _opt(tg)
    s = S.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    opt.step()
    s.step()
    s.step()
    with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total steps is 2"):
        s.step()
    opt = _opt(tg)
    with pytest.raises(ValueError, match="Sequential Schedulers expects number of schedulers provided to be one more"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        S.ChainedScheduler([S.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        S.CyclicLR(tg.optim.Adagrad([tg.nn.Parameter(tg.zeros(2))]), 0.01, 0.1)


def test_tensor_lr_is_filled_in_place():
    p = tg.nn.Parameter(tg.zeros(2))
    lr = tg.tensor(0.1)
    opt = tg.optim.SGD([p], lr=lr)
    sched = tg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and math.isclose(float(lr), 0.05, rel_tol=1e-6)


def test_used_via_torch_namespace():
    import tapegrad as torch_like

    opt = torch_like.optim.SGD([torch_like.nn.Parameter(torch_like.zeros(1))], lr=1.0)
    sched = torch_like.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    assert sched.get_last_lr() == [0.125]
