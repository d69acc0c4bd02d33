"""What language-model code around attention uses, against PyTorch: sort / argsort / topk / kthvalue,
multinomial under a seed, tril / triu / masked_fill(-inf), new_* and full, one_hot, Embedding (padding_idx,
max_norm), EmbeddingBag, weight tying, clip_grad_norm_, AdamW with parameter groups and a cosine schedule,
torch.compile and backend flags, autocast and GradScaler, AdaptiveLogSoftmaxWithLoss, sampled softmax and
NCE."""
import math
import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as GF

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _np(t):
    return t.detach().numpy()


def _arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- sorting
def _with_ties():
    x = RNG.integers(0, 4, (3, 7)).astype(np.float32)
    x[1, 2] = np.nan
    return x


@pytest.mark.parametrize("dim", [-1, 0])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_argsort_stable_ties_and_nan(dim, descending):
    x = _with_ties()
    tv, ti = torch.sort(torch.tensor(x), dim=dim, descending=descending, stable=True)
    gv, gi = tg.sort(tg.tensor(x), dim=dim, descending=descending)
    np.testing.assert_array_equal(_np(gv), _np(tv))
    np.testing.assert_array_equal(_np(gi), _np(ti))
    np.testing.assert_array_equal(_np(tg.argsort(tg.tensor(x), dim, descending)),
                                  _np(torch.argsort(torch.tensor(x), dim=dim, descending=descending, stable=True)))
    xi = RNG.integers(0, 3, 9)
    np.testing.assert_array_equal(_np(tg.tensor(xi).sort(descending=descending).indices),
                                  _np(torch.tensor(xi).sort(descending=descending).indices))


def test_sort_topk_kthvalue_values_indices_and_gradients():
    x = RNG.permutation(60).reshape(4, 15).astype(np.float32)  # no ties: indices are unique
    for name, targs in (("sort", dict(dim=1, descending=True)), ("topk", dict(k=4)), ("topk", dict(k=3, dim=0,
                        largest=False)), ("kthvalue", dict(k=5, dim=1, keepdim=True))):
        t = torch.tensor(x, requires_grad=True)
        g = tg.tensor(x, requires_grad=True)
        to, go = getattr(torch, name)(t, **targs), getattr(tg, name)(g, **targs)
        assert type(go).__name__ == type(to).__name__ and go._fields == ("values", "indices")
        np.testing.assert_array_equal(_np(go.values), _np(to.values))
        np.testing.assert_array_equal(_np(go.indices), _np(to.indices))
        w = _arr(*to.values.shape)
        (to.values * torch.tensor(w)).sum().backward()
        (go.values * tg.tensor(w)).sum().backward()
        np.testing.assert_allclose(_np(g.grad), _np(t.grad), err_msg=name)
    v, i = tg.tensor(x).topk(2)  # tuple unpacking, method form
    assert tuple(v.shape) == (4, 2) and i.dtype == tg.int64
    big = RNG.standard_normal((2, 5000)).astype(np.float32)  # the partial-selection path
    np.testing.assert_array_equal(_np(tg.tensor(big).topk(7).indices), _np(torch.tensor(big).topk(7).indices))
    assert "torch.return_types.topk" in repr(tg.tensor(x).topk(1))
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        tg.topk(tg.tensor(x), 16)
    with pytest.raises(RuntimeError, match="kthvalue\\(\\): selected number k out of range"):
        tg.kthvalue(tg.tensor(x), 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        tg.sort(tg.tensor(x), dim=2)


# ---------------------------------------------------------------- sampling and masks
def test_multinomial_is_reproducible_under_a_seed():
    p = tg.softmax(tg.tensor(_arr(4, 12)), -1)
    for replacement in (True, False):
        g = tg.Generator().manual_seed(7)
        a = tg.multinomial(p, 6, replacement=replacement, generator=g)
        g.manual_seed(7)
        b = tg.multinomial(p, 6, replacement=replacement, generator=g)
        np.testing.assert_array_equal(_np(a), _np(b))
        tg.manual_seed(3)
        c = p.multinomial(6, replacement)
        tg.manual_seed(3)
        np.testing.assert_array_equal(_np(c), _np(p.multinomial(6, replacement)))
        assert a.dtype == tg.int64 and tuple(a.shape) == (4, 6)
        if not replacement:
            assert all(len(set(row)) == 6 for row in a.tolist())
    # frequencies follow the probabilities
    q = np.array([0.1, 0.2, 0.7], np.float32)
    draws = _np(tg.multinomial(tg.tensor(q), 20000, replacement=True, generator=tg.Generator().manual_seed(0)))
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20000, q, atol=0.015)


