"""Recurrent layers against PyTorch: nn.RNN / LSTM / GRU and their cells start from the same state_dict;
outputs, final states, the input's and initial states' gradients and every parameter gradient are
compared, for each option (layers, bidirectional, batch_first, bias, proj_size, initial states,
unbatched input, packed sequences). Also nn.utils.rnn, dropout between layers, and bad input."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.nn.utils import rnn as grnn

torch = pytest.importorskip("torch")
trnn = torch.nn.utils.rnn
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")

F64 = dict(rtol=1e-9, atol=1e-11)
F32 = dict(rtol=2e-5, atol=2e-6)


def _np(t):
    return t.detach().numpy()


def pair(make, dtype="float64"):
    tm = make(torch.nn)
    gm = make(tg.nn)
    if dtype == "float64":
        tm, gm = tm.double(), gm.double()
    res = gm.load_state_dict(tm.state_dict())  # torch tensors load directly
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert list(dict(gm.named_parameters())) == list(dict(tm.named_parameters()))
    return tm, gm


def leaf(a, fw):
    return (torch.tensor(a) if fw is torch else tg.tensor(a)).requires_grad_()


def flat(res):
    """(output, h_n) or (output, (h_n, c_n)) -> list of tensors; PackedSequence -> its data."""
    out, h = res
    out = out.data if isinstance(out, (trnn.PackedSequence, grnn.PackedSequence)) else out
    return [out] + (list(h) if isinstance(h, tuple) else [h])


def compare(tm, gm, t_args, g_args, t_leaves, g_leaves, tol, train=False, call=None):
    tm.train(train)
    gm.train(train)
    call = call or (lambda m, args: flat(m(*args)))
    touts, gouts = call(tm, t_args), call(gm, g_args)
    assert len(touts) == len(gouts)
    for i, (a, b) in enumerate(zip(gouts, touts)):
        assert tuple(a.shape) == tuple(b.shape), f"output {i}: {tuple(a.shape)} vs {tuple(b.shape)}"
        np.testing.assert_allclose(_np(a), _np(b), err_msg=f"output {i}", **tol)
    rng = np.random.default_rng(5)
    ws = [rng.standard_normal(tuple(t.shape)).astype(_np(t).dtype) for t in touts]
    sum((t * torch.from_numpy(w)).sum() for t, w in zip(touts, ws)).backward()
    sum((g * tg.from_numpy(w)).sum() for g, w in zip(gouts, ws)).backward()
    for i, (a, b) in enumerate(zip(g_leaves, t_leaves)):
        assert a.grad is not None, f"input {i} got no gradient"
        np.testing.assert_allclose(_np(a.grad), _np(b.grad), err_msg=f"grad of input {i}", **tol)
    tp = dict(tm.named_parameters())
    for k, p in gm.named_parameters():
        assert p.grad is not None, f"parameter {k} got no gradient"
        np.testing.assert_allclose(_np(p.grad), _np(tp[k].grad), err_msg=f"grad {k}", **tol)


R = np.random.default_rng(0)

LAYERS = {
    "RNN": lambda nn, **kw: nn.RNN(5, 7, **kw),
    "RNN-relu": lambda nn, **kw: nn.RNN(5, 7, nonlinearity="relu", **kw),
    "LSTM": lambda nn, **kw: nn.LSTM(5, 7, **kw),
    "LSTM-proj": lambda nn, **kw: nn.LSTM(5, 7, proj_size=3, **kw),
    "GRU": lambda nn, **kw: nn.GRU(5, 7, **kw),
}
OPTIONS = {
    "default": {},
    "2layers": dict(num_layers=2),
    "bidirectional": dict(bidirectional=True),
    "2layers-bidir-batch_first": dict(num_layers=2, bidirectional=True, batch_first=True),
    "nobias-batch_first": dict(bias=False, batch_first=True),
    "3layers-dropout-eval": dict(num_layers=3, dropout=0.5),
}


def _state_shapes(name, m, batch):
    d = 2 if m.bidirectional else 1
    hs = m.proj_size if m.proj_size else m.hidden_size
    shapes = [(m.num_layers * d, batch, hs)]
    if name.startswith("LSTM"):
        shapes.append((m.num_layers * d, batch, m.hidden_size))
    return shapes


def _hx(name, shapes, fw, leaves):
    hs = [leaf(R.standard_normal(s), fw) for s in shapes]
    leaves.extend(hs)
    return tuple(hs) if name.startswith("LSTM") else hs[0]


@pytest.mark.parametrize("opt", list(OPTIONS))
@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("with_hx", [False, True], ids=["no_hx", "hx"])
def test_layer_matches_torch(name, opt, with_hx):
    kw = OPTIONS[opt]
    tm, gm = pair(lambda nn: LAYERS[name](nn, **kw))
    T, B = 4, 3
    x = R.standard_normal((B, T, 5) if tm.batch_first else (T, B, 5))
    tl, gl = [leaf(x, torch)], [leaf(x, tg)]
    targs, gargs = [tl[0]], [gl[0]]
    if with_hx:
        state = R.bit_generator.state
        targs.append(_hx(name, _state_shapes(name, tm, B), torch, tl))
        R.bit_generator.state = state
        gargs.append(_hx(name, _state_shapes(name, tm, B), tg, gl))
    compare(tm, gm, targs, gargs, tl, gl, F64)


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_float32(name):
    tm, gm = pair(lambda nn: LAYERS[name](nn, num_layers=2, bidirectional=True), dtype="float32")
    x = R.standard_normal((6, 4, 5)).astype(np.float32)
    tl, gl = [leaf(x, torch)], [leaf(x, tg)]
    compare(tm, gm, tl, gl, tl, gl, F32)
    out, _ = gm(gl[0])
    assert out.dtype == tg.float32


@pytest.mark.parametrize("name", ["RNN", "LSTM", "LSTM-proj", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input(name, batch_first):
    tm, gm = pair(lambda nn: LAYERS[name](nn, num_layers=2, bidirectional=True, batch_first=batch_first))
    x = R.standard_normal((4, 5))
    tl, gl = [leaf(x, torch)], [leaf(x, tg)]
    shapes = [(s[0], s[2]) for s in _state_shapes(name, tm, 1)]
    state = R.bit_generator.state
    th = _hx(name, shapes, torch, tl)
    R.bit_generator.state = state
    gh = _hx(name, shapes, tg, gl)
    compare(tm, gm, [tl[0], th], [gl[0], gh], tl, gl, F64)
    out, h = gm(gl[0])
    assert tuple(out.shape) == (4, 2 * (3 if name == "LSTM-proj" else 7))


# ---------------------------------------------------------------- packed sequences
@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("kw", [dict(), dict(num_layers=2, bidirectional=True),
                                dict(num_layers=2, bidirectional=True, batch_first=True)],
                         ids=["1layer", "2layers-bidir", "2layers-bidir-batch_first"])
@pytest.mark.parametrize("enforce_sorted", [True, False], ids=["sorted", "unsorted"])
def test_packed_matches_torch(name, kw, enforce_sorted):
    tm, gm = pair(lambda nn: LAYERS[name](nn, **kw))
    lengths = [5, 5, 3, 2, 1] if enforce_sorted else [3, 5, 1, 5, 2]
    B, T = len(lengths), max(lengths)
    x = R.standard_normal((B, T, 5) if tm.batch_first else (T, B, 5))
    tl, gl = [leaf(x, torch)], [leaf(x, tg)]
    state = R.bit_generator.state
    th = _hx(name, _state_shapes(name, tm, B), torch, tl)
    R.bit_generator.state = state
    gh = _hx(name, _state_shapes(name, tm, B), tg, gl)

    def call(m, args):
        x, h = args
        mod, fw = (trnn, torch) if isinstance(x, torch.Tensor) else (grnn, tg)
        packed = mod.pack_padded_sequence(x, fw.tensor(lengths), batch_first=m.batch_first,
                                          enforce_sorted=enforce_sorted)
        out, hn = m(packed, h)
        assert isinstance(out, mod.PackedSequence)
        padded, lens = mod.pad_packed_sequence(out, batch_first=m.batch_first, padding_value=-2.0)
        assert lens.tolist() == lengths
        return [padded] + (list(hn) if isinstance(hn, tuple) else [hn])

    compare(tm, gm, [tl[0], th], [gl[0], gh], tl, gl, F64, call=call)


def test_packed_without_initial_state_and_final_state_at_last_valid_step():
    """h_n of the forward direction is the output at each sequence's own last step; the reverse
    direction's output at step 0 is its h_n, and it started at each sequence's last step (not at T-1)."""
    tm, gm = pair(lambda nn: nn.GRU(3, 4, bidirectional=True))
    lengths = [4, 2, 1]
    x = R.standard_normal((4, 3, 3))
    out, h = gm(grnn.pack_padded_sequence(tg.tensor(x), lengths))
    padded, _ = grnn.pad_packed_sequence(out)
    p, hn = _np(padded), _np(h)
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(hn[0, b], p[n - 1, b, :4])
        np.testing.assert_allclose(hn[1, b], p[0, b, 4:])
        single, _ = gm(tg.tensor(x[:n, b:b + 1]))  # the sequence alone, unpadded
        np.testing.assert_allclose(p[:n, b], _np(single)[:, 0], **F64)
        assert not p[n:, b].any()
    tout, th = tm(trnn.pack_padded_sequence(torch.tensor(x), lengths))
    np.testing.assert_allclose(_np(out.data), _np(tout.data), **F64)
    np.testing.assert_allclose(hn, _np(th), **F64)


def test_gradient_through_final_states_only():
    """Only h_n / c_n reach the loss: the unused output's gradient is zero, the rest as in torch."""
    tm, gm = pair(lambda nn: nn.LSTM(5, 7, num_layers=2, bidirectional=True))
    x = R.standard_normal((4, 3, 5))
    tx, gx = leaf(x, torch), leaf(x, tg)
    lengths = [4, 2, 1]
    _, (th, tc) = tm(trnn.pack_padded_sequence(tx, lengths))
    _, (gh, gc) = gm(grnn.pack_padded_sequence(gx, lengths))
    (th.sum() + 2 * tc.sum()).backward()
    (gh.sum() + 2 * gc.sum()).backward()
    np.testing.assert_allclose(_np(gx.grad), _np(tx.grad), **F64)
    tp = dict(tm.named_parameters())
    for k, p in gm.named_parameters():
        np.testing.assert_allclose(_np(p.grad), _np(tp[k].grad), err_msg=k, **F64)


