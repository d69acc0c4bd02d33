"""nn.Module, the containers and nn.utils against PyTorch: registration, traversal, state_dict keys
and loading errors, hooks, repr, dtype conversion, and gradient clipping."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy()


def build_net(m):
    """A nested model using every container, buffers (persistent or not), a None parameter and weight tying."""
    nn = m.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.act = nn.ReLU()
            self.register_buffer("running", m.zeros(4))
            self.register_buffer("scratch", m.ones(2), persistent=False)
            self.register_parameter("unused", None)

        def forward(self, x):
            return self.act(self.fc(x)) + self.running

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)
            self.blocks = nn.ModuleList([Block(), Block()])
            self.heads = nn.ModuleDict({"a": nn.Linear(4, 3), "b": nn.Sequential(nn.Linear(4, 2), nn.Tanh())})
            self.extra = nn.ParameterList([nn.Parameter(m.ones(3)), nn.Parameter(m.zeros(2, 2))])
            self.pd = nn.ParameterDict({"scale": nn.Parameter(m.ones(1))})
            self.seq = nn.Sequential(OrderedDict([("lin", nn.Linear(4, 10, bias=False)), ("drop", nn.Dropout(0.1))]))
            self.seq.lin.weight = self.emb.weight  # tied
            self.register_buffer("steps", m.tensor(0))

        def forward(self, idx):
            h = self.emb(idx)
            for b in self.blocks:
                h = b(h)
            return self.heads["a"](h).sum() + self.seq(h).sum() * self.pd["scale"] + self.extra[0].sum()

    return Net()


def pair_nets():
    tn, gn = build_net(torch), build_net(tg)
    gn.load_state_dict({k: v.numpy() for k, v in tn.state_dict().items()})
    return tn, gn


# ---------------------------------------------------------------- registration and traversal
def test_state_dict_keys_and_traversal_match_torch():
    tn, gn = pair_nets()
    tsd, gsd = tn.state_dict(), gn.state_dict()
    assert isinstance(gsd, OrderedDict)
    assert list(gsd.keys()) == list(tsd.keys())
    for k in tsd:
        assert tuple(gsd[k].shape) == tuple(tsd[k].shape), k
        assert not gsd[k].requires_grad and gsd[k].grad_fn is None and not isinstance(gsd[k], tg.nn.Parameter)
        np.testing.assert_array_equal(gsd[k].numpy(), tsd[k].numpy())
    assert [k for k, _ in gn.named_parameters()] == [k for k, _ in tn.named_parameters()]
    assert [k for k, _ in gn.named_parameters(remove_duplicate=False)] == \
        [k for k, _ in tn.named_parameters(remove_duplicate=False)]
    assert [k for k, _ in gn.named_buffers()] == [k for k, _ in tn.named_buffers()]
    assert [k for k, _ in gn.named_modules()] == [k for k, _ in tn.named_modules()]
    assert [k for k, _ in gn.named_children()] == [k for k, _ in tn.named_children()]
    assert [k for k, _ in gn.named_parameters(prefix="net", recurse=False)] == \
        [k for k, _ in tn.named_parameters(prefix="net", recurse=False)]
    assert [k for k, _ in gn.blocks[0].named_buffers(prefix="b0")] == \
        [k for k, _ in tn.blocks[0].named_buffers(prefix="b0")]
    assert len(list(gn.parameters())) == len(list(tn.parameters()))
    assert list(gn.state_dict(prefix="model.").keys()) == list(tn.state_dict(prefix="model.").keys())
    kv = gn.state_dict(keep_vars=True)
    assert kv["emb.weight"] is gn.emb.weight and kv["seq.lin.weight"] is gn.emb.weight
    assert gn.state_dict()["emb.weight"]._data is gn.emb.weight._data  # detached, sharing memory


def test_weight_tying_counts_once():
    tn, gn = pair_nets()
    params = list(gn.parameters())
    assert sum(p is gn.emb.weight for p in params) == 1
    names = [n for n, _ in gn.named_parameters()]
    assert "emb.weight" in names and "seq.lin.weight" not in names
    shared = tg.nn.Linear(2, 2)
    seq = tg.nn.Sequential(shared, tg.nn.ReLU(), shared)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert len(list(seq.named_modules(remove_duplicate=False))) == 4


def test_forward_and_gradients_of_nested_model_match_torch():
    tn, gn = pair_nets()
    idx = np.array([[1, 2, 3], [4, 5, 9]])
    tn.eval()
    gn.eval()
    to, go = tn(torch.tensor(idx)), gn(tg.tensor(idx))
    np.testing.assert_allclose(_np(go), _np(to), rtol=1e-5)
    to.backward()
    go.backward()
    tp = dict(tn.named_parameters())
    for k, p in gn.named_parameters():
        if tp[k].grad is None:
            assert p.grad is None, k
        else:
            np.testing.assert_allclose(_np(p.grad), _np(tp[k].grad), rtol=1e-5, atol=1e-6, err_msg=k)


def test_registration_by_assignment():
    m = tg.nn.Module()
    m.w = tg.nn.Parameter(tg.ones(2))
    m.sub = tg.nn.Linear(2, 2)
    m.register_buffer("buf", tg.zeros(3))
    m.plain = 5
    m.t = tg.zeros(1)  # a plain tensor attribute is neither parameter nor buffer
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"] and list(m._buffers) == ["buf"]
    assert "plain" in m.__dict__ and "t" in m.__dict__
    assert set(["w", "sub", "buf", "plain"]) <= set(dir(m))
    m.buf = tg.ones(3)  # reassigning a buffer keeps it a buffer
    assert m._buffers["buf"].numpy().tolist() == [1, 1, 1]
    m.b2 = tg.nn.Buffer(tg.ones(1), persistent=False)
    assert "b2" in m._buffers and "b2" not in m.state_dict()
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' as parameter 'w' \(torch.nn.Parameter "
                                        r"or None expected\)"):
        m.w = tg.zeros(2)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'sub'"):
        m.sub = 3
    m.w = None
    assert m._parameters["w"] is None and m.w is None
    assert "w" not in m.state_dict()
    m.w = tg.nn.Parameter(tg.ones(1))
    m.sub = None
    assert m.sub is None and list(m.children()) == []
    m.sub = tg.nn.ReLU()
    del m.sub
    del m.buf
    del m.w
    assert not m._modules and "buf" not in m._buffers and "w" not in m._parameters
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nope'"):
        m.nope
    # a parameter slot takes only a Parameter or None (as in torch); a buffer can become a submodule
    m.x = tg.nn.Parameter(tg.ones(1))
    with pytest.raises(TypeError, match="cannot assign 'tapegrad.nn.modules.linear.Linear' as parameter 'x'"):
        m.x = tg.nn.Linear(1, 1)
    m.register_buffer("y", tg.ones(1))
    m.y = tg.nn.Linear(1, 1)
    assert "y" not in m._buffers and "y" in m._modules


def test_registration_errors_match_torch():
    def errors(m):
        out = []
        mod = m.nn.Module()
        mod.a = m.nn.Linear(1, 1)
        mod.z = 3
        for fn in (lambda: mod.register_parameter("x.y", None), lambda: mod.register_parameter("", None),
                   lambda: mod.register_parameter("z", None), lambda: mod.register_parameter("p", m.zeros(1)),
                   lambda: mod.register_buffer("b.c", m.zeros(1)), lambda: mod.register_buffer("z", m.zeros(1)),
                   lambda: mod.register_buffer("q", 3), lambda: mod.add_module("x.y", m.nn.ReLU()),
                   lambda: mod.add_module("m", 3), lambda: mod.add_module("z", m.nn.ReLU()),
                   lambda: mod.register_parameter(1, None),
                   lambda: mod.register_parameter("p", m.nn.Parameter(m.ones(1)) * 2),
                   lambda: mod.get_submodule("a.b"), lambda: mod.get_submodule("z"),
                   lambda: mod.get_parameter("a.nope"), lambda: mod.get_parameter("a"),
                   lambda: mod.get_buffer("a.weight"), lambda: mod.train("yes")):
            with pytest.raises(Exception) as e:
                fn()
            out.append((type(e.value), str(e.value)))
        return out

    for a, b in zip(errors(tg), errors(torch)):
        assert a == b


def test_module_init_order_errors():
    class Bad(tg.nn.Module):
        def __init__(self):
            self.w = tg.nn.Parameter(tg.ones(1))

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Bad()

    class NoForward(tg.nn.Module):
        pass

    with pytest.raises(NotImplementedError, match=r'Module \[NoForward\] is missing the required "forward" function'):
        NoForward()(tg.ones(1))


def test_get_submodule_parameter_buffer():
    tn, gn = pair_nets()
    assert gn.get_submodule("heads.b.0") is gn.heads["b"][0]
    assert gn.get_submodule("") is gn
    assert gn.get_parameter("blocks.1.fc.bias") is gn.blocks[1].fc.bias
    assert gn.get_buffer("blocks.0.running") is gn.blocks[0].running
    assert gn.get_parameter("extra.1") is gn.extra[1]
    gn.register_module("newmod", tg.nn.ReLU())
    assert gn.newmod.__class__.__name__ == "ReLU"


# ---------------------------------------------------------------- state_dict loading
def test_load_state_dict_errors_match_torch():
    def make(m, n_out=3):
        nn = m.nn
        net = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, n_out))
        net.register_buffer("stat", m.zeros(2))
        return net

    tsrc = make(torch, n_out=2).state_dict()
    del tsrc["0.bias"]
    tsrc["extra.key"] = torch.zeros(1)
    tsrc["1.weight"] = torch.zeros(1)
    msgs = []
    for m in (torch, tg):
        net = make(m)
        src = tsrc if m is torch else {k: v.numpy() for k, v in tsrc.items()}
        with pytest.raises(RuntimeError) as e:
            net.load_state_dict(src)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
    assert msgs[1].startswith("Error(s) in loading state_dict for Sequential:\n\tMissing key(s) in state_dict: "
                              '"0.bias". ')
    assert "size mismatch for 2.weight: copying a param with shape torch.Size([2, 5]) from checkpoint, the shape " \
           "in current model is torch.Size([3, 5])." in msgs[1]
    # strict=False: size mismatches still raise, missing/unexpected are reported
    good = {k: v for k, v in tsrc.items() if not k.startswith("2.")}
    results = []
    for m in (torch, tg):
        src = good if m is torch else {k: v.numpy() for k, v in good.items()}
        results.append(make(m).load_state_dict(src, strict=False))
    assert results[1].missing_keys == results[0].missing_keys
    assert results[1].unexpected_keys == results[0].unexpected_keys
    assert tuple(results[1]) == (results[0].missing_keys, results[0].unexpected_keys)
    ok = make(tg).load_state_dict(make(tg).state_dict())
    assert repr(ok) == repr(make(torch).load_state_dict(make(torch).state_dict())) == "<All keys matched successfully>"


def test_load_state_dict_copies_in_place():
    net = tg.nn.Linear(3, 2)
    w, b = net.weight, net.bias
    w_data = w._data
    v0 = w._version
    src = {"weight": np.arange(6, dtype=np.float64).reshape(2, 3), "bias": tg.tensor([1.0, 2.0])}
    net.load_state_dict(src)
    assert net.weight is w and net.bias is b and w._data is w_data  # same Parameter, same memory
    assert w.dtype == tg.float32 and w.requires_grad and w.is_leaf
    np.testing.assert_array_equal(w.numpy(force=True), src["weight"].astype(np.float32))
    assert w._version > v0
    src["bias"][0] = 100.0  # no aliasing with the checkpoint
    assert b.detach().numpy()[0] == 1.0
    # torch tensors are accepted too
    tlin = torch.nn.Linear(3, 2)
    net.load_state_dict(tlin.state_dict())
    np.testing.assert_array_equal(net.weight.detach().numpy(), tlin.weight.detach().numpy())
    # assign=True replaces the parameters
    net.load_state_dict({"weight": tg.ones(2, 3), "bias": tg.zeros(2)}, assign=True)
    assert net.weight is not w and isinstance(net.weight, tg.nn.Parameter) and net.weight.requires_grad
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        net.load_state_dict([1, 2])


def test_non_persistent_buffer_and_none_parameter_in_load():
    tn, gn = pair_nets()
    sd = gn.state_dict()
    assert "blocks.0.scratch" not in sd and "blocks.0.unused" not in sd
    gn.load_state_dict(sd)
    sd["blocks.0.scratch"] = tg.ones(2)
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "blocks.0.scratch"'):
        gn.load_state_dict(sd)


# ---------------------------------------------------------------- modes, grads, dtypes
def test_train_eval_propagation_and_apply():
    tn, gn = pair_nets()
    gn.eval()
    assert all(not m.training for m in gn.modules())
    gn.blocks.train()
    assert gn.blocks[1].fc.training and not gn.training and not gn.heads.training
    assert gn.train() is gn and all(m.training for m in gn.modules())
    seen_t, seen_g = [], []
    tn.apply(lambda m: seen_t.append(type(m).__name__))
    assert gn.apply(lambda m: seen_g.append(type(m).__name__)) is gn
    assert seen_g == seen_t

    def init(m):
        if isinstance(m, tg.nn.Linear):
            tg.nn.init.constant_(m.weight, 0.5)

    gn.apply(init)
    assert (gn.blocks[0].fc.weight.detach().numpy() == 0.5).all()


def test_zero_grad_and_requires_grad():
    net = tg.nn.Sequential(tg.nn.Linear(3, 2), tg.nn.Linear(2, 1))
    net(tg.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net(tg.randn(4, 3)).sum().backward()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    assert net(tg.randn(2, 3)).grad_fn is None


def test_to_and_dtype_conversions_keep_parameter_identity():
    tn, gn = pair_nets()
    gn(tg.tensor([[1, 2]])).backward()
    w = gn.emb.weight
    assert gn.to(tg.float64) is gn
    assert gn.emb.weight is w and w.dtype == tg.float64 and w.grad.dtype == tg.float64
    assert gn.seq.lin.weight is w
    assert gn.blocks[0].running.dtype == tg.float64
    assert gn.steps.dtype == tg.int64  # integer buffers keep their dtype
    assert all(p.dtype == tg.float64 for p in gn.parameters())
    out = gn(tg.tensor([[1, 2]]))
    assert out.dtype == tg.float64
    gn.float()
    assert w.dtype == tg.float32 and gn.steps.dtype == tg.int64
    gn.double()
    assert w.dtype == tg.float64
    gn.half()
    assert w.dtype == tg.float16
    gn.to(dtype=tg.float32)
    assert w.dtype == tg.float32
    assert gn.to("cpu") is gn and gn.cpu() is gn and w.dtype == tg.float32
    gn.type(tg.float64)
    assert w.dtype == tg.float64 and gn.steps.dtype == tg.float64  # type() converts every tensor, as in torch
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex dtypes, but got "
                                        "desired dtype=torch.int64"):
        gn.to(tg.int64)
    lin = tg.nn.Linear(2, 2).to(torch_dtype_like := tg.float64)
    assert lin.weight.dtype == torch_dtype_like


def test_deepcopy_and_pickle():
    tn, gn = pair_nets()
    g2 = copy.deepcopy(gn)
    assert list(g2.state_dict().keys()) == list(gn.state_dict().keys())
    assert g2.emb.weight is not gn.emb.weight and g2.seq.lin.weight is g2.emb.weight  # tying preserved
    gn = tg.nn.Sequential(tg.nn.Embedding(3, 2), tg.nn.Linear(2, 2), tg.nn.ModuleDict({"a": tg.nn.PReLU()}))
    g3 = pickle.loads(pickle.dumps(gn))
    assert repr(g3) == repr(gn)
    for k, v in gn.state_dict().items():
        np.testing.assert_array_equal(g3.state_dict()[k].numpy(), v.numpy())
    assert isinstance(g3[0].weight, tg.nn.Parameter) and g3[0].weight.requires_grad


# ---------------------------------------------------------------- repr
def test_repr_matches_torch():
    tn, gn = pair_nets()
    assert repr(gn) == repr(tn)
    for make in (lambda nn: nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.ReLU()]),
                 lambda nn: nn.ModuleList(), lambda nn: nn.Sequential(),
                 lambda nn: nn.ModuleDict({"x": nn.Flatten(), "y": nn.Unflatten(1, (2, 2))}),
                 lambda nn: nn.ParameterList([nn.Parameter(torch_or_tg(nn).zeros(2, 3)), 5]),
                 lambda nn: nn.ParameterDict({"a": nn.Parameter(torch_or_tg(nn).zeros(2)),
                                              "b": torch_or_tg(nn).ones(1, 2, dtype=torch_or_tg(nn).float64)})):
        assert repr(make(tg.nn)) == repr(make(torch.nn))


def torch_or_tg(nn):
    return torch if nn is torch.nn else tg


# ---------------------------------------------------------------- hooks
def test_forward_hooks():
    calls = []
    lin = tg.nn.Linear(2, 2)
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: out + 1)
    h3 = lin.register_forward_hook(lambda m, args, out: calls.append("first"), prepend=True)
    y = lin(tg.randn(3, 2))
    np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy() + 1, (3, 2)),
                               rtol=1e-6)
    assert calls == ["first"]
    h1.remove()
    h2.remove()
    h3.remove()
    x = tg.randn(3, 2)
    np.testing.assert_allclose(lin(x).detach().numpy(), tg.nn.functional.linear(x, lin.weight, lin.bias).detach().numpy())
    seen = {}

    def pre_kw(m, args, kwargs):
        seen["kw"] = dict(kwargs)
        return args, {"scale": 3.0}

    def post_kw(m, args, kwargs, out):
        seen["post"] = kwargs["scale"]

    class Scale(tg.nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    s = Scale()
    s.register_forward_pre_hook(pre_kw, with_kwargs=True)
    s.register_forward_hook(post_kw, with_kwargs=True)
    assert s(tg.ones(1), scale=2.0).item() == 3.0
    assert seen == {"kw": {"scale": 2.0}, "post": 3.0}
    with lin.register_forward_pre_hook(lambda m, a: calls.append("ctx")):
        lin(x)
    lin(x)
    assert calls.count("ctx") == 1


def test_forward_hook_always_call_runs_on_error():
    class Boom(tg.nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    ran = []
    b = Boom()
    b.register_forward_hook(lambda m, a, o: ran.append(o), always_call=True)
    with pytest.raises(ValueError):
        b(tg.ones(1))
    assert ran == [None]


def test_full_backward_hook_matches_torch():
    results = []
    for m in (torch, tg):
        lin = m.nn.Linear(3, 2)
        with m.no_grad():
            lin.weight.copy_(m.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]))
            lin.bias.zero_()
        rec = {}

        def hook(mod, gin, gout, rec=rec):
            rec["gin"] = [None if g is None else g.detach().numpy().copy() for g in gin]
            rec["gout"] = [g.detach().numpy().copy() for g in gout]
            return (gin[0] * 2,)

        pre = {}
        lin.register_full_backward_pre_hook(lambda mod, gout, pre=pre: pre.update(n=len(gout)))
        lin.register_full_backward_hook(hook)
        x = m.tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]], requires_grad=True)
        (lin(x) ** 2).sum().backward()
        results.append((rec, x.grad.detach().numpy(), pre))
    (rt, xt, pt), (rg, xg, pg) = results
    np.testing.assert_allclose(rg["gout"][0], rt["gout"][0])
    np.testing.assert_allclose(rg["gin"][0], rt["gin"][0])
    np.testing.assert_allclose(xg, xt)  # the hook's replacement gradient reached x
    assert pt == pg == {"n": 1}
    # inputs that need no gradient: grad_input is (None,)
    rec = {}
    lin = tg.nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda mod, gin, gout: rec.setdefault("gin", gin))
    lin(tg.ones(1, 2)).sum().backward()
    assert rec["gin"] == (None,)


# ---------------------------------------------------------------- containers
def test_sequential_behaviour():
    layers = [tg.nn.Linear(2, 3), tg.nn.ReLU(), tg.nn.Linear(3, 1)]
    s = tg.nn.Sequential(*layers)
    assert len(s) == 3 and s[0] is layers[0] and s[-1] is layers[2] and list(s) == layers
    sl = s[1:]
    assert isinstance(sl, tg.nn.Sequential) and list(sl._modules) == ["1", "2"] and sl[0] is layers[1]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        s[3]
    x = tg.randn(4, 2)
    np.testing.assert_allclose(s(x).detach().numpy(), layers[2](layers[1](layers[0](x))).detach().numpy())
    s.append(tg.nn.Sigmoid())
    assert len(s) == 4 and list(s._modules) == ["0", "1", "2", "3"]
    s.insert(1, tg.nn.Tanh())
    assert [type(m).__name__ for m in s] == ["Linear", "Tanh", "ReLU", "Linear", "Sigmoid"]
    popped = s.pop(1)
    assert type(popped).__name__ == "Tanh" and list(s._modules) == ["0", "1", "2", "3"]
    del s[0]
    assert type(s[0]).__name__ == "ReLU" and list(s._modules) == ["0", "1", "2"]
    s.extend([tg.nn.Identity()])
    assert len(s) == 4
    s[0] = tg.nn.GELU()
    assert isinstance(s[0], tg.nn.GELU)
    od = tg.nn.Sequential(OrderedDict([("a", tg.nn.ReLU()), ("b", tg.nn.Tanh())]))
    assert list(od._modules) == ["a", "b"] and od.a is od[0]
    assert len(od + od) == 4 and len(od * 3) == 6
    t = torch.nn.Sequential(OrderedDict([("a", torch.nn.ReLU()), ("b", torch.nn.Tanh())]))
    assert repr(od + od) == repr(t + t) and repr(od[1:]) == repr(t[1:])


def test_module_list_dict_parameter_containers():
    ml = tg.nn.ModuleList([tg.nn.ReLU(), tg.nn.Tanh()])
    ml.append(tg.nn.Sigmoid())
    ml.extend([tg.nn.GELU()])
    ml.insert(0, tg.nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "ReLU", "Tanh", "Sigmoid", "GELU"]
    assert isinstance(ml[1:3], tg.nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert list(ml._modules) == ["0", "1", "2", "3"] and type(ml[0]).__name__ == "ReLU"
    assert type(ml[-1]).__name__ == "GELU"
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        ml.extend(3)
    md = tg.nn.ModuleDict({"a": tg.nn.ReLU()})
    md["b"] = tg.nn.Tanh()
    md.update([("c", tg.nn.GELU())])
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert type(md.pop("a")).__name__ == "ReLU" and list(md) == ["b", "c"]
    pl = tg.nn.ParameterList([tg.ones(2), tg.nn.Parameter(tg.zeros(3))])
    assert all(isinstance(p, tg.nn.Parameter) and p.requires_grad for p in pl)
    pl.append(tg.ones(1))
    assert len(pl) == 3 and [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        pl(1)
    pd = tg.nn.ParameterDict({"b": tg.ones(1), "a": tg.ones(2)})
    assert list(pd.keys()) == ["a", "b"]  # a plain dict is sorted, as in torch
    pd["c"] = tg.nn.Parameter(tg.zeros(1))
    assert isinstance(pd["a"], tg.nn.Parameter) and "c" in pd and len(pd) == 3
    assert [n for n, _ in pd.named_parameters()] == ["a", "b", "c"]
    assert pd.get("zz", 5) == 5 and pd.pop("c") is not None and len(pd) == 2


# ---------------------------------------------------------------- nn.utils
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0, "inf"])
def test_clip_grad_norm_matches_torch(norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) * 3 for s in [(4, 3), (3,), (2, 2, 2)]]
    out = []
    for m in (torch, tg):
        ps = [m.nn.Parameter(m.zeros(g.shape)) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = m.tensor(g)
        ps.append(m.nn.Parameter(m.zeros(2)))  # no grad: skipped
        total = m.nn.utils.clip_grad_norm_(ps, max_norm=1.5, norm_type=norm_type)
        out.append((total, [p.grad.numpy().copy() for p in ps[:3]]))
    (tt, tgr), (gt, ggr) = out
    assert isinstance(gt, tg.Tensor) and gt.dim() == 0 and gt.dtype == tg.float32
    np.testing.assert_allclose(gt.item(), tt.item(), rtol=1e-5)
    for a, b in zip(ggr, tgr):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_clip_grad_small_norm_untouched_and_errors():
    p = tg.nn.Parameter(tg.zeros(3))
    p.grad = tg.tensor([0.1, 0.2, 0.2])
    total = tg.nn.utils.clip_grad_norm_(p, 10.0)
    np.testing.assert_allclose(total.item(), 0.3, rtol=1e-6)
    np.testing.assert_allclose(p.grad.numpy(), [0.1, 0.2, 0.2], rtol=1e-6)
    p.grad = tg.tensor([float("nan"), 1.0, 1.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is "
                                           "non-finite"):
        tg.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert tg.nn.utils.clip_grad_norm_([], 1.0).item() == 0.0


def test_clip_grad_value_and_vector_conversion():
    p1, p2 = tg.nn.Parameter(tg.zeros(2, 2)), tg.nn.Parameter(tg.zeros(3))
    p1.grad = tg.tensor([[-3.0, 0.5], [2.0, -0.1]])
    p2.grad = tg.tensor([10.0, -10.0, 0.0])
    assert tg.nn.utils.clip_grad_value_([p1, p2], 1.0) is None
    assert p1.grad.tolist() == [[-1.0, 0.5], [1.0, -0.1]] or np.allclose(p1.grad.numpy(), [[-1, .5], [1, -.1]])
    assert p2.grad.tolist() == [1.0, -1.0, 0.0]
    lin_t, lin_g = torch.nn.Linear(3, 2), tg.nn.Linear(3, 2)
    lin_g.load_state_dict(lin_t.state_dict())
    vt = torch.nn.utils.parameters_to_vector(lin_t.parameters())
    vg = tg.nn.utils.parameters_to_vector(lin_g.parameters())
    np.testing.assert_array_equal(_np(vg), _np(vt))
    assert vg.requires_grad and vg.shape == (8,)
    (vg * tg.arange(8.0)).sum().backward()
    np.testing.assert_array_equal(lin_g.weight.grad.numpy().ravel(), np.arange(6.0))
    new = tg.arange(8.0)
    tg.nn.utils.vector_to_parameters(new, lin_g.parameters())
    assert lin_g.weight.detach().numpy().ravel().tolist() == list(range(6))
    assert lin_g.bias.detach().numpy().tolist() == [6.0, 7.0]
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        tg.nn.utils.vector_to_parameters([1.0], lin_g.parameters())


def test_mlp_training_steps_match_torch():
    """Both frameworks from the same state_dict, three manual SGD steps: losses and weights agree."""
    def make(nn):
        return nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3),
                             nn.LogSoftmax(dim=1))

    tm, gm = make(torch.nn), make(tg.nn)
    gm.load_state_dict(tm.state_dict())
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 6)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    for _ in range(3):
        losses = []
        for m, net in ((torch, tm), (tg, gm)):
            logp = net(m.tensor(X))
            loss = -logp.gather(1, m.tensor(y).reshape(-1, 1)).mean()
            net.zero_grad()
            loss.backward()
            with m.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
            losses.append(loss.item())
        np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
    for (k, a), (_, b) in zip(gm.state_dict().items(), tm.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6, err_msg=k)