def test_causal_mask_building_blocks():
    T = 5
    tb, gb = torch.tril(torch.ones(T, T)), tg.tril(tg.ones(T, T))
    np.testing.assert_array_equal(_np(gb), _np(tb))
    np.testing.assert_array_equal(_np(tg.ones(T, T).triu(1)), _np(torch.ones(T, T).triu(1)))
    x = _arr(2, T, T)
    to = torch.tensor(x).masked_fill(tb[:T, :T] == 0, float("-inf")).softmax(-1)
    go = tg.tensor(x).masked_fill(gb[:T, :T] == 0, float("-inf")).softmax(-1)
    np.testing.assert_allclose(_np(go), _np(to), rtol=1e-6)
    np.testing.assert_array_equal(_np(tg.full((2, 2), float("-inf"))), _np(torch.full((2, 2), float("-inf"))))
    t = tg.tensor(x)
    assert t.new_zeros(3).dtype == tg.float32 and t.new_ones((2, 2)).shape == (2, 2)
    assert t.new_full((2,), 5.0).tolist() == [5.0, 5.0] and tuple(t.new_empty(4).shape) == (4,)
    assert t.new_tensor([1, 2]).dtype == tg.float32
    np.testing.assert_array_equal(_np(GF.one_hot(tg.tensor([0, 3, 1]), 5)),
                                  _np(torch.nn.functional.one_hot(torch.tensor([0, 3, 1]), 5)))


# ---------------------------------------------------------------- embeddings
def test_embedding_padding_idx_and_max_norm():
    tm = torch.nn.Embedding(10, 4, padding_idx=0, max_norm=1.0)
    gm = tg.nn.Embedding(10, 4, padding_idx=0, max_norm=1.0)
    gm.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    idx = np.array([[0, 1, 2, 2], [3, 0, 9, 1]])
    to, go = tm(torch.tensor(idx)), gm(tg.tensor(idx))
    np.testing.assert_allclose(_np(go), _np(to), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_np(gm.weight), _np(tm.weight), rtol=1e-6, atol=1e-7)  # renormalised in place
    w = _arr(2, 4, 4)
    (to * torch.tensor(w)).sum().backward()
    (go * tg.tensor(w)).sum().backward()
    np.testing.assert_allclose(_np(gm.weight.grad), _np(tm.weight.grad), rtol=1e-6)
    assert not _np(gm.weight.grad)[0].any()


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("layout", ["2d", "offsets", "last_offset", "padding"])
def test_embedding_bag(mode, layout):
    tm = torch.nn.EmbeddingBag(10, 3, mode=mode, padding_idx=4 if layout == "padding" else None,
                               include_last_offset=layout == "last_offset")
    gm = tg.nn.EmbeddingBag(10, 3, mode=mode, padding_idx=4 if layout == "padding" else None,
                            include_last_offset=layout == "last_offset")
    gm.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0])
    args = {"2d": (idx.reshape(2, 5),), "offsets": (idx, np.array([0, 3, 3, 7])),
            "last_offset": (idx, np.array([0, 3, 3, 7, 10])), "padding": (idx, np.array([0, 2, 5]))}[layout]
    to = tm(*[torch.tensor(a) for a in args])
    go = gm(*[tg.tensor(a) for a in args])
    np.testing.assert_allclose(_np(go), _np(to), rtol=1e-6, atol=1e-7)
    w = _arr(*to.shape)
    (to * torch.tensor(w)).sum().backward()
    (go * tg.tensor(w)).sum().backward()
    np.testing.assert_allclose(_np(gm.weight.grad), _np(tm.weight.grad), rtol=1e-6, atol=1e-7)


def test_embedding_bag_per_sample_weights_and_errors():
    W = _arr(10, 3)
    idx, off, psw = np.array([1, 2, 4, 5, 4, 3]), np.array([0, 2]), _arr(6)
    tw, gw = torch.tensor(W, requires_grad=True), tg.tensor(W, requires_grad=True)
    tp, gp = torch.tensor(psw, requires_grad=True), tg.tensor(psw, requires_grad=True)
    to = torch.nn.functional.embedding_bag(torch.tensor(idx), tw, torch.tensor(off), mode="sum",
                                           per_sample_weights=tp)
    go = GF.embedding_bag(tg.tensor(idx), gw, tg.tensor(off), mode="sum", per_sample_weights=gp)
    np.testing.assert_allclose(_np(go), _np(to), rtol=1e-6)
    to.pow(2).sum().backward()
    go.pow(2).sum().backward()
    np.testing.assert_allclose(_np(gw.grad), _np(tw.grad), rtol=1e-5)
    np.testing.assert_allclose(_np(gp.grad), _np(tp.grad), rtol=1e-5)
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        GF.embedding_bag(tg.tensor(idx), gw, tg.tensor(off), mode="mean", per_sample_weights=gp)
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        GF.embedding_bag(tg.tensor(idx), gw)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        GF.embedding_bag(tg.tensor(idx.reshape(2, 3)), gw, tg.tensor(off))
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        GF.embedding_bag(tg.tensor(idx), gw, tg.tensor([1, 3]))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        GF.embedding_bag(tg.tensor(idx), gw, tg.tensor(off), mode="median")