# ---------------------------------------------------------------- cells
CELLS = {
    "RNNCell": lambda nn, **kw: nn.RNNCell(5, 7, **kw),
    "RNNCell-relu": lambda nn, **kw: nn.RNNCell(5, 7, nonlinearity="relu", **kw),
    "LSTMCell": lambda nn, **kw: nn.LSTMCell(5, 7, **kw),
    "GRUCell": lambda nn, **kw: nn.GRUCell(5, 7, **kw),
}


@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("case", ["batched", "batched-hx", "unbatched-hx", "nobias-hx"])
def test_cell_matches_torch(name, case):
    tm, gm = pair(lambda nn: CELLS[name](nn, **({"bias": False} if case == "nobias-hx" else {})))
    shape = (5,) if case == "unbatched-hx" else (3, 5)
    x = R.standard_normal(shape)
    tl, gl = [leaf(x, torch)], [leaf(x, tg)]
    targs, gargs = [tl[0]], [gl[0]]
    if case != "batched":
        hshape = shape[:-1] + (7,)
        n = 2 if name == "LSTMCell" else 1
        hs = [R.standard_normal(hshape) for _ in range(n)]
        th, gh = [leaf(h, torch) for h in hs], [leaf(h, tg) for h in hs]
        tl += th
        gl += gh
        targs.append(tuple(th) if n == 2 else th[0])
        gargs.append(tuple(gh) if n == 2 else gh[0])

    def call(m, args):
        r = m(*args)
        return list(r) if isinstance(r, tuple) else [r]

    compare(tm, gm, targs, gargs, tl, gl, F64, call=call)


