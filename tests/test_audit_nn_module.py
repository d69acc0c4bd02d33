"""Differential audit of nn.Module, nn.Parameter, nn.init and nn.utils against PyTorch: each case runs
the same snippet with `torch` bound to PyTorch and to tapegrad, and compares what it prints, the
exception it ends with (type and first line) and the warnings it raises."""
import contextlib
import io
import warnings

import pytest

import tapegrad as tg
from torch_errors import assert_raises_like_torch

torch = pytest.importorskip("torch")


def _run(code, m):
    ns = {"torch": m, "nn": m.nn}
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with contextlib.redirect_stdout(out):
                exec(code, ns)
            end = "ok"
        except Exception as e:  # the snippet's last word, compared by type and first line
            end = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    warns = [f"{w.category.__name__}: {w.message}" for w in caught]
    return [s.replace("tapegrad", "torch") for s in (out.getvalue(), end, *warns)]


def same_as_torch(code):
    want, got = _run(code, torch), _run(code, tg)
    assert got == want


# ---------------------------------------------------------------- registration and registration hooks
def test_buffer_assigned_over_plain_attribute():
    same_as_torch("m = nn.Module()\nm.x = 3\nm.x = nn.Buffer(torch.zeros(1))")


def test_global_registration_hooks():
    same_as_torch("""
mm = torch.nn.modules.module
log = []
hs = [mm.register_module_module_registration_hook(lambda mod, name, sub: log.append(('m', name))),
      mm.register_module_parameter_registration_hook(lambda mod, name, p: log.append(('p', name))),
      mm.register_module_buffer_registration_hook(lambda mod, name, b: log.append(('b', name)))]
try:
    nn.BatchNorm1d(2)
    s = nn.Sequential(nn.ReLU())
    s.extra = nn.Tanh()
    s.add_module('more', nn.Tanh())
finally:
    for h in hs:
        h.remove()
nn.Linear(1, 1)
print(log)
""")


def test_call_super_init_forwards_arguments():
    same_as_torch("""
class A:
    def __init__(self, *a, **k): print('A', a, k)
class M(nn.Module, A):
    call_super_init = True
    def __init__(self): super().__init__(1, x=2)
M()
""")


# ---------------------------------------------------------------- state_dict
def test_state_dict_positional_args_warn():
    same_as_torch("""
import collections
print(list(nn.Linear(2, 3).state_dict(collections.OrderedDict(), 'x.').keys()))
""")


def test_public_state_dict_post_hook_must_return_none():
    same_as_torch("""
m = nn.Linear(2, 3)
h = m._register_state_dict_hook(lambda mod, sd, prefix, meta: {'a': 1})
print(m.state_dict())
h.remove()
m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: {'a': 1})
m.state_dict()
""")


def test_load_state_dict_rejects_python_scalars():
    same_as_torch("""
m = nn.Linear(2, 3)
try:
    m.load_state_dict({'weight': 3, 'bias': torch.zeros(3)})
except RuntimeError as e:
    print(e)
""")


def test_load_state_dict_post_hook_returning_value():
    same_as_torch("""
m = nn.Linear(2, 3)
m.register_load_state_dict_post_hook(lambda mod, inc: 1)
m.load_state_dict(m.state_dict())
""")


# ---------------------------------------------------------------- forward hooks
def test_always_call_hook_raising_is_warned():
    same_as_torch("""
class Bad(nn.Module):
    def forward(self, x): raise ValueError('boom')
m = Bad()
def h(mod, args, out): raise KeyError('inner')
m.register_forward_hook(h, always_call=True)
try: m(1)
except ValueError as e: print('caught', e)
""")


def test_global_forward_hooks_with_kwargs_and_always_call():
    same_as_torch("""
mm = torch.nn.modules.module
log = []
h1 = mm.register_module_forward_hook(lambda mod, a, k, o: log.append(sorted(k)), with_kwargs=True)
h2 = mm.register_module_forward_hook(lambda mod, a, o: log.append(o), always_call=True)
class Bad(nn.Module):
    def forward(self, x): raise ValueError('boom')
try:
    nn.Linear(2, 2)(input=torch.ones(1, 2))
    try: Bad()(1)
    except ValueError: pass
finally:
    h1.remove(); h2.remove()
print(log[0], log[-1])
""")


# ---------------------------------------------------------------- backward hooks
def test_full_backward_hook_arguments_cover_every_input():
    # non-Tensor arguments give None, tensors that need no gradient get zeros, unused outputs None
    same_as_torch("""
class M(nn.Module):
    def forward(self, a, b, c): return a * 2 + b * 3, a * c
m = M()
log = []
m.register_full_backward_hook(lambda mod, gi, go: log.append(([None if g is None else g.tolist() for g in gi],
                                                              [None if g is None else g.tolist() for g in go])))
a = torch.ones(2, requires_grad=True)
m(a, torch.ones(2), 4)[0].sum().backward()
print(log, a.grad.tolist())
""")


def test_full_backward_hook_when_no_input_requires_grad():
    same_as_torch("""
m = nn.Linear(2, 2)
log = []
m.register_full_backward_hook(lambda mod, gi, go: log.append((gi, len(go))))
m(torch.ones(1, 2)).sum().backward()
print(log)
m2 = nn.Linear(2, 2)
m2.register_full_backward_hook(lambda mod, gi, go: (torch.ones(1, 2),))
m2(torch.ones(1, 2)).sum().backward()
""")


def test_backward_pre_hook_wrong_count():
    same_as_torch("""
m = nn.Linear(2, 2)
m.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
m(torch.ones(1, 2, requires_grad=True)).sum().backward()
""")