def test_weight_tying_shares_one_parameter():
    class Tied(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = tg.nn.Embedding(11, 4)
            self.lm_head = tg.nn.Linear(4, 11, bias=False)
            self.wte.weight = self.lm_head.weight

    m = Tied()
    params = list(m.parameters())
    assert len(params) == 1 and sum(p.numel() for p in params) == 44
    assert m.wte.weight is m.lm_head.weight
    assert list(m.state_dict()) == ["wte.weight", "lm_head.weight"]  # both names, as PyTorch
    x = tg.tensor([[1, 2, 3]])
    m.lm_head(m.wte(x)).sum().backward()
    # the gradient is the sum of both uses
    emb_part = np.zeros((11, 4), np.float32)
    np.add.at(emb_part, [1, 2, 3], _np(m.lm_head.weight).sum(0))
    head_part = np.tile(_np(m.wte.weight)[[1, 2, 3]].sum(0), (11, 1))
    np.testing.assert_allclose(_np(m.wte.weight.grad), emb_part + head_part, rtol=1e-5)


# ---------------------------------------------------------------- optimisation
def test_adamw_groups_cosine_schedule_and_clipping():
    def build(m):
        torch_like = m
        net = m.nn.Sequential(m.nn.Linear(6, 8), m.nn.LayerNorm(8), m.nn.Linear(8, 3))
        decay = [p for p in net.parameters() if p.dim() >= 2]
        no_decay = [p for p in net.parameters() if p.dim() < 2]
        opt = torch_like.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                      {"params": no_decay, "weight_decay": 0.0}], lr=1e-2, betas=(0.9, 0.95))
        sched = torch_like.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=1e-4)
        return net, opt, sched

    tnet, topt, tsched = build(torch)
    gnet, gopt, gsched = build(tg)
    gnet.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    x, y = _arr(16, 6), RNG.integers(0, 3, 16)
    for step in range(6):
        losses = []
        for m, net, opt, sched in ((torch, tnet, topt, tsched), (tg, gnet, gopt, gsched)):
            opt.zero_grad()
            loss = m.nn.functional.cross_entropy(net(m.tensor(x) * 5), m.tensor(y))
            loss.backward()
            norm = m.nn.utils.clip_grad_norm_(net.parameters(), 0.5)
            opt.step()
            sched.step()
            losses.append((loss.item(), float(norm), opt.param_groups[0]["lr"], opt.param_groups[1]["lr"]))
        np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5, err_msg=f"step {step}")
    for (k, a), b in zip(gnet.state_dict().items(), tnet.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7, err_msg=k)


def test_compile_and_backend_flags():
    m = tg.nn.Linear(2, 2)
    assert tg.compile(m) is m
    assert tg.compile(mode="reduce-overhead")(m) is m
    tg.backends.cuda.matmul.allow_tf32 = True
    tg.backends.cudnn.allow_tf32 = True
    tg.backends.cudnn.benchmark = True
    tg.set_float32_matmul_precision("high")
    assert tg.backends.cuda.matmul.allow_tf32 is True