def test_cell_loop_matches_layer():
    """An LSTMCell stepped in Python gives the LSTM layer's outputs (same weights)."""
    layer = tg.nn.LSTM(4, 6).double()
    cell = tg.nn.LSTMCell(4, 6).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = tg.tensor(R.standard_normal((5, 2, 4)))
    out, (h, c) = layer(x)
    hc = None
    for t in range(5):
        hc = cell(x[t], hc)
        np.testing.assert_allclose(_np(hc[0]), _np(out[t]), **F64)
    np.testing.assert_allclose(_np(hc[1]), _np(c[0]), **F64)


# ---------------------------------------------------------------- parameters, state_dict, repr
def test_torch_state_dict_loads_and_gives_same_outputs_float32():
    tm = torch.nn.LSTM(8, 16, num_layers=2, bidirectional=True, batch_first=True)
    gm = tg.nn.LSTM(8, 16, num_layers=2, bidirectional=True, batch_first=True)
    sd = tm.state_dict()
    assert list(gm.state_dict()) == list(sd)
    assert all(tuple(gm.state_dict()[k].shape) == tuple(v.shape) for k, v in sd.items())
    gm.load_state_dict(sd)
    x = R.standard_normal((3, 6, 8)).astype(np.float32)
    to, (th, tc) = tm(torch.from_numpy(x))
    go, (gh, gc) = gm(tg.from_numpy(x))
    for a, b in ((go, to), (gh, th), (gc, tc)):
        np.testing.assert_allclose(_np(a), _np(b), **F32)
    # and back: tapegrad's state_dict loads into torch
    tm2 = torch.nn.LSTM(8, 16, num_layers=2, bidirectional=True, batch_first=True)
    tm2.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in gm.state_dict().items()})