def test_backward_hook_output_not_tensor_warns():
    same_as_torch("""
class M(nn.Module):
    def forward(self, a): return [a * 2]
m = M()
m.register_full_backward_hook(lambda mod, gi, go: None)
print(type(m(torch.ones(2, requires_grad=True))).__name__)
""")


def test_global_full_backward_hooks():
    same_as_torch("""
mm = torch.nn.modules.module
log = []
h1 = mm.register_module_full_backward_hook(lambda mod, gi, go: log.append(('h', type(mod).__name__)))
h2 = mm.register_module_full_backward_pre_hook(lambda mod, go: log.append(('pre', type(mod).__name__)))
try:
    x = torch.ones(1, 2, requires_grad=True)
    nn.Sequential(nn.Linear(2, 2), nn.Tanh())(x).sum().backward()
finally:
    h1.remove(); h2.remove()
print(log)
""")


def test_regular_backward_hook_after_full_one():
    def case(m):
        lin = m.nn.Linear(2, 2)
        lin.register_full_backward_hook(lambda *a: None)
        lin.register_backward_hook(lambda *a: None)

    assert_raises_like_torch(case, torch, tg, "register_backward_hook")


# ---------------------------------------------------------------- dtype conversion
def test_to_complex_warns_and_to_module_error():
    same_as_torch("m = nn.Linear(2, 2)\nm.to(torch.complex64)\nprint(m.weight.dtype)")

    def case(m):
        m.nn.Linear(2, 2).to(m.nn.Linear(2, 2))

    assert_raises_like_torch(case, torch, tg, "to(Module)")


# ---------------------------------------------------------------- Parameter
def test_parameter_deepcopy_drops_grad():
    same_as_torch("""
import copy
m = nn.Linear(2, 2)
m(torch.ones(1, 2)).sum().backward()
m2 = copy.deepcopy(m)
print(m2.weight.grad, type(m2.weight).__name__, m2.weight.requires_grad)
""")


@pytest.mark.parametrize("code", ["nn.Parameter([1., 2.])", "nn.Parameter(torch.zeros(2, dtype=torch.int64))"])
def test_parameter_construction_errors(code):
    same_as_torch(code)


def test_parameter_int_without_grad():
    same_as_torch("print(nn.Parameter(torch.zeros(2, dtype=torch.int64), requires_grad=False))")


# ---------------------------------------------------------------- nn.utils
def test_parameters_to_vector_non_tensor():
    same_as_torch("nn.utils.parameters_to_vector([torch.zeros(2), 3])")


def test_weight_norm_matches_torch():
    same_as_torch("""
m = nn.Linear(3, 4)
with torch.no_grad():
    m.weight.copy_(torch.arange(12.).reshape(4, 3) - 5); m.bias.zero_()
m = nn.utils.weight_norm(m)
print(sorted(n for n, _ in m.named_parameters()), m.weight_g.shape, m.weight_g.flatten().tolist())
m(torch.ones(2, 3)).sum().backward()
print([round(v, 4) for v in m.weight_g.grad.flatten().tolist()], [round(v, 4) for v in m.weight_v.grad.flatten().tolist()])
print(list(m.state_dict()))
nn.utils.remove_weight_norm(m)
print(sorted(n for n, _ in m.named_parameters()), [round(v, 4) for v in m.weight.flatten().tolist()])
print(nn.utils.weight_norm(nn.Conv2d(2, 3, 3), dim=None).weight_g.shape)
print(nn.utils.weight_norm(nn.Conv2d(2, 3, 3), dim=1).weight_g.shape)
nn.utils.weight_norm(nn.utils.weight_norm(nn.Linear(2, 2)))
""")


def test_fuse_conv_and_linear_bn():
    same_as_torch("""
conv = nn.Conv2d(2, 3, 3).eval()
bn = nn.BatchNorm2d(3).eval()
with torch.no_grad():
    bn.running_mean.copy_(torch.tensor([0.1, -0.2, 0.3])); bn.running_var.copy_(torch.tensor([1.5, 0.5, 2.0]))
    bn.weight.copy_(torch.tensor([1., 2., 3.])); bn.bias.copy_(torch.tensor([0.5, 0., -0.5]))
    conv.weight.copy_(torch.arange(54.).reshape(3, 2, 3, 3) / 50); conv.bias.copy_(torch.tensor([1., 2., 3.]))
f = nn.utils.fuse_conv_bn_eval(conv, bn)
x = torch.arange(50.).reshape(1, 2, 5, 5) / 50
print(type(f).__name__, torch.allclose(f(x), bn(conv(x)), atol=1e-5), [round(v, 4) for v in f.bias.tolist()])
lin, bn1 = nn.Linear(2, 3).eval(), nn.BatchNorm1d(3).eval()
print(torch.allclose(nn.utils.fuse_linear_bn_eval(lin, bn1)(torch.ones(2, 2)), bn1(lin(torch.ones(2, 2))), atol=1e-5))
nn.utils.fuse_conv_bn_eval(conv.train(), bn)
""")


def test_skip_init():
    same_as_torch("""
m = nn.utils.skip_init(nn.Linear, 2, 3, bias=False)
print(m.weight.shape, m.bias, type(m.weight).__name__)
class M(nn.Module):
    def __init__(self): super().__init__()
nn.utils.skip_init(M)
""")


@pytest.mark.parametrize("name", ["spectral_norm", "parametrize", "parametrizations"])
def test_missing_utils_raise_not_implemented(name):
    assert hasattr(torch.nn.utils, name)
    with pytest.raises(NotImplementedError, match=f"torch.nn.utils.{name}"):
        getattr(tg.nn.utils, name)
