"""scaled_dot_product_attention and nn.MultiheadAttention against PyTorch: forward values, input gradients
and every parameter gradient from the same state_dict, for each mask kind, is_causal, scale, need_weights,
batch_first, kdim/vdim; dropout by its statistics; errors for bad masks."""
import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as GF

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RNG = np.random.default_rng(0)


def _np(t):
    return t.detach().numpy()


def _close(a, b, what, tol=2e-5):
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol, equal_nan=True, err_msg=what)


def _arr(shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- scaled_dot_product_attention
def _sdpa_both(qs, ks, vs, mask=None, mask_grad=False, dtype=np.float32, **kw):
    q, k, v = _arr(qs, dtype), _arr(ks, dtype), _arr(vs, dtype)
    tt = [torch.tensor(x, requires_grad=True) for x in (q, k, v)]
    gg = [tg.tensor(x, requires_grad=True) for x in (q, k, v)]
    tm = gm = None
    if mask is not None:
        tm = torch.tensor(mask, requires_grad=mask_grad)
        gm = tg.tensor(mask, requires_grad=mask_grad)
    to = TF.scaled_dot_product_attention(*tt, attn_mask=tm, **kw)
    go = GF.scaled_dot_product_attention(*gg, attn_mask=gm, **kw)
    assert tuple(go.shape) == tuple(to.shape) and go.dtype.name == str(to.dtype)[6:]
    _close(go, to, "forward")
    w = _arr(tuple(to.shape), dtype)
    (to * torch.tensor(w)).sum().backward()
    (go * tg.tensor(w)).sum().backward()
    for name, a, b in zip("qkv", gg, tt):
        _close(a.grad, b.grad, f"grad {name}")
    if mask_grad:
        _close(gm.grad, tm.grad, "grad attn_mask")
    return go


def _bool_mask(shape, dead_row=True):
    m = RNG.random(shape) > 0.3
    if dead_row:
        m[..., 1, :] = False  # a query that may attend to nothing: zeros, as PyTorch
    return m


SDPA_CASES = {
    "plain": dict(qs=(2, 3, 4, 8), ks=(2, 3, 5, 8), vs=(2, 3, 5, 6)),
    "causal_square": dict(qs=(2, 3, 6, 8), ks=(2, 3, 6, 8), vs=(2, 3, 6, 8), is_causal=True),
    "causal_L<S": dict(qs=(2, 2, 4, 8), ks=(2, 2, 7, 8), vs=(2, 2, 7, 8), is_causal=True),
    "causal_L>S": dict(qs=(2, 2, 7, 8), ks=(2, 2, 4, 8), vs=(2, 2, 4, 8), is_causal=True),
    "scale": dict(qs=(2, 3, 4, 8), ks=(2, 3, 5, 8), vs=(2, 3, 5, 8), scale=0.37),
    "bool_mask": dict(qs=(2, 3, 4, 8), ks=(2, 3, 5, 8), vs=(2, 3, 5, 8), mask=_bool_mask((4, 5))),
    "bool_mask_per_head": dict(qs=(2, 3, 4, 8), ks=(2, 3, 5, 8), vs=(2, 3, 5, 8), mask=_bool_mask((2, 3, 4, 5))),
    "bool_mask_and_causal": dict(qs=(2, 3, 5, 8), ks=(2, 3, 5, 8), vs=(2, 3, 5, 8),
                                 mask=_bool_mask((5, 5), False), is_causal=True),
    "float_mask": dict(qs=(2, 3, 4, 8), ks=(2, 3, 5, 8), vs=(2, 3, 5, 8), mask=_arr((3, 1, 5))),
    "float_mask_grad": dict(qs=(2, 3, 4, 8), ks=(2, 3, 5, 8), vs=(2, 3, 5, 8), mask=_arr((4, 5)), mask_grad=True),
    "3d": dict(qs=(3, 4, 8), ks=(3, 6, 8), vs=(3, 6, 5), is_causal=True),
    "unbatched": dict(qs=(4, 8), ks=(5, 8), vs=(5, 6)),
    "broadcast_kv": dict(qs=(2, 3, 4, 8), ks=(1, 3, 5, 8), vs=(1, 3, 5, 8)),
    "gqa": dict(qs=(2, 4, 4, 8), ks=(2, 2, 5, 8), vs=(2, 2, 5, 6), enable_gqa=True),
    "float64_causal": dict(qs=(2, 2, 5, 4), ks=(2, 2, 5, 4), vs=(2, 2, 5, 4), is_causal=True, dtype=np.float64),
}


@pytest.mark.parametrize("case", list(SDPA_CASES))
def test_sdpa_matches_torch(case):
    _sdpa_both(**SDPA_CASES[case])


def test_sdpa_float_mask_with_inf_rows():
    m = _arr((4, 5))
    m[2] = -np.inf  # every key masked for query 2: zeros (and zero gradients), as PyTorch's CPU kernel
    m[0, 1] = -np.inf
    out = _sdpa_both((1, 2, 4, 8), (1, 2, 5, 8), (1, 2, 5, 8), mask=m)
    assert not out.detach().numpy()[:, :, 2].any()


def test_sdpa_grad_fn_and_no_graph_without_grad():
    q = tg.randn(2, 4, 8, requires_grad=True)
    out = GF.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert "ScaledDotProduct" in type(out.grad_fn).__name__ or "ScaledDotProduct" in out.grad_fn.name()
    with tg.no_grad():
        assert GF.scaled_dot_product_attention(q, q, q).grad_fn is None


def test_sdpa_double_backward():
    """PyTorch's CPU kernel has no double backward; tapegrad's does: checked against PyTorch's attention
    written out (matmul, masked_fill, softmax, matmul), and by gradgradcheck."""
    q, k, v = _arr((2, 3, 8)).astype(np.float64), _arr((2, 3, 8)).astype(np.float64), _arr((2, 3, 8))
    v = v.astype(np.float64)
    mask = np.tril(np.ones((3, 3), bool))

    def composite(q, k, v):
        s = (q @ k.transpose(-2, -1)) / np.sqrt(8)
        s = s.masked_fill(torch.tensor(~mask), float("-inf"))
        return torch.softmax(s, -1) @ v

    tt = [torch.tensor(x, requires_grad=True) for x in (q, k, v)]
    gg = [tg.tensor(x, requires_grad=True) for x in (q, k, v)]
    tgq = torch.autograd.grad(composite(*tt).pow(2).sum(), tt[0], create_graph=True)[0]
    ggq = tg.autograd.grad(GF.scaled_dot_product_attention(*gg, is_causal=True).pow(2).sum(), gg[0],
                           create_graph=True)[0]
    _close(ggq, tgq, "first gradient", 1e-10)
    (tgq * tgq).sum().backward()
    (ggq * ggq).sum().backward()
    for name, a, b in zip("qkv", gg, tt):
        _close(a.grad, b.grad, f"second-order grad {name}", 1e-9)
    ins = [tg.tensor(_arr(s).astype(np.float64), requires_grad=True) for s in ((1, 3, 4), (1, 4, 4), (1, 4, 2))]
    m = tg.tensor(_arr((3, 4)).astype(np.float64), requires_grad=True)
    f = lambda a, b, c, mm: GF.scaled_dot_product_attention(a, b, c, attn_mask=mm)  # noqa: E731
    assert tg.autograd.gradcheck(f, (*ins, m))
    assert tg.autograd.gradgradcheck(f, (*ins, m))


def test_sdpa_dropout():
    q, k, v = (tg.tensor(_arr((4, 2, 16, 8)), requires_grad=True) for _ in range(3))
    base = GF.scaled_dot_product_attention(q, k, v)
    tg.manual_seed(3)
    a = GF.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    tg.manual_seed(3)
    b = GF.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    np.testing.assert_array_equal(_np(a), _np(b))  # reproducible under a seed
    assert not np.allclose(_np(a), _np(base))
    # unbiased: the mean over many draws approaches the output without dropout
    with tg.no_grad():
        mean = sum(GF.scaled_dot_product_attention(q, k, v, dropout_p=0.3) for _ in range(300)) / 300
    assert np.abs(_np(mean) - _np(base)).mean() < 0.05 * np.abs(_np(base)).mean() + 0.02
    zero = GF.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert not _np(zero).any()
    # the gradient is that of the same dropped-out computation (fixed seed makes it deterministic)
    q64 = [tg.tensor(_arr(s).astype(np.float64), requires_grad=True) for s in ((1, 3, 4), (1, 5, 4), (1, 5, 2))]

    def f(a, b, c):
        tg.manual_seed(11)
        return GF.scaled_dot_product_attention(a, b, c, dropout_p=0.4, is_causal=True)

    assert tg.autograd.gradcheck(f, q64)


@pytest.mark.parametrize("bad, match", [
    (dict(attn_mask=np.ones((4, 5), np.int64)), "attn_mask dtype to be bool or float"),
    (dict(attn_mask=np.ones((4, 5), np.float64)), "attn_mask dtype to be bool or float"),
    (dict(attn_mask=np.ones((3, 5), bool)), r"size of tensor a \(4\) must match.*attn_mask of shape \[3, 5\]"),
    (dict(attn_mask=np.ones((7, 2, 3, 4, 5), bool)), r"attn_mask of shape \[7, 2, 3, 4, 5\]"),
])
def test_sdpa_bad_masks(bad, match):
    q, k, v = tg.randn(2, 3, 4, 8), tg.randn(2, 3, 5, 8), tg.randn(2, 3, 5, 8)
    kw = {key: tg.tensor(val) for key, val in bad.items()}
    with pytest.raises(RuntimeError, match=match):
        GF.scaled_dot_product_attention(q, k, v, **kw)
    # PyTorch rejects the same inputs with the same exception type
    tkw = {key: torch.tensor(val) for key, val in bad.items()}
    with pytest.raises(RuntimeError):
        TF.scaled_dot_product_attention(torch.randn(2, 3, 4, 8), torch.randn(2, 3, 5, 8), torch.randn(2, 3, 5, 8),
                                        **tkw)


def test_sdpa_bad_inputs():
    q = tg.randn(2, 3, 4, 8)
    with pytest.raises(RuntimeError, match="same dtype.*query.dtype: float key.dtype: double"):
        GF.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="at least 2 dimensional"):
        GF.scaled_dot_product_attention(tg.randn(8), tg.randn(8), tg.randn(8))
    with pytest.raises(RuntimeError, match=r"embedding size.*query \[2, 3, 4, 8\], key \[2, 3, 4, 6\]"):
        GF.scaled_dot_product_attention(q, tg.randn(2, 3, 4, 6), q)
    with pytest.raises(RuntimeError, match="sequence length"):
        GF.scaled_dot_product_attention(q, q, tg.randn(2, 3, 5, 8))
    with pytest.raises(RuntimeError, match="multiple of the number of key heads"):
        GF.scaled_dot_product_attention(q, tg.randn(2, 2, 4, 8), tg.randn(2, 2, 4, 8), enable_gqa=True)