@pytest.mark.parametrize("make", [
    lambda nn: nn.LSTM(3, 5, 2, bias=False, proj_size=2, bidirectional=True),
    lambda nn: nn.GRU(3, 5, 3, batch_first=True, dropout=0.25),
    lambda nn: nn.RNN(3, 5, nonlinearity="relu"),
    lambda nn: nn.RNNCell(3, 4, nonlinearity="relu", bias=False),
    lambda nn: nn.LSTMCell(3, 4),
    lambda nn: nn.GRUCell(3, 4),
])
def test_parameters_and_repr_match_torch(make):
    tm, gm = make(torch.nn), make(tg.nn)
    assert repr(gm) == repr(tm)
    tp, gp = dict(tm.named_parameters()), dict(gm.named_parameters())
    assert list(gp) == list(tp)
    for k in tp:
        assert tuple(gp[k].shape) == tuple(tp[k].shape), k
    if hasattr(tm, "all_weights"):
        assert [[tuple(w.shape) for w in ws] for ws in gm.all_weights] == \
            [[tuple(w.shape) for w in ws] for ws in tm.all_weights]
        assert gm._flat_weights_names == tm._flat_weights_names


def test_init_is_uniform_in_one_over_sqrt_hidden():
    tg.manual_seed(0)
    m = tg.nn.LSTM(10, 64, 2)
    bound = 1 / 8
    vals = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert np.abs(vals).max() <= bound
    assert abs(vals.mean()) < 0.01 and abs(vals.std() - bound / np.sqrt(3)) < 0.005


def test_module_double_and_zero_grad():
    m = tg.nn.GRU(3, 4).double()
    out, h = m(tg.tensor(R.standard_normal((2, 1, 3))))
    assert out.dtype == tg.float64 and h.dtype == tg.float64


