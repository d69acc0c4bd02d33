"""Transformer layers against PyTorch from the same state_dict: outputs, input gradients and every parameter
gradient (dropout 0 or eval mode) for norm_first, relu/gelu, batch_first, masks and causal flags; PyTorch's
inference fast path (eval, no_grad) gives the same numbers; checkpoints interchange through torch.save."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # PyTorch's nested-tensor and mask-type notes

from test_attention import _arr, _close, _pair, _run_module  # noqa: E402

D, H, FF, L, S, N = 8, 2, 16, 5, 6, 3
_CAUSAL = np.triu(np.full((L, L), -np.inf, np.float32), 1)
_KPM_SRC = np.zeros((N, S), bool)
_KPM_SRC[0, -2:] = True
_KPM_TGT = np.zeros((N, L), bool)
_KPM_TGT[2, -1] = True


def _x(batch_first, n):
    return _arr((N, n, D)) if batch_first else _arr((n, N, D))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer(norm_first, activation, batch_first):
    tm, gm = _pair(lambda nn: nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation=activation,
                                                        batch_first=batch_first, norm_first=norm_first))
    _run_module(tm, gm, [_x(batch_first, L)], dict(src_mask=_CAUSAL, src_key_padding_mask=_KPM_TGT), train=True)


@pytest.mark.parametrize("kw", [
    {},
    dict(src_mask=np.triu(np.ones((L, L), bool), 1)),
    dict(src_mask=_CAUSAL, is_causal=True),
    dict(src_key_padding_mask=np.where(_KPM_TGT, -np.inf, 0.0).astype(np.float32)),
], ids=["nomask", "bool_mask", "causal", "float_kpm"])
def test_encoder_layer_masks(kw):
    tm, gm = _pair(lambda nn: nn.TransformerEncoderLayer(D, H, FF, dropout=0.1))
    _run_module(tm, gm, [_x(False, L)], kw, train=False)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer(norm_first, activation):
    tm, gm = _pair(lambda nn: nn.TransformerDecoderLayer(D, H, FF, dropout=0.0, activation=activation,
                                                        batch_first=True, norm_first=norm_first))
    _run_module(tm, gm, [_x(True, L), _x(True, S)],
                dict(tgt_mask=_CAUSAL, tgt_is_causal=True, tgt_key_padding_mask=_KPM_TGT,
                     memory_key_padding_mask=_KPM_SRC, memory_mask=RNG_MASK), train=True)


RNG_MASK = np.random.default_rng(5).random((L, S)) > 0.8


def test_encoder_and_decoder_stacks():
    tm, gm = _pair(lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF, dropout=0.0), 2,
                                                    nn.LayerNorm(D)))
    _run_module(tm, gm, [_x(False, L)], dict(mask=_CAUSAL, src_key_padding_mask=_KPM_TGT), train=True)
    tm, gm = _pair(lambda nn: nn.TransformerDecoder(nn.TransformerDecoderLayer(D, H, FF, dropout=0.0), 2))
    _run_module(tm, gm, [_x(False, L), _x(False, S)], dict(tgt_mask=_CAUSAL), train=True)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer(norm_first):
    tm, gm = _pair(lambda nn: nn.Transformer(D, H, 2, 2, FF, dropout=0.0, norm_first=norm_first))
    mask = tm.generate_square_subsequent_mask(L).numpy()
    _close(gm.generate_square_subsequent_mask(L), tm.generate_square_subsequent_mask(L), "causal mask")
    _run_module(tm, gm, [_x(False, S), _x(False, L)],
                dict(tgt_mask=mask, src_key_padding_mask=_KPM_SRC, memory_key_padding_mask=_KPM_SRC), train=True)


def test_transformer_batch_first_gelu_eval_fast_path():
    """In eval mode under no_grad PyTorch takes fused fast paths; the numbers are the same."""
    tm, gm = _pair(lambda nn: nn.Transformer(D, H, 2, 1, FF, dropout=0.2, activation="gelu", batch_first=True))
    tm.eval()
    gm.eval()
    src, tgt = _x(True, S), _x(True, L)
    mask = np.triu(np.full((L, L), -np.inf, np.float32), 1)
    with torch.no_grad():
        to = tm(torch.tensor(src), torch.tensor(tgt), tgt_mask=torch.tensor(mask),
                src_key_padding_mask=torch.tensor(_KPM_SRC))
    with tg.no_grad():
        go = gm(tg.tensor(src), tg.tensor(tgt), tgt_mask=tg.tensor(mask), src_key_padding_mask=tg.tensor(_KPM_SRC))
    _close(go, to, "eval output", 5e-5)


def test_unbatched_encoder_layer_and_custom_activation():
    tm, gm = _pair(lambda nn: nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation=nn.GELU()))
    _run_module(tm, gm, [_arr((L, D))], {}, train=True)
    tm, gm = _pair(lambda nn: nn.TransformerEncoderLayer(D, H, FF, dropout=0.0,
                                                        activation=nn.functional.silu, bias=False))
    _run_module(tm, gm, [_x(False, L)], {}, train=True)


def test_state_dict_keys_and_checkpoint_interchange(tmp_path):
    tm = torch.nn.Transformer(D, H, 1, 1, FF)
    gm = tg.nn.Transformer(D, H, 1, 1, FF)
    assert list(gm.state_dict()) == list(tm.state_dict())
    assert [tuple(v.shape) for v in gm.state_dict().values()] == [tuple(v.shape) for v in tm.state_dict().values()]
    path = tmp_path / "transformer.pt"
    torch.save(tm.state_dict(), path)
    gm.load_state_dict(tg.load(path))
    for (k, a), b in zip(gm.state_dict().items(), tm.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    names = [n for n, _ in gm.encoder.layers[0].named_children()]
    assert names == ["self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2"]
    names = [n for n, _ in gm.decoder.layers[0].named_children()]
    assert names == ["self_attn", "multihead_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "norm3",
                     "dropout1", "dropout2", "dropout3"]
    # Transformer initialises every matrix with xavier_uniform_
    w = gm.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(w).max() <= np.sqrt(6 / (D + FF))


def test_dropout_in_training_is_random_and_reproducible():
    gm = tg.nn.TransformerEncoderLayer(D, H, FF, dropout=0.5)
    x = tg.tensor(_x(False, L))
    tg.manual_seed(0)
    a = gm(x)
    tg.manual_seed(0)
    b = gm(x)
    c = gm(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert not np.allclose(b.detach().numpy(), c.detach().numpy())
    gm.eval()
    np.testing.assert_array_equal(gm(x).detach().numpy(), gm(x).detach().numpy())


def test_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        tg.nn.TransformerEncoderLayer(D, H, activation="tanh")
    m = tg.nn.Transformer(D, H, 1, 1, FF)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        m(tg.randn(S, 2, D), tg.randn(L, 3, D))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        m(tg.randn(S, 2, D + 1), tg.randn(L, 2, D + 1))
    layer = tg.nn.TransformerEncoderLayer(D, H, FF)
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8, but got 6"):
        layer(tg.randn(L, N, 6))
    with pytest.raises(RuntimeError, match=r"2D attn_mask is torch.Size\(\[4, 4\]\), but should be \(5, 5\)"):
        layer(tg.randn(L, N, D), src_mask=tg.zeros(4, 4))
    with pytest.raises(AssertionError, match="only bool and floating types of src_mask are supported"):
        layer(tg.randn(L, N, D), src_mask=tg.zeros(L, L, dtype=tg.int64))
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but self.use_nested_tensor is False"):
        tg.nn.TransformerEncoder(tg.nn.TransformerEncoderLayer(D, H, FF, norm_first=True), 2)