# ---------------------------------------------------------------- MultiheadAttention
def _pair(make):
    tm, gm = make(torch.nn), make(tg.nn)
    res = gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert list(gm.state_dict()) == list(tm.state_dict())
    return tm, gm


def _run_module(tm, gm, inputs, kwargs, train=False, tol=2e-5, same_input=False):
    tm.train(train)
    gm.train(train)
    if same_input:  # self-attention: one tensor passed as query, key and value (PyTorch special-cases it)
        t = torch.tensor(inputs[0], requires_grad=True)
        g = tg.tensor(inputs[0], requires_grad=True)
        tin, gin = [t, t, t], [g, g, g]
    else:
        tin = [torch.tensor(x, requires_grad=True) for x in inputs]
        gin = [tg.tensor(x, requires_grad=True) for x in inputs]
    tk = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    gk = {k: tg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    to, go = tm(*tin, **tk), gm(*gin, **gk)
    if isinstance(to, tuple):
        (to, tw), (go, gw) = to, go
        assert (tw is None) == (gw is None)
        if tw is not None:
            assert tuple(gw.shape) == tuple(tw.shape)
            _close(gw, tw, "attention weights", tol)
    else:
        tw = gw = None
    assert tuple(go.shape) == tuple(to.shape)
    _close(go, to, "output", tol)
    w = _arr(tuple(to.shape))
    lt, lg = (to * torch.tensor(w)).sum(), (go * tg.tensor(w)).sum()
    if tw is not None:  # the weights are differentiable too
        w2 = _arr(tuple(tw.shape))
        lt = lt + (torch.nan_to_num(tw) * torch.tensor(w2)).sum()
        lg = lg + (gw.nan_to_num() * tg.tensor(w2)).sum()
    lt.backward()
    lg.backward()
    for i, (a, b) in enumerate(zip(gin, tin)):
        _close(a.grad, b.grad, f"grad input {i}", tol)
    tp, gp = dict(tm.named_parameters()), dict(gm.named_parameters())
    assert list(tp) == list(gp)
    for k in tp:
        assert gp[k].grad is not None, k
        _close(gp[k].grad, tp[k].grad, f"grad {k}", tol)


E, H, L, S, N = 8, 2, 5, 6, 3
_KPM = np.zeros((N, S), bool)
_KPM[0, -2:] = True
_AM = RNG.random((L, S)) > 0.8
_AM3 = RNG.random((N * H, L, S)) > 0.8
_CAUSAL = np.triu(np.full((L, L), -np.inf, np.float32), 1)

MHA_CASES = {
    "default": ({}, {}),
    "no_weights": ({}, dict(need_weights=False)),
    "per_head_weights": ({}, dict(average_attn_weights=False)),
    "masks_bool": ({}, dict(key_padding_mask=_KPM, attn_mask=_AM)),
    "masks_bool_sdpa": ({}, dict(key_padding_mask=_KPM, attn_mask=_AM, need_weights=False)),
    "mask_3d": ({}, dict(attn_mask=_AM3)),
    "mask_3d_sdpa": ({}, dict(attn_mask=_AM3, need_weights=False)),
    "masks_float": ({}, dict(key_padding_mask=np.where(_KPM, -np.inf, 0).astype(np.float32),
                             attn_mask=_arr((L, S)))),
    "kdim_vdim": (dict(kdim=4, vdim=3), {}),
    "kdim_vdim_sdpa": (dict(kdim=4, vdim=3), dict(need_weights=False, key_padding_mask=_KPM)),
    "bias_kv_zero_attn": (dict(add_bias_kv=True, add_zero_attn=True), dict(key_padding_mask=_KPM, attn_mask=_AM)),
    "no_bias": (dict(bias=False), {}),
    "dropout_eval": (dict(dropout=0.5), {}),
}


@pytest.mark.parametrize("case", list(MHA_CASES))
def test_multihead_attention_matches_torch(case):
    ctor, kw = MHA_CASES[case]
    tm, gm = _pair(lambda nn: nn.MultiheadAttention(E, H, **ctor))
    kd, vd = ctor.get("kdim", E), ctor.get("vdim", E)
    _run_module(tm, gm, [_arr((L, N, E)), _arr((S, N, kd)), _arr((S, N, vd))], kw)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_self_batch_first_causal(need_weights):
    tm, gm = _pair(lambda nn: nn.MultiheadAttention(E, H, batch_first=True))
    kw = dict(attn_mask=_CAUSAL, need_weights=need_weights)
    if not need_weights:
        kw["is_causal"] = True
    _run_module(tm, gm, [_arr((N, L, E))], kw, same_input=True)


def test_multihead_attention_unbatched_and_fully_masked_rows():
    tm, gm = _pair(lambda nn: nn.MultiheadAttention(E, H))
    _run_module(tm, gm, [_arr((L, E)), _arr((S, E)), _arr((S, E))], dict(key_padding_mask=_KPM[0]))
    # a batch row whose keys are all padding: NaN weights with need_weights (a plain softmax, as PyTorch)
    kpm = _KPM[:, :L].copy()
    kpm[1] = True
    tm.eval()
    gm.eval()
    x = _arr((L, N, E))
    with torch.no_grad():
        to, tw = tm(torch.tensor(x), torch.tensor(x), torch.tensor(x), key_padding_mask=torch.tensor(kpm))
    go, gw = gm(tg.tensor(x), tg.tensor(x), tg.tensor(x), key_padding_mask=tg.tensor(kpm))
    _close(go, to, "output")
    _close(gw, tw, "weights")
    assert np.isnan(_np(gw)[1]).all()


def test_multihead_attention_parameters_and_init():
    m = tg.nn.MultiheadAttention(16, 4, kdim=8, vdim=8, add_bias_kv=True)
    names = [n for n, _ in m.named_parameters()]
    assert names == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                     "out_proj.weight", "out_proj.bias"]
    m = tg.nn.MultiheadAttention(64, 4)
    assert [n for n, _ in m.named_parameters()] == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                                    "out_proj.bias"]
    assert isinstance(m.out_proj, tg.nn.Linear)
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    bound = np.sqrt(6 / (64 + 192))  # xavier_uniform_ on the (192, 64) in_proj_weight
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert "MultiheadAttention" in repr(m) and "out_proj" in repr(m)


