"""A small character-level GPT written as people write them for PyTorch (nanoGPT's shape: token and position
embeddings, causal self-attention blocks, layer norms, a tied lm_head; AdamW with no decay for biases and
norms, a warmup-cosine schedule, gradient clipping), built against both frameworks from one source
(benchmarks/bench_gpt.py), trained 20 steps from PyTorch's weights: the loss curves agree to 1e-4 relative.
Sampling with multinomial under a fixed seed is reproducible within tapegrad."""
import importlib.util
import os

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

_spec = importlib.util.spec_from_file_location(
    "bench_gpt", os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "bench_gpt.py"))
bench_gpt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_gpt)

TEXT = ("First Citizen: Before we proceed any further, hear me speak. All: Speak, speak. First Citizen: You are all "
        "resolved rather to die than to famish? All: Resolved. resolved. First Citizen: First, you know Caius "
        "Marcius is chief enemy to the people. ") * 4
CHARS = sorted(set(TEXT))
DATA = np.array([CHARS.index(c) for c in TEXT], dtype=np.int64)
CFG = dict(block_size=16, vocab_size=len(CHARS), n_layer=2, n_head=2, n_embd=32, dropout=0.0, bias=True)


def _train(m, flash, state=None, steps=20, batch=8):
    GPTConfig, GPT = bench_gpt.make_gpt(m)
    m.manual_seed(0)
    model = GPT(GPTConfig(flash=flash, **CFG))
    if state is not None:
        model.load_state_dict(state)
    opt = model.configure_optimizers(0.1, 3e-3, (0.9, 0.95))
    rng = np.random.default_rng(0)
    T = CFG["block_size"]
    losses, lrs = [], []
    for it in range(steps):
        ix = rng.integers(0, len(DATA) - T - 1, batch)
        x = m.from_numpy(np.stack([DATA[i:i + T] for i in ix]))
        y = m.from_numpy(np.stack([DATA[i + 1:i + 1 + T] for i in ix]))
        lr = bench_gpt.get_lr(it, learning_rate=3e-3, warmup_iters=3, lr_decay_iters=steps, min_lr=3e-4)
        for group in opt.param_groups:
            group["lr"] = lr
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        m.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        lrs.append(lr)
    return model, np.array(losses)


@pytest.mark.parametrize("flash, steps", [(True, 20), (False, 8)], ids=["sdpa", "manual_attention"])
def test_gpt_loss_curve_matches_torch(flash, steps):
    tmodel, _ = _train(torch, flash, steps=0)
    state = {k: v.numpy().copy() for k, v in tmodel.state_dict().items()}
    tmodel, tl = _train(torch, flash, {k: torch.from_numpy(v) for k, v in state.items()}, steps)
    gmodel, gl = _train(tg, flash, state, steps)
    np.testing.assert_allclose(gl, tl, rtol=1e-4)
    assert tl[-1] < (0.9 if steps >= 20 else 1.0) * tl[0]  # it learns
    for (k, a), b in zip(gmodel.state_dict().items(), tmodel.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-3, atol=2e-4, err_msg=k)


def test_gpt_structure_weight_tying_and_optimizer_groups():
    GPTConfig, GPT = bench_gpt.make_gpt(tg)
    TConfig, TGPT = bench_gpt.make_gpt(torch)
    g, t = GPT(GPTConfig(**CFG)), TGPT(TConfig(**CFG))
    assert list(g.state_dict()) == list(t.state_dict())
    assert g.transformer.wte.weight is g.lm_head.weight
    n = sum(p.numel() for p in g.parameters())
    assert n == sum(p.numel() for p in t.parameters())  # the tied matrix counted once
    opt = g.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
    assert [grp["weight_decay"] for grp in opt.param_groups] == [0.1, 0.0]
    assert all(p.dim() < 2 for p in opt.param_groups[1]["params"])


def test_generation_is_reproducible_under_a_seed():
    GPTConfig, GPT = bench_gpt.make_gpt(tg)
    tg.manual_seed(0)
    model = GPT(GPTConfig(**CFG))
    model.eval()
    start = tg.zeros((2, 1), dtype=tg.long)
    outs = []
    for _ in range(2):
        gen = tg.Generator().manual_seed(1234)
        outs.append(model.generate(start, 20, temperature=0.8, top_k=5, generator=gen))
    assert tuple(outs[0].shape) == (2, 21)
    np.testing.assert_array_equal(outs[0].numpy(), outs[1].numpy())
    tg.manual_seed(7)
    a = model.generate(start, 20)  # the default generator, longer than the context window
    tg.manual_seed(7)
    b = model.generate(start, 20)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    tg.manual_seed(8)
    c = model.generate(start, 20)
    assert not np.array_equal(a.numpy(), c.numpy())
    assert int(a.max()) < CFG["vocab_size"] and int(a.min()) >= 0