# ---------------------------------------------------------------- dropout between layers
def test_dropout_one_matches_torch_in_train_mode():
    """p=1 zeroes the input of every layer but the first: deterministic, so comparable with torch."""
    tm, gm = pair(lambda nn: nn.LSTM(5, 7, num_layers=2, dropout=1.0))
    x = R.standard_normal((4, 3, 5))
    tl, gl = [leaf(x, torch)], [leaf(x, tg)]
    compare(tm, gm, tl, gl, tl, gl, F64, train=True)


def test_dropout_is_random_in_train_and_off_in_eval():
    tm, gm = pair(lambda nn: nn.GRU(5, 64, num_layers=2, dropout=0.5))
    x = tg.tensor(R.standard_normal((3, 4, 5)))
    gm.train()
    tg.manual_seed(1)
    a = _np(gm(x)[0])
    b = _np(gm(x)[0])
    tg.manual_seed(1)
    a2 = _np(gm(x)[0])
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, a2)  # tapegrad's generator drives the masks
    gm.eval()
    tm.eval()
    np.testing.assert_allclose(_np(gm(x)[0]), _np(tm(torch.tensor(x.numpy()))[0]), **F64)
    # statistics: the second layer sees about half of its input zeroed, scaled by 2
    seen = []
    orig = tg.nn.modules.rnn.gru_layer

    def spy(x, *args, **kw):
        seen.append(_np(x))
        return orig(x, *args, **kw)

    gm.train()
    tg.nn.modules.rnn.gru_layer = spy
    try:
        gm(tg.tensor(R.standard_normal((50, 8, 5))))
    finally:
        tg.nn.modules.rnn.gru_layer = orig
    zero_frac = (seen[1] == 0).mean()
    assert 0.45 < zero_frac < 0.55


def test_dropout_warns_with_one_layer_and_validates():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        tg.nn.LSTM(3, 4, dropout=0.5)
    for bad in (-0.1, 1.5, True):
        with pytest.raises(ValueError, match="dropout should be a number in range"):
            tg.nn.GRU(3, 4, dropout=bad)


# ---------------------------------------------------------------- autograd details
def test_double_backward_raises_naming_the_layer():
    m = tg.nn.LSTM(3, 4).double()
    x = tg.tensor(R.standard_normal((2, 1, 3)), requires_grad=True)
    out, _ = m(x)
    with pytest.raises(NotImplementedError, match="nn.LSTM"):
        tg.autograd.grad(out.sum(), x, create_graph=True)


def test_retain_graph_and_freed_graph():
    m = tg.nn.GRU(3, 4).double()
    x = tg.tensor(R.standard_normal((2, 1, 3)), requires_grad=True)
    out, _ = m(x)
    loss = out.sum()
    loss.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_weights_modified_in_place_before_backward_raise():
    m = tg.nn.LSTM(3, 4)
    out, _ = m(tg.randn(2, 1, 3))
    with tg.no_grad():
        m.weight_hh_l0.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_no_grad_records_nothing():
    m = tg.nn.LSTM(3, 4)
    with tg.no_grad():
        out, (h, c) = m(tg.randn(2, 1, 3))
    assert out.grad_fn is None and h.grad_fn is None and not out.requires_grad