def test_multihead_attention_dropout_train():
    gm = tg.nn.MultiheadAttention(E, H, dropout=0.5)
    x = tg.tensor(_arr((L, N, E)), requires_grad=True)
    tg.manual_seed(0)
    a, wa = gm(x, x, x)
    tg.manual_seed(0)
    b, wb = gm(x, x, x)
    np.testing.assert_array_equal(_np(a), _np(b))
    gm.eval()
    c, _ = gm(x, x, x)
    assert not np.allclose(_np(a), _np(c))
    a.sum().backward()
    assert x.grad is not None and np.isfinite(_np(x.grad)).all()


MHA_ERRORS = [
    (dict(attn_mask=np.ones((L, S + 1), bool)), RuntimeError, r"2D attn_mask is torch.Size\(\[5, 7\]\).*L=5"),
    (dict(attn_mask=np.ones((N, L, S), bool)), RuntimeError, r"3D attn_mask is torch.Size\(\[3, 5, 6\]\).*num_heads=2"),
    (dict(key_padding_mask=np.ones((N, S + 1), bool)), AssertionError, r"key_padded_mask.shape\[1\] to be 6"),
    (dict(key_padding_mask=np.ones(S, bool)), AssertionError, "key_padding_mask` to be `None` or 2-D"),
    (dict(attn_mask=np.ones((L, S), np.int64)), AssertionError, "only bool and floating types of attn_mask"),
    (dict(attn_mask=np.ones((1, 1, L, S), bool)), AssertionError, "`attn_mask` to be `None`, 2-D or 3-D"),
]