# ---------------------------------------------------------------- autocast and GradScaler
def test_autocast_float16_matches_torch_dtypes():
    lin_t, lin_g = torch.nn.Linear(4, 3), tg.nn.Linear(4, 3)
    lin_g.load_state_dict({k: v.numpy() for k, v in lin_t.state_dict().items()})
    x = _arr(2, 4)
    outs = {}
    for m, lin in ((torch, lin_t), (tg, lin_g)):
        xm = m.tensor(x)
        with m.autocast("cpu", dtype=m.float16):
            y = lin(xm)
            z = xm @ xm.T
            a = m.nn.functional.scaled_dot_product_attention(xm[None], xm[None], xm[None])
            loss = m.nn.functional.cross_entropy(y, m.tensor([0, 2]))
            enabled = (m.is_autocast_enabled("cpu"), m.is_autocast_enabled(), m.get_autocast_dtype("cpu"))
            with m.autocast("cpu", enabled=False):
                inner = lin(xm).dtype
        loss.backward()
        outs[m] = (y, z, a, loss, enabled, inner, lin.weight.grad.dtype)
    (ty, tz, ta, tl, ten, tin, tgd), (gy, gz, ga, gl, gen, gin, ggd) = outs[torch], outs[tg]
    for t, g in ((ty, gy), (tz, gz), (ta, ga), (tl, gl)):
        assert str(t.dtype)[6:] == g.dtype.name
        np.testing.assert_allclose(_np(g).astype(np.float32), _np(t).astype(np.float32), rtol=1e-2, atol=1e-2)
    assert (gen[0], gen[1], gen[2].name) == (ten[0], ten[1], str(ten[2])[6:])
    assert gin.name == str(tin)[6:] == "float32" and ggd.name == str(tgd)[6:] == "float32"
    assert tg.amp.autocast is tg.autocast and not tg.is_autocast_enabled("cpu")


def test_autocast_bfloat16_and_cuda_are_accepted():
    lin = tg.nn.Linear(4, 3)
    with tg.autocast("cpu"):  # bfloat16: real where ml_dtypes is installed, a documented no-op otherwise
        assert tg.get_autocast_dtype("cpu") == tg.bfloat16
        y = lin(tg.randn(2, 4))
    expect = "bfloat16" if tg.bfloat16.np is not None else "float32"
    assert y.dtype.name == expect
    with pytest.warns(UserWarning, match="CUDA is not available"):
        with tg.autocast(device_type="cuda", dtype=tg.float16):
            assert lin(tg.randn(2, 4)).dtype == tg.float32

    @tg.autocast("cpu", dtype=tg.float16)
    def f(x):
        return lin(x)

    assert f(tg.randn(2, 4)).dtype == tg.float16


def test_grad_scaler_matches_torch():
    results = {}
    for m in (torch, tg):
        m.manual_seed(0)
        lin = m.nn.Linear(2, 1)
        with m.no_grad():
            lin.weight.copy_(m.tensor([[0.5, -0.25]]))
            lin.bias.fill_(0.1)
        opt = m.optim.SGD(lin.parameters(), lr=0.1)
        scaler = m.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2)
        trace = []
        for i in range(5):
            opt.zero_grad()
            loss = lin(m.ones(1, 2)).sum()
            if i == 1:
                loss = loss * float("inf")  # an overflowing step: skipped, scale backs off
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            trace.append((scaler.get_scale(), _np(lin.weight).copy()))
        results[m] = (trace, scaler.state_dict())
    for (ts, tw), (gs, gw) in zip(results[torch][0], results[tg][0]):
        assert ts == gs
        np.testing.assert_allclose(gw, tw, rtol=1e-6)
    assert results[tg][1] == results[torch][1]
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
        s = tg.amp.GradScaler()
    assert not s.is_enabled() and s.get_scale() == 1.0
    x = tg.ones(1)
    assert s.scale(x) is x
    scaler = tg.amp.GradScaler("cpu")
    opt = tg.optim.SGD([tg.nn.Parameter(tg.ones(1))], lr=0.1)
    scaler.scale(opt.param_groups[0]["params"][0].sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)


