"""A character-level GPT training step (4 layers, 4 heads, 128 embedding, context 64, batch 32, AdamW,
gradient clipping), tapegrad against PyTorch in the same process with the same number of threads.
Both models start from the same state_dict; the first losses are checked to agree before timing.

    python benchmarks/bench_gpt.py [--steps 20] [--repeats 3] [--threads 2] [--manual]

--manual uses the hand-written attention (masked_fill with a tril buffer, softmax, matmul) in place of
F.scaled_dot_product_attention. The model is written once, as people write it for PyTorch (nanoGPT's
shape: token and position embeddings, pre-norm blocks, tied lm_head), and built against either module.
"""
import argparse
import math
import statistics
import time

import numpy as np


def make_gpt(torch):
    """The GPT classes written against `torch` (PyTorch or tapegrad): returns (GPTConfig, GPT)."""
    nn = torch.nn
    F = torch.nn.functional

    class GPTConfig:
        def __init__(self, block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=True,
                     flash=True):
            self.block_size, self.vocab_size, self.n_layer, self.n_head = block_size, vocab_size, n_layer, n_head
            self.n_embd, self.dropout, self.bias, self.flash = n_embd, dropout, bias, flash

    class CausalSelfAttention(nn.Module):
        def __init__(self, config):
            super().__init__()
            assert config.n_embd % config.n_head == 0
            self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
            self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
            self.attn_dropout = nn.Dropout(config.dropout)
            self.resid_dropout = nn.Dropout(config.dropout)
            self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout
            self.flash = config.flash
            if not self.flash:
                self.register_buffer("bias", torch.tril(torch.ones(config.block_size, config.block_size))
                                     .view(1, 1, config.block_size, config.block_size))

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            if self.flash:
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=None,
                                                   dropout_p=self.dropout if self.training else 0, is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
                att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
                att = F.softmax(att, dim=-1)
                att = self.attn_dropout(att)
                y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
            self.dropout = nn.Dropout(config.dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
            self.attn = CausalSelfAttention(config)
            self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
            self.mlp = MLP(config)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            ))
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight  # weight tying
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith("c_proj.weight"):
                    torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets=None):
            b, t = idx.size()
            assert t <= self.config.block_size, f"Cannot forward sequence of length {t}"
            pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            if targets is not None:
                logits = self.lm_head(x)
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            else:
                logits = self.lm_head(x[:, [-1], :])
                loss = None
            return logits, loss

        def configure_optimizers(self, weight_decay, learning_rate, betas):
            param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
            decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
            nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
            optim_groups = [{"params": decay_params, "weight_decay": weight_decay},
                            {"params": nodecay_params, "weight_decay": 0.0}]
            return torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas)

        @torch.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
            for _ in range(max_new_tokens):
                idx_cond = idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size:]
                logits, _ = self(idx_cond)
                logits = logits[:, -1, :] / temperature
                if top_k is not None:
                    v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                    logits[logits < v[:, [-1]]] = -float("Inf")
                probs = F.softmax(logits, dim=-1)
                idx_next = torch.multinomial(probs, num_samples=1, generator=generator)
                idx = torch.cat((idx, idx_next), dim=1)
            return idx

    return GPTConfig, GPT


def get_lr(it, learning_rate=1e-3, warmup_iters=5, lr_decay_iters=20, min_lr=1e-4):
    """nanoGPT's schedule: linear warmup, then cosine decay to min_lr."""
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (learning_rate - min_lr)


def make_step(m, data, cfg_kw, batch, seed_state=None):
    """A training step (forward, backward, clip, AdamW with a cosine schedule) written once for both."""
    GPTConfig, GPT = make_gpt(m)
    model = GPT(GPTConfig(**cfg_kw))
    if seed_state is not None:
        model.load_state_dict(seed_state)
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
    T = cfg_kw["block_size"]
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(8):
        ix = rng.integers(0, len(data) - T - 1, batch)
        x = np.stack([data[i:i + T] for i in ix]).astype(np.int64)
        y = np.stack([data[i + 1:i + 1 + T] for i in ix]).astype(np.int64)
        batches.append((m.from_numpy(x), m.from_numpy(y)))
    state = {"it": 0}

    def step():
        it = state["it"]
        state["it"] += 1
        for g in opt.param_groups:
            g["lr"] = get_lr(it)
        x, y = batches[it % len(batches)]
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        m.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    return model, step


def timed(step, steps, repeats):
    """(wall, process CPU) seconds per step, the medians over `repeats` runs of `steps` steps. On a loaded
    machine the CPU time is the steadier figure (with one thread it is the work done)."""
    for _ in range(3):
        step()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        wall.append((time.perf_counter() - t0) / steps)
        cpu.append((time.process_time() - c0) / steps)
    return statistics.median(wall), statistics.median(cpu)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--manual", action="store_true", help="hand-written attention instead of sdpa")
    args = p.parse_args()
    import tapegrad
    import torch

    torch.set_num_threads(args.threads)
    tapegrad.set_num_threads(args.threads)
    cfg = dict(block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128, dropout=0.0, flash=not args.manual)
    data = np.random.default_rng(1).integers(0, 65, 20000)
    tmodel, tstep = make_step(torch, data, cfg, args.batch)
    gmodel, gstep = make_step(tapegrad, data, cfg, args.batch,
                              seed_state={k: v.numpy() for k, v in tmodel.state_dict().items()})
    for _ in range(3):
        lt, lg = tstep().item(), gstep().item()
        assert abs(lt - lg) <= 1e-4 * abs(lt), (lt, lg)
    results = {}
    for _ in range(2):
        for name, step in (("torch", tstep), ("tapegrad", gstep)):
            results.setdefault(name, []).append(timed(step, args.steps, args.repeats))
    (w_torch, c_torch), (w_tg, c_tg) = (min(results[k]) for k in ("torch", "tapegrad"))
    c_torch = min(c for _, c in results["torch"])
    c_tg = min(c for _, c in results["tapegrad"])
    n_params = sum(p.numel() for p in gmodel.parameters())
    print(f"char GPT: 4 layers, 4 heads, 128 embd, context 64, batch {args.batch}, {n_params} parameters, "
          f"{'manual attention' if args.manual else 'scaled_dot_product_attention'}, {args.threads} threads")
    print("           wall ms/step   CPU ms/step")
    print(f"torch      {w_torch * 1e3:12.2f}  {c_torch * 1e3:12.2f}")
    print(f"tapegrad   {w_tg * 1e3:12.2f}  {c_tg * 1e3:12.2f}")
    print(f"tapegrad/torch  wall {w_tg / w_torch:.2f}   CPU {c_tg / c_torch:.2f}")


if __name__ == "__main__":
    main()