@pytest.mark.parametrize("bad, exc, match", MHA_ERRORS)
def test_multihead_attention_bad_masks(bad, exc, match):
    tm, gm = _pair(lambda nn: nn.MultiheadAttention(E, H))
    q, kv = _arr((L, N, E)), _arr((S, N, E))
    with pytest.raises(exc, match=match):
        gm(tg.tensor(q), tg.tensor(kv), tg.tensor(kv), **{k: tg.tensor(v) for k, v in bad.items()})
    with pytest.raises(exc):
        tm(torch.tensor(q), torch.tensor(kv), torch.tensor(kv), **{k: torch.tensor(v) for k, v in bad.items()})


def test_multihead_attention_bad_shapes():
    gm = tg.nn.MultiheadAttention(E, H)
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8, but got 6"):
        x = tg.randn(L, N, 6)
        gm(x, x, x)
    with pytest.raises(AssertionError, match="received 4-D query"):
        x = tg.randn(1, L, N, E)
        gm(x, x, x)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        tg.nn.MultiheadAttention(10, 3)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        x = tg.randn(L, N, E)
        gm(x, x, x, is_causal=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="mismatched key_padding_mask and attn_mask"):
            x = tg.randn(L, N, E)
            gm(x, x, x, key_padding_mask=tg.zeros(N, L, dtype=tg.bool), attn_mask=tg.zeros(L, L))