# ---------------------------------------------------------------- large vocabularies
def test_adaptive_log_softmax_matches_torch():
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10], div_value=2.0, head_bias=True)
    gm = tg.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10], div_value=2.0, head_bias=True)
    gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    assert list(gm.state_dict()) == list(tm.state_dict())
    x, y = _arr(12, 8), np.array([0, 1, 5, 11, 19, 3, 7, 12, 2, 2, 15, 9])
    tx, gx = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
    to, go = tm(tx, torch.tensor(y)), gm(gx, tg.tensor(y))
    assert go._fields == ("output", "loss")
    np.testing.assert_allclose(_np(go.output), _np(to.output), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(go.loss.item(), to.loss.item(), rtol=1e-6)
    to.loss.backward()
    go.loss.backward()
    np.testing.assert_allclose(_np(gx.grad), _np(tx.grad), rtol=1e-5, atol=1e-7)
    for (k, a), b in zip(gm.named_parameters(), tm.parameters()):
        np.testing.assert_allclose(_np(a.grad), _np(b.grad), rtol=1e-5, atol=1e-7, err_msg=k)
    np.testing.assert_allclose(_np(gm.log_prob(gx)), _np(tm.log_prob(tx)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.exp(_np(gm.log_prob(gx))).sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(_np(gm.predict(gx)), _np(tm.predict(tx)))
    assert tuple(gm(gx[0], tg.tensor(y[0])).output.shape) == ()
    with pytest.raises(RuntimeError, match="Target values should be in \\[0, 19\\]"):
        gm(gx, tg.tensor(np.full(12, 20)))
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        tg.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [10, 4])


def _torch_sampled_logits(h, W, b, y, ids, tc, sc, hits_mask):
    true = (h * W[y]).sum(1, keepdim=True) + b[y].unsqueeze(1) - torch.log(tc).float().unsqueeze(1)
    samp = h @ W[ids].T + b[ids] - torch.log(sc).float()
    if hits_mask:
        samp = samp.masked_fill(y[:, None] == ids[None, :], torch.finfo(torch.float32).min)
    return true, samp


@pytest.mark.parametrize("loss", ["sampled_softmax_loss", "nce_loss"])
def test_sampled_losses_match_their_formula(loss):
    V, Dm, N = 50, 6, 9
    h, W, b = _arr(N, Dm), _arr(V, Dm), _arr(V)
    y = RNG.integers(0, V, N)
    sampled = tg.nn.functional.candidate_sampler(tg.tensor(y), 8, V, generator=tg.Generator().manual_seed(1))
    ids, tc, sc = sampled
    y[0] = int(ids[0])  # an accidental hit
    sampled = tg.nn.functional.candidate_sampler(tg.tensor(y), 8, V, generator=tg.Generator().manual_seed(1))
    gh, gW, gb = (tg.tensor(a, requires_grad=True) for a in (h, W, b))
    out = getattr(GF, loss)(gh, gW, gb, tg.tensor(y), 8, V, sampled=sampled,
                            remove_accidental_hits=True)
    th, tW, tb = (torch.tensor(a, requires_grad=True) for a in (h, W, b))
    true, samp = _torch_sampled_logits(th, tW, tb, torch.tensor(y), torch.tensor(_np(sampled[0])),
                                       torch.tensor(_np(sampled[1])), torch.tensor(_np(sampled[2])), True)
    if loss == "sampled_softmax_loss":
        ref = torch.nn.functional.cross_entropy(torch.cat([true, samp], 1), torch.zeros(N, dtype=torch.long))
    else:
        ref = (torch.nn.functional.softplus(-true).squeeze(1) + torch.nn.functional.softplus(samp).sum(1)).mean()
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-5)
    out.backward()
    ref.backward()
    for a, t in ((gh, th), (gW, tW), (gb, tb)):
        np.testing.assert_allclose(_np(a.grad), _np(t.grad), rtol=1e-4, atol=1e-6)
    # rows of W neither targeted nor sampled get no gradient
    used = set(y.tolist()) | set(_np(sampled[0]).tolist())
    unused = [c for c in range(V) if c not in used]
    assert not _np(gW.grad)[unused].any()


def test_sampled_softmax_trains_a_model_and_candidate_sampler_counts():
    V, Dm = 40, 8
    tg.manual_seed(0)
    emb, head = tg.nn.Embedding(V, Dm), tg.nn.Linear(Dm, V)
    opt = tg.optim.Adam(list(emb.parameters()) + list(head.parameters()), lr=0.05)
    x = tg.tensor(RNG.integers(0, V, 256))
    y = (x * 7 + 3) % V  # a deterministic next-token map
    full0 = GF.cross_entropy(head(emb(x)), y).item()
    for _ in range(60):
        opt.zero_grad()
        GF.sampled_softmax_loss(emb(x), head.weight, head.bias, y, 10, V, sampler="uniform").backward()
        opt.step()
    full1 = GF.cross_entropy(head(emb(x)), y).item()
    assert full1 < 0.5 * full0  # the full softmax's loss falls although training saw 10 of 40 classes
    ids, tc, sc = GF.candidate_sampler(tg.tensor([0, 1]), 5, 1000, unique=False, generator=tg.Generator())
    p0 = math.log(2) / math.log(1001)
    np.testing.assert_allclose(tc.numpy()[0], 5 * p0, rtol=1e-9)
    ids, _, _ = GF.candidate_sampler(tg.tensor([0]), 20, 30, unique=True)
    assert len(set(ids.tolist())) == 20
    with pytest.raises(ValueError, match="sampler weights must have one entry per class"):
        GF.candidate_sampler(tg.tensor([0]), 2, 5, sampler=tg.ones(4))
    with pytest.raises(RuntimeError, match="expected target \\(N,\\) of int64"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            GF.nce_loss(tg.randn(3, 4), tg.randn(10, 4), None, tg.tensor([1.0, 2.0, 3.0]), 2)
