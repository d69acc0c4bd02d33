"""One parametrised suite over the operator registry (tests/opdb): every operator against PyTorch."""
import numpy as np
import pytest

import tapegrad as tg
from opdb import ALL_OPS

torch = pytest.importorskip("torch")

TOL = {"float32": (1e-4, 1e-5), "float64": (1e-7, 1e-9), "float16": (1e-2, 1e-2)}


def _build(mod, args, kwargs, requires_grad):
    def conv(x):
        if isinstance(x, np.ndarray):
            t = (tg.from_numpy(x.copy()) if mod is tg else torch.from_numpy(x.copy()))
            if requires_grad and x.dtype.kind == "f":
                t.requires_grad_(True)
            return t
        if isinstance(x, list) and x and all(isinstance(v, np.ndarray) for v in x):
            return [conv(v) for v in x]
        return x

    return [conv(a) for a in args], {k: conv(v) for k, v in kwargs.items()}


def _leaves(args, kwargs):
    out = []
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, list):
            out.extend(a)
        else:
            out.append(a)
    return out


def _flat_outputs(out, info):
    if isinstance(out, (tuple, list)):
        outs = list(out)
    else:
        outs = [out]
    if info.output_index is not None:
        outs = [outs[info.output_index]]
    return outs


def _to_np(t):
    return t.detach().numpy() if not isinstance(t, (int, float, bool)) else np.asarray(t)


def _close(a, b, dtype, info, what):
    rtol, atol = TOL.get(dtype, (1e-4, 1e-5))
    rtol = info.rtol or rtol
    atol = info.atol or atol
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{info.name} {what}: shape {a.shape} != torch's {b.shape}"
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=f"{info.name} {what}")
    else:
        np.testing.assert_array_equal(a, b, err_msg=f"{info.name} {what}")


def _cases():
    for info in ALL_OPS:
        for dt in info.dtypes:
            yield pytest.param(info, dt, id=f"{info.name}-{dt}")


def _noncontiguous(x):
    if isinstance(x, np.ndarray) and x.ndim >= 1 and x.size > 0:
        return np.repeat(x, 2, axis=-1)[..., ::2]
    if isinstance(x, list) and x and all(isinstance(v, np.ndarray) for v in x):
        return [_noncontiguous(v) for v in x]
    return x


@pytest.mark.parametrize("info,dtype", list(_cases()))
def test_forward_and_backward_match_torch(info, dtype):
    rng = np.random.default_rng(0)
    for sample in info.samples(rng, np.dtype(dtype)):
        differentiable = info.grad and sample.grad and np.dtype(dtype).kind == "f"
        targs, tkw = _build(tg, sample.args, sample.kwargs, differentiable)
        pargs, pkw = _build(torch, sample.args, sample.kwargs, differentiable)
        out_t = _flat_outputs(info.op(tg, *targs, **tkw), info)
        out_p = _flat_outputs(info.op(torch, *pargs, **pkw), info)
        assert len(out_t) == len(out_p)
        for a, b in zip(out_t, out_p):
            if isinstance(b, torch.Tensor):
                assert isinstance(a, tg.Tensor), f"{info.name}: expected a Tensor, got {type(a)}"
                assert a.dtype.name == str(b.dtype).replace("torch.", ""), \
                    f"{info.name} [{sample.name}]: dtype {a.dtype} != torch's {b.dtype}"
                if b.dtype.is_floating_point or info.compare_indices:
                    _close(_to_np(a), _to_np(b), dtype, info, f"forward [{sample.name}]")
            else:
                assert a == b or np.allclose(a, b), f"{info.name}: {a} != {b}"
        # non-contiguous inputs give the same values
        nargs = [_noncontiguous(a) for a in sample.args]
        nkw = {k: _noncontiguous(v) for k, v in sample.kwargs.items()}
        if info.noncontiguous:
            for x in nargs:
                if isinstance(x, np.ndarray) and x.size > 1:
                    assert not x.flags.c_contiguous
            wrap = lambda v: tg.from_numpy(v) if isinstance(v, np.ndarray) else (  # noqa: E731
                [tg.from_numpy(e) for e in v] if isinstance(v, list) and v and isinstance(v[0], np.ndarray) else v)
            out_nc = _flat_outputs(info.op(tg, *[wrap(a) for a in nargs], **{k: wrap(v) for k, v in nkw.items()}),
                                   info)
            for a, b in zip(out_nc, out_t):
                if isinstance(b, tg.Tensor):
                    _close(_to_np(a), _to_np(b), dtype, info, f"non-contiguous [{sample.name}]")
        if not differentiable:
            continue
        t_diff = [o for o in out_t if isinstance(o, tg.Tensor) and o.requires_grad]
        p_diff = [o for o in out_p if isinstance(o, torch.Tensor) and o.requires_grad]
        assert len(t_diff) == len(p_diff), f"{info.name}: differentiable outputs differ"
        if not t_diff:
            continue
        wrng = np.random.default_rng(1)
        ws = [wrng.standard_normal(o.shape).astype(dtype) for o in p_diff]
        sum(((o * tg.from_numpy(w)).sum() for o, w in zip(t_diff, ws)), tg.zeros((), dtype=getattr(tg, dtype))).backward()
        sum(((o * torch.from_numpy(w)).sum() for o, w in zip(p_diff, ws)), torch.zeros((), dtype=getattr(torch, dtype))).backward()
        for i, (a, b) in enumerate(zip(_leaves(targs, tkw), _leaves(pargs, pkw))):
            if isinstance(b, torch.Tensor) and b.requires_grad:
                ga = a.grad.numpy() if a.grad is not None else np.zeros(a.shape, dtype)
                gb = b.grad.numpy() if b.grad is not None else np.zeros(tuple(b.shape), dtype)
                _close(ga, gb, dtype, info, f"grad of input {i} [{sample.name}]")
                if a.grad is not None:
                    assert a.grad.dtype == a.dtype and a.grad.shape == a.shape


def _gradcheck_cases():
    for info in ALL_OPS:
        if info.grad and info.gradcheck and "float64" in info.dtypes:
            yield pytest.param(info, id=info.name)


def _fn_and_inputs(info, sample):
    targs, tkw = _build(tg, sample.args, sample.kwargs, True)
    leaves = [x for x in _leaves(targs, tkw) if isinstance(x, tg.Tensor) and x.requires_grad]
    slots = []
    for x in targs:
        slots.append(x)

    def fn(*ins):
        it = iter(ins)
        mapping = {id(l): next(it) for l in leaves}
        def sub(a):
            if isinstance(a, list):
                return [mapping.get(id(v), v) for v in a]
            return mapping.get(id(a), a)
        out = info.op(tg, *[sub(a) for a in targs], **{k: sub(v) for k, v in tkw.items()})
        return tuple(_flat_outputs(out, info))

    return fn, leaves


@pytest.mark.parametrize("info", list(_gradcheck_cases()))
def test_gradcheck(info):
    rng = np.random.default_rng(2)
    for sample in info.samples(rng, np.dtype("float64")):
        if not sample.grad or sum(a.size for a in _leaves(sample.args, sample.kwargs) if isinstance(a, np.ndarray)) > 60:
            continue
        fn, leaves = _fn_and_inputs(info, sample)
        if leaves:
            assert tg.autograd.gradcheck(fn, leaves), info.name
        if info.gradgrad and leaves:
            assert tg.autograd.gradgradcheck(fn, leaves), info.name