# ---------------------------------------------------------------- nn.utils.rnn
def test_pad_sequence_matches_torch():
    seqs = [R.standard_normal((n, 2, 3)) for n in (2, 4, 1)]
    for batch_first in (False, True):
        for side in ("right", "left"):
            ts = [leaf(s, torch) for s in seqs]
            gs = [leaf(s, tg) for s in seqs]
            t = trnn.pad_sequence(ts, batch_first=batch_first, padding_value=-1.5, padding_side=side)
            g = grnn.pad_sequence(gs, batch_first=batch_first, padding_value=-1.5, padding_side=side)
            np.testing.assert_array_equal(_np(g), _np(t))
            w = R.standard_normal(tuple(t.shape))
            (t * torch.tensor(w)).sum().backward()
            (g * tg.tensor(w)).sum().backward()
            for a, b in zip(gs, ts):
                np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_pack_pad_roundtrip_and_fields_match_torch():
    seqs = [R.standard_normal((n, 3)) for n in (2, 5, 3, 5)]
    tp = trnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    gp = grnn.pack_sequence([tg.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(gp.data.numpy(), _np(tp.data))
    for f in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        assert getattr(gp, f).tolist() == getattr(tp, f).tolist(), f
    assert gp.batch_sizes.dtype == tg.int64
    for a, s in zip(grnn.unpack_sequence(gp), seqs):
        np.testing.assert_array_equal(a.numpy(), s)
    padded, lens = grnn.pad_packed_sequence(gp, batch_first=True, total_length=7)
    tpadded, tlens = trnn.pad_packed_sequence(tp, batch_first=True, total_length=7)
    np.testing.assert_array_equal(padded.numpy(), _np(tpadded))
    assert lens.tolist() == tlens.tolist()
    for a, b in zip(grnn.unpad_sequence(padded, lens, batch_first=True), seqs):
        np.testing.assert_array_equal(a.numpy(), b)
    d, bs, si, ui = gp  # a 4-tuple, as in torch
    assert grnn.invert_permutation(si).tolist() == ui.tolist()
    assert grnn.PackedSequence(d, bs, si).unsorted_indices.tolist() == ui.tolist()
    assert gp.to(tg.float32).data.dtype == tg.float32


def test_pack_padded_gradient_matches_torch():
    x = R.standard_normal((4, 3, 2))
    tx, gx = leaf(x, torch), leaf(x, tg)
    tp = trnn.pack_padded_sequence(tx, [2, 4, 3], enforce_sorted=False)
    gp = grnn.pack_padded_sequence(gx, [2, 4, 3], enforce_sorted=False)
    w = R.standard_normal(tuple(tp.data.shape))
    (tp.data * torch.tensor(w)).sum().backward()
    (gp.data * tg.tensor(w)).sum().backward()
    np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())


# ---------------------------------------------------------------- bad input
def _raises(exc, fn, *needles):
    with pytest.raises(exc) as info:
        fn()
    for n in needles:
        assert n in str(info.value), f"{n!r} not in {str(info.value)!r}"
    return str(info.value)


def test_hidden_batch_mismatch_names_layer_and_shapes():
    m = tg.nn.LSTM(10, 20, 2)
    x = tg.randn(5, 3, 10)
    _raises(RuntimeError, lambda: m(x, (tg.zeros(2, 4, 20), tg.zeros(2, 3, 20))),
            "Expected hidden[0] size (2, 3, 20), got [2, 4, 20]", "LSTM", "[5, 3, 10]")
    _raises(RuntimeError, lambda: m(x, (tg.zeros(2, 3, 20), tg.zeros(2, 4, 20))),
            "Expected hidden[1] size (2, 3, 20), got [2, 4, 20]", "LSTM")
    g = tg.nn.GRU(10, 20, batch_first=True)
    _raises(RuntimeError, lambda: g(tg.randn(3, 5, 10), tg.zeros(1, 5, 20)),
            "Expected hidden size (1, 3, 20), got [1, 5, 20]", "GRU", "[3, 5, 10]")
    _raises(RuntimeError, lambda: tg.nn.RNN(10, 20)(x, tg.zeros(4, 20)),
            "For batched 3-D input, hx should also be 3-D but got 2-D tensor", "RNN")
    _raises(RuntimeError, lambda: m(tg.randn(5, 10), (tg.zeros(2, 3, 20), tg.zeros(2, 3, 20))),
            "For unbatched 2-D input, hx and cx should also be 2-D but got (3-D, 3-D) tensors")
    # packed input: the hidden state's batch must be the packed batch
    p = grnn.pack_padded_sequence(x, [5, 3, 2])
    _raises(RuntimeError, lambda: m(p, (tg.zeros(2, 4, 20), tg.zeros(2, 4, 20))),
            "Expected hidden[0] size (2, 3, 20), got [2, 4, 20]", "LSTM", "packed")


def test_input_shape_errors():
    m = tg.nn.LSTM(10, 20)
    _raises(RuntimeError, lambda: m(tg.randn(5, 3, 11)),
            "input.size(-1) must be equal to input_size. Expected 10, got 11", "LSTM", "[5, 3, 11]")
    _raises(ValueError, lambda: m(tg.randn(5, 3, 3, 10)), "LSTM: Expected input to be 2D or 3D, got 4D")
    _raises(ValueError, lambda: m(tg.randn(5, 3, 10, dtype=tg.float64)),
            "RNN input dtype (torch.float64) does not match weight dtype (torch.float32)")
    _raises(RuntimeError, lambda: m(tg.randn(0, 3, 10)), "Expected sequence length to be larger than 0")
    _raises(RuntimeError, lambda: m(tg.randn(5, 3, 10), (tg.zeros(1, 3, 20, dtype=tg.float64), tg.zeros(1, 3, 20))),
            "LSTM", "dtype")
    _raises(RuntimeError, lambda: tg.nn.GRUCell(10, 20)(tg.randn(3, 10), tg.zeros(3, 20, dtype=tg.float64)),
            "GRUCell", "dtype")
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        tg.nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        tg.nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sig'"):
        tg.nn.RNN(3, 4, nonlinearity="sig")


def test_cell_errors():
    c = tg.nn.LSTMCell(10, 20)
    _raises(RuntimeError, lambda: c(tg.randn(3, 10), (tg.zeros(4, 20), tg.zeros(3, 20))),
            "Input batch size 3 doesn't match hidden0 batch size 4", "LSTMCell")
    _raises(RuntimeError, lambda: c(tg.randn(3, 11)), "input has inconsistent input_size: got 11 expected 10")
    _raises(RuntimeError, lambda: tg.nn.GRUCell(10, 20)(tg.randn(3, 10), tg.zeros(3, 21)),
            "hidden0 has inconsistent hidden_size: got 21, expected 20", "GRUCell")
    _raises(ValueError, lambda: tg.nn.RNNCell(10, 20)(tg.randn(3, 10), tg.zeros(3, 20, 1)),
            "RNNCell: Expected hidden to be 1D or 2D, got 3D instead")


def test_packing_errors():
    x = tg.randn(5, 3, 2)
    _raises(RuntimeError, lambda: grnn.pack_padded_sequence(x, [3, 5, 2]),
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True", "[3, 5, 2]",
            "[5, 3, 2]")
    _raises(RuntimeError, lambda: grnn.pack_sequence([tg.randn(2, 2), tg.randn(3, 2)]),
            "must be sorted in decreasing order")
    _raises(RuntimeError, lambda: grnn.pack_padded_sequence(x, [5, 3, 0]),
            "Length of all samples has to be greater than 0")
    _raises(RuntimeError, lambda: grnn.pack_padded_sequence(x, [5, 3]),
            "Expected `len(lengths)` to be equal to batch_size, but got 2 (batch_size=3)")
    _raises(RuntimeError, lambda: grnn.pack_padded_sequence(x, [6, 3, 2]), "exceeds", "[5, 3, 2]")
    p = grnn.pack_padded_sequence(x, [5, 3, 2])
    _raises(ValueError, lambda: grnn.pad_packed_sequence(p, total_length=3),
            "Expected total_length to be at least the length of the longest sequence")
    _raises(RuntimeError, lambda: grnn.pad_sequence([]), "received an empty list of sequences")
    _raises(RuntimeError, lambda: grnn.pad_sequence([tg.zeros(3, 2), tg.zeros(4, 3)]), "[3, 2]", "[4, 3]")


def test_zero_batch_gives_empty_outputs():
    to, th = torch.nn.GRU(3, 4)(torch.zeros(2, 0, 3))
    go, gh = tg.nn.GRU(3, 4)(tg.zeros(2, 0, 3))
    assert tuple(go.shape) == tuple(to.shape) and tuple(gh.shape) == tuple(th.shape)
